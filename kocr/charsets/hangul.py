"""Hangul syllable arithmetic, jamo conversion and KS X 1001 membership.

A precomposed syllable is ``0xAC00 + (initial * 21 + medial) * 28 + final`` (Unicode §3.12), so
splitting and joining are plain integer arithmetic: no tables, no dictionaries. The ``jamo`` package
supplies the compatibility-jamo (U+3131–U+318E, what keyboards type: ㄱ, ㅏ) ↔ conjoining-jamo
(U+1100–U+11FF, what syllables decompose into: ᄀ, ᅡ, ᆨ) mapping, which is irregular.

KS X 1001's 2,350 syllables are derived from Python's EUC-KR codec (bytes B0A1–C8FE), not pasted.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import jamo as _jamo

SYLLABLE_BASE = 0xAC00
SYLLABLE_LAST = 0xD7A3
NUM_SYLLABLES = SYLLABLE_LAST - SYLLABLE_BASE + 1  # 11,172

NUM_INITIALS = 19
NUM_MEDIALS = 21
NUM_FINALS = 28  # including "no final"

INITIAL_BASE = 0x1100  # ᄀ .. ᄒ (19)
MEDIAL_BASE = 0x1161  # ᅡ .. ᅵ (21)
FINAL_BASE = 0x11A7  # index 0 = no final; ᆨ (0x11A8) .. ᇂ (0x11C2) = 27 finals

INITIALS: tuple[str, ...] = tuple(chr(INITIAL_BASE + i) for i in range(NUM_INITIALS))
MEDIALS: tuple[str, ...] = tuple(chr(MEDIAL_BASE + i) for i in range(NUM_MEDIALS))
FINALS: tuple[str, ...] = tuple(chr(FINAL_BASE + i) for i in range(1, NUM_FINALS))  # 27, no "empty"

ALL_SYLLABLES: tuple[str, ...] = tuple(chr(c) for c in range(SYLLABLE_BASE, SYLLABLE_LAST + 1))

_INITIAL_INDEX = {ch: i for i, ch in enumerate(INITIALS)}
_MEDIAL_INDEX = {ch: i for i, ch in enumerate(MEDIALS)}
_FINAL_INDEX = {ch: i + 1 for i, ch in enumerate(FINALS)}


def is_syllable(ch: str) -> bool:
    """True for the 11,172 precomposed modern syllables U+AC00–U+D7A3."""
    return len(ch) == 1 and SYLLABLE_BASE <= ord(ch) <= SYLLABLE_LAST


def is_initial(ch: str) -> bool:
    """True for a modern conjoining initial consonant (choseong, U+1100–U+1112)."""
    return ch in _INITIAL_INDEX


def is_medial(ch: str) -> bool:
    """True for a modern conjoining vowel (jungseong, U+1161–U+1175)."""
    return ch in _MEDIAL_INDEX


def is_final(ch: str) -> bool:
    """True for a modern conjoining final consonant (jongseong, U+11A8–U+11C2)."""
    return ch in _FINAL_INDEX


def is_conjoining_jamo(ch: str) -> bool:
    """True for any of the 67 modern conjoining jamo."""
    return is_initial(ch) or is_medial(ch) or is_final(ch)


def is_compatibility_jamo(ch: str) -> bool:
    """True for Hangul Compatibility Jamo (U+3131–U+318E: ㄱ, ㅏ, ㆍ, ...)."""
    return len(ch) == 1 and 0x3131 <= ord(ch) <= 0x318E


def split_syllable(ch: str) -> tuple[int, int, int]:
    """Return (initial, medial, final) indices of a syllable; final 0 means no final consonant."""
    if not is_syllable(ch):
        raise ValueError(f"not a precomposed Hangul syllable: {ch!r}")
    offset = ord(ch) - SYLLABLE_BASE
    return offset // (NUM_MEDIALS * NUM_FINALS), (offset // NUM_FINALS) % NUM_MEDIALS, offset % NUM_FINALS


def join_syllable(initial: int, medial: int, final: int = 0) -> str:
    """Inverse of :func:`split_syllable`."""
    if not (0 <= initial < NUM_INITIALS and 0 <= medial < NUM_MEDIALS and 0 <= final < NUM_FINALS):
        raise ValueError(f"jamo indices out of range: ({initial}, {medial}, {final})")
    return chr(SYLLABLE_BASE + (initial * NUM_MEDIALS + medial) * NUM_FINALS + final)


def initial_of(ch: str) -> str:
    """The conjoining initial consonant of a syllable (한 → ᄒ)."""
    return INITIALS[split_syllable(ch)[0]]


def medial_of(ch: str) -> str:
    """The conjoining vowel of a syllable (한 → ᅡ)."""
    return MEDIALS[split_syllable(ch)[1]]


def final_of(ch: str) -> str | None:
    """The conjoining final consonant of a syllable, or None (한 → ᆫ, 하 → None)."""
    final = split_syllable(ch)[2]
    return FINALS[final - 1] if final else None


def decompose_syllable(ch: str) -> str:
    """A syllable as 2 or 3 conjoining jamo (한 → ᄒ ᅡ ᆫ)."""
    initial, medial, final = split_syllable(ch)
    return INITIALS[initial] + MEDIALS[medial] + (FINALS[final - 1] if final else "")


def decompose(text: str) -> str:
    """Split every precomposed syllable into conjoining jamo; leave everything else unchanged.

    This is the jamo view used by ``ko-jamo`` charsets and the jamo error rate (run on every line an
    evaluation scores, so it is one ``str.translate`` over a table of the 11,172 syllables).
    """
    return text.translate(_decomposition_table())


@lru_cache(maxsize=1)
def _decomposition_table() -> dict[int, str]:
    return {ord(ch): decompose_syllable(ch) for ch in ALL_SYLLABLES}


def compose(jamo_text: Iterable[str]) -> str:
    """Recombine conjoining jamo into syllables, robustly.

    Model output in jamo mode can be ill-formed, so composition is greedy and never fails:

    - initial + medial (+ final) becomes one syllable;
    - a jamo that cannot join a syllable (an initial not followed by a medial, a medial without an
      initial, a final that does not follow a medial) is shown as its compatibility jamo (ᄀ → ㄱ),
      which is what a Korean reader would type for a lone letter;
    - anything that is not conjoining jamo passes through unchanged.

    For any text of syllables and other characters, ``compose(decompose(t)) == t``.
    """
    symbols = list(jamo_text)
    out: list[str] = []
    i = 0
    n = len(symbols)
    while i < n:
        ch = symbols[i]
        if is_initial(ch) and i + 1 < n and is_medial(symbols[i + 1]):
            final = 0
            if i + 2 < n and is_final(symbols[i + 2]):
                final = _FINAL_INDEX[symbols[i + 2]]
            out.append(join_syllable(_INITIAL_INDEX[ch], _MEDIAL_INDEX[symbols[i + 1]], final))
            i += 3 if final else 2
        else:
            out.append(to_compatibility_jamo(ch) if is_conjoining_jamo(ch) else ch)
            i += 1
    return "".join(out)


def to_compatibility_jamo(ch: str) -> str:
    """Conjoining jamo → compatibility jamo (ᄀ and ᆨ → ㄱ); other characters unchanged."""
    if not is_conjoining_jamo(ch):
        return ch
    return "".join(_jamo.jamo_to_hcj(ch))


def to_conjoining_jamo(ch: str, position: str = "initial") -> str:
    """Compatibility jamo → conjoining jamo at ``position`` ('initial', 'medial' or 'final').

    Consonants like ㄳ exist only as finals; ask for ``position='final'`` for those.
    Raises ValueError when the letter has no form at that position.
    """
    checks = {"initial": (is_initial, "lead"), "medial": (is_medial, "vowel"), "final": (is_final, "tail")}
    if position not in checks:
        raise ValueError(f"position must be one of {sorted(checks)}, not {position!r}")
    belongs, jamo_position = checks[position]
    # jamo.hcj_to_jamo returns its input unchanged when the letter has no form at that position.
    converted = _jamo.hcj_to_jamo(ch, jamo_position) if is_compatibility_jamo(ch) else ch
    if not belongs(converted):
        raise ValueError(f"{ch!r} has no conjoining {position} form")
    return converted


@lru_cache(maxsize=1)
def ks_x_1001_syllables() -> tuple[str, ...]:
    """The 2,350 syllables of KS X 1001 (the Hangul block of EUC-KR), in code point order.

    Derived from the EUC-KR codec: lead bytes 0xB0–0xC8 and trail bytes 0xA1–0xFE, 25 × 94 = 2,350
    cells, all of them Hangul syllables.
    """
    syllables = [
        bytes((lead, trail)).decode("euc-kr") for lead in range(0xB0, 0xC9) for trail in range(0xA1, 0xFF)
    ]
    return tuple(sorted(syllables))


@lru_cache(maxsize=1)
def _ks_x_1001_set() -> frozenset[str]:
    return frozenset(ks_x_1001_syllables())


def is_ks_x_1001(ch: str) -> bool:
    """True for the 2,350 syllables that KS X 1001 (EUC-KR) can encode; many fonts draw only these."""
    return ch in _ks_x_1001_set()
