"""`kocr lm build/info` and `kocr predict/eval --decoder beam --lm` through the real CLI."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO_ROOT, assert_no_traceback, run_kocr

SAMPLES = REPO_ROOT / "data" / "samples"
CORPUS = "안녕하세요 반갑습니다\n한국어 손글씨 인식\n오늘 날씨가 맑습니다\n회의는 오후 3시에 시작합니다\n" * 5


@pytest.fixture(scope="module")
def lm_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("lm")
    corpus = folder / "corpus.txt"
    corpus.write_text(CORPUS, encoding="utf-8")
    out = folder / "small.lm"
    result = run_kocr("lm", "build", corpus, "-o", out, "--order", "5")
    assert result.returncode == 0, result.stderr
    assert "order 5" in result.stderr
    return out


def test_lm_build_refuses_bad_input_clearly(lm_file: Path, tmp_path: Path) -> None:
    again = run_kocr("lm", "build", lm_file.with_name("corpus.txt"), "-o", lm_file)
    assert again.returncode == 2 and "--overwrite" in again.stderr
    missing = run_kocr("lm", "build", tmp_path / "nope.txt", "-o", tmp_path / "x.lm")
    assert missing.returncode == 2 and "nope.txt" in missing.stderr
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n", encoding="utf-8")
    result = run_kocr("lm", "build", empty, "-o", tmp_path / "x.lm")
    assert result.returncode == 2 and "no text" in result.stderr
    mixed = tmp_path / "mixed.txt"
    mixed.write_bytes("좋은 아침\n".encode() + "나쁜 줄\n".encode("cp949") + "좋은 저녁\n".encode())
    result = run_kocr("lm", "build", mixed, "-o", tmp_path / "x.lm", "--order", "3")
    assert result.returncode == 0 and f"{mixed}:2" in result.stderr and "1 lines skipped" in result.stderr
    not_lm = run_kocr("lm", "info", mixed)
    assert not_lm.returncode == 2 and "mixed.txt" in not_lm.stderr
    for result in (again, missing, not_lm):
        assert_no_traceback(result)


def test_lm_info(lm_file: Path) -> None:
    result = run_kocr("lm", "info", lm_file, "--text", lm_file.with_name("corpus.txt"))
    assert result.returncode == 0, result.stderr
    assert "order" in result.stdout and "perplexity" in result.stdout and "ko-2350" in result.stdout


def test_predict_and_eval_with_beam_search(lm_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "beam.json"
    result = run_kocr(
        "predict", SAMPLES, "--decoder", "beam", "--lm", lm_file, "--beam-width", "4", "-o", out, "--verbose"
    )
    assert result.returncode == 0, result.stderr
    assert "decoder: beam" in result.stderr and "small.lm" in result.stderr
    written = json.loads(out.read_text(encoding="utf-8"))
    meta = written["metadata"]
    assert meta["decoder"] == "beam" and meta["lm"] == str(lm_file) and meta["beam_width"] == 4
    truths = dict(line.split("\t") for line in (SAMPLES / "gt.txt").read_text(encoding="utf-8").splitlines())
    records = written["predictions"]
    assert all(0.0 <= r["confidence"] <= 1.0 for r in records)
    # The LM was built from four of these lines, so beam search reads them at least as well as greedy.
    assert sum(r["text"] == truths[r["path"]] for r in records) >= 6

    greedy = tmp_path / "greedy.json"
    result = run_kocr("predict", SAMPLES, "--decoder", "greedy", "-o", greedy)
    assert json.loads(greedy.read_text(encoding="utf-8"))["metadata"]["decoder"] == "greedy"

    summary = tmp_path / "summary.json"
    result = run_kocr(
        "eval", SAMPLES, "--decoder", "beam", "--lm", lm_file, "--log-file", tmp_path / "log.txt",
        "--summary-json", summary,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(summary.read_text(encoding="utf-8"))["decoding"]["decoder"] == "beam"

    bad = run_kocr("predict", SAMPLES, "--decoder", "viterbi")
    assert bad.returncode == 2 and "--decoder" in bad.stderr and "not one of auto, greedy, beam" in bad.stderr
    missing = run_kocr("predict", SAMPLES, "--lm", tmp_path / "none.lm")
    assert missing.returncode == 2 and "none.lm" in missing.stderr
    for r in (bad, missing):
        assert_no_traceback(r)


def test_lm_build_stores_decoding_defaults_that_beam_search_reads(lm_file: Path, tmp_path: Path) -> None:
    from kocr.charsets import Charset
    from kocr.decoding import ctc_decoder

    out = tmp_path / "tuned.lm"
    result = run_kocr(
        "lm", "build", lm_file.with_name("corpus.txt"), "-o", out, "--order", "3",
        "--lm-weight", "0.4", "--beam-width", "4", "--confidence", "0.8,-0.1",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    settings = ctc_decoder(Charset.preset("ko-2350"), decoder="beam", lm=out).settings
    assert (settings.lm_weight, settings.beam_width) == (0.4, 4)
    assert (settings.confidence_scale, settings.confidence_shift) == (0.8, -0.1)
    explicit = ctc_decoder(Charset.preset("ko-2350"), decoder="beam", lm=out, lm_weight=0.7).settings
    assert explicit.lm_weight == 0.7  # what the caller gives wins over the file's default


def test_non_finite_decoding_settings_are_refused_wherever_they_come_from(
    lm_file: Path, tmp_path: Path
) -> None:
    line = SAMPLES / "02.png"
    for option, value in (("--length-bonus", "nan"), ("--length-bonus", "inf"), ("--lm-weight", "inf")):
        for command in (
            ("predict", line),
            ("lm", "build", lm_file.with_name("corpus.txt"), "-o", tmp_path / "x.lm"),
        ):
            result = run_kocr(*command, option, value)
            assert result.returncode == 2, (command, option, value, result.stdout)
            assert f"Invalid value for '{option}'" in result.stderr and value in result.stderr
            assert_no_traceback(result)
    assert not (tmp_path / "x.lm").exists()

    # A file whose stored defaults were made another way, and one with flipped bytes inside its deflate
    # stream: one error naming the file, for every command that reads it.
    stored_inf = tmp_path / "stored-inf.lm"
    with zipfile.ZipFile(lm_file) as source, zipfile.ZipFile(stored_inf, "w") as target:
        for item in source.namelist():
            if item != "header.npy":
                target.writestr(item, source.read(item))
                continue
            header = json.loads(bytes(np.load(source.open(item), allow_pickle=False)).decode("utf-8"))
            header["decoder"] = {"lm_weight": float("inf")}  # json writes Infinity, and reads it back
            with target.open(item, "w") as handle:
                np.save(handle, np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8))
    flipped = tmp_path / "flipped.lm"
    raw = bytearray(lm_file.read_bytes())
    for i in range(1000, 1008):
        raw[i] ^= 0xFF
    flipped.write_bytes(bytes(raw))
    for damaged in (stored_inf, flipped):
        for command in (("lm", "info", damaged), ("predict", line, "--lm", damaged)):
            result = run_kocr(*command)
            assert result.returncode == 2, (command, result.stdout)
            (error,) = [row for row in result.stderr.splitlines() if row.startswith("error:")]
            assert error.startswith(f"error: {damaged}: damaged"), error
            assert_no_traceback(result)


def test_lm_info_text_that_cannot_be_measured_is_an_error_naming_it(lm_file: Path, tmp_path: Path) -> None:
    good = lm_file.with_name("corpus.txt")
    cp949 = tmp_path / "cp949.txt"
    cp949.write_bytes("한국어 손글씨 인식\n".encode() + "오늘 날씨가 맑습니다\n".encode("cp949"))
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    blank = tmp_path / "blank.txt"
    blank.write_text("\n   \n", encoding="utf-8")
    expected = {
        cp949: f"error: {cp949}:2: not valid UTF-8",
        empty: f"error: {empty}: no text in it",
        blank: f"error: {blank}: no text in it",
    }
    for bad, error in expected.items():
        result = run_kocr("lm", "info", lm_file, "--text", good, "--text", bad)
        assert result.returncode == 2, result.stdout
        assert result.stderr.startswith(error), result.stderr
        assert "perplexity" not in result.stdout and "nan" not in result.stdout
        assert_no_traceback(result)
