"""How a page's text lines slope, place by place: a plane ``a + b·u + c·v`` over the page, in the
frame already turned by the page's skew (u along the lines, v across them, both from the page's
middle), and each point's line followed to the middle of the page, where lines can be compared.

Why a plane: a page photographed at a slant has lines that converge towards a vanishing point, so
their angle changes down the page (and across it): on the synthetic photos by up to 5 degrees
between the first line and the last. Turned by one angle, a long line at the top or bottom then
rises or falls by more than a line's height along its length and meets its neighbours. Over one
page, the slopes of converging lines are close to a plane in position; curled pages are not, and are
left to each line's own angle. The plane is fitted by least absolute deviations: the slope from one
syllable to the next scatters widely with their shapes, and not evenly.

Why followed to the middle: two points are on one text line when the field's line through one passes
through the other; following both to u = 0 gives each a height (``level``) that is the same for
points of one line and steps by the line pitch between lines, whatever the slopes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_VARIATION = 0.005  # slope (0.3 degrees): less change than this over the page is no change
SIGNIFICANT = 3.0  # standard errors a term must stand out by to be kept
FLOOR = 0.002  # slopes: residuals below this weigh no more than this in the fit
STEPS = 8  # midpoint steps when following a line


@dataclass(frozen=True)
class SlopeField:
    """Slopes ``a + b·u + c·v`` (dv/du) of the text lines at (u, v)."""

    a: float = 0.0
    b: float = 0.0
    c: float = 0.0

    @property
    def flat(self) -> bool:
        return self.b == 0 and self.c == 0

    def slope(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        return self.a + self.b * u + self.c * v

    def level(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Where the field's line through each point (u, v) crosses u = 0."""
        if self.flat:
            return v - self.a * u
        step = -u / STEPS
        for _ in range(STEPS):
            half = v + self.slope(u, v) * step / 2
            v = v + self.slope(u + step / 2, half) * step
            u = u + step
        return v


def fit_field(
    u: np.ndarray, v: np.ndarray, slope: np.ndarray, weight: np.ndarray, spread: float, minimum: int
) -> SlopeField:
    """The plane through the observed ``slope`` at points (u, v): weighted least absolute deviations
    (glyphs of different shapes make neighbours' slopes scatter widely and not evenly), keeping only
    terms that stand out by :data:`SIGNIFICANT` standard errors, and gradients only where the points
    spread at least ``spread`` along them and the slope changes by :data:`MIN_VARIATION` over that.
    A flat field without ``minimum`` points."""
    if u.size < minimum:
        return SlopeField()
    design = np.stack([np.ones(u.size), u, v], axis=1)
    terms = [0] + [k for k, axis in ((1, u), (2, v)) if np.ptp(axis) >= spread]
    while True:
        coefficients, errors = _least_deviations(design[:, terms], slope, weight)
        weak = [
            position
            for position, (term, value, error) in enumerate(zip(terms, coefficients, errors, strict=True))
            if abs(value) < SIGNIFICANT * error
            or (term and abs(value) * np.ptp(design[:, term]) < MIN_VARIATION)
        ]
        if not weak:
            break
        # The weakest term goes (relative to its error), and the rest are fitted again.
        weakest = min(weak, key=lambda position: abs(coefficients[position]) / max(errors[position], 1e-12))
        del terms[weakest]
        if not terms:
            return SlopeField()
    values = dict(zip(terms, coefficients, strict=True))
    return SlopeField(float(values.get(0, 0.0)), float(values.get(1, 0.0)), float(values.get(2, 0.0)))


def _least_deviations(
    design: np.ndarray, target: np.ndarray, weight: np.ndarray, rounds: int = 12
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted least absolute deviations by iteratively reweighted least squares: coefficients and
    their standard errors (from the median absolute residual)."""
    base = weight / weight.mean()
    current = base
    coefficients = np.zeros(design.shape[1])
    for _ in range(rounds):
        root = np.sqrt(current)
        coefficients, *_ = np.linalg.lstsq(design * root[:, None], target * root, rcond=None)
        residual = np.abs(target - design @ coefficients)
        current = base / np.maximum(residual, FLOOR)
    residual = target - design @ coefficients
    if residual.size <= design.shape[1]:
        return coefficients, np.full(design.shape[1], np.inf)
    sigma = 1.4826 * float(np.median(np.abs(residual))) + 1e-9
    root = np.sqrt(base)
    a = design * root[:, None]
    try:
        covariance = np.linalg.inv(a.T @ a) * sigma**2 * (np.pi / 2)  # a median's variance, not a mean's
    except np.linalg.LinAlgError:
        return coefficients, np.full(design.shape[1], np.inf)
    return coefficients, np.sqrt(np.maximum(np.diag(covariance), 0.0))
