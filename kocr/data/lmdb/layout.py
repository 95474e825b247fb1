"""clovaai's LMDB layout, kept exactly (shared by clovaai, PARSeq and EasyOCR-trainer users): the key
format, reading the sample count and labels, and finding LMDB folders.

``image-%09d`` holds the original encoded file bytes, ``label-%09d`` the UTF-8 label, indices are 1-based
and contiguous, ``num-samples`` is an ASCII decimal count.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import lmdb

from kocr.errors import InputFileError

NUM_SAMPLES_KEY = b"num-samples"
LMDB_FILES = frozenset({"data.mdb", "lock.mdb"})
# Files kocr or clovaai put next to the LMDB; a folder holding only these may be replaced.
REPLACEABLE_FILES = LMDB_FILES | {"skipped.txt", "error_image_log.txt"}


def lmdb_image_key(index: int) -> bytes:
    """The key of sample ``index``'s image bytes (``image-000000001``)."""
    return b"image-%09d" % index


def lmdb_label_key(index: int) -> bytes:
    """The key of sample ``index``'s UTF-8 label (``label-000000001``)."""
    return b"label-%09d" % index


def read_num_samples(txn: lmdb.Transaction, path: str | os.PathLike[str]) -> int:
    raw = txn.get(NUM_SAMPLES_KEY)
    if raw is None:
        raise InputFileError(path, "LMDB has no 'num-samples' key; not a clovaai/PARSeq-style dataset")
    try:
        return int(bytes(raw).decode("ascii").strip())
    except (UnicodeDecodeError, ValueError):
        raise InputFileError(path, f"'num-samples' is not a number: {bytes(raw)[:20]!r}") from None


def iter_labels(txn: lmdb.Transaction, num_samples: int) -> Iterator[tuple[int, bytes | None]]:
    """``(index, raw label bytes or None if missing)`` for indices 1..num_samples, in order.

    One cursor pass over the ``label-`` keys; keys above ``num_samples`` (stale leftovers of a clovaai
    re-run into the same folder) are ignored, as clovaai and PARSeq ignore them.
    """
    cursor = txn.cursor()
    expected = 1
    if cursor.set_range(b"label-"):
        for key, value in cursor:
            if not key.startswith(b"label-"):
                break
            try:
                index = int(key[6:])
            except ValueError:
                continue
            if index < expected:
                continue
            if index > num_samples:
                break
            while expected < index:
                yield expected, None
                expected += 1
            yield index, bytes(value)
            expected = index + 1
    while expected <= num_samples:
        yield expected, None
        expected += 1


def find_lmdbs(root: str | os.PathLike[str]) -> list[Path]:
    """Every folder under ``root`` (itself included) holding a ``data.mdb``, sorted.

    Like PARSeq's ``**/data.mdb`` glob, hidden folders are skipped — which also skips the temporary
    folders of a write in progress.
    """
    root = Path(root)
    if not root.exists():
        raise InputFileError(root, "folder not found")
    if root.is_file():
        return [root.parent] if root.name == "data.mdb" else []
    found: list[Path] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        if "data.mdb" in files:
            found.append(Path(folder))
    return sorted(found)
