"""Read handles: one LMDB environment per process, shared by every reader in it.

py-lmdb refuses a second open of the same files in one process (clovaai's ``--train_data X
--valid_data X`` crash), so readers share one environment per LMDB; after a fork the child forgets the
parent's handles and opens its own, so DataLoader workers each get theirs.

Every open checks first that ``data.mdb`` is whole (:mod:`kocr.data.lmdb.integrity`): lmdb maps the file
and a page past the end of a truncated one is a bus error, not an exception.
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

import lmdb

from kocr.data.lmdb.integrity import check_lmdb_data_file, check_lmdb_size
from kocr.errors import InputFileError

_envs: dict[str, lmdb.Environment] = {}
_envs_pid = os.getpid()
_envs_lock = threading.Lock()


def _forget_parent_envs() -> None:
    """After a fork the parent's handles must not be used, and py-lmdb still counts them as open."""
    global _envs_pid, _envs_lock
    for env in _envs.values():
        with contextlib.suppress(lmdb.Error):
            env.close()
    _envs.clear()
    _envs_pid = os.getpid()
    _envs_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_parent_envs)


def open_lmdb(path: str | os.PathLike[str]) -> lmdb.Environment:
    """The read-only environment for ``path``, shared by every reader in this process.

    Keyed by real path; an LMDB replaced on disk since it was opened (a new data.mdb) is reopened.
    A damaged data file (truncated, not an LMDB) is an :class:`InputFileError` naming ``path``, raised
    before lmdb maps it.
    """
    if os.getpid() != _envs_pid:
        _forget_parent_envs()
    real = os.path.realpath(path)
    data_file = os.path.join(real, "data.mdb")
    try:
        inode = os.stat(data_file).st_ino
    except OSError:
        if not os.path.exists(real):
            raise InputFileError(path, "LMDB folder not found") from None
        raise InputFileError(path, "not an LMDB folder (no data.mdb inside)") from None
    key = f"{real}\0{inode}"
    with _envs_lock:
        env = _envs.get(key)
        if env is None:
            for stale in [k for k in _envs if k.split("\0", 1)[0] == real]:
                del _envs[stale]  # replaced on disk; readers still holding it keep it alive
            check_lmdb_data_file(path, data_file)
            try:
                env = lmdb.open(  # a bytes path: py-lmdb encodes str strictly as UTF-8 (CP949 folders)
                    os.fsencode(real), readonly=True, lock=False, readahead=False, meminit=False,
                    max_readers=256,
                )  # fmt: skip
            except lmdb.Error as exc:
                raise InputFileError(path, f"cannot open LMDB: {exc}") from None
            try:  # lmdb's own reading of the meta pages, against the file as it is now
                check_lmdb_size(
                    path,
                    Path(data_file),
                    os.stat(data_file).st_size,
                    int(env.info()["last_pgno"]),
                    int(env.stat()["psize"]),
                )
            except BaseException:
                env.close()
                raise
            _envs[key] = env
        return env
