"""The training loop: ``kocr train`` and ``kocr finetune`` both end up in :meth:`Trainer.run`.

One loop serves every case: CPU or CUDA, AMP (bf16/fp16) or not, one process or many under
``torchrun`` (DDP; rank 0 validates, logs and writes checkpoints, metrics are summed over ranks), a fresh
start, a resume from ``last.pt``, or a fine-tune from any supported checkpoint.

Guarantees:

- a new run gets a new folder (``runs/NAME``, ``runs/NAME-2``, ...); nothing existing is touched;
- ``last.pt`` is written at every validation, at the end, and when SIGINT/SIGTERM arrives (the step in
  progress finishes first); ``best.pt`` whenever the validation CER improves; both atomically;
- ``--resume runs/x/last.pt`` continues at the same step, epoch position and learning-rate schedule, and
  draws the same batches and the same augmentations as an uninterrupted run: augmentation draws from a
  generator seeded by (seed, epoch, draw) for each sample (:class:`_Compose`), not from a stream that
  would restart; options given with ``--resume`` are honoured or refused (:mod:`kocr.training.resume`).
"""

from __future__ import annotations

import contextlib
import csv
import logging
import math
import random
import signal
import time
from collections.abc import Collection, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn
from torch.utils.data import ConcatDataset, DataLoader, Dataset, Sampler, Subset

from kocr.charsets import Charset
from kocr.checkpoints import Checkpoint, load_checkpoint, save_checkpoint
from kocr.checkpoints.train_state import capture_train_state, restore_train_state
from kocr.devices import resolve_device
from kocr.errors import KocrError
from kocr.fileio import atomic_write_text
from kocr.metrics import RunningMetrics
from kocr.models.objectives import LossModule, Objective
from kocr.models.registry import family_of, get_family, objective_for
from kocr.training import distributed
from kocr.training.config import DEFAULT_MODEL, TrainConfig
from kocr.training.optim import build_optimizer, build_scheduler, parameter_groups, schedule_at_step
from kocr.training.resume import asked_fields, merge_resume
from kocr.training.rundir import new_run_dir
from kocr.training.sampling import MixedEpochSampler, StreamPart

logger = logging.getLogger(__name__)

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
NUM_EXAMPLES = 5


class Reporter(Protocol):
    """Where progress goes: a rich progress bar in the CLI, the logging module otherwise."""

    def start(self, total_steps: int, first_step: int, run_dir: Path) -> None: ...
    def train_step(self, step: int, loss: float, lr: float, samples_per_s: float) -> None: ...
    def validation(self, step: int, metrics: dict[str, float], examples: list[tuple[str, str]]) -> None: ...
    def message(self, text: str) -> None: ...
    def close(self) -> None: ...


class LogReporter:
    """A :class:`Reporter` that writes to the ``kocr.training`` logger."""

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


@dataclass
class TrainResult:
    run_dir: Path
    step: int
    best_cer: float
    last_metrics: dict[str, float] = field(default_factory=dict)
    interrupted: bool = False


@dataclass
class _State:
    """Everything that changes during training and must survive a resume."""

    step: int = 0
    best_cer: float = math.inf
    last_metrics: dict[str, float] = field(default_factory=dict)


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


class Trainer:
    """Builds everything from a :class:`TrainConfig` and runs the loop."""

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
        self._stored: TrainConfig | None = None  # the resumed run's own config
        self._train_transform: _Compose | None = None
        self._stop_requested = False

    # --- setup ------------------------------------------------------------------------------------

    def _restore_or_build(self) -> tuple[nn.Module, Charset, dict[str, Any], Checkpoint | None, bool]:
        """(model, charset, preprocess dict, checkpoint to resume from or None, fine-tuning?)."""
        from kocr.models import create_model

        config = self.requested
        if config.resume:
            checkpoint = load_checkpoint(config.resume)
            if checkpoint.train_state is None:
                raise KocrError(f"{config.resume} holds no training state to resume (was it exported?)")
            stored = TrainConfig(**{**checkpoint.train_config, "resume": config.resume})
            asked = self.resume_options if self.resume_options is not None else asked_fields(config)
            self._stored = stored
            self.requested = merge_resume(stored, config, asked)
            charset = checkpoint.require_charset()
            return checkpoint.build_model(), charset, dict(checkpoint.preprocess or {}), checkpoint, False
        if config.saved_model:
            from kocr.training.remap import model_for_charset

            checkpoint = load_checkpoint(
                config.saved_model, charset=config.model_overrides.get("saved_charset")
            )
            # Fine-tuning trains the saved architecture: the run is named and recorded after it, and a
            # --model that names another one is an error, not an option silently ignored.
            saved = model_label(checkpoint.model_config)
            if config.model is not None and not _same_model(config.model, checkpoint.model_config):
                raise KocrError(
                    f"--model {config.model}: {config.saved_model} is a {saved} model, and fine-tuning keeps "
                    f"the saved architecture; drop --model (or train a {config.model} from scratch with "
                    "`kocr train`)"
                )
            self.requested = replace(config, model=saved)
            charset = Charset.load(config.charset) if config.charset else checkpoint.require_charset()
            overrides = {k: v for k, v in config.model_overrides.items() if k != "saved_charset"}
            model, report = model_for_charset(checkpoint, charset, overrides)
            self.reporter.message(f"fine-tuning {config.saved_model}: {report}")
            preprocess = dict(checkpoint.preprocess or {})
            preprocess.update(_preprocess_overrides(config))
            return model, charset, preprocess, None, True
        from kocr.models import model_config, num_classes_for_charset

        charset = Charset.load(config.charset)
        name = config.model or DEFAULT_MODEL
        self.requested = replace(config, model=name)
        family = get_family(model_config(name)["arch"])
        overrides = {**family.size_overrides(config.img_h, config.img_w), **config.model_overrides}
        model = create_model(name, num_classes_for_charset(len(charset)), **overrides)
        return model, charset, default_preprocess(model.config, config), None, False

    # --- the loop ---------------------------------------------------------------------------------

    def run(self) -> TrainResult:
        from kocr.data.transforms import Preprocess

        device = resolve_device(self.requested.device)
        dist_info = distributed.setup(device)
        device = distributed.device_for(dist_info, device)
        try:
            # Seed before building: the initial weights follow --seed too, and are equal on every rank.
            _seed_everything(self.requested.seed)
            model, charset, preprocess_dict, resume_from, finetuning = self._restore_or_build()
            arch = str(model.config["arch"])
            config = (
                self.requested.resolved(arch, finetuning=finetuning) if not resume_from else self.requested
            )
            _seed_everything(config.seed + dist_info.rank)
            preprocess = Preprocess.from_dict(preprocess_dict)
            objective = objective_for(arch, charset)
            max_length = config.max_length or objective.max_label_length(model)
            train_set, parts, sizes, valid_set = self._datasets(config, charset, max_length, preprocess)

            if config.freeze_features:
                _freeze_feature_extractor(model)
            model.to(device)
            loss_module: nn.Module = LossModule(model, objective)
            if dist_info.enabled:
                loss_module = nn.parallel.DistributedDataParallel(
                    loss_module, device_ids=[device.index] if device.type == "cuda" else None
                )
            sampler = MixedEpochSampler(
                parts,
                config.data_ratios,
                sizes=sizes,
                seed=config.seed,
                rank=dist_info.rank,
                world_size=dist_info.world_size,
            )
            steps_per_epoch = len(sampler) // config.batch_size
            if steps_per_epoch == 0:
                raise KocrError(
                    f"only {len(sampler)} training samples per process: fewer than one batch of "
                    f"{config.batch_size}; lower --batch-size"
                )
            total_steps = _total_steps(config, steps_per_epoch)
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
            if resume_from is not None:
                step, best_cer = restore_train_state(
                    resume_from.train_state or {}, optimizer, scheduler, scaler
                )
                state = _State(step=step, best_cer=best_cer)
                scheduler = self._resumed_length(
                    config, optimizer, scheduler, step, total_steps, steps_per_epoch
                )

            run_dir = self._run_dir(config, dist_info, resume_from, charset)
            loader = DataLoader(
                _SampleSeeded(train_set, self._train_transform),
                batch_size=config.batch_size,
                sampler=_SeededSampler(sampler),
                num_workers=config.workers,
                collate_fn=collate_batch,
                drop_last=True,
                pin_memory=device.type == "cuda",
                worker_init_fn=_ignore_sigint,
                persistent_workers=config.workers > 0,
                generator=_loader_generator(config.seed + dist_info.rank),
            )
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
                run_dir=run_dir,
                valid_set=valid_set,
                total_steps=total_steps,
            )
            return self._loop(context, loader, sampler, steps_per_epoch, state)
        finally:
            distributed.cleanup()

    def _resumed_length(
        self,
        config: TrainConfig,
        optimizer: torch.optim.Optimizer,
        scheduler: Any,
        step: int,
        total_steps: int,
        steps_per_epoch: int,
    ) -> Any:
        """A resumed run asked to end elsewhere (``--iters``/``--epochs``): check the new end lies ahead,
        and recompute the learning-rate schedule for the new length (:func:`schedule_at_step`)."""
        stored_total = _total_steps(self._stored, steps_per_epoch) if self._stored else total_steps
        length = f"--iters {config.iters}" if config.iters else f"--epochs {config.epochs or 1}"
        if total_steps <= step:
            if total_steps == stored_total:  # scripts resume every stage: a finished one just says so
                self.reporter.message(
                    f"{config.resume}: the run already finished ({step:,} of {total_steps:,} steps), so "
                    "there is nothing to train; pass a larger --iters (or --epochs) to train it further"
                )
                return scheduler
            raise KocrError(f"{length} ({total_steps:,} steps): the run is already at step {step:,}")
        if total_steps == stored_total:
            return scheduler
        before = optimizer.param_groups[0]["lr"]
        scheduler = schedule_at_step(
            config.schedule, optimizer, total_steps, config.warmup, step, config.lr or 1e-3
        )
        self.reporter.message(
            f"{length}: the run now ends at step {total_steps:,} instead of {stored_total:,}; the "
            f"{config.schedule} learning-rate schedule is the one a run of that length has, so at step "
            f"{step:,} the rate goes from {before:.3g} to {optimizer.param_groups[0]['lr']:.3g}"
        )
        return scheduler

    def _datasets(
        self, config: TrainConfig, charset: Charset, max_length: int, preprocess: Any
    ) -> tuple[ConcatDataset, list[list[int]], list[int], Any]:
        from kocr.data.sources import open_labelled_dataset, with_transform
        from kocr.data.synth.stream import SynthStream
        from kocr.data.transforms import Augment

        if not config.train_data:
            raise KocrError("no training data given (--train-data)")
        augment = Augment() if config.augment else None

        def open_set(path: str, transform: Any) -> Any:
            options = dict(
                charset=charset, max_length=max_length, case_fold=config.case_fold, image_mode=None
            )
            return open_labelled_dataset(path, transform=transform, **options)

        train_transform = self._train_transform = _Compose(augment, preprocess)
        opened = [open_set(path, train_transform) for path in config.train_data]
        for path, dataset in zip(config.train_data, opened, strict=True):
            if len(dataset) == 0:
                raise KocrError(f"{path}: no usable training samples (see the warnings above for why)")
        parts: list[Any] = [
            StreamPart(d.lines_per_epoch) if isinstance(d, SynthStream) else list(range(len(d)))
            for d in opened
        ]
        sizes = [len(d) for d in opened]
        if config.valid_data:
            valid_sets = [
                _stream_validation(dataset, config) if isinstance(dataset, SynthStream) else dataset
                for dataset in (open_set(path, preprocess) for path in config.valid_data)
            ]
            valid_set: Any = ConcatDataset(valid_sets)
        elif isinstance(opened[0], SynthStream):
            valid_set = _stream_validation(with_transform(opened[0], preprocess), config)
            self.reporter.message(
                f"no --valid-data: validating on {len(valid_set):,} lines of {config.train_data[0]} "
                "that training never draws"
            )
        else:
            held, parts[0] = _hold_out(len(opened[0]), config)
            valid_set = Subset(with_transform(opened[0], preprocess), held)  # no augmentation
            self.reporter.message(
                f"no --valid-data: validating on {len(held):,} samples held out of {config.train_data[0]}"
            )
        if config.valid_max_samples and len(valid_set) > config.valid_max_samples:
            step = len(valid_set) / config.valid_max_samples
            valid_set = Subset(valid_set, [int(i * step) for i in range(config.valid_max_samples)])
        return ConcatDataset(opened), parts, sizes, valid_set

    def _run_dir(
        self,
        config: TrainConfig,
        dist_info: distributed.DistInfo,
        resume_from: Checkpoint | None,
        charset: Charset,
    ) -> Path:
        if resume_from is not None and resume_from.path is not None:
            return resume_from.path.parent
        name = config.name or f"{config.model}-{charset.name or 'custom'}"
        if dist_info.enabled:
            # Rank 0 creates the folder; the others learn its name through a broadcast.
            holder = [str(new_run_dir(config.output, name)) if dist_info.is_main else ""]
            torch.distributed.broadcast_object_list(holder, src=0)
            return Path(holder[0])
        return new_run_dir(config.output, name)

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
            atomic_write_text(ctx.run_dir / "config.json", _json(_run_record(ctx)))
        log = _CsvLog(ctx.run_dir / "log.csv") if main else None
        reporter = self.reporter if main else LogReporter()
        reporter.start(ctx.total_steps, state.step, ctx.run_dir)
        previous_handlers = self._install_signal_handlers()
        started = time.monotonic()
        window_loss, window_samples, window_start = 0.0, 0, time.monotonic()
        try:
            while state.step < ctx.total_steps and not self._stop_requested:
                epoch, offset = divmod(state.step, steps_per_epoch)
                sampler.set_epoch(epoch, offset * config.batch_size)
                ctx.model.train()
                for images, labels in loader:
                    loss = self._train_step(ctx, images, labels)
                    state.step += 1
                    window_loss += loss
                    window_samples += len(labels)
                    if state.step % config.log_every == 0 or state.step == ctx.total_steps:
                        elapsed = max(time.monotonic() - window_start, 1e-9)
                        steps = state.step % config.log_every or config.log_every
                        mean_loss = window_loss / steps
                        speed = window_samples * ctx.dist_info.world_size / elapsed
                        lr = ctx.optimizer.param_groups[0]["lr"]
                        reporter.train_step(state.step, mean_loss, lr, speed)
                        if log:
                            log.write(
                                step=state.step,
                                epoch=epoch,
                                lr=lr,
                                loss=mean_loss,
                                samples_per_s=speed,
                                elapsed_s=time.monotonic() - started,
                            )
                        window_loss, window_samples, window_start = 0.0, 0, time.monotonic()
                    stop = self._agree_on_stop(ctx)
                    if state.step % config.valid_every == 0 or state.step == ctx.total_steps or stop:
                        self._validate_and_save(ctx, state, epoch, reporter, log, started)
                        ctx.model.train()
                    if stop or state.step >= ctx.total_steps:
                        break
                    if state.step % steps_per_epoch == 0:
                        break  # next epoch: a new order
        finally:
            self._restore_signal_handlers(previous_handlers)
            reporter.close()
        if self._stop_requested:
            reporter.message(f"stopped at step {state.step}; resume with --resume {ctx.run_dir / 'last.pt'}")
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

    def _validate_and_save(
        self,
        ctx: _Context,
        state: _State,
        epoch: int,
        reporter: Reporter,
        log: _CsvLog | None,
        started: float,
    ) -> None:
        metrics, examples = validate(ctx)
        state.last_metrics = metrics
        improved = metrics["cer"] < state.best_cer
        if improved:
            state.best_cer = metrics["cer"]
        if ctx.dist_info.is_main:
            reporter.validation(state.step, metrics, examples)
            if log:
                log.write(
                    step=state.step,
                    epoch=epoch,
                    elapsed_s=time.monotonic() - started,
                    **{f"valid_{k}": v for k, v in metrics.items() if f"valid_{k}" in LOG_COLUMNS},
                )
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
class _Context:
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
    info = ctx.dist_info
    indices = list(range(info.rank, len(ctx.valid_set), info.world_size))
    loader = DataLoader(
        Subset(ctx.valid_set, indices),
        batch_size=ctx.config.batch_size,
        num_workers=min(ctx.config.workers, 2),
        collate_fn=collate_batch,
        worker_init_fn=_ignore_sigint,
        generator=_loader_generator(0),  # not the global RNG: validating must not shift training's draws
    )
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


# --- helpers ---------------------------------------------------------------------------------------


def default_preprocess(model_config: dict[str, Any], config: TrainConfig) -> dict[str, Any]:
    """Image preprocessing that fits the model: its input size and channels, ratio kept and padded."""
    preprocess = family_of(model_config).preprocess(model_config, keep_ratio=config.keep_ratio)
    return {**preprocess, "normalize": config.normalize}


def _preprocess_overrides(config: TrainConfig) -> dict[str, Any]:
    overrides: dict[str, Any] = {"normalize": config.normalize}  # a fine-tune decides for itself
    if config.img_h:
        overrides["height"] = config.img_h
    if config.img_w:
        overrides["width"] = config.img_w
    return overrides


def collate_batch(items: Sequence[tuple[torch.Tensor, str]]) -> tuple[torch.Tensor, list[str]]:
    """Stack same-size image tensors; labels stay a list of strings."""
    images = torch.stack([image for image, _ in items])
    return images, [label for _, label in items]


class _Compose:
    """Augment (PIL → PIL, optional) then preprocess (PIL → tensor); picklable for DataLoader workers.

    Augmentation draws from a generator made for each sample from its key, ``(seed, epoch, draw)``, which
    :class:`_SampleSeeded` sets before reading the sample: the same sample at the same point of the run
    gets the same augmentation whichever worker reads it, and after a resume too (a generator seeded per
    worker, as before, restarted from its seed when a run was resumed). Without a key (a dataset read
    outside the trainer) it falls back to a generator seeded by ``torch.initial_seed()``.
    """

    def __init__(self, augment: Any, preprocess: Any) -> None:
        self.augment = augment
        self.preprocess = preprocess
        self.sample_key: tuple[int, ...] | None = None
        self._rng_seed: int | None = None
        self._rng: np.random.Generator | None = None

    def __call__(self, image: Any) -> torch.Tensor:
        if self.augment is not None:
            image = self.augment(image, rng=self._generator())
        return self.preprocess(image)

    def _generator(self) -> np.random.Generator:
        if self.sample_key is not None:
            return np.random.default_rng(list(self.sample_key))
        seed = torch.initial_seed()
        if self._rng is None or seed != self._rng_seed:
            self._rng_seed, self._rng = seed, np.random.default_rng(seed)
        return self._rng


class _SeededSampler(Sampler[tuple[int, tuple[int, ...]]]):
    """The training sampler's indices, each with its augmentation key ``(seed, epoch, draw)``: ``draw``
    counts the epoch's draws across all ranks, so a sample drawn twice in an epoch is augmented twice
    differently, and a resumed run (which skips the epoch's first draws) keys the rest as before."""

    def __init__(self, sampler: MixedEpochSampler) -> None:
        self.sampler = sampler

    def __len__(self) -> int:
        return len(self.sampler)

    def __iter__(self) -> Iterator[tuple[int, tuple[int, ...]]]:
        s = self.sampler
        for k, index in enumerate(s):
            draw = s.rank + s.world_size * (s.start + k)
            yield index, (s.seed % 2**63, s.epoch, draw)


class _SampleSeeded(Dataset):
    """Reads ``dataset[index]`` for a ``(index, key)`` from :class:`_SeededSampler`, with ``key`` set on
    the shared training transform first (in the worker process that reads it)."""

    def __init__(self, dataset: ConcatDataset, transform: Any) -> None:
        self.dataset = dataset
        self.transform = transform

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, item: tuple[int, tuple[int, ...]]) -> Any:
        index, key = item
        if isinstance(self.transform, _Compose):
            self.transform.sample_key = key
        return self.dataset[index]


def _loader_generator(seed: int) -> torch.Generator:
    """DataLoaders draw their workers' base seed from this, not from the global RNG (which the model's
    dropout uses): creating a loader, for validation or after a resume, must not shift the run's draws."""
    return torch.Generator().manual_seed(seed % 2**63)


def _total_steps(config: TrainConfig, steps_per_epoch: int) -> int:
    return config.iters or (config.epochs or 1) * steps_per_epoch


def model_label(config: dict[str, Any]) -> str:
    """The model's name for run folders and records: its registered name, else one derived from the
    architecture (a clovaai checkpoint's ``tps-resnet-bilstm-ctc``)."""
    if config.get("name"):
        return str(config["name"])
    if config.get("arch") == "crnn":
        stages = (
            config.get("transformation"),
            config.get("feature_extraction"),
            config.get("sequence_modeling"),
        )
        return "-".join(str(s).lower() for s in stages if s and s != "None") + "-ctc"
    return str(config.get("arch", "model"))


_SIZE_KEYS = frozenset({"name", "img_h", "img_w", "img_size", "max_label_length"})


def _same_model(name: str, config: dict[str, Any]) -> bool:
    """Whether ``--model name`` is the checkpoint's model: its registered name, or (a foreign checkpoint
    without one) the same architecture, input size aside."""
    from kocr.models import model_config

    if config.get("name"):
        return name == config["name"]
    wanted = model_config(name)
    if wanted["arch"] != config.get("arch"):
        return False
    return all(config.get(k) == v for k, v in wanted.items() if k not in _SIZE_KEYS and k in config)


def _stream_validation(stream: Any, config: TrainConfig) -> Any:
    """Fixed validation lines of a synthetic stream (``--valid-max-samples``, else 2,000)."""
    return stream.validation(config.valid_max_samples or 2000)


def _hold_out(size: int, config: TrainConfig) -> tuple[list[int], list[int]]:
    """A deterministic validation subset of a training set: (held-out indices, training indices)."""
    if size < 2:
        raise KocrError("need at least 2 samples to hold one out for validation; pass --valid-data")
    count = max(1, min(int(size * config.valid_fraction), config.valid_max_samples or size, size - 1))
    order = torch.randperm(size, generator=torch.Generator().manual_seed(config.seed)).tolist()
    return sorted(order[:count]), sorted(order[count:])


def _freeze_feature_extractor(model: nn.Module) -> None:
    """Fine-tuning on little data: keep the visual features, train the sequence model and head."""
    frozen = family_of(model.config).freeze_prefixes
    for name, param in model.named_parameters():
        if name.startswith(frozen):
            param.requires_grad_(False)


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _ignore_sigint(_worker_id: int) -> None:
    """DataLoader workers leave Ctrl-C to the main process, which saves last.pt before stopping."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class _CsvLog:
    """``log.csv``: one row per logged training window and per validation, appended as it goes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.exists():
            with path.open("w", newline="", encoding="utf-8") as handle:
                csv.writer(handle).writerow(LOG_COLUMNS)

    def write(self, **values: Any) -> None:
        row = [_format(values.get(column)) for column in LOG_COLUMNS]
        with self.path.open("a", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerow(row)


def _format(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _run_record(ctx: _Context) -> dict[str, Any]:
    from kocr import __version__

    return {
        "kocr_version": __version__,
        "train": ctx.config.to_dict(),
        "model": dict(ctx.model.config),
        "num_classes": int(ctx.model.num_classes),
        "charset": {"name": ctx.charset.name, "mode": ctx.charset.mode, "size": len(ctx.charset)},
        "preprocess": ctx.preprocess.to_dict(),
        "device": str(ctx.device),
        "world_size": ctx.dist_info.world_size,
        "amp": str(ctx.dtype) if ctx.dtype is not None else "off",
    }


def _json(data: Any) -> str:
    import json

    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
