"""Issue 24, defect 5: `kocr eval` scored an image listed twice, even with two different labels, without a
word, while `data convert` and `data lmdb` report such lines. Eval now follows their policy and wording:
the first line is scored, the repeats are reported (a conflict naming both labels) and counted."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import render_line, run_kocr

from kocr.evaluate import read_test_log


def listed_twice(folder: Path) -> Path:
    (folder / "images").mkdir(parents=True)
    for i, text in enumerate(("12", "34")):
        (folder / "images" / f"{i}.png").write_bytes(render_line(text))
    gt = folder / "gt.txt"
    gt.write_text(
        "images/0.png\t12\nimages/1.png\t34\nimages/0.png\t12\nimages/../images/1.png\t99\n", encoding="utf-8"
    )
    return gt


def warnings(stderr: str) -> list[str]:
    return sorted(line for line in stderr.splitlines() if line.startswith("warning: image "))


def test_eval_reports_repeats_as_data_convert_does_and_scores_each_image_once(
    tiny_model: Path, tmp_path: Path
) -> None:
    gt = listed_twice(tmp_path / "data")
    converted = run_kocr("data", "convert", gt, "-o", tmp_path / "converted.txt")
    assert converted.returncode == 0, converted.stderr
    log, summary = tmp_path / "test_log.txt", tmp_path / "summary.json"
    evaluated = run_kocr("eval", "-m", tiny_model, "--data", gt, "--log-file", log, "--summary-json", summary)
    assert evaluated.returncode == 0, evaluated.stderr

    expected = [
        f"warning: image listed twice: {gt}:3: {gt.parent}/images/0.png was already listed at {gt}:1; "
        "the first line is kept",
        f"warning: image with two labels: {gt}:4: {gt.parent}/images/../images/1.png is labelled '99' here "
        f"but '34' at {gt}:2; the first line is kept",
    ]
    assert warnings(converted.stderr) == warnings(evaluated.stderr) == sorted(expected)
    assert [(row.image, row.truth) for row in read_test_log(log)] == [
        ("images/0.png", "12"),
        ("images/1.png", "34"),
    ]
    figures = json.loads(summary.read_text(encoding="utf-8"))["datasets"][str(gt)]
    assert figures["samples"] == 2 and figures["duplicates"] == 2 and figures["unreadable"] == 0


def test_page_evaluation_scores_a_page_listed_twice_once(tiny_model: Path, tmp_path: Path) -> None:
    from kocr import load_recognizer
    from kocr.pages.evaluate import evaluate_pages
    from kocr.pages.reader import PageReader

    gt = listed_twice(tmp_path / "pages")
    report = evaluate_pages(PageReader(load_recognizer(tiny_model)), [gt], tmp_path / "log.txt")
    figures = report.datasets[0].figures()
    assert figures["pages"] == 2 and figures["duplicates"] == 2
    assert [row.image for row in read_test_log(tmp_path / "log.txt")] == ["images/0.png", "images/1.png"]
