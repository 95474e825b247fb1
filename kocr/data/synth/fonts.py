"""Font discovery and per-font glyph coverage that looks at the drawn outline, not only the cmap.

Why not trust the cmap: several Debian fonts (NanumSquare, NanumSquareRound, Woowa BM faces, some
Baekmuk faces) map all 11,172 Hangul syllables but draw *empty* glyphs outside KS X 1001; others
(NanumGothic Light, NanumSquare_ac) leave them unmapped, so FreeType draws the ``.notdef`` box; and a
few draw two characters with one glyph (``\\`` as ``₩`` in most Korean fonts, 갆/갾 in NanumGothic
Bold). A synthetic line drawn with such a font carries a label that does not match its pixels.

So every character is rendered once at :data:`CHECK_SIZE` px and classified (:class:`Glyph`):

- ``EMPTY``: no ink (the space is the one character that is expected to be empty);
- ``TOFU``: pixel-identical to the rendering of a code point no font maps (the ``.notdef`` glyph);
- ``SHARED``: pixel-identical to another character's rendering; both are unusable, except that the
  legacy ``\\``/``₩`` pair keeps ``₩`` (what Korean fonts really draw there);
- ``DRAWN``: usable.

Duplicates are looked for within :data:`REFERENCE_CHARACTERS` (the ``ko`` preset plus compatibility
jamo), which is always checked as a whole on a face's first use; other characters get the
EMPTY/TOFU checks only. A face costs 0.1–1 s for the reference set; results are cached on disk per
font file (path, face index, size, mtime) under ``$KOCR_CACHE_DIR`` or ``$XDG_CACHE_HOME/kocr`` or
``~/.cache/kocr``, and in memory.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import shutil
import subprocess
import zlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from enum import IntEnum
from functools import cache
from multiprocessing import get_context
from pathlib import Path

import numpy as np
from PIL import Image, ImageFont

from kocr.cache import cache_path
from kocr.charsets.hangul import ALL_SYLLABLES
from kocr.charsets.presets import NON_HANGUL
from kocr.errors import InputFileError
from kocr.fileio import atomic_write_bytes

FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")
CHECK_SIZE = 32
#: Bump when the classification rules change, so stale disk caches are ignored.
CHECK_VERSION = 2
#: U+FFFF is a noncharacter: no font maps it, so it always renders the ``.notdef`` glyph.
NOTDEF_PROBE = "\uffff"
REFERENCE_CHARACTERS: tuple[str, ...] = tuple(
    dict.fromkeys(NON_HANGUL + ALL_SYLLABLES + tuple(chr(c) for c in range(0x3131, 0x318F)))
)
_REFERENCE_SET = frozenset(REFERENCE_CHARACTERS)
_BMP = 0x10000

#: Patterns (fnmatch, case-insensitive) on a font's file name or family that mark handwriting faces.
DEFAULT_HANDWRITING_PATTERNS: tuple[str, ...] = (
    "nanumpen*",
    "nanumbrush*",
    "nanumbarunpen*",
    "*pen script*",
    "*brush script*",
    "unpilgi*",
    "*handwrit*",
    "*손글씨*",
    "*필기*",
)


class Glyph(IntEnum):
    """How a character renders in a face (0 = not checked yet)."""

    UNCHECKED = 0
    DRAWN = 1
    EMPTY = 2
    TOFU = 3
    SHARED = 4


@dataclass(frozen=True)
class FontFace:
    """One face of a font file (a .ttc holds several), as PIL opens it."""

    path: Path
    index: int = 0
    family: str = ""
    style: str = ""
    handwriting: bool = False

    @property
    def name(self) -> str:
        label = f"{self.family} {self.style}".strip() or self.path.stem
        return label if self.index == 0 else f"{label} [{self.index}]"

    def load(self, size: int) -> ImageFont.FreeTypeFont:
        """The face at ``size`` px, with PIL's basic layout (see :func:`load_font`)."""
        return load_font(self.path, self.index, size)


@cache
def _load_font_cached(path: str, index: int, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size, index=index, layout_engine=ImageFont.Layout.BASIC)


def load_font(path: str | Path, index: int, size: int) -> ImageFont.FreeTypeFont:
    """Open a face once per (file, index, size) per process.

    The basic layout engine is used on purpose: precomposed Hangul needs no shaping, and it gives the
    same pixels whether or not libraqm is installed (raqm would also apply kerning on some machines).
    """
    return _load_font_cached(str(path), index, size)


# --- discovery -------------------------------------------------------------------------------------


def faces_in_file(path: str | Path) -> list[FontFace]:
    """Every face of a font file; in a multi-face file with Korean (``KR``) faces, only those.

    Noto CJK collections hold JP/SC/TC/HK/KR faces with the same Hangul; keeping the KR ones avoids
    weighting one design five times.
    """
    path = Path(path)
    faces: list[FontFace] = []
    index = 0
    while True:
        try:
            font = ImageFont.truetype(str(path), 16, index=index, layout_engine=ImageFont.Layout.BASIC)
        except OSError:
            if index == 0:
                raise InputFileError(path, "not a font PIL can open") from None
            break
        family, style = font.getname()
        faces.append(FontFace(path, index, family or path.stem, style or ""))
        index += 1
        if path.suffix.lower() not in (".ttc", ".otc"):
            break
    korean = [face for face in faces if _is_korean_name(face.family)]
    return korean if len(faces) > 1 and korean else faces


def _is_korean_name(family: str) -> bool:
    words = family.replace("-", " ").split()
    return "KR" in words or "Korean" in words or any("\uac00" <= ch <= "\ud7a3" for ch in family)


def fonts_in(directory: str | Path) -> list[FontFace]:
    """Faces of every font file under ``directory`` (recursively), sorted by path."""
    directory = Path(directory)
    if not directory.is_dir():
        raise InputFileError(directory, "font folder not found" if not directory.exists() else "not a folder")
    files = sorted(p for p in directory.rglob("*") if p.suffix.lower() in FONT_SUFFIXES and p.is_file())
    faces: list[FontFace] = []
    for file in files:
        try:
            faces.extend(faces_in_file(file))
        except InputFileError:
            continue  # a broken or unsupported file in a font folder is not the user's fault
    return faces


def system_fonts(lang: str = "ko") -> list[FontFace]:
    """Faces fontconfig lists for ``lang`` (``fc-list :lang=ko``); empty when fontconfig is absent."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return []
    try:
        result = subprocess.run(
            [fc_list, f":lang={lang}", "--format", "%{file}\t%{index}\t%{family[0]}\t%{style[0]}\n"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return []
    by_file: dict[Path, list[FontFace]] = defaultdict(list)
    for line in result.stdout.splitlines():
        parts = line.split("\t")
        if len(parts) != 4 or not parts[1].isdigit():
            continue
        path = Path(parts[0])
        if path.suffix.lower() not in FONT_SUFFIXES:
            continue
        by_file[path].append(FontFace(path, int(parts[1]), parts[2], parts[3]))
    faces: list[FontFace] = []
    for path in sorted(by_file):
        listed = sorted(set(by_file[path]), key=lambda face: face.index)
        korean = [face for face in listed if _is_korean_name(face.family)]
        faces.extend(korean if len(listed) > 1 and korean else listed)
    return faces


def packaged_fonts() -> list[FontFace]:
    """Noto Sans KR and Noto Serif KR from the ``pylopdf-fonts-ko`` package, when installed."""
    try:
        import pylopdf_fonts_ko
    except ImportError:
        return []
    faces: list[FontFace] = []
    for getter in (pylopdf_fonts_ko.sans_path, pylopdf_fonts_ko.serif_path):
        path = Path(getter())
        if path.is_file():
            faces.extend(faces_in_file(path))
    return faces


def discover_fonts(
    dirs: Sequence[str | Path] = (),
    files: Sequence[str | Path] = (),
    *,
    system: bool | None = None,
    packaged: bool | None = None,
    handwriting_patterns: Sequence[str] = DEFAULT_HANDWRITING_PATTERNS,
) -> list[FontFace]:
    """The faces to render with, de-duplicated, handwriting faces marked.

    With explicit ``dirs``/``files`` only those are used unless ``system``/``packaged`` say otherwise;
    without them, fontconfig's Korean fonts plus the packaged Noto fonts.
    """
    explicit = bool(dirs or files)
    system = not explicit if system is None else system
    packaged = not explicit if packaged is None else packaged
    faces: list[FontFace] = []
    for directory in dirs:
        faces.extend(fonts_in(directory))
    for file in files:
        if not Path(file).is_file():
            raise InputFileError(file, "font file not found")
        faces.extend(faces_in_file(file))
    if system:
        faces.extend(system_fonts())
    if packaged:
        faces.extend(packaged_fonts())
    seen: set[tuple[str, int]] = set()
    unique: list[FontFace] = []
    for face in faces:
        key = (str(face.path.resolve()), face.index)
        if key not in seen:
            seen.add(key)
            unique.append(mark_handwriting(face, handwriting_patterns))
    return unique


def mark_handwriting(face: FontFace, patterns: Sequence[str]) -> FontFace:
    """``face`` with ``handwriting`` set when its file name or family matches one of ``patterns``."""
    names = (face.path.name.lower(), face.family.lower())
    hit = any(fnmatch.fnmatchcase(name, pattern.lower()) for name in names for pattern in patterns)
    return replace(face, handwriting=hit) if hit != face.handwriting else face


# --- coverage --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FontCoverage:
    """Which of the requested characters a face really draws, with counts of why the rest fail."""

    face: FontFace
    requested: int
    drawable: frozenset[str]
    problems: dict[str, int] = field(default_factory=dict)  # Glyph name -> count among requested

    def draws(self, text: str) -> bool:
        """True when every character of ``text`` is drawn by this face."""
        drawable = self.drawable
        return all(ch in drawable for ch in text)

    def missing(self, text: str) -> list[str]:
        return [ch for ch in text if ch not in self.drawable]


class _Statuses:
    """Glyph statuses of one face: an array over the BMP plus a dict for the rest."""

    def __init__(self, bmp: np.ndarray | None = None) -> None:
        self.bmp = bmp if bmp is not None else np.zeros(_BMP, dtype=np.uint8)
        self.astral: dict[int, int] = {}

    def get(self, ch: str) -> int:
        cp = ord(ch)
        return int(self.bmp[cp]) if cp < _BMP else self.astral.get(cp, 0)

    def set(self, ch: str, status: Glyph) -> None:
        cp = ord(ch)
        if cp < _BMP:
            self.bmp[cp] = status
        else:
            self.astral[cp] = int(status)


_MEMORY: dict[tuple[str, int], _Statuses] = {}


def _cache_file(face: FontFace) -> Path | None:
    try:
        stat = face.path.stat()
    except OSError:
        return None
    key = f"{face.path.resolve()}|{face.index}|{stat.st_size}|{stat.st_mtime_ns}|{CHECK_SIZE}|{CHECK_VERSION}"
    digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:20]
    return cache_path("fonts", f"{digest}.bin")


def _read_cache(face: FontFace) -> _Statuses | None:
    file = _cache_file(face)
    if file is None or not file.is_file():
        return None
    try:
        data = np.frombuffer(zlib.decompress(file.read_bytes()), dtype=np.uint8)
    except (OSError, zlib.error):
        return None
    return _Statuses(data.copy()) if data.size == _BMP else None


def _write_cache(face: FontFace, statuses: _Statuses) -> None:
    file = _cache_file(face)
    if file is None:
        return
    # A read-only home: coverage is recomputed next time, nothing else changes.
    with contextlib.suppress(OSError):
        atomic_write_bytes(file, zlib.compress(statuses.bmp.tobytes(), 6))


def _rendering(font: ImageFont.FreeTypeFont, ch: str) -> tuple[tuple[int, int], bytes] | None:
    """The glyph bitmap as a comparable key, or None when it has no ink."""
    mask = font.getmask(ch)
    if mask.getbbox() is None:
        return None
    return mask.size, bytes(mask)


def _classify(face: FontFace, characters: Iterable[str], statuses: _Statuses) -> None:
    """Render ``characters`` and store their statuses; duplicates are looked for among them."""
    font = load_font(face.path, face.index, CHECK_SIZE)
    notdef = _rendering(font, NOTDEF_PROBE)
    groups: dict[tuple[tuple[int, int], bytes], list[str]] = defaultdict(list)
    for ch in characters:
        if ch.isspace():
            drawn_blank = _rendering(font, ch) is None and font.getlength(ch) > 0
            statuses.set(ch, Glyph.DRAWN if drawn_blank else Glyph.TOFU)
            continue
        key = _rendering(font, ch)
        if key is None:
            statuses.set(ch, Glyph.EMPTY)
        elif key == notdef:
            statuses.set(ch, Glyph.TOFU)
        else:
            statuses.set(ch, Glyph.DRAWN)
            groups[key].append(ch)
    for members in groups.values():
        if len(members) < 2:
            continue
        unusable = ["\\"] if sorted(members) == ["\\", "₩"] else members
        for ch in unusable:
            statuses.set(ch, Glyph.SHARED)


def _statuses(face: FontFace, characters: Sequence[str], use_disk_cache: bool) -> _Statuses:
    key = (str(face.path), face.index)
    statuses = _MEMORY.get(key)
    if statuses is None and use_disk_cache:
        statuses = _read_cache(face)
    fresh = statuses is None
    if statuses is None:
        statuses = _Statuses()
        _classify(face, REFERENCE_CHARACTERS, statuses)
    extra = [ch for ch in dict.fromkeys(characters) if statuses.get(ch) == Glyph.UNCHECKED]
    if extra:
        _classify(face, extra, statuses)
    if use_disk_cache and (fresh or any(ord(ch) < _BMP for ch in extra)):
        _write_cache(face, statuses)
    _MEMORY[key] = statuses
    return statuses


def font_coverage(face: FontFace, characters: Iterable[str], *, use_disk_cache: bool = True) -> FontCoverage:
    """Which of ``characters`` the face draws (see the module docstring for the rules)."""
    wanted = tuple(dict.fromkeys(characters))
    statuses = _statuses(face, wanted, use_disk_cache)
    drawable: list[str] = []
    problems: dict[str, int] = defaultdict(int)
    for ch in wanted:
        status = Glyph(statuses.get(ch))
        if status == Glyph.DRAWN:
            drawable.append(ch)
        else:
            problems[status.name] += 1
    return FontCoverage(face, len(wanted), frozenset(drawable), dict(problems))


def _coverage_job(
    args: tuple[FontFace, tuple[str, ...], bool],
) -> tuple[FontFace, np.ndarray, dict[int, int]]:
    face, characters, use_disk_cache = args
    statuses = _statuses(face, characters, use_disk_cache)
    return face, statuses.bmp, statuses.astral


def font_coverages(
    faces: Sequence[FontFace],
    characters: Iterable[str],
    *,
    workers: int = 1,
    use_disk_cache: bool = True,
) -> list[FontCoverage]:
    """:func:`font_coverage` for many faces; faces not cached yet are checked in ``workers`` processes."""
    wanted = tuple(dict.fromkeys(characters))
    todo = [
        face
        for face in faces
        if (str(face.path), face.index) not in _MEMORY
        and not (use_disk_cache and _seed_memory_from_disk(face))
    ]
    if workers > 1 and len(todo) > 1:
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
            jobs = [(face, wanted, use_disk_cache) for face in todo]
            for face, bmp, astral in pool.map(_coverage_job, jobs):
                statuses = _Statuses(bmp)
                statuses.astral.update(astral)
                _MEMORY[(str(face.path), face.index)] = statuses
    return [font_coverage(face, wanted, use_disk_cache=use_disk_cache) for face in faces]


def _seed_memory_from_disk(face: FontFace) -> bool:
    statuses = _read_cache(face)
    if statuses is None:
        return False
    _MEMORY[(str(face.path), face.index)] = statuses
    return True


def clear_memory_cache() -> None:
    """Forget in-memory coverage (tests; a font file replaced while the process runs)."""
    _MEMORY.clear()


def glyph_image(face: FontFace, ch: str, size: int = CHECK_SIZE) -> Image.Image:
    """The character's rendering as an L image (for looking at a suspicious glyph)."""
    mask = load_font(face.path, face.index, size).getmask(ch)
    return Image.Image()._new(mask)
