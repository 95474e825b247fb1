"""kocr's own line detector: a small DBNet-style segmentation network (``--line-finder db``).

The network reads a page scaled so its long side is ``long_side`` pixels (grey, as the recogniser's
input) and gives, at half that resolution, the probability that each pixel lies in the *kernel* of a
text line: the line's box with every side moved in by a quarter of the line's height
(:mod:`kocr.pages.db_targets`). Kernels of neighbouring lines stay apart even where their ink touches;
post-processing (:func:`kocr.pages.db_postprocess.boxes_from_map`) takes one rotated rectangle per kernel
and grows it back by the same quarter height ("unclip"). That is DBNet's inference path (Liao et al.,
2020, and PP-OCR's detectors); its threshold map, a training aid only, is left out.

A U-Net over five stride-2 stages (1/2 to 1/32: the deep stages see a column gutter and a whole line
height at once) with a light decoder back to 1/2. About 0.15 M parameters: it is trained on CPUs
(``kocr detector train``) and runs in a fraction of a second per page.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import Tensor, nn
from torch.nn import functional as F

from kocr.data.images import to_mode
from kocr.errors import KocrError

STRIDE = 32  # input sides are padded to multiples of this (five stride-2 stages)


@dataclass(frozen=True)
class DetectorConfig:
    """What a detector checkpoint says about its network and its input (stored in the checkpoint)."""

    encoder: tuple[int, ...] = (8, 16, 32, 48, 64)  # channels at 1/2 ... 1/32
    decoder: tuple[int, ...] = (48, 32, 16, 8)  # channels at 1/16 ... 1/2
    long_side: int = 1024  # the page's long side as the network sees it
    shrink: float = 0.25  # of a line's height: how far each side of its box moves in for its kernel

    def __post_init__(self) -> None:
        if len(self.encoder) != 5 or len(self.decoder) != 4 or min(self.encoder + self.decoder) < 1:
            raise KocrError("a detector has 5 encoder and 4 decoder stages of at least one channel")
        if self.long_side < STRIDE or not 0 < self.shrink < 0.5:
            raise KocrError(f"detector long side must be >= {STRIDE} and shrink in (0, 0.5)")

    def to_dict(self) -> dict[str, Any]:
        return {
            key: list(value) if isinstance(value, tuple) else value for key, value in asdict(self).items()
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DetectorConfig:
        known = {"encoder", "decoder", "long_side", "shrink"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise KocrError(f"unknown detector settings {unknown}")
        return cls(**{key: tuple(value) if isinstance(value, list) else value for key, value in data.items()})


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)
    )


class LineDetectorNet(nn.Module):
    """Grey page ``[B, 1, H, W]`` in [-1, 1] (H, W multiples of 32) → kernel logits ``[B, 1, H/2, W/2]``."""

    def __init__(self, config: DetectorConfig | None = None) -> None:
        super().__init__()
        self.config = config or DetectorConfig()
        enc, dec = self.config.encoder, self.config.decoder
        channels = (1, *enc)
        # One convolution per stage where the map is large (1/2, 1/4), two where it is small.
        self.encoder = nn.ModuleList(
            nn.Sequential(
                _conv(channels[i], channels[i + 1], 2),
                *([_conv(channels[i + 1], channels[i + 1])] if i >= 2 else []),
            )
            for i in range(5)
        )
        # The deepest stage also looks wide: dilated along the line, where gutters and word gaps are.
        self.context = _conv(enc[4], enc[4])
        self.context[0].dilation, self.context[0].padding = (1, 3), (1, 3)
        skips = (enc[3], enc[2], enc[1], enc[0])
        ins = (enc[4], *dec[:3])
        self.decoder = nn.ModuleList(_conv(ins[i] + skips[i], dec[i]) for i in range(4))
        self.head = nn.Conv2d(dec[3], 1, 1)

    def forward(self, x: Tensor) -> Tensor:
        features = []
        for stage in self.encoder:
            x = stage(x)
            features.append(x)
        x = x + self.context(x)
        for stage, skip in zip(self.decoder, reversed(features[:4]), strict=True):
            x = F.interpolate(x, size=skip.shape[-2:], mode="nearest")
            x = stage(torch.cat([x, skip], dim=1))
        return self.head(x)


def page_scale(width: int, height: int, long_side: int) -> float:
    """The factor a page is scaled by for the network: its long side to ``long_side`` (never enlarged
    more than twice, so a small crop is not blown up into noise)."""
    return min(2.0, long_side / max(width, height))


def page_input(image: Image.Image, long_side: int) -> tuple[np.ndarray, float]:
    """The network's input for a page, ``[1, 1, H, W]`` float32 in [-1, 1] (padded with white to
    multiples of 32), and the scale applied. PIL resizes first, so a 50 MP page never becomes a
    full-size float array."""
    scale = page_scale(*image.size, long_side)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    grey = to_mode(image, 1)
    if grey.size != size:
        grey = grey.resize(size, Image.Resampling.BILINEAR, reducing_gap=3.0)
    pixels = np.asarray(grey, dtype=np.float32) / 127.5 - 1.0
    padded = np.ones((_round_up(size[1]), _round_up(size[0])), dtype=np.float32)
    padded[: size[1], : size[0]] = pixels
    return padded[None, None], scale


def _round_up(value: int) -> int:
    return max(STRIDE, -(-value // STRIDE) * STRIDE)
