"""Attach command modules to a typer app: each module exposes ``register(app)``."""

from __future__ import annotations

import importlib
from collections.abc import Iterable

import typer


def register_modules(app: typer.Typer, module_names: Iterable[str]) -> None:
    """Import each command module and let it add its commands to ``app``.

    A module that does not exist is skipped, so a command group can be listed before it is written;
    any other import error is a bug and propagates.
    """
    for module_name in module_names:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue
            raise
        module.register(app)
