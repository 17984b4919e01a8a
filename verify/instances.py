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


# --------------------------------------------------------------------------- L-SVRP instances
def _random_orthogonal(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    """n Haar-random orthogonal d x d matrices (QR with sign correction), shape (n, d, d)."""
    Z = rng.standard_normal((n, d, d))
    Q, R = np.linalg.qr(Z)
    return Q * np.sign(np.diagonal(R, axis1=1, axis2=2))[:, None, :]


def delta_controlled_quadratics(n: int = 10, d: int = 4, delta: float = 5.0, mu: float = 1.0, spread: float = 1.0,
                                shared_floor: bool = False, b_scale: float = 1.0, seed: int = 0):
    r"""Client quadratics :math:`A_i=\bar A+tD_i+cI` with exact :math:`\delta` and :math:`\mu` (spec ``lsvrp.md`` §5).

    :math:`D_i=E_i-\frac1n\sum_jE_j` (random symmetric :math:`E_i`, so :math:`\sum_iD_i=0`),
    :math:`t=\delta/\sqrt{\lambda_{\max}(\frac1n\sum_iD_i^2)}` gives the Hessian dissimilarity
    :math:`\delta(t)=t\sqrt{\lambda_{\max}(\frac1n\sum_iD_i^2)}` exactly, and the common shift
    :math:`c` (which leaves :math:`\delta` unchanged) sets :math:`\mu=\min_i\lambda_{\min}(A_i)`
    to the target.  :math:`\bar A` has eigenvalues spread over ``[0, spread * delta]`` before the shift.

    ``shared_floor=True`` puts one common eigenvector with eigenvalue exactly :math:`\mu` in every
    :math:`A_i` (the perturbations act on its orthogonal complement, shifted so that the
    complement's eigenvalues stay :math:`\ge\mu`): along it the prox contracts by exactly
    :math:`(1+\gamma\mu)^{-1}`, which makes the :math:`\delta^2/\mu^2` complexity tight.

    The returned problem recomputes every constant (``problem.delta``, ``problem.mu``...).
    """
    from solvers.problems import QuadraticClients

    for name, v in (("n", n), ("d", d)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise UsageError(f"{name} must be an integer >= 1, got {v!r}")
    if n < 2:
        raise UsageError(f"n must be >= 2 for a nonzero dissimilarity, got {n}")
    if shared_floor and d < 2:
        raise UsageError("d must be >= 2 with shared_floor=True")
    for name, v in (("delta", delta), ("mu", mu), ("spread", spread)):
        if not (np.isfinite(v) and v > 0):
            raise UsageError(f"{name} must be a finite number > 0, got {v!r}")
    rng = np.random.default_rng(seed)
    k = d - 1 if shared_floor else d
    Q = _random_orthogonal(rng, 1, k)[0]
    Abar = Q @ np.diag(np.linspace(0.0, spread * delta, k)) @ Q.T
    E = rng.standard_normal((n, k, k))
    E = 0.5 * (E + E.transpose(0, 2, 1))
    Dm = E - E.mean(axis=0)
    dD = float(np.sqrt(np.linalg.eigvalsh(np.einsum("nij,njk->ik", Dm, Dm) / n)[-1]))
    B = Abar + (delta / dD) * Dm
    B = 0.5 * (B + B.transpose(0, 2, 1))
    B += (mu - np.linalg.eigvalsh(B)[:, 0].min()) * np.eye(k)
    if shared_floor:
        A = np.zeros((n, d, d))
        A[:, 0, 0] = mu
        A[:, 1:, 1:] = B
        R = _random_orthogonal(rng, 1, d)[0]
        A = R @ A @ R.T
    else:
        A = B
    A = 0.5 * (A + A.transpose(0, 2, 1))
    b = b_scale * rng.standard_normal((n, d))
    return QuadraticClients(A, b)


def high_dissimilarity_quadratics(n: int = 10, d: int = 6, mu: float = 1.0, mean_gap: float = 5.0, seed: int = 0):
    r"""The spec's high-dissimilarity reference instance (``lsvrp.md`` §5):
    :math:`A_i=U_i\,\mathrm{diag}(\mu,\mu+e_2,\dots,\mu+e_d)\,U_i^\top` with
    :math:`e_j\sim\mathrm{Exp}(\text{mean }` ``mean_gap`` :math:`)` and Haar-random :math:`U_i`;
    Gaussian :math:`b_i`.  Gives :math:`\mu` exactly and :math:`\delta\approx5.9` for the defaults
    (recomputed exactly by the problem)."""
    from solvers.problems import QuadraticClients

    if not (np.isfinite(mu) and mu > 0):
        raise UsageError(f"mu must be a finite number > 0, got {mu!r}")
    rng = np.random.default_rng(seed)
    U = _random_orthogonal(rng, n, d)
    lam = mu + np.concatenate([np.zeros((n, 1)), rng.exponential(mean_gap, (n, d - 1))], axis=1)
    A = np.einsum("nij,nj,nkj->nik", U, lam, U)
    return QuadraticClients(0.5 * (A + A.transpose(0, 2, 1)), rng.standard_normal((n, d)))


def l2_logistic_clients(n: int = 10, d: int = 5, m: int = 20, lam: float = 0.1, heterogeneity: float = 2.0, seed: int = 0):
    r"""ℓ2-regularised logistic clients (``solvers.problems.L2Logistic``): client i draws features
    :math:`a_{ij}\sim\mathcal N(0,s_i^2I)` with scales :math:`s_i` log-uniform over a factor
    ``heterogeneity`` (so the Hessians differ), labels from a random linear model with 10% flipped."""
    from solvers.problems import L2Logistic

    rng = np.random.default_rng(seed)
    s = heterogeneity ** rng.uniform(-0.5, 0.5, n)
    A = rng.standard_normal((n, m, d)) * s[:, None, None]
    w = rng.standard_normal(d)
    y = np.sign(A @ w + 1e-12)
    y[rng.random((n, m)) < 0.1] *= -1
    return L2Logistic(A, y, lam=lam)


__all__ += ["delta_controlled_quadratics", "high_dissimilarity_quadratics", "l2_logistic_clients"]
