"""Label normalisation that is safe for Korean.

Reference tools lose Korean text here: PARSeq's default filter (NFKD, then drop non-ASCII) deletes every
Hangul syllable, and several tools strip spaces, which Korean writes between words. kocr's
normalisation only does what cannot change what a person reads:

- NFC, so a decomposed (NFD) label such as macOS file names produce becomes precomposed syllables;
- every run of whitespace (tabs, NBSP, the ideographic space U+3000, newlines) becomes one ASCII
  space, and leading/trailing whitespace is removed — inner spaces are kept;
- optionally, Latin letters are case-folded. Hangul has no case and is never touched.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kocr.charsets import Charset

_WHITESPACE = re.compile(r"\s+")


def normalize(text: str, *, case_fold: bool = False) -> str:
    """Normalise a label or prediction: NFC, collapsed whitespace, optional Latin case folding."""
    text = unicodedata.normalize("NFC", text)
    text = _WHITESPACE.sub(" ", text).strip()
    if case_fold:
        text = fold_latin_case(text)
    return text


def fold_latin_case(text: str) -> str:
    """Lower-case Latin letters only (A → a, É → é); every other script is left as it is."""
    return "".join(_fold_char(ch) for ch in text)


def _fold_char(ch: str) -> str:
    if ch.isascii():
        return ch.lower()
    if ch.isalpha() and unicodedata.name(ch, "").startswith(("LATIN", "FULLWIDTH LATIN")):
        return ch.lower()
    return ch


def remove_spaces(text: str) -> str:
    """The text with every space removed, for the 'ignoring spaces' variants of the metrics."""
    return text.replace(" ", "")


def label_problem(label: str, charset: Charset, max_length: int | None = None) -> str | None:
    """Why a (normalised) label cannot be used for training with ``charset``, or None if it can.

    The reason is a short category ("empty", "too long", "unknown symbols") so callers can count
    dropped samples by cause and report them once.
    """
    if not label:
        return "empty"
    symbols = charset.tokenize(label)
    if max_length is not None and len(symbols) > max_length:
        return "too long"
    if any(symbol not in charset for symbol in symbols):
        return "unknown symbols"
    return None


# Texts as TSV fields: kocr's one TSV convention (test_log.txt, predict -o x.tsv): one line per record,
# never CSV-quoted, so the characters that would break a row are written as escapes, and so are the
# bytes of a file name that are not UTF-8 (kocr.names: \xNN), which makes every field reversible.
_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}
_UNESCAPES = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}
_HEX = "0123456789abcdef"


def escape_field(text: str) -> str:
    """A text as one TSV field: backslash, tab, newline and carriage return as ``\\ \t \n \r``, and a
    file name's undecodable byte (a surrogate escape, :mod:`kocr.names`) as ``\\xNN``."""
    return "".join(_ESCAPES.get(ch, ch) if ch < "\udc80" or ch > "\udcff" else _byte(ch) for ch in text)


def _byte(ch: str) -> str:
    return f"\\x{ord(ch) - 0xDC00:02x}"


def unescape_field(field: str) -> str:
    """The inverse of :func:`escape_field` (any other backslash pair stays as it is)."""
    out: list[str] = []
    position = 0
    while position < len(field):
        ch = field[position]
        position += 1
        if ch != "\\":
            out.append(ch)
            continue
        following = field[position : position + 1]
        digits = field[position + 1 : position + 3]
        if following == "x" and len(digits) == 2 and digits[0] in "89abcdef" and digits[1] in _HEX:
            out.append(chr(0xDC00 + int(digits, 16)))  # an undecodable byte of a file name
            position += 3
            continue
        out.append(_UNESCAPES.get(following, "\\" + following))
        position += 1
    return "".join(out)
