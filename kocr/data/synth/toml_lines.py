"""Where a key sits in a TOML text, so an error about a value can name its line.

``tomllib`` returns plain dicts without positions. Recipes are small and hand-written, so the text is
scanned once: table headers (``[text]``, ``[[fonts]]``, counted per array), ``key = value`` lines (dotted
keys too) and the keys of one-line inline tables (``mix = { prose = 1 }``). A location such as
``("text", "mix", "prose")`` or ``("fonts", 2, "dir")`` gets the line of the deepest key found along it:
the key itself, else the table or key that holds it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

Location = Sequence[str | int]

_BARE_KEY = r"[A-Za-z0-9_-]+"
_KEY_PART = rf'(?:{_BARE_KEY}|"[^"]*"|\'[^\']*\')'
_DOTTED = rf"{_KEY_PART}(?:\s*\.\s*{_KEY_PART})*"
_HEADER = re.compile(rf"^\s*(\[\[|\[)\s*({_DOTTED})\s*\]\]?\s*$")
_ASSIGNMENT = re.compile(rf"^\s*({_DOTTED})\s*=")
_INLINE_KEY = re.compile(rf"[{{,]\s*({_DOTTED})\s*=")


def key_line(text: str, location: Location) -> int | None:
    """The 1-based line of ``location`` in the TOML ``text`` (or of the nearest key holding it)."""
    wanted = tuple(location)
    best_depth, best_line = 0, None
    table: tuple[str | int, ...] = ()
    arrays: dict[tuple[str | int, ...], int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = _without_comment(raw)
        found: list[tuple[str | int, ...]] = []
        header = _HEADER.match(line)
        if header:
            names = tuple(_split_dotted(header.group(2)))
            if header.group(1) == "[[":
                arrays[names] = arrays.get(names, -1) + 1
                table = (*names, arrays[names])
                found.append(names)
            else:
                table = names
            found.append(table)
        else:
            assignment = _ASSIGNMENT.match(line)
            if assignment:
                key = (*table, *_split_dotted(assignment.group(1)))
                found.append(key)
                value = _blank_strings(line[assignment.end() :])
                found.extend((*key, *_split_dotted(m.group(1))) for m in _INLINE_KEY.finditer(value))
        for path in found:
            depth = len(path)
            if depth > best_depth and wanted[:depth] == path:
                best_depth, best_line = depth, number
    return best_line


def _split_dotted(key: str) -> list[str]:
    parts = re.findall(_KEY_PART, key)
    return [part[1:-1] if part[:1] in "\"'" else part for part in parts]


def _blank_strings(text: str) -> str:
    """``text`` with the inside of every string emptied, so ``"a = b"`` looks like no key."""
    return re.sub(r'"(?:[^"\\]|\\.)*"|\'[^\']*\'', '""', text)


def _without_comment(line: str) -> str:
    """``line`` up to a ``#`` that is not inside a string."""
    quote = ""
    escaped = False
    for position, ch in enumerate(line):
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\" and quote == '"':
                escaped = True
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            return line[:position]
    return line
