"""Pages turned by quarter turns: which way the text lines run, and how a reader settles the rest.

Rotations are clockwise turns of the page as given from upright (``PageResult.rotation``): a page at
90 was turned a quarter clockwise, and :func:`turn` undoes it.

Two questions, answered in two ways:

1. **Across or down** (0/180 against 90/270) is classical (:func:`detect_rotation`): Hangul syllables
   are about square, so their shapes say nothing, but their spacing does. Syllables in a line sit
   closer to each other than to the lines above and below, so for each syllable (pieces stacked, rules
   taken out: :mod:`~kocr.pages.measure`) the nearest neighbour is beside it on a page whose lines run
   across, and above or below it on a page turned a quarter.
2. **Which way up** (0 against 180) needs the content. There is a weak classical cue, used only to say
   which to try first (:func:`orientation_candidates`): left edges of lines line up (paragraphs,
   ragged right) more often than right edges. What settles it is reading a few lines both ways with the
   recogniser and keeping the more confident way (:func:`choose_orientation`). The lines need not be
   found twice: a page turned 180 has the same lines with their corners read from the other end
   (:func:`flip_quad`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from PIL import Image

from kocr.pages.binarize import analyse_page
from kocr.pages.find import ClassicalLineFinder, PageLayout
from kocr.pages.measure import PageText, measure_text
from kocr.pages.order import deskewed_boxes
from kocr.pages.pairs import overlapping_pairs
from kocr.pages.rectify import crop_line, quad_size
from kocr.pages.types import LineRegion, Point, Quad

ROTATIONS = (0, 90, 180, 270)
SURE = 0.3  # detect_rotation's confidence below which all four turns are candidates
ALIGNED = 0.5  # line heights: edges this close line up
SAMPLE_LINES = 4  # lines read each way by choose_orientation
_TRANSPOSE = {
    90: Image.Transpose.ROTATE_90,  # PIL turns counter-clockwise: undoes a clockwise quarter turn
    180: Image.Transpose.ROTATE_180,
    270: Image.Transpose.ROTATE_270,
}

ReadConfidence = Callable[[list[Image.Image]], Sequence[float]]
"""Reads line images and returns one confidence (0–1) per image, e.g.
``lambda lines: [p.confidence for p in recognizer.predict(lines)]``."""


def detect_rotation(image: Image.Image) -> tuple[int, float]:
    """(0, sure) when the page's lines run across (upright or upside down), (90, sure) when they run
    down (turned a quarter either way); ``sure`` from 0 (no idea, e.g. a blank page) to 1."""
    _, text = measure_text(analyse_page(image))
    return rotation_from_text(text)


def detect_rotation_from(layout: PageLayout) -> tuple[int, float]:
    """:func:`detect_rotation` of the page the classical finder laid out (``finder.layout(image)``),
    without binarising and measuring it again: a page whose lines run across is analysed once."""
    return rotation_from_text(layout.text)


def rotation_from_text(text: PageText | None) -> tuple[int, float]:
    """:func:`detect_rotation` from a page's measured text (:func:`kocr.pages.measure.measure_text`)."""
    if text is None:
        return 0, 0.0
    syllables = text.syllables
    beside, above = _nearest_neighbours(
        syllables.x0, syllables.y0, syllables.x1, syllables.y1, text.text_height
    )
    total = beside + above
    if total == 0:
        return 0, 0.0
    sure = abs(beside - above) / total
    return (0, sure) if beside >= above else (90, sure)


def turn(image: Image.Image, rotation: int) -> Image.Image:
    """``image`` with a clockwise turn of ``rotation`` degrees undone (0, 90, 180 or 270)."""
    _check(rotation)
    return image if rotation == 0 else image.transpose(_TRANSPOSE[rotation])


def quad_to_original(quad: Sequence[Point], rotation: int, upright_size: tuple[int, int]) -> Quad:
    """A quad found on the upright page (``turn(image, rotation)``, of ``upright_size``) in the pixels
    of the page as given. Corners keep their meaning: the first is still the text's top left."""
    _check(rotation)
    width, height = upright_size

    def back(point: Point) -> Point:
        x, y = point
        if rotation == 90:
            return (height - y, x)
        if rotation == 180:
            return (width - x, height - y)
        if rotation == 270:
            return (y, width - x)
        return (x, y)

    a, b, c, d = (back(point) for point in quad)
    return (a, b, c, d)


def flip_quad(quad: Sequence[Point]) -> Quad:
    """The same line read upside down: its corners from the other end (what the line's quad is on the
    page turned 180 degrees)."""
    tl, tr, br, bl = quad
    return (br, bl, tl, tr)


def orientation_candidates(image: Image.Image, finder: ClassicalLineFinder | None = None) -> list[int]:
    """The turns worth trying for ``image``, most likely first: ``[0, 180]`` or ``[90, 270]`` (ordered
    by which way the line edges line up), or all four when the direction is unsure."""
    rotation, sure = detect_rotation(image)
    if sure < SURE:
        return [0, 90, 180, 270]
    finder = finder or ClassicalLineFinder()
    upright = turn(image, rotation)
    cue = alignment_cue(finder.find(upright), *upright.size)
    return [rotation, rotation + 180] if cue >= 0 else [rotation + 180, rotation]


def alignment_cue(regions: Sequence[LineRegion], width: int, height: int) -> float:
    """Positive when more of the lines' left edges line up than their right edges (an upright page of
    left-aligned, ragged-right text, paragraph ends), negative when the right edges do (the page
    upside down), from -1 to 1; 0 without lines or a difference (justified or centred text)."""
    if len(regions) < 3:
        return 0.0
    boxes = deskewed_boxes(regions, width, height)
    tolerance = ALIGNED * float(np.median(boxes[:, 4]))
    left = _lined_up(boxes[:, 0], tolerance)
    right = _lined_up(boxes[:, 2], tolerance)
    return (left - right) / len(regions)


def choose_orientation(
    image: Image.Image,
    read: ReadConfidence,
    finder: ClassicalLineFinder | None = None,
    lines: int = SAMPLE_LINES,
) -> tuple[int, float]:
    """The page's rotation (0, 90, 180 or 270) and the mean confidence of its sample lines read that
    way up: the direction from :func:`detect_rotation` (both directions when unsure), then the longest
    ``lines`` lines of each read as found and turned over (``read``), the more confident way winning."""
    finder = finder or ClassicalLineFinder()
    rotation, sure = detect_rotation(image)
    directions = [rotation] if sure >= SURE else [0, 90]
    best = (0, -1.0)
    for direction in directions:
        upright = turn(image, direction)
        sample = longest_lines(finder.find(upright), lines)
        if not sample:
            continue
        as_found = read([crop_line(upright, region.quad) for region in sample])
        turned = read([crop_line(upright, flip_quad(region.quad)) for region in sample])
        for candidate, scores in ((direction, as_found), (direction + 180, turned)):
            mean = float(np.mean(scores))
            if mean > best[1]:
                best = (candidate, mean)
    return best if best[1] >= 0 else (0, 0.0)


def longest_lines(regions: Sequence[LineRegion], count: int = SAMPLE_LINES) -> list[LineRegion]:
    """The ``count`` longest lines: the most text to judge a way up by."""
    return sorted(regions, key=lambda region: -quad_size(region.quad)[0])[:count]


def _check(rotation: int) -> None:
    if rotation not in ROTATIONS:
        raise ValueError(f"rotation must be one of {ROTATIONS}, not {rotation}")


def _lined_up(edges: np.ndarray, tolerance: float) -> int:
    """The most edges that fall within ``tolerance`` of each other (the biggest cluster)."""
    ordered = np.sort(edges)
    reach = np.searchsorted(ordered, ordered + tolerance, side="right")
    return int((reach - np.arange(ordered.size)).max())


def _nearest_neighbours(
    x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray, text_height: float
) -> tuple[int, int]:
    """Of the syllable-sized boxes, (those whose nearest neighbour is beside them, those whose nearest
    is above or below)."""
    h, w = y1 - y0, x1 - x0
    sized = (
        (h >= 0.6 * text_height)
        & (h <= 1.6 * text_height)
        & (w >= 0.6 * text_height)
        & (w <= 1.6 * text_height)
    )
    if int(sized.sum()) < 3:
        return 0, 0
    x0, y0, x1, y1 = x0[sized], y0[sized], x1[sized], y1[sized]
    across = _gap_to_nearest(y0, y1, x0, x1)  # neighbours sharing rows: the gap along x
    down = _gap_to_nearest(x0, x1, y0, y1)
    beside = int(np.count_nonzero(across < down))
    above = int(np.count_nonzero(down < across))
    return beside, above


def _gap_to_nearest(low: np.ndarray, high: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """For each box, the smallest gap along the other axis (``start``/``end``) to a box overlapping it
    by at least half along this axis (``low``/``high``); infinity without one."""
    nearest = np.full(low.size, np.inf)
    for a, b in overlapping_pairs(low, high, 0.0):
        overlap = np.minimum(high[a], high[b]) - np.maximum(low[a], low[b])
        shared = overlap >= 0.5 * np.minimum(high[a] - low[a], high[b] - low[b])
        a, b = a[shared], b[shared]
        gap = np.maximum(np.maximum(start[b] - end[a], start[a] - end[b]), 0.0)
        np.minimum.at(nearest, a, gap)
        np.minimum.at(nearest, b, gap)
    return nearest
