"""``kocr eval``: score a checkpoint on labelled data, write ``test_log.txt`` and a summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from kocr.commands import _reading, _validate
from kocr.commands._console import setup_logging, shown, stderr, stdout


def register(app: typer.Typer) -> None:
    app.command("eval")(evaluate)


def evaluate(
    extra_data: list[Path] = typer.Argument(
        None, metavar="DATA", help="More datasets (same as --data).", show_default=False, exists=True
    ),
    data: list[Path] = typer.Option(
        [],
        "--data",
        "-d",
        help="LMDB folder, gt.txt/labels.txt, or a folder holding one (repeatable).",
        exists=True,
    ),
    saved_model: str = _reading.SAVED_MODEL,
    charset: str | None = _reading.CHARSET,
    log_file: Path = typer.Option(
        Path("test_log.txt"),
        "--log-file",
        help="Per-image log: plain TSV, a tab, newline or backslash in a text written as \\t, \\n, \\\\.",
        callback=_validate.output_file,
    ),
    summary_json: Path | None = typer.Option(
        None, "--summary-json", help="Also write the summary as JSON.", callback=_validate.output_file
    ),
    report: Path | None = typer.Option(
        None,
        "--report",
        help="Also write an HTML report (one self-contained file, images embedded): the summary, plots, "
        "the most frequent confusions with examples and the worst lines (--failures of them, else 50) "
        "with their differences marked; with --layout page, the worst pages (else 10) drawn with their "
        "lines.",
        dir_okay=False,
        callback=_validate.output_file,
    ),
    overlay: Path | None = typer.Option(
        None,
        "--overlay",
        help="With --layout page: write each page with its line boxes, reading order and the text read "
        "into this folder (NAME.overlay.jpg; a folder holding overlays already needs --overwrite).",
        file_okay=False,
        callback=_validate.output_folder,
    ),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace the log / summary / report / overlay files if they exist."
    ),
    ignore_space: bool = typer.Option(False, "--ignore-space", help="Accuracy and CER ignore spaces."),
    case_sensitive: bool = typer.Option(
        True,
        "--case-sensitive/--ignore-case",
        help="Latin letter case counts (the default); --ignore-case folds A-Z to a-z for scoring only.",
        show_default=False,
    ),
    image_root: Path | None = typer.Option(
        None, help="Folder image paths in label files are relative to.", exists=True, file_okay=False
    ),
    batch_size: int = typer.Option(32, min=1, help="Images per forward pass."),
    device: str = typer.Option("auto", help="auto, cpu, cuda or cuda:N.", callback=_validate.device),
    workers: int = typer.Option(2, min=1, help="Threads decoding images while the model runs."),
    failures: int = typer.Option(
        0, "--failures", min=0, help="Print the N worst predictions (and show them in --report)."
    ),
    confusions: bool = typer.Option(False, "--confusions", help="List the most frequent substitutions."),
    top: int = typer.Option(15, min=1, help="Rows in the --confusions tables and the --report's."),
    normalize: bool | None = _reading.NORMALIZE,
    decoder: str = _reading.DECODER,
    lm: str = _reading.LM,
    beam_width: int | None = _reading.BEAM_WIDTH,
    lm_weight: float | None = _reading.LM_WEIGHT,
    length_bonus: float | None = _reading.LENGTH_BONUS,
    engine: str = _reading.ENGINE,
    max_pixels: int = _reading.MAX_PIXELS,
    layout: str = typer.Option(
        "line",
        "--layout",
        callback=_validate.choice("line", "page", metavar="LAYOUT"),
        help="line: every image is a labelled text line; page: every image is a page, its text in "
        "NAME.gt.txt beside it (lines in reading order) or in a gt.txt with \\n between lines; scored "
        "by page CER (whitespace runs as one space) and the share of lines found.",
    ),
    line_finder: str = _reading.LINE_FINDER,
    detector: Path | None = _reading.DETECTOR,
    pages_at_once: int = _reading.PAGES_AT_ONCE,
) -> None:
    """Evaluate a model on labelled images: a summary table and test_log.txt.

    test_log.txt has one row per image (Image Name, Real Text, Predicted Text, Confidence, CER); with
    --layout page one row per page, its lines joined by \\n.

    Texts are logged as they are; scoring is case-sensitive unless --ignore-case.

    A dataset of which no sample can be scored is an error.
    """
    from kocr.errors import KocrError
    from kocr.evaluate import evaluate as run_evaluation

    setup_logging()
    datasets = [*data, *(extra_data or [])]
    if not datasets:
        raise typer.BadParameter("give at least one dataset with --data", param_hint="--data")
    for path, option in ((log_file, "--log-file"), (summary_json, "--summary-json"), (report, "--report")):
        if path is not None and path.exists() and not overwrite:
            raise KocrError(f"{path} exists; pass --overwrite to replace it (or choose another {option})")
    overlays = None
    if overlay is not None:
        if layout != "page":
            raise typer.BadParameter("--overlay applies to --layout page only", param_hint="--overlay")
        from kocr.report.overlay import OverlayWriter

        overlays = OverlayWriter(overlay, overwrite=overwrite)
        overlays.check_folder()
    # Before the model loads: page reading readies the process (kocr.runtime.memory).
    page_options = _reading.page_reading(line_finder, detector, pages_at_once) if layout == "page" else {}
    options = _reading.decoder_kwargs(decoder, lm, beam_width, lm_weight, length_bonus)
    recognizer = _reading.open_recognizer(
        saved_model, charset=charset, device=device, batch_size=batch_size, normalize=normalize,
        engine=engine, decoding=options,
    )  # fmt: skip
    stderr.print(escape(_reading.describe(recognizer.describe_decoder())))
    if layout == "page":  # the options page evaluation does not take: kocr.commands._conflicts
        _evaluate_pages(recognizer, datasets, log_file, summary_json, line_finder, page_options, failures,
                        report, overlays, overwrite)  # fmt: skip
        return
    columns = (
        TextColumn("[bold]eval"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("images"),
        TimeRemainingColumn(),
    )
    collector = None
    if report is not None:
        from kocr.report.lines import DEFAULT_WORST, LineReportCollector

        collector = LineReportCollector(worst=failures or DEFAULT_WORST, top=top)
    with Progress(*columns, console=stderr, transient=True) as progress:
        task = progress.add_task("eval", total=None)
        result = run_evaluation(
            recognizer,
            datasets,
            log_file,
            ignore_space=ignore_space,
            case_sensitive=case_sensitive,
            image_root=image_root,
            worst=failures,
            confusions=confusions,
            workers=workers,
            progress=lambda n: progress.advance(task, n),
            on_sample=collector.add if collector is not None else None,
        )
    _print_summary(result)
    if failures:
        _print_failures(result.worst)
    if confusions:
        _print_confusions("syllable substitutions (truth → predicted)", result.confusions, top)
        _print_confusions("jamo substitutions (truth → predicted)", result.jamo_confusions, top)
    if summary_json is not None:
        from kocr.fileio import atomic_write_text
        from kocr.names import json_text

        summary = result.to_dict() | {
            "normalize": recognizer.preprocess.normalize,
            "decoding": recognizer.describe_decoder(),
            "engine": recognizer.engine,
        }
        atomic_write_text(summary_json, json_text(summary, indent=2) + "\n")
    if report is not None and collector is not None:
        from kocr.report.lines import write_line_report

        write_line_report(report, result, collector, setup=_setup(recognizer, datasets), overwrite=overwrite)
    _print_written(log_file, summary_json, report)


def _setup(recognizer, datasets, **more) -> dict:
    """What the report says was evaluated, and how."""
    return {
        "model": str(recognizer.source),
        "engine": recognizer.engine,
        "decoder": _reading.describe(recognizer.describe_decoder()).removeprefix("decoder: "),
        "input normalisation": "on" if recognizer.preprocess.normalize else "off",
        **more,
        "data": [str(d) for d in datasets],
    }


def _print_written(*paths: Path | None) -> None:
    written = [escape(str(p)) for p in paths if p is not None]
    stderr.print("wrote " + ", ".join(written[:-1]) + (" and " if len(written) > 1 else "") + written[-1])


def _evaluate_pages(
    recognizer,
    datasets,
    log_file,
    summary_json,
    line_finder: str,
    page_options: dict[str, Any],
    failures: int,
    report,
    overlays,
    overwrite,
) -> None:
    from kocr.pages.evaluate import evaluate_pages
    from kocr.pages.reader import PageReader

    reader = PageReader(recognizer, layout="page", **page_options)
    observers = []
    collector = None
    if report is not None:
        from kocr.report.pages import DEFAULT_WORST_PAGES, PageReportCollector

        collector = PageReportCollector(worst=failures or DEFAULT_WORST_PAGES)
        observers.append(collector.add)
    if overlays is not None:
        from kocr.report.pages import line_statuses

        several = len(datasets) > 1

        def draw(page) -> None:
            name = f"{Path(page.dataset).name}/{page.row.image}" if several else page.row.image
            overlays.page(name, page.image, page.result, line_statuses(page.sample.lines, page.result)[0])

        observers.append(draw)
    columns = (TextColumn("[bold]eval"), BarColumn(), MofNCompleteColumn(), TextColumn("pages"),
               TimeRemainingColumn())  # fmt: skip
    with Progress(*columns, console=stderr, transient=True) as progress:
        task = progress.add_task("eval", total=None)
        result = evaluate_pages(
            reader,
            datasets,
            log_file,
            worst=failures,
            progress=lambda n: progress.advance(task, n),
            on_page=(lambda page: [observe(page) for observe in observers]) if observers else None,
        )
    table = Table(title=f"page evaluation (line finder: {line_finder})")
    for column in ("dataset", "pages", "page CER", "lines", "lines found", "pages/s", "unreadable"):
        table.add_column(column, justify="left" if column == "dataset" else "right")
    rows = result.datasets + ([result.combined] if len(result.datasets) > 1 else [])
    for summary in rows:
        f = summary.figures()
        table.add_row(shown(summary.name), f"{int(f['pages']):,}", f"{f['page_cer']:.4f}",
                      f"{int(f['lines']):,}", f"{f['lines_found']:.2%}", f"{f['pages_per_second']:.2f}",
                      f"{int(f['unreadable']):,}")  # fmt: skip
    stdout.print(table)
    if failures:
        _print_failures(result.worst)
    if summary_json is not None:
        from kocr.fileio import atomic_write_text
        from kocr.names import json_text

        summary = result.to_dict() | {
            "line_finder": line_finder,
            "normalize": recognizer.preprocess.normalize,
            "decoding": recognizer.describe_decoder(),
            "engine": recognizer.engine,
        }
        atomic_write_text(summary_json, json_text(summary, indent=2) + "\n")
    if report is not None and collector is not None:
        from kocr.report.pages import write_page_report

        setup = _setup(recognizer, datasets, **{"line finder": line_finder})
        write_page_report(report, result, collector, setup=setup, overwrite=overwrite)
    if overlays is not None:
        stderr.print(f"wrote {len(overlays.written):,} overlays to {escape(str(overlays.folder))}")
    _print_written(log_file, summary_json, report)


def _print_summary(report) -> None:
    table = Table(title="evaluation" + (" (spaces ignored)" if report.ignore_space else ""))
    columns = (
        "dataset",
        "samples",
        "accuracy",
        "CER",
        "1-NED",
        "jamo ER",
        "mean conf.",
        "mean length",
        "unreadable",
    )
    for column in columns:
        table.add_column(column, justify="left" if column == "dataset" else "right")
    rows = report.datasets + ([report.combined] if len(report.datasets) > 1 else [])
    for summary in rows:
        f = summary.figures(report.ignore_space)
        table.add_row(
            shown(summary.name),
            f"{int(f['samples']):,}",
            f"{f['accuracy']:.2%}",
            f"{f['cer']:.4f}",
            f"{f['one_minus_ned']:.4f}",
            f"{f['jamo_error_rate']:.4f}",
            f"{f['mean_confidence']:.4f}",
            f"{f['mean_label_length']:.1f}",
            f"{int(f['unreadable']):,}",
        )
    stdout.print(table)


def _print_failures(rows) -> None:
    table = Table(title=f"{len(rows)} worst predictions")
    for column in ("image", "real text", "predicted text", "confidence", "CER"):
        table.add_column(column, justify="right" if column in ("confidence", "CER") else "left")
    for row in rows:
        table.add_row(shown(row.image), escape(row.truth), escape(row.predicted), f"{row.confidence:.4f}",
                      f"{row.cer:.4f}")  # fmt: skip
    stdout.print(table)


def _print_confusions(title: str, pairs, top: int) -> None:
    table = Table(title=title)
    table.add_column("truth")
    table.add_column("predicted")
    table.add_column("count", justify="right")
    from kocr.charsets.hangul import to_compatibility_jamo  # lone conjoining jamo render badly in terminals

    for (truth, predicted), count in pairs.most_common(top):
        table.add_row(
            escape(to_compatibility_jamo(truth)), escape(to_compatibility_jamo(predicted)), f"{count:,}"
        )
    stdout.print(table)
