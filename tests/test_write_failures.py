"""Issue 24, defect 4: output failures were tracebacks (IsADirectoryError for `predict -o DIR.tsv
--overwrite` and `lm build -o DIR --overwrite`, ENOSPC in predict, torch.save's RuntimeError in train, a
file given as `train --output`). Every write path now reports one `error:` line naming the output
(OutputWriteError) and leaves nothing half-written.

The failures are real: a full disk is /dev/full (standard output) and a small tmpfs mounted in a user
namespace (skipped where the kernel or container allows none), a file-size limit (RLIMIT_FSIZE, EFBIG)
works everywhere on Linux, a read-only file system is a tmpfs mounted read-only.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import REPO_ROOT, render_line, run_kocr

from kocr.errors import KocrError, OutputWriteError
from kocr.fileio import atomic_open, atomic_write_text

linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="/dev/full and tmpfs are Linux's"
)


def kocr_process(
    *args: object, stdout: object = subprocess.PIPE, preexec_fn: Callable[[], None] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m kocr ARGS`` as conftest's run_kocr runs it, with stdout and limits of our choosing."""
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), COLUMNS="200", PYTHONIOENCODING="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "kocr", *map(str, args)], env=env, stdout=stdout, stderr=subprocess.PIPE,
        text=True, encoding="utf-8", timeout=300, stdin=subprocess.DEVNULL, preexec_fn=preexec_fn,
    )  # fmt: skip


def one_error_line(result: subprocess.CompletedProcess[str], *parts: str) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "Traceback" not in (result.stdout or ""), result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert all(part in errors[0] for part in parts), errors[0]
    return errors[0]


# --- a folder where a file goes, a file where a folder goes ------------------------------------------


def test_a_folder_given_as_an_output_file_is_an_error_before_the_work(tmp_path: Path) -> None:
    (tmp_path / "out.tsv").mkdir()
    (tmp_path / "model.lm").mkdir()
    (tmp_path / "corpus.txt").write_text("가나다\n라마바\n", encoding="utf-8")
    (tmp_path / "line.png").write_bytes(render_line("12"))
    predicted = run_kocr("predict", tmp_path / "line.png", "-o", tmp_path / "out.tsv", "--overwrite")
    one_error_line(predicted, "out.tsv is a folder; give a file name")
    built = run_kocr("lm", "build", tmp_path / "corpus.txt", "-o", tmp_path / "model.lm", "--overwrite")
    one_error_line(built, "model.lm is a folder")
    (tmp_path / "runs").write_text("a file\n", encoding="utf-8")
    trained = run_kocr("train", "--train-data", tmp_path, "--charset", "ko", "--output", tmp_path / "runs")
    one_error_line(trained, "runs is a file; give a folder")
    assert (tmp_path / "runs").read_text(encoding="utf-8") == "a file\n"


def test_the_library_says_the_same_when_it_meets_a_folder(tmp_path: Path) -> None:
    from kocr.runtime.writers import write_predictions
    from kocr.training.rundir import new_run_dir

    (tmp_path / "out.json").mkdir()
    with pytest.raises(OutputWriteError, match=r"cannot write .*out\.json: it is a folder") as caught:
        write_predictions(tmp_path / "out.json", [("a.png", "가", 0.9)])
    assert isinstance(caught.value, KocrError) and isinstance(caught.value, OSError)
    (tmp_path / "runs").write_text("", encoding="utf-8")
    with pytest.raises(OutputWriteError, match="runs: a file is there, not a folder"):
        new_run_dir(tmp_path / "runs", "run")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json", "runs"]


# --- a full disk ------------------------------------------------------------------------------------


@linux_only
def test_standard_output_on_a_full_disk_is_one_error_line(tiny_model: Path, tmp_path: Path) -> None:
    (tmp_path / "line.png").write_bytes(render_line("12"))
    with open("/dev/full", "w") as full:
        predicted = kocr_process("predict", tmp_path / "line.png", "-m", tiny_model, stdout=full)
        listed = kocr_process("charset", "list", stdout=full)
    one_error_line(predicted, "cannot write standard output: No space left on device")
    one_error_line(listed, "cannot write standard output: No space left on device")
    assert "Exception ignored" not in predicted.stderr


def file_size_limit(size: int) -> Callable[[], None]:
    """A child whose files may not grow past ``size`` bytes: writes beyond fail with EFBIG (Python
    ignores SIGXFSZ), a real failure of the write itself on any Linux, root or not."""
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))


@linux_only
def test_a_write_that_fails_midway_leaves_nothing(
    tiny_model: Path, tiny_task: dict[str, Path], tmp_path: Path
) -> None:
    images = tmp_path / "images"
    images.mkdir()
    for i in range(40):
        (images / f"line-{i:02d}.png").write_bytes(render_line(str(i)))
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.json").write_text("[]\n", encoding="utf-8")
    predicted = kocr_process("predict", images, "-m", tiny_model, "-o", out / "old.json", "--overwrite",
                             preexec_fn=file_size_limit(1000))  # fmt: skip
    one_error_line(predicted, f"cannot write {out / 'old.json'}: File too large")
    assert sorted(p.name for p in out.iterdir()) == ["old.json"]  # no temporary left behind
    assert (out / "old.json").read_text(encoding="utf-8") == "[]\n"  # the old file untouched

    runs = tmp_path / "runs"
    trained = kocr_process(
        "train", "--train-data", tiny_task["train"], "--valid-data", tiny_task["valid"], "--charset",
        tiny_task["charset"], "--model", "vgg-bilstm-ctc-small", "--iters", "2", "--valid-every", "2",
        "--batch-size", "8", "--workers", "0", "--output", runs, preexec_fn=file_size_limit(100_000),
    )  # fmt: skip
    line = one_error_line(trained, "cannot write", ".pt: File too large")
    assert "RuntimeError" not in trained.stderr, line
    run_dir = next(runs.iterdir())
    assert not [p.name for p in run_dir.iterdir() if p.suffix in (".pt", ".tmp")]  # no part of a checkpoint


def _can_mount_tmpfs() -> str | None:
    """Why a tmpfs cannot be mounted in a user namespace here, or None when it can."""
    if shutil.which("unshare") is None:
        return "no unshare(1)"
    probe = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
         "mount -t tmpfs -o size=4k tmpfs /mnt"], capture_output=True, text=True,
    )  # fmt: skip
    return (
        None if probe.returncode == 0 else f"cannot mount a tmpfs in a user namespace: {probe.stderr.strip()}"
    )


needs_tmpfs = pytest.mark.skipif(
    not sys.platform.startswith("linux") or _can_mount_tmpfs() is not None,
    reason=f"a small or read-only file system needs a tmpfs in a user namespace ({_can_mount_tmpfs()})",
)


def on_small_disk(
    folder: Path, *args: object, read_only: bool = False
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """``kocr ARGS`` with ``folder`` a 64 KiB tmpfs filled to the last byte (or mounted read-only), and
    what is left in ``folder`` afterwards (the mount ends with the command)."""
    folder.mkdir(parents=True, exist_ok=True)
    script = (
        'mount -t tmpfs -o "$1" tmpfs "$2" || exit 99; '
        + ('dd if=/dev/zero of="$2/fill" bs=4096 2>/dev/null; ' if not read_only else "")
        + 'folder=$2; shift 2; "$@"; code=$?; echo "LEFT: $(ls -A "$folder" | tr "\\n" " ")" >&2; exit $code'
    )
    options = "size=64k" + (",ro" if read_only else "")
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), COLUMNS="200", PYTHONIOENCODING="utf-8")
    result = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script, "sh", options, str(folder),
         sys.executable, "-m", "kocr", *map(str, args)],
        env=env, capture_output=True, text=True, encoding="utf-8", timeout=300, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert result.returncode != 99, result.stderr
    left = result.stderr.rsplit("LEFT:", 1)[1].split()
    result.stderr = result.stderr.rsplit("LEFT:", 1)[0]
    return result, left


@needs_tmpfs
def test_a_full_disk_is_one_error_line_for_every_writer(
    tiny_model: Path, tiny_task: dict[str, Path], tmp_path: Path
) -> None:
    (tmp_path / "line.png").write_bytes(render_line("12"))
    disk = tmp_path / "disk"
    predicted, left = on_small_disk(
        disk, "predict", tmp_path / "line.png", "-m", tiny_model, "-o", disk / "p.json"
    )
    one_error_line(predicted, f"cannot write {disk / 'p.json'}: No space left on device")
    assert left == ["fill"]

    (tmp_path / "corpus.txt").write_text("가나다라\n" * 50, encoding="utf-8")
    built, left = on_small_disk(
        disk, "lm", "build", tmp_path / "corpus.txt", "-o", disk / "x.lm", "--order", "3"
    )
    one_error_line(built, f"cannot write {disk / 'x.lm'}: No space left on device")
    assert left == ["fill"]

    gt = tmp_path / "gt.txt"
    gt.write_text("line.png\t12\n", encoding="utf-8")
    lmdb, left = on_small_disk(disk, "data", "lmdb", gt, "-o", disk / "db")
    one_error_line(lmdb, f"cannot write {disk / 'db'}")
    assert left == ["fill"]

    evaluated, left = on_small_disk(
        disk, "eval", "-m", tiny_model, "--data", gt, "--log-file", disk / "log.txt"
    )
    one_error_line(evaluated, f"cannot write {disk / 'log.txt'}: No space left on device")
    assert left == ["fill"]

    trained, left = on_small_disk(
        disk, "train", "--train-data", tiny_task["train"], "--valid-data", tiny_task["valid"], "--charset",
        tiny_task["charset"], "--model", "vgg-bilstm-ctc-small", "--iters", "2", "--valid-every", "2",
        "--batch-size", "8", "--workers", "0", "--output", disk / "runs",
    )  # fmt: skip
    one_error_line(trained, "cannot write", "No space left on device")
    assert "RuntimeError" not in trained.stderr and "fill" in left


@needs_tmpfs
def test_a_read_only_file_system_is_one_error_line(tiny_model: Path, tmp_path: Path) -> None:
    (tmp_path / "line.png").write_bytes(render_line("12"))
    disk = tmp_path / "ro"
    predicted, left = on_small_disk(disk, "predict", tmp_path / "line.png", "-m", tiny_model, "-o",
                                    disk / "sub" / "p.json", read_only=True)  # fmt: skip
    one_error_line(predicted, f"{disk} is on a read-only file system")
    assert left == []


@pytest.mark.skipif(
    os.name != "posix" or os.geteuid() == 0, reason="root writes into a read-only folder anyway"
)
def test_a_folder_without_write_permission(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(OutputWriteError, match="Permission denied"):
            atomic_write_text(folder / "x.txt", "text")
        with (
            pytest.raises(OutputWriteError, match="Permission denied"),
            atomic_open(folder / "y.txt") as handle,
        ):
            handle.write("text")
        (tmp_path / "gt.txt").write_text("a.png\t가나\n", encoding="utf-8")
        result = run_kocr("charset", "build", "--from", tmp_path / "gt.txt", "-o", folder / "c.txt")
        assert result.returncode == 2 and "no permission to write in" in result.stderr
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o755)
