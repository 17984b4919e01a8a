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


# --------------------------------------------------------------------------- point clouds (geometric median)
POINT_CLOUDS = ("gaussian", "symmetric", "anchor", "lopsided", "collinear", "three")


def point_cloud(kind: str = "gaussian", m: int = 100, d: int = 10, outlier_frac: float = 0.0, shift: float = 100.0,
                anchor_weight: float = 0.5, seed: int = 0) -> tuple[np.ndarray, np.ndarray, dict]:
    r"""Seeded point clouds for the geometric median (``specs/weiszfeld.md`` section 4).

    Returns ``(points (m, d), weights (m,) summing to 1, info)``; ``info`` records the outlier mask
    and, where it is known in closed form, the exact median ``z_exact``.

    * ``"gaussian"``: inliers :math:`\mathcal N(0,I_d)`; the first ``round(outlier_frac*m)`` points
      are outliers shifted by ``shift`` :math:`\cdot\mathbf 1` (spec instance 2).
    * ``"symmetric"``: points :math:`c\pm s_j e_j` (axis pairs with random radii, :math:`m` even):
      the median is :math:`c` exactly (spec instance 1).
    * ``"anchor"``: one point of weight ``anchor_weight`` :math:`\ge\frac12` at :math:`p`, the rest a
      Gaussian cloud around :math:`p+0.3\,u`: the median is the anchor :math:`p` (spec instance 3;
      violates Assumption 22).
    * ``"lopsided"``: one point :math:`p` of weight ``anchor_weight`` :math:`\ge\frac12`, a tight cluster
      at :math:`p+u` and one far point at :math:`p+` ``shift`` :math:`\cdot u` (``\Vert u\Vert=1``): the
      median is :math:`p`, Weiszfeld contracts towards it with ratio about
      :math:`(1-\omega_p)/\omega_p` (slow near 1/2), and the diameter is much larger than
      :math:`\Vert z^{(0)}-z^\star\Vert`.
    * ``"collinear"``: points on a line (Assumption 13 fails: 1-D weighted median, non-unique for
      even m with equal weights).
    * ``"three"``: a triangle with all angles below 120 degrees (Fermat-Torricelli point).
    """
    if kind not in POINT_CLOUDS:
        raise UsageError(f"cloud must be one of {', '.join(POINT_CLOUDS)}, got {kind!r}")
    for name, v in (("m", m), ("d", d)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise UsageError(f"{name} must be an integer >= 1, got {v!r}")
    if not (0.0 <= outlier_frac < 0.5):
        raise UsageError(f"outlier_frac must lie in [0, 0.5), got {outlier_frac!r}")
    rng = np.random.default_rng(seed)
    info: dict = {"outliers": np.zeros(m, dtype=bool), "z_exact": None}
    w = np.full(m, 1.0 / m)
    if kind == "gaussian":
        W = rng.standard_normal((m, d))
        k = int(round(outlier_frac * m))
        W[:k] += shift
        info["outliers"][:k] = True
        info["inlier_centre"] = np.zeros(d)
    elif kind == "symmetric":
        if m % 2:
            raise UsageError(f"m must be even for cloud='symmetric', got {m}")
        c = rng.standard_normal(d)
        half = m // 2
        axes = np.arange(half) % d
        radii = rng.uniform(0.5, 2.0, half)
        V = np.zeros((half, d))
        V[np.arange(half), axes] = radii
        W = np.vstack([c + V, c - V])
        info["z_exact"] = c
        info["inlier_centre"] = c
    elif kind == "anchor":
        if not 0.5 <= anchor_weight < 1:
            raise UsageError(f"anchor_weight must lie in [0.5, 1), got {anchor_weight!r}")
        p = rng.standard_normal(d)
        u = rng.standard_normal(d)
        u /= np.linalg.norm(u)
        W = p + 0.3 * u + rng.standard_normal((m, d))
        W[0] = p
        w = np.full(m, (1 - anchor_weight) / max(m - 1, 1))
        w[0] = anchor_weight
        info["z_exact"] = p
        info["inlier_centre"] = p
    elif kind == "lopsided":
        if not 0.5 <= anchor_weight < 1:
            raise UsageError(f"anchor_weight must lie in [0.5, 1), got {anchor_weight!r}")
        if m < 3:
            raise UsageError(f"m must be >= 3 for cloud='lopsided', got {m}")
        p = rng.standard_normal(d)
        u = rng.standard_normal(d)
        u /= np.linalg.norm(u)
        W = p + u + 0.05 * rng.standard_normal((m, d))
        W[0] = p
        W[1] = p + shift * u
        w = np.full(m, (1 - anchor_weight) / (m - 1))
        w[0] = anchor_weight
        info["z_exact"] = p
        info["inlier_centre"] = p
    elif kind == "collinear":
        a, u = rng.standard_normal(d), rng.standard_normal(d)
        u /= np.linalg.norm(u)
        W = a + np.sort(rng.standard_normal(m))[:, None] * u
        info["inlier_centre"] = a
    else:  # three
        if m != 3:
            raise UsageError(f"m must be 3 for cloud='three', got {m}")
        ang = np.array([90.0, 210.0, 330.0]) + rng.uniform(-20, 20, 3)
        P = np.c_[np.cos(np.radians(ang)), np.sin(np.radians(ang))]
        W = np.zeros((3, max(d, 2)))[:, :d] if d >= 2 else None
        if d < 2:
            raise UsageError("d must be >= 2 for cloud='three'")
        W[:, :2] = P
        info["inlier_centre"] = np.zeros(d)
    return W, w, info
