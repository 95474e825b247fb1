"""Training options as one dataclass: the CLI fills it, the trainer reads it, the checkpoint stores it."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import Any

FINETUNE_LR_FACTOR = 0.1
DEFAULT_MODEL = "tps-resnet-bilstm-ctc"


def default_workers() -> int:
    """DataLoader workers: leave one core to the training process, at most 4."""
    return max(0, min(4, (os.cpu_count() or 1) - 1))


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run depends on. ``None`` means "the model family's default".

    Frozen: a run's config is resolved once (:mod:`kocr.training.startup`), then only read."""

    train_data: list[str]
    valid_data: list[str] = field(default_factory=list)
    data_ratios: list[float] | None = None
    valid_fraction: float = 0.02  # held out of the training data when no --valid-data is given
    charset: str = "ko"
    model: str | None = None  # a new run: DEFAULT_MODEL; a fine-tune: the checkpoint's (recorded so)
    model_overrides: dict[str, Any] = field(default_factory=dict)
    img_h: int | None = None
    img_w: int | None = None
    keep_ratio: bool = True
    max_length: int | None = None
    case_fold: bool = False
    augment: bool = True
    normalize: bool = True  # input normalisation (kocr.data.line_normalize), stored in the preprocessing
    batch_size: int = 64
    iters: int | None = None
    epochs: int | None = None
    optimizer: str = "adamw"
    lr: float | None = None
    weight_decay: float | None = None
    schedule: str = "onecycle"
    warmup: float = 0.075
    grad_clip: float | None = None
    amp: str | None = None  # auto | off | bf16 | fp16; None: auto for a new run, the run's own on resume
    workers: int = field(default_factory=default_workers)
    seed: int = 1111
    device: str = "auto"
    valid_every: int = 500
    valid_max_samples: int | None = 2000
    log_every: int = 20
    output: str = "runs"
    name: str | None = None
    resume: str | None = None
    saved_model: str | None = None  # fine-tuning: start from these weights
    freeze_features: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def total_steps(self, steps_per_epoch: int) -> int:
        """The run's length in optimiser steps: ``iters``, else ``epochs`` (1 if neither) of the data."""
        return self.iters or (self.epochs or 1) * steps_per_epoch

    def resolved(self, arch: str, *, finetuning: bool = False) -> TrainConfig:
        """A copy with the family defaults filled in (``ModelFamily.train_defaults``: clovaai's clip 5,
        strhub's clip 20 and learning rate); a fine-tune starts at a tenth of the lr."""
        from kocr.models.registry import get_family  # torch: not when the CLI only parses options

        defaults = get_family(arch).train_defaults
        values = self.to_dict()
        if values["lr"] is None:
            lr = 1.0 if self.optimizer == "adadelta" else defaults["lr"]
            values["lr"] = lr * (FINETUNE_LR_FACTOR if finetuning else 1.0)
        if values["grad_clip"] is None:
            values["grad_clip"] = defaults["grad_clip"]
        if values["weight_decay"] is None:
            values["weight_decay"] = defaults["weight_decay"]
        return TrainConfig(**values)
