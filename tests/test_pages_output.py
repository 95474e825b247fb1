"""Page results as users receive them: page scores, page ground truth, and the files kocr predict writes
for pages (JSON records with line boxes, escaped TSV/CSV, one .txt per image)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from PIL import Image

from kocr.errors import InputFileError, KocrError
from kocr.pages.metrics import lines_found, page_text, score_page
from kocr.pages.truth import iter_page_samples
from kocr.pages.types import PageLine, PageResult, quad_from_box
from kocr.runtime.files import FilePrediction
from kocr.runtime.writers import text_file_names, write_predictions, write_text_files
from kocr.text import unescape_field

PAGE = PageResult(
    [
        PageLine(quad_from_box(10, 20, 300, 60), "첫째 줄입니다", 0.9),
        PageLine(quad_from_box(10, 80, 200, 120), "둘째\t줄", 0.5),
    ],
    width=400,
    height=600,
)


def test_page_cer_counts_characters_not_line_breaks() -> None:
    truth = ["가나다 라마바", "사아자"]
    assert score_page(truth, ["가나다 라마바", "사아자"]).cer == 0.0
    assert page_text(["가나다", "라마바 ", " 사아자"]) == "가나다 라마바 사아자"
    split = score_page(truth, ["가나다", "라마바", "사아자"])
    assert split.cer == 0.0  # the same text, broken elsewhere
    assert split.found == 1  # but the first line was cut in two: neither half is that line
    missing = score_page(truth, ["가나다 라마바"])
    assert missing.cer == pytest.approx(4 / 11)  # " 사아자" lost
    assert missing.found == 1 and missing.lines == 2


def test_lines_found_is_one_to_one() -> None:
    assert lines_found(["가나다라", "가나다라"], ["가나다라"]) == 1
    assert lines_found(["가나다라", "마바사아"], ["마바사아", "가나다마"]) == 2  # order does not matter
    assert lines_found(["가나다라"], ["가"]) == 0  # three of four characters wrong


def test_page_confidence_weighs_lines_by_length_and_records_carry_boxes() -> None:
    assert PAGE.text == "첫째 줄입니다\n둘째\t줄"
    assert PAGE.confidence == pytest.approx((0.9 * 7 + 0.5 * 4) / 11)
    assert PageResult([], 10, 10).confidence == 1.0
    record = PAGE.to_record()
    assert record["layout"] == "page"
    assert record["lines"][0] == {
        "box": [[10, 20], [300, 20], [300, 60], [10, 60]],
        "text": "첫째 줄입니다",
        "confidence": 0.9,
    }


def test_jsonl_tsv_csv_hold_a_page_as_one_record(tmp_path: Path) -> None:
    rows = [
        FilePrediction("line.png", "한 줄", 0.8),
        FilePrediction("page.png", PAGE.text, PAGE.confidence, PAGE),
    ]
    write_predictions(tmp_path / "p.jsonl", rows)
    records = [json.loads(line) for line in (tmp_path / "p.jsonl").read_text("utf-8").splitlines()]
    assert records[0] == {"path": "line.png", "text": "한 줄", "confidence": 0.8}  # lines as before
    assert records[1]["text"] == "첫째 줄입니다\n둘째\t줄" and len(records[1]["lines"]) == 2
    write_predictions(tmp_path / "p.json", rows)
    assert json.loads((tmp_path / "p.json").read_text("utf-8"))[1]["lines"][1]["box"][2] == [200, 120]
    write_predictions(tmp_path / "p.tsv", rows)
    lines = (tmp_path / "p.tsv").read_text("utf-8").splitlines()
    assert len(lines) == 3  # header + one row per image
    assert lines[2].split("\t")[1] == "첫째 줄입니다\\n둘째\\t줄"
    assert unescape_field(lines[2].split("\t")[1]) == PAGE.text
    write_predictions(tmp_path / "p.csv", rows)
    with (tmp_path / "p.csv").open(encoding="utf-8", newline="") as handle:
        table = list(csv.reader(handle))
    assert len(table) == 3 and unescape_field(table[2][1]) == PAGE.text


def test_text_files_one_per_image_never_overwritten(tmp_path: Path) -> None:
    rows = [FilePrediction("scans/a.png", PAGE.text, PAGE.confidence, PAGE), FilePrediction("b.jpg", "", 1.0)]
    written = write_text_files(tmp_path / "out", rows)
    assert [p.relative_to(tmp_path / "out").as_posix() for p in written] == ["scans/a.txt", "b.txt"]
    assert (tmp_path / "out/scans/a.txt").read_text("utf-8") == PAGE.text + "\n"
    assert (tmp_path / "out/b.txt").read_text("utf-8") == ""  # a blank page: an empty file
    with pytest.raises(KocrError, match=r"a.txt exists \(and 1 more\); pass --overwrite"):
        write_text_files(tmp_path / "out", rows)
    write_text_files(tmp_path / "out", rows, overwrite=True)
    with pytest.raises(KocrError, match="would both be written to"):
        text_file_names(["x/p1.png", "x/p1.jpg"])
    assert text_file_names(["/abs/../p.png"]) == ["abs/p.txt"]  # never outside the folder


def _page_image(path: Path) -> None:
    Image.new("RGB", (200, 300), "white").save(path)


def test_page_truth_from_gt_txt_beside_each_image(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    _page_image(tmp_path / "p1.png")
    (tmp_path / "p1.gt.txt").write_text("\ufeff첫 줄\n\n둘째 줄  \n", encoding="utf-8")
    _page_image(tmp_path / "p2.jpg")
    (tmp_path / "p2.jpg.gt.txt").write_text("셋째 줄\n", encoding="utf-8")
    _page_image(tmp_path / "p3.png")  # no text: reported, not scored as an empty page
    pages = list(iter_page_samples(tmp_path))
    assert [(p.name, p.lines) for p in pages] == [("p1.png", ["첫 줄", "둘째 줄"]), ("p2.jpg", ["셋째 줄"])]
    assert "p3.png: no p3.gt.txt beside it" in caplog.text


def test_page_truth_errors_name_the_file(tmp_path: Path) -> None:
    _page_image(tmp_path / "p1.png")
    (tmp_path / "p1.gt.txt").write_bytes("첫 줄\n".encode() + "둘째".encode("cp949"))
    with pytest.raises(InputFileError, match=r"p1.gt.txt:2: is not UTF-8"):
        list(iter_page_samples(tmp_path))
    empty = tmp_path / "none"
    empty.mkdir()
    _page_image(empty / "x.png")
    with pytest.raises(InputFileError, match=r"none of its 1 images has a NAME\.gt\.txt"):
        list(iter_page_samples(empty))


def test_page_truth_from_a_label_file_with_escaped_line_breaks(tmp_path: Path) -> None:
    _page_image(tmp_path / "p1.png")
    (tmp_path / "gt.txt").write_text("p1.png\t첫 줄\\n둘째 줄\n", encoding="utf-8")
    (page,) = iter_page_samples(tmp_path / "gt.txt")
    assert page.lines == ["첫 줄", "둘째 줄"] and page.image == tmp_path / "p1.png"
