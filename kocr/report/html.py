"""HTML reports from the jinja2 templates shipped in ``kocr/report/templates``: one self-contained file
(styles inline, images and plots as data URIs, no script, no network), written atomically.

Templates autoescape: texts read from images and labels reach the page as text, never as markup.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from kocr.errors import OutputExistsError
from kocr.fileio import atomic_write_text
from kocr.report.fonts import CSS_FONT_STACK


@cache
def _environment() -> Any:
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("kocr.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,  # a name missing from the context is a bug, not a blank
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["visible_spaces"] = lambda text: text.replace(" ", "␣")
    return environment


def render_html(template: str, context: Mapping[str, Any]) -> str:
    """The page ``template`` makes of ``context`` (plus the font stack, kocr's version and the time)."""
    from kocr import __version__

    values = {
        "font_stack": CSS_FONT_STACK,
        "kocr_version": __version__,
        "generated": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z").strip(),
        **context,
    }
    return _environment().get_template(template).render(**values)


def render_report(
    path: str | os.PathLike[str], template: str, context: Mapping[str, Any], *, overwrite: bool = False
) -> Path:
    """Render ``template`` into ``path`` (whole or not at all); an existing file needs ``overwrite``."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(path)
    return atomic_write_text(path, render_html(template, context))


def setup_rows(setup: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What was evaluated and how, as (label, text) rows; empty values left out."""
    rows = []
    for key, value in setup.items():
        if value is None or value == "" or value == []:
            continue
        text = ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
        rows.append((key, text))
    return rows


def figure_rows(figures: Mapping[str, float]) -> dict[str, str]:
    """A line summary's figures (:meth:`kocr.evaluate.DatasetSummary.figures`) as table cells."""
    return {
        "samples": f"{int(figures['samples']):,}",
        "accuracy": f"{figures['accuracy']:.2%}",
        "cer": f"{figures['cer']:.4f}",
        "jamo": f"{figures['jamo_error_rate']:.4f}",
        "ned": f"{figures['one_minus_ned']:.4f}",
        "confidence": f"{figures['mean_confidence']:.3f}",
        "length": f"{figures['mean_label_length']:.1f}",
        "unreadable": f"{int(figures['unreadable']):,}",
    }
