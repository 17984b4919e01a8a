r"""Geometric median: classic and smoothed Weiszfeld, batched, with the anchor optimality test.

Reference: Pillutla, Kakade, Harchaoui, *Robust Aggregation for Federated Learning*, IEEE TSP 70
(2022), arXiv:1912.13445 (2019 author PDF: Algorithm 3, Eq. (13)-(14), App. E); Vardi & Zhang
(2000) and Beck & Sabach, JOTA 164 (2015) for the anchor test and the safeguarded start.

For points :math:`w_1,\dots,w_m\in\mathbb R^d` and weights :math:`\omega_k>0` normalised to
:math:`\sum_k\omega_k=1` (every routine here normalises the weights it is given; the iterates do
not depend on the scale of the weights),

.. math::
    g(z)=\sum_k\omega_k\Vert z-w_k\Vert,\qquad
    g_\nu(z)=\sum_k\omega_k\Vert z-w_k\Vert_{(\nu)},\qquad
    \Vert v\Vert_{(\nu)}=\begin{cases}\frac{\Vert v\Vert^2}{2\nu}+\frac\nu2,&\Vert v\Vert\le\nu\\
    \Vert v\Vert,&\text{otherwise.}\end{cases}

The smoothed Weiszfeld step (RFA Algorithm 3) is

.. math::
    \eta_k^{(t)}=\max\{\nu,\Vert z^{(t)}-w_k\Vert\},\quad \beta_k^{(t)}=\omega_k/\eta_k^{(t)},\quad
    z^{(t+1)}=\frac{\sum_k\beta_k^{(t)}w_k}{\sum_k\beta_k^{(t)}}
    =z^{(t)}-\frac{\nabla g_\nu(z^{(t)})}{L^{(t)}},\quad L^{(t)}=\sum_k\beta_k^{(t)}.

It is the alternating minimisation of the jointly convex variational objective
:math:`\mathcal G(z,\eta)=\frac12\sum_k\omega_k(\Vert z-w_k\Vert^2/\eta_k+\eta_k)` over
:math:`\eta\ge\nu` and over :math:`z` (:func:`eta_update`, :func:`z_update`).  Every routine costs
:math:`O(md)` per iteration and is vectorised over points and over independent problems
(``points`` of shape ``(B, m, d)``).  Nothing here imports sympy or ``theorems``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import nnls

from ._trajectory import Trajectory
from ._validate import InvalidInput, finite_array, generator, positive, positive_int

__all__ = [
    "WeiszfeldResult",
    "AnchorTest",
    "smoothed_norm",
    "gm_objective",
    "smoothed_objective",
    "gm_gradient",
    "smoothed_gradient",
    "eta_update",
    "z_update",
    "variational_objective",
    "smoothed_weiszfeld",
    "weiszfeld",
    "anchor_test",
    "diameter",
    "blockwise_geometric_median",
    "rfa_least_squares",
    "RFATrajectory",
    "omniscient_corruption",
]

_TINY = 1e-300


# --------------------------------------------------------------------------- validation
def _points_weights(points, weights, batched: bool | None = None):
    """Validate ``points`` ((m, d) or (B, m, d)) and ``weights`` ((m,) or (B, m)); normalise weights.

    Returns ``(W, w, single)`` with ``W`` of shape (B, m, d), ``w`` of shape (B, m) summing to 1.
    """
    W = finite_array("points", points, ndim=(2, 3))
    single = W.ndim == 2
    if single:
        W = W[None]
    B, m, d = W.shape
    if m < 1 or d < 1:
        raise InvalidInput(f"points must contain at least one point of dimension >= 1, got shape {np.shape(points)}")
    if weights is None:
        w = np.full((B, m), 1.0 / m)
    else:
        w = finite_array("weights", weights, ndim=(1, 2))
        if w.ndim == 1:
            w = np.broadcast_to(w, (B, w.shape[0]))
        if w.shape != (B, m):
            raise InvalidInput(
                f"weights must have shape ({m},) or ({B}, {m}) to match points of shape {np.shape(points)}, "
                f"got {np.shape(weights)}"
            )
        if np.any(w < 0):
            raise InvalidInput(f"weights must be >= 0, found min {float(w.min()):.6g}")
        with np.errstate(over="ignore"):
            tot = w.sum(axis=1, keepdims=True)
        if np.any(tot <= 0):
            raise InvalidInput("weights must have a positive sum for every problem")
        if not np.all(np.isfinite(tot)):  # the sum overflows (e.g. weights of 1e308): scale by the largest first
            w = w / w.max(axis=1, keepdims=True)
            tot = w.sum(axis=1, keepdims=True)
        w = w / tot
    return W, np.ascontiguousarray(w, dtype=float), single


def _start(W, w, z0):
    B, m, d = W.shape
    if z0 is None or (isinstance(z0, str) and z0 == "mean"):
        return np.einsum("bm,bmd->bd", w, W)
    if isinstance(z0, str):
        raise InvalidInput(f"x0 must be 'mean' or an array of shape ({d},) or ({B}, {d}), got {z0!r}")
    z = finite_array("x0", z0, ndim=(1, 2))
    z = np.broadcast_to(z, (B, d)) if z.ndim == 1 and z.shape[0] == d else z
    if z.shape != (B, d):
        raise InvalidInput(f"x0 must have shape ({d},) or ({B}, {d}), got {np.shape(z0)}")
    return np.array(z, dtype=float)


# --------------------------------------------------------------------------- objectives
def smoothed_norm(v, nu: float) -> np.ndarray:
    r"""The smoothed norm :math:`\Vert v\Vert_{(\nu)}` over the last axis (RFA Eq. (11)).

    .. math:: \Vert v\Vert_{(\nu)}=\tfrac{\Vert v\Vert^2}{2\nu}+\tfrac\nu2 \text{ if } \Vert v\Vert\le\nu,
              \text{ else } \Vert v\Vert;\qquad 0\le\Vert v\Vert_{(\nu)}-\Vert v\Vert\le\nu/2.
    """
    r = np.linalg.norm(np.asarray(v, dtype=float), axis=-1)
    return _smooth_dist(r, nu)


def _smooth_dist(r, nu):
    if nu <= 0:
        return r
    return np.where(r <= nu, r * r / (2 * nu) + nu / 2, r)


def _dist(W, z):
    """Exact distances ``||z_b - w_{b,k}||`` for W (B, m, d) and z (B, d) (or z (..., B, d))."""
    diff = W - z[..., None, :]
    return np.sqrt(np.einsum("...md,...md->...m", diff, diff))


def gm_objective(z, points, weights=None) -> np.ndarray:
    r"""Normalised geometric-median objective :math:`g(z)=\sum_k\omega_k\Vert z-w_k\Vert`.

    ``z`` has shape ``(..., d)`` for points of shape ``(m, d)`` (any leading axes, e.g. a trace of
    iterates), or ``(B, d)`` / ``(T, B, d)`` for batched points ``(B, m, d)``.
    """
    W, w, single = _points_weights(points, weights)
    z = np.asarray(z, dtype=float)
    if single:
        diff = z[..., None, :] - W[0]
        return np.sqrt(np.einsum("...md,...md->...m", diff, diff)) @ w[0]
    return np.einsum("...bm,bm->...b", _dist(W, z), w)


def smoothed_objective(z, points, weights=None, nu: float = 1e-6) -> np.ndarray:
    r"""Smoothed objective :math:`g_\nu(z)=\sum_k\omega_k\Vert z-w_k\Vert_{(\nu)}` (shapes as :func:`gm_objective`)."""
    nu = positive("nu", nu)
    W, w, single = _points_weights(points, weights)
    z = np.asarray(z, dtype=float)
    if single:
        diff = z[..., None, :] - W[0]
        return _smooth_dist(np.sqrt(np.einsum("...md,...md->...m", diff, diff)), nu) @ w[0]
    return np.einsum("...bm,bm->...b", _smooth_dist(_dist(W, z), nu), w)


def gm_gradient(z, points, weights=None) -> np.ndarray:
    r"""Gradient :math:`\nabla g(z)=\sum_k\omega_k(z-w_k)/\Vert z-w_k\Vert` (terms with ``z = w_k`` dropped:
    the minimum-norm choice is then given by :func:`anchor_test`).  Single problem, ``z`` of shape (d,)."""
    W, w, _ = _points_weights(points, weights)
    W, w = W[0], w[0]
    diff = np.asarray(z, dtype=float) - W
    r = np.linalg.norm(diff, axis=1)
    coef = np.where(r > 0, w / np.maximum(r, _TINY), 0.0)
    return coef @ diff


def smoothed_gradient(z, points, weights=None, nu: float = 1e-6) -> np.ndarray:
    r""":math:`\nabla g_\nu(z)=\sum_k\omega_k(z-w_k)/\max\{\nu,\Vert z-w_k\Vert\}` (single problem)."""
    nu = positive("nu", nu)
    W, w, _ = _points_weights(points, weights)
    diff = np.asarray(z, dtype=float) - W[0]
    return (w[0] / np.maximum(nu, np.linalg.norm(diff, axis=1))) @ diff


# --------------------------------------------------------------------------- variational view
def eta_update(z, points, nu: float) -> np.ndarray:
    r"""Minimiser over :math:`\eta\ge\nu` of :math:`\mathcal G(z,\eta)`: :math:`\eta_k=\max\{\nu,\Vert z-w_k\Vert\}`
    (RFA Claim 15).  ``points`` (m, d), ``z`` (d,)."""
    nu = positive("nu", nu)
    W = finite_array("points", points, ndim=2)
    return np.maximum(nu, np.linalg.norm(np.asarray(z, dtype=float) - W, axis=1))


def z_update(eta, points, weights=None) -> np.ndarray:
    r"""Minimiser over z of :math:`\mathcal G(z,\eta)`: :math:`z=\sum_k(\omega_k/\eta_k)w_k/\sum_k(\omega_k/\eta_k)`
    (RFA Claim 16)."""
    W, w, _ = _points_weights(points, weights)
    eta = finite_array("eta", eta, ndim=1)
    if eta.shape != (W.shape[1],) or np.any(eta <= 0):
        raise InvalidInput(f"eta must be a positive array of shape ({W.shape[1]},)")
    beta = w[0] / eta
    return beta @ W[0] / beta.sum()


def variational_objective(z, eta, points, weights=None) -> float:
    r""":math:`\mathcal G(z,\eta)=\frac12\sum_k\omega_k(\Vert z-w_k\Vert^2/\eta_k+\eta_k)`; its minimum over
    :math:`\eta\ge\nu` is :math:`g_\nu(z)`."""
    W, w, _ = _points_weights(points, weights)
    eta = np.asarray(eta, dtype=float)
    r2 = np.sum((np.asarray(z, dtype=float) - W[0]) ** 2, axis=1)
    return float(0.5 * w[0] @ (r2 / eta + eta))


# --------------------------------------------------------------------------- solvers
@dataclass(kw_only=True)
class WeiszfeldResult(Trajectory):
    r"""Output of :func:`smoothed_weiszfeld` / :func:`weiszfeld`.

    For a single problem the leading batch axis is dropped.  Traces are over the iterations that
    were run; entries after a problem's own stop (batched runs) repeat its last value.

    Attributes
    ----------
    x_final (alias ``z``) : ndarray, (d,) or (B, d)
        Final iterate.
    T : int
        Iterations run (the longest over a batch).
    g, g_nu : ndarray, (t+1,) or (B, t+1)
        :math:`g(z^{(\tau)})` and :math:`g_\nu(z^{(\tau)})` for :math:`\tau=0..t` (normalised weights).
    L : ndarray, (t,) or (B, t)
        :math:`L^{(\tau)}=\sum_k\omega_k/\eta_k^{(\tau)}`.
    eta_min, eta_max : ndarray, (t,) or (B, t)
        :math:`\min_k\eta_k^{(\tau)}` and :math:`\max_k\eta_k^{(\tau)}`.
    iterates : ndarray or None, (t+1, d) or (B, t+1, d)
        All iterates when ``store_iterates=True``, one row per iteration (per-step rows of vectors: not a
        series).
    n_iter : int or ndarray
        Iterations run (per problem).
    anchor : int or ndarray
        Index of a data point certified optimal by the anchor test (classic Weiszfeld), else -1.
    termination : str or list of str
    """

    SERIES = ("g", "g_nu", "L", "eta_min", "eta_max")

    g: np.ndarray
    g_nu: np.ndarray
    L: np.ndarray
    eta_min: np.ndarray
    eta_max: np.ndarray
    n_iter: object
    termination: object
    nu: float
    iterates: np.ndarray | None = None
    anchor: object = -1
    weights: np.ndarray | None = field(default=None, repr=False)

    @property
    def z(self) -> np.ndarray:
        """The final iterate (the geometric-median estimate); same as ``x_final``."""
        return self.x_final


def _distances(W, sqW, z, gram, Waug=None, thr=None):
    """Distances from z (B, d) to the points.

    Gram form (``Waug`` = [W, ||w||^2, 1] of the centred points): one batched product with
    [-2z, 1, ||z||^2] gives every squared distance; entries below ``thr`` (a per-problem
    fraction of the largest squared norm, a superset of the entries that can lose digits) are
    recomputed from the differences.
    """
    if not gram:
        r = _dist(W, z)
        return r, r.min(axis=1)
    B, m, d = W.shape
    za = np.empty((B, d + 2, 1))
    za[:, :d, 0] = -2.0 * z
    za[:, d, 0] = 1.0
    za[:, d + 1, 0] = np.einsum("bd,bd->b", z, z)
    sq = np.matmul(Waug, za)[:, :, 0]
    sqmin = sq.min(axis=1)
    lim = thr + 1e-2 * za[:, d + 1, 0]
    if np.any(sqmin <= lim):  # only entries below lim can have lost digits (all others are > 0)
        bi, ki = np.nonzero(sq <= lim[:, None])
        diff = W[bi, ki] - z[bi]
        sq[bi, ki] = np.einsum("nd,nd->n", diff, diff)
        sqmin = sq.min(axis=1)
    return np.sqrt(sq, out=sq), np.sqrt(sqmin)


def _smoothed_from(g, r, w, nu, rmin=None):
    """g_nu from g: the smoothed norm differs from the norm by (r - nu)^2/(2 nu) where r < nu."""
    if nu <= 0 or (rmin is not None and np.all(rmin >= nu)):
        return g
    small = r < nu
    if not small.any():
        return g
    corr = np.where(small, (r - nu) ** 2 / (2 * nu), 0.0)
    return g + np.einsum("...m,...m->...", corr, w)


def _run(W, w, z, nu, T, tol, store, gram, classic, anchor_tol, step=1.0):
    """Batched iteration over B problems (points (B, m, d)); returns per-problem traces.

    Problems that stop early (``tol``, certified anchor) are frozen; once fewer than
    ``_COMPACT`` of the working set remain active, the working arrays are compacted to the
    active problems so that converged problems cost nothing.
    """
    B, m, d = W.shape
    sqW = Waug = thr = None
    c = np.zeros((B, d))
    if gram:  # centre once (the Gram form is then accurate at the scale of the spread), augmented layout
        c = np.matmul(w[:, None, :], W)[:, 0, :]
        Waug = np.empty((B, m, d + 2))
        np.subtract(W, c[:, None, :], out=Waug[:, :, :d])
        W = Waug[:, :, :d]
        z = z - c
        sqW = np.einsum("bmd,bmd->bm", W, W)
        Waug[:, :, d] = sqW
        Waug[:, :, d + 1] = 1.0
        thr = 1e-2 * sqW.max(axis=1)
    g = np.empty((T + 1, B))  # time-major: each step writes one contiguous row
    gnu = np.empty((T + 1, B))
    Ls = np.empty((T, B))
    emin = np.empty((T, B))
    emax = np.empty((T, B))
    its = np.zeros(B, dtype=int)
    active = np.ones(B, dtype=bool)
    anchor = np.full(B, -1)
    zout = np.empty((B, d))
    traj = np.empty((T + 1, B, d)) if store else None
    scale = (
        np.sqrt(np.max(np.einsum("bmd,bmd->bm", W - z[:, None, :], W - z[:, None, :]), axis=1)) + 1.0
        if classic
        else None
    )
    ids = np.arange(B)  # global index of each working row
    act = np.ones(B, dtype=bool)  # active flags of the working rows
    full = True  # working set == all problems, in order
    t_done = 0
    for t in range(T + 1):
        r, rmin = _distances(W, sqW, z, gram, Waug, thr)
        gw = np.einsum("bm,bm->b", r, w)
        prev = g[t - 1] if full else (g[t - 1, ids] if t > 0 else None)
        if full:
            g[t] = gw
            gnu[t] = _smoothed_from(gw, r, w, nu, rmin)
        else:
            g[t, ids] = gw
            gnu[t, ids] = _smoothed_from(gw, r, w, nu, rmin)
        if store:
            traj[t, ids] = z + c
        if t > 0 and tol > 0:
            conv = act & (np.abs(prev - gw) <= tol * gw)
            if conv.any():
                act &= ~conv
                active[ids[conv]] = False
                zout[ids[conv]] = z[conv] + c[conv]
        if t == T or not act.any():
            t_done = t
            break
        if act.mean() < _COMPACT:
            keep = act
            ids, z, c, w, r, rmin = ids[keep], z[keep], c[keep], w[keep], r[keep], rmin[keep]
            if gram:
                Waug, sqW, thr = Waug[keep], sqW[keep], thr[keep]
                W = Waug[:, :, :d]
            else:
                W = W[keep]
            if classic:
                scale = scale[keep]
            act = np.ones(ids.size, dtype=bool)
            full = False
        hit = None
        if classic:
            hit = r <= anchor_tol * scale[:, None]
            eta = np.where(hit, np.inf, r)
            beta = np.divide(w, eta, out=eta)
        elif np.all(rmin >= nu):  # no point within nu: eta = r
            beta = np.divide(w, r)
        else:
            beta = np.divide(w, np.maximum(r, nu))
        if gram:  # one product gives both sum_k beta_k w_k and L = sum_k beta_k
            numa = np.matmul(beta[:, None, :], Waug)[:, 0, :]
            num, L = numa[:, :d], numa[:, d + 1]
        else:
            num = np.matmul(beta[:, None, :], W)[:, 0, :]
            L = beta.sum(axis=1)
        rmax = r.max(axis=1)
        if classic:
            lo, hi = np.where(hit.any(1), 0.0, rmin), rmax
        else:
            lo, hi = np.maximum(rmin, nu), np.maximum(rmax, nu)
        if full:
            Ls[t], emin[t], emax[t] = L, lo, hi
        else:
            Ls[t, ids], emin[t, ids], emax[t, ids] = L, lo, hi
        znew = num / np.where(L > 0, L, 1.0)[:, None]  # L = 0 only when every point coincides with z
        if classic and hit.any():
            # Vardi-Zhang / Beck-Sabach step at an anchor: the coincident weight w_S resists the pull R
            wS = np.einsum("bm,bm->b", hit.astype(float), w)
            at = wS > 0
            Rv = L[:, None] * z - num  # R = sum_{k not in S} w_k (z - w_k)/||z - w_k||
            Rn = np.linalg.norm(Rv, axis=1)
            opt = at & (Rn <= wS)
            frac = np.where(at & ~opt, 1.0 - wS / np.maximum(Rn, _TINY), 1.0)
            znew = np.where(opt[:, None], z, z + frac[:, None] * (znew - z))
            newly = opt & act
            if newly.any():
                anchor[ids[newly]] = np.argmax(hit[newly], axis=1)
                act &= ~newly
                active[ids[newly]] = False
                zout[ids[newly]] = z[newly] + c[newly]
        if step != 1.0:
            znew = z + step * (znew - z)
        z = znew if act.all() else np.where(act[:, None], znew, z)
        its[ids] += act
    zout[ids[act]] = z[act] + c[act]
    t_last = t_done
    k = t_last + 1
    g, gnu = np.ascontiguousarray(g[:k].T), np.ascontiguousarray(gnu[:k].T)
    Ls, emin, emax = (np.ascontiguousarray(a[:t_last].T) for a in (Ls, emin, emax))
    if store:
        traj = np.ascontiguousarray(traj[:k].transpose(1, 0, 2))
    # frozen problems: keep the traces constant after their stop
    if t_last > 0 and np.any(its < t_last):
        idx = np.minimum(np.arange(k)[None, :], its[:, None])
        g = np.take_along_axis(g, idx, 1)
        gnu = np.take_along_axis(gnu, idx, 1)
        if store:
            traj = np.take_along_axis(traj, idx[:, :, None], 1)
    return zout, g, gnu, Ls, emin, emax, its, anchor, traj, active


_COMPACT = 0.75  #: compact the batched working set when fewer than this fraction of it is still active


_CHUNK_FLOATS = 1 << 16  #: floats per chunk of the fused single-problem loop (512 KB, cache resident)


def _dot(a, b) -> float:
    """Inner product of two long vectors without BLAS (large BLAS dots thread badly on busy machines)."""
    return float(np.einsum("i,i->", a, b))


def _run_fused(W, w, z, nu, T, tol, store, step):
    r"""Single problem, Gram distances, one pass over the data per iteration.

    The points are visited in cache-sized row chunks; each chunk is used twice while it is in
    cache (distances :math:`\Vert w_k-c\Vert^2-2(w_k-c)^\top u+\Vert u\Vert^2` with :math:`u=z-c`,
    :math:`c` the weighted mean, then the weighted sum :math:`\sum_k\beta_kw_k`), so each
    iteration reads the data once, with small BLAS calls.  The squared distances to c are exact
    (computed from the differences in the first pass, which is also iteration 0 when z starts at
    c); rows whose Gram distance is tiny relative to its terms are recomputed from the
    differences.  ``z=None`` starts at c.  Returns the tuple of :func:`_run`.
    """
    m, d = W.shape
    ch = max(1, _CHUNK_FLOATS // max(d, 1))
    starts = range(0, m, ch)
    c = np.zeros(d)
    for s in starts:
        c += w[s : s + ch] @ W[s : s + ch]
    if z is None:
        z = c.copy()
    sqc = np.empty(m)
    have_sqc = False
    g = np.empty(T + 1)
    gnu = np.empty(T + 1)
    Ls, emin, emax = np.empty(T), np.empty(T), np.empty(T)
    traj = np.empty((T + 1, d)) if store else None
    its, t_done = 0, 0
    r = np.empty(m)
    for t in range(T + 1):
        u = z - c
        uu = float(u @ u)
        num = np.zeros(d)
        if not have_sqc:
            for s in starts:
                D = W[s : s + ch] - c
                sqc[s : s + ch] = np.einsum("md,md->m", D, D)
                rc = np.sqrt(np.maximum(sqc[s : s + ch] - 2.0 * (D @ u) + uu, 0.0), out=r[s : s + ch])
                if t < T:
                    num += (w[s : s + ch] / np.maximum(nu, rc)) @ W[s : s + ch]
        else:
            base = sqc + (uu + 2.0 * float(c @ u))
            for s in starts:
                Wc = W[s : s + ch]
                rc = np.sqrt(np.maximum(base[s : s + ch] - 2.0 * (Wc @ u), 0.0), out=r[s : s + ch])
                if t < T:
                    num += (w[s : s + ch] / np.maximum(nu, rc)) @ Wc
        close = np.nonzero(r * r <= 1e-2 * (sqc + uu))[0]
        if close.size:  # cancellation in the Gram form: recompute these distances and fix the sum
            D = W[close] - z
            exact = np.sqrt(np.einsum("md,md->m", D, D))
            if t < T:
                num += (w[close] / np.maximum(nu, exact) - w[close] / np.maximum(nu, r[close])) @ W[close]
            r[close] = exact
        gv = _dot(w, r)
        gnv = float(_smoothed_from(gv, r, w, nu))
        if t < T:
            eta = np.maximum(nu, r)
            L = _dot(w, 1.0 / eta)
            lo, hi = float(eta.min()), float(eta.max())
        if not have_sqc:
            have_sqc = True
            spread = float(np.sqrt(_dot(w, sqc)))
            if np.linalg.norm(c) > 1e2 * max(spread, _TINY):  # far from the origin: redo on a centred copy
                zf, g_, gnu_, Ls_, lo_, hi_, its_, anc, tr, act = _run_fused(W - c, w, z - c, nu, T, tol, store, step)
                return (zf + c, g_, gnu_, Ls_, lo_, hi_, its_, anc, None if tr is None else tr + c, act)
        g[t], gnu[t] = gv, gnv
        if store:
            traj[t] = z
        if t > 0 and tol > 0 and abs(g[t - 1] - g[t]) <= tol * g[t]:
            t_done = t
            break
        if t == T:
            t_done = t
            break
        Ls[t], emin[t], emax[t] = L, lo, hi
        znew = num / L
        z = znew if step == 1.0 else z + step * (znew - z)
        its += 1
    k = t_done + 1
    active = np.array([not (tol > 0 and t_done < T)])
    return (
        z[None],
        g[None, :k],
        gnu[None, :k],
        Ls[None, :t_done],
        emin[None, :t_done],
        emax[None, :t_done],
        np.array([its]),
        np.array([-1]),
        None if traj is None else traj[None, :k],
        active,
    )


def smoothed_weiszfeld(
    points,
    x0=None,
    *,
    gamma: float = 1.0,
    T: int = 10,
    rng: np.random.Generator | None = None,
    weights=None,
    nu: float = 1e-6,
    tol: float = 0.0,
    store_iterates: bool = False,
    method: str = "direct",
) -> WeiszfeldResult:
    r"""Smoothed Weiszfeld (RFA Algorithm 3): ``T`` steps of
    :math:`z^{(t+1)}=\sum_k\beta_k^{(t)}w_k/\sum_k\beta_k^{(t)}`,
    :math:`\beta_k^{(t)}=\omega_k/\max\{\nu,\Vert z^{(t)}-w_k\Vert\}`.

    Parameters
    ----------
    points : array, (m, d) or (B, m, d)
        The problem: the points; a 3-D array holds ``B`` independent problems solved in one
        vectorised call.
    x0 : array or 'mean', optional
        Start; the weighted mean by default (inside the convex hull, as RFA's Theorem 21 needs).
    gamma : float
        Relative step :math:`\gamma` in :math:`z^{(t+1)}=z^{(t)}-\gamma\nabla g_\nu(z^{(t)})/L^{(t)}`;
        1 is Weiszfeld (RFA Claim 17), other values are over/under-relaxed variants.
    T : int
        Iteration budget.
    rng : ignored (deterministic; accepted for the common signature).
    weights : array, (m,) or (B, m), optional
        Nonnegative weights (normalised internally); uniform by default.
    nu : float
        Smoothing parameter :math:`\nu>0` (also the division guard).
    tol : float
        Stop a problem early when :math:`|g(z^{(t-1)})-g(z^{(t)})|\le` ``tol`` :math:`\cdot g(z^{(t)})`
        (RFA's ``ftol`` rule); 0 runs exactly ``T`` iterations.
    store_iterates : bool
        Keep every iterate (memory :math:`O(BTd)`).
    method : {'direct', 'gram'}
        Distances from the differences (exact to rounding) or from the centred Gram expansion
        :math:`\Vert w-c\Vert^2-2(w-c)^\top(z-c)+\Vert z-c\Vert^2` (a single problem is then
        processed in cache-sized chunks, one pass over the data per iteration; near-coincident
        pairs are recomputed exactly).

    Returns
    -------
    WeiszfeldResult
    """
    nu = positive("nu", nu)
    T = _iterations(T)
    tol = positive("tol", tol, strict=False)
    if method not in ("direct", "gram"):
        raise InvalidInput(f"method must be 'direct' or 'gram', got {method!r}")
    step = positive("gamma", gamma)
    generator(rng)
    W, w, single = _points_weights(points, weights)
    if method == "gram" and W.shape[0] == 1:
        mean = x0 is None or (isinstance(x0, str) and x0 == "mean")
        z = None if mean else _start(W, w, x0)[0]
        out = _run_fused(W[0], w[0], z, nu, T, tol, store_iterates, step)
    else:
        z = _start(W, w, x0)
        out = _run(W, w, z, nu, T, tol, store_iterates, method == "gram", False, 0.0, step)
    return _pack(out, nu, single, w, tol)


def weiszfeld(
    points,
    x0=None,
    *,
    T: int = 100,
    rng: np.random.Generator | None = None,
    weights=None,
    tol: float = 0.0,
    store_iterates: bool = False,
    anchor_tol: float = 1e-13,
) -> WeiszfeldResult:
    r"""Classic Weiszfeld (:math:`\nu=0`) with the Vardi-Zhang / Beck-Sabach treatment of anchors.

    Away from the data the step is :math:`z^+=\sum_k\beta_kw_k/\sum_k\beta_k`,
    :math:`\beta_k=\omega_k/\Vert z-w_k\Vert`.  When :math:`z` coincides with data points (the set
    :math:`S`, total weight :math:`\omega_S`; within ``anchor_tol`` times the cloud's scale), the
    anchor residual :math:`\mathcal R=\sum_{k\notin S}\omega_k(z-w_k)/\Vert z-w_k\Vert` decides:
    :math:`\Vert\mathcal R\Vert\le\omega_S` certifies that z is the geometric median (the run stops
    and ``anchor`` holds the index), otherwise the step
    :math:`z^+=z-(1-\omega_S/\Vert\mathcal R\Vert)\,\mathcal R/L_{\rm BS}(z)`,
    :math:`L_{\rm BS}(z)=\sum_{k\notin S}\omega_k/\Vert z-w_k\Vert`, leaves the anchor with descent.

    ``x0='anchor'`` is Beck & Sabach's safeguarded start: the best data point
    :math:`w_{j^\star}=\arg\min_jg(w_j)` if it passes the anchor test, else the step
    :math:`S(j^\star)` above from it (single problems; :math:`O(m^2d)` once).  Other parameters as
    :func:`smoothed_weiszfeld`; ``g_nu`` equals ``g``.
    """
    T = _iterations(T)
    tol = positive("tol", tol, strict=False)
    anchor_tol = positive("anchor_tol", anchor_tol, strict=False)
    generator(rng)
    W, w, single = _points_weights(points, weights)
    if isinstance(x0, str) and x0 == "anchor":
        if not single:
            raise InvalidInput("x0='anchor' (Beck-Sabach start) is for a single problem; pass points of shape (m, d)")
        test = anchor_test(W[0], w[0])
        j = test.best
        z = W[:, j].copy()
    else:
        z = _start(W, w, x0)
    out = _run(W, w, z, 0.0, T, tol, store_iterates, False, True, anchor_tol)
    return _pack(out, 0.0, single, w, tol)


def _iterations(T) -> int:
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or T < 0:
        raise InvalidInput(f"T must be an integer >= 0, got {T!r}")
    return int(T)


def _pack(out, nu, single, w, tol):
    z, g, gnu, Ls, emin, emax, its, anchor, traj, active = out
    term = [
        "anchor certified optimal"
        if a >= 0
        else ("objective converged within tol" if (tol > 0 and not act) else "iteration budget reached")
        for a, act in zip(anchor, active)
    ]
    meta = {"algorithm": "weiszfeld" if nu == 0 else "smoothed-weiszfeld"}
    T = int(g.shape[-1] - 1)
    if single:
        return WeiszfeldResult(
            T=T,
            x_final=z[0],
            g=g[0],
            g_nu=gnu[0],
            L=Ls[0],
            eta_min=emin[0],
            eta_max=emax[0],
            n_iter=int(its[0]),
            termination=term[0],
            nu=nu,
            iterates=None if traj is None else traj[0],
            anchor=int(anchor[0]),
            weights=w[0],
            meta=meta,
        )
    return WeiszfeldResult(
        T=T,
        x_final=z,
        g=g,
        g_nu=gnu,
        L=Ls,
        eta_min=emin,
        eta_max=emax,
        n_iter=its,
        termination=term,
        nu=nu,
        iterates=traj,
        anchor=anchor,
        weights=w,
        meta=meta,
    )


# --------------------------------------------------------------------------- anchor test
@dataclass
class AnchorTest:
    r"""Anchor optimality test at data points (:math:`O(m d)` per tested point, chunked).

    ``residual[i]`` is :math:`\Vert\mathcal R_j\Vert`, :math:`\mathcal R_j=\sum_{k:w_k\ne w_j}\omega_k
    (w_j-w_k)/\Vert w_j-w_k\Vert`, for the tested point :math:`j=` ``indices[i]``; ``mass[i]`` is the total
    weight of the points equal to :math:`w_j`; ``values[i]`` is :math:`g(w_j)`.  :math:`w_j` is a
    geometric median iff ``residual <= mass``; ``optimal`` is the first such point index or -1;
    ``best`` is the tested point with the smallest :math:`g(w_j)` (both are point indices).
    """

    residual: np.ndarray
    mass: np.ndarray
    values: np.ndarray
    optimal: int
    best: int
    indices: np.ndarray

    @property
    def margin(self) -> np.ndarray:
        """``mass - residual``: >= 0 exactly where the anchor is optimal."""
        return self.mass - self.residual

    def at(self, j: int) -> int:
        """Position of point index ``j`` in the arrays of this test."""
        return int(np.nonzero(self.indices == j)[0][0])


def anchor_test(points, weights=None, indices=None, rtol: float = 1e-12) -> AnchorTest:
    r"""Run the anchor optimality test at the data points ``indices`` (all by default; reconstructed
    classical criterion: Beck & Sabach 2015, Eqs. 18-20; spec W-11).  ``rtol`` (relative to the
    cloud's scale) decides which points coincide.  Memory is bounded by chunking the tested points."""
    W, w, single = _points_weights(points, weights)
    if not single:
        raise InvalidInput("anchor_test takes a single problem: points of shape (m, d)")
    W, w = W[0], w[0]
    m, d = W.shape
    idx = np.arange(m) if indices is None else np.asarray(indices, dtype=int).ravel()
    if idx.size == 0 or idx.min() < 0 or idx.max() >= m:
        raise InvalidInput(f"indices must be point indices in [0, {m}), got {indices!r}")
    scale = float(np.max(np.linalg.norm(W - W.mean(0), axis=1))) + _TINY
    n = idx.size
    res, mass, vals = np.empty(n), np.empty(n), np.empty(n)
    chunk = max(1, (1 << 22) // max(m * d, 1))
    for s in range(0, n, chunk):
        diff = W[idx[s : s + chunk], None, :] - W[None, :, :]
        r = np.sqrt(np.einsum("jid,jid->ji", diff, diff))
        same = r <= rtol * scale
        vals[s : s + chunk] = r @ w
        coef = np.where(same, 0.0, w / np.maximum(r, _TINY))
        res[s : s + chunk] = np.linalg.norm(np.einsum("ji,jid->jd", coef, diff), axis=1)
        mass[s : s + chunk] = same.astype(float) @ w
    ok = np.nonzero(res <= mass)[0]
    return AnchorTest(res, mass, vals, int(idx[ok[0]]) if ok.size else -1, int(idx[np.argmin(vals)]), idx)


def diameter(points, chunk: int = 512) -> float:
    r"""Diameter :math:`R=\max_{j,k}\Vert w_j-w_k\Vert` of the points (= that of their convex hull),
    exact pairwise differences in chunks (:math:`O(m^2d)`)."""
    W = finite_array("points", points, ndim=2)
    best = 0.0
    for s in range(0, W.shape[0], chunk):
        diff = W[s : s + chunk, None, :] - W[None, :, :]
        best = max(best, float(np.sqrt(np.max(np.einsum("jid,jid->ji", diff, diff)))))
    return best


# --------------------------------------------------------------------------- blocks
def blockwise_geometric_median(
    points, blocks, weights=None, nu: float = 1e-6, T: int = 10, tol: float = 0.0, method: str = "direct"
):
    r"""One geometric median per coordinate block, all solved in one batched call.

    ``points`` (m, d); ``blocks`` is a list of index arrays partitioning (a subset of) the
    coordinates, or a list of block sizes summing to d.  Blocks are zero-padded to a common width:
    padded coordinates are zero for every point, so they change no distance and stay zero in every
    iterate (the padding is exact).  Returns ``(median, result)``: the (d,) vector assembled from
    the block medians and the batched :class:`WeiszfeldResult`.
    """
    W = finite_array("points", points, ndim=2)
    m, d = W.shape
    if len(blocks) == 0:
        raise InvalidInput("blocks must be a non-empty list")
    if all(np.ndim(b) == 0 for b in blocks):
        sizes = [positive_int("blocks", int(b)) for b in blocks]
        if sum(sizes) != d:
            raise InvalidInput(f"block sizes must sum to d={d}, got {sum(sizes)}")
        edges = np.cumsum([0] + sizes)
        idx = [np.arange(edges[i], edges[i + 1]) for i in range(len(sizes))]
    else:
        idx = [np.asarray(b, dtype=int).ravel() for b in blocks]
        allidx = np.concatenate(idx)
        if allidx.size == 0 or allidx.min() < 0 or allidx.max() >= d or np.unique(allidx).size != allidx.size:
            raise InvalidInput(f"blocks must be disjoint, non-empty index sets within [0, {d})")
    width = max(len(i) for i in idx)
    nb = len(idx)
    P = np.zeros((nb, m, width))
    cols = np.zeros((nb, width), dtype=int)
    mask = np.zeros((nb, width), dtype=bool)
    for b, i in enumerate(idx):  # loop over blocks only to build the padded layout
        cols[b, : len(i)] = i
        mask[b, : len(i)] = True
    P[np.nonzero(mask)[0], :, np.nonzero(mask)[1]] = W[:, cols[mask]].T
    res = smoothed_weiszfeld(P, weights=weights, nu=nu, T=T, tol=tol, method=method)
    med = np.zeros(d)
    med[cols[mask]] = res.z[mask]
    return med, res


# --------------------------------------------------------------------------- robust aggregation
def omniscient_corruption(updates, corrupted) -> np.ndarray:
    r"""RFA's omniscient adversary (``RFA/models/server.py``): every corrupted device sends
    :math:`u_c=\bar w_{\rm corrupt}-2(N/N_c)\,\bar w_{\rm all}`, so that the mean of all updates becomes
    :math:`-\bar w_{\rm all}` (a sign flip).  ``updates`` (n, d), ``corrupted`` boolean (n,)."""
    U = np.array(updates, dtype=float)
    c = np.asarray(corrupted, dtype=bool)
    n = U.shape[0]
    nc = int(c.sum())
    if nc == 0:
        return U
    mean_all = U.mean(0)
    U[c] = U[c].mean(0) - 2.0 * (n / nc) * mean_all
    return U


@dataclass(kw_only=True)
class RFATrajectory(Trajectory):
    """A federated least-squares run (:func:`rfa_least_squares`).

    ``T`` is the number of rounds, ``x_final`` the last server model :math:`w_T` (d,), ``diverged_at`` the first
    round whose model is not finite (None when all are), ``meta`` the aggregator and the local steps.

    Attributes
    ----------
    models : ndarray (T+1, d)
        The server models :math:`w_0..w_T`, one row per round (per-step rows of vectors, as
        :class:`~solvers.rfa.ByzantineRFATrajectory` keeps ``w``: not a series).
    gamma : float
        The local stepsize used.
    """

    SERIES = ()

    gamma: float
    models: np.ndarray


def rfa_least_squares(
    problem,
    x0=None,
    *,
    T: int = 20,
    corrupted,
    gamma: float | None = None,
    rng: np.random.Generator | None = None,
    local_steps: int = 10,
    aggregator: str = "gm",
    budget: int = 3,
    nu: float = 1e-6,
) -> RFATrajectory:
    r"""Federated least squares with FedAvg or RFA (geometric-median) aggregation under corruption.

    The problem is the pair ``(A, b)``: client i holds :math:`(A_i, b_i)` (``A`` (n, s, d), ``b``
    (n, s)) and the objective :math:`F(w)=\frac1n\sum_i\frac1{2s}\Vert A_iw-b_i\Vert^2`.  Each of
    the ``T`` rounds every client runs ``local_steps`` gradient steps of size ``gamma`` (default
    :math:`1/\max_iL_i`) from the server model (all clients at once, one batched matmul per step);
    the ``corrupted`` clients then replace their models by the omniscient adversary's
    (:func:`omniscient_corruption`), and the server aggregates with the mean (``'mean'``, FedAvg) or
    with ``budget`` smoothed Weiszfeld iterations from the mean (``'gm'``; ``budget=1`` is RFA-1).
    Starts from ``x0`` (default zero); deterministic (``rng`` accepted for the common signature).
    """
    if not (isinstance(problem, tuple) and len(problem) == 2):
        raise InvalidInput(f"problem must be the pair (A, b), got {type(problem).__name__}")
    A = finite_array("A", problem[0], ndim=3)
    b = finite_array("b", problem[1], ndim=2)
    n, s, d = A.shape
    if b.shape != (n, s):
        raise InvalidInput(f"b must have shape ({n}, {s}) to match A, got {b.shape}")
    corrupted = np.asarray(corrupted, dtype=bool)
    if corrupted.shape != (n,):
        raise InvalidInput(f"corrupted must be a boolean array of shape ({n},), got {corrupted.shape}")
    if aggregator not in ("mean", "gm"):
        raise InvalidInput(f"aggregator must be 'mean' or 'gm', got {aggregator!r}")
    rounds = positive_int("T", T)
    local_steps = positive_int("local_steps", local_steps)
    budget = positive_int("budget", budget)
    generator(rng)
    if gamma is None:
        Lmax = float(np.max(np.linalg.norm(A, ord=2, axis=(1, 2)) ** 2) / s)
        gamma = 1.0 / Lmax
    lr = positive("gamma", gamma)
    w = np.zeros(d) if x0 is None else finite_array("x0", x0, ndim=1).copy()
    out = np.empty((rounds + 1, d))
    out[0] = w
    for r in range(rounds):
        X = np.broadcast_to(w, (n, d)).copy()
        for _ in range(local_steps):
            resid = np.einsum("isd,id->is", A, X) - b
            X -= lr * np.einsum("isd,is->id", A, resid) / s
        X = omniscient_corruption(X, corrupted)
        if aggregator == "mean":
            w = X.mean(0)
        else:
            w = smoothed_weiszfeld(X, nu=nu, T=budget).z
        out[r + 1] = w
    blown = ~np.isfinite(out).all(axis=1)
    return RFATrajectory(
        T=rounds,
        gamma=lr,
        x_final=w,
        diverged_at=int(np.argmax(blown)) if blown.any() else None,
        models=out,
        meta={"algorithm": "fedavg" if aggregator == "mean" else f"rfa-{budget}", "local_steps": local_steps},
    )


# --------------------------------------------------------------------------- measurements along a run
def hull_distance(points, Z, R: float) -> np.ndarray:
    r"""Distance of each row of ``Z`` (K, d) to :math:`\mathrm{conv}\{w_k\}` (``points`` (m, d)) by non-negative
    least squares with a heavily weighted sum-to-one row (weight :math:`10^3\max(R,1)`, R the diameter); the
    convex combination found is renormalised before the distance is taken.  A loop over the K rows (iterates),
    not over points."""
    W = np.asarray(points, dtype=float)
    big = 1e3 * max(R, 1.0)
    A = np.vstack([W.T, np.full(W.shape[0], big)])
    out = np.empty(Z.shape[0])
    for i, z in enumerate(Z):
        lam, _ = nnls(A, np.r_[z, big], maxiter=50 * W.shape[0])
        out[i] = float(np.linalg.norm(W.T @ (lam / lam.sum()) - z))
    return out


def first_below(values, targets) -> tuple[np.ndarray, np.ndarray]:
    r"""For each target :math:`\varepsilon_j`, the first index t with ``values[t]`` :math:`\le\varepsilon_j`
    (as floats; ``len(values)`` when never) and whether it is reached: ``(first, reached)``."""
    values = np.asarray(values)
    hit = values[None, :] <= np.asarray(targets)[:, None]
    reached = hit.any(axis=1)
    return np.where(reached, np.argmax(hit, axis=1), values.size).astype(float), reached


def max_ratio_while_above(iterates, z, g_nu, level: float, floor: float) -> float:
    r""":math:`\max_t\Vert z_{t+1}-z\Vert/\Vert z_t-z\Vert` over the t with :math:`g_\nu(z_{t+1})\ge` ``level``
    and :math:`\Vert z_t-z\Vert>` ``floor`` (0 when there is none): the second part of RFA's Lemma 20 with
    :math:`z=z^\star`, ``level`` :math:`=g_\nu(z^\star)` (Pillutla, Kakade, Harchaoui 2022)."""
    dist = np.linalg.norm(np.asarray(iterates) - z, axis=1)
    cond = (np.asarray(g_nu)[1:] >= level) & (dist[:-1] > floor)
    return float(np.max(dist[1:][cond] / dist[:-1][cond], initial=0.0))


def rfa_corruption_errors(problem, w_ls, fracs, budgets, *, rounds: int, local_steps: int) -> dict:
    r"""``{aggregator label: [||w_T - w_LS|| for each corrupted fraction]}`` of :func:`rfa_least_squares` on
    ``problem`` ``(A, b)``: FedAvg, and RFA with each smoothed Weiszfeld ``budget``; the first
    :math:`\mathrm{round}(fn)` clients are corrupted (omniscient adversary)."""
    n = problem[0].shape[0]
    labels = {k: f"RFA, {k} Weiszfeld iteration{'s' if k > 1 else ''}" for k in budgets}
    out = {"FedAvg (mean)": [], **{lab: [] for lab in labels.values()}}
    for f in fracs:
        bad = np.zeros(n, dtype=bool)
        bad[: int(round(f * n))] = True
        tr = rfa_least_squares(problem, T=rounds, corrupted=bad, local_steps=local_steps, aggregator="mean")
        out["FedAvg (mean)"].append(np.linalg.norm(tr.x_final - w_ls))
        for k in budgets:
            tr = rfa_least_squares(problem, T=rounds, corrupted=bad, local_steps=local_steps, aggregator="gm", budget=k)
            out[labels[k]].append(np.linalg.norm(tr.x_final - w_ls))
    return out


__all__ += ["hull_distance", "first_below", "max_ratio_while_above", "rfa_corruption_errors"]
