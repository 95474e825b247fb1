"""Charset presets, files, charsets built from labels, serialisation, coverage."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from kocr.charsets import Charset, coverage_report, hangul
from kocr.charsets.presets import ASCII_PRINTABLE, KOREAN_PUNCTUATION
from kocr.errors import CharsetError, InputFileError

NON_HANGUL = 95 + len(KOREAN_PUNCTUATION)


@pytest.mark.parametrize(
    ("name", "size", "mode"),
    [
        ("ko", 11_172 + NON_HANGUL, "syllable"),
        ("ko-2350", 2_350 + NON_HANGUL, "syllable"),
        ("ko-jamo", 67 + NON_HANGUL, "jamo"),
        ("en", 95, "syllable"),
    ],
)
def test_preset_sizes(name: str, size: int, mode: str) -> None:
    charset = Charset.preset(name)
    assert len(charset) == size
    assert charset.mode == mode
    assert len(set(charset)) == size


def test_preset_contents() -> None:
    ko = Charset.preset("ko")
    assert ko.groups["Hangul syllables"] == 11_172
    assert ko.groups["  of which in KS X 1001"] == 2_350
    assert " " in ko and "·" in ko and "～" in ko and "“" in ko
    assert all(ch in ko for ch in ASCII_PRINTABLE)
    ko2350 = Charset.preset("ko-2350")
    assert "가" in ko2350 and "똠" not in ko2350 and "똠" in ko
    assert Charset.preset("en").groups == {
        "digits": 10,
        "Latin letters": 52,
        "space": 1,
        "ASCII punctuation": 32,
    }
    assert len(KOREAN_PUNCTUATION) == 28


def test_unknown_preset_names_the_choices() -> None:
    with pytest.raises(CharsetError, match="ko-2350"):
        Charset.load("korean")


def test_container_protocol_and_equality() -> None:
    a = Charset(["가", "나", " "])
    assert len(a) == 3 and list(a) == ["가", "나", " "]
    assert a.index("나") == 1 and a[2] == " "
    assert "가" in a and "다" not in a
    assert a == Charset(["가", "나", " "], name="other name")
    assert a != Charset(["나", "가", " "])
    assert a != Charset(["가", "나", " "], mode="jamo")
    assert hash(a) == hash(Charset(["가", "나", " "]))
    with pytest.raises(CharsetError):
        a.index("다")
    with pytest.raises(AttributeError):
        a.mode = "jamo"  # type: ignore[misc]


@pytest.mark.parametrize("bad", [["가", "가"], ["가나"], [""], ["\t"], ["\n"], []])
def test_invalid_symbol_lists_are_refused(bad: list[str]) -> None:
    with pytest.raises(CharsetError):
        Charset(bad)


def test_serialisation_round_trip_is_plain_data() -> None:
    charset = Charset.preset("ko-jamo")
    data = charset.to_dict()
    assert set(data) == {"name", "mode", "symbols"} and isinstance(data["symbols"], str)
    assert Charset.from_dict(data) == charset
    assert pickle.loads(pickle.dumps(charset)) == charset


def test_serialisation_survives_torch_weights_only_load(tmp_path: Path) -> None:
    import torch

    charset = Charset.preset("ko")
    torch.save({"charset": charset.to_dict()}, tmp_path / "c.pt")
    loaded = torch.load(tmp_path / "c.pt", weights_only=True)
    assert Charset.from_dict(loaded["charset"]) == charset


def test_file_round_trip_keeps_the_space(tmp_path: Path) -> None:
    charset = Charset(["가", " ", "A", "<"])
    path = tmp_path / "charset.txt"
    charset.save(path)
    assert path.read_text(encoding="utf-8") == "가\n<space>\nA\n<\n"
    assert Charset.from_file(path) == charset
    assert Charset.load(path) == charset


def test_file_format_details(tmp_path: Path) -> None:
    path = tmp_path / "c.txt"
    path.write_bytes("\ufeff가\r\n\r\n \r\n나\n".encode())  # BOM, CRLF, blank line skipped, ' ' = space
    assert list(Charset.from_file(path)) == ["가", " ", "나"]


def test_file_guesses_jamo_mode(tmp_path: Path) -> None:
    path = tmp_path / "jamo.txt"
    path.write_text("\n".join(hangul.INITIALS + hangul.MEDIALS) + "\n", encoding="utf-8")
    assert Charset.from_file(path).mode == "jamo"


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        (b"\xea\xb0\x80\nab\n", 2, "one symbol per line"),
        (b"\xea\xb0\x80\n\xea\xb0\x80\n", 2, "repeats line 1"),
        (b"\xea\xb0\x80\n\xb0\xa1\n", 2, "not valid UTF-8"),
    ],
)
def test_bad_charset_files_name_the_line(tmp_path: Path, content: bytes, line: int, message: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(InputFileError, match=message) as info:
        Charset.from_file(path)
    assert info.value.line == line and str(path) in str(info.value)


def test_missing_charset_file() -> None:
    with pytest.raises(CharsetError, match="neither a charset preset"):
        Charset.load("/no/such/charset.txt")


def test_from_labels_orders() -> None:
    labels = ["나나 가", "다나"]
    by_frequency = Charset.from_labels(labels)
    assert list(by_frequency) == ["나", " ", "가", "다"]  # 3, then ties by code point
    by_codepoint = Charset.from_labels(labels, order="codepoint")
    assert list(by_codepoint) == [" ", "가", "나", "다"]
    assert list(Charset.from_labels(labels, min_count=2)) == ["나"]
    assert list(Charset.from_labels(["가"], include=["A"])) == ["가", "A"]
    jamo = Charset.from_labels(["가각"], mode="jamo", order="codepoint")
    assert jamo.mode == "jamo" and list(jamo) == ["\u1100", "\u1161", "\u11a8"]


def test_jamo_mode_tokenises_and_recombines() -> None:
    charset = Charset.preset("ko-jamo")
    assert charset.tokenize("한 A") == ["\u1112", "\u1161", "\u11ab", " ", "A"]
    assert charset.detokenize(charset.tokenize("똠방각하 OCR!")) == "똠방각하 OCR!"
    assert charset.covers("똠방각하") and not Charset.preset("ko-2350").covers("똠방각하")
    every = "".join(hangul.ALL_SYLLABLES)
    assert charset.covers(every)
    assert charset.detokenize(charset.tokenize(every)) == every


def test_missing_symbols() -> None:
    assert Charset.preset("ko-2350").missing("똠방각하 뷁") == ["똠", "뷁"]
    assert Charset.preset("ko").missing("漢字") == ["漢", "字"]


def test_coverage_report_counts_and_locations() -> None:
    labels = [("가나", "a.txt:1"), ("똠방", "a.txt:2"), ("똠똠 漢", "a.txt:3"), ("다", "a.txt:4")]
    report = coverage_report(labels, Charset.preset("ko-2350"))
    assert report.num_samples == 4 and report.samples_outside == 2
    assert report.num_symbols == 2 + 2 + 4 + 1 and report.symbols_outside == 4
    assert [(m.symbol, m.count, m.samples) for m in report.missing] == [("똠", 3, 2), ("漢", 1, 1)]
    assert report.missing[0].examples == ["a.txt:2", "a.txt:3"]
    assert not report.fully_covered and report.sample_coverage == 0.5
    assert coverage_report([], Charset.preset("en")).fully_covered


def test_a_one_line_file_is_a_clovaai_character_string(tmp_path) -> None:
    from kocr.errors import InputFileError

    path = tmp_path / "opt_character.txt"
    path.write_text("0123456789가나다 abc\n", encoding="utf-8")
    charset = Charset.from_file(path)
    assert list(charset) == list("0123456789가나다 abc") and charset.index("가") == 10
    path.write_text("가나가\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="character 3 repeats character 1"):
        Charset.from_file(path)
    path.write_text("<space>\n", encoding="utf-8")  # a single symbol per line stays that
    assert list(Charset.from_file(path)) == [" "]
