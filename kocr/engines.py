"""Which engine runs a checkpoint on the CPU: PyTorch, or ONNX Runtime on the checkpoint's exported twin.

Measured, not assumed (``scripts/bench_levers.py``, 2 cores, same lines and texts): ONNX Runtime runs
the bundled model 1.43× as fast as PyTorch's eager ``inference_mode`` (and clovaai's TPS-ResNet-BiLSTM-CTC
1.14×), with identical texts; BN folding, a single thread and int8 dynamic quantisation buy nothing here.
So ``Recognizer.load(..., engine="auto")`` reads with ONNX Runtime when the model's twin is at hand:

- ``auto`` (the default): ONNX Runtime on the CPU when a twin exists without exporting anything — the
  bundled model ships one (``kocr/weights/default.onnx``), and ``--engine onnxruntime`` leaves one in the
  cache for any checkpoint — else PyTorch;
- ``onnxruntime``: ONNX Runtime, exporting the checkpoint to the cache first if needed (once, with
  :func:`kocr.export.export_onnx`'s parity check; needs the ``onnx`` extra);
- ``torch``: PyTorch always (what training, export and anything reading ``recognizer.model`` need).

A twin is only used when its metadata names the exact checkpoint bytes (sha256), so a stale export is
never read in its place. The cache lives in ``$KOCR_CACHE_DIR/onnx`` (or ``$XDG_CACHE_HOME/kocr/onnx``,
``~/.cache/kocr/onnx``), one file per checkpoint content and kocr version.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from pathlib import Path

from kocr import __version__
from kocr.cache import cache_path
from kocr.errors import KocrError

ENGINES = ("auto", "torch", "onnxruntime")


def checkpoint_digest(path: str | os.PathLike[str]) -> str:
    """sha256 of a checkpoint file's bytes (what an ONNX twin records as its source)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def bundled_twin(path: Path) -> Path:
    """Where the packaged twin of a checkpoint sits: next to it, same name, ``.onnx``."""
    return path.with_suffix(".onnx")


def cached_twin(digest: str) -> Path:
    return cache_path("onnx", f"{digest[:32]}-kocr{__version__}.onnx")


def onnxruntime_available() -> bool:
    return importlib.util.find_spec("onnxruntime") is not None


def wants_onnxruntime(engine: str, device_type: str) -> bool:
    """Whether to try ONNX Runtime at all (``onnxruntime``: yes, or an error saying how to get it)."""
    if engine not in ENGINES:
        raise KocrError(f"unknown engine {engine!r}: choose from {', '.join(ENGINES)}")
    if engine == "onnxruntime" and not onnxruntime_available():
        raise KocrError("--engine onnxruntime needs onnxruntime: pip install onnxruntime")
    return engine == "onnxruntime" or (engine == "auto" and device_type == "cpu" and onnxruntime_available())


def twin_candidates(path: Path, digest: str) -> list[Path]:
    """Existing files that may be the twin of ``path`` (the caller checks their recorded digest)."""
    return [candidate for candidate in (bundled_twin(path), cached_twin(digest)) if candidate.is_file()]


def export_twin(path: Path, digest: str, charset: object | None = None) -> Path:
    """Export ``path`` into the cache (parity-checked against PyTorch) and return the file."""
    from kocr.export import export_onnx

    target = cached_twin(digest)
    target.parent.mkdir(parents=True, exist_ok=True)
    export_onnx(path, target, charset=charset, overwrite=True)  # type: ignore[arg-type]
    return target
