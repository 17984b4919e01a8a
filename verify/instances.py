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


# --------------------------------------------------------------------------- RCD / RPT instances
def block_scales(blocks: int, profile: str = "increasing", scale_ratio: float = 10.0) -> np.ndarray:
    r"""Per-block curvature scales :math:`s_j`, geometric from 1 to ``scale_ratio``.

    ``increasing`` (later blocks, e.g. later layers, are stiffer), ``decreasing`` or ``flat``
    (progressive-training spec, section 4).
    """
    if not (np.isfinite(scale_ratio) and scale_ratio >= 1):
        raise UsageError(f"scale_ratio must be a finite number >= 1, got {scale_ratio!r}")
    s = np.geomspace(1.0, scale_ratio, blocks)
    if profile == "increasing":
        return s
    if profile == "decreasing":
        return s[::-1].copy()
    if profile == "flat":
        return np.ones(blocks)
    raise UsageError(f"profile must be 'increasing', 'decreasing' or 'flat', got {profile!r}")


def _haar(rng: np.random.Generator, n: int) -> np.ndarray:
    """Haar-distributed orthogonal matrix (QR of a Gaussian matrix with the sign fix)."""
    Q, R = np.linalg.qr(rng.standard_normal((n, n)))
    return Q * np.sign(np.diag(R))


def block_quadratic(d: int = 20, blocks: int = 4, profile: str = "increasing", scale_ratio: float = 10.0,
                    cond: float = 100.0, coupling: float = 0.3, zero_eigs: int = 0, seed: int = 0):
    r"""Block-diagonal-dominant quadratic :math:`f(x)=\frac12x^\top Ax-b^\top x` for RCD/RPT.

    .. math::
        A=\mathrm{blockdiag}\big(s_jU_j\Lambda_jU_j^\top\big)
        +\texttt{coupling}\cdot D^{1/2}U\Lambda U^\top D^{1/2},\qquad D=\mathrm{Diag}(s_{j(i)}),

    with Haar rotations :math:`U_j, U` and spectra geometric in :math:`[1/\texttt{cond},1]`; the
    block scales :math:`s_j` come from :func:`block_scales`.  ``zero_eigs`` > 0 projects out a
    random subspace of that dimension (convex, not strongly convex).  :math:`b=Ax^\sharp` so a
    minimiser exists; every constant is recomputed by :class:`solvers.problems.Quadratic`.
    """
    from solvers.problems import Quadratic
    from solvers.rcd import split_blocks, block_index

    sizes = split_blocks(d, blocks)
    if not (np.isfinite(cond) and cond >= 1):
        raise UsageError(f"cond must be a finite number >= 1, got {cond!r}")
    if not (np.isfinite(coupling) and coupling >= 0):
        raise UsageError(f"coupling must be a finite number >= 0, got {coupling!r}")
    if not (isinstance(zero_eigs, (int, np.integer)) and 0 <= zero_eigs < d):
        raise UsageError(f"zero_eigs must be an integer in [0, d), got {zero_eigs!r}")
    s = block_scales(blocks, profile, scale_ratio)
    rng = np.random.default_rng(seed)
    A = np.zeros((d, d))
    start = 0
    for j, dj in enumerate(sizes):  # a loop over blocks (a handful), not coordinates
        U = _haar(rng, dj)
        lam = np.geomspace(1.0 / cond, 1.0, dj)[rng.permutation(dj)] if dj > 1 else np.ones(1)
        A[start:start + dj, start:start + dj] = s[j] * (U * lam) @ U.T
        start += dj
    if coupling > 0:
        U = _haar(rng, d)
        sq = np.sqrt(s[block_index(sizes)])
        A += coupling * sq[:, None] * ((U * np.geomspace(1.0 / cond, 1.0, d)) @ U.T) * sq[None, :]
    if zero_eigs:
        Q = np.linalg.qr(rng.standard_normal((d, zero_eigs)))[0]
        Pm = np.eye(d) - Q @ Q.T
        A = Pm @ A @ Pm
    A = 0.5 * (A + A.T)
    x_sharp = rng.standard_normal(d)
    return Quadratic(A, A @ x_sharp, block_sizes=sizes)


def block_logistic(m: int = 200, d: int = 10, blocks: int = 4, profile: str = "increasing", scale_ratio: float = 10.0,
                   lam: float = 0.1, seed: int = 0):
    r""":math:`\ell_2`-logistic regression whose feature blocks have curvature scales :math:`s_j`.

    Features are Gaussian, block j multiplied by :math:`\sqrt{s_j}`; labels from a random linear
    model with 10% flipped.  :math:`\mathbf L=\frac1{4m}M^\top M+\lambda I`, :math:`\mu=\lambda`.
    """
    from solvers.problems import L2Logistic
    from solvers.rcd import split_blocks, block_index

    sizes = split_blocks(d, blocks)
    s = block_scales(blocks, profile, scale_ratio)
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((m, d)) * np.sqrt(s[block_index(sizes)])[None, :]
    w = rng.standard_normal(d) / np.sqrt(d)
    y = np.sign(M @ w + 1e-12)
    y[rng.random(m) < 0.1] *= -1
    return L2Logistic(M, y, lam=lam, block_sizes=sizes)


def block_cosine(d: int = 10, blocks: int = 4, profile: str = "increasing", scale_ratio: float = 10.0,
                 cond: float = 10.0, omega: float = 1.0, seed: int = 0):
    r"""Nonconvex :math:`f(x)=\frac12x^\top Ax+\omega\sum_i\cos x_i` with diagonal A (exact :math:`f^{\inf}`).

    :math:`A_{ii}=s_{j(i)}a_i` with :math:`a_i` geometric in :math:`[1/\texttt{cond},1]`, so that
    coordinates with :math:`A_{ii}<\omega` are nonconvex (a double well) and the others convex.
    """
    from solvers.problems import QuadraticCosine
    from solvers.rcd import split_blocks, block_index

    sizes = split_blocks(d, blocks)
    s = block_scales(blocks, profile, scale_ratio)
    rng = np.random.default_rng(seed)
    a = np.geomspace(1.0 / cond, 1.0, d)[rng.permutation(d)] * s[block_index(sizes)]
    return QuadraticCosine(np.diag(a), omega=omega, block_sizes=sizes)


__all__ += ["block_scales", "block_quadratic", "block_logistic", "block_cosine"]
