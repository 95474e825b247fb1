"""A line finder that runs PaddleOCR's PP-OCRv4 text detector (a DBNet, ``ch_PP-OCRv4_det_infer.onnx``)
with onnxruntime: one candidate line finder for reading whole pages.

The model file is not kocr's: it ships inside the ``rapidocr_onnxruntime`` wheel (the ``ppocr`` extra),
under the Apache-2.0 licence of PaddleOCR (the weights) and RapidOCR (the conversion). Only the .onnx
file is read; RapidOCR's Python code, which needs OpenCV, is never imported. Pre- and post-processing
are PaddleOCR's (tools/infer/predict_det.py), redone in numpy and PIL.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from kocr.data.images import to_mode
from kocr.errors import KocrError
from kocr.pages.db_postprocess import boxes_from_map
from kocr.pages.types import LineRegion, Quad
from kocr.runtime.onnx_session import onnx_providers, open_session

PPOCR_PACKAGE = "rapidocr_onnxruntime"
PPOCR_MODEL = "ch_PP-OCRv4_det_infer.onnx"
PPOCR_INSTALL_HINT = "pip install 'kocr-hangul[ppocr]' (or pip install rapidocr_onnxruntime)"

# PaddleOCR's detector normalisation, applied to the image in BGR order (as cv2.imread gives it).
# (RapidOCR's config.yaml uses 0.5 / 0.5 instead.)
BGR_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
BGR_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
STRIDE = 32  # the network's input sides must be multiples of this


def ppocr_model_path() -> Path:
    """The PP-OCRv4 detector inside the installed ``rapidocr_onnxruntime`` package, found without
    importing that package (its ``__init__`` imports OpenCV)."""
    spec = importlib.util.find_spec(PPOCR_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise KocrError(f"the ppocr line finder needs the '{PPOCR_PACKAGE}' package: {PPOCR_INSTALL_HINT}")
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "models" / PPOCR_MODEL
        if path.is_file():
            return path
    raise KocrError(
        f"{PPOCR_PACKAGE} is installed but has no models/{PPOCR_MODEL} (it ships from version 1.3): "
        f"pip install -U rapidocr_onnxruntime"
    )


def input_size(width: int, height: int, limit_side_len: int) -> tuple[int, int]:
    """The network's input size for a page: the long side at most ``limit_side_len`` (pages are never
    enlarged), each side rounded to a multiple of 32 (PaddleOCR's ``limit_type: max``)."""
    ratio = min(1.0, limit_side_len / max(width, height))
    return (
        max(STRIDE, round(width * ratio / STRIDE) * STRIDE),
        max(STRIDE, round(height * ratio / STRIDE) * STRIDE),
    )


def prepare(image: Image.Image, size: tuple[int, int]) -> np.ndarray:
    """The network's input, (1, 3, H, W) float32: resized by PIL first, in the image's own mode where PIL
    can, so a 50-megapixel page never becomes a full-size float array."""
    if image.mode not in ("RGB", "L", "RGBA"):
        image = to_mode(image, 3)
    if image.size != size:
        image = image.resize(size, Image.Resampling.BILINEAR, reducing_gap=3.0)
    rgb = np.asarray(to_mode(image, 3), dtype=np.float32) / 255.0
    bgr = rgb[:, :, ::-1]
    return ((bgr - BGR_MEAN) / BGR_STD).transpose(2, 0, 1)[None].astype(np.float32)


class PPOCRLineFinder:
    """Finds text lines with PP-OCRv4's detector: a rotated rectangle per line, in the page's pixels.

    ``limit_side_len``: the longest side the network sees (PaddleOCR's default is 960; larger finds
    smaller text and costs time in proportion to the pixels). ``threshold``, ``box_threshold``,
    ``unclip_ratio`` and ``dilate`` are PaddleOCR's DB post-processing settings (its defaults).
    ``model``: another PP-OCR DBNet .onnx file instead of the one in ``rapidocr_onnxruntime``."""

    name = "ppocr"

    def __init__(
        self,
        *,
        limit_side_len: int = 960,
        threshold: float = 0.3,
        box_threshold: float = 0.6,
        unclip_ratio: float = 1.5,
        dilate: bool = False,
        threads: int | None = None,
        device: str = "cpu",
        model: str | Path | None = None,
    ) -> None:
        if limit_side_len < STRIDE:
            raise KocrError(f"limit_side_len must be at least {STRIDE}, not {limit_side_len}")
        self.limit_side_len = limit_side_len
        self.threshold = threshold
        self.box_threshold = box_threshold
        self.unclip_ratio = unclip_ratio
        self.dilate = dilate
        self.model_path = Path(model) if model is not None else ppocr_model_path()
        self._session: Any = open_session(
            str(self.model_path), onnx_providers(device), source=self.model_path, threads=threads
        )
        self._input = self._session.get_inputs()[0].name

    def probability_map(self, image: Image.Image) -> np.ndarray:
        """The network's (H, W) text probability map for ``image`` (H, W: its input size)."""
        batch = prepare(image, input_size(*image.size, self.limit_side_len))
        return self._session.run(None, {self._input: batch})[0][0, 0]

    def find(self, image: Image.Image) -> list[LineRegion]:
        """The text lines on ``image``, each a quad in its pixels and the mean probability inside."""
        prob = self.probability_map(image)
        scale = np.array([image.width / prob.shape[1], image.height / prob.shape[0]])
        limit = np.array([image.width, image.height], dtype=np.float64)
        regions = []
        for rect, score in boxes_from_map(
            prob,
            threshold=self.threshold,
            box_threshold=self.box_threshold,
            unclip_ratio=self.unclip_ratio,
            dilate=self.dilate,
        ):
            tl, tr, br, bl = ((float(x), float(y)) for x, y in np.clip(rect.corners() * scale, 0, limit))
            quad: Quad = (tl, tr, br, bl)
            regions.append(LineRegion(quad, score))
        return regions
