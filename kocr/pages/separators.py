"""Rules that part the text of one row: a table's cell border between a label and its answer, and the
start or end of a form's answer line (``성명: ______``, the answer written over the rule).

Why: on a form the label and the answer beside it are two lines (two fields, often a printed label and a
handwritten answer of another size), but the gap between them is no wider than a word space, so the
grouping rules alone join them. A person sees the rule between them. Here a gap between two
neighbouring syllables of a line is *separated* when it holds either

- a **border**: a column of the separator ink (the rules :mod:`~kocr.pages.rules` took out, and what
  touches them but is not text: a table's cell borders too short to be rules) inked over the row's
  middle band, or
- a **rule end**: the end of a horizontal rule at the row's foot (an answer line starting after its
  label, or ending before the next label). A rule is the chain of the rules' pieces that line up end to
  end: a faint rule on a slightly skewed page binarises as a staircase of dashes, and a stroke crossing
  a rule cuts it, but neither ends it.

A notebook's rules run the width of the page and a table's horizontal rules end at its frame, so
neither parts a line; graph paper's vertical lines run through the text, so on graph paper there are
no borders. Everything here is in analysis pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kocr.pages.components import Components, find_runs, grown, run_pixels, under_runs
from kocr.pages.pairs import overlapping_pairs, ragged_arange, union_roots

GRID_SHARE = 0.04  # vertical lines through this share of the syllables: graph paper, whose lines part nothing
GRID_SAMPLE = 400  # syllables looked at for that
THROUGH = 0.5  # share of a syllable's height a line through it inks (strokes crossing it break it)
MARGIN = 0.08  # text heights kept clear of each syllable's edge
BAND = 0.25  # of the taller syllable's height, either side of the row's middle: a border crosses it
BORDER_COVER = 0.8  # share of that band a border column must ink
FOOT_ABOVE = 0.4  # of the smaller syllable's height above the row's foot (the lower of the two): where a
# rule may end (not higher: a big heading's long stroke, taken out as a rule, runs through its middle),
FOOT_BELOW = 0.8  # down to this much of the taller one's height below the row's higher foot
FOOT_FLOOR = 1.0  # text heights: the least height of a syllable beside the gap, for those two
MIN_RUN = 0.5  # text heights: the shortest run of separator ink that is a piece of a rule
CHAIN_GAP = 2.5  # text heights: pieces of a rule at most this far apart end to end are one rule,
CHAIN_RISE = 3.0  # pixels (and a tenth of the gap) apart across: lined up
TOUCH = 2  # pixels: pieces this close (or overlapping) are one rule
FAINT = 16  # grey levels darker than the paper beside it: a rule too faint to binarise
FAINT_SHARE = 0.8  # of the columns between two pieces
PAPER_OFFSET = 4  # rows above and below a rule where the paper is


@dataclass(frozen=True)
class RuleEnds:
    """Where the page's horizontal rules end (each end's x and y, analysis pixels)."""

    x: np.ndarray
    y: np.ndarray


class Separators:
    """Which gaps between syllables (boxes in analysis pixels, indexed as the line finder's syllables)
    hold a border or a rule end."""

    def __init__(
        self,
        ink: np.ndarray,
        ends: RuleEnds,
        boxes: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
        text_height: float,
    ) -> None:
        """``ink``: the separator ink (:func:`separator_ink`); ``ends``: the rules' ends
        (:func:`rule_ends`)."""
        self.x0, self.y0, self.x1, self.y1 = boxes
        self.ends = ends
        self.text_height = text_height
        self.height, self.width = ink.shape
        # down[y, x]: ink in column x above row y.
        self.down = np.zeros((self.height + 1, self.width), np.int32)
        np.cumsum(ink, axis=0, dtype=np.int32, out=self.down[1:])
        # Graph paper: its vertical lines run through the text, and part nothing.
        self.borders = self._crossed_share() < GRID_SHARE

    def __call__(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """(N,) bool: whether the gap between syllable ``left[i]`` and syllable ``right[i]`` (on its right)
        is separated."""
        if left.size == 0:
            return np.zeros(0, dtype=bool)
        margin = max(1, round(MARGIN * self.text_height))
        start = np.floor(self.x1[left]).astype(np.int64) + margin  # first column of the gap
        end = np.ceil(self.x0[right]).astype(np.int64) - margin  # one past its last
        start, end = np.clip(start, 0, self.width), np.clip(end, 0, self.width)
        result = self._rule_ends_in(left, right, start, end)
        if self.borders:
            for index in np.flatnonzero(~result & (end > start)):
                result[index] = self._border(
                    int(left[index]), int(right[index]), int(start[index]), int(end[index])
                )
        return result

    def _crossed_share(self) -> float:
        """The share of (up to :data:`GRID_SAMPLE`) syllables that a vertical line of the separator
        ink runs through, top to bottom but for the strokes crossing it (on graph paper most; in a
        table none)."""
        count = self.x0.size
        if count == 0:
            return 0.0
        picked = np.linspace(0, count - 1, min(count, GRID_SAMPLE)).astype(np.int64)
        x0 = np.clip(np.floor(self.x0[picked]), 0, self.width).astype(np.int64)
        x1 = np.clip(np.ceil(self.x1[picked]), 0, self.width).astype(np.int64)
        y0 = np.clip(np.floor(self.y0[picked]), 0, self.height).astype(np.int64)
        y1 = np.clip(np.ceil(self.y1[picked]), 0, self.height).astype(np.int64)
        crossed = 0
        for left, right, top, bottom in zip(x0, x1, y0, y1, strict=True):
            if right > left and bottom > top:
                inked = self.down[bottom, left:right] - self.down[top, left:right]
                crossed += int(inked.max() >= THROUGH * (bottom - top))
        return crossed / picked.size

    def _border(self, a: int, b: int, start: int, end: int) -> bool:
        middle = (self.y0[a] + self.y1[a] + self.y0[b] + self.y1[b]) / 4
        half = BAND * max(self.y1[a] - self.y0[a], self.y1[b] - self.y0[b])
        top = int(np.clip(np.floor(middle - half), 0, self.height))
        bottom = int(np.clip(np.ceil(middle + half), 0, self.height))
        if bottom <= top:
            return False
        inked = self.down[bottom, start:end] - self.down[top, start:end]
        return bool(inked.max(initial=0) >= BORDER_COVER * (bottom - top))

    def _rule_ends_in(
        self, left: np.ndarray, right: np.ndarray, start: np.ndarray, end: np.ndarray
    ) -> np.ndarray:
        """Whether a rule ends in each gap (columns ``start`` .. ``end`` - 1), at the row's foot."""
        found = np.zeros(left.size, dtype=bool)
        if self.ends.x.size == 0:
            return found
        # A colon's dot or a loose stroke beside the gap is no measure of the row: heights floored.
        floor = FOOT_FLOOR * self.text_height
        h_left = np.maximum(self.y1[left] - self.y0[left], floor)
        h_right = np.maximum(self.y1[right] - self.y0[right], floor)
        top = np.maximum(self.y1[left], self.y1[right]) - FOOT_ABOVE * np.minimum(h_left, h_right)
        bottom = np.maximum(self.y1[left], self.y1[right]) + FOOT_BELOW * np.maximum(h_left, h_right)
        x, y = self.ends.x[None, :], self.ends.y[None, :]
        for first in range(0, left.size, 1024):
            part = slice(first, first + 1024)
            inside = (x >= start[part, None]) & (x < end[part, None])
            inside &= (y >= top[part, None]) & (y <= bottom[part, None])
            found[part] = inside.any(axis=1)
        return found


def rule_ends(ink: np.ndarray | None, grey: np.ndarray, text_height: float) -> RuleEnds:
    """Where the horizontal rules in the separator ink (:func:`separator_ink`) end: its horizontal runs
    at least :data:`MIN_RUN` text heights long (a vertical line's are a pixel or two), chained where
    they overlap (the rows of a thick rule) or line up within :data:`CHAIN_GAP` text heights with the
    rule running on between them too faint to binarise (``grey``: the page's grey levels; a thin rule
    on a slightly skewed page binarises as a staircase of dashes); each chain's two ends."""
    empty = RuleEnds(np.zeros(0), np.zeros(0))
    if ink is None:
        return empty
    runs = find_runs(ink)
    long = (runs.end - runs.start) >= MIN_RUN * text_height
    if not long.any():
        return empty
    x0, x1 = runs.start[long].astype(np.float64), runs.end[long].astype(np.float64)
    y = runs.row[long].astype(np.float64)
    # Candidate pairs: rows close enough to line up over the longest gap, then their gaps measured.
    rise = CHAIN_RISE + 0.1 * CHAIN_GAP * text_height
    firsts, seconds = [], []
    for i, j in overlapping_pairs(y, y, rise):
        apart = np.maximum(x0[i], x0[j]) - np.minimum(x1[i], x1[j])
        lined = (apart <= CHAIN_GAP * text_height) & (
            np.abs(y[i] - y[j]) <= CHAIN_RISE + 0.1 * np.maximum(apart, 0)
        )
        i, j, apart = i[lined], j[lined], apart[lined]
        # Pieces apart are one rule only where it runs on faintly between them.
        joined = apart <= TOUCH
        left = np.where(x1[i] <= x1[j], i, j)
        right = np.where(x1[i] <= x1[j], j, i)
        apart_ones = ~joined
        joined[apart_ones] = _faint_between(
            grey, x1[left[apart_ones]], y[left[apart_ones]], x0[right[apart_ones]], y[right[apart_ones]]
        )
        firsts.append(i[joined])
        seconds.append(j[joined])
    root = union_roots(x0.size, np.concatenate(firsts), np.concatenate(seconds))
    chains = np.unique(root, return_inverse=True)[1]
    by_start = np.lexsort((x0, chains))  # each chain's pieces, leftmost first
    starts = by_start[np.r_[True, chains[by_start][1:] != chains[by_start][:-1]]]
    by_end = np.lexsort((-x1, chains))  # rightmost end first
    finishes = by_end[np.r_[True, chains[by_end][1:] != chains[by_end][:-1]]]
    return RuleEnds(np.r_[x0[starts], x1[finishes]], np.r_[y[starts], y[finishes]])


def _faint_between(
    grey: np.ndarray, x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray
) -> np.ndarray:
    """Whether a rule runs on from each (x0, y0) to (x1, y1) too faint to binarise: the darkest pixel
    near the line between them (a row either side) is darker than the paper around it in most
    columns. All pairs at once: their columns laid end to end."""
    height, width = grey.shape
    first = np.clip(x0.astype(np.int64), 0, width)
    count = np.maximum(np.clip(np.ceil(x1).astype(np.int64), 0, width) - first, 0)
    result = np.ones(x0.size, dtype=bool)  # no columns between: touching
    has = count > 0
    if not has.any():
        return result
    first, count = first[has], count[has]
    pair = np.repeat(np.arange(count.size), count)
    columns = first[pair] + ragged_arange(count)
    sx0, sy0, sx1, sy1 = x0[has][pair], y0[has][pair], x1[has][pair], y1[has][pair]
    rows = np.round(sy0 + (sy1 - sy0) * (columns - sx0) / np.maximum(sx1 - sx0, 1.0)).astype(np.int64)
    darkest = np.full(columns.size, 255, np.int64)
    for offset in (-1, 0, 1):
        darkest = np.minimum(darkest, grey[np.clip(rows + offset, 0, height - 1), columns])
    paper = np.maximum(
        grey[np.clip(rows - PAPER_OFFSET, 0, height - 1), columns],
        grey[np.clip(rows + PAPER_OFFSET, 0, height - 1), columns],
    ).astype(np.int64)
    faint = np.bincount(pair, weights=darkest <= paper - FAINT, minlength=count.size)
    result[has] = faint >= FAINT_SHARE * count
    return result


def separator_ink(rules: np.ndarray | None, components: Components, text: np.ndarray) -> np.ndarray | None:
    """The page's rules (``rules``: the pixels :mod:`~kocr.pages.rules` took out, ``None``: none) and
    the components touching them that are not ``text`` (a mask over ``components``, found in the page
    without its rules): a table's cell borders too short to be rules themselves, joined to the grid.
    ``None`` without rules. A stroke standing alone (a big heading's ㅣ, left out of the text as a bar)
    touches no rule, so it parts nothing."""
    if rules is None or not rules.any():
        return None
    runs = components.runs
    touching_runs = under_runs(runs, grown(rules)) > 0  # the rules and their 8 neighbours
    touching = np.bincount(components.label[touching_runs], minlength=components.count) > 0
    ink = rules.copy()
    ink.reshape(-1)[run_pixels(runs.subset((touching & ~text)[components.label]), rules.shape[1])] = True
    return ink
