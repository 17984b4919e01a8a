r"""Scaling-law fits: log-log slopes with confidence intervals.

For points :math:`(x_j, y_j)` the model is :math:`\log y=a+s\log x+\varepsilon`; the slope
:math:`s` is estimated by least squares and its interval from the Student t distribution of the
residuals (at least three distinct x values are needed for an interval).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.stats

from .check import UsageError

__all__ = ["Fit", "loglog_fit"]


@dataclass(frozen=True)
class Fit:
    """Fitted ``y ~ C * x**slope``: slope, its two-sided interval, intercept log C and R^2."""

    slope: float
    interval: tuple[float, float]
    intercept: float
    r2: float
    n_points: int
    confidence: float

    def predict(self, x):
        return np.exp(self.intercept) * np.asarray(x, dtype=float) ** self.slope


def loglog_fit(x, y, confidence: float = 0.95) -> Fit:
    """Least-squares fit of ``log y`` against ``log x`` with a ``confidence`` interval for the slope."""
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if x.shape != y.shape:
        raise UsageError(f"x and y must have the same length, got {x.size} and {y.size}")
    if np.any(~np.isfinite(x)) or np.any(~np.isfinite(y)) or np.any(x <= 0) or np.any(y <= 0):
        raise UsageError("a log-log fit needs finite, positive x and y")
    if np.unique(x).size < 3:
        raise UsageError("a log-log fit with an interval needs at least 3 distinct x values")
    lx, ly = np.log(x), np.log(y)
    res = scipy.stats.linregress(lx, ly)
    dof = x.size - 2
    q = scipy.stats.t.ppf(0.5 + confidence / 2, dof) if dof > 0 else np.inf
    half = q * res.stderr
    return Fit(float(res.slope), (float(res.slope - half), float(res.slope + half)), float(res.intercept),
               float(res.rvalue ** 2), int(x.size), confidence)
