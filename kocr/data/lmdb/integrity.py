"""Whether an LMDB's data file is whole, checked with plain file reads before lmdb maps it.

LMDB maps ``data.mdb`` into memory and trusts it: a file cut short (a copy stopped half-way, a full disk,
a partial download) maps fine, and the first read of a page past its end kills the process with SIGBUS
(exit code 135, no message), long after a training run has made its folder. The file says how long it
must be: two meta pages at its start each record the page size and the last page in use, and LMDB
trusts the one with the higher transaction id. Reading those two pages with ``read()`` and comparing the
file's length costs one small read per open, and turns the crash into an error naming the folder.

The meta page layout (LMDB 0.9, the format py-lmdb bundles), in native byte order and ``size_t`` words:
a page header (page number, two 16-bit fields, a 32-bit field), then the meta: magic ``0xBEEFC0DE``,
format version 1, map address, map size, two database records (a 32-bit field whose first one holds
the page size, two 16-bit fields, five words), the last page number and the transaction id.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

from kocr.errors import InputFileError

LMDB_MAGIC = 0xBEEFC0DE
LMDB_DATA_VERSION = 1
_WORD = struct.calcsize("P")  # LMDB's pgno_t, size_t and txnid_t
_PAGE_HEADER = _WORD + 2 + 2 + 4
_DB_RECORD = 4 + 2 + 2 + 5 * _WORD
_MAGIC_AT = _PAGE_HEADER
_PAGE_SIZE_AT = _PAGE_HEADER + 4 + 4 + 2 * _WORD  # the free-page database's md_pad
_LAST_PAGE_AT = _PAGE_SIZE_AT + 2 * _DB_RECORD
_META_BYTES = _LAST_PAGE_AT + 2 * _WORD
_WORD_FORMAT = "=Q" if _WORD == 8 else "=I"
_REBUILD_HINT = "rebuild it (kocr data lmdb) or copy it again"


@dataclass(frozen=True)
class LmdbMeta:
    """What the newer of an LMDB's two meta pages says about its data file."""

    page_size: int
    last_page: int
    txn_id: int

    @property
    def needed_bytes(self) -> int:
        """The shortest data file that holds every page in use."""
        return (self.last_page + 1) * self.page_size


def check_lmdb_data_file(folder: str | os.PathLike[str], data_file: str | os.PathLike[str]) -> LmdbMeta:
    """Raise :class:`InputFileError` naming ``folder`` unless ``data_file`` holds every page it uses.

    Reads only the two meta pages (plain reads, no mapping), so it is safe on any file.
    """
    data_file = Path(data_file)
    try:
        with data_file.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            first = handle.read(_META_BYTES)
            meta0 = _parse_meta(first)
            meta1 = None
            if meta0 is not None and size >= meta0.page_size + _META_BYTES:
                handle.seek(meta0.page_size)
                meta1 = _parse_meta(handle.read(_META_BYTES))
    except OSError as exc:
        raise InputFileError(folder, f"cannot read {data_file.name} ({exc.strerror or exc})") from None
    if meta0 is None:
        raise InputFileError(
            folder, f"{data_file.name} is not an LMDB data file (empty, damaged or of another kind)"
        )
    if meta1 is None:
        raise InputFileError(
            folder, f"{data_file.name} is damaged: its second meta page is missing; {_REBUILD_HINT}"
        )
    meta = max((meta0, meta1), key=lambda m: m.txn_id)
    check_lmdb_size(folder, data_file, size, meta.last_page, meta.page_size)
    return meta


def check_lmdb_size(
    folder: str | os.PathLike[str], data_file: Path, size: int, last_page: int, page_size: int
) -> None:
    """Raise unless a data file of ``size`` bytes holds pages 0..``last_page`` of ``page_size``."""
    needed = (last_page + 1) * page_size
    if size < needed:
        raise InputFileError(
            folder,
            f"{data_file.name} is truncated: {size:,} bytes, but the LMDB needs {needed:,} "
            f"({last_page + 1:,} pages of {page_size:,}); {_REBUILD_HINT}",
        )


def _parse_meta(raw: bytes) -> LmdbMeta | None:
    """The meta page in ``raw``, or None if it is not one (short, wrong magic or version, odd sizes)."""
    if len(raw) < _META_BYTES:
        return None
    magic, version = struct.unpack_from("=II", raw, _MAGIC_AT)
    if magic != LMDB_MAGIC or version != LMDB_DATA_VERSION:
        return None
    (page_size,) = struct.unpack_from("=I", raw, _PAGE_SIZE_AT)
    (last_page,) = struct.unpack_from(_WORD_FORMAT, raw, _LAST_PAGE_AT)
    (txn_id,) = struct.unpack_from(_WORD_FORMAT, raw, _LAST_PAGE_AT + _WORD)
    if page_size < 256 or page_size > 1 << 16 or page_size & (page_size - 1):
        return None
    if last_page < 1:
        return None
    return LmdbMeta(page_size=page_size, last_page=last_page, txn_id=txn_id)
