"""`kocr data convert|split|lmdb|stats`, run as a user would: a subprocess of the real CLI."""

from __future__ import annotations

import io
import os
import shutil
import stat
from pathlib import Path

import lmdb
import pytest
from conftest import FIXTURES, assert_no_traceback, run_kocr
from PIL import Image


@pytest.fixture
def aihub(tmp_path: Path) -> Path:
    root = tmp_path / "aihub"
    shutil.copytree(FIXTURES / "aihub", root)
    return root


def make_png(path: Path, width: int = 12) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    Image.new("L", (width, 8), 90).save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return path


def lmdb_labels(path: Path) -> list[str]:
    env = lmdb.open(str(path), readonly=True, lock=False)
    try:
        with env.begin() as txn:
            count = int(txn.get(b"num-samples"))
            return [txn.get(b"label-%09d" % i).decode() for i in range(1, count + 1)]
    finally:
        env.close()


def test_convert_aihub_fixture(aihub: Path) -> None:
    gt = aihub / "gt.txt"
    result = run_kocr("data", "convert", aihub / "handwriting_data_info1.json", "-o", gt)
    assert result.returncode == 0, result.stderr
    assert_no_traceback(result)
    assert gt.read_text(encoding="utf-8").splitlines() == [
        "images/handwriting/1_syllable/00000001.png\t가",
        "images/handwriting/2_word/00000002.png\t나무",
        "images/handwriting/2_word/00000007.png\t한글",
    ]
    assert "wrote 3 samples" in result.stdout
    err = result.stderr
    assert "missing image" in err and "image 00000005" in err and "00000005.png not found" in err
    assert "stray jamo" in err and "국ㅇㄴ" in err
    assert "empty text" in err and "image 00000004" in err
    assert "ambiguous image" in err and "annotation without image entry" in err

    again = run_kocr("data", "convert", aihub / "handwriting_data_info1.json", "-o", gt)
    assert again.returncode == 2 and "--overwrite" in again.stderr
    assert_no_traceback(again)
    words = run_kocr(
        "data", "convert", aihub / "handwriting_data_info1.json", "-o", gt, "--type", "word", "--overwrite"
    )
    assert words.returncode == 0, words.stderr
    assert [line.split("\t")[1] for line in gt.read_text(encoding="utf-8").splitlines()] == ["나무", "한글"]


def test_convert_strict_and_bad_inputs_fail_cleanly(aihub: Path, tmp_path: Path) -> None:
    strict = run_kocr(
        "data", "convert", aihub / "handwriting_data_info1.json", "-o", tmp_path / "s.txt", "--strict"
    )
    assert strict.returncode == 2 and "image 00000003" in strict.stderr and "국ㅇㄴ" in strict.stderr
    assert not (tmp_path / "s.txt").exists()
    broken = tmp_path / "broken.json"
    broken.write_text('{"images": [\n}', encoding="utf-8")
    bad_json = run_kocr("data", "convert", broken, "-o", tmp_path / "b.txt")
    assert bad_json.returncode == 2 and f"{broken}:2: not valid JSON" in bad_json.stderr
    missing = run_kocr("data", "convert", tmp_path / "nope.txt", "-o", tmp_path / "c.txt")
    assert missing.returncode == 2 and "nope.txt" in missing.stderr
    bad_type = run_kocr(
        "data", "convert", aihub / "printed_data_info.json", "-o", tmp_path / "d.txt", "-t", "x"
    )
    assert bad_type.returncode == 2 and "unknown sample type" in bad_type.stderr
    for result in (strict, bad_json, missing, bad_type):
        assert_no_traceback(result)


def test_convert_labels_txt_with_crlf_bom_and_spaces(tmp_path: Path) -> None:
    make_png(tmp_path / "in" / "0001.png")
    make_png(tmp_path / "in" / "0002.png")
    labels = tmp_path / "in" / "labels.txt"
    labels.write_bytes("\ufeff0001.png 안녕 하세요\r\n0002.png 한국어  OCR\r\n".encode())
    gt = tmp_path / "in" / "gt.txt"
    result = run_kocr("data", "convert", labels, "-o", gt)
    assert result.returncode == 0, result.stderr
    assert gt.read_bytes().decode("utf-8") == "0001.png\t안녕 하세요\n0002.png\t한국어 OCR\n"


def test_split(tmp_path: Path) -> None:
    for i in range(20):
        make_png(tmp_path / "data" / "img" / f"{i:02d}.png")
    gt = tmp_path / "data" / "gt.txt"
    gt.write_text("".join(f"img/{i:02d}.png\t라벨 {i}\n" for i in range(20)), encoding="utf-8")
    result = run_kocr(
        "data", "split", gt, "-o", tmp_path / "splits", "--ratios", "0.8,0.1,0.1", "--seed", "7"
    )
    assert result.returncode == 0, result.stderr
    parts = {
        n: (tmp_path / "splits" / f"{n}.txt").read_text(encoding="utf-8") for n in ("train", "val", "test")
    }
    lines = [line for text in parts.values() for line in text.splitlines()]
    assert [len(t.splitlines()) for t in parts.values()] == [16, 2, 2] and len(set(lines)) == 20
    first = lines[0].split("\t")[0]
    assert Path(first).is_absolute() and Path(first).is_file()  # images live outside splits/
    again = run_kocr("data", "split", gt, "-o", tmp_path / "splits", "--seed", "7", "--overwrite")
    assert again.returncode == 0
    assert (tmp_path / "splits" / "train.txt").read_text(encoding="utf-8") == parts["train"]
    bad = run_kocr("data", "split", gt, "-o", tmp_path / "other", "--ratios", "0.8,0.3")
    assert bad.returncode == 2 and "add up to 1" in bad.stderr
    assert_no_traceback(bad)


def test_lmdb_reports_bad_images_and_lines_and_writes_the_rest(tmp_path: Path) -> None:
    make_png(tmp_path / "img" / "a.png")
    make_png(tmp_path / "img" / "b.png", width=20)
    (tmp_path / "img" / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    gt = tmp_path / "gt.txt"
    gt.write_bytes(
        "img/a.png\t가나\nimg/corrupt.png\t깨짐\nimg/gone.png\t없음\n".encode()
        + b"img/a.png\t\xc7\xd1\xb1\xdb\n"  # 한글 in CP949
        + "img/b.png\t다 라\n".encode()
    )
    out = tmp_path / "db"
    result = run_kocr("data", "lmdb", gt, "-o", out, "--workers", "2")
    assert result.returncode == 0, result.stderr
    assert_no_traceback(result)
    assert lmdb_labels(out) == ["가나", "다 라"]
    err = result.stderr
    assert f"{gt}:2" in err and "corrupt.png" in err and "not a readable image" in err
    assert f"{gt}:3" in err and "gone.png" in err and "file not found" in err
    assert f"{gt}:4" in err and "not valid UTF-8" in err and "cp949" in err
    assert "wrote 2 samples" in result.stdout
    skipped = (out / "skipped.txt").read_text(encoding="utf-8")
    assert all(f"{gt}:{line}" in skipped for line in (2, 3, 4))

    again = run_kocr("data", "lmdb", gt, "-o", out)
    assert again.returncode == 2 and "--overwrite" in again.stderr
    assert_no_traceback(again)
    strict = run_kocr("data", "lmdb", gt, "-o", tmp_path / "strict", "--strict")
    assert strict.returncode == 2 and f"{gt}:" in strict.stderr and not (tmp_path / "strict").exists()
    assert_no_traceback(strict)


def test_lmdb_from_aihub_then_stats(aihub: Path, tmp_path: Path) -> None:
    out = tmp_path / "lmdb" / "hw"
    built = run_kocr("data", "lmdb", aihub / "handwriting_data_info1.json", "-o", out, "--workers", "1")
    assert built.returncode == 0, built.stderr
    assert lmdb_labels(out) == ["가", "나무", "한글"]
    stats = run_kocr("data", "stats", tmp_path / "lmdb", "--charset", "ko-2350")
    assert stats.returncode == 0, stats.stderr
    assert str(out) in stats.stdout and "samples" in stats.stdout
    assert "100.00% of samples" in stats.stdout and "width min / mean / max" in stats.stdout
    nothing = run_kocr("data", "stats", aihub)
    assert nothing.returncode == 2 and "no LMDB" in nothing.stderr
    assert_no_traceback(nothing)


# --- issue 15 ---------------------------------------------------------------------------------------


def test_duplicates_are_reported_by_convert_lmdb_and_split_and_never_leak(tmp_path: Path) -> None:
    """Defect 6, the CLI: every tool that builds a dataset names repeated images."""
    for i in range(8):
        make_png(tmp_path / "img" / f"{i}.png", width=10 + i)
    lines = [f"img/{i}.png\t라벨{i}" for i in range(8)] + ["img/0.png\t라벨0", "img/1.png\t다른"]
    gt = tmp_path / "gt.txt"
    gt.write_text("\n".join(lines) + "\n", encoding="utf-8")

    converted = run_kocr("data", "convert", gt, "-o", tmp_path / "out" / "gt.txt")
    assert converted.returncode == 0, converted.stderr
    assert "image listed twice" in converted.stderr and "image with two labels" in converted.stderr
    assert f"{gt}:10" in converted.stderr and "'다른'" in converted.stderr
    assert len((tmp_path / "out" / "gt.txt").read_text(encoding="utf-8").splitlines()) == 8

    built = run_kocr("data", "lmdb", gt, "-o", tmp_path / "db")
    assert built.returncode == 0, built.stderr
    assert "image with two labels" in built.stderr and len(lmdb_labels(tmp_path / "db")) == 8

    split = run_kocr("data", "split", gt, "-o", tmp_path / "splits", "--ratios", "0.5,0.25,0.25")
    assert split.returncode == 0, split.stderr
    assert "image with two labels" in split.stderr and "go to one part" in split.stderr
    parts = [
        {line.split("\t")[0] for line in (tmp_path / "splits" / f"{n}.txt").read_text("utf-8").splitlines()}
        for n in ("train", "val", "test")
    ]
    assert not (parts[0] & parts[1]) and not (parts[0] & parts[2]) and not (parts[1] & parts[2])
    assert sum(len(p) for p in parts) == 8  # all ten lines kept, each image in one part


def test_split_takes_two_or_three_ratios_and_refuses_empty_parts(tmp_path: Path) -> None:
    for i in range(3):
        make_png(tmp_path / f"{i}.png")
    gt = tmp_path / "gt.txt"
    gt.write_text("".join(f"{i}.png\t가{i}\n" for i in range(3)), encoding="utf-8")
    four = run_kocr("data", "split", gt, "-o", tmp_path / "a", "--ratios", "0.4,0.2,0.2,0.2")
    assert four.returncode == 2 and "--ratios" in four.stderr and "2 or 3" in four.stderr
    empty = run_kocr("data", "split", gt, "-o", tmp_path / "b", "--ratios", "0.8,0.1,0.1")
    assert empty.returncode == 2 and "would be empty" in empty.stderr and not (tmp_path / "b").exists()
    for result in (four, empty):
        assert_no_traceback(result)


def test_a_cp949_gt_txt_under_auto_detection_names_the_line_and_encoding(tmp_path: Path) -> None:
    """Defect 10: convert, lmdb and split all say where and how to convert, not "no image column"."""
    make_png(tmp_path / "a.png")
    gt = tmp_path / "gt.txt"
    gt.write_bytes("a.png\t한글\n".encode("cp949"))
    for args in (
        ("data", "convert", gt, "-o", tmp_path / "out.txt"),
        ("data", "lmdb", gt, "-o", tmp_path / "db"),
        ("data", "split", gt, "-o", tmp_path / "parts"),
    ):
        result = run_kocr(*args)
        assert result.returncode == 2, result.stderr
        assert f"{gt}:1" in result.stderr and "CP949" in result.stderr and "iconv" in result.stderr
        assert "no image column" not in result.stderr
        assert_no_traceback(result)


def test_lmdb_keeps_labels_with_the_araea_of_kocrs_own_presets(tmp_path: Path) -> None:
    """Defect 14: 12 of 5,000 lines of kocr's own synth output were dropped as "stray jamo"."""
    make_png(tmp_path / "a.png")
    make_png(tmp_path / "b.png")
    gt = tmp_path / "gt.txt"
    gt.write_text("a.png\t1ㆍ2 확인\nb.png\tㅋㅋ\n", encoding="utf-8")
    result = run_kocr("data", "lmdb", gt, "-o", tmp_path / "db")
    assert result.returncode == 0, result.stderr
    assert lmdb_labels(tmp_path / "db") == ["1ㆍ2 확인"] and "ㅋㅋ" in result.stderr


def test_an_existing_output_names_the_cli_option_not_a_python_keyword(tmp_path: Path) -> None:
    make_png(tmp_path / "a.png")
    gt = tmp_path / "gt.txt"
    gt.write_text("a.png\t가\n", encoding="utf-8")
    (tmp_path / "db").mkdir()
    result = run_kocr("data", "lmdb", gt, "-o", tmp_path / "db")
    assert result.returncode == 2 and "pass --overwrite" in result.stderr
    assert "overwrite=True" not in result.stderr


def test_a_truncated_lmdb_is_one_error_in_stats_eval_and_train_and_train_makes_no_run(tmp_path: Path) -> None:
    lines = [make_png(tmp_path / "img" / f"{i:02d}.png", width=300 + i) for i in range(30)]
    gt = tmp_path / "gt.txt"
    gt.write_text("".join(f"img/{p.name}\t가나{i}\n" for i, p in enumerate(lines)), encoding="utf-8")
    db = tmp_path / "db"
    assert run_kocr("data", "lmdb", gt, "--output", db).returncode == 0
    whole = tmp_path / "whole"
    shutil.copytree(db, whole)
    os.truncate(db / "data.mdb", (db / "data.mdb").stat().st_size // 2)

    runs = tmp_path / "runs"
    for args in (
        ("data", "stats", db),
        ("eval", "--data", db, "--batch-size", "4"),
        (
            "train",
            "--train-data",
            db,
            "--valid-data",
            whole,
            "--model",
            "vgg-bilstm-ctc-small",
            "--batch-size",
            "4",
            "--iters",
            "1",
            "--workers",
            "0",
            "--output",
            runs,
        ),
    ):
        result = run_kocr(*args)
        assert result.returncode == 2, (args, result.returncode, result.stderr)
        assert_no_traceback(result)
        errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert errors == [f"error: {db}: data.mdb is truncated: " + errors[0].split("truncated: ", 1)[-1]]
    assert not runs.exists()


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
@pytest.mark.parametrize(
    ("umask", "folder_mode", "file_mode"), [(0o002, 0o775, 0o664), (0o077, 0o700, 0o600)]
)
def test_an_lmdb_folder_and_its_files_follow_the_umask(
    tmp_path: Path, umask: int, folder_mode: int, file_mode: int
) -> None:
    make_png(tmp_path / "a.png")
    (tmp_path / "broken.png").write_bytes(b"not a png")
    gt = tmp_path / "gt.txt"
    gt.write_text("a.png\t가\nbroken.png\t나\n", encoding="utf-8")
    db = tmp_path / "db"
    result = run_kocr("data", "lmdb", gt, "--output", db, umask=umask)
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(db.stat().st_mode) == folder_mode
    files = {p.name: stat.S_IMODE(p.stat().st_mode) for p in db.iterdir()}
    assert files == {"data.mdb": file_mode, "lock.mdb": file_mode, "skipped.txt": file_mode}
