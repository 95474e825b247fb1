"""``kocr lm``: build a character n-gram language model for beam-search decoding, and inspect one."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from kocr.commands import _validate
from kocr.commands._console import print_warning, stderr, stdout

app = typer.Typer(help="Character language models for beam-search decoding (--decoder beam --lm FILE).")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="lm")


@app.command("build")
def build(
    corpus: list[Path] = typer.Argument(
        ..., help="UTF-8 text files, one paragraph or line per line.", exists=True, dir_okay=False
    ),
    output: Path = typer.Option(
        ...,
        "--output",
        "-o",
        help="Language model file to write (e.g. my.lm).",
        callback=_validate.output_file,
    ),
    order: int = typer.Option(6, "--order", min=2, max=12, help="n-gram order, in charset symbols."),
    min_count: int = typer.Option(
        1,
        "--min-count",
        min=1,
        help="Drop n-grams of order 3 and up seen fewer times (makes the file smaller).",
    ),
    charset: str = typer.Option(
        "ko-2350",
        "--charset",
        "-c",
        help="Charset preset or file of the models the LM will decode for.",
        callback=_validate.charset,
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace OUTPUT if it exists."),
    lm_weight: float | None = typer.Option(
        None,
        "--lm-weight",
        metavar="X",
        callback=_validate.decoding_setting("lm_weight"),
        help="Decoding default stored in the file (beam search reads it), "
        f"{_validate.decoding_range('lm_weight')}.",
    ),
    length_bonus: float | None = typer.Option(
        None,
        "--length-bonus",
        metavar="X",
        callback=_validate.decoding_setting("length_bonus"),
        help=f"Decoding default stored in the file, {_validate.decoding_range('length_bonus')}.",
    ),
    beam_width: int | None = typer.Option(
        None,
        "--beam-width",
        metavar="N",
        callback=_validate.decoding_setting("beam_width"),
        help=f"Decoding default stored in the file, {_validate.decoding_range('beam_width')}.",
    ),
    confidence: str | None = typer.Option(
        None,
        "--confidence",
        metavar="SCALE,SHIFT",
        help="Platt scaling of the beam confidence fitted for a model (python -m benchmarks.tune_lm_decoder "
        "--calibrate), stored in the file; default 0.55,0.30.",
        callback=_validate.confidence_scaling,
    ),
) -> None:
    """Count a corpus into a modified Kneser–Ney character n-gram model.

    Characters the charset lacks become <unk>; the model scores the charset's symbols, the space
    included, and the end of a line.
    """
    from kocr.charsets import Charset
    from kocr.errors import KocrError
    from kocr.lm.build import build_lm, encode_lines, read_corpus

    if output.exists() and not overwrite:
        raise KocrError(f"{output} exists; pass --overwrite to replace it")
    chosen = Charset.load(charset)
    with stderr.status("reading the corpus") as status:
        lines, skipped = read_corpus(corpus, warn=print_warning)
        encoded, unknown = encode_lines(lines, chosen)
        if not encoded:
            raise KocrError(f"no text in {', '.join(map(str, corpus))}")
        tokens = sum(len(line) for line in encoded)
        header: dict = {"corpus": [p.name for p in corpus], "lines": len(encoded), "tokens": tokens}
        chosen_defaults = {"lm_weight": lm_weight, "length_bonus": length_bonus, "beam_width": beam_width}
        if confidence is not None:
            scale, shift = (float(x) for x in confidence.split(","))
            chosen_defaults.update(confidence_scale=scale, confidence_shift=shift)
        if any(v is not None for v in chosen_defaults.values()):
            header["decoder"] = {k: v for k, v in chosen_defaults.items() if v is not None}
        model = build_lm(
            encoded, chosen, order=order, min_count=min_count, header=header, progress=status.update
        )
    size = model.save(output)
    stderr.print(
        f"wrote {escape(str(output))}: order {model.order}, {sum(model.num_ngrams):,} n-grams, "
        f"{size / 1e6:.1f} MB, from {len(encoded):,} lines ({tokens:,} symbols"
        + (f", {unknown:,} outside the charset" if unknown else "")
        + (f"; {skipped:,} lines skipped" if skipped else "")
        + ")"
    )


@app.command("info")
def info(
    model: Path = typer.Argument(..., help="Language model file.", exists=True, dir_okay=False),
    text: list[Path] = typer.Option(
        [], "--text", help="Also report the perplexity on these text files.", exists=True, dir_okay=False
    ),
) -> None:
    """Order, size, charset and n-gram counts of a language model (and its perplexity on --text)."""
    from kocr.charsets import Charset
    from kocr.errors import InputFileError
    from kocr.lm.build import encode_lines, read_corpus
    from kocr.lm.model import CharLM

    lm = CharLM.load(model)
    table = Table(show_header=False, show_edge=False)
    header = lm.header
    table.add_row("file", f"{escape(str(model))} ({model.stat().st_size / 1e6:.2f} MB)")
    table.add_row("order", str(lm.order))
    table.add_row("smoothing", str(header.get("smoothing", "?")))
    table.add_row("charset", f"{header.get('charset') or '?'} ({lm.vocab:,} symbols, {lm.mode} mode)")
    table.add_row("n-grams", " / ".join(f"{n:,}" for n in lm.num_ngrams))
    if header.get("corpus"):
        table.add_row("corpus", f"{', '.join(header['corpus'])}: {header.get('tokens', 0):,} symbols")
    if header.get("decoder"):
        table.add_row("decoder defaults", ", ".join(f"{k} {v}" for k, v in header["decoder"].items()))
    if text:
        encoded = []
        charset = Charset(lm.symbols, mode=lm.mode)  # type: ignore[arg-type]
        for path in text:  # every line counts: a line not UTF-8, or a file with none, is an error
            lines, _ = read_corpus([path], strict=True)
            if not lines:
                raise InputFileError(path, "no text in it to measure the perplexity on")
            encoded += encode_lines(lines, charset)[0]
        table.add_row("perplexity", f"{lm.perplexity(encoded):.2f} per symbol on {sum(map(len, encoded)):,}")
    stdout.print(table)
