"""Fetch the 119-face Korean handwriting collection the default model trains on.

    python scripts/fetch_handwriting_fonts.py -o data/handwriting             # from GitHub
    python scripts/fetch_handwriting_fonts.py -o data/handwriting --from DIR  # a local copy

The collection: 95 Naver Clova "나눔손글씨" fonts, each drawn from one real person's hand, and 24
others (학교안심, 카페24, KCC, 김정철필기체, 가비아 솔미체, EF 혀니도로롱). ``recipes/handwriting_fonts.tsv``
lists every file with its family, licence and source (a ``github:fonts-archive/<repo>:<file>`` path
at a pinned commit). Fonts are never committed to kocr; this script rebuilds the folder:

1. download each source file at its commit (or read it from ``--from DIR``, a folder of TTF/OTF/WOFF
   files with the same names; files already in the collection's TTF form are copied as they are);
2. convert WOFF/OTF to TrueType-flavoured TTF where needed and subset to the ``ko-2350`` preset's
   symbols without hinting (what the renderer can use: KS X 1001's 2,350 syllables, printable
   ASCII, space, 28 Korean punctuation marks), which keeps the folder small;
3. write ``OUT/<file>`` and print a line per font.

Licences (details per file in the TSV): Naver Nanum font licence (95), SIL OFL 1.1 (9), free-use
terms stated by the vendor (5), CC BY for the 9 KCC fonts — anything shipping images or models made
with them credits "KCC 서체, 한국저작권위원회". Needs ``fonttools`` (the ``recipe`` extra) and network
access to raw.githubusercontent.com unless ``--from`` is given.
"""

from __future__ import annotations

import argparse
import csv
import io
import shutil
import sys
import urllib.request
from pathlib import Path

MANIFEST = Path(__file__).resolve().parent / "recipes" / "handwriting_fonts.tsv"
RAW_URL = "https://raw.githubusercontent.com/{repo}/{commit}/{path}"


def read_manifest(path: Path = MANIFEST) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def source_url(row: dict[str, str]) -> tuple[str, str]:
    """(download URL, source file name) of a manifest row's ``github:owner/repo:path``."""
    kind, _, rest = row["source"].partition(":")
    repo, _, path = rest.partition(":")
    if kind != "github" or not repo or not path:
        raise SystemExit(f"{MANIFEST}: unsupported source {row['source']!r} for {row['file']}")
    return RAW_URL.format(repo=repo, commit=row["commit"], path=path), Path(path).name


def ko_2350_text() -> str:
    """The symbols the collection is subset to (kocr's ko-2350 preset)."""
    from kocr.charsets import Charset

    return "".join(Charset.preset("ko-2350").symbols)


def convert(data: bytes, output: Path, keep: str) -> None:
    """``data`` (TTF/OTF/WOFF/WOFF2) subset to ``keep``, unhinted, written as ``output``."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(io.BytesIO(data))
    font.flavor = None
    options = subset.Options()
    options.hinting = False
    options.layout_features = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=keep)
    subsetter.subset(font)
    font.save(str(output))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--from", dest="source", type=Path, help="a local folder holding the files")
    parser.add_argument("--overwrite", action="store_true", help="replace files already in OUTPUT")
    args = parser.parse_args()
    rows = read_manifest()
    args.output.mkdir(parents=True, exist_ok=True)
    keep = ko_2350_text()
    for row in rows:
        target = args.output / row["file"]
        if target.exists() and not args.overwrite:
            print(f"{target}: present, kept")
            continue
        url, name = source_url(row)
        if args.source is not None:
            ready = args.source / row["file"]
            if ready.is_file():  # already the collection's own TTF
                shutil.copyfile(ready, target)
                print(f"{target}: copied from {ready}")
                continue
            local = args.source / name
            if not local.is_file():
                raise SystemExit(f"{args.source}: neither {row['file']} nor {name} found")
            data = local.read_bytes()
        else:
            with urllib.request.urlopen(url, timeout=60) as response:
                data = response.read()
        convert(data, target, keep)
        print(f"{target}: {row['licence'][:40]}")
    print(f"{len(rows)} fonts in {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
