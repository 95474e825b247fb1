"""Which fonts the default model trains on and which the dev benchmark holds out.

Shared by ``scripts/make_devset.py`` and ``scripts/train_default.sh`` (through ``--print``), so the two
can never disagree. Font files come from Debian's fonts-nanum, fonts-nanum-extra, fonts-unfonts-core and
fonts-noto-cjk, plus the Noto Sans/Serif KR of the ``fonts`` extra.

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
HANDWRITING = ("NanumPen*", "NanumBrush*", "NanumBarunpen*", "UnPilgi*")
HELD_OUT = ("NanumMyeongjo*", "UnDotum*", "NanumSquareRound*", "UnPilgi*")
IGNORED = ("*YetHangul*",)  # old-Hangul variants of faces already in the list


def _matches(name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


def font_files() -> list[Path]:
    """Every usable Korean font file on this machine (sorted), excluding the ignored ones."""
    files = []
    for folder in FONT_DIRS:
        if folder.is_dir():
            files.extend(p for p in folder.iterdir() if p.suffix.lower() in (".ttf", ".otf", ".ttc"))
    return sorted(p for p in files if not _matches(p.name, IGNORED))


def split(kind: str) -> list[Path]:
    """``train``, ``print-seen``, ``print-heldout``, ``hand-seen`` or ``hand-heldout`` font files."""
    files = font_files()
    held = [p for p in files if _matches(p.name, HELD_OUT)]
    seen = [p for p in files if p not in held]
    choose = {
        "train": seen,
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
    parser.add_argument("kind", help="train, print-seen, print-heldout, hand-seen or hand-heldout")
    parser.add_argument("--as-options", action="store_true", help="print as repeated --font options")
    args = parser.parse_args()
    for path in split(args.kind):
        print(f"--font {path}" if args.as_options else path)
