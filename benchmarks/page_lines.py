"""How well the classical finder finds and orders a page set's lines, without reading them: each found
region against the truth boxes in ``page-*.lines.json``.

    python -m benchmarks.page_lines PAGE_SET [--pages 1 5 7] [--time]

For every page the finder runs as the page reader runs it (quarter turn detected and undone, lines
found, put in reading order, quads mapped back to the page as given); quads are compared by their
overlapping areas (both rasterised at a quarter of the page's size). Per page:

- ``truth`` / ``found``: the truth lines and the regions found;
- ``ok``: truth lines covered by exactly one region that is mostly that line's;
- ``split``: truth lines cut into two regions or more; ``merged``: regions over two truth lines or more;
- ``missed``: truth lines no region covers half of; ``extra``: regions over no truth line;
- ``order``: reading order breaks: consecutive regions whose truth lines go backwards (0 is perfect;
  read either way, as a page upside down is only settled by reading it).

The page's layout and medium are worked out from the set's seed (``kocr data synth --pages``).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from kocr.data.images import load_image
from kocr.data.synth.page_set import read_page_lines
from kocr.data.synth.pages import _choose
from kocr.data.synth.pages_config import PageConfig
from kocr.data.synth.render import sample_rng
from kocr.pages.find import ClassicalLineFinder
from kocr.pages.order import reading_order
from kocr.pages.orientation import detect_rotation, quad_to_original, turn

SCALE = 0.25
COVERED = 0.5  # of a truth line's area, for a region to cover it
OWN = 0.2  # of a region's area inside a truth line, for it to be part of that line


@dataclass
class PageFigures:
    name: str
    kind: str
    truth: int
    found: int
    ok: int
    split: int
    merged: int
    missed: int
    extra: int
    order: int
    seconds: float


def page_kind(seed: int, index: int, config: dict) -> str:
    """The layout and medium page ``index`` of a set seeded ``seed`` was drawn with."""

    class _Plan:
        hand = printed = (object(),)

    page_config = PageConfig(layouts=config["layouts"], papers=config["papers"], seed=seed)
    rng = sample_rng(seed, index)
    layout, _, hand = _choose(rng, page_config, _Plan())  # type: ignore[arg-type]
    photo = rng.random() < config["photo_ratio"]
    return f"{layout}{'/hand' if hand and layout != 'notebook' else ''} {'photo' if photo else 'scan'}"


def _masks(quads: list, size: tuple[int, int]) -> list[tuple[np.ndarray, tuple[int, int]]]:
    """Each quad rasterised at :data:`SCALE` as (mask of its box, box origin)."""
    out = []
    for quad in quads:
        points = [(x * SCALE, y * SCALE) for x, y in quad]
        x0 = max(0, int(min(p[0] for p in points)))
        y0 = max(0, int(min(p[1] for p in points)))
        x1 = min(size[0], int(max(p[0] for p in points)) + 2)
        y1 = min(size[1], int(max(p[1] for p in points)) + 2)
        image = Image.new("1", (max(1, x1 - x0), max(1, y1 - y0)), 0)
        ImageDraw.Draw(image).polygon([(x - x0, y - y0) for x, y in points], fill=1)
        out.append((np.asarray(image, dtype=bool), (x0, y0)))
    return out


def _intersection(a: tuple[np.ndarray, tuple[int, int]], b: tuple[np.ndarray, tuple[int, int]]) -> int:
    (ma, (ax, ay)), (mb, (bx, by)) = a, b
    x0, y0 = max(ax, bx), max(ay, by)
    x1, y1 = min(ax + ma.shape[1], bx + mb.shape[1]), min(ay + ma.shape[0], by + mb.shape[0])
    if x1 <= x0 or y1 <= y0:
        return 0
    return int(
        np.count_nonzero(ma[y0 - ay : y1 - ay, x0 - ax : x1 - ax] & mb[y0 - by : y1 - by, x0 - bx : x1 - bx])
    )


def find_ordered(finder: ClassicalLineFinder, image: Image.Image) -> list:
    """The page's regions in reading order, in the page's pixels as given (as the page reader finds)."""
    rotation, _ = detect_rotation(image)
    upright = turn(image, rotation)
    regions = reading_order(finder.find(upright), *upright.size)
    return [quad_to_original(region.quad, rotation, upright.size) for region in regions]


def compare(truth_quads: list, found_quads: list, size: tuple[int, int]) -> dict[str, int]:
    small = (int(size[0] * SCALE) + 2, int(size[1] * SCALE) + 2)
    truth, found = _masks(truth_quads, small), _masks(found_quads, small)
    inter = np.zeros((len(truth), len(found)))
    for i, t in enumerate(truth):
        for j, f in enumerate(found):
            inter[i, j] = _intersection(t, f)
    truth_area = np.array([max(1, m.sum()) for m, _ in truth], float)
    found_area = np.array([max(1, m.sum()) for m, _ in found], float)
    of_truth = inter / truth_area[:, None]
    of_found = inter / found_area[None, :]
    primary = np.argmax(inter, axis=0) if len(truth) else np.zeros(len(found), int)
    own = of_found[primary, np.arange(len(found))] >= OWN if len(truth) else np.zeros(len(found), bool)
    covering = of_truth >= COVERED
    merged = int(np.count_nonzero(covering.sum(axis=0) >= 2))
    ok = split = missed = 0
    for i in range(len(truth)):
        pieces = np.flatnonzero(own & (primary == i) & (of_truth[i] >= 0.05))
        if of_truth[i].max(initial=0) < COVERED and of_truth[i, pieces].sum() < COVERED:
            missed += 1
        elif len(pieces) >= 2:
            split += 1
        elif len(pieces) == 1 and covering[:, pieces[0]].sum() == 1:
            ok += 1
    sequence = [int(primary[j]) for j in range(len(found)) if own[j]]
    # A page upside down is read from its last line (the reader settles which way up by reading).
    order = min(sum(b < a for a, b in pairwise(run)) for run in (sequence, sequence[::-1]))
    return {
        "ok": ok,
        "split": split,
        "merged": merged,
        "missed": missed,
        "extra": int(np.count_nonzero(~own)),
        "order": order,
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.page_lines", description=__doc__)
    parser.add_argument("page_set", type=Path)
    parser.add_argument("--pages", nargs="*", type=int, help="page numbers (default: all)")
    args = parser.parse_args()
    manifest = json.loads((args.page_set / "manifest.json").read_text())
    finder = ClassicalLineFinder()
    rows = []
    for lines_path in sorted(args.page_set.glob("page-*.lines.json")):
        stem = lines_path.name[: -len(".lines.json")]
        index = int(stem.split("-")[1])
        if args.pages and index not in args.pages:
            continue
        image_path = next(p for p in args.page_set.glob(f"{stem}.*") if p.suffix in (".png", ".jpg"))
        data = read_page_lines(lines_path)
        image = load_image(image_path)
        start = time.perf_counter()
        found = find_ordered(finder, image)
        seconds = time.perf_counter() - start
        truth = [line["box"] for line in data["lines"]]
        figures = compare(truth, found, image.size)
        kind = page_kind(manifest["seed"], index, manifest["config"])
        rows.append(PageFigures(stem, kind, len(truth), len(found), **figures, seconds=seconds))
    head = ("page", "kind", "truth", "found", "ok", "split", "merged", "missed", "extra", "order", "s")
    print(f"{head[0]:<12} {head[1]:<20}" + "".join(f"{h:>7}" for h in head[2:]))
    for r in rows:
        values = (r.truth, r.found, r.ok, r.split, r.merged, r.missed, r.extra, r.order)
        print(f"{r.name:<12} {r.kind:<20}" + "".join(f"{v:>7}" for v in values) + f"{r.seconds:>7.2f}")
    total = [sum(getattr(r, name) for r in rows) for name in head[2:-1]]
    seconds = sum(r.seconds for r in rows)
    print(f"{'all':<12} {'':<20}" + "".join(f"{v:>7}" for v in total) + f"{seconds:>7.2f}")


if __name__ == "__main__":
    main()
