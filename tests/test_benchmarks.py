"""The benchmarks package cannot rot silently: every benchmark answers ``--help`` as ``python -m
benchmarks.NAME``, the shared harness does what its callers rely on, and two benchmarks run for real on a
tiny dev set made from data/samples (no dev set, Tesseract, ../shared or network needed)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO_ROOT
from PIL import Image

from benchmarks import timing
from benchmarks.devset import read_split, split_names
from benchmarks.variants import blue, green, inverted, loose, red, variant_images

# A benchmark is a module of the package with a main(); the rest is the harness they share.
BENCHMARKS = sorted(
    path.stem for path in (REPO_ROOT / "benchmarks").glob("*.py") if "\ndef main(" in path.read_text("utf-8")
)


def run_benchmark(
    name: str, *args: str | os.PathLike[str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``python -m benchmarks.NAME ARGS`` from the repository root, as the docs run it."""
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", f"benchmarks.{name}", *map(str, args)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture(scope="module")
def tiny_devset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The eight sample lines as a dev set of two splits, with the manifest benchmarks read names from."""
    root = tmp_path_factory.mktemp("devset")
    rows = (REPO_ROOT / "data" / "samples" / "gt.txt").read_text(encoding="utf-8").splitlines()
    splits = {"print": rows[:4], "hand": rows[4:]}
    for name, lines in splits.items():
        (root / name).mkdir()
        for line in lines:
            shutil.copy(REPO_ROOT / "data" / "samples" / line.split("\t")[0], root / name)
        (root / name / "gt.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    manifest = {"splits": {name: {"lines": len(lines)} for name, lines in splits.items()}}
    (root / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return root


def test_every_benchmark_is_found() -> None:
    assert {"vs_tesseract", "decoders", "levers", "tune_lm_decoder", "arch_report"} <= set(BENCHMARKS)
    assert not {"devset", "variants", "tesseract", "timing", "fixtures", "decoding"} & set(BENCHMARKS)


@pytest.mark.parametrize("name", BENCHMARKS)
def test_help(name: str) -> None:
    result = run_benchmark(name, "--help", timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: python -m benchmarks.{name} ")


def test_split_names_come_from_the_manifest_in_build_order(tiny_devset: Path) -> None:
    assert split_names(tiny_devset) == ("print", "hand")
    images, truths = read_split(tiny_devset / "hand")
    assert [p.name for p in images] == ["05.png", "06.png", "07.png", "08.png"]
    assert truths[1] == "가격: 12,000원"


def test_a_dev_set_without_manifest_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match=r"no manifest\.json.*make_devset\.py"):
        split_names(tmp_path)


def test_variants_keep_the_line_and_change_its_frame_or_colours(tmp_path: Path) -> None:
    line = Image.new("L", (60, 20), 250)
    line.paste(10, (5, 5, 55, 15))
    assert loose(line).size == (60 + 60, 20 + 60) and loose(line).getpixel((0, 0)) == 250
    assert np.array_equal(np.asarray(inverted(line)), 255 - np.asarray(line))
    assert red(line).getpixel((0, 0)) == (200, 35, 40) and red(line).getpixel((30, 10)) == (245, 245, 245)
    assert blue(line).getpixel((0, 0)) == (30, 70, 160) and green(line).getpixel((30, 10)) == (245, 245, 245)
    line.save(tmp_path / "line.png")
    assert variant_images([tmp_path / "line.png"], "plain", tmp_path / "plain") == [tmp_path / "line.png"]
    made = variant_images([tmp_path / "line.png"], "inverted", tmp_path / "inverted")
    assert [p.parent.name for p in made] == ["inverted"] and Image.open(made[0]).getpixel((0, 0)) == 5


def test_alternate_calls_every_case_once_per_round() -> None:
    calls: list[str] = []
    results = timing.alternate({k: lambda k=k: calls.append(k) or len(calls) for k in "ab"}, rounds=3)
    assert calls == ["a", "b"] * 3
    assert results == {"a": [1, 3, 5], "b": [2, 4, 6]}


def test_best_of_warms_up_and_returns_the_last_result() -> None:
    calls: list[int] = []
    seconds, last = timing.best_of(lambda: calls.append(1) or len(calls), repeats=2)
    assert len(calls) == 3 and last == 3 and seconds >= 0


def test_decoders_on_a_tiny_devset(tiny_devset: Path) -> None:
    result = run_benchmark("decoders", tiny_devset)
    assert result.returncode == 0, result.stderr
    assert "8 lines" in result.stdout
    for row in ("greedy", "kocr beam, no LM", "kocr beam + LM", "calibration, greedy"):
        assert f"\n{row}" in result.stdout, result.stdout


def test_vs_tesseract_variants_without_tesseract(tiny_devset: Path) -> None:
    result = run_benchmark(
        "vs_tesseract",
        tiny_devset,
        "--no-tesseract",
        "--limit",
        "1",
        "--variant",
        "plain",
        "--variant",
        "red",
    )
    assert result.returncode == 0, result.stderr
    rows = [line.split()[:3] for line in result.stdout.splitlines() if line.startswith(("plain", "red"))]
    assert rows == [[v, s, "kocr"] for v in ("plain", "red") for s in ("print", "hand", "overall")]
    assert "overall CER by variant" in result.stdout


def test_report_benchmark_builds_a_bounded_report(tmp_path: Path) -> None:
    """benchmarks.report for real, small: the report of 4,000 lines (a third misread) holds the 20 worst
    lines and a few examples per confusion, not every error."""
    out = tmp_path / "report.html"
    result = run_benchmark("report", "--lines", "4000", "--worst", "20", "--top", "5", "-o", out)
    assert result.returncode == 0, result.stderr
    assert "µs/line" in result.stdout and "bytes" in result.stdout
    html = out.read_text(encoding="utf-8")
    worst = html.split('id="worst"')[1]
    assert worst.count('class="entry"') == 20
    # 20 worst lines + at most 2 tables x 5 confusions x 3 examples + 2 plots.
    assert html.count("<img") <= 20 + 2 * 5 * 3 + 2
    assert len(html.encode("utf-8")) < 1_500_000


def test_startup_times_each_step_in_a_fresh_interpreter() -> None:
    result = run_benchmark("startup", "--rounds", "1", timeout=300)
    assert result.returncode == 0, result.stderr
    rows = {line[:40].strip(): line[40:].split() for line in result.stdout.splitlines()[1:]}
    assert set(rows) >= {"import torch", "load the default recogniser", "kocr predict data/samples/01.jpg"}
    seconds = {name: float(values[0]) for name, values in rows.items()}
    assert 0 < seconds["python itself"] < seconds["import torch"]  # 0.03 s against 1.2 s here
