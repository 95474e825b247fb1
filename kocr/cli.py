"""The ``kocr`` command line.

This module only assembles the typer app: each command group lives in ``kocr/commands/<name>.py``
and registers itself through a ``register(app)`` function, so command modules stay small and can be
worked on independently. Command modules import torch lazily, inside the command functions, so
``kocr --help`` answers instantly.

Every ``KocrError`` raised by library code becomes one red line on stderr and exit code 2.
"""

from __future__ import annotations

import sys

import typer

from kocr import __version__
from kocr.commands._registry import register_modules
from kocr.errors import KocrError

app = typer.Typer(
    name="kocr",
    help="Korean handwriting and print text-line recognition: charsets, data, train, eval, predict.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)

# Order here is the order `kocr --help` lists the commands in.
COMMAND_MODULES = (
    "kocr.commands.predict",
    "kocr.commands.eval",
    "kocr.commands.train",
    "kocr.commands.export",
    "kocr.commands.models",
    "kocr.commands.data",
    "kocr.commands.charset",
    "kocr.commands.lm",
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"kocr {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Korean handwriting and print text-line recognition."""


register_modules(app, COMMAND_MODULES)


def main() -> None:
    """Console-script entry point: run the app, turning user errors into clean messages."""
    from kocr.commands._console import print_error

    try:
        app()
    except KocrError as exc:
        print_error(str(exc))
        sys.exit(2)
    except KeyboardInterrupt:
        print_error("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
