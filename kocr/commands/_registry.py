"""Attach command modules to a typer app: each module exposes ``register(app)``."""

from __future__ import annotations

import importlib
from collections.abc import Iterable

import typer


def register_modules(app: typer.Typer, module_names: Iterable[str]) -> None:
    """Import each command module and let it add its commands to ``app``.

    A listed module that cannot be imported is a bug (a typo, a file left out of the package), so its
    error propagates instead of a command silently vanishing from ``kocr --help``.
    """
    for module_name in module_names:
        importlib.import_module(module_name).register(app)
