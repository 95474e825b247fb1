"""``kocr train`` and ``kocr finetune``: one option set, one loop (:mod:`kocr.training.trainer`)."""

from __future__ import annotations

import inspect
import os
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from kocr.commands import _validate
from kocr.commands._console import setup_logging, stderr, stdout
from kocr.training.config import DEFAULT_MODEL

OPTIMIZERS = ("adamw", "adam", "adadelta", "sgd")  # kocr.training.optim (which imports torch)
SCHEDULES = ("onecycle", "cosine", "constant")


def register(app: typer.Typer) -> None:
    app.command("train", help=TRAIN_HELP)(train)
    app.command("finetune", help=FINETUNE_HELP)(finetune)


TRAIN_HELP = (
    "Train a recogniser from scratch on LMDBs or label files.\n\n"
    "Each run writes runs/NAME (never an existing folder: runs/NAME-2, ... instead) with best.pt (best "
    "validation CER), last.pt, config.json and log.csv. The checkpoint stores the architecture, charset and "
    "preprocessing, so eval, predict and finetune need none of these options again.\n\n"
    "Several GPUs or machines: torchrun --nproc_per_node N -m kocr train ..."
)

FINETUNE_HELP = (
    "Continue training a kocr, clovaai (.pth) or PARSeq checkpoint on your data.\n\n"
    "A new --charset keeps the trained rows of every symbol both charsets share and initialises only the new "
    'ones (no more "size mismatch for module.Prediction.weight"). The learning rate defaults to a tenth of '
    "training's. clovaai checkpoints store no charset: give the one they were trained with as "
    "--saved-charset."
)


def train(
    ctx: typer.Context,
    train_data: list[str] = typer.Option(
        [],
        "--train-data",
        "-t",
        metavar="PATH",
        help="Training data: LMDB folders, gt.txt/labels.txt files, folders of them, or synth:RECIPE.toml.",
        callback=_validate.dataset_paths,
    ),
    valid_data: list[str] = typer.Option(
        [],
        "--valid-data",
        "-v",
        metavar="PATH",
        help="Validation data (default: 2% held out of the first --train-data).",
        callback=_validate.dataset_paths,
    ),
    ratios: str | None = typer.Option(
        None,
        metavar="R,R,...",
        help="Share of each batch drawn from each --train-data set, one per set, above 0 and adding up to "
        "1 as clovaai's --batch_ratio (and data split's --ratios), e.g. 0.7,0.3 (default: by size).",
        callback=_validate.mixing_ratios,
    ),
    charset: str | None = typer.Option(
        None,
        "--charset",
        "-c",
        help="ko, ko-2350, ko-jamo, en or a charset file \\[train default: ko].",
        callback=_validate.charset,
    ),
    model: str | None = typer.Option(
        None,
        "--model",
        "-m",
        help=f"Architecture (see `kocr models`) \\[default: {DEFAULT_MODEL}]",
        callback=_validate.model_name,
    ),
    img_h: int | None = typer.Option(None, min=1, help="Input height (default: the model's)."),
    img_w: int | None = typer.Option(None, min=1, help="Input width (default: the model's)."),
    keep_ratio: bool = typer.Option(True, help="Resize keeping the aspect ratio, then pad to the width."),
    max_length: int | None = typer.Option(
        None, min=1, help="Longest label in charset symbols (default: what the model can emit)."
    ),
    case_fold: bool = typer.Option(False, help="Lower-case Latin letters in labels (Hangul is unaffected)."),
    augment: bool = typer.Option(True, help="Training augmentation (blur, noise, contrast, small warps)."),
    normalize: bool = typer.Option(
        True,
        help="Normalise every line before the model (trim to the text plus a margin, dark-on-light, contrast "
        "stretch), in training and, through the checkpoint, in eval and predict.",
    ),
    batch_size: int = typer.Option(64, min=1, help="Samples per step (per process under torchrun)."),
    iters: int | None = typer.Option(
        None, min=1, help="Optimiser steps to train for (with --resume: shorten or extend the run)."
    ),
    epochs: int | None = typer.Option(None, min=1, help="Epochs to train for, if --iters is not given [1]."),
    optimizer: str = typer.Option(
        "adamw",
        help="adamw, adam, adadelta (clovaai: with --lr 1) or sgd.",
        callback=_validate.choice(*OPTIMIZERS),
    ),
    lr: float | None = typer.Option(
        None,
        help="Peak learning rate [CRNN 1e-3, PARSeq 7e-4; finetune ÷10].",
        callback=_validate.positive_float,
    ),
    weight_decay: float | None = typer.Option(
        None, help="Weight decay [CRNN 1e-4, PARSeq 0].", callback=_validate.non_negative_float
    ),
    schedule: str = typer.Option(
        "onecycle",
        help="onecycle (warm-up then cosine), cosine or constant.",
        callback=_validate.choice(*SCHEDULES),
    ),
    grad_clip: float | None = typer.Option(
        None, help="Gradient-norm clip [CRNN 5, PARSeq 20].", callback=_validate.non_negative_float
    ),
    amp: str | None = typer.Option(
        None,
        help="Mixed precision: auto (bf16/fp16 on CUDA, off on CPU), off, bf16 (also on CPUs with "
        "AVX512-BF16/AMX, ~1.3x faster), fp16. \\[default: auto; on --resume the run's own]",
        show_default=False,
        callback=_validate.choice("auto", "off", "bf16", "fp16", metavar="MODE"),
    ),
    workers: int | None = typer.Option(
        None, min=0, help="DataLoader worker processes \\[cores - 1, at most 4]."
    ),
    seed: int = typer.Option(1111, min=0, help="Random seed (data order, augmentation, initialisation)."),
    device: str = typer.Option("auto", help="auto, cpu, cuda or cuda:N.", callback=_validate.device),
    valid_every: int = typer.Option(500, min=1, help="Validate (and write last.pt) every N steps."),
    valid_max_samples: int = typer.Option(2000, min=1, help="Validate on at most this many samples."),
    output: Path = typer.Option(
        Path("runs"), help="Folder that holds the run folders.", callback=_validate.output_folder
    ),
    name: str | None = typer.Option(
        None, help="Run folder name [MODEL-CHARSET].", callback=_validate.folder_name
    ),
    resume: Path | None = typer.Option(
        None,
        help="Continue an interrupted run from its last.pt (same folder, step and schedule); --iters, "
        "--epochs, --valid-every, --device, --workers and --amp may change, other options may not. A "
        "checkpoint behind the folder's last.pt (best.pt, an older copy) is refused: it would rewind the "
        "run; start a new run from it with `kocr finetune --saved-model`.",
        exists=True,
        dir_okay=False,
    ),
    saved_model: Path | None = typer.Option(
        None,
        "--saved-model",
        help="Start from this checkpoint (kocr .pt, clovaai .pth, PARSeq .pt/.ckpt).",
        exists=True,
        dir_okay=False,
    ),
    saved_charset: str | None = typer.Option(
        None,
        help="Charset the --saved-model was trained with, when it stores none (clovaai).",
        callback=_validate.charset,
    ),
    freeze_features: bool = typer.Option(
        False,
        "--freeze-features",
        help="Fine-tuning: keep the feature extractor (and TPS / ViT encoder) fixed.",
    ),
    jamo_head: float | None = typer.Option(
        None,
        "--jamo-head",
        metavar="W",
        help="CRNNs: weight of an auxiliary CTC loss over each label's jamo, learnt by a second head "
        "that inference never uses (a fine-tune adds the head when its checkpoint has none); 0 = none.",
        callback=_validate.non_negative_float,
    ),
    verbose: bool = typer.Option(False, "--verbose", help="Log every detail."),
) -> None:
    from kocr.training.config import TrainConfig, default_workers
    from kocr.training.trainer import Trainer

    setup_logging(verbose)
    if not train_data and resume is None:
        raise typer.BadParameter("give --train-data (or --resume a run)", param_hint="--train-data")
    parsed_ratios = _validate.shares(ratios) if ratios else None
    if resume is None:
        _validate.check_ratio_count(parsed_ratios, train_data)
    overrides: dict[str, Any] = {"saved_charset": saved_charset} if saved_charset else {}
    if jamo_head is not None:
        overrides["jamo_head"] = jamo_head
    config = TrainConfig(
        train_data=list(train_data),
        valid_data=list(valid_data),
        data_ratios=parsed_ratios,
        charset=charset if charset or saved_model else "ko",
        model=model,
        model_overrides=overrides,
        img_h=img_h,
        img_w=img_w,
        keep_ratio=keep_ratio,
        max_length=max_length,
        case_fold=case_fold,
        augment=augment,
        normalize=normalize,
        batch_size=batch_size,
        iters=iters,
        epochs=epochs,
        optimizer=optimizer,
        lr=lr,
        weight_decay=weight_decay,
        schedule=schedule,
        grad_clip=grad_clip,
        amp=amp,
        workers=default_workers() if workers is None else workers,
        seed=seed,
        device=device,
        valid_every=valid_every,
        valid_max_samples=valid_max_samples,
        output=str(output),
        name=name,
        resume=str(resume) if resume else None,
        saved_model=str(saved_model) if saved_model else None,
        freeze_features=freeze_features,
    )
    main_process = int(os.environ.get("RANK", "0")) == 0
    trainer = Trainer(
        config,
        RichReporter() if main_process else None,
        resume_options=_typed_options(ctx) if resume is not None else None,
    )
    result = trainer.run()
    if main_process:
        best = f"{result.best_cer:.4f}" if result.best_cer != float("inf") else "n/a"
        stdout.print(
            f"run folder: {escape(str(result.run_dir))} (step {result.step}, best validation CER {best})"
        )
    if result.interrupted:
        raise typer.Exit(130)


#: CLI parameters → the TrainConfig fields they set (where the names differ).
_CONFIG_FIELDS = {
    "ratios": "data_ratios",
    "saved_charset": "model_overrides.saved_charset",
    "jamo_head": "model_overrides.jamo_head",
}
_NOT_CONFIG = {"resume", "verbose"}


def _typed_options(ctx: typer.Context) -> set[str]:
    """The TrainConfig fields whose options were given on the command line (or by environment)."""
    typed = set()
    for name in ctx.params:
        if name in _NOT_CONFIG:
            continue
        source = ctx.get_parameter_source(name)
        if source is not None and source.name in ("COMMANDLINE", "ENVIRONMENT", "PROMPT"):
            typed.add(_CONFIG_FIELDS.get(name, name))
    return typed


def finetune(**kwargs: Any) -> None:
    # An interrupted fine-tune prints "resume with --resume RUN/last.pt": the run's checkpoint already
    # records where it started from, so --saved-model is only needed for a new run.
    if kwargs.get("saved_model") is None and kwargs.get("resume") is None:
        raise typer.BadParameter(
            "give the checkpoint to start from (or --resume a run)", param_hint="--saved-model"
        )
    train(**kwargs)


def _finetune_signature() -> inspect.Signature:
    """``train``'s options, with ``--saved-model`` described as required for a new run and ``--model``
    without a default: a fine-tune trains the checkpoint's own architecture."""
    parameters = []
    for parameter in inspect.signature(train).parameters.values():
        if parameter.name == "saved_model":
            parameter = parameter.replace(
                default=typer.Option(
                    None,
                    "--saved-model",
                    help="Checkpoint to start from (kocr, clovaai, PARSeq); required unless --resume.",
                    exists=True,
                    dir_okay=False,
                )
            )
        elif parameter.name == "model":
            parameter = parameter.replace(
                default=typer.Option(
                    None,
                    "--model",
                    "-m",
                    help="Not needed: a fine-tune keeps the checkpoint's architecture (if given, it must "
                    "name that one).",
                    callback=_validate.model_name,
                )
            )
        parameters.append(parameter)
    return inspect.Signature(parameters)


finetune.__signature__ = _finetune_signature()  # type: ignore[attr-defined]
finetune.__annotations__ = train.__annotations__


class RichReporter:
    """Progress bar with loss, samples/s and ETA; a table row per validation."""

    def __init__(self) -> None:
        self.progress = Progress(
            TextColumn("[bold]train"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}"),
            TextColumn("{task.fields[speed]} samples/s"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=stderr,
            transient=False,
        )
        self.task: Any = None

    def start(self, total_steps: int, first_step: int, run_dir: Path) -> None:
        stderr.print(f"run folder: [bold]{escape(str(run_dir))}[/]")
        self.progress.start()
        self.task = self.progress.add_task(
            "train", total=total_steps, completed=first_step, loss="…", speed="…"
        )

    def train_step(self, step: int, loss: float, lr: float, samples_per_s: float) -> None:
        self.progress.update(self.task, completed=step, loss=f"{loss:.4f}", speed=f"{samples_per_s:.1f}")

    def validation(self, step: int, metrics: dict[str, float], examples: list[tuple[str, str]]) -> None:
        table = Table(title=f"validation at step {step}", show_edge=False)
        for column in ("loss", "accuracy", "CER", "1-NED", "jamo ER", "samples"):
            table.add_column(column, justify="right")
        table.add_row(
            f"{metrics['loss']:.4f}",
            f"{metrics['accuracy']:.2%}",
            f"{metrics['cer']:.4f}",
            f"{metrics['one_minus_ned']:.4f}",
            f"{metrics['jamo_error_rate']:.4f}",
            f"{int(metrics['samples']):,}",
        )
        self.progress.console.print(table)
        for truth, predicted in examples:
            mark = "[green]✓[/]" if truth == predicted else "[red]✗[/]"
            self.progress.console.print(f"  {mark} {escape(truth)!s} → {escape(predicted)!s}")

    def message(self, text: str) -> None:
        self.progress.console.print(escape(text))

    def close(self) -> None:
        self.progress.stop()
