"""Issue 24, defect 1: file names that are not UTF-8 (CP949 names from a Korean Windows zip).

`kocr predict FOLDER -o x.json` read every image and then died with `UnicodeEncodeError: surrogates not
allowed`, losing every result. These tests make real files with bytes names on this file system and run
the commands that print or write names; each output must hold the name by kocr's rule (undecodable bytes
as `\\xNN`, kocr.names) and map back to the very file.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import assert_no_traceback, render_line, run_kocr

from kocr.evaluate import read_test_log
from kocr.names import json_text, listed_file, name_from_printable, printable_name
from kocr.text import escape_field, unescape_field

HANGUL_CP949 = "한글".encode("cp949") + b".png"  # b"\xc7\xd1\xb1\xdb.png": not UTF-8
GA_CP949 = "가".encode("cp949")  # b"\xb0\xa1", a folder name
SHOWN = printable_name(os.fsdecode(HANGUL_CP949))  # "\xc7ѱ\xdb.png": d1 b1 happen to be UTF-8 (ѱ)


def write_named(folder: Path, name: bytes, data: bytes) -> str:
    """A file whose name is ``name``'s bytes exactly; its name as Python's str (surrogate escapes)."""
    try:
        with open(os.path.join(os.fsencode(folder), name), "wb") as handle:
            handle.write(data)
    except OSError as exc:  # macOS refuses names that are not UTF-8
        pytest.skip(f"this file system refuses names that are not UTF-8 ({exc})")
    return os.fsdecode(name)


def test_the_rule_maps_back_to_the_bytes() -> None:
    name = os.fsdecode(b"scan \\ " + HANGUL_CP949)
    assert SHOWN == "\\xc7\u0471\\xdb.png"
    assert os.fsencode(name_from_printable(printable_name(os.fsdecode(HANGUL_CP949)))) == HANGUL_CP949
    assert os.fsencode(unescape_field(escape_field(name))) == b"scan \\ " + HANGUL_CP949  # TSV: exact
    assert escape_field(name) == "scan \\\\ \\xc7\u0471\\xdb.png"
    assert json.loads(json_text({"path": name})) == {"path": printable_name(name)}
    assert printable_name("한글.png") == "한글.png" and name_from_printable("a\\x41") == "a\\x41"


@pytest.fixture
def cp949_folder(tmp_path: Path) -> tuple[Path, str]:
    folder = tmp_path / "zip"
    folder.mkdir()
    (folder / "ok.png").write_bytes(render_line("12"))
    return folder, write_named(folder, HANGUL_CP949, render_line("34"))


def test_predict_writes_every_format_and_the_table(tiny_model: Path, cp949_folder: tuple[Path, str]) -> None:
    folder, name = cp949_folder
    out = folder.parent
    for suffix in (".json", ".jsonl", ".tsv", ".csv"):
        result = run_kocr("predict", folder, "-m", tiny_model, "-o", out / f"x{suffix}")
        assert result.returncode == 0, result.stderr
        assert_no_traceback(result)
    records = json.loads((out / "x.json").read_text(encoding="utf-8"))["predictions"]
    lines = [json.loads(line) for line in (out / "x.jsonl").read_text(encoding="utf-8").splitlines()]
    with open(out / "x.csv", encoding="utf-8", newline="") as handle:
        table = list(csv.DictReader(handle))
    tsv = [row.split("\t") for row in (out / "x.tsv").read_text(encoding="utf-8").splitlines()[1:]]
    for paths in ([r["path"] for r in records], [r["path"] for r in lines], [r["path"] for r in table]):
        assert paths == ["ok.png", SHOWN]
        assert (folder / name_from_printable(paths[1])).is_file()  # back to the file
        assert os.fsencode(name_from_printable(paths[1])) == HANGUL_CP949
    assert [unescape_field(row[0]) for row in tsv] == ["ok.png", name]  # TSV: exactly the str name

    shown = run_kocr("predict", folder, "-m", tiny_model)
    assert shown.returncode == 0, shown.stderr
    assert SHOWN in shown.stdout and "ok.png" in shown.stdout

    txt = run_kocr("predict", folder, "-m", tiny_model, "--txt-dir", out / "texts")
    assert txt.returncode == 0, txt.stderr
    assert os.path.isfile(os.path.join(os.fsencode(out / "texts"), HANGUL_CP949[:-4] + b".txt"))


def test_a_skipped_undecodable_name_is_reported_by_the_rule(tiny_model: Path, tmp_path: Path) -> None:
    write_named(tmp_path, HANGUL_CP949, b"not an image")
    (tmp_path / "ok.png").write_bytes(render_line("12"))
    result = run_kocr("predict", tmp_path, "-m", tiny_model, "-o", tmp_path / "out.json")
    assert result.returncode == 0, result.stderr
    assert f"skipped: {tmp_path}/{SHOWN}: not a readable image" in result.stderr
    assert_no_traceback(result)


def test_data_tools_and_eval_write_and_read_back_undecodable_paths(tiny_model: Path, tmp_path: Path) -> None:
    """A dataset in a CP949-named folder, one image with a CP949 name: convert writes gt.txt with
    absolute paths (the folder's bytes as \\xNN), and split, lmdb and eval read it back."""
    source = Path(os.fsdecode(os.path.join(os.fsencode(tmp_path), GA_CP949)))
    try:
        (source / "images").mkdir(parents=True)
    except OSError as exc:
        pytest.skip(f"this file system refuses names that are not UTF-8 ({exc})")
    for i in range(3):
        (source / "images" / f"{i}.png").write_bytes(render_line(str(i) * 2))
    write_named(source / "images", HANGUL_CP949, render_line("34"))
    (source / "gt.txt").write_text(
        "images/0.png\t00\nimages/1.png\t11\nimages/2.png\t22\n" + f"images/{SHOWN}\t34\n", encoding="utf-8"
    )
    work = tmp_path / "work"
    converted = run_kocr("data", "convert", source / "gt.txt", "-o", work / "gt.txt")
    assert converted.returncode == 0, converted.stderr
    gt = (work / "gt.txt").read_text(encoding="utf-8").splitlines()
    assert len(gt) == 4 and all(printable_name(str(source)) in line for line in gt)
    assert gt[3].split("\t")[0].endswith(f"images/{SHOWN}")
    for line in gt:  # each listed path leads to its file
        assert listed_file("/", line.split("\t")[0]).is_file()

    split = run_kocr("data", "split", work / "gt.txt", "-o", work / "split", "--ratios", "0.5,0.5")
    assert split.returncode == 0, split.stderr
    parts = [(work / "split" / p).read_text(encoding="utf-8") for p in ("train.txt", "val.txt")]
    assert sum(part.count("\n") for part in parts) == 4 and "\\xc7" in "".join(parts)

    built = run_kocr("data", "lmdb", work / "gt.txt", "-o", work / "lmdb")
    assert built.returncode == 0, built.stderr
    assert "wrote 4 samples" in built.stdout

    log, summary = work / "test_log.txt", work / "summary.json"
    evaluated = run_kocr("eval", "-m", tiny_model, "--data", source / "gt.txt", "--data", work / "gt.txt",
                         "--log-file", log, "--summary-json", summary)  # fmt: skip
    assert evaluated.returncode == 0, evaluated.stderr
    assert_no_traceback(evaluated)
    rows = read_test_log(log)
    assert len(rows) == 8 and all(Path(row.image).is_file() for row in rows)  # exact names back
    assert os.fsencode(rows[3].image).endswith(b"/images/" + HANGUL_CP949)
    datasets = json.loads(summary.read_text(encoding="utf-8"))["datasets"]
    assert printable_name(str(source / "gt.txt")) in datasets

    single = run_kocr("eval", "-m", tiny_model, "--data", source / "gt.txt", "--log-file", work / "one.txt")
    assert single.returncode == 0, single.stderr
    assert [r.image for r in read_test_log(work / "one.txt")][3] == f"images/{os.fsdecode(HANGUL_CP949)}"


def test_training_records_an_undecodable_data_path(tiny_task: dict[str, Path], tmp_path: Path) -> None:
    """config.json (and the checkpoint) name the training data: a CP949 folder name is no crash."""
    from conftest import tiny_train_config

    from kocr.training.trainer import Trainer

    data = Path(os.fsdecode(os.path.join(os.fsencode(tmp_path), GA_CP949)))
    try:
        shutil.copytree(tiny_task["train"], data)
    except OSError as exc:
        pytest.skip(f"this file system refuses names that are not UTF-8 ({exc})")
    config = tiny_train_config(tiny_task, tmp_path / "runs", train_data=[str(data)], iters=2, valid_every=2)
    result = Trainer(config).run()
    recorded = json.loads((result.run_dir / "config.json").read_text(encoding="utf-8"))
    assert recorded["train"]["train_data"] == [printable_name(str(data))]
