"""Synthetic-data recipes (TOML) and training on lines rendered on the fly (real renders, real steps)."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import assert_no_traceback, run_kocr, tiny_train_config

from kocr.charsets import Charset
from kocr.checkpoints import load_checkpoint
from kocr.data.synth.plan import plan
from kocr.data.synth.recipes import load_recipe
from kocr.data.synth.stream import BLOCK, VALIDATION_BASE, VIRTUAL_SIZE, SynthStream, is_synth_source
from kocr.errors import KocrError
from kocr.training.sampling import MixedEpochSampler, StreamPart
from kocr.training.trainer import Trainer

noto = pytest.importorskip("pylopdf_fonts_ko", reason="Noto fonts come from the pylopdf-fonts-ko package")
SYMBOLS = "가나다라마바사"


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOCR_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kocr-cache"))


def write_recipe(folder: Path, body: str = "", *, charset: bool = True) -> Path:
    """A recipe drawing short texts of SYMBOLS (and spaces) in Noto Sans (print) and Serif (as a hand)."""
    folder.mkdir(parents=True, exist_ok=True)
    if charset:
        (folder / "charset.txt").write_text("\n".join(SYMBOLS) + "\n<space>\n", encoding="utf-8")
    fonts = folder / "fonts"
    fonts.mkdir(exist_ok=True)
    shutil.copy(noto.serif_path(), fonts / "Serif.otf")
    recipe = folder / "recipe.toml"
    recipe.write_text(
        f"""
seed = 3
charset = "charset.txt"
lines_per_epoch = 100
handwriting_ratio = 0.5
height = [32, 40]

[text]
max_chars = 6
mix = {{ syllables = 1.0, words = 0, mixed = 0 }}

[[fonts]]
files = ["{noto.sans_path()}"]

[[fonts]]
dir = "fonts"
handwriting = true

[degradations]
jpeg = 0.0
{body}
""",
        encoding="utf-8",
    )
    return recipe


# --- recipes ------------------------------------------------------------------------------------


def test_recipe_reads_fonts_texts_and_settings(tmp_path: Path) -> None:
    recipe = load_recipe(write_recipe(tmp_path))
    config = recipe.config
    assert recipe.lines_per_epoch == 100
    assert config.seed == 3 and config.height == (32, 40) and config.handwriting_ratio == 0.5
    assert config.charset == str(tmp_path / "charset.txt")  # relative to the recipe, not the cwd
    assert config.text.max_chars == 6 and config.text.weights["syllables"] == 1.0
    assert config.text.weights["words"] == 0 and config.degradations.jpeg == 0.0
    assert config.degradations.blur == 0.3  # untouched probabilities keep their defaults
    kinds = {face.path.name: face.handwriting for face in config.fonts}
    assert kinds["Serif.otf"] is True and kinds[Path(noto.sans_path()).name] is False
    assert load_recipe(tmp_path / "recipe.toml", seed=9).config.seed == 9


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("colour = 1", "unknown key colour"),
        ("[text.extra]\nx = 1", "unknown key text.extra"),
        ('[[fonts]]\ndir = "no-such-folder"', "fonts[2].dir: font folder"),
        ('[[fonts]]\ndir = "${KOCR_NO_SUCH_VARIABLE}"', "environment variable not set"),
        ('[[fonts]]\ndir = "a"\nfiles = ["b"]', "exactly one of dir"),
        ("lines_per_epoch = 0", "lines_per_epoch: must be at least 1"),
        ("= broken", "not valid TOML"),
    ],
)
def test_recipe_errors_name_the_file_and_the_key(tmp_path: Path, extra: str, message: str) -> None:
    path = write_recipe(tmp_path)
    text = path.read_text(encoding="utf-8")
    if extra.startswith("lines_per_epoch"):
        text = text.replace("lines_per_epoch = 100", extra)
    elif extra.startswith("colour"):
        text = extra + "\n" + text  # top-level keys go before the first table
    else:
        text += "\n" + extra + "\n"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(KocrError) as error:
        load_recipe(path)
    assert str(path) in str(error.value) and message in str(error.value)


def test_an_optional_font_folder_may_be_missing(tmp_path: Path) -> None:
    path = write_recipe(tmp_path, '[[fonts]]\ndir = "${KOCR_NO_SUCH_VARIABLE}"\noptional = true\n')
    assert len(load_recipe(path).config.fonts) == 2


# --- the stream -----------------------------------------------------------------------------------


def _pixels(item: tuple[object, str]) -> np.ndarray:
    return np.asarray(item[0])


def test_an_item_depends_only_on_its_index(tmp_path: Path) -> None:
    recipe = load_recipe(write_recipe(tmp_path))
    charset = Charset.load(tmp_path / "charset.txt")
    one, two = SynthStream(recipe, charset=charset), SynthStream(recipe, charset=charset)
    assert len(one) == VIRTUAL_SIZE and is_synth_source("synth:x.toml") and is_synth_source("x.TOML")
    first = one[5]
    one[BLOCK + 3]  # another block in between: the first is made again, identically
    for a, b in ((first, two[5]), (one[5], first), (one[VALIDATION_BASE + 1], two[VALIDATION_BASE + 1])):
        assert a[1] == b[1] and np.array_equal(_pixels(a), _pixels(b))
    labels = [one[i][1] for i in range(40)]
    assert len(set(labels)) > 20
    assert all(label and set(label) <= set(SYMBOLS + " ") for label in labels)
    assert not np.array_equal(_pixels(one[6]), _pixels(first))


def test_the_stream_refuses_texts_its_model_cannot_read(tmp_path: Path) -> None:
    recipe = load_recipe(write_recipe(tmp_path))
    with pytest.raises(KocrError, match="outside the model's charset"):
        SynthStream(recipe, charset=Charset(["가", "나"], name="tiny"))
    with pytest.raises(KocrError, match="max_chars"):
        SynthStream(recipe, max_length=4)


def test_the_sampler_reads_a_stream_forward_and_fresh_every_epoch() -> None:
    sampler = MixedEpochSampler([StreamPart(20), [0, 1, 2, 3]], [0.5, 0.5], sizes=[VIRTUAL_SIZE, 4], seed=1)
    epochs = [sampler.epoch_order(e) for e in range(3)]
    streamed = [[i for i in order if i < VIRTUAL_SIZE] for order in epochs]
    for epoch, drawn in enumerate(streamed):
        assert drawn == list(range(epoch * 24, epoch * 24 + len(drawn)))  # forward, from e × epoch_size
    assert all(len(d) > 5 for d in streamed)
    assert {i - VIRTUAL_SIZE for i in epochs[0] if i >= VIRTUAL_SIZE} <= {0, 1, 2, 3}
    sampler.set_epoch(1, start=5)
    assert list(sampler) == epochs[1][5:]


# --- training -------------------------------------------------------------------------------------


def test_training_on_a_stream_resumes_bit_for_bit(tiny_task: dict[str, Path], tmp_path: Path) -> None:
    from test_training import run_stopped

    recipe = write_recipe(tmp_path / "recipe")
    changes = dict(
        train_data=[f"synth:{recipe}"],
        valid_data=[],
        charset=str(tmp_path / "recipe" / "charset.txt"),
        iters=6,
        valid_every=1000,
        valid_max_samples=16,
        log_every=1,
        batch_size=8,
        name="run",
    )
    straight = Trainer(tiny_train_config(tiny_task, tmp_path / "a", **changes)).run()
    last = run_stopped(tiny_task, tmp_path / "b", 3, **changes).run_dir / "last.pt"
    resumed = Trainer(tiny_train_config(tiny_task, tmp_path / "b", **changes, resume=str(last))).run()
    assert resumed.step == 6
    a, b = load_checkpoint(straight.run_dir / "last.pt"), load_checkpoint(last)
    for key, value in a.state_dict.items():
        assert torch.equal(value, b.state_dict[key]), key
    assert a.metrics["samples"] == 16  # validated on the stream's own fixed lines


def test_cli_renders_a_recipe_and_reports_a_bad_one(tmp_path: Path) -> None:
    recipe = write_recipe(tmp_path / "recipe")
    result = run_kocr(
        "data", "synth", "--config", recipe, "-o", tmp_path / "out", "--num", "6",
        "--preview", tmp_path / "sheet.png", "--workers", "1",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "data.mdb").is_file() and (tmp_path / "sheet.png").is_file()
    result = run_kocr(
        "train", "--train-data", f"synth:{tmp_path / 'missing.toml'}", "--charset", "ko-2350",
        "--output", tmp_path / "runs",
    )  # fmt: skip
    assert result.returncode == 2 and "missing.toml" in result.stderr
    assert_no_traceback(result)


# --- issue 24: bad text sources are errors, never dropped ---------------------------------------------


def _with_corpus(recipe: Path, corpus: str | None, mix: str) -> Path:
    text = recipe.read_text(encoding="utf-8")
    text = text.replace("mix = { syllables = 1.0, words = 0, mixed = 0 }", f"mix = {mix}")
    if corpus is not None:
        text = f'corpus = ["{corpus}"]\n' + text
    recipe.write_text(text, encoding="utf-8")
    return recipe


CORPORA = {
    "cp949.txt": ("가나다 라마\n나다라 바사\n".encode("cp949"), "cp949.txt:1: not valid UTF-8"),
    "partly.txt": (
        "가나다 라마\n".encode() + "나다라 바사\n".encode("cp949") + "다라마\n".encode(),
        "partly.txt:2: not valid UTF-8",
    ),
    "empty.txt": (b"\n\n", "empty.txt: the corpus holds no text"),
    "outside.txt": ("漢字文章\n東西 南北\n".encode(), "outside.txt: no line of the corpus is usable for"),
}


@pytest.mark.parametrize("name", sorted(CORPORA))
def test_a_bad_corpus_is_an_error_naming_the_file_and_line(tmp_path: Path, name: str) -> None:
    """Defect 2: a CP949, partly bad, empty or unusable corpus behind `mix = {prose = 1}` rendered
    other text kinds with exit code 0."""
    content, message = CORPORA[name]
    (tmp_path / name).write_bytes(content)
    recipe = _with_corpus(write_recipe(tmp_path), name, "{ prose = 1, corpus = 0, words = 0, syllables = 0 }")
    with pytest.raises(KocrError, match=message.replace(".", r"\.")):
        SynthStream(load_recipe(recipe))
    if name == "cp949.txt":
        result = run_kocr("data", "synth", "--config", recipe, "-o", tmp_path / "out", "--workers", "1")
        assert result.returncode == 2 and f"{tmp_path / name}:1: not valid UTF-8" in result.stderr
        assert "iconv" in result.stderr and not (tmp_path / "out").exists()
        assert_no_traceback(result)


def test_a_good_corpus_feeds_prose_and_prose_needs_one(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("가나다 라마바 사가나\n\n다라마 바사\n", encoding="utf-8")
    mix = "{ prose = 1, corpus = 0, words = 0, syllables = 0 }"
    stream = SynthStream(load_recipe(_with_corpus(write_recipe(tmp_path / "good"), "../good.txt", mix)))
    labels = [stream[i][1] for i in range(12)]
    assert all(set(label) <= set(SYMBOLS + " ") for label in labels)
    assert {kind for kind, count in stream.the_plan.texts.kind_counts.items() if count} == {"prose"}
    with pytest.raises(KocrError, match=r"recipe\.toml:10: text\.mix\.prose: prose is cut from a corpus"):
        load_recipe(_with_corpus(write_recipe(tmp_path / "none"), None, mix))
    # the library's own check, for configs made without a recipe (kocr data synth --text-mix prose=1)
    config = replace(stream.config, corpus=())
    with pytest.raises(KocrError, match=r"asks for prose .* no corpus file is given"):
        plan(config)


def test_cli_corpus_option_reads_strictly(tmp_path: Path) -> None:
    """`kocr data synth --corpus cp949.txt` said nothing about the encoding."""
    corpus = tmp_path / "cp949.txt"
    corpus.write_bytes("가나다 라마\n".encode("cp949"))
    result = run_kocr(
        "data", "synth", "--corpus", corpus, "--font", noto.sans_path(), "-o", tmp_path / "out",
        "--num", "4", "--workers", "1",
    )  # fmt: skip
    assert result.returncode == 2 and f"{corpus}:1: not valid UTF-8" in result.stderr, result.stderr
    assert not (tmp_path / "out").exists()
    assert_no_traceback(result)


# --- issue 24: one declared schema, strict types, errors at the key's line ----------------------------

TYPE_ERRORS = [
    ("seed = 3", "seed = 4.5", "seed: must be a whole number, not 4.5"),
    ("seed = 3", "seed = true", "seed: must be a whole number, not true"),
    ("seed = 3", "seed = 1e400", "seed: must be a whole number, not inf"),
    ("seed = 3", "seed = -1", "seed: must be at least 0"),
    ("handwriting_ratio = 0.5", 'handwriting_ratio = "0.5"', 'handwriting_ratio: must be a number, not "0.5'),
    ("handwriting_ratio = 0.5", "handwriting_ratio = 1.5", "handwriting_ratio: must be at most 1.0"),
    ("lines_per_epoch = 100", "lines_per_epoch = 1.5", "lines_per_epoch: must be a whole number, not 1.5"),
    ("lines_per_epoch = 100", "lines_per_epoch = 0", "lines_per_epoch: must be at least 1, not 0"),
    ("max_chars = 6", 'max_chars = 6\nmin_chars = "1"', 'text.min_chars: must be a whole number, not "1"'),
    ("max_chars = 6", "max_chars = 6\nmin_chars = 7", "text.min_chars: 7 is above text.max_chars (6)"),
    ("words = 0,", "words = nan,", "text.mix.words: must be a finite number, not nan"),
    ("words = 0,", "words = -1,", "text.mix.words: must be at least 0.0"),
    ("words = 0,", "essays = 1,", "text.mix.essays: unknown text kind"),
    ("handwriting = true", 'handwriting = "yes"', "fonts[1].handwriting: must be true, false or a list"),
    ("handwriting = true", "handwriting = 1", "fonts[1].handwriting: must be true, false or a list"),
    ('dir = "fonts"', 'dir = "fonts"\noptional = "no"', 'fonts[1].optional: must be true or false, not "no"'),
    ("height = [32, 40]", "height = [32.5, 40]", "height[0]: must be a whole number, not 32.5"),
    ("height = [32, 40]", "height = [40, 32]", "height: must be [low, high] with 8 <= low <= high"),
    ("height = [32, 40]", 'mode = "CMYK"', "mode: must be 'L' or 'RGB', not \"CMYK\""),
    ("jpeg = 0.0", "jpeg = 2", "degradations.jpeg: must be at most 1.0, not 2"),
    ("jpeg = 0.0", "sparkle = 0.5", "unknown key degradations.sparkle; known: degradations.blur"),
    ("seed = 3", "seed = 3\ncolour = 1", "unknown key colour; known: charset, corpus"),
    ('charset = "charset.txt"', 'charset = "ko-9999"', "charset: 'ko-9999' is neither a charset preset"),
    # the mix asks for prose, which needs a corpus; all handwriting, and no face is marked handwriting
    ("words = 0,", "words = 0, prose = 1,", "text.mix.prose: prose is cut from a corpus"),
    ("handwriting = true", "handwriting = false", "handwriting_ratio: 0.5 of the lines should be"),
]


@pytest.mark.parametrize(("old", "new", "message"), TYPE_ERRORS, ids=[case[1] for case in TYPE_ERRORS])
def test_recipe_values_are_checked_strictly_at_their_line(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    """Defect 3: seed = 4.5, seed = true, handwriting_ratio = "0.5", handwriting = "yes", min_chars = "1",
    mix = { prose = nan } were accepted; seed = 1e400 was an OverflowError."""
    path = write_recipe(tmp_path)
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    key = new.split("\n")[-1].split("=")[0].strip()
    if key in ("words", "essays"):  # inside the inline mix table
        key = "mix"
    elif message.startswith("handwriting_ratio"):
        key = "handwriting_ratio"
    line = next(n for n, content in enumerate(text.splitlines(), 1) if content.startswith(f"{key} ="))
    with pytest.raises(KocrError) as error:
        load_recipe(path)
    assert str(error.value).startswith(f"{path}:{line}: "), (str(error.value), line)
    assert message in str(error.value)


def test_cli_reports_a_recipe_type_error_and_a_nan_text_mix(tmp_path: Path) -> None:
    path = write_recipe(tmp_path)
    path.write_text(path.read_text(encoding="utf-8").replace("seed = 3", "seed = 4.5"), encoding="utf-8")
    result = run_kocr("data", "synth", "--config", path, "-o", tmp_path / "out", "--num", "2")
    assert result.returncode == 2 and f"{path}:2: seed: must be a whole number, not 4.5" in result.stderr
    assert_no_traceback(result)
    result = run_kocr("data", "synth", "--text-mix", "words=nan", "-o", tmp_path / "out", "--num", "2")
    assert result.returncode == 2 and "--text-mix" in result.stderr and "nan" in result.stderr
    assert_no_traceback(result)


def test_all_handwriting_without_a_handwriting_face_is_refused(tmp_path: Path) -> None:
    """handwriting_ratio = 1.0 with no handwriting font rendered print only."""
    recipe = load_recipe(write_recipe(tmp_path))
    printed = tuple(face for face in recipe.config.fonts if not face.handwriting)
    with pytest.raises(KocrError, match="handwriting_ratio 1 asks for handwriting lines only"):
        plan(replace(recipe.config, fonts=printed, handwriting_ratio=1.0))
    result = run_kocr(
        "data", "synth", "--font", noto.sans_path(), "--handwriting-ratio", "1", "-o", tmp_path / "out",
    )  # fmt: skip
    assert result.returncode == 2 and "--handwriting-ratio" in result.stderr
    assert "none of the 1 fonts is a handwriting face" in result.stderr and not (tmp_path / "out").exists()
    assert_no_traceback(result)
