"""What the synthetic-line renderer and :func:`kocr.data.synth.generate.generate` are told: the
:class:`Degradations` (which variations a line may get, and how strong) and the :class:`SynthConfig`
(charset, fonts, texts, seed, sizes, colour mode). Recipes (:mod:`kocr.data.synth.recipes`) fill these
from a TOML file."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from kocr.data.synth.fonts import FontFace
from kocr.data.synth.texts import TextConfig
from kocr.errors import KocrError


@dataclass(frozen=True)
class Degradations:
    """Probabilities (per sample) and strengths of the variations; ``scaled(0)`` gives clean lines."""

    elastic_handwriting: float = 0.7
    elastic_print: float = 0.1
    rotate: float = 0.5
    max_rotate_deg: float = 2.5
    shear: float = 0.25
    perspective: float = 0.25
    stroke: float = 0.12
    pen_width: float = 0.15
    texture: float = 0.6
    invert: float = 0.04
    colour_ink: float = 0.3  # RGB only
    colour_paper: float = (
        0.0  # coloured ground (signs, labels, slides); off by default: seeds keep their lines
    )
    blur: float = 0.3
    noise: float = 0.3
    low_resolution: float = 0.15
    jpeg: float = 0.25

    def scaled(self, factor: float) -> Degradations:
        """All probabilities multiplied by ``factor`` (clipped to [0, 1]); strengths unchanged."""
        values = {
            name: (min(1.0, max(0.0, value * factor)) if name != "max_rotate_deg" else value)
            for name, value in self.__dict__.items()
        }
        return Degradations(**values)


@dataclass(frozen=True)
class SynthConfig:
    """Everything :func:`generate` needs besides the count and the output."""

    charset: str = "ko-2350"
    fonts: tuple[FontFace, ...] = ()  # empty: discover (fontconfig Korean fonts + packaged Noto)
    corpus: tuple[str, ...] = ()  # corpus files; their chunks are one text kind among others
    text: TextConfig = field(default_factory=TextConfig)
    seed: int = 0
    height: tuple[int, int] = (32, 64)  # output line height range, px
    font_size: tuple[int, int] = (36, 64)  # rendering size before resizing to the output height
    handwriting_ratio: float = 0.35  # share of lines drawn with a handwriting face when one can
    mode: Literal["L", "RGB"] = "L"
    degradations: Degradations = field(default_factory=Degradations)
    png_compress_level: int = 6

    def __post_init__(self) -> None:
        if self.mode not in ("L", "RGB"):
            raise KocrError(f"mode must be 'L' or 'RGB', not {self.mode!r}")
        if not 8 <= self.height[0] <= self.height[1]:
            raise KocrError(f"height range must be 8 <= low <= high, got {self.height}")
        if not 8 <= self.font_size[0] <= self.font_size[1]:
            raise KocrError(f"font size range must be 8 <= low <= high, got {self.font_size}")
