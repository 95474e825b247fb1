"""Image preprocessing shared by training and inference, and training augmentations (PIL/numpy/torch).

:class:`Preprocess` turns any PIL image into a normalised ``[C, H, W]`` float tensor in [-1, 1]:

0. with ``normalize=True`` (new training runs; checkpoints without the key keep ``False``), the line
   is trimmed to its text plus a margin, turned dark-on-light whatever its polarity and colours, and
   contrast-stretched (:mod:`kocr.data.line_normalize`); 3-channel models get that grey result as RGB;
1. colour handling (:func:`kocr.data.images.to_mode`): transparency composited on white, 16-bit scaled
   rather than clipped, other modes converted; then grey (``L``, ITU-R 601 luma as clovaai) or RGB;
2. resizing, bicubic as clovaai and PARSeq:

   - ``keep_ratio=False``: straight to ``width × height`` (clovaai ``ResizeNormalize``, PARSeq);
   - ``keep_ratio=True`` with a ``width``: to ``height`` keeping the ratio, squeezed to ``width`` if
     wider, then padded on the right to ``width`` (clovaai ``--PAD``, EasyOCR);
   - ``keep_ratio=True`` with ``width=None``: variable width, clamped to ``[min_width, max_width]``
     and rounded up to a multiple of ``width_multiple`` (batches are then padded by :func:`pad_batch`);

3. padding mode ``edge`` (default) replicates the last column, as clovaai's ``NormalizePAD`` and
   EasyOCR do, so kocr models and imported clovaai/EasyOCR checkpoints see the same input. It also
   needs no guess about the background: a constant pad is white on dark-on-light text and a black
   bar on light-on-dark text, and which one a line is cannot be known before recognising it. (Its
   weakness — a stroke cut by the crop's right edge becomes a streak — is rare with the padded crops
   kocr's data tools produce.) ``constant`` pads with ``pad_value`` (normalised units, 1.0 = white)
   for models trained that way.

The configuration is plain data (:meth:`Preprocess.to_dict`) and is stored in checkpoints, so
``predict``/``eval`` preprocess exactly as training did.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

import numpy as np
import torch
from PIL import Image, ImageEnhance, ImageFilter

from kocr.data.images import to_mode
from kocr.data.line_normalize import analysis_channels, normalize_line
from kocr.errors import KocrError

PadMode = Literal["edge", "constant"]
PAD_MODES: tuple[str, ...] = ("edge", "constant")
_RESAMPLE = {"bicubic": Image.Resampling.BICUBIC, "bilinear": Image.Resampling.BILINEAR}


# Each 8-bit level's value, computed as clovaai does (``ToTensor`` then ``sub_(0.5).div_(0.5)``): float32
# division is exact IEEE arithmetic in numpy and torch alike, so the table matches bit for bit.
_LEVELS = (np.arange(256, dtype=np.float32) / np.float32(255.0) - np.float32(0.5)) / np.float32(0.5)


def to_tensor(image: Image.Image) -> torch.Tensor:
    """An ``L``/``RGB`` image as a float tensor ``[C, H, W]`` in [-1, 1], the values clovaai's transforms
    give bit for bit. A table lookup in numpy: torch's elementwise ops on small tensors cost more in
    thread hand-offs than in arithmetic, badly so on a busy machine."""
    pixels = np.asarray(image)
    if pixels.dtype == np.uint8:
        values = _LEVELS[pixels]
    else:
        values = (pixels.astype(np.float32) / np.float32(255.0) - np.float32(0.5)) / np.float32(0.5)
    values = values[None] if values.ndim == 2 else values.transpose(2, 0, 1)
    return torch.from_numpy(np.ascontiguousarray(values))


# --- resize + pad ----------------------------------------------------------------------------------


def _round_up(value: int, multiple: int) -> int:
    return int(math.ceil(value / multiple) * multiple) if multiple > 1 else value


def pad_width(tensor: torch.Tensor, width: int, mode: PadMode = "edge", value: float = 1.0) -> torch.Tensor:
    """Pad ``[C, H, W]`` on the right to ``width`` (edge: repeat the last column; constant: ``value``)."""
    current = tensor.shape[-1]
    if current >= width:
        return tensor
    if mode == "edge":
        filler = tensor[..., -1:].expand(*tensor.shape[:-1], width - current)
    elif mode == "constant":
        filler = tensor.new_full((*tensor.shape[:-1], width - current), value)
    else:
        raise KocrError(f"pad mode must be one of {', '.join(PAD_MODES)}, not {mode!r}")
    return torch.cat([tensor, filler], dim=-1)


@dataclass(frozen=True)
class Preprocess:
    """Image → normalised tensor, as a model was trained (stored in checkpoints via :meth:`to_dict`)."""

    height: int = 32
    width: int | None = 100
    channels: int = 1
    keep_ratio: bool = True
    pad: PadMode = "edge"
    pad_value: float = 1.0
    min_width: int = 0
    max_width: int | None = None
    width_multiple: int = 4
    interpolation: Literal["bicubic", "bilinear"] = "bicubic"
    normalize: bool = False  # kocr.data.line_normalize first; False for checkpoints that predate it

    def __post_init__(self) -> None:
        if self.height < 1 or (self.width is not None and self.width < 1):
            raise KocrError(f"height and width must be positive, got {self.height} and {self.width}")
        if self.channels not in (1, 3):
            raise KocrError(f"channels must be 1 or 3, not {self.channels}")
        if self.pad not in PAD_MODES:
            raise KocrError(f"pad must be one of {', '.join(PAD_MODES)}, not {self.pad!r}")
        if self.interpolation not in _RESAMPLE:
            raise KocrError(
                f"interpolation must be one of {', '.join(_RESAMPLE)}, not {self.interpolation!r}"
            )
        if self.width is None and not self.keep_ratio:
            raise KocrError("a variable width (width=None) needs keep_ratio=True")
        if self.width_multiple < 1:
            raise KocrError(f"width_multiple must be >= 1, not {self.width_multiple}")
        if self.max_width is not None and self.max_width < max(1, self.min_width):
            raise KocrError(f"max_width {self.max_width} is below min_width {self.min_width}")

    # --- serialisation ---------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (checkpoints keep this)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Preprocess:
        """Inverse of :meth:`to_dict`; missing keys take defaults, unknown keys are an error (a newer
        kocr's preprocessing cannot be silently approximated)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise KocrError(
                f"unknown preprocessing settings {unknown}; is this checkpoint from a newer kocr?"
            )
        return cls(**data)

    # --- geometry ---------------------------------------------------------------------------------

    def sizes(self, image_width: int, image_height: int) -> tuple[int, int]:
        """(resized width, output width) for an image of the given size."""
        if not self.keep_ratio:
            assert self.width is not None
            return self.width, self.width
        natural = max(1, math.ceil(self.height * image_width / max(1, image_height)))
        if self.width is not None:
            resized = min(natural, self.width)
            return resized, self.width
        resized = min(natural, self.max_width) if self.max_width else natural
        output = _round_up(max(resized, self.min_width), self.width_multiple)
        return resized, output

    def output_width(self, image_width: int, image_height: int) -> int:
        """Width of the tensor :meth:`__call__` returns for an image of this size (for batching; with
        ``normalize`` the size is the normalised image's)."""
        return self.sizes(image_width, image_height)[1]

    # --- transform --------------------------------------------------------------------------------

    def __call__(self, image: Image.Image | np.ndarray) -> torch.Tensor:
        """``[C, H, W]`` float tensor in [-1, 1]."""
        if isinstance(image, np.ndarray):
            image = Image.fromarray(image)
        if self.normalize:
            image = normalize_line(to_mode(image, analysis_channels(image.mode)))
        image = to_mode(image, self.channels)
        resized, output = self.sizes(*image.size)
        image = image.resize((resized, self.height), _RESAMPLE[self.interpolation])
        return pad_width(to_tensor(image), output, self.pad, self.pad_value)

    def pad_batch(
        self, tensors: Sequence[torch.Tensor], multiple: int | None = None, *, extra: int = 0
    ) -> torch.Tensor:
        """:func:`pad_batch` with this configuration's pad mode and width multiple; ``extra`` pixels of
        padding beyond the widest tensor (a model's context margin)."""
        return pad_batch(
            tensors,
            multiple=self.width_multiple if multiple is None else multiple,
            mode=self.pad,
            value=self.pad_value,
            extra=extra,
        )


def pad_batch(
    tensors: Sequence[torch.Tensor],
    *,
    multiple: int = 8,
    mode: PadMode = "edge",
    value: float = 1.0,
    min_width: int = 0,
    extra: int = 0,
) -> torch.Tensor:
    """Stack ``[C, H, Wi]`` tensors into ``[B, C, H, W]``, ``W`` = the widest plus ``extra`` (at least
    ``min_width``) rounded up to ``multiple`` (CNN strides want widths divisible by 4 or 8)."""
    if not tensors:
        raise KocrError("pad_batch needs at least one tensor")
    channels, height = tensors[0].shape[0], tensors[0].shape[1]
    for tensor in tensors:
        if tensor.dim() != 3 or tensor.shape[0] != channels or tensor.shape[1] != height:
            raise KocrError(
                f"pad_batch needs [C, H, W] tensors of one C and H; got {tuple(tensor.shape)} "
                f"after {(channels, height)}"
            )
    width = _round_up(max(max(t.shape[-1] for t in tensors) + extra, min_width), multiple)
    return torch.stack([pad_width(t, width, mode, value) for t in tensors])


def batches_by_width(
    widths: Sequence[int], batch_size: int, max_columns: int | None = None
) -> list[list[int]]:
    """Indices grouped into batches of similar width (sorted by width), so little padding is wasted.

    ``max_columns`` bounds a batch's padded size (lines × its widest line): a batch of very wide lines
    (a photographed page's long lines) holds fewer of them, so the model's activations stay small.
    Callers put results back in input order with the indices.
    """
    if batch_size < 1:
        raise KocrError(f"batch_size must be >= 1, not {batch_size}")
    order = sorted(range(len(widths)), key=lambda i: (widths[i], i))
    batches: list[list[int]] = []
    for index in order:  # widest last: the batch's padded size is its length × this line's width
        room = bool(batches) and len(batches[-1]) < batch_size
        if room and (max_columns is None or (len(batches[-1]) + 1) * widths[index] <= max_columns):
            batches[-1].append(index)
        else:
            batches.append([index])
    return batches


# --- augmentation ----------------------------------------------------------------------------------


def _background_level(image: Image.Image) -> tuple[int, ...] | int:
    """Median of the border pixels: the fill for geometric ops (paper colour, whatever it is)."""
    pixels = np.asarray(image)
    tail = pixels.shape[2:]
    edges = (pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1])
    border = np.concatenate([edge.reshape(-1, *tail) for edge in edges])
    median = np.median(border, axis=0)
    return int(median) if np.ndim(median) == 0 else tuple(int(v) for v in median)


@dataclass
class Augment:
    """Seeded training augmentations on PIL images; each op applies with its own probability.

    ``Augment(seed=0)`` draws from its own generator, so a sequence of calls is reproducible. In
    DataLoader workers pass a per-sample generator instead (``augment(image, rng=
    np.random.default_rng([seed, epoch, index]))``): a copied ``Augment`` would otherwise repeat the
    same draws in every worker. Geometric ops fill uncovered corners with the border's median colour.
    """

    blur: float = 0.2
    noise: float = 0.2
    contrast: float = 0.3
    rotate: float = 0.2
    perspective: float = 0.2
    shear: float = 0.2
    morphology: float = 0.1
    max_rotate_deg: float = 3.0
    max_shear: float = 0.25
    max_perspective: float = 0.08  # corner shift as a fraction of the height
    seed: int | None = None

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng(self.seed)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Augment:
        return cls(**data)

    def __call__(self, image: Image.Image, rng: np.random.Generator | None = None) -> Image.Image:
        rng = rng if rng is not None else self._rng
        if image.mode not in ("L", "RGB"):
            image = to_mode(image, 3 if image.mode in ("RGBA", "P", "CMYK", "YCbCr") else 1)
        fill = _background_level(image)
        if rng.random() < self.rotate:
            angle = rng.uniform(-self.max_rotate_deg, self.max_rotate_deg)
            image = image.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=fill)
        if rng.random() < self.shear:
            image = _shear(image, rng.uniform(-self.max_shear, self.max_shear), fill)
        if rng.random() < self.perspective:
            image = _perspective(image, rng, self.max_perspective, fill)
        if rng.random() < self.morphology:
            image = _morphology(image, thicker=bool(rng.random() < 0.5), fill=fill)
        if rng.random() < self.contrast:
            image = ImageEnhance.Contrast(image).enhance(rng.uniform(0.5, 1.5))
            image = ImageEnhance.Brightness(image).enhance(rng.uniform(0.75, 1.25))
        if rng.random() < self.blur:
            image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0) * image.height / 32))
        if rng.random() < self.noise:
            pixels = np.asarray(image, dtype=np.float32)
            pixels = pixels + rng.normal(0, rng.uniform(3, 15), pixels.shape)
            image = Image.fromarray(np.clip(pixels + 0.5, 0, 255).astype(np.uint8), mode=image.mode)
        return image


def _shear(image: Image.Image, shear: float, fill: tuple[int, ...] | int) -> Image.Image:
    width, height = image.size
    extra = int(abs(shear) * height)
    offset = -shear * height / 2 - extra / 2
    return image.transform(
        (width + extra, height),
        Image.Transform.AFFINE,
        (1, shear, offset, 0, 1, 0),
        resample=Image.Resampling.BICUBIC,
        fillcolor=fill,
    )


def _perspective(
    image: Image.Image, rng: np.random.Generator, amount: float, fill: tuple[int, ...] | int
) -> Image.Image:
    width, height = image.size
    shift = amount * height
    corners = np.array([0, 0, 0, height, width, height, width, 0], dtype=np.float64)
    quad = tuple(float(v) for v in corners + rng.uniform(-shift, shift, 8))
    return image.transform(
        image.size, Image.Transform.QUAD, quad, resample=Image.Resampling.BICUBIC, fillcolor=fill
    )


def _morphology(image: Image.Image, *, thicker: bool, fill: tuple[int, ...] | int) -> Image.Image:
    """Thicker or thinner strokes; which PIL filter does that depends on whether ink is dark."""
    level = fill if isinstance(fill, int) else sum(fill) / len(fill)
    dark_ink = level >= 128
    grow_dark = ImageFilter.MinFilter(3)
    grow_light = ImageFilter.MaxFilter(3)
    return image.filter(
        (grow_dark if thicker else grow_light) if dark_ink else (grow_light if thicker else grow_dark)
    )
