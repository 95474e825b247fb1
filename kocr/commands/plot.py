"""``kocr plot``: training curves of one or more run folders in one picture."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from kocr.commands import _validate
from kocr.commands._console import stderr


def register(app: typer.Typer) -> None:
    app.command("plot")(plot)


def plot(
    runs: list[Path] = typer.Argument(
        ..., metavar="RUN...", help="Run folders (holding log.csv), or log.csv files.", exists=True
    ),
    output: Path = typer.Option(
        Path("curves.png"),
        "--output",
        "-o",
        help="The picture to write: .png or .svg.",
        dir_okay=False,
        callback=_validate.output_file,
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace the output file if it exists."),
) -> None:
    """Plot training loss, validation CER and validation accuracy against steps, runs overlaid.

    Every run folder also gets its own curves.png while it trains (redrawn at each validation).
    """
    from kocr.errors import KocrError
    from kocr.report.curves import check_plot_path, plot_runs, read_runs

    try:
        check_plot_path(output)
    except KocrError as exc:
        raise typer.BadParameter(str(exc), param_hint="--output") from None
    if output.exists() and not overwrite:
        raise KocrError(f"{output} exists; pass --overwrite to replace it")
    curves = read_runs(runs)
    plot_runs(curves, output, overwrite=overwrite)
    validations = sum(run.validations for run in curves)
    stderr.print(f"wrote {escape(str(output))} ({len(curves)} run{'s' * (len(curves) != 1)}, "
                 f"{validations:,} validation{'s' * (validations != 1)})")  # fmt: skip
