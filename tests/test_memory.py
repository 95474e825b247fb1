"""Page reading readies the process's memory (kocr.runtime.memory): glibc's malloc arenas capped unless
the user set the cap, and onnxruntime sessions opened after it without their CPU arena."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

CAP = "from kocr.runtime.memory import cap_malloc_arenas; print(cap_malloc_arenas())"
SESSIONS = """
import kocr
from kocr.runtime.memory import ready_for_pages
arena = lambda r: r.session.get_session_options().enable_cpu_mem_arena
before = kocr.load_recognizer("default", engine="onnxruntime")
ready_for_pages()
after = kocr.load_recognizer("default", engine="onnxruntime")
print(arena(before), arena(after))
"""


def _run(code: str, env: dict[str, str]) -> str:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return result.stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_the_arenas_are_capped_unless_the_user_chose() -> None:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    assert _run(CAP, env) == "True"
    assert _run(CAP, {**env, "MALLOC_ARENA_MAX": "8"}) == "False"


def test_sessions_opened_for_pages_have_no_onnxruntime_arena() -> None:
    assert _run(SESSIONS, dict(os.environ)) == "True False"
