"""A page's skew from points: the angle at which the points, projected across the lines, pile up
into the sharpest peaks (the projection-profile method, on points instead of pixels), searched near
the angle neighbouring syllables make with each other.

Why points: a few thousand syllable centres (or points along rules) project at dozens of angles in a
millisecond, and rules, pictures and specks are already left out by the caller; projecting every ink
pixel would let a long rule or a photo decide the angle. Why the neighbours first: on a sparse page (a
form, a few labels) rows of points in different places line up by chance at some steep angle, while
the angle from each syllable to its neighbour on the right (O'Gorman's docstrum) is local and does
not; the projection then makes it precise.
"""

from __future__ import annotations

import math

import numpy as np

from kocr.pages.pairs import overlapping_pairs

MAX_SKEW = 20.0  # degrees either way; pages turned further are the orientation step's job
MIN_POINTS = 20  # fewer syllables than this: the neighbours' angle is not refined by projection
COARSE_STEP = 0.5
FINE_STEP = 0.05
NEIGHBOUR_REACH = 2.5  # text heights: the furthest a syllable's neighbour on the right may be


def estimate_skew(
    x: np.ndarray,
    y: np.ndarray,
    bin_size: float,
    weights: np.ndarray | None = None,
    around: float = 0.0,
    span: float = MAX_SKEW,
) -> float:
    """The angle (degrees, positive when lines fall to the right in image coordinates, y down) within
    ``span`` of ``around`` that makes the points ``(x, y)`` (optionally weighted) line up best into rows
    ``bin_size`` pixels thick; ``around`` with fewer than 3 points."""
    if x.size < 3:
        return around
    bin_size = max(1.0, bin_size)
    coarse = np.arange(around - span, around + span + COARSE_STEP / 2, COARSE_STEP)
    best = coarse[int(np.argmax(_sharpness(x, y, coarse, bin_size, weights)))]
    fine = np.arange(best - COARSE_STEP, best + COARSE_STEP + FINE_STEP / 2, FINE_STEP)
    scores = _sharpness(x, y, fine, bin_size, weights)
    # Flat tops (few points) are common: the middle of the best plateau, not its first angle.
    top = np.flatnonzero(scores >= scores.max() * (1 - 1e-9))
    return float(fine[top[len(top) // 2]])


def neighbour_angle(
    x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray, text_height: float
) -> tuple[float, float] | None:
    """The median angle (degrees) from each box's centre to its nearest neighbour on the right (at
    most :data:`NEIGHBOUR_REACH` text heights away and :data:`MAX_SKEW` degrees off level) and its
    standard error (from the median absolute deviation), or ``None`` without such pairs."""
    left, right = neighbour_pairs(x0, y0, x1, y1, text_height)
    if left.size == 0:
        return None
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    angles = np.degrees(np.arctan2(cy[right] - cy[left], cx[right] - cx[left]))
    median = float(np.median(angles))
    spread = 1.4826 * float(np.median(np.abs(angles - median)))  # MAD as a standard deviation
    # Centres come in half pixels: one pair's angle is never surer than a pixel over the text height.
    spread = max(spread, math.degrees(math.atan(1.0 / max(text_height, 1.0))))
    return median, spread / math.sqrt(angles.size)


def neighbour_pairs(
    x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray, text_height: float
) -> tuple[np.ndarray, np.ndarray]:
    """Each box that has one (``left``) and its nearest neighbour on the right (``right``): centres at
    most :data:`NEIGHBOUR_REACH` text heights apart along x and within :data:`MAX_SKEW` degrees of
    level."""
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    reach = NEIGHBOUR_REACH * text_height
    rise = math.tan(math.radians(MAX_SKEW)) * reach
    nearest = np.full(cx.size, np.inf)
    partner = np.full(cx.size, -1, np.int64)
    for a, b in overlapping_pairs(cy - rise / 2, cy + rise / 2, 0.0):
        a, b = np.where(cx[a] <= cx[b], a, b), np.where(cx[a] <= cx[b], b, a)  # a on the left
        dx, dy = cx[b] - cx[a], cy[b] - cy[a]
        fits = (dx > 0) & (dx <= reach) & (np.abs(dy) <= math.tan(math.radians(MAX_SKEW)) * dx)
        a, b, dx = a[fits], b[fits], dx[fits]
        order = np.lexsort((dx, a))  # per box on the left, its nearest first
        a, b, dx = a[order], b[order], dx[order]
        first = np.ones(a.size, dtype=bool)
        first[1:] = a[1:] != a[:-1]
        a, b, dx = a[first], b[first], dx[first]
        closer = dx < nearest[a]
        nearest[a[closer]] = dx[closer]
        partner[a[closer]] = b[closer]
    left = np.flatnonzero(partner >= 0)
    return left, partner[left]


def _sharpness(
    x: np.ndarray, y: np.ndarray, angles: np.ndarray, bin_size: float, weights: np.ndarray | None
) -> np.ndarray:
    """For each angle, the sum of squared (weighted) bin counts of the points' offsets across the
    lines, binned twice half a bin apart so a row split across a bin edge is not penalised."""
    slopes = np.tan(np.radians(angles))
    x = x - x.mean()
    offsets = (y[None, :] - slopes[:, None] * x[None, :]) / bin_size
    offsets -= offsets.min()
    tiled = None if weights is None else np.tile(weights.astype(np.float64), angles.size)
    total = np.zeros(angles.size)
    for shift in (0.0, 0.5):
        bins = np.floor(offsets + shift).astype(np.int64)
        width = int(bins.max()) + 1
        flat = (np.arange(angles.size)[:, None] * width + bins).ravel()
        counts = np.bincount(flat, weights=tiled, minlength=angles.size * width)
        total += (counts.reshape(angles.size, width).astype(np.float64) ** 2).sum(axis=1)
    return total


def rotate_points(x: np.ndarray, y: np.ndarray, angle: float) -> tuple[np.ndarray, np.ndarray]:
    """Points in the frame of lines at ``angle`` degrees: along the line (u) and across it (v)."""
    cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    return x * cos + y * sin, -x * sin + y * cos
