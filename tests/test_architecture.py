"""The package's shape: no import circle anywhere in kocr/ (imports inside functions count too), and the
public names of ``kocr`` resolve."""

from __future__ import annotations

import ast
import importlib
import warnings
from pathlib import Path

import pytest
from conftest import REPO_ROOT

import kocr

PACKAGE = REPO_ROOT / "kocr"


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in PACKAGE.rglob("*.py")}


def _imported(module: str, path: Path, known: set[str]) -> set[str]:
    """kocr modules that ``module`` imports anywhere in its body (``from a import b`` counts as ``a.b``
    when that is a module, else as ``a``)."""
    found: set[str] = set()
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this module's package
                anchor = module.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in known else base)
    return {name for name in found if name in known and name != module}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One example path for each strongly connected group of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_no_import_circle_in_kocr() -> None:
    modules = _modules()
    graph = {name: _imported(name, path, set(modules)) for name, path in modules.items()}
    assert sum(len(targets) for targets in graph.values()) > 200  # the parser sees the real imports
    assert "kocr.runtime.base" in graph["kocr.runtime.torch_engine"]
    assert "kocr.export" in graph["kocr.load"]  # imports inside functions are counted
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_circle_hidden_in_a_function() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]


def test_runtime_and_export_never_import_the_engine_choice() -> None:
    """kocr.load is the one module that sees both engines and the exporter; the runtime and the
    exporter never reach back to it, and the runtime never imports the exporter, training or page
    reading (a PageReader wraps a line recogniser, not the other way round)."""
    modules = _modules()
    known = set(modules)
    for name, path in modules.items():
        targets = _imported(name, path, known)
        if name.startswith("kocr.runtime") or name == "kocr.export":
            assert "kocr.load" not in targets, name
        if name.startswith("kocr.runtime"):
            above = ("kocr.training", "kocr.pages")
            assert not {t for t in targets if t == "kocr.export" or t.startswith(above)}, name


@pytest.mark.parametrize("name", kocr.__all__)
def test_public_names_resolve(name: str) -> None:
    assert getattr(kocr, name) is not None


def test_recognizer_load_still_works_for_a_release_with_a_deprecation_warning(tiny_model: Path) -> None:
    from kocr.runtime.torch_engine import TorchRecognizer

    with pytest.warns(DeprecationWarning, match="load_recognizer"):
        old = kocr.Recognizer.load(tiny_model, device="cpu", engine="torch")
    assert isinstance(old, TorchRecognizer)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the new entry point warns about nothing
        new = kocr.load_recognizer(tiny_model, device="cpu", engine="torch")
    assert isinstance(new, kocr.LineRecognizer) and isinstance(new, kocr.TorchRecognizer)
    assert old.predict_images([]) == new.predict_images([]) == []
    assert importlib.import_module("kocr.load").Recognizer is kocr.Recognizer
