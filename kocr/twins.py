"""ONNX twins of checkpoints: where they sit, and whether one may be read in a checkpoint's place.

:mod:`kocr.load` runs a checkpoint with ONNX Runtime through its exported twin. A twin stands in for a
checkpoint only when the twin's own bytes are bound to the checkpoint's bytes by a record kocr wrote
when it made the twin, never by what the twin says of itself: its metadata (``kocr.checkpoint_sha256``)
travels and is edited with the file, so a stale export, a damaged file or another model's export with
edited metadata would be read in the checkpoint's place (an untrained model "reading" with the bundled
model's weights). The records, each outside the twin:

- the bundled model: ``kocr/weights/twins.json``, written by ``scripts/package_default.py``, holds
  ``default.pt``'s sha256 and ``default.onnx``'s (so it works offline, with no cache);
- every export kocr writes (``kocr export``, and ``--engine onnxruntime``'s twins in the cache): an
  entry in the cache, ``onnx/bindings/CHECKPOINT_SHA256.TWIN_SHA256``. Deleting the cache forgets them:
  such a twin is then read by PyTorch until it is exported again.

Checking a twin costs a sha256 of its bytes (about 10 ms for the bundled model); those same bytes are
what ONNX Runtime is given, so a file changed after the check is never run unchecked.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from kocr import __version__
from kocr.cache import cache_path
from kocr.checkpoints.files import file_sha256
from kocr.fileio import atomic_write_text
from kocr.names import json_text

logger = logging.getLogger(__name__)

BUNDLED_RECORD = Path(__file__).resolve().parent / "weights" / "twins.json"
_SHA256_HEX = frozenset("0123456789abcdef")


def bundled_twin(path: Path) -> Path:
    """Where a checkpoint's twin sits beside it: same name, ``.onnx`` (the bundled default.onnx, or
    ``kocr export -m best.pt -o best.onnx``)."""
    return path.with_suffix(".onnx")


def cached_twin(digest: str) -> Path:
    """Where ``--engine onnxruntime`` leaves the export of a checkpoint with these bytes."""
    return cache_path("onnx", f"{digest[:32]}-kocr{__version__}.onnx")


def twin_candidates(path: Path, digest: str) -> list[Path]:
    """Existing files that may be the twin of ``path`` (:func:`check_twin` says whether they are)."""
    return [candidate for candidate in (bundled_twin(path), cached_twin(digest)) if candidate.is_file()]


@dataclass(frozen=True)
class TwinCheck:
    """A candidate twin, read once: its bytes when they are bound to the checkpoint, else why not."""

    path: Path
    content: bytes | None
    problem: str = ""

    @property
    def bound(self) -> bool:
        return self.content is not None


def check_twin(candidate: Path, checkpoint_sha256: str) -> TwinCheck:
    """Read ``candidate`` and say whether kocr recorded it as an export of the checkpoint whose bytes
    have ``checkpoint_sha256``."""
    try:
        content = candidate.read_bytes()
    except OSError as exc:
        return TwinCheck(candidate, None, f"cannot be read ({exc.strerror or exc})")
    if not content:
        return TwinCheck(candidate, None, "is empty")
    if hashlib.sha256(content).hexdigest() not in bound_twin_digests(checkpoint_sha256):
        return TwinCheck(
            candidate,
            None,
            "is not an export kocr made of this checkpoint (made from other checkpoint bytes, "
            "damaged, or copied in)",
        )
    return TwinCheck(candidate, content)


def bound_twin_digests(checkpoint_sha256: str) -> set[str]:
    """sha256 of every twin kocr recorded as an export of these checkpoint bytes."""
    digests = {
        entry["twin_sha256"]
        for entry in _bundled_entries()
        if entry.get("checkpoint_sha256") == checkpoint_sha256 and isinstance(entry.get("twin_sha256"), str)
    }
    folder = _bindings_folder()
    with contextlib.suppress(OSError):
        for name in os.listdir(folder):
            checkpoint, _, twin = name.partition(".")
            if checkpoint == checkpoint_sha256 and _is_sha256(twin):
                digests.add(twin)
    return digests


def record_binding(checkpoint_sha256: str, twin_sha256: str, *, checkpoint: str, twin: str) -> None:
    """Record in the cache that the twin with ``twin_sha256`` is kocr's export of the checkpoint with
    ``checkpoint_sha256`` (best effort: a cache that cannot be written only means no ONNX Runtime for
    that twin until it is exported again)."""
    if not (_is_sha256(checkpoint_sha256) and _is_sha256(twin_sha256)):
        raise ValueError("both digests must be sha256 hex digests")
    record = {"checkpoint": checkpoint, "twin": twin, "kocr_version": __version__}
    try:
        atomic_write_text(_bindings_folder() / f"{checkpoint_sha256}.{twin_sha256}", json_text(record))
    except OSError as exc:
        logger.info("could not record %s as the export of %s in the cache (%s)", twin, checkpoint, exc)


def write_bundled_record(checkpoint: Path, twin: Path, record: Path = BUNDLED_RECORD) -> Path:
    """Bind a packaged checkpoint to its packaged twin (``scripts/package_default.py`` for the model,
    ``scripts/package_detector.py`` for the line detector): the record ships with kocr, so the bundled
    twin is trusted offline and with an empty cache. The other checkpoints' entries stay."""
    entry = {
        "checkpoint": checkpoint.name,
        "checkpoint_sha256": file_sha256(checkpoint),
        "twin": twin.name,
        "twin_sha256": file_sha256(twin),
    }
    others = [e for e in _bundled_entries(record) if e.get("checkpoint") != checkpoint.name]
    return atomic_write_text(record, json.dumps({"twins": [*others, entry]}, indent=2) + "\n")


def _bundled_entries(record: Path = BUNDLED_RECORD) -> list[dict[str, object]]:
    try:
        entries = json.loads(record.read_text(encoding="utf-8"))["twins"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    return [entry for entry in entries if isinstance(entry, dict)] if isinstance(entries, list) else []


def _bindings_folder() -> Path:
    return cache_path("onnx", "bindings")


def _is_sha256(text: str) -> bool:
    return len(text) == 64 and set(text) <= _SHA256_HEX
