"""Every help text of the CLI survives rich markup: a bracketed hint such as ``[cores - 1, at most 4]``
looks like a markup tag to rich and vanishes from ``--help`` unless written ``\\[``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import REPO_ROOT
from rich.text import Text

from kocr.cli import get_command


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
    texts = dict(all_help_texts(get_command()))
    assert "kocr train --workers" in texts and "kocr data synth --seed" in texts  # the walk reaches leaves
    lost = {
        where: text
        for where, text in texts.items()
        if Text.from_markup(text).plain != text.replace("\\[", "[")
    }
    assert not lost, lost


# --- issue 15: every --help reads cleanly in a terminal and piped --------------------------------------

HELP_SCRIPT = """
import sys
from kocr.cli import get_command, main

def walk(command, path=()):
    yield path
    for name, sub in getattr(command, "commands", {}).items():
        yield from walk(sub, (*path, name))

for path in walk(get_command()):
    print("=== kocr " + " ".join(path), flush=True)
    try:
        main([*path, "--help"])
    except SystemExit:
        pass
    sys.stdout.flush()
"""
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
RAW_METAVAR = re.compile(r"<(bool|int|float|str|path|list\[|tuple|int range|float range)[^>]*>|\{[a-z_]+\}")


def render_every_help(terminal: bool) -> dict[str, str]:
    """``kocr ... --help`` of every command, rendered by the real CLI in a subprocess, by command."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "TTY_COMPATIBLE", "FORCE_COLOR")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env["PYTHONIOENCODING"] = "utf-8"
    if terminal:  # rich treats stdout as an 80-column terminal: colours, boxes, the width to fit
        env.update(TTY_COMPATIBLE="1", COLUMNS="80")
    result = subprocess.run(
        [sys.executable, "-c", HELP_SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=True,
        timeout=120,
    )
    assert not result.stderr.strip(), result.stderr
    sections = re.split(r"^=== (kocr.*)$", result.stdout, flags=re.MULTILINE)[1:]
    return dict(zip([s.strip() for s in sections[::2]], sections[1::2], strict=True))


@pytest.mark.parametrize("terminal", [True, False], ids=["terminal", "piped"])
def test_every_help_reads_cleanly(terminal: bool) -> None:
    helps = render_every_help(terminal)
    assert {"kocr", "kocr predict", "kocr data synth", "kocr charset check", "kocr finetune"} <= set(helps)
    problems = {}
    for command, text in helps.items():
        plain = ANSI.sub("", text)
        assert "Usage: kocr" in plain, (command, plain)
        if terminal:
            assert ANSI.search(text), command  # really rendered as for a terminal
        else:
            assert not ANSI.search(text), command  # no escape codes in a pipe or a file
        found = RAW_METAVAR.findall(plain) + (["…"] if "…" in plain else [])
        if found:
            problems[command] = (found, plain)
    assert not problems, problems


def test_finetune_help_shows_no_model_default() -> None:
    """Defect 7: a fine-tune trains the checkpoint's architecture, so --model has no default to show."""
    text = ANSI.sub("", render_every_help(False)["kocr finetune"])
    lines = [line.split("│")[1] for line in text.splitlines() if line.count("│") == 2]  # the options box
    start = next(i for i, line in enumerate(lines) if line.split()[:1] == ["--model"])
    end = next(i for i in range(start + 1, len(lines)) if lines[i].strip().startswith("--"))
    row = " ".join(lines[start:end])
    assert "default" not in row and "tps-resnet" not in row, row
    assert "checkpoint's architecture" in " ".join(row.split()), row


def test_tables_are_not_cut_to_80_columns_when_piped() -> None:
    """Piped output had tables cut to 80 columns (``datas…``): they get the width they need."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "TTY_COMPATIBLE", "FORCE_COLOR")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env["PYTHONIOENCODING"] = "utf-8"
    result = subprocess.run(
        [sys.executable, "-m", "kocr", "models"], env=env, capture_output=True, text=True, encoding="utf-8"
    )
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if "tps-resnet-bilstm-ctc " in line)
    assert "clovaai TRBC defaults (TPS F=20, ResNet 512, BiLSTM 256, 32x100 grey); ~49 M params" in row
    assert "…" not in result.stdout and not ANSI.search(result.stdout)
