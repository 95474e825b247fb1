"""The built-in charsets.

Each preset is an ordered tuple of single-code-point symbols. The order is part of a model's identity
(class index = position), so presets only ever grow at the end in a new, differently named preset.

===========  =======  ==================================================================================
name         symbols  contents
===========  =======  ==================================================================================
``ko``        11,295  printable ASCII incl. space (95) + Korean punctuation (28) + all 11,172 syllables
``ko-2350``    2,473  printable ASCII incl. space (95) + Korean punctuation (28) + KS X 1001's 2,350
``ko-jamo``      190  printable ASCII incl. space (95) + Korean punctuation (28) + 67 conjoining jamo
                      (19 initials, 21 medials, 27 finals); labels are split into jamo, outputs recombined
``en``            95  printable ASCII incl. space
===========  =======  ==================================================================================
"""

from __future__ import annotations

from kocr.charsets import hangul

#: Space plus the 94 printable ASCII characters, in code point order (U+0020–U+007E).
ASCII_PRINTABLE: tuple[str, ...] = tuple(chr(c) for c in range(0x20, 0x7F))

#: Punctuation and signs Korean text uses beyond ASCII, chosen from what appears in Korean print and
#: forms: middle dots (· and the araea ㆍ used as one), ellipsis, curly quotes, the fullwidth tilde
#: used for ranges (3～5), CJK brackets for titles and quotes, the reference mark ※, degree signs,
#: the won sign, dashes, the multiplication sign, the circle used in forms, and arrows.
KOREAN_PUNCTUATION: tuple[str, ...] = tuple("·ㆍ…“”‘’～「」『』《》〈〉【】※°℃₩–—×○→←")

NON_HANGUL: tuple[str, ...] = ASCII_PRINTABLE + KOREAN_PUNCTUATION

PRESET_DESCRIPTIONS: dict[str, str] = {
    "ko": "all 11,172 Hangul syllables + ASCII + space + Korean punctuation",
    "ko-2350": "KS X 1001's 2,350 common syllables + ASCII + space + Korean punctuation",
    "ko-jamo": "67 conjoining jamo + ASCII + space + Korean punctuation; syllables are split into jamo",
    "en": "printable ASCII + space",
}

#: Which presets recognise at the jamo level.
JAMO_PRESETS = frozenset({"ko-jamo"})


def preset_symbols(name: str) -> tuple[str, ...]:
    """The ordered symbols of a preset (raises KeyError for an unknown name)."""
    if name == "ko":
        return NON_HANGUL + hangul.ALL_SYLLABLES
    if name == "ko-2350":
        return NON_HANGUL + hangul.ks_x_1001_syllables()
    if name == "ko-jamo":
        return NON_HANGUL + hangul.INITIALS + hangul.MEDIALS + hangul.FINALS
    if name == "en":
        return ASCII_PRINTABLE
    raise KeyError(name)
