r"""Superquantile (CVaR) numerics: exact values, optimal weights, smoothings, subgradients, the
exact law of the empirical superquantile, and the Simplicial-FL minibatch subgradient method.

Conventions (spec ``superquantile.md`` section 1): :math:`\theta\in(0,1]` is the *tail
fraction*; base weights :math:`\omega\in\Delta_n`; the capped simplex is
:math:`P_\theta(\omega)=\{\pi\ge0,\ \sum_i\pi_i=1,\ \pi_i\le\omega_i/\theta\}` and

.. math::
    S_\theta(x;\omega)=\max_{\pi\in P_\theta(\omega)}\langle\pi,x\rangle
    =\min_\eta\Big\{\eta+\frac1\theta\sum_i\omega_i(x_i-\eta)_+\Big\}.

With uniform weights and :math:`k=\lfloor\theta n\rfloor` (Levy, Carmon, Duchi, Sidford,
NeurIPS 2020, arXiv:2010.05893, App. B.1.1, Eq. (28)):

.. math::
    S_\theta(x)=\frac1{\theta n}\sum_{i\le k}x_{(i)}+\Big(1-\frac k{\theta n}\Big)x_{(k+1)},

with :math:`x_{(1)}\ge\dots\ge x_{(n)}`.  Everything is batched over leading axes (rows).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import scipy.special
import scipy.stats

from ._trajectory import Trajectory
from ._validate import InvalidInput, finite_array, generator, in_unit_interval, positive, positive_int

__all__ = [
    "superquantile",
    "optimal_weights",
    "tie_structure",
    "reference_code_weights",
    "ru_objective",
    "l2_smoothed",
    "entropic_smoothed",
    "l2_smoothing_gap",
    "entropic_smoothing_gap",
    "superquantile_subgradient",
    "sample_size_grid",
    "horizon_grid",
    "two_point_law",
    "uniform_law",
    "beta_superquantile",
    "beta_law",
    "sample_superquantiles",
    "QuadraticClients",
    "subsets",
    "surrogate_value",
    "SurrogateKink",
    "surrogate_kinks",
    "kink_onset",
    "sfl_subgradient",
    "SFLTrajectory",
    "ciss_alternating",
    "CISSTrajectory",
    "ciss_eta",
    "ciss_value",
    "ciss_objective",
    "fedavg",
    "project_capped_simplex",
    "moreau_prox_1d",
    "moreau_grad_sq_runs",
]

_TIE_EPS = 1e-12  #: relative tolerance deciding that theta*n is an integer
SOLVE_TOL = 1e-9  #: smoothing gaps: a weight vector whose sum is off by more than this is a failed solve


# --------------------------------------------------------------------------- validation
def _losses(x) -> np.ndarray:
    a = finite_array("x", x)
    if a.ndim == 0 or a.shape[-1] == 0:
        raise InvalidInput(f"x must be a non-empty array of losses (last axis), got shape {a.shape}")
    return a


def _weights(weights, n: int) -> np.ndarray | None:
    if weights is None:
        return None
    w = finite_array("weights", weights)
    if w.shape[-1] != n:
        raise InvalidInput(f"weights must have {n} entries on the last axis to match x, got shape {w.shape}")
    if np.any(w <= 0):
        raise InvalidInput(f"weights must be > 0 entrywise, found min {float(w.min()):.6g}")
    s = w.sum(axis=-1)
    if np.any(np.abs(s - 1.0) > 1e-9):
        raise InvalidInput(
            f"weights must sum to 1 (normalise sample counts first), got sum {float(np.ravel(s)[0]):.12g}"
        )
    return w


def _tail_count(theta: float, n: int) -> tuple[int, float]:
    """``k = floor(theta*n)`` (robust to rounding) and the boundary weight ``1 - k/(theta*n)``."""
    tn = theta * n
    k = int(math.floor(tn * (1 + _TIE_EPS)))
    k = min(k, n)
    rem = max(0.0, 1.0 - k / tn) if k < n else 0.0
    return k, rem


# --------------------------------------------------------------------------- exact value
def superquantile(x, theta: float, weights=None) -> np.ndarray:
    r"""Exact superquantile :math:`S_\theta` of each row of ``x`` (last axis).

    Uniform weights: :math:`O(n)` per row with one ``np.partition`` (no full sort), by the closed
    form above.  Weighted: the greedy fill of :func:`optimal_weights` (a sort, :math:`O(n\log n)`).

    Parameters
    ----------
    x : array, shape (..., n)
        Losses; finite, non-empty.
    theta : float in (0, 1]
        Tail fraction (1 gives the weighted mean, small values the maximum).
    weights : array, shape (n,) or (..., n), optional
        Base weights :math:`\omega`, positive and summing to one.

    Returns
    -------
    ndarray, shape (...)
    """
    x = _losses(x)
    theta = in_unit_interval("theta", theta)
    n = x.shape[-1]
    w = _weights(weights, n)
    if w is not None:
        pi = optimal_weights(x, theta, w, ties="greedy")
        return np.einsum("...i,...i->...", pi, x)
    k, rem = _tail_count(theta, n)
    if k >= n:
        return x.mean(axis=-1)
    part = np.partition(x, n - k - 1, axis=-1)
    top = part[..., n - k :].sum(axis=-1) if k else 0.0
    return top / (theta * n) + rem * part[..., n - k - 1]


def ru_objective(x, theta: float, eta, weights=None) -> np.ndarray:
    r"""Rockafellar–Uryasev objective :math:`\eta+\frac1\theta\sum_i\omega_i(x_i-\eta)_+` at ``eta``.

    ``eta`` broadcasts against the leading axes of ``x``; its minimum over :math:`\eta` is
    :math:`S_\theta(x;\omega)`, attained on the (1-θ)-quantile interval.
    """
    x = _losses(x)
    theta = in_unit_interval("theta", theta)
    n = x.shape[-1]
    w = _weights(weights, n)
    w = np.full(n, 1.0 / n) if w is None else w
    eta = np.asarray(eta, dtype=float)
    return eta + (w * np.maximum(x - eta[..., None], 0.0)).sum(axis=-1) / theta


def optimal_weights(x, theta: float, weights=None, ties: str = "split") -> np.ndarray:
    r"""An optimal :math:`\pi^\star\in\arg\max_{\pi\in P_\theta(\omega)}\langle\pi,x\rangle`, per row.

    Greedy fill (spec section 2.2): indices by decreasing :math:`x_i` receive their caps
    :math:`c_i=\omega_i/\theta` while the mass stays :math:`\le 1`; the first index that does not
    fit gets the rest :math:`\varrho`.  With ties at the cutoff value :math:`v` the maximiser is a
    face; ``ties`` selects the point returned:

    * ``"greedy"`` — the vertex of the stable sort order (lowest index first among equals);
    * ``"split"`` — :math:`\varrho` split over the tie set :math:`\mathcal E=\{i:x_i=v\}`
      in proportion to the caps (symmetric: equal losses get equal weights).

    Both are optimal; see :func:`tie_structure` for uniqueness.
    """
    x = _losses(x)
    theta = in_unit_interval("theta", theta)
    n = x.shape[-1]
    w = _weights(weights, n)
    w = np.broadcast_to(np.full(n, 1.0 / n) if w is None else w, x.shape)
    if ties not in ("greedy", "split"):
        raise InvalidInput(f"ties must be 'greedy' or 'split', got {ties!r}")
    order = np.argsort(-x, axis=-1, kind="stable")
    caps = np.take_along_axis(w, order, axis=-1) / theta
    before = np.cumsum(caps, axis=-1) - caps
    pis = np.clip(1.0 - before, 0.0, caps)
    pi = np.empty_like(x)
    np.put_along_axis(pi, order, pis, axis=-1)
    if ties == "greedy":
        return pi
    v, A, E, rho, _ = _ties(x, pi, w, theta)
    capsum_E = np.where(E, w / theta, 0.0).sum(axis=-1)
    split = np.where(E, (w / theta) * np.asarray(rho / capsum_E)[..., None], 0.0)
    return np.where(A, w / theta, 0.0) + split


def _ties(x, pi, w, theta):
    # cutoff value v: the smallest loss carrying positive weight
    v = np.where(pi > 0, x, np.inf).min(axis=-1)
    A = x > v[..., None]
    E = x == v[..., None]
    rho = 1.0 - np.where(A, w / theta, 0.0).sum(axis=-1)
    capsum_E = np.where(E, w / theta, 0.0).sum(axis=-1)
    unique = (E.sum(axis=-1) == 1) | np.isclose(rho, capsum_E, rtol=1e-12, atol=1e-15)
    return v, A, E, rho, unique


@dataclass(frozen=True)
class TieStructure:
    """Cutoff value ``v``, masks ``above`` (:math:`\\mathcal A`) and ``at`` (:math:`\\mathcal E`),
    the remaining mass ``rho`` and whether :math:`\\pi^\\star` is ``unique`` (per row)."""

    v: np.ndarray
    above: np.ndarray
    at: np.ndarray
    rho: np.ndarray
    unique: np.ndarray


def tie_structure(x, theta: float, weights=None) -> TieStructure:
    r"""Uniqueness of :math:`\pi^\star` (spec section 2.2): unique iff :math:`|\mathcal E|=1` or
    :math:`\varrho=\sum_{\mathcal E}c_i`; otherwise every cap-respecting split of :math:`\varrho`
    over :math:`\mathcal E` is optimal."""
    x = _losses(x)
    theta = in_unit_interval("theta", theta)
    n = x.shape[-1]
    w = _weights(weights, n)
    w = np.broadcast_to(np.full(n, 1.0 / n) if w is None else w, x.shape)
    pi = optimal_weights(x, theta, w, ties="greedy")
    return TieStructure(*_ties(x, pi, w, theta))


def reference_code_weights(x, theta: float, counts) -> np.ndarray:
    r"""Tail weights of the Simplicial-FL reference code (``simplicial-fl@a58dc32``, ``models/server.py``).

    The quantile is ``v[ceil(N (1-θ)) - 1]`` of the ascending losses replicated ``counts[i]``
    times (the lower (1-θ)-quantile); the tail is :math:`\{i: x_i\ge q\}` with weights proportional
    to the counts.  This is *not* :math:`\pi^\star`: the boundary client gets full weight (spec
    section 4.3 and pitfall 5).
    """
    x = _losses(x)
    theta = in_unit_interval("theta", theta)
    c = np.asarray(counts)
    if c.shape != x.shape[-1:] or np.any(c < 1) or not np.issubdtype(c.dtype, np.integer):
        raise InvalidInput(f"counts must be {x.shape[-1]} integers >= 1, got {counts!r}")
    order = np.argsort(x, axis=-1, kind="stable")
    cum = np.cumsum(c[order], axis=-1)
    N = int(c.sum())
    pos = math.ceil(N * (1 - theta)) - 1
    idx = np.argmax(cum > max(pos, 0), axis=-1)
    q = np.take_along_axis(np.take_along_axis(x, order, -1), idx[..., None], -1)
    tail = x >= q
    wts = np.where(tail, c, 0).astype(float)
    return wts / wts.sum(axis=-1, keepdims=True)


# --------------------------------------------------------------------------- smoothings
def _solve_eta(pi_of_eta, lo, hi, iters: int = 100):
    """Bisection (batched) for the scalar eta with sum_i pi_i(eta) = 1 (pi decreasing in eta)."""
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        s = pi_of_eta(mid).sum(axis=-1)
        big = s > 1.0
        lo = np.where(big, mid, lo)
        hi = np.where(big, hi, mid)
    return 0.5 * (lo + hi)


def _keep_if_normalised(pi_of, eta_exact, eta_bisect, ok):
    """The exact free-set solve where it normalises pi at least as well as the bisection root
    (it fails when the active set changes), else the bisection root."""
    with np.errstate(invalid="ignore"):
        dev_exact = np.abs(pi_of(np.where(ok, eta_exact, eta_bisect)).sum(axis=-1) - 1.0)
        dev_bisect = np.abs(pi_of(eta_bisect).sum(axis=-1) - 1.0)
    return np.where(ok & (dev_exact <= np.maximum(dev_bisect, 1e-12)), eta_exact, eta_bisect)


def l2_smoothed(x, theta: float, nu: float) -> tuple[np.ndarray, np.ndarray]:
    r"""ℓ2-smoothed superquantile of sqwash (uniform weights), value and weights, per row.

    .. math::
        SQ^\nu_\theta(x)=\max_{\pi\in P_\theta}\langle\pi,x\rangle-\frac\nu{2n}\Vert\pi-\mathbf 1/n\Vert^2,
        \qquad \pi_i=\mathrm{clip}\Big(\frac1n+\frac{n(x_i-\eta)}\nu,0,\frac1{n\theta}\Big),

    with :math:`\eta` solving :math:`\sum_i\pi_i=1` (bisection, then an exact solve on the final
    free set).  Spec section 2.5.1; derived gap :math:`0\le S_\theta-SQ^\nu_\theta\le
    \nu(1-\theta)/(2\theta n^2)`.
    """
    x = _losses(x)
    theta = in_unit_interval("theta", theta)
    nu = positive("nu", nu)
    n = x.shape[-1]
    cap = 1.0 / (n * theta)

    def pi_of(eta):
        return np.clip(1.0 / n + n * (x - eta[..., None]) / nu, 0.0, cap)

    lo = x.min(axis=-1) - nu / (theta * n**2) - 1.0  # every pi_i at its cap: sum >= 1
    hi = x.max(axis=-1) + nu / n**2 + 1.0  # every pi_i at 0
    eta = _solve_eta(pi_of, lo, hi)
    pi = pi_of(eta)
    free = (pi > 0) & (pi < cap)
    nf = free.sum(axis=-1)
    ncap = (pi >= cap).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        eta2 = (nf / n + n * np.where(free, x, 0).sum(axis=-1) / nu + ncap * cap - 1.0) * nu / (n * nf)
    eta = _keep_if_normalised(pi_of, eta2, eta, nf > 0)
    pi = pi_of(eta)
    val = (pi * x).sum(axis=-1) - nu / (2 * n) * ((pi - 1.0 / n) ** 2).sum(axis=-1)
    return val, pi


def entropic_smoothed(x, theta: float, nu: float) -> tuple[np.ndarray, np.ndarray]:
    r"""Entropic smoothing (uniform weights), value and weights, per row.

    .. math::
        F^\nu_\theta=\max_{\pi\in P_\theta}\Big\{\langle\pi,x\rangle-\nu\sum_i\pi_i\log\pi_i\Big\},
        \qquad \pi_i=\min\Big(\frac1{\theta n},\,e^{(x_i-\eta)/\nu-1}\Big),

    :math:`\eta` normalising the sum (bisection in :math:`\eta`, then the exact log-sum-exp solve on
    the final uncapped set).  Spec section 2.5.2; derived bounds
    :math:`F_\theta+\nu\log(\theta n)\le F^\nu_\theta\le F_\theta+\nu\log n`.
    """
    x = _losses(x)
    theta = in_unit_interval("theta", theta)
    nu = positive("nu", nu)
    n = x.shape[-1]
    logcap = -math.log(n * theta)

    def logpi_of(eta):
        return np.minimum(logcap, (x - eta[..., None]) / nu - 1.0)

    lo = x.min(axis=-1) - nu * (1.0 + math.log(n) + abs(logcap)) - 1.0  # sum of pi >= 1
    hi = x.max(axis=-1) + nu * max(math.log(n) - 1.0, 0.0) + 1.0  # sum of pi <= 1
    eta = _solve_eta(lambda e: np.exp(logpi_of(e)), lo, hi)
    lp = logpi_of(eta)
    capped = (x - eta[..., None]) / nu - 1.0 >= logcap
    ncap = capped.sum(axis=-1)
    free_mass = 1.0 - ncap * math.exp(logcap)
    z = np.where(capped, -np.inf, x / nu - 1.0)
    zmax = z.max(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        lse = np.log(np.exp(z - zmax).sum(axis=-1)) + zmax[..., 0]
        eta2 = nu * (lse - np.log(free_mass))
    ok = (ncap < n) & (free_mass > 0) & np.isfinite(eta2)
    eta = _keep_if_normalised(lambda e: np.exp(logpi_of(e)), eta2, eta, ok)
    lp = logpi_of(eta)
    pi = np.where(lp >= logcap, 1.0 / (n * theta), np.exp(lp))  # capped weights exactly at the cap
    val = (pi * x).sum(axis=-1) - nu * (pi * lp).sum(axis=-1)
    return val, pi


def _smoothing_gap(x, theta: float, nu: float, kind: str) -> tuple[np.ndarray, np.ndarray]:
    r"""Gap between a smoothing and :math:`S_\theta`, per row, without cancellation; see
    :func:`l2_smoothing_gap` and :func:`entropic_smoothing_gap`."""
    x = _losses(x)
    theta = in_unit_interval("theta", theta)
    nu = positive("nu", nu)
    n = x.shape[-1]
    eps = np.finfo(float).eps
    k, rem = _tail_count(theta, n)
    cap = 1.0 / (n * theta)
    lead = x.shape[:-1]
    if k >= n:  # P_theta = {uniform}: no freedom, the gaps are 0 and nu log n
        gap = np.zeros(lead) if kind == "l2" else np.full(lead, nu * math.log(n))
        return gap, 4 * eps * gap
    order = np.argsort(-x, axis=-1, kind="stable")
    q = np.take_along_axis(x, order[..., k : k + 1], axis=-1)  # x_(k+1), the (1 - theta)-quantile
    y = x - q  # accurate relative to itself
    pistar = np.zeros_like(x)  # a maximiser of <pi, x> over P_theta
    np.put_along_axis(pistar, order[..., :k], cap, axis=-1)
    np.put_along_axis(pistar, order[..., k : k + 1], rem, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "l2":
            pi = l2_smoothed(y, theta, nu)[1]
            reg = nu / (2 * n) * (pi - 1.0 / n) ** 2
            grad = y - nu / n * (pi - 1.0 / n)
        else:
            pi = entropic_smoothed(y, theta, nu)[1]  # capped weights exactly 1/(n theta), as in pistar
            logpi = np.log(np.where(pi > 0, pi, 1.0))
            reg = -nu * pi * logpi
            grad = y - nu * (logpi + 1.0)
    lin = (pi - pistar) * y  # every term <= 0: pi <= cap above the quantile, pi >= 0 below it
    D, Rg = lin.sum(axis=-1), reg.sum(axis=-1)
    gap = Rg - D if kind == "l2" else Rg + D
    free = (pi > 0) & (pi < cap)
    resid = np.abs(pi.sum(axis=-1) - 1.0) + (n + 2) * eps  # the normalisation, and the rounding of its sum
    slope = np.max(np.where(free, np.abs(grad), 0.0), axis=-1)  # the multiplier eta of the free weights
    err = 4 * ((n + 4) * eps * (np.abs(D) + np.abs(Rg)) + resid * slope)
    # a weight solve that did not normalise (nu far below the resolution of the losses) bounds nothing
    err = np.where(resid <= SOLVE_TOL, err, np.inf)
    return gap, err


def l2_smoothing_gap(x, theta: float, nu: float) -> tuple[np.ndarray, np.ndarray]:
    r""":math:`S_\theta(x)-SQ^\nu_\theta(x)` per row, and a bound on its floating-point error.

    The difference of the two values (each of the size of :math:`\max|x|`) loses everything when the
    gap, at most :math:`\nu(1-\theta)/(2\theta n^2)`, is below :math:`\varepsilon_{mach}\max|x|`.
    Both are shift-equivariant, so with :math:`q=x_{(k+1)}`, :math:`y=x-q` (exact relative to
    itself), the smoothed maximiser :math:`\pi^\nu` (solved on :math:`y`) and a maximiser
    :math:`\pi^\star` of :math:`\langle\pi,y\rangle` on :math:`P_\theta`,

    .. math:: S_\theta-SQ^\nu_\theta=\langle\pi^\star-\pi^\nu,y\rangle+\frac\nu{2n}\Vert\pi^\nu-\mathbf 1/n\Vert^2,

    a sum of nonnegative terms, each nonzero only near the quantile.  The error bound covers the
    summation (:math:`4(n+4)\varepsilon_{mach}` times the sum of magnitudes) and the normalisation
    residual :math:`|\sum_i\pi^\nu_i-1|` (plus the rounding of that sum) times the multiplier of the
    free weights (the gap is stationary in :math:`\pi` on :math:`P_\theta`, so only the normalisation
    error counts to first order); it is ``inf`` where the weights do not sum to 1 within
    :data:`SOLVE_TOL` (a failed solve: no evidence).
    """
    return _smoothing_gap(x, theta, nu, "l2")


def entropic_smoothing_gap(x, theta: float, nu: float) -> tuple[np.ndarray, np.ndarray]:
    r""":math:`F^\nu_\theta(x)-S_\theta(x)` per row, and a bound on its floating-point error.

    As :func:`l2_smoothing_gap`:
    :math:`F^\nu_\theta-S_\theta=\nu H(\pi^\nu)+\langle\pi^\nu-\pi^\star,y\rangle` with
    :math:`H(\pi)=-\sum_i\pi_i\log\pi_i\le\log n` and a nonpositive second term of size at most
    :math:`\nu\log(1/\theta)`: both relative to :math:`\nu`, not to :math:`\max|x|`.
    """
    return _smoothing_gap(x, theta, nu, "entropic")


def superquantile_subgradient(losses, grads, theta: float, weights=None, ties: str = "split") -> np.ndarray:
    r"""A subgradient of :math:`F_\theta(w)=S_\theta(F_1(w),\dots,F_n(w);\omega)` (Danskin):
    :math:`\sum_i\pi^\star_i\nabla F_i(w)` with :math:`\pi^\star` from :func:`optimal_weights`.

    ``losses`` has shape ``(..., n)`` and ``grads`` shape ``(..., n, d)``; returns ``(..., d)``.
    Spec section 2.3; Levy et al. App. A.1.5.
    """
    g = finite_array("grads", grads)
    pi = optimal_weights(losses, theta, weights, ties=ties)
    if g.shape[:-1] != pi.shape:
        raise InvalidInput(f"grads must have shape {pi.shape + ('d',)}, got {g.shape}")
    return np.einsum("...i,...id->...d", pi, g)


# --------------------------------------------------------------------------- exact laws of S_hat_m
def _m_grid(m) -> np.ndarray:
    m = np.atleast_1d(np.asarray(m))
    if m.ndim != 1 or not np.issubdtype(m.dtype, np.integer) or np.any(m < 1):
        raise InvalidInput(f"m must be integers >= 1, got {m!r}")
    return m.astype(int)


def sample_size_grid(theta: float, m_min: int, m_max: int, points: int, integer_tm: bool = False) -> np.ndarray:
    r"""Sample sizes of the estimator's laws: ``points`` geometrically spaced on [m_min, m_max], rounded and
    deduplicated; with ``integer_tm`` only the m with :math:`\theta m` an integer (spaced geometrically in
    :math:`\theta m`), where :math:`\hat S_m` has no fractional tail weight."""
    if integer_tm:
        k = np.unique(np.round(np.geomspace(max(1.0, theta * m_min), theta * m_max, points)))
        m = np.unique(np.round(k / theta)).astype(int)
        m = m[np.abs(theta * m - np.round(theta * m)) < 1e-9]
    else:
        m = np.unique(np.round(np.geomspace(m_min, m_max, points))).astype(int)
    if m.size == 0:
        raise InvalidInput(f"no sample size m in [{m_min}, {m_max}] has theta*m integer; set integer_tm=False")
    return m


def horizon_grid(T_min: int, T_max: int, points: int) -> np.ndarray:
    """Horizons of a rate: ``points`` geometrically spaced on [T_min, T_max], rounded and deduplicated."""
    return np.unique(np.round(np.geomspace(T_min, T_max, points))).astype(int)


def _estimator_coeffs(theta: float, m: int) -> np.ndarray:
    """Coefficients c_i of S_hat_m = sum_i c_i X_(i) (descending order statistics), length m."""
    k, rem = _tail_count(theta, m)
    c = np.zeros(m)
    c[:k] = 1.0 / (theta * m)
    if k < m:
        c[k] = rem
    return c


def two_point_law(theta: float, m, p: float, low: float = 0.0, high: float = 1.0) -> dict:
    r"""Exact mean and variance of :math:`\hat S_m=S_\theta(Z_1,\dots,Z_m)` for
    :math:`Z\in\{\mathrm{low},\mathrm{high}\}` with :math:`P(Z=\mathrm{high})=p`, and :math:`S_\theta(Z)`.

    With :math:`K\sim\mathrm{Bin}(m,p)` high values, :math:`\hat S_m=\mathrm{low}+(\mathrm{high}-
    \mathrm{low})\min\{1,K/(\theta m)\}` and :math:`S_\theta(Z)=\mathrm{low}+(\mathrm{high}-
    \mathrm{low})\min\{1,p/\theta\}`; the moments are binomial sums (``scipy.stats.binom``),
    vectorized over the grid of ``m`` (Levy et al. Prop. 5 for :math:`p=\theta`).
    """
    theta = in_unit_interval("theta", theta)
    p = float(finite_array("p", p, ndim=0))
    if not 0.0 <= p <= 1.0:
        raise InvalidInput(f"p must lie in [0, 1], got {p:.6g}")
    ms = _m_grid(m)
    if not high > low:
        raise InvalidInput(f"high must exceed low, got low={low}, high={high}")
    K = np.arange(ms.max() + 1)
    pmf = scipy.stats.binom.pmf(K[None, :], ms[:, None], p)  # zero beyond m
    frac = np.minimum(1.0, K[None, :] / (theta * ms[:, None]))
    mean01 = (pmf * frac).sum(axis=1)
    var01 = np.maximum((pmf * (frac - mean01[:, None]) ** 2).sum(axis=1), 0.0)
    span = high - low
    return {
        "m": ms,
        "mean": low + span * mean01,
        "var": span**2 * var01,
        "population": low + span * min(1.0, p / theta),
    }


def uniform_law(theta: float, m, low: float = 0.0, high: float = 1.0) -> dict:
    r"""Exact mean and variance of :math:`\hat S_m` for :math:`Z\sim\mathrm{Unif}[\mathrm{low},\mathrm{high}]`.

    Order statistics of uniforms: the :math:`j`-th smallest of :math:`m` has mean
    :math:`j/(m+1)` and :math:`\mathrm{Cov}(U_{(i)},U_{(j)})=i(m+1-j)/((m+1)^2(m+2))` for
    :math:`i\le j`; the quadratic form :math:`c^\top\mathrm{Cov}\,c` of the estimator coefficients is
    summed in :math:`O(m)` with cumulative sums.  :math:`S_\theta(Z)=\mathrm{low}+(\mathrm{high}-
    \mathrm{low})(1-\theta/2)`.
    """
    theta = in_unit_interval("theta", theta)
    ms = _m_grid(m)
    if not high > low:
        raise InvalidInput(f"high must exceed low, got low={low}, high={high}")
    mean, var = np.empty(ms.size), np.empty(ms.size)
    for t, mm in enumerate(ms):  # loop over grid points (not samples); each is O(m)
        c = _estimator_coeffs(theta, int(mm))[::-1]  # ascending order: c_j for the j-th smallest
        j = np.arange(1, mm + 1)
        mean[t] = (c * j).sum() / (mm + 1)
        S = np.cumsum(c * j) - c * j  # sum_{i<j} c_i i
        var[t] = (c * (mm + 1 - j) * (2 * S + c * j)).sum() / ((mm + 1) ** 2 * (mm + 2))
    span = high - low
    return {
        "m": ms,
        "mean": low + span * mean,
        "var": span**2 * np.maximum(var, 0.0),
        "population": low + span * (1 - theta / 2),
    }


def sample_superquantiles(sampler, theta: float, m: int, replications: int, rng: np.random.Generator) -> np.ndarray:
    r"""Monte Carlo draws of :math:`\hat S_m`: ``replications`` i.i.d. samples of size ``m`` drawn
    as one ``(replications, m)`` array by ``sampler(rng, shape)`` and reduced row-wise."""
    m = positive_int("m", m)
    R = positive_int("replications", replications)
    Z = sampler(rng, (R, m))
    return superquantile(Z, theta)


def beta_superquantile(theta: float, a: float, b: float, low: float = 0.0, high: float = 1.0) -> float:
    r"""Exact :math:`S_\theta(Z)` of :math:`Z=\mathrm{low}+(\mathrm{high}-\mathrm{low})\,\mathrm{Beta}(a,b)`.

    :math:`S_\theta(Z)=\frac1\theta\mathbb E[Z\,1\{Z>q\}]` with :math:`q` the :math:`(1-\theta)`-quantile, and
    :math:`\int_q^1zf(z)\,dz=\frac a{a+b}(1-I_q(a+1,b))` for the Beta density :math:`f` (:math:`I` the
    regularized incomplete beta function).
    """
    q = scipy.stats.beta.ppf(1 - theta, a, b)
    tail = a / (a + b) * (1 - scipy.special.betainc(a + 1, b, q))
    return low + (high - low) * tail / theta


def beta_law(
    theta: float,
    m,
    a: float,
    b: float,
    low: float = 0.0,
    high: float = 1.0,
    *,
    replications: int,
    rng: np.random.Generator,
    chunk: int = 4_000_000,
) -> dict:
    r"""Monte Carlo draws of :math:`\hat S_m` for :math:`Z=\mathrm{low}+(\mathrm{high}-\mathrm{low})\,
    \mathrm{Beta}(a,b)` at every sample size of the grid ``m``, and the exact :math:`S_\theta(Z)`
    (:func:`beta_superquantile`).

    Each grid point draws its ``replications`` samples of size :math:`m` in blocks of at most ``chunk``
    numbers (an even number of rows, at least two), in order from ``rng``.  Returns ``{"m", "draws",
    "population"}`` with ``draws`` of shape ``(len(m), replications)``.
    """
    theta = in_unit_interval("theta", theta)
    ms = _m_grid(m)
    R = positive_int("replications", replications)
    rng = generator(rng, "the Monte Carlo of the Beta law")

    def sampler(g, shape):
        return low + (high - low) * g.beta(a, b, shape)

    draws = np.empty((ms.size, R))
    for j, mm in enumerate(ms):  # loop over grid points; each draws all replications as blocks
        step = max(2, (chunk // int(mm)) // 2 * 2)
        draws[j] = np.concatenate(
            [sample_superquantiles(sampler, theta, int(mm), min(step, R - s), rng) for s in range(0, R, step)]
        )
    return {"m": ms, "draws": draws, "population": beta_superquantile(theta, a, b, low, high)}


# --------------------------------------------------------------------------- Simplicial-FL
class QuadraticClients:
    r"""Clients :math:`F_i(w)=\frac1{m_i}\Vert A_iw-b_i\Vert^2` (stacked), values and gradients at
    many points at once, with their exact Hessians :math:`H_i=\frac2{m_i}A_i^\top A_i`.

    Built on :class:`solvers.problems.LeastSquares` (same scaling); ``L_i`` are the exact per-client
    smoothness constants and ``L = max_i L_i`` bounds the weak convexity of :math:`F_\theta`.
    """

    def __init__(self, A, b):
        from .problems import LeastSquares

        self.ls = LeastSquares(A, b)
        self.n, self.d = self.ls.n, self.ls.d
        A = self.ls.A
        self.H = 2.0 / self.ls.m * np.einsum("nmd,nme->nde", A, A)
        self.g = 2.0 / self.ls.m * np.einsum("nmd,nm->nd", A, self.ls.b)
        self.c = (self.ls.b**2).sum(axis=1) / self.ls.m
        self.L_i = self.ls.L_i
        self.L = float(self.L_i.max())

    def values(self, W) -> np.ndarray:
        """Losses, shape ``(..., n)`` for points ``W`` of shape ``(..., d)``."""
        W = np.asarray(W, dtype=float)
        return 0.5 * np.einsum("...d,nde,...e->...n", W, self.H, W) - W @ self.g.T + self.c

    def grads(self, W) -> np.ndarray:
        """Gradients, shape ``(..., n, d)``."""
        W = np.asarray(W, dtype=float)
        return np.einsum("nde,...e->...nd", self.H, W) - self.g

    def minimize_weighted(self, r, lam: float, W0=None, rho: float = 0.0) -> np.ndarray:
        r""":math:`\arg\min_w\sum_ir_iF_i(w)+\frac\lambda2\Vert w\Vert^2+\frac\rho2\Vert w-W_0\Vert^2` (batched over rows of ``r``)."""
        r = np.asarray(r, dtype=float)
        M = np.einsum("...n,nde->...de", r, self.H) + (lam + rho) * np.eye(self.d)
        rhs = r @ self.g
        if rho:
            rhs = rhs + rho * np.asarray(W0, dtype=float)
        return np.linalg.solve(M, rhs[..., None])[..., 0]


def subsets(n: int, m: int) -> np.ndarray:
    """All ``C(n, m)`` subsets of ``range(n)`` of size ``m`` as an integer array ``(C, m)``."""
    n, m = positive_int("n", n), positive_int("m", m)
    if m > n:
        raise InvalidInput(f"m must be <= n = {n}, got {m}")
    if math.comb(n, m) > 200_000:
        raise InvalidInput(f"C(n, m) = {math.comb(n, m)} subsets is too many for an exact surrogate (max 200000)")
    return np.array(list(itertools.combinations(range(n), m)), dtype=int).reshape(-1, m)


def surrogate_value(clients: QuadraticClients, W, theta: float, m: int, lam: float = 0.0) -> np.ndarray:
    r"""Exact surrogate :math:`\bar F_\theta(w)=\mathbb E_{|S|=m}S_\theta((F_i(w))_{i\in S})+\frac\lambda2\Vert w\Vert^2`
    with :math:`S` uniform over all size-``m`` subsets (sampling without replacement), at points ``W``
    of shape ``(..., d)``.  ``m = n`` gives :math:`F_\theta` itself."""
    F = clients.values(W)
    S = subsets(clients.n, m)
    vals = superquantile(F[..., S], theta).mean(axis=-1)
    W = np.asarray(W, dtype=float)
    return vals + 0.5 * lam * (W**2).sum(axis=-1)


@dataclass(frozen=True)
class SurrogateKink:
    r"""A kink of the exact surrogate :math:`\bar F_\theta+\frac\lambda2\Vert w\Vert^2` through a point: the
    tie :math:`F_i=F_j` of two clients that changes the tail selection of some subsets.

    Across the kink (unit normal ``normal`` :math:`n\propto\nabla F_i-\nabla F_j`) the surrogate has two
    one-sided slopes, :math:`f'(x;n)` and :math:`f'(x;-n)`: ``flat_slope`` is the smaller, ``steep_slope``
    the larger, ``flat_side`` (+1 or -1) the sign of the direction :math:`\pm n` with the smaller one.
    ``curvature`` is :math:`n^\top Hn` of the quadratic piece on the flat side (λ included) and ``noise``
    the standard deviation of :math:`\langle g,n\rangle` for the minibatch subgradient :math:`g` on the
    flat side, over the uniformly drawn subsets.  ``distance`` is the first-order distance
    :math:`|F_i-F_j|/\Vert\nabla F_i-\nabla F_j\Vert` from the point to the tie.
    """

    clients: tuple
    distance: float
    normal: np.ndarray
    flat_slope: float
    steep_slope: float
    flat_side: int
    curvature: float
    noise: float


def surrogate_kinks(clients: QuadraticClients, x, theta: float, m: int, lam: float = 0.0, radius: float = 0.0) -> list:
    r"""The kinks of the exact surrogate (subsets of size ``m``, uniform) that pass within ``radius`` of ``x``.

    Every pair of clients whose tie :math:`F_i=F_j` lies within ``radius`` of ``x`` (to first order) is
    tested: the pieces of the surrogate on both sides are read off the optimal tail weights at
    :math:`x\pm hn` with :math:`h=2\,\mathtt{radius}` (past the tie), and the pair is a kink when the
    one-sided slopes :math:`f'(x;n)+f'(x;-n)` add up to more than floating-point noise (a tie that
    changes no subset's selection is no kink).  The slopes use the gradients at ``x`` itself, so they
    are the exact one-sided derivatives of the piecewise-quadratic surrogate.  Returns a list of
    :class:`SurrogateKink` (empty: the surrogate is differentiable on that ball, to first order).
    """
    x = finite_array("x", x, ndim=1)
    theta = in_unit_interval("theta", theta)
    m = positive_int("m", m)
    lam = positive("lam", lam, strict=False)
    radius = positive("radius", radius, strict=False)
    S = subsets(clients.n, m)
    F, G = clients.values(x), clients.grads(x)
    scale = 1.0 + float(np.abs(G).max()) + lam * float(np.linalg.norm(x))
    h = 2.0 * radius if radius > 0 else 1e-9 * (1.0 + float(np.linalg.norm(x)))
    out = []
    for i, j in itertools.combinations(range(clients.n), 2):
        dg = G[i] - G[j]
        nd = float(np.linalg.norm(dg))
        if nd == 0.0 or abs(F[i] - F[j]) / nd > radius:
            continue
        nrm = dg / nd
        side = {}
        for s in (1, -1):
            pi = optimal_weights(clients.values(x + s * h * nrm)[S], theta)  # (C, m): the piece on side s
            g_sub = np.einsum("cm,cmd->cd", pi, G[S]) + lam * x  # per-subset subgradient at x
            r = np.zeros(clients.n)
            np.add.at(r, S.ravel(), pi.ravel() / S.shape[0])
            side[s] = (s * float(g_sub.mean(axis=0) @ nrm), g_sub, r)  # one-sided slope f'(x; s n)
        if side[1][0] + side[-1][0] <= 1e-9 * scale:
            continue
        fs = 1 if side[1][0] <= side[-1][0] else -1
        _, g_sub, r = side[fs]
        H = np.einsum("n,nde->de", r, clients.H) + lam * np.eye(clients.d)
        out.append(
            SurrogateKink(
                clients=(i, j),
                distance=abs(float(F[i] - F[j])) / nd,
                normal=nrm,
                flat_slope=side[fs][0],
                steep_slope=side[-fs][0],
                flat_side=fs,
                curvature=float(nrm @ H @ nrm),
                noise=float((g_sub @ nrm).std()),
            )
        )
    return out


def kink_onset(
    kinks, lam: float, *, factor: float, asymmetry_range: tuple, step_ratio_range: tuple
) -> tuple[float, dict]:
    r"""Horizon from which the strongly convex exponent -1 describes the averaged iterate, at a kinked optimum.

    Reduced model (Pillutla et al., arXiv:2112.09429, strongly convex Simplicial-FL with
    :math:`\gamma_t=2/(\lambda(t+2))` and linear averaging): across a kink through the optimum, with
    coordinate :math:`u` along the flat side, the surrogate is :math:`c_gu_++c_su_-+\frac\mu2u^2` (``flat_slope``
    :math:`c_g\le` ``steep_slope`` :math:`c_s`, ``curvature`` :math:`\mu`) and the subgradient noise has
    standard deviation :math:`\sigma` (``noise``).  With :math:`\gamma_t=a/(t+2)`, :math:`a=2/\lambda`, the
    iterates spread like :math:`s_1/\sqrt t`, :math:`s_1^2=a\sigma^2/(2a\mu-1)`, while that spread exceeds the
    flat side's scale :math:`\ell=c_g/\mu`; only past :math:`T_\times=s_1^2/\ell^2` does the flat side act as a
    sharp wall, whose bias :math:`\approx a\sigma^2/(2c_g t)` the average keeps, and :math:`T\,\mathrm{gap}`
    moves from the smooth-regime constant to about :math:`a\sigma^2` in between (Simplicial-FL seed 6: it
    climbs from 0.87 to 3.54, local slopes above -1).
    The model's time and space scale out (:math:`\tau=T/T_\times`); its onset depends on the asymmetry
    :math:`c_s/c_g` and on :math:`a\mu` only, and was mapped by simulation over ``asymmetry_range`` x
    ``step_ratio_range``: the caller's ``factor`` is the :math:`\tau` from which the local slope stays within
    its tolerance of -1 everywhere there.

    Parameters
    ----------
    kinks : list of SurrogateKink
        The kinks through the optimum (:func:`surrogate_kinks`).
    lam : float
        The regularisation :math:`\lambda` (:math:`a=2/\lambda`).
    factor, asymmetry_range, step_ratio_range
        The onset :math:`\tau` and the mapped ranges of :math:`c_s/c_g` and :math:`a\mu`.

    Returns
    -------
    (onset, constants)
        ``onset`` is 0 without kinks, ``factor`` :math:`\max T_\times` when every kink lies inside the mapped
        range, ``inf`` otherwise (no onset known); ``constants`` describe the kink with the largest
        :math:`T_\times`.
    """
    if not kinks:
        return 0.0, {"kinks": 0, "T_cross": 0.0, "T_onset": 0.0}
    a = 2.0 / lam
    rows = []
    for k in kinks:  # a loop over the few kinks (pairs of clients), not over samples
        b = a * k.curvature
        s1sq = a * k.noise**2 / (2 * b - 1)
        ell = k.flat_slope / k.curvature
        t_x = s1sq / ell**2 if ell > 0 else math.inf
        rho = k.steep_slope / k.flat_slope if k.flat_slope > 0 else math.inf
        mapped = asymmetry_range[0] <= rho <= asymmetry_range[1] and step_ratio_range[0] <= b <= step_ratio_range[1]
        rows.append((t_x, rho, b, mapped, k))
    t_x, rho, b, _, k = max(rows, key=lambda r: r[0])
    onset = factor * t_x if all(r[3] for r in rows) else math.inf
    return onset, {
        "kinks": len(kinks),
        "kink_clients": f"{k.clients[0]},{k.clients[1]}",
        "kink_flat_slope": k.flat_slope,
        "kink_steep_slope": k.steep_slope,
        "kink_asymmetry": rho,
        "kink_curvature": k.curvature,
        "kink_noise": k.noise,
        "kink_step_ratio": b,
        "T_cross": t_x,
        "T_onset": onset,
    }


@dataclass(kw_only=True)
class SFLTrajectory(Trajectory):
    r"""What a Simplicial-FL subgradient run (:func:`sfl_subgradient`) records.

    ``T`` is the number of rounds, ``x_final`` the last iterates (R, d), ``diverged_at`` the first round t whose
    iterate :math:`w_t` is not finite in some replication (None when all are), ``meta`` the algorithm and its
    discrete options.  The run tracks no scalar series (``SERIES`` is empty): what it stores are iterates.

    Attributes
    ----------
    checkpoints : ndarray of int
        The rounds t at which the iterate was stored.
    x_checkpoints : ndarray (len(checkpoints), R, d)
        :math:`w_t` at the checkpoints: per-step rows (checkpoint, then replication, then coordinate), not a
        series, as the iterates of every solver.
    avg_checkpoints : ndarray (len(checkpoints), R, d) or None
        :math:`\bar w_t=\sum_{s<t}(s+1)w_s/\sum_{s<t}(s+1)` (``average="linear"``), rows as ``x_checkpoints``.
    gamma : ndarray (T,)
        The stepsizes :math:`\gamma_t`.
    """

    SERIES = ()

    gamma: np.ndarray
    checkpoints: np.ndarray
    x_checkpoints: np.ndarray
    avg_checkpoints: np.ndarray | None = None


def sfl_subgradient(
    clients: QuadraticClients,
    x0,
    *,
    gamma,
    T: int,
    theta: float,
    m: int,
    rng: np.random.Generator | None = None,
    lam: float = 0.0,
    replications: int = 1,
    average: str = "none",
    checkpoints=None,
    tail: str = "optimal",
) -> SFLTrajectory:
    r"""Simplicial-FL with one exact local step (τ = 1): minibatch subgradient method on :math:`\bar F_\theta`.

    Each round samples :math:`m` clients uniformly without replacement (from ``rng``, required when
    :math:`m<n`), computes their
    losses, the optimal tail weights :math:`\pi_t=\pi^\star` within the sample (``tail="optimal"``)
    or the reference-code tail (``tail="code"``, :func:`reference_code_weights` with unit counts), and
    steps

    .. math:: w_{t+1}=w_t-\gamma_t\Big(\sum_{i\in S_t}\pi_{t,i}\nabla F_i(w_t)+\lambda w_t\Big).

    Spec section 4.3 (reconstructed from the authors' slides and code).  Vectorized over
    ``replications`` (independent runs, rows).  ``gamma`` is one stepsize or ``T`` of them
    (:math:`\gamma_t`).  ``average="linear"`` also tracks
    :math:`\bar w_T=\sum_{t<T}(t+1)w_t/\sum_{t<T}(t+1)`.

    Returns
    -------
    SFLTrajectory (iterates at ``checkpoints``, default every round 0..T).
    """
    theta = in_unit_interval("theta", theta)
    m = positive_int("m", m)
    R = positive_int("replications", replications)
    T = positive_int("T", T)
    if m > clients.n:
        raise InvalidInput(f"m must be <= n = {clients.n}, got {m}")
    gammas = finite_array("gamma", gamma, ndim=(0, 1))
    if gammas.ndim == 1 and gammas.size != T:
        raise InvalidInput(f"gamma must be one stepsize or T = {T} of them, got {gammas.size}")
    gammas = np.broadcast_to(gammas, (T,))
    if np.any(gammas <= 0):
        raise InvalidInput("gamma must be > 0")
    lam = positive("lam", lam, strict=False)
    if tail not in ("optimal", "code"):
        raise InvalidInput(f"tail must be 'optimal' or 'code', got {tail!r}")
    cps = np.arange(T + 1) if checkpoints is None else np.asarray(checkpoints, dtype=int)
    if cps.size and (cps.min() < 0 or cps.max() > T):
        raise InvalidInput(f"checkpoints must lie in [0, {T}]")
    rng = generator(rng, "client sampling" if m < clients.n else None)
    w = np.broadcast_to(finite_array("x0", x0), (R, clients.d)).copy()
    wsum = np.zeros_like(w)
    tot = 0.0
    xs, avgs = [], []
    diverged = None
    want = set(cps.tolist())
    rows = np.arange(R)[:, None]
    ones = np.ones(m, dtype=int)
    for t in range(T + 1):
        if t in want:
            xs.append(w.copy())
            avgs.append(wsum / tot if tot > 0 else w.copy())
        if t == T:
            break
        if average == "linear":
            wsum += (t + 1) * w
            tot += t + 1
        S = (
            np.argsort(rng.random((R, clients.n)), axis=1)[:, :m]
            if m < clients.n
            else np.broadcast_to(np.arange(m), (R, m))
        )
        F = clients.values(w)[rows, S]  # (R, m)
        G = clients.grads(w)[rows, S]  # (R, m, d)
        pi = optimal_weights(F, theta) if tail == "optimal" else reference_code_weights(F, theta, ones)
        g = np.einsum("rm,rmd->rd", pi, G) + lam * w
        w = w - gammas[t] * g
        if diverged is None and not np.isfinite(w).all():
            diverged = t + 1
    return SFLTrajectory(
        T=T,
        gamma=gammas,
        x_final=w,
        diverged_at=diverged,
        checkpoints=cps,
        x_checkpoints=np.array(xs),
        avg_checkpoints=np.array(avgs) if average == "linear" else None,
        meta={"algorithm": "sfl-subgradient", "tail": tail, "average": average, "replications": R},
    )


def _smoothed_hinge(v, nu):
    r""":math:`h_\nu(v)=\min_u\{\max(u,0)+(u-v)^2/(2\nu)\}` and its derivative (CISS 2021)."""
    val = np.where(v <= 0, 0.0, np.where(v >= nu, v - nu / 2, v**2 / (2 * nu)))
    der = np.clip(v / nu, 0.0, 1.0)
    return val, der


def ciss_objective(clients: QuadraticClients, W, eta, theta: float, nu: float, lam: float, weights=None):
    r""":math:`\mathcal G_{\theta,\nu}(w,\eta)=\eta+\frac1\theta\sum_k\omega_kh_\nu(F_k(w)-\eta)+\frac\lambda2\Vert w\Vert^2`,
    its gradient in ``w`` and its derivative in ``eta`` (batched over rows)."""
    W = np.asarray(W, dtype=float)
    eta = np.asarray(eta, dtype=float)
    om = np.full(clients.n, 1.0 / clients.n) if weights is None else np.asarray(weights, dtype=float)
    F = clients.values(W)
    h, dh = _smoothed_hinge(F - eta[..., None], nu)
    val = eta + (om * h).sum(axis=-1) / theta + 0.5 * lam * (W**2).sum(axis=-1)
    gw = np.einsum("...n,...nd->...d", om * dh / theta, clients.grads(W)) + lam * W
    geta = 1.0 - (om * dh).sum(axis=-1) / theta
    return val, gw, geta


def ciss_eta(F, theta: float, nu: float, weights=None, iters: int = 200) -> np.ndarray:
    r"""Exact :math:`\arg\min_\eta\mathcal G(w,\eta)` given losses ``F`` (..., n): the root of the
    nondecreasing :math:`\partial_\eta\mathcal G=1-\frac1\theta\sum_k\omega_k\,\mathrm{clip}((F_k-\eta)/\nu,0,1)`
    (bisection to machine precision; a smoothed (1-θ)-quantile)."""
    F = np.asarray(F, dtype=float)
    om = np.full(F.shape[-1], 1.0 / F.shape[-1]) if weights is None else np.asarray(weights, dtype=float)
    lo = F.min(axis=-1) - nu
    hi = F.max(axis=-1)
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        d = 1.0 - (om * np.clip((F - mid[..., None]) / nu, 0, 1)).sum(axis=-1) / theta
        lo = np.where(d < 0, mid, lo)
        hi = np.where(d < 0, hi, mid)
    return 0.5 * (lo + hi)


def ciss_value(clients: QuadraticClients, W, theta: float, nu: float, lam: float, weights=None) -> np.ndarray:
    r""":math:`F_{\theta,\nu}(w)=\min_\eta\mathcal G_{\theta,\nu}(w,\eta)` at points ``W``."""
    eta = ciss_eta(clients.values(W), theta, nu, weights)
    return ciss_objective(clients, W, eta, theta, nu, lam, weights)[0]


@dataclass(kw_only=True)
class CISSTrajectory(Trajectory):
    """What the CISS alternating scheme (:func:`ciss_alternating`) records.

    ``T`` is the number of rounds, ``x_final`` the last iterate :math:`w_T` (d,), ``diverged_at`` None (every
    w-step certifies its accuracy, or the run stops with an error), ``meta`` the algorithm.

    Attributes
    ----------
    eps : ndarray (T,)
        The accuracy certified by each inexact w-step; a series.
    inner : ndarray (T,)
        The gradient iterations each w-step took; a series.
    iterates : ndarray (T+1, d)
        :math:`w_0..w_T`, one row per round (per-step rows of vectors: not a series).
    """

    SERIES = ("eps", "inner")

    iterates: np.ndarray
    eps: np.ndarray
    inner: np.ndarray


def ciss_alternating(
    clients: QuadraticClients,
    x0,
    *,
    T: int,
    theta: float,
    nu: float,
    lam: float,
    eps0: float,
    kappa: float,
    rng: np.random.Generator | None = None,
    weights=None,
    max_inner: int = 100_000,
) -> CISSTrajectory:
    r"""CISS 2021 Prop. 3 scheme: exact :math:`\eta`-steps and inexact :math:`w`-steps.

    Round t: :math:`\eta_t=\arg\min_\eta\mathcal G(w_t,\eta)` (:func:`ciss_eta`), then gradient
    descent on the :math:`L_w`-smooth, :math:`\lambda`-strongly convex :math:`\mathcal G(\cdot,\eta_t)`
    (step :math:`1/L_w`, :math:`L_w=\lambda+(L+G^2/\nu)/\theta` is not needed: the step is chosen by
    backtracking on the exact objective) from :math:`w_t` until the certified gap
    :math:`\Vert\nabla_w\mathcal G\Vert^2/(2\lambda)\le\varepsilon_t=\varepsilon_0e^{-t/\kappa}`.

    No stepsize parameter (backtracking) and no randomness (``rng`` is accepted for the common
    signature).  Returns the iterates, the accuracies reached and the inner iteration counts.
    """
    lam = positive("lam", lam)
    nu = positive("nu", nu)
    T = positive_int("T", T)
    generator(rng)
    w = np.asarray(x0, dtype=float).copy()
    xs, eps_used, inner = [w.copy()], [], []
    Lw = lam + 1.0
    for t in range(T):
        eta = ciss_eta(clients.values(w), theta, nu, weights)
        target = eps0 * math.exp(-t / kappa)
        val, g, _ = ciss_objective(clients, w, eta, theta, nu, lam, weights)
        k = 0
        while g @ g / (2 * lam) > target and k < max_inner:
            while True:  # backtracking (Armijo with the descent-lemma constant)
                w_new = w - g / Lw
                v_new, g_new, _ = ciss_objective(clients, w_new, eta, theta, nu, lam, weights)
                if v_new <= val - (g @ g) / (2 * Lw) + 1e-15 * abs(val):
                    break
                Lw *= 2.0
            w, val, g = w_new, v_new, g_new
            k += 1
        if g @ g / (2 * lam) > target:
            raise InvalidInput(f"inner w-step did not reach accuracy {target:.3g} in {max_inner} iterations")
        eps_used.append(float(g @ g / (2 * lam)))
        inner.append(k)
        xs.append(w.copy())
    return CISSTrajectory(
        T=T,
        x_final=w,
        iterates=np.array(xs),
        eps=np.array(eps_used),
        inner=np.array(inner),
        meta={"algorithm": "ciss-alternating"},
    )


def fedavg(
    clients: QuadraticClients,
    x0,
    *,
    gamma: float,
    T: int,
    rng: np.random.Generator | None = None,
    local_steps: int = 1,
    lam: float = 0.0,
) -> Trajectory:
    r"""FedAvg with full participation: every client runs ``local_steps`` gradient steps from the
    server model and the server averages (uniform weights).  All clients at once: state (n, d).
    Deterministic (``rng`` accepted for the common signature); records the final model only."""
    gamma = positive("gamma", gamma)
    T, tau = positive_int("T", T), positive_int("local_steps", local_steps)
    generator(rng)
    w = np.asarray(x0, dtype=float).copy()
    for _ in range(T):
        Wl = np.broadcast_to(w, (clients.n, clients.d)).copy()
        for _ in range(tau):
            Gl = np.einsum("nde,ne->nd", clients.H, Wl) - clients.g + lam * Wl
            Wl -= gamma * Gl
        w = Wl.mean(axis=0)
    return Trajectory(T=T, x_final=w, meta={"algorithm": "fedavg", "local_steps": tau})


def project_capped_simplex(V, cap: float) -> np.ndarray:
    r"""Euclidean projection of each row of ``V`` onto :math:`\{\pi\ge0,\ \sum\pi=1,\ \pi\le\mathrm{cap}\}`:
    :math:`\pi=\mathrm{clip}(v-\tau,0,\mathrm{cap})` with the shift :math:`\tau` found by bisection
    and then solved exactly on the final free set."""
    V = np.asarray(V, dtype=float)
    n = V.shape[-1]
    if cap * n < 1 - 1e-12:
        raise InvalidInput(f"cap must be >= 1/n = {1 / n:.6g} for a non-empty capped simplex, got {cap:.6g}")

    def pi_of(tau):
        return np.clip(V - tau[..., None], 0.0, cap)

    tau = _solve_eta(pi_of, V.min(axis=-1) - cap - 1.0, V.max(axis=-1), iters=60)
    pi = pi_of(tau)
    free = (pi > 0) & (pi < cap)
    nf = free.sum(axis=-1)
    ncap = (pi >= cap).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        tau2 = (np.where(free, V, 0).sum(axis=-1) + ncap * cap - 1.0) / nf
    return pi_of(np.where(nf > 0, tau2, tau))


def moreau_prox_1d(clients: QuadraticClients, W, theta: float, m: int, rho: float, iters: int = 200) -> dict:
    r"""Proximal point of the surrogate :math:`\bar F_\theta` (size-``m`` subsets; ``m = n`` gives
    :math:`F_\theta`) at many scalar points (``d = 1``), and :math:`\nabla\Phi^\rho(w)=\rho(w-y)`.

    :math:`P(y)=\bar F_\theta(y)+\frac\rho2(y-w)^2` is :math:`\rho`-strongly convex for convex
    clients; its minimiser is found by bisection on the sign of the derivative
    :math:`\frac1{|\mathcal S|}\sum_S\sum_{i\in S}\pi^\star_{S,i}F_i'(y)+\rho(y-w)` (greedy
    :math:`\pi^\star`, exact away from the measure-zero kinks), starting from a bracket that contains
    every client minimiser and ``w``; ``iters`` halvings reach machine precision.  Spec section 4.4.
    Returns ``y``, ``grad`` and the final bracket width ``width`` (so :math:`|\text{grad error}|\le\rho\,\text{width}`).
    """
    if clients.d != 1:
        raise InvalidInput(f"moreau_prox_1d needs one-dimensional clients (d = 1), got d = {clients.d}")
    theta = in_unit_interval("theta", theta)
    rho = positive("rho", rho)
    W = finite_array("W", W)
    if W.shape[-1:] != (1,):
        raise InvalidInput(f"W must have shape (..., 1), got {W.shape}")
    w = W[..., 0]
    S = subsets(clients.n, m)
    H = clients.H[:, 0, 0]
    centers = clients.g[:, 0] / H
    lo = np.minimum(w, centers.min()) - 1.0
    hi = np.maximum(w, centers.max()) + 1.0
    for _ in range(iters):
        y = 0.5 * (lo + hi)
        F = clients.values(y[..., None])
        dF = H * y[..., None] - clients.g[:, 0]
        pi = optimal_weights(F[..., S], theta, ties="greedy")
        der = (pi * dF[..., S]).sum(axis=-1).mean(axis=-1) + rho * (y - w)
        pos = der > 0
        hi = np.where(pos, y, hi)
        lo = np.where(pos, lo, y)
    y = 0.5 * (lo + hi)
    return {"y": y[..., None], "grad": rho * (W - y[..., None]), "width": hi - lo}


def moreau_grad_sq_runs(
    clients: QuadraticClients,
    x0,
    horizons,
    *,
    gamma0: float,
    theta: float,
    m: int,
    replications: int,
    rng: np.random.Generator,
    tail: str = "optimal",
) -> np.ndarray:
    r"""The nonconvex rate of Simplicial-FL: for every horizon :math:`T`, the average over :math:`t<T` of
    :math:`\Vert\nabla\Phi^{2L}(w_t)\Vert^2` (exact, :func:`moreau_prox_1d`; one-dimensional clients) along
    :func:`sfl_subgradient` with the constant stepsize :math:`\gamma=\gamma_0/(L\sqrt T)` from ``x0``.

    Each horizon is its own run of ``replications`` rows, drawn from its own stream spawned from ``rng`` (the
    stepsize depends on T, so the runs cannot share a prefix).  Returns an array (len(horizons), replications).
    """
    horizons = np.asarray(horizons)
    out = np.empty((horizons.size, replications))
    for k, (Tk, r) in enumerate(zip(horizons, rng.spawn(horizons.size))):  # a loop over horizons only
        gamma = np.full(Tk, gamma0 / (clients.L * math.sqrt(Tk)))
        run = dict(theta=theta, m=m, replications=replications, tail=tail)
        tr = sfl_subgradient(clients, x0, gamma=gamma, T=int(Tk), rng=r, checkpoints=np.arange(Tk), **run)
        pr = moreau_prox_1d(clients, tr.x_checkpoints, theta, m, 2 * clients.L)  # (T, R, 1)
        out[k] = (pr["grad"] ** 2).sum(axis=-1).mean(axis=0)
    return out
