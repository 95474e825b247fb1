"""`kocr charset ...` and the CLI shell, run as a user would: a subprocess of the installed package."""

from __future__ import annotations

from pathlib import Path

from conftest import assert_no_traceback, run_kocr


def test_help_lists_the_commands() -> None:
    result = run_kocr("--help")
    assert result.returncode == 0
    assert "charset" in result.stdout and "predict" in result.stdout


def test_version() -> None:
    from kocr import __version__

    result = run_kocr("--version")
    assert result.returncode == 0 and __version__ in result.stdout


def test_show_presets() -> None:
    ko = run_kocr("charset", "show", "ko")
    assert ko.returncode == 0, ko.stderr
    assert "11,172" in ko.stdout and "11,295 symbols" in ko.stdout
    ks = run_kocr("charset", "show", "ko-2350")
    assert ks.returncode == 0 and "2,350" in ks.stdout


def test_show_unknown_name_is_a_clean_error() -> None:
    result = run_kocr("charset", "show", "korean")
    assert result.returncode == 2
    assert "neither a charset preset" in result.stderr
    assert_no_traceback(result)


def test_build_then_check_round_trip(tmp_path: Path) -> None:
    gt = tmp_path / "gt.txt"
    gt.write_text("1.png\t가나 다\n2.png\t나나\n", encoding="utf-8")
    out = tmp_path / "charset.txt"
    built = run_kocr("charset", "build", "--from", gt, "-o", out, "--order", "codepoint")
    assert built.returncode == 0, built.stderr
    assert out.read_text(encoding="utf-8") == "<space>\n가\n나\n다\n"
    again = run_kocr("charset", "build", "--from", gt, "-o", out)
    assert again.returncode == 2 and "--overwrite" in again.stderr
    check = run_kocr("charset", "check", gt, "--charset", out)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "all 2 labels are covered" in check.stdout


def test_check_reports_unknown_characters_malformed_and_non_utf8_lines(tmp_path: Path) -> None:
    gt = tmp_path / "gt.txt"
    gt.write_bytes(
        "1.png\t안녕하세요\n2.png\t똠방각하\n3.png 탭이없음\n".encode()
        + b"4.png\t\xb0\xa1\n"
        + "5.png\t뷁\n".encode()
    )
    result = run_kocr("charset", "check", gt, "--charset", "ko-2350")
    assert result.returncode == 1
    assert_no_traceback(result)
    assert "똠" in result.stdout and "U+B620" in result.stdout and f"{gt}:2" in result.stdout
    assert "뷁" in result.stdout and f"{gt}:5" in result.stdout
    assert f"{gt}:3" in result.stderr and "no tab" in result.stderr
    assert f"{gt}:4" in result.stderr and "not valid UTF-8" in result.stderr


def test_check_missing_file_is_a_clean_error(tmp_path: Path) -> None:
    result = run_kocr("charset", "check", tmp_path / "missing.txt")
    assert result.returncode == 2
    assert "missing.txt" in result.stderr and "does not exist" in result.stderr  # checked before any work
    assert_no_traceback(result)
