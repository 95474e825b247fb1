"""Page reading caps glibc's malloc arenas (kocr.runtime.malloc), unless the user set the cap."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

CHECK = "from kocr.runtime.malloc import cap_malloc_arenas; print(cap_malloc_arenas())"


def _capped(env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, env=env, check=True
    )
    return result.stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_the_arenas_are_capped_unless_the_user_chose() -> None:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    assert _capped(env) == "True"
    assert _capped({**env, "MALLOC_ARENA_MAX": "8"}) == "False"
