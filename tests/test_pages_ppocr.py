"""The ``ppocr`` line finder on rendered Korean pages (PP-OCRv4's detector, from the ``rapidocr_onnxruntime``
wheel of the ``ppocr`` and ``dev`` extras), and the DB post-processing under it on probability maps drawn
in numpy, where the right answer is known exactly."""

from __future__ import annotations

import importlib.util
import math
import os
import subprocess
import sys
from collections import deque
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO_ROOT
from PIL import Image, ImageDraw, ImageFont

from kocr.data.synth.fonts import load_font, system_fonts
from kocr.errors import InputFileError, KocrError
from kocr.pages import ppocr
from kocr.pages.db_postprocess import (
    RotatedRect,
    boxes_from_map,
    label_runs,
    min_area_rect,
    unclip,
)
from kocr.pages.types import LineRegion, quad_bounds

Box = tuple[float, float, float, float]

# --- DB post-processing on drawn probability maps ---------------------------------------------------


def rect_map(shape: tuple[int, int], rect: RotatedRect, value: float = 1.0) -> np.ndarray:
    """A probability map: ``value`` on the pixels whose centres lie inside ``rect``, 0 elsewhere."""
    ys, xs = np.mgrid[: shape[0], : shape[1]] + 0.5
    u = np.asarray(rect.direction)
    dx, dy = xs - rect.center[0], ys - rect.center[1]
    along, across = np.abs(dx * u[0] + dy * u[1]), np.abs(-dx * u[1] + dy * u[0])
    return np.where((along <= rect.width / 2) & (across <= rect.height / 2), value, 0.0).astype(np.float32)


def turned(degrees: float) -> tuple[float, float]:
    """The unit vector ``degrees`` anticlockwise from the x axis as seen on screen (y points down)."""
    return math.cos(math.radians(degrees)), -math.sin(math.radians(degrees))


def test_a_rotated_blob_gives_its_rectangle_back() -> None:
    drawn = RotatedRect((200.0, 150.0), turned(20), 220.0, 36.0)
    found = boxes_from_map(rect_map((300, 400), drawn), unclip_ratio=0.0)
    assert len(found) == 1
    rect, score = found[0]
    # The rectangle around the pixel centres inside: at most about a pixel in from the drawn one.
    assert np.abs(rect.corners() - drawn.corners()).max() < 1.5
    assert score > 0.95


def test_corners_run_along_the_text_clockwise_from_its_top_left() -> None:
    corners = RotatedRect((50.0, 20.0), (1.0, 0.0), 40.0, 10.0).corners()
    assert corners.tolist() == [[30, 15], [70, 15], [70, 25], [30, 25]]
    # Text tilted 10° up to the right: the top left corner is the leftmost, top right the topmost.
    tilted = min_area_rect(RotatedRect((100.0, 100.0), turned(10), 120.0, 20.0).corners())
    tl, tr, _, _ = tilted.corners()
    assert tl[0] == min(tilted.corners()[:, 0]) and tr[1] == min(tilted.corners()[:, 1])
    assert math.degrees(math.atan2(-(tr - tl)[1], (tr - tl)[0])) == pytest.approx(10, abs=1e-6)


def test_a_nearly_square_region_keeps_the_side_nearer_the_horizontal() -> None:
    """A one-character line turned 80° is not read as a tall line turned on its side."""
    square = min_area_rect(RotatedRect((50.0, 50.0), turned(80), 30.0, 31.0).corners())
    assert math.degrees(math.atan2(-square.direction[1], square.direction[0])) == pytest.approx(-10, abs=1e-6)
    tall = min_area_rect(RotatedRect((50.0, 50.0), turned(80), 30.0, 60.0).corners())
    assert math.degrees(math.atan2(-tall.direction[1], tall.direction[0])) == pytest.approx(-10, abs=1e-6)
    assert tall.width == pytest.approx(60) and tall.height == pytest.approx(30)


def test_unclip_grows_every_side_by_area_times_ratio_over_perimeter() -> None:
    rect = RotatedRect((0.0, 0.0), (1.0, 0.0), 100.0, 20.0)
    grown = unclip(rect, 1.5)
    distance = 100 * 20 * 1.5 / (2 * (100 + 20))  # 12.5
    assert (grown.width, grown.height) == pytest.approx((100 + 2 * distance, 20 + 2 * distance))
    assert grown.center == rect.center and grown.direction == rect.direction
    # boxes_from_map unclips with its ratio
    drawn = RotatedRect((100.0, 50.0), (1.0, 0.0), 100.0, 20.0)
    found = boxes_from_map(rect_map((100, 200), drawn), unclip_ratio=1.5)
    assert (found[0][0].width, found[0][0].height) == pytest.approx((124, 44), abs=1.5)


def test_faint_thin_and_empty_regions_are_dropped() -> None:
    faint = rect_map((100, 200), RotatedRect((100.0, 50.0), (1.0, 0.0), 100.0, 20.0), value=0.45)
    assert boxes_from_map(faint, box_threshold=0.6) == []
    assert len(boxes_from_map(faint, box_threshold=0.4)) == 1
    thin = rect_map((100, 200), RotatedRect((100.0, 50.0), (1.0, 0.0), 100.0, 2.0))
    assert boxes_from_map(thin) == []
    assert boxes_from_map(np.zeros((64, 64), np.float32)) == []


def flood_fill_count(mask: np.ndarray) -> int:
    """Components of a mask (8-connectivity), the slow obvious way."""
    seen = np.zeros_like(mask)
    count = 0
    for start in zip(*np.nonzero(mask), strict=True):
        if seen[start]:
            continue
        count += 1
        seen[start] = True
        queue = deque([start])
        while queue:
            r, c = queue.popleft()
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    rr, cc = r + dr, c + dc
                    if (
                        0 <= rr < mask.shape[0]
                        and 0 <= cc < mask.shape[1]
                        and mask[rr, cc]
                        and not seen[rr, cc]
                    ):
                        seen[rr, cc] = True
                        queue.append((rr, cc))
    return count


def test_components_agree_with_a_flood_fill() -> None:
    rng = np.random.default_rng(0)
    for density in (0.2, 0.45, 0.6):
        mask = rng.random((40, 50)) < density
        runs = label_runs(mask)
        assert runs.count == flood_fill_count(mask)
        # every run's pixels are in the mask, and together they are the mask
        rebuilt = np.zeros_like(mask)
        for row, start, end in zip(runs.rows, runs.starts, runs.ends, strict=True):
            rebuilt[row, start:end] = True
        assert np.array_equal(rebuilt, mask)
    # diagonal neighbours touch; a column apart do not
    assert label_runs(np.array([[1, 0], [0, 1]], bool)).count == 1
    assert label_runs(np.array([[1, 0, 1]], bool)).count == 2


# --- the line finder on rendered pages ---------------------------------------------------------------

needs_model = pytest.mark.skipif(
    importlib.util.find_spec("rapidocr_onnxruntime") is None,
    reason="the PP-OCRv4 detector ships in rapidocr_onnxruntime: pip install 'kocr-hangul[ppocr]'",
)

LINES = [
    "대한민국 헌법 제1조",
    "모든 국민은 인간으로서의 존엄과 가치를 가진다",
    "가격: 12,000원 (부가세 포함)",
    "서울특별시 종로구 세종대로 209",
    "오늘은 날씨가 맑겠습니다.",
]


def korean_fonts() -> list[ImageFont.FreeTypeFont]:
    """Up to two Korean system faces (a gothic and a myeongjo where Debian has them), or Noto Sans KR
    from the dev extra."""
    faces = [face for face in system_fonts() if not face.handwriting]
    chosen = [
        next((face for face in faces if key in face.family), None) for key in ("Gothic", "Myeongjo", "Sans")
    ]
    picked = [face for face in chosen if face is not None][:2]
    if picked:
        return [load_font(face.path, face.index, 10) for face in picked]
    noto = pytest.importorskip("pylopdf_fonts_ko", reason="no Korean system font and no pylopdf-fonts-ko")
    return [load_font(noto.sans_path(), 0, 10)]


def sized(font: ImageFont.FreeTypeFont, size: int) -> ImageFont.FreeTypeFont:
    return font.font_variant(size=size)


def iou(a: Box, b: Box) -> float:
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def assert_each_line_found_once(found: Sequence[LineRegion], drawn: Sequence[Box]) -> None:
    bounds = [quad_bounds(region.quad) for region in found]
    assert len(bounds) == len(drawn), (bounds, drawn)
    for box in drawn:
        matches = [b for b in bounds if iou(b, box) >= 0.5]
        assert len(matches) == 1, (box, bounds)


@pytest.fixture(scope="module")
def finder() -> ppocr.PPOCRLineFinder:
    return ppocr.PPOCRLineFinder(threads=1)


def render_page(
    size: tuple[int, int], scale: float = 1.0, mode: str = "RGB"
) -> tuple[Image.Image, list[Box]]:
    """LINES on a white page, alternating fonts, 22–38 px × ``scale``; the page and each line's ink box."""
    page = Image.new(mode, size, "white")
    draw = ImageDraw.Draw(page)
    fonts = korean_fonts()
    boxes = []
    for i, text in enumerate(LINES):
        font = sized(fonts[i % len(fonts)], round((22 + 4 * i) * scale))
        xy = (60 * scale, (80 + 170 * i) * scale)
        draw.text(xy, text, font=font, fill="black")
        boxes.append(draw.textbbox(xy, text, font=font))
    return page, boxes


@needs_model
def test_each_line_of_a_page_is_found_once(finder: ppocr.PPOCRLineFinder) -> None:
    page, drawn = render_page((800, 1000))
    found = finder.find(page)
    assert_each_line_found_once(found, drawn)
    assert all(0.6 <= region.score <= 1 for region in found)
    for region in found:  # axis-aligned text: corners from the top left, along the line
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = region.quad
        assert x0 < x1 and y1 < y2 and x2 > x3 and y3 > y0


@needs_model
def test_a_large_page_is_found_in_its_own_pixels(finder: ppocr.PPOCRLineFinder) -> None:
    """An A4 page at 300 dpi (network input 672 × 960): the quads are scaled back to the page."""
    page, drawn = render_page((2480, 3508), scale=3.3, mode="L")
    assert_each_line_found_once(finder.find(page), drawn)


@needs_model
def test_a_rotated_line_gives_a_quad_at_its_angle(finder: ppocr.PPOCRLineFinder) -> None:
    font = sized(korean_fonts()[0], 32)
    line = Image.new("L", (760, 60), 0)
    ImageDraw.Draw(line).text((10, 10), LINES[1], font=font, fill=255)
    page = Image.new("L", (800, 1000), 255)
    page.paste(0, (0, 300), line.rotate(5, resample=Image.Resampling.BICUBIC, expand=True))
    found = finder.find(page)
    assert len(found) == 1
    (x0, y0), (x1, y1), _, (x3, y3) = found[0].quad
    assert math.degrees(math.atan2(y0 - y1, x1 - x0)) == pytest.approx(5, abs=1)
    assert math.hypot(x1 - x0, y1 - y0) > 500 and 25 < math.hypot(x3 - x0, y3 - y0) < 60


@needs_model
def test_a_blank_page_has_no_lines(finder: ppocr.PPOCRLineFinder) -> None:
    assert finder.find(Image.new("RGB", (800, 1000), "white")) == []
    assert finder.find(Image.new("L", (20, 10), 255)) == []  # smaller than the network's stride


def test_input_size_keeps_the_long_side_within_the_limit_and_never_enlarges() -> None:
    assert ppocr.input_size(2480, 3508, 960) == (672, 960)
    assert ppocr.input_size(800, 1000, 960) == (768, 960)
    assert ppocr.input_size(700, 500, 960) == (704, 512)  # rounded to 32, not enlarged
    assert ppocr.input_size(4000, 3000, 1536) == (1536, 1152)
    assert ppocr.input_size(10, 10, 960) == (32, 32)


@needs_model
def test_the_model_comes_from_the_wheel_without_its_python_code() -> None:
    """Only the .onnx file is read: neither RapidOCR's package nor OpenCV is imported."""
    path = ppocr.ppocr_model_path()
    assert path.name == "ch_PP-OCRv4_det_infer.onnx" and path.parent.parent.name == "rapidocr_onnxruntime"
    script = (
        "import sys; from PIL import Image; from kocr.pages.ppocr import PPOCRLineFinder; "
        "PPOCRLineFinder(threads=1).find(Image.new('L', (64, 64), 255)); "
        "print(sorted(m for m in sys.modules if m.startswith(('cv2', 'rapidocr'))))"
    )
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_a_rapidocr_without_the_model_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "rapidocr_onnxruntime").mkdir()
    (tmp_path / "rapidocr_onnxruntime" / "__init__.py").write_text("", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(KocrError, match=r"no models/ch_PP-OCRv4_det_infer\.onnx.*pip install -U"):
        ppocr.ppocr_model_path()


def test_a_model_file_that_is_not_onnx_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "det.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(InputFileError, match=r"det\.onnx"):
        ppocr.PPOCRLineFinder(model=bad)
