"""How a process that reads pages holds its memory: fewer C allocator arenas, and no onnxruntime arena.

Why: pages are read two at a time on threads, each page's lines in batches of its own widths, and
two allocators kept what they once held. Each was measured with ``kocr eval --layout page`` over the 40
dev photos of a split, runs alternating with and without the setting, the same texts either way:

- glibc gives each thread that meets a busy allocator an arena of its own (up to eight per core), and
  memory freed in one is not reused by another. Handwritten photos peaked at 1.12-1.15 GB with glibc's
  arenas, 0.93-0.97 GB capped at two, at the same speed (three runs each, alternating with
  ``MALLOC_ARENA_MAX=16`` set; a ``MALLOC_ARENA_MAX`` the user sets is left alone).
- onnxruntime's CPU arena grows to the largest batch a session has run and keeps it. Without it,
  printed photos peaked at 1.03-1.12 GB instead of 1.21-1.28 GB, handwritten photos at 0.78-0.91 GB
  instead of 1.04-1.11 GB, within 2 % of the speed (four runs and two). Reading line crops it is kept:
  there the arena's reuse saved 45-65 MB (1,200 dev lines).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

M_ARENA_MAX = -8  # glibc's mallopt parameter number (malloc.h)
PAGE_READING_ARENAS = 2


def ready_for_pages() -> None:
    """Set the process up to read pages: malloc arenas capped, and sessions opened from now on without
    onnxruntime's arena (call it before the recogniser loads)."""
    from kocr.runtime.onnx_session import set_cpu_arena

    cap_malloc_arenas()
    set_cpu_arena(False)


def cap_malloc_arenas(arenas: int = PAGE_READING_ARENAS) -> bool:
    """Cap the process's malloc arenas at ``arenas`` (glibc only; elsewhere, or when the user set
    ``MALLOC_ARENA_MAX`` themselves, nothing changes). Whether the cap was set."""
    if not sys.platform.startswith("linux") or "MALLOC_ARENA_MAX" in os.environ:
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    return bool(mallopt(M_ARENA_MAX, arenas))
