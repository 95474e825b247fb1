"""Training curves from run folders: training loss and validation CER / accuracy against steps.

A run's ``log.csv`` (:mod:`kocr.training.reporting`) holds one row per logged training window (``loss``)
and one per validation (``valid_cer``, ``valid_accuracy``); the trainer redraws ``curves.png`` in the run
folder at every validation (:func:`write_run_curves`), and ``kocr plot RUN... -o curves.png`` overlays
any number of runs (:func:`plot_runs`) so they can be compared. A line detector's run
(:mod:`kocr.training.detector`) logs ``valid_f1``, ``valid_precision`` and ``valid_recall`` instead, and
is drawn with those panels (:data:`DETECTOR_PANELS`); the two kinds are not overlaid. Only the header
names columns: files of older or newer kocr versions with more or fewer columns read as long as
``step`` is there. A step logged twice (a run resumed from an earlier ``last.pt``) keeps its last value.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kocr.errors import InputFileError, KocrError, OutputExistsError
from kocr.fileio import atomic_write_bytes
from kocr.report.plots import figure, plot_style

LOG_FILE = "log.csv"
CURVES_FILE = "curves.png"
PLOT_FORMATS = (".png", ".svg")


@dataclass(frozen=True)
class Panel:
    """One plot: its title, y label, the columns drawn in it (with a marker each), whether the best
    validation is starred (the lowest, ``min``, or the highest, ``max``) and a fixed y range."""

    title: str
    label: str
    columns: tuple[tuple[str, str | None], ...]
    best: str | None = None
    share: bool = False  # a 0..1 axis


RECOGNISER_PANELS = (
    Panel("training loss", "loss", (("loss", None),)),
    Panel("validation CER (★ best)", "CER", (("valid_cer", "o"),), best="min"),
    Panel("validation accuracy", "exact lines", (("valid_accuracy", "o"),), share=True),
)
DETECTOR_PANELS = (
    Panel("training loss", "loss", (("loss", None),)),
    Panel("validation F1 (★ best)", "F1 of lines found", (("valid_f1", "o"),), best="max", share=True),
    Panel(
        "validation precision (●), recall (▲)",
        "share of lines",
        (("valid_precision", "o"), ("valid_recall", "^")),
        share=True,
    ),
)
COLUMNS = sorted(
    {column for panels in (RECOGNISER_PANELS, DETECTOR_PANELS) for p in panels for column, _ in p.columns}
)


@dataclass
class RunCurves:
    """One run's series, each sorted by step; ``kind`` says which panels draw it."""

    name: str
    source: Path
    series: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    kind: str = "recognizer"  # or "detector"

    @property
    def panels(self) -> tuple[Panel, ...]:
        return DETECTOR_PANELS if self.kind == "detector" else RECOGNISER_PANELS

    @property
    def loss(self) -> list[tuple[int, float]]:
        return self.series.get("loss", [])

    @property
    def valid_cer(self) -> list[tuple[int, float]]:
        return self.series.get("valid_cer", [])

    @property
    def valid_accuracy(self) -> list[tuple[int, float]]:
        return self.series.get("valid_accuracy", [])

    @property
    def validations(self) -> int:
        return len(self.series.get("valid_f1" if self.kind == "detector" else "valid_cer", []))

    def best_of(self, panel: Panel) -> tuple[int, float] | None:
        """The starred validation of ``panel`` (the earliest of equals): where best.pt was saved."""
        points = self.series.get(panel.columns[0][0], [])
        if panel.best == "min":
            return min(points, key=lambda point: (point[1], point[0]), default=None)
        if panel.best == "max":
            return min(points, key=lambda point: (-point[1], point[0]), default=None)
        return None

    @property
    def best(self) -> tuple[int, float] | None:
        """The best validation (lowest CER; a detector's highest F1)."""
        return self.best_of(self.panels[1])


def log_file_of(path: str | os.PathLike[str]) -> Path:
    """The ``log.csv`` a run folder (or the file itself) names."""
    path = Path(path)
    if path.is_dir():
        path = path / LOG_FILE
    if not path.is_file():
        raise InputFileError(path, "no such training log (give a run folder holding log.csv, or the file)")
    return path


def read_run_log(path: str | os.PathLike[str], name: str | None = None) -> RunCurves:
    """The curves of one run folder (or its ``log.csv``); a malformed file names its line."""
    source = log_file_of(path)
    series: dict[str, dict[int, float]] = {column: {} for column in COLUMNS}
    kind = "recognizer"
    try:
        with source.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or "step" not in reader.fieldnames:
                raise InputFileError(source, "not a kocr training log (no step column in its header)", 1)
            if "valid_f1" in reader.fieldnames:
                kind = "detector"
            for row in reader:
                line = reader.line_num
                step = _number(row.get("step"), source, line, "step")
                if step is None:
                    raise InputFileError(source, "a row without a step", line)
                for column, values in series.items():
                    value = _number(row.get(column), source, line, column)
                    if value is not None:
                        values[int(step)] = value
    except UnicodeDecodeError as exc:
        raise InputFileError(source, f"not UTF-8 text ({exc.reason})") from None
    except csv.Error as exc:
        raise InputFileError(source, f"not a CSV file ({exc})") from None
    return RunCurves(
        name or _run_name(source),
        source,
        {column: sorted(values.items()) for column, values in series.items() if values},
        kind,
    )


def _number(text: str | None, source: Path, line: int, column: str) -> float | None:
    if text is None or not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        raise InputFileError(source, f"{column} is not a number: {text!r}", line) from None
    return value if math.isfinite(value) else None


def _run_name(log_file: Path) -> str:
    return log_file.parent.name if log_file.name == LOG_FILE else log_file.stem


def read_runs(paths: Sequence[str | os.PathLike[str]]) -> list[RunCurves]:
    """Several runs, each named by its folder; runs whose folders share a name get their parents' too."""
    files = [log_file_of(p) for p in paths]
    plain = [_run_name(f) for f in files]
    names = [
        (f"{file.parent.parent.name}/{name}" if file.name == LOG_FILE else str(file))
        if plain.count(name) > 1
        else name
        for file, name in zip(files, plain, strict=True)
    ]
    return [read_run_log(f, name) for f, name in zip(files, names, strict=True)]


def plot_runs(runs: Sequence[RunCurves], output: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Draw the runs' loss, validation CER and accuracy side by side into ``output`` (.png or .svg)."""
    output = Path(output)
    check_plot_path(output)
    if output.exists() and not overwrite:
        raise OutputExistsError(output)
    if not runs:
        raise KocrError("no run to plot")
    return atomic_write_bytes(output, render_curves(runs, output.suffix.lower().lstrip(".")))


def check_plot_path(path: str | os.PathLike[str]) -> None:
    """A plot file kocr can write: its suffix names the format."""
    if Path(path).suffix.lower() not in PLOT_FORMATS:
        raise KocrError(f"{path}: a plot is written as {' or '.join(PLOT_FORMATS)} (name the file so)")


def render_curves(runs: Sequence[RunCurves], format: str = "png") -> bytes:
    """The three panels of the runs' kind as an image file's bytes (``png`` or ``svg``)."""
    kinds = {run.kind for run in runs}
    if len(kinds) > 1:
        raise KocrError("a line detector's run and a recogniser's run log different things; plot them apart")
    panels = runs[0].panels if runs else RECOGNISER_PANELS
    with plot_style():
        fig = figure(13.5, 4.0)
        axes_list = fig.subplots(1, len(panels))
        colours = [f"C{i % 10}" for i in range(len(runs))]
        for axes, panel in zip(axes_list, panels, strict=True):
            for run, colour in zip(runs, colours, strict=True):
                for column, marker in panel.columns:
                    _line(axes, run.series.get(column, []), colour, run.name, marker=marker)
                best = run.best_of(panel)
                if best is not None:
                    axes.plot(*best, marker="*", markersize=13, color=colour, markeredgecolor="black",
                              linestyle="none", zorder=5)  # fmt: skip
            axes.set_title(panel.title)
            axes.set_xlabel("step")
            axes.set_ylabel(panel.label)
            if not axes.lines:
                axes.text(0.5, 0.5, "not logged yet", ha="center", va="center", transform=axes.transAxes,
                          color="#888")  # fmt: skip
            if panel.share:
                axes.set_ylim(0, 1.02)
            elif panel.best == "min":
                axes.set_ylim(bottom=0)
        loss_axes = axes_list[0]
        if any(value > 0 for run in runs for _, value in run.loss):
            positive = [value for run in runs for _, value in run.loss if value > 0]
            if max(positive) > 20 * min(positive):
                from matplotlib.ticker import FormatStrFormatter

                loss_axes.set_yscale("log")
                loss_axes.yaxis.set_major_formatter(FormatStrFormatter("%g"))
                loss_axes.yaxis.set_minor_formatter(FormatStrFormatter("%g"))
        handles, labels = [], []
        for axes in axes_list:
            handles, labels = axes.get_legend_handles_labels()
            if handles:
                break
        if handles:
            unique = dict(zip(labels, handles, strict=True))  # one entry per run (panels may draw two lines)
            fig.legend(list(unique.values()), list(unique), loc="outside lower center",
                       ncols=min(len(unique), 4), frameon=False)  # fmt: skip
        buffer = io.BytesIO()
        fig.savefig(buffer, format=format, dpi=110, metadata={"Date": None} if format == "svg" else None)
        return buffer.getvalue()


def _line(axes, points: list[tuple[int, float]], colour: str, label: str, marker: str | None = None) -> None:
    if not points:
        return
    steps, values = zip(*points, strict=True)
    axes.plot(steps, values, color=colour, label=label, marker=marker, markersize=3, linewidth=1.4)


def write_run_curves(run_dir: str | os.PathLike[str]) -> Path:
    """Redraw ``curves.png`` in a run folder from its ``log.csv`` (kocr's own file: replaced each time)."""
    run_dir = Path(run_dir)
    return plot_runs([read_run_log(run_dir)], run_dir / CURVES_FILE, overwrite=True)
