"""Lighting evened along a page's line crops (kocr.pages.shading) on lines drawn with a Debian font and
shaded as a photographed sheet is, lit at one end and in shadow at the other."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from benchmarks import page_fixtures as pf
from kocr.data.line_normalize import analyse_line
from kocr.pages.shading import even_shading

TEXT = "보내는데 실패했습니다 집합 정의가 중복되어 있습니다"

try:
    pf.face("pen")
except LookupError as missing:  # pragma: no cover - Debian's fonts-nanum is a test dependency
    pytest.skip(str(missing), allow_module_level=True)


def _shaded_line(
    width: int = 480, lit: float = 230.0, shadow: float = 140.0, mode: str = "RGB"
) -> Image.Image:
    """A handwritten line (20 .. 459 px) on paper that darkens from ``lit`` at its left end to ``shadow``
    at its right, the ink darkened with it (a shadow darkens everything), cut with about a fifth of its
    height above and below."""
    page = pf.blank(width, 60)
    pf.write(page, 20, 12, TEXT, 30, "pen", ink=90)
    pixels = np.asarray(page.image, dtype=np.float32)
    light = np.linspace(lit, shadow, width)[None, :] / 255.0
    shaded = np.clip(pixels * light, 0, 255).astype(np.uint8)
    return Image.fromarray(shaded).convert(mode)


@pytest.mark.parametrize("mode", ["L", "RGB"])
def test_a_line_running_into_shadow_is_read_dark_on_light_once_evened(mode: str) -> None:
    line = _shaded_line(mode=mode)
    evened = even_shading(line)
    assert evened.size == line.size and evened.mode == line.mode
    layout = analyse_line(evened)
    # The whole text is found, dark on light (unevened, the shadowed half was left out of it).
    assert layout is not None and not layout.light_on_dark
    assert layout.box[0] <= 25 and layout.box[2] >= 450
    unevened = analyse_line(line)
    assert unevened is not None and (unevened.box[0] > 40 or unevened.box[2] < 430)
    # The paper is one level along the line: its brightest rows at both ends within a few grey levels.
    grey = np.asarray(evened.convert("L"), dtype=np.float32)
    left, right = np.median(grey[:6, :60]), np.median(grey[:6, -60:])
    assert abs(left - right) < 8


def test_evenly_lit_and_short_crops_are_left_as_they_are() -> None:
    even = _shaded_line(lit=215.0, shadow=205.0)
    assert even_shading(even) is even
    short = _shaded_line(width=40)  # narrower than the shading window: nothing to even, no error
    assert even_shading(short).size == short.size
    odd = _shaded_line(width=121, lit=230.0, shadow=120.0)
    assert even_shading(odd).size == odd.size
