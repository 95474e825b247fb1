"""``kocr models``: the architectures ``kocr train --model`` accepts."""

from __future__ import annotations

import typer
from rich.table import Table

from kocr.commands._console import stdout


def register(app: typer.Typer) -> None:
    app.command("models")(list_models)


def list_models() -> None:
    """List the registered model architectures and their defaults."""
    from kocr.models import MODEL_REGISTRY, get_family, model_config

    table = Table(title="models (kocr train --model NAME)")
    table.add_column("name", style="bold")
    table.add_column("family")
    table.add_column("input")
    table.add_column("description")
    for name, spec in MODEL_REGISTRY.items():
        config = model_config(name)
        family = get_family(spec.arch)
        channels, height, width = family.input_size(config)
        size = f"{channels}×{height}×{'any' if family.reads_any_width(config) else width}"
        table.add_row(name, spec.arch, size, spec.description)
    stdout.print(table)
