"""What ``kocr predict`` and ``kocr eval`` share on how a model reads: the options for input normalisation
(:mod:`kocr.data.line_normalize`), the decoder (:mod:`kocr.decoding`) and the engine that runs the model
(:mod:`kocr.load`), and loading the recogniser they describe."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from kocr.commands import _validate
from kocr.data import DEFAULT_MAX_PIXELS

SAVED_MODEL = typer.Option(
    "default",
    "--saved-model",
    "-m",
    help="Checkpoint to use: 'default' (bundled), a .pt/.pth file, or an exported .onnx file.",
    callback=_validate.checkpoint,
)
CHARSET = typer.Option(
    None,
    "--charset",
    "-c",
    help="Charset of a clovaai checkpoint (kocr checkpoints carry theirs).",
    callback=_validate.charset,
)
NORMALIZE = typer.Option(
    None,
    "--normalize/--no-normalize",
    help="Trim each line to its text and make it dark-on-light before reading it, or not "
    "\\[default: as the model was trained].",
    show_default=False,
)
DECODER = typer.Option(
    "auto",
    "--decoder",
    callback=_validate.choice("auto", "greedy", "beam", metavar="DECODER"),
    help="greedy, beam (CTC prefix beam search), or auto: beam with the model's language model when it "
    "has one (the bundled model does), else greedy.",
)
LM = typer.Option(
    "auto",
    "--lm",
    metavar="FILE",
    callback=_validate.lm_file,
    help="Character language model from `kocr lm build` for beam search; 'auto' = the .lm file next to "
    "the model, 'none' = no LM.",
)
ENGINE = typer.Option(
    "auto",
    "--engine",
    callback=_validate.choice("auto", "torch", "onnxruntime", metavar="ENGINE"),
    help="What runs the model: torch, onnxruntime (exports the checkpoint once, into the cache), or auto: "
    "onnxruntime on the CPU when the checkpoint has an export at hand (the bundled model does), else torch.",
)
LINE_FINDER = typer.Option(
    "auto",
    "--line-finder",
    callback=_validate.choice("auto", "classical", "ppocr", "db", metavar="FINDER"),
    help="What finds the text lines on a page: auto (classical, and a page that then reads unsurely is "
    "found and read again by db, keeping the surer reading), classical (binarisation and connected "
    "components, no model), db (kocr's own detector, bundled; kocr detector train makes more) or ppocr "
    "(PaddleOCR's PP-OCRv4 detector; needs the ppocr extra).",
)

PAGES_AT_ONCE = typer.Option(
    2,
    "--pages-at-once",
    min=1,
    help="Pages read at the same time, each in its own thread: 2 keeps two cores busy; 1 reads one page "
    "after another and holds less in memory.",
)


def _apply_max_pixels(limit: int) -> int:
    """The pixel limit is one process-wide setting (:func:`kocr.data.images.set_max_pixels`)."""
    from kocr.data.images import set_max_pixels  # numpy and PIL: not at `kocr --help`

    set_max_pixels(limit)
    return limit


MAX_PIXELS = typer.Option(
    DEFAULT_MAX_PIXELS,
    "--max-pixels",
    min=0,
    callback=_apply_max_pixels,
    help="Images with more pixels than this are reported and skipped, not decoded (decompression bombs); "
    "the default reads a 600 dpi A2 scan (140 MP). Raise it to read bigger scans on purpose; 0 = no limit.",
)


DETECTOR = typer.Option(
    None,
    "--detector",
    help="With --line-finder db or auto: a detector checkpoint from kocr detector train (default: the "
    "bundled one).",
    exists=True,
    dir_okay=False,
)


def page_reading(name: str, detector: Path | None, pages_at_once: int) -> dict[str, Any]:
    """The page reader's options for ``--line-finder``, ``--detector`` and ``--pages-at-once``: its
    ``finder`` and ``second_finder`` (both None: the default pair, classical then db, each made when a
    page needs it). The process is readied for reading pages (:mod:`kocr.runtime.memory`)."""
    from kocr.runtime.memory import ready_for_pages

    ready_for_pages()  # pages read at once on threads: kocr.runtime.memory says why
    if name == "auto" and detector is None:
        return {"finder": None, "second_finder": None, "pages_at_once": pages_at_once}
    from kocr.pages.finders import make_finder

    if name == "auto":
        finders = {"finder": make_finder("classical"), "second_finder": make_finder("db", model=detector)}
    else:
        finders = {"finder": make_finder(name, model=detector) if name == "db" else make_finder(name)}
    return {**finders, "pages_at_once": pages_at_once}


BEAM_WIDTH = typer.Option(
    None,
    "--beam-width",
    metavar="N",
    callback=_validate.decoding_setting("beam_width"),
    help=f"Prefixes kept per frame, {_validate.decoding_range('beam_width')} (default: the LM file's, "
    "else 8).",
)
LM_WEIGHT = typer.Option(
    None,
    "--lm-weight",
    metavar="X",
    callback=_validate.decoding_setting("lm_weight"),
    help=f"Weight of the LM's log-probability, {_validate.decoding_range('lm_weight')} (default: the LM "
    "file's, else 0.5).",
)
LENGTH_BONUS = typer.Option(
    None,
    "--length-bonus",
    metavar="X",
    callback=_validate.decoding_setting("length_bonus"),
    help=f"Score added per character read, {_validate.decoding_range('length_bonus')} (default: the LM "
    "file's, else 2; 0 without LM).",
)


def decoder_kwargs(
    decoder: str, lm: str, beam_width: int | None, lm_weight: float | None, length_bonus: float | None
) -> dict[str, Any]:
    """The keyword arguments of :func:`kocr.load_recognizer` for the decoder options."""
    return {
        "decoder": decoder,
        "lm": lm,
        "beam_width": beam_width,
        "lm_weight": lm_weight,
        "length_bonus": length_bonus,
    }


def describe(info: dict[str, Any]) -> str:
    """One line for --verbose: ``decoder: beam (beam width 8, lm default.lm, order 6, ...)``."""
    details = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in info.items() if k != "decoder")
    return f"decoder: {info['decoder']}" + (f" ({details})" if details else "")


def open_recognizer(
    saved_model: str,
    *,
    charset: str | None,
    device: str,
    batch_size: int,
    normalize: bool | None,
    engine: str,
    decoding: dict[str, Any],
    onnx: Path | None = None,
) -> Any:
    """The recogniser the options describe: ``--onnx FILE`` run alone, or ``--saved-model`` (a checkpoint,
    the bundled ``default``, or an ``.onnx`` file), through :func:`kocr.load_recognizer`."""
    from kocr.load import load_exported, load_recognizer

    if onnx is not None:
        return load_exported(onnx, device=device, batch_size=batch_size, normalize=normalize, **decoding)
    return load_recognizer(
        saved_model,
        device=device,
        batch_size=batch_size,
        charset=charset,
        normalize=normalize,
        engine=engine,
        **decoding,
    )
