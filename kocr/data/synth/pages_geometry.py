"""Plane maps for synthetic pages: one 3x3 matrix moves both an image (:func:`warp`) and the corners of
its line boxes (:func:`apply`), so boxes follow the pixels through every turn, skew and perspective.

Coordinates are continuous with pixel centres at +0.5, which is PIL's convention for its transforms.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from PIL import Image

from kocr.pages.types import Point, Quad

Matrix = np.ndarray  # 3x3, maps (x, y, 1) forward


def translation(dx: float, dy: float) -> Matrix:
    return np.array([[1.0, 0.0, dx], [0.0, 1.0, dy], [0.0, 0.0, 1.0]])


def rotation(degrees: float, centre: Point) -> Matrix:
    """Turn by ``degrees`` anticlockwise as seen on screen (y down), about ``centre``."""
    a = math.radians(degrees)
    cos, sin = math.cos(a), math.sin(a)
    turn = np.array([[cos, sin, 0.0], [-sin, cos, 0.0], [0.0, 0.0, 1.0]])
    return translation(*centre) @ turn @ translation(-centre[0], -centre[1])


def homography(source: Sequence[Point], target: Sequence[Point]) -> Matrix:
    """The perspective map taking the four ``source`` points to the four ``target`` points."""
    rows, values = [], []
    for (x, y), (u, v) in zip(source, target, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        values.extend((u, v))
    h = np.linalg.solve(np.array(rows, dtype=np.float64), np.array(values, dtype=np.float64))
    return np.append(h, 1.0).reshape(3, 3)


def apply(matrix: Matrix, quad: Sequence[Point]) -> Quad:
    """The corners moved by ``matrix``, in the same order."""
    points = np.array([[x, y, 1.0] for x, y in quad]) @ matrix.T
    xy = points[:, :2] / points[:, 2:3]
    a, b, c, d = ((float(x), float(y)) for x, y in xy)
    return a, b, c, d


def warp(
    image: Image.Image,
    matrix: Matrix,
    size: tuple[int, int],
    *,
    fill: int | tuple[int, ...] = 0,
    resample: Image.Resampling = Image.Resampling.BILINEAR,
) -> Image.Image:
    """``image`` moved by ``matrix`` onto a ``size`` canvas (PIL wants the inverse map)."""
    inverse = np.linalg.inv(matrix)
    inverse = inverse / inverse[2, 2]
    return image.transform(
        size, Image.Transform.PERSPECTIVE, tuple(inverse.ravel()[:8]), resample=resample, fillcolor=fill
    )


def turn_matrix(rotation_cw: int, size: tuple[int, int]) -> Matrix:
    """The map of a quarter, half or three-quarter clockwise turn of a ``size`` image."""
    width, height = size
    if rotation_cw == 90:
        return np.array([[0.0, -1.0, height], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    if rotation_cw == 180:
        return np.array([[-1.0, 0.0, width], [0.0, -1.0, height], [0.0, 0.0, 1.0]])
    if rotation_cw == 270:
        return np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, width], [0.0, 0.0, 1.0]])
    return np.eye(3)
