"""Reading order of found lines: top to bottom, columns left to right, by recursive XY-cut on the
lines' boxes.

Why XY-cut, and why this variant: plain XY-cut cuts at every horizontal gap first, which reads two
columns with aligned baselines row by row (left line 1, right line 1, ...). Here consecutive rows are
first gathered into bands that share a vertical gutter, and a band is cut into its columns; a row
that spans the gutter (a heading across both columns) closes the band above it and is read on its
own, so it comes first. A band whose columns are short entries that pair up row by row (a form's
labels and answers, a table) is read row by row, label then answer, instead.

Boxes are measured in the page's deskewed frame (turned by the lines' median angle), and only their
middle half is used across the line, so margins and descenders do not make neighbouring lines
overlap.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from kocr.pages.field import fit_field
from kocr.pages.rectify import quad_angle
from kocr.pages.types import LineRegion

CORE = 0.25  # of a box's height, ignored at its top and at its bottom
GUTTER = 0.25  # of the median line height: the narrowest vertical gap that separates columns
MARK = 1 / 3  # a finder's score at most this: a lone mark, not a line (kocr.pages.find: one syllable)
SPECK = 0.5  # of the median line height: a lone mark shorter than this is a speck
MARK_REACH = 3.0  # line heights: a mark this close beside a line in its row goes with it
PROSE = 6.0  # line heights: columns whose lines are this wide (median) are prose, read column by column
COLUMN_REACH = 3.0  # line heights: lines this far below another, starting with it, show a column's lean
COLUMN_PAIRS = 6  # such pairs needed to lean the columns upright
MAX_LEAN = 0.15  # the most a column may lean (x per y)
MAX_TILT = 20.0  # degrees a line may differ from the page's angle and still count as its slope
FIT_LENGTH = 4.0  # heights: lines at least this long say how the page's lines slope
FIT_LINES = 4  # fewer such lines: all lines level in the page's frame
FIT_SPREAD = (
    6.0  # heights the fitting lines must spread over, along or across, for the slope to vary that way
)


def reading_order(regions: Sequence[LineRegion], width: int, height: int) -> list[LineRegion]:
    """``regions`` in reading order for a page ``width`` × ``height`` pixels.

    Specks (a finder's score of at most :data:`MARK`, a lone mark, and narrower than tall or much
    smaller than a line: the edge of a photographed sheet, a stray dot) take no part in laying out the
    page, where a column of specks beside two columns of text would make the page a table read row by
    row; each is then put beside its row's nearest line, or after the lines above it in its column."""
    if len(regions) < 2:
        return list(regions)
    boxes = upright_columns(level_boxes(regions, width, height))
    typical = float(np.median(boxes[:, 4]))
    small = (boxes[:, 2] - boxes[:, 0] < boxes[:, 4]) | (boxes[:, 4] < SPECK * typical)
    speck = [region.score <= MARK and bool(small[index]) for index, region in enumerate(regions)]
    lines = [index for index in range(len(regions)) if not speck[index]]
    marks = [index for index in range(len(regions)) if speck[index]]
    if len(lines) < 2:
        lines, marks = list(range(len(regions))), []
    cutter = _Cutter(boxes, lines)
    ordered = cutter.order(lines)
    for mark in sorted(marks, key=lambda index: (boxes[index, 1], boxes[index, 0])):
        ordered.insert(cutter.place(mark, ordered), mark)
    return [regions[index] for index in ordered]


def deskewed_boxes(regions: Sequence[LineRegion], width: int, height: int) -> np.ndarray:
    """Each region's box (x0, y0, x1, y1, height) in the page's deskewed frame: turned by the regions'
    median angle about the page's centre."""
    angle = float(np.median([quad_angle(region.quad) for region in regions]))
    cx, cy = width / 2, height / 2
    cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    points = np.array([region.quad for region in regions], dtype=np.float64)  # (n, 4, 2)
    dx, dy = points[..., 0] - cx, points[..., 1] - cy
    u, v = dx * cos + dy * sin, -dx * sin + dy * cos
    return np.stack([u.min(1), v.min(1), u.max(1), v.max(1), v.max(1) - v.min(1)], axis=1)


def level_boxes(regions: Sequence[LineRegion], width: int, height: int) -> np.ndarray:
    """Each region's box (x0, y0, x1, y1, height) with the text lines made level: its own length and
    height about its centre, the centre's height being where the page's text line through it crosses
    the middle of the page (:mod:`~kocr.pages.field`, fitted to the lines at least :data:`FIT_LENGTH`
    heights long, weighted by their lengths). Lines of a page photographed at a slant run at different
    angles (converging), and a row of a form read across a page drifts by more than its height when
    turned by one angle; each line's own tilt (handwriting) does not matter either."""
    points = np.array([region.quad for region in regions], dtype=np.float64)  # (n, 4, 2)
    (tl, tr, br, bl) = (points[:, k] for k in range(4))
    length = (np.hypot(*(tr - tl).T) + np.hypot(*(br - bl).T)) / 2
    tall = (np.hypot(*(bl - tl).T) + np.hypot(*(br - tr).T)) / 2
    angles = np.degrees(np.arctan2((tr - tl)[:, 1] + (br - bl)[:, 1], (tr - tl)[:, 0] + (br - bl)[:, 0]))
    angle = _weighted_median(angles, length)
    cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    centre = points.mean(axis=1) - (width / 2, height / 2)
    u = centre[:, 0] * cos + centre[:, 1] * sin
    v = -centre[:, 0] * sin + centre[:, 1] * cos
    slope = np.tan(np.radians(np.clip(angles - angle, -MAX_TILT, MAX_TILT)))
    # Lines long enough to say how they slope (a short one's angle is its finder's guess).
    fit = length >= FIT_LENGTH * np.maximum(tall, 1.0)
    spread = FIT_SPREAD * float(np.median(tall))
    field = fit_field(u[fit], v[fit], slope[fit], length[fit], spread, FIT_LINES)
    level = field.level(u, v)
    return np.stack([u - length / 2, level - tall / 2, u + length / 2, level + tall / 2, tall], axis=1)


def upright_columns(boxes: np.ndarray) -> np.ndarray:
    """``boxes`` (x0, y0, x1, y1, height) sheared along x so the page's columns stand upright: on a page
    photographed at a slant the lines are levelled (:func:`level_boxes`), but the columns' edges still
    lean, and a gutter that leans by more than its width is no gap across the whole page. The lean is
    the median drift of the left ends of lines that start together (within a line height) one to
    :data:`COLUMN_REACH` line heights below another, as left-aligned lines of one column do; no shear
    with fewer than :data:`COLUMN_PAIRS` such pairs."""
    if len(boxes) < 2:
        return boxes
    typical = float(np.median(boxes[:, 4]))
    x0 = boxes[:, 0]
    y = (boxes[:, 1] + boxes[:, 3]) / 2
    dy = y[None, :] - y[:, None]
    dx = x0[None, :] - x0[:, None]
    together = (dy > 0.5 * typical) & (dy <= COLUMN_REACH * typical) & (np.abs(dx) <= typical)
    if int(together.sum()) < COLUMN_PAIRS:
        return boxes
    lean = float(np.clip(np.median(dx[together] / dy[together]), -MAX_LEAN, MAX_LEAN))
    shift = lean * (y - y.mean())
    sheared = boxes.copy()
    sheared[:, 0] -= shift
    sheared[:, 2] -= shift
    return sheared


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


class _Cutter:
    """Recursive XY-cut over boxes (x0, y0, x1, y1, height)."""

    def __init__(self, boxes: np.ndarray, lines: list[int]) -> None:
        self.x0, self.x1 = boxes[:, 0], boxes[:, 2]
        height = boxes[:, 4]
        self.y0, self.y1 = boxes[:, 1] + CORE * height, boxes[:, 3] - CORE * height
        self.height = height
        self.typical = float(np.median(height[lines]))
        self.gutter = GUTTER * self.typical

    def place(self, mark: int, ordered: list[int]) -> int:
        """Where ``mark`` goes in ``ordered``: after the nearest line on its left in its row, or before
        the nearest on its right (within :data:`MARK_REACH` line heights); else after the last line
        above it that it lies under (its column), else before the first line below it."""
        if not ordered:
            return 0
        ids = np.array(ordered)
        row = (self.y0[ids] < self.y1[mark]) & (self.y1[ids] > self.y0[mark])
        reach = MARK_REACH * self.typical
        left_gap = np.where(row & (self.x1[ids] <= self.x0[mark] + 1), self.x0[mark] - self.x1[ids], np.inf)
        right_gap = np.where(row & (self.x0[ids] >= self.x1[mark] - 1), self.x0[ids] - self.x1[mark], np.inf)
        if left_gap.min() <= min(reach, right_gap.min()):
            return int(np.argmin(left_gap)) + 1
        if right_gap.min() <= reach:
            return int(np.argmin(right_gap))
        under = (
            (self.x0[ids] < self.x1[mark]) & (self.x1[ids] > self.x0[mark]) & (self.y1[ids] <= self.y0[mark])
        )
        if under.any():
            return int(np.flatnonzero(under)[-1]) + 1
        below = self.y0[ids] >= self.y1[mark]
        return int(np.flatnonzero(below)[0]) if below.any() else len(ordered)

    def order(self, ids: list[int]) -> list[int]:
        ordered: list[int] = []
        while len(ids) > 1:
            rows = _split(ids, self.y0, self.y1, 0.0)
            if len(rows) == 1:
                columns = _split(ids, self.x0, self.x1, 0.0)
                if len(columns) == 1:
                    return ordered + sorted(ids, key=lambda index: (self.x0[index], self.y0[index]))
                return ordered + [index for column in columns for index in self.order(column)]
            bands: list[list[list[int]]] = [[rows[0]]]
            for row in rows[1:]:
                joined = [index for band_row in bands[-1] for index in band_row] + row
                if len(_split(joined, self.x0, self.x1, self.gutter)) > 1:
                    bands[-1].append(row)
                else:
                    bands.append([row])
            for number, band in enumerate(bands):
                if self._heading_on_top(band):
                    # The heading first; what is under it may make other bands without it.
                    ordered += self.order(band[0])
                    ids = [
                        index for later in [band[1:], *bands[number + 1 :]] for row in later for index in row
                    ]
                    break
                ordered += self._band(band)
            else:
                return ordered
        return ordered + ids

    def _heading_on_top(self, rows: list[list[int]]) -> bool:
        """Whether a band's top row stands alone in a column of its own (a title over a list or a form
        that is narrower than the title, so the title does not span their gutter)."""
        if len(rows) < 2:
            return False
        top = set(rows[0])
        ids = [index for row in rows for index in row]
        columns = _split(ids, self.x0, self.x1, self.gutter)
        return len(columns) > 1 and any(set(column) <= top for column in columns)

    def _band(self, rows: list[list[int]]) -> list[int]:
        ids = [index for row in rows for index in row]
        if len(rows) == 1:
            return self.order(ids)
        columns = _split(ids, self.x0, self.x1, self.gutter)
        if len(columns) > 1 and self._row_by_row(rows, columns):
            return [index for row in rows for index in self.order(row)]
        return [index for column in columns for index in self.order(column)]

    def _row_by_row(self, rows: list[list[int]], columns: list[list[int]]) -> bool:
        """Whether a band is read row by row: unless all its columns are prose, its short entries are
        labels and answers, table cells, dates or numbers beside their text, read across."""
        return not all(
            np.median(self.x1[column] - self.x0[column]) >= PROSE * np.median(self.height[column])
            for column in columns
        )


def _split(ids: list[int], low: np.ndarray, high: np.ndarray, gap: float) -> list[list[int]]:
    """``ids`` grouped where their intervals [low, high) leave a gap wider than ``gap``, in order."""
    order = sorted(ids, key=lambda index: low[index])
    groups: list[list[int]] = [[order[0]]]
    reach = high[order[0]]
    for index in order[1:]:
        if low[index] - reach > gap:
            groups.append([index])
        else:
            groups[-1].append(index)
        reach = max(reach, high[index])
    return groups
