"""Which torch device a ``--device`` option means: shared by training, evaluation, prediction and export.

:func:`check_device_name` is plain string work (no torch import), so the CLI validates ``--device`` while
it parses the options, before any model is loaded; :func:`resolve_device` then picks the device.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from kocr.errors import KocrError

if TYPE_CHECKING:  # pragma: no cover
    import torch

DEVICE_NAMES = "auto, cpu, cuda or cuda:N"
_DEVICE = re.compile(r"auto|cpu|cuda(:\d+)?")


def check_device_name(name: str) -> str:
    """``name`` normalised (trimmed, lower case) if it is auto, cpu, cuda or cuda:N; else a clear error.

    torch accepts many more strings (``mps``, ``xla``...) or fails with a list of twenty device types;
    kocr's commands run on these four, and ``tpu``, ``gpu`` or ``cuda:x`` get one line saying so.
    """
    normalised = str(name).strip().lower()
    if not _DEVICE.fullmatch(normalised):
        raise KocrError(f"unknown device {name!r}: use {DEVICE_NAMES}")
    return normalised


def resolve_device(name: str) -> torch.device:
    """``auto`` picks CUDA when available, else the CPU; ``cuda`` without a GPU is a clear error."""
    import torch

    if isinstance(name, torch.device):
        name = str(name)
    name = check_device_name(name)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise KocrError(
                f"--device {name} was asked for but no CUDA GPU is available (use --device cpu or auto)"
            )
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            raise KocrError(
                f"--device {name}: there is no GPU {device.index} (this machine has {count}: cuda:0 to "
                f"cuda:{count - 1})"
            )
    return device
