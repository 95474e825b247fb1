"""File names that are not UTF-8, written as text and read back.

Files unpacked from a Korean Windows zip often have CP949 names: bytes that are not UTF-8. Python hands
such a name over as a ``str`` holding surrogate escapes (U+DC80–U+DCFF, one per undecodable byte;
``os.fsdecode``), which no UTF-8 file or terminal can hold. kocr keeps those ``str`` names as they are
inside (``open`` finds the file with them) and, wherever a name is written as text, applies one rule:

**each byte of a name that is not UTF-8 is written ``\\xNN``** (a backslash, ``x``, two lower-case hex
digits, 80–ff), everything else as it is: ``\\xc7\\xd1\\xb1\\xdb.png`` for 한글.png saved as CP949. That
is what Python's ``bytes.decode("utf-8", "backslashreplace")`` shows, and it is the rule in
prediction files (JSON, JSONL, CSV), ``test_log.txt``, ``gt.txt``, ``skipped.txt``, summaries and
on the terminal. :func:`name_from_printable` maps it back; in TSV fields (``test_log.txt``,
``predict -o x.tsv``) a backslash of the name itself is written ``\\\\`` (:func:`kocr.text.escape_field`),
so there the rule is exactly reversible, and elsewhere only a name that itself holds the four
characters ``\\x80``–``\\xff`` reads back ambiguously (label readers try the name as written first).
"""

from __future__ import annotations

import codecs
import json
import os
import re
from pathlib import Path
from typing import Any

_SURROGATE = re.compile("[\udc80-\udcff]")
_ESCAPED_BYTE = re.compile(r"\\x([89a-f][0-9a-f])")

NAME_ERRORS = "kocr-names"
"""A codec error handler (``open(..., errors=NAME_ERRORS)``, ``stream.reconfigure(errors=...)``) that
writes undecodable name bytes as ``\\xNN`` and any other character the encoding cannot hold as
``\\uXXXX``: kocr's text files and the CLI's streams use it, so no name ends a run."""


def printable_name(name: str) -> str:
    """``name`` with each undecodable byte (a surrogate escape) written ``\\xNN``; other names unchanged."""
    return _SURROGATE.sub(lambda m: f"\\x{ord(m.group()) - 0xDC00:02x}", name)


def name_from_printable(text: str) -> str:
    """The inverse of :func:`printable_name`: ``\\xNN`` (80–ff) back to the byte's surrogate escape, so
    ``os.fsencode`` (or ``open``) gets the original bytes."""
    return _ESCAPED_BYTE.sub(lambda m: chr(0xDC00 + int(m.group(1), 16)), text)


def listed_file(root: str | os.PathLike[str], listed: str) -> Path:
    """The file a label file lists as ``listed`` under ``root``: the name as written when such a file
    exists, else the one its ``\\xNN`` escapes name (a gt.txt kocr wrote for undecodable names)."""
    path = Path(root) / listed
    if "\\x" not in listed or path.exists():
        return path
    unescaped = Path(root) / name_from_printable(listed)
    return unescaped if unescaped.exists() else path


def json_text(document: Any, **options: Any) -> str:
    """``json.dumps(document, ensure_ascii=False, **options)`` with undecodable name bytes as ``\\xNN``
    inside their strings (the JSON text ``"\\\\xc7"``), so the file stays valid UTF-8 JSON."""
    text = json.dumps(document, ensure_ascii=False, **options)
    return _SURROGATE.sub(lambda m: f"\\\\x{ord(m.group()) - 0xDC00:02x}", text)


def _escape_unencodable(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    bad = error.object[error.start : error.end]
    return printable_name(bad).encode("ascii", "backslashreplace").decode("ascii"), error.end


codecs.register_error(NAME_ERRORS, _escape_unencodable)
