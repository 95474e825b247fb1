"""``kocr export``: write a checkpoint as a self-contained ONNX model, checked against PyTorch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from kocr.commands import _validate
from kocr.commands._console import print_warning, stderr, stdout

FORMATS = ("onnx",)


def register(app: typer.Typer) -> None:
    app.command("export")(export)


def export(
    saved_model: str = typer.Option(
        "default",
        "--saved-model",
        "-m",
        metavar="CHECKPOINT",
        help="Checkpoint to export: 'default' (bundled) or a .pt/.pth file.",
        callback=_validate.checkpoint,
    ),
    output: Path = typer.Option(
        ...,
        "--output",
        "-o",
        metavar="MODEL.onnx",
        help="The .onnx file to write.",
        callback=_validate.output_file,
    ),
    export_format: str = typer.Option(
        "onnx",
        "--format",
        "-f",
        metavar="FORMAT",
        help="Export format (only 'onnx' for now).",
        callback=_validate.choice(*FORMATS),
    ),
    opset: int = typer.Option(
        17,
        "--opset",
        min=7,
        max=20,
        metavar="N",
        help="ONNX opset, 7-20: 16-20 for TPS models, 14-20 for PARSeq.",
    ),
    charset: str | None = typer.Option(
        None,
        "--charset",
        "-c",
        metavar="CHARSET",
        help="Charset of a clovaai checkpoint (kocr checkpoints carry theirs).",
        callback=_validate.charset,
    ),
    check: bool = typer.Option(
        True, "--check/--no-check", help="Compare ONNX Runtime's logits with PyTorch's before writing."
    ),
    samples: list[str] = typer.Option(
        [],
        "--samples",
        metavar="IMAGES",
        help="Images, folders or globs to run the check on (default: random inputs).",
    ),
    tolerance: float | None = typer.Option(
        None,
        "--tolerance",
        metavar="T",
        callback=_validate.non_negative_float,
        help="Largest logit difference allowed \\[default: 1e-3; 5e-3 for TPS, whose resampling amplifies "
        "rounding].",
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace --output if it exists."),
) -> None:
    """Export a model to ONNX for onnxruntime (then: kocr predict --onnx model.onnx ...).

    The file carries the charset, preprocessing and decoding, so it is all a deployment needs.
    """
    from kocr.errors import KocrError
    from kocr.export import export_onnx

    if export_format.lower() not in FORMATS:
        raise KocrError(f"--format must be one of {', '.join(FORMATS)}, not {export_format!r}")
    sample_files = _readable_samples(samples) if samples else None
    with stderr.status(f"exporting {escape(saved_model)} to ONNX (opset {opset})"):
        report = export_onnx(
            saved_model,
            output,
            opset=opset,
            sample_images=sample_files,
            check=check,
            tolerance=tolerance,
            overwrite=overwrite,
            charset=charset,
        )

    def shape(dims: tuple[int | str, ...]) -> str:
        return escape("[" + ", ".join(str(d) for d in dims) + "]")

    table = Table(show_header=False, show_edge=False, box=None, padding=(0, 2, 0, 0))
    table.add_row(
        "wrote", f"{escape(str(report.output))} ({report.size_bytes / 1e6:.1f} MB, opset {report.opset})"
    )
    table.add_row("input", f"images {shape(report.input_shape)} float32 in [-1, 1]")
    table.add_row("output", f"logits {shape(report.output_shape)} ({report.decoding} decoding)")
    table.add_row(
        "dynamic axes",
        "; ".join(f"{name}: {', '.join(axes.values())}" for name, axes in report.dynamic_axes.items()),
    )
    if report.max_abs_diff is None:
        table.add_row("parity", "not checked (--no-check)")
    else:
        widths = sorted({s[-1] for s in report.parity_shapes})
        batches = sorted({s[0] for s in report.parity_shapes})
        table.add_row(
            "parity",
            f"max abs diff {report.max_abs_diff:.2e} (tolerance {report.tolerance:g}) over "
            f"{report.parity_images} {'sample images' if sample_files else 'random inputs'} in "
            f"{len(report.parity_shapes)} batches "
            f"(batch sizes {', '.join(map(str, batches))}; widths {', '.join(map(str, widths))})",
        )
    stdout.print(table)


def _readable_samples(samples: list[str]) -> list[Any]:
    """The --samples images, decoded; unreadable or missing ones are reported and skipped, as predict
    does. None readable is an error: the parity check would run on nothing."""
    from kocr.data.images import iter_image_files, load_image
    from kocr.errors import KocrError

    skipped: list[KocrError] = []
    images = []
    for path, _ in iter_image_files(samples, on_missing=skipped.append):
        try:
            images.append(load_image(path))
        except KocrError as exc:
            skipped.append(exc)
    for error in skipped:
        print_warning(f"skipped: {error}")
    if not images:
        found = f"; {len(skipped):,} could not be read" if skipped else ""
        raise KocrError(f"--samples: no readable images in {', '.join(samples)}{found}")
    return images
