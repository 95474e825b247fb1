"""Help texts that read like a Unix tool's: plain metavars (``PATH``, ``N``, ``TEXT``), no Python
types.

typer derives an option's metavar from its annotation and prints it raw: ``<bool>`` beside a flag,
``<list[Path]>``, ``<int range>``, and a required argument as ``{paths}...`` in the usage line. Rather
than spell a metavar out in every option of every command (and miss the next one), :func:`tidy_command`
walks the built click command tree once and gives every parameter without a metavar one derived from its
type. Flags get none. ``tests/test_cli_help.py`` renders every command's ``--help`` in a terminal and piped
and fails on any raw metavar left.
"""

from __future__ import annotations

import pathlib
import typing
from typing import Any

#: metavar by annotation; anything else is TEXT.
_METAVARS: dict[Any, str] = {int: "N", float: "X", str: "TEXT", pathlib.Path: "PATH", bool: ""}


def tidy_command(command: Any) -> Any:
    """Give every parameter of ``command`` and its subcommands a plain metavar; returns ``command``."""
    for param in getattr(command, "params", ()):
        if getattr(param, "param_type_name", "") == "argument":
            _tidy_argument(param)
        elif param.metavar is None:
            param.metavar = "" if getattr(param, "is_flag", False) else _metavar(param)
    if hasattr(command, "get_help_option"):  # -h/--help is made on demand: a flag, no metavar either
        command.get_help_option = _flag_without_metavar(command.get_help_option)
    for sub in getattr(command, "commands", {}).values():
        tidy_command(sub)
    return command


def _flag_without_metavar(get_help_option: Any) -> Any:
    def wrapped(ctx: Any) -> Any:
        option = get_help_option(ctx)
        if option is not None and option.metavar is None:
            option.metavar = ""
        return option

    return wrapped


def _metavar(param: Any) -> str:
    """``N``, ``X``, ``PATH``, ``TEXT`` or the choices ``a|b|c`` for an option's value."""
    metavar = getattr(param.callback, "metavar", None)  # kocr.commands._validate.choice
    if metavar:
        return str(metavar)
    annotation = _annotation(param)
    if annotation is None:  # typer with an external click: its param types have names
        name = getattr(getattr(param, "type", None), "name", "") or "text"
        return {"integer": "N", "float": "X", "path": "PATH", "choice": "CHOICE"}.get(name, name.upper())
    return _annotation_metavar(annotation)


def _annotation(param: Any) -> Any:
    descriptor = getattr(param, "type_descriptor", None)
    return getattr(descriptor, "annotation", None)


def _annotation_metavar(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return "|".join(str(value) for value in typing.get_args(annotation))
    if origin in (list, tuple):
        args = [a for a in typing.get_args(annotation) if a is not Ellipsis]
        return _annotation_metavar(args[0]) if args else "TEXT"
    if origin is typing.Union or type(annotation).__name__ == "UnionType":
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _annotation_metavar(args[0]) if args else "TEXT"
    return _METAVARS.get(annotation, "TEXT")


def _tidy_argument(param: Any) -> None:
    """``PATHS...`` in the usage line and the arguments panel, instead of ``{paths}...`` and a type."""
    name = (param.metavar or param.name or "arg").upper()
    many = param.nargs != 1
    shown = name + ("..." if many and not name.endswith("...") else "")
    param.metavar = shown
    usage = shown if param.required else f"[{shown}]"
    # typer >= 0.2x wraps required arguments in braces and prints the Python type beside them; these
    # per-instance overrides keep the usage line and the panel to the metavar (older typer: unused).
    param._usage_display_name = lambda: usage
    param.get_usage_pieces = lambda ctx: [usage]
    if hasattr(param, "display_type_rich"):
        param.display_type_rich = lambda ctx: None
