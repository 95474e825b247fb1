"""What kocr's line detector learns to draw: each line's *kernel*, its box shrunk on every side by a share
of its height (:class:`kocr.pages.dbnet.DetectorConfig.shrink`), filled into a map at the network's
output resolution. Lines set close together keep a clear gap between their kernels, which is what lets
one connected component of the map be one line; the finder grows each kernel back (unclip)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

from kocr.pages.types import Quad


def quad_frame(quad: Quad | np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float]:
    """A line quad's unit direction along the text, unit normal (down the page), length and height
    (the means of its opposite sides)."""
    tl, tr, br, bl = np.asarray(quad, dtype=np.float64)
    along = (tr - tl) + (br - bl)
    across = (bl - tl) + (br - tr)
    length, height = float(np.linalg.norm(along)) / 2, float(np.linalg.norm(across)) / 2
    u = along / max(1e-9, 2 * length)
    n = np.array([-u[1], u[0]])
    return u, n, length, height


def kernel_quad(quad: Quad | np.ndarray, shrink: float) -> np.ndarray:
    """(4, 2) corners of ``quad`` with its top and bottom moved in by ``shrink`` × its height, and its
    ends by as much (at most a quarter of its length each, so a short word keeps a kernel)."""
    corners = np.asarray(quad, dtype=np.float64)
    u, n, length, height = quad_frame(corners)
    d = shrink * height
    e = min(d, length / 4)
    return corners + np.array([e * u + d * n, -e * u + d * n, -e * u - d * n, e * u - d * n])


def kernel_map(
    quads: Sequence[Quad | np.ndarray], size: tuple[int, int], scale: float, shrink: float
) -> np.ndarray:
    """(H, W) float32 map of ``size`` (W, H) with 1 inside every line's kernel, the quads given in
    page pixels and ``scale`` the factor from page pixels to map pixels."""
    canvas = Image.new("L", size, 0)
    draw = ImageDraw.Draw(canvas)
    for quad in quads:
        corners = kernel_quad(quad, shrink) * scale
        # Map pixel (r, c) covers [c, c + 1) x [r, r + 1); PIL fills around pixel centres.
        draw.polygon([(float(x) - 0.5, float(y) - 0.5) for x, y in corners], fill=1)
    return np.asarray(canvas, dtype=np.float32)
