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


def estimate_skew(x: np.ndarray, y: np.ndarray, text_height: float) -> float:
    """The angle (degrees, positive when lines fall to the right in image coordinates, y down) that
    makes the points ``(x, y)`` line up best into rows, or 0.0 with fewer than 3 points."""
    if x.size < 3:
        return 0.0
    bin_size = max(1.0, text_height / 4)
    coarse = np.arange(-MAX_SKEW, MAX_SKEW + COARSE_STEP / 2, COARSE_STEP)
    best = coarse[int(np.argmax(_sharpness(x, y, coarse, bin_size)))]
    fine = np.arange(best - COARSE_STEP, best + COARSE_STEP + FINE_STEP / 2, FINE_STEP)
    scores = _sharpness(x, y, fine, bin_size)
    # Flat tops (few points) are common: the middle of the best plateau, not its first angle.
    top = np.flatnonzero(scores >= scores.max() * (1 - 1e-9))
    return float(fine[top[len(top) // 2]])


def _sharpness(x: np.ndarray, y: np.ndarray, angles: np.ndarray, bin_size: float) -> np.ndarray:
    """For each angle, the sum of squared bin counts of the points' offsets across the lines."""
    slopes = np.tan(np.radians(angles))
    x = x - x.mean()
    offsets = (y[None, :] - slopes[:, None] * x[None, :]) / bin_size
    offsets -= offsets.min()
    bins = offsets.astype(np.int64)
    width = int(bins.max()) + 1
    flat = (np.arange(angles.size)[:, None] * width + bins).ravel()
    counts = np.bincount(flat, minlength=angles.size * width).reshape(angles.size, width).astype(np.float64)
    # Half-bin shifted counts too, so a row of points split across a bin edge is not penalised.
    shifted = np.floor(offsets + 0.5).astype(np.int64)
    flat = (np.arange(angles.size)[:, None] * (width + 1) + shifted).ravel()
    counts2 = np.bincount(flat, minlength=angles.size * (width + 1)).astype(np.float64)
    return (counts**2).sum(axis=1) + (counts2.reshape(angles.size, width + 1) ** 2).sum(axis=1)


def rotate_points(x: np.ndarray, y: np.ndarray, angle: float) -> tuple[np.ndarray, np.ndarray]:
    """Points in the frame of lines at ``angle`` degrees: along the line (u) and across it (v)."""
    cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    return x * cos + y * sin, -x * sin + y * cos
