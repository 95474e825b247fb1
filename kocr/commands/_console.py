"""Shared rich consoles: results go to stdout, messages and progress to stderr.

In a terminal, rich fits tables to its width. Piped or redirected (``kocr eval ... | less``, ``> out.txt``),
there is no width to fit: rich would assume 80 columns and cut cells (``datas…``), so tables get all the
width they need instead (:data:`PIPED_WIDTH`), unless ``COLUMNS`` says otherwise.
"""

from __future__ import annotations

import os
import sys

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from kocr.fileio import writing
from kocr.names import printable_name

PIPED_WIDTH = 4096


def _width(stream: object) -> int | None:
    """None (rich decides: the terminal's width, or ``COLUMNS``) unless output is piped."""
    if os.environ.get("COLUMNS") or os.environ.get("TTY_COMPATIBLE") == "1":
        return None
    isatty = getattr(stream, "isatty", None)
    try:
        return None if isatty is not None and isatty() else PIPED_WIDTH
    except (OSError, ValueError):  # a closed or odd stream
        return None


STDOUT = "standard output"


class _Stdout:
    """``sys.stdout`` as rich writes to it, looked up at each call (tests swap it), with a failed write
    (``> /dev/full``, a closed pipe) one :class:`~kocr.errors.OutputWriteError` naming it."""

    def write(self, text: str) -> int:
        with writing(STDOUT):
            return sys.stdout.write(text)

    def flush(self) -> None:
        with writing(STDOUT):
            sys.stdout.flush()

    def __getattr__(self, name: str) -> object:
        return getattr(sys.stdout, name)


stdout = Console(file=_Stdout(), highlight=False, width=_width(sys.stdout))  # type: ignore[arg-type]
stderr = Console(stderr=True, highlight=False, width=_width(sys.stderr))


def shown(text: str) -> str:
    """``text`` (a file name, a message naming one) as rich markup, undecodable name bytes as ``\\xNN``
    (:mod:`kocr.names`) so table columns line up."""
    return escape(printable_name(text))


def print_error(message: str) -> None:
    stderr.print(f"[bold red]error:[/] {shown(message)}", markup=True, soft_wrap=True)


def print_warning(message: str) -> None:
    stderr.print(f"[yellow]warning:[/] {shown(message)}", markup=True, soft_wrap=True)


def setup_logging(verbose: bool = False) -> None:
    """Send kocr's log records (dataset filtering reports, training notes) to stderr, as the CLI's own
    messages look (``warning: ...``), one record per line however wide: no level column padded to the
    console width, nothing cut when piped."""
    import logging

    class MessageHandler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            try:
                text = self.format(record)
                if record.levelno >= logging.ERROR:
                    print_error(text)
                elif record.levelno >= logging.WARNING:
                    print_warning(text)
                else:
                    stderr.print(shown(text), soft_wrap=True, highlight=False)
            except Exception:  # a log line must never end the run
                self.handleError(record)

    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        handlers=[MessageHandler()],
        format="%(message)s",
    )


def task_progress(label: str, *, disable: bool | None = None) -> Progress:
    """The bar long jobs show on stderr (label, bar, done/total, time left); gone when done, and off
    when stderr is not a terminal unless ``disable`` says otherwise."""
    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=stderr,
        transient=True,
        disable=not stderr.is_terminal if disable is None else disable,
    )
