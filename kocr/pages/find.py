"""The classical line finder: text lines on a page from connected components, no neural network.

The steps, each in its own module: the page downscaled and binarised (:mod:`~kocr.pages.binarize`),
its text measured (:mod:`~kocr.pages.measure`: components, rules taken out, pieces stacked into
syllables, text height, skew), syllables grouped into lines in the deskewed frame
(:mod:`~kocr.pages.grouping`). A first grouping measures the lines' height; when it differs much from
the syllables' estimate (handwriting, whose syllables fall apart into strokes), the syllables are
grouped again with it. Each line then gets its own angle, fitted to its syllables' centres (pages
photographed at a slant, handwriting), and its quad is the tightest rectangle at that angle around its
ink, padded by :data:`MARGIN_Y` / :data:`MARGIN_X` of its height (the recogniser learnt from crops with
such a margin), mapped to the original pixels and kept on the page.

A region's score says how much of a line it looks like: a third per syllable-sized box, up to 1 (a
lone mark is 1/3, so a caller can drop stray marks).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from kocr.pages.binarize import MAX_SIDE, AnalysisPage, analyse_page
from kocr.pages.components import Components
from kocr.pages.field import SlopeField, fit_field
from kocr.pages.grouping import FULL_SIZE, Boxes, group_lines, line_height
from kocr.pages.measure import PageText, Syllables, measure_text
from kocr.pages.separators import Separators, rule_ends, separator_ink
from kocr.pages.skew import neighbour_pairs, rotate_points
from kocr.pages.types import LineRegion, Quad

MARGIN_Y = 0.2  # of a line's height, above and below (kocr's line crops: 0.04–0.25)
MARGIN_X = 0.3  # of a line's height, left and right (kocr's line crops: 0.05–0.6)
REGROUP = 0.15  # lines this much taller or shorter than the first estimate: grouped again with theirs
MIN_LINE_FIT = 6.0  # a line at least this many heights long gets its own angle; shorter ones the page's
MAX_TURN = 10.0  # degrees a line's own angle may differ from the page's
FIELD_PAIRS = 40  # neighbouring syllables needed for the page's lines to slope by place
FIELD_SPREAD = 10.0  # text heights the pairs must spread over, along or across, to slope that way
SPECK_PARTS = 3  # a "line" of at most this many solid blobs,
SPECK_FILL = 0.6  # each filling this much of its box,
SPECK_WIDTH = 0.7  # text heights wide together at most, is a speck
MIN_LINE_WIDTH = 0.3  # of its height: narrower "lines" are bars (a box's side, a stray vertical stroke)


@dataclass(frozen=True)
class PageLayout:
    """What the finder saw on a page, in analysis pixels: the binarised page, its components (after
    rules were removed), the text height, the skew (degrees), each component's line (-1: none), and the
    lines found in original pixels with their angles; and the page's text as measured (``None``: none
    on it), from which :func:`kocr.pages.orientation.detect_rotation_from` tells which way the lines
    run without analysing the page again."""

    page: AnalysisPage
    components: Components
    text_height: float
    skew: float
    line: np.ndarray
    regions: list[LineRegion]
    angles: list[float]
    text: PageText | None = None


class ClassicalLineFinder:
    """Text lines by layout analysis (binarisation, components, grouping); CPU only, numpy and PIL.

    ``find`` takes the page as given (apply EXIF orientation before, and undo quarter turns with
    :mod:`kocr.pages.orientation`) and returns lines in no particular order
    (:func:`kocr.pages.order.reading_order` sorts them).
    """

    name = "classical"

    def __init__(self, max_side: int = MAX_SIDE, margin_y: float = MARGIN_Y, margin_x: float = MARGIN_X):
        self.max_side = max_side
        self.margin_y = margin_y
        self.margin_x = margin_x

    def find(self, image: Image.Image) -> list[LineRegion]:
        """The page's text lines, as quads in ``image``'s pixels."""
        return self.layout(image).regions

    def layout(self, image: Image.Image) -> PageLayout:
        """Everything the finder worked out about ``image`` (what :meth:`find` returns, and more)."""
        page = analyse_page(image, self.max_side)
        components, text = measure_text(page)
        line = np.full(components.count, -1, np.int64)
        if text is None:
            return PageLayout(page, components, 0.0, 0.0, line, [], [], None)
        syllables, text_height, skew = text.syllables, text.text_height, text.skew
        # Syllables turned into the deskewed frame, and each moved along its line to the page's middle
        # (the slope field: lines converge on a photographed page), where lines run level.
        u, v = rotate_points((syllables.x0 + syllables.x1) / 2, (syllables.y0 + syllables.y1) / 2, skew)
        middle_u, middle_v = rotate_points(np.array(page.size[0] / 2), np.array(page.size[1] / 2), skew)
        u, v = u - middle_u, v - middle_v
        field = text_field(syllables, u, v, text_height)
        level = field.level(u, v)
        half_w, half_h = syllables.width / 2, syllables.height / 2
        boxes = Boxes(u - half_w, level - half_h, u + half_w, level + half_h)
        separated = page_separators(page, text)
        grouped = group_lines(boxes, text_height, separated)
        measured = line_height(boxes, grouped)
        if measured is not None and abs(measured / text_height - 1) > REGROUP:
            text_height = min(max(measured, text_height / 2), text_height * 2)
            grouped = group_lines(boxes, text_height, separated)
        member = syllables.of_component >= 0
        line[member] = grouped[syllables.of_component[member]]
        local = _local_angles(grouped, u, v, field, skew)
        regions, angles, kept = self._quads(page, components, line, (syllables, grouped), text_height, local)
        renumber = np.full(int(line.max()) + 2, -1, np.int64)  # the last slot maps -1 to -1
        renumber[kept] = np.arange(len(kept))
        return PageLayout(page, components, text_height, skew, renumber[line], regions, angles, text)

    def _quads(
        self,
        page: AnalysisPage,
        components: Components,
        line: np.ndarray,
        syllables: tuple[Syllables, np.ndarray],
        text_height: float,
        local: np.ndarray,
    ) -> tuple[list[LineRegion], list[float], list[int]]:
        """Each line's region and angle, and which lines they are (bars too narrow to be text left out).
        ``line`` numbers the components, ``syllables`` has the syllables' boxes and their lines, ``local``
        the lines' angles where they are (the page's skew and slope field)."""
        count = int(line.max()) + 1 if line.size else 0
        if count == 0:
            return [], [], []
        angles = _line_angles(*syllables, count, text_height, local)
        u0, u1, v0, v1 = _extents(components, line, count, angles)
        full = np.zeros(count)
        np.add.at(full, line[line >= 0], components.height[line >= 0] >= FULL_SIZE * text_height)
        specks = _specks(components, line, count, text_height)
        width, height = page.size
        regions, kept_angles, kept = [], [], []
        for index in range(count):
            line_height = v1[index] - v0[index]
            if u1[index] - u0[index] < MIN_LINE_WIDTH * line_height or specks[index]:
                continue
            pad_y, pad_x = self.margin_y * line_height, self.margin_x * line_height
            quad = _corners(
                u0[index] - pad_x, u1[index] + pad_x, v0[index] - pad_y, v1[index] + pad_y, angles[index]
            )
            quad = _to_original(quad, page.scale_x, page.scale_y, width, height)
            score = float(min(1.0, max(1.0 / 3.0, full[index] / 3.0)))
            regions.append(LineRegion(quad, score))
            kept_angles.append(float(angles[index]))
            kept.append(index)
        return regions, kept_angles, kept


def page_separators(page: AnalysisPage, text: PageText) -> Separators | None:
    """What parts the page's rows (:mod:`~kocr.pages.separators`): its rules and what touches them,
    tested between the syllables' boxes; ``None`` on a page without rules."""
    syllables = text.syllables
    ink = separator_ink(text.rules, text.components, syllables.of_component >= 0)
    if ink is None:
        return None
    boxes = (syllables.x0, syllables.y0, syllables.x1, syllables.y1)
    return Separators(ink, rule_ends(ink, page.grey, text.text_height), boxes, text.text_height)


def _specks(components: Components, line: np.ndarray, count: int, text_height: float) -> np.ndarray:
    """Lines of at most :data:`SPECK_PARTS` solid blobs (filling most of their boxes) narrower than a
    syllable (:data:`SPECK_WIDTH` text heights together): the torn or shadowed edge of a photographed
    sheet, a scanner's streak, a stray dot. A syllable is wider, and is not solid."""
    member = np.flatnonzero(line >= 0)
    h, w = components.height[member], components.width[member]
    solid = components.area[member] >= SPECK_FILL * h * w
    parts = np.bincount(line[member], minlength=count)
    solids = np.bincount(line[member], weights=solid, minlength=count)
    x0, x1 = np.full(count, np.inf), np.full(count, -np.inf)
    np.minimum.at(x0, line[member], components.x0[member])
    np.maximum.at(x1, line[member], components.x1[member])
    return (parts <= SPECK_PARTS) & (solids == parts) & (x1 - x0 < SPECK_WIDTH * text_height)


def _extents(
    components: Components, line: np.ndarray, count: int, angles: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(u0, u1, v0, v1) per line: the tightest box around its ink in the frame at its own angle, from
    the corners of its runs (exact, where turning the components' boxes would overstate long ones)."""
    runs = components.runs
    run_line = line[components.label]
    inked = run_line >= 0
    run_line = run_line[inked]
    row = runs.row[inked].astype(np.float64)
    start, end = runs.start[inked].astype(np.float64), runs.end[inked].astype(np.float64)
    theta = np.radians(angles)[run_line]
    cos, sin = np.cos(theta), np.sin(theta)
    u0, u1 = np.full(count, np.inf), np.full(count, -np.inf)
    v0, v1 = np.full(count, np.inf), np.full(count, -np.inf)
    for x in (start, end):
        for y in (row, row + 1):
            u, v = x * cos + y * sin, -x * sin + y * cos
            np.minimum.at(u0, run_line, u)
            np.maximum.at(u1, run_line, u)
            np.minimum.at(v0, run_line, v)
            np.maximum.at(v1, run_line, v)
    return u0, u1, v0, v1


def text_field(syllables: Syllables, u: np.ndarray, v: np.ndarray, text_height: float) -> SlopeField:
    """The slope field of the text lines (:mod:`~kocr.pages.field`) from each syllable-sized
    syllable and its nearest neighbour on the right, at (u, v) in the deskewed frame."""
    h, w = syllables.height, syllables.width
    sized = np.flatnonzero((h >= 0.6 * text_height) & (h <= 1.5 * text_height) & (w <= 2 * text_height))
    half_w, half_h = w[sized] / 2, h[sized] / 2
    su, sv = u[sized], v[sized]
    left, right = neighbour_pairs(su - half_w, sv - half_h, su + half_w, sv + half_h, text_height)
    if left.size < FIELD_PAIRS:
        return SlopeField()
    slope = (sv[right] - sv[left]) / (su[right] - su[left])
    middle_u, middle_v = (su[left] + su[right]) / 2, (sv[left] + sv[right]) / 2
    return fit_field(middle_u, middle_v, slope, np.ones(left.size), FIELD_SPREAD * text_height, FIELD_PAIRS)


def _local_angles(
    line: np.ndarray, u: np.ndarray, v: np.ndarray, field: SlopeField, skew: float
) -> np.ndarray:
    """Each line's angle (degrees) where its syllables (numbered by ``line``, at (u, v)) are."""
    count = int(line.max()) + 1 if line.size and line.max() >= 0 else 0
    member = line >= 0
    n = np.maximum(np.bincount(line[member], minlength=count), 1)
    centre_u = np.bincount(line[member], u[member], count) / n
    centre_v = np.bincount(line[member], v[member], count) / n
    return skew + np.degrees(np.arctan(field.slope(centre_u, centre_v)))


def _line_angles(
    syllables: Syllables, line: np.ndarray, count: int, text_height: float, local: np.ndarray
) -> np.ndarray:
    """Each line's angle (degrees): a least-squares fit of its syllables' centres weighted by their
    widths, or its ``local`` angle (the page's, where it is) for lines shorter than
    :data:`MIN_LINE_FIT` text heights; never more than :data:`MAX_TURN` from the local angle."""
    angles = np.array(local[:count], dtype=np.float64)
    member = np.flatnonzero((line >= 0) & (syllables.height >= FULL_SIZE * text_height))
    order = member[np.argsort(line[member], kind="stable")]
    bounds = np.searchsorted(line[order], np.arange(count + 1))
    cx = (syllables.x0 + syllables.x1) / 2.0
    cy = (syllables.y0 + syllables.y1) / 2.0
    for index in range(count):
        parts = order[bounds[index] : bounds[index + 1]]
        if parts.size < 3:
            continue
        x, y = cx[parts], cy[parts]
        if x.max() - x.min() < MIN_LINE_FIT * text_height:
            continue
        weight = syllables.width[parts]
        mean_x, mean_y = np.average(x, weights=weight), np.average(y, weights=weight)
        dx = x - mean_x
        slope = float(np.sum(weight * dx * (y - mean_y)) / np.sum(weight * dx * dx))
        angle = math.degrees(math.atan(slope))
        angles[index] = min(max(angle, local[index] - MAX_TURN), local[index] + MAX_TURN)
    return angles


def _corners(u0: float, u1: float, v0: float, v1: float, angle: float) -> list[tuple[float, float]]:
    """The rectangle [u0, u1] × [v0, v1] of the frame at ``angle`` as page points TL, TR, BR, BL."""
    cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    return [(u * cos - v * sin, u * sin + v * cos) for u, v in ((u0, v0), (u1, v0), (u1, v1), (u0, v1))]


def _to_original(
    points: list[tuple[float, float]], scale_x: float, scale_y: float, width: int, height: int
) -> Quad:
    """Analysis points scaled to the original page and kept on it."""
    limit_x, limit_y = width * scale_x, height * scale_y
    scaled = [(min(max(x * scale_x, 0.0), limit_x), min(max(y * scale_y, 0.0), limit_y)) for x, y in points]
    return (scaled[0], scaled[1], scaled[2], scaled[3])
