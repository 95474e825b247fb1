"""A page as a boolean ink mask, at a size line finding can afford.

Why each step:

- **Downscaled first** (:func:`analysis_grey`): lines are found on a copy whose long side is at most
  :data:`MAX_SIDE` pixels, box-reduced by PIL (``Image.reduce``) before anything becomes a numpy array,
  so a 50-megapixel photo costs a few megabytes here. Text stays 10–50 px tall on ordinary pages.
- **Polarity per page**: ink is the minority that stands out from the paper around it; which side of
  the local paper level holds more outliers (darker or lighter) says whether the page is dark-on-light
  or light-on-dark, and light-on-dark pages are inverted. Only cells whose level matches their
  neighbours' vote: where the level changes (the edge of a photographed sheet on a dark desk, a
  picture's border) the brighter side stands out of the darker one over a long edge, and a sparse form
  has less text than that.
- **Paper level per cell** (a high percentile of each cell, cells that are all ink lifted to their
  neighbours' level, bilinearly smoothed back to full size): dividing by it flattens shading, tinted or
  coloured paper and uneven lighting, so the paper becomes white everywhere.
- **Not paper**: cells far darker than the page's paper level (a dark photo, a filled box) or than the
  paper a few cells away (the table around a photographed page), and their neighbours, are left out,
  since their edges would be found as ink. Shading changes far more slowly.
- **Sauvola's local threshold** (mean and deviation from box sums over cells) on the flattened page keeps
  faint strokes next to dark ones, plus a floor of :data:`MIN_CONTRAST` grey levels below the paper
  (measured before flattening, which magnifies the noise of dark paper) so paper texture and JPEG
  noise stay background.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from kocr.data.images import to_mode

MAX_SIDE = 2000  # the analysis copy's long side at most (pixels)
BLOCK_FRACTION = 1 / 40  # paper-level blocks and the threshold window, as a share of the long side
MIN_BLOCK = 12
MIN_CONTRAST = 28.0  # grey levels below the (white) paper that ink must reach
SAUVOLA_K = 0.2
SAUVOLA_R = 128.0
SAUVOLA_CELLS = 10  # the threshold window spans about this many cells of the reduced statistics
NOT_PAPER = 0.5  # cells whose paper is darker than this share of the page's are no paper (pictures),
NOT_PAPER_NEARBY = 0.6  # nor are cells this much darker than paper NEARBY cells away (a photo's background)
NEARBY = 3
POLARITY_MARGIN = 48  # grey levels from the local paper level that count as an outlier when voting
_REDUCIBLE = ("L", "RGB", "RGBA", "LA")


@dataclass(frozen=True)
class AnalysisPage:
    """The page as the line finder sees it: grey, downscaled by ``scale`` (original pixels per analysis
    pixel along each axis), the ink mask and whether the page was light-on-dark."""

    grey: np.ndarray  # uint8, dark ink on light paper after any inversion
    mask: np.ndarray  # bool, True = ink
    scale_x: float
    scale_y: float
    light_on_dark: bool

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the analysis copy."""
        return self.mask.shape[1], self.mask.shape[0]


def analysis_grey(image: Image.Image, max_side: int = MAX_SIDE) -> tuple[np.ndarray, float, float]:
    """The page box-reduced by a whole factor so its long side is at most ``max_side``, in grey, with
    the scale back to the original along x and y."""
    if image.mode not in _REDUCIBLE:
        image = to_mode(image, 3)
    width, height = image.size
    factor = max(1, math.ceil(max(width, height) / max_side))
    small = image.reduce(factor) if factor > 1 else image
    grey = np.asarray(to_mode(small, 1))
    return grey, width / grey.shape[1], height / grey.shape[0]


def analyse_page(image: Image.Image, max_side: int = MAX_SIDE) -> AnalysisPage:
    """Grey analysis copy and ink mask of ``image`` (any PIL mode)."""
    grey, scale_x, scale_y = analysis_grey(image, max_side)
    mask, light_on_dark, flat = binarize(grey)
    return AnalysisPage(flat, mask, scale_x, scale_y, light_on_dark)


def binarize(grey: np.ndarray) -> tuple[np.ndarray, bool, np.ndarray]:
    """(ink mask, light-on-dark?, the page flattened to dark ink on white paper) of a grey page."""
    height, width = grey.shape
    if height < 2 or width < 2:
        return np.zeros_like(grey, dtype=bool), False, grey
    block = max(MIN_BLOCK, round(max(height, width) * BLOCK_FRACTION))
    light_on_dark = _light_on_dark(grey, block)
    page = 255 - grey if light_on_dark else grey
    paper, measured, side = _paper_levels(page, block)
    level = _upsample(paper, side, height, width)
    flat = np.minimum(page.astype(np.float32) * (255.0 / level), 255.0)
    window = block | 1
    # The contrast floor in the page's own grey levels: dividing by dark paper magnifies its noise.
    mask = (flat < _sauvola(flat, window)) & (page < level - MIN_CONTRAST)
    mask &= ~_not_paper(measured, side, height, width)
    return mask, light_on_dark, flat.astype(np.uint8)


def _blocks(grey: np.ndarray, block: int) -> tuple[np.ndarray, int, int]:
    """``grey`` as (rows, columns, values) of square cells tiling it (the last ones edge-padded),
    sampled every ``step`` pixels (a cell's samples are enough for its percentiles); with the step and
    the cell's side in pixels."""
    step = max(1, block // 12)
    sample = grey[::step, ::step]
    cell = max(1, block // step)
    rows, columns = -(-sample.shape[0] // cell), -(-sample.shape[1] // cell)
    sample = _fit(sample, rows * cell, columns * cell)
    cells = sample.reshape(rows, cell, columns, cell).swapaxes(1, 2).reshape(rows, columns, cell * cell)
    return cells, step, cell * step


def _fit(array: np.ndarray, rows: int, columns: int) -> np.ndarray:
    """``array`` cut or edge-padded to ``rows`` × ``columns``."""
    array = array[:rows, :columns]
    pad_rows, pad_columns = rows - array.shape[0], columns - array.shape[1]
    if pad_rows or pad_columns:
        array = np.pad(array, ((0, pad_rows), (0, pad_columns)), mode="edge")
    return array


def _upsample(
    grid: np.ndarray,
    side: int,
    height: int,
    width: int,
    resample: Image.Resampling = Image.Resampling.BILINEAR,
) -> np.ndarray:
    """A grid of cells ``side`` pixels square spread over the ``height`` × ``width`` pixels it tiles
    (bilinear: smooth levels; nearest: each cell's own value)."""
    image = Image.fromarray(grid.astype(np.float32))
    full = image.resize((grid.shape[1] * side, grid.shape[0] * side), resample)
    return np.asarray(full, dtype=np.float32)[:height, :width]


def _median3(grid: np.ndarray) -> np.ndarray:
    """Each cell's median over its 3×3 neighbourhood (edges repeated)."""
    padded = np.pad(grid, 1, mode="edge")
    rows, columns = grid.shape
    stack = [padded[dy : dy + rows, dx : dx + columns] for dy in range(3) for dx in range(3)]
    return np.median(np.stack(stack), axis=0)


def _light_on_dark(grey: np.ndarray, block: int) -> bool:
    """Whether more pixels stand out above their cell's median level than below it, counted in cells
    whose level is within :data:`POLARITY_MARGIN` of their neighbours' (all cells when none is)."""
    cells, _, _ = _blocks(grey, block)
    level = np.median(cells, axis=2)
    darker = np.count_nonzero(cells < level[..., None] - POLARITY_MARGIN, axis=2)
    lighter = np.count_nonzero(cells > level[..., None] + POLARITY_MARGIN, axis=2)
    padded = np.pad(level, 1, mode="edge")
    rows, columns = level.shape
    change = np.max(
        [np.abs(padded[dy : dy + rows, dx : dx + columns] - level) for dy in range(3) for dx in range(3)],
        axis=0,
    )
    steady = change < POLARITY_MARGIN
    if int(darker[steady].sum() + lighter[steady].sum()) == 0:
        steady = np.ones_like(steady)
    return int(lighter[steady].sum()) > int(darker[steady].sum())


def _paper_levels(page: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray, int]:
    """The paper's grey level in each cell of the page (a grid of about ``block``-pixel cells): as
    measured (a high percentile), and with cells that are nearly all ink (inside a bold heading) lifted
    to their neighbourhood's level; and the cells' side in pixels."""
    cells, _, side = _blocks(page, block)
    measured = np.percentile(cells, 90, axis=2)
    paper = np.maximum(measured, _median3(measured) - MIN_CONTRAST)
    return np.maximum(paper, 1.0), measured, side


def _not_paper(paper: np.ndarray, side: int, height: int, width: int) -> np.ndarray:
    """Pixels of cells far darker than the page's paper or than the paper a few cells away, and their
    neighbours: a dark picture, a filled box, the table or floor around a photographed page, whose
    edges would otherwise be found as ink. Shading changes far more slowly than that."""
    nearby = paper
    for _ in range(NEARBY):
        padded = np.pad(nearby, 1, mode="edge")
        rows, columns = paper.shape
        nearby = np.max(
            [padded[dy : dy + rows, dx : dx + columns] for dy in range(3) for dx in range(3)], axis=0
        )
    dark = (paper < NOT_PAPER * float(np.median(paper))) | (paper < NOT_PAPER_NEARBY * nearby)
    if not dark.any():
        return np.zeros((height, width), dtype=bool)
    padded = np.pad(dark, 1)
    rows, columns = dark.shape
    grown = np.zeros_like(dark)
    for dy in range(3):
        for dx in range(3):
            grown |= padded[dy : dy + rows, dx : dx + columns]
    return _upsample(grown, side, height, width, Image.Resampling.NEAREST) > 0


def _box_sums(values: np.ndarray, window: int) -> np.ndarray:
    """Sum over a ``window``-square box centred on each cell (cut at the edges), from running sums
    down the columns and then along the rows."""
    height, width = values.shape
    half = window // 2
    y0, y1 = np.clip(np.arange(height) - half, 0, height), np.clip(np.arange(height) + half + 1, 0, height)
    x0, x1 = np.clip(np.arange(width) - half, 0, width), np.clip(np.arange(width) + half + 1, 0, width)
    down = np.zeros((height + 1, width), np.float64)
    np.cumsum(values, axis=0, out=down[1:])
    rows = down[y1] - down[y0]
    along = np.zeros((height, width + 1), np.float64)
    np.cumsum(rows, axis=1, out=along[:, 1:])
    return along[:, x1] - along[:, x0]


def _sauvola(flat: np.ndarray, window: int) -> np.ndarray:
    """Sauvola's threshold ``m · (1 + k · (s / R − 1))`` with the local mean m and deviation s.

    The sums run over cells of ``factor`` × ``factor`` pixels (the page's values and their squares
    box-reduced, so the deviation stays exact) and the threshold is smoothed back up: statistics over a
    window many strokes wide change slowly, and this divides the cost by ``factor``²."""
    height, width = flat.shape
    factor = max(1, min(window // SAUVOLA_CELLS, min(height, width) // 8))
    image = Image.fromarray(flat)
    squares = Image.fromarray(flat.astype(np.float32) ** 2)
    mean_cells = np.asarray(image.reduce(factor) if factor > 1 else image, dtype=np.float64)
    square_cells = np.asarray(squares.reduce(factor) if factor > 1 else squares, dtype=np.float64)
    cells = max(3, round(window / factor) | 1)
    count = _box_sums(np.ones_like(mean_cells), cells)
    mean = _box_sums(mean_cells, cells) / count
    variance = np.maximum(_box_sums(square_cells, cells) / count - mean**2, 0.0)
    threshold = (mean * (1.0 + SAUVOLA_K * (np.sqrt(variance) / SAUVOLA_R - 1.0))).astype(np.float32)
    if factor == 1:
        return threshold
    return np.asarray(Image.fromarray(threshold).resize((width, height), Image.Resampling.BILINEAR))
