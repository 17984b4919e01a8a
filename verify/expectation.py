r"""Expectations of randomized runs: Monte Carlo summaries with confidence bounds.

Exact expectations for linear stochastic recursions on quadratics (RCD/RPT, L-SVRP) belong here
too: they propagate second moments over the finitely many random outcomes, so a violation found
by them is a violation, not noise.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.stats

from ratecheck.solvers import superquantile as sq
from ratecheck.solvers.local_methods import (
    proxskip_maps,
    proxskip_noise_covs,
    proxskip_operators,
    shared_eigenbasis,
)

from .errors import UsageError

__all__ = ["mc_summary", "pair_variance", "replication_summary", "clopper_pearson", "superquantile_moments"]


def mc_summary(samples: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray, int]:
    """Mean, standard error of the mean and sample count along ``axis`` (replications).

    A sample of +inf (a diverged run) makes the mean +inf, which a finite upper bound rejects.  A NaN (or
    -inf) sample is no evidence: the mean is NaN there and the verdict inconclusive (non-finite numbers other
    than a divergence are never evidence).
    """
    s = np.asarray(samples, dtype=float)
    R = s.shape[axis]
    if R < 2:
        raise ValueError("Monte Carlo needs at least 2 replications")
    with np.errstate(invalid="ignore", over="ignore"):
        mean = s.mean(axis=axis)
        se = s.std(axis=axis, ddof=1) / np.sqrt(R)
    nan = np.any(np.isnan(s) | np.isneginf(s), axis=axis)
    diverged = ~nan & np.any(np.isposinf(s), axis=axis)
    mean = np.where(nan, np.nan, np.where(diverged, np.inf, mean))
    se = np.where(nan, np.nan, np.where(diverged, 0.0, se))
    return mean, se, R


def affine_bound_summary(measured: np.ndarray, bound: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Monte Carlo evidence of ``measured <= bound`` (rows: replications) when the bound is affine in the
    replication's own quantities: E[bound] is the bound at the means, and the uncertainty is that of the
    per-replication difference.  Returns ``(bound mean + mean difference, bound mean, stderr, n_samples)``."""
    diff_mean, se, nsamp = mc_summary(measured - bound)
    mean_bound = bound.mean(axis=0)
    return mean_bound + diff_mean, mean_bound, se, nsamp


def running_mean_summary(run_mean: np.ndarray, points: int) -> tuple:
    """``(grid, measured, stderr, n_samples, method)`` of running means (R, T), T' = 1..T: every T' for one
    deterministic row, ``points`` geometrically spaced T' for Monte Carlo rows (:func:`replication_summary`)."""
    T = run_mean.shape[1]
    grid = np.arange(1, T + 1) if run_mean.shape[0] == 1 else np.unique(np.geomspace(1, T, points).astype(int))
    return (grid, *replication_summary(run_mean[:, grid - 1]))


__all__ += ["affine_bound_summary", "running_mean_summary"]


def replication_summary(values: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, int, str]:
    """``(measured, stderr, n_samples, method)`` of a run's rows, one row per replication: a single row is a
    deterministic run (no standard error), several rows a Monte Carlo sample (:func:`mc_summary`)."""
    if values.shape[0] == 1:
        return values[0], None, 1, "deterministic"
    return (*mc_summary(values), "monte-carlo")


def clopper_pearson(k: int, n: int, confidence: float = 0.99) -> tuple[float, float]:
    """Exact two-sided (Clopper-Pearson) interval of a binomial proportion: k successes in n trials."""
    a = 1 - confidence
    lo = 0.0 if k == 0 else float(scipy.stats.beta.ppf(a / 2, k, n - k + 1))
    hi = 1.0 if k == n else float(scipy.stats.beta.ppf(1 - a / 2, k + 1, n - k))
    return lo, hi


def pair_variance(samples: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray, int]:
    r"""Variance of i.i.d. ``samples`` along ``axis`` from independent pairs, with its standard error.

    :math:`\frac12(X_{2i}-X_{2i+1})^2` is unbiased for :math:`\mathrm{Var}\,X`, and the pairs are i.i.d., so
    :func:`mc_summary` of them gives the mean, its standard error (a confidence bound needs one) and the
    number of pairs.  An odd last sample is left out.
    """
    s = np.asarray(samples, dtype=float)
    R2 = s.shape[axis] - s.shape[axis] % 2
    even, odd = (s.take(np.arange(i, R2, 2), axis=axis) for i in (0, 1))
    return mc_summary(0.5 * (even - odd) ** 2, axis=axis)


def superquantile_moments(
    law: str,
    theta: float,
    m,
    *,
    low: float,
    high: float,
    p: float | None = None,
    beta: tuple[float, float] = (0.3, 0.3),
    replications: int = 2,
    rng=None,
    chunk: int = 4_000_000,
) -> dict:
    r"""Mean and variance of the empirical superquantile :math:`\hat S_m=S_\theta(Z_1,\dots,Z_m)` over the grid
    ``m``, and the population value :math:`S_\theta(Z)`.

    ``law`` ``'bernoulli'``: :math:`Z\in\{\mathrm{low},\mathrm{high}\}` with :math:`P(Z=\mathrm{high})=p`
    (None: :math:`p=\theta`, the extremal law of Levy et al. Prop. 5), exact binomial sums
    (:func:`solvers.superquantile.two_point_law`); ``'uniform'``: exact order statistics
    (:func:`~solvers.superquantile.uniform_law`); ``'beta'``: :math:`\mathrm{low}+(\mathrm{high}-\mathrm{low})
    \mathrm{Beta}(a,b)`, Monte Carlo (:func:`~solvers.superquantile.beta_law`, ``replications`` rounded down to
    even, from ``rng`` in blocks of ``chunk`` numbers): the mean with its standard error (:func:`mc_summary`),
    the variance by pair differences (:func:`pair_variance`), and the ranges of a sample (every :math:`\hat S_m`
    lies in [low, high], every half squared difference of a pair in :math:`[0,(\mathrm{high}-\mathrm{low})^2/2]`).

    Returns ``{"m", "mean", "var", "population", "method", "mean_se", "var_se", "n_samples"}`` (standard errors
    None for the exact laws) and, for the Monte Carlo law, ``"mean_range"``, ``"var_range"``, ``"var_samples"``.
    """
    exact = dict(method="exact-expectation", mean_se=None, var_se=None, n_samples=1)
    if law == "bernoulli":
        return dict(sq.two_point_law(theta, m, theta if p is None else p, low, high), **exact)
    if law == "uniform":
        return dict(sq.uniform_law(theta, m, low, high), **exact)
    R2 = replications - replications % 2
    draws = sq.beta_law(theta, m, *beta, low, high, replications=R2, rng=rng, chunk=chunk)
    mean, mse, _ = mc_summary(draws["draws"], axis=1)
    var, vse, _ = pair_variance(draws["draws"], axis=1)
    return {
        "m": m,
        "mean": mean,
        "var": var,
        "population": draws["population"],
        "method": "monte-carlo",
        "mean_se": mse,
        "var_se": vse,
        "n_samples": R2,
        "mean_range": high - low,
        "var_range": (high - low) ** 2 / 2,
        "var_samples": R2 // 2,
    }


# --------------------------------------------------------------------------- exact second moments (L-SVRP)
class LsvrpExactMoments:
    r"""Exact second moments of a random affine recursion over finitely many outcomes.

    The state :math:`z\in\mathbb R^D` evolves by :math:`z^{k+1}=G_oz^k+h_o`, the outcome
    :math:`o` drawn independently at every step with probability ``probs[o]``.  With the
    augmented state :math:`\tilde z=(z,1)` and
    :math:`\tilde G_o=\begin{pmatrix}G_o&h_o\\0&1\end{pmatrix}`, the second moment
    :math:`S_k=\mathbb E[\tilde z^k\tilde z^{k\top}]` obeys the exact linear recursion

    .. math::
        S_{k+1}=\sum_o p_o\,\tilde G_oS_k\tilde G_o^\top,

    evaluated as two matrix products per step (the outcomes stacked into one
    :math:`O(D+1)\times(D+1)` matrix).  No sampling: a violation found with these moments is
    a violation, not noise.  Written for any finite-outcome affine recursion (L-SVRP and SGD on
    quadratics here, spec ``lsvrp.md`` section 5; RCD/RPT sketches fit the same form).

    Parameters
    ----------
    probs : array (O,)
        Outcome probabilities (nonnegative, summing to one).
    G : array (O, D, D)
    h : array (O, D) or None
        Offsets (None: linear maps).
    z0 : array (D,)
        Deterministic initial state.
    """

    def __init__(self, probs, G, h, z0):
        probs = np.asarray(probs, dtype=float)
        G = np.asarray(G, dtype=float)
        if G.ndim != 3 or G.shape[1] != G.shape[2]:
            raise ValueError(f"G must have shape (O, D, D), got {G.shape}")
        O, D, _ = G.shape
        if probs.shape != (O,) or np.any(probs < 0) or abs(probs.sum() - 1) > 1e-12 * max(O, 1):
            raise ValueError(f"probs must be {O} nonnegative numbers summing to 1")
        h = np.zeros((O, D)) if h is None else np.asarray(h, dtype=float)
        if h.shape != (O, D):
            raise ValueError(f"h must have shape {(O, D)}, got {h.shape}")
        z0 = np.asarray(z0, dtype=float)
        if z0.shape != (D,):
            raise ValueError(f"z0 must have shape ({D},), got {z0.shape}")
        Ga = np.zeros((O, D + 1, D + 1))
        Ga[:, :D, :D] = G
        Ga[:, :D, D] = h
        Ga[:, D, D] = 1.0
        H = np.sqrt(probs)[:, None, None] * Ga  # S+ = sum_o H_o S H_o^T
        self._Hs = H.reshape(O * (D + 1), D + 1)
        self._HsT = np.ascontiguousarray(H.transpose(0, 2, 1).reshape(O * (D + 1), D + 1))
        self.O, self.D = O, D
        z = np.r_[z0, 1.0]
        self.S = np.outer(z, z)
        self.k = 0

    def step(self, steps: int = 1) -> None:
        """Advance the second moment by ``steps`` iterations."""
        with np.errstate(over="ignore", invalid="ignore"):
            for _ in range(steps):
                self._advance()

    def _advance(self) -> None:
        """One iteration (the caller silences overflow: a diverging moment becomes inf)."""
        O, D1 = self.O, self.D + 1
        Y = (self._Hs @ self.S).reshape(O, D1, D1).transpose(1, 0, 2).reshape(D1, O * D1)
        self.S = Y @ self._HsT
        self.k += 1

    def block_sq(self, start: int, stop: int) -> float:
        r""":math:`\mathbb E\Vert z^k_{[start:stop]}\Vert^2` at the current step (inf if overflowed)."""
        v = float(self.S.diagonal()[start:stop].sum())  # the trace of the block (np.trace sums the same way)
        return v if math.isfinite(v) else np.inf

    def mean(self) -> np.ndarray:
        r""":math:`\mathbb E z^k`."""
        return self.S[:-1, -1].copy()


def exact_lsvrp_moments(probs, G, h, z0, T: int, blocks) -> np.ndarray:
    r"""Exact :math:`\mathbb E\Vert z^k_{[a:b]}\Vert^2`, k = 0..T, for every block ``(a, b)``.

    See :class:`LsvrpExactMoments`.  Returns an array of shape ``(len(blocks), T+1)``; entries
    from the first overflow on are ``inf``.
    """
    eng = LsvrpExactMoments(probs, G, h, z0)
    out = np.full((len(blocks), T + 1), np.inf)
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(T + 1):
            if k:
                eng._advance()
            vals = [eng.block_sq(a, b) for a, b in blocks]
            if np.inf in vals:  # overflowed (block_sq maps every non-finite value to inf)
                break
            out[:, k] = vals
    return out


def exact_lsvrp_hitting_time(probs, G, h, z0, block, eps: float, T_max: int) -> int | None:
    r"""First k <= ``T_max`` with :math:`\mathbb E\Vert z^k_{[block]}\Vert^2\le\varepsilon\,
    \Vert z^0_{[block]}\Vert^2` under the exact recursion (``None`` if never, or on overflow)."""
    eng = LsvrpExactMoments(probs, G, h, z0)
    a, b = block
    target = eps * eng.block_sq(a, b)
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(1, T_max + 1):
            eng._advance()
            v = eng.block_sq(a, b)
            if v <= target:
                return k
            if v == np.inf:  # overflowed (block_sq maps every non-finite value to inf)
                return None
    return None


__all__ += ["LsvrpExactMoments", "exact_lsvrp_moments", "exact_lsvrp_hitting_time"]


# --------------------------------------------------------------------------- exact second moments
def _outcome_probabilities(probs, K: int) -> np.ndarray:
    p = np.asarray(probs, dtype=float)
    if p.shape != (K,) or np.any(~np.isfinite(p)) or np.any(p < 0) or abs(p.sum() - 1) > 1e-10:
        raise ValueError(
            f"probs must be {K} nonnegative numbers summing to 1 (one per outcome), got shape {p.shape}, sum {p.sum():.12g}"
        )
    return p


def exact_linear_second_moments(maps, probs, z0, T: int, forms: dict, offsets=None, noise_covs=None) -> dict:
    r"""Exact :math:`\mathbb E[z_k^\top W z_k]`, k = 0..T, for a random linear (affine) recursion.

    The recursion is :math:`z_{k+1}=M_\omega z_k+b_\omega` where the outcome :math:`\omega` is drawn
    i.i.d. with probability :math:`\pi_\omega` from a finite list.  With the mean :math:`m_k` and
    second moment :math:`S_k=\mathbb E[z_kz_k^\top]`,

    .. math::
        m_{k+1}=\sum_\omega\pi_\omega(M_\omega m_k+b_\omega),\qquad
        S_{k+1}=\sum_\omega\pi_\omega\big(M_\omega S_kM_\omega^\top+M_\omega m_kb_\omega^\top
        +b_\omega m_k^\top M_\omega^\top+b_\omega b_\omega^\top\big),

    and :math:`\mathbb E[z_k^\top Wz_k]=\mathrm{tr}(WS_k)`.  An additive zero-mean noise
    :math:`z_{k+1}=M_\omega z_k+b_\omega+\xi_k`, independent of the past given :math:`\omega`, with covariance
    :math:`C_\omega` (``noise_covs``) adds :math:`\sum_\omega\pi_\omega C_\omega` to :math:`S_{k+1}` and nothing to
    :math:`m_{k+1}`: the moments stay exact (e.g. stochastic gradients with Gaussian noise on quadratics).
    This is the general engine (any
    state: an RCD error, or a joint L-SVRP state :math:`(x-x^\star, w-x^\star)`): it costs
    :math:`O(Kn^3)` per step, done as two matrix products over all K outcomes at once.  For
    diagonal sketches on quadratics use :func:`exact_sketched_quadratic`, which needs only the
    sketch's first two moments.

    When the maps are structured (block-diagonal, a Kronecker average, ...), pass each as a function that
    applies it: ``maps[w](X)`` returns :math:`M_\omega X` for ``X`` of shape (n, m); the engine then forms
    :math:`M_\omega S M_\omega^\top` as two applications (``M (M S)^T``, S being symmetric), at the cost
    of the maps' own structure instead of :math:`O(n^3)`.

    Parameters
    ----------
    maps : array (K, n, n), or a sequence of K functions ``X -> M_w X``
        The linear maps :math:`M_\omega`.
    probs : array (K,)
        Their probabilities.
    z0 : array (n,)
        Deterministic initial state.
    T : int
        Number of steps.
    forms : dict name -> (n, n) array
        Quadratic forms W to report.
    offsets : array (K, n), optional
        Affine terms :math:`b_\omega` (zero when omitted).
    noise_covs : array (K, n, n), optional
        Covariances :math:`C_\omega` of an additive zero-mean noise (none when omitted).

    Returns
    -------
    dict name -> array (T+1,), plus ``"mean"``: the array (T+1, n) of :math:`m_k`.
    """
    if len(maps) and all(callable(f) for f in maps):
        if noise_covs is not None:
            raise ValueError("noise_covs needs the maps as arrays (K, n, n), not as functions")
        return _exact_second_moments_of_operators(list(maps), probs, z0, T, forms, offsets)
    M = np.asarray(maps, dtype=float)
    if M.ndim != 3 or M.shape[1] != M.shape[2]:
        raise ValueError(f"maps must have shape (K, n, n), got {M.shape}")
    K, n, _ = M.shape
    p = _outcome_probabilities(probs, K)
    z = np.asarray(z0, dtype=float)
    if z.shape != (n,):
        raise ValueError(f"z0 must have {n} entries, got shape {z.shape}")
    b = None if offsets is None else np.asarray(offsets, dtype=float)
    if b is not None and b.shape != (K, n):
        raise ValueError(f"offsets must have shape ({K}, {n}), got {b.shape}")
    C = None
    if noise_covs is not None:
        C = np.asarray(noise_covs, dtype=float)
        if C.shape != (K, n, n):
            raise ValueError(f"noise_covs must have shape ({K}, {n}, {n}), got {C.shape}")
        C = np.tensordot(p, C, axes=1)  # the mean noise covariance, added every step
    W = {k: np.asarray(v, dtype=float) for k, v in forms.items()}
    for k, v in W.items():
        if v.shape != (n, n):
            raise ValueError(f"form {k!r} must be {n} x {n}, got {v.shape}")
    right = M.transpose(0, 2, 1).reshape(K * n, n)  # stacked M_w^T
    Mbar = np.tensordot(p, M, axes=1)
    out = {k: np.empty(T + 1) for k in W}
    means = np.empty((T + 1, n))
    S, m = np.outer(z, z), z.copy()
    for k in range(T + 1):
        for nm, w in W.items():
            out[nm][k] = float(np.sum(w * S))
        means[k] = m
        if k == T:
            break
        X = (M @ S) * p[:, None, None]
        S_new = X.transpose(1, 0, 2).reshape(n, K * n) @ right
        m_new = Mbar @ m
        if b is not None:
            Mm = M @ m  # (K, n)
            cross = (Mm * p[:, None]).T @ b
            S_new += cross + cross.T + (b * p[:, None]).T @ b
            m_new += p @ b
        if C is not None:
            S_new += C
        S, m = 0.5 * (S_new + S_new.T), m_new
    out["mean"] = means
    return out


def _exact_second_moments_of_operators(apply, probs, z0, T, forms, offsets) -> dict:
    """:func:`exact_linear_second_moments` with each map given by the function that applies it.  A ``z0`` of
    shape (B, n) runs B independent systems at once (the functions then act on (B, n, m) arrays, e.g. the
    decoupled coordinates of a shared eigenbasis) and the forms are summed over them."""
    K = len(apply)
    p = _outcome_probabilities(probs, K)
    z = np.asarray(z0, dtype=float)
    if z.ndim not in (1, 2):
        raise ValueError(f"z0 must be a vector (n,) or a batch (B, n), got shape {z.shape}")
    batched = z.ndim == 2
    zb = z if batched else z[None]
    B, n = zb.shape
    b = None if offsets is None else np.asarray(offsets, dtype=float)
    if b is not None and (batched or b.shape != (K, n)):
        raise ValueError(f"offsets must have shape ({K}, {n}) (and no batch), got {b.shape}")
    W = {k: np.asarray(v, dtype=float) for k, v in forms.items()}
    for k, v in W.items():
        if v.shape != (n, n):
            raise ValueError(f"form {k!r} must be {n} x {n}, got {v.shape}")

    def op(f, X):  # X (B, n, m)
        return f(X) if batched else f(X[0])[None]

    out = {k: np.empty(T + 1) for k in W}
    means = np.empty((T + 1, *z.shape))
    S, m = zb[:, :, None] * zb[:, None, :], zb.copy()
    for k in range(T + 1):
        for nm, w in W.items():
            out[nm][k] = float(np.einsum("ij,bij->", w, S))
        means[k] = m if batched else m[0]
        if k == T:
            break
        S_new, m_new = np.zeros_like(S), np.zeros_like(m)
        Sm = np.concatenate([S, m[:, :, None]], axis=2)
        for w, f in enumerate(apply):
            MSm = op(f, Sm)  # [M S, M m] in one application
            MS, Mm = MSm[:, :, :n], MSm[:, :, n]
            S_new += p[w] * op(f, np.ascontiguousarray(MS.transpose(0, 2, 1)))  # M (M S)^T = M S M^T
            m_new += p[w] * Mm
            if b is not None:
                cross = p[w] * Mm[:, :, None] * b[w][None, None, :]
                S_new += cross + cross.transpose(0, 2, 1) + p[w] * np.outer(b[w], b[w])[None]
                m_new += p[w] * b[w]
        S, m = 0.5 * (S_new + S_new.transpose(0, 2, 1)), m_new
    out["mean"] = means
    return out


def diagonal_sketch_moments(diags, probs) -> tuple[np.ndarray, np.ndarray]:
    r""":math:`(\mathbb E[c],\mathbb E[cc^\top])` of a diagonal sketch :math:`C=\mathrm{Diag}(c)`
    from its outcome list ``diags`` (K, d) with probabilities ``probs`` (K,)."""
    c = np.asarray(diags, dtype=float)
    if c.ndim != 2:
        raise ValueError(f"diags must have shape (K, d), got {c.shape}")
    p = _outcome_probabilities(probs, c.shape[0])
    return p @ c, c.T @ (p[:, None] * c)


def exact_sketched_quadratic(A, e0, gamma: float, c_mean, c_second, T: int) -> dict:
    r"""Exact expectations of sketched RCD with a diagonal sketch on a quadratic.

    For :math:`f(x)=\frac12x^\top Ax-b^\top x` the error :math:`e_k=x^k-x^\star` follows
    :math:`e_{k+1}=(I-\gamma C_kA)e_k` with :math:`C_k=\mathrm{Diag}(c_k)` i.i.d.  Its second moment
    :math:`S_k=\mathbb E[e_ke_k^\top]` obeys, for *any* outcome list, the closed recursion

    .. math::
        S_{k+1}=S_k-\gamma\big(D_{\bar c}AS_k+S_kAD_{\bar c}\big)
        +\gamma^2\,\mathbb E[cc^\top]\circ(AS_kA),\qquad \bar c=\mathbb E[c],

    because :math:`\mathrm{Diag}(c)X\mathrm{Diag}(c)=(cc^\top)\circ X`.  So only the first two
    moments of the sketch enter (masked and Hadamard products), and one step costs two
    :math:`d\times d` matrix products whatever the number of outcomes.  Returned series
    (k = 0..T):

    * ``gap``: :math:`\mathbb E[f(x^k)]-f^\star=\frac12\mathrm{tr}(AS_k)`;
    * ``dist_sq``: :math:`\mathbb E\Vert x^k-x^\star\Vert^2=\mathrm{tr}(S_k)`;
    * ``grad_norm_sq``: :math:`\mathbb E\Vert\nabla f(x^k)\Vert^2=\mathrm{tr}(AS_kA)`.

    A run whose second moment overflows reports ``inf`` from there on; the state is kept as a
    scalar times a renormalised matrix, so fast-decaying moments never hit subnormal floats.  Spec ``rcd_rpt.md``;
    the outcome-by-outcome reference is :func:`exact_linear_second_moments`.
    """
    A = np.asarray(A, dtype=float)
    d = A.shape[0]
    if A.ndim != 2 or A.shape != (d, d) or np.max(np.abs(A - A.T)) > 1e-10 * max(np.max(np.abs(A)), 1e-300):
        raise ValueError(f"A must be a symmetric square matrix, got shape {A.shape}")
    e0 = np.asarray(e0, dtype=float)
    cm = np.asarray(c_mean, dtype=float)
    P = np.asarray(c_second, dtype=float)
    if e0.shape != (d,) or cm.shape != (d,) or P.shape != (d, d):
        raise ValueError(
            f"e0, c_mean and c_second must have shapes ({d},), ({d},), ({d}, {d}); "
            f"got {e0.shape}, {cm.shape}, {P.shape}"
        )
    if not (np.isfinite(gamma) and gamma > 0):
        raise ValueError(f"gamma must be a finite number > 0, got {gamma!r}")
    gap, dist, grad = (np.full(T + 1, np.inf) for _ in range(3))
    S = np.outer(e0, e0)
    P = 0.5 * (P + P.T)
    half_g2P = 0.5 * gamma * gamma * P
    gm = gamma * cm[:, None]
    B, G, H = np.empty((d, d)), np.empty((d, d)), np.empty((d, d))
    scale = 1.0  # S_k = scale * S: renormalised so that decaying moments never reach subnormal floats
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        for k in range(T + 1):
            np.matmul(A, S, out=B)
            np.matmul(B, A, out=G)
            tr = np.trace(S)
            gap[k] = scale * 0.5 * np.trace(B)
            dist[k] = scale * tr
            grad[k] = scale * np.trace(G)
            if not (np.isfinite(gap[k]) and np.isfinite(grad[k]) and abs(dist[k]) < 1e300):
                gap[k:] = dist[k:] = grad[k:] = np.inf
                break
            if k == T:
                break
            np.multiply(gm, B, out=H)
            H += H.T  # exactly symmetric (x + y == y + x in floating point), as is G + G^T below:
            G += G.T  # S must stay exactly symmetric, because this form of the recursion does not damp an
            G *= half_g2P  # antisymmetric part (it feeds back into the symmetric part)
            S -= H
            S += G
            if tr > 0 and not 1e-50 < tr < 1e50:
                scale *= tr
                S /= tr
    return {"gap": gap, "dist_sq": dist, "grad_norm_sq": grad}


def exact_scaffnew_coordinates(
    lam,
    gamma: float,
    p: float,
    e0,
    g0,
    T: int,
    renormalise_every: int = 32,
    chunk: int = 1024,
    noise_var=None,
) -> np.ndarray:
    r"""Exact :math:`\mathbb E\Psi_t`, t = 0..T, of Scaffnew (ProxSkip on the consensus form) on quadratic
    clients whose Hessians share an eigenbasis, :math:`A_i=U\mathrm{Diag}(\lambda_i)U^\top`.

    In that eigenbasis the coordinates decouple: coordinate j carries the errors :math:`e\in\mathbb R^n`
    (one per client) and the control-variate errors :math:`g=h-h^\star`; with :math:`a=1-\gamma\lambda_{\cdot j}`,
    each step is, with probability 1 - p (skip), :math:`e^+=a\circ e+\gamma g`, :math:`g^+=g`, and with
    probability p (communicate), with :math:`v=a\circ e+\beta g`, :math:`\beta=\gamma(1-\frac1p)`:
    :math:`e^+=\bar v\mathbf 1`, :math:`g^+=-\frac p\gamma(v-\bar v\mathbf1)` (Mishchenko et al., ICML 2022,
    Alg. 2 on quadratics; spec ``local_methods.md`` §2.4).  The second-moment recursion
    :math:`S^+=(1-p)M_0SM_0^\top+pM_1SM_1^\top` then needs only Hadamard products and averages, O(n²) per
    coordinate and step instead of the O(n³) of products with the 2n × 2n maps.  In the scaled moments
    :math:`E=\mathbb E[ee^\top]`, :math:`Y=\gamma\,\mathbb E[eg^\top]`, :math:`G=\gamma^2\mathbb E[gg^\top]`,
    with :math:`q=1-p`, :math:`Z=(a\mathbf1^\top)\circ Y`, :math:`S=Z+Z^\top`, :math:`P=(aa^\top)\circ E`,
    :math:`E'=P+S+G` (the skip outcome's E) and :math:`D=P-qE'`:

    * the communication outcome's :math:`V=\mathbb E[vv^\top]` is :math:`\frac1p\big(D+\frac qpG\big)`
      (substituting :math:`S=E'-P-G` in :math:`V=P+bS+b^2G`, :math:`b=\beta/\gamma=-q/p`), with row means
      r, :math:`m=\bar r`, :math:`c=r-m`;
    * :math:`E^+=qE'+pm\mathbf1\mathbf1^\top`, :math:`Y^+=q(Z+G)-p^2\mathbf1c^\top`,
      :math:`G^+=qG+p^3\hat V=p^2D+q(1+p)G-(u\mathbf1^\top+\mathbf1u^\top)`, :math:`u=p^3(r-\frac m2)`
      (:math:`\hat V` the doubly centred V);

    and :math:`\mathbb E\Psi=\sum_j\sum_i(E_{ii}+G_{ii}/p^2)`
    (:math:`\Psi=\Vert x-x^\star\Vert^2+\frac{\gamma^2}{p^2}\Vert h-h^\star\Vert^2`, summed over clients).
    Stochastic gradients :math:`\nabla f_i+\xi_i` with additive zero-mean noise, independent over clients,
    coordinates and steps, of variance :math:`\sigma_{ij}^2` (``noise_var``), add :math:`-\gamma\xi` to
    :math:`a\circ e+\gamma g` before either outcome, hence :math:`\gamma^2\mathrm{Diag}(\sigma_{\cdot j}^2)` to
    P in both E' and V: the moments stay exact (SProxSkip on quadratics).

    One step is 16 elementwise passes (the centring included) and two row sums over arrays
    (n, n, coordinates) whose last axis is the coordinate (every pass contiguous, the averaging corrections
    broadcasts), processed ``chunk`` coordinates at a time for the whole horizon (coordinates are
    independent; the chunk bounds the memory, seven arrays of n² × chunk numbers).  The recursion is exact
    (no truncation) and in the natural variables (no cancellation:
    1e-14 relative to the dense engine up to κ = 10⁶).  E and G are kept exactly symmetric (S as
    :math:`Z+Z^\top`, the centring as the symmetric :math:`u\mathbf1^\top+\mathbf1u^\top`), since an
    antisymmetric rounding error would feed back through the row means.  Every ``renormalise_every``
    steps each coordinate's moments are divided by its current :math:`\mathbb E\Psi` share (kept as a log
    scale), so decaying moments never reach subnormal floats.  The reference is
    :func:`exact_linear_second_moments` on the full state (2nd) with the dense maps.

    Parameters
    ----------
    lam : array (d, n)
        Client eigenvalues per coordinate (finite; the maps need no sign, the claims' instances have > 0).
    gamma, p : float
        Stepsize > 0 and communication probability in (0, 1].
    e0, g0 : array (d, n)
        Initial :math:`x_{i,0}-x^\star` and :math:`h_{i,0}-h_i^\star` in the eigenbasis (coordinate j, client i).
    T : int
        Number of steps.
    renormalise_every : int
        Steps between renormalisations of the moments.
    noise_var : float or array (d, n), optional
        Variances :math:`\sigma_{ij}^2\ge0` of the additive gradient noise (client i, coordinate j; none when
        omitted).
    chunk : int
        Coordinates processed together (a cache-size choice; the result does not depend on it beyond
        rounding of the final sum over chunks).

    Returns
    -------
    array (T+1,) of :math:`\mathbb E\Psi_t` (``inf`` from the first step whose moments overflow).
    """
    lam = np.asarray(lam, dtype=float)
    if lam.ndim != 2 or not np.all(np.isfinite(lam)):
        raise ValueError(f"lam must be a (d, n) array of finite numbers, got shape {lam.shape}")
    d, n = lam.shape
    e0, g0 = np.asarray(e0, dtype=float), np.asarray(g0, dtype=float)
    if e0.shape != (d, n) or g0.shape != (d, n):
        raise ValueError(f"e0 and g0 must have shape (d, n) = ({d}, {n}), got {e0.shape} and {g0.shape}")
    if not (np.isfinite(gamma) and gamma > 0):
        raise ValueError(f"gamma must be a finite number > 0, got {gamma!r}")
    if not (np.isfinite(p) and 0 < p <= 1):
        raise ValueError(f"p must be in (0, 1], got {p!r}")
    if not (isinstance(chunk, (int, np.integer)) and chunk >= 1):
        raise ValueError(f"chunk must be an integer >= 1, got {chunk!r}")
    nv = None
    if noise_var is not None:
        nv = np.broadcast_to(np.asarray(noise_var, dtype=float), (d, n)) if np.ndim(noise_var) < 2 else noise_var
        nv = np.asarray(nv, dtype=float)
        if nv.shape != (d, n) or not np.all(np.isfinite(nv) & (nv >= 0)):
            raise ValueError(f"noise_var must be a finite number >= 0 or a (d, n) = ({d}, {n}) array of them")
    out = np.zeros(T + 1)
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        for j0 in range(0, d, chunk):
            sl = slice(j0, min(d, j0 + chunk))
            lam_c, e_c, g_c = (np.ascontiguousarray(x[sl].T) for x in (lam, e0, g0))  # coordinate last
            nv_c = None if nv is None else gamma**2 * np.ascontiguousarray(nv[sl].T)
            out += _scaffnew_chunk(lam_c, gamma, p, e_c, g_c, T, renormalise_every, nv_c)
    bad = np.flatnonzero(~np.isfinite(out))
    if bad.size:
        out[bad[0] :] = np.inf
    return out


def _scaffnew_chunk(lam, gamma, p, e0, g0, T, renormalise_every, noise=None):
    """:func:`exact_scaffnew_coordinates` on one chunk of coordinates, arrays (n, ...) with the coordinate
    last: the (T+1,) series of this chunk's share of E Psi, ``inf`` from its first overflow.  ``noise``
    (n, chunk): the variances of gamma * xi, added to the diagonal of P (scaled like the moments)."""
    n, dc = lam.shape
    q = 1.0 - p
    a = 1.0 - gamma * lam
    A = a[:, None, :] * a[None, :, :]  # A[i, k] = a_i a_k: exactly symmetric
    a_rows = np.ascontiguousarray(np.broadcast_to(a[:, None, :], (n, n, dc)))
    e, g = e0, gamma * g0
    E, Y, G = e[:, None] * e[None, :], e[:, None] * g[None, :], g[:, None] * g[None, :]
    S, D = np.empty((n, n, dc)), np.empty((n, n, dc))
    diag = slice(None, None, n + 1)  # the diagonal of a (n * n, dc) view
    k_r, w_g, k_g, p2, p3 = q / p, 1.0 / p**2, q * (1.0 + p), p * p, p**3
    log_scale, weight = np.zeros(dc), np.ones(dc)
    noise_scaled = noise  # the noise in the units of the renormalised moments
    part = np.full(T + 1, np.inf)
    for t in range(T + 1):
        psi_j = E.reshape(n * n, dc)[diag].sum(axis=0)
        psi_j += w_g * G.reshape(n * n, dc)[diag].sum(axis=0)
        total = float(weight @ psi_j)
        if not np.isfinite(total) or np.abs(psi_j).max() >= 1e300:
            break
        part[t] = total
        if t == T:
            break
        if t % renormalise_every == renormalise_every - 1:
            s = np.where((psi_j > 0) & np.isfinite(psi_j), psi_j, 1.0)
            log_scale += np.log(s)
            weight = np.exp(log_scale)
            if noise is not None:
                noise_scaled = noise / weight
            s = 1.0 / s
            E *= s
            Y *= s
            G *= s
        Y *= a_rows  # Z
        np.add(Y, Y.transpose(1, 0, 2), out=S)  # S = Z + Z^T, exactly symmetric
        Y += G  # Z + G
        E *= A  # P
        if noise is not None:
            E.reshape(n * n, dc)[diag] += noise_scaled
        S += E
        S += G  # E' = P + S + G
        S *= q  # q E'
        E -= S  # D = P - q E'
        r = E.sum(axis=1)
        r += k_r * G.sum(axis=1)
        r *= 1.0 / (n * p)  # row means of V = (D + (q/p) G) / p
        m = np.add.reduce(r, axis=0)
        m *= 1.0 / n
        c = r - m
        S += p * m  # E+
        G *= k_g
        E *= p2
        G += E  # p^2 D + q (1 + p) G
        u = p3 * (c + 0.5 * m)  # p^3 (r - m / 2)
        np.add(u[:, None, :], u[None, :, :], out=D)
        G -= D  # G+
        Y *= q
        c *= p2
        Y -= c[None, :, :]  # Y+
        E, S = S, E
    return part


__all__ += [
    "exact_linear_second_moments",
    "diagonal_sketch_moments",
    "exact_sketched_quadratic",
    "exact_scaffnew_coordinates",
    "exact_scaffnew_lyapunov",
    "DENSE_STATE",
]


#: state dimension 2nd up to which :func:`exact_scaffnew_lyapunov` uses the dense maps (the structured ones pay
#: Python calls per step, which dominate on small states: dense is faster up to 2nd = 96 at least, 3.5x slower at 200)
DENSE_STATE = 128


def exact_scaffnew_lyapunov(problem, gamma: float, p: float, x0, T: int, h0=None, noise: float = 0.0) -> np.ndarray:
    r"""Exact :math:`\mathbb E\Psi_t`, t = 0..T, of Scaffnew (:func:`ratecheck.solvers.local_methods.proxskip`) on
    quadratic clients ``problem`` (``A``, ``b``, ``x_star``), from ``x0`` (common to the clients) and control
    variates ``h0`` (default 0), over the two coin outcomes per step, with
    :math:`\Psi=\sum_i\Vert x_i-x^\star\Vert^2+\frac{\gamma^2}{p^2}\sum_i\Vert h_i-h_i^\star\Vert^2`.

    Three engines give the same numbers: the dense maps (:func:`ratecheck.solvers.local_methods.proxskip_maps`)
    up to a state of ``DENSE_STATE`` entries; above it :func:`exact_scaffnew_coordinates` (d decoupled systems,
    :math:`O(n^2)` each per step) for a shared eigenbasis, else the structured maps
    (:func:`ratecheck.solvers.local_methods.proxskip_operators`, :math:`O(nd^2)` per column).  With ``noise`` =
    σ > 0 the gradients carry additive :math:`\mathcal N(0,\sigma^2I)` noise per client, whose covariance enters the
    recursion (:func:`ratecheck.solvers.local_methods.proxskip_noise_covs`; the structured engine carries none: a
    one-line :class:`UsageError`).  A non-finite value (overflow) and everything after it is inf."""
    P = problem
    n, d = P.n, P.d
    hs = np.einsum("nij,j->ni", P.A, P.x_star) - P.b
    h0 = np.zeros((n, d)) if h0 is None else h0
    lam = shared_eigenbasis(P.A) if 2 * n * d > DENSE_STATE else None
    if lam is not None:  # a shared eigenbasis: d decoupled systems, O(n^2) each per step
        e0 = np.broadcast_to((x0 - P.x_star)[:, None], (d, n))
        psi = exact_scaffnew_coordinates(lam, gamma, p, e0, (h0 - hs).T, T, noise_var=noise**2 if noise else None)
    elif noise and 2 * n * d > DENSE_STATE:
        raise UsageError(
            f"noise > 0 needs the dense engine (2 n d <= {DENSE_STATE}, here {2 * n * d}) or a shared eigenbasis "
            "(instance 'diagonal' or 'isotropic'); choose a smaller n or d or one of those instances"
        )
    else:
        if 2 * n * d <= DENSE_STATE:  # small states: the dense maps cost less than calling the structured ones
            maps = np.stack(proxskip_maps(P.A, gamma, p))
        else:  # the two maps applied with their structure: O(n d^2) per column
            maps = list(proxskip_operators(P.A, gamma, p))
        z0 = np.r_[np.tile(x0 - P.x_star, n), (h0 - hs).ravel()]
        W = np.r_[np.ones(n * d), np.full(n * d, gamma**2 / p**2)]
        covs = proxskip_noise_covs(n, d, gamma, p, noise) if noise else None
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            psi = exact_linear_second_moments(maps, [1 - p, p], z0, T, {"psi": np.diag(W)}, noise_covs=covs)["psi"]
    bad = ~np.isfinite(psi)
    if bad.any():
        psi[np.argmax(bad) :] = np.inf
    return psi
