"""Build kocr's Korean prose corpus from documentation that Debian ships in Korean.

    apt-get install libreoffice-help-ko gimp-help-ko debian-faq-ko
    python scripts/make_corpus.py -o data/corpus/ko-docs.txt

The default model's synthetic lines and its character language model (``kocr lm build``) both read
this file. Sources, all real modern Korean written by people, with their licences:

- ``libreoffice-help-ko``: LibreOffice's help pages (MPL-2.0), about 25,000 paragraphs;
- ``gimp-help-ko``: the GIMP user manual (GFDL-1.2+, no invariant sections);
- ``debian-faq-ko``: the Debian FAQ (GPL-2+ / the FAQ's own free licence, see its copyright file).

Only the text is kept: HTML tags, scripts and code blocks are dropped; a line is kept when at least
40 % of its non-space characters are Hangul syllables and it has at least 5 of them. Lines are NFC,
whitespace-collapsed, deduplicated and written in a seeded shuffled order (paragraphs of one page are
not neighbours in the file, so a prefix of the file is a fair sample of all of it).

The dev benchmark (``scripts/make_devset.py``) takes its text from program translations (gettext
catalogs), never from these packages; ``--exclude FILE`` additionally drops every paragraph that
contains one of FILE's lines of at least ``--exclude-min-chars`` (5) characters verbatim. The recipe
passes the dev set's 1,200 texts, which drops about 200 paragraphs; shorter dev texts are ordinary
words ("가운데", "매핑") that any Korean text contains.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import re
import sys
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

SOURCES: dict[str, tuple[Path, str]] = {
    "libreoffice-help-ko": (Path("/usr/share/libreoffice/help/ko"), "MPL-2.0"),
    "gimp-help-ko": (Path("/usr/share/gimp/2.0/help/ko"), "GFDL-1.2+"),
    "debian-faq-ko": (Path("/usr/share/doc/debian/FAQ/ko"), "GPL-2+"),
}
BLOCK_TAGS = frozenset(
    {"p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "br", "td", "th", "tr", "dt", "dd", "title"}
)
SKIPPED_TAGS = frozenset({"script", "style", "pre", "code"})
WHITESPACE = re.compile(r"\s+")


class _TextExtractor(HTMLParser):
    """Visible text of an HTML page, one block element per line."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in SKIPPED_TAGS:
            self._skipping += 1
        if tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED_TAGS and self._skipping:
            self._skipping -= 1
        if tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def page_lines(path: Path) -> list[str]:
    """Normalised text lines of one HTML page."""
    extractor = _TextExtractor()
    extractor.feed(path.read_text(encoding="utf-8", errors="replace"))
    text = unicodedata.normalize("NFC", "".join(extractor.parts))
    return [WHITESPACE.sub(" ", line).strip() for line in text.split("\n")]


def is_korean_prose(line: str) -> bool:
    hangul = sum("\uac00" <= ch <= "\ud7a3" for ch in line)
    return hangul >= 5 and hangul >= 0.4 * len(line.replace(" ", ""))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--exclude", type=Path, help="drop paragraphs containing any line of this file")
    parser.add_argument("--exclude-min-chars", type=int, default=5, help="shorter --exclude lines are kept")
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args()
    if args.output.exists() and not args.overwrite:
        raise SystemExit(f"{args.output} exists; pass --overwrite to replace it")

    lines: dict[str, None] = {}
    for package, (folder, licence) in SOURCES.items():
        if not folder.is_dir():
            raise SystemExit(f"{folder} not found: apt-get install {package}")
        before = len(lines)
        for page in sorted(folder.rglob("*.htm*")):
            for line in page_lines(page):
                if is_korean_prose(line):
                    lines.setdefault(line)
        print(f"{package} ({licence}): {len(lines) - before:,} new paragraphs", file=sys.stderr)
    kept = list(lines)
    if args.exclude:
        lines_of = args.exclude.read_text(encoding="utf-8").splitlines()
        banned = [t for t in (line.strip() for line in lines_of) if len(t) >= args.exclude_min_chars]
        kept = [line for line in kept if not any(text in line for text in banned)]
        print(f"--exclude: dropped {len(lines) - len(kept):,} paragraphs", file=sys.stderr)
    random.Random(args.seed).shuffle(kept)
    body = "\n".join(kept) + "\n"
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(body, encoding="utf-8")
    syllables = sum("\uac00" <= ch <= "\ud7a3" for ch in body)
    digest = hashlib.sha256(body.encode()).hexdigest()[:16]
    print(
        f"wrote {args.output}: {len(kept):,} paragraphs, {syllables:,} Hangul syllables, "
        f"{len(body.encode()) / 1e6:.1f} MB, sha256 {digest}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
