"""How well a page was read: page CER, and the share of its lines that were found.

- **Page CER** compares the page's whole text with every run of whitespace made one space (line breaks
  included, :func:`kocr.text.normalize`), so a line broken in two or two lines read as one costs
  nothing by itself; missing, extra and misread characters do.
- **Lines found**: each ground-truth line is matched to at most one read line and the other way round,
  closest texts first; a line counts as found when its match's CER is at most ``FOUND_CER`` (half its
  characters right at least). It needs no boxes, so it works on any page whose lines are listed in
  order, and it counts as missing a line that was merged with its neighbour or cut in two.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kocr.metrics import edit_distance, sample_cer
from kocr.text import normalize

FOUND_CER = 0.5


def page_text(lines: Sequence[str]) -> str:
    """A page's lines as the one string page CER compares: whitespace runs made one space."""
    return normalize(" ".join(lines))


@dataclass(frozen=True)
class PageScore:
    """One page's figures: edit distance and length of its text, and its lines found."""

    distance: int
    length: int
    lines: int
    found: int

    @property
    def cer(self) -> float:
        if not self.length:
            return 0.0 if not self.distance else 1.0
        return self.distance / self.length


def score_page(truth: Sequence[str], predicted: Sequence[str]) -> PageScore:
    """The figures of a page whose ground-truth lines are ``truth`` and read lines ``predicted``."""
    reference, prediction = page_text(truth), page_text(predicted)
    return PageScore(
        edit_distance(reference, prediction), len(reference), len(truth), lines_found(truth, predicted)
    )


def lines_found(truth: Sequence[str], predicted: Sequence[str]) -> int:
    """How many ground-truth lines have a read line of CER ≤ ``FOUND_CER``, one to one, best pairs first."""
    return len(match_lines(truth, predicted))


def match_lines(truth: Sequence[str], predicted: Sequence[str]) -> list[tuple[int, int, float]]:
    """The one-to-one pairs ``(truth index, read index, CER)`` that :func:`lines_found` counts: closest
    texts first, each pair's CER at most ``FOUND_CER``; in truth order."""
    pairs = []
    for i, reference in enumerate(truth):
        reference = normalize(reference)
        for j, prediction in enumerate(predicted):
            error = sample_cer(reference, normalize(prediction))
            if error <= FOUND_CER:
                pairs.append((error, i, j))
    used_truth: set[int] = set()
    used_predicted: set[int] = set()
    matched = []
    for error, i, j in sorted(pairs):
        if i not in used_truth and j not in used_predicted:
            used_truth.add(i)
            used_predicted.add(j)
            matched.append((i, j, error))
    return sorted(matched)
