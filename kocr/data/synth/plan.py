"""Planning a synthetic run: which fonts are usable for the charset (their drawn coverage), the text
generator built on what they draw, and which face draws a given text."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from kocr.data.synth.config import SynthConfig
from kocr.data.synth.fonts import FontCoverage, FontFace, discover_fonts, font_coverages
from kocr.data.synth.texts import TextGenerator, allowed_characters, read_corpora
from kocr.errors import KocrError


@dataclass(frozen=True)
class Plan:
    """The usable faces with their coverage, and the text generator built on them."""

    faces: tuple[FontFace, ...]
    coverages: tuple[FontCoverage, ...]
    texts: TextGenerator
    unusable: tuple[FontCoverage, ...]
    undrawable: tuple[str, ...]


def plan(config: SynthConfig, *, workers: int = 1) -> Plan:
    """Resolve fonts and their coverage of the charset, and set up the text stream."""
    from kocr.charsets import Charset

    charset = Charset.load(config.charset)
    allowed = allowed_characters(charset.symbols, charset.covers)
    faces = list(config.fonts) or discover_fonts()
    if not faces:
        raise KocrError(
            "no fonts found: pass --fonts DIR or --font FILE, install Korean fonts (fonts-nanum, "
            "fonts-noto-cjk), or `pip install kocr-hangul[fonts]` for Noto Sans/Serif KR"
        )
    coverages = font_coverages(faces, allowed, workers=workers)
    needed = max(1, min(len(allowed) // 2, 1000))
    usable = [c for c in coverages if len(c.drawable) >= needed]
    unusable = [c for c in coverages if len(c.drawable) < needed]
    if not usable:
        raise KocrError(
            f"none of the {len(faces)} fonts draws at least {needed} of the {len(allowed)} characters of "
            f"charset {config.charset!r}"
        )
    if config.handwriting_ratio >= 1 and not any(c.face.handwriting for c in usable):
        raise KocrError(
            f"handwriting_ratio {config.handwriting_ratio:g} asks for handwriting lines only, but none of "
            f"the {len(usable)} usable fonts is a handwriting face: add handwriting fonts (marked as such) "
            "or lower the ratio"
        )
    drawable = frozenset().union(*(c.drawable for c in usable))
    undrawable = tuple(ch for ch in allowed if ch not in drawable)
    drawn = [ch for ch in allowed if ch in drawable]
    corpora = read_corpora(config.corpus, config.text, drawn, config.charset)
    texts = TextGenerator(
        drawn, config.text, corpus=corpora.chunks, paragraphs=corpora.paragraphs, seed=config.seed
    )
    return Plan(tuple(c.face for c in usable), tuple(usable), texts, tuple(unusable), undrawable)


def pick_face(
    text: str, coverages: Sequence[FontCoverage], pick: random.Random, handwriting_ratio: float
) -> int | None:
    """A face that draws every character of ``text``: a handwriting one with ``handwriting_ratio``
    when both kinds can; None when no face can."""
    candidates = [i for i, c in enumerate(coverages) if c.draws(text)]
    if not candidates:
        return None
    hand = [i for i in candidates if coverages[i].face.handwriting]
    printed = [i for i in candidates if not coverages[i].face.handwriting]
    use_hand = hand and (not printed or pick.random() < handwriting_ratio)
    return pick.choice(hand if use_hand else printed)
