"""Run folders that are never overwritten.

clovaai writes every run of the same architecture and seed into the same ``saved_models/...`` folder,
so a rerun silently replaces last week's model. kocr gives each run its own folder: ``runs/NAME``, or
``runs/NAME-2``, ``runs/NAME-3``... when that exists. The folder is created atomically with
``mkdir(exist_ok=False)``, so two runs started at once cannot share one either.
"""

from __future__ import annotations

from pathlib import Path

from kocr.errors import OutputWriteError
from kocr.fileio import make_folder


def new_run_dir(root: str | Path, name: str) -> Path:
    """Create and return a fresh run folder under ``root`` named ``name`` or ``name-N``."""
    root = make_folder(root)  # a file there, or no permission: one OutputWriteError naming it
    for attempt in range(1, 10_000):
        candidate = root / (name if attempt == 1 else f"{name}-{attempt}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        except OSError as exc:
            raise OutputWriteError(candidate, exc) from exc
        return candidate
    raise RuntimeError(f"could not find a free run folder name under {root} for {name!r}")
