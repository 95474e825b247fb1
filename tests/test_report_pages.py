"""Page pictures: overlays of read pages (boxes, reading order, the text along each line) from drawn pages
with known lines, and `kocr predict --overlay` / `kocr eval --layout page --report --overlay` with the
bundled model."""

from __future__ import annotations

import base64
import io
import math
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO_ROOT, assert_no_traceback, run_kocr
from PIL import Image

from benchmarks import page_fixtures as pf
from kocr.evaluate import read_test_log
from kocr.pages.types import PageLine, PageResult
from kocr.report.fonts import korean_font_path
from kocr.report.overlay import OverlayWriter, draw_page_overlay, overlay_file_names

try:
    pf.face("gothic")
except LookupError as missing:  # pragma: no cover - Debian's fonts-nanum is a test dependency
    pytest.skip(str(missing), allow_module_level=True)


def _as_read(page: pf.DrawnPage) -> PageResult:
    """The drawn page as if read perfectly: its own quads and texts."""
    lines = [PageLine(line.quad, line.text, 0.9) for line in page.lines]
    return PageResult(lines, page.image.width, page.image.height)


def _ink_angle(mask: np.ndarray) -> float:
    """The direction (degrees, image y down) along which the ink of a mask spreads most."""
    ys, xs = np.nonzero(mask)
    xs, ys = xs - xs.mean(), ys - ys.mean()
    covariance = np.cov(np.stack([xs, ys]))
    values, vectors = np.linalg.eigh(covariance)
    x, y = vectors[:, np.argmax(values)]
    angle = math.degrees(math.atan2(y, x))
    return (angle + 90) % 180 - 90


def test_the_overlay_writes_each_line_along_its_own_slant_in_its_box() -> None:
    page = pf.turned(pf.text_page(700, 500, lines=3, size=26, margin=50), 12)
    result = _as_read(page)
    picture = draw_page_overlay(page.image, result)
    width, height = page.image.size
    assert picture.height == height and picture.width > 2 * width
    panel = np.asarray(picture.convert("L"))[:, picture.width - width :]
    ink = panel < 128
    for line in page.lines:
        xs = [x for x, _ in line.quad]
        ys = [y for _, y in line.quad]
        inside = np.zeros_like(ink)
        # The quad's middle (away from the box outline and its number disc).
        cx, cy = sum(xs) / 4, sum(ys) / 4
        (x0, y0), (x1, y1) = line.quad[0], line.quad[1]
        length = math.hypot(x1 - x0, y1 - y0)
        ux, uy = (x1 - x0) / length, (y1 - y0) / length
        for t in np.linspace(-0.4 * length, 0.4 * length, 200):
            for s in np.linspace(-4, 4, 9):
                inside[round(cy + uy * t + ux * s), round(cx + ux * t - uy * s)] = True
        assert ink[inside].mean() > 0.05, line.text  # text was written there
        band = np.zeros_like(ink)
        rows, cols = np.mgrid[0:height, 0:width]
        along = (cols - cx) * ux + (rows - cy) * uy
        across = -(cols - cx) * uy + (rows - cy) * ux
        band[(np.abs(along) < 0.45 * length) & (np.abs(across) < 6)] = True
        assert abs(_ink_angle(ink & band) - math.degrees(math.atan2(uy, ux))) < 3
    # Left: the page itself, each box tinted (pixels inside a box change, the paper far away does not).
    left = np.asarray(picture.convert("RGB"))[:, :width].astype(int)
    original = np.asarray(page.image.convert("RGB")).astype(int)
    assert np.abs(left[5:20, 5:20] - original[5:20, 5:20]).max() == 0
    (x0, y0), _, (x2, y2), _ = page.lines[0].quad
    middle = (round((y0 + y2) / 2), round((x0 + x2) / 2))
    assert np.abs(left[middle] - original[middle]).sum() > 20


def test_hangul_is_drawn_with_a_korean_font_not_boxes() -> None:
    from PIL import ImageDraw

    from kocr.report.fonts import pil_font

    if korean_font_path() is None:
        pytest.skip("no Korean font installed")
    font = pil_font(40)
    drawn = []
    for text in ("한국어", "가나다"):
        image = Image.new("L", (200, 60), 255)
        ImageDraw.Draw(image).text((5, 5), text, font=font, fill=0)
        drawn.append(image.tobytes())
    assert drawn[0] != drawn[1]  # two different words look different: glyphs, not one missing-glyph box


def test_overlay_names_and_refusals(tmp_path: Path) -> None:
    assert overlay_file_names(["scans/p1.png", "/abs/p2.jpg"]) == [
        "scans/p1.overlay.jpg",
        "abs/p2.overlay.jpg",
    ]
    from kocr.errors import KocrError

    with pytest.raises(KocrError, match="would both be written"):
        overlay_file_names(["p1.png", "p1.jpg"])
    page = pf.text_page(300, 200, lines=1, size=20, margin=20)
    writer = OverlayWriter(tmp_path / "ov")
    writer.check_folder()
    first = writer.page("p1.png", page.image, _as_read(page))
    second = writer.page("p1.jpg", page.image, _as_read(page))  # streamed in: kept apart, never replaced
    assert first.name == "p1.overlay.jpg" and second.name == "p1-2.overlay.jpg"
    assert Image.open(first).format == "JPEG"
    with pytest.raises(KocrError, match="holds overlays already"):
        OverlayWriter(tmp_path / "ov").check_folder()
    with pytest.raises(KocrError, match=r"p1\.overlay\.jpg exists"):
        OverlayWriter(tmp_path / "ov").check_names(["p1.png"])
    OverlayWriter(tmp_path / "ov", overwrite=True).check_folder()


@pytest.fixture(scope="module")
def page_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pages")
    page = pf.text_page(900, 700, heading="안내 말씀", lines=4, size=26)
    page.image.save(folder / "p1.png")
    truth = [line.text for line in page.lines]
    truth[1] = truth[1] + "끝"  # one misread line for sure
    (folder / "p1.gt.txt").write_text("\n".join([*truth, "없는 줄입니다"]) + "\n", encoding="utf-8")
    return folder


def test_eval_layout_page_report_and_overlays(tmp_path: Path, page_set: Path) -> None:
    report, overlays = tmp_path / "report.html", tmp_path / "overlays"
    args = ("eval", "--layout", "page", page_set, "--log-file", tmp_path / "log.txt")
    result = run_kocr(*args, "--report", report, "--overlay", overlays)
    assert result.returncode == 0, result.stderr
    assert_no_traceback(result)
    assert (overlays / "p1.overlay.jpg").is_file() and "wrote 1 overlays" in result.stderr
    html = report.read_text(encoding="utf-8")
    assert "kocr page evaluation" in html and "line finder" in html
    worst = html.split('id="worst"')[1]
    assert "p1.png" in worst and "안내 말씀" in worst
    jpeg = re.search(r'<img class="page" src="data:image/jpeg;base64,([^"]+)"', worst)
    assert jpeg is not None
    overlay = Image.open(io.BytesIO(base64.b64decode(jpeg.group(1))))
    assert overlay.width > 2 * overlay.height  # the page and its text side by side (900 x 700 each)
    (row,) = read_test_log(tmp_path / "log.txt")
    statuses = re.findall(r'<tr class="(right|misread|extra)">', worst)
    assert len(statuses) == len(row.predicted.split("\n")) >= 4  # one table row per line read
    assert "misread" in statuses and '<span class="del">끝</span>' in worst  # the truth given 끝 too many
    assert "Truth lines not found" in worst and "없는 줄입니다" in worst

    again = run_kocr(*args, "--overlay", overlays, "--overwrite")
    assert again.returncode == 0, again.stderr
    refused = run_kocr(*args[:-2], "--log-file", tmp_path / "log2.txt", "--overlay", overlays)
    assert refused.returncode == 2 and "holds overlays already" in refused.stderr
    assert not (tmp_path / "log2.txt").exists()
    lines_only = run_kocr("eval", REPO_ROOT / "data" / "samples", "--log-file", tmp_path / "l.txt",
                          "--overlay", overlays)  # fmt: skip
    assert lines_only.returncode == 2 and "--layout page only" in lines_only.stderr
    for bad in (refused, lines_only):
        assert_no_traceback(bad)


def test_predict_overlay_draws_pages_and_lines(tmp_path: Path, page_set: Path) -> None:
    (tmp_path / "in").mkdir()
    Image.open(page_set / "p1.png").save(tmp_path / "in" / "page.png")
    Image.open(REPO_ROOT / "data" / "samples" / "07.png").save(tmp_path / "in" / "line.png")
    result = run_kocr("predict", tmp_path / "in", "--overlay", tmp_path / "ov", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    page = Image.open(tmp_path / "ov" / "page.overlay.jpg")
    assert page.size[1] == 700 and page.size[0] > 1800
    line = Image.open(tmp_path / "ov" / "line.overlay.jpg")
    source = Image.open(tmp_path / "in" / "line.png")
    assert line.width >= source.width and line.height > 1.5 * source.height  # the text written under it
    again = run_kocr("predict", tmp_path / "in", "--overlay", tmp_path / "ov", cwd=tmp_path)
    assert again.returncode == 2 and "--overwrite" in again.stderr
    assert_no_traceback(again)
