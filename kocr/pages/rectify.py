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

import numpy as np
from PIL import Image

from kocr.data.images import to_mode
from kocr.data.line_normalize import analysis_channels
from kocr.pages.types import Point, quad_bounds

_KEPT_MODES = ("L", "RGB")
CROP_THREADS = 4  # threads cutting a page's lines, at most
CROPS_PER_THREAD = 8  # lines per thread at least (fewer: not worth starting threads)


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


def crop_lines(image: Image.Image, quads: Sequence[Sequence[Point]]) -> list[Image.Image]:
    """:func:`crop_line` of each quad on one page: the page converted once (not once per line), and
    the lines cut on a few threads (PIL lets go of the GIL while it resamples, and a page's crops cost
    about as much as finding its lines)."""
    if image.mode not in _KEPT_MODES:
        image = to_mode(image, analysis_channels(image.mode))
    workers = min(CROP_THREADS, os.cpu_count() or 1, len(quads) // CROPS_PER_THREAD)
    if workers < 2:
        return [crop_line(image, quad) for quad in quads]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda quad: crop_line(image, quad), quads))


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
