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

import pickle
from pathlib import Path
from typing import Any

import torch
from torch import nn

from kocr import __version__
from kocr.charsets import Charset
from kocr.checkpoints.checkpoint import Checkpoint
from kocr.checkpoints.foreign import import_foreign_checkpoint
from kocr.errors import InputFileError
from kocr.fileio import atomic_write

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
    """``torch.save`` to a temporary file beside ``path``, then rename it over ``path`` (kocr.fileio)."""
    return atomic_write(path, lambda temporary: torch.save(payload, temporary))


def read_torch_file(path: str | Path) -> Any:
    """``torch.load(weights_only=True)`` on CPU, with clear errors for files that are not checkpoints."""
    path = Path(path)
    if not path.exists():
        raise InputFileError(path, "checkpoint not found")
    if path.is_dir():
        raise InputFileError(path, "is a folder; give the checkpoint file inside it (best.pt, last.pt, ...)")
    if path.stat().st_size == 0:
        raise InputFileError(path, "checkpoint file is empty")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "weights only" in str(exc).lower() or "weights_only" in str(exc):
            raise InputFileError(
                path,
                "not a weights-only checkpoint: it contains pickled code or objects, which kocr refuses to "
                f"execute (torch said: {first_line})",
            ) from None
        raise InputFileError(path, f"not a readable PyTorch checkpoint ({first_line})") from None
    except Exception as exc:  # a text file, a truncated zip, random bytes: torch raises many types
        raise InputFileError(
            path,
            f"not a readable PyTorch checkpoint (truncated or another kind of file: {type(exc).__name__})",
        ) from None


def load_checkpoint(
    path: str | Path, *, charset: Charset | str | None = None, hints: dict[str, Any] | None = None
) -> Checkpoint:
    """Load a kocr checkpoint, or import a clovaai / PARSeq one.

    ``charset`` is required for foreign checkpoints that store none (clovaai); for a kocr checkpoint it
    is ignored — the stored charset is the truth. ``hints`` are config values a foreign file's shapes
    cannot reveal (see :func:`kocr.checkpoints.foreign.import_foreign_checkpoint`).
    """
    path = Path(path)
    data = read_torch_file(path)
    if isinstance(data, dict) and data.get("format") == CHECKPOINT_FORMAT:
        return _from_kocr_payload(data, path)
    wanted = Charset.load(charset) if charset is not None else None
    checkpoint = import_foreign_checkpoint(data, path, wanted, hints)
    checkpoint.path = path
    return checkpoint


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
