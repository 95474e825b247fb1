"""``kocr predict``: recognise text-line images with the bundled model or a checkpoint."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from kocr.commands import _reading, _validate
from kocr.commands._console import print_warning, setup_logging, shown, stderr, stdout, task_progress


def register(app: typer.Typer) -> None:
    app.command("predict")(predict)


def predict(
    paths: list[str] = typer.Argument(
        ..., help="Images, folders of images, or glob patterns ('scans/*.png')."
    ),
    recursive: bool = typer.Option(
        False,
        "--recursive",
        "-r",
        help="Also read images in subfolders, symbolic links to folders followed (each folder read once).",
    ),
    saved_model: str = _reading.SAVED_MODEL,
    charset: str | None = _reading.CHARSET,
    output: Path | None = typer.Option(
        None,
        "--output",
        "-o",
        help="Write results to a file instead of a table: .tsv (plain, as test_log.txt: a tab, newline or "
        "backslash in a field written \\t, \\n, \\\\), .csv (RFC 4180 quoting), .json or .jsonl.",
        callback=_validate.output_file,
    ),
    layout: str = typer.Option(
        "auto",
        "--layout",
        callback=_validate.choice("auto", "page", "line", metavar="LAYOUT"),
        help="line: each image is one text line; page: find the lines on each image, read them in reading "
        "order; auto: line crops (at most 100 px tall, or 4x as wide as tall) as lines, anything else as "
        "a page.",
    ),
    line_finder: str = _reading.LINE_FINDER,
    detector: Path | None = _reading.DETECTOR,
    pages_at_once: int = _reading.PAGES_AT_ONCE,
    txt_dir: Path | None = typer.Option(
        None,
        "--txt-dir",
        help="Also write one UTF-8 NAME.txt per image into this folder (a page: its lines, one per line).",
        file_okay=False,
        callback=_validate.output_folder,
    ),
    overlay: Path | None = typer.Option(
        None,
        "--overlay",
        help="Also write a picture of each image into this folder (NAME.overlay.jpg): a page with its "
        "line boxes numbered in reading order beside the text read in each; a line with its text under it.",
        file_okay=False,
        callback=_validate.output_folder,
    ),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace --output and files in --txt-dir and --overlay if they exist."
    ),
    batch_size: int = typer.Option(32, min=1, help="Images per forward pass."),
    device: str = typer.Option("auto", help="auto, cpu, cuda or cuda:N.", callback=_validate.device),
    onnx: Path | None = typer.Option(
        None,
        "--onnx",
        help="Run an exported ONNX model with onnxruntime (on --device: cuda needs onnxruntime-gpu).",
        exists=True,
        dir_okay=False,
    ),
    normalize: bool | None = _reading.NORMALIZE,
    decoder: str = _reading.DECODER,
    lm: str = _reading.LM,
    beam_width: int | None = _reading.BEAM_WIDTH,
    lm_weight: float | None = _reading.LM_WEIGHT,
    length_bonus: float | None = _reading.LENGTH_BONUS,
    engine: str = _reading.ENGINE,
    max_pixels: int = _reading.MAX_PIXELS,
    verbose: bool = typer.Option(
        False,
        "--verbose",
        help="Say which model, input normalisation and decoder are used (on stderr).",
    ),
) -> None:
    """Recognise the text in images of text lines or whole pages.

    Pages (--layout page, or auto for anything not shaped like a line crop) are read line by line in
    reading order; a page's text is its lines joined by newlines, and .json/.jsonl records carry each
    line's box (four corners in the page's pixels), text and confidence.

    Unreadable and missing files are reported and skipped; the exit code is 1 when no image could be read.

    With several PATHS, results name files by their path as given (twoA/x.png, twoB/x.png).
    """
    from kocr.data.images import iter_image_files
    from kocr.errors import KocrError
    from kocr.runtime.files import predict_files
    from kocr.runtime.writers import OUTPUT_FORMATS, write_predictions, write_text_files

    setup_logging()  # the library's warnings (an unusable ONNX twin, ...) as `warning:` lines
    if output is not None:
        if output.suffix.lower() not in OUTPUT_FORMATS:
            raise KocrError(f"--output must end in {', '.join(OUTPUT_FORMATS)}, not {output.name!r}")
        if output.exists() and not overwrite:
            raise KocrError(f"{output} exists; pass --overwrite to replace it")
    failures = 0

    def skipped(error: KocrError) -> None:
        nonlocal failures
        failures += 1
        print_warning(f"skipped: {error}")

    files = iter_image_files(paths, recursive=recursive, on_missing=skipped)
    missing = failures
    if not files and not failures:
        raise KocrError(
            f"no images found in {', '.join(paths)}" + ("" if recursive else " (subfolders need -r)")
        )
    if not files:
        print_warning(f"none of the {failures:,} paths given exists")
        raise typer.Exit(1)
    if txt_dir is not None and not overwrite:  # before any reading: a long run must not fail at its end
        from kocr.runtime.writers import text_file_names

        existing = [t for t in text_file_names([name for _, name in files]) if (txt_dir / t).exists()]
        if existing:
            raise KocrError(f"{txt_dir / existing[0]} exists; pass --overwrite to replace files in --txt-dir")
    page_options = _reading.page_reading(line_finder, detector, pages_at_once) if layout != "line" else {}
    overlays = None
    if overlay is not None:  # before any reading too
        from kocr.report.overlay import OverlayWriter

        overlays = OverlayWriter(overlay, overwrite=overwrite)
        overlays.check_names([name for _, name in files])
    options = _reading.decoder_kwargs(decoder, lm, beam_width, lm_weight, length_bonus)
    recognizer = _reading.open_recognizer(
        saved_model, charset=charset, device=device, batch_size=batch_size, normalize=normalize,
        engine=engine, decoding=options, onnx=onnx,
    )  # fmt: skip
    reader = recognizer
    if layout != "line":
        from kocr.pages.reader import PageReader

        reader = PageReader(recognizer, layout=layout, **page_options)
    setup = recognizer.describe()
    decoding = recognizer.describe_decoder()
    if verbose:
        origin = "the model's setting" if normalize is None else f"--{'' if normalize else 'no-'}normalize"
        stderr.print(f"model: {escape(str(recognizer.source))} (engine: {setup['engine']})")
        stderr.print(f"input normalisation ({origin}): {setup['normalization']}")
        stderr.print(escape(_reading.describe(decoding)))

    with _progress(len(files)) as progress:
        task = progress.add_task("predict", total=len(files))
        advance = functools.partial(progress.advance, task)
        rows = list(predict_files(reader, files, on_skip=skipped, on_chunk=advance))
    for name, _, _, *page in rows:  # what a page's reader noticed (text too small to read well, ...)
        for note in page[0].notes if page and page[0] is not None else ():
            print_warning(f"{name}: {note}")
    if failures:
        print_warning(f"{failures:,} of {len(files) + missing:,} files could not be read")
    if not rows:  # nothing to report: no empty table, no empty --output
        print_warning("no image could be read" + (f"; {output} not written" if output is not None else ""))
        raise typer.Exit(1)
    if txt_dir is not None:
        written = write_text_files(txt_dir, rows, overwrite=overwrite)
        stderr.print(f"wrote {len(written):,} text files to {escape(str(txt_dir))}")
    if overlays is not None:
        _write_overlays(overlays, files, rows)
    if output is not None:
        metadata = {
            "model": str(recognizer.source),
            "engine": setup["engine"],
            "normalize": setup["normalize"],
            **decoding,
        }
        fields = {"normalize": setup["normalize"], "decoder": decoding["decoder"]}
        write_predictions(output, rows, metadata=metadata, fields=fields)
        stderr.print(f"wrote {len(rows):,} predictions to {escape(str(output))}")
    elif txt_dir is None:
        _print_table(rows)


def _write_overlays(overlays, files: Sequence[tuple], rows: Sequence[tuple]) -> None:
    """Each read image drawn again with what was read (the images are loaded once more, one at a time)."""
    from kocr.data.images import load_image

    paths = {name: path for path, name in files}
    for name, text, _, *page in rows:
        image = load_image(paths[name])
        if page and page[0] is not None:
            overlays.page(name, image, page[0])
        else:
            overlays.line(name, image, text)
    stderr.print(f"wrote {len(overlays.written):,} overlays to {escape(str(overlays.folder))}")


def _progress(total: int) -> Progress:
    from kocr.runtime.files import CHUNK

    return task_progress("[bold]predict", disable=total < 2 * CHUNK)  # small jobs finish before a bar helps


def _print_table(rows: Sequence[tuple]) -> None:
    """Lines one per row; a page as one row holding its lines, with a rule between it and the next."""
    pages = any(len(row) > 3 and row[3] is not None for row in rows)
    table = Table(show_edge=False, show_lines=pages)
    table.add_column("image")
    table.add_column("text")
    table.add_column("confidence", justify="right")
    for name, text, confidence, *page in rows:
        lines = len(page[0].lines) if page and page[0] is not None else None
        label = (
            shown(name) if lines is None else f"{shown(name)}\n[dim]{lines:,} line{'s' * (lines != 1)}[/dim]"
        )
        table.add_row(label, escape(text), f"{confidence:.4f}")
    stdout.print(table)
