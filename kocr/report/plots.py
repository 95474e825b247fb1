"""The report's plots, drawn by matplotlib from binned counts: reliability (confidence against accuracy)
and the CER histogram. Figures are built without pyplot (no global state, no GUI backend) and come back
as SVG data URIs with text drawn as paths, so the HTML needs no font and no network to show them.

The bins are filled while evaluation streams (:class:`ReliabilityBins`, :class:`CerHistogram`): constant
memory whatever the number of lines.
"""

from __future__ import annotations

import base64
import io
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from kocr.report.fonts import matplotlib_families

RELIABILITY_BINS = 10
#: CER histogram bins: exact (0), then (0, 0.1], (0.1, 0.2], ... (0.9, 1.0], then above 1.
CER_BIN_LABELS = ("0", *(f"≤{k / 10:.1f}" for k in range(1, 11)), ">1")


@dataclass
class ReliabilityBins:
    """Samples by confidence (``RELIABILITY_BINS`` equal bins of [0, 1]): count, exact matches, Σ conf."""

    count: list[int] = field(default_factory=lambda: [0] * RELIABILITY_BINS)
    correct: list[int] = field(default_factory=lambda: [0] * RELIABILITY_BINS)
    confidence: list[float] = field(default_factory=lambda: [0.0] * RELIABILITY_BINS)

    def add(self, confidence: float, exact: bool) -> None:
        index = min(RELIABILITY_BINS - 1, max(0, int(confidence * RELIABILITY_BINS)))
        self.count[index] += 1
        self.correct[index] += exact
        self.confidence[index] += confidence

    @property
    def total(self) -> int:
        return sum(self.count)

    def expected_calibration_error(self) -> float:
        """ECE: Σ over bins of (share of samples) × |accuracy − mean confidence|."""
        total = self.total
        if not total:
            return 0.0
        return (
            sum(
                abs(correct - confidence)
                for correct, confidence in zip(self.correct, self.confidence, strict=True)
            )
            / total
        )


@dataclass
class CerHistogram:
    """Samples by CER in the bins of :data:`CER_BIN_LABELS`."""

    count: list[int] = field(default_factory=lambda: [0] * len(CER_BIN_LABELS))

    def add(self, cer: float) -> None:
        if cer <= 0:
            index = 0
        elif cer > 1:
            index = len(CER_BIN_LABELS) - 1
        else:
            index = min(10, max(1, -int(-cer * 10 // 1)))  # ceil(cer * 10): (0, 0.1] is bin 1
        self.count[index] += 1


@contextmanager
def plot_style() -> Any:
    """matplotlib settings for kocr's plots: Hangul-capable fonts, text as paths in SVG, light axes."""
    import matplotlib

    settings = {
        "font.family": matplotlib_families(),
        "font.size": 9,
        "svg.fonttype": "path",  # glyphs as outlines: the page needs no font to show the plot
        "svg.hashsalt": "kocr",  # stable ids: the same data gives the same file
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.alpha": 0.3,
    }
    with matplotlib.rc_context(settings):
        yield


def figure(width: float, height: float, **options: Any) -> Any:
    """A matplotlib Figure (inches) on the Agg canvas, without pyplot."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained", **options)


def svg_data_uri(fig: Any) -> str:
    """The figure as an ``data:image/svg+xml;base64,...`` URI."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def reliability_plot(bins: ReliabilityBins) -> str:
    """Accuracy per confidence bin against the diagonal of perfect calibration, with how many samples
    each bin holds underneath; an SVG data URI."""
    with plot_style():
        fig = figure(4.6, 4.0)
        top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1))
        width = 1 / RELIABILITY_BINS
        lefts = [i * width for i in range(RELIABILITY_BINS)]
        filled = [i for i, n in enumerate(bins.count) if n]
        accuracy = [bins.correct[i] / bins.count[i] for i in filled]
        mean_confidence = [bins.confidence[i] / bins.count[i] for i in filled]
        top.plot([0, 1], [0, 1], linestyle="--", color="#888", linewidth=1, label="perfect calibration")
        top.bar([lefts[i] for i in filled], accuracy, width=width, align="edge", color="#4c72b0",
                edgecolor="white", alpha=0.85, label="accuracy")  # fmt: skip
        top.plot(mean_confidence, accuracy, "o", color="#dd8452", markersize=4, label="mean confidence")
        top.set_xlim(0, 1)
        top.set_ylim(0, 1)
        top.set_ylabel("accuracy (exact lines)")
        top.set_title(f"reliability (ECE {bins.expected_calibration_error():.3f})")
        top.legend(loc="upper left", fontsize=8, frameon=False)
        bottom.bar(lefts, bins.count, width=width, align="edge", color="#8c8c8c", edgecolor="white")
        bottom.set_xlabel("confidence")
        bottom.set_ylabel("lines")
        nonzero = [n for n in bins.count if n]
        if nonzero and max(nonzero) > 50 * min(nonzero):  # most lines in one bin: keep the others visible
            bottom.set_yscale("log")
        return svg_data_uri(fig)


def cer_histogram(histogram: CerHistogram, unit: str = "lines") -> str:
    """How many lines (or pages) fall in each CER bin, counts written on the bars; an SVG data URI."""
    with plot_style():
        fig = figure(4.6, 4.0)
        axes = fig.subplots()
        positions = range(len(CER_BIN_LABELS))
        colours = ["#55a868", *["#c44e52"] * (len(CER_BIN_LABELS) - 1)]
        bars = axes.bar(positions, histogram.count, color=colours, edgecolor="white")
        axes.bar_label(bars, labels=[f"{n:,}" if n else "" for n in histogram.count], fontsize=7, padding=2)
        axes.set_xticks(list(positions), CER_BIN_LABELS, rotation=45)
        axes.set_xlabel(f"CER per {unit.rstrip('s')}")
        axes.set_ylabel(unit)
        axes.set_title(f"CER histogram ({sum(histogram.count):,} {unit})")
        axes.margins(y=0.12)
        return svg_data_uri(fig)
