"""Training kocr's line detector (``kocr detector train``) with the recogniser's habits: a run folder of
its own (never overwritten), ``log.csv`` and ``config.json``, ``best.pt`` (best validation F1) and
``last.pt`` (with the optimiser, schedule and random state, for an exact ``--resume``), Ctrl-C saving
``last.pt`` before it stops.

The loss is DBNet's for its probability map: binary cross-entropy over every kernel pixel and the three
times as many hardest background pixels (online hard example mining), plus a dice loss over the map.
Validation reads whole pages the way ``--line-finder db`` does and scores the boxes it finds against
the page set's own (:func:`kocr.pages.db_eval.score_pages`).
"""

from __future__ import annotations

import math
import signal
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch.nn import functional as F

from kocr.checkpoints.format import atomic_torch_save, read_torch_file
from kocr.checkpoints.train_state import capture_train_state, restore_train_state
from kocr.errors import InputFileError, KocrError
from kocr.fileio import atomic_write_text
from kocr.names import json_text
from kocr.pages.db_data import ScaledPage, iter_scaled_pages, training_batch
from kocr.pages.db_eval import DetectionScore, score_pages
from kocr.pages.db_finder import DETECTOR_KIND, READ_SCALE, detector_payload, load_detector
from kocr.pages.dbnet import DetectorConfig, LineDetectorNet
from kocr.training.reporting import CsvLog, redraw_run_curves
from kocr.training.rundir import new_run_dir

LOG_COLUMNS = ("step", "lr", "loss", "valid_precision", "valid_recall", "valid_f1", "elapsed_s")
NEGATIVE_RATIO = 3  # hard background pixels per kernel pixel in the cross-entropy
WARMUP = 100  # steps of linear warm-up before the cosine decay


@dataclass(frozen=True)
class DetectorTrainConfig:
    """A detector run's options, stored in ``config.json`` and in its checkpoints."""

    pages: str
    valid_pages: str
    iters: int = 3000
    batch_size: int = 8
    crop: int = 384
    lr: float = 2e-3
    weight_decay: float = 1e-4
    valid_every: int = 250
    seed: int = 0
    init: str | None = None  # a detector checkpoint to start from (fine-tuning)

    def __post_init__(self) -> None:
        if self.iters < 1 or self.batch_size < 1 or self.valid_every < 1:
            raise KocrError("iters, batch size and valid-every must be at least 1")
        if self.crop < 64 or self.crop % 32:
            raise KocrError(f"crop must be a multiple of 32 of at least 64 px, not {self.crop}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise KocrError(f"learning rate must be a positive number, not {self.lr}")


def detection_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Balanced cross-entropy (every kernel pixel, the hardest ``NEGATIVE_RATIO``× as many background
    pixels) plus dice, DBNet's loss for its probability map."""
    bce = F.binary_cross_entropy_with_logits(logits, target, reduction="none").flatten()
    positive = target.flatten() > 0.5
    positives = int(positive.sum())
    negatives = bce[~positive]
    hard = min(len(negatives), max(NEGATIVE_RATIO * positives, 1000))
    top = negatives.topk(hard).values if hard else negatives[:0]
    balanced = (bce[positive].sum() + top.sum()) / max(1, positives + hard)
    prob = torch.sigmoid(logits)
    dice = 1 - 2 * (prob * target).sum() / (prob.sum() + target.sum() + 1.0)
    return balanced + dice


def learning_rate(config: DetectorTrainConfig, step: int) -> float:
    """Linear warm-up, then cosine decay to a twentieth (a function of the step: resumes need no state)."""
    if step < WARMUP:
        return config.lr * (step + 1) / WARMUP
    progress = min(1.0, (step - WARMUP) / max(1, config.iters - WARMUP))
    return config.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))


class DetectorTrainer:
    """One detector run: ``start`` (new run) or ``resume`` (from a run's last.pt), then ``train``."""

    def __init__(
        self,
        config: DetectorTrainConfig,
        model: LineDetectorNet,
        run_dir: Path,
        *,
        step: int = 0,
        best_f1: float = -1.0,
        saved_state: dict[str, Any] | None = None,
        progress: Callable[[int, int, dict[str, Any]], None] | None = None,
    ) -> None:
        self.config = config
        self.model = model
        self.run_dir = run_dir
        self.step = step
        self.best_f1 = best_f1
        self.progress = progress
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lambda _: 1.0)
        self.scaler = torch.amp.GradScaler("cpu", enabled=False)
        if saved_state is not None:
            self.step, self.best_f1 = restore_train_state(
                saved_state, self.optimizer, self.scheduler, self.scaler
            )
        self.draw_curves = True  # curves.png beside log.csv, redrawn at each validation
        self.train_pages: list[ScaledPage] = []
        self.valid_pages: list[ScaledPage] = []

    # --- starting ---------------------------------------------------------------------------------

    @classmethod
    def start(
        cls, config: DetectorTrainConfig, output: str | Path, name: str, **kwargs: Any
    ) -> DetectorTrainer:
        """A new run in its own folder under ``output`` (``name``, ``name-2``, ...)."""
        torch.manual_seed(config.seed)
        model = load_detector(config.init).model if config.init else LineDetectorNet(DetectorConfig())
        model.train()
        run_dir = new_run_dir(output, name)
        atomic_write_text(run_dir / "config.json", json_text(asdict(config), indent=2) + "\n")
        CsvLog(run_dir / "log.csv", LOG_COLUMNS)
        return cls(config, model, run_dir, **kwargs)

    @classmethod
    def resume(cls, path: str | Path, iters: int | None = None, **kwargs: Any) -> DetectorTrainer:
        """A run continued from its ``last.pt``: the same pages, options and random draws; ``iters`` may
        lengthen it. Anything but the run's latest state is refused, so no later state is lost."""
        path = Path(path)
        data = read_torch_file(path)
        if not isinstance(data, dict) or data.get("kind") != DETECTOR_KIND or "train_state" not in data:
            raise InputFileError(path, "not a detector run's last.pt (only last.pt holds the training state)")
        latest = path.parent / "last.pt"
        if path.resolve() != latest.resolve():
            raise InputFileError(
                path, f"resume from the run's latest state, {latest}; --init starts a new run from this file"
            )
        config = DetectorTrainConfig(**{**data["train"], **({"iters": iters} if iters else {})})
        if config.iters <= int(data["step"]):
            raise KocrError(f"{path}: the run is at step {data['step']}; pass --iters above it to train on")
        model = load_detector(path).model.train()
        return cls(config, model, path.parent, saved_state=data["train_state"], **kwargs)

    # --- training ---------------------------------------------------------------------------------

    def load_pages(self) -> None:
        long_side = self.model.config.long_side
        self.train_pages = list(iter_scaled_pages(self.config.pages, long_side))
        # Validation reads pages as the finder does (kocr.pages.db_finder.READ_SCALE).
        self.valid_pages = list(iter_scaled_pages(self.config.valid_pages, round(READ_SCALE * long_side)))
        if not self.train_pages:
            raise InputFileError(self.config.pages, "has no upright pages to train on")

    def train(self) -> DetectionScore | None:
        """Train to ``iters``, validating every ``valid_every`` steps; Ctrl-C saves last.pt and stops."""
        if not self.train_pages:
            self.load_pages()
        stopped = []
        previous = signal.signal(signal.SIGINT, lambda *_: stopped.append(True))
        started, losses, score = time.monotonic(), [], None
        try:
            while self.step < self.config.iters and not stopped:
                losses.append(self._step())
                self.step += 1
                if self.step % self.config.valid_every == 0 or self.step == self.config.iters:
                    score = self._validate(sum(losses) / len(losses), time.monotonic() - started)
                    losses = []
                elif self.progress:
                    self.progress(self.step, self.config.iters, {"loss": losses[-1]})
        finally:
            signal.signal(signal.SIGINT, previous)
        if stopped:
            self._save("last.pt")
            raise KeyboardInterrupt
        return score

    def _step(self) -> float:
        c = self.config
        for group in self.optimizer.param_groups:
            group["lr"] = learning_rate(c, self.step)
        inputs, targets = training_batch(
            self.train_pages, c.seed, self.step, c.batch_size, c.crop, self.model.config.shrink
        )
        loss = detection_loss(self.model(torch.from_numpy(inputs)), torch.from_numpy(targets))
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return float(loss.detach())

    def _validate(self, loss: float, elapsed: float) -> DetectionScore:
        from kocr.pages.db_finder import DBLineFinder

        self.model.eval()
        finder = DBLineFinder(self.model, margin_x=0.0, margin_y=0.0)
        score = score_pages(finder, self.valid_pages)
        self.model.train()
        row = {
            "step": self.step,
            "lr": learning_rate(self.config, self.step - 1),
            "loss": loss,
            "valid_precision": score.precision,
            "valid_recall": score.recall,
            "valid_f1": score.f1,
            "elapsed_s": elapsed,
        }
        CsvLog(self.run_dir / "log.csv", LOG_COLUMNS).write(**row)
        if self.draw_curves:
            self.draw_curves = redraw_run_curves(self.run_dir)
        if score.f1 > self.best_f1:
            self.best_f1 = score.f1
            self._save("best.pt", score)
        self._save("last.pt", score)
        if self.progress:
            self.progress(self.step, self.config.iters, row)
        return score

    def _save(self, name: str, score: DetectionScore | None = None) -> Path:
        extra: dict[str, Any] = {"step": self.step, "train": asdict(self.config)}
        if score is not None:
            extra["metrics"] = asdict(score)
        if name == "last.pt":
            extra["train_state"] = capture_train_state(
                self.optimizer, self.scheduler, self.scaler, step=self.step, epoch=0, best_cer=self.best_f1
            )
        return atomic_torch_save(detector_payload(self.model, **extra), self.run_dir / name)
