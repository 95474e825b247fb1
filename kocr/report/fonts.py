"""Korean text in pictures: a font file that draws Hangul, for matplotlib and PIL, and the HTML font stack.

kocr's runtime dependencies ship no font, so the file is looked for in order: Noto Sans KR from the
``fonts`` extra (``pylopdf-fonts-ko``), fontconfig's best Korean sans face (``fc-match``), then the
usual places of Windows, macOS and Linux Korean fonts. A candidate counts only if it really draws 한
(not the missing-glyph box). Without one, pictures still come out: matplotlib falls back to its own
font, PIL to its default bitmap font, and a warning says once why Hangul may show as boxes.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

#: The CSS font stack of the HTML report: Korean faces of macOS, Windows, and Linux (Noto, Nanum), then
#: the generic family, which browsers map to a face that has Hangul when one is installed.
CSS_FONT_STACK = (
    '"Apple SD Gothic Neo", "Malgun Gothic", "맑은 고딕", "Noto Sans KR", "Noto Sans CJK KR", '
    '"Source Han Sans K", "NanumGothic", "Nanum Gothic", "UnDotum", sans-serif'
)

_KNOWN_FILES = (
    "/usr/share/fonts/truetype/nanum/NanumGothic.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/unfonts-core/UnDotum.ttf",
    "/System/Library/Fonts/AppleSDGothicNeo.ttc",
    "/System/Library/Fonts/Supplemental/AppleGothic.ttf",
    "C:/Windows/Fonts/malgun.ttf",
)


@cache
def korean_font_path() -> Path | None:
    """A font file that draws Hangul, or None (warned about once)."""
    for candidate in _candidates():
        if _draws_hangul(candidate):
            return candidate
    logger.warning(
        "no Korean font found (install kocr[fonts] or a system Korean font such as fonts-nanum); "
        "Hangul in plots and overlays may show as boxes"
    )
    return None


def _candidates() -> list[Path]:
    found: list[Path] = []
    try:
        import pylopdf_fonts_ko

        found.append(Path(pylopdf_fonts_ko.sans_path()))
    except (ImportError, AttributeError, OSError):
        pass
    fc_match = shutil.which("fc-match")
    if fc_match is not None:
        try:
            result = subprocess.run(
                [fc_match, "--format", "%{file}", "sans-serif:lang=ko"],
                capture_output=True, text=True, timeout=20, check=False,
            )  # fmt: skip
            if result.stdout.strip():
                found.append(Path(result.stdout.strip()))
        except (OSError, subprocess.SubprocessError):
            pass
    found.extend(Path(name) for name in _KNOWN_FILES)
    return [path for path in dict.fromkeys(found) if path.is_file()]


def _draws_hangul(path: Path) -> bool:
    """Whether the font draws 한 with ink that differs from its missing-glyph box."""
    from PIL import ImageFont

    try:
        font = ImageFont.truetype(str(path), 32)
        hangul = font.getmask("한")
        missing = font.getmask("\uffff")  # a noncharacter: always the .notdef glyph
    except OSError:
        return False
    return hangul.getbbox() is not None and bytes(hangul) != bytes(missing)


def pil_font(size: int) -> Any:
    """A PIL font of ``size`` px that draws Hangul when one is installed (else PIL's default)."""
    from PIL import ImageFont

    path = korean_font_path()
    if path is not None:
        return _truetype(str(path), max(6, int(size)))
    try:
        return ImageFont.load_default(size=max(6, int(size)))
    except TypeError:  # Pillow < 10.1: one small bitmap font
        return ImageFont.load_default()


@cache
def _truetype(path: str, size: int) -> Any:
    from PIL import ImageFont

    return ImageFont.truetype(path, size)


@cache
def matplotlib_families() -> list[str]:
    """matplotlib's ``font.family`` list: its own DejaVu Sans, then the Korean face for the glyphs
    DejaVu lacks (matplotlib falls back glyph by glyph along the list)."""
    from matplotlib import font_manager

    families = ["DejaVu Sans"]
    path = korean_font_path()
    if path is not None:
        try:
            font_manager.fontManager.addfont(str(path))
            families.append(font_manager.FontProperties(fname=str(path)).get_name())
        except (OSError, RuntimeError, ValueError) as exc:
            logger.warning("%s: matplotlib cannot use this font (%s); Hangul may show as boxes", path, exc)
    return families
