"""What synthetic page layouts are made of: the sheet being laid out, pens, the page's word stream, and
the line writer that puts a text's ink on the sheet with its box.

Sizes scale with the paper's width (1240 px = A4 at 150 dpi, where body print is 20-30 px and
handwriting 28-50 px). Each line is drawn by :func:`kocr.data.synth.render.text_ink` as soon as it is
placed, so its box is the ink's own box (handwriting lines are also turned a little, box and all). The
layouts themselves are in :mod:`kocr.data.synth.pages_documents` and :mod:`kocr.data.synth.pages_forms`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from PIL import Image

from kocr.data.synth.fonts import FontCoverage, load_font
from kocr.data.synth.pages_geometry import apply, rotation, translation, warp
from kocr.data.synth.render import PEN_COLOURS, text_ink
from kocr.pages.types import Point, Quad, quad_from_box

Colour = tuple[int, int, int]


def rgb(values: Iterable[float]) -> Colour:
    """Three channel values as a colour, clipped to 0..255."""
    red, green, blue = (int(np.clip(v, 0, 255)) for v in values)
    return red, green, blue


_INK_THRESHOLD = 48  # mask values below this are antialiasing halo, left out of a line's box
_MAX_SKIPS = 400


@dataclass
class PlacedLine:
    """A line's ink (L mask, 255 = ink) at (left, top) on the paper, its box there and its text."""

    mask: Image.Image
    left: int
    top: int
    quad: Quad
    text: str
    colour: Colour
    face: str


@dataclass(frozen=True)
class Rule:
    """A printed or ruled line (table rules, notebook lines): drawn, but not text."""

    start: Point
    end: Point
    width: int
    colour: Colour


@dataclass
class Layout:
    """A laid-out page: its lines in reading order, and the rules and shaded boxes drawn with them."""

    kind: str
    lines: list[PlacedLine] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    fills: list[tuple[tuple[float, float, float, float], Colour]] = field(default_factory=list)


class TextSource(Protocol):
    """Where a page's words come from: reseeded per page, so a page depends only on its index."""

    def next_text(self) -> str: ...

    def reseed(self, seed: int | Sequence[int]) -> None: ...


class WordStream:
    """The page's words, from its text source, one face's drawable ones at a time."""

    def __init__(self, texts: TextSource) -> None:
        self._texts = texts
        self._queue: deque[str] = deque()

    def word(self, coverage: FontCoverage) -> str | None:
        for _ in range(_MAX_SKIPS):
            if not self._queue:
                self._queue.extend(self._texts.next_text().split())
                continue
            word = self._queue.popleft()
            if coverage.draws(word):
                return word
        return None

    def give_back(self, word: str) -> None:
        self._queue.appendleft(word)

    def text(self, coverage: FontCoverage, max_chars: int) -> str:
        """One source text's drawable words, cut at a word to at most ``max_chars`` characters."""
        for _ in range(_MAX_SKIPS // 10):
            words = [w for w in self._texts.next_text().split() if coverage.draws(w)]
            out = ""
            for word in words:
                if len(out) + len(word) + bool(out) > max_chars:
                    break
                out = f"{out} {word}" if out else word
            if out or words:
                return out or words[0][:max_chars]
        return ""


@dataclass
class Pen:
    """A face at a size in an ink: what one kind of text on a page is written with."""

    coverage: FontCoverage
    size: int
    colour: Colour
    alpha: float = 1.0
    stroke: int = 0
    tracking: float = 0.0
    slant: float = 0.0  # standard deviation of a line's angle, degrees

    @property
    def hand(self) -> bool:
        return self.coverage.face.handwriting

    def draws(self, text: str) -> bool:
        return bool(text) and all(self.coverage.draws(w) for w in text.split())

    def width(self, text: str, space_scale: float = 1.0) -> float:
        """The text's estimated ink width (handwriting jitter averages out over a line)."""
        font = load_font(self.coverage.face.path, self.coverage.face.index, self.size)
        spaces = text.count(" ")
        body = font.getlength(text.replace(" ", "")) + font.getlength(" ") * spaces * space_scale
        return body + self.tracking * max(0, len(text) - 1) + 2 * self.stroke


@dataclass
class Sheet:
    """The paper being laid out and the page's random state."""

    width: int
    height: int
    rng: np.random.Generator
    stream: WordStream
    printed: Sequence[FontCoverage]
    hand: Sequence[FontCoverage]
    hand_page: bool
    paper: str
    labels: Sequence[str] = ()
    _faces: dict[str, FontCoverage] = field(default_factory=dict)

    @property
    def scale(self) -> float:
        return self.width / 1240

    def px(self, low: float, high: float) -> float:
        """A length drawn between ``low`` and ``high`` px at 150 dpi, in this paper's pixels."""
        return float(self.rng.uniform(low, high)) * self.scale

    def face(self, kind: str) -> FontCoverage:
        """The page's one print or hand face (chosen once; falls back to the other kind)."""
        if kind not in self._faces:
            pool = (self.hand or self.printed) if kind == "hand" else (self.printed or self.hand)
            self._faces[kind] = pool[int(self.rng.integers(len(pool)))]
        return self._faces[kind]

    def print_pen(self, size: float, *, other_face: bool = False, bold: bool = False) -> Pen:
        rng = self.rng
        coverage = self.face("print")
        if other_face and self.printed:
            coverage = self.printed[int(rng.integers(len(self.printed)))]
        level = int(rng.uniform(0, 45))
        colour = rgb(level + rng.normal(0, 4, 3))
        size_px = max(10, round(size))
        stroke = max(1, size_px // 30) if bold else 0
        tracking = float(rng.uniform(-0.02, 0.06)) * size_px
        return Pen(coverage, size_px, colour, stroke=stroke, tracking=tracking)

    def hand_pen(self, size: float) -> Pen:
        rng = self.rng
        roll, alpha = rng.random(), 1.0
        if roll < 0.45:
            level = rng.uniform(10, 50)
            colour = np.full(3, level)
        elif roll < 0.9:
            colour = PEN_COLOURS[int(rng.integers(2))] + rng.normal(0, 12, 3)  # blue or navy ballpoint
        elif roll < 0.95:
            colour = PEN_COLOURS[int(rng.integers(2, len(PEN_COLOURS)))] + rng.normal(0, 12, 3)
        else:  # pencil
            colour, alpha = np.full(3, rng.uniform(60, 100)), float(rng.uniform(0.8, 0.92))
        size_px = max(10, round(size))
        slant = float(rng.uniform(0.2, 0.9))
        tracking = float(rng.uniform(-0.02, 0.08)) * size_px
        return Pen(self.face("hand"), size_px, rgb(colour), alpha, tracking=tracking, slant=slant)

    def body_pen(self, hand: bool | None = None) -> Pen:
        hand = self.hand_page if hand is None else hand
        return self.hand_pen(self.px(28, 50)) if hand else self.print_pen(self.px(20, 30))


def _ink_box(mask: Image.Image) -> tuple[int, int, int, int] | None:
    return mask.point(lambda v: 255 if v >= _INK_THRESHOLD else 0).getbbox()


def write(
    layout: Layout,
    pen: Pen,
    text: str,
    rng: np.random.Generator,
    x: float,
    baseline: float,
    *,
    space_scale: float = 1.0,
    align: str = "left",
    width: float = 0.0,
) -> PlacedLine | None:
    """Draw ``text`` with its ink starting at ``x`` (or right-aligned / centred in ``width``) and its
    baseline at ``baseline``; handwriting is turned by a small angle around its middle."""
    if not text:
        return None
    ink = text_ink(
        text,
        pen.coverage.face,
        pen.size,
        rng,
        stroke=pen.stroke,
        tracking=pen.tracking,
        space_scale=space_scale,
    )
    mask = ink.mask
    box = _ink_box(mask)
    if box is None:
        return None
    left, top, right, bottom = box
    if align == "right":
        x += width - (right - left)
    elif align == "centre":
        x += (width - (right - left)) / 2
    ox, oy = round(x - left), round(baseline - ink.baseline)
    quad = quad_from_box(left + ox, top + oy, right + ox, bottom + oy)
    angle = float(rng.normal(0, pen.slant)) if pen.slant else 0.0
    if pen.alpha < 1:
        mask = mask.point(lambda v: round(v * pen.alpha))
    if abs(angle) < 0.05:
        placed = PlacedLine(mask, ox, oy, quad, text, pen.colour, pen.coverage.face.name)
    else:
        placed = _turned(mask, ox, oy, quad, angle, text, pen)
    layout.lines.append(placed)
    return placed


def _turned(mask: Image.Image, ox: int, oy: int, quad: Quad, angle: float, text: str, pen: Pen) -> PlacedLine:
    """The line turned ``angle`` degrees (anticlockwise as seen) about its box's middle, box and all."""
    cx = sum(x for x, _ in quad) / 4
    cy = sum(y for _, y in quad) / 4
    forward = rotation(angle, (cx, cy))  # paper → paper
    corners = apply(forward, quad_from_box(ox, oy, ox + mask.width, oy + mask.height))
    left, top = int(np.floor(min(x for x, _ in corners))), int(np.floor(min(y for _, y in corners)))
    right, bottom = int(np.ceil(max(x for x, _ in corners))), int(np.ceil(max(y for _, y in corners)))
    local = translation(-left, -top) @ forward @ translation(ox, oy)
    turned = warp(mask, local, (right - left, bottom - top), fill=0)
    return PlacedLine(turned, left, top, apply(forward, quad), text, pen.colour, pen.coverage.face.name)


def fill_line(sheet: Sheet, pen: Pen, width: float) -> str:
    """Words from the stream that fit ``width`` (a word too long for a whole line is cut)."""
    words: list[str] = []
    limit = width * (0.95 if pen.hand else 0.99)
    while True:
        word = sheet.stream.word(pen.coverage)
        if word is None:
            break
        candidate = " ".join([*words, word])
        if pen.width(candidate) <= limit:
            words.append(word)
            continue
        if words:
            sheet.stream.give_back(word)
        else:
            while len(word) > 1 and pen.width(word) > limit:
                word = word[:-1]
            words.append(word)
        break
    return " ".join(words)


def fit(pen: Pen, text: str, width: float) -> str:
    """``text`` cut at a word (or, for one long word, a character) to fit ``width``."""
    while text and pen.width(text) > width:
        cut = text.rfind(" ")
        text = text[:cut] if cut > 0 else text[:-1]
    return text


def justified(pen: Pen, text: str, width: float) -> float:
    """The space scale that stretches ``text`` to ``width`` (at most three spaces wide)."""
    spaces = text.count(" ")
    if not spaces:
        return 1.0
    space = load_font(pen.coverage.face.path, pen.coverage.face.index, pen.size).getlength(" ")
    return float(np.clip(1 + (width * 0.995 - pen.width(text)) / (spaces * space), 1.0, 3.0))
