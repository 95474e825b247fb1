"""Syllables grouped into lines, in the deskewed frame (boxes already turned so lines run level).

Why these rules (Tesseract's layout analysis does the same in spirit):

1. **Neighbours in a row**: two boxes join when they overlap vertically by at least :data:`OVERLAP`
   of the smaller one's height and the horizontal gap between them is at most :data:`GAP` times the
   taller one's height. Word spaces are well under a text height, column gutters are more than 1.5,
   so columns stay apart. Only local neighbours need to overlap, so lines that wave (handwriting) or
   drift (perspective) still chain up. Two big boxes of very different heights (a drop capital
   beside two body lines, a tall bracket) do not join.
2. **Chains in one band**: the boxes are syllables already (:mod:`~kocr.pages.syllables`), but pieces
   that did not stack (loose strokes of handwriting, punctuation) can make chains of their own. A
   short chain inside a taller one's band joins it; short chains stacked no taller than a line (and
   under twice as tall as the taller, which two lines of small print are not) join; chains end to end
   in one band join too (a wave or a slant broke the chain between two neighbours).
3. **What is not a line**: groups of specks (dotted leaders, noise, stray dots) are dropped: a line
   needs a box at least :data:`MIN_LINE_HEIGHT` text heights tall, or three at least
   :data:`SMALL_PRINT` (a footnote in small print).
4. **Pieces of one row** further apart than a word space join unless a column gutter is between them
   (:func:`join_fragments`).
5. **Rules part a row**: a line is cut where a table's border, or the start or end of an answer
   line, lies between two of its syllables (:func:`split_rows`, :mod:`~kocr.pages.separators`): a
   form's label and the answer beside it are two lines however close they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from kocr.pages.pairs import overlapping_pairs, union_roots

OVERLAP = 0.45  # of the smaller component's height, to join neighbours in a row
GAP = 1.2  # horizontal gap, in heights of the taller of two neighbours (clipped below: SCALE_FLOOR)
SCALE_FLOOR = 0.6  # text heights: the least height a gap is measured in
SIZE_RATIO = 2.5  # neighbours at least BIG tall and this much apart in height are not in one line
BIG = 0.8  # text heights
FULL_SIZE = 0.6  # text heights: a component at least this tall is a syllable, not a piece
STACK_GAP = 0.2  # text heights: pieces stacked closer than this are one syllable
STACK_HEIGHT = 1.3  # text heights: a stack of pieces no taller than this is one line
INSIDE = 0.6  # a short chain this much inside another's band belongs to it
CONTINUED = 0.5  # chains end to end that share this much of the shorter one's band are one line
MIN_LINE_HEIGHT = 0.45  # text heights: a line needs one component at least this tall,
SMALL_PRINT = 0.25  # or three at least this tall (footnotes, captions)
STACK_RATIO = 1.9  # a stack of pieces at most this many times the taller one's height
JOIN_GAP = 3.0  # line heights: pieces of one row this close join (rule 4), but not across a gutter
NEAR_TIE = 0.3  # of the smaller one's height: neighbours this much further than the nearest are as near
ROW_SHARE = 0.5  # of the smaller one's height: pieces whose bands overlap this much share a row
CROSS = 0.25  # line heights: text reaching this far into a gap's middle crosses it (or all the way)
GUTTER_CORE = 0.5  # the middle share of a gap that must stay white above and below for a gutter
GUTTER_ROWS = 2  # more rows beside a white band (above and below) that make it a gutter
GUTTER_MIN = 1.5  # line heights: the narrowest gutter (word spaces of justified text reach 1.2 and more)
WORD_SPACE = 0.5  # text heights: a gap inside a line wider than this is a word space
GUTTER_WIDER = 1.3  # a gutter is this many times as wide as the other gaps of its row (median)
FLANK = 8.0  # line heights: text this close to a white band is beside it
GUTTER_BATCH = 256  # gaps tested at a time (memory: this times the fragments)


@dataclass(frozen=True)
class Boxes:
    """Boxes (syllables) in the deskewed frame (floats)."""

    x0: np.ndarray
    y0: np.ndarray
    x1: np.ndarray
    y1: np.ndarray

    @property
    def height(self) -> np.ndarray:
        return self.y1 - self.y0

    @property
    def width(self) -> np.ndarray:
        return self.x1 - self.x0

    def __len__(self) -> int:
        return int(self.x0.size)


def line_height(boxes: Boxes, line: np.ndarray) -> float | None:
    """The typical height of the lines of ``line`` (numbers per box, -1 none) that have at least three
    boxes, weighted by their box counts; ``None`` without such lines. Each line is measured across its
    own slope (a least-squares fit of its boxes' centres), so lines at an angle to the frame (a
    photographed page's, handwriting's) are not measured taller than they are.

    Why: the components' own heights underestimate the text height where syllables fall apart into
    strokes (handwriting faces); a line's height does not."""
    kept = line >= 0
    if not kept.any():
        return None
    count = int(line.max()) + 1
    member = line[kept]
    cx = (boxes.x0[kept] + boxes.x1[kept]) / 2
    cy = (boxes.y0[kept] + boxes.y1[kept]) / 2
    members = np.bincount(member, minlength=count)
    full = members >= 3
    if not full.any():
        return None
    slope = _slopes(member, cx, cy, members)
    offset = slope[member] * cx  # the line's rise at each box, taken off its top and bottom
    top, bottom = np.full(count, np.inf), np.full(count, -np.inf)
    np.minimum.at(top, member, boxes.y0[kept] - offset)
    np.maximum.at(bottom, member, boxes.y1[kept] - offset)
    heights = (bottom - top)[full]
    order = np.argsort(heights)
    cumulative = np.cumsum(members[full][order])
    return float(heights[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


def _slopes(member: np.ndarray, x: np.ndarray, y: np.ndarray, members: np.ndarray) -> np.ndarray:
    """Each group's least-squares slope of ``y`` on ``x`` (0 for groups too short to say), clipped to
    ±0.3 (17 degrees)."""
    count = members.size
    n = np.maximum(members, 1)
    mean_x = np.bincount(member, x, count) / n
    mean_y = np.bincount(member, y, count) / n
    dx, dy = x - mean_x[member], y - mean_y[member]
    sxx = np.bincount(member, dx * dx, count)
    sxy = np.bincount(member, dx * dy, count)
    slope = np.divide(sxy, sxx, out=np.zeros(count), where=(sxx > 0) & (members >= 3))
    return np.clip(slope, -0.3, 0.3)


Separated = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""Whether each gap between box ``left[i]`` and box ``right[i]`` (on its right) holds a rule that parts
them (:class:`kocr.pages.separators.Separators`)."""


def group_lines(boxes: Boxes, text_height: float, separated: Separated | None = None) -> np.ndarray:
    """Each box's line number (0 .. lines-1), or -1 for boxes in no line. ``separated`` tells which
    gaps between boxes a rule parts (none, without it)."""
    n = len(boxes)
    if n == 0:
        return np.zeros(0, np.int64)
    first, second = _row_neighbours(boxes, text_height)
    chain = union_roots(n, first, second)
    chain = _merge_chains(boxes, chain, text_height)
    _, line = np.unique(chain, return_inverse=True)
    line = join_fragments(boxes, line, text_height)
    if separated is not None:
        line = split_rows(boxes, line, separated)
    tallest = np.zeros(int(line.max()) + 1)
    np.maximum.at(tallest, line, boxes.height)
    small_print = np.bincount(line, weights=boxes.height >= SMALL_PRINT * text_height, minlength=tallest.size)
    keep = tallest >= MIN_LINE_HEIGHT * text_height
    keep |= (tallest >= SMALL_PRINT * text_height) & (small_print >= 3)
    renumber = np.full(keep.size, -1, np.int64)
    renumber[keep] = np.arange(int(keep.sum()))
    return renumber[line]


def split_rows(boxes: Boxes, line: np.ndarray, separated: Separated) -> np.ndarray:
    """Rule 5: each line (``line`` numbers the boxes, -1 none) cut at the gaps ``separated`` says a
    rule parts. A gap is between the box reaching furthest right so far and the next box, left to
    right, where the next starts clear of it. Lines renumbered 0 .. count-1.

    Cutting where the text's size jumps (a small printed label before big handwriting, with no rule
    between) was tried and left out: a handwritten line's words differ twice in height too."""
    scan = _scan_rows(boxes, line)
    if scan is None:
        return line
    order, group = scan.order, scan.group
    clear = boxes.x0[order][1:] > scan.reach[:-1]
    candidates = np.flatnonzero(clear & (group[1:] == group[:-1]))
    if candidates.size == 0:
        return line
    cut = np.zeros(order.size, dtype=bool)
    cut[candidates + 1] = separated(order[scan.holder[candidates]], order[candidates + 1])
    if not cut.any():
        return line
    # Within each line, the pieces between cuts are numbered on from the line's own number.
    cuts = np.cumsum(cut)
    first = np.r_[True, group[1:] != group[:-1]]
    piece = cuts - np.maximum.accumulate(np.where(first, cuts, 0))
    split = np.full(line.size, -1, np.int64)
    _, split[order] = np.unique(group * (order.size + 1) + piece, return_inverse=True)
    return split


@dataclass(frozen=True)
class _RowScan:
    """A page's boxes line by line, left to right: their indices (``order``), their lines (``group``), the
    furthest right end of the boxes so far in their line (``reach``) and where in ``order`` the box
    holding it is (``holder``)."""

    order: np.ndarray
    group: np.ndarray
    reach: np.ndarray
    holder: np.ndarray


def _scan_rows(boxes: Boxes, line: np.ndarray) -> _RowScan | None:
    """The boxes of ``line``'s lines (numbers per box, -1 none) scanned left to right; ``None`` with
    fewer than two."""
    member = np.flatnonzero(line >= 0)
    if member.size < 2:
        return None
    order = member[np.lexsort((boxes.x0[member], line[member]))]
    group = line[order]
    # A running maximum that starts again with each line: lines lifted apart by more than the page
    # is wide.
    lift = (group - group.min()) * (float(np.ptp(boxes.x1)) + float(np.ptp(boxes.x0)) + 1.0)
    right_end = boxes.x1[order] - boxes.x0.min() + lift
    lifted = np.maximum.accumulate(right_end)
    holder = np.maximum.accumulate(np.where(right_end == lifted, np.arange(order.size), 0))
    return _RowScan(order, group, lifted - lift + boxes.x0.min(), holder)


def _row_neighbours(boxes: Boxes, text_height: float) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of boxes that belong to one line by rule 1."""
    firsts, seconds = [], []
    for a, b in overlapping_pairs(boxes.y0, boxes.y1, 0.0):
        joined = _row_test(boxes, a, b, text_height)
        firsts.append(a[joined])
        seconds.append(b[joined])
    return np.concatenate(firsts), np.concatenate(seconds)


def _row_test(boxes: Boxes, a: np.ndarray, b: np.ndarray, text_height: float) -> np.ndarray:
    height = boxes.height
    low, high = np.minimum(height[a], height[b]), np.maximum(height[a], height[b])
    overlap = np.minimum(boxes.y1[a], boxes.y1[b]) - np.maximum(boxes.y0[a], boxes.y0[b])
    gap = np.maximum(boxes.x0[b] - boxes.x1[a], boxes.x0[a] - boxes.x1[b])
    scale = np.maximum(high, SCALE_FLOOR * text_height)
    mismatched = (low >= BIG * text_height) & (high > SIZE_RATIO * low)
    return (overlap >= OVERLAP * low) & (gap <= GAP * scale) & ~mismatched


def _merge_chains(boxes: Boxes, chain: np.ndarray, text_height: float) -> np.ndarray:
    """Rule 2, on the chains of rule 1: a short chain inside a taller one's band joins it, short chains
    stacked into one line's height join, and chains end to end in one band join (a wave or a slant
    broke the chain between two neighbours)."""
    piece = FULL_SIZE * text_height * 1.5
    for _ in range(4):
        _, member = np.unique(chain, return_inverse=True)
        count = int(member.max()) + 1
        x0, y0 = np.full(count, np.inf), np.full(count, np.inf)
        x1, y1 = np.full(count, -np.inf), np.full(count, -np.inf)
        np.minimum.at(x0, member, boxes.x0)
        np.minimum.at(y0, member, boxes.y0)
        np.maximum.at(x1, member, boxes.x1)
        np.maximum.at(y1, member, boxes.y1)
        height = y1 - y0
        firsts, seconds = [], []
        for a, b in overlapping_pairs(y0, y1, STACK_GAP * text_height):
            a, b = np.where(height[a] <= height[b], a, b), np.where(height[a] <= height[b], b, a)  # a shorter
            overlap_y = np.minimum(y1[a], y1[b]) - np.maximum(y0[a], y0[b])
            overlap_x = np.minimum(x1[a], x1[b]) - np.maximum(x0[a], x0[b])
            narrow = np.minimum(x1[a] - x0[a], x1[b] - x0[b])
            short = height[a] < piece
            inside = short & (overlap_y >= INSIDE * height[a]) & (overlap_x >= -SCALE_FLOOR * text_height)
            # Pieces stack into syllables; two lines of small print stacked are more than twice as tall
            # as one, with the gap between them.
            merged = np.maximum(y1[a], y1[b]) - np.minimum(y0[a], y0[b])
            stacked = short & (height[b] < piece) & (overlap_x >= 0.5 * narrow)
            stacked &= (merged <= STACK_HEIGHT * text_height) & (merged <= STACK_RATIO * height[b])
            in_band = (overlap_y >= CONTINUED * height[a]) & (overlap_x >= -GAP * text_height)
            joined = inside | stacked | in_band
            firsts.append(a[joined])
            seconds.append(b[joined])
        first, second = np.concatenate(firsts), np.concatenate(seconds)
        if first.size == 0:
            return chain
        chain = union_roots(count, first, second)[member]
    return chain


@dataclass(frozen=True)
class Fragments:
    """Groups of boxes (lines so far) measured along their own slope: ends (x0, x1), height across the
    slope, and the centre of their band at each end (``left_y``, ``right_y``)."""

    x0: np.ndarray
    x1: np.ndarray
    height: np.ndarray
    left_y: np.ndarray
    right_y: np.ndarray

    @property
    def centre_y(self) -> np.ndarray:
        return (self.left_y + self.right_y) / 2

    @property
    def top(self) -> np.ndarray:
        return np.minimum(self.left_y, self.right_y) - self.height / 2

    @property
    def bottom(self) -> np.ndarray:
        return np.maximum(self.left_y, self.right_y) + self.height / 2


def measure_fragments(boxes: Boxes, member: np.ndarray) -> Fragments:
    """The groups numbered by ``member`` (0 .. count-1 per box, none -1), measured."""
    count = int(member.max()) + 1
    cx, cy = (boxes.x0 + boxes.x1) / 2, (boxes.y0 + boxes.y1) / 2
    members = np.bincount(member, minlength=count)
    slope = _slopes(member, cx, cy, members)
    n = np.maximum(members, 1)
    mean_x = np.bincount(member, cx, count) / n
    offset = slope[member] * (cx - mean_x[member])
    top, bottom = np.full(count, np.inf), np.full(count, -np.inf)
    np.minimum.at(top, member, boxes.y0 - offset)
    np.maximum.at(bottom, member, boxes.y1 - offset)
    x0, x1 = np.full(count, np.inf), np.full(count, -np.inf)
    np.minimum.at(x0, member, boxes.x0)
    np.maximum.at(x1, member, boxes.x1)
    middle = (top + bottom) / 2  # the band's centre at mean_x
    return Fragments(x0, x1, bottom - top, middle + slope * (x0 - mean_x), middle + slope * (x1 - mean_x))


def join_fragments(boxes: Boxes, line: np.ndarray, text_height: float) -> np.ndarray:
    """Rule 4, on the lines of rules 1 and 2 (``line`` numbers each box): pieces of one row further
    apart than a word space (justified text, handwriting, spaced-out print) join, up to
    :data:`JOIN_GAP` heights apart, unless the gap between them is a column gutter
    (:func:`column_gutters`)."""
    if line.size == 0:
        return line
    fragments = measure_fragments(boxes, line)
    left, right = _row_pairs(fragments, text_height)
    if left.size == 0:
        return line
    spaces = _widest_spaces(boxes, line, text_height)
    gutter = column_gutters(fragments, left, right, text_height)
    gutter &= _wider_than_words(fragments, left, right, spaces)
    root = union_roots(fragments.x0.size, left[~gutter], right[~gutter])
    return np.unique(root, return_inverse=True)[1][line]


def _row_pairs(fragments: Fragments, text_height: float) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (left, right) of fragments that are each other's nearest neighbour in one row (or as near
    as makes no difference: two pieces of a syllable that did not stack), at most :data:`JOIN_GAP`
    heights apart: of the smaller one's height, or the taller's when one is a piece (a jamo, a mark)
    rather than a line of syllables."""
    count = fragments.x0.size
    height = np.maximum(fragments.height, SCALE_FLOOR * text_height)
    lefts, rights = [], []
    for a, b in overlapping_pairs(fragments.top, fragments.bottom, 0.0):
        a, b = (
            np.where(fragments.x0[a] <= fragments.x0[b], a, b),
            np.where(fragments.x0[a] <= fragments.x0[b], b, a),
        )
        gap = fragments.x0[b] - fragments.x1[a]
        low, high = np.minimum(height[a], height[b]), np.maximum(height[a], height[b])
        shared = _facing_overlap(fragments, a, b, low, high)
        mismatched = (low >= BIG * text_height) & (high > SIZE_RATIO * low)
        piece = np.minimum(fragments.height[a], fragments.height[b]) < FULL_SIZE * text_height
        scale = np.where(piece, high, low)
        joined = (gap > 0) & (gap <= JOIN_GAP * scale) & (shared >= ROW_SHARE * low) & ~mismatched
        lefts.append(a[joined])
        rights.append(b[joined])
    left, right = np.concatenate(lefts), np.concatenate(rights)
    if left.size == 0:
        return left, right
    gap = fragments.x0[right] - fragments.x1[left]
    # Mutual nearest: each fragment's nearest on the right, and each one's nearest on the left.
    nearest_right = np.full(count, np.inf)
    np.minimum.at(nearest_right, left, gap)
    nearest_left = np.full(count, np.inf)
    np.minimum.at(nearest_left, right, gap)
    tie = NEAR_TIE * np.minimum(height[left], height[right])
    keep = (gap <= nearest_right[left] + tie) & (gap <= nearest_left[right] + tie)
    return left[keep], right[keep]


def column_gutters(
    fragments: Fragments, left: np.ndarray, right: np.ndarray, text_height: float
) -> np.ndarray:
    """Whether the gap between each pair of fragments (``left[i]`` ends before ``right[i]`` starts, in
    one row) is a column gutter: a white band through the gap's middle that runs on, above or below,
    past at least :data:`GUTTER_ROWS` more rows with text on both sides of it (a word space is crossed
    by the text of the rows above and below; a column gutter is not, and has columns beside it)."""
    x0, x1 = fragments.x0, fragments.x1
    centre = fragments.centre_y
    height = np.maximum(fragments.height, SCALE_FLOOR * text_height)
    # Each fragment's nearest neighbours in its row, to count rows rather than fragments.
    next_right, next_left = _row_neighbours_of(fragments, height)
    gutter = np.zeros(left.size, dtype=bool)
    for start in range(0, left.size, GUTTER_BATCH):
        a, b = left[start : start + GUTTER_BATCH], right[start : start + GUTTER_BATCH]
        scale = np.minimum(height[a], height[b])[:, None]
        middle = ((x1[a] + x0[b]) / 2)[:, None]
        half = (GUTTER_CORE * (x0[b] - x1[a]) / 2)[:, None]
        row_y = ((centre[a] + centre[b]) / 2)[:, None]
        row_half = (np.maximum(height[a], height[b]) / 2)[:, None]
        # Text crosses the band where it reaches well into its middle (a column's ragged or slanted
        # edge may just touch it).
        into = np.minimum(x1[None, :], middle + half) - np.maximum(x0[None, :], middle - half)
        crossing = into > np.minimum(2 * half, CROSS * scale)
        reach = FLANK * scale
        on_left = (x1[None, :] <= middle - half) & (x1[None, :] >= middle - half - reach)
        on_right = (x0[None, :] >= middle + half) & (x0[None, :] <= middle + half + reach)
        above = centre[None, :] < row_y - row_half
        below = centre[None, :] > row_y + row_half
        # The band runs up to the first row crossing it, and down to the first below.
        block_up = np.where(above & crossing, centre[None, :], -np.inf).max(axis=1, initial=-np.inf)[:, None]
        block_down = np.where(below & crossing, centre[None, :], np.inf).min(axis=1, initial=np.inf)[:, None]
        up = above & (centre[None, :] > block_up)
        down = below & (centre[None, :] < block_down)
        rows = np.zeros(a.size)
        for side in (up, down):
            lefts = side & on_left
            rights = side & on_right
            # A row counts once: its last fragment before the band, its first after it.
            last = lefts & ~_take(lefts, next_right)
            first = rights & ~_take(rights, next_left)
            rows += np.minimum(last.sum(axis=1), first.sum(axis=1))
        wide = x0[b] - x1[a] >= GUTTER_MIN * scale[:, 0]
        gutter[start : start + GUTTER_BATCH] = wide & (rows >= GUTTER_ROWS)
    return gutter


def _facing_overlap(
    fragments: Fragments, a: np.ndarray, b: np.ndarray, low: np.ndarray, high: np.ndarray
) -> np.ndarray:
    """How much the bands of ``a`` (at its right end) and ``b`` (at its left end) overlap, for bands
    ``low`` and ``high`` tall."""
    return (low + high) / 2 - np.abs(fragments.right_y[a] - fragments.left_y[b])


def _widest_spaces(boxes: Boxes, line: np.ndarray, text_height: float) -> np.ndarray:
    """Each line's widest word space inside it: the widest gap between its boxes, left to right, if
    wider than :data:`WORD_SPACE` text heights (narrower ones are between the letters of a word), else
    0."""
    count = int(line.max()) + 1 if line.size else 0
    widest = np.zeros(count)
    scan = _scan_rows(boxes, line)
    if scan is None:
        return widest
    # Each box's gap to the furthest right end of the boxes before it in its line.
    group = scan.group
    gap = boxes.x0[scan.order][1:] - scan.reach[:-1]
    same = group[1:] == group[:-1]
    spaced = same & (gap > WORD_SPACE * text_height)
    np.maximum.at(widest, group[1:][spaced], gap[spaced])
    return widest


def _wider_than_words(
    fragments: Fragments, left: np.ndarray, right: np.ndarray, spaces: np.ndarray
) -> np.ndarray:
    """Whether each gap is at least :data:`GUTTER_WIDER` times the word spaces on either side of it in
    its row (the median of the row's other gaps on that side, with the widest word space inside each
    piece there, ``spaces``): a river of word spaces running down justified text is no wider than
    the spaces beside it (a justified line's spaces are all alike), a gutter is wider than the word
    spaces of the columns either side, each justified in its own way. A side without gaps says
    nothing."""
    gap = fragments.x0[right] - fragments.x1[left]
    row_of = union_roots(fragments.x0.size, left, right)
    row = row_of[left]
    wider = np.ones(left.size, dtype=bool)
    order = np.lexsort((fragments.x1[left], row))
    bounds = np.flatnonzero(np.diff(row[order])) + 1
    for members in np.split(order, bounds):
        pieces = np.flatnonzero(row_of == row[members[0]])
        pieces = pieces[np.argsort(fragments.x0[pieces])]
        for position, index in enumerate(members):
            middle = (fragments.x1[left[index]] + fragments.x0[right[index]]) / 2
            before = fragments.x0[pieces] < middle
            for side, on_side in ((members[:position], before), (members[position + 1 :], ~before)):
                inner = spaces[pieces[on_side]]
                others = np.concatenate([gap[side], inner[inner > 0]])
                if others.size and gap[index] < GUTTER_WIDER * float(np.median(others)):
                    wider[index] = False
    return wider


def _take(matrix: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``matrix[:, index]`` with -1 reading False."""
    padded = np.concatenate([matrix, np.zeros((matrix.shape[0], 1), dtype=bool)], axis=1)
    return padded[:, index]


def _row_neighbours_of(fragments: Fragments, height: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each fragment's nearest fragment to the right in its row, and to the left (-1: none)."""
    count = fragments.x0.size
    best_right, best_left = np.full(count, np.inf), np.full(count, np.inf)
    next_right, next_left = np.full(count, -1, np.int64), np.full(count, -1, np.int64)
    for a, b in overlapping_pairs(fragments.top, fragments.bottom, 0.0):
        a, b = (
            np.where(fragments.x0[a] <= fragments.x0[b], a, b),
            np.where(fragments.x0[a] <= fragments.x0[b], b, a),
        )
        low, high = np.minimum(height[a], height[b]), np.maximum(height[a], height[b])
        shared = _facing_overlap(fragments, a, b, low, high)
        fits = (shared >= ROW_SHARE * low) & (fragments.x0[b] >= fragments.x1[a] - 0.5 * low)
        a, b = a[fits], b[fits]
        gap = fragments.x0[b] - fragments.x1[a]
        for source, target, best, nearest in ((a, b, best_right, next_right), (b, a, best_left, next_left)):
            order = np.lexsort((gap, source))
            s, t, g = source[order], target[order], gap[order]
            first = np.ones(s.size, dtype=bool)
            first[1:] = s[1:] != s[:-1]
            s, t, g = s[first], t[first], g[first]
            closer = g < best[s]
            best[s[closer]] = g[closer]
            nearest[s[closer]] = t[closer]
    return next_right, next_left
