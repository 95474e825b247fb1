"""``kocr data synth`` (render synthetic Korean text lines) and ``kocr data fonts`` (what fonts draw)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from kocr.commands import _validate
from kocr.commands._console import print_warning, stderr, stdout, task_progress

if TYPE_CHECKING:
    from kocr.data.synth.fonts import FontCoverage, FontFace
    from kocr.data.synth.generate import SynthReport
    from kocr.data.synth.page_set import PageSetReport
    from kocr.data.synth.plan import Plan

PREVIEW_LINES = 40


def register(data_app: typer.Typer) -> None:
    data_app.command("synth")(synth_command)
    data_app.command("fonts")(fonts_command)


def _faces(
    fonts: list[Path], font_files: list[Path], system: bool | None, handwriting: list[str]
) -> list[FontFace]:
    from kocr.data.synth.fonts import DEFAULT_HANDWRITING_PATTERNS, discover_fonts

    patterns = tuple(handwriting) or DEFAULT_HANDWRITING_PATTERNS
    return discover_fonts(fonts, font_files, system=system, packaged=system, handwriting_patterns=patterns)


FONTS_HELP = "Folder searched recursively for .ttf/.otf/.ttc fonts (repeatable)."
FONT_HELP = "A font file (repeatable)."
SYSTEM_HELP = (
    "Also use fontconfig's Korean fonts and the packaged Noto fonts (default: only when no --fonts/--font)."
)
NO_SYSTEM_HELP = "Never use fontconfig's or the packaged fonts."
# The font options synth and fonts share.
FONTS_OPTION = typer.Option([], "--fonts", metavar="DIR", help=FONTS_HELP, exists=True, file_okay=False)
FONT_OPTION = typer.Option([], "--font", metavar="FILE", help=FONT_HELP, exists=True, dir_okay=False)
SYSTEM_FONTS_OPTION = typer.Option(False, "--system-fonts", help=SYSTEM_HELP)
NO_SYSTEM_FONTS_OPTION = typer.Option(False, "--no-system-fonts", help=NO_SYSTEM_HELP)


def _system_fonts(use: bool, refuse: bool) -> bool | None:
    """--system-fonts / --no-system-fonts (two plain flags: a --x/--no-x pair costs the help a column;
    both at once is refused by kocr.commands._conflicts)."""
    return True if use else False if refuse else None


def parse_text_mix_lazily(spec: str) -> dict[str, float]:
    """--text-mix checked as the renderer will take it (names, numbers, no negative weight)."""
    from kocr.data.synth.texts import TextConfig, parse_text_mix

    return TextConfig(weights=parse_text_mix(spec)).weights


def parse_page_size_lazily(spec: str) -> tuple[int, int]:
    """--page-size checked as the page renderer will take it."""
    from kocr.data.synth.pages_config import parse_page_size

    return parse_page_size(spec)


def synth_command(
    ctx: typer.Context,
    output: Path = typer.Option(
        ...,
        "--output",
        "-o",
        metavar="OUT",
        help="LMDB folder to create (a folder with --format images, a page set with --pages).",
        callback=_validate.output_folder,
    ),
    num: int = typer.Option(1000, "--num", "-n", min=1, metavar="N", help="Lines to render."),
    pages: int | None = typer.Option(
        None,
        "--pages",
        min=1,
        metavar="N",
        help="Render N whole pages with their line boxes instead of lines: OUT becomes a page set.",
    ),
    page_size: str | None = typer.Option(
        None,
        "--page-size",
        metavar="WxH",
        callback=_validate.library_check(parse_page_size_lazily),
        help=(
            "With --pages: every page this size in pixels, e.g. 600x800 (default: A4 scans at 150-300 dpi, "
            "photos 1600x1200 to 4000x3000)."
        ),
    ),
    seed: int | None = typer.Option(
        None,
        "--seed",
        min=0,
        metavar="S",
        help="Same seed and fonts give byte-identical output (default 0, or the recipe's).",
    ),
    recipe: Path | None = typer.Option(
        None,
        "--config",
        metavar="TOML",
        help=(
            "Fonts, texts and renderer settings from a TOML recipe, which kocr train also renders on the "
            "fly (--train-data synth:FILE). It sets the fonts, texts and looks: the font, text and look "
            "options below (and --charset) are refused with it."
        ),
        exists=True,
        dir_okay=False,
    ),
    workers: int = typer.Option(
        min(2, os.cpu_count() or 1), "--workers", "-j", min=1, metavar="W", help="Rendering processes."
    ),
    charset: str = typer.Option(
        "ko-2350",
        "--charset",
        "-c",
        metavar="CHARSET",
        help="Charset preset or file the texts stay within.",
        callback=_validate.charset,
    ),
    fonts: list[Path] = FONTS_OPTION,
    font_files: list[Path] = FONT_OPTION,
    system_fonts: bool = SYSTEM_FONTS_OPTION,
    no_system_fonts: bool = NO_SYSTEM_FONTS_OPTION,
    corpus: list[Path] = typer.Option(
        [],
        "--corpus",
        metavar="FILE",
        help="UTF-8 text file: one sample per line or free text (about a third of the texts). Read "
        "strictly: a line that is not UTF-8, or a corpus with no usable line, is an error.",
        exists=True,
        dir_okay=False,
    ),
    text_mix: str = typer.Option(
        "",
        "--text-mix",
        metavar="KIND=W,...",
        callback=_validate.library_check(parse_text_mix_lazily),
        help=(
            "Reweight the text kinds: corpus (0.5), words (0.35), syllables (0.3), mixed (0.35), "
            "latin (0: Latin tokens among Korean words), prose (0: windows of --corpus paragraphs cut "
            "as lines cut prose, with numbering, middle dots, quotes), lookalike (0: prose with a third of "
            "its syllables swapped for look-alikes such as 눈/둔, 별/벌). "
            "Example: --text-mix latin=0.2,prose=1"
        ),
    ),
    handwriting: list[str] = typer.Option(
        [],
        "--handwriting-fonts",
        metavar="PATTERN",
        help="Pattern (fnmatch on file or family name) marking handwriting faces.",
    ),
    handwriting_ratio: float = typer.Option(
        0.35,
        "--handwriting-ratio",
        metavar="P",
        help="Share of handwriting lines (0 to 1); with --pages, of the pages written by hand.",
        callback=_validate.fraction,
    ),
    min_chars: int = typer.Option(1, "--min-chars", min=1, metavar="N", help="Shortest text, characters."),
    max_chars: int = typer.Option(
        25, "--max-chars", min=1, metavar="N", help="Longest text, characters (clovaai default: 25)."
    ),
    min_height: int = typer.Option(
        32, "--min-height", min=8, metavar="PX", help="Smallest output line height, px."
    ),
    max_height: int = typer.Option(
        64, "--max-height", min=8, metavar="PX", help="Largest output line height, px."
    ),
    degrade: float = typer.Option(
        1.0,
        "--degrade",
        metavar="X",
        help=(
            "Scale of degradation probabilities; 0 = clean lines (with --pages: clean, straight scans, "
            "no photos)."
        ),
        callback=_validate.non_negative_float,
    ),
    rgb: bool = typer.Option(False, "--rgb", help="Colour images (default: greyscale)."),
    fmt: str = typer.Option(
        "lmdb",
        "--format",
        "-f",
        metavar="FORMAT",
        help="lmdb, or images (OUT/images/*.png + OUT/gt.txt).",
        callback=_validate.choice("lmdb", "images"),
    ),
    preview: Path | None = typer.Option(
        None,
        "--preview",
        metavar="SHEET.png",
        help="Write a contact sheet of the first 40 lines (.png or .jpg); outside OUT (which --overwrite "
        "replaces whole), and an existing file only with --overwrite.",
        callback=_validate.image_file,
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace OUTPUT if it is a previous output."),
) -> None:
    """Render synthetic Korean text lines (print and handwriting fonts, degraded) into an LMDB, or whole
    pages with --pages.

    With --pages N, OUT is a page set: page-000001.png (.jpg for photos and scans stored as JPEG),
    page-000001.gt.txt (the page's lines in reading order, one per line), page-000001.lines.json (width,
    height, rotation: the clockwise turn the page was given, and lines: each line's text and box, four
    x,y corners in the image's pixels from the text's top left, clockwise) and manifest.json (seed,
    config, fonts), written last. Pages are prose, two columns, headings with sections, lists, ruled
    notebook handwriting and forms (printed labels, handwritten answers), scanned or photographed.
    """

    # Options that contradict each other (--config with the font/text/look options, --pages with the
    # line-only ones, --page-size without --pages) are refused first: kocr.commands._conflicts.
    if pages is not None:
        faces = _faces(fonts, font_files, _system_fonts(system_fonts, no_system_fonts), handwriting)
        _check_handwriting_faces(ctx, handwriting_ratio, faces)
        _synth_pages(
            pages,
            output,
            page_size=parse_page_size_lazily(page_size) if page_size else None,
            seed=seed or 0,
            workers=workers,
            charset=charset,
            faces=faces,
            corpus=corpus,
            handwriting_ratio=handwriting_ratio if _given(ctx, "handwriting_ratio") else None,
            degrade=degrade,
            overwrite=overwrite,
        )
        return

    from kocr.data.synth.config import Degradations, SynthConfig
    from kocr.data.synth.generate import generate
    from kocr.data.synth.plan import plan
    from kocr.data.synth.texts import TextConfig, parse_text_mix

    for low, high, what in ((min_chars, max_chars, "chars"), (min_height, max_height, "height")):
        if low > high:
            raise typer.BadParameter(
                f"--min-{what} {low} is above --max-{what} {high}", param_hint=f"--min-{what}"
            )
    system = _system_fonts(system_fonts, no_system_fonts)
    if preview is not None:
        _check_preview(preview, output, overwrite)
    _check_output(output, fmt, overwrite)
    if recipe is not None:
        from kocr.data.synth.recipes import load_recipe

        config = load_recipe(recipe, seed=seed).config
    else:
        faces = _faces(fonts, font_files, system, handwriting)
        _check_handwriting_faces(ctx, handwriting_ratio, faces)
        config = SynthConfig(
            charset=charset,
            fonts=tuple(faces),
            corpus=tuple(str(p) for p in corpus),
            text=TextConfig(min_chars=min_chars, max_chars=max_chars, weights=parse_text_mix(text_mix)),
            seed=seed or 0,
            height=(min_height, max_height),
            handwriting_ratio=handwriting_ratio,
            mode="RGB" if rgb else "L",
            degradations=Degradations().scaled(degrade),
        )
    with stderr.status("checking which glyphs each font really draws (cached after the first run)"):
        the_plan = plan(config, workers=workers)
    with task_progress("rendering") as progress:
        task = progress.add_task("synth", total=num)
        report, kept = generate(
            config,
            num,
            output,
            format=fmt,  # type: ignore[arg-type]
            workers=workers,
            overwrite=overwrite,
            keep_first=PREVIEW_LINES if preview else 0,
            the_plan=the_plan,
            progress=lambda done, total: progress.update(task, completed=done),
        )
    _print_summary(report, the_plan)
    if preview is not None:
        _write_preview(preview, kept, the_plan)


def _given(ctx: typer.Context, name: str) -> bool:
    source = ctx.get_parameter_source(name)
    return source is not None and source.name in ("COMMANDLINE", "ENVIRONMENT", "PROMPT")


def _check_handwriting_faces(ctx: typer.Context, ratio: float, faces: list[FontFace]) -> None:
    """A --handwriting-ratio asked for with no handwriting face would render print only: refuse it."""
    if _given(ctx, "handwriting_ratio") and ratio > 0 and faces and not any(f.handwriting for f in faces):
        raise typer.BadParameter(
            f"{ratio:g} of the lines should be handwriting, but none of the {len(faces)} fonts is a "
            "handwriting face: mark them with --handwriting-fonts PATTERN",
            param_hint="--handwriting-ratio",
        )


def _synth_pages(
    count: int,
    output: Path,
    *,
    page_size: tuple[int, int] | None,
    seed: int,
    workers: int,
    charset: str,
    faces: list[FontFace],
    corpus: list[Path],
    handwriting_ratio: float | None,
    degrade: float,
    overwrite: bool,
) -> None:
    """``kocr data synth --pages``: a page set (kocr.data.synth.page_set)."""
    from kocr.data.synth.page_set import PageSetWriter, write_page_set
    from kocr.data.synth.pages import PageConfig, PageDegradations, plan_pages

    PageSetWriter(output, overwrite=overwrite).check()
    config = PageConfig(
        charset=charset,
        fonts=tuple(faces),
        corpus=tuple(str(p) for p in corpus),
        seed=seed,
        page_size=page_size,
        degradations=PageDegradations().scaled(degrade),
        photo_ratio=min(1.0, PageConfig.photo_ratio * degrade),  # photos are a degradation too
        **({} if handwriting_ratio is None else {"handwriting_ratio": handwriting_ratio}),
    )
    with stderr.status("checking which glyphs each font really draws (cached after the first run)"):
        the_plan = plan_pages(config, workers=workers)
    with task_progress("rendering pages") as progress:
        task = progress.add_task("pages", total=count)
        report = write_page_set(
            config,
            count,
            output,
            the_plan=the_plan,
            workers=workers,
            overwrite=overwrite,
            progress=lambda done, total: progress.update(task, completed=done),
        )
    _print_pages_summary(report, the_plan.hand)


def _print_pages_summary(report: PageSetReport, hand: tuple[FontCoverage, ...]) -> None:
    hand_names = {coverage.face.name for coverage in hand}
    table = Table(title="fonts used", title_justify="left")
    table.add_column("font")
    table.add_column("kind")
    table.add_column("lines", justify="right")
    for name, count in report.fonts.most_common():
        table.add_row(escape(name), "handwriting" if name in hand_names else "print", f"{count:,}")
    stdout.print(table)
    layouts = ", ".join(f"{kind} {count:,}" for kind, count in report.layouts.most_common())
    media = ", ".join(f"{count:,} {kind}{'s' * (count != 1)}" for kind, count in sorted(report.media.items()))
    stdout.print(
        f"wrote {report.pages:,} pages ({report.lines:,} lines) to {escape(str(report.output))}: {media}; "
        f"layouts: {layouts}; {report.pages / report.seconds if report.seconds else 0:,.1f} pages/s"
    )


def _check_preview(preview: Path, output: Path, overwrite: bool) -> None:
    """The contact sheet is a file of the user's: never replaced without --overwrite, and never inside
    OUT, which --overwrite replaces whole (a sheet there would be a file kocr did not make)."""
    from kocr.errors import OutputExistsError

    if Path(os.path.abspath(preview)).is_relative_to(os.path.abspath(output)):
        raise typer.BadParameter(
            f"{preview} lies inside --output {output}, which a later --overwrite replaces whole; write the "
            "preview beside it",
            param_hint="--preview",
        )
    if preview.exists() and not overwrite:
        raise OutputExistsError(preview)


def _check_output(output: Path, fmt: str, overwrite: bool) -> None:
    """Fail before the (slow) font check when the output cannot be written."""
    if fmt == "lmdb":
        from kocr.data.lmdb.writer import check_replaceable

        check_replaceable(output, overwrite)
    else:
        from kocr.data.synth.image_folder import ImageFolderWriter

        ImageFolderWriter(output, overwrite=overwrite).check()


def _print_summary(report: SynthReport, the_plan: Plan) -> None:
    table = Table(title="fonts used", title_justify="left")
    table.add_column("font")
    table.add_column("kind")
    table.add_column("lines", justify="right")
    hand = {face.name for face in the_plan.faces if face.handwriting}
    for name, count in report.font_counts.most_common():
        table.add_row(escape(name), "handwriting" if name in hand else "print", f"{count:,}")
    stdout.print(table)
    for name, drawable, requested in report.unusable_fonts:
        print_warning(f"font {name} not used: it draws only {drawable:,} of the {requested:,} characters")
    if report.undrawable:
        shown = " ".join(report.undrawable[:20]) + (" …" if len(report.undrawable) > 20 else "")
        print_warning(f"{len(report.undrawable):,} charset characters no usable font draws: {shown}")
    if report.corpus_rejected:
        print_warning(
            f"{report.corpus_rejected:,} corpus chunks skipped: characters outside the charset/fonts"
        )
    kinds = ", ".join(f"{kind} {count:,}" for kind, count in report.kind_counts.items())
    stdout.print(
        f"wrote {report.written:,} lines to {escape(str(report.output))} ({report.format}); "
        f"{report.skipped_no_font:,} texts skipped because no single font draws them; texts: {kinds}; "
        f"{report.lines_per_second:,.0f} lines/s"
    )


def _write_preview(path: Path, kept: list[tuple[bytes, str]], the_plan: Plan) -> None:
    from kocr.data.synth.preview import contact_sheet

    labels = "".join(label for _, label in kept)
    printed = [c for c in the_plan.coverages if not c.face.handwriting] or list(the_plan.coverages)
    label_font = next((c.face for c in printed if c.draws(labels)), printed[0].face)
    from kocr.fileio import atomic_save_image

    atomic_save_image(path, contact_sheet(kept, label_font))
    stdout.print(f"preview of the first {len(kept)} lines: {escape(str(path))}")


def fonts_command(
    fonts: list[Path] = FONTS_OPTION,
    font_files: list[Path] = FONT_OPTION,
    system_fonts: bool = SYSTEM_FONTS_OPTION,
    no_system_fonts: bool = NO_SYSTEM_FONTS_OPTION,
    charset: str = typer.Option(
        "ko",
        "--charset",
        "-c",
        metavar="CHARSET",
        help="Charset preset or file to check against.",
        callback=_validate.charset,
    ),
    handwriting: list[str] = typer.Option(
        [], "--handwriting-fonts", metavar="PATTERN", help="Pattern marking handwriting faces."
    ),
    workers: int = typer.Option(
        min(2, os.cpu_count() or 1), "--workers", "-j", min=1, metavar="W", help="Checking processes."
    ),
) -> None:
    """List fonts and how many charset characters each really draws (empty and .notdef glyphs excluded)."""
    from kocr.charsets import Charset
    from kocr.charsets.hangul import is_ks_x_1001, is_syllable
    from kocr.data.synth.fonts import font_coverages
    from kocr.data.synth.texts import allowed_characters
    from kocr.errors import KocrError

    chosen = Charset.load(charset)
    allowed = allowed_characters(chosen.symbols, chosen.covers)
    faces = _faces(fonts, font_files, _system_fonts(system_fonts, no_system_fonts), handwriting)
    if not faces:
        raise KocrError("no fonts found (pass --fonts DIR or --font FILE)")
    with stderr.status(
        f"rendering {len(allowed):,} characters in {len(faces)} faces (cached after the first run)"
    ):
        coverages = font_coverages(faces, allowed, workers=workers)
    ks_total = sum(1 for ch in allowed if is_syllable(ch) and is_ks_x_1001(ch))
    other_total = sum(1 for ch in allowed if is_syllable(ch) and not is_ks_x_1001(ch))
    table = Table(
        title=f"fonts × charset {escape(charset)} ({len(allowed):,} characters)", title_justify="left"
    )
    for column, justify in (
        ("font", "left"),
        ("file", "left"),
        ("kind", "left"),
        ("draws", "right"),
        (f"KS X 1001 syl. /{ks_total:,}", "right"),
        (f"other syl. /{other_total:,}", "right"),
        ("empty", "right"),
        (".notdef", "right"),
        ("shared", "right"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for cov in coverages:
        ks = sum(1 for ch in cov.drawable if is_syllable(ch) and is_ks_x_1001(ch))
        other = sum(1 for ch in cov.drawable if is_syllable(ch) and not is_ks_x_1001(ch))
        share = len(cov.drawable) / cov.requested if cov.requested else 0.0
        style = "" if share > 0.99 else "yellow" if share > 0.5 else "red"
        table.add_row(
            escape(cov.face.name),
            escape(cov.face.path.name),
            "handwriting" if cov.face.handwriting else "print",
            f"{len(cov.drawable):,} ({share:.0%})",
            f"{ks:,}",
            f"{other:,}",
            f"{cov.problems.get('EMPTY', 0):,}",
            f"{cov.problems.get('TOFU', 0):,}",
            f"{cov.problems.get('SHARED', 0):,}",
            style=style,
        )
    stdout.print(table)
    stdout.print(
        "empty = mapped but drawn without ink; .notdef = drawn as the missing-glyph box; shared = drawn "
        "identically to another character (e.g. '\\' drawn as '₩'). Such characters are never rendered "
        "with that font."
    )
