"""Label-file reading: formats, detection, and bad lines reported by file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from kocr.data.labels.reader import read_label_file
from kocr.errors import InputFileError


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_gt_format_with_bom_crlf_and_trailing_blanks(tmp_path: Path) -> None:
    path = write(tmp_path / "gt.txt", "\ufeffa/1.png\t안녕 하세요  \r\nb/2.png\t가\r\n\r\n".encode())
    result = read_label_file(path)
    assert result.format == "gt"
    assert [(r.image, r.label, r.line) for r in result.records] == [
        ("a/1.png", "안녕 하세요", 1),
        ("b/2.png", "가", 2),
    ]
    assert result.problems == []


def test_labels_txt_splits_at_the_first_space(tmp_path: Path) -> None:
    path = write(tmp_path / "labels.txt", "0001.png 안녕 하세요 여러분\n0002.jpg 가\n".encode())
    result = read_label_file(path)
    assert result.format == "labels"
    assert [(r.image, r.label) for r in result.records] == [
        ("0001.png", "안녕 하세요 여러분"),
        ("0002.jpg", "가"),
    ]


def test_plain_lines(tmp_path: Path) -> None:
    path = write(tmp_path / "corpus.txt", "첫 번째 줄\n\n두 번째 줄\n".encode())
    result = read_label_file(path)
    assert result.format == "lines"
    assert [(r.label, r.line, r.image) for r in result.records] == [
        ("첫 번째 줄", 1, None),
        ("두 번째 줄", 3, None),
    ]


def test_bad_lines_are_reported_with_their_line_and_the_rest_is_kept(tmp_path: Path) -> None:
    data = (
        "a.png\t가\nb.png 나\n".encode()
        + b"c.png\t\xb0\xa1\n"
        + "d.png\t\n\t라\ne.png\t마\t바\nf.png\t사\n".encode()
    )
    path = write(tmp_path / "gt.txt", data)
    result = read_label_file(path, "gt")
    assert [r.label for r in result.records] == ["가", "사"]
    messages = {p.line: p.message for p in result.problems}
    assert set(messages) == {2, 3, 4, 5, 6}
    assert "no tab" in messages[2]
    assert "not valid UTF-8" in messages[3] and "cp949" in messages[3]
    assert "empty label" in messages[4]
    assert "empty image path" in messages[5]
    assert "more than one tab" in messages[6]
    assert str(result.problems[0]).startswith(f"{path}:2: ")


def test_strict_mode_raises_at_the_first_bad_line(tmp_path: Path) -> None:
    path = write(tmp_path / "gt.txt", "a.png\t가\nbroken\n".encode())
    with pytest.raises(InputFileError) as info:
        read_label_file(path, "gt", strict=True)
    assert info.value.line == 2 and str(info.value).startswith(f"{path}:2:")


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="not found"):
        read_label_file(tmp_path / "nope.txt")
    with pytest.raises(InputFileError, match="is a folder"):
        read_label_file(tmp_path)


def test_a_wholly_cp949_file_under_auto_detection_names_the_encoding(tmp_path: Path) -> None:
    """Defect 10: format sniffing on an all-CP949 gt.txt said "has no image column", with no line."""
    path = tmp_path / "gt.txt"
    path.write_bytes("a.png\t한글\nb.png\t국어\n".encode("cp949"))
    with pytest.raises(InputFileError) as info:
        read_label_file(path)
    message = str(info.value)
    assert message.startswith(f"{path}:1: not valid UTF-8") and "CP949" in message and "iconv" in message
    assert "2 of 2 lines" in message
    assert read_label_file(path, "gt").problems[0].line == 1  # an explicit format reports line by line
