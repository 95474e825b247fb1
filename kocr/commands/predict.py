"""``kocr predict``: recognise text lines in images.

Placeholder until the recogniser and the bundled default model land: it says so clearly and exits 1.
"""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("predict")(predict)


def predict(
    paths: list[Path] = typer.Argument(..., help="Images or folders of text-line images."),
) -> None:
    """Recognise the text in text-line images (needs a trained model)."""
    from kocr.commands._console import print_error

    print_error(
        "no model available yet: the bundled default Korean model has not been trained. "
        "Train one with `kocr train` and pass it with --saved-model once prediction lands."
    )
    raise typer.Exit(1)
