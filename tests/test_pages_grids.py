"""Grid lines out of a line crop (kocr.pages.grids): squared paper's lines go, the handwriting stays."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from benchmarks import page_fixtures as pf
from kocr.pages.grids import grey_levels, without_grid

try:
    pf.face("pen")
except LookupError as missing:  # pragma: no cover - Debian's fonts-nanum-extra is a test dependency
    pytest.skip(str(missing), allow_module_level=True)

PAPER = (246, 240, 236)
GRID = (150, 185, 235)
TEXT = "오늘은 날씨가 맑고 바람이 시원하게"


def _crop(grid: bool, pitch: int = 26) -> Image.Image:
    """A line crop as a page's finder cuts it: margins of paper above and below handwriting."""
    crop = Image.new("RGB", (620, 64), PAPER)
    draw = ImageDraw.Draw(crop)
    if grid:
        for x in range(7, crop.width, pitch):
            draw.line([(x, 0), (x, crop.height)], fill=GRID, width=1)
        draw.line([(0, 52), (crop.width, 52)], fill=GRID, width=1)
    draw.text((12, 14), TEXT, font=pf.face("pen").load(32), fill=(40, 40, 60))
    return crop


def _grey(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("L"), dtype=np.int16)


def test_a_squared_papers_lines_are_painted_paper_and_the_strokes_stay() -> None:
    clean, gridded = _grey(_crop(False)), _grey(_crop(True))
    cleaned = _grey(without_grid(_crop(True)))
    grid_columns = np.arange(7, 620, 26)
    assert np.abs(gridded - clean)[:, grid_columns].mean() > 20  # the grid is there to take out
    assert np.abs(cleaned - clean)[:, grid_columns].mean() < 4
    assert np.abs(cleaned - clean)[52].mean() < 4  # the horizontal line too
    strokes = clean < 110
    assert (cleaned[strokes] < 110).mean() > 0.97  # strokes crossing the grid are kept


def test_a_crop_without_a_grid_is_left_as_it_is() -> None:
    for crop in (_crop(False), _crop(False).convert("L"), Image.new("L", (300, 50), 200)):
        assert np.array_equal(np.asarray(without_grid(crop)), np.asarray(crop))
    light_on_dark = Image.eval(_crop(True).convert("L"), lambda v: 255 - v)
    assert np.array_equal(np.asarray(without_grid(light_on_dark)), np.asarray(light_on_dark))


@pytest.mark.parametrize("shape", [(1, 1), (2, 2), (3, 5), (31, 417)])
def test_grey_levels_are_numpys_percentiles(shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(sum(shape))
    for coarse in (False, True):  # all levels, and a few levels repeated many times
        levels = rng.integers(0, 256, shape).astype(np.uint8)
        if coarse:
            levels = levels // 60 * 60
        percents = (50, 1, 12.5, 99.5, 0, 100)
        expected = [float(np.percentile(levels.astype(np.int16), p)) for p in percents]
        assert grey_levels(levels, percents) == pytest.approx(expected, abs=1e-9)
