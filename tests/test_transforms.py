"""Preprocessing (colour modes, keep-ratio resize + pad, normalisation, batching) and augmentation."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from kocr.data.transforms import (
    Augment,
    Preprocess,
    batches_by_width,
    pad_batch,
    pad_width,
    to_mode,
    to_tensor,
)
from kocr.errors import KocrError


def _text_like(width: int = 60, height: int = 20) -> Image.Image:
    """Dark vertical bars on white, with a dark last column (to see edge padding)."""
    pixels = np.full((height, width), 255, np.uint8)
    pixels[:, 5:8] = 0
    pixels[:, -1] = 40
    return Image.fromarray(pixels, mode="L")


# --- colour modes ------------------------------------------------------------------------------


def test_rgba_transparent_becomes_white_and_opaque_keeps_colour() -> None:
    image = Image.new("RGBA", (4, 2), (0, 0, 0, 0))
    image.putpixel((0, 0), (0, 0, 0, 255))
    grey = np.asarray(to_mode(image, 1))
    assert grey[0, 0] == 0 and grey[1, 3] == 255
    assert to_mode(image, 3).getpixel((2, 1)) == (255, 255, 255)


def test_16bit_png_is_scaled_not_clipped() -> None:
    pixels = np.array([[0, 257 * 100, 65535]], dtype=np.uint16)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    image = Image.open(io.BytesIO(buffer.getvalue()))
    assert image.mode.startswith("I")
    assert np.asarray(to_mode(image, 1)).tolist() == [[0, 100, 255]]
    int32 = Image.fromarray(pixels.astype(np.int32), mode="I")
    assert np.asarray(to_mode(int32, 1)).tolist() == [[0, 100, 255]]


def test_palette_with_transparency_cmyk_and_bilevel() -> None:
    palette = Image.new("P", (3, 1), 0)
    palette.putpalette([0, 0, 0, 200, 10, 10] + [0] * 762)
    palette.putpixel((1, 0), 1)
    palette.info["transparency"] = 0
    rgb = to_mode(palette, 3)
    assert rgb.getpixel((0, 0)) == (255, 255, 255) and rgb.getpixel((1, 0)) == (200, 10, 10)
    cmyk = Image.new("CMYK", (2, 2), (0, 0, 0, 255))
    assert to_mode(cmyk, 1).getpixel((0, 0)) == 0
    assert to_mode(Image.new("1", (2, 2), 1), 1).getpixel((1, 1)) == 255


# --- resize, pad, normalise --------------------------------------------------------------------


def test_keep_ratio_pads_right_by_repeating_the_last_column() -> None:
    tensor = Preprocess(height=32, width=100)(_text_like(60, 20))  # natural width ceil(32*60/20) = 96
    assert tensor.shape == (1, 32, 100)
    assert torch.equal(tensor[..., 96:], tensor[..., 95:96].expand(1, 32, 4))
    assert float(tensor.min()) >= -1.0 and float(tensor.max()) <= 1.0


def test_constant_pad_and_squeeze_of_wide_images() -> None:
    config = Preprocess(height=32, width=100, pad="constant", pad_value=1.0)
    tensor = config(_text_like(30, 20))  # natural width 48
    assert torch.all(tensor[..., 48:] == 1.0)
    assert config(_text_like(400, 20)).shape == (1, 32, 100)  # too wide: squeezed, not cropped


def test_plain_resize_ignores_ratio_and_rgb_has_three_channels() -> None:
    tensor = Preprocess(height=32, width=128, keep_ratio=False, channels=3)(_text_like(20, 40))
    assert tensor.shape == (3, 32, 128)


def test_normalisation_maps_black_and_white_to_minus_one_and_one() -> None:
    image = Image.fromarray(np.array([[0, 255, 128]], np.uint8))
    assert to_tensor(image).flatten().tolist() == pytest.approx([-1.0, 1.0, 128 / 127.5 - 1], abs=1e-6)


def test_variable_width_rounds_up_and_clamps() -> None:
    config = Preprocess(height=32, width=None, min_width=16, max_width=200, width_multiple=8)
    assert config(_text_like(61, 20)).shape[-1] == 104  # ceil(32*61/20)=98 -> 104
    assert config(_text_like(2000, 20)).shape[-1] == 200
    assert config(_text_like(2, 20)).shape[-1] == 16
    assert config.output_width(61, 20) == 104


def test_round_trip_through_plain_dict() -> None:
    config = Preprocess(height=48, width=None, channels=3, pad="constant", max_width=640, width_multiple=8)
    data = config.to_dict()
    assert all(isinstance(v, (int, float, str, bool, type(None))) for v in data.values())
    assert Preprocess.from_dict(data) == config
    with pytest.raises(KocrError, match="unknown preprocessing"):
        Preprocess.from_dict({**data, "deskew": True})
    with pytest.raises(KocrError):
        Preprocess(width=None, keep_ratio=False)


def test_pad_batch_pads_to_the_widest_rounded_up() -> None:
    a, b = torch.zeros(1, 32, 50), torch.ones(1, 32, 30)
    batch = pad_batch([a, b], multiple=8)
    assert batch.shape == (2, 1, 32, 56)
    assert torch.all(batch[1, ..., 30:] == 1.0)  # edge mode repeats b's last column
    constant = pad_batch([a, b], multiple=4, mode="constant", value=-1.0)
    assert constant.shape[-1] == 52 and torch.all(constant[1, ..., 30:] == -1.0)
    assert Preprocess(width=None, width_multiple=4).pad_batch([a, b]).shape[-1] == 52
    with pytest.raises(KocrError):
        pad_batch([a, torch.zeros(1, 16, 10)])
    assert pad_width(a, 40) is a


def test_batches_by_width_groups_similar_widths() -> None:
    assert batches_by_width([300, 40, 100, 45, 310], 2) == [[1, 3], [2, 0], [4]]
    # a bound on lines x widest line: wide lines batch fewer at a time, narrow ones as before
    assert batches_by_width([300, 40, 100, 45, 310], 3, max_columns=700) == [[1, 3, 2], [0, 4]]
    assert batches_by_width([900, 800, 50], 3, max_columns=1000) == [[2], [1], [0]]


# --- augmentation ------------------------------------------------------------------------------


ALL_ON = {"blur": 1.0, "noise": 1.0, "contrast": 1.0, "rotate": 1.0, "perspective": 1.0, "shear": 1.0}


def test_augment_is_deterministic_by_seed() -> None:
    image = _text_like(80, 32).convert("RGB")
    first = [np.asarray(Augment(seed=7, **ALL_ON)(image)) for _ in range(2)]
    assert np.array_equal(first[0], first[1])
    run = Augment(seed=7, **ALL_ON)
    a, b = np.asarray(run(image)), np.asarray(run(image))
    assert a.shape != b.shape or not np.array_equal(a, b)  # the stream moves on
    per_sample = [np.asarray(Augment(**ALL_ON)(image, rng=np.random.default_rng([1, 5]))) for _ in range(2)]
    assert np.array_equal(per_sample[0], per_sample[1])


def test_augment_keeps_mode_and_fills_with_the_paper_colour() -> None:
    image = Image.new("L", (80, 32), 230)
    out = Augment(seed=0, rotate=1.0, shear=1.0, perspective=1.0, blur=0, noise=0, contrast=0)(image)
    assert out.mode == "L"
    assert np.asarray(out).min() >= 225  # no black corners from rotation/shear/perspective


def test_augment_morphology_thickens_dark_ink() -> None:
    image = _text_like(40, 20)
    thick = Augment(seed=0, morphology=1.0, blur=0, noise=0, contrast=0, rotate=0, perspective=0, shear=0)
    outputs = {int((np.asarray(thick(image)) < 128).sum()) for _ in range(8)}
    before = int((np.asarray(image) < 128).sum())
    assert any(count > before for count in outputs) and any(count < before for count in outputs)
