"""The beam search's settings and the range of each: the one place they are declared.

A setting reaches the decoder three ways, and each is checked against :data:`RANGES`: a command-line
option (``kocr predict|eval --beam-width/--lm-weight/--length-bonus``, ``kocr lm build``, through
:mod:`kocr.commands._validate`), a Python argument (``load_recognizer(..., lm_weight=...)``,
:class:`BeamSettings`), and the defaults stored in a ``.lm`` file (checked when the file is written and
when it is read, :mod:`kocr.lm.model`). A value of the wrong kind, not finite, or out of its range is one
error naming the setting (and the file it came from), never empty texts or an error deep in the search:
``nan`` compares false with everything, so a NaN length bonus silently emptied every text and an infinite
one broke the search.

The bounds are wide: beyond them a setting means nothing useful (an LM weight of 100 lets the LM
overrule any image, a bonus of 100 per character swamps every probability), and the search's sums stay
far inside floating point over the longest lines. This module is pure Python, so the CLI can import it
at start-up.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, fields
from typing import Any

from kocr.errors import InputFileError, KocrError


@dataclass(frozen=True)
class Range:
    """What a setting may be: a kind (int, float or bool) and, for numbers, finite bounds."""

    kind: type
    low: float | None = None
    high: float | None = None
    low_open: bool = False  # the bound itself is excluded
    high_open: bool = False

    def describe(self) -> str:
        """``a number from 0 to 100``, ``a whole number from 1 to 4096``, ``true or false``..."""
        if self.kind is bool:
            return "true or false"
        noun = "a whole number" if self.kind is int else "a number"
        low, high = _show(self.low), _show(self.high)
        if self.low is not None and self.high is not None:
            if self.low_open or self.high_open:
                above = "above" if self.low_open else "from"
                below = "below" if self.high_open else "up to"
                return f"{noun} {above} {low} and {below} {high}"
            return f"{noun} from {low} to {high}"
        if self.low is not None:
            return f"{noun} {'above' if self.low_open else 'of at least'} {low} (and finite)"
        if self.high is not None:
            return f"{noun} {'below' if self.high_open else 'of at most'} {high}"
        return f"{noun} (finite)"

    def check(self, value: Any) -> int | float | bool:
        """``value`` as this range's kind; :class:`ValueError` saying what it must be otherwise."""
        shown = f"{value:g}" if isinstance(value, float) else repr(value)
        must = f"must be {self.describe()}, not {shown}"
        if self.kind is bool:
            if not isinstance(value, bool):
                raise ValueError(must)
            return value
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError(must)
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(must)
        if self.kind is int:
            if not isinstance(value, numbers.Integral) and not number.is_integer():
                raise ValueError(must)
            number = int(number)
        if self.low is not None and (number <= self.low if self.low_open else number < self.low):
            raise ValueError(must)
        if self.high is not None and (number >= self.high if self.high_open else number > self.high):
            raise ValueError(must)
        return number


RANGES: dict[str, Range] = {
    "beam_width": Range(int, 1, 4096),
    "lm_weight": Range(float, 0.0, 100.0),
    "length_bonus": Range(float, -100.0, 100.0),
    "min_prob": Range(float, 0.0, 1.0, low_open=True, high_open=True),
    "max_candidates": Range(int, 1, 4096),
    "prune_ratio": Range(float, 1.0, 1e300, low_open=True),
    "end_of_line": Range(bool),
    "confidence_scale": Range(float, 0.0, 100.0, low_open=True),
    "confidence_shift": Range(float, -100.0, 100.0),
}


def check_setting(name: str, value: Any) -> int | float | bool:
    """``value`` checked against setting ``name``'s range; :class:`KocrError` naming it otherwise."""
    if name not in RANGES:
        raise KocrError(f"unknown decoding setting {name!r}: choose from {', '.join(RANGES)}")
    try:
        return RANGES[name].check(value)
    except ValueError as exc:
        raise KocrError(f"{name} {exc}") from None


def check_given(settings: dict[str, Any]) -> dict[str, Any]:
    """The settings a caller passed (None: not given, left out), each checked."""
    return {name: check_setting(name, value) for name, value in settings.items() if value is not None}


def check_defaults(table: Any) -> dict[str, Any]:
    """Decoding defaults for a ``.lm`` file's header, each checked (:class:`KocrError` naming the bad
    one). Names this kocr does not know are kept, unchecked: a newer kocr may store more."""
    if not isinstance(table, dict):
        raise KocrError(f"decoding defaults must be a table of settings, not {table!r}")
    checked = dict(table)
    for name, value in table.items():
        if name in RANGES:
            try:
                checked[name] = RANGES[name].check(value)
            except ValueError as exc:
                raise KocrError(f"decoding default {name} {exc}") from None
    return checked


def check_stored(table: Any, source: Any) -> dict[str, Any]:
    """The decoding defaults read from the ``.lm`` file ``source``, each checked: a bad one is an
    :class:`InputFileError` naming the file."""
    try:
        return check_defaults(table)
    except KocrError as exc:
        raise InputFileError(source, f"damaged language model: {exc}; rebuild it (kocr lm build)") from None


@dataclass(frozen=True)
class BeamSettings:
    """Search and fusion settings (defaults tuned on held-out corpus lines, see the model card); each
    checked against :data:`RANGES` when made."""

    beam_width: int = 8
    lm_weight: float = 0.5
    length_bonus: float = 2.0
    min_prob: float = 1e-3
    max_candidates: int = 6
    prune_ratio: float = 1e4
    end_of_line: bool = True  # score the LM's end-of-line token after the last character
    # Calibration of the LM-fused confidence c: sigmoid(scale · logit(c) + shift), fitted on the tuning set.
    confidence_scale: float = 0.55
    confidence_shift: float = 0.30

    def __post_init__(self) -> None:
        for field in fields(self):
            object.__setattr__(self, field.name, check_setting(field.name, getattr(self, field.name)))


def _show(bound: float | None) -> str:
    return "?" if bound is None else f"{bound:g}"
