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
from kocr.load import load_recognizer
from kocr.runtime.base import LineRecognizer, Prediction
from kocr.runtime.files import predict_files
from kocr.runtime.writers import write_predictions


@pytest.fixture(scope="module")
def recognizer(tiny_model: Path) -> LineRecognizer:
    return load_recognizer(tiny_model, device="cpu")


def test_recognizer_reads_paths_pil_and_numpy(recognizer: LineRecognizer, tmp_path: Path) -> None:
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


def test_batching_by_width_does_not_change_results(recognizer: LineRecognizer) -> None:
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
    recognizer = load_recognizer(tiny_model, device="cpu")
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
    assert load_recognizer("default").predict(samples / "06.png").text == truths["06.png"]


# --- issue 15 ---------------------------------------------------------------------------------------


class FixedRecognizer:
    """Any recogniser will do for evaluate(): this one reads every image as ``text``."""

    def __init__(self, text: str) -> None:
        self.text = text

    def predict_images(self, images: list) -> list[Prediction]:
        return [Prediction(self.text, 0.5) for _ in images]


def label_folder(folder: Path, labels: list[str]) -> Path:
    (folder / "images").mkdir(parents=True)
    for i, _ in enumerate(labels):
        (folder / "images" / f"{i}.png").write_bytes(render_line("12"))
    gt = folder / "gt.txt"
    gt.write_text("".join(f"images/{i}.png\t{label}\n" for i, label in enumerate(labels)), encoding="utf-8")
    return gt


def test_test_log_keeps_texts_as_they_are_in_plain_tsv(tmp_path: Path) -> None:
    """test_log.txt: no lower-casing of Real Text, case-sensitive scoring by default (--ignore-case
    folds for scoring only), plain TSV with escapes instead of CSV quotes, readable names."""
    from kocr.evaluate import evaluate

    one = label_folder(tmp_path / "one", ["한국어 문장 OCR", 'say "hi"'])
    two = label_folder(tmp_path / "two", ["ABC"])
    log = tmp_path / "test_log.txt"
    report = evaluate(FixedRecognizer('abc\t"x"\\y\nz'), [one, two], log)
    lines = log.read_text(encoding="utf-8").split("\n")
    assert lines[0] == "Image Name\tReal Text\tPredicted Text\tConfidence\tCER"
    first = lines[1].split("\t")
    assert first[0] == f"{tmp_path / 'one' / 'images' / '0.png'}".replace("\\", "/")  # not .../gt.txt/images
    assert first[1] == "한국어 문장 OCR" and first[2] == 'abc\\t"x"\\\\y\\nz'  # escaped, never quoted
    assert lines[2].split("\t")[1] == 'say "hi"' and len(lines) == 5 and lines[-1] == ""
    rows = read_test_log(log)
    assert [r.truth for r in rows] == ["한국어 문장 OCR", 'say "hi"', "ABC"]
    assert rows[0].predicted == 'abc\t"x"\\y\nz'
    assert report.to_dict()["case_sensitive"] is True

    sensitive = evaluate(FixedRecognizer("abc"), [two], tmp_path / "a.txt")
    folded = evaluate(FixedRecognizer("abc"), [two], tmp_path / "b.txt", case_sensitive=False)
    assert sensitive.combined.figures()["accuracy"] == 0.0 and folded.combined.figures()["accuracy"] == 1.0
    assert read_test_log(tmp_path / "b.txt")[0].truth == "ABC"  # the log keeps the case either way
    assert [r.name for r in evaluate(FixedRecognizer("x"), [two], tmp_path / "c.txt").datasets] == [str(two)]
    assert read_test_log(tmp_path / "c.txt")[0].image == "images/0.png"  # one dataset: clovaai's names


def test_eval_of_a_dataset_with_no_usable_sample_is_an_error(tmp_path: Path) -> None:
    """Defect 4: 0 samples, accuracy 100 %, CER 0 and exit 0; and the warnings repeated the location."""
    gt = tmp_path / "gt.txt"
    gt.write_text("nope.png\tabc\n", encoding="utf-8")
    log = tmp_path / "test_log.txt"
    result = run_kocr("eval", "--data", gt, "--log-file", log)
    assert result.returncode == 2, result.stderr
    assert_no_traceback(result)
    assert "no sample could be scored" in result.stderr and not log.exists()
    warning = next(line for line in result.stderr.splitlines() if "not scored" in line)
    assert warning.count(f"{gt}:1") == 1 and "nope.png" in warning  # located once, the image named


def test_eval_skips_a_label_that_is_not_utf8_with_a_reason(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Defect 5: a CP949 label in an LMDB was scored as U+FFFD mojibake without a word."""
    import lmdb as py_lmdb

    from kocr.evaluate import evaluate

    env = py_lmdb.open(str(tmp_path / "db"), map_size=1 << 24)
    with env.begin(write=True) as txn:
        for i, label in enumerate(["가나".encode(), "한글".encode("cp949")], start=1):
            txn.put(b"image-%09d" % i, render_line("12"))
            txn.put(b"label-%09d" % i, label)
        txn.put(b"num-samples", b"2")
    env.close()
    with caplog.at_level("WARNING"):
        report = evaluate(FixedRecognizer("가나"), [tmp_path / "db"], tmp_path / "log.txt")
    assert report.combined.metrics.samples == 1 and report.combined.unreadable == 1
    assert "label-000000002" in caplog.text and "CP949" in caplog.text and "\ufffd" not in caplog.text
    assert [r.truth for r in read_test_log(tmp_path / "log.txt")] == ["가나"]


def test_an_existing_summary_names_its_own_option(tmp_path: Path) -> None:
    gt = label_folder(tmp_path / "d", ["12"])
    (tmp_path / "summary.json").write_text("{}", encoding="utf-8")
    result = run_kocr(
        "eval", "--data", gt, "--log-file", tmp_path / "log.txt", "--summary-json", tmp_path / "summary.json"
    )
    assert result.returncode == 2 and "--summary-json" in result.stderr and "--log-file" not in result.stderr


def test_predict_skips_a_missing_file_and_names_files_of_several_folders(
    tiny_model: Path, tmp_path: Path
) -> None:
    """`kocr predict good.png missing.png` aborted although the help says unreadable files are
    skipped (defect 11 too: twoA/x.png and twoB/x.png were both listed as x.png)."""
    for folder in ("twoA", "twoB"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "x.png").write_bytes(render_line("12"))
    out = tmp_path / "out.jsonl"
    result = run_kocr(
        "predict", tmp_path / "twoA" / "x.png", tmp_path / "missing.png", "-m", tiny_model, "-o", out,
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "missing.png" in result.stderr and "1 of 2 files could not be read" in result.stderr
    assert len(out.read_text(encoding="utf-8").splitlines()) == 1
    both = run_kocr("predict", "twoA", "twoB", "-m", tiny_model, "-o", tmp_path / "both.json", cwd=tmp_path)
    assert both.returncode == 0, both.stderr
    paths = [
        r["path"] for r in json.loads((tmp_path / "both.json").read_text(encoding="utf-8"))["predictions"]
    ]
    assert paths == ["twoA/x.png", "twoB/x.png"]
    nothing = run_kocr("predict", tmp_path / "gone.png", "-m", tiny_model, "-o", tmp_path / "none.json")
    assert nothing.returncode == 1 and not (tmp_path / "none.json").exists()
    assert_no_traceback(nothing)


def test_recognizer_refuses_what_is_no_image_with_a_type_error(recognizer: LineRecognizer) -> None:
    """Defect 13: a dict returned [], None and ints raised "not iterable"."""
    for bad in ({}, {"a": 1}, None, 7):
        with pytest.raises(TypeError, match=r"expected one image \("):
            recognizer.predict(bad)
    line = Image.open(io.BytesIO(render_line("12")))
    data = render_line("12")
    expected = recognizer.predict(line)
    assert recognizer.predict(bytearray(data)) == expected == recognizer.predict(io.BytesIO(data))
    import torch

    tensor = torch.from_numpy(np.asarray(line.convert("L")).copy())[None]
    assert recognizer.predict(tensor) == expected


# --- issue 24: a charset or LM that does not fit the model is an error, never ignored ----------------


def test_a_charset_or_language_model_that_does_not_fit_is_refused(
    tiny_model: Path, tiny_task: dict[str, Path], tmp_path: Path
) -> None:
    """Defect 5: --charset with a kocr checkpoint (which stores its own) was ignored, and an LM built
    for another charset of the same mode scored the symbols it lacks as <unk>."""
    image = tmp_path / "line.png"
    image.write_bytes(render_line("가나12"))
    for model in (tiny_model, "default"):  # the bundled model runs through its ONNX twin
        other = run_kocr("predict", image, "--saved-model", model, "--charset", "ko")
        assert other.returncode == 2 and "stores its own charset" in other.stderr, other.stderr
        assert "(ko, 11,295 symbols) is not it" in other.stderr
        assert_no_traceback(other)
    same = run_kocr("predict", image, "--saved-model", tiny_model, "--charset", tiny_task["charset"])
    assert same.returncode == 0, same.stderr
    finetune = run_kocr(
        "finetune", "--saved-model", tiny_model, "--saved-charset", "ko-2350", "-t", tiny_task["train"],
        "--iters", "1", "--output", tmp_path / "runs",
    )  # fmt: skip
    assert finetune.returncode == 2 and "stores its own charset" in finetune.stderr
    assert not (tmp_path / "runs").exists()

    corpus = tmp_path / "corpus.txt"
    corpus.write_text("가나다 12 라마\n나다 345\n" * 5, encoding="utf-8")
    tiny_lm = tmp_path / "tiny.lm"
    built = run_kocr("lm", "build", corpus, "-o", tiny_lm, "--order", "3", "--charset", tiny_task["charset"])
    assert built.returncode == 0, built.stderr
    assert run_kocr("predict", image, "--saved-model", tiny_model, "--lm", tiny_lm).returncode == 0
    wrong = run_kocr("predict", image, "--lm", tiny_lm)  # the bundled ko-2350 model
    assert wrong.returncode == 2 and "lacks 2,458 of the 2,473 symbols" in wrong.stderr, wrong.stderr
    assert "kocr lm build --charset" in wrong.stderr
    assert_no_traceback(wrong)
