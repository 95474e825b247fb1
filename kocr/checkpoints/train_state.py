"""The ``train_state`` a checkpoint carries so ``--resume`` continues exactly where a run stopped.

It holds the optimiser, the learning-rate schedule, the AMP gradient scaler, the step, epoch and best
validation CER, and every random generator (torch, CUDA, Python, NumPy), so a resumed run draws the same
augmentations and batches as an uninterrupted one. Everything is plain data (NumPy's RNG state becomes a
tensor and an int) because checkpoints load with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import math
import random
from typing import Any

import numpy as np
import torch


def capture_train_state(
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    scaler: torch.amp.GradScaler,
    *,
    step: int,
    epoch: int,
    best_cer: float,
) -> dict[str, Any]:
    """The ``train_state`` entry of a checkpoint, taken now."""
    return {
        "step": step,
        "epoch": epoch,
        "best_cer": best_cer,
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "scaler": scaler.state_dict(),
        "rng": {
            "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            "python": list(random.getstate()[1]),
            "numpy": _numpy_rng_state(),
        },
    }


def restore_train_state(
    saved: dict[str, Any], optimizer: torch.optim.Optimizer, scheduler: Any, scaler: torch.amp.GradScaler
) -> tuple[int, float]:
    """Load ``saved`` into the optimiser, schedule, scaler and RNGs; returns (step, best validation CER)."""
    optimizer.load_state_dict(saved["optimizer"])
    scheduler.load_state_dict(saved["scheduler"])
    if saved.get("scaler"):
        scaler.load_state_dict(saved["scaler"])
    rng = saved.get("rng") or {}
    if "torch" in rng:
        torch.set_rng_state(rng["torch"])
    if rng.get("cuda") and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])
    if "python" in rng:
        random.setstate((3, tuple(int(v) for v in rng["python"]), None))
    if "numpy" in rng:
        keys, position = rng["numpy"]
        np.random.set_state(("MT19937", keys.numpy().astype(np.uint32), int(position), 0, 0.0))
    return int(saved["step"]), float(saved.get("best_cer", math.inf))


def _numpy_rng_state() -> tuple[torch.Tensor, int]:
    """NumPy's global RNG as a tensor and an int, which ``torch.load(weights_only=True)`` accepts."""
    _, keys, position, _, _ = np.random.get_state()
    return torch.from_numpy(keys.astype(np.int64)), int(position)
