"""``kocr models``: the architectures ``kocr train --model`` accepts."""

from __future__ import annotations

import typer
from rich.table import Table

from kocr.commands._console import stdout


def register(app: typer.Typer) -> None:
    app.command("models")(list_models)


def list_models() -> None:
    """List the registered model architectures and their defaults."""
    from kocr.models import MODEL_REGISTRY, model_config

    table = Table(title="models (kocr train --model NAME)")
    table.add_column("name", style="bold")
    table.add_column("family")
    table.add_column("input")
    table.add_column("description")
    for name, spec in MODEL_REGISTRY.items():
        config = model_config(name)
        if spec.arch == "parseq":
            height, width = config["img_size"]
            size = f"{config['in_channels']}×{height}×{width}"
        else:
            width = "any" if config["transformation"] == "None" else config["img_w"]
            size = f"{config['input_channel']}×{config['img_h']}×{width}"
        table.add_row(name, spec.arch, size, spec.description)
    stdout.print(table)
