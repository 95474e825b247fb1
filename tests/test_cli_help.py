"""Every help text of the CLI survives rich markup: a bracketed hint such as ``[cores - 1, at most 4]``
looks like a markup tag to rich and vanishes from ``--help`` unless written ``\\[``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import typer
from rich.text import Text

from kocr.cli import app


def all_help_texts(command: Any, path: str = "kocr") -> Iterator[tuple[str, str]]:
    """(where, text) of a command, its options and its subcommands (typer vendors click: duck-typed)."""
    if command.help:
        yield path, command.help
    for param in command.params:
        if getattr(param, "help", None):
            yield f"{path} {param.opts[0]}", param.help
    for name, sub in getattr(command, "commands", {}).items():
        yield from all_help_texts(sub, f"{path} {name}")


def test_no_help_text_loses_words_to_rich_markup() -> None:
    texts = dict(all_help_texts(typer.main.get_command(app)))
    assert "kocr train --workers" in texts and "kocr data synth --seed" in texts  # the walk reaches leaves
    lost = {
        where: text
        for where, text in texts.items()
        if Text.from_markup(text).plain != text.replace("\\[", "[")
    }
    assert not lost, lost
