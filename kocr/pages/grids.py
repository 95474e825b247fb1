"""Grid lines taken out of a line crop: squared paper's faint lines through the handwriting.

On squared paper every line crop is crossed from top to bottom by the grid's vertical lines, and along its
length by the horizontal ones. The recogniser reads a vertical grid line through a word as one more ㅣ or
1 (dev photo of handwriting on squared paper, hand-photo page 15: 0.44 page CER with the grid, 0.12
without). The page's finders cannot take such a grid out: its lines are faint and binarise in pieces, so
they are neither rules nor ink.

In a crop, a grid line is a column (or row) nearly all of whose pixels are darker than the paper, which
no stroke is: a crop's margins above and below the text are paper. Only the pixels of it that are
lighter than halfway to the ink are painted paper, so a stroke crossing a grid line stays whole.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

ACROSS = 0.85  # share of a column's (row's) pixels that must be darker than paper for a grid line
MARKED = 0.12  # darker than the paper by this share of the paper-to-ink contrast: not paper
FAINT = 0.55  # lighter than this far from the ink towards the paper: the grid's, not a stroke's
MIN_CONTRAST = 40  # grey levels between paper and ink: less, and the crop is left as it is
INK_PERCENTILE = 1  # the crop's ink level: its darkest one per cent (thin handwriting is few pixels)


def without_grid(line: Image.Image) -> Image.Image:
    """``line`` with the grid lines that cross it painted the paper's colour; the crop itself when it
    has none (or is too faint, or light on dark, to tell)."""
    levels = np.asarray(line.convert("L"))
    if levels.size == 0:
        return line
    paper, darkest = grey_levels(levels, (50, INK_PERCENTILE))
    # The darkest pixels may be the grid's where there is little ink: enough to find the grid's lines,
    # and the ink's level is then read off the rest.
    contrast = paper - darkest
    if contrast < MIN_CONTRAST:
        return line
    grey = levels.astype(np.int16)
    marked = grey < paper - MARKED * contrast
    columns = marked.mean(axis=0) >= ACROSS
    rows = marked.mean(axis=1) >= ACROSS
    if not columns.any() and not rows.any():
        return line
    # A grid line's faint edges fall in the columns (rows) beside it.
    columns = columns | np.r_[columns[1:], False] | np.r_[False, columns[:-1]]
    rows = rows | np.r_[rows[1:], False] | np.r_[False, rows[:-1]]
    across = columns[None, :] | rows[:, None]
    ink = grey_levels(levels[~across], (INK_PERCENTILE,))[0] if (~across).any() else paper - contrast
    grid = across & (grey > ink + FAINT * (paper - ink))
    pixels = np.array(line)
    if (~marked).any():  # the paper's colour: each channel's median off the marks
        planes = [pixels] if pixels.ndim == 2 else [pixels[..., c] for c in range(pixels.shape[2])]
        pixels[grid] = [grey_levels(plane[~marked], (50,))[0] for plane in planes]
    else:
        pixels[grid] = paper
    return Image.fromarray(pixels)


def grey_levels(levels: np.ndarray, percents: tuple[float, ...]) -> tuple[float, ...]:
    """``np.percentile(levels, p)`` for each ``p`` (linear interpolation), exactly, of 8-bit grey
    levels: read off their histogram, which costs one pass where each percentile is a partition
    (a page's crops are a million pixels and more)."""
    flat = levels.reshape(-1)
    below = np.cumsum(np.bincount(flat, minlength=256))  # below[v]: how many levels are <= v
    last = flat.size - 1

    def ranked(k: int) -> float:  # the k-th smallest level (from 0)
        return float(np.searchsorted(below, k, side="right"))

    values = []
    for percent in percents:
        position = percent / 100 * last
        low = int(np.floor(position))
        fraction = position - low
        value = ranked(low)
        if fraction:
            value += fraction * (ranked(min(low + 1, last)) - value)
        values.append(value)
    return tuple(values)
