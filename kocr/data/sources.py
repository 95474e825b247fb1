"""Open labelled image data wherever it lives: an LMDB, a label file with image files, or a folder.

``kocr train --train-data``, ``--valid-data`` and ``kocr eval --data`` all accept:

- an LMDB folder (clovaai / PARSeq layout, with ``data.mdb``);
- a folder holding several LMDBs anywhere below it (PARSeq's ``**/data.mdb`` trees), read as one;
- a ``gt.txt`` (``path<TAB>label``) or ``labels.txt`` (``name label``) file; image paths are relative to
  the file's folder, as clovaai's ``create_lmdb_dataset.py`` joins them, or to ``image_root``;
- a folder holding ``gt.txt`` or ``labels.txt``;
- for training, ``synth:RECIPE.toml`` (or a ``.toml`` file): lines rendered on the fly
  (:mod:`kocr.data.synth.stream`).

Label files get the same treatment as LMDBs: labels normalised, samples that cannot be used (missing
image, label outside the charset, too long, empty, malformed line) counted per reason and logged once,
unreadable images skipped at read time.
"""

from __future__ import annotations

import copy
import functools
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image
from torch.utils.data import ConcatDataset, Dataset

from kocr.charsets import Charset
from kocr.data.images import SkipUnreadable, canonical_image_path, check_image_mode, convert_mode, open_image
from kocr.data.labels.filtering import LabelFilter
from kocr.data.labels.reader import describe_decode_error, read_label_file
from kocr.errors import InputFileError
from kocr.names import listed_file, name_from_printable
from kocr.text import normalize

logger = logging.getLogger(__name__)

LABEL_FILE_NAMES = ("gt.txt", "labels.txt")


def open_labelled_dataset(
    path: str | os.PathLike[str],
    *,
    charset: Charset | None = None,
    max_length: int | None = None,
    case_fold: bool = False,
    transform: Callable[[Image.Image], Any] | None = None,
    image_mode: str | None = "RGB",
    image_root: str | os.PathLike[str] | None = None,
) -> Dataset:
    """A dataset of ``(transform(image), label)`` for any supported location (see the module docs)."""
    from kocr.data.lmdb.dataset import LmdbDataset
    from kocr.data.lmdb.layout import find_lmdbs
    from kocr.data.synth.stream import is_synth_source, open_synth_source

    if is_synth_source(path):
        return open_synth_source(
            path, charset=charset, max_length=max_length, case_fold=case_fold, transform=transform
        )
    path = Path(path)
    options: dict[str, Any] = dict(
        charset=charset,
        max_length=max_length,
        case_fold=case_fold,
        transform=transform,
        image_mode=image_mode,
    )
    if not path.exists():
        raise InputFileError(
            path, "no such dataset (expected an LMDB folder, a gt.txt/labels.txt, or a folder)"
        )
    if path.is_file():
        return LabelFileDataset(path, image_root=image_root, **options)
    if (path / "data.mdb").is_file():
        return LmdbDataset(path, **options)
    for name in LABEL_FILE_NAMES:
        if (path / name).is_file():
            return LabelFileDataset(path / name, image_root=image_root, **options)
    lmdbs = find_lmdbs(path)
    if lmdbs:
        return ConcatDataset([LmdbDataset(p, **options) for p in lmdbs])
    raise InputFileError(path, f"holds no data.mdb, {' or '.join(LABEL_FILE_NAMES)}, nor LMDBs below it")


def with_transform(dataset: Dataset, transform: Callable[[Image.Image], Any] | None) -> Dataset:
    """The same samples with another transform (a validation view of a training set, without
    augmentation); LMDB environments and label indexes are shared, not re-read."""
    if isinstance(dataset, ConcatDataset):
        return ConcatDataset([with_transform(part, transform) for part in dataset.datasets])
    view = copy.copy(dataset)
    view.transform = transform  # type: ignore[attr-defined]
    return view


class LabelFileDataset(SkipUnreadable, Dataset):
    """Images on disk listed in a ``gt.txt`` / ``labels.txt``; items are ``(image, label)``.

    An image that cannot be decoded at read time is logged once and the next readable sample is
    returned instead (:class:`kocr.data.images.SkipUnreadable`), as in
    :class:`kocr.data.lmdb.dataset.LmdbDataset`; ``image_mode`` converts as there too.
    """

    def __init__(
        self,
        label_file: str | os.PathLike[str],
        *,
        image_root: str | os.PathLike[str] | None = None,
        charset: Charset | None = None,
        max_length: int | None = None,
        case_fold: bool = False,
        transform: Callable[[Image.Image], Any] | None = None,
        image_mode: str | None = "RGB",
    ) -> None:
        self.path = Path(label_file)
        self.root = Path(image_root) if image_root is not None else self.path.parent
        self.transform = transform
        self.image_mode = check_image_mode(image_mode)
        parsed = read_label_file(self.path)
        checks = LabelFilter(charset, max_length, case_fold, logger=logger)
        for problem in parsed.problems:
            checks.drop("unreadable line", f"line {problem.line}: {problem.message}")
        self.images: list[Path] = []
        self.labels: list[str] = []
        self.wheres: list[str] = []
        seen: set[str] = set()  # an image listed twice is trained on once, and reported
        for record in parsed.records:
            label, reason = checks.check(record.label)
            image = listed_file(self.root, record.image or "")
            if reason is None and not image.is_file():
                reason = "missing image"
            if reason is None and canonical_image_path(image) in seen:
                reason = "image listed twice"
            if reason is not None:
                checks.drop(reason, f"line {record.line} {record.image}", label)
                continue
            seen.add(canonical_image_path(image))
            self.images.append(image)
            self.labels.append(label)
            self.wheres.append(record.where)
        self.dropped = dict(checks.dropped)
        self._bad: set[int] = set()
        checks.log(self.path, len(self.images))

    def __len__(self) -> int:
        return len(self.images)

    def _label_at(self, position: int) -> str:
        return self.labels[position]

    def _image_at(self, position: int) -> Image.Image | None:
        if position in self._bad:
            return None
        try:
            return convert_mode(open_image(self.images[position]), self.image_mode)
        except Exception as exc:  # PIL raises many types for bad files
            self._bad.add(position)
            logger.warning("%s (%s): not a readable image (%s); skipped", self.images[position],
                           self.wheres[position], exc)  # fmt: skip
            return None


@dataclass(frozen=True)
class LabelledSample:
    """One labelled image as evaluation sees it: nothing filtered, nothing decoded yet."""

    name: str  # image path relative to the label file's folder, or the LMDB key (image-000000001)
    label: str  # normalised
    where: str  # "gt.txt:12" or "train_lmdb:image-000000001", for messages
    load: Callable[[], bytes]  # the encoded image; raises InputFileError when it cannot be read
    path: str = ""  # the image as a person finds it: the file (data/test/1.png) or LMDB:key
    problem: str | None = None  # why the sample cannot be scored at all (a label that is not UTF-8)
    listed: bool = False  # an image file named by a label file (which may name it twice), not an LMDB key
    # The part of its dataset it belongs to, for per-part figures: the top folder of its image path in a
    # label file (handwriting/0001.png -> handwriting), the LMDB's folder in a tree of LMDBs; "" if none.
    group: str = ""


def iter_labelled_samples(
    path: str | os.PathLike[str], *, image_root: str | os.PathLike[str] | None = None
) -> Iterator[LabelledSample]:
    """Every sample of a dataset location in order, streamed (constant memory whatever its size).

    Unlike the training datasets nothing is dropped: evaluation must score every labelled image, and
    an unusable line of a label file is logged once per line.
    """
    from kocr.data.lmdb.layout import find_lmdbs

    path = Path(path)
    if not path.exists():
        raise InputFileError(
            path, "no such dataset (expected an LMDB folder, a gt.txt/labels.txt, or a folder)"
        )
    if path.is_file():
        yield from _label_file_samples(path, image_root)
        return
    if (path / "data.mdb").is_file():
        yield from _lmdb_samples(path)
        return
    for name in LABEL_FILE_NAMES:
        if (path / name).is_file():
            yield from _label_file_samples(path / name, image_root)
            return
    lmdbs = find_lmdbs(path)
    if not lmdbs:
        raise InputFileError(path, f"holds no data.mdb, {' or '.join(LABEL_FILE_NAMES)}, nor LMDBs below it")
    for lmdb_path in lmdbs:
        yield from _lmdb_samples(lmdb_path, group=_relative_name(lmdb_path, path))


def _relative_name(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _label_file_samples(
    label_file: Path, image_root: str | os.PathLike[str] | None
) -> Iterator[LabelledSample]:
    root = Path(image_root) if image_root is not None else label_file.parent
    parsed = read_label_file(label_file)
    for problem in parsed.problems:
        logger.warning("%s: skipped", problem)
    for record in parsed.records:
        listed = record.image or ""
        image_path = listed_file(root, listed)
        folders = Path(listed).parent.parts
        yield LabelledSample(
            name=listed if image_path == root / listed else name_from_printable(listed),
            label=normalize(record.label),
            where=record.where,
            load=functools.partial(_read_file, image_path),
            path=image_path.as_posix(),
            listed=True,
            group=folders[0] if folders and folders[0] not in ("/", "..") else "",
        )


def _read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputFileError(path, "image not found") from None
    except IsADirectoryError:
        raise InputFileError(path, "is a folder, not an image") from None
    except OSError as exc:
        raise InputFileError(path, f"cannot read the image ({exc.strerror or exc})") from None


def _lmdb_samples(path: Path, group: str = "") -> Iterator[LabelledSample]:
    from kocr.data.lmdb.handles import open_lmdb
    from kocr.data.lmdb.layout import iter_labels, lmdb_image_key, lmdb_label_key, read_num_samples

    env = open_lmdb(path)
    with env.begin() as txn:
        total = read_num_samples(txn, path)
        for index, raw in iter_labels(txn, total):
            name = lmdb_image_key(index).decode()
            if raw is None:
                logger.warning("%s: %s is missing; sample skipped", path, lmdb_label_key(index).decode())
                continue
            where = f"{path}:{name}"
            load = functools.partial(_read_lmdb_image, path, index)
            try:
                label, problem = normalize(bytes(raw).decode("utf-8")), None
            except UnicodeDecodeError as exc:
                # Training drops such a sample with a reason; scoring it against U+FFFD mojibake would
                # count a wrong "truth" silently.
                label = ""
                hint = "rebuild the LMDB from UTF-8 labels (kocr data lmdb)"
                reason = describe_decode_error(bytes(raw), exc, unit="the label", hint=hint)
                problem = f"{lmdb_label_key(index).decode()} is {reason}"
            yield LabelledSample(name, label, where, load, path=where, problem=problem, group=group)


def _read_lmdb_image(path: Path, index: int) -> bytes:
    from kocr.data.lmdb.handles import open_lmdb
    from kocr.data.lmdb.layout import lmdb_image_key

    with open_lmdb(path).begin() as txn:
        data = txn.get(lmdb_image_key(index))
    if data is None:
        raise InputFileError(path, f"{lmdb_image_key(index).decode()} is missing")
    return bytes(data)
