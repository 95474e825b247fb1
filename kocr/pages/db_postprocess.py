"""DBNet post-processing in numpy: a text probability map → rotated rectangles around its text regions.

Apart from any one model so that PP-OCR's detector and a DBNet-style detector of kocr's own can share
it. The steps are PP-OCR's (threshold, one region per connected component, its minimum-area rectangle,
the mean probability inside as its score, "unclip" to undo the shrinking the model was trained with),
done without OpenCV, shapely or pyclipper.

Coordinates are continuous with pixel edges on the integers: map pixel (row r, column c) covers
[c, c + 1) × [r, r + 1) and its centre is (c + 0.5, r + 0.5), so scaling a rectangle by the page's size
over the map's size lands it on the page.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kocr.pages.pairs import ragged_arange


@dataclass(frozen=True)
class RotatedRect:
    """A rectangle by its centre, the unit vector along its length (``direction``, pointing right on
    the page), its length along ``direction`` and its height across it."""

    center: tuple[float, float]
    direction: tuple[float, float]
    width: float
    height: float

    def corners(self) -> np.ndarray:
        """(4, 2) corners: top left, top right, bottom right, bottom left of text running along
        ``direction`` (clockwise on screen, where y points down)."""
        c = np.asarray(self.center)
        u = np.asarray(self.direction)
        n = np.array([-u[1], u[0]])  # u turned 90° clockwise on screen: "down" for the text
        du, dn = u * self.width / 2, n * self.height / 2
        return np.stack([c - du - dn, c + du - dn, c + du + dn, c - du + dn])

    def grown(self, distance: float) -> RotatedRect:
        """The rectangle with every side moved ``distance`` outwards."""
        return RotatedRect(self.center, self.direction, self.width + 2 * distance, self.height + 2 * distance)


def unclip(rect: RotatedRect, ratio: float) -> RotatedRect:
    """PP-OCR's unclip: grow by area × ratio / perimeter. (PP-OCR offsets the polygon with round joins
    and takes the minimum-area rectangle of that; for a rectangle this is the same rectangle.)"""
    perimeter = 2 * (rect.width + rect.height)
    if perimeter <= 0:
        return rect
    return rect.grown(rect.width * rect.height * ratio / perimeter)


def dilate_2x2(mask: np.ndarray) -> np.ndarray:
    """A boolean mask dilated by a 2 × 2 square (PP-OCR's ``use_dilation``): joins strokes one pixel
    apart."""
    out = mask.copy()
    out[1:, :] |= mask[:-1, :]
    out[:, 1:] |= mask[:, :-1]
    out[1:, 1:] |= mask[:-1, :-1]
    return out


@dataclass(frozen=True)
class Runs:
    """A mask's horizontal runs of set pixels, row by row: row, first column and end column (exclusive),
    and the connected component (8-connectivity) each run belongs to, numbered 0..count-1."""

    rows: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    labels: np.ndarray
    count: int


def label_runs(mask: np.ndarray) -> Runs:
    """Connected components of a boolean mask, over its runs rather than its pixels (a text map has few
    runs), with array-wide union-find: hook roots to the smaller root, then jump pointers, until every
    pair of touching runs shares a root."""
    height, width = mask.shape
    padded = np.zeros((height, width + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    steps = np.diff(padded, axis=1)
    rows, starts = np.nonzero(steps == 1)
    _, ends = np.nonzero(steps == -1)
    n = len(rows)
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Runs(empty, empty, empty, empty, 0)
    # Runs in row-major order: both their starts and their ends increase with this key.
    stride = width + 2
    key_starts = rows * stride + starts
    key_ends = rows * stride + ends
    # Run a touches run b of the next row (8-connectivity) when b ends at or after a's start and starts
    # at or before a's end: a contiguous range of runs in the sorted order.
    first = np.searchsorted(key_ends, (rows + 1) * stride + starts, side="left")
    last = np.searchsorted(key_starts, (rows + 1) * stride + ends, side="right")
    counts = np.maximum(last - first, 0)
    a = np.repeat(np.arange(n), counts)
    b = np.repeat(first, counts) + ragged_arange(counts)

    parent = np.arange(n)
    while True:
        pa, pb = parent[a], parent[b]
        apart = pa != pb
        if not apart.any():
            break
        pa, pb = pa[apart], pb[apart]
        np.minimum.at(parent, np.maximum(pa, pb), np.minimum(pa, pb))
        while True:
            jumped = parent[parent]
            if np.array_equal(jumped, parent):
                break
            parent = jumped
    roots, labels = np.unique(parent, return_inverse=True)
    return Runs(rows, starts, ends, labels, len(roots))


def convex_hull(points: np.ndarray) -> np.ndarray:
    """Convex hull of (N, 2) points, counter-clockwise in (x, y), collinear points dropped (Andrew's
    monotone chain)."""
    pts = np.unique(np.asarray(points, dtype=np.float64), axis=0)  # sorted by x, then y
    if len(pts) < 3:
        return pts

    def half(ordered: np.ndarray) -> list[np.ndarray]:
        chain: list[np.ndarray] = []
        for p in ordered:
            while len(chain) >= 2:
                (ox, oy), (ax, ay) = chain[-2], chain[-1]
                if (ax - ox) * (p[1] - oy) - (ay - oy) * (p[0] - ox) > 0:
                    break
                chain.pop()
            chain.append(p)
        return chain

    lower, upper = half(pts), half(pts[::-1])
    return np.array(lower[:-1] + upper[:-1])


def min_area_rect(points: np.ndarray) -> RotatedRect:
    """The smallest rectangle around (N, 2) points (rotating calipers over the convex hull's edges).

    Its ``direction`` is its longer side's, turned to point right (down when vertical), except that a
    nearly square rectangle (sides within 10 %) takes the side nearer the horizontal: a one-character
    line is not turned on its side."""
    hull = convex_hull(points)
    if len(hull) == 1:
        x, y = hull[0]
        return RotatedRect((float(x), float(y)), (1.0, 0.0), 0.0, 0.0)
    edges = np.roll(hull, -1, axis=0) - hull
    lengths = np.hypot(edges[:, 0], edges[:, 1])
    keep = lengths > 0
    units = edges[keep] / lengths[keep, None]
    normals = np.stack([-units[:, 1], units[:, 0]], axis=1)
    along = units @ hull.T  # (edges, points)
    across = normals @ hull.T
    extent_u = along.max(axis=1) - along.min(axis=1)
    extent_n = across.max(axis=1) - across.min(axis=1)
    best = int(np.argmin(extent_u * extent_n))
    u, n = units[best], normals[best]
    mid_u = (along[best].max() + along[best].min()) / 2
    mid_n = (across[best].max() + across[best].min()) / 2
    center = u * mid_u + n * mid_n
    width, height = float(extent_u[best]), float(extent_n[best])
    if height > width * 1.1 or (height * 1.1 >= width and abs(n[0]) > abs(u[0])):
        u, width, height = n, height, width
    if u[0] < 0 or (u[0] == 0 and u[1] < 0):
        u = -u
    return RotatedRect((float(center[0]), float(center[1])), (float(u[0]), float(u[1])), width, height)


def rect_mean(prob: np.ndarray, rect: RotatedRect) -> float:
    """Mean of ``prob`` over the pixels whose centres lie in ``rect`` or within half a pixel of it (as
    PP-OCR's "fast" score fills the rectangle)."""
    corners = rect.corners()
    height, width = prob.shape
    left = int(np.clip(np.floor(corners[:, 0].min() - 0.5), 0, width - 1))
    right = int(np.clip(np.ceil(corners[:, 0].max() + 0.5), 0, width - 1))
    top = int(np.clip(np.floor(corners[:, 1].min() - 0.5), 0, height - 1))
    bottom = int(np.clip(np.ceil(corners[:, 1].max() + 0.5), 0, height - 1))
    xs = np.arange(left, right + 1) + 0.5 - rect.center[0]
    ys = np.arange(top, bottom + 1) + 0.5 - rect.center[1]
    u = np.asarray(rect.direction)
    along = np.abs(xs[None, :] * u[0] + ys[:, None] * u[1])
    across = np.abs(-xs[None, :] * u[1] + ys[:, None] * u[0])
    inside = (along <= rect.width / 2 + 0.5) & (across <= rect.height / 2 + 0.5)
    window = prob[top : bottom + 1, left : right + 1]
    return float(window[inside].mean()) if inside.any() else 0.0


def _component_points(runs: Runs) -> list[np.ndarray]:
    """Per component, the pixel centres at the two ends of each of its rows: all its convex hull needs."""
    order = np.lexsort((runs.rows, runs.labels))
    labels, rows = runs.labels[order], runs.rows[order]
    starts, ends = runs.starts[order], runs.ends[order]
    new_row = np.ones(len(order), dtype=bool)
    new_row[1:] = (labels[1:] != labels[:-1]) | (rows[1:] != rows[:-1])
    at = np.flatnonzero(new_row)
    row_labels, row_index = labels[at], rows[at]
    row_left = np.minimum.reduceat(starts, at)
    row_right = np.maximum.reduceat(ends, at) - 1
    ys = row_index + 0.5
    points = np.stack(
        [np.concatenate([row_left + 0.5, row_right + 0.5]), np.concatenate([ys, ys])], axis=1
    ).reshape(2, -1, 2)
    split_at = np.flatnonzero(np.diff(row_labels)) + 1
    return [
        np.concatenate([left, right])
        for left, right in zip(np.split(points[0], split_at), np.split(points[1], split_at), strict=True)
    ]


def boxes_from_map(
    prob: np.ndarray,
    *,
    threshold: float = 0.3,
    box_threshold: float = 0.6,
    unclip_ratio: float = 1.5,
    min_size: float = 3.0,
    max_candidates: int = 1000,
    dilate: bool = False,
) -> list[tuple[RotatedRect, float]]:
    """Text regions of a (H, W) probability map, in the map's coordinates, each with its score.

    ``threshold`` binarises the map; a component whose rectangle is thinner than ``min_size`` pixels,
    before or after unclipping (+2 after, as PP-OCR), or whose mean probability is under
    ``box_threshold`` is dropped; the ``max_candidates`` largest components are looked at."""
    mask = prob > threshold
    if dilate:
        mask = dilate_2x2(mask)
    runs = label_runs(mask)
    if runs.count == 0:
        return []
    # Cheap first cut: a component whose bounding box (of pixel centres) is thinner than min_size has
    # a thinner rectangle too.
    top = np.full(runs.count, np.iinfo(np.int64).max)
    bottom = np.full(runs.count, -1)
    left = np.full(runs.count, np.iinfo(np.int64).max)
    right = np.full(runs.count, -1)
    np.minimum.at(top, runs.labels, runs.rows)
    np.maximum.at(bottom, runs.labels, runs.rows)
    np.minimum.at(left, runs.labels, runs.starts)
    np.maximum.at(right, runs.labels, runs.ends - 1)
    pixels = np.bincount(runs.labels, weights=runs.ends - runs.starts, minlength=runs.count)
    thick = np.minimum(bottom - top, right - left) >= min_size
    candidates = np.flatnonzero(thick)
    candidates = candidates[np.argsort(-pixels[candidates], kind="stable")][:max_candidates]
    if len(candidates) == 0:
        return []
    keep = np.isin(runs.labels, candidates)
    kept = Runs(runs.rows[keep], runs.starts[keep], runs.ends[keep], runs.labels[keep], runs.count)
    found = []
    for points in _component_points(kept):
        rect = min_area_rect(points)
        if min(rect.width, rect.height) < min_size:
            continue
        score = rect_mean(prob, rect)
        if score < box_threshold:
            continue
        grown = unclip(rect, unclip_ratio)
        if min(grown.width, grown.height) < min_size + 2:
            continue
        found.append((grown, score))
    return found
