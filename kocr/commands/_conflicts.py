"""Options that contradict each other, declared once (:data:`CONFLICTS`) and checked before any work.

An option the command then ignores is worse than an error: ``--decoder greedy --lm my.lm`` read without
the LM, ``--onnx X --engine torch`` still ran ONNX Runtime, ``data synth --config R --fonts DIR`` used the
recipe's fonts, ``eval --summary-json F --log-file F`` wrote one file over the other. Each such pair is a
:class:`Conflict` here: the two parameters, when they clash, and why. :func:`attach_conflict_checks`
makes every command check its rows once click has parsed and checked each option alone (the callbacks
of :mod:`kocr.commands._validate`) and before the command body runs, so a clash is one ``error:`` line
naming both options and exit code 2, with nothing loaded or written.

Conditions see the parsed values and whether an option was typed (:class:`Given`): an option left at
its default never clashes. ``tests/test_cli_validation.py`` runs every row.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

_TYPED = ("COMMANDLINE", "ENVIRONMENT", "PROMPT")


class Given:
    """The parsed options of one command line: values, and which were given rather than defaulted."""

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self.params: dict[str, Any] = dict(ctx.params)

    def __getitem__(self, name: str) -> Any:
        return self.params.get(name)

    def typed(self, name: str) -> bool:
        source = self.ctx.get_parameter_source(name)
        return source is not None and source.name in _TYPED

    def label(self, name: str) -> str:
        """``--decoder greedy``, ``--lm my.lm``, ``--rgb``, ``--ignore-case``: the option as typed."""
        param = next(p for p in self.ctx.command.params if p.name == name)
        longs = [opt for opt in param.opts if opt.startswith("--")] or list(param.opts)
        value = self.params.get(name)
        if getattr(param, "is_flag", False):
            if value is False and param.secondary_opts:
                return str(param.secondary_opts[0])
            return str(longs[0])
        if value is None or not self.typed(name):
            return str(longs[0])  # an option not given (one that the other needs), or its default
        if isinstance(value, (list, tuple)):
            value = " ".join(str(v) for v in value)
        return f"{longs[0]} {value}"


@dataclass(frozen=True)
class Conflict:
    """``first`` and ``second`` (parameter names) contradict each other when ``when`` holds."""

    first: str
    second: str
    when: Callable[[Given], bool]
    why: str
    verb: str = "contradicts"  # or "needs": ``first`` is given without the ``second`` it works with

    def message(self, given: Given) -> str:
        return f"{given.label(self.first)} {self.verb} {given.label(self.second)}: {self.why}"


def _both(first: str, second: str) -> Callable[[Given], bool]:
    return lambda g: g.typed(first) and g.typed(second)


def _greedy_and(name: str) -> Callable[[Given], bool]:
    return lambda g: g["decoder"] == "greedy" and g.typed(name)


def _onnx_file(name: str) -> bool:
    return str(name or "").lower().endswith(".onnx")


def _same_file(a: Any, b: Any) -> bool:
    return a is not None and b is not None and os.path.abspath(a) == os.path.abspath(b)


_GREEDY = "greedy decoding takes the most likely symbol per frame, with no beam and no language model"
_DECODING = (
    Conflict("decoder", "lm", lambda g: _greedy_and("lm")(g) and str(g["lm"]).lower() != "none", _GREEDY),
    Conflict("decoder", "beam_width", _greedy_and("beam_width"), _GREEDY),
    Conflict("decoder", "lm_weight", _greedy_and("lm_weight"), _GREEDY),
    Conflict("decoder", "length_bonus", _greedy_and("length_bonus"), _GREEDY),
    Conflict(
        "lm",
        "lm_weight",
        lambda g: str(g["lm"]).lower() == "none" and g.typed("lm_weight"),
        "with no language model there is nothing to weigh",
    ),
)
_EXPORTED_MODEL = (
    Conflict(
        "saved_model",
        "charset",
        lambda g: _onnx_file(g["saved_model"]) and g.typed("charset"),
        "an exported ONNX file carries its own charset",
    ),
    Conflict(
        "saved_model",
        "engine",
        lambda g: _onnx_file(g["saved_model"]) and g["engine"] == "torch",
        "an exported ONNX file runs on ONNX Runtime only (give the checkpoint to run it with torch)",
    ),
)
_ONNX_OPTION = (
    Conflict(
        "onnx",
        "saved_model",
        lambda g: g["onnx"] is not None and g.typed("saved_model"),
        "--onnx runs the exported file alone; drop one of them",
    ),
    Conflict(
        "onnx",
        "charset",
        lambda g: g["onnx"] is not None and g.typed("charset"),
        "the exported file carries its own charset",
    ),
    Conflict(
        "onnx",
        "engine",
        lambda g: g["onnx"] is not None and g["engine"] == "torch",
        "--onnx runs the exported file with ONNX Runtime (give --saved-model CHECKPOINT to run torch)",
    ),
)
_LINE_FINDER_FOR_LINES = Conflict(
    "layout",
    "line_finder",
    lambda g: g["layout"] == "line" and g.typed("line_finder"),
    "a line finder finds the lines of pages; --layout line reads every image as one line",
)
_PAGES_AT_ONCE_FOR_LINES = Conflict(
    "layout",
    "pages_at_once",
    lambda g: g["layout"] == "line" and g.typed("pages_at_once"),
    "it says how many pages are read at the same time; --layout line reads no pages",
)

_DETECTOR_FOR_DB = Conflict(
    "detector",
    "line_finder",
    lambda g: g["detector"] is not None and g["line_finder"] not in ("db", "auto"),
    "it is the model of --line-finder db (and of auto's second look)",
    verb="needs",
)


def _page_eval_refuses(name: str) -> Conflict:
    return Conflict(
        "layout",
        name,
        lambda g: g["layout"] == "page" and g.typed(name),
        "page evaluation scores page CER and lines found; this option applies to --layout line only",
    )


_LINE_EVAL_ONLY = ("confusions", "ignore_space", "case_sensitive", "image_root")


def _page_set_refuses(name: str) -> Conflict:
    return Conflict(
        "pages",
        name,
        lambda g: g["pages"] is not None and g.typed(name),
        "this option shapes lines; a page set does not take it",
    )


#: Options of ``kocr data synth`` that a recipe (``--config``) sets itself.
RECIPE_SETS = (
    "charset", "fonts", "font_files", "system_fonts", "no_system_fonts", "corpus", "text_mix", "handwriting",
    "handwriting_ratio", "min_chars", "max_chars", "min_height", "max_height", "degrade", "rgb",
)  # fmt: skip
#: Options of ``kocr data synth`` that shape lines only: a page set (``--pages``) does not take them.
LINE_ONLY = ("num", "recipe", "text_mix", "min_chars", "max_chars", "min_height", "max_height", "rgb",
             "fmt", "preview")  # fmt: skip

_SYSTEM_FONTS = Conflict(
    "system_fonts", "no_system_fonts", _both("system_fonts", "no_system_fonts"), "give one or the other"
)

_TRAINING = (
    Conflict("iters", "epochs", _both("iters", "epochs"), "a run's length is one of them; give one"),
    Conflict(
        "saved_charset",
        "saved_model",
        lambda g: g.typed("saved_charset") and g["saved_model"] is None and g["resume"] is None,
        "it is the charset of the checkpoint a fine-tune starts from, and none is given",
        verb="needs",
    ),
    Conflict(
        "freeze_features",
        "saved_model",
        lambda g: g["freeze_features"] and g["saved_model"] is None and g["resume"] is None,
        "it keeps a trained model's features fixed, and a model trained from scratch has none yet",
        verb="needs",
    ),
)

#: Every contradiction, by command path (``kocr data synth`` → ``"data synth"``).
CONFLICTS: dict[str, tuple[Conflict, ...]] = {
    "predict": (
        *_ONNX_OPTION,
        *_EXPORTED_MODEL,
        *_DECODING,
        _LINE_FINDER_FOR_LINES,
        _PAGES_AT_ONCE_FOR_LINES,
        _DETECTOR_FOR_DB,
    ),
    "eval": (
        *_EXPORTED_MODEL,
        *_DECODING,
        Conflict(
            "summary_json",
            "log_file",
            lambda g: _same_file(g["summary_json"], g["log_file"]),
            "both would be written to the same file, one over the other",
        ),
        *(_page_eval_refuses(name) for name in _LINE_EVAL_ONLY),
        _LINE_FINDER_FOR_LINES,
        _PAGES_AT_ONCE_FOR_LINES,
        _DETECTOR_FOR_DB,
    ),
    "detector train": (
        Conflict(
            "resume",
            "pages",
            lambda g: (
                g["resume"] is not None and (g.typed("pages") or g.typed("valid_pages") or g.typed("init"))
            ),
            "a resumed run keeps its own pages and options",
        ),
    ),
    "train": _TRAINING,
    "finetune": _TRAINING,
    "data synth": (
        *(
            Conflict("recipe", name, _both("recipe", name), "the recipe sets the fonts, texts and looks")
            for name in RECIPE_SETS
        ),
        *(_page_set_refuses(name) for name in LINE_ONLY if name != "recipe"),
        Conflict(
            "pages",
            "recipe",
            lambda g: g["pages"] is not None and g.typed("recipe"),
            "a recipe describes lines; a page set does not take it",
        ),
        Conflict(
            "page_size",
            "pages",
            lambda g: g["page_size"] is not None and g["pages"] is None,
            "it sizes the pages of a page set",
            verb="needs",
        ),
        _SYSTEM_FONTS,
    ),
    "data fonts": (_SYSTEM_FONTS,),
}


def check_conflicts(ctx: Any, rows: Iterable[Conflict]) -> None:
    """Raise a usage error (one line, both options named) for the first row that holds."""
    given = Given(ctx)
    for conflict in rows:
        if conflict.when(given):
            raise _usage_error()(conflict.message(given), ctx)


def attach_conflict_checks(command: Any, path: str = "") -> Any:
    """Make each command in the click tree ``command`` check its :data:`CONFLICTS` rows first."""
    rows = CONFLICTS.get(path)
    if rows and getattr(command, "callback", None) is not None:
        command.invoke = _checked(command.invoke, rows)
    for name, sub in getattr(command, "commands", {}).items():
        attach_conflict_checks(sub, f"{path} {name}".strip())
    return command


def _checked(invoke: Callable[[Any], Any], rows: tuple[Conflict, ...]) -> Callable[[Any], Any]:
    """``invoke(ctx)`` runs once click has parsed every option: check the rows, then run the command."""

    @functools.wraps(invoke)
    def run(ctx: Any) -> Any:
        check_conflicts(ctx, rows)
        return invoke(ctx)

    return run


def _usage_error() -> Any:
    try:  # typer >= 0.2x vendors click
        from typer._click.exceptions import UsageError
    except ImportError:  # pragma: no cover - older typer on the real click
        from click.exceptions import UsageError  # type: ignore[no-redef]
    return UsageError
