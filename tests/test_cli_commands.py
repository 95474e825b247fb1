"""The command modules the CLI lists: every one imports and registers, and none loads torch for --help."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest
import typer
from conftest import REPO_ROOT

from kocr.cli import COMMAND_MODULES
from kocr.commands._registry import register_modules
from kocr.commands.data import DATA_COMMAND_MODULES


@pytest.mark.parametrize("module_name", [*COMMAND_MODULES, *DATA_COMMAND_MODULES])
def test_every_listed_command_module_imports_and_registers(module_name: str) -> None:
    module = importlib.import_module(module_name)
    app = typer.Typer()
    module.register(app)
    assert app.registered_commands or app.registered_groups, module_name


def test_a_missing_command_module_is_an_error_not_a_silent_skip() -> None:
    with pytest.raises(ModuleNotFoundError, match=r"kocr\.commands\.no_such_group"):
        register_modules(typer.Typer(), ["kocr.commands.predict", "kocr.commands.no_such_group"])


def test_the_cli_imports_no_heavy_module() -> None:
    """`kocr --help` stays fast: command modules import torch, numpy and PIL only when they run."""
    code = "import sys, kocr.cli; print(sorted(m for m in ('torch', 'numpy', 'PIL') if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]", result.stdout
