"""Fetch extra Korean fonts (Google Fonts, through npm's @fontsource packages) for the default model.

    python scripts/fetch_fonts.py -o data/fonts

Debian ships four handwriting-style Korean faces; a model trained on four hands reads a fifth poorly. The
Google Fonts Korean families (SIL Open Font License) add a dozen more hands and a dozen print faces.
npm is the one place they can be fetched from here, and @fontsource ships each family only as ~100
unicode-range slices (web subsets); this script merges the slices of one weight back into a single
TrueType file that PIL and kocr's renderer can use. Needs ``npm`` and ``fonttools`` (build-time only;
kocr itself does not depend on them). Versions are pinned so the recipe is reproducible.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

# fontsource id -> (pinned version, weights, handwriting?)
FAMILIES: dict[str, tuple[str, tuple[int, ...], bool]] = {
    "gaegu": ("5.3.0", (400, 700), True),
    "hi-melody": ("5.3.0", (400,), True),
    "gamja-flower": ("5.3.0", (400,), True),
    "poor-story": ("5.3.0", (400,), True),
    "east-sea-dokdo": ("5.3.0", (400,), True),
    "yeon-sung": ("4.5.10", (400,), True),
    "single-day": ("5.3.1", (400,), True),
    "cute-font": ("5.2.8", (400,), True),
    "kirang-haerang": ("5.0.7", (400,), True),
    "black-and-white-picture": ("5.3.0", (400,), True),
    "stylish": ("5.3.1", (400,), False),
    "song-myung": ("5.2.8", (400,), False),
    "sunflower": ("5.3.1", (300, 700), False),
    "do-hyeon": ("5.3.0", (400,), False),
    "jua": ("5.3.0", (400,), False),
    "gowun-dodum": ("5.3.0", (400,), False),
    "gowun-batang": ("5.3.0", (400, 700), False),
    "gothic-a1": ("5.3.0", (300, 500, 800), False),
    "orbit": ("5.3.0", (400,), False),
    "hahmlet": ("5.3.0", (300, 600), False),
    "diphylleia": ("5.2.7", (400,), False),
}
LAYOUT_TABLES = ["GSUB", "GPOS", "GDEF"]  # not needed to draw Hangul and Latin; they break merging


def output_name(family: str, weight: int) -> str:
    """File name, with a ``Hand-`` prefix for handwriting faces so a pattern can mark them."""
    prefix = "Hand-" if FAMILIES[family][2] else "Print-"
    title = "".join(part.capitalize() for part in family.split("-"))
    return f"{prefix}{title}-{weight}.ttf"


def npm_pack(family: str, version: str, cache: Path) -> Path:
    """The package tarball, from the cache or from ``npm pack``."""
    tarball = cache / f"fontsource-{family}-{version}.tgz"
    if not tarball.exists():
        subprocess.run(
            ["npm", "pack", "--silent", f"@fontsource/{family}@{version}"],
            cwd=cache,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return tarball


def merge_slices(tarball: Path, weight: int, output: Path) -> int:
    """Merge every ``.woff`` slice of one weight into ``output``; returns the number of mapped characters."""
    from fontTools.merge import Merger, Options
    from fontTools.ttLib import TTFont

    with tempfile.TemporaryDirectory() as tmp, tarfile.open(tarball) as archive:
        suffix = f"-{weight}-normal.woff"
        members = [m for m in archive.getmembers() if m.name.endswith(suffix) and "/files/" in m.name]
        if not members:
            raise SystemExit(f"{tarball.name}: no {suffix} files")
        slices = []
        for member in sorted(members, key=lambda m: m.name):
            source = archive.extractfile(member)
            assert source is not None
            font = TTFont(source)
            for tag in LAYOUT_TABLES:
                if tag in font:
                    del font[tag]
            font.flavor = None
            path = Path(tmp) / (Path(member.name).stem + ".ttf")
            font.save(path)
            slices.append(str(path))
        merged = Merger(options=Options(drop_tables=LAYOUT_TABLES)).merge(slices)
        merged.save(output)
        return len(merged.getBestCmap())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-o", "--output", type=Path, default=Path("data/fonts"))
    parser.add_argument(
        "--cache", type=Path, default=None, help="where npm tarballs go (default: OUTPUT/.npm)"
    )
    args = parser.parse_args()
    try:
        import fontTools  # noqa: F401
    except ImportError:
        sys.exit("fonttools is needed: pip install fonttools")
    cache = args.cache or args.output / ".npm"
    cache.mkdir(parents=True, exist_ok=True)
    for family, (version, weights, _) in FAMILIES.items():
        tarball = npm_pack(family, version, cache)
        for weight in weights:
            target = args.output / output_name(family, weight)
            if target.exists():
                continue
            count = merge_slices(tarball, weight, target)
            print(f"{target}: {count} characters", flush=True)


if __name__ == "__main__":
    main()
