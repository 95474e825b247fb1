"""Where kocr keeps what it can always make again: font coverage tables, exported ONNX twins and the
records binding each export to its checkpoint (:mod:`kocr.twins`).

``$KOCR_CACHE_DIR``, else ``$XDG_CACHE_HOME/kocr``, else ``~/.cache/kocr``; each user of the cache takes
its own subfolder (:func:`cache_path`). Deleting the folder loses nothing but time.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """The cache's root folder (not created here)."""
    if os.environ.get("KOCR_CACHE_DIR"):
        return Path(os.environ["KOCR_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kocr"


def cache_path(kind: str, name: str) -> Path:
    """``cache_dir()/kind/name``: one subfolder per kind of cached thing (``fonts``, ``onnx``)."""
    return cache_dir() / kind / name
