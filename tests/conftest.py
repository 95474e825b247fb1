"""Shared test helpers: run the real CLI in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# Spin-waiting OpenMP threads starve each other when anything else shares the CPU (a busy CI runner, a
# parallel job): a training fixture that takes 10 s alone took minutes. Passive waiting costs little.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def run_kocr(
    *args: str | os.PathLike[str],
    cwd: str | os.PathLike[str] | None = None,
    timeout: float = 300,
    umask: int | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m kocr ARGS`` (the installed package, or this checkout) and capture its output.

    ``umask``: the child's umask (the default: this process's)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.setdefault("COLUMNS", "200")  # rich wraps tables to the terminal width; keep rows on one line
    env["PYTHONIOENCODING"] = "utf-8"
    return subprocess.run(
        [sys.executable, "-m", "kocr", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        umask=-1 if umask is None else umask,
    )


@pytest.fixture(scope="module")
def single_thread() -> Iterator[None]:
    """Small ops in many tiny tensors run faster on one thread, and a second busy torch process on a
    two-core machine cannot stall them (modules opt in with ``pytestmark``)."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture
def kocr_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """The :func:`run_kocr` helper as a fixture."""
    return run_kocr


def assert_no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    """User errors must be one clear message, never a Python traceback."""
    assert "Traceback" not in result.stderr, result.stderr
    assert "Traceback" not in result.stdout, result.stdout


# --- a tiny, learnable recognition task shared by the training / predict / eval tests ----------------

TINY_ALPHABET = "0123456789가나다라마"


def render_line(text: str, height: int = 32) -> bytes:
    """A clean black-on-white PNG of ``text`` in Noto Sans KR (shipped by the dev extra)."""
    import io

    from PIL import Image, ImageDraw, ImageFont

    pylopdf_fonts_ko = pytest.importorskip("pylopdf_fonts_ko", reason="needs the dev extra's Korean font")
    font = ImageFont.truetype(str(pylopdf_fonts_ko.sans_path()), 24)
    image = Image.new("L", (int(font.getlength(text)) + 8, height), 255)
    ImageDraw.Draw(image).text((4, 0), text, font=font, fill=0)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def random_labels(count: int, seed: int) -> list[str]:
    import random

    rng = random.Random(seed)
    return ["".join(rng.choice(TINY_ALPHABET) for _ in range(rng.randint(2, 5))) for _ in range(count)]


@pytest.fixture(scope="session")
def tiny_task(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Train/valid LMDBs of rendered digit/Hangul strings and their charset file."""
    from kocr.data.lmdb.writer import LmdbWriter

    root = tmp_path_factory.mktemp("tiny_task")
    for name, count, seed in (("train", 800, 0), ("valid", 100, 1)):
        with LmdbWriter(root / name) as writer:
            for label in random_labels(count, seed):
                writer.add(render_line(label), label)
    charset = root / "charset.txt"
    charset.write_text("\n".join(TINY_ALPHABET) + "\n", encoding="utf-8")
    return {"root": root, "train": root / "train", "valid": root / "valid", "charset": charset}


def tiny_train_config(task: dict[str, Path], output: Path, **changes: object):
    """A CRNN small enough to learn the tiny task in a few hundred CPU steps."""
    from kocr.training.config import TrainConfig

    options: dict[str, object] = dict(
        train_data=[str(task["train"])],
        valid_data=[str(task["valid"])],
        charset=str(task["charset"]),
        model="vgg-bilstm-ctc-small",
        model_overrides={"output_channel": 32, "hidden_size": 32, "img_w": 128},
        batch_size=32,
        iters=300,
        lr=3e-3,
        valid_every=100,
        workers=0,
        augment=False,
        output=str(output),
    )
    options.update(changes)
    return TrainConfig(**options)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def tiny_model(tiny_task: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """best.pt of a tiny CRNN trained on the tiny task (about 10 s on two cores)."""
    from kocr.training.trainer import Trainer

    result = Trainer(tiny_train_config(tiny_task, tmp_path_factory.mktemp("runs"))).run()
    return result.run_dir / "best.pt"


# --- Debian's Nanum fonts, for tests that render pages ------------------------------------------------

NANUM_FONTS = (
    Path("/usr/share/fonts/truetype/nanum/NanumGothic.ttf"),
    Path("/usr/share/fonts/truetype/nanum/NanumPen.ttf"),
)
needs_nanum = pytest.mark.skipif(
    not all(f.is_file() for f in NANUM_FONTS), reason="needs Debian's fonts-nanum (NanumGothic, NanumPen)"
)


@pytest.fixture(scope="module")
def module_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Font coverage cached in a folder of the module's own (CLI subprocesses inherit it)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KOCR_CACHE_DIR", str(tmp_path_factory.mktemp("kocr-cache")))
        yield


@pytest.fixture(scope="module")
def nanum_faces(module_cache: None) -> tuple:
    """NanumGothic (print) and NanumPen (marked handwriting) as synthetic-text faces."""
    from kocr.data.synth.fonts import DEFAULT_HANDWRITING_PATTERNS, faces_in_file, mark_handwriting

    if not all(f.is_file() for f in NANUM_FONTS):
        pytest.skip("needs Debian's fonts-nanum (NanumGothic, NanumPen)")
    return tuple(
        mark_handwriting(face, DEFAULT_HANDWRITING_PATTERNS) for f in NANUM_FONTS for face in faces_in_file(f)
    )
