"""Every ``kocr ...`` command line the README and the model card show is one the real CLI accepts.

The README once showed ``kocr predict scans/ -v``, an option predict never had. Each command line in a
fenced code block (backslash continuations joined; ``kocr``, ``.venv/bin/kocr``, ``python -m kocr`` and
``torchrun ... -m kocr`` alike) is parsed by the click command tree :func:`kocr.cli.get_command` builds:
the subcommand must exist, every option must be one of that command's, take the values it is given
(numbers where numbers go, one of the choices where choices go) and every required option and argument
must be there. Paths are not checked (the examples name files of the reader's). Inline code spans that
start with ``kocr`` are prose fragments; their option names must still exist.
"""

from __future__ import annotations

import re
import shlex
import typing
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from conftest import REPO_ROOT

from kocr.cli import get_command

DOCUMENTS = [REPO_ROOT / "README.md", REPO_ROOT / "kocr" / "weights" / "README.md"]
_OPERATORS = {"&&", "||", ";", "|", "&", "(", ")"}


def fenced_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, logical line) of every fenced code block, continuations joined."""
    inside, pending, start = False, "", 0
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith("```"):
            inside, pending = not inside, ""
            continue
        if not inside:
            continue
        if not pending:
            start = number
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        yield start, pending + line
        pending = ""


def inline_spans(text: str) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(text.splitlines(), start=1):
        for span in re.findall(r"`(kocr [^`]+)`", line):
            yield number, span


def kocr_invocations(line: str) -> Iterator[list[str]]:
    """The argument lists after ``kocr`` of every kocr command in a shell line."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    segment: list[str] = []
    for token in [*lexer, ";"]:
        if token not in _OPERATORS:
            segment.append(token)
            continue
        for index, word in enumerate(segment):
            launched = word == "kocr" and index > 0 and segment[index - 1] == "-m"
            if word.split("/")[-1] == "kocr" and (index == 0 or launched or "/" in word):
                yield segment[index + 1 :]
                break
        segment = []


def check_invocation(args: list[str], *, fragment: bool = False) -> str | None:
    """Why ``kocr ARGS`` would not parse, or None. A ``fragment`` (prose) is checked for its option
    names only."""
    command, path = get_command(), ["kocr"]
    args = list(args)
    while getattr(command, "commands", None) and args and not args[0].startswith("-"):
        name = args.pop(0)
        if fragment and re.fullmatch(r"[A-Z_]+", name):  # `kocr COMMAND --help`: a placeholder
            return None
        if name not in command.commands:
            return f"no command {' '.join([*path, name])}"
        command, path = command.commands[name], [*path, name]
    if getattr(command, "commands", None):
        return None if not args or set(args) <= {"--help", "-h", "--version"} else f"{path}: {args}"
    if fragment:
        known = {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)} | {"--help", "-h"}
        unknown = [a for a in args if a.startswith("-") and a.split("=")[0] not in known and a != "-"]
        return f"{' '.join(path)} has no option {unknown[0]}" if unknown else None
    ctx = command.make_context(path[-1], [], resilient_parsing=True)
    ctx.resilient_parsing = False  # the parser swallows its own errors when parsing resiliently
    try:  # the parser alone: option names and arity, values as typed (paths are the reader's own)
        raw, extra, _ = command.make_parser(ctx).parse_args(args=list(args))
    except Exception as exc:  # click's NoSuchOption, BadOptionUsage...
        return f"{' '.join(path)}: {exc.format_message() if hasattr(exc, 'format_message') else exc}"
    return _check_values(command, raw, extra, path)


def _check_values(command: Any, raw: dict[str, Any], extra: list[str], path: list[str]) -> str | None:
    where = " ".join(path)
    strict = SimpleNamespace(resilient_parsing=False)
    for param in command.params:
        value = raw.get(param.name)
        if param.required and value in (None, (), []):
            return f"{where}: {param.opts[0]} is required"
        if value is None:
            continue
        if _numeric(param):
            for item in value if isinstance(value, (list, tuple)) else [value]:
                try:
                    float(item)
                except ValueError:
                    return f"{where}: {param.opts[0]} takes a number, not {item!r}"
        check = getattr(param.callback, "__wrapped__", param.callback)
        if getattr(check, "choices", None):
            try:
                check(strict, value)
            except Exception as exc:
                return f"{where}: {param.opts[0]}: {exc}"
    if extra:
        return f"{where}: unexpected arguments {extra}"
    return None


def _numeric(param: Any) -> bool:
    if getattr(param, "is_flag", False):
        return False
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    if annotation is None:  # typer with an external click: its param types have names
        return getattr(getattr(param, "type", None), "name", "") in ("integer", "float")
    return annotation in (int, float) or set(typing.get_args(annotation)) & {int, float} != set()


def _cases() -> Iterator[tuple[str, int, str, list[str], bool]]:
    for document in DOCUMENTS:
        text = document.read_text(encoding="utf-8")
        name = document.relative_to(REPO_ROOT).as_posix()
        for number, line in fenced_lines(text):
            for args in kocr_invocations(line):
                yield name, number, line.strip(), args, False
        for number, span in inline_spans(text):
            yield name, number, span, span.split()[1:], True


CASES = list(_cases())


def test_the_documents_show_many_command_lines() -> None:
    fenced = [case for case in CASES if not case[4]]
    assert len(fenced) >= 30 and {case[0] for case in CASES} == {"README.md", "kocr/weights/README.md"}


@pytest.mark.parametrize(
    ("document", "number", "line", "args", "fragment"), CASES, ids=[f"{c[0]}:{c[1]}" for c in CASES]
)
def test_every_documented_command_line_parses(
    document: str, number: int, line: str, args: list[str], fragment: bool
) -> None:
    problem = check_invocation(args, fragment=fragment)
    assert problem is None, f"{document}:{number}: {line}\n  {problem}"


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("kocr predict scans/ -v", False),  # the line the README once showed
        ("kocr predict scans/ --decoder viterbi", False),
        ("kocr train --batch-size many", False),
        ("kocr data split work/gt.txt", False),  # -o is required
        ("kocr data splat x", False),
        ("kocr eval --summary-json", False),  # the option takes a value
        ("kocr predict --verbosity", True),
    ],
)
def test_the_checker_catches_what_it_should(line: str, fragment: bool) -> None:
    args = next(kocr_invocations(line))
    assert check_invocation(args, fragment=fragment) is not None


def test_invocations_are_found_behind_launchers_and_operators() -> None:
    line = "bash scripts/setup.sh && .venv/bin/kocr predict data/samples  # the main job"
    assert list(kocr_invocations(line)) == [["predict", "data/samples"]]
    torchrun = "torchrun --nproc_per_node 4 -m kocr train --train-data x --batch-size 64"
    assert list(kocr_invocations(torchrun)) == [["train", "--train-data", "x", "--batch-size", "64"]]
    assert list(kocr_invocations("pip install 'kocr-hangul[onnx]'")) == []
    assert Path(REPO_ROOT / "README.md").is_file()
