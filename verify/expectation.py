r"""Expectations of randomized runs: Monte Carlo summaries with confidence bounds.

Exact expectations for linear stochastic recursions on quadratics (RCD/RPT, L-SVRP) belong here
too: they propagate second moments over the finitely many random outcomes, so a violation found
by them is a violation, not noise.
"""
from __future__ import annotations

import numpy as np

__all__ = ["mc_summary"]


def mc_summary(samples: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray, int]:
    """Mean, standard error of the mean and sample count along ``axis`` (replications).

    Non-finite samples (diverged runs) make the mean infinite, which any finite bound rejects.
    """
    s = np.asarray(samples, dtype=float)
    R = s.shape[axis]
    if R < 2:
        raise ValueError("Monte Carlo needs at least 2 replications")
    with np.errstate(invalid="ignore", over="ignore"):
        mean = s.mean(axis=axis)
        se = s.std(axis=axis, ddof=1) / np.sqrt(R)
    bad = ~np.all(np.isfinite(s), axis=axis)
    mean = np.where(bad, np.inf, mean)
    se = np.where(bad, 0.0, se)
    return mean, se, R
