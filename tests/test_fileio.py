"""Atomic writes: whole files or none, with the mode ``open()`` would give them."""

from __future__ import annotations

import os
import re
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


# --- issue 15: one file-writing helper serves every output ----------------------------------------------

WRITES = re.compile(
    r"\.write_text\(|\.write_bytes\(|\bopen\([^)]*[\"'][wax]b?[\"']|\.save\((?!buffer)|torch\.save\("
)
#: (module, text on the line) → why it writes without kocr.fileio.
DIRECT_WRITES = {
    (
        "kocr/training/reporting.py",
        'path.open("w"',
    ): "log.csv's header: appended to row by row as training goes",
    ("kocr/training/reporting.py", 'self.path.open("a"'): "log.csv rows: a resumed run continues the log",
    (
        "kocr/data/synth/image_folder.py",
        '(self._temp / "gt.txt").open("w"',
    ): "inside a temporary folder renamed whole",
    (
        "kocr/data/synth/image_folder.py",
        "(self._temp / name).write_bytes(",
    ): "inside a temporary folder renamed whole",
    ("kocr/data/labels/regions.py", "crop.save(target"): "one of thousands of crops: files, not a document",
    ("kocr/checkpoints/format.py", "torch.save(payload, buffer)"): "to memory, then atomic_write_bytes",
    ("kocr/commands/charset.py", "charset.save(output)"): "Charset.save writes through fileio",
    ("kocr/commands/lm.py", "model.save(output)"): "CharLM.save writes through fileio",
}


def test_every_file_kocr_writes_goes_through_fileio() -> None:
    """Defect 16 (class): gt.txt, checkpoints and ONNX files were 0600; test logs, summaries, predictions,
    previews, skipped.txt and charset files were written each its own way. Only kocr.fileio writes files,
    but for the listed exceptions."""
    root = Path(__file__).resolve().parents[1]
    found = []
    for module in sorted((root / "kocr").rglob("*.py")):
        name = module.relative_to(root).as_posix()
        if name == "kocr/fileio.py":
            continue
        for number, line in enumerate(module.read_text(encoding="utf-8").splitlines(), start=1):
            if WRITES.search(line) and not any(name == m and text in line for m, text in DIRECT_WRITES):
                found.append(f"{name}:{number}: {line.strip()}")
    assert not found, "write through kocr.fileio (or list why not):\n" + "\n".join(found)


@posix_only
def test_cli_outputs_get_the_umask_mode(tmp_path: Path, umask_022: None) -> None:
    """The files convert and split write (and the charset file, skipped.txt) read 0644 under umask 022."""
    from conftest import run_kocr
    from PIL import Image

    Image.new("L", (10, 8), 90).save(tmp_path / "a.png")
    Image.new("L", (10, 8), 90).save(tmp_path / "b.png")
    (tmp_path / "c.png").write_bytes(b"broken")
    gt = tmp_path / "gt.txt"
    gt.write_text("a.png\t가\nb.png\t나\nc.png\t다\n", encoding="utf-8")
    for args in (
        ("data", "convert", gt, "-o", tmp_path / "out" / "gt.txt"),
        ("data", "split", gt, "-o", tmp_path / "parts", "--ratios", "0.5,0.5"),
        ("data", "lmdb", gt, "-o", tmp_path / "db"),
        ("charset", "build", "--from", gt, "-o", tmp_path / "charset.txt"),
    ):
        result = run_kocr(*args)
        assert result.returncode == 0, result.stderr
    for path in (
        tmp_path / "out" / "gt.txt",
        tmp_path / "parts" / "train.txt",
        tmp_path / "parts" / "val.txt",
        tmp_path / "db" / "skipped.txt",
        tmp_path / "charset.txt",
    ):
        assert mode(path) == 0o644, path


@posix_only
def test_a_file_written_as_it_goes_appears_whole_or_not_at_all(tmp_path: Path, umask_022: None) -> None:
    from kocr.fileio import atomic_open

    target = tmp_path / "test_log.txt"
    with atomic_open(target) as handle:
        handle.write("row 1\n")
        assert not target.exists()  # rows go to a temporary file until the end
        handle.write("row 2\n")
    assert target.read_text(encoding="utf-8") == "row 1\nrow 2\n" and mode(target) == 0o644
    with pytest.raises(RuntimeError), atomic_open(target) as handle:
        handle.write("half")
        raise RuntimeError("evaluation failed")
    assert target.read_text(encoding="utf-8") == "row 1\nrow 2\n"
    assert [p.name for p in tmp_path.iterdir()] == ["test_log.txt"]


def test_an_image_name_without_a_known_suffix_is_refused_before_drawing(tmp_path: Path) -> None:
    """Defect 3: `data synth --preview sheet` wrote the LMDB, then crashed in PIL on the name."""
    from PIL import Image

    from kocr.fileio import atomic_save_image, check_image_suffix

    assert check_image_suffix(tmp_path / "sheet.PNG") == "PNG"
    for bad in ("sheet", "sheet.txt"):
        with pytest.raises(ValueError, match=r"\.png or \.jpg"):
            check_image_suffix(tmp_path / bad)
    atomic_save_image(tmp_path / "sheet.jpg", Image.new("L", (4, 4)))
    assert Image.open(tmp_path / "sheet.jpg").format == "JPEG"
