"""The C allocator's arenas, capped for page reading.

Why: glibc gives each thread that meets a busy allocator an arena of its own, up to eight per core, and
memory freed in one arena is not reused by another. Pages read two at a time, each cutting and reading
its lines on a few threads, spread a run's images over many arenas, and the process kept growing:
``kocr eval --layout page`` over the 40 dev handwritten photos peaked at 1.12-1.15 GB with glibc's
arenas, 0.93-0.97 GB with two, at the same speed (three runs each, alternating with
``MALLOC_ARENA_MAX=16`` set, which this leaves alone).
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
