"""The classical line finder: text lines on a page from connected components, no neural network.

The steps, each in its own module: the page downscaled and binarised (:mod:`~kocr.pages.binarize`),
components labelled (:mod:`~kocr.pages.components`), the text height read off their heights, the skew
off their centres (:mod:`~kocr.pages.skew`), rules removed (:mod:`~kocr.pages.rules`), components
grouped into lines in the deskewed frame (:mod:`~kocr.pages.grouping`). Each line then gets its own
angle, fitted to its syllables' centres (pages photographed at a slant, handwriting), and its quad is
the tightest rectangle at that angle around its ink, padded by :data:`MARGIN_Y` / :data:`MARGIN_X` of
its height (the recogniser learnt from crops with such a margin), mapped to the original pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from kocr.pages.binarize import MAX_SIDE, AnalysisPage, analyse_page
from kocr.pages.components import Components, connected_components
from kocr.pages.grouping import FULL_SIZE, Boxes, group_lines, line_height
from kocr.pages.rules import RULE_LENGTH, RULE_THICKNESS, remove_rules
from kocr.pages.skew import MAX_SKEW, MIN_POINTS, estimate_skew, neighbour_angle, rotate_points
from kocr.pages.syllables import stack_pieces, syllable_boxes
from kocr.pages.types import LineRegion, Quad

MARGIN_Y = 0.2  # of a line's height, above and below (kocr's line crops: 0.04–0.25)
MARGIN_X = 0.3  # of a line's height, left and right (kocr's line crops: 0.05–0.6)
HEIGHT_QUANTILE = 80  # the text height: this percentile of the syllables' heights
SOLID = 0.75  # a thick component filling this share of its box is a blob, not a glyph
MAX_HEIGHT = 6.0  # text heights: taller components are pictures, frames or drop shadows, not text
REGROUP = 0.15  # lines this much taller or shorter than the first estimate: grouped again with theirs
MIN_LINE_FIT = 6.0  # a line at least this many heights long gets its own angle; shorter ones the page's
MAX_TURN = 10.0  # degrees a line's own angle may differ from the page's
MAX_RULE_POINTS = 20_000  # points sampled along rules to measure their angle
MIN_LINE_WIDTH = 0.3  # of its height: narrower "lines" are bars (a box's side, a stray vertical stroke)


@dataclass(frozen=True)
class PageLayout:
    """What the finder saw on a page, in analysis pixels: the binarised page, its components (after
    rules were removed), the text height, the skew (degrees), each component's line (-1: none), and the
    lines found in original pixels with their angles."""

    page: AnalysisPage
    components: Components
    text_height: float
    skew: float
    line: np.ndarray
    regions: list[LineRegion]
    angles: list[float]


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
        components, text_height, skew = _clean(page)
        line = np.full(components.count, -1, np.int64)
        if text_height is None:
            return PageLayout(page, components, 0.0, 0.0, line, [], [])
        candidates = np.flatnonzero(_text_like(components, text_height))
        x0, y0 = components.x0[candidates].astype(np.float64), components.y0[candidates].astype(np.float64)
        x1, y1 = components.x1[candidates].astype(np.float64), components.y1[candidates].astype(np.float64)
        u, v = rotate_points((x0 + x1) / 2, (y0 + y1) / 2, skew)
        half_w, half_h = (x1 - x0) / 2, (y1 - y0) / 2
        deskewed = (u - half_w, v - half_h, u + half_w, v + half_h)
        syllable = stack_pieces(*deskewed)
        boxes = Boxes(*syllable_boxes(syllable, *deskewed))
        grouped = group_lines(boxes, text_height)
        measured = line_height(boxes, grouped)
        if measured is not None and abs(measured / text_height - 1) > REGROUP:
            text_height = min(max(measured, text_height / 2), text_height * 2)
            grouped = group_lines(boxes, text_height)
        line[candidates] = grouped[syllable]
        syllables = Boxes(*syllable_boxes(syllable, x0, y0, x1, y1))
        regions, angles, kept = self._quads(page, components, line, (syllables, grouped), text_height, skew)
        renumber = np.full(int(line.max()) + 2, -1, np.int64)  # the last slot maps -1 to -1
        renumber[kept] = np.arange(len(kept))
        return PageLayout(page, components, text_height, skew, renumber[line], regions, angles)

    def _quads(
        self,
        page: AnalysisPage,
        components: Components,
        line: np.ndarray,
        syllables: tuple[Boxes, np.ndarray],
        text_height: float,
        skew: float,
    ) -> tuple[list[LineRegion], list[float], list[int]]:
        """Each line's region and angle, and which lines they are (bars too narrow to be text left out).
        ``line`` numbers the components, ``syllables`` has the syllables' boxes and their lines."""
        count = int(line.max()) + 1 if line.size else 0
        if count == 0:
            return [], [], []
        angles = _line_angles(*syllables, count, text_height, skew)
        u0, u1, v0, v1 = _extents(components, line, count, angles)
        full = np.zeros(count)
        np.add.at(full, line[line >= 0], components.height[line >= 0] >= FULL_SIZE * text_height)
        width, height = page.size
        regions, kept_angles, kept = [], [], []
        for index in range(count):
            line_height = v1[index] - v0[index]
            if u1[index] - u0[index] < MIN_LINE_WIDTH * line_height:
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


def _clean(page: AnalysisPage) -> tuple[Components, float | None, float]:
    """The page's components after rules are taken out, its text height (``None``: no text) and skew.

    The skew comes from the rules when the page has some, else from the text; the rules are measured
    along it, and the text height and (text) skew measured again without them."""
    components = connected_components(page.mask)
    text_height = estimate_text_height(components, *page.size)
    if text_height is None:
        return components, None, 0.0
    rule_skew = _rule_skew(components, text_height)
    skew = rule_skew if rule_skew is not None else _text_skew(components, text_height)
    cleaned = _without_rules(page.mask, components, text_height, skew)
    if cleaned is None:
        return components, text_height, skew
    components = connected_components(cleaned)
    text_height = estimate_text_height(components, *page.size)
    if text_height is None:
        return components, None, 0.0
    return (
        components,
        text_height,
        rule_skew if rule_skew is not None else _text_skew(components, text_height),
    )


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


def estimate_text_height(components: Components, width: int, height: int) -> float | None:
    """The typical height of a text line, in analysis pixels, or ``None`` when nothing looks like text:
    a high percentile of the heights of the syllables (pieces stacked back together), so punctuation
    and the odd loose piece do not pull it down."""
    h, w = components.height, components.width
    plausible = (components.area >= 3) & (h <= height / 3) & (w <= width / 2)
    if int(plausible.sum()) < 2:
        return None
    boxes = [getattr(components, name)[plausible].astype(np.float64) for name in ("x0", "y0", "x1", "y1")]
    x0, y0, x1, y1 = syllable_boxes(stack_pieces(*boxes), *boxes)
    sh, sw = y1 - y0, x1 - x0
    syllable = (sh >= 4) & (sw >= 2) & (sh <= 8 * sw)  # not a speck, not a thin vertical bar
    if int(syllable.sum()) < 2:
        return None
    return float(np.percentile(sh[syllable], HEIGHT_QUANTILE))


def _text_like(components: Components, text_height: float) -> np.ndarray:
    """Components that may be text: not specks, not pictures, not leftovers of rules."""
    h, w, area = components.height, components.width, components.area
    speck = (area < max(3.0, 0.012 * text_height**2)) | (np.maximum(h, w) < 2)
    huge = h > MAX_HEIGHT * text_height
    rule_piece = (w >= 0.8 * RULE_LENGTH * text_height) & (h <= RULE_THICKNESS * text_height * 1.2)
    # Filled blobs as big as a syllable (a picture's texture, a bullet); strokes like ㅣ are thin, and
    # in text a few pixels tall every piece is a blob.
    solid = (area >= SOLID * w * h) & (np.minimum(w, h) >= 0.6 * text_height) & (text_height >= 12)
    return ~(speck | huge | rule_piece | solid)


def _rule_skew(components: Components, text_height: float) -> float | None:
    """The angle of the page's rules, or ``None`` without rules: long straight runs give the skew far
    more precisely than text does."""
    runs = components.runs
    width, height = components.width, components.height
    # A rule (an underline, with text touching it or not) is long and flat; a table's grid is wide; a
    # big heading's syllable is neither.
    ruled = (width >= RULE_LENGTH * text_height) & (width >= 4 * height)
    ruled |= width >= 2 * RULE_LENGTH * text_height
    long = ruled[components.label] & (runs.end - runs.start >= max(4.0, text_height / 2))
    lengths = (runs.end - runs.start)[long].astype(np.int64)
    if int(lengths.sum()) < 2 * RULE_LENGTH * text_height:
        return None
    step = max(1, int(lengths.sum()) // MAX_RULE_POINTS + 1)  # points every `step` pixels along runs
    counts = (lengths + step - 1) // step
    offsets = (np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)) * step
    x = np.repeat(runs.start[long], counts) + offsets + 0.5
    y = np.repeat(runs.row[long], counts) + 0.5
    return estimate_skew(x.astype(np.float64), y.astype(np.float64), 2.0)


def _text_skew(components: Components, text_height: float) -> float:
    """The page's skew from the centres of its syllables (pieces stacked back together): the angle
    neighbours make (level when it is within two standard errors of level), made precise by
    projection near it when there are enough syllables."""
    keep = _text_like(components, text_height)
    boxes = [getattr(components, name)[keep].astype(np.float64) for name in ("x0", "y0", "x1", "y1")]
    x0, y0, x1, y1 = syllable_boxes(stack_pieces(*boxes), *boxes)
    h = y1 - y0
    syllable = (h >= 0.6 * text_height) & (h <= 1.5 * text_height) & (x1 - x0 <= 2 * text_height)
    x0, y0, x1, y1 = x0[syllable], y0[syllable], x1[syllable], y1[syllable]
    neighbours = neighbour_angle(x0, y0, x1, y1, text_height)
    if neighbours is None:
        return 0.0
    angle, error = neighbours
    if abs(angle) < 2 * error:  # not told apart from level: a sparse page, or a level one
        angle = 0.0
    if x0.size < MIN_POINTS:
        return angle
    span = min(max(1.0, 3 * error), MAX_SKEW)
    return estimate_skew((x0 + x1) / 2, (y0 + y1) / 2, text_height / 4, around=angle, span=span)


def _without_rules(
    mask: np.ndarray, components: Components, text_height: float, skew: float
) -> np.ndarray | None:
    """The mask with rules removed, or ``None`` when no component is long enough to hold one."""
    length = RULE_LENGTH * text_height
    if not bool(((components.width >= length) | (components.height >= length)).any()):
        return None
    cleaned = remove_rules(mask, text_height, skew)
    return None if cleaned is mask else cleaned


def _line_angles(
    syllables: Boxes, line: np.ndarray, count: int, text_height: float, skew: float
) -> np.ndarray:
    """Each line's angle (degrees): a least-squares fit of its syllables' centres weighted by their
    widths, or the page's skew for lines shorter than :data:`MIN_LINE_FIT` text heights."""
    angles = np.full(count, skew)
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
        angles[index] = min(max(angle, skew - MAX_TURN), skew + MAX_TURN)
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
