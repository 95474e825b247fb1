"""Training curves: log.csv as the trainer writes it, curves.png redrawn at each validation, and
`kocr plot` overlaying runs."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from conftest import assert_no_traceback, run_kocr
from PIL import Image

from kocr.report.curves import read_run_log, read_runs, render_curves
from kocr.training.reporting import LogReporter, RunProgress


def write_run(folder: Path, *, steps: int = 200, valid_every: int = 50, scale: float = 1.0) -> Path:
    """A run folder's log.csv written by the trainer's own RunProgress (which also draws curves.png)."""
    folder.mkdir(parents=True)
    progress = RunProgress(LogReporter(), folder / "log.csv", log_every=10, world_size=1)
    progress.start(steps, 0, folder)
    for step in range(1, steps + 1):
        progress.train_step(step, 0, scale * 4.0 / step**0.5, 32, 1e-3, last=step == steps)
        if step % valid_every == 0:
            cer = scale * 0.8 / (step / valid_every)
            progress.validation(step, 0, {"cer": cer, "accuracy": 1 - cer, "loss": 1.0}, [])
    progress.close()
    return folder


def test_the_trainer_draws_curves_png_at_each_validation_and_they_read_back(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run-a")
    image = Image.open(run / "curves.png")
    assert image.format == "PNG" and image.width > 2 * image.height > 600
    assert sum(1 for count in image.convert("L").histogram() if count) > 20  # drawn, not blank

    curves = read_run_log(run)
    assert curves.name == "run-a"
    assert [step for step, _ in curves.loss] == list(range(10, 201, 10))
    assert curves.loss[0][1] == pytest.approx(sum(4.0 / s**0.5 for s in range(1, 11)) / 10, rel=1e-5)
    assert [step for step, _ in curves.valid_cer] == [50, 100, 150, 200]
    assert curves.best == (200, pytest.approx(0.2))
    assert curves.valid_accuracy[-1] == (200, pytest.approx(0.8))


def test_a_drawing_failure_is_warned_once_and_training_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "curves.png").mkdir()  # nothing can be written there
    progress = RunProgress(LogReporter(), folder / "log.csv", log_every=1, world_size=1)
    progress.start(3, 0, folder)
    with caplog.at_level(logging.WARNING):
        for step in (1, 2, 3):
            progress.train_step(step, 0, 1.0, 4, 1e-3, last=step == 3)
            progress.validation(step, 0, {"cer": 0.5, "accuracy": 0.5}, [])
    warnings = [r for r in caplog.records if "curves.png" in r.getMessage()]
    assert len(warnings) == 1 and "training goes on" in warnings[0].getMessage()
    assert len(read_run_log(folder).valid_cer) == 3  # log.csv kept every validation


def test_a_resumed_step_keeps_its_last_value_and_a_bad_row_names_its_line(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    log.write_text(
        "step,epoch,loss,valid_cer,extra\n10,0,2.0,,x\n20,0,1.5,0.4,x\n10,0,1.9,,x\n", encoding="utf-8"
    )
    curves = read_run_log(log)
    assert curves.loss == [(10, 1.9), (20, 1.5)] and curves.valid_cer == [(20, 0.4)]
    assert curves.valid_accuracy == [] and curves.name == tmp_path.name  # the run folder names it
    log.write_text("step,loss\n10,1.0\n20,lots\n", encoding="utf-8")
    from kocr.errors import InputFileError

    with pytest.raises(InputFileError, match=r"log\.csv:3: loss is not a number"):
        read_run_log(log)


def test_kocr_plot_overlays_runs_named_by_their_folders(tmp_path: Path) -> None:
    for parent in ("a", "b"):
        write_run(tmp_path / parent / "run", scale=1.0 if parent == "a" else 0.5)
    other = write_run(tmp_path / "small-lr", steps=100)
    assert [r.name for r in read_runs([tmp_path / "a" / "run", tmp_path / "b" / "run", other])] == [
        "a/run",
        "b/run",
        "small-lr",
    ]
    out = tmp_path / "curves.svg"
    result = run_kocr("plot", tmp_path / "a" / "run", tmp_path / "b" / "run", other / "log.csv", "-o", out)
    assert result.returncode == 0, result.stderr
    assert "3 runs" in result.stderr
    svg = out.read_text(encoding="utf-8")
    # matplotlib draws text as paths and names each string in a comment: legend, titles, axes.
    comments = set(re.findall(r"<!-- (.*?) -->", svg))
    assert {"a/run", "b/run", "small-lr", "training loss", "validation accuracy"} <= comments
    assert svg.count("<path") > 20

    again = run_kocr("plot", other, "-o", out)
    assert again.returncode == 2 and "--overwrite" in again.stderr
    assert run_kocr("plot", other, "-o", out, "--overwrite").returncode == 0
    wrong = run_kocr("plot", other, "-o", tmp_path / "curves.pdf")
    assert wrong.returncode == 2 and ".png or .svg" in wrong.stderr and not (tmp_path / "curves.pdf").exists()
    (tmp_path / "empty").mkdir()
    missing = run_kocr("plot", tmp_path / "empty", "-o", tmp_path / "x.png")
    assert missing.returncode == 2 and "log.csv" in missing.stderr
    for bad in (again, wrong, missing):
        assert_no_traceback(bad)


def test_hangul_run_names_are_drawn_with_a_korean_font(tmp_path: Path) -> None:
    """A run named in Korean must not come out as missing-glyph boxes in the legend."""
    from kocr.report.fonts import korean_font_path

    if korean_font_path() is None:
        pytest.skip("no Korean font installed (pip install kocr-hangul[fonts] or fonts-nanum)")
    run = write_run(tmp_path / "한국어-실험")
    svg = render_curves(read_runs([run]), "svg").decode("utf-8")
    assert "<!-- 한국어-실험 -->" in svg
    # matplotlib defines each glyph drawn once, named by its font: the five syllables come from the Korean
    # face (DejaVu Sans, the first family, has no Hangul and would draw one missing-glyph box for all).
    glyphs = set(re.findall(r'<path id="([^"]+)"', svg))
    korean = {g for g in glyphs if not g.startswith("DejaVuSans-") and not re.fullmatch(r"m[0-9a-f]{10}", g)}
    assert len(korean) >= 5, sorted(glyphs)


def test_a_real_training_run_leaves_its_curves_beside_log_csv(tiny_model: Path) -> None:
    run = tiny_model.parent
    curves = read_run_log(run)
    assert len(curves.valid_cer) == 3 and curves.loss  # 300 steps, validated every 100
    assert Image.open(run / "curves.png").format == "PNG"
