r"""Seeded instance generators with controlled constants.

Each generator takes target constants and a seed and returns a ``solvers`` problem whose exact
constants are then *recomputed* by the problem itself (never assumed from the targets).
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import brentq

from solvers.problems import LeastSquares, NonconvexLogistic

from .check import UsageError

__all__ = ["smoothness_profile", "heterogeneous_least_squares", "heterogeneous_logistic"]


def _spread(L: np.ndarray) -> float:
    return float(np.sqrt(np.mean(L ** 2)) / np.mean(L))


def smoothness_profile(n: int, spread: float, profile: str = "outlier", L_am: float = 1.0) -> np.ndarray:
    r"""Per-client constants :math:`L_i` with mean ``L_am`` and :math:`L_{qm}/L_{am}` = ``spread``.

    ``profile="outlier"``: ``n-1`` equal clients and one large one (like (1,1,1,100));
    ``profile="geometric"``: :math:`L_i\propto q^{i/(n-1)}`.  Any ``spread`` in
    :math:`[1,\sqrt n)` is reachable (``sqrt(n)`` is the limit of one client carrying everything).
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise UsageError(f"n must be an integer >= 1, got {n!r}")
    if not (np.isfinite(spread) and 1.0 <= spread < np.sqrt(n)) and not (n == 1 and spread == 1.0):
        raise UsageError(f"spread must lie in [1, sqrt(n)) = [1, {np.sqrt(n):.4g}) for n={n}, got {spread!r}")
    if not (np.isfinite(L_am) and L_am > 0):
        raise UsageError(f"L_am must be > 0, got {L_am!r}")
    if spread == 1.0 or n == 1:
        return np.full(n, float(L_am))
    if profile == "outlier":
        def shape(a):
            return np.r_[np.ones(n - 1), a]
    elif profile == "geometric":
        def shape(a):
            return a ** (np.arange(n) / (n - 1))
    else:
        raise UsageError(f"profile must be 'outlier' or 'geometric', got {profile!r}")
    hi = 1e15
    if _spread(shape(hi)) < spread:
        raise UsageError(f"spread={spread!r} is not reachable with profile={profile!r} and n={n} "
                         f"(at most about {_spread(shape(hi)):.4g})")
    a = brentq(lambda a: _spread(shape(a)) - spread, 1.0, hi, xtol=1e-14, rtol=1e-14, maxiter=500)
    L = shape(a)
    return L * (L_am / L.mean())


def _rescale_clients(A: np.ndarray, target: np.ndarray, raw: np.ndarray) -> np.ndarray:
    return np.sqrt(target / raw)


def heterogeneous_least_squares(n: int = 20, d: int = 30, m: int = 10, spread: float = 2.0,
                                profile: str = "outlier", L_am: float = 1.0, noise: float = 0.5,
                                seed: int = 0) -> LeastSquares:
    r"""Least squares :math:`f_i=\frac1m\Vert A_ix-b_i\Vert^2` with prescribed :math:`L_i`.

    Gaussian client data are rescaled per client, :math:`A_i\leftarrow s_iA_i`, which scales the
    least-squares :math:`L_i` by :math:`s_i^2` (Error Feedback Reloaded, spec section 3.9); targets
    are :math:`b_i=A_ix^\sharp+` ``noise`` :math:`\cdot\,\mathcal N(0,I)` (rescaled alike), so
    :math:`f^\star>0`.
    """
    for name, v in (("n", n), ("d", d), ("m", m)):
        if not isinstance(v, (int, np.integer)) or v < 1:
            raise UsageError(f"{name} must be an integer >= 1, got {v!r}")
    target = smoothness_profile(n, spread, profile, L_am)
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, m, d))
    xs = rng.standard_normal(d) / np.sqrt(d)
    b = A @ xs + noise * rng.standard_normal((n, m))
    raw = LeastSquares(A, b).L_i
    s = np.sqrt(target / raw)
    return LeastSquares(A * s[:, None, None], b * s[:, None])


def heterogeneous_logistic(n: int = 20, d: int = 20, m: int = 20, spread: float = 2.0,
                           profile: str = "outlier", L_am: float = 1.0, lam: float = 0.1,
                           seed: int = 0) -> NonconvexLogistic:
    r"""Logistic regression with the nonconvex regulariser and prescribed certified :math:`L_i`.

    The loss part of client i is rescaled so that
    :math:`\lambda_{\max}(A_i^\top A_i)/(4m)+2\lambda` equals the target; this needs every target
    above :math:`2\lambda`.  Labels come from a random linear model with 10% flipped.
    """
    target = smoothness_profile(n, spread, profile, L_am)
    if np.min(target) <= 2 * lam:
        raise UsageError(f"L_am={L_am} is too small for lam={lam} at spread={spread}: every L_i must exceed 2*lam")
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, m, d))
    w = rng.standard_normal(d)
    y = np.sign(A @ w + 1e-12)
    y[rng.random((n, m)) < 0.1] *= -1
    raw = NonconvexLogistic(A, y, lam=0.0).L_i
    s = np.sqrt((target - 2 * lam) / raw)
    return NonconvexLogistic(A * s[:, None, None], y, lam=lam)


def superquantile_clients(n: int = 8, d: int = 2, samples: int = 6, outliers: int = 2, separation: float = 4.0,
                          noise: float = 0.3, seed: int = 0):
    r"""Heterogeneous quadratic clients for Simplicial-FL (spec ``superquantile.md`` section 5.2).

    Client :math:`i` owns :math:`F_i(w)=\frac1{m_i}\Vert A_iw-b_i\Vert^2` with
    :math:`b_i=A_iw_i^\star+\text{noise}`; the local optima :math:`w_i^\star` form one cluster around
    the origin except ``outliers`` clients whose optima sit at distance ``separation`` (a minority
    the average model serves badly).  Returns a :class:`solvers.superquantile.QuadraticClients`
    whose constants (``L_i``, ``L``) are recomputed exactly.
    """
    from solvers.superquantile import QuadraticClients

    for nm, v in (("n", n), ("d", d), ("samples", samples)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise UsageError(f"{nm} must be an integer >= 1, got {v!r}")
    if isinstance(outliers, bool) or not isinstance(outliers, (int, np.integer)) or not 0 <= outliers < n:
        raise UsageError(f"outliers must be an integer in [0, n), got {outliers!r}")
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, samples, d)) / np.sqrt(d)
    centers = 0.3 * rng.standard_normal((n, d))
    if outliers:
        direction = rng.standard_normal(d)
        direction /= np.linalg.norm(direction)
        centers[n - outliers:] += separation * direction
    b = np.einsum("nmd,nd->nm", A, centers) + noise * rng.standard_normal((n, samples))
    return QuadraticClients(A, b)
