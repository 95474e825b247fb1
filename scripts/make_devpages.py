"""Build the dev page set: synthetic whole pages, with their line boxes and reading order, drawn in fonts
and texts that training never sees.

    python scripts/make_devpages.py -o devpages            # 5 splits × 40 pages

Splits, each a page set as ``kocr data synth --pages`` writes it (``page-NNNNNN.png`` or ``.jpg``,
``.gt.txt``, ``.lines.json``, ``manifest.json``; see :mod:`kocr.data.synth.page_set`):

- ``print-scan``, ``print-photo``: prose, two columns, headings with sections and lists in the held-out
  print faces (``scripts/fontsplit.py``: NanumMyeongjo, UnDotum, NanumSquareRound), scanned or
  photographed;
- ``hand-scan``, ``hand-photo``: prose, lists and ruled notebook pages in the held-out hands (UnPilgi
  and the ten held-out Clova hands of the handwriting collection);
- ``form``: printed labels in a held-out print face with answers in a held-out hand, mostly scanned.

Texts come from the source the line dev set uses and training never does (``scripts/make_devset.py``:
the Korean translations of this machine's programs, pinned catalogs); form labels are the short ones
among them. Pages are turned now and then as in training (``PageDegradations``), so the set also tests
finding a page's orientation.

The output is deterministic for a seed, catalog set and font set. ``manifest.json`` lists the splits in
order with their page and line counts and fonts; it is written last, and the whole set is built in a
hidden folder renamed into place when complete.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fontsplit import split
from make_devset import CATALOG_DOMAINS, CATALOGS, catalog_texts, clean, faces, usable

from kocr.charsets import Charset
from kocr.data.synth.page_set import config_summary, write_page_set
from kocr.data.synth.pages import PageConfig, TextPool, plan_pages
from kocr.fileio import atomic_write_text

PRINT_LAYOUTS = {"prose": 0.35, "columns": 0.2, "sections": 0.25, "list": 0.2}
HAND_LAYOUTS = {"prose": 0.3, "list": 0.25, "notebook": 0.45}
#: split -> (font kinds, layouts, share of photos, share of handwritten pages)
SPLITS: dict[str, tuple[tuple[str, ...], dict[str, float], float, float]] = {
    "print-scan": (("print",), PRINT_LAYOUTS, 0.0, 0.0),
    "print-photo": (("print",), PRINT_LAYOUTS, 1.0, 0.0),
    "hand-scan": (("hand",), HAND_LAYOUTS, 0.0, 1.0),
    "hand-photo": (("hand",), HAND_LAYOUTS, 1.0, 1.0),
    "form": (("print", "hand"), {"form": 1.0}, 0.3, 0.0),
}
FONT_SPLITS = {"print": "print-heldout", "hand": "hand-heldout"}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--pages-per-split", type=int, default=40)
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--catalogs", type=Path, default=CATALOGS)
    parser.add_argument("--texts", type=Path, help="use this UTF-8 file (one text per line) instead")
    parser.add_argument("-j", "--workers", type=int, default=min(2, os.cpu_count() or 1))
    args = parser.parse_args()

    if args.output.exists():
        raise SystemExit(f"{args.output} exists; remove it or choose another --output")
    if args.pages_per_split < 1:
        raise SystemExit("--pages-per-split must be at least 1")
    started = time.perf_counter()
    charset = Charset.preset("ko-2350")
    if args.texts:
        pool = [clean(line) for line in args.texts.read_text(encoding="utf-8").splitlines()]
    else:
        if not args.catalogs.is_dir():
            raise SystemExit(f"{args.catalogs} not found: pass --texts FILE with Korean lines instead")
        pool = catalog_texts(args.catalogs)
    pool = sorted({t for t in pool if usable(t, charset)})
    random.Random(args.seed).shuffle(pool)
    labels = tuple(t for t in pool if len(t) <= 10)
    print(f"{len(pool):,} usable dev texts, {len(labels):,} short enough for form labels", file=sys.stderr)

    temp = args.output.parent / f".{args.output.name}.partial-{uuid.uuid4().hex[:12]}"
    temp.mkdir(parents=True)
    manifest: dict[str, object] = {
        "kind": "kocr dev page set",
        "seed": args.seed,
        "text_source": str(args.texts or args.catalogs),
        "catalogs": [] if args.texts else list(CATALOG_DOMAINS),
        "texts_sha256": hashlib.sha256("\n".join(sorted(pool)).encode()).hexdigest(),
        "splits": {},
    }
    try:
        for number, (name, (kinds, layouts, photos, hand)) in enumerate(SPLITS.items()):
            split_faces = tuple(face for kind in kinds for face in faces(split(FONT_SPLITS[kind])))
            config = PageConfig(
                fonts=split_faces,
                seed=args.seed + number,
                layouts=layouts,
                photo_ratio=photos,
                handwriting_ratio=hand,
                form_labels=labels,
            )
            the_plan = plan_pages(config, texts=TextPool(pool, args.seed), workers=args.workers)
            report = write_page_set(
                config,
                args.pages_per_split,
                temp / name,
                the_plan=the_plan,
                workers=args.workers,
                manifest_extra={"split": name, "text_source": manifest["text_source"]},
            )
            manifest["splits"][name] = {  # type: ignore[index]
                "pages": report.pages,
                "lines": report.lines,
                "layouts": dict(report.layouts),
                "media": dict(report.media),
                "fonts": dict(sorted(report.fonts.items())),
                "config": config_summary(config),
            }
            print(
                f"{name}: {report.pages} pages, {report.lines:,} lines, {len(report.fonts)} fonts, "
                f"{report.seconds:.0f} s",
                file=sys.stderr,
            )
        atomic_write_text(temp / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
        os.rename(temp, args.output)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    size = sum(p.stat().st_size for p in args.output.rglob("*") if p.is_file())
    print(f"{args.output}: {size / 2**20:,.0f} MiB in {time.perf_counter() - started:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
