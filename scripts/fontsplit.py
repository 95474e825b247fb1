"""Which fonts the default model trains on and which the dev benchmark holds out.

Shared by ``scripts/make_devset.py`` and ``scripts/train_default.sh`` (through ``--as-options``), so the
two can never disagree. The dev benchmark's print and seen-handwriting fonts come from Debian's
fonts-nanum, fonts-nanum-extra, fonts-unfonts-core and fonts-noto-cjk. Training also uses fonts the dev
set never draws with: Debian's fonts-unfonts-extra and the Google Fonts families that
``scripts/fetch_fonts.py`` puts in data/fonts (both optional: missing folders are skipped).

The handwriting collection (119 families, 95 of them Naver Clova fonts drawn from one real person's
hand each; see ``scripts/fetch_handwriting_fonts.py``) is found in ``$KOCR_HANDWRITING_FONTS``, the
project's ``../shared/fonts/handwriting`` or ``data/handwriting``. Ten Clova hands, drawn with
``random.Random(HELD_OUT_SEED)`` from the sorted Clova file names and written out in
:data:`HELD_OUT_HANDS`, never train: they are the dev benchmark's unseen hands. Only single-hand Clova
fonts are drawn, so no held-out hand has a sibling weight in training.

Held out entirely from training:
- print: NanumMyeongjo (all weights), UnDotum, NanumSquareRound;
- handwriting: UnPilgi (regular and bold) and the ten hands of :data:`HELD_OUT_HANDS`.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

FONT_DIRS = (
    Path("/usr/share/fonts/truetype/nanum"),
    Path("/usr/share/fonts/truetype/unfonts-core"),
    Path("/usr/share/fonts/opentype/noto"),
)
TRAIN_ONLY_DIRS = (
    Path("/usr/share/fonts/truetype/unfonts-extra"),
    ROOT / "data" / "fonts",
)
HANDWRITING_DIRS = (ROOT.parent / "shared" / "fonts" / "handwriting", ROOT / "data" / "handwriting")
HELD_OUT_SEED = 13
HELD_OUT_HANDS = (
    "NanumDaCaeSaRang.ttf",
    "NanumDarEuiGweDo.ttf",
    "NanumDongHwaDdoBag.ttf",
    "NanumDungGeunInYeon.ttf",
    "NanumGaRamYeonGgoc.ttf",
    "NanumGgeuTeuMeoRiCe.ttf",
    "NanumSinHonBuBu.ttf",
    "NanumSoBangGwanEuiGiDo.ttf",
    "NanumSuJubEunDaeHagSaeng.ttf",
    "NanumYaCaeJangSuBaegGeumRye.ttf",
)
HANDWRITING = ("NanumPen*", "NanumBrush*", "NanumBarunpen*", "UnPilgi*", "UnPen*", "Hand-*")
# Every face of the handwriting collection is handwriting; kocr data synth marks them by folder.
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


def handwriting_dir() -> Path | None:
    """The handwriting collection's folder ($KOCR_HANDWRITING_FONTS first), or None if absent."""
    env = os.environ.get("KOCR_HANDWRITING_FONTS")
    candidates = (Path(env),) if env else HANDWRITING_DIRS
    for folder in candidates:
        if folder.is_dir() and any(folder.glob("*.ttf")):
            return folder
    if env:
        raise SystemExit(f"KOCR_HANDWRITING_FONTS={env} holds no .ttf files")
    return None


def held_out_hands(folder: Path) -> list[Path]:
    """The held-out Clova hands in ``folder``; checks that the seeded draw still gives the written list."""
    clova = sorted(p.name for p in folder.glob("Nanum*.ttf"))
    if len(clova) == 95 and tuple(sorted(random.Random(HELD_OUT_SEED).sample(clova, 10))) != HELD_OUT_HANDS:
        raise SystemExit(f"{folder}: the seeded draw no longer gives HELD_OUT_HANDS; the collection changed")
    missing = [name for name in HELD_OUT_HANDS if not (folder / name).is_file()]
    if missing:
        raise SystemExit(f"{folder}: held-out hands missing: {', '.join(missing)}")
    return [folder / name for name in HELD_OUT_HANDS]


def split(kind: str, *, train_only_fonts: bool = True, collection: bool = True) -> list[Path]:
    """``train``, ``print-seen``, ``print-heldout``, ``hand-seen`` or ``hand-heldout`` font files.

    ``train_only_fonts=False`` leaves out unfonts-extra and data/fonts (stage 1 of the v3 recipe);
    ``collection=False`` leaves out the handwriting collection (stages 1-4, which predate it).
    """
    files = font_files()
    held = [p for p in files if _matches(p.name, HELD_OUT)]
    seen = [p for p in files if p not in held]
    extra = font_files(TRAIN_ONLY_DIRS) if train_only_fonts else []
    extra = [p for p in extra if not _matches(p.name, HELD_OUT)]
    hands_dir = handwriting_dir() if collection else None
    held_hands = held_out_hands(hands_dir) if hands_dir else []
    hands = [p for p in font_files((hands_dir,)) if p not in held_hands] if hands_dir else []
    choose = {
        "train": seen + extra + hands,
        "print-seen": [p for p in seen if not _matches(p.name, HANDWRITING)],
        "hand-seen": [p for p in seen if _matches(p.name, HANDWRITING)],
        "print-heldout": [p for p in held if not _matches(p.name, HANDWRITING)],
        "hand-heldout": [p for p in held if _matches(p.name, HANDWRITING)] + held_hands,
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
    parser.add_argument(
        "--no-collection", action="store_true", help="leave out the 119-face handwriting collection"
    )
    args = parser.parse_args()
    if args.handwriting_patterns:
        print(" ".join(f"--handwriting-fonts {pattern}" for pattern in HANDWRITING))
        raise SystemExit(0)
    chosen = split(
        args.kind, train_only_fonts=not args.no_train_only_fonts, collection=not args.no_collection
    )
    for path in chosen:
        print(f"--font {path}" if args.as_options else path)
