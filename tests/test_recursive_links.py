"""Issue 24, defect 7: `kocr predict -r` skipped symlinked subfolders without a word. It now follows them
as `grep -R` and `cp -rL` do, each real folder read once (a loop ends, a second way into a folder adds
nothing), and a link to nothing named like an image is reported."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import render_line, run_kocr

from kocr.data.images import iter_image_files
from kocr.errors import InputFileError

pytestmark = pytest.mark.skipif(os.name != "posix", reason="symbolic links as POSIX makes them")


def linked_tree(root: Path) -> Path:
    """scans/ with a real subfolder, a link to a folder outside, a second link to its own subfolder, a
    link back up (a loop) and a link to nothing; elsewhere/ holds the linked-to images."""
    scans, elsewhere = root / "scans", root / "elsewhere"
    (scans / "real" / "deep").mkdir(parents=True)
    elsewhere.mkdir()
    for path, text in ((scans / "top.png", "1"), (scans / "real" / "a.png", "2"),
                       (scans / "real" / "deep" / "b.png", "3"), (elsewhere / "c.png", "4")):  # fmt: skip
        path.write_bytes(render_line(text))
    (scans / "linked").symlink_to(elsewhere)  # the usual case: a folder kept elsewhere
    (scans / "alias").symlink_to("real")  # a second way into a folder read anyway
    (scans / "real" / "deep" / "up").symlink_to("../..")  # a loop back to scans/
    (scans / "gone.png").symlink_to("nowhere.png")
    return scans


def test_recursion_follows_links_once_each(tmp_path: Path) -> None:
    scans = linked_tree(tmp_path)
    missing: list[InputFileError] = []
    names = [name for _, name in iter_image_files([scans], recursive=True, on_missing=missing.append)]
    assert names == ["linked/c.png", "real/a.png", "real/deep/b.png", "top.png"]
    assert [str(error) for error in missing] == [
        f"{scans / 'gone.png'}: a link to nothing (its target does not exist)"
    ]
    flat = [name for _, name in iter_image_files([scans], on_missing=missing.append)]
    assert flat == ["top.png"]  # without -r, subfolders (linked or not) stay unread


def test_predict_r_reads_a_linked_folder(tiny_model: Path, tmp_path: Path) -> None:
    scans = linked_tree(tmp_path)
    out = tmp_path / "out.json"
    result = run_kocr("predict", scans, "-r", "-m", tiny_model, "-o", out, timeout=120)
    assert result.returncode == 0, result.stderr
    paths = [r["path"] for r in json.loads(out.read_text(encoding="utf-8"))["predictions"]]
    assert paths == ["linked/c.png", "real/a.png", "real/deep/b.png", "top.png"]
    assert (
        "gone.png: a link to nothing" in result.stderr and "1 of 5 files could not be read" in result.stderr
    )
