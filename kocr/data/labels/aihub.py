"""AI Hub "한국어 글자체 이미지" JSON (COCO-like ``images[]`` + ``annotations[]``) → samples.

Every defect is a :class:`~kocr.data.labels.problems.Problem` naming the file and the AI Hub
image/annotation id; reading never stops at a bad entry, because the AI Hub releases ship with missing
images, labels such as ``'국ㅇㄴ'`` and empty texts, and a 700,000-image conversion must not die at
entry 412,331. Images are found by file name under an image root (:class:`ImageIndex`), since the
archives unpack into nested folders while the JSON gives bare names. Text in the wild's boxes in
scene photos become :class:`~kocr.data.labels.samples.Region` entries that
:mod:`kocr.data.labels.regions` cuts out.
"""

from __future__ import annotations

import json
import math
import os
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from kocr.data.labels.cleaning import clean_label
from kocr.data.labels.problems import Kind, Problem
from kocr.data.labels.samples import Conversion, Region, Sample
from kocr.errors import InputFileError, KocrError

# AI Hub's Korean annotation types and the English names kocr uses for them.
AIHUB_TYPES: dict[str, str] = {
    "글자(음절)": "syllable",
    "단어(어절)": "word",
    "문장": "sentence",
    "글자": "syllable",
    "음절": "syllable",
    "단어": "word",
    "어절": "word",
    "character": "syllable",  # Text in the wild's attributes.class
}
IGNORED_CLASS = "ignored"  # Text in the wild: a box around text nobody could read
SAMPLE_TYPES: tuple[str, ...] = ("syllable", "word", "sentence")


class ImageIndex:
    """Every file under a root, by name, built with one walk.

    AI Hub archives unpack into nested folders (``1_syllable/``, ``2_word/``, part folders) while the
    JSON gives bare file names, so images are found by name. Hidden folders are skipped.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise InputFileError(self.root, "image root is not a folder")
        self._by_name: dict[str, list[Path]] = {}
        for folder, dirs, files in os.walk(self.root):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in files:
                self._by_name.setdefault(name, []).append(Path(folder, name))

    def find(self, file_name: str) -> list[Path]:
        """All files matching ``file_name``: a path relative to the root wins, else the bare name."""
        if "/" in file_name or "\\" in file_name:
            direct = self.root / file_name
            if direct.is_file():
                return [direct]
        return self._by_name.get(Path(file_name.replace("\\", "/")).name, [])

    def __len__(self) -> int:
        return sum(len(paths) for paths in self._by_name.values())


def sample_type(name: str) -> str:
    """``syllable``/``word``/``sentence`` for an English or AI Hub Korean type name."""
    key = unicodedata.normalize("NFC", name).strip()
    if key.lower() in SAMPLE_TYPES:
        return key.lower()
    if key in AIHUB_TYPES:
        return AIHUB_TYPES[key]
    raise KocrError(
        f"unknown sample type {name!r}; choose from {', '.join(SAMPLE_TYPES)} (or 글자, 단어, 문장)"
    )


def read_aihub(
    path: str | Path,
    *,
    image_root: str | Path | None = None,
    types: Iterable[str] | None = None,
    keep_jamo: bool = False,
    regions: bool = False,
) -> Conversion:
    """Join an AI Hub label JSON's annotations to image files under ``image_root``.

    ``image_root`` defaults to the JSON's folder; ``types`` (syllable, word, sentence, or the Korean
    names) keeps only those annotation types, all when None. Text in the wild annotates boxes in scene
    photos (``bbox``, ``attributes.class`` word/character/ignored): with ``regions`` they become
    :class:`Region` entries to crop (:func:`kocr.data.labels.regions.crop_regions`), else problems saying so.
    """
    path = Path(path)
    data = _load_json(path)
    wanted = {sample_type(t) for t in types} if types else None
    source = str(path)
    result = Conversion(source=path, format="aihub")
    index = ImageIndex(image_root if image_root is not None else path.parent)
    images = _image_entries(data["images"], source, result.problems)
    used: set[Any] = set()  # ids of images some annotation refers to
    labelled: set[Any] = set()  # images that already gave a sample of the wanted types
    for position, annotation in enumerate(data["annotations"]):
        if not isinstance(annotation, dict):
            result.problems.append(
                Problem(Kind.MALFORMED, source, "not an object", ref=f"annotation #{position}")
            )
            continue
        image_id = annotation.get("image_id")
        ref = f"image {image_id}" if image_id is not None else f"annotation {annotation.get('id', position)}"
        if "bbox" in annotation:  # many boxes per image: name the annotation too
            ref += f", annotation {annotation.get('id', f'#{position}')}"
        key = _id_key(image_id)
        used.add(key)
        raw_type = _raw_type(annotation)
        if raw_type == IGNORED_CLASS:
            result.problems.append(
                Problem(
                    Kind.IGNORED_REGION, source, "class 'ignored': no text to learn", ref=ref, dropped=False
                )
            )
            continue
        kind = _known_type(raw_type)
        if kind is None:
            result.problems.append(
                Problem(Kind.UNKNOWN_TYPE, source, f"annotation type {raw_type!r}", ref=ref)
            )
            continue
        if wanted is not None and kind not in wanted:
            result.other_type += 1
            continue
        entry = images.get(key) if key is not None else None
        if entry is None:
            result.problems.append(
                Problem(
                    Kind.NO_IMAGE_ENTRY,
                    source,
                    "annotation refers to an image that is not in images[]",
                    ref=ref,
                )
            )
            continue
        if "bbox" in annotation:
            if regions:
                _add_region(result, index, annotation, entry, ref, keep_jamo)
            else:
                message = "a box in a photo (Text in the wild): crop it with kocr data convert --crop-dir"
                result.problems.append(Problem(Kind.REGION, source, message, ref=ref))
            continue
        if key in labelled:
            result.problems.append(
                Problem(
                    Kind.EXTRA_ANNOTATION, source, f"another annotation ({kind}) for the same image", ref=ref
                )
            )
            continue
        labelled.add(key)
        found = _label_and_image(result, index, annotation, entry, ref, keep_jamo)
        if found is not None:
            result.samples.append(Sample(found[1], found[0], f"{source} [{ref}]"))
    for key, entry in images.items():
        if key not in used:
            ref = f"image {entry['id']}"
            result.problems.append(
                Problem(
                    Kind.NO_ANNOTATION,
                    source,
                    f"{entry['file_name']} has no annotation",
                    ref=ref,
                    dropped=False,
                )
            )
    return result


def _add_region(
    result: Conversion,
    index: ImageIndex,
    annotation: dict[str, Any],
    entry: dict[str, Any],
    ref: str,
    keep_jamo: bool,
) -> None:
    """One Text-in-the-wild box: checked, labelled and located, or a problem saying why not."""
    source = str(result.source)
    box = parse_box(annotation["bbox"], entry.get("width"), entry.get("height"))
    if isinstance(box, str):
        result.problems.append(Problem(Kind.BAD_BOX, source, box, ref=ref))
        return
    found = _label_and_image(result, index, annotation, entry, ref, keep_jamo)
    if found is None:
        return
    label, image = found
    name = f"{entry['id']}_{annotation.get('id', len(result.regions))}"
    size = (entry.get("width"), entry.get("height"))
    photo_size = size if all(isinstance(v, int) and v > 0 for v in size) else None
    result.regions.append(Region(image, box, label, source, ref, name, photo_size))  # type: ignore[arg-type]


def _label_and_image(
    result: Conversion,
    index: ImageIndex,
    annotation: dict[str, Any],
    entry: dict[str, Any],
    ref: str,
    keep_jamo: bool,
) -> tuple[str, Path] | None:
    """An annotation's cleaned label and its image file, or None with the reasons added to ``result``."""
    source = str(result.source)
    label, problems = clean_label(annotation.get("text"), source=source, ref=ref, keep_jamo=keep_jamo)
    result.problems.extend(problems)
    if label is None:
        return None
    image = _locate(index, entry["file_name"], source, ref, result.problems)
    return None if image is None else (label, image)


def parse_box(raw: object, width: object = None, height: object = None) -> tuple[int, int, int, int] | str:
    """``[x, y, w, h]`` -> (left, top, right, bottom), rounded outwards and clipped to the image size
    when known; a string saying what is wrong otherwise."""
    numbers = (int, float)
    if (
        not isinstance(raw, (list, tuple))
        or len(raw) != 4
        or not all(isinstance(v, numbers) and not isinstance(v, bool) and math.isfinite(v) for v in raw)
    ):
        return f"bbox {raw!r} is not [x, y, width, height]"
    x, y, w, h = raw
    if w <= 0 or h <= 0:
        return f"bbox {list(raw)} has no area"
    left, top, right, bottom = math.floor(x), math.floor(y), math.ceil(x + w), math.ceil(y + h)
    left, top = max(left, 0), max(top, 0)
    if isinstance(width, int) and width > 0:
        right = min(right, width)
    if isinstance(height, int) and height > 0:
        bottom = min(bottom, height)
    if right - left < 2 or bottom - top < 2:
        return f"bbox {list(raw)} lies outside the {width}x{height} image"
    return left, top, right, bottom


def _load_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise InputFileError(path, "file not found" if not path.exists() else "not a file")
    try:
        with path.open(encoding="utf-8-sig") as handle:
            data = json.load(handle)
    except UnicodeDecodeError as exc:
        raise InputFileError(path, f"not valid UTF-8 ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise InputFileError(path, f"not valid JSON: {exc.msg} (column {exc.colno})", exc.lineno) from None
    if not isinstance(data, dict) or not all(
        isinstance(data.get(k), list) for k in ("images", "annotations")
    ):
        raise InputFileError(
            path, "not an AI Hub label file: expected an object with 'images' and 'annotations' lists"
        )
    return data


def _id_key(value: object) -> Any:
    """Image ids are 8-digit strings in the JSON but numbers in some copies; compare them as numbers."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value if isinstance(value, str) else None


def _image_entries(entries: list[Any], source: str, problems: list[Problem]) -> dict[Any, dict[str, Any]]:
    images: dict[Any, dict[str, Any]] = {}
    for position, entry in enumerate(entries):
        ref = f"image #{position}"
        if not isinstance(entry, dict) or not isinstance(entry.get("file_name"), str):
            problems.append(Problem(Kind.MALFORMED, source, "image entry without a file_name", ref=ref))
            continue
        key = _id_key(entry.get("id"))
        if key is None:
            problems.append(
                Problem(Kind.MALFORMED, source, f"image entry without an id ({entry['file_name']})", ref=ref)
            )
            continue
        if key in images:
            problems.append(
                Problem(
                    Kind.MALFORMED, source, "duplicate image id; first entry kept", ref=f"image {entry['id']}"
                )
            )
            continue
        images[key] = entry
    return images


def _raw_type(annotation: dict[str, Any]) -> object:
    """``attributes.type`` (handwriting, printed) or, in Text in the wild, ``attributes.class``."""
    attributes = annotation.get("attributes")
    if not isinstance(attributes, dict):
        return None
    return attributes["type"] if "type" in attributes else attributes.get("class")


def _known_type(name: object) -> str | None:
    if not isinstance(name, str):
        return None
    try:
        return sample_type(name)
    except KocrError:
        return None


def _locate(index: ImageIndex, file_name: str, source: str, ref: str, problems: list[Problem]) -> Path | None:
    found = index.find(file_name)
    if len(found) == 1:
        return found[0]
    if not found:
        problems.append(
            Problem(Kind.MISSING_IMAGE, source, f"{file_name} not found under {index.root}", ref=ref)
        )
    else:
        shown = ", ".join(str(p.relative_to(index.root)) for p in found[:3])
        problems.append(
            Problem(Kind.AMBIGUOUS_IMAGE, source, f"{len(found)} files named {file_name}: {shown}", ref=ref)
        )
    return None
