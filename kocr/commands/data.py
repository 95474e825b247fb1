"""``kocr data ...``: the data tools, one module per job.

``kocr/commands/data_<job>.py`` each expose ``register(data_app)``; this module only groups them.
"""

from __future__ import annotations

import typer

from kocr.commands._registry import register_modules

data_app = typer.Typer(
    help="Convert label files, build LMDB datasets, render synthetic Korean text lines.",
    no_args_is_help=True,
)

DATA_COMMAND_MODULES = (
    "kocr.commands.data_convert",
    "kocr.commands.data_lmdb",
    "kocr.commands.data_synth",
)


def register(app: typer.Typer) -> None:
    register_modules(data_app, DATA_COMMAND_MODULES)
    app.add_typer(data_app, name="data")
