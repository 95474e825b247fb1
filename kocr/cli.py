"""The ``kocr`` command line.

This module only assembles the typer app: each command group lives in ``kocr/commands/<name>.py``
and registers itself through a ``register(app)`` function, so command modules stay small and can be
worked on independently. Command modules import torch lazily, inside the command functions, so
``kocr --help`` answers instantly.

Every ``KocrError`` raised by library code, and every bad option or argument click finds while parsing
(before any work starts), becomes one red line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import warnings
from typing import Any

import typer

from kocr import __version__
from kocr.commands._registry import register_modules
from kocr.errors import KocrError, OutputWriteError

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
    "kocr.commands.plot",
    "kocr.commands.export",
    "kocr.commands.models",
    "kocr.commands.data",
    "kocr.commands.charset",
    "kocr.commands.lm",
    "kocr.commands.detector",
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


_COMMAND: Any = None


def get_command() -> Any:
    """The click command tree of :data:`app`, with plain metavars in its help (:mod:`kocr.commands._help`)
    and each command checking its contradictory options first (:mod:`kocr.commands._conflicts`)."""
    global _COMMAND
    if _COMMAND is None:
        from kocr.commands._conflicts import attach_conflict_checks
        from kocr.commands._help import tidy_command

        _COMMAND = attach_conflict_checks(tidy_command(typer.main.get_command(app)))
    return _COMMAND


def _click_exceptions() -> Any:
    try:  # typer >= 0.2x vendors click
        from typer._click import exceptions
    except ImportError:  # pragma: no cover - older typer on the real click
        from click import exceptions  # type: ignore[no-redef]
    return exceptions


def _set_up_output() -> None:
    """Undecodable file-name bytes (CP949 names) print as ``\\xNN`` (:mod:`kocr.names`) instead of ending
    the run with a UnicodeEncodeError, whatever the terminal's or PYTHONIOENCODING's encoding."""
    from kocr.names import NAME_ERRORS

    # kocr reports an image over its pixel limit itself (kocr.data.images); PIL's warning would repeat it
    warnings.filterwarnings("ignore", message=r"Image size \(\d+ pixels\) exceeds limit")
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors=NAME_ERRORS)


def _drop_stdout() -> None:
    """Point standard output at the null device, so the interpreter's last flush of what could not be
    written raises nothing more (Python's advice for a broken pipe)."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())


def main(args: list[str] | None = None) -> None:
    """Console-script entry point: run the app, turning user errors into clean one-line messages."""
    from kocr.commands._console import STDOUT, print_error

    errors = _click_exceptions()
    _set_up_output()
    try:
        code = get_command().main(args=args, prog_name="kocr", standalone_mode=False)
    except errors.UsageError as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # `kocr data`: the help, as before
            exc.show()
        else:
            where = f" (see kocr {exc.ctx.command_path.partition(' ')[2]} --help)" if exc.ctx else ""
            print_error(exc.format_message().rstrip(".") + where.replace("kocr  --help", "kocr --help"))
        sys.exit(exc.exit_code)
    except errors.ClickException as exc:
        print_error(exc.format_message())
        sys.exit(exc.exit_code)
    except typer.Abort:
        print_error("aborted")
        sys.exit(1)
    except KocrError as exc:
        if isinstance(exc, OutputWriteError) and exc.path == STDOUT:
            _drop_stdout()  # nothing more can go there, the final flush included
            if exc.errno == errno.EPIPE:  # `kocr predict scans/ | head`: the reader had enough
                sys.exit(128 + 13)  # as a tool killed by SIGPIPE
        cli_message = getattr(exc, "cli_message", None)  # OutputExistsError: --overwrite, not overwrite=True
        print_error(cli_message() if cli_message else str(exc))
        sys.exit(2)
    except KeyboardInterrupt:
        print_error("interrupted")
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
