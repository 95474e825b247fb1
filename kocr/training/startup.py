"""How a run starts: resume ``last.pt``, fine-tune a saved model, or build a new one.

Each way decides the run's config in one place and returns it whole (:class:`RunStart`): a resumed run
takes the stored config with the options ``--resume`` honours (:mod:`kocr.training.resume`); a
fine-tune and a new run take the request with the model's name and the family's defaults filled in
(:meth:`TrainConfig.resolved`). Nothing is reassigned afterwards, so the config cannot depend on what
ran first.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from kocr.charsets import Charset
from kocr.checkpoints import Checkpoint, load_checkpoint, read_torch_file
from kocr.checkpoints.train_state import restore_train_state
from kocr.errors import KocrError
from kocr.models.registry import family_of, get_family
from kocr.training import distributed
from kocr.training.config import DEFAULT_MODEL, TrainConfig
from kocr.training.optim import schedule_at_step
from kocr.training.resume import asked_fields, check_latest_state, merge_resume
from kocr.training.rundir import new_run_dir

#: Where start-up says what it decided (the fine-tune's charset report, a resumed run's new length).
Say = Callable[[str], None]


@dataclass(frozen=True)
class RunStart:
    """What a run starts from. ``config`` is final: the loop trains with it and checkpoints store it."""

    config: TrainConfig
    model: nn.Module
    charset: Charset
    preprocess: dict[str, Any]
    resume_from: Checkpoint | None = None  # the checkpoint a resumed run continues
    stored: TrainConfig | None = None  # that run's config as stored, before --resume's changes


def start_run(requested: TrainConfig, resume_options: Collection[str] | None, say: Say) -> RunStart:
    """The model, charset, preprocessing and resolved config of the run ``requested`` asks for.

    ``resume_options``: the fields given with ``--resume`` (None: those that differ from the defaults).
    The global RNGs are seeded with ``requested.seed`` first, so the initial weights follow ``--seed``
    and are the same on every rank.
    """
    seed_everything(requested.seed)
    if requested.resume:
        start = _resume(requested, resume_options)
    elif requested.saved_model:
        start = _finetune(requested, say)
    else:
        start = _fresh(requested)
    if start.config.freeze_features:
        _freeze_feature_extractor(start.model)
    return start


def _resume(requested: TrainConfig, resume_options: Collection[str] | None) -> RunStart:
    checkpoint = load_checkpoint(requested.resume)
    if checkpoint.train_state is None:
        raise KocrError(f"{requested.resume} holds no training state to resume (was it exported?)")
    step = int(checkpoint.train_state["step"])
    check_latest_state(requested.resume, step, _latest_step(requested.resume))
    stored = TrainConfig(**{**checkpoint.train_config, "resume": requested.resume})
    asked = resume_options if resume_options is not None else asked_fields(requested)
    return RunStart(
        config=merge_resume(stored, requested, asked),
        model=checkpoint.build_model(),
        charset=checkpoint.require_charset(),
        preprocess=dict(checkpoint.preprocess or {}),
        resume_from=checkpoint,
        stored=stored,
    )


def _latest_step(resume: str) -> int | None:
    """The step of the ``last.pt`` beside ``resume`` (None: none there, or no training state in it)."""
    latest = Path(resume).parent / "last.pt"
    if Path(resume).name == "last.pt" or not latest.exists():
        return None
    try:
        payload = read_torch_file(latest)
        return int(payload["train_state"]["step"])
    except (KocrError, KeyError, TypeError, ValueError):
        return None


def _finetune(requested: TrainConfig, say: Say) -> RunStart:
    from kocr.training.remap import model_for_charset

    checkpoint = load_checkpoint(
        requested.saved_model, charset=requested.model_overrides.get("saved_charset")
    )
    # Fine-tuning trains the saved architecture: the run is named and recorded after it, and a --model
    # that names another one is an error, not an option silently ignored.
    saved = model_label(checkpoint.model_config)
    if requested.model is not None and not _same_model(requested.model, checkpoint.model_config):
        raise KocrError(
            f"--model {requested.model}: {requested.saved_model} is a {saved} model, and fine-tuning keeps "
            f"the saved architecture; drop --model (or train a {requested.model} from scratch with "
            "`kocr train`)"
        )
    charset = Charset.load(requested.charset) if requested.charset else checkpoint.require_charset()
    overrides = {k: v for k, v in requested.model_overrides.items() if k != "saved_charset"}
    model, report = model_for_charset(checkpoint, charset, overrides)
    say(f"fine-tuning {requested.saved_model}: {report}")
    preprocess = dict(checkpoint.preprocess or {})
    preprocess.update(_preprocess_overrides(requested))
    config = replace(requested, model=saved).resolved(str(model.config["arch"]), finetuning=True)
    return RunStart(config=config, model=model, charset=charset, preprocess=preprocess)


def _fresh(requested: TrainConfig) -> RunStart:
    from kocr.models import create_model, model_config, num_classes_for_charset

    charset = Charset.load(requested.charset)
    name = requested.model or DEFAULT_MODEL
    family = get_family(model_config(name)["arch"])
    overrides = {**family.size_overrides(requested.img_h, requested.img_w), **requested.model_overrides}
    model = create_model(name, num_classes_for_charset(len(charset)), **overrides)
    config = replace(requested, model=name).resolved(str(model.config["arch"]))
    return RunStart(
        config=config, model=model, charset=charset, preprocess=default_preprocess(model.config, config)
    )


def resume_progress(
    start: RunStart,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    scaler: torch.amp.GradScaler,
    steps_per_epoch: int,
    say: Say,
) -> tuple[int, float, Any]:
    """Restore a resumed run's optimiser, schedule and scaler; returns (step, best CER, scheduler).

    A resumed run asked to end elsewhere (``--iters``/``--epochs``): check the new end lies ahead, and
    recompute the learning-rate schedule for the new length (:func:`schedule_at_step`).
    """
    assert start.resume_from is not None and start.stored is not None
    config = start.config
    step, best_cer = restore_train_state(start.resume_from.train_state or {}, optimizer, scheduler, scaler)
    total_steps = config.total_steps(steps_per_epoch)
    stored_total = start.stored.total_steps(steps_per_epoch)
    length = f"--iters {config.iters}" if config.iters else f"--epochs {config.epochs or 1}"
    if total_steps <= step:
        if total_steps == stored_total:  # scripts resume every stage: a finished one just says so
            say(
                f"{config.resume}: the run already finished ({step:,} of {total_steps:,} steps), so "
                "there is nothing to train; pass a larger --iters (or --epochs) to train it further"
            )
            return step, best_cer, scheduler
        raise KocrError(f"{length} ({total_steps:,} steps): the run is already at step {step:,}")
    if total_steps == stored_total:
        return step, best_cer, scheduler
    before = optimizer.param_groups[0]["lr"]
    scheduler = schedule_at_step(
        config.schedule, optimizer, total_steps, config.warmup, step, config.lr or 1e-3
    )
    say(
        f"{length}: the run now ends at step {total_steps:,} instead of {stored_total:,}; the "
        f"{config.schedule} learning-rate schedule is the one a run of that length has, so at step "
        f"{step:,} the rate goes from {before:.3g} to {optimizer.param_groups[0]['lr']:.3g}"
    )
    return step, best_cer, scheduler


def run_folder(start: RunStart, dist_info: distributed.DistInfo) -> Path:
    """A resumed run's own folder, else a new one (rank 0 creates it; the others learn its name)."""
    if start.resume_from is not None and start.resume_from.path is not None:
        return start.resume_from.path.parent
    config = start.config
    name = config.name or f"{config.model}-{start.charset.name or 'custom'}"
    if dist_info.enabled:
        holder = [str(new_run_dir(config.output, name)) if dist_info.is_main else ""]
        torch.distributed.broadcast_object_list(holder, src=0)
        return Path(holder[0])
    return new_run_dir(config.output, name)


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's global generators (initial weights, dropout)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


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


def _freeze_feature_extractor(model: nn.Module) -> None:
    """Fine-tuning on little data: keep the visual features, train the sequence model and head."""
    frozen = family_of(model.config).freeze_prefixes
    for name, param in model.named_parameters():
        if name.startswith(frozen):
            param.requires_grad_(False)
