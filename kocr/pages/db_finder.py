"""``--line-finder db``: text lines found by kocr's own detector (:mod:`kocr.pages.dbnet`).

A detector checkpoint is plain data (``torch.load(weights_only=True)``): ``kind`` ("kocr-line-detector"),
``version``, the network's ``config`` (:class:`~kocr.pages.dbnet.DetectorConfig`), its ``state_dict``,
and what training wrote (``step``, validation ``metrics``, the training options, and in ``last.pt``
the ``train_state`` that ``kocr detector train --resume`` continues from). The package ships one,
``kocr/weights/lines.pt``, so ``--line-finder db`` works offline.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from kocr.checkpoints.format import read_torch_file
from kocr.errors import InputFileError, KocrError
from kocr.pages.db_postprocess import RotatedRect, boxes_from_map
from kocr.pages.dbnet import DetectorConfig, LineDetectorNet, page_input
from kocr.pages.types import LineRegion, Quad

DETECTOR_KIND = "kocr-line-detector"
DETECTOR_VERSION = 1
BUNDLED_DETECTOR = Path(__file__).resolve().parents[1] / "weights" / "lines.pt"
READ_SCALE = 1.5  # pages are read 1.5 x larger than the network trained on: small text and tight
# leading merge less (dev pages, recall of lines at IoU 0.5: photos of print 0.22 at 1.0x, 0.97 at 1.5x)
MARGIN_Y = 0.2  # of a line's height, above and below (as the classical finder's crops)
MARGIN_X = 0.3  # of a line's height, left and right
DETECTOR_ENGINES = ("auto", "torch")


@dataclass(frozen=True)
class DetectorCheckpoint:
    """A loaded detector checkpoint: the network with its weights, and what the file says of itself."""

    model: LineDetectorNet
    data: dict[str, Any]
    path: Path


def detector_payload(model: LineDetectorNet, **extra: Any) -> dict[str, Any]:
    """What a detector checkpoint holds (weights as float32 on CPU) plus ``extra`` entries."""
    state = {key: value.detach().cpu().clone() for key, value in model.state_dict().items()}
    return {
        "kind": DETECTOR_KIND,
        "version": DETECTOR_VERSION,
        "config": model.config.to_dict(),
        "state_dict": state,
        **extra,
    }


def load_detector(path: str | os.PathLike[str] | None = None) -> DetectorCheckpoint:
    """A detector checkpoint (default: the bundled one), checked to be one, on CPU in eval mode."""
    path = Path(path) if path is not None else BUNDLED_DETECTOR
    data = read_torch_file(path)
    if not isinstance(data, dict) or data.get("kind") != DETECTOR_KIND:
        raise InputFileError(path, "not a kocr line detector checkpoint (kocr detector train writes them)")
    if int(data.get("version", 0)) > DETECTOR_VERSION:
        raise InputFileError(path, f"detector format {data['version']} is newer than this kocr reads")
    model = LineDetectorNet(DetectorConfig.from_dict(dict(data["config"])))
    try:
        model.load_state_dict(data["state_dict"])
    except (RuntimeError, KeyError) as exc:
        raise InputFileError(path, f"its weights do not fit its own config: {exc}") from None
    return DetectorCheckpoint(model.eval(), data, path)


class DBLineFinder:
    """Finds text lines with kocr's detector: one rotated rectangle per kernel, grown back to the
    line and a margin, in the page's pixels.

    ``threshold`` binarises the kernel map; components whose mean probability is under
    ``box_threshold`` are dropped."""

    name = "db"

    def __init__(
        self,
        model: str | os.PathLike[str] | LineDetectorNet | None = None,
        *,
        threshold: float = 0.4,
        box_threshold: float = 0.55,
        margin_x: float = MARGIN_X,
        margin_y: float = MARGIN_Y,
        long_side: int | None = None,
        threads: int | None = None,
        engine: str = "auto",
    ) -> None:
        """``model``: a detector checkpoint file (default: the bundled one) or a network in memory
        (training's validation). ``margin_x``, ``margin_y``: crop margins, in line heights.
        ``long_side``: the page's long side as the network reads it (default: ``READ_SCALE`` times
        the size it trained on). ``engine``: ``torch``, or ``auto``: ONNX Runtime for a checkpoint file,
        through its bound twin (:mod:`kocr.pages.db_onnx`), PyTorch where there can be none."""
        if engine not in DETECTOR_ENGINES:
            raise KocrError(f"detector engine must be one of {', '.join(DETECTOR_ENGINES)}, not {engine!r}")
        self._session = None
        if isinstance(model, LineDetectorNet):
            self.model = model
        else:
            checkpoint = load_detector(model)
            self.model = checkpoint.model
            if engine == "auto":
                from kocr.pages.db_onnx import detector_session

                self._session = detector_session(checkpoint.path, checkpoint.model)
        self.long_side = long_side or round(READ_SCALE * self.model.config.long_side)
        self.threshold = threshold
        self.box_threshold = box_threshold
        self.margin_x = margin_x
        self.margin_y = margin_y
        self.threads = threads

    @property
    def config(self) -> DetectorConfig:
        return self.model.config

    def probability_map(self, image: Image.Image) -> tuple[np.ndarray, float]:
        """The kernel probability map of ``image`` (at half the network's input size) and the scale from
        page pixels to map pixels."""
        batch, scale = page_input(image, self.long_side)
        if self._session is not None:
            from kocr.pages.db_onnx import kernel_probabilities

            return kernel_probabilities(self._session, batch), scale / 2
        previous = torch.get_num_threads()
        if self.threads:
            torch.set_num_threads(self.threads)
        try:
            with torch.inference_mode():
                logits = self.model(torch.from_numpy(batch))
        finally:
            torch.set_num_threads(previous)
        return torch.sigmoid(logits)[0, 0].numpy(), scale / 2

    def find(self, image: Image.Image) -> list[LineRegion]:
        """The text lines on ``image``, each a quad in its pixels and its kernel's mean probability."""
        prob, scale = self.probability_map(image)
        limit = np.array([image.width, image.height], dtype=np.float64)
        regions = []
        for rect, score in boxes_from_map(
            prob, threshold=self.threshold, box_threshold=self.box_threshold, unclip_ratio=0.0, min_size=1.5
        ):
            line = grown_kernel(rect, self.config.shrink, self.margin_x, self.margin_y)
            corners = np.clip(line.corners() / scale, 0, limit)
            tl, tr, br, bl = ((float(x), float(y)) for x, y in corners)
            quad: Quad = (tl, tr, br, bl)
            regions.append(LineRegion(quad, score))
        return regions


def grown_kernel(
    kernel: RotatedRect, shrink: float, margin_x: float = 0.0, margin_y: float = 0.0
) -> RotatedRect:
    """The line a kernel was shrunk from (:func:`kocr.pages.db_targets.kernel_quad` undone: a line of
    height H has a kernel of height H (1 - 2 shrink)), plus margins in line heights."""
    height = kernel.height / (1 - 2 * shrink)
    ends = min(shrink * height, kernel.width / 2)
    return RotatedRect(
        kernel.center,
        kernel.direction,
        kernel.width + 2 * ends + 2 * margin_x * height,
        height * (1 + 2 * margin_y),
    )
