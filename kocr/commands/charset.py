"""``kocr charset show|list|build|check``: inspect, build and test charsets against labels."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from kocr.commands import _validate
from kocr.commands._console import print_warning, stderr, stdout
from kocr.data.labels.problems import Problem
from kocr.data.labels.reader import LabelFile

charset_app = typer.Typer(
    help="Inspect charsets, build one from labels, check label coverage.", no_args_is_help=True
)

MAX_PROBLEMS_SHOWN = 10

LabelsArg = typer.Argument(
    ...,
    help="Label files: gt.txt (path<TAB>label), labels.txt (name label) or plain lines.",
    exists=True,
    dir_okay=False,
)
FormatOption = typer.Option(
    "auto",
    "--format",
    "-f",
    help="Label file format: auto, gt, labels or lines.",
    callback=_validate.choice("auto", "gt", "labels", "lines", metavar="FORMAT"),
)


def register(app: typer.Typer) -> None:
    app.add_typer(charset_app, name="charset")


@charset_app.command("list")
def list_presets() -> None:
    """List the built-in charset presets."""
    from kocr.charsets import PRESET_DESCRIPTIONS, Charset

    table = Table(title="charset presets")
    table.add_column("name", style="bold")
    table.add_column("symbols", justify="right")
    table.add_column("mode")
    table.add_column("contents")
    for name, description in PRESET_DESCRIPTIONS.items():
        charset = Charset.preset(name)
        table.add_row(name, f"{len(charset):,}", charset.mode, description)
    stdout.print(table)


@charset_app.command("show")
def show(
    spec: str = typer.Argument(
        ...,
        metavar="CHARSET",
        help="A preset name (ko, ko-2350, ko-jamo, en) or a charset file.",
        callback=_validate.charset,
    ),
    symbols: bool = typer.Option(False, "--symbols", help="Also print every symbol."),
) -> None:
    """Show a charset's size and what it is made of."""
    from kocr.charsets import Charset

    charset = Charset.load(spec)
    table = Table(
        title=f"charset {escape(charset.name or spec)}: {len(charset):,} symbols ({charset.mode} mode)"
    )
    table.add_column("group")
    table.add_column("symbols", justify="right")
    table.add_column("examples")
    for group, count in charset.groups.items():
        examples = "" if group.startswith(" ") else _examples(charset, group)
        table.add_row(group, f"{count:,}", escape(examples))
    stdout.print(table)
    if symbols:
        stdout.print(escape("".join(charset)), soft_wrap=True)


def _examples(charset, group: str, limit: int = 12) -> str:
    from kocr.charsets import symbol_group

    found = [s for s in charset if symbol_group(s) == group]
    shown = " ".join("<space>" if s == " " else s for s in found[:limit])
    return shown + (" …" if len(found) > limit else "")


@charset_app.command("build")
def build(
    labels: list[Path] = typer.Option(
        ...,
        "--from",
        help="Label file(s) to collect symbols from (repeatable).",
        exists=True,
        dir_okay=False,
    ),
    output: Path = typer.Option(
        ...,
        "--output",
        "-o",
        help="Charset file to write (one symbol per line).",
        callback=_validate.output_file,
    ),
    fmt: str = FormatOption,
    order: str = typer.Option(
        "frequency",
        help="Symbol order: frequency (most frequent first) or codepoint.",
        callback=_validate.choice("frequency", "codepoint", metavar="ORDER"),
    ),
    mode: str = typer.Option(
        "syllable",
        help="syllable, or jamo to split syllables into jamo.",
        callback=_validate.choice("syllable", "jamo", metavar="MODE"),
    ),
    min_count: int = typer.Option(1, min=1, help="Leave out symbols seen fewer times than this."),
    include: list[str] = typer.Option(
        [],
        "--include",
        metavar="CHARSET",
        help="Also include every symbol of this preset or charset file (repeatable), e.g. en.",
        callback=_validate.charset,
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace OUTPUT if it exists."),
) -> None:
    """Build a charset file from the symbols that occur in label files."""
    from kocr.charsets import Charset
    from kocr.errors import KocrError

    if output.exists() and not overwrite:
        raise KocrError(f"{output} exists; pass --overwrite to replace it")
    files = _read_all(labels, fmt)
    texts = [record_label for f in files for record_label in _normalised_labels(f)]
    if not texts:
        _report_problems([p for f in files for p in f.problems])
        raise KocrError(f"no usable label in {', '.join(map(str, labels))}; {output} not written")
    extra = [symbol for spec in include for symbol in Charset.load(spec)]
    charset = Charset.from_labels(texts, order=order, mode=mode, min_count=min_count, include=extra)  # type: ignore[arg-type]
    charset.save(output)
    _report_problems([p for f in files for p in f.problems])
    stdout.print(f"wrote {output}: {len(charset):,} symbols from {len(texts):,} labels ({charset.mode} mode)")


@charset_app.command("check")
def check(
    labels: list[Path] = LabelsArg,
    charset_spec: str = typer.Option(
        "ko", "--charset", "-c", help="Preset name or charset file.", callback=_validate.charset
    ),
    fmt: str = FormatOption,
    top: int = typer.Option(20, min=1, help="How many missing symbols to list."),
) -> None:
    """Report how many labels and characters a charset covers.

    Exit code 0 when every label is covered and every line was readable, 1 otherwise.
    """
    from kocr.charsets import Charset, coverage_report
    from kocr.errors import KocrError

    charset = Charset.load(charset_spec)
    files = _read_all(labels, fmt)
    pairs = [
        (label, record.where)
        for f in files
        for record, label in zip(f.records, _normalised_labels(f), strict=True)
    ]
    report = coverage_report(pairs, charset)
    problems = [p for f in files for p in f.problems]
    if not pairs:
        _report_problems(problems)
        raise KocrError(f"no usable label in {', '.join(map(str, labels))}: nothing to check")

    name = charset.name or charset_spec
    summary = Table(
        title=f"coverage of {escape(', '.join(map(str, labels)))} by {escape(name)}", show_header=False
    )
    summary.add_row("labels read", f"{report.num_samples:,}")
    summary.add_row(
        "labels fully covered",
        f"{report.num_samples - report.samples_outside:,} ({report.sample_coverage:.2%})",
    )
    summary.add_row("labels with missing symbols", f"{report.samples_outside:,}")
    summary.add_row("symbols read", f"{report.num_symbols:,} ({report.distinct_symbols:,} distinct)")
    summary.add_row(
        "symbols outside the charset", f"{report.symbols_outside:,} ({1 - report.symbol_coverage:.2%})"
    )
    summary.add_row("unreadable lines", f"{len(problems):,}")
    stdout.print(summary)
    if report.missing:
        table = Table(title=f"missing symbols (top {min(top, len(report.missing))} of {len(report.missing)})")
        table.add_column("symbol")
        table.add_column("code point")
        table.add_column("count", justify="right")
        table.add_column("labels", justify="right")
        table.add_column("first seen at")
        for entry in report.missing[:top]:
            shown = "<space>" if entry.symbol == " " else entry.symbol
            table.add_row(
                escape(shown),
                f"U+{ord(entry.symbol):04X}",
                f"{entry.count:,}",
                f"{entry.samples:,}",
                escape(", ".join(entry.examples)),
            )
        stdout.print(table)
    _report_problems(problems)
    if report.samples_outside or problems:
        raise typer.Exit(1)
    stdout.print(f"[green]all {report.num_samples:,} labels are covered by {escape(name)}[/]")


def _read_all(paths: list[Path], fmt: str) -> list[LabelFile]:
    from kocr.data.labels.reader import read_label_file

    return [read_label_file(path, fmt) for path in paths]  # type: ignore[arg-type]


def _normalised_labels(label_file: LabelFile) -> list[str]:
    from kocr.text import normalize

    return [normalize(record.label) for record in label_file.records]


def _report_problems(problems: list[Problem]) -> None:
    if not problems:
        return
    print_warning(f"{len(problems):,} line(s) could not be used:")
    for problem in problems[:MAX_PROBLEMS_SHOWN]:
        stderr.print(f"  {escape(str(problem))}", soft_wrap=True)
    if len(problems) > MAX_PROBLEMS_SHOWN:
        stderr.print(f"  … and {len(problems) - MAX_PROBLEMS_SHOWN:,} more")
