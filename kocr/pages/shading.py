"""Lighting evened along a line cut from a page: a crop from a photographed sheet often runs from a lit
part of it into a shadow, and no one paper colour fits both ends.

Why here and not in the line normaliser: the normaliser (:mod:`kocr.data.line_normalize`) takes one
paper colour per crop, and on such a crop the lit end, lighter than the crop's typical paper, reads as
light ink: the whole line is inverted and read as nonsense (dev hand photo page 12: two lines read as
"뼛째" and "트"). The page reader's crops have a known margin above and below the text (a fifth of the
line's height, :mod:`kocr.pages.find`), which is paper, so the paper's level along the line can be read
from those rows; a bare line crop has no such promise, and training crops are left as they are.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

BORDER = 0.15  # of the crop's height, at its top and at its bottom: the rows that tell the paper's level
WINDOW = 2.0  # crop heights: the running median's window along the line
SPREAD = 24.0  # grey levels the paper may brighten or darken by along a crop before it is evened


def even_shading(line: Image.Image) -> Image.Image:
    """``line`` (``L`` or ``RGB``) with each column shifted by its paper level's difference from the
    median level, where the paper's level along the line varies by more than :data:`SPREAD` grey
    levels; else ``line`` itself. The level is the running median (over :data:`WINDOW` crop heights) of
    each column's median over its :data:`BORDER` rows at the top and at the bottom."""
    width, height = line.size
    border = max(1, round(BORDER * height))
    if width < 2 * height or height < 4 or line.mode not in ("L", "RGB"):
        return line
    pixels = np.asarray(line, dtype=np.float32)
    grey = pixels if pixels.ndim == 2 else pixels.mean(axis=2)
    columns = np.median(np.concatenate([grey[:border], grey[-border:]]), axis=0)
    if float(columns.max() - columns.min()) <= SPREAD:  # the running median varies less still
        return line
    window = min(max(3, round(WINDOW * height)) | 1, width - 1 + width % 2)  # odd, at most the width
    padded = np.pad(columns, window // 2, mode="edge")
    level = np.median(np.lib.stride_tricks.sliding_window_view(padded, window), axis=1)
    if float(level.max() - level.min()) <= SPREAD:
        return line
    shift = level - float(np.median(level))
    pixels = pixels - (shift[None, :, None] if pixels.ndim == 3 else shift[None, :])
    return Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8), line.mode)
