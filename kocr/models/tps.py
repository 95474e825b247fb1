"""TPS spatial transformer (RARE), state_dict-compatible with clovaai's ``TPS_SpatialTransformerNetwork``.

Module and buffer names follow clovaai exactly (``LocalizationNetwork.conv.{0..15}``,
``LocalizationNetwork.localization_fc1.0``, ``LocalizationNetwork.localization_fc2``,
``GridGenerator.inv_delta_C``, ``GridGenerator.P_hat``) so their checkpoints load unchanged.

Two deliberate differences from clovaai:

* ``P_hat`` is always recomputed for the size the model is constructed with; a ``P_hat`` found in a
  loaded state_dict is ignored (it is a pure function of image size and F). clovaai stores it as a
  buffer, which ties every TPS checkpoint to one image width (clovaai #96). The buffer stays in
  ``state_dict()`` with clovaai's name and shape so clovaai tools can still read our checkpoints.
* ``align_corners`` is an explicit option. clovaai picks it with the *string* comparison
  ``torch.__version__ > "1.2.0"``, which is False for torch 1.10-1.19, so checkpoints trained under
  torch 1.10-1.13 used ``align_corners=False``; on the golden fixture that choice moves the logits by 0.85.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def fiducial_points(num_fiducial: int) -> Tensor:
    """Fiducials C of the rectified image [F, 2] (x, y), float64: top row (y=-1) then bottom row (y=+1)."""
    half = num_fiducial // 2
    x = torch.linspace(-1.0, 1.0, half, dtype=torch.float64)
    top = torch.stack([x, -torch.ones(half, dtype=torch.float64)], dim=1)
    bottom = torch.stack([x, torch.ones(half, dtype=torch.float64)], dim=1)
    return torch.cat([top, bottom], dim=0)


def build_inv_delta_C(num_fiducial: int) -> Tensor:
    """inverse(delta_C) [F+3, F+3], computed in float64 and cast to float32 like clovaai's numpy code."""
    C = fiducial_points(num_fiducial)
    diff = C[:, None, :] - C[None, :, :]
    R = torch.sqrt((diff * diff).sum(-1))
    R.fill_diagonal_(1.0)
    hat_C = R**2 * torch.log(R)  # no eps here (the diagonal is log 1 = 0)
    n = num_fiducial
    delta_C = torch.zeros(n + 3, n + 3, dtype=torch.float64)
    delta_C[:n, 0] = 1.0
    delta_C[:n, 1:3] = C
    delta_C[:n, 3:] = hat_C
    delta_C[n, 3:] = C[:, 0]
    delta_C[n + 1, 3:] = C[:, 1]
    delta_C[n + 2, 3:] = 1.0
    return torch.linalg.inv(delta_C).float()


def build_P_hat(num_fiducial: int, height: int, width: int) -> Tensor:
    """P_hat [H*W, F+3] for pixel centres enumerated row-major; float64 math then float32.

    Computing it in float32 instead is 1.4e-6 off, which moves end-to-end logits by ~1.4e-3 through the
    bilinear resampling, hence float64.
    """
    C = fiducial_points(num_fiducial)
    gx = (torch.arange(-width, width, 2, dtype=torch.float64) + 1.0) / width
    gy = (torch.arange(-height, height, 2, dtype=torch.float64) + 1.0) / height
    yy, xx = torch.meshgrid(gy, gx, indexing="ij")
    P = torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1)  # n = j*W + i
    diff = P[:, None, :] - C[None, :, :]
    r = torch.sqrt((diff * diff).sum(-1))
    rbf = r**2 * torch.log(r + 1e-6)
    ones = torch.ones(P.shape[0], 1, dtype=torch.float64)
    return torch.cat([ones, P, rbf], dim=1).float()


class LocalizationNetwork(nn.Module):
    """Predicts the F source fiducials C' [B, F, 2] (x, y) from the input image (any size)."""

    def __init__(self, num_fiducial: int, in_channels: int) -> None:
        super().__init__()
        self.num_fiducial = num_fiducial
        self.conv = nn.Sequential(
            nn.Conv2d(in_channels, 64, 3, 1, 1, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(True),
            nn.MaxPool2d(2, 2),
            nn.Conv2d(64, 128, 3, 1, 1, bias=False),
            nn.BatchNorm2d(128),
            nn.ReLU(True),
            nn.MaxPool2d(2, 2),
            nn.Conv2d(128, 256, 3, 1, 1, bias=False),
            nn.BatchNorm2d(256),
            nn.ReLU(True),
            nn.MaxPool2d(2, 2),
            nn.Conv2d(256, 512, 3, 1, 1, bias=False),
            nn.BatchNorm2d(512),
            nn.ReLU(True),
            nn.AdaptiveAvgPool2d(1),
        )
        self.localization_fc1 = nn.Sequential(nn.Linear(512, 256), nn.ReLU(True))
        self.localization_fc2 = nn.Linear(256, num_fiducial * 2)
        self.reset_fc2()

    def reset_fc2(self) -> None:
        """RARE init: zero weights, bias = the initial fiducials of RARE Fig. 6(a) (a diagonal warp)."""
        half = self.num_fiducial // 2
        x = torch.linspace(-1.0, 1.0, half, dtype=torch.float64)
        top = torch.stack([x, torch.linspace(0.0, -1.0, half, dtype=torch.float64)], dim=1)
        bottom = torch.stack([x, torch.linspace(1.0, 0.0, half, dtype=torch.float64)], dim=1)
        with torch.no_grad():
            self.localization_fc2.weight.zero_()
            self.localization_fc2.bias.copy_(torch.cat([top, bottom]).reshape(-1).float())

    def forward(self, x: Tensor) -> Tensor:
        b = x.size(0)
        features = self.conv(x).view(b, -1)
        return self.localization_fc2(self.localization_fc1(features)).view(b, self.num_fiducial, 2)


class GridGenerator(nn.Module):
    """Maps fiducials C' to a sampling grid P' = P_hat @ (inv_delta_C @ [C'; 0]) for the rectified size."""

    def __init__(self, num_fiducial: int, height: int, width: int) -> None:
        super().__init__()
        self.num_fiducial = num_fiducial
        self.height = height
        self.width = width
        self.register_buffer("inv_delta_C", build_inv_delta_C(num_fiducial))
        self.register_buffer("P_hat", build_P_hat(num_fiducial, height, width))

    def _load_from_state_dict(
        self,
        state_dict: dict[str, Any],
        prefix: str,
        local_metadata: dict[str, Any],
        strict: bool,
        missing_keys: list[str],
        unexpected_keys: list[str],
        error_msgs: list[str],
    ) -> None:
        # P_hat is derived data: keep the one recomputed for *this* model's size, whatever the checkpoint
        # was trained at. Substituting our own tensor (rather than dropping the key) keeps strict loading
        # free of missing/unexpected keys and shape errors.
        key = prefix + "P_hat"
        if key in state_dict:
            state_dict[key] = self.P_hat
        super()._load_from_state_dict(
            state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
        )

    def build_P_prime(self, c_prime: Tensor) -> Tensor:
        """Grid points [B, H*W, 2], in clovaai's float32 op order (two bmm), which tight tests rely on."""
        b = c_prime.size(0)
        inv_delta_C = self.inv_delta_C.repeat(b, 1, 1)
        P_hat = self.P_hat.repeat(b, 1, 1)
        c_with_zeros = torch.cat([c_prime, c_prime.new_zeros(b, 3, 2)], dim=1)
        T = torch.bmm(inv_delta_C, c_with_zeros)
        return torch.bmm(P_hat, T)


class TPSSpatialTransformer(nn.Module):
    """RARE TPS rectification: any input size in, ``(height, width)`` (the construction size) out."""

    def __init__(
        self,
        num_fiducial: int,
        height: int,
        width: int,
        in_channels: int = 1,
        align_corners: bool = True,
    ) -> None:
        super().__init__()
        self.num_fiducial = num_fiducial
        self.output_size = (height, width)
        self.align_corners = align_corners
        self.LocalizationNetwork = LocalizationNetwork(num_fiducial, in_channels)
        self.GridGenerator = GridGenerator(num_fiducial, height, width)

    def grid(self, x: Tensor) -> Tensor:
        """Sampling grid [B, H, W, 2] in normalised input coordinates."""
        P_prime = self.GridGenerator.build_P_prime(self.LocalizationNetwork(x))
        return P_prime.reshape(P_prime.size(0), self.output_size[0], self.output_size[1], 2)

    def forward(self, x: Tensor) -> Tensor:
        return F.grid_sample(x, self.grid(x), padding_mode="border", align_corners=self.align_corners)
