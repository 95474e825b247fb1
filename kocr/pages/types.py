"""The values page reading passes around: a line's four corners on the page, a found line, a read line
and a read page. Plain frozen dataclasses of floats and strings, so they turn into JSON as they are.

Corners are in the page's own pixels (the image as given, before any downscaling or turning), clockwise
from the top left of the text as it reads: top left, top right, bottom right, bottom left.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

Point = tuple[float, float]
Quad = tuple[Point, Point, Point, Point]


def quad_from_box(left: float, top: float, right: float, bottom: float) -> Quad:
    """An axis-aligned box as four corners."""
    return ((left, top), (right, top), (right, bottom), (left, bottom))


def quad_bounds(quad: Sequence[Point]) -> tuple[float, float, float, float]:
    """The axis-aligned box (left, top, right, bottom) around four corners."""
    xs = [x for x, _ in quad]
    ys = [y for _, y in quad]
    return min(xs), min(ys), max(xs), max(ys)


@dataclass(frozen=True)
class LineRegion:
    """A text line a line finder found: its corners and how sure the finder is (1.0 when it cannot say)."""

    quad: Quad
    score: float = 1.0


@dataclass(frozen=True)
class PageLine:
    """One line of a read page."""

    box: Quad
    text: str
    confidence: float


@dataclass(frozen=True)
class PageResult:
    """A read page: its lines in reading order, the page's size, and the turn (0, 90, 180 or 270 degrees
    clockwise) that was undone before its lines were found."""

    lines: list[PageLine]
    width: int
    height: int
    rotation: int = 0
    #: What a user should know about how the page read (its text too small to read well, ...).
    notes: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The lines in reading order, one per line."""
        return "\n".join(line.text for line in self.lines)

    @property
    def confidence(self) -> float:
        """The lines' confidence weighted by their length, as sure as most of the page's characters are
        (1.0 for a page without text: nothing on it was misread)."""
        weights = [max(1, len(line.text)) for line in self.lines]
        if not weights:
            return 1.0
        return sum(line.confidence * w for line, w in zip(self.lines, weights, strict=True)) / sum(weights)

    def to_record(self) -> dict[str, Any]:
        """The page as ``kocr predict``'s JSON records hold it (boxes rounded to 0.1 px; ``notes`` only
        when there are some)."""
        record = {
            "text": self.text,
            "confidence": round(self.confidence, 6),
            "layout": "page",
            "width": self.width,
            "height": self.height,
            "rotation": self.rotation,
            "lines": [
                {
                    "box": [[round(x, 1), round(y, 1)] for x, y in line.box],
                    "text": line.text,
                    "confidence": round(line.confidence, 6),
                }
                for line in self.lines
            ],
        }
        if self.notes:
            record["notes"] = list(self.notes)
        return record
