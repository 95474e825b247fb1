"""The kocr checkpoint file: one file that rebuilds a working recogniser; writing and reading it.

A checkpoint is plain data (tensors, dicts, lists, strings, numbers), so it loads with
``torch.load(weights_only=True)``: a checkpoint is data, never code. It holds everything ``eval``,
``predict`` and ``finetune`` need, so none of them asks for an architecture flag again:

===================  =====================================================================================
key                  contents
===================  =====================================================================================
``format``           ``"kocr.checkpoint"`` and ``format_version`` (1)
``kocr_version``     the version that wrote it
``model_config``     the resolved model config (``kocr.models.build_model`` input) and ``num_classes``
``state_dict``       the weights (always saved from CPU copies, so GPU checkpoints load anywhere)
``charset``          ``Charset.to_dict()``
``preprocess``       ``Preprocess.to_dict()``: image height/width, channels, resize and pad policy
``train_state``      optimiser, scheduler, AMP scaler, step, epoch, RNG states, best validation CER —
                     what ``--resume`` needs (absent in exported inference checkpoints)
``train_config``     the resolved training options, for the record
``metrics``          the last validation figures
===================  =====================================================================================

Writes are atomic (temporary file in the same folder, fsync, then ``os.replace``; :mod:`kocr.fileio`), so an
interrupted save never leaves a truncated ``best.pt``.

Foreign checkpoints (clovaai ``.pth`` state_dicts, strhub PARSeq ``.pt``/``.ckpt``) are read by
:mod:`kocr.checkpoints.foreign` into the same :class:`~kocr.checkpoints.checkpoint.Checkpoint` shape.
"""

from __future__ import annotations

import io
import pickle
import warnings
import zipfile
from pathlib import Path
from typing import Any

import torch
from torch import nn

from kocr import __version__
from kocr.charsets import Charset
from kocr.checkpoints.checkpoint import Checkpoint
from kocr.checkpoints.foreign import import_foreign_checkpoint
from kocr.errors import InputFileError, KocrError
from kocr.fileio import atomic_write_bytes

CHECKPOINT_FORMAT = "kocr.checkpoint"
FORMAT_VERSION = 1


def save_checkpoint(
    path: str | Path,
    *,
    model: nn.Module,
    charset: Charset,
    preprocess: dict[str, Any],
    train_state: dict[str, Any] | None = None,
    train_config: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
) -> Path:
    """Write a kocr checkpoint atomically and return its path."""
    model = getattr(model, "module", model)  # unwrap DistributedDataParallel
    payload = {
        "format": CHECKPOINT_FORMAT,
        "format_version": FORMAT_VERSION,
        "kocr_version": __version__,
        "model_config": dict(model.config),
        "num_classes": int(model.num_classes),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "charset": charset.to_dict(),
        "preprocess": dict(preprocess),
        "train_state": train_state,
        "train_config": train_config or {},
        "metrics": metrics or {},
    }
    return atomic_torch_save(payload, path)


def atomic_torch_save(payload: Any, path: str | Path) -> Path:
    """``torch.save`` to memory, then the bytes to a temporary file beside ``path`` renamed over it
    (kocr.fileio). Through memory because torch's own file writer turns a full disk into a
    ``RuntimeError`` ("unexpected pos 576 vs 534"); Python's write names the cause, and a failure is one
    :class:`~kocr.errors.OutputWriteError` ("No space left on device") with nothing left behind."""
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return atomic_write_bytes(path, buffer.getbuffer())


def read_torch_file(path: str | Path) -> Any:
    """``torch.load(weights_only=True)`` on CPU, with clear errors for files that are not checkpoints.

    The errors say what the file is (an ONNX export, a plain pickle, a full pickled model, something
    else) and never repeat torch's advice to load with ``weights_only=False``, which would run code from
    the file: kocr never does. torch's warning about pickle protocols newer than 2 is not shown either
    (such files load fine).
    """
    path = Path(path)
    if not path.exists():
        raise InputFileError(path, "checkpoint not found")
    if path.is_dir():
        raise InputFileError(path, "is a folder; give the checkpoint file inside it (best.pt, last.pt, ...)")
    if path.stat().st_size == 0:
        raise InputFileError(path, "checkpoint file is empty")
    if path.suffix.lower() == ".onnx":
        raise InputFileError(path, ONNX_HINT)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*pickle protocol", category=UserWarning)
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # UnpicklingError, RuntimeError, zip errors...: torch raises many types
        raise InputFileError(path, describe_unloadable(path)) from None


ONNX_HINT = (
    "an exported ONNX model, not a checkpoint: run it with `kocr predict --onnx FILE` "
    "(Python: kocr.load_recognizer(FILE))"
)
_TORCH_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C  # the first pickle of a pre-1.6 torch.save file


def describe_unloadable(path: Path) -> str:
    """What a file torch could not load weights-only is, told from its first bytes."""
    with path.open("rb") as handle:
        head = handle.read(4096)
    pickled = _torch_pickle_head(path)
    if pickled is None and head.startswith(b"\x80") and _first_pickle(head) == _TORCH_LEGACY_MAGIC:
        pickled = head
    if pickled is not None:
        if pickled.startswith(b"\x80") and pickled[1:2] > b"\x03":
            return (
                f"a torch.save file written with pickle protocol {pickled[1]}, which the safe weights-only "
                "loader cannot read: save it again with torch.save's default protocol (2)"
            )
        return (
            "a torch.save file holding pickled Python objects or code besides tensors (a whole model, "
            "custom classes); kocr loads only weights-only checkpoints of plain data and never runs code "
            "from a file: save model.state_dict() instead"
        )
    if head.startswith(b"\x80"):
        return "a plain Python pickle, not a checkpoint written by torch.save"
    if head[:1] == b"\x08" and b"onnx" in head.lower():
        return ONNX_HINT
    return "not a readable PyTorch checkpoint (truncated, or another kind of file)"


_UNREADABLE = object()


def _first_pickle(head: bytes) -> Any:
    """The first object pickled in ``head`` if it is plain data (no class is ever imported), else
    ``_UNREADABLE``."""

    class PlainData(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> Any:
            raise pickle.UnpicklingError("no classes")

    try:
        return PlainData(io.BytesIO(head)).load()
    except Exception:
        return _UNREADABLE


def _torch_pickle_head(path: Path) -> bytes | None:
    """The first bytes of the pickle inside a torch.save zip file, or None when ``path`` is none."""
    try:
        with zipfile.ZipFile(path) as archive:
            name = next((n for n in archive.namelist() if n.endswith("data.pkl")), None)
            if name is None:
                return None
            with archive.open(name) as pickled:
                return pickled.read(16)
    except (zipfile.BadZipFile, OSError):
        return None


def load_checkpoint(
    path: str | Path, *, charset: Charset | str | None = None, hints: dict[str, Any] | None = None
) -> Checkpoint:
    """Load a kocr checkpoint, or import a clovaai / PARSeq one.

    ``charset`` is required for foreign checkpoints that store none (clovaai); a kocr checkpoint's stored
    charset is the truth, and another one given is an error (:func:`refuse_other_charset`), never
    ignored. ``hints`` are config values a foreign file's shapes cannot reveal (see
    :func:`kocr.checkpoints.foreign.import_foreign_checkpoint`).
    """
    path = Path(path)
    data = read_torch_file(path)
    if isinstance(data, dict) and data.get("format") == CHECKPOINT_FORMAT:
        checkpoint = _from_kocr_payload(data, path)
        if charset is not None:
            refuse_other_charset(path, checkpoint.charset, charset)
        return checkpoint
    wanted = Charset.load(charset) if charset is not None else None
    checkpoint = import_foreign_checkpoint(data, path, wanted, hints)
    checkpoint.path = path
    return checkpoint


def stored_charset(path: str | Path) -> Charset | None:
    """The charset a kocr checkpoint stores, read without loading its weights (memory-mapped); None for
    any other file (clovaai, PARSeq, one torch cannot map)."""
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*pickle protocol", category=UserWarning)
            data = torch.load(Path(path), map_location="cpu", weights_only=True, mmap=True)
    except Exception:  # legacy or foreign files: load_checkpoint reads (and explains) them
        return None
    if isinstance(data, dict) and data.get("format") == CHECKPOINT_FORMAT and data.get("charset"):
        return Charset.from_dict(data["charset"])
    return None


def refuse_other_charset(path: str | Path, stored: Charset | None, given: Charset | str | Path) -> None:
    """A charset given for a checkpoint that stores its own must be that one: another would be ignored
    (or misread every output), so it is an error naming both."""
    if stored is None:
        return
    wanted = Charset.load(given)
    if wanted != stored:
        raise KocrError(
            f"{path} is a kocr checkpoint and stores its own charset ({stored.name or 'custom'}, "
            f"{len(stored):,} symbols); the charset given ({wanted.name or given}, {len(wanted):,} "
            "symbols) is not it: drop it (--charset / --saved-charset are for clovaai checkpoints, which "
            "store none)"
        )


def _from_kocr_payload(data: dict[str, Any], path: Path) -> Checkpoint:
    version = int(data.get("format_version", 0))
    if version > FORMAT_VERSION:
        raise InputFileError(
            path,
            f"written by a newer kocr ({data.get('kocr_version')}, format {version}); "
            "upgrade kocr to read it",
        )
    try:
        return Checkpoint(
            model_config=dict(data["model_config"]),
            num_classes=int(data["num_classes"]),
            state_dict=dict(data["state_dict"]),
            charset=Charset.from_dict(data["charset"]),
            preprocess=dict(data["preprocess"]) if data.get("preprocess") else None,
            train_state=data.get("train_state"),
            train_config=dict(data.get("train_config") or {}),
            metrics=dict(data.get("metrics") or {}),
            source_format="kocr",
            kocr_version=data.get("kocr_version"),
            path=path,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InputFileError(path, f"damaged kocr checkpoint (missing or malformed {exc})") from None
