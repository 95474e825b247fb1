"""Issue 24, defect 3: a float image array in 0–255 read as nothing (`recognizer.predict(np.float32 array
in 0..255)` gave `Prediction(text='', confidence=0.998)`: every value clipped to white), and so did a
float torch tensor. Float pixels are read in either scale their users meet, [0, 1] or 0–255, and a
normalised tensor is refused with the scales named."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import render_line
from PIL import Image

from kocr.data.images import load_image
from kocr.errors import KocrError


@pytest.fixture(scope="module")
def line() -> Image.Image:
    return Image.open(io.BytesIO(render_line("12가나"))).convert("L")


def test_every_float_scale_gives_the_uint8_pixels(line: Image.Image) -> None:
    pixels = np.asarray(line)
    floats = pixels.astype(np.float32)
    tensor = torch.from_numpy(pixels.copy())[None]
    for given in (
        floats,  # np.asarray(pil_image, dtype=np.float32): 0-255
        floats / 255.0,  # [0, 1]
        floats.astype(np.float64),
        tensor.float(),  # torch.from_numpy(...).float(): 0-255
        tensor.float() / 255.0,  # ToTensor: [0, 1]
        tensor.half() / 255.0,
    ):
        read = np.asarray(load_image(given)).astype(int)
        assert np.abs(read - pixels).max() <= 1, type(given)
    overshoot = np.clip(floats / 255.0 * 1.1 - 0.05, -0.05, 1.05)  # what resampling leaves around [0, 1]
    read = np.asarray(load_image(overshoot))
    assert read.min() == 0 and read.max() == 255  # read as [0, 1], not as a black 0-255 image


def test_a_normalised_tensor_is_refused_naming_the_scales(line: Image.Image) -> None:
    normalised = (torch.from_numpy(np.asarray(line).copy()).float()[None] / 255.0 - 0.485) / 0.229
    with pytest.raises(
        KocrError, match=r"from -2\.1\d* to 2\.2\d*; kocr reads \[0, 1\].* or 0-255.*normalised"
    ):
        load_image(normalised)
    with pytest.raises(KocrError, match="values from 0 to 1000"):
        load_image(np.linspace(0, 1000, 64, dtype=np.float32).reshape(8, 8))


def test_the_recognizer_reads_a_0_255_float_array_as_the_uint8_one(
    tiny_model: Path, line: Image.Image
) -> None:
    from kocr import load_recognizer

    recognizer = load_recognizer(tiny_model)
    pixels = np.asarray(line)
    expected = recognizer.predict(pixels)
    assert expected.text  # the tiny model reads this line
    assert recognizer.predict(pixels.astype(np.float32)) == expected
    assert recognizer.predict(torch.from_numpy(pixels.copy()).float()) == expected
    assert recognizer.predict(pixels.astype(np.float32) / 255.0) == expected
