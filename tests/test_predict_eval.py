"""`kocr predict`, `kocr eval` and the Recognizer API on a really trained tiny model."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO_ROOT, assert_no_traceback, random_labels, render_line, run_kocr
from PIL import Image

from kocr import metrics
from kocr.data.images import iter_image_files
from kocr.errors import KocrError
from kocr.evaluate import read_test_log
from kocr.predict import Prediction, Recognizer
from kocr.predict_files import predict_files, write_predictions


@pytest.fixture(scope="module")
def recognizer(tiny_model: Path) -> Recognizer:
    return Recognizer.load(tiny_model, device="cpu")


def test_recognizer_reads_paths_pil_and_numpy(recognizer: Recognizer, tmp_path: Path) -> None:
    labels = random_labels(12, seed=7)
    images = [Image.open(io.BytesIO(render_line(label))) for label in labels]
    predictions = recognizer.predict(images)
    assert isinstance(predictions, list) and all(isinstance(p, Prediction) for p in predictions)
    assert sum(p.text == label for p, label in zip(predictions, labels, strict=True)) >= 9
    assert all(0.0 <= p.confidence <= 1.0 for p in predictions)
    path = tmp_path / "one.png"
    images[0].save(path)
    single = recognizer.predict(path)
    assert isinstance(single, Prediction) and single == recognizer.predict(str(path))
    assert recognizer.predict(np.asarray(images[0])) == single
    assert recognizer.predict(np.asarray(images[0]).astype(np.float32) / 255.0).text == single.text


def test_batching_by_width_does_not_change_results(recognizer: Recognizer) -> None:
    labels = ["1", "가나다라마", "12", "0123456789", "마"]
    images = [Image.open(io.BytesIO(render_line(label))) for label in labels]
    one_by_one = [recognizer.predict(image) for image in images]
    batched = recognizer.predict(images)
    assert [p.text for p in batched] == [p.text for p in one_by_one]
    # Padding to the batch's widest line adds frames the BiLSTM reads, so confidences move a little.
    for a, b in zip(batched, one_by_one, strict=True):
        assert a.confidence == pytest.approx(b.confidence, abs=0.1)


def make_mixed_folder(folder: Path) -> dict[str, str]:
    """A corrupt file, an RGBA PNG, a 16-bit PNG, a JPEG and a palette PNG; returns name -> text."""
    folder.mkdir()
    texts = {"rgba.png": "가나12", "deep.png": "다라3", "photo.jpg": "마45", "palette.png": "678"}
    for name, text in texts.items():
        image = Image.open(io.BytesIO(render_line(text)))
        if name == "rgba.png":
            rgba = Image.new("RGBA", image.size, (0, 0, 0, 0))  # transparent background, black ink
            rgba.putalpha(Image.eval(image, lambda v: 255 - v))
            rgba.save(folder / name)
        elif name == "deep.png":
            Image.fromarray(np.asarray(image).astype(np.uint16) * 257).save(folder / name)
        elif name == "photo.jpg":
            image.convert("RGB").save(folder / name, quality=95)
        else:
            image.convert("P").save(folder / name)
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    return texts


def test_predict_cli_mixed_folder(tiny_model: Path, tmp_path: Path) -> None:
    texts = make_mixed_folder(tmp_path / "images")
    assert Image.open(tmp_path / "images" / "deep.png").mode.startswith("I")
    out = tmp_path / "preds.json"
    result = run_kocr("predict", tmp_path / "images", "--saved-model", tiny_model, "-o", out)
    assert result.returncode == 0, result.stderr
    assert_no_traceback(result)
    assert "broken.png" in result.stderr
    written = json.loads(out.read_text(encoding="utf-8"))
    assert written["metadata"]["decoder"] == "greedy" and written["metadata"]["model"] == str(tiny_model)
    records = written["predictions"]
    assert sorted(r["path"] for r in records) == sorted(texts)
    correct = sum(r["text"] == texts[r["path"]] for r in records)
    assert correct >= 3, records

    tsv = tmp_path / "preds.tsv"
    assert run_kocr("predict", tmp_path / "images", "--saved-model", tiny_model, "-o", tsv).returncode == 0
    lines = tsv.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "path\ttext\tconfidence" and len(lines) == 1 + len(texts)
    again = run_kocr("predict", tmp_path / "images", "--saved-model", tiny_model, "-o", tsv)
    assert again.returncode == 2 and "--overwrite" in again.stderr

    only_broken = run_kocr("predict", tmp_path / "images" / "broken.png", "--saved-model", tiny_model)
    assert only_broken.returncode == 1
    assert_no_traceback(only_broken)


def test_predict_files_and_writers_for_python_users(tiny_model: Path, tmp_path: Path) -> None:
    """The chunk-and-skip loop and the writers behind `kocr predict`, called as a library."""
    texts = make_mixed_folder(tmp_path / "images")
    files = iter_image_files([tmp_path / "images"])
    skipped: list[str] = []
    chunks: list[int] = []
    recognizer = Recognizer.load(tiny_model, device="cpu")
    rows = list(
        predict_files(
            recognizer, files, chunk_size=2, on_skip=lambda e: skipped.append(str(e)), on_chunk=chunks.append
        )
    )
    assert (
        sorted(row.path for row in rows) == sorted(texts) and len(skipped) == 1 and "broken.png" in skipped[0]
    )
    assert sum(chunks) == len(files) and max(chunks) == 2
    for suffix in (".json", ".jsonl", ".csv", ".tsv"):
        write_predictions(tmp_path / f"out{suffix}", rows)
    records = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert [(r["path"], r["text"]) for r in records] == [(row.path, row.text) for row in rows]
    lines = (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == records
    assert (tmp_path / "out.csv").read_text(encoding="utf-8").splitlines()[0] == "path,text,confidence"
    assert len((tmp_path / "out.tsv").read_text(encoding="utf-8").splitlines()) == 1 + len(rows)
    with pytest.raises(KocrError, match="predictions are written as"):
        write_predictions(tmp_path / "out.xlsx", rows)


def test_eval_log_matches_metrics_and_summary(
    tiny_model: Path, tiny_task: dict[str, Path], tmp_path: Path
) -> None:
    # A label-file dataset next to the LMDB one, with a missing image that must be counted, not crash.
    folder = tmp_path / "lines"
    folder.mkdir()
    labels = random_labels(20, seed=11)
    rows = []
    for i, label in enumerate(labels):
        (folder / f"{i}.png").write_bytes(render_line(label))
        rows.append(f"{i}.png\t{label}")
    rows.append("missing.png\t가나")
    (folder / "gt.txt").write_text("\n".join(rows) + "\n", encoding="utf-8")

    log = tmp_path / "test_log.txt"
    summary_path = tmp_path / "summary.json"
    result = run_kocr(
        "eval",
        "--saved-model",
        tiny_model,
        "--data",
        tiny_task["valid"],
        folder,
        "--log-file",
        log,
        "--summary-json",
        summary_path,
        "--failures",
        "3",
        "--confusions",
    )
    assert result.returncode == 0, result.stderr
    assert_no_traceback(result)
    assert "worst predictions" in result.stdout and "jamo substitutions" in result.stdout

    rows_read = read_test_log(log)
    assert len(rows_read) == 100 + 20
    for row in rows_read:
        assert row.cer == pytest.approx(metrics.sample_cer(row.truth, row.predicted), abs=1e-4)
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    combined = summary["combined"]
    truths = [r.truth for r in rows_read]
    predictions = [r.predicted for r in rows_read]
    assert combined["samples"] == 120 and combined["unreadable"] == 1
    assert combined["cer"] == pytest.approx(metrics.cer(truths, predictions))
    assert combined["accuracy"] == pytest.approx(metrics.accuracy(truths, predictions))
    assert combined["one_minus_ned"] == pytest.approx(metrics.mean_one_minus_ned(truths, predictions))
    assert combined["jamo_error_rate"] == pytest.approx(metrics.jamo_error_rate(truths, predictions))
    assert combined["mean_confidence"] == pytest.approx(np.mean([r.confidence for r in rows_read]), abs=1e-4)
    assert combined["accuracy"] > 0.5

    refused = run_kocr("eval", "--saved-model", tiny_model, "--data", folder, "--log-file", log)
    assert refused.returncode == 2 and "--overwrite" in refused.stderr


def test_predict_without_bundled_model_or_with_bad_checkpoint(tmp_path: Path) -> None:
    image = tmp_path / "a.png"
    image.write_bytes(render_line("12"))
    bogus = tmp_path / "bogus.pt"
    bogus.write_bytes(b"PK\x03\x04 truncated zip")
    result = run_kocr("predict", image, "--saved-model", bogus)
    assert result.returncode == 2 and "bogus.pt" in result.stderr
    assert_no_traceback(result)


def test_bundled_model_reads_the_readme_samples(tmp_path: Path) -> None:
    """The README's main job: `kocr predict data/samples` with no flag, offline, on the shipped model."""
    samples = REPO_ROOT / "data" / "samples"
    truths = dict(line.split("\t") for line in (samples / "gt.txt").read_text(encoding="utf-8").splitlines())
    out = tmp_path / "samples.json"
    result = run_kocr("predict", samples, "-o", out)
    assert result.returncode == 0, result.stderr
    records = json.loads(out.read_text(encoding="utf-8"))["predictions"]
    assert sorted(r["path"] for r in records) == sorted(truths)
    predictions = [r["text"] for r in records]
    references = [truths[r["path"]] for r in records]
    assert metrics.cer(references, predictions) < 0.2, predictions
    assert Recognizer.load("default").predict(samples / "06.png").text == truths["06.png"]
