"""Cut labelled boxes out of scene photos (AI Hub Text in the wild) into line images a recogniser reads.

Each source photo is decoded once for all of its boxes, photos in parallel threads (PIL releases the
GIL while decoding). Crops keep the source's kind: JPEG photos give JPEG crops (quality 95, so a
million word crops stay small), anything else PNG. Box coordinates are the annotation's pixels; they are
clipped again to the decoded size, since the JSON's width/height are not always right.

Phone photos often carry an EXIF orientation. Whether the annotators saw them turned is not written
down, so the label file's own width/height decide: a photo whose stored size is the label file's only
after applying its EXIF orientation is turned before cropping; otherwise its stored pixels are used.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PIL import Image, ImageOps

from kocr.data.images import check_pixels, image_error
from kocr.data.labels.problems import Kind, Problem
from kocr.data.labels.samples import Region, Sample
from kocr.errors import KocrError
from kocr.fileio import make_folder, writing
from kocr.iterutils import ordered_map

JPEG_SUFFIXES = frozenset({".jpg", ".jpeg"})
JPEG_QUALITY = 95
ORIENTATION_TAG = 0x0112
_UNSAFE = re.compile(r"[^0-9A-Za-z_.-]+")


def check_crop_dir(folder: str | os.PathLike[str], overwrite: bool) -> None:
    """Refuse a folder that already holds files unless ``overwrite``: crops would replace a user's files."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise KocrError(f"{folder} exists and is not a folder")
    if folder.is_dir() and not overwrite and any(folder.iterdir()):
        raise KocrError(f"{folder} is not empty; pass --overwrite to write crops into it anyway")


def crop_regions(
    regions: Sequence[Region],
    folder: str | os.PathLike[str],
    *,
    workers: int = 2,
    overwrite: bool = False,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[Sample], list[Problem]]:
    """Write one image per region into ``folder``; the crops as samples (in ``regions``' order, less
    those that failed) and a problem per lost region (unreadable photo, box outside the decoded image).

    ``progress`` is called with the number of regions done after each photo.
    """
    check_crop_dir(folder, overwrite)
    folder = make_folder(folder)
    names = _unique_names(regions)
    by_image: dict[Path, list[int]] = {}
    for position, region in enumerate(regions):
        by_image.setdefault(region.image, []).append(position)

    def crop_one_photo(image: Path) -> list[tuple[int, Sample | Problem]]:
        positions = by_image[image]
        return list(_crop_photo(image, [(p, regions[p], folder / names[p]) for p in positions]))

    done: list[tuple[int, Sample | Problem]] = []
    pool = ThreadPoolExecutor(max(1, workers))
    for results in ordered_map(pool, crop_one_photo, by_image, read_ahead=4 * max(1, workers)):
        done.extend(results)
        if progress is not None:
            progress(len(results))
    done.sort(key=lambda item: item[0])
    samples = [item for _, item in done if isinstance(item, Sample)]
    problems = [item for _, item in done if isinstance(item, Problem)]
    return samples, problems


def _crop_photo(image: Path, jobs: list[tuple[int, Region, Path]]) -> Iterator[tuple[int, Sample | Problem]]:
    """The photo's crops, or a problem per region when it cannot be decoded. Failing to *write* a crop
    (disk full, no permission) is not the data's fault and raises."""
    try:
        photo = Image.open(image)
        check_pixels(*photo.size)
        photo.load()
    except FileNotFoundError:
        reason = "file not found"
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        reason = image_error(exc)
    else:
        with photo:
            yield from _crops(_as_annotated(photo, jobs[0][1].photo_size), image, jobs)
        return
    for position, region, _ in jobs:
        yield position, Problem(Kind.UNREADABLE_IMAGE, region.source, f"{image}: {reason}", ref=region.ref)


def _as_annotated(photo: Image.Image, size: tuple[int, int] | None) -> Image.Image:
    """The photo as the boxes were drawn on it: EXIF-turned when only that matches the label file's size."""
    if size is None or photo.size == size or photo.getexif().get(ORIENTATION_TAG, 1) == 1:
        return photo
    turned = ImageOps.exif_transpose(photo)
    return turned if turned.size == size else photo


def _crops(
    photo: Image.Image, image: Path, jobs: list[tuple[int, Region, Path]]
) -> Iterator[tuple[int, Sample | Problem]]:
    width, height = photo.size
    for position, region, target in jobs:
        left, top, right, bottom = region.box
        right, bottom = min(right, width), min(bottom, height)
        if right - left < 2 or bottom - top < 2:
            message = f"bbox {list(region.box)} lies outside {image.name} ({width}x{height})"
            yield position, Problem(Kind.BAD_BOX, region.source, message, ref=region.ref)
            continue
        _save(photo.crop((left, top, right, bottom)), target)
        yield position, Sample(target, region.label, region.where)


def _save(crop: Image.Image, target: Path) -> None:
    """One crop; a failed write (disk full, no permission) is an OutputWriteError, the part removed."""
    try:
        with writing(target):
            if target.suffix == ".jpg":
                if crop.mode not in ("RGB", "L"):
                    crop = crop.convert("RGB")
                crop.save(target, quality=JPEG_QUALITY)
            else:
                crop.save(target)
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def _unique_names(regions: Sequence[Region]) -> list[str]:
    """A file name per region: its ``name`` made file-safe, the source's kind as suffix, clashes numbered."""
    seen: set[str] = set()
    names: list[str] = []
    for region in regions:
        stem = _UNSAFE.sub("_", region.name).strip("._") or "region"
        suffix = ".jpg" if region.image.suffix.lower() in JPEG_SUFFIXES else ".png"
        name, count = stem + suffix, 1
        while name.lower() in seen:
            count += 1
            name = f"{stem}-{count}{suffix}"
        seen.add(name.lower())
        names.append(name)
    return names
