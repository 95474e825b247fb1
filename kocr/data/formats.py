"""Turn dataset label formats into one list of samples, and write clovaai's ``gt.txt``.

Inputs: the AI Hub "한국어 글자체 이미지" JSON (COCO-like ``images[]`` + ``annotations[]``), clovaai
``gt.txt`` and ``labels.txt``. Output: ``gt.txt`` (``path<TAB>label``, UTF-8, NFC), the input of
``kocr data lmdb`` and of clovaai's ``create_lmdb_dataset.py``.

Every defect is a :class:`Problem` naming the file and line (or the AI Hub image/annotation id);
conversion never stops at a bad entry, because the AI Hub releases ship with missing images, labels such
as ``'국ㅇㄴ'`` and empty texts, and a 700,000-image conversion must not die at entry 412,331.

Choices:

- **Paths in gt.txt are relative to the gt file's folder** (POSIX ``/``) when the image lies inside that
  folder, so a dataset folder with its gt.txt stays movable; images elsewhere get absolute paths rather
  than fragile ``../../`` chains. clovaai's ``create_lmdb_dataset.py --inputPath <gt folder>`` reads
  both, since it ``os.path.join``-s the two, and so does ``kocr data lmdb``.
- Labels are normalised with :func:`kocr.text.normalize` (NFC, whitespace collapsed); a change beyond
  trimming the ends is reported as a note, the sample is kept.
- A label holding Hangul compatibility jamo (``ㄱ``, ``ㅏ``, U+3131–U+318E) is dropped as a typing
  slip unless ``keep_jamo=True``: in AI Hub these are faults (``'국ㅇㄴ'``), and a model trained on
  them learns to emit loose jamo. A symbol of kocr's own charset presets is never a slip: the araea
  ``ㆍ`` (U+318D), which Korean print uses as a middle dot, is in every Korean preset and the renderer
  writes it, so it is kept (:func:`is_stray_jamo`).
- An image listed twice is reported wherever a dataset is built (:func:`find_duplicates`): ``convert``
  and ``lmdb`` keep its first line and drop the repeats, saying so, and an image given two different
  labels is reported as a conflict; ``split`` keeps every line and puts all lines of one image in the
  same part, so no image is in both the training and the test part.
- :func:`split_samples` sorts by (image, label) before a seeded shuffle, so the split depends on the
  set of samples and the seed, not on the order they were listed in.
"""

from __future__ import annotations

import json
import math
import os
import random
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NamedTuple

from kocr.charsets.hangul import is_compatibility_jamo
from kocr.charsets.presets import NON_HANGUL
from kocr.data.images import image_key
from kocr.data.labelfile import read_label_file
from kocr.errors import InputFileError, KocrError, OutputExistsError
from kocr.fileio import atomic_write_text
from kocr.text import normalize

InputFormat = Literal["auto", "aihub", "gt", "labels"]
INPUT_FORMATS: tuple[str, ...] = ("auto", "aihub", "gt", "labels")

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

# Characters that would break the one-sample-per-line gt.txt format (str.splitlines() splits on all).
_LINE_BREAKERS = frozenset("\t\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")


class Sample(NamedTuple):
    """An image path, its label, and where the pair came from (``file:line`` or AI Hub image id)."""

    image: Path
    label: str
    where: str


class Region(NamedTuple):
    """A labelled box in a scene image (AI Hub Text in the wild); :mod:`kocr.data.regions` cuts it out."""

    image: Path
    box: tuple[int, int, int, int]  # left, top, right, bottom in pixels, clipped to the image
    label: str
    source: str  # the label file
    ref: str  # "image 00000001, annotation 17"
    name: str  # file-name stem for the crop: "<image id>_<annotation id>"
    photo_size: tuple[int, int] | None = None  # width, height the label file gives for the photo

    @property
    def where(self) -> str:
        return f"{self.source} [{self.ref}]"


class Kind:
    """Problem kinds; the report counts problems by these names."""

    MISSING_IMAGE = "missing image"
    AMBIGUOUS_IMAGE = "ambiguous image"
    NO_IMAGE_ENTRY = "annotation without image entry"
    NO_ANNOTATION = "image without annotation"
    EXTRA_ANNOTATION = "several annotations for one image"
    REGION = "region annotation (needs cropping)"
    IGNORED_REGION = "ignored region (no text)"
    BAD_BOX = "unusable bbox"
    UNREADABLE_IMAGE = "unreadable image"
    EMPTY_TEXT = "empty text"
    STRAY_JAMO = "stray jamo"
    DUPLICATE = "image listed twice"
    CONFLICT = "image with two labels"
    NORMALISED = "label normalised"
    UNKNOWN_TYPE = "unknown type"
    MALFORMED = "malformed entry"
    BAD_LINE = "unusable line"


@dataclass(frozen=True)
class Problem:
    """One defect in the input. ``dropped`` says whether a sample was lost because of it."""

    kind: str
    source: str
    message: str
    line: int | None = None
    ref: str | None = None
    dropped: bool = True

    @property
    def where(self) -> str:
        if self.line is not None:
            return f"{self.source}:{self.line}"
        return f"{self.source} [{self.ref}]" if self.ref else self.source

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"

    def to_error(self) -> InputFileError:
        message = f"{self.ref}: {self.message}" if self.ref and self.line is None else self.message
        return InputFileError(self.source, message, self.line)


@dataclass
class Conversion:
    """The usable samples of one input file and everything that was wrong with it."""

    source: Path
    format: str
    samples: list[Sample] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    other_type: int = 0  # AI Hub annotations left out by the type filter (not a problem)
    regions: list[Region] = field(default_factory=list)  # boxes still to cut out (read_aihub(regions=True))

    @property
    def dropped(self) -> int:
        return sum(p.dropped for p in self.problems)

    def counts(self) -> dict[str, int]:
        """Problems per kind, most frequent first."""
        return dict(Counter(p.kind for p in self.problems).most_common())

    def raise_first(self) -> None:
        """For ``--strict``: raise the first problem that lost a sample, if any."""
        for problem in self.problems:
            if problem.dropped:
                raise problem.to_error()


# --- labels --------------------------------------------------------------------------------------


def clean_label(
    raw: object, *, source: str, line: int | None = None, ref: str | None = None, keep_jamo: bool = False
) -> tuple[str | None, list[Problem]]:
    """Normalise one label; return it (None when unusable) and the problems found."""
    if not isinstance(raw, str):
        return None, [
            Problem(Kind.MALFORMED, source, f"text is {type(raw).__name__}, not a string", line, ref)
        ]
    label = normalize(raw)
    problems: list[Problem] = []
    if not label:
        return None, [Problem(Kind.EMPTY_TEXT, source, f"empty text {raw!r}", line, ref)]
    if label != raw.strip():
        problems.append(Problem(Kind.NORMALISED, source, _what_changed(raw, label), line, ref, dropped=False))
    jamo = [ch for ch in label if is_stray_jamo(ch)]
    if jamo:
        message = f"{label!r} contains loose jamo {''.join(jamo)!r}"
        if keep_jamo:
            problems.append(Problem(Kind.STRAY_JAMO, source, message + " (kept)", line, ref, dropped=False))
        else:
            problems.append(Problem(Kind.STRAY_JAMO, source, message, line, ref))
            return None, problems
    return label, problems


def is_stray_jamo(ch: str) -> bool:
    """A compatibility jamo that is no symbol of kocr's charsets (``ㄱ``, ``ㅏ``: a typing slip), as
    opposed to the araea ``ㆍ`` that every Korean preset holds as punctuation."""
    return is_compatibility_jamo(ch) and ch not in _PRESET_SYMBOLS


_PRESET_SYMBOLS = frozenset(NON_HANGUL)  # every preset's non-syllable symbols (presets.py)


def _what_changed(raw: str, label: str) -> str:
    if unicodedata.normalize("NFC", raw) != raw:
        return f"decomposed (NFD) Hangul recomposed to NFC: {label!r}"
    return f"whitespace collapsed: {raw!r} → {label!r}"


def label_defect(text: str) -> str | None:
    """Why ``text`` cannot be one field of a gt.txt line, or None."""
    bad = sorted({ch for ch in text if ch in _LINE_BREAKERS})
    if bad:
        names = ", ".join(unicodedata.name(ch, f"U+{ord(ch):04X}") for ch in bad)
        return f"contains a tab or line break ({names})"
    return None


# --- AI Hub JSON ---------------------------------------------------------------------------------


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
    :class:`Region` entries to crop (:func:`kocr.data.regions.crop_regions`), else problems saying so.
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


# --- gt.txt / labels.txt -------------------------------------------------------------------------


def read_label_samples(
    path: str | Path,
    *,
    fmt: Literal["auto", "gt", "labels"] = "auto",
    image_root: str | Path | None = None,
    check_images: bool = True,
    keep_jamo: bool = False,
) -> Conversion:
    """Samples from a gt.txt or labels.txt; image paths resolve against ``image_root`` (default: its folder).

    With ``check_images`` a missing file is reported here; ``build_lmdb`` passes False because it
    reads every file anyway and reports missing ones itself.
    """
    path = Path(path)
    parsed = read_label_file(path, fmt)
    if parsed.format == "lines":
        raise InputFileError(
            path, "has no image column: expected gt.txt (path<TAB>label) or labels.txt (name label)"
        )
    root = Path(image_root) if image_root is not None else path.parent
    result = Conversion(source=path, format=parsed.format)
    result.problems.extend(Problem(Kind.BAD_LINE, p.source, p.message, p.line) for p in parsed.problems)
    for record in parsed.records:
        label, problems = clean_label(
            record.label, source=record.source, line=record.line, keep_jamo=keep_jamo
        )
        result.problems.extend(problems)
        if label is None or record.image is None:
            continue
        image = root / record.image
        if check_images and not image.is_file():
            result.problems.append(
                Problem(
                    Kind.MISSING_IMAGE,
                    record.source,
                    f"image {record.image} not found in {root}",
                    record.line,
                )
            )
            continue
        result.samples.append(Sample(image, label, record.where))
    return result


def convert(
    path: str | Path,
    *,
    fmt: InputFormat = "auto",
    image_root: str | Path | None = None,
    types: Iterable[str] | None = None,
    keep_jamo: bool = False,
    check_images: bool = True,
    regions: bool = False,
) -> Conversion:
    """Read any supported input; ``auto`` treats ``.json`` as AI Hub and sniffs label files.
    ``regions``: collect Text-in-the-wild boxes to crop (AI Hub only). An image listed twice keeps its
    first line, the others are reported (:func:`drop_duplicates`)."""
    path = Path(path)
    if fmt not in INPUT_FORMATS:
        raise KocrError(f"unknown input format {fmt!r}; choose one of {', '.join(INPUT_FORMATS)}")
    if fmt == "aihub" or (fmt == "auto" and path.suffix.lower() == ".json"):
        result = read_aihub(path, image_root=image_root, types=types, keep_jamo=keep_jamo, regions=regions)
        return drop_duplicates(result)
    if types:
        raise KocrError("--type only applies to AI Hub JSON input")
    if regions:
        raise KocrError("--crop-dir only applies to AI Hub JSON input (Text in the wild)")
    result = read_label_samples(
        path, fmt=fmt, image_root=image_root, check_images=check_images, keep_jamo=keep_jamo
    )
    return drop_duplicates(result)


def drop_duplicates(conversion: Conversion) -> Conversion:
    """Keep the first line of each image, report the others (:func:`find_duplicates`); in place."""
    conversion.samples, problems = find_duplicates(conversion.samples, drop=True)
    conversion.problems.extend(problems)
    return conversion


def find_duplicates(samples: Sequence[Sample], *, drop: bool) -> tuple[list[Sample], list[Problem]]:
    """Images listed more than once: (samples, problems).

    An image is one file whatever the spelling of its path (``a/../x.png`` is ``x.png``). With ``drop``
    only each image's first sample is kept and the repeats are reported as dropped; without, every
    sample stays and the repeats are notes. A repeat with another label is a conflict either way
    (which label is right cannot be told), named with both labels and where each came from.
    """
    first: dict[str, Sample] = {}
    kept: list[Sample] = []
    problems: list[Problem] = []
    for sample in samples:
        key = image_key(sample.image)
        seen = first.get(key)
        if seen is None:
            first[key] = sample
            kept.append(sample)
            continue
        if not drop:
            kept.append(sample)
        source, line = _split_where(sample.where)
        if seen.label == sample.label:
            message = f"{sample.image} was already listed at {seen.where}"
            kind = Kind.DUPLICATE
        else:
            message = f"{sample.image} is labelled {sample.label!r} here but {seen.label!r} at {seen.where}"
            kind = Kind.CONFLICT
        effect = "; the first line is kept" if drop else ""
        problems.append(Problem(kind, source, message + effect, line, dropped=drop))
    return kept, problems


def _split_where(where: str) -> tuple[str, int | None]:
    """``"gt.txt:12"`` → ("gt.txt", 12); an AI Hub ``"file [image 7]"`` stays whole."""
    source, _, line = where.rpartition(":")
    return (source, int(line)) if source and line.isdigit() else (where, None)


# --- writing and splitting -----------------------------------------------------------------------


def write_gt(
    path: str | Path, samples: Iterable[Sample | tuple[Any, str, str]], *, overwrite: bool = False
) -> int:
    """Write ``path<TAB>label`` lines (UTF-8, LF); return how many.

    Image paths are relative to the gt file's folder when inside it, else absolute (see the module
    docstring). A label or path with a tab or line break is refused before anything is written, since
    it would silently shift every following sample; the file appears atomically, so a failure leaves
    no partial file.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(path)
    folder = path.parent if str(path.parent) else Path(".")
    lines: list[str] = []
    for sample in samples:
        image, label, where = sample[0], sample[1], sample[2]
        shown = _gt_path(Path(image), folder)
        for what, text in (("label", label), ("image path", shown)):
            defect = label_defect(text)
            if defect:
                raise KocrError(f"{where}: {what} {text!r} {defect}; gt.txt cannot hold it")
        lines.append(f"{shown}\t{label}\n")
    atomic_write_text(path, "".join(lines))
    return len(lines)


def _gt_path(image: Path, folder: Path) -> str:
    absolute = Path(os.path.abspath(image))
    base = Path(os.path.abspath(folder))
    if absolute.is_relative_to(base):
        return absolute.relative_to(base).as_posix()
    return absolute.as_posix()


def split_samples(
    samples: Sequence[Sample], ratios: Sequence[float] = (0.8, 0.1, 0.1), *, seed: int = 0
) -> list[list[Sample]]:
    """Split into ``len(ratios)`` parts; every sample lands in exactly one, and every line of one image
    in the same part (an image listed twice never leaks from training into validation or test).

    Deterministic and independent of input order: images are sorted (their lines by label), shuffled
    with ``random.Random(seed)`` and dealt into parts whose sizes are the ratios rounded by largest
    remainder; a part is full once it reaches its size, so parts with a repeated image may end up a line
    or two off. Without repeats this is the plain shuffle-and-cut split of earlier versions.
    """
    if not ratios or any(r < 0 for r in ratios) or abs(sum(ratios) - 1.0) > 1e-6:
        raise KocrError(
            f"split ratios must be non-negative and add up to 1, got {', '.join(map(str, ratios))}"
        )
    groups: dict[str, list[Sample]] = {}
    for sample in sorted(samples, key=lambda s: (str(s[0]), s[1])):
        groups.setdefault(image_key(sample[0]), []).append(sample)
    ordered = list(groups.values())
    random.Random(seed).shuffle(ordered)
    sizes = _part_sizes(len(samples), ratios)
    parts: list[list[Sample]] = [[] for _ in ratios]
    current = 0
    for group in ordered:
        while current < len(parts) - 1 and len(parts[current]) >= sizes[current]:
            current += 1
        parts[current].extend(group)
    return parts


def _part_sizes(total: int, ratios: Sequence[float]) -> list[int]:
    exact = [total * r for r in ratios]
    sizes = [int(x) for x in exact]
    by_remainder = sorted(range(len(ratios)), key=lambda i: (-(exact[i] - sizes[i]), i))
    for i in by_remainder[: total - sum(sizes)]:
        sizes[i] += 1
    return sizes
