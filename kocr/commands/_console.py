"""Shared rich consoles: results go to stdout, messages and progress to stderr."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

stdout = Console(highlight=False)
stderr = Console(stderr=True, highlight=False)


def print_error(message: str) -> None:
    stderr.print(f"[bold red]error:[/] {escape(message)}", markup=True, soft_wrap=True)


def print_warning(message: str) -> None:
    stderr.print(f"[yellow]warning:[/] {escape(message)}", markup=True, soft_wrap=True)


def setup_logging(verbose: bool = False) -> None:
    """Send kocr's log records (dataset filtering reports, training notes) to stderr through rich."""
    import logging

    from rich.logging import RichHandler

    handler = RichHandler(console=stderr, show_path=False, show_time=False, markup=False)
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, handlers=[handler], format="%(message)s"
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
