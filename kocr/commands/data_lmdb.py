"""``kocr data lmdb`` (gt.txt / labels.txt / AI Hub JSON → LMDB) and ``kocr data stats``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from kocr.commands import _reading, _validate
from kocr.commands._console import print_warning, stderr, stdout, task_progress

if TYPE_CHECKING:
    from kocr.data.lmdb.stats import LmdbStats, SizeStats

MAX_SKIPPED_SHOWN = 10
SKIPPED_FILE = "skipped.txt"


def register(data_app: typer.Typer) -> None:
    data_app.command("lmdb")(lmdb_command)
    data_app.command("stats")(stats_command)


def lmdb_command(
    input_path: Path = typer.Argument(
        ...,
        metavar="GT_OR_LABELS",
        help="gt.txt (path<TAB>label), labels.txt (name label) or AI Hub JSON.",
        exists=True,
        dir_okay=False,
    ),
    output: Path = typer.Option(
        ..., "--output", "-o", help="The LMDB folder to create.", callback=_validate.output_folder
    ),
    fmt: str = typer.Option(
        "auto",
        "--format",
        "-f",
        help="auto, gt, labels or aihub.",
        callback=_validate.choice("auto", "gt", "labels", "aihub", metavar="FORMAT"),
    ),
    image_root: Path | None = typer.Option(
        None,
        "--image-root",
        help="Folder image paths are relative to (default: the input file's folder).",
        exists=True,
        file_okay=False,
    ),
    workers: int = typer.Option(
        min(4, os.cpu_count() or 1), "--workers", "-j", min=1, help="Threads that read and check images."
    ),
    keep_jamo: bool = typer.Option(False, "--keep-jamo", help="Keep labels with loose compatibility jamo."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace OUTPUT if it is an LMDB folder."),
    strict: bool = typer.Option(False, "--strict", help="Fail (writing nothing) on the first bad sample."),
    max_pixels: int = _reading.MAX_PIXELS,
) -> None:
    """Build an LMDB in clovaai's layout; unreadable images are skipped and listed in OUTPUT/skipped.txt.

    An image listed twice is written once (its first line); the repeats are reported.
    """

    from kocr.commands.data_convert import print_problems
    from kocr.data.labels.convert import convert
    from kocr.data.lmdb.build import build_lmdb
    from kocr.data.lmdb.writer import check_replaceable
    from kocr.errors import KocrError

    check_replaceable(output, overwrite)  # fail before reading anything
    conversion = convert(input_path, fmt=fmt, image_root=image_root, keep_jamo=keep_jamo, check_images=False)
    if strict:
        conversion.raise_first()
    print_problems(conversion)
    if not conversion.samples:
        raise KocrError(f"{input_path}: no usable samples; {output} not written")
    with task_progress("checking images") as progress:
        task = progress.add_task("lmdb", total=len(conversion.samples))
        report = build_lmdb(
            conversion.samples,
            output,
            workers=workers,
            overwrite=overwrite,
            strict=strict,
            progress=lambda n: progress.advance(task, n),
        )
    lost = [f"{p.where}\t\t{p.kind}: {p.message}" for p in conversion.problems if p.dropped]
    lost += [f"{s.where}\t{s.image}\t{s.message}" for s in report.skipped]
    if lost:
        from kocr.fileio import atomic_write_text

        atomic_write_text(output / SKIPPED_FILE, "".join(line + "\n" for line in lost))
    for skipped in report.skipped[:MAX_SKIPPED_SHOWN]:
        print_warning(f"skipped {skipped}")
    if len(report.skipped) > MAX_SKIPPED_SHOWN:
        stderr.print(f"… and {len(report.skipped) - MAX_SKIPPED_SHOWN:,} more")
    rate = report.total / report.seconds if report.seconds else 0.0
    listed = f"; all {len(lost):,} listed in {escape(str(output / SKIPPED_FILE))}" if lost else ""
    stdout.print(
        f"wrote {report.written:,} samples to {escape(str(output))} "
        f"({len(report.skipped):,} unreadable images skipped, {conversion.dropped:,} labels dropped{listed}; "
        f"{rate:,.0f} images/s)"
    )


def stats_command(
    path: Path = typer.Argument(
        ...,
        metavar="PATH",
        help="An LMDB folder, or a folder searched for LMDBs (**/data.mdb).",
        exists=True,
        file_okay=False,
    ),
    charset: str = typer.Option(
        "ko",
        "--charset",
        "-c",
        help="Charset preset or file for length and coverage.",
        callback=_validate.charset,
    ),
    max_images: int = typer.Option(
        10_000, "--max-images", min=1, help="Image headers read per LMDB (sampled)."
    ),
) -> None:
    """Samples, label lengths, charset coverage and image sizes of LMDB datasets."""
    from kocr.charsets import Charset
    from kocr.data.lmdb.layout import find_lmdbs
    from kocr.data.lmdb.stats import lmdb_stats
    from kocr.errors import InputFileError

    chosen = Charset.load(charset)
    folders = find_lmdbs(path)
    if not folders:
        raise InputFileError(path, "no LMDB (data.mdb) found here or below")
    for folder in folders:
        print_stats(lmdb_stats(folder, chosen, max_images=max_images), charset)


def print_stats(stats: LmdbStats, charset_name: str) -> None:
    stdout.print(f"[bold]LMDB {escape(str(stats.path))}[/]", soft_wrap=True)
    overview = Table(show_header=False)
    overview.add_column("what")
    overview.add_column("value", justify="right")
    overview.add_row("samples", f"{stats.num_samples:,}")
    for name, value in (
        ("missing labels", stats.missing_labels),
        ("labels not UTF-8", stats.undecodable_labels),
        ("empty labels", stats.empty_labels),
        ("labels not normalised (NFC/whitespace)", stats.not_normalised),
    ):
        if value:
            overview.add_row(name, f"{value:,}")
    sampled = " (sampled)" if stats.images_sampled else ""
    overview.add_row(f"images checked{sampled}", f"{stats.images_checked:,}")
    if stats.unreadable_images:
        overview.add_row("unreadable image headers", f"{stats.unreadable_images:,}")
    if stats.width and stats.height:
        overview.add_row("width min / mean / max", _size(stats.width))
        overview.add_row("height min / mean / max", _size(stats.height))
        overview.add_row("formats", ", ".join(f"{k} {v:,}" for k, v in stats.formats.items()))
    stdout.print(overview)
    stdout.print(_length_table(stats.length_histogram, charset_name))
    if stats.coverage is not None:
        cov = stats.coverage
        stdout.print(
            f"charset {escape(charset_name)}: {cov.sample_coverage:.2%} of samples and "
            f"{cov.symbol_coverage:.2%} of symbols covered"
        )
        if cov.missing:
            table = Table(title="symbols outside the charset", title_justify="left")
            table.add_column("symbol")
            table.add_column("count", justify="right")
            table.add_column("samples", justify="right")
            table.add_column("first seen")
            for miss in cov.missing[:15]:
                table.add_row(
                    repr(miss.symbol), f"{miss.count:,}", f"{miss.samples:,}", ", ".join(miss.examples)
                )
            stdout.print(table)


def _size(size: SizeStats) -> str:
    return f"{size.min:,} / {size.mean:,.1f} / {size.max:,}"


def _length_table(histogram: dict[int, int], charset_name: str, buckets: int = 30) -> Table:
    table = Table(title=f"label length (in {escape(charset_name)} symbols)", title_justify="left")
    table.add_column("length", justify="right")
    table.add_column("samples", justify="right")
    table.add_column("")
    rows = [(str(k), v) for k, v in histogram.items() if k < buckets]
    longer = sum(v for k, v in histogram.items() if k >= buckets)
    if longer:
        rows.append((f"{buckets}+", longer))
    peak = max((v for _, v in rows), default=1)
    for length, count in rows:
        table.add_row(length, f"{count:,}", "█" * max(1, round(20 * count / peak)))
    return table
