"""Syllables that look alike: one jamo swapped for another of similar shape.

A recogniser trained on running prose learns that 날씨 follows 오늘 and stops looking closely at the
final consonant. The errors the bundled model still makes are of this kind (둔/눈, 징/정, 폐/페,
규/구, 증/중, 벌/별, a final ㄹ read as ㅁ or ㄴ), so the text sampler can put such neighbours where
context cannot tell them apart (``lookalike`` text kind), and reports can group errors by them.

Pairs are by position, in compatibility jamo. They are symmetric: each swap goes both ways.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from kocr.charsets import hangul

# Initials whose strokes differ by one short stroke or a tick.
INITIAL_PAIRS: tuple[tuple[str, str], ...] = (
    ("ㄴ", "ㄷ"), ("ㄷ", "ㄹ"), ("ㄷ", "ㅌ"), ("ㄱ", "ㅋ"), ("ㅈ", "ㅊ"), ("ㅅ", "ㅈ"),
    ("ㅂ", "ㅍ"), ("ㅁ", "ㅂ"), ("ㅇ", "ㅎ"), ("ㄱ", "ㄲ"), ("ㄷ", "ㄸ"), ("ㅂ", "ㅃ"), ("ㅅ", "ㅆ"),
)  # fmt: skip
# Medials that differ by one short stroke (ㅓ/ㅕ), or a stroke's direction (ㅡ/ㅜ, ㅣ/ㅓ).
MEDIAL_PAIRS: tuple[tuple[str, str], ...] = (
    ("ㅓ", "ㅕ"), ("ㅏ", "ㅑ"), ("ㅗ", "ㅛ"), ("ㅜ", "ㅠ"), ("ㅡ", "ㅜ"), ("ㅡ", "ㅗ"), ("ㅣ", "ㅓ"),
    ("ㅣ", "ㅏ"), ("ㅔ", "ㅖ"), ("ㅐ", "ㅒ"), ("ㅔ", "ㅐ"), ("ㅚ", "ㅟ"), ("ㅘ", "ㅝ"), ("ㅙ", "ㅞ"),
    ("ㅢ", "ㅚ"),
)  # fmt: skip
# Finals: ㄹ against ㅁ and ㄴ above all (cursive ㄹ closes into ㅁ or loses its middle), and the
# empty final against its most frequent fillers.
FINAL_PAIRS: tuple[tuple[str, str], ...] = (
    ("ㄹ", "ㅁ"), ("ㄹ", "ㄴ"), ("ㄴ", "ㅁ"), ("ㅁ", "ㅇ"), ("ㅁ", "ㅂ"), ("ㄴ", "ㄷ"), ("ㄱ", "ㅋ"),
    ("ㅅ", "ㅆ"), ("ㄱ", "ㄲ"), ("ㄹ", "ㄻ"), ("ㄹ", "ㄼ"), ("ㄴ", "ㄶ"), ("", "ㄴ"), ("", "ㅇ"),
    ("", "ㄹ"),
)  # fmt: skip


def _neighbours(pairs: Iterable[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
    table: dict[str, list[str]] = {}
    for a, b in pairs:
        table.setdefault(a, []).append(b)
        table.setdefault(b, []).append(a)
    return {jamo: tuple(others) for jamo, others in table.items()}


_INITIAL_NEIGHBOURS = _neighbours(INITIAL_PAIRS)
_MEDIAL_NEIGHBOURS = _neighbours(MEDIAL_PAIRS)
_FINAL_NEIGHBOURS = _neighbours(FINAL_PAIRS)


@cache
def _compatibility_lists() -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    initials = tuple(hangul.to_compatibility_jamo(ch) for ch in hangul.INITIALS)
    medials = tuple(hangul.to_compatibility_jamo(ch) for ch in hangul.MEDIALS)
    finals = ("", *(hangul.to_compatibility_jamo(ch) for ch in hangul.FINALS))
    return initials, medials, finals


@cache
def lookalikes(syllable: str) -> tuple[str, ...]:
    """Syllables one confusable jamo away from ``syllable`` (initial, medial or final swapped), in a
    fixed order; empty for anything that is not a precomposed Hangul syllable."""
    if not hangul.is_syllable(syllable):
        return ()
    initials, medials, finals = _compatibility_lists()
    i, m, f = hangul.split_syllable(syllable)
    found: list[str] = []
    for other in _INITIAL_NEIGHBOURS.get(initials[i], ()):
        found.append(hangul.join_syllable(initials.index(other), m, f))
    for other in _MEDIAL_NEIGHBOURS.get(medials[m], ()):
        found.append(hangul.join_syllable(i, medials.index(other), f))
    for other in _FINAL_NEIGHBOURS.get(finals[f], ()):
        found.append(hangul.join_syllable(i, m, finals.index(other)))
    return tuple(dict.fromkeys(found))


def are_lookalikes(a: str, b: str) -> bool:
    """Whether two syllables differ by exactly one confusable jamo."""
    return b in lookalikes(a)
