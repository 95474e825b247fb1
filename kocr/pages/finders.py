"""The line finders page reading can use, by name: ``--line-finder`` on the command line.

The default is the one that won the comparison on the dev pages (README, "Reading pages"); the others
stay selectable so users can compare on their own pages.
"""

from __future__ import annotations

from typing import Any

from kocr.errors import KocrError

DEFAULT_FINDER = "classical"


def finder_names() -> tuple[str, ...]:
    return ("classical", "ppocr", "db")


def make_finder(name: str = DEFAULT_FINDER, **options: Any) -> Any:
    """A line finder by name; heavy dependencies are imported only for the one asked for."""
    if name == "classical":
        from kocr.pages.find import ClassicalLineFinder

        return ClassicalLineFinder(**options)
    if name == "ppocr":
        from kocr.pages.ppocr import PPOCRLineFinder

        return PPOCRLineFinder(**options)
    if name == "db":
        from kocr.pages.db_finder import DBLineFinder

        return DBLineFinder(**options)
    raise KocrError(f"unknown line finder {name!r}; choose one of {', '.join(finder_names())}")


def default_finder() -> Any:
    return make_finder(DEFAULT_FINDER)
