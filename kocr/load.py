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

A twin is only used when its own bytes are bound to the checkpoint's bytes by a record kocr made with it
(:mod:`kocr.twins`), never on the word of its metadata: a stale export, a damaged file or another
model's export is never read in the checkpoint's place. Such a file makes ``auto`` read with PyTorch
after one warning, and ``onnxruntime`` export afresh. The cache lives in :func:`kocr.cache.cache_dir`
``/onnx``, one file per checkpoint content and kocr version. An ``.onnx`` file given directly is read by
ONNX Runtime whatever the engine.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from kocr.charsets import Charset
from kocr.checkpoints.files import checkpoint_digest, resolve_model_path
from kocr.checkpoints.format import refuse_other_charset, stored_charset
from kocr.decoding import sidecar_lm
from kocr.devices import resolve_device
from kocr.errors import InputFileError, KocrError
from kocr.runtime.base import LineRecognizer
from kocr.runtime.onnx_engine import OnnxRecognizer
from kocr.runtime.torch_engine import TorchRecognizer
from kocr.twins import cached_twin, check_twin, twin_candidates

logger = logging.getLogger(__name__)

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
    if charset is not None:  # a kocr checkpoint's own charset stands: another one given is an error
        refuse_other_charset(path, stored_charset(path), charset)
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


def export_twin(path: Path, digest: str, charset: Charset | str | None = None) -> Path:
    """Export ``path`` into the cache (parity-checked against PyTorch, bound to its bytes) and return the
    file; a damaged or stale file there is replaced."""
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
    """``path`` read by ONNX Runtime through its exported twin when one is bound to the checkpoint's
    bytes (:mod:`kocr.twins`; made first when ``engine`` is onnxruntime), else None: PyTorch reads it,
    after a warning when a twin was there but could not be used."""
    digest = checkpoint_digest(path)
    if decoding["lm"] == "auto":  # the checkpoint's own language model, wherever its twin sits
        decoding = {**decoding, "lm": sidecar_lm(path) or "none"}
    problems: list[str] = []
    for candidate in twin_candidates(path, digest):
        recognizer, problem = _open_twin(candidate, digest, batch_size, device, decoding)
        if recognizer is not None:
            recognizer.source = str(path)
            return recognizer
        problems.append(f"{candidate} {problem}")
    if engine == "onnxruntime":
        made = export_twin(path, digest, charset)
        recognizer, problem = _open_twin(made, digest, batch_size, device, decoding)
        if recognizer is None:
            raise KocrError(f"{path}: its fresh ONNX export {made} {problem}")
        recognizer.source = str(path)
        return recognizer
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        logger.warning(
            "%s%s; reading %s with PyTorch (--engine onnxruntime exports it afresh)", problems[0], more, path
        )
    return None


def _open_twin(
    candidate: Path, digest: str, batch_size: int, device: Any, decoding: dict[str, Any]
) -> tuple[OnnxRecognizer | None, str]:
    """The twin opened when its bytes are bound to the checkpoint's and ONNX Runtime reads them, else
    (None, why not)."""
    check = check_twin(candidate, digest)
    if check.content is None:
        return None, check.problem
    try:
        recognizer = OnnxRecognizer.load(
            candidate, batch_size=batch_size, device=str(device), content=check.content, **decoding
        )
    except InputFileError as exc:
        if exc.path != str(candidate):
            raise  # the language model or another input: the same error PyTorch would meet
        return None, f"cannot be read: {exc.message}"
    if recognizer.metadata.checkpoint_sha256 != digest:
        return None, "names other checkpoint bytes in its metadata"
    return recognizer, ""


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
