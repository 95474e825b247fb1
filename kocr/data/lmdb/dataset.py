"""The training/validation dataset over one clovaai-layout LMDB: labels read, normalised and filtered
once (what was dropped is logged with counts per reason), packed so forked DataLoader workers share
them, images decoded on access."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, overload

import lmdb
import numpy as np
from PIL import Image
from torch.utils.data import Dataset

from kocr.charsets import Charset
from kocr.data.images import SkipUnreadable, check_image_mode, convert_mode, decode_bytes, image_error
from kocr.data.labels.filtering import LabelFilter
from kocr.data.lmdb.handles import open_lmdb
from kocr.data.lmdb.layout import iter_labels, lmdb_image_key, lmdb_label_key, read_num_samples

logger = logging.getLogger(__name__)


class _PackedLabels(Sequence[str]):
    """Labels as one UTF-8 buffer plus offsets.

    A list of a million str objects in a dataset is slowly copied into every forked DataLoader worker
    as reference counts touch its pages; one bytes object and a numpy array are not.
    """

    def __init__(self, labels: Iterable[str]) -> None:
        encoded = [label.encode("utf-8") for label in labels]
        self._offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(e) for e in encoded], out=self._offsets[1:])
        self._blob = b"".join(encoded)

    def __len__(self) -> int:
        return len(self._offsets) - 1

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> list[str]: ...
    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("label index out of range")
        start, end = self._offsets[index], self._offsets[index + 1]
        return self._blob[start:end].decode("utf-8")


class LmdbDataset(SkipUnreadable, Dataset):
    """A map-style dataset over one clovaai/PARSeq-layout LMDB: items are ``(image, label)``.

    At construction every label is read once, normalised (:func:`kocr.text.normalize`, optionally
    case-folding Latin letters) and checked against ``charset`` and ``max_length`` (counted in charset
    symbols, so jamo charsets count jamo). Dropped samples are counted per reason and logged once, at
    WARNING, on the ``kocr.data.lmdb.dataset`` logger. ``keys`` (LMDB indices) and ``labels`` are the kept
    samples, for statistics.

    ``image`` is the PIL image as stored (``image_mode=None``, the default: a ``Preprocess`` transform
    does the colour handling), or converted to ``"L"``/``"RGB"`` with :func:`kocr.data.images.to_mode`
    (transparency composited on white, 16-bit scaled: a plain ``convert`` blackens transparent PNGs and
    whitens 16-bit scans); ``transform(image)`` is returned instead when a transform is given.

    An image that fails to decode at read time is logged once, remembered, and the next readable
    sample is returned instead (up to 100 tries). The batch keeps its size and the default collate
    function works; the cost is that one sample may appear twice in that epoch. ``num_unreadable``
    counts them (per process: each DataLoader worker keeps its own count).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        charset: Charset | str | None = None,
        max_length: int | None = None,
        case_fold: bool = False,
        normalize_labels: bool = True,
        image_mode: Literal["L", "RGB"] | None = None,
        transform: Callable[[Image.Image], Any] | None = None,
    ) -> None:
        self.path = Path(path)
        self.charset = Charset.load(charset) if charset is not None else None
        self.max_length = max_length
        self.image_mode = check_image_mode(image_mode)
        self.transform = transform
        self._bad: set[int] = set()
        self._env: lmdb.Environment | None = None
        self._env_pid = -1
        index = self._read_index(case_fold, normalize_labels)
        self.total = index.total
        self.dropped = index.dropped
        self.normalised = index.normalised
        self._keys = np.asarray(index.keys, dtype=np.int64)
        self._labels = _PackedLabels(index.labels)

    # --- index ----------------------------------------------------------------------------

    def _read_index(self, case_fold: bool, normalize_labels: bool) -> _LabelIndex:
        index = _LabelIndex()
        checks = LabelFilter(self.charset, self.max_length, case_fold, normalize_labels, logger=logger)
        with self._environment().begin() as txn:
            index.total = read_num_samples(txn, self.path)
            for key, raw in iter_labels(txn, index.total):
                where = lmdb_label_key(key).decode()
                if raw is None:
                    checks.drop("missing label", f"{where} (none)")
                    continue
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    checks.drop("label not UTF-8", f"{where} {raw[:30]!r}")
                    continue
                label, reason = checks.check(text)
                if reason is None:
                    index.keys.append(key)
                    index.labels.append(label)
                else:
                    checks.drop(reason, where, label)
        checks.log(self.path, len(index.keys))
        index.dropped, index.normalised = dict(checks.dropped.most_common()), checks.normalised
        return index

    @property
    def keys(self) -> np.ndarray:
        """LMDB indices (1-based) of the kept samples."""
        return self._keys

    @property
    def labels(self) -> Sequence[str]:
        """Normalised labels of the kept samples, aligned with :attr:`keys`."""
        return self._labels

    @property
    def num_unreadable(self) -> int:
        """Images found undecodable so far in this process."""
        return len(self._bad)

    # --- items ----------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._keys)

    def __getitem__(self, index: int) -> tuple[Any, str]:
        size = len(self._keys)
        if index < 0:
            index += size
        if not 0 <= index < size:
            raise IndexError(f"index {index} out of range for {size} samples")
        return super().__getitem__(index)  # the next readable sample if this one is not (SkipUnreadable)

    def _image_at(self, position: int) -> Image.Image | None:
        return self._read_image(int(self._keys[position]))

    def _label_at(self, position: int) -> str:
        return self._labels[position]

    def _read_image(self, key: int) -> Image.Image | None:
        if key in self._bad:
            return None
        with self._environment().begin() as txn:
            data = txn.get(lmdb_image_key(key))
        if data is None:
            return self._mark_bad(key, "image key missing")
        try:
            image = convert_mode(decode_bytes(data), self.image_mode)
        except Exception as exc:  # PIL raises many types for bad data
            return self._mark_bad(key, image_error(exc))
        return image

    def _mark_bad(self, key: int, reason: str) -> None:
        self._bad.add(key)
        name = lmdb_image_key(key).decode()
        logger.warning("%s: %s: %s; using the next readable sample instead", self.path, name, reason)
        return None

    def _environment(self) -> lmdb.Environment:
        pid = os.getpid()
        if self._env is None or self._env_pid != pid:
            self._env = open_lmdb(self.path)
            self._env_pid = pid
        return self._env

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_env"] = None  # handles do not cross processes; the worker opens its own
        state["_env_pid"] = -1
        return state

    def __repr__(self) -> str:
        return f"LmdbDataset({str(self.path)!r}, {len(self)} of {self.total} samples)"


@dataclass
class _LabelIndex:
    """Every label of an LMDB read once: the kept ones, and counts of the dropped ones by reason."""

    total: int = 0
    keys: list[int] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    normalised: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
