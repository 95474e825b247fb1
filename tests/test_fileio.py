"""Atomic writes: whole files or none, with the mode ``open()`` would give them."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from kocr.fileio import atomic_write, atomic_write_bytes, atomic_write_text, current_umask

posix_only = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@posix_only
def test_written_files_get_the_umask_mode_not_mkstemps_0600(tmp_path: Path, umask_022: None) -> None:
    assert current_umask() == 0o022
    atomic_write_bytes(tmp_path / "a.bin", b"\x00\x01")
    atomic_write_text(tmp_path / "sub" / "b.txt", "가\n")
    assert mode(tmp_path / "a.bin") == 0o644 and mode(tmp_path / "sub" / "b.txt") == 0o644
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    assert mode(plain) == 0o644  # what open() does, for comparison
    os.umask(0o077)
    atomic_write_bytes(tmp_path / "private.bin", b"")
    assert mode(tmp_path / "private.bin") == 0o600


def test_content_replaces_the_old_file_and_text_has_lf(tmp_path: Path) -> None:
    target = tmp_path / "gt.txt"
    target.write_text("old\n")
    assert atomic_write_text(target, "a\tb\nc\td\n") == target
    assert target.read_bytes() == b"a\tb\nc\td\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gt.txt"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "best.pt"
    target.write_bytes(b"good")

    def fail(temporary: Path) -> None:
        temporary.write_bytes(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, fail)
    assert target.read_bytes() == b"good"
    assert [p.name for p in tmp_path.iterdir()] == ["best.pt"]
