"""The dev benchmark as benchmarks read it: its split names and each split's images and labels.

The split names come from the ``manifest.json`` that ``scripts/make_devset.py`` writes last, so the
builder's list is the only one, and a dev set still being built (no manifest yet) is refused up front
instead of failing on a missing split halfway through a run.
"""

from __future__ import annotations

import json
from pathlib import Path

from kocr.data.labels.reader import read_label_file
from kocr.text import normalize


def split_names(devset: Path) -> tuple[str, ...]:
    """The dev set's splits, in the order they were built (the order every table prints them in)."""
    manifest = devset / "manifest.json"
    if not manifest.is_file():
        raise SystemExit(
            f"{devset}: no manifest.json, so not a finished dev set "
            f"(build one with: python scripts/make_devset.py -o {devset})"
        )
    return tuple(json.loads(manifest.read_text(encoding="utf-8"))["splits"])


def read_split(folder: Path) -> tuple[list[Path], list[str]]:
    """The image paths and normalised labels of a folder with a ``gt.txt`` (a dev or tuning split)."""
    parsed = read_label_file(folder / "gt.txt", "gt", strict=True)
    return [folder / r.image for r in parsed.records], [normalize(r.label) for r in parsed.records]  # type: ignore[operator]
