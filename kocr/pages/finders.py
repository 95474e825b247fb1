"""The line finders page reading can use, by name: ``--line-finder`` on the command line.

Each is one finder. ``--line-finder auto``, the default, is a pair: ``DEFAULT_FINDER`` first, and
``SECOND_FINDER`` for the pages its lines read unsurely (:class:`kocr.pages.reader.PageReader`,
:mod:`kocr.pages.second_look`). It won the comparison on the dev pages (README, "Reading pages"); the
single finders stay selectable so users can compare on their own pages.
"""

from __future__ import annotations

from typing import Any

from kocr.errors import KocrError

DEFAULT_FINDER = "classical"
SECOND_FINDER = "db"


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
