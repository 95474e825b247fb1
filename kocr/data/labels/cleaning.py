"""One label made fit for training, and whether a text can be a gt.txt field.

- Labels are normalised with :func:`kocr.text.normalize` (NFC, whitespace collapsed); a change beyond
  trimming the ends is reported as a note, the sample is kept.
- A label holding Hangul compatibility jamo (``ㄱ``, ``ㅏ``, U+3131–U+318E) is dropped as a typing
  slip unless ``keep_jamo=True``: in AI Hub these are faults (``'국ㅇㄴ'``), and a model trained on
  them learns to emit loose jamo. A symbol of kocr's own charset presets is never a slip: the araea
  ``ㆍ`` (U+318D), which Korean print uses as a middle dot, is in every Korean preset and the renderer
  writes it, so it is kept (:func:`is_stray_jamo`).
"""

from __future__ import annotations

import unicodedata

from kocr.charsets.hangul import is_compatibility_jamo
from kocr.charsets.presets import NON_HANGUL
from kocr.data.labels.problems import Kind, Problem
from kocr.text import normalize

# Characters that would break the one-sample-per-line gt.txt format (str.splitlines() splits on all).
_LINE_BREAKERS = frozenset("\t\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")


def clean_label(
    raw: object, *, source: str, line: int | None = None, ref: str | None = None, keep_jamo: bool = False
) -> tuple[str | None, list[Problem]]:
    """Normalise one label; return it (None when unusable) and the problems found."""
    if not isinstance(raw, str):
        return None, [
            Problem(Kind.MALFORMED, source, f"text is {type(raw).__name__}, not a string", line, ref)
        ]
    label = normalize(raw)
    problems: list[Problem] = []
    if not label:
        return None, [Problem(Kind.EMPTY_TEXT, source, f"empty text {raw!r}", line, ref)]
    if label != raw.strip():
        problems.append(Problem(Kind.NORMALISED, source, _what_changed(raw, label), line, ref, dropped=False))
    jamo = [ch for ch in label if is_stray_jamo(ch)]
    if jamo:
        message = f"{label!r} contains loose jamo {''.join(jamo)!r}"
        if keep_jamo:
            problems.append(Problem(Kind.STRAY_JAMO, source, message + " (kept)", line, ref, dropped=False))
        else:
            problems.append(Problem(Kind.STRAY_JAMO, source, message, line, ref))
            return None, problems
    return label, problems


def is_stray_jamo(ch: str) -> bool:
    """A compatibility jamo that is no symbol of kocr's charsets (``ㄱ``, ``ㅏ``: a typing slip), as
    opposed to the araea ``ㆍ`` that every Korean preset holds as punctuation."""
    return is_compatibility_jamo(ch) and ch not in _PRESET_SYMBOLS


_PRESET_SYMBOLS = frozenset(NON_HANGUL)  # every preset's non-syllable symbols (presets.py)


def _what_changed(raw: str, label: str) -> str:
    if unicodedata.normalize("NFC", raw) != raw:
        return f"decomposed (NFD) Hangul recomposed to NFC: {label!r}"
    return f"whitespace collapsed: {raw!r} → {label!r}"


def label_defect(text: str) -> str | None:
    """Why ``text`` cannot be one field of a gt.txt line, or None."""
    bad = sorted({ch for ch in text if ch in _LINE_BREAKERS})
    if bad:
        names = ", ".join(unicodedata.name(ch, f"U+{ord(ch):04X}") for ch in bad)
        return f"contains a tab or line break ({names})"
    return None
