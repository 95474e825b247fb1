"""A page's skew from its text components: the angle at which their centres, projected across the
lines, pile up into the sharpest peaks (the projection-profile method, on points instead of pixels).

Why points: a few thousand component centres project at dozens of angles in a millisecond, and rules,
pictures and specks are already left out by the caller; projecting every ink pixel would let a long
rule or a photo decide the angle.
"""

from __future__ import annotations

import math

import numpy as np

MAX_SKEW = 20.0  # degrees either way; pages turned further are the orientation step's job
COARSE_STEP = 0.5
FINE_STEP = 0.05


def estimate_skew(x: np.ndarray, y: np.ndarray, bin_size: float, weights: np.ndarray | None = None) -> float:
    """The angle (degrees, positive when lines fall to the right in image coordinates, y down) that
    makes the points ``(x, y)`` (optionally weighted) line up best into rows ``bin_size`` pixels thick,
    or 0.0 with fewer than 3 points."""
    if x.size < 3:
        return 0.0
    bin_size = max(1.0, bin_size)
    coarse = np.arange(-MAX_SKEW, MAX_SKEW + COARSE_STEP / 2, COARSE_STEP)
    best = coarse[int(np.argmax(_sharpness(x, y, coarse, bin_size, weights)))]
    fine = np.arange(best - COARSE_STEP, best + COARSE_STEP + FINE_STEP / 2, FINE_STEP)
    scores = _sharpness(x, y, fine, bin_size, weights)
    # Flat tops (few points) are common: the middle of the best plateau, not its first angle.
    top = np.flatnonzero(scores >= scores.max() * (1 - 1e-9))
    return float(fine[top[len(top) // 2]])


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
