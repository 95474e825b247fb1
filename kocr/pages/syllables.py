"""Hangul pieces stacked back into syllables: components one above the other, about as wide, close
together, whose union is no taller than a syllable is wide.

Why: a syllable with a final consonant is often three components (ㅇ above ㅡ above ㄹ in 을, the
vowel beside the initial consonant as well); in words like 생년월일 every syllable is. Measured one
by one, those pieces make the text look half as tall as it is, and a row of pieces looks like a line
of its own. Joined first, the syllables give the text height, the skew and the units lines are made
of. The rules are relative to the pieces themselves, so they hold at any text size: the gap at most
:data:`GAP` of the taller piece's height, and the union at most :data:`ASPECT` times as tall as wide.
Hangul syllables are drawn about square; a syllable stacked on even a piece of the next line's
(the gap between lines included) is half as tall again as it is wide.
"""

from __future__ import annotations

import numpy as np

from kocr.pages.pairs import overlapping_pairs, union_roots

OVERLAP = 0.7  # of the narrower piece's width: pieces this much one above the other
GAP = 0.25  # of the taller piece's height (or a pixel): the widest gap between pieces of a syllable
ASPECT = 1.3  # a syllable's height at most this many times its width
MAX_PIECE = 10.0  # median piece heights: a component longer than this either way is no syllable's piece


def stack_pieces(x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray) -> np.ndarray:
    """Each box's syllable (0 .. syllables-1): boxes stacked into one syllable share a number."""
    n = x0.size
    if n == 0:
        return np.zeros(0, np.int64)
    width, height = x1 - x0, y1 - y0
    sized = height >= 2
    typical = float(np.median(height[sized])) if sized.any() else float(np.median(height))
    # A table's frame or an underline holds the text over it (or inside it) by these rules; no piece of
    # a syllable is that long.
    piece = np.maximum(width, height) <= MAX_PIECE * max(typical, 1.0)
    firsts, seconds = [], []
    for a, b in overlapping_pairs(x0, x1, 0.0):
        overlap_x = np.minimum(x1[a], x1[b]) - np.maximum(x0[a], x0[b])
        gap_y = np.maximum(y0[b] - y1[a], y0[a] - y1[b])  # negative: they overlap vertically
        merged_height = np.maximum(y1[a], y1[b]) - np.minimum(y0[a], y0[b])
        merged_width = np.maximum(x1[a], x1[b]) - np.minimum(x0[a], x0[b])
        joined = piece[a] & piece[b] & (overlap_x >= OVERLAP * np.minimum(width[a], width[b]))
        joined &= gap_y <= np.maximum(GAP * np.maximum(height[a], height[b]), 1.0)
        joined &= merged_height <= ASPECT * merged_width
        firsts.append(a[joined])
        seconds.append(b[joined])
    roots = union_roots(n, np.concatenate(firsts), np.concatenate(seconds))
    return np.unique(roots, return_inverse=True)[1].astype(np.int64)


def syllable_boxes(
    syllable: np.ndarray, x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The box around each syllable's boxes (``syllable`` numbers them, as :func:`stack_pieces`)."""
    count = int(syllable.max()) + 1 if syllable.size else 0
    left, top = np.full(count, np.inf), np.full(count, np.inf)
    right, bottom = np.full(count, -np.inf), np.full(count, -np.inf)
    np.minimum.at(left, syllable, x0)
    np.minimum.at(top, syllable, y0)
    np.maximum.at(right, syllable, x1)
    np.maximum.at(bottom, syllable, y1)
    return left, top, right, bottom
