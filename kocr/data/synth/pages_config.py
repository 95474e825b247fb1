"""What synthetic pages may look like (:class:`PageConfig`) and how hard they are scanned or
photographed (:class:`PageDegradations`); :func:`kocr.data.synth.pages.render_page` reads them."""

from __future__ import annotations

from dataclasses import dataclass, field

from kocr.data.synth.fonts import FontFace
from kocr.errors import KocrError

LAYOUT_NAMES: tuple[str, ...] = ("prose", "columns", "sections", "list", "notebook", "form")
PAPERS: tuple[str, ...] = ("white", "off-white", "tinted", "ruled", "grid")


@dataclass(frozen=True)
class PageDegradations:
    """Per-page probabilities of the scan and photo effects; ``scaled(0)`` gives clean, straight scans."""

    turn: float = 0.06  # turned 90, 180 or 270 degrees
    skew: float = 0.7  # scans: up to max_skew_deg
    max_skew_deg: float = 3.0
    blur: float = 0.5
    noise: float = 0.4
    uneven_light: float = 0.5
    texture: float = 0.25  # a light texture in the paper
    greyscale: float = 0.3  # scans stored grey
    jpeg: float = 0.35  # scans stored as JPEG (photos always are)

    def scaled(self, factor: float) -> PageDegradations:
        """All probabilities multiplied by ``factor`` (clipped to [0, 1]); strengths unchanged."""
        values = {
            name: value if name == "max_skew_deg" else min(1.0, max(0.0, value * factor))
            for name, value in self.__dict__.items()
        }
        return PageDegradations(**values)


@dataclass(frozen=True)
class PageConfig:
    """What a synthetic page may look like. Weights need not sum to one; a zero weight rules a kind out.

    ``page_size`` (width, height) fixes the image size of an unturned page, scan or photo alike (tests use
    small pages); None draws realistic sizes: A4 scans at 150-300 dpi, photos 1600x1200 to 4000x3000.
    """

    charset: str = "ko-2350"
    fonts: tuple[FontFace, ...] = ()  # empty: discover (fontconfig Korean fonts + packaged Noto)
    corpus: tuple[str, ...] = ()  # corpus files: page prose is cut from their paragraphs
    seed: int = 0
    page_size: tuple[int, int] | None = None
    layouts: dict[str, float] = field(
        default_factory=lambda: {
            "prose": 0.25,
            "columns": 0.12,
            "sections": 0.15,
            "list": 0.13,
            "notebook": 0.15,
            "form": 0.2,
        }
    )
    papers: dict[str, float] = field(
        default_factory=lambda: {"white": 0.45, "off-white": 0.25, "tinted": 0.15, "ruled": 0.1, "grid": 0.05}
    )
    handwriting_ratio: float = 0.3  # share of prose, column, section and list pages written by hand
    photo_ratio: float = 0.3
    degradations: PageDegradations = field(default_factory=PageDegradations)
    form_labels: tuple[str, ...] = ()  # empty: built-in labels and titles; else labels, titles from texts

    def __post_init__(self) -> None:
        for name, weights, known in (("layout", self.layouts, LAYOUT_NAMES), ("paper", self.papers, PAPERS)):
            unknown = sorted(set(weights) - set(known))
            if unknown:
                raise KocrError(f"unknown {name} kinds {unknown}; choose from {', '.join(known)}")
            if any(w < 0 for w in weights.values()) or not any(w > 0 for w in weights.values()):
                raise KocrError(f"{name} weights must be non-negative with at least one above zero")
        for name in ("handwriting_ratio", "photo_ratio"):
            if not 0 <= getattr(self, name) <= 1:
                raise KocrError(f"{name} must be between 0 and 1, not {getattr(self, name)}")
        if self.page_size is not None and min(self.page_size) < 200:
            raise KocrError(f"page size must be at least 200x200 px, not {self.page_size}")


def parse_page_size(spec: str) -> tuple[int, int]:
    """``"600x800"`` → (600, 800): width and height in pixels, each at least 200."""
    width, sep, height = spec.lower().replace("×", "x").partition("x")
    if not sep or not width.strip().isdigit() or not height.strip().isdigit():
        raise KocrError(f"page size {spec!r} is not WIDTHxHEIGHT in pixels, such as 1240x1754")
    size = int(width), int(height)
    if min(size) < 200 or max(size) > 10000:
        raise KocrError(f"page size {spec!r}: each side must be 200 to 10000 px")
    return size
