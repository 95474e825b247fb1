"""When to find a page's lines a second time, with another finder, and which reading to keep.

No one line finder wins on every page (README, "Reading pages"): the classical finder is best on printed
pages and forms, whose lines are straight and whose rules it takes out; kocr's detector is best on
handwriting, whose lines wave, lean and touch. Which kind a page is shows in how it reads: a page the
first finder cut well reads surely, character after character. So the page reader reads with the first
finder, and only a page that read less surely than ``SECOND_LOOK_BELOW`` per character is found again
with the second finder, read again, and the reading that reads more of the page more surely is kept.

"More of the page, more surely": :func:`reading_score` is the per-character confidence, scaled down by
the share of the other reading's characters this one read. Confidence alone would prefer a reading that
skipped a hard line; a reading that read a rule or a grid as extra text wins only if it reads them about
as surely as the other reads its text.

Tuned on a page set built like the dev pages with another seed (``scripts/make_devpages.py -o tunepages
--pages-per-split 24 --seed 4049``), then measured on the dev pages (README, "Reading pages").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from kocr.pages.types import PageResult

#: Per-character confidence under which a page is found and read again. Chosen on the tuning pages: 0.96
#: and 0.965 lost nothing on its forms (0.97 did: 0.050 -> 0.058 page CER, as forms' merged label and
#: answer lines read long); on the dev pages 0.96 looks again at 18 % of the pages.
SECOND_LOOK_BELOW = 0.96


@dataclass(frozen=True)
class Sureness:
    """How surely a page was read: the geometric mean over its characters of their confidence (a
    line's confidence spread evenly over its characters), and how many characters it read."""

    per_character: float
    characters: int


class ReadLine(Protocol):
    """A line as read: a page's :class:`PageLine` or a recogniser's prediction."""

    text: str
    confidence: float


def sureness(lines: Sequence[ReadLine]) -> Sureness:
    """The sureness of a reading made of ``lines`` (an empty reading is sure: nothing to doubt). A line
    read as nothing counts as one character, so its doubt is not lost."""
    characters = sum(max(1, len(line.text)) for line in lines)
    if not characters:
        return Sureness(1.0, 0)
    log_confidence = sum(math.log(max(line.confidence, 1e-9)) for line in lines)
    return Sureness(math.exp(log_confidence / characters), characters)


def wants_second_look(page: PageResult) -> bool:
    """Whether a page read this surely should be found again with the second finder. A page with no
    lines is not: a blank page stays blank."""
    return bool(page.lines) and sureness(page.lines).per_character < SECOND_LOOK_BELOW


def reading_score(this: Sureness, other: Sureness) -> float:
    """How well a reading reads its page against another reading of the same page."""
    return this.per_character * min(1.0, this.characters / max(1, other.characters))


def better_reading(first: PageResult, second: PageResult) -> PageResult:
    """The reading to keep: ``second`` only when it scores higher; on a tie the first finder's."""
    a, b = sureness(first.lines), sureness(second.lines)
    return second if reading_score(b, a) > reading_score(a, b) else first
