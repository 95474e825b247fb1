"""``kocr detector``: train and evaluate kocr's own line detector (``--line-finder db``)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from kocr.commands import _validate
from kocr.commands._console import stderr, stdout

app = typer.Typer(
    help="kocr's own text-line detector for page reading (a small DBNet-style network, "
    "--line-finder db): train it on synthetic pages, score it on a page set."
)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="detector")


@app.command("train")
def train(
    pages: Path | None = typer.Option(
        None,
        "--pages",
        help="Page set to train on (kocr data synth --pages: images with NAME.lines.json).",
        exists=True,
        file_okay=False,
    ),
    valid_pages: Path | None = typer.Option(
        None,
        "--valid-pages",
        help="Page set to validate on (a few dozen pages).",
        exists=True,
        file_okay=False,
    ),
    output: Path = typer.Option(
        Path("runs"), "--output", "-o", help="Where run folders are made.", callback=_validate.output_folder
    ),
    name: str = typer.Option(
        "lines",
        "--name",
        help="Run folder name (NAME-2, NAME-3... if taken).",
        callback=_validate.folder_name,
    ),
    iters: int | None = typer.Option(
        None,
        "--iters",
        min=1,
        help="Training steps (default 3000; with --resume, more than the run has done).",
    ),
    batch_size: int = typer.Option(8, "--batch-size", min=1, help="Crops per step."),
    crop: int = typer.Option(384, "--crop", min=64, help="Crop side in px at the network's scale (x32)."),
    lr: float = typer.Option(
        2e-3, "--lr", callback=_validate.positive_float, help="Peak learning rate (warm-up, cosine decay)."
    ),
    valid_every: int = typer.Option(250, "--valid-every", min=1, help="Validate (and save) every N steps."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the crops and the initial weights."),
    init: Path | None = typer.Option(
        None,
        "--init",
        help="Start a new run from this detector checkpoint (fine-tuning).",
        exists=True,
        dir_okay=False,
    ),
    resume: Path | None = typer.Option(
        None,
        "--resume",
        help="Continue a run from its last.pt (--iters may lengthen it).",
        exists=True,
        dir_okay=False,
    ),
) -> None:
    """Train the line detector on a page set (kocr data synth --pages N --corpus FILE -o DIR).

    Every run gets its own folder: log.csv, config.json, best.pt (best validation F1) and last.pt
    (for --resume; Ctrl-C saves it)."""
    from kocr.errors import KocrError
    from kocr.training.detector import DetectorTrainConfig, DetectorTrainer

    if resume is not None:  # with --pages, --valid-pages or --init: kocr.commands._conflicts
        trainer = DetectorTrainer.resume(resume, iters)
    else:
        if pages is None or valid_pages is None:
            raise KocrError("a new detector run needs --pages and --valid-pages (or --resume RUN/last.pt)")
        config = DetectorTrainConfig(
            pages=str(pages), valid_pages=str(valid_pages), iters=iters or 3000, batch_size=batch_size,
            crop=crop, lr=lr, valid_every=valid_every, seed=seed, init=str(init) if init else None,
        )  # fmt: skip
        trainer = DetectorTrainer.start(config, output, name)
    stderr.print(f"run folder: {escape(str(trainer.run_dir))}")
    stderr.print("loading pages...")
    trainer.load_pages()
    stderr.print(f"{len(trainer.train_pages)} training pages, {len(trainer.valid_pages)} validation pages")
    columns = (TextColumn("[bold]train"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[info]}"), TimeRemainingColumn())  # fmt: skip
    with Progress(*columns, console=stderr) as progress:
        task = progress.add_task("train", total=trainer.config.iters, completed=trainer.step, info="")

        def report(step: int, total: int, row: dict) -> None:
            info = f"loss {row['loss']:.3f}"
            if "valid_f1" in row:
                info += f"  valid F1 {row['valid_f1']:.3f}"
                progress.console.print(
                    f"step {step}: loss {row['loss']:.4f}, valid precision {row['valid_precision']:.3f} "
                    f"recall {row['valid_recall']:.3f} F1 {row['valid_f1']:.3f}"
                )
            progress.update(task, completed=step, info=info)

        trainer.progress = report
        try:
            trainer.train()
        except KeyboardInterrupt:
            last = escape(str(trainer.run_dir / "last.pt"))
            stderr.print(f"stopped at step {trainer.step}; resume with --resume {last}")
            raise typer.Exit(130) from None
    stderr.print(f"best validation F1 {trainer.best_f1:.4f}: {escape(str(trainer.run_dir / 'best.pt'))}")


@app.command("eval")
def evaluate(
    pages: Path = typer.Argument(
        ..., help="Page set with line boxes (NAME.lines.json).", exists=True, file_okay=False
    ),
    detector: Path | None = typer.Option(
        None,
        "--detector",
        help="Detector checkpoint (default: the bundled one).",
        exists=True,
        dir_okay=False,
    ),
) -> None:
    """Score the detector's line boxes against a page set's own.

    Precision, recall and F1 of lines matched one to one at box IoU >= 0.5, and pages per second."""
    import time

    from kocr.pages.db_data import iter_scaled_pages
    from kocr.pages.db_eval import score_pages
    from kocr.pages.db_finder import DBLineFinder

    finder = DBLineFinder(detector, margin_x=0.0, margin_y=0.0)
    loaded = list(iter_scaled_pages(pages, finder.long_side))
    started = time.perf_counter()
    score = score_pages(finder, loaded)
    seconds = time.perf_counter() - started
    table = Table(title=f"line detection on {escape(str(pages))}")
    for column in ("pages", "lines", "found", "precision", "recall", "F1", "pages/s"):
        table.add_column(column, justify="right")
    table.add_row(
        str(score.pages), str(score.lines), str(score.found), f"{score.precision:.3f}", f"{score.recall:.3f}",
        f"{score.f1:.3f}", f"{score.pages / max(seconds, 1e-9):.2f}",
    )  # fmt: skip
    stdout.print(table)
