"""Ruled lines, table and form borders and underlines taken out of an ink mask.

Why: a rule is one long component that glues every line touching it into one blob, and a line of
notebook paper would itself be found as a "text line". A rule pixel is one in a long, straight run of
ink (at least :data:`RULE_LENGTH` text heights) that is thin across the run (at most
:data:`RULE_THICKNESS` text heights): glyph strokes are never that long, and where a glyph's stroke
crosses a rule the ink there is thick across the rule and stays, so the text keeps its shape. Runs are
measured along the page's skew (the mask sheared by whole pixels, with :data:`SLACK` pixels up and down),
so a rule on a tilted scan counts as one long run rather than a staircase of short ones, even when
the estimated skew is a little off. Where two rules cross, the pixel is long both ways and goes too.
"""

from __future__ import annotations

import math

import numpy as np

from kocr.pages.components import Runs, find_runs, run_pixels

RULE_LENGTH = 3.0  # text heights: the shortest run that counts as a rule
RULE_THICKNESS = 0.3  # text heights: the thickest a rule may be (a glyph stroke crossing it is thicker)
MIN_RULE_LENGTH = 16  # analysis pixels, whatever the text height
SLACK = 2  # pixels up and down a run may wander and stay one run


def remove_rules(mask: np.ndarray, text_height: float, skew: float = 0.0) -> np.ndarray:
    """``mask`` without its horizontal and vertical rules (a new array; ``mask`` is left alone).
    ``skew`` is the angle of the text lines in degrees (positive: falling to the right)."""
    rules = rule_pixels(mask, text_height, skew)
    return mask & ~rules if rules.any() else mask


def rule_pixels(mask: np.ndarray, text_height: float, skew: float = 0.0) -> np.ndarray:
    """Which ink pixels of ``mask`` belong to rules."""
    length = max(MIN_RULE_LENGTH, round(RULE_LENGTH * text_height))
    thickness = max(2, round(RULE_THICKNESS * text_height))
    slope = math.tan(math.radians(skew))
    horizontal_length, vertical_thickness = _run_lengths(mask, slope)
    vertical_length_t, horizontal_thickness_t = _run_lengths(mask.T, -slope)
    long_across = length <= vertical_length_t.T
    long_along = horizontal_length >= length
    horizontal = long_along & (vertical_thickness <= thickness)
    vertical = long_across & (thickness >= horizontal_thickness_t.T)
    return horizontal | vertical | (long_along & long_across)


def _run_lengths(mask: np.ndarray, slope: float) -> tuple[np.ndarray, np.ndarray]:
    """For each pixel of ``mask``: the length of its run along lines of ``slope`` (rows sheared by
    whole pixels, SLACK pixels of slack up and down), and the length of its run down its column (0 off the
    ink)."""
    height, width = mask.shape
    across = _paint(find_runs(mask.T), (width, height)).T  # column runs: a vertical shear keeps them
    shift = -np.round(np.arange(width) * slope).astype(np.int64)  # row y + x·slope moves back to y
    shift -= shift.min()
    # Columns sharing a shift move together, as slices (a page's skew gives a few dozen such blocks).
    starts = np.flatnonzero(np.r_[True, shift[1:] != shift[:-1]])
    blocks = [(int(a), int(b), int(shift[a])) for a, b in zip(starts, np.r_[starts[1:], width], strict=True)]
    sheared = np.zeros((height + int(shift.max()), width), dtype=bool)
    for first, last, down in blocks:
        sheared[down : down + height, first:last] = mask[:, first:last]
    # The slack: a rule a little off the estimated skew (a photo's perspective) is still one run.
    grown = sheared.copy()
    for shift_by in range(1, SLACK + 1):
        grown[shift_by:] |= sheared[:-shift_by]
        grown[:-shift_by] |= sheared[shift_by:]
    sheared = grown
    lengths = _paint(find_runs(sheared), sheared.shape)
    along = np.empty((height, width), dtype=lengths.dtype)
    for first, last, down in blocks:
        along[:, first:last] = lengths[down : down + height, first:last]
    return np.where(mask, along, 0), across


def _paint(runs: Runs, shape: tuple[int, int]) -> np.ndarray:
    """An image of ``shape`` holding each run's length on its pixels."""
    lengths = (runs.end - runs.start).astype(np.int64)
    out = np.zeros(shape[0] * shape[1], dtype=np.int32)
    out[run_pixels(runs, shape[1])] = np.repeat(lengths, lengths)
    return out.reshape(shape)
