"""Input normalisation (kocr.data.line_normalize) on real rendered lines: trimming, polarity, colour,
noise, degenerate inputs, and how Preprocess, checkpoints and the CLI carry the setting."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import REPO_ROOT, assert_no_traceback, run_kocr
from PIL import Image, ImageDraw, ImageFont

from kocr.data.line_normalize import MARGIN_X, MARGIN_Y, analyse_line, normalize_line
from kocr.data.transforms import Preprocess
from kocr.errors import KocrError

noto = pytest.importorskip("pylopdf_fonts_ko", reason="Noto fonts come from the pylopdf-fonts-ko package")

TEXT = "한국어 문자 인식을 시험합니다."


def draw_line(
    text: str = TEXT, size: int = 28, pad: tuple[int, int] = (6, 4), stroke: int = 0
) -> Image.Image:
    """Black text on white, ``pad`` (x, y) pixels of paper around the ink."""
    font = ImageFont.truetype(str(noto.sans_path()), size)
    left, top, right, bottom = font.getbbox(text, stroke_width=stroke)
    width, height = right - left + 2 * pad[0], bottom - top + 2 * pad[1]
    image = Image.new("L", (width, height), 255)
    ImageDraw.Draw(image).text(
        (pad[0] - left, pad[1] - top), text, font=font, fill=0, stroke_width=stroke, stroke_fill=0
    )
    return image


def ink_box(image: Image.Image) -> tuple[int, int, int, int]:
    """The exact box of the dark pixels of a clean black-on-white drawing."""
    box = Image.eval(image.convert("L"), lambda v: 255 if v < 160 else 0).getbbox()
    assert box is not None
    return box


def place(line: Image.Image, factor: float = 4.0, fill: int = 255) -> tuple[Image.Image, tuple[int, int]]:
    """``line`` centred in a canvas ``factor`` × its height (and as much wider): a loose crop."""
    extra = round((factor - 1) * line.height / 2)
    canvas = Image.new(line.mode, (line.width + 2 * extra, line.height + 2 * extra), fill)
    canvas.paste(line, (extra, extra))
    return canvas, (extra, extra)


def shifted(box: tuple[int, int, int, int], offset: tuple[int, int]) -> tuple[int, int, int, int]:
    return box[0] + offset[0], box[1] + offset[1], box[2] + offset[0], box[3] + offset[1]


def assert_close(found: tuple[int, ...], expected: tuple[int, ...], tolerance: int) -> None:
    assert max(abs(a - b) for a, b in zip(found, expected, strict=True)) <= tolerance, (found, expected)


def recolour(line: Image.Image, paper: tuple[int, int, int], ink: tuple[int, int, int]) -> Image.Image:
    """A black-on-white line in other colours, anti-aliasing kept (ink strength = 1 - grey / 255)."""
    strength = 1.0 - np.asarray(line, np.float32)[..., None] / 255.0
    colour = (1 - strength) * np.array(paper) + strength * np.array(ink)
    return Image.fromarray((colour + 0.5).astype(np.uint8), mode="RGB")


def red_sign(line: Image.Image) -> Image.Image:
    return recolour(line, (200, 35, 40), (245, 245, 245))


def mean_difference(a: Image.Image, b: Image.Image, slack: int = 0) -> float:
    """Mean absolute grey difference; sizes may differ by ``slack`` pixels (``a`` is then resized)."""
    assert max(abs(a.width - b.width), abs(a.height - b.height)) <= slack, (a.size, b.size)
    a = a.resize(b.size, Image.Resampling.BILINEAR) if a.size != b.size else a
    return float(np.abs(np.asarray(a, np.float32) - np.asarray(b, np.float32)).mean())


# --- trimming ------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [28, 60])  # 60: a canvas big enough to be analysed reduced first
def test_loose_crop_is_trimmed_to_the_text_plus_a_margin(size: int) -> None:
    line = draw_line(size=size)
    loose, offset = place(line)
    expected = shifted(ink_box(line), offset)
    layout = analyse_line(loose)
    assert layout is not None and not layout.light_on_dark
    assert_close(layout.box, expected, 2)
    out = normalize_line(loose)
    height = expected[3] - expected[1]
    assert out.mode == "L"
    assert abs(out.height - (height + 2 * round(MARGIN_Y * height))) <= 4
    assert abs(out.width - (expected[2] - expected[0] + 2 * round(MARGIN_X * height))) <= 4
    # The trimmed loose crop and the trimmed tight line are the same picture.
    assert mean_difference(out, normalize_line(line), slack=4) < 12


def test_a_final_full_stop_stays_and_a_far_speck_does_not_widen_the_crop() -> None:
    with_stop = analyse_line(place(draw_line(TEXT))[0])
    without = analyse_line(place(draw_line(TEXT[:-1]))[0])
    assert with_stop is not None and without is not None
    assert with_stop.box[2] > without.box[2] + 3  # the full stop is part of the line

    loose, _ = place(draw_line())
    clean = analyse_line(loose)
    assert clean is not None
    height = clean.text_height
    specked = loose.copy()
    draw = ImageDraw.Draw(specked)
    x1, y0 = clean.box[2], clean.box[1]
    draw.ellipse((x1 + 2 * height, y0, x1 + 2 * height + 4, y0 + 4), fill=0)  # two heights to the right
    draw.ellipse((clean.box[0] + 30, 2, clean.box[0] + 34, 6), fill=0)  # in the top margin
    draw.rectangle((3, specked.height - 6, 6, specked.height - 3), fill=0)  # a corner
    found = analyse_line(specked)
    assert found is not None
    assert_close(found.box, clean.box, 1)


def test_noise_and_speckle_do_not_defeat_the_trim() -> None:
    line = draw_line()
    loose, offset = place(line)
    expected = shifted(ink_box(line), offset)
    rng = np.random.default_rng(0)
    pixels = np.asarray(loose, np.float32) + rng.normal(0, 20, (loose.height, loose.width))
    salt = rng.random(pixels.shape)
    pixels[salt < 0.01] = 0  # 1 % black specks
    pixels[salt > 0.99] = 255
    noisy = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    layout = analyse_line(noisy)
    assert layout is not None
    assert_close(layout.box, expected, 3)
    out = np.asarray(normalize_line(noisy), np.float32)
    assert out.mean() > 180  # mostly paper, and the paper is white


def test_gradient_paper_and_grey_ink() -> None:
    line = np.asarray(draw_line(), np.float32) / 255.0
    ramp = np.linspace(150, 230, line.shape[1], dtype=np.float32)[None, :]
    pixels = ramp * line + 60 * (1 - line)  # grey ink on paper darkening to the left
    loose, offset = place(Image.fromarray(pixels.astype(np.uint8)), fill=190)
    layout = analyse_line(loose)
    assert layout is not None and not layout.light_on_dark
    assert_close(layout.box, shifted(ink_box(draw_line()), offset), 3)


# --- polarity and colour -------------------------------------------------------------------------


def test_inverted_and_coloured_lines_normalise_like_the_plain_one() -> None:
    line = draw_line()
    reference = normalize_line(line)
    inverted = Image.eval(line, lambda v: 255 - v)
    layout = analyse_line(inverted)
    assert layout is not None and layout.light_on_dark
    assert mean_difference(normalize_line(inverted), reference) < 1.0
    red = red_sign(line)
    assert mean_difference(normalize_line(red), reference) < 4.0
    framed, offset = place(red, fill=0)  # the sign's dark surroundings in the crop
    layout = analyse_line(framed)
    assert layout is not None and layout.ink[0] > 200  # the text is the ink, not the surroundings
    assert_close(layout.box, shifted(ink_box(line), offset), 2)
    blue_on_yellow = normalize_line(recolour(line, (240, 220, 60), (30, 40, 160)))
    assert mean_difference(blue_on_yellow, reference, slack=2) < 6


def test_bold_tight_crop_keeps_its_polarity() -> None:
    """Heavy strokes cropped right at the ink: the border is partly ink, ink is near half the pixels."""
    line = draw_line(size=40, pad=(0, 0), stroke=2)
    layout = analyse_line(line)
    assert layout is not None and not layout.light_on_dark
    assert np.asarray(normalize_line(line))[0].mean() > 128  # the top margin added is paper, white


def test_rendered_lines_of_either_polarity_come_out_alike() -> None:
    """kocr's own renderer (textures, blur, noise, JPEG, geometry): a line and its negative give the
    same normalised image, dark on light."""
    from kocr.data.synth.config import SynthConfig
    from kocr.data.synth.fonts import faces_in_file
    from kocr.data.synth.render import render_line

    face = faces_in_file(noto.sans_path())[0]
    config = SynthConfig(charset="ko-2350", fonts=(face,))
    for seed in range(6):
        line = render_line("문자 인식 123", face, np.random.default_rng(seed), config)
        plain = normalize_line(line)
        negative = normalize_line(Image.eval(line, lambda v: 255 - v))
        assert mean_difference(plain, negative) < 1.5
        pixels = np.asarray(plain)
        assert np.median(pixels) > 200 and pixels.min() < 60  # white paper, black ink


# --- degenerate inputs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "image",
    [
        Image.new("L", (200, 50), 255),
        Image.new("L", (200, 50), 0),
        Image.new("RGB", (120, 40), (200, 35, 40)),
        Image.new("L", (1, 1), 0),
        Image.new("L", (1, 60), 255),
        Image.new("L", (60, 1), 0),
        Image.new("RGB", (2, 2), (0, 0, 0)),
    ],
    ids=["white", "black", "red", "1x1", "1-wide", "1-high", "2x2-rgb"],
)
def test_blank_and_tiny_images_come_back_as_they_were(image: Image.Image) -> None:
    assert analyse_line(image) is None
    out = normalize_line(image)
    assert out.mode == "L" and out.size == image.size
    assert np.array_equal(np.asarray(out), np.asarray(image.convert("L")))


def test_faint_flat_noise_is_blank_and_odd_modes_are_refused() -> None:
    rng = np.random.default_rng(1)
    flat = Image.fromarray(np.clip(rng.normal(200, 3, (40, 300)), 0, 255).astype(np.uint8))
    assert analyse_line(flat) is None
    with pytest.raises(KocrError, match="L or RGB"):
        normalize_line(Image.new("CMYK", (10, 10)))


def test_one_dot_is_a_line_of_its_own() -> None:
    image = Image.new("L", (100, 40), 255)
    ImageDraw.Draw(image).rectangle((50, 18, 53, 21), fill=0)
    layout = analyse_line(image)
    assert layout is not None and layout.box == (50, 18, 54, 22)
    assert normalize_line(image).size[1] >= 4


# --- Preprocess, checkpoints, CLI ----------------------------------------------------------------


def test_preprocess_setting_defaults_off_and_round_trips() -> None:
    assert Preprocess().normalize is False
    assert Preprocess.from_dict({"height": 32, "width": 100}).normalize is False  # an old checkpoint
    config = Preprocess(height=32, width=None, normalize=True)
    assert config.to_dict()["normalize"] is True
    assert Preprocess.from_dict(config.to_dict()) == config
    with pytest.raises(KocrError, match="newer kocr"):
        Preprocess.from_dict({**config.to_dict(), "deskew": True})


def test_preprocess_normalises_before_resizing_for_grey_and_rgb_models() -> None:
    line = draw_line()
    loose = place(line)[0]
    grey = Preprocess(height=32, width=None, normalize=True)
    tight, from_loose = grey(line), grey(loose)
    assert tight.shape[-1] == from_loose.shape[-1]
    assert (tight - from_loose).abs().mean() < 0.1
    assert Preprocess(height=32, width=None)(loose).shape[-1] < tight.shape[-1] / 2  # off: text squeezed
    rgb = Preprocess(height=32, width=None, channels=3, normalize=True)(red_sign(line))
    assert rgb.shape[0] == 3 and torch.equal(rgb[0], rgb[1]) and torch.equal(rgb[1], rgb[2])
    assert (rgb[0] - tight).abs().mean() < 0.1


def test_training_records_the_setting(tmp_path: Path) -> None:
    from kocr.training.config import TrainConfig
    from kocr.training.startup import default_preprocess

    model = {"arch": "crnn", "img_h": 32, "img_w": 100, "input_channel": 1}
    assert default_preprocess(model, TrainConfig(train_data=["x"]))["normalize"] is True
    assert default_preprocess(model, TrainConfig(train_data=["x"], normalize=False))["normalize"] is False


def test_checkpoint_round_trip_and_load_override(tmp_path: Path) -> None:
    from kocr.charsets import Charset
    from kocr.checkpoints import load_checkpoint, save_checkpoint
    from kocr.load import load_recognizer
    from kocr.models import create_model

    charset = Charset(list("가나다"))
    model = create_model("vgg-bilstm-ctc-small", 4, output_channel=16, hidden_size=16, img_h=32, img_w=64)
    preprocess = Preprocess(height=32, width=64, normalize=True).to_dict()
    path = save_checkpoint(tmp_path / "n.pt", model=model, charset=charset, preprocess=preprocess)
    assert Preprocess.from_dict(load_checkpoint(path).preprocess or {}).normalize is True
    assert load_recognizer(path, device="cpu").preprocess.normalize is True
    off = load_recognizer(path, device="cpu", normalize=False)
    assert off.preprocess.normalize is False and off.describe()["normalization"] == "off"
    old = save_checkpoint(
        tmp_path / "old.pt", model=model, charset=charset, preprocess={"height": 32, "width": 64}
    )
    assert load_recognizer(old, device="cpu").describe()["normalize"] is False
    assert load_recognizer(old, device="cpu", normalize=True).describe()["normalization"].startswith("on")


@pytest.mark.slow
def test_predict_normalize_flags_on_a_loose_crop_with_the_bundled_model(tmp_path: Path) -> None:
    samples = REPO_ROOT / "data" / "samples"
    truths = dict(line.split("\t") for line in (samples / "gt.txt").read_text(encoding="utf-8").splitlines())
    loose, _ = place(Image.open(samples / "06.png").convert("L"), fill=255)
    image = tmp_path / "loose.png"
    loose.save(image)

    # --layout line: the crop read whole, as a line (auto would find its line first, as on a page)
    line = ("--layout", "line")
    on = run_kocr("predict", image, *line, "--normalize", "--verbose", "-o", tmp_path / "on.jsonl")
    assert on.returncode == 0, on.stderr
    assert "input normalisation (--normalize): on" in " ".join(on.stderr.split())
    record = json.loads((tmp_path / "on.jsonl").read_text(encoding="utf-8"))
    assert record["text"] == truths["06.png"] and record["normalize"] is True

    off = run_kocr("predict", image, *line, "--no-normalize", "-o", tmp_path / "off.json")
    assert off.returncode == 0, off.stderr
    written = json.loads((tmp_path / "off.json").read_text(encoding="utf-8"))
    [record] = written["predictions"]
    assert record["text"] != truths["06.png"] and written["metadata"]["normalize"] is False

    default = run_kocr("predict", image, "--verbose")  # the bundled model's own setting
    assert default.returncode == 0 and "input normalisation (the model's setting)" in default.stderr
    assert_no_traceback(default)

    (tmp_path / "gt.txt").write_text(f"loose.png\t{truths['06.png']}\n", encoding="utf-8")
    summary = tmp_path / "summary.json"
    log = tmp_path / "log.txt"
    scored = run_kocr("eval", tmp_path, "--normalize", "--summary-json", summary, "--log-file", log)
    assert scored.returncode == 0, scored.stderr
    figures = json.loads(summary.read_text(encoding="utf-8"))
    assert figures["normalize"] is True and figures["combined"]["cer"] == 0


def test_tiny_model_records_it_and_onnx_predict_follows_or_overrides(
    tiny_model: Path, tmp_path: Path
) -> None:
    """A model trained now stores normalize=True; its ONNX export carries it; the flags override it."""
    pytest.importorskip("onnxruntime")
    from kocr.checkpoints import load_checkpoint

    assert (load_checkpoint(tiny_model).preprocess or {})["normalize"] is True
    onnx = tmp_path / "tiny.onnx"
    exported = run_kocr("export", "--saved-model", tiny_model, "--format", "onnx", "-o", onnx)
    assert exported.returncode == 0, exported.stderr
    image = tmp_path / "line.png"
    place(draw_line("12가나", size=20))[0].save(image)
    for flags, said in (([], "(the model's setting): on"), (["--no-normalize"], "(--no-normalize): off")):
        result = run_kocr("predict", image, "--onnx", onnx, "--verbose", *flags)
        assert result.returncode == 0, result.stderr
        assert said in " ".join(result.stderr.split())
