"""Synthetic whole pages with each text line's box and text, in reading order: training data for a line
finder and the pages of a dev page set.

A page (:func:`render_page`) is laid out on paper (:mod:`kocr.data.synth.pages_layout`: prose, two
columns, headings over their sections, lists, ruled notebook handwriting, forms with printed labels and
handwritten answers), drawn with the line renderer's own ink (:func:`kocr.data.synth.render.text_ink`),
then scanned or photographed (:mod:`kocr.data.synth.pages_render`: skew, blur, noise, uneven light,
JPEG; or a perspective photo on a desk) and sometimes turned a quarter, half or three quarters. Every
geometric step moves the boxes with the pixels, so each line's four corners are around its ink in the
final image.

Determinism: a page depends only on (config, index): its random choices come from
:func:`kocr.data.synth.render.sample_rng` and its texts from the text source reseeded with
``(seed, index)``, so any process can render any page.
"""

from __future__ import annotations

import io
import random
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from PIL import Image

from kocr.data.synth.config import SynthConfig
from kocr.data.synth.fonts import FontCoverage
from kocr.data.synth.pages_config import LAYOUT_NAMES, PAPERS, PageConfig, PageDegradations, parse_page_size
from kocr.data.synth.pages_documents import columns, listing, notebook, prose, sections
from kocr.data.synth.pages_forms import form
from kocr.data.synth.pages_geometry import apply
from kocr.data.synth.pages_layout import Layout, Sheet, TextSource, WordStream
from kocr.data.synth.pages_render import compose, frame_size, photograph, scan, scan_size, turn
from kocr.data.synth.plan import plan
from kocr.data.synth.render import sample_rng
from kocr.data.synth.texts import TextConfig
from kocr.errors import KocrError
from kocr.pages.types import Quad
from kocr.text import normalize

__all__ = [
    "LAYOUTS",
    "LAYOUT_NAMES",
    "PAPERS",
    "PageConfig",
    "PageDegradations",
    "PagePlan",
    "PageTruth",
    "SyntheticPage",
    "TextPool",
    "TextSource",
    "clean_config",
    "parse_page_size",
    "plan_pages",
    "render_page",
]

LAYOUTS: dict[str, Callable[[Sheet], Layout]] = {
    "prose": prose,
    "columns": columns,
    "sections": sections,
    "list": listing,
    "notebook": notebook,
    "form": form,
}


@dataclass(frozen=True)
class PageTruth:
    """One line of a synthetic page: its four corners around its ink (final pixels) and its text."""

    quad: Quad
    text: str


@dataclass
class SyntheticPage:
    """A rendered page: the image as stored (``jpeg`` holds the file when JPEG was drawn, and ``image``
    is its decoding), its lines in reading order and the turn (degrees clockwise) it was given."""

    image: Image.Image
    lines: list[PageTruth]
    rotation: int = 0
    layout: str = ""
    medium: str = "scan"  # or "photo"
    grey: bool = False
    jpeg: bytes | None = None
    fonts: dict[str, int] = field(default_factory=dict)  # face name -> lines

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    def encoded(self, png_compress_level: int = 6) -> tuple[bytes, str]:
        """The file's bytes and extension ('jpg' when JPEG was drawn, else 'png'; grey pages as L)."""
        if self.jpeg is not None:
            return self.jpeg, "jpg"
        buffer = io.BytesIO()
        image = self.image.convert("L") if self.grey else self.image
        image.save(buffer, format="PNG", compress_level=png_compress_level)
        return buffer.getvalue(), "png"


class TextPool:
    """Texts drawn at random from a fixed list (the dev page set's held-out texts)."""

    def __init__(self, texts: Sequence[str], seed: int = 0) -> None:
        self.texts = tuple(dict.fromkeys(t for t in (normalize(t) for t in texts) if t))
        if not self.texts:
            raise KocrError("a text pool needs at least one non-empty text")
        self._rng = random.Random(seed)

    def reseed(self, seed: int | Sequence[int]) -> None:
        self._rng.seed(seed if isinstance(seed, int) else "/".join(map(str, seed)))

    def next_text(self) -> str:
        return self._rng.choice(self.texts)


@dataclass(frozen=True)
class PagePlan:
    """The faces a run draws with (their coverage of the charset) and its text source."""

    printed: tuple[FontCoverage, ...]
    hand: tuple[FontCoverage, ...]
    texts: TextSource


def plan_pages(config: PageConfig, *, texts: TextSource | None = None, workers: int = 1) -> PagePlan:
    """Check which glyphs each face draws (cached on disk) and set up the texts: ``texts``, or kocr's
    text generator on the corpus (prose windows) or its word list, with some numbers and Latin."""
    weights = (
        {"prose": 1.0, "mixed": 0.15, "latin": 0.05, "words": 0.1}
        if config.corpus
        else {"words": 1.0, "mixed": 0.25, "latin": 0.08}
    )
    synth = SynthConfig(
        charset=config.charset,
        fonts=config.fonts,
        corpus=config.corpus,
        seed=config.seed,
        text=TextConfig(min_chars=6, max_chars=60, weights=weights),
    )
    the_plan = plan(synth, workers=workers)
    printed = tuple(c for c in the_plan.coverages if not c.face.handwriting)
    hand = tuple(c for c in the_plan.coverages if c.face.handwriting)
    return PagePlan(printed, hand, texts if texts is not None else the_plan.texts)


def _weighted(rng: np.random.Generator, weights: dict[str, float]) -> str:
    names = [name for name, w in weights.items() if w > 0]
    p = np.array([weights[name] for name in names], dtype=np.float64)
    return names[int(rng.choice(len(names), p=p / p.sum()))]


def _choose(rng: np.random.Generator, config: PageConfig, the_plan: PagePlan) -> tuple[str, str, bool]:
    """The page's layout, paper and whether its text is handwriting (forms mix both)."""
    layouts = dict(config.layouts)
    if not the_plan.hand:
        layouts["notebook"] = 0.0
    if not any(w > 0 for w in layouts.values()):
        layouts = {"prose": 1.0}
    layout = _weighted(rng, layouts)
    hand_page = layout == "notebook" or (
        layout != "form"
        and bool(the_plan.hand)
        and (not the_plan.printed or rng.random() < config.handwriting_ratio)
    )
    paper = _weighted(rng, config.papers)
    if paper in ("ruled", "grid"):
        if hand_page and layout in ("prose", "list"):
            layout = "notebook"  # handwriting on ruled paper sits on the rules
        elif layout != "notebook":
            paper = "off-white"
    return layout, paper, hand_page


def render_page(index: int, config: PageConfig, the_plan: PagePlan | None = None) -> SyntheticPage:
    """Page ``index`` (1-based) of a run: pass the plan when rendering many (planning checks fonts)."""
    the_plan = the_plan or plan_pages(config)
    if not the_plan.printed and not the_plan.hand:
        raise KocrError("no usable fonts for synthetic pages")
    rng = sample_rng(config.seed, index)
    the_plan.texts.reseed([config.seed, index])
    deg = config.degradations
    layout_kind, paper, hand_page = _choose(rng, config, the_plan)
    photo = rng.random() < config.photo_ratio
    if photo:
        frame = frame_size(rng, config.page_size)
        paper_height = frame[1] * rng.uniform(0.62, 0.88)
        paper_width = min(paper_height / 1.414, frame[0] * rng.uniform(0.7, 0.88))
        paper_size = (round(paper_width), round(paper_width * 1.414))
    else:
        paper_size = config.page_size or scan_size(rng)
    sheet = Sheet(
        width=paper_size[0],
        height=paper_size[1],
        rng=rng,
        stream=WordStream(the_plan.texts),
        printed=the_plan.printed,
        hand=the_plan.hand,
        hand_page=hand_page,
        paper=paper,
        labels=config.form_labels,
    )
    layout: Layout = LAYOUTS[layout_kind](sheet)
    image, paper_colour = compose(layout, sheet, rng, texture=rng.random() < deg.texture)
    grey, quality = False, None
    if photo:
        image, matrix = photograph(image, rng, deg, frame)
        quality = int(rng.integers(70, 96))
    else:
        image, matrix, grey = scan(image, rng, deg, paper_colour)
        if rng.random() < deg.jpeg:
            quality = int(rng.integers(45, 91))
    rotation = int(rng.choice((90, 180, 270))) if rng.random() < deg.turn else 0
    if rotation:
        image, turned = turn(image, rotation)
        matrix = turned @ matrix
    lines = [
        PageTruth(_clamped(apply(matrix, line.quad), image.size), unicodedata.normalize("NFC", line.text))
        for line in layout.lines
    ]
    fonts: dict[str, int] = {}
    for line in layout.lines:
        fonts[line.face] = fonts.get(line.face, 0) + 1
    page = SyntheticPage(image, lines, rotation, layout_kind, "photo" if photo else "scan", grey, None, fonts)
    if quality is not None:
        buffer = io.BytesIO()
        (image.convert("L") if grey else image).save(buffer, format="JPEG", quality=quality)
        page.jpeg = buffer.getvalue()
        page.image = Image.open(io.BytesIO(page.jpeg)).convert("RGB")
    return page


def _clamped(quad: Quad, size: tuple[int, int]) -> Quad:
    width, height = size
    a, b, c, d = ((min(max(x, 0.0), width), min(max(y, 0.0), height)) for x, y in quad)
    return a, b, c, d


def clean_config(config: PageConfig) -> PageConfig:
    """``config`` with every degradation off and plain white paper: straight scans of clean pages."""
    return replace(config, degradations=config.degradations.scaled(0), papers={"white": 1.0}, photo_ratio=0.0)
