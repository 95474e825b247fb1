"""A found line cut out of the page and straightened: the quad mapped onto an upright rectangle.

Why PIL's ``QUAD`` transform: it maps the rectangle's pixels back to the quad bilinearly, so a slanted
line (a skewed scan) and a keystoned one (a photo at an angle) come out level in one resampling, from
the original full-resolution page. An axis-aligned quad on whole pixels samples the page at exactly its
pixel centres, so it gives the plain crop, pixel for pixel.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from PIL import Image

from kocr.data.images import to_mode
from kocr.data.line_normalize import analysis_channels
from kocr.pages.components import connected_components, grown, run_pixels, under_runs
from kocr.pages.grids import without_grid
from kocr.pages.shading import even_shading
from kocr.pages.types import Point, quad_bounds

_KEPT_MODES = ("L", "RGB")
CROP_THREADS = 4  # threads cutting a page's lines, at most
CROPS_PER_THREAD = 8  # lines per thread at least (fewer: not worth starting threads)
RULE_BIT, INK_BIT = 128, 64  # rules and other ink in one mask image
CONTACT = 0.1  # share of a rule's pixels next to other ink above which it stays in a crop


def quad_size(quad: Sequence[Point]) -> tuple[float, float]:
    """(length, height) of a quad: its top and bottom edges averaged, its left and right edges averaged."""
    tl, tr, br, bl = quad
    length = (math.dist(tl, tr) + math.dist(bl, br)) / 2
    height = (math.dist(tl, bl) + math.dist(tr, br)) / 2
    return length, height


def quad_angle(quad: Sequence[Point]) -> float:
    """The angle of a quad's top edge in degrees (positive: falling to the right, y down)."""
    (x0, y0), (x1, y1) = quad[0], quad[1]
    return math.degrees(math.atan2(y1 - y0, x1 - x0)) if (x1, y1) != (x0, y0) else 0.0


@dataclass(frozen=True)
class RuleMask:
    """Where a page's rules are, and its other ink: pixels of a copy of the page ``scale_x`` ×
    ``scale_y`` times smaller (the line finder's analysis copy)."""

    pixels: np.ndarray  # bool: rules
    ink: np.ndarray  # bool: ink that is not rules
    scale_x: float
    scale_y: float


def crop_lines(
    image: Image.Image, quads: Sequence[Sequence[Point]], rules: RuleMask | None = None
) -> list[Image.Image]:
    """:func:`crop_line` of each quad on one page, its lighting evened along the line
    (:func:`kocr.pages.shading.even_shading`) and a grid across it taken out
    (:func:`kocr.pages.grids.without_grid`): the page converted once (not once per line), and
    the lines cut on a few threads (PIL lets go of the GIL while it resamples, and a page's crops cost
    about as much as finding its lines). With ``rules``, the rules in each crop are painted over
    (:func:`erase_rules`), but for those text sits on (more than :data:`CONTACT` of them touching other
    ink)."""
    if image.mode not in _KEPT_MODES:
        image = to_mode(image, analysis_channels(image.mode))
    masks = None
    if rules is not None:
        # Rules and ink side by side in one image, cut out together.
        both = (rules.pixels.astype(np.uint8) * RULE_BIT) | (rules.ink.astype(np.uint8) * INK_BIT)
        masks = Image.fromarray(both)

    def cut(quad: Sequence[Point]) -> Image.Image:
        line = without_grid(even_shading(crop_line(image, quad)))
        if masks is None or rules is None:
            return line
        tl, tr, br, bl = [(x / rules.scale_x, y / rules.scale_y) for x, y in quad]
        where = np.asarray(
            masks.transform(line.size, Image.Transform.QUAD, (*tl, *bl, *br, *tr), Image.Resampling.NEAREST)
        )
        rule, ink = where & RULE_BIT > 0, where & INK_BIT > 0
        return erase_rules(line, grown(_apart(rule, ink)) & ~ink)  # with the rules' anti-aliased edges

    workers = min(CROP_THREADS, os.cpu_count() or 1, len(quads) // CROPS_PER_THREAD)
    if workers < 2:
        return [cut(quad) for quad in quads]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(cut, quads))


def _apart(rules: np.ndarray, ink: np.ndarray) -> np.ndarray:
    """The pieces of ``rules`` (8-connected) that touch ``ink`` along at most :data:`CONTACT` of their
    pixels: a table's borders and an underline clear of the text (or touched by a descender) go, a
    notebook's rule under handwriting (touched all along; strokes lying along it were taken for part
    of it) stays whole."""
    if not rules.any():
        return rules
    pieces = connected_components(rules)
    runs = pieces.runs
    # Pixels of each run next to ink.
    touching = np.zeros(pieces.count)
    np.add.at(touching, pieces.label, under_runs(runs, grown(ink)))
    kept = touching > CONTACT * pieces.area
    keep = np.zeros(rules.size, dtype=bool)
    keep[run_pixels(runs.subset(kept[pieces.label]), rules.shape[1])] = True
    return rules & ~keep.reshape(rules.shape)


def erase_rules(line: Image.Image, rules: np.ndarray) -> Image.Image:
    """A line crop with its ``rules`` pixels (a mask of its size) painted the colour of the paper beside
    them: each from the nearest pixel off the rule across it (above or below a rule along the line,
    left or right of one across it), the lighter of the two sides. (:func:`crop_lines` leaves the
    rules that touch other ink: handwriting sits on a notebook's rules, and where a stroke lies along
    a rule it was taken for part of it.)

    Why: a table's borders and a form's underlines run along the top and bottom of a line's crop, and
    notebook rules under handwriting; kocr's models never saw them, and read a bordered crop far worse
    (a synthetic form's answer cell: "브러트의 모습니무..." with its borders, the text without)."""
    if not rules.any():
        return line
    pixels = np.asarray(line)
    grey = pixels if pixels.ndim == 2 else pixels.astype(np.int32).sum(axis=2)
    filled = pixels.copy()
    # Off-rule pixels nearest along each axis, both ways, and how long the rule's run is across it.
    sources = []
    for axis in (0, 1):
        size = rules.shape[axis]
        index = np.arange(size).reshape((-1, 1) if axis == 0 else (1, -1))
        off = np.where(~rules, index, -1)
        before = np.maximum.accumulate(off, axis=axis)
        on = np.where(~rules, index, size)
        after = np.flip(np.minimum.accumulate(np.flip(on, axis=axis), axis=axis), axis=axis)
        sources.append((before, after, after - before))
    (up, down, tall), (left, right, wide) = sources
    rows, columns = np.nonzero(rules)
    across_rows = tall[rows, columns] <= wide[rows, columns]  # a rule along the line: fill from above/below
    first = np.where(across_rows, up[rows, columns], left[rows, columns])
    second = np.where(across_rows, down[rows, columns], right[rows, columns])
    limit = np.where(across_rows, rules.shape[0], rules.shape[1])
    candidates = []
    for source in (first, second):
        valid = (source >= 0) & (source < limit)
        source = np.clip(source, 0, limit - 1)
        r = np.where(across_rows, source, rows)
        c = np.where(across_rows, columns, source)
        candidates.append((valid, r, c))
    (valid_a, ra, ca), (valid_b, rb, cb) = candidates
    lighter_a = np.where(valid_b, grey[ra, ca] >= grey[rb, cb], True)
    use_a = valid_a & lighter_a
    use_b = valid_b & ~use_a
    filled[rows[use_a], columns[use_a]] = pixels[ra[use_a], ca[use_a]]
    filled[rows[use_b], columns[use_b]] = pixels[rb[use_b], cb[use_b]]
    return Image.fromarray(filled)


def crop_line(image: Image.Image, quad: Sequence[Point], height: int | None = None) -> Image.Image:
    """The line inside ``quad`` (corners TL, TR, BR, BL in ``image``'s pixels) as an upright image
    ``height`` pixels tall (default: the quad's own height), its width in proportion.

    ``image`` is the original page; modes other than ``L`` and ``RGB`` are converted first (alpha on
    white). Parts of the quad beyond the page are filled with the paper's colour (the median of the
    quad's own pixels on the page)."""
    if image.mode not in _KEPT_MODES:
        image = to_mode(image, analysis_channels(image.mode))
    length, own_height = quad_size(quad)
    if length < 1 or own_height < 1:
        raise ValueError(
            f"a line's quad must be at least a pixel each way, not {length:.1f}×{own_height:.1f}"
        )
    size = (max(1, round(length)), max(1, round(own_height)))
    tl, tr, br, bl = quad
    data = (*tl, *bl, *br, *tr)  # PIL wants upper left, lower left, lower right, upper right
    fill = _paper(image, quad) if _beyond(image, quad) else None
    line = image.transform(size, Image.Transform.QUAD, data, Image.Resampling.BICUBIC, fillcolor=fill)
    if height is None or height == line.height:
        return line
    width = max(1, round(line.width * height / line.height))
    return line.resize((width, height), Image.Resampling.BICUBIC, reducing_gap=2.0)


def _beyond(image: Image.Image, quad: Sequence[Point]) -> bool:
    left, top, right, bottom = quad_bounds(quad)
    return left < 0 or top < 0 or right > image.width or bottom > image.height


def _paper(image: Image.Image, quad: Sequence[Point]) -> int | tuple[int, ...]:
    """The median colour of the page under a quad's box (sampled), for filling what lies beyond it."""
    left, top, right, bottom = quad_bounds(quad)
    box = (
        max(0, math.floor(left)),
        max(0, math.floor(top)),
        min(image.width, math.ceil(right)),
        min(image.height, math.ceil(bottom)),
    )
    if box[2] <= box[0] or box[3] <= box[1]:
        return 255 if image.mode == "L" else (255, 255, 255)
    patch = image.crop(box)
    patch.thumbnail((64, 64))
    pixels = np.asarray(patch).reshape(-1, len(patch.getbands()))
    median = np.median(pixels, axis=0).round().astype(int)
    return int(median[0]) if image.mode == "L" else tuple(int(v) for v in median)
