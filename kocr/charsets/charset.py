"""``Charset``: the ordered set of symbols a model recognises.

A charset is stored inside every kocr checkpoint, so it is immutable, compares by content and turns
into plain JSON-able data (:meth:`Charset.to_dict`) that ``torch.load(weights_only=True)`` accepts.

Two modes decide what a *symbol* is:

- ``syllable``: one symbol per character (가, A, 3, space);
- ``jamo``: precomposed syllables are split into conjoining jamo (한 → ᄒ ᅡ ᆫ) before encoding and
  recombined after decoding, so a 190-symbol charset covers all 11,172 syllables.

Charset files hold one symbol per line, UTF-8. Empty lines are ignored, so the space symbol is
written explicitly, either as the word ``<space>`` (robust against editors that strip trailing
blanks; :meth:`Charset.save` writes this) or as a line holding exactly one space. A file holding a
single line of several characters is a clovaai ``--character`` string instead: each character is one
symbol, in order (class i + 1 is character i, as clovaai numbers them).
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from functools import cache, cached_property
from pathlib import Path
from typing import Any, Literal

from kocr.charsets import hangul
from kocr.charsets.presets import JAMO_PRESETS, PRESET_DESCRIPTIONS, preset_symbols
from kocr.errors import CharsetError, InputFileError

Mode = Literal["syllable", "jamo"]
Order = Literal["frequency", "codepoint"]
SPACE_TOKEN = "<space>"
MODES: tuple[Mode, ...] = ("syllable", "jamo")


class Charset:
    """An ordered, immutable collection of distinct single-code-point symbols."""

    def __init__(self, symbols: Iterable[str], *, mode: Mode = "syllable", name: str | None = None) -> None:
        if mode not in MODES:
            raise CharsetError(f"charset mode must be one of {', '.join(MODES)}, not {mode!r}")
        self._symbols: tuple[str, ...] = tuple(symbols)
        self._mode: Mode = mode
        self._name = name
        index: dict[str, int] = {}
        for position, symbol in enumerate(self._symbols):
            _check_symbol(symbol)
            if symbol in index:
                raise CharsetError(
                    f"symbol {symbol!r} appears twice (positions {index[symbol]} and {position})"
                )
            index[symbol] = position
        if not index:
            raise CharsetError("a charset needs at least one symbol")
        self._index = index

    # --- construction -------------------------------------------------------------------------

    @classmethod
    def preset(cls, name: str) -> Charset:
        """A built-in charset: ``ko``, ``ko-2350``, ``ko-jamo`` or ``en``."""
        return _cached_preset(name)

    @classmethod
    def load(cls, spec: str | Path | Charset) -> Charset:
        """A preset name, a path to a charset file, or an existing charset (returned as is)."""
        if isinstance(spec, Charset):
            return spec
        if isinstance(spec, str) and spec in PRESET_DESCRIPTIONS:
            return cls.preset(spec)
        path = Path(spec)
        if path.exists():
            return cls.from_file(path)
        raise CharsetError(
            f"{spec!r} is neither a charset preset ({', '.join(PRESET_DESCRIPTIONS)}) nor an existing file"
        )

    @classmethod
    def from_file(cls, path: str | Path, *, mode: Mode | None = None) -> Charset:
        """Read a charset file: one symbol per line (see the module docstring), or a clovaai
        ``--character`` string on a single line (every character of it one symbol, in order).

        The mode is ``jamo`` when the file holds conjoining jamo and no precomposed syllables,
        unless given explicitly.
        """
        path = Path(path)
        if not path.is_file():
            raise InputFileError(path, "charset file not found" if not path.exists() else "not a file")
        lines: list[tuple[int, str]] = []
        with path.open("rb") as handle:
            for line_number, raw in enumerate(handle, start=1):
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise InputFileError(path, f"not valid UTF-8 ({exc.reason})", line_number) from None
                line = line.removesuffix("\n").removesuffix("\r")
                if line_number == 1:
                    line = line.removeprefix("\ufeff")
                if line != "":
                    lines.append((line_number, line))
        if len(lines) == 1 and len(lines[0][1]) > 1 and lines[0][1] != SPACE_TOKEN:
            return cls._from_character_string(path, unicodedata.normalize("NFC", lines[0][1]), mode)
        symbols: list[str] = []
        first_line: dict[str, int] = {}
        for line_number, line in lines:
            symbol = " " if line in (" ", SPACE_TOKEN) else unicodedata.normalize("NFC", line.strip())
            if len(symbol) != 1:
                raise InputFileError(
                    path,
                    f"expected one symbol per line, found {len(symbol)} characters {line!r} "
                    f"(write the space symbol as {SPACE_TOKEN})",
                    line_number,
                )
            if symbol in first_line:
                raise InputFileError(
                    path, f"symbol {symbol!r} repeats line {first_line[symbol]}", line_number
                )
            first_line[symbol] = line_number
            symbols.append(symbol)
        if not symbols:
            raise InputFileError(path, "charset file holds no symbols")
        return cls._checked(path, symbols, mode)

    @classmethod
    def _from_character_string(cls, path: Path, text: str, mode: Mode | None) -> Charset:
        """clovaai's one-line ``--character`` string: symbol i is character i (class i + 1)."""
        seen: dict[str, int] = {}
        for position, symbol in enumerate(text, start=1):
            if symbol in seen:
                raise InputFileError(
                    path,
                    f"one-line charset: {symbol!r} at character {position} repeats character {seen[symbol]}",
                    1,
                )
            seen[symbol] = position
        return cls._checked(path, list(text), mode)

    @classmethod
    def _checked(cls, path: Path, symbols: list[str], mode: Mode | None) -> Charset:
        try:
            return cls(symbols, mode=mode or _guess_mode(symbols), name=path.name)
        except CharsetError as exc:
            raise InputFileError(path, str(exc)) from None

    @classmethod
    def from_labels(
        cls,
        labels: Iterable[str],
        *,
        order: Order = "frequency",
        mode: Mode = "syllable",
        min_count: int = 1,
        include: Iterable[str] = (),
        name: str | None = None,
    ) -> Charset:
        """The symbols that occur in ``labels`` (already normalised).

        ``order='frequency'`` puts the most frequent symbols first (ties by code point), which makes a
        charset file easy to review; ``'codepoint'`` sorts by code point, which makes two charsets
        built from different data easy to diff. ``include`` adds symbols that must be present even if
        unseen (the space, say). Symbols seen fewer than ``min_count`` times are left out.
        """
        if order not in ("frequency", "codepoint"):
            raise CharsetError(f"order must be 'frequency' or 'codepoint', not {order!r}")
        counts: Counter[str] = Counter()
        for label in labels:
            counts.update(_tokenize(label, mode))
        kept = {symbol: count for symbol, count in counts.items() if count >= min_count}
        for symbol in include:
            kept.setdefault(symbol, 0)
        if order == "frequency":
            symbols = sorted(kept, key=lambda s: (-kept[s], ord(s)))
        else:
            symbols = sorted(kept, key=ord)
        return cls(symbols, mode=mode, name=name)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Charset:
        """Inverse of :meth:`to_dict` (used when loading checkpoints)."""
        try:
            return cls(data["symbols"], mode=data.get("mode", "syllable"), name=data.get("name"))
        except (KeyError, TypeError) as exc:
            raise CharsetError(f"malformed stored charset: {exc}") from None

    # --- serialisation ------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain data for checkpoints: symbols as one string (every symbol is one code point)."""
        return {"name": self.name, "mode": self.mode, "symbols": "".join(self._symbols)}

    def save(self, path: str | Path) -> None:
        """Write the charset file format: one symbol per line, the space as ``<space>``."""
        from kocr.fileio import atomic_write_text

        lines = (SPACE_TOKEN if symbol == " " else symbol for symbol in self._symbols)
        atomic_write_text(path, "".join(f"{line}\n" for line in lines))

    # --- container protocol -------------------------------------------------------------------

    @property
    def symbols(self) -> tuple[str, ...]:
        return self._symbols

    @property
    def mode(self) -> Mode:
        """``syllable`` or ``jamo`` (see the module docstring)."""
        return self._mode

    @property
    def name(self) -> str | None:
        """The preset or file name the charset came from, for display only (not compared)."""
        return self._name

    def __len__(self) -> int:
        return len(self._symbols)

    def __iter__(self) -> Iterator[str]:
        return iter(self._symbols)

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._index

    def __getitem__(self, position: int) -> str:
        return self._symbols[position]

    def index(self, symbol: str) -> int:
        """0-based position of ``symbol`` (codecs add their own offsets for blank/[E])."""
        try:
            return self._index[symbol]
        except KeyError:
            raise CharsetError(f"symbol {symbol!r} is not in the charset") from None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Charset):
            return NotImplemented
        return self.mode == other.mode and self._symbols == other._symbols

    def __hash__(self) -> int:
        return hash((self.mode, self._symbols))

    def __repr__(self) -> str:
        label = f"{self.name!r}, " if self.name else ""
        return f"Charset({label}{len(self)} symbols, mode={self.mode!r})"

    # --- text <-> symbols ---------------------------------------------------------------------

    def tokenize(self, text: str) -> list[str]:
        """The symbols a text is made of in this charset's mode (jamo mode splits syllables)."""
        return _tokenize(text, self.mode)

    def detokenize(self, symbols: Iterable[str]) -> str:
        """Symbols back to text; in jamo mode ill-formed sequences compose as :func:`hangul.compose`."""
        if self.mode == "jamo":
            return hangul.compose(symbols)
        return "".join(symbols)

    def missing(self, text: str) -> list[str]:
        """Symbols of ``text`` that this charset lacks (in order, with repeats)."""
        return [symbol for symbol in self.tokenize(text) if symbol not in self._index]

    def covers(self, text: str) -> bool:
        """True when every symbol of ``text`` is in the charset."""
        return all(symbol in self._index for symbol in self.tokenize(text))

    # --- description --------------------------------------------------------------------------

    @cached_property
    def groups(self) -> dict[str, int]:
        """Symbol counts by kind, for ``kocr charset show``; kinds with no symbols are left out."""
        counts: Counter[str] = Counter(symbol_group(symbol) for symbol in self._symbols)
        syllables = [s for s in self._symbols if hangul.is_syllable(s)]
        if syllables:
            counts["  of which in KS X 1001"] = sum(hangul.is_ks_x_1001(s) for s in syllables)
        ordered = [*GROUP_ORDER[:1], "  of which in KS X 1001", *GROUP_ORDER[1:]]
        return {group: counts[group] for group in ordered if counts[group]}


GROUP_ORDER: tuple[str, ...] = (
    "Hangul syllables",
    "conjoining jamo",
    "compatibility jamo",
    "digits",
    "Latin letters",
    "space",
    "ASCII punctuation",
    "other symbols",
)


def symbol_group(symbol: str) -> str:
    """The kind of a symbol, one of :data:`GROUP_ORDER`."""
    if hangul.is_syllable(symbol):
        return "Hangul syllables"
    if hangul.is_conjoining_jamo(symbol):
        return "conjoining jamo"
    if hangul.is_compatibility_jamo(symbol) and unicodedata.category(symbol) == "Lo":
        return "compatibility jamo"
    if symbol.isascii():
        if symbol.isdigit():
            return "digits"
        if symbol.isalpha():
            return "Latin letters"
        if symbol == " ":
            return "space"
        return "ASCII punctuation"
    return "other symbols"


def _tokenize(text: str, mode: Mode) -> list[str]:
    return list(hangul.decompose(text)) if mode == "jamo" else list(text)


def _check_symbol(symbol: object) -> None:
    if not isinstance(symbol, str) or len(symbol) != 1:
        raise CharsetError(f"each symbol must be exactly one character, got {symbol!r}")
    if unicodedata.category(symbol) in ("Cc", "Cs") or (symbol.isspace() and symbol != " "):
        raise CharsetError(f"symbol {symbol!r} (U+{ord(symbol):04X}) is a control or non-space blank")


def _guess_mode(symbols: Sequence[str]) -> Mode:
    has_jamo = any(hangul.is_conjoining_jamo(s) for s in symbols)
    has_syllables = any(hangul.is_syllable(s) for s in symbols)
    return "jamo" if has_jamo and not has_syllables else "syllable"


@cache
def _cached_preset(name: str) -> Charset:
    try:
        symbols = preset_symbols(name)
    except KeyError:
        raise CharsetError(
            f"unknown charset preset {name!r}; choose one of: {', '.join(PRESET_DESCRIPTIONS)}"
        ) from None
    return Charset(symbols, mode="jamo" if name in JAMO_PRESETS else "syllable", name=name)
