"""Opening a model to read with: :func:`load_recognizer`, and the choice of engine that runs it.

>>> import kocr
>>> recognizer = kocr.load_recognizer("default")   # a LineRecognizer: PyTorch or ONNX Runtime inside
>>> recognizer.predict("line.png")                  # Prediction(text='...', confidence=0.98)

This is the one module that sees both engines and the exporter; everything under :mod:`kocr.runtime`
stays engine-specific or engine-neutral. Measured, not assumed (``python -m benchmarks.levers``, 2 cores,
same lines and texts): ONNX Runtime runs the bundled model 1.43× as fast as PyTorch's eager
``inference_mode`` (and clovaai's TPS-ResNet-BiLSTM-CTC 1.14×), with identical texts. So ``engine``:

- ``auto`` (the default): ONNX Runtime on the CPU when the checkpoint's exported twin is at hand without
  exporting anything — the bundled model ships one (``kocr/weights/default.onnx``), and ``--engine
  onnxruntime`` leaves one in the cache for any checkpoint — else PyTorch;
- ``onnxruntime``: ONNX Runtime, exporting the checkpoint to the cache first if needed (once, with
  :func:`kocr.export.export_onnx`'s parity check; needs the ``onnx`` extra);
- ``torch``: PyTorch always (:class:`~kocr.runtime.torch_engine.TorchRecognizer`, with ``.model``).

A twin is only used when its metadata names the exact checkpoint bytes (sha256), so a stale export is
never read in its place. The cache lives in :func:`kocr.cache.cache_dir` ``/onnx``, one file per checkpoint
content and kocr version. An ``.onnx`` file given directly is read by ONNX Runtime whatever the engine.
"""

from __future__ import annotations

import importlib.util
import os
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from kocr import __version__
from kocr.cache import cache_path
from kocr.charsets import Charset
from kocr.checkpoints.files import checkpoint_digest, resolve_model_path
from kocr.decoding import sidecar_lm
from kocr.devices import resolve_device
from kocr.errors import KocrError
from kocr.runtime.base import LineRecognizer
from kocr.runtime.onnx_engine import OnnxRecognizer
from kocr.runtime.torch_engine import TorchRecognizer

ENGINES = ("auto", "torch", "onnxruntime")


def load_recognizer(
    source: str | os.PathLike[str] = "default",
    *,
    engine: str = "auto",
    device: str | torch.device = "auto",
    batch_size: int = 32,
    charset: Charset | str | None = None,
    variable_width: bool | None = None,
    normalize: bool | None = None,
    decoder: str = "auto",
    lm: Any = "auto",
    **beam: Any,
) -> LineRecognizer:
    """A recogniser for ``"default"`` (the model shipped with kocr), a checkpoint file or an exported
    ``.onnx`` file, run by the ``engine`` chosen as the module docs say.

    kocr checkpoints and ``.onnx`` files carry their charset and preprocessing; clovaai ``.pth`` files need
    ``charset``. ``normalize`` turns input normalisation on or off whatever the model says (``None``: as it
    says). ``decoder`` (auto, greedy, beam), ``lm`` and ``beam`` (beam_width, lm_weight, length_bonus)
    choose how CTC outputs become text (:func:`kocr.decoding.ctc_decoder`). ``variable_width=False`` reads
    at the training width, which only PyTorch can."""
    decoding = {"decoder": decoder, "lm": lm, **beam}
    if str(source).lower().endswith(".onnx"):
        if charset is not None:
            raise KocrError(f"{source}: an exported ONNX file carries its own charset; do not pass one")
        return load_exported(source, device=device, batch_size=batch_size, normalize=normalize, **decoding)
    path = resolve_model_path(source)
    if variable_width is None and wants_onnxruntime(engine, resolve_device(str(device)).type):
        twin = _load_twin(path, engine, device, batch_size, charset, decoding)
        if twin is not None:
            return _with_normalize(twin, normalize)
    return TorchRecognizer.from_checkpoint(
        path, device=device, batch_size=batch_size, charset=charset, variable_width=variable_width,
        normalize=normalize, **decoding,
    )  # fmt: skip


def load_exported(
    path: str | os.PathLike[str],
    *,
    device: str | torch.device = "auto",
    batch_size: int = 32,
    normalize: bool | None = None,
    **decoding: Any,
) -> OnnxRecognizer:
    """An exported file (whatever its suffix: ``kocr predict --onnx FILE``) read by ONNX Runtime."""
    recognizer = OnnxRecognizer.load(path, batch_size=batch_size, device=str(device), **decoding)
    return _with_normalize(recognizer, normalize)


def onnxruntime_available() -> bool:
    return importlib.util.find_spec("onnxruntime") is not None


def wants_onnxruntime(engine: str, device_type: str) -> bool:
    """Whether to try ONNX Runtime at all (``onnxruntime``: yes, or an error saying how to get it)."""
    if engine not in ENGINES:
        raise KocrError(f"unknown engine {engine!r}: choose from {', '.join(ENGINES)}")
    if engine == "onnxruntime" and not onnxruntime_available():
        raise KocrError("--engine onnxruntime needs onnxruntime: pip install onnxruntime")
    return engine == "onnxruntime" or (engine == "auto" and device_type == "cpu" and onnxruntime_available())


def bundled_twin(path: Path) -> Path:
    """Where the packaged twin of a checkpoint sits: next to it, same name, ``.onnx``."""
    return path.with_suffix(".onnx")


def cached_twin(digest: str) -> Path:
    """Where ``--engine onnxruntime`` leaves the export of a checkpoint with these bytes."""
    return cache_path("onnx", f"{digest[:32]}-kocr{__version__}.onnx")


def twin_candidates(path: Path, digest: str) -> list[Path]:
    """Existing files that may be the twin of ``path`` (the caller checks their recorded digest)."""
    return [candidate for candidate in (bundled_twin(path), cached_twin(digest)) if candidate.is_file()]


def export_twin(path: Path, digest: str, charset: Charset | str | None = None) -> Path:
    """Export ``path`` into the cache (parity-checked against PyTorch) and return the file."""
    from kocr.export import export_onnx  # torch.onnx and onnx load only when a twin must be made

    target = cached_twin(digest)
    export_onnx(path, target, charset=charset, overwrite=True)
    return target


def _load_twin(
    path: Path,
    engine: str,
    device: Any,
    batch_size: int,
    charset: Charset | str | None,
    decoding: dict[str, Any],
) -> OnnxRecognizer | None:
    """``path`` read by ONNX Runtime through its exported twin when one matches the checkpoint's bytes
    (made first when ``engine`` is onnxruntime), else None (PyTorch reads it)."""
    digest = checkpoint_digest(path)
    candidates = twin_candidates(path, digest)
    if not candidates and engine == "onnxruntime":
        candidates = [export_twin(path, digest, charset)]
    if decoding["lm"] == "auto":  # the checkpoint's own language model, wherever its twin sits
        decoding = {**decoding, "lm": sidecar_lm(path) or "none"}
    for candidate in candidates:
        recognizer = OnnxRecognizer.load(candidate, batch_size=batch_size, device=str(device), **decoding)
        if recognizer.metadata.checkpoint_sha256 == digest:
            recognizer.source = str(path)
            return recognizer
    if engine == "onnxruntime":
        raise KocrError(f"{path}: no ONNX export of this checkpoint could be made or found")
    return None


def _with_normalize(recognizer: Any, normalize: bool | None) -> Any:
    if normalize is not None:
        recognizer.preprocess = replace(recognizer.preprocess, normalize=normalize)
    return recognizer


class Recognizer(TorchRecognizer):
    """The PyTorch recogniser under its old name. ``Recognizer.load`` is deprecated: it may return an
    ONNX Runtime recogniser, which is not a ``Recognizer``. Use :func:`load_recognizer` (any engine, returns
    a :class:`~kocr.runtime.base.LineRecognizer`) or :meth:`TorchRecognizer.from_checkpoint` (PyTorch)."""

    @classmethod
    def load(cls, source: str | os.PathLike[str] = "default", **options: Any) -> LineRecognizer:
        """Deprecated since kocr 0.1 (removed in the next release): :func:`load_recognizer`."""
        warnings.warn(
            "Recognizer.load() is deprecated: use kocr.load_recognizer() (it returns a PyTorch or an ONNX "
            "Runtime recogniser) or kocr.TorchRecognizer.from_checkpoint() for PyTorch",
            DeprecationWarning,
            stacklevel=2,
        )
        return load_recognizer(source, **options)
