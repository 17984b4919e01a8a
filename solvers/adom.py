r"""ADOM+ over time-varying networks, its multi-consensus variant, and a gradient-tracking baseline.

Kovalev, Gasanov, Gasnikov, Richtárik, *Lower Bounds and Optimal Algorithms for Smooth and Strongly
Convex Decentralized Optimization Over Time-Varying Networks*, NeurIPS 2021, arXiv:2106.04469
(Algorithm 1, ADOM+).

Problem: :math:`\min_x\sum_{i=1}^n f_i(x)` with every :math:`f_i` :math:`\mu`-strongly convex and
:math:`L`-smooth.  Node states live in arrays of shape ``(n, d)``; a gossip step is one product
:math:`W(q)X` with a Laplacian-type matrix :math:`W(q)` (kernel = consensus space) satisfying

.. math::
    \Vert W(q)x-x\Vert^2\le(1-\chi^{-1})\Vert x\Vert^2\qquad\forall x\perp\mathbf 1 .

With :math:`W=\mathrm{Lap}/\lambda_{\max}(\mathrm{Lap})` the admissible value is
:math:`\chi=\lambda_{\max}/\lambda_{\min}^+` (spec section 1.1), computed here exactly.

Gossip sequences are objects with ``n``, ``chi``, ``apply(q, X)`` (returns :math:`W(q)X` without
dense ``n x n`` matrices) and ``matrix(q)`` (the ``scipy.sparse`` matrix).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.sparse as sps
import scipy.sparse.linalg as spla

from ._trajectory import Trajectory
from ._validate import InvalidInput, finite_array, generator, positive, positive_int

__all__ = [
    "laplacian",
    "normalized_gossip",
    "GossipSpectrum",
    "check_gossip",
    "GossipSequence",
    "CyclicGossip",
    "RelabelledRing",
    "StarSequence",
    "ring_chi",
    "multi_consensus_rounds",
    "adom_plus_params",
    "implicit_step",
    "ADOMTrajectory",
    "adom_plus",
    "gradient_tracking",
    "support_depth",
    "METHODS",
    "run_method",
]

DENSE_MAX = 600  #: up to this many nodes the spectrum is computed with a dense symmetric eigensolver
ZERO_TOL = 1e-9  #: eigenvalues below this (relative to lambda_max) count as zero


# --------------------------------------------------------------------------- graphs and W
def _edge_array(edges) -> np.ndarray:
    """``edges`` as an int64 array of node pairs: integer entries (integral floats are accepted, a fractional
    or non-finite entry is refused, never truncated)."""
    try:
        a = np.asarray(edges)
    except (TypeError, ValueError):
        a = None
    if a is not None and a.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    if a is None or a.dtype == bool or not (np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating)):
        got = "booleans" if a is not None and a.dtype == bool else type(edges).__name__
        raise InvalidInput(f"edges must be an array of integer node indices, got {got}")
    if np.issubdtype(a.dtype, np.floating):
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(a) | (a != np.round(a)) | (np.abs(a) > 2.0**62)
        if np.any(bad):
            raise InvalidInput(f"edges must be integer node indices, found {float(a[bad].ravel()[0])!r}")
    if a.size % 2:
        raise InvalidInput(f"edges must be pairs of nodes (shape (E, 2)), got shape {a.shape}")
    return a.astype(np.int64).reshape(-1, 2)


def laplacian(n: int, edges) -> sps.csr_matrix:
    r"""Graph Laplacian :math:`D-A` of an undirected simple graph on ``n`` nodes (sparse CSR).

    ``edges`` is an array of shape ``(E, 2)`` of node pairs (integer node indices; a fractional or
    non-finite entry is refused); duplicates and both orientations are merged, self-loops are
    rejected.
    """
    n = positive_int("n", n)
    e = _edge_array(edges)
    if e.size and (e.min() < 0 or e.max() >= n):
        raise InvalidInput(f"edges must name nodes in [0, {n}), got range [{e.min()}, {e.max()}]")
    if np.any(e[:, 0] == e[:, 1]):
        raise InvalidInput("edges must not contain self-loops")
    e = np.unique(np.sort(e, axis=1), axis=0)
    A = sps.coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n, n))
    A = (A + A.T).tocsr()
    deg = np.asarray(A.sum(axis=1)).ravel()
    return (sps.diags(deg) - A).tocsr()


@dataclass(frozen=True)
class GossipSpectrum:
    r"""Spectral data of one symmetric gossip matrix.

    ``lam_max`` and ``lam_min_plus`` are :math:`\lambda_{\max}(W)` and the smallest positive
    eigenvalue; ``chi`` :math:`=\lambda_{\max}/\lambda_{\min}^+`; ``chi_tight``
    :math:`=1/(1-(1-\lambda_{\min}^+/\lambda_{\max})^2)` is the smallest admissible χ when
    :math:`\lambda_{\max}=1` (spec AD-2).
    """

    lam_max: float
    lam_min_plus: float
    n_zero: int
    method: str

    @property
    def chi(self) -> float:
        return self.lam_max / self.lam_min_plus

    @property
    def chi_tight(self) -> float:
        r = self.lam_min_plus / self.lam_max
        return 1.0 / (1.0 - (1.0 - r) ** 2)


def _sym_spectrum(M, dense_max: int = DENSE_MAX) -> GossipSpectrum:
    n = M.shape[0]
    if n <= dense_max:
        ev = scipy.linalg.eigvalsh(M.toarray() if sps.issparse(M) else np.asarray(M))
        lmax = float(ev[-1])
        tol = ZERO_TOL * max(lmax, 1e-300)
        pos = ev[ev > tol]
        nz = int(np.sum(np.abs(ev) <= tol))
        if np.any(ev < -tol):
            raise InvalidInput(f"W must be positive semidefinite, found eigenvalue {ev[0]:.3g}")
        return GossipSpectrum(lmax, float(pos[0]) if pos.size else float("nan"), nz, "dense eigvalsh")
    M = sps.csr_matrix(M)
    lmax = float(spla.eigsh(M, k=1, which="LA", return_eigenvectors=False, tol=1e-12)[0])
    # shift-invert just below zero: the nearest eigenvalues are 0 (consensus) and lambda_min^+
    shift = -1e-3 * lmax
    k = min(4, n - 1)
    ev = np.sort(spla.eigsh(M, k=k, sigma=shift, which="LM", return_eigenvectors=False, tol=1e-13))
    tol = ZERO_TOL * lmax
    if ev[0] < -tol:
        raise InvalidInput(f"W must be positive semidefinite, found eigenvalue {ev[0]:.3g}")
    nz = int(np.sum(np.abs(ev) <= tol))
    pos = ev[ev > tol]
    return GossipSpectrum(lmax, float(pos[0]) if pos.size else float("nan"), nz, "sparse eigsh (shift-invert)")


def check_gossip(W, name: str = "W", atol: float = 1e-10) -> GossipSpectrum:
    r"""Validate a Laplacian-type gossip matrix and return its spectrum.

    Requirements (spec section 1): square, finite, symmetric, :math:`W\mathbf 1=0` (so the kernel
    contains the consensus space), positive semidefinite, exactly one zero eigenvalue (the graph is
    connected, so :math:`\ker W=\mathcal L`), and :math:`\lambda_{\max}\le1` (so the contraction
    holds with :math:`\chi=1/\lambda_{\min}^+`).  A doubly stochastic *mixing* matrix :math:`M`
    fails :math:`W\mathbf 1=0` and must be converted to :math:`I-M`.
    """
    if not sps.issparse(W):
        W = finite_array(name, W, ndim=2)
    if W.shape[0] != W.shape[1]:
        raise InvalidInput(f"{name} must be square, got shape {W.shape}")
    n = W.shape[0]
    Wc = sps.csr_matrix(W, dtype=float)
    if Wc.nnz and not np.all(np.isfinite(Wc.data)):
        raise InvalidInput(f"{name} must be finite (no NaN or inf)")
    scale = max(abs(Wc).max() if Wc.nnz else 0.0, 1e-300)
    if abs(Wc - Wc.T).max() > atol * scale if Wc.nnz else False:
        raise InvalidInput(f"{name} must be symmetric")
    rows = np.asarray(Wc.sum(axis=1)).ravel()
    if np.max(np.abs(rows)) > atol * max(scale, 1.0):
        if np.allclose(rows, 1.0, atol=1e-8):
            raise InvalidInput(
                f"{name} has rows summing to 1: this is a mixing matrix M, but ADOM+ needs a Laplacian-type "
                f"W with W @ 1 = 0; pass I - M instead"
            )
        raise InvalidInput(
            f"{name} must satisfy W @ 1 = 0 (kernel = consensus space), max |row sum| = {np.max(np.abs(rows)):.3g}"
        )
    spec = _sym_spectrum(Wc)
    if n > 1 and spec.n_zero != 1:
        raise InvalidInput(
            f"{name} has {spec.n_zero} zero eigenvalues: the graph is disconnected, so the kernel is larger "
            f"than the consensus space and no finite chi exists"
        )
    if spec.lam_max > 1 + 1e-9:
        raise InvalidInput(f"{name} must have lambda_max <= 1 (normalise Lap / lambda_max), got {spec.lam_max:.6g}")
    return spec


def normalized_gossip(Lap) -> tuple[sps.csr_matrix, GossipSpectrum]:
    r""":math:`W=\mathrm{Lap}/\lambda_{\max}(\mathrm{Lap})` (sparse) and its validated spectrum."""
    Lc = sps.csr_matrix(Lap, dtype=float)
    spec = _sym_spectrum(Lc)
    if not spec.lam_max > 0:
        raise InvalidInput("Lap must have a positive eigenvalue (a graph with at least one edge)")
    W = (Lc / spec.lam_max).tocsr()
    return W, check_gossip(W)


def ring_chi(n: int) -> float:
    r"""Closed form :math:`\chi(C_n)=\frac{2-2\cos(2\pi\lfloor n/2\rfloor/n)}{2-2\cos(2\pi/n)}` (spec 1.1)."""
    return (2 - 2 * math.cos(2 * math.pi * (n // 2) / n)) / (2 - 2 * math.cos(2 * math.pi / n))


# --------------------------------------------------------------------------- sequences
class GossipSequence:
    """A sequence :math:`q\\mapsto W(q)` of gossip matrices with a common exact χ."""

    n: int
    chi: float
    chi_tight: float

    def apply(self, q: int, X: np.ndarray) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def matrix(self, q: int) -> sps.csr_matrix:  # pragma: no cover - interface
        raise NotImplementedError


class CyclicGossip(GossipSequence):
    r"""Cycle through a finite list of gossip matrices: :math:`W(q)=W_{q\bmod K}`.

    Each matrix is validated by :func:`check_gossip`; :math:`\chi=\max_j\chi(W_j)`.
    """

    def __init__(self, matrices):
        mats = [sps.csr_matrix(M, dtype=float) for M in matrices]
        if not mats:
            raise InvalidInput("matrices must contain at least one gossip matrix")
        n = mats[0].shape[0]
        specs = []
        for j, M in enumerate(mats):
            if M.shape != (n, n):
                raise InvalidInput(f"matrices[{j}] has shape {M.shape}, expected ({n}, {n})")
            specs.append(check_gossip(M, name=f"matrices[{j}]"))
        self.n = n
        self.mats = mats
        self.spectra = specs
        self.chi = max(s.chi for s in specs)
        self.chi_tight = max(s.chi_tight for s in specs)

    def apply(self, q, X):
        return self.mats[q % len(self.mats)] @ X

    def matrix(self, q):
        return self.mats[q % len(self.mats)]


class RelabelledRing(GossipSequence):
    r"""A ring whose node labels are drawn afresh (uniform permutation) in every round.

    :math:`W(q)=P_q\,\mathrm{Lap}(C_n)P_q^\top/\lambda_{\max}`, with χ that of the ring.  ``apply``
    works in :math:`O(nd)` with a permutation and two shifts (no matrix is formed); permutations
    are generated in seeded blocks, so :math:`W(q)` depends only on ``(seed, q)``.
    """

    BLOCK = 512

    def __init__(self, n: int, seed: int = 0):
        n = positive_int("n", n)
        if n < 3:
            raise InvalidInput(f"n must be >= 3 for a ring, got {n}")
        self.n, self.seed = n, int(seed)
        idx = np.arange(n)
        base = laplacian(n, np.c_[idx, (idx + 1) % n])
        self.lam_max = 2 - 2 * math.cos(2 * math.pi * (n // 2) / n)
        spec = _sym_spectrum(base / self.lam_max)
        self.spectrum = spec
        self.chi, self.chi_tight = spec.chi, spec.chi_tight
        self._block = -1
        self._perms = None

    def _load(self, q: int) -> int:
        b = q // self.BLOCK
        if b != self._block:
            rng = np.random.default_rng([self.seed, b])
            perms = rng.permuted(np.tile(np.arange(self.n), (self.BLOCK, 1)), axis=1)
            rows = np.arange(self.BLOCK)[:, None]
            left = np.empty_like(perms)
            right = np.empty_like(perms)
            left[rows, perms] = np.roll(perms, 1, axis=1)
            right[rows, perms] = np.roll(perms, -1, axis=1)
            self._perms, self._left, self._right, self._block = perms, left, right, b
        return q % self.BLOCK

    def perm(self, q: int) -> np.ndarray:
        """Ring order of round q: node ``perm(q)[j]`` sits at ring position j."""
        j = self._load(q)
        return self._perms[j]

    def apply(self, q, X):
        j = self._load(q)
        out = 2.0 * X
        out -= X[self._left[j]]
        out -= X[self._right[j]]
        out *= 1.0 / self.lam_max
        return out

    def matrix(self, q):
        p = self.perm(q)
        return (laplacian(self.n, np.c_[p, np.roll(p, -1)]) / self.lam_max).tocsr()


class StarSequence(GossipSequence):
    r"""Star graphs whose centre moves: :math:`W(q)=\mathrm{Lap}(S_n^{c_q})/n`, so :math:`\chi=n`.

    ``centres`` is the centre of every round (cycled when shorter than the run).  ``apply`` costs
    :math:`O(nd)`: leaves get :math:`(x_j-x_c)/n`, the centre :math:`(nx_c-\sum_jx_j)/n`.
    """

    def __init__(self, n: int, centres):
        n = positive_int("n", n)
        if n < 2:
            raise InvalidInput(f"n must be >= 2 for a star, got {n}")
        c = np.asarray(centres, dtype=np.int64).ravel()
        if c.size == 0 or c.min() < 0 or c.max() >= n:
            raise InvalidInput(f"centres must be a non-empty sequence of nodes in [0, {n})")
        self.n, self.centres = n, c
        self.chi = float(n)
        self.chi_tight = 1.0 / (1.0 - (1.0 - 1.0 / n) ** 2)

    def apply(self, q, X):
        c = self.centres[q % self.centres.size]
        xc = X[c]
        out = (X - xc) / self.n
        out[c] = (self.n * xc - X.sum(axis=0)) / self.n
        return out

    def matrix(self, q):
        c = int(self.centres[q % self.centres.size])
        others = np.delete(np.arange(self.n), c)
        return (laplacian(self.n, np.c_[np.full(self.n - 1, c), others]) / self.n).tocsr()


def multi_consensus_rounds(chi: float) -> int:
    r""":math:`T_{\rm mc}=\lceil\chi\ln2\rceil`, so that :math:`(1-\chi^{-1})^{T_{\rm mc}}\le\frac12` (spec 3.4)."""
    return max(1, math.ceil(chi * math.log(2) - 1e-12))


def _multi_apply(seq: GossipSequence, q0: int, V: np.ndarray, T: int, order: str) -> np.ndarray:
    r""":math:`W_T V=V-\prod_t(I-W(q_0+t))V` (``order='time'``: :math:`W(q_0)` acts first)."""
    R = V
    ts = range(T) if order == "time" else range(T - 1, -1, -1)
    for t in ts:
        R = R - seq.apply(q0 + t, R)
    return V - R


# --------------------------------------------------------------------------- ADOM+
def _constants(mu, L, chi) -> tuple[float, float, float]:
    """The constants of a run: finite ``0 < mu < L`` and ``chi >= 1`` (one-line :class:`InvalidInput` otherwise)."""
    mu = positive("mu", mu)
    L = positive("L", L)
    chi = float(finite_array("chi", chi, ndim=0))
    if not mu < L:
        raise InvalidInput(f"mu must be < L (strongly convex and smooth with kappa > 1), got mu={mu:.6g}, L={L:.6g}")
    if not chi >= 1:
        raise InvalidInput(f"chi must be >= 1, got {chi:.6g}")
    return mu, L, chi


def adom_plus_params(mu: float, L: float, chi: float) -> dict:
    r"""ADOM+ parameters (spec section 3.3, [reconstructed]; identical in two implementations).

    .. math::
        \tau_2=\sqrt{\mu/L},\ \tau_1=(1/\tau_2+1/2)^{-1},\ \eta=\frac1{L\tau_2},\
        \alpha_A=\nu_A=\frac\mu2,\ \beta_A=\frac1{2L},\
        \sigma_2=\frac{\sqrt\mu}{16\chi\sqrt L},\ \sigma_1=(1/\sigma_2+1/2)^{-1},\
        \gamma_A=\frac{\nu_A}{14\sigma_2\chi^2},\ \delta_A=\frac1{17L},\
        \theta_A=\frac{\nu_A}{4\sigma_2},\ \zeta=\frac12 .
    """
    mu, L, chi = _constants(mu, L, chi)
    tau2 = math.sqrt(mu / L)
    sigma2 = math.sqrt(mu) / (16 * chi * math.sqrt(L))
    nu = mu / 2
    return dict(
        tau2=tau2,
        tau1=1 / (1 / tau2 + 0.5),
        eta=1 / (L * tau2),
        alpha=mu / 2,
        nu=nu,
        beta=1 / (2 * L),
        sigma2=sigma2,
        sigma1=1 / (1 / sigma2 + 0.5),
        gamma=nu / (14 * sigma2 * chi**2),
        delta=1 / (17 * L),
        theta=nu / (4 * sigma2),
        zeta=0.5,
        chi=chi,
    )


def implicit_step(x, y, x_g, g, yz_g, p: dict):
    r"""Closed-form solution of the coupled implicit x/y step (spec section 3.2, [derived]).

    With :math:`g=\nabla F(x_g)-\nu_Ax_g`, :math:`a_1=1+\eta\alpha_A`, :math:`a_2=1+\theta_A\beta_A`,

    .. math::
        u_1=x+\eta\alpha_Ax_g-\eta g,\quad u_2=y+\theta_A\beta_Ag-\frac{\theta_A}{\nu_A}(y_g+z_g),\quad
        y^+=\frac{u_2-\frac{\theta_A}{a_1}u_1}{a_2+\frac{\theta_A\eta}{a_1}},\quad
        x^+=\frac{u_1+\eta y^+}{a_1}.
    """
    eta, al, th, be, nu = p["eta"], p["alpha"], p["theta"], p["beta"], p["nu"]
    a1, a2 = 1 + eta * al, 1 + th * be
    u1 = x + eta * al * x_g - eta * g
    u2 = y + th * be * g - (th / nu) * yz_g
    y_new = (u2 - (th / a1) * u1) / (a2 + th * eta / a1)
    x_new = (u1 + eta * y_new) / a1
    return x_new, y_new


def support_depth(*arrays) -> int:
    """Largest coordinate index (1-based) that is nonzero in any row of any array; 0 if all vanish."""
    nz = np.zeros(arrays[0].shape[-1], dtype=bool)
    for a in arrays:
        nz |= np.any(a != 0, axis=0)
    idx = np.flatnonzero(nz)
    return int(idx[-1] + 1) if idx.size else 0


@dataclass(kw_only=True)
class ADOMTrajectory(Trajectory):
    """What a decentralized run records, per iteration k = 0..K.

    Attributes
    ----------
    dist_sq : ndarray (K+1,)
        :math:`\\sum_i\\Vert x_i^k-x^\\star\\Vert^2`.
    consensus : ndarray (K+1,)
        :math:`\\Vert(I-\\frac1n\\mathbf 1\\mathbf 1^\\top)x^k\\Vert`.
    comm_rounds, grad_calls : ndarray (K+1,) of int
        Communication rounds whose messages :math:`x^k` can depend on, and gradient calls per node
        made before :math:`x^k` was formed (counted separately).
    depth : ndarray (K+1,) of int or None
        Largest nonzero coordinate index over all nodes and the whole state (``track_support``).
    """

    SERIES = ("dist_sq", "consensus", "comm_rounds", "grad_calls", "depth")

    dist_sq: np.ndarray
    consensus: np.ndarray
    comm_rounds: np.ndarray
    grad_calls: np.ndarray
    params: dict
    depth: np.ndarray | None = None

    def cost_to_eps(self, eps) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        r"""``(comm_rounds, grad_calls, reached)`` at the first iterate with :math:`D_k\le\varepsilon D_0`,
        for each ``eps`` (costs as floats; meaningless where ``reached`` is False)."""
        eps = np.atleast_1d(eps)
        ok = self.dist_sq[None, :] <= eps[:, None] * self.dist_sq[0]
        idx = np.argmax(ok, axis=1)
        return self.comm_rounds[idx].astype(float), self.grad_calls[idx].astype(float), ok.any(axis=1)

    def cost_to_depth(self, ks) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(comm_rounds, grad_calls, reached)`` at the first iterate whose state reaches chain depth k, for
        each k of ``ks`` (needs ``track_support``; meaningless where ``reached`` is False)."""
        if self.depth is None:
            raise InvalidInput("cost_to_depth needs a run with track_support=True")
        hit = self.depth[None, :] >= np.atleast_1d(ks)[:, None]
        idx = np.argmax(hit, axis=1)
        return self.comm_rounds[idx].astype(float), self.grad_calls[idx].astype(float), hit.any(axis=1)


class _Recorder:
    """Per-iteration distance / consensus / support records with divergence and early-stop checks."""

    def __init__(self, n, d, xs, K, track_support, stop_ratio):
        self.n, self.d, self.K = n, d, K
        self.xs_t = np.tile(xs, n)
        self.ones = np.ones(n)
        self.dist = np.empty(K + 1)
        self.cons = np.empty(K + 1)
        self.depth = np.zeros(K + 1, dtype=np.int64) if track_support else None
        self.dist[0] = n * float(xs @ xs)
        self.cons[0] = 0.0
        self.target = stop_ratio * self.dist[0]
        self.diverged = None
        self.k_end = K

    def record(self, k: int, xflat: np.ndarray, support=None) -> bool:
        """Record iterate k (flattened X); True when the run should stop."""
        E = xflat - self.xs_t
        self.dist[k] = float(E @ E)
        colsum = self.ones @ xflat.reshape(self.n, self.d)
        self.cons[k] = math.sqrt(max(float(xflat @ xflat) - float(colsum @ colsum) / self.n, 0.0))
        if self.depth is not None:
            self.depth[k] = support_depth(*support)
        if not math.isfinite(self.dist[k]) or self.dist[k] > 1e200:
            self.diverged = self.k_end = k
            self.dist[k:] = np.inf
            self.cons[k:] = np.inf
            return True
        if self.dist[k] <= self.target:
            self.k_end = k
            return True
        return False

    def trajectory(self, comm, params, X, meta) -> "ADOMTrajectory":
        e = self.k_end + 1
        return ADOMTrajectory(
            dist_sq=self.dist[:e],
            consensus=self.cons[:e],
            comm_rounds=comm,
            grad_calls=np.arange(e),
            T=self.k_end,
            params=params,
            depth=None if self.depth is None else self.depth[:e],
            x_final=X,
            diverged_at=self.diverged,
            meta=meta,
        )


def _validate_run(problem, x0, gossip, T, rng, x_star, mu, L, chi):
    """The decentralized problem's pieces: ``(grad, n, d, x_star, T, mu, L, chi)`` with the defaults filled in.

    ``problem`` needs ``local_grads(X)`` (X of shape (n, d)), ``n`` and ``d``; ``x_star``, ``mu`` and
    ``L`` default to its attributes, ``chi`` to the gossip sequence's.
    """
    grad = getattr(problem, "local_grads", None)
    if not callable(grad):
        raise InvalidInput(
            f"problem must have local_grads(X) -> local gradients of shape (n, d), got {type(problem).__name__}"
        )
    n, d = problem.n, problem.d
    if not isinstance(gossip, GossipSequence):
        raise InvalidInput(f"gossip must be a solvers.adom.GossipSequence, got {type(gossip).__name__}")
    if gossip.n != n:
        raise InvalidInput(f"gossip has {gossip.n} nodes but the problem has {n}")
    if x0 is not None:
        x0 = finite_array("x0", x0)
        if x0.shape not in ((d,), (n, d)) or np.any(x0 != 0):
            raise InvalidInput(f"x0 must be zero of shape ({d},) or ({n}, {d}): the method starts from zero (spec 3.1)")
    generator(rng)  # deterministic: accepted for the common signature, never drawn from
    xs = finite_array("x_star", problem.x_star if x_star is None else x_star, ndim=1)
    if xs.shape != (d,):
        raise InvalidInput(f"x_star must have shape ({d},), got {xs.shape}")
    mu = problem.mu if mu is None else mu
    L = problem.L if L is None else L
    chi = gossip.chi if chi is None else chi
    return grad, n, d, xs, positive_int("T", T), mu, L, chi


def _adom_linear_map(p: dict) -> tuple[np.ndarray, np.ndarray]:
    r"""ADOM+'s updates as one linear map on the stacked state (all but the gradient and the gossip).

    Basis: :math:`[x, x_f, y, y_f, z, z_f, m_A, g']` with :math:`g'=\nabla F(x_g)-\nu_Ax_g`.
    Returns ``A`` (9 x 8) giving :math:`[x^+, x_f^+, y^+, y_f^+, z^{\rm pre}, z_f^{\rm pre}, v_1, v_1, v_2]`
    where :math:`v_1=\gamma_A\nu_A^{-1}(y_g+z_g)+m_A`, :math:`v_2=y_g+z_g` are gossiped and
    :math:`z^+=z^{\rm pre}-Wv_1`, :math:`z_f^+=z_g-\zeta Wv_2`, :math:`m_A^+=v_1-Wv_1`; and the row
    ``cg`` (7,) with :math:`x_g=` ``cg @ state``.  Rows are built from the spec's formulas with
    coefficient vectors, so :func:`implicit_step` and this map agree by construction (tested).
    """
    e = np.eye(8)
    X, Xf, Y, Yf, Z, Zf, M, G = e
    t1, t2, s1, s2 = p["tau1"], p["tau2"], p["sigma1"], p["sigma2"]
    nu, gam, dl = p["nu"], p["gamma"], p["delta"]
    Xg = t1 * X + (1 - t1) * Xf
    Yg = s1 * Y + (1 - s1) * Yf
    Zg = s1 * Z + (1 - s1) * Zf
    YZ = Yg + Zg
    Xn, Yn = implicit_step(X, Y, Xg, G, YZ, p)
    Xfn = Xg + t2 * (Xn - X)
    Yfn = Yg + s2 * (Yn - Y)
    V1 = gam / nu * YZ + M
    Zpre = Z + gam * dl * (Zg - Z)
    A = np.vstack([Xn, Xfn, Yn, Yfn, Zpre, Zg, V1, V1, YZ])
    return A, Xg[:7].copy()


def adom_plus(
    problem,
    x0=None,
    *,
    T: int,
    gossip: GossipSequence,
    chi: float | None = None,
    mu: float | None = None,
    L: float | None = None,
    x_star=None,
    rng: np.random.Generator | None = None,
    multi_consensus: bool = False,
    T_mc: int | None = None,
    order: str = "time",
    track_support: bool = False,
    stop_ratio: float = 0.0,
) -> ADOMTrajectory:
    r"""Run ADOM+ (spec section 3.1) from zero initialisation; optionally with multi-consensus.

    Every iteration evaluates :math:`\nabla F(x_g^k)` once per node and gossips the stacked
    :math:`[\gamma_A\nu_A^{-1}(y_g^k+z_g^k)+m_A^k,\ y_g^k+z_g^k]` in **one** communication round:

    .. math::
        z^{k+1}=z^k+\gamma_A\delta_A(z_g^k-z^k)-W(k)[\gamma_A\nu_A^{-1}(y_g^k+z_g^k)+m_A^k],\quad
        m_A^{k+1}=(I-W(k))[\gamma_A\nu_A^{-1}(y_g^k+z_g^k)+m_A^k],\quad
        z_f^{k+1}=z_g^k-\zeta W(k)(y_g^k+z_g^k).

    With ``multi_consensus`` (spec 3.4) :math:`W(k)` becomes
    :math:`W_{T}(k)=I-\prod_{t<T}(I-W(kT+t))` with :math:`T=\lceil\chi\ln2\rceil` rounds and the
    parameters use :math:`\chi=2`.  ``order='time'`` applies :math:`W(kT)` first (physical time
    order, needed for information-propagation arguments); ``'dadao'`` the DADAO product order.

    ADOM+ has no free stepsize: every parameter follows from :math:`(\mu, L, \chi)`
    (:func:`adom_plus_params`).

    Parameters
    ----------
    problem : NodeQuadratics, NodeLogistic or any object with ``local_grads(X)``, ``n``, ``d``
        ``local_grads(X)`` with ``X`` of shape ``(n, d)`` returns :math:`\nabla f_i(x_i)` stacked.
    x0 : None or zeros
        The method starts from zero (other starts are refused).
    T : int
        Maximal number of iterations K.
    gossip : GossipSequence
    chi, mu, L : float, optional
        The network χ used in the parameters (plain ADOM+; default ``gossip.chi``) and the uniform
        constants (:math:`\mu=\min_i\mu_i`, :math:`L=\max_iL_i`; default the problem's).
    x_star : array (d,), optional
        The minimiser, for the recorded distances (default ``problem.x_star``).
    rng : ignored (deterministic; accepted for the common signature).
    stop_ratio : float
        Stop once ``dist_sq <= stop_ratio * dist_sq[0]`` (0: never).
    """
    grad, n, d, xs, K, mu, L, chi = _validate_run(problem, x0, gossip, T, rng, x_star, mu, L, chi)
    if order not in ("time", "dadao"):
        raise InvalidInput(f"order must be 'time' or 'dadao', got {order!r}")
    if multi_consensus:
        T = multi_consensus_rounds(gossip.chi) if T_mc is None else positive_int("T_mc", T_mc)
        p = adom_plus_params(mu, L, 2.0)
    else:
        T = 1
        p = adom_plus_params(mu, L, chi)
    A, cg = _adom_linear_map(p)
    nd = n * d
    B = np.zeros((8, nd))  # rows: X, Xf, Y, Yf, Z, Zf, M, G' = grad F(x_g) - nu x_g
    P = np.empty((9, nd))
    nu = p["nu"]
    zeta = p["zeta"]
    rec = _Recorder(n, d, xs, K, track_support, stop_ratio)
    for k in range(K):
        Xg = cg @ B[:7]
        B[7] = grad(Xg.reshape(n, d)).ravel()
        B[7] -= nu * Xg
        np.dot(A, B, out=P)
        V = P[7:9].reshape(2, n, d).transpose(1, 0, 2).reshape(n, 2 * d)
        WV = gossip.apply(k, V) if T == 1 else _multi_apply(gossip, k * T, V, T, order)
        WV = WV.reshape(n, 2, d)
        B[:4] = P[:4]
        B[4:7] = P[4:7]
        B[4].reshape(n, d)[...] -= WV[:, 0]
        B[5].reshape(n, d)[...] -= zeta * WV[:, 1]
        B[6].reshape(n, d)[...] -= WV[:, 0]
        if rec.record(k + 1, B[0], [B[j].reshape(n, d) for j in range(7)] if track_support else None):
            break
    X = B[0].reshape(n, d).copy()
    comm = np.maximum(np.arange(rec.k_end + 1) - 1, 0) * T  # x^k is formed before the gossip of iteration k-1
    return rec.trajectory(
        comm, dict(p, T_mc=T), X, {"algorithm": "adom+-mc" if multi_consensus else "adom+", "order": order}
    )


def gradient_tracking(
    problem,
    x0=None,
    *,
    T: int,
    gossip: GossipSequence,
    gamma: float | None = None,
    chi: float | None = None,
    mu: float | None = None,
    L: float | None = None,
    x_star=None,
    rng: np.random.Generator | None = None,
    track_support: bool = False,
    stop_ratio: float = 0.0,
) -> ADOMTrajectory:
    r"""Gradient tracking (DIGing-type) with mixing :math:`M(q)=I-W(q)`: a non-accelerated baseline.

    .. math::
        x^{k+1}=M(k)x^k-\eta s^k,\qquad s^{k+1}=M(k)s^k+\nabla F(x^{k+1})-\nabla F(x^k),\qquad
        s^0=\nabla F(x^0),

    one gradient per node and one communication round (stacked ``[x, s]``) per iteration.  The
    default stepsize ``gamma`` :math:`=\eta=1/(4L\chi)` is a practical choice (the theory's is
    smaller).  The constants are validated as ADOM+'s (finite :math:`0<\mu<L`, :math:`\chi\ge1`;
    ``gamma`` > 0); the other parameters as :func:`adom_plus`.
    """
    grad, n, d, xs, K, mu, L, chi = _validate_run(problem, x0, gossip, T, rng, x_star, mu, L, chi)
    mu, L, chi = _constants(mu, L, chi)
    eta = 1.0 / (4 * L * chi) if gamma is None else positive("gamma", gamma)
    X = np.zeros((n, d))
    Gold = grad(X)
    S = Gold.copy()
    rec = _Recorder(n, d, xs, K, track_support, stop_ratio)
    V = np.empty((n, 2 * d))
    for k in range(K):
        V[:, :d] = X
        V[:, d:] = S
        MV = V - gossip.apply(k, V)
        X = MV[:, :d] - eta * S
        Gnew = grad(X)
        S = MV[:, d:] + Gnew - Gold
        Gold = Gnew
        if rec.record(k + 1, X.ravel(), (X,)):  # x^k: k rounds, k gradient calls (s^k already holds one more)
            break
    return rec.trajectory(np.arange(rec.k_end + 1), {"eta": eta}, X, {"algorithm": "gt"})


METHODS = ("adom+", "adom+-mc", "gt")  #: the methods :func:`run_method` runs by name


def run_method(
    method: str,
    problem,
    *,
    T: int,
    gossip: GossipSequence,
    chi: float,
    order: str = "time",
    gt_step: float = 0.0,
    track_support: bool = False,
    stop_ratio: float = 0.0,
) -> ADOMTrajectory:
    """One of :data:`METHODS` by name from zero: ``'adom+'`` (:func:`adom_plus`), ``'adom+-mc'`` (ADOM+ with
    multi-consensus, products in ``order``) or ``'gt'`` (:func:`gradient_tracking` with stepsize ``gt_step``,
    0: its default 1/(4 L chi)); ``chi`` is the chi the method's parameters use."""
    if method not in METHODS:
        raise InvalidInput(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    run = dict(T=T, gossip=gossip, chi=chi, track_support=track_support, stop_ratio=stop_ratio)
    if method == "gt":
        return gradient_tracking(problem, gamma=gt_step or None, **run)
    return adom_plus(problem, **run, multi_consensus=(method == "adom+-mc"), order=order)
