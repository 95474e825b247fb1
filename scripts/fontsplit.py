"""Which fonts the default model trains on and which the dev benchmark holds out.

Shared by ``scripts/make_devset.py`` and ``scripts/train_default.sh`` (through ``--as-options``), so the
two can never disagree. The dev benchmark's fonts come from Debian's fonts-nanum, fonts-nanum-extra,
fonts-unfonts-core and fonts-noto-cjk. Training also uses fonts the dev set never draws with: Debian's
fonts-unfonts-extra and the Google Fonts families that ``scripts/fetch_fonts.py`` puts in data/fonts
(both optional: missing folders are skipped). Adding training fonts therefore never changes the dev set.

Held out entirely from training:
- print: NanumMyeongjo (all weights), UnDotum, NanumSquareRound;
- handwriting: UnPilgi (regular and bold).
"""

from __future__ import annotations

import argparse
import fnmatch
from pathlib import Path

FONT_DIRS = (
    Path("/usr/share/fonts/truetype/nanum"),
    Path("/usr/share/fonts/truetype/unfonts-core"),
    Path("/usr/share/fonts/opentype/noto"),
)
TRAIN_ONLY_DIRS = (
    Path("/usr/share/fonts/truetype/unfonts-extra"),
    Path(__file__).resolve().parent.parent / "data" / "fonts",
)
HANDWRITING = ("NanumPen*", "NanumBrush*", "NanumBarunpen*", "UnPilgi*", "UnPen*", "Hand-*")
HELD_OUT = ("NanumMyeongjo*", "UnDotum*", "NanumSquareRound*", "UnPilgi*")  # UnPilgi* takes UnPilgia too
IGNORED = ("*YetHangul*", "UnYetgul*", "UnJamo*")  # old-Hangul / jamo-composing faces


def _matches(name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


def font_files(folders: tuple[Path, ...] = FONT_DIRS) -> list[Path]:
    """Every usable Korean font file in ``folders`` (sorted), excluding the ignored ones."""
    files = []
    for folder in folders:
        if folder.is_dir():
            files.extend(p for p in folder.iterdir() if p.suffix.lower() in (".ttf", ".otf", ".ttc"))
    return sorted(p for p in files if not _matches(p.name, IGNORED))


def split(kind: str, *, train_only_fonts: bool = True) -> list[Path]:
    """``train``, ``print-seen``, ``print-heldout``, ``hand-seen`` or ``hand-heldout`` font files."""
    files = font_files()
    held = [p for p in files if _matches(p.name, HELD_OUT)]
    seen = [p for p in files if p not in held]
    # without train-only fonts: the dev set's Debian fonts alone (stage 1 of scripts/train_default.sh)
    extra = font_files(TRAIN_ONLY_DIRS) if train_only_fonts else []
    extra = [p for p in extra if not _matches(p.name, HELD_OUT)]
    choose = {
        "train": seen + extra,
        "print-seen": [p for p in seen if not _matches(p.name, HANDWRITING)],
        "hand-seen": [p for p in seen if _matches(p.name, HANDWRITING)],
        "print-heldout": [p for p in held if not _matches(p.name, HANDWRITING)],
        "hand-heldout": [p for p in held if _matches(p.name, HANDWRITING)],
    }
    if kind not in choose:
        raise SystemExit(f"unknown font split {kind!r}; choose from {', '.join(choose)}")
    return choose[kind]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "kind", nargs="?", default="train", help="train, print-seen, print-heldout, hand-seen or hand-heldout"
    )
    parser.add_argument("--as-options", action="store_true", help="print as repeated --font options")
    parser.add_argument("--handwriting-patterns", action="store_true", help="print the handwriting patterns")
    parser.add_argument(
        "--no-train-only-fonts", action="store_true", help="train: leave out unfonts-extra and data/fonts"
    )
    args = parser.parse_args()
    if args.handwriting_patterns:
        print(" ".join(f"--handwriting-fonts {pattern}" for pattern in HANDWRITING))
        raise SystemExit(0)
    for path in split(args.kind, train_only_fonts=not args.no_train_only_fonts):
        print(f"--font {path}" if args.as_options else path)
