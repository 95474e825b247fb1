"""Where checkpoint files are and what identifies them: the bundled default model's path, and a file's
sha256 (what an exported ONNX twin records as its source, :mod:`kocr.load`)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from kocr.errors import KocrError

DEFAULT_MODEL = Path(__file__).resolve().parents[1] / "weights" / "default.pt"


def default_model_path() -> Path:
    """The bundled model's file; a clear error when this install has none."""
    if not DEFAULT_MODEL.is_file():
        raise KocrError(
            "no bundled default model in this installation (kocr/weights/default.pt is missing); "
            "pass --saved-model with a checkpoint trained by `kocr train`"
        )
    return DEFAULT_MODEL


def resolve_model_path(source: str | os.PathLike[str]) -> Path:
    """``"default"`` as the bundled model's file, anything else as the path it names."""
    return default_model_path() if str(source) == "default" else Path(source)


def checkpoint_digest(path: str | os.PathLike[str]) -> str:
    """sha256 of a checkpoint file's bytes."""
    return file_sha256(path)


def file_sha256(path: str | os.PathLike[str]) -> str:
    """sha256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
