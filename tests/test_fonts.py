"""Font discovery and outline-based glyph coverage, on the Noto fonts of ``pylopdf-fonts-ko``."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from kocr.data.synth import fonts
from kocr.data.synth.fonts import (
    FontFace,
    Glyph,
    clear_memory_cache,
    discover_fonts,
    faces_in_file,
    font_coverage,
    fonts_in,
    mark_handwriting,
)
from kocr.errors import InputFileError

noto = pytest.importorskip("pylopdf_fonts_ko", reason="Noto fonts come from the pylopdf-fonts-ko package")

NANUM_SQUARE = Path("/usr/share/fonts/truetype/nanum/NanumSquareR.ttf")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOCR_CACHE_DIR", str(tmp_path / "cache"))
    clear_memory_cache()


@pytest.fixture
def sans() -> FontFace:
    return faces_in_file(noto.sans_path())[0]


def test_faces_in_file_reads_family_and_style(sans: FontFace) -> None:
    assert sans.family == "Noto Sans KR" and sans.index == 0 and not sans.handwriting


def test_syllables_are_drawn_and_unmapped_code_points_are_not(sans: FontFace) -> None:
    unmapped = ["\U000f0000", "\u0378"]  # private use plane 15, unassigned: render .notdef
    coverage = font_coverage(sans, ["가", "힣", "똠", "A", "₩", "\\", " ", *unmapped])
    assert {"가", "힣", "똠", "A", "₩", "\\", " "} <= coverage.drawable
    assert not coverage.drawable & set(unmapped)
    assert coverage.problems == {"TOFU": 2}
    assert coverage.draws("가 힣 A") and not coverage.draws("가\U000f0000")
    assert coverage.missing("가\u0378") == ["\u0378"]


def test_mapped_but_empty_glyph_is_not_drawable(sans: FontFace) -> None:
    # U+3164 HANGUL FILLER is in Noto's cmap with an empty outline: a cmap check would accept it.
    coverage = font_coverage(sans, ["\u3164", "가"])
    assert coverage.drawable == {"가"} and coverage.problems == {"EMPTY": 1}


@pytest.mark.skipif(not NANUM_SQUARE.is_file(), reason="NanumSquare (fonts-nanum-extra) not installed")
def test_nanum_square_draws_nothing_outside_ks_x_1001() -> None:
    face = faces_in_file(NANUM_SQUARE)[0]
    # 갃 and 갅 are outside KS X 1001 (NanumSquare does draw 129 popular extras such as 똠 and 햏)
    coverage = font_coverage(face, ["가", "갃", "갅", "똠"])
    assert coverage.drawable == {"가", "똠"} and coverage.problems == {"EMPTY": 2}


class _FakeFont:
    """Renders chosen characters with chosen bitmaps, to test the duplicate rules."""

    def __init__(self, drawings: dict[str, int]) -> None:
        self.drawings = drawings

    def getmask(self, ch: str) -> object:
        image = Image.new("L", (4, 4), 0)
        if ch in self.drawings:
            image.putpixel((self.drawings[ch] % 4, self.drawings[ch] // 4), 255)
        elif ch == fonts.NOTDEF_PROBE:
            image.putpixel((3, 3), 255)
        return image.im

    def getlength(self, ch: str) -> float:
        return 5.0


def test_identical_glyphs_are_unusable_except_won_for_backslash(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _FakeFont({"\\": 1, "₩": 1, "갆": 2, "갾": 2, "가": 3, "?": 15})  # "?" draws like .notdef
    monkeypatch.setattr(fonts, "load_font", lambda path, index, size: fake)
    statuses = fonts._Statuses()
    fonts._classify(FontFace(Path("fake.ttf")), ["\\", "₩", "갆", "갾", "가", "?", "나", " "], statuses)
    got = {ch: Glyph(statuses.get(ch)) for ch in "\\₩갆갾가?나 "}
    assert got == {
        "\\": Glyph.SHARED,
        "₩": Glyph.DRAWN,
        "갆": Glyph.SHARED,
        "갾": Glyph.SHARED,
        "가": Glyph.DRAWN,
        "?": Glyph.TOFU,
        "나": Glyph.EMPTY,
        " ": Glyph.DRAWN,
    }


def test_coverage_is_cached_on_disk(sans: FontFace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    font_coverage(sans, ["가"])
    cached = list((tmp_path / "cache" / "fonts").glob("*.bin"))
    assert len(cached) == 1
    clear_memory_cache()
    monkeypatch.setattr(fonts, "_classify", lambda *a: pytest.fail("coverage recomputed despite the cache"))
    assert font_coverage(sans, ["가", "힣"]).drawable == {"가", "힣"}


def test_corrupt_cache_is_recomputed(sans: FontFace, tmp_path: Path) -> None:
    font_coverage(sans, ["가"])
    (cache_file,) = (tmp_path / "cache" / "fonts").glob("*.bin")
    cache_file.write_bytes(b"not zlib")
    clear_memory_cache()
    assert font_coverage(sans, ["가"]).drawable == {"가"}


def test_discovery_in_folders_and_handwriting_marks(tmp_path: Path) -> None:
    folder = tmp_path / "fonts" / "nested"
    folder.mkdir(parents=True)
    shutil.copy(noto.sans_path(), folder / "NanumPen-lookalike.otf")
    (folder / "broken.ttf").write_bytes(b"not a font")
    faces = discover_fonts([tmp_path / "fonts"])
    assert [face.path.name for face in faces] == ["NanumPen-lookalike.otf"]
    assert faces[0].handwriting  # matched "nanumpen*"
    assert not discover_fonts([tmp_path / "fonts"], handwriting_patterns=["*brush*"])[0].handwriting
    with pytest.raises(InputFileError):
        fonts_in(tmp_path / "missing")
    with pytest.raises(InputFileError):
        faces_in_file(folder / "broken.ttf")


def test_mark_handwriting_by_family(sans: FontFace) -> None:
    assert mark_handwriting(
        replace(sans, family="Nanum Pen Script"), fonts.DEFAULT_HANDWRITING_PATTERNS
    ).handwriting
    assert not mark_handwriting(sans, fonts.DEFAULT_HANDWRITING_PATTERNS).handwriting


def test_explicit_font_files_are_deduplicated() -> None:
    faces = discover_fonts(files=[noto.sans_path(), noto.sans_path(), noto.serif_path()])
    assert [face.family for face in faces] == ["Noto Sans KR", "Noto Serif KR"]
