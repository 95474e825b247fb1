"""Issue 24, defect 6: `predict -o x.tsv` CSV-quoted a text holding `"` (`"그는 ""좋다""고 했다"`), while
test_log.txt is plain TSV with `\\t \\n \\\\` escapes. Every .tsv kocr writes now follows test_log's one
convention, and .csv stays RFC 4180 CSV."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from conftest import render_line, run_kocr

from kocr import evaluate as evaluation
from kocr.runtime.files import FilePrediction
from kocr.runtime.writers import write_predictions
from kocr.text import unescape_field

QUOTED = '그는 "좋다"고 했다'
AWKWARD = ["plain", QUOTED, "tab\there", "back\\slash", "two\nlines", 'comma, and "quotes"']


def test_tsv_predictions_are_escaped_as_test_log_is(tmp_path: Path) -> None:
    rows = [FilePrediction(f"{i}.png", text, 0.5) for i, text in enumerate(AWKWARD)]
    rows.append(FilePrediction(os.fsdecode(b"\xc7\xd1.png"), "가", 0.5))  # a CP949 name
    write_predictions(tmp_path / "p.tsv", rows)
    lines = (tmp_path / "p.tsv").read_text(encoding="utf-8").split("\n")
    assert lines[0] == "path\ttext\tconfidence" and lines[-1] == "" and len(lines) == len(rows) + 2
    fields = [line.split("\t") for line in lines[1:-1]]
    assert all(len(row) == 3 for row in fields)
    assert fields[1][1] == QUOTED  # never quoted: " is just a character
    assert [(unescape_field(path), unescape_field(text)) for path, text, _ in fields] == [
        (row.path, row.text) for row in rows
    ]

    log = io.StringIO()
    writer = evaluation.TestLogWriter(log)  # imported by module: pytest would collect Test* names
    for row in rows:
        writer.write(evaluation.EvalRow(row.path, row.text, row.text, 0.5, 0.0))
    logged = [line.split("\t") for line in log.getvalue().split("\n")[1:-1]]
    assert [row[:2] for row in logged] == [row[:2] for row in fields]  # one convention, field for field


def test_csv_predictions_are_rfc_4180(tmp_path: Path) -> None:
    rows = [FilePrediction(f"{i}.png", text, 0.5) for i, text in enumerate(AWKWARD)]
    write_predictions(tmp_path / "p.csv", rows)
    raw = (tmp_path / "p.csv").read_text(encoding="utf-8")
    assert '"그는 ""좋다""고 했다"' in raw and "\\t" not in raw and "\\n" not in raw
    with open(tmp_path / "p.csv", encoding="utf-8", newline="") as handle:
        table = list(csv.reader(handle))
    assert table[0] == ["path", "text", "confidence"]
    assert [row[1] for row in table[1:]] == AWKWARD


def test_predict_writes_a_quoted_file_name_plainly_in_tsv_and_quoted_in_csv(
    tiny_model: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "scans"
    folder.mkdir()
    name = 'say "hi", ok.png'
    (folder / name).write_bytes(render_line("12"))
    for suffix in (".tsv", ".csv"):
        result = run_kocr("predict", folder, "-m", tiny_model, "-o", tmp_path / f"p{suffix}")
        assert result.returncode == 0, result.stderr
    tsv = (tmp_path / "p.tsv").read_text(encoding="utf-8").splitlines()
    assert tsv[1].split("\t")[0] == name
    with open(tmp_path / "p.csv", encoding="utf-8", newline="") as handle:
        assert next(iter(list(csv.reader(handle))[1:]))[0] == name
    assert '"say ""hi"", ok.png"' in (tmp_path / "p.csv").read_text(encoding="utf-8")
