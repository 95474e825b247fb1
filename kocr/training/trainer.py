"""The training loop: ``kocr train`` and ``kocr finetune`` both end up in :meth:`Trainer.run`.

One loop serves every case: CPU or CUDA, AMP (bf16/fp16) or not, one process or many under
``torchrun`` (DDP; rank 0 validates, logs and writes checkpoints, metrics are summed over ranks), a fresh
start, a resume from ``last.pt``, or a fine-tune from any supported checkpoint. Beside it:
:mod:`~kocr.training.startup` restores or builds the model and resolves the run's config,
:mod:`~kocr.training.datasets` opens what the run reads, :mod:`~kocr.training.reporting` tells how it goes.

Guarantees:

- a new run gets a new folder (``runs/NAME``, ``runs/NAME-2``, ...); nothing existing is touched;
- ``last.pt`` is written at every validation, at the end, and when SIGINT/SIGTERM arrives (the step in
  progress finishes first); ``best.pt`` whenever the validation CER improves; both atomically;
- ``--resume runs/x/last.pt`` continues at the same step, epoch position and learning-rate schedule, and
  draws the same batches and the same augmentations as an uninterrupted run: augmentation draws from a
  generator seeded by (seed, epoch, draw) for each sample (:mod:`kocr.training.augmentation`), not from a
  stream that would restart; options given with ``--resume`` are honoured or refused
  (:mod:`kocr.training.resume`).
"""

from __future__ import annotations

import contextlib
import logging
import math
import signal
from collections.abc import Collection
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from kocr.charsets import Charset
from kocr.checkpoints import save_checkpoint
from kocr.checkpoints.train_state import capture_train_state
from kocr.data.transforms import Preprocess
from kocr.devices import resolve_device
from kocr.errors import KocrError
from kocr.metrics import RunningMetrics
from kocr.models.objectives import LossModule, Objective
from kocr.models.registry import objective_for
from kocr.training import distributed
from kocr.training.config import TrainConfig
from kocr.training.datasets import open_training_data, training_loader, validation_loader
from kocr.training.optim import build_optimizer, build_scheduler, parameter_groups
from kocr.training.reporting import NUM_EXAMPLES, LogReporter, Reporter, RunProgress, write_run_record
from kocr.training.sampling import MixedEpochSampler
from kocr.training.startup import resume_progress, run_folder, seed_everything, start_run

logger = logging.getLogger(__name__)


@dataclass
class TrainResult:
    run_dir: Path
    step: int
    best_cer: float
    last_metrics: dict[str, float] = field(default_factory=dict)
    interrupted: bool = False


class Trainer:
    """Starts the run a :class:`TrainConfig` asks for and runs the loop."""

    def __init__(
        self,
        config: TrainConfig,
        reporter: Reporter | None = None,
        *,
        resume_options: Collection[str] | None = None,
    ) -> None:
        """``resume_options``: the :class:`TrainConfig` fields the user gave with ``--resume`` (the CLI
        knows them); None infers them as the fields that differ from the defaults."""
        self.requested = config
        self.reporter: Reporter = reporter or LogReporter()
        self.resume_options = resume_options
        self.config: TrainConfig | None = None  # the run's resolved config, once run() has started it
        self._stop_requested = False

    def run(self) -> TrainResult:
        # The device is always the one asked now, on a resume too (kocr.training.resume).
        device = resolve_device(self.requested.device)
        dist_info = distributed.setup(device)
        device = distributed.device_for(dist_info, device)
        try:
            start = start_run(self.requested, self.resume_options, self.reporter.message)
            self.config = config = start.config
            seed_everything(config.seed + dist_info.rank)
            model, charset = start.model, start.charset
            preprocess = Preprocess.from_dict(start.preprocess)
            objective = objective_for(str(model.config["arch"]), charset)
            max_length = config.max_length or objective.max_label_length(model)
            data = open_training_data(
                config, charset, max_length, preprocess, dist_info, self.reporter.message
            )

            model.to(device)
            loss_module: nn.Module = LossModule(model, objective)
            if dist_info.enabled:
                loss_module = nn.parallel.DistributedDataParallel(
                    loss_module, device_ids=[device.index] if device.type == "cuda" else None
                )
            steps_per_epoch = len(data.sampler) // config.batch_size
            if steps_per_epoch == 0:
                raise KocrError(
                    f"only {len(data.sampler)} training samples per process: fewer than one batch of "
                    f"{config.batch_size}; lower --batch-size"
                )
            total_steps = config.total_steps(steps_per_epoch)
            optimizer = build_optimizer(
                config.optimizer,
                parameter_groups(model, config.weight_decay or 0.0),
                config.lr or 1e-3,
                config.weight_decay or 0.0,
            )
            scheduler = build_scheduler(config.schedule, optimizer, total_steps, config.warmup)
            dtype = amp_dtype(config.amp, device)
            scaler = torch.amp.GradScaler("cuda", enabled=dtype == torch.float16)
            state = _State()
            if start.resume_from is not None:
                step, best_cer, scheduler = resume_progress(
                    start, optimizer, scheduler, scaler, steps_per_epoch, self.reporter.message
                )
                state = _State(step=step, best_cer=best_cer)

            context = _Context(
                config=config,
                model=model,
                loss_module=loss_module,
                objective=objective,
                charset=charset,
                preprocess=preprocess,
                optimizer=optimizer,
                scheduler=scheduler,
                scaler=scaler,
                dtype=dtype,
                device=device,
                dist_info=dist_info,
                run_dir=run_folder(start, dist_info),
                valid_set=data.valid,
                total_steps=total_steps,
            )
            loader = training_loader(data, config, device, dist_info.rank)
            return self._loop(context, loader, data.sampler, steps_per_epoch, state)
        finally:
            distributed.cleanup()

    def _loop(
        self,
        ctx: _Context,
        loader: DataLoader,
        sampler: MixedEpochSampler,
        steps_per_epoch: int,
        state: _State,
    ) -> TrainResult:
        config, main = ctx.config, ctx.dist_info.is_main
        if main:
            write_run_record(
                ctx.run_dir,
                config=config,
                model=ctx.model,
                charset=ctx.charset,
                preprocess=ctx.preprocess.to_dict(),
                device=ctx.device,
                world_size=ctx.dist_info.world_size,
                dtype=ctx.dtype,
            )
        progress = RunProgress(
            self.reporter if main else LogReporter(),
            ctx.run_dir / "log.csv" if main else None,
            log_every=config.log_every,
            world_size=ctx.dist_info.world_size,
        )
        progress.start(ctx.total_steps, state.step, ctx.run_dir)
        previous_handlers = self._install_signal_handlers()
        try:
            while state.step < ctx.total_steps and not self._stop_requested:
                epoch, offset = divmod(state.step, steps_per_epoch)
                sampler.set_epoch(epoch, offset * config.batch_size)
                ctx.model.train()
                for images, labels in loader:
                    loss = self._train_step(ctx, images, labels)
                    state.step += 1
                    last = state.step == ctx.total_steps
                    lr = ctx.optimizer.param_groups[0]["lr"]
                    progress.train_step(state.step, epoch, loss, len(labels), lr, last=last)
                    stop = self._agree_on_stop(ctx)
                    if state.step % config.valid_every == 0 or last or stop:
                        self._validate_and_save(ctx, state, epoch, progress)
                        ctx.model.train()
                    if stop or state.step >= ctx.total_steps:
                        break
                    if state.step % steps_per_epoch == 0:
                        break  # next epoch: a new order
        finally:
            self._restore_signal_handlers(previous_handlers)
            progress.close()
        if self._stop_requested:
            progress.message(f"stopped at step {state.step}; resume with --resume {ctx.run_dir / 'last.pt'}")
        return TrainResult(ctx.run_dir, state.step, state.best_cer, state.last_metrics, self._stop_requested)

    def _train_step(self, ctx: _Context, images: torch.Tensor, labels: list[str]) -> float:
        images = images.to(ctx.device, non_blocking=True)
        autocast = (
            torch.autocast(device_type=ctx.device.type, dtype=ctx.dtype)
            if ctx.dtype is not None
            else nullcontext()
        )
        with autocast:
            loss = ctx.loss_module(images, labels)
        ctx.optimizer.zero_grad(set_to_none=True)
        ctx.scaler.scale(loss).backward()
        ctx.scaler.unscale_(ctx.optimizer)
        if ctx.config.grad_clip:
            torch.nn.utils.clip_grad_norm_(ctx.model.parameters(), ctx.config.grad_clip)
        ctx.scaler.step(ctx.optimizer)
        ctx.scaler.update()
        ctx.scheduler.step()
        return float(loss.detach())

    def _validate_and_save(self, ctx: _Context, state: _State, epoch: int, progress: RunProgress) -> None:
        metrics, examples = validate(ctx)
        state.last_metrics = metrics
        improved = metrics["cer"] < state.best_cer
        if improved:
            state.best_cer = metrics["cer"]
        if ctx.dist_info.is_main:
            progress.validation(state.step, epoch, metrics, examples)
            train_state = capture_train_state(
                ctx.optimizer,
                ctx.scheduler,
                ctx.scaler,
                step=state.step,
                epoch=epoch,
                best_cer=state.best_cer,
            )
            save = dict(
                model=ctx.model,
                charset=ctx.charset,
                preprocess=ctx.preprocess.to_dict(),
                train_config=ctx.config.to_dict(),
                metrics={**metrics, "step": state.step},
            )
            save_checkpoint(ctx.run_dir / "last.pt", train_state=train_state, **save)
            if improved:
                save_checkpoint(ctx.run_dir / "best.pt", train_state=train_state, **save)
        distributed.barrier()

    # --- interruption -------------------------------------------------------------------------------

    def _install_signal_handlers(self) -> dict[int, Any]:
        def request_stop(signum: int, frame: Any) -> None:
            if self._stop_requested and signum == signal.SIGINT:
                raise KeyboardInterrupt  # a second Ctrl-C: stop now
            self._stop_requested = True
            logger.warning(
                "received %s: finishing this step and writing last.pt", signal.Signals(signum).name
            )

        handlers = {}
        for signum in (signal.SIGINT, signal.SIGTERM):
            # signal.signal raises ValueError outside the main thread (a notebook worker thread, say).
            with contextlib.suppress(ValueError):
                handlers[signum] = signal.signal(signum, request_stop)
        return handlers

    @staticmethod
    def _restore_signal_handlers(handlers: dict[int, Any]) -> None:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)

    def _agree_on_stop(self, ctx: _Context) -> bool:
        """Under DDP every rank must stop at the same step, or the collectives deadlock."""
        if not ctx.dist_info.enabled:
            return self._stop_requested
        (votes,) = distributed.all_reduce_sum([float(self._stop_requested)], ctx.device)
        self._stop_requested = votes > 0
        return self._stop_requested


@dataclass
class _State:
    """Everything that changes during training and must survive a resume."""

    step: int = 0
    best_cer: float = math.inf
    last_metrics: dict[str, float] = field(default_factory=dict)


@dataclass
class _Context:
    """What the loop works with, fixed once the run has started."""

    config: TrainConfig
    model: nn.Module
    loss_module: nn.Module
    objective: Objective
    charset: Charset
    preprocess: Any
    optimizer: torch.optim.Optimizer
    scheduler: Any
    scaler: torch.amp.GradScaler
    dtype: torch.dtype | None
    device: torch.device
    dist_info: distributed.DistInfo
    run_dir: Path
    valid_set: Any
    total_steps: int


@torch.no_grad()
def validate(ctx: _Context) -> tuple[dict[str, float], list[tuple[str, str]]]:
    """Metrics over the validation set (sharded over ranks, summed) and a few (truth, prediction) pairs."""
    ctx.model.eval()
    loader = validation_loader(ctx.valid_set, ctx.config, ctx.dist_info)
    running = RunningMetrics()
    loss_sum, batches, examples = 0.0, 0, []
    autocast = torch.autocast(ctx.device.type, dtype=ctx.dtype) if ctx.dtype is not None else nullcontext()
    for images, labels in loader:
        images = images.to(ctx.device)
        with autocast:
            loss_sum += float(ctx.objective.loss(ctx.model, images, labels))
            decoded = ctx.objective.decode(ctx.model, images)
        batches += 1
        for label, result in zip(labels, decoded, strict=True):
            running.update(label, result.text)
            if len(examples) < NUM_EXAMPLES:
                examples.append((label, result.text))
    sums = distributed.all_reduce_sum([*running.to_sums(), loss_sum, float(batches)], ctx.device)
    total = RunningMetrics.from_sums(sums[:-2])
    metrics = {"loss": sums[-2] / max(sums[-1], 1.0), **total.summary()}
    return metrics, examples


def amp_dtype(amp: str | None, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for ``--amp`` (None = auto): bf16 where the GPU supports it, else fp16; none on
    CPU unless asked (``bf16`` trains faster on CPUs with AVX512-BF16 or AMX)."""
    amp = amp or "auto"
    if amp == "off" or (amp == "auto" and device.type != "cuda"):
        return None
    if amp == "auto":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if amp in ("bf16", "fp16"):
        if amp == "fp16" and device.type != "cuda":
            raise KocrError("--amp fp16 needs a CUDA GPU; on the CPU use --amp bf16 or off")
        return torch.bfloat16 if amp == "bf16" else torch.float16
    raise KocrError(f"--amp must be auto, off, bf16 or fp16, not {amp!r}")
