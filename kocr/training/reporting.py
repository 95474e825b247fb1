"""What a run tells as it goes: progress and validations to a :class:`Reporter`, rows to ``log.csv``, its
curves to ``curves.png`` (redrawn at each validation, :mod:`kocr.report.curves`), and the run's record in
``config.json``.

Rank 0 writes the files; every rank reports its training steps (the CLI gives rank 0 a progress bar,
the others log).
"""

from __future__ import annotations

import csv
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import nn

from kocr.charsets import Charset
from kocr.fileio import atomic_write_text, writing
from kocr.names import json_text
from kocr.training.config import TrainConfig

# Progress lines keep the logger they had when they came from the trainer, so a handler set on it still
# sees them.
logger = logging.getLogger("kocr.training.trainer")

LOG_COLUMNS = (
    "step",
    "epoch",
    "lr",
    "loss",
    "samples_per_s",
    "valid_loss",
    "valid_accuracy",
    "valid_cer",
    "valid_cer_ignore_space",
    "valid_one_minus_ned",
    "valid_jamo_error_rate",
    "elapsed_s",
)
#: (truth, prediction) pairs shown per validation.
NUM_EXAMPLES = 5


class Reporter(Protocol):
    """Where progress goes: a rich progress bar in the CLI, the logging module otherwise."""

    def start(self, total_steps: int, first_step: int, run_dir: Path) -> None: ...
    def train_step(self, step: int, loss: float, lr: float, samples_per_s: float) -> None: ...
    def validation(self, step: int, metrics: dict[str, float], examples: list[tuple[str, str]]) -> None: ...
    def message(self, text: str) -> None: ...
    def close(self) -> None: ...


class LogReporter:
    """A :class:`Reporter` that writes to the ``kocr.training.trainer`` logger."""

    def start(self, total_steps: int, first_step: int, run_dir: Path) -> None:
        logger.info("training %d steps from step %d into %s", total_steps, first_step, run_dir)

    def train_step(self, step: int, loss: float, lr: float, samples_per_s: float) -> None:
        logger.info("step %d loss %.4f lr %.2e %.1f samples/s", step, loss, lr, samples_per_s)

    def validation(self, step: int, metrics: dict[str, float], examples: list[tuple[str, str]]) -> None:
        logger.info("step %d validation %s", step, {k: round(v, 4) for k, v in metrics.items()})

    def message(self, text: str) -> None:
        logger.info(text)

    def close(self) -> None:
        pass


class RunProgress:
    """Training steps summed over windows of ``log_every`` steps, and validations, sent to the reporter
    and (given ``log_path``) appended to ``log.csv``."""

    def __init__(self, reporter: Reporter, log_path: Path | None, *, log_every: int, world_size: int) -> None:
        self.reporter = reporter
        self.log = CsvLog(log_path) if log_path is not None else None
        self.log_every = log_every
        self.world_size = world_size
        self.started = self._window_start = time.monotonic()
        self._window_loss, self._window_samples = 0.0, 0
        self._draw_curves = log_path is not None

    def start(self, total_steps: int, first_step: int, run_dir: Path) -> None:
        """Tell the reporter; elapsed times and the first window's speed count from here."""
        self.reporter.start(total_steps, first_step, run_dir)
        self.started = self._window_start = time.monotonic()

    def train_step(self, step: int, epoch: int, loss: float, samples: int, lr: float, *, last: bool) -> None:
        """One optimiser step's loss and batch size (this rank's); every ``log_every`` steps and at the
        ``last`` one, the window's mean loss and samples/s over all ranks are reported."""
        self._window_loss += loss
        self._window_samples += samples
        if step % self.log_every != 0 and not last:
            return
        now = time.monotonic()
        steps = step % self.log_every or self.log_every
        mean_loss = self._window_loss / steps
        speed = self._window_samples * self.world_size / max(now - self._window_start, 1e-9)
        self.reporter.train_step(step, mean_loss, lr, speed)
        if self.log:
            self.log.write(
                step=step,
                epoch=epoch,
                lr=lr,
                loss=mean_loss,
                samples_per_s=speed,
                elapsed_s=time.monotonic() - self.started,
            )
        self._window_loss, self._window_samples, self._window_start = 0.0, 0, time.monotonic()

    def validation(
        self, step: int, epoch: int, metrics: dict[str, float], examples: list[tuple[str, str]]
    ) -> None:
        self.reporter.validation(step, metrics, examples)
        if self.log:
            self.log.write(
                step=step,
                epoch=epoch,
                elapsed_s=time.monotonic() - self.started,
                **{f"valid_{k}": v for k, v in metrics.items() if f"valid_{k}" in LOG_COLUMNS},
            )
            self._redraw_curves()

    def _redraw_curves(self) -> None:
        if self._draw_curves and self.log is not None:
            self._draw_curves = redraw_run_curves(self.log.path.parent)

    def message(self, text: str) -> None:
        self.reporter.message(text)

    def close(self) -> None:
        self.reporter.close()


class CsvLog:
    """``log.csv``: one row per logged training window and per validation, appended as it goes (the
    recogniser's :data:`LOG_COLUMNS`, or a line detector's own)."""

    def __init__(self, path: Path, columns: Sequence[str] = LOG_COLUMNS) -> None:
        self.path = path
        self.columns = tuple(columns)
        if not path.exists():
            with writing(path), path.open("w", newline="", encoding="utf-8") as handle:
                csv.writer(handle).writerow(self.columns)

    def write(self, **values: Any) -> None:
        row = [_format(values.get(column)) for column in self.columns]
        with writing(self.path), self.path.open("a", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerow(row)


def _format(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def write_run_record(
    run_dir: Path,
    *,
    config: TrainConfig,
    model: nn.Module,
    charset: Charset,
    preprocess: dict[str, Any],
    device: torch.device,
    world_size: int,
    dtype: torch.dtype | None,
) -> None:
    """``config.json``: what the run trains, with what and where (rewritten when a run resumes)."""
    from kocr import __version__

    record = {
        "kocr_version": __version__,
        "train": config.to_dict(),
        "model": dict(model.config),
        "num_classes": int(model.num_classes),
        "charset": {"name": charset.name, "mode": charset.mode, "size": len(charset)},
        "preprocess": preprocess,
        "device": str(device),
        "world_size": world_size,
        "amp": str(dtype) if dtype is not None else "off",
    }
    atomic_write_text(run_dir / "config.json", json_text(record, indent=2) + "\n")


def redraw_run_curves(run_dir: Path) -> bool:
    """``curves.png`` beside a run's ``log.csv``, redrawn. A picture is a convenience, so a failure to
    draw it is a warning and never stops the run; returns whether to keep drawing."""
    try:
        from kocr.report.curves import write_run_curves  # matplotlib: loaded at the first validation

        write_run_curves(run_dir)
        return True
    except Exception as exc:
        logger.warning("cannot draw curves.png (%s: %s); training goes on without it",
                       type(exc).__name__, exc)  # fmt: skip
        return False
