"""Build the dev benchmark for the bundled model: four splits of labelled Korean text lines.

    python scripts/make_devset.py -o devset            # 4 × 300 lines

Splits (folders with PNG/JPEG images and a gt.txt each, readable by `kocr eval` and by
``python -m benchmarks.vs_tesseract``): ``print-seen``, ``print-heldout``, ``hand-seen``,
``hand-heldout``. "seen" fonts are among the training fonts, "heldout" fonts never appear in training
(``scripts/fontsplit.py``: NanumMyeongjo, UnDotum, NanumSquareRound for print; UnPilgi and ten Clova
hands of the handwriting collection).

Text comes from a source the training data never uses: the Korean translations of the programs installed
on this Debian machine (gettext catalogs under /usr/share/locale/ko/LC_MESSAGES) — menu items, messages,
error texts written by people. Format placeholders and keyboard mnemonics are removed; lines must fit
the ko-2350 charset and 3–25 characters. Training texts come from kocr's word list, random syllables,
mixed numbers/Latin and Debian's Korean documentation (``scripts/make_corpus.py``) instead, never from
program translations. Degradations (blur, noise, JPEG, low
resolution, slight rotation, tinted and textured paper) come from kocr's renderer with its defaults.

The output is deterministic for a given seed, catalog set and font set; ``manifest.json`` records them
and the splits in order. It is written last: benchmarks take the split names from it
(``benchmarks.devset``), so they refuse a dev set that is still being built.
"""

from __future__ import annotations

import argparse
import gettext
import hashlib
import json
import random
import re
import sys
import unicodedata
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fontsplit import handwriting_dir, split

from kocr.charsets import Charset
from kocr.data.synth.config import SynthConfig
from kocr.data.synth.fonts import FontFace, faces_in_file, font_coverage, mark_handwriting
from kocr.data.synth.render import render_sample
from kocr.text import normalize

CATALOGS = Path("/usr/share/locale/ko/LC_MESSAGES")
# The catalogs of the machine the benchmark was first built on (Debian 12 base image). Pinned, so that
# installing more programs (LibreOffice pulls in GTK 3's) cannot change the dev texts.
CATALOG_DOMAINS = (
    "Linux-PAM",
    "PackageKit",
    "adduser",
    "appstream",
    "apt",
    "at-spi2-core",
    "avahi",
    "bash",
    "coreutils",
    "dpkg",
    "findutils",
    "gdk-pixbuf",
    "gettext-runtime",
    "gettext-tools",
    "git",
    "glib20",
    "grep",
    "gstreamer-1.0",
    "gtk20-properties",
    "gtk20",
    "initdb-15",
    "iso_15924",
    "iso_3166-1",
    "iso_3166-2",
    "iso_3166-3",
    "iso_3166",
    "iso_3166_2",
    "iso_4217",
    "iso_639-2",
    "iso_639-3",
    "iso_639",
    "iso_639_3",
    "libapt-pkg6.0",
    "libc",
    "libpq5-15",
    "make",
    "man-db-gnulib",
    "man-db",
    "pg_amcheck-15",
    "pg_archivecleanup-15",
    "pg_basebackup-15",
    "pg_checksums-15",
    "pg_config-15",
    "pg_controldata-15",
    "pg_ctl-15",
    "pg_dump-15",
    "pg_resetwal-15",
    "pg_rewind-15",
    "pg_test_fsync-15",
    "pg_test_timing-15",
    "pg_upgrade-15",
    "pg_verifybackup-15",
    "pg_waldump-15",
    "pgscripts-15",
    "plpgsql-15",
    "postgres-15",
    "procps-ng",
    "psql-15",
    "python-apt",
    "sed",
    "shadow",
    "shared-mime-info",
    "software-properties",
    "systemd",
    "tar",
    "wget-gnulib",
    "wget",
    "xdg-user-dirs",
    "xkeyboard-config",
    "xz",
)
SPLITS = ("print-seen", "print-heldout", "hand-seen", "hand-heldout")
PLACEHOLDER = re.compile(
    r"%(\d+\$)?[-+ #0]*(\d+|\*)?(\.(\d+|\*))?[hlLqjzt]*[A-Za-z%]|\{[^}]*\}|\$\{[^}]*\}|<[^>]+>"
)
MNEMONIC = re.compile(r"\(_?&?[A-Za-z]\)|[_&](?=\w)")
EMPTY_QUOTES = re.compile(r"(['\"“‘「«]) *(['\"”’」»])")  # what a removed placeholder leaves: '%s' -> ''


def catalog_texts(folder: Path, domains: tuple[str, ...] = CATALOG_DOMAINS) -> list[str]:
    """Cleaned Korean strings from the gettext catalogs ``domains`` in ``folder``, sorted and unique."""
    texts: set[str] = set()
    missing = [d for d in domains if not (folder / f"{d}.mo").is_file()]
    if missing:
        print(f"warning: {len(missing)} pinned catalogs missing: {' '.join(missing)}", file=sys.stderr)
    for path in sorted(folder / f"{d}.mo" for d in domains if d not in missing):
        try:
            with path.open("rb") as handle:
                catalog = gettext.GNUTranslations(handle)._catalog
        except Exception:  # a catalog Python cannot parse is simply skipped
            continue
        for value in catalog.values():
            for piece in value if isinstance(value, tuple) else (value,):
                for line in str(piece).splitlines():
                    texts.add(clean(line))
    return sorted(t for t in texts if t)


def clean(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = PLACEHOLDER.sub(" ", text)
    text = MNEMONIC.sub("", text)
    text = EMPTY_QUOTES.sub(" ", text)
    text = text.replace("\\n", " ").replace("\\t", " ")
    return normalize(text).strip(" .:;,")


def usable(text: str, charset: Charset) -> bool:
    hangul = sum("\uac00" <= ch <= "\ud7a3" for ch in text)
    return 3 <= len(text) <= 25 and hangul >= 2 and charset.covers(text)


def faces(files: list[Path]) -> list[FontFace]:
    """Faces of ``files``; Debian's pen and brush faces and the whole handwriting collection are
    handwriting (drawn with per-character jitter)."""
    collection = handwriting_dir()
    marked = []
    for file in files:
        for face in faces_in_file(file):
            face = mark_handwriting(face, ("NanumPen*", "NanumBrush*", "NanumBarunpen*", "UnPilgi*"))
            marked.append(replace(face, handwriting=True) if file.parent == collection else face)
    return marked


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--per-split", type=int, default=300)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--catalogs", type=Path, default=CATALOGS)
    parser.add_argument("--texts", type=Path, help="use this UTF-8 file (one line per sample) instead")
    args = parser.parse_args()

    if args.output.exists():
        raise SystemExit(f"{args.output} exists; remove it or choose another --output")
    charset = Charset.preset("ko-2350")
    if args.texts:
        pool = [clean(line) for line in args.texts.read_text(encoding="utf-8").splitlines()]
    else:
        if not args.catalogs.is_dir():
            raise SystemExit(f"{args.catalogs} not found: pass --texts FILE with Korean lines instead")
        pool = catalog_texts(args.catalogs)
    pool = sorted({t for t in pool if usable(t, charset)})
    print(f"{len(pool):,} usable dev texts", file=sys.stderr)
    rng = random.Random(args.seed)
    rng.shuffle(pool)

    manifest: dict[str, object] = {
        "seed": args.seed,
        "text_source": str(args.texts or args.catalogs),
        "catalogs": [] if args.texts else list(CATALOG_DOMAINS),
        "texts_sha256": hashlib.sha256("\n".join(sorted(pool)).encode()).hexdigest(),
        "splits": {},
    }
    config = SynthConfig(charset="ko-2350", seed=args.seed)
    cursor = 0
    for split_index, name in enumerate(SPLITS):
        split_faces = faces(split(name))
        coverage = {face: font_coverage(face, charset.symbols).drawable for face in split_faces}
        folder = args.output / name
        folder.mkdir(parents=True)
        rows, used_fonts = [], {}
        while len(rows) < args.per_split:
            if cursor >= len(pool):
                raise SystemExit("ran out of dev texts; lower --per-split")
            text = pool[cursor]
            cursor += 1
            candidates = [f for f in split_faces if all(ch == " " or ch in coverage[f] for ch in text)]
            if not candidates:
                continue
            face = candidates[rng.randrange(len(candidates))]
            index = split_index * 100_000 + len(rows) + 1
            data, extension = render_sample(text, face, index, config)
            file_name = f"{len(rows) + 1:04d}.{extension}"
            (folder / file_name).write_bytes(data)
            rows.append(f"{file_name}\t{text}")
            used_fonts[face.name] = used_fonts.get(face.name, 0) + 1
        (folder / "gt.txt").write_text("\n".join(rows) + "\n", encoding="utf-8")
        manifest["splits"][name] = {"lines": len(rows), "fonts": used_fonts}  # type: ignore[index]
        print(f"{name}: {len(rows)} lines, {len(used_fonts)} fonts", file=sys.stderr)
    (args.output / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")


if __name__ == "__main__":
    main()
