"""``kocr data convert`` (AI Hub JSON / labels.txt / gt.txt → gt.txt) and ``kocr data split``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from kocr.commands import _reading, _validate
from kocr.commands._console import print_warning, stderr, stdout, task_progress

if TYPE_CHECKING:
    from kocr.data.labels.samples import Conversion

MAX_PROBLEMS_SHOWN = 10


def register(data_app: typer.Typer) -> None:
    data_app.command("convert")(convert_command)
    data_app.command("split")(split_command)


def _sample_types(values: list[str]) -> None:
    from kocr.data.labels.aihub import sample_type

    for value in values:
        sample_type(value)


def convert_command(
    input_path: Path = typer.Argument(
        ...,
        metavar="INPUT",
        help="AI Hub label JSON, labels.txt (name label) or gt.txt (path<TAB>label).",
        exists=True,
        dir_okay=False,
    ),
    output: Path = typer.Option(
        ..., "--output", "-o", help="The gt.txt to write.", callback=_validate.output_file
    ),
    fmt: str = typer.Option(
        "auto",
        "--format",
        "-f",
        help="auto, aihub, gt or labels.",
        callback=_validate.choice("auto", "aihub", "gt", "labels", metavar="FORMAT"),
    ),
    types: list[str] | None = typer.Option(
        None,
        "--type",
        "-t",
        metavar="TYPE",
        help="AI Hub only: keep syllable, word or sentence samples (repeatable).",
        callback=_validate.library_check(_sample_types),
    ),
    image_root: Path | None = typer.Option(
        None,
        "--image-root",
        help="Folder the images are under (default: the input file's folder).",
        exists=True,
        file_okay=False,
    ),
    keep_jamo: bool = typer.Option(
        False,
        "--keep-jamo",
        help="Keep labels with loose compatibility jamo (ㅋㅋ) instead of dropping them.",
    ),
    crop_dir: Path | None = typer.Option(
        None,
        "--crop-dir",
        help="AI Hub Text in the wild: cut each labelled box out of its photo into this folder "
        "(ignored boxes are skipped).",
        callback=_validate.output_folder,
    ),
    workers: int = typer.Option(2, "--workers", "-j", min=1, help="Photos decoded at once (--crop-dir)."),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace OUTPUT if it exists (and crop into a non-empty --crop-dir)."
    ),
    strict: bool = typer.Option(False, "--strict", help="Fail on the first problem that loses a sample."),
    max_pixels: int = _reading.MAX_PIXELS,
) -> None:
    """Convert labels to gt.txt, checking each image exists; paths are relative to OUTPUT's folder.

    An image listed twice keeps its first line; the repeats (and any second label) are reported.
    """
    from kocr.data.labels.convert import convert
    from kocr.data.labels.regions import check_crop_dir
    from kocr.data.labels.writer import write_gt
    from kocr.errors import KocrError

    if output.exists() and not overwrite:
        raise KocrError(f"{output} already exists; pass --overwrite to replace it")
    if crop_dir is not None:
        check_crop_dir(crop_dir, overwrite)
    conversion = convert(
        input_path,
        fmt=fmt,
        image_root=image_root,
        types=types,
        keep_jamo=keep_jamo,
        regions=crop_dir is not None,
    )
    if strict:
        conversion.raise_first()
    if conversion.regions:
        assert crop_dir is not None
        _crop(conversion, crop_dir, workers, overwrite)
        if strict:
            conversion.raise_first()
    print_problems(conversion)
    if not conversion.samples:
        raise KocrError(f"{input_path}: no usable samples; {output} not written")
    written = write_gt(output, conversion.samples, overwrite=overwrite)
    note = f", {conversion.other_type:,} of other types left out" if conversion.other_type else ""
    stdout.print(
        f"wrote {written:,} samples to {escape(str(output))} "
        f"({conversion.dropped:,} dropped{note}; format {conversion.format})"
    )


def _crop(conversion: Conversion, crop_dir: Path, workers: int, overwrite: bool) -> None:
    """Cut the regions out into ``crop_dir``: the crops join the samples, the failures the problems."""

    from kocr.data.labels.regions import crop_regions

    with task_progress("cropping regions") as progress:
        task = progress.add_task("crop", total=len(conversion.regions))
        samples, problems = crop_regions(
            conversion.regions,
            crop_dir,
            workers=workers,
            overwrite=overwrite,
            progress=lambda n: progress.advance(task, n),
        )
    conversion.samples.extend(samples)
    conversion.problems.extend(problems)
    stdout.print(f"cut {len(samples):,} of {len(conversion.regions):,} regions into {escape(str(crop_dir))}")


def print_problems(conversion: Conversion) -> None:
    """A count per problem kind and the first few problems, on stderr."""
    if not conversion.problems:
        return
    stderr.print(f"problems in {escape(str(conversion.source))}:")
    table = Table()
    table.add_column("problem")
    table.add_column("count", justify="right")
    table.add_column("effect")
    kinds = {p.kind: p.dropped for p in conversion.problems}
    for kind, count in conversion.counts().items():
        table.add_row(escape(kind), f"{count:,}", "sample dropped" if kinds[kind] else "note")
    stderr.print(table)
    for problem in conversion.problems[:MAX_PROBLEMS_SHOWN]:
        print_warning(f"{problem.kind}: {problem}")
    hidden = len(conversion.problems) - MAX_PROBLEMS_SHOWN
    if hidden > 0:
        stderr.print(f"… and {hidden:,} more")


def split_command(
    gt: Path = typer.Argument(
        ...,
        metavar="GT",
        help="A gt.txt (path<TAB>label) or labels.txt to split.",
        exists=True,
        dir_okay=False,
    ),
    output_dir: Path = typer.Option(
        ...,
        "--output",
        "-o",
        help="Folder for train.txt, val.txt, test.txt.",
        callback=_validate.output_folder,
    ),
    ratios: str = typer.Option(
        "0.8,0.1,0.1",
        "--ratios",
        metavar="R,R[,R]",
        help="2 or 3 shares above 0 adding up to 1: train, val[, test] (kocr train's --ratios follow the "
        "same rule).",
        callback=_validate.split_ratios,
    ),
    seed: int = typer.Option(42, "--seed", min=0, help="Same seed and same samples give the same split."),
    image_root: Path | None = typer.Option(
        None,
        "--image-root",
        help="Folder the image paths are relative to (default: GT's folder).",
        exists=True,
        file_okay=False,
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace existing split files."),
) -> None:
    """Split labels into train/val/test gt files, deterministically; paths are rewritten for OUTPUT.

    All lines of one image go to the same part; an empty part is an error.
    """
    from kocr.data.labels.convert import read_label_samples
    from kocr.data.labels.duplicates import find_duplicates
    from kocr.data.labels.split import split_samples
    from kocr.data.labels.writer import write_gt
    from kocr.errors import KocrError

    parsed = _validate.shares(ratios, counts=(2, 3))
    names = _split_names(len(parsed))
    targets = [output_dir / f"{name}.txt" for name in names]
    existing = [str(t) for t in targets if t.exists()]
    if existing and not overwrite:
        raise KocrError(f"{', '.join(existing)} already exist(s); pass --overwrite to replace")
    # Splitting only partitions: keep jamo labels (convert/lmdb decide about those), skip no image check.
    conversion = read_label_samples(gt, image_root=image_root, check_images=False, keep_jamo=True)
    _, repeats = find_duplicates(conversion.samples, drop=False)
    conversion.problems.extend(repeats)
    print_problems(conversion)
    if repeats:
        print_warning(
            f"{len(repeats):,} lines repeat an image listed before: each image's lines go to one part"
        )
    if not conversion.samples:
        raise KocrError(f"{gt}: no usable samples to split")
    parts = split_samples(conversion.samples, parsed, seed=seed)
    empty = [name for name, part in zip(names, parts, strict=True) if not part]
    if empty:
        raise KocrError(
            f"{gt}: {len(conversion.samples):,} samples are too few for --ratios {ratios}: "
            f"{', '.join(empty)} would be empty; nothing written"
        )
    table = Table(title=f"split of {escape(str(gt))} (seed {seed})", title_justify="left")
    table.add_column("part")
    table.add_column("samples", justify="right")
    table.add_column("file")
    for name, target, part in zip(names, targets, parts, strict=True):
        write_gt(target, part, overwrite=overwrite)
        table.add_row(name, f"{len(part):,}", escape(str(target)))
    stdout.print(table)


def _split_names(count: int) -> list[str]:
    return ["train", "val", "test"][:count]
