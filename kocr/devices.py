"""Which torch device a ``--device`` option means: shared by training, evaluation, prediction and export."""

from __future__ import annotations

import torch

from kocr.errors import KocrError


def resolve_device(name: str) -> torch.device:
    """``auto`` picks CUDA when available, else the CPU; ``cuda`` without a GPU is a clear error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise KocrError("--device cuda was asked for but no CUDA GPU is available (use --device cpu or auto)")
    return device
