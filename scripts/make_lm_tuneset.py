"""Split the LM corpus into training and held-out text by source, and render a tuning set from the held-out
part.

    python scripts/make_lm_tuneset.py [--corpus data/corpus/ko-docs.txt] [--out data/corpus]

The decoder's weights (LM weight, length bonus, beam width, confidence calibration) must not be tuned on
the dev benchmark, and tuning on lines of the LM's own training text, or of the same manuals (which
repeat their phrasing from page to page), would reward an LM that memorised them. So one whole source of
the corpus is held out: the GIMP manual's paragraphs (``scripts/make_corpus.py`` reads them from
gimp-help-ko, which must be installed). ``lm-train.txt`` (LibreOffice help and the Debian FAQ) builds the
tuning LM, ``lm-heldout.txt`` (GIMP) gives its held-out perplexity, and ``tune-print`` / ``tune-hand``
(gt.txt + images) are lines of the GIMP paragraphs rendered by ``kocr data synth`` in the default model's
*seen* print and handwriting faces (scripts/fontsplit.py), never the dev benchmark's held-out faces.
``tune-words`` adds lines of kocr's word list generator (random nouns, particles, numbers: text no LM has
seen), half print, half handwriting; weights are chosen on all three together.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fontsplit import HANDWRITING, split
from make_corpus import SOURCES, is_korean_prose, page_lines

HELD_OUT_SOURCE = "gimp-help-ko"


def source_paragraphs(package: str) -> set[str]:
    """The corpus-worthy paragraphs of one of make_corpus.py's sources."""
    folder = SOURCES[package][0]
    if not folder.is_dir():
        raise SystemExit(f"{folder} not found: apt-get install {package}")
    return {
        line for page in sorted(folder.rglob("*.htm*")) for line in page_lines(page) if is_korean_prose(line)
    }


def split_corpus(corpus: Path, out: Path) -> tuple[Path, Path]:
    """Write lm-train.txt (other sources) and lm-heldout.txt (HELD_OUT_SOURCE's paragraphs)."""
    paragraphs = [line.strip() for line in corpus.read_text(encoding="utf-8").splitlines() if line.strip()]
    held_out = source_paragraphs(HELD_OUT_SOURCE)
    train = [p for p in paragraphs if p not in held_out]
    held = [p for p in paragraphs if p in held_out]
    out.mkdir(parents=True, exist_ok=True)
    train_path, held_path = out / "lm-train.txt", out / "lm-heldout.txt"
    train_path.write_text("\n".join(train) + "\n", encoding="utf-8")
    held_path.write_text("\n".join(held) + "\n", encoding="utf-8")
    print(f"{len(train):,} training paragraphs -> {train_path}", end="; ")
    print(f"{len(held):,} of {HELD_OUT_SOURCE} -> {held_path}")
    return train_path, held_path


def render(kocr: str, held: Path, out: Path, kind: str, num: int, seed: int) -> None:
    kinds = ["print-seen", "hand-seen"] if kind == "words" else [kind]
    fonts = [arg for k in kinds for path in split(k) for arg in ("--font", str(path))]
    mix = "corpus=0,words=1" if kind == "words" else "corpus=1,words=0"
    ratio = {"words": "0.5", "hand-seen": "1"}.get(kind, "0")
    hand = [arg for pattern in HANDWRITING for arg in ("--handwriting-fonts", pattern)]
    command = [
        kocr, "data", "synth", "-o", str(out), "--format", "images", "--num", str(num), "--seed", str(seed),
        "--charset", "ko-2350", "--corpus", str(held), "--min-chars", "4", "--max-chars", "30",
        "--text-mix", f"{mix},syllables=0,mixed=0,latin=0", "--no-system-fonts", *fonts, *hand,
        "--handwriting-ratio", ratio, "--workers", "2",
    ]  # fmt: skip
    subprocess.run(command, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=Path("data/corpus/ko-docs.txt"))
    parser.add_argument("--out", type=Path, default=Path("data/corpus"))
    parser.add_argument("--num", type=int, default=300, help="lines per tuning split")
    parser.add_argument("--kocr", default=str(Path(sys.executable).parent / "kocr"))
    args = parser.parse_args()
    _, held = split_corpus(args.corpus, args.out)
    splits = (
        ("print-seen", "tune-print", 101),
        ("hand-seen", "tune-hand", 102),
        ("words", "tune-words", 103),
    )
    for kind, name, seed in splits:
        if not (args.out / name).exists():
            render(args.kocr, held, args.out / name, kind, args.num, seed)


if __name__ == "__main__":
    main()
