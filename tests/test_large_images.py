"""Issue 24, defect 2: one huge image ended a whole predict or eval run (PIL's DecompressionBombError
traceback for a 14000×14000 PNG, every other image's result lost). The pixel limit is one setting
(kocr.data.images.set_max_pixels, --max-pixels): an image over it is reported and skipped by every
batch command, and big pages read on purpose."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import assert_no_traceback, render_line, run_kocr
from PIL import Image

from kocr.data import DEFAULT_MAX_PIXELS
from kocr.data.images import decode_image, load_image, max_pixels, set_max_pixels
from kocr.errors import InputFileError, KocrError

# PIL warns before kocr refuses an image between its limit and twice it; the CLI silences that warning
pytestmark = pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 14000 × 14000 white PNG: 196 megapixels in about 200 KB."""
    path = tmp_path_factory.mktemp("bomb") / "huge.png"
    Image.new("1", (14000, 14000), 1).save(path)
    return path


@pytest.fixture
def default_limit() -> Iterator[None]:
    yield
    set_max_pixels(DEFAULT_MAX_PIXELS)


def test_the_limit_is_one_setting_shared_with_pil(bomb: Path, default_limit: None) -> None:
    assert max_pixels() == DEFAULT_MAX_PIXELS == Image.MAX_IMAGE_PIXELS
    with pytest.raises(InputFileError, match=r"huge\.png: image too large \(14,000×14,000 = 196,000,000"):
        load_image(bomb)
    with pytest.raises(InputFileError, match="--max-pixels"):
        decode_image(bomb.read_bytes(), "huge.png")
    set_max_pixels(0)  # on purpose: no limit
    assert max_pixels() is None and Image.MAX_IMAGE_PIXELS is None
    assert load_image(bomb).size == (14000, 14000)
    set_max_pixels(100)  # PIL's own guard (twice its limit) speaks kocr's words too
    with pytest.raises(InputFileError, match=r"image too large \(1,024 pixels, more than the limit of 100\)"):
        decode_image(_png(32, 32), "small.png")


def test_a_50_megapixel_page_reads_by_default() -> None:
    assert load_image(io.BytesIO(_png(8660, 5774))).size == (8660, 5774)  # 50 MP


def _png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("1", (width, height), 1).save(buffer, "PNG")
    return buffer.getvalue()


def test_predict_skips_a_bomb_and_reads_it_on_purpose(tiny_model: Path, bomb: Path, tmp_path: Path) -> None:
    folder = tmp_path / "scans"
    folder.mkdir()
    (folder / "huge.png").symlink_to(bomb)
    (folder / "line.png").write_bytes(render_line("12"))
    out = tmp_path / "out.jsonl"
    result = run_kocr("predict", folder, "-m", tiny_model, "-o", out)
    assert result.returncode == 0, result.stderr
    assert_no_traceback(result)
    assert "huge.png: image too large (14,000×14,000" in result.stderr and "--max-pixels" in result.stderr
    assert [json.loads(line)["path"] for line in out.read_text(encoding="utf-8").splitlines()] == ["line.png"]

    big = tmp_path / "big"
    big.mkdir()
    (big / "page.png").write_bytes(_png(600, 400))
    (big / "line.png").write_bytes(render_line("12"))
    limited = run_kocr("predict", big, "-m", tiny_model, "--max-pixels", "100000", "-o", tmp_path / "l.json")
    assert limited.returncode == 0 and "page.png: image too large (240,000 pixels" in limited.stderr
    lifted = run_kocr("predict", big, "-m", tiny_model, "--max-pixels", "0", "--layout", "page",
                      "-o", tmp_path / "p.json")  # fmt: skip
    assert lifted.returncode == 0, lifted.stderr
    pages = json.loads((tmp_path / "p.json").read_text(encoding="utf-8"))["predictions"]
    assert {(p["path"], p.get("width", 0) >= 0) for p in pages} == {("line.png", True), ("page.png", True)}
    assert next(p for p in pages if p["path"] == "page.png")["width"] == 600
    assert "--max-pixels" in run_kocr("predict", "--help").stdout


def test_eval_scores_the_others_and_data_lmdb_lists_the_bomb(
    tiny_model: Path, bomb: Path, tmp_path: Path
) -> None:
    (tmp_path / "huge.png").symlink_to(bomb)
    (tmp_path / "a.png").write_bytes(render_line("12"))
    (tmp_path / "gt.txt").write_text("huge.png\t12\na.png\t12\n", encoding="utf-8")
    log = tmp_path / "log.txt"
    result = run_kocr("eval", "-m", tiny_model, "--data", tmp_path / "gt.txt", "--log-file", log)
    assert result.returncode == 0, result.stderr
    assert_no_traceback(result)
    assert "image too large" in result.stderr and log.read_text(encoding="utf-8").count("\n") == 2

    built = run_kocr("data", "lmdb", tmp_path / "gt.txt", "-o", tmp_path / "db")
    assert built.returncode == 0, built.stderr
    assert "wrote 1 samples" in built.stdout
    assert "image too large" in (tmp_path / "db" / "skipped.txt").read_text(encoding="utf-8")


def test_worker_processes_keep_the_limit(tmp_path: Path, default_limit: None) -> None:
    from kocr.data.lmdb.build import build_lmdb

    (tmp_path / "a.png").write_bytes(_png(300, 300))
    (tmp_path / "b.png").write_bytes(render_line("12"))
    samples = [(tmp_path / "a.png", "x", "gt.txt:1"), (tmp_path / "b.png", "y", "gt.txt:2")]
    set_max_pixels(50_000)
    report = build_lmdb(samples, tmp_path / "db", workers=2, pool="process")
    assert report.written == 1 and "image too large" in report.skipped[0].message


class FailsOnWideImages:
    """A real recogniser that cannot read images wider than 1000 px (as a page reader might fail on
    one odd image): the batch fails, and the run must lose that image only."""

    def __init__(self, recognizer: object) -> None:
        self.recognizer = recognizer

    def predict_images(self, images: list) -> list:
        if any(image.width > 1000 for image in images):
            raise ValueError("too wide for this reader")
        return self.recognizer.predict_images(images)  # type: ignore[attr-defined]


def test_one_image_no_reader_handles_costs_that_image_only(tiny_model: Path, tmp_path: Path) -> None:
    from kocr import load_recognizer
    from kocr.runtime.files import predict_files

    for name, data in (
        ("a.png", render_line("12")),
        ("wide.png", _png(1200, 30)),
        ("b.png", render_line("3")),
    ):
        (tmp_path / name).write_bytes(data)
    files = [(tmp_path / n, n) for n in ("a.png", "wide.png", "b.png")]
    skipped: list[KocrError] = []
    reader = FailsOnWideImages(load_recognizer(tiny_model))
    rows = list(predict_files(reader, files, on_skip=skipped.append))
    assert [row.path for row in rows] == ["a.png", "b.png"]
    assert [str(e) for e in skipped] == ["wide.png: could not be read (ValueError: too wide for this reader)"]
