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


# Texts as TSV fields (test_log.txt, page texts in .tsv/.csv predictions): one line per record, so the
# characters that would break a row are written as escapes.
_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}
_UNESCAPES = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}


def escape_field(text: str) -> str:
    """A text as one TSV field: backslash, tab, newline and carriage return as ``\\ \t \n \r``."""
    return "".join(_ESCAPES.get(ch, ch) for ch in text)


def unescape_field(field: str) -> str:
    """The inverse of :func:`escape_field` (any other backslash pair stays as it is)."""
    out: list[str] = []
    chars = iter(field)
    for ch in chars:
        if ch == "\\":
            following = next(chars, "")
            out.append(_UNESCAPES.get(following, "\\" + following))
        else:
            out.append(ch)
    return "".join(out)
