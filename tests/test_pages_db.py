"""kocr's own line detector (--line-finder db): kernel geometry on real quads, training runs through the
CLI on a real rendered page set (run folder, log, checkpoints, resume, refusals), and the trained
detector's checkpoint driving the page reader."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import assert_no_traceback, needs_nanum, run_kocr
from PIL import Image

from kocr.data.synth.page_set import write_page_set
from kocr.data.synth.pages import PageConfig
from kocr.pages.db_data import iter_scaled_pages, training_batch
from kocr.pages.db_eval import matched_lines
from kocr.pages.db_finder import BUNDLED_DETECTOR, DBLineFinder, grown_kernel, load_detector
from kocr.pages.db_onnx import kernel_probabilities
from kocr.pages.db_postprocess import min_area_rect
from kocr.pages.db_targets import kernel_map, kernel_quad
from kocr.pages.dbnet import DetectorConfig, LineDetectorNet, page_input
from kocr.training.detector import detection_loss

pytestmark = pytest.mark.usefixtures("module_cache")


@pytest.fixture(scope="module")
def page_set(tmp_path_factory: pytest.TempPathFactory, nanum_faces: tuple) -> Path:
    """Three small clean print pages with their line boxes, as kocr data synth --pages writes them."""
    config = PageConfig(
        fonts=nanum_faces, seed=3, page_size=(420, 600), photo_ratio=0.0, handwriting_ratio=0.0,
        layouts={"prose": 1.0, "columns": 1.0}, papers={"white": 1.0},
    )  # fmt: skip
    out = tmp_path_factory.mktemp("pages") / "set"
    write_page_set(config, 3, out)
    return out


def test_a_kernel_is_the_line_shrunk_and_grows_back_to_it() -> None:
    u = np.array([400.0, 20.0]) / np.hypot(400, 20)  # a line tilted 3 degrees, 40 px high
    n = np.array([-u[1], u[0]]) * 40
    start = np.array([100.0, 50.0])
    quad = np.array([start, start + 400 * u / u[0], start + 400 * u / u[0] + n, start + n])
    kernel = kernel_quad(quad, 0.25)
    rect = min_area_rect(kernel)
    assert rect.height == pytest.approx(20.0, abs=0.6)  # half the height
    assert rect.width == pytest.approx(np.hypot(400, 20) - 20, abs=0.6)  # a quarter height off each end
    line = grown_kernel(rect, 0.25)
    assert (line.width, line.height) == pytest.approx((np.hypot(400, 20), 40.0), abs=0.8)
    grown = grown_kernel(rect, 0.25, margin_x=0.3, margin_y=0.2)
    assert grown.height == pytest.approx(40.0 * 1.4, abs=1.0)


def test_kernel_maps_keep_close_lines_apart() -> None:
    lines = [np.array([[10, y], [190, y], [190, y + 20], [10, y + 20]], dtype=float) for y in (10, 32, 54)]
    target = kernel_map(lines, (100, 50), 0.5, 0.25)  # map at half the page's pixels
    rows = target.max(axis=1)
    assert target.dtype == np.float32 and set(np.unique(target)) == {0.0, 1.0}
    runs = np.flatnonzero(np.diff(np.concatenate([[0], rows, [0]])) == 1)
    assert len(runs) == 3  # three kernels with background between them, though the lines are 2 px apart


def test_the_network_reads_any_page_size_at_half_resolution() -> None:
    net = LineDetectorNet(DetectorConfig(long_side=256)).eval()
    from PIL import Image

    batch, scale = page_input(Image.new("RGB", (1000, 700), "white"), 256)
    assert batch.shape == (1, 1, 192, 256) and scale == pytest.approx(0.256)  # 179 px high padded to 192
    with torch.inference_mode():
        assert net(torch.from_numpy(batch)).shape == (1, 1, 96, 128)


@needs_nanum
def test_training_batches_match_their_pages_and_the_loss_learns(page_set: Path) -> None:
    pages = list(iter_scaled_pages(page_set, 256))
    assert len(pages) == 3 and max(pages[0].pixels.shape) == 256
    inputs, targets = training_batch(pages, seed=1, step=5, batch=4, crop=128, shrink=0.25)
    again, _ = training_batch(pages, seed=1, step=5, batch=4, crop=128, shrink=0.25)
    assert inputs.shape == (4, 1, 128, 128) and targets.shape == (4, 1, 64, 64)
    assert np.array_equal(inputs, again)  # a function of (seed, step): resumes draw the same crops
    assert 0 < targets.mean() < 0.5  # kernels, and background around them
    torch.manual_seed(0)
    net = LineDetectorNet(DetectorConfig(long_side=256))
    optimizer = torch.optim.AdamW(net.parameters(), lr=3e-3)
    x, t = torch.from_numpy(inputs), torch.from_numpy(targets)
    first = float(detection_loss(net(x), t).detach())
    for _ in range(25):
        loss = detection_loss(net(x), t)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert float(detection_loss(net(x), t).detach()) < 0.7 * first


def test_matching_counts_each_line_once() -> None:
    truth = np.array([[0, 0, 100, 20], [0, 30, 100, 50]], dtype=float)
    found = np.array([[0, 2, 100, 22], [0, 1, 100, 21], [0, 60, 100, 80]], dtype=float)
    assert matched_lines(truth, found) == 1  # two boxes on the first line count once; none on the second


@needs_nanum
def test_cli_trains_resumes_and_refuses_to_rewind(page_set: Path, tmp_path: Path) -> None:
    args = ["detector", "train", "--pages", page_set, "--valid-pages", page_set, "-o", tmp_path / "runs",
            "--iters", "4", "--batch-size", "2", "--crop", "64", "--valid-every", "2"]  # fmt: skip
    result = run_kocr(*args, timeout=600)
    assert result.returncode == 0, result.stderr
    run = tmp_path / "runs" / "lines"
    assert {p.name for p in run.iterdir()} >= {"best.pt", "last.pt", "log.csv", "config.json", "curves.png"}
    rows = list(csv.DictReader((run / "log.csv").open(encoding="utf-8")))
    assert [int(r["step"]) for r in rows] == [2, 4]
    assert json.loads((run / "config.json").read_text(encoding="utf-8"))["iters"] == 4
    last = torch.load(run / "last.pt", weights_only=True)
    assert last["kind"] == "kocr-line-detector" and last["step"] == 4 and "train_state" in last
    assert "train_state" not in torch.load(run / "best.pt", weights_only=True)

    more = run_kocr("detector", "train", "--resume", run / "last.pt", "--iters", "6", timeout=600)
    assert more.returncode == 0, more.stderr
    assert [int(r["step"]) for r in csv.DictReader((run / "log.csv").open(encoding="utf-8"))] == [2, 4, 6]
    assert not (tmp_path / "runs" / "lines-2").exists()  # resumed in place, no new folder

    for refused, message in (
        (("--resume", run / "best.pt"), "last.pt"),
        (("--resume", run / "last.pt", "--iters", "3"), "at step 6"),
        (("--pages", page_set), "--valid-pages"),
    ):
        outcome = run_kocr("detector", "train", *refused, "-o", tmp_path / "runs", timeout=120)
        assert outcome.returncode == 2 and message in outcome.stderr, outcome.stderr
        assert_no_traceback(outcome)
    assert len(list((tmp_path / "runs").iterdir())) == 1  # refusals made no run folders

    plotted = run_kocr("plot", run, "-o", tmp_path / "curves.svg", timeout=120)
    assert plotted.returncode == 0, plotted.stderr
    svg = (tmp_path / "curves.svg").read_text(encoding="utf-8")
    assert "validation F1" in svg and "not logged yet" not in svg  # a detector's panels, all drawn
    evaluated = run_kocr("detector", "eval", page_set, "--detector", run / "best.pt", timeout=300)
    assert evaluated.returncode == 0 and "F1" in evaluated.stdout, evaluated.stderr


@needs_nanum
def test_the_bundled_detector_finds_the_lines_of_a_page(page_set: Path) -> None:
    loaded = load_detector()
    assert loaded.path == BUNDLED_DETECTOR and loaded.data["kind"] == "kocr-line-detector"
    finder = DBLineFinder(margin_x=0.0, margin_y=0.0)
    from kocr.pages.db_eval import score_pages

    score = score_pages(finder, list(iter_scaled_pages(page_set, finder.long_side)))
    assert score.recall >= 0.9 and score.precision >= 0.9, score


@needs_nanum
def test_predict_reads_a_page_with_the_db_finder_and_checks_its_options(
    page_set: Path, tmp_path: Path
) -> None:
    page = next(page_set.glob("page-000001.*g"))
    out = tmp_path / "page.jsonl"
    result = run_kocr("predict", page, "--layout", "page", "--line-finder", "db", "-o", out, timeout=300)
    assert result.returncode == 0, result.stderr
    record = json.loads(out.read_text(encoding="utf-8"))
    truth = (page_set / "page-000001.gt.txt").read_text(encoding="utf-8").splitlines()
    assert record["layout"] == "page" and len(record["lines"]) == len(truth)
    stray = run_kocr(
        "predict", page, "--line-finder", "classical", "--detector", BUNDLED_DETECTOR, timeout=120
    )
    assert stray.returncode == 2 and "--line-finder db" in stray.stderr
    assert_no_traceback(stray)


# --- the detector on ONNX Runtime (kocr.pages.db_onnx) ---------------------------------------------------


@needs_nanum
def test_the_bundled_twin_finds_what_pytorch_finds_with_an_empty_cache(
    page_set: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bundled lines.onnx is bound by kocr/weights/twins.json: used offline, nothing exported."""
    monkeypatch.setenv("KOCR_CACHE_DIR", str(tmp_path / "empty"))
    onnx, plain = DBLineFinder(), DBLineFinder(engine="torch")
    assert onnx._session is not None and plain._session is None
    assert not (tmp_path / "empty").exists()
    for page in sorted(page_set.glob("page-*.*g")):
        image = Image.open(page).convert("L")
        found = onnx.find(image)
        assert found and [r.quad for r in found] == [r.quad for r in plain.find(image)]
        a, _ = onnx.probability_map(image)
        b, _ = plain.probability_map(image)
        assert np.abs(a - b).max() < 1e-4


def _trained_copy(tmp_path: Path) -> Path:
    """A detector checkpoint of other bytes than the bundled one (its weights nudged)."""
    data = torch.load(BUNDLED_DETECTOR, weights_only=True)
    data["state_dict"] = {k: v + 0.01 if v.is_floating_point() else v for k, v in data["state_dict"].items()}
    path = tmp_path / "mine.pt"
    torch.save(data, path)
    return path


def test_another_detector_is_exported_once_and_a_tampered_twin_is_not_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KOCR_CACHE_DIR", str(tmp_path / "cache"))
    mine = _trained_copy(tmp_path)
    page = torch.rand(1, 1, 96, 128).numpy()
    first = DBLineFinder(mine)
    twins = list((tmp_path / "cache" / "onnx").glob("*.onnx"))
    assert first._session is not None and len(twins) == 1
    with torch.inference_mode():
        expected = torch.sigmoid(first.model(torch.from_numpy(page)))[0, 0].numpy()
    assert np.abs(kernel_probabilities(first._session, page) - expected).max() < 1e-4
    stamp = twins[0].stat().st_mtime_ns
    assert DBLineFinder(mine)._session is not None
    assert twins[0].stat().st_mtime_ns == stamp  # bound: read, not exported again

    beside = mine.with_suffix(".onnx")  # an .onnx beside the checkpoint that kocr did not make
    beside.write_bytes(BUNDLED_DETECTOR.with_suffix(".onnx").read_bytes())
    twins[0].write_bytes(BUNDLED_DETECTOR.with_suffix(".onnx").read_bytes())  # and the cached one replaced
    again = DBLineFinder(mine)
    assert again._session is not None
    assert np.abs(kernel_probabilities(again._session, page) - expected).max() < 1e-4  # re-exported


def test_a_detector_with_no_writable_cache_runs_on_pytorch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "a file"
    blocked.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("KOCR_CACHE_DIR", str(blocked))
    finder = DBLineFinder(_trained_copy(tmp_path))
    assert finder._session is None
    assert finder.probability_map(Image.new("L", (200, 150), 255))[0].shape[0] > 0
