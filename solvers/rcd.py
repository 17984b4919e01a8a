r"""Sketched randomized coordinate descent (RCD) and Randomized Progressive Training (RPT).

Szlendak, Gasanov, Richtárik, *Understanding Progressive Training Through the Framework of
Randomized Coordinate Descent*, AISTATS 2024, arXiv:2306.03626.

The method is

.. math::
    x^{k+1} = x^k - \gamma\,C^k\nabla f(x^k),\qquad C^k\sim\mathcal D \text{ i.i.d.},\quad
    \mathbb E[C^k] = I,

with *diagonal* sketches :math:`C=\mathrm{Diag}(c)`.  Every sketch here has finitely many
outcomes :math:`(c_\omega, \pi_\omega)`, so its moments are exact sums:

.. math::
    \mathbb E[c] = \sum_\omega \pi_\omega c_\omega,\qquad
    \mathbb E[cc^\top] = \sum_\omega \pi_\omega c_\omega c_\omega^\top,\qquad
    \mathbb E[C\mathbf LC] = \mathbf L\circ\mathbb E[cc^\top],

:math:`\tilde L=\lambda_{\max}(\mathbf L\circ\mathbb E[cc^\top])` and
:math:`\Omega=\lambda_{\max}(\mathbb E[C^2])=\max_i\mathbb E[c_i^2]`.  Besides these enumerated
moments every sketch also carries the closed forms of the spec's sketch table (section 3.1),
``table_expected_CLC``, ``table_L_tilde`` and ``table_Omega``; the claim ``rcd.l-tilde`` checks
that both agree.

Sketches: :class:`GDSketch` (:math:`C=I`), :class:`CoordinateSketch` (one coordinate with
probabilities :math:`\pi_i`), :class:`TauNiceSketch` (uniform subsets of size :math:`\tau`) and
:class:`RPTSketch` (prefix or suffix of blocks with the :math:`1/q_j` rescaling).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.optimize

from ._trajectory import Trajectory
from ._validate import InvalidInput, finite_array, generator, positive, positive_int

__all__ = [
    "Sketch",
    "GDSketch",
    "CoordinateSketch",
    "TauNiceSketch",
    "RPTSketch",
    "make_sketch",
    "check_psd",
    "lambda_max",
    "sketched_rcd",
    "sketched_rcd_naive",
    "RCDTrajectory",
    "block_index",
    "split_blocks",
    "rpt_optimal_probabilities",
    "SKETCHES",
]

PSD_RTOL = 1e-10  #: relative tolerance of the PSD / symmetry checks on a smoothness matrix
MAX_OUTCOMES = 200_000  #: largest outcome list a sketch will enumerate


def check_psd(name: str, L) -> np.ndarray:
    """Return ``L`` as a symmetric PSD float matrix or raise :class:`InvalidInput` naming it."""
    L = finite_array(name, L, ndim=2)
    if L.shape[0] != L.shape[1]:
        raise InvalidInput(f"{name} must be a square matrix, got shape {L.shape}")
    scale = max(float(np.max(np.abs(L))) if L.size else 0.0, 1e-300)
    if np.max(np.abs(L - L.T)) > PSD_RTOL * scale:
        raise InvalidInput(f"{name} must be symmetric, found max |{name} - {name}^T| = {np.max(np.abs(L - L.T)):.3g}")
    ev = scipy.linalg.eigvalsh(L)
    if ev[0] < -PSD_RTOL * max(abs(ev[-1]), 1e-300):
        raise InvalidInput(f"{name} must be positive semidefinite, found eigenvalue {ev[0]:.6g}")
    return 0.5 * (L + L.T)


def lambda_max(M: np.ndarray) -> float:
    """Largest eigenvalue of a symmetric matrix."""
    n = M.shape[0]
    return float(scipy.linalg.eigvalsh(M, subset_by_index=[n - 1, n - 1])[0])


def _distribution(name: str, p, size: int | None = None) -> np.ndarray:
    p = finite_array(name, p, ndim=1)
    if size is not None and p.size != size:
        raise InvalidInput(f"{name} must have {size} entries, got {p.size}")
    if p.size == 0 or np.any(p < 0) or abs(p.sum() - 1.0) > 1e-10:
        raise InvalidInput(
            f"{name} must be a probability distribution (entries >= 0 summing to 1), "
            f"got min {float(p.min()) if p.size else float('nan'):.6g}, sum {float(p.sum()):.12g}"
        )
    return p / p.sum()


def split_blocks(d: int, blocks: int) -> np.ndarray:
    """Sizes of ``blocks`` contiguous blocks covering ``d`` coordinates (as equal as possible)."""
    d, blocks = positive_int("d", d), positive_int("blocks", blocks)
    if blocks > d:
        raise InvalidInput(f"blocks must be <= d = {d}, got {blocks}")
    base, extra = divmod(d, blocks)
    return np.array([base + (j < extra) for j in range(blocks)], dtype=int)


def block_index(block_sizes) -> np.ndarray:
    """Block number of every coordinate, e.g. sizes (2, 3) -> [0, 0, 1, 1, 1]."""
    sizes = np.asarray(block_sizes)
    if sizes.ndim != 1 or sizes.size == 0 or not np.issubdtype(sizes.dtype, np.integer) or np.any(sizes < 1):
        raise InvalidInput(f"block_sizes must be a non-empty list of integers >= 1, got {block_sizes!r}")
    return np.repeat(np.arange(sizes.size), sizes)


# --------------------------------------------------------------------------- sketches
class Sketch:
    r"""A random diagonal sketch :math:`C=\mathrm{Diag}(c)` with finitely many outcomes.

    Subclasses implement :meth:`outcomes` (the exact outcome list), :meth:`sample` (batched
    draws) and the closed forms of the spec's sketch table.  :meth:`moments` returns the exact
    first and second moments (by enumeration, or by an exact combinatorial count where the
    outcome list is too long).
    """

    name: str = ""
    d: int = 0

    # ---------------------------------------------------------------- exact moments
    def outcomes(self) -> tuple[np.ndarray, np.ndarray]:
        """``(c, pi)``: outcome diagonals of shape ``(K, d)`` and their probabilities ``(K,)``."""
        raise NotImplementedError

    def enumerated_moments(self) -> tuple[np.ndarray, np.ndarray]:
        r""":math:`(\mathbb E[c], \mathbb E[cc^\top])=(\sum_\omega\pi_\omega c_\omega, \sum_\omega\pi_\omega c_\omega c_\omega^\top)`,
        literally summed over the outcome list (one matrix product over all outcomes)."""
        c, pi = self.outcomes()
        return pi @ c, c.T @ (pi[:, None] * c)

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        r"""Exact :math:`(\mathbb E[c], \mathbb E[cc^\top])`: by enumeration unless a subclass counts exactly."""
        return self.enumerated_moments()

    def expected_CLC(self, L) -> np.ndarray:
        r""":math:`\mathbb E[C\mathbf LC]=\sum_\omega\pi_\omega C_\omega\mathbf LC_\omega=\mathbf L\circ\mathbb E[cc^\top]`."""
        L = self._smoothness(L)
        return L * self.moments()[1]

    def L_tilde(self, L) -> float:
        r""":math:`\tilde L=\lambda_{\max}(\mathbb E[C\mathbf LC])` from the exact moments."""
        return lambda_max(self.expected_CLC(L))

    def Omega(self) -> float:
        r""":math:`\Omega=\lambda_{\max}(\mathbb E[C^2])=\max_i\mathbb E[c_i^2]` (C diagonal)."""
        return float(np.max(np.diag(self.moments()[1])))

    # ---------------------------------------------------------------- spec table (closed forms)
    def table_expected_CLC(self, L) -> np.ndarray:
        raise NotImplementedError

    def table_L_tilde(self, L) -> float:
        return lambda_max(self.table_expected_CLC(L))

    def table_Omega(self) -> float:
        raise NotImplementedError

    # ---------------------------------------------------------------- sampling
    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` independent outcome diagonals, shape ``(size, d)``."""
        raise NotImplementedError

    def _smoothness(self, L) -> np.ndarray:
        L = check_psd("L", L)
        if L.shape[0] != self.d:
            raise InvalidInput(f"L must be {self.d} x {self.d} for this sketch, got {L.shape}")
        return L

    def __repr__(self) -> str:  # pragma: no cover - cosmetic
        return f"{type(self).__name__}({self.name}, d={self.d})"


class GDSketch(Sketch):
    r"""Gradient descent, :math:`C=I`: :math:`\mathbb E[C\mathbf LC]=\mathbf L`, :math:`\Omega=1`."""

    def __init__(self, d: int):
        self.d = positive_int("d", d)
        self.name = "gd"

    def outcomes(self):
        return np.ones((1, self.d)), np.ones(1)

    def table_expected_CLC(self, L):
        return self._smoothness(L).copy()

    def table_L_tilde(self, L):
        return lambda_max(self._smoothness(L))

    def table_Omega(self):
        return 1.0

    def sample(self, rng, size):
        return np.ones((size, self.d))


class CoordinateSketch(Sketch):
    r"""One coordinate i with probability :math:`\pi_i`, :math:`C=e_ie_i^\top/\pi_i`.

    Table: :math:`\mathbb E[C\mathbf LC]=\mathrm{Diag}(\mathbf L_{ii}/\pi_i)`,
    :math:`\tilde L=\max_i\mathbf L_{ii}/\pi_i`, :math:`\Omega=\max_i1/\pi_i`.
    """

    def __init__(self, pi, name: str = "coordinate"):
        self.pi = _distribution("pi", pi)
        if np.any(self.pi <= 0):
            raise InvalidInput("pi must be > 0 for every coordinate (a coordinate with pi_i = 0 is never updated)")
        self.d = self.pi.size
        self.name = name

    @classmethod
    def uniform(cls, d: int) -> "CoordinateSketch":
        return cls(np.full(positive_int("d", d), 1.0 / d), name="coordinate-uniform")

    @classmethod
    def importance(cls, L) -> "CoordinateSketch":
        r""":math:`\pi_i\propto\mathbf L_{ii}` (then :math:`\tilde L=\mathrm{tr}\,\mathbf L`)."""
        L = check_psd("L", L)
        diag = np.diag(L)
        if np.any(diag <= 0):
            raise InvalidInput("L must have a positive diagonal for importance sampling")
        return cls(diag / diag.sum(), name="coordinate-importance")

    def outcomes(self):
        return np.diag(1.0 / self.pi), self.pi.copy()

    def moments(self):
        return np.ones(self.d), np.diag(1.0 / self.pi)

    def table_expected_CLC(self, L):
        return np.diag(np.diag(self._smoothness(L)) / self.pi)

    def table_L_tilde(self, L):
        return float(np.max(np.diag(self._smoothness(L)) / self.pi))

    def table_Omega(self):
        return float(np.max(1.0 / self.pi))

    def sample(self, rng, size):
        idx = rng.choice(self.d, size=size, p=self.pi)
        c = np.zeros((size, self.d))
        c[np.arange(size), idx] = 1.0 / self.pi[idx]
        return c


class TauNiceSketch(Sketch):
    r"""A uniformly random subset S of size :math:`\tau`, :math:`C=\frac d\tau\mathrm{Diag}(\mathbf 1_S)`.

    Exact moments by counting: :math:`\mathbb E[c_i^2]=d/\tau` and, for :math:`i\ne j`,
    :math:`\mathbb E[c_ic_j]=\frac{d^2}{\tau^2}\frac{\tau(\tau-1)}{d(d-1)}`.  Table:
    :math:`\mathbb E[C\mathbf LC]=\frac d\tau\big[\beta\mathbf L+(1-\beta)\mathrm{Diag}(\mathbf L)\big]`
    with :math:`\beta=\frac{\tau-1}{d-1}`, :math:`\Omega=d/\tau`.
    """

    def __init__(self, d: int, tau: int):
        self.d = positive_int("d", d)
        self.tau = positive_int("tau", tau)
        if self.tau > self.d:
            raise InvalidInput(f"tau must be <= d = {self.d}, got {tau}")
        self.name = f"tau-nice({self.tau})"

    def outcomes(self):
        K = math.comb(self.d, self.tau)
        if K > MAX_OUTCOMES:
            raise InvalidInput(
                f"tau-nice with d={self.d}, tau={self.tau} has {K} outcomes (> {MAX_OUTCOMES}); use moments()"
            )
        idx = np.array(list(itertools.combinations(range(self.d), self.tau)), dtype=int).reshape(K, self.tau)
        c = np.zeros((K, self.d))
        c[np.arange(K)[:, None], idx] = self.d / self.tau
        return c, np.full(K, 1.0 / K)

    def moments(self):
        d, t = self.d, self.tau
        off = (d / t) ** 2 * (t * (t - 1)) / (d * (d - 1)) if d > 1 else 0.0
        second = np.full((d, d), off)
        np.fill_diagonal(second, d / t)
        return np.ones(d), second

    def table_expected_CLC(self, L):
        L = self._smoothness(L)
        d, t = self.d, self.tau
        beta = (t - 1) / (d - 1) if d > 1 else 1.0
        return d / t * (beta * L + (1 - beta) * np.diag(np.diag(L)))

    def table_Omega(self):
        return self.d / self.tau

    def sample(self, rng, size):
        keys = rng.random((size, self.d))
        kth = np.partition(keys, self.tau - 1, axis=1)[:, self.tau - 1 : self.tau]
        return (keys <= kth) * (self.d / self.tau)


class RPTSketch(Sketch):
    r"""Randomized Progressive Training: a random prefix (or suffix) of blocks is trained.

    Draw :math:`s\in\{1..J\}` with :math:`P(s=j)=p_j`.  *Prefix*: blocks :math:`j\le s` are
    updated with scale :math:`u_j=1/q_j`, :math:`q_j=P(s\ge j)`; *suffix* (Drop-Muon style):
    blocks :math:`j\ge s` with :math:`u_j=1/q'_j`, :math:`q'_j=P(s\le j)`.  ``scaled=False`` drops
    the rescaling (the biased variant, :math:`\mathbb E[C]=\mathrm{Diag}(q)\ne I`).

    Table (prefix): :math:`\mathbb E[C\mathbf LC]=\mathbf L\circ Q`, :math:`Q_{(i)(j)}=1/q_{\min(i,j)}`,
    :math:`\Omega=1/q_J`; for block-diagonal :math:`\mathbf L`,
    :math:`\tilde L=\max_j\lambda_{\max}(\mathbf L_{(jj)})/q_j`.  Suffix: :math:`Q_{(i)(j)}=1/q'_{\max(i,j)}`,
    :math:`\Omega=1/q'_1`.
    """

    def __init__(self, block_sizes, p, order: str = "prefix", scaled: bool = True):
        self.blk = block_index(block_sizes)
        self.block_sizes = np.asarray(block_sizes, dtype=int)
        self.J = self.block_sizes.size
        self.d = int(self.block_sizes.sum())
        self.p = _distribution("p", p, self.J)
        if order not in ("prefix", "suffix"):
            raise InvalidInput(f"order must be 'prefix' or 'suffix', got {order!r}")
        self.order = order
        self.scaled = bool(scaled)
        if order == "prefix":
            if self.p[-1] <= 0:
                raise InvalidInput(
                    f"p[{self.J - 1}] (p_J, the probability of training every block) must be > 0 for the "
                    "prefix sketch: otherwise the last block is never trained (q_J = 0, L_tilde = inf)"
                )
            self.q = np.cumsum(self.p[::-1])[::-1]  # P(s >= j)
        else:
            if self.p[0] <= 0:
                raise InvalidInput(
                    "p[0] (p_1) must be > 0 for the suffix sketch: otherwise the first block is never "
                    "trained (q'_1 = 0, L_tilde = inf)"
                )
            self.q = np.cumsum(self.p)  # P(s <= j)
        self.q = np.minimum(self.q, 1.0)
        self.name = f"rpt-{order}" + ("" if self.scaled else "-unscaled")

    def _block_masks(self) -> np.ndarray:
        """(J, J) boolean: row s = which blocks outcome s trains."""
        j = np.arange(self.J)
        return (j[None, :] <= j[:, None]) if self.order == "prefix" else (j[None, :] >= j[:, None])

    def _scale(self) -> np.ndarray:
        return 1.0 / self.q if self.scaled else np.ones(self.J)

    def outcomes(self):
        c_blocks = self._block_masks() * self._scale()[None, :]
        return c_blocks[:, self.blk], self.p.copy()

    def table_Q(self) -> np.ndarray:
        """The (d, d) block-constant matrix Q of the spec's table (scaled sketches only)."""
        j = np.arange(self.J)
        pick = np.minimum.outer(j, j) if self.order == "prefix" else np.maximum.outer(j, j)
        return (1.0 / self.q[pick])[np.ix_(self.blk, self.blk)]

    def table_expected_CLC(self, L):
        if not self.scaled:
            raise InvalidInput("the spec's table covers the scaled RPT sketch only (scaled=True)")
        return self._smoothness(L) * self.table_Q()

    def table_L_tilde(self, L):
        L = self._smoothness(L)
        off = L.copy()
        same = self.blk[:, None] == self.blk[None, :]
        off[same] = 0.0
        if not np.any(off):  # block-diagonal: max_j lambda_max(L_jj)/q_j
            lam = [lambda_max(L[np.ix_(self.blk == j, self.blk == j)]) for j in range(self.J)]
            return float(np.max(np.array(lam) / self.q))
        return lambda_max(self.table_expected_CLC(L))

    def table_Omega(self):
        if not self.scaled:
            raise InvalidInput("the spec's table covers the scaled RPT sketch only (scaled=True)")
        return float(1.0 / (self.q[-1] if self.order == "prefix" else self.q[0]))

    def sample(self, rng, size):
        s = rng.choice(self.J, size=size, p=self.p)
        j = self.blk[None, :]
        mask = (j <= s[:, None]) if self.order == "prefix" else (j >= s[:, None])
        return mask * self._scale()[self.blk][None, :]


SKETCHES = ("gd", "coordinate-uniform", "coordinate-importance", "tau-nice", "rpt-prefix", "rpt-suffix")


def make_sketch(kind: str, L, *, tau: int = 1, block_sizes=None, p=None, scaled: bool = True) -> Sketch:
    """Build a sketch by name (one of :data:`SKETCHES`) for the smoothness matrix ``L``."""
    L = check_psd("L", L)
    d = L.shape[0]
    if kind == "gd":
        return GDSketch(d)
    if kind == "coordinate-uniform":
        return CoordinateSketch.uniform(d)
    if kind == "coordinate-importance":
        return CoordinateSketch.importance(L)
    if kind == "tau-nice":
        return TauNiceSketch(d, tau)
    if kind in ("rpt-prefix", "rpt-suffix"):
        if block_sizes is None or p is None:
            raise InvalidInput(f"sketch {kind!r} needs block_sizes and p")
        return RPTSketch(block_sizes, p, order=kind.split("-")[1], scaled=scaled)
    raise InvalidInput(f"sketch must be one of {', '.join(SKETCHES)}, got {kind!r}")


# --------------------------------------------------------------------------- the method
@dataclass(kw_only=True)
class RCDTrajectory(Trajectory):
    """Per-replication series of a sketched RCD run (rows: replications, columns: k = 0..T).

    ``dist_sq`` is :math:`\\Vert x^k-x^\\star\\Vert^2` when ``x_star`` was given, else None;
    ``grad_norm_sq`` is None for the naive reference run.
    """

    SERIES = ("f", "grad_norm_sq", "dist_sq")

    gamma: float
    f: np.ndarray
    grad_norm_sq: np.ndarray | None
    dist_sq: np.ndarray | None = None


def _check_run(problem, x0, gamma, sketch, T, replications):
    x0 = finite_array("x0", x0, ndim=1)
    if x0.size != sketch.d:
        raise InvalidInput(f"x0 must have {sketch.d} entries to match the sketch, got {x0.size}")
    return x0, positive("gamma", gamma), positive_int("T", T), positive_int("replications", replications)


def sketched_rcd(
    problem,
    x0,
    *,
    gamma: float,
    T: int,
    sketch: Sketch,
    rng: np.random.Generator,
    replications: int = 1,
    x_star=None,
) -> RCDTrajectory:
    r"""Run :math:`x^{k+1}=x^k-\gamma C^k\nabla f(x^k)` for ``replications`` independent paths at once.

    ``problem`` needs ``value(x)`` and ``grad(x)`` batched over leading dimensions (see
    :class:`solvers.problems.Quadratic`).  State is a ``(replications, d)`` array; each iteration
    draws ``replications`` sketch diagonals in one call (from ``rng``).  Diverging paths are frozen
    at ``inf``.
    """
    x0, gamma, T, R = _check_run(problem, x0, gamma, sketch, T, replications)
    rng = generator(rng, "the sketch")
    x = np.tile(x0, (R, 1))
    f = np.empty((R, T + 1))
    g2 = np.empty((R, T + 1))
    dist = None if x_star is None else np.empty((R, T + 1))
    xs = None if x_star is None else finite_array("x_star", x_star, ndim=1)
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(T + 1):
            if hasattr(problem, "value_and_grad"):
                f[:, k], g = problem.value_and_grad(x)
            else:
                g = problem.grad(x)
                f[:, k] = problem.value(x)
            g2[:, k] = np.einsum("rd,rd->r", g, g)
            if dist is not None:
                e = x - xs
                dist[:, k] = np.einsum("rd,rd->r", e, e)
            if k < T:
                x = x - gamma * sketch.sample(rng, R) * g
    bad = ~np.isfinite(f) | ~np.isfinite(g2)
    if bad.any():  # a diverged path stays diverged
        first = np.where(bad.any(1), bad.argmax(1), T + 1)
        after = np.arange(T + 1)[None, :] >= first[:, None]
        f[after], g2[after] = np.inf, np.inf
        if dist is not None:
            dist[after] = np.inf
    return RCDTrajectory(T=T, gamma=gamma, f=f, grad_norm_sq=g2, dist_sq=dist, x_final=x, meta={"sketch": sketch.name})


def sketched_rcd_naive(
    problem, x0, *, gamma: float, T: int, sketch: Sketch, rng: np.random.Generator, replications: int = 1
) -> RCDTrajectory:
    """Reference implementation: one path at a time, one dense sketch matrix per step (slow; tests and benchmarks).

    Records ``f`` only (``grad_norm_sq`` is None); the same random stream as :func:`sketched_rcd`.
    """
    x0, gamma, T, R = _check_run(problem, x0, gamma, sketch, T, replications)
    rng = generator(rng, "the sketch")
    f = np.empty((R, T + 1))
    X = np.empty((R, x0.size))
    draws = [sketch.sample(rng, R) for _ in range(T)]  # the same random stream as sketched_rcd
    for r in range(R):
        x = x0.copy()
        for k in range(T + 1):
            f[r, k] = float(problem.value(x))
            if k < T:
                C = np.diag(draws[k][r])
                x = x - gamma * C @ problem.grad(x)
        X[r] = x
    return RCDTrajectory(T=T, gamma=gamma, f=f, grad_norm_sq=None, x_final=X, meta={"sketch": sketch.name})


# --------------------------------------------------------------------------- cost trade-off
def rpt_optimal_probabilities(
    L, block_sizes, cost, order: str = "prefix", starts: int = 4, *, rng: np.random.Generator | None = None
):
    r"""Minimise the RPT cost proxy :math:`\tilde L(p)\sum_sp_s\,\mathrm{cost}_s` over the simplex.

    The iteration complexity at :math:`\gamma=1/\tilde L` is proportional to :math:`\tilde L(p)`
    (spec section 3.1, "cost trade-off"), and one iteration with prefix length s costs
    :math:`\mathrm{cost}_s`.  Parametrised by a softmax, minimised by Nelder-Mead from the uniform
    distribution, from GD's :math:`p=e_J` (smoothed) and from ``starts - 2`` random starts drawn
    from ``rng`` (required when ``starts > 2``).  Returns
    ``(p, value)``; GD is ``p = e_J`` with value :math:`\lambda_{\max}(\mathbf L)\,\mathrm{cost}_J`.
    """
    L = check_psd("L", L)
    sizes = np.asarray(block_sizes, dtype=int)
    J = sizes.size
    cost = finite_array("cost", cost, ndim=1)
    if cost.size != J or np.any(cost <= 0):
        raise InvalidInput(f"cost must have {J} entries > 0, got {cost!r}")
    rng = generator(rng, "the random starts" if starts > 2 else None)
    anchor = J - 1 if order == "prefix" else 0

    def to_p(z):
        z = np.r_[z, 0.0]
        w = np.exp(z - z.max())
        return w / w.sum()

    perm = np.r_[np.delete(np.arange(J), anchor), anchor]  # softmax reference = the anchor block
    inv = np.argsort(perm)

    def objective(z):
        p = to_p(z)[inv]
        sk = RPTSketch(sizes, p, order=order)
        return sk.L_tilde(L) * float(p @ cost)

    inits = [np.zeros(J - 1), np.full(J - 1, -4.0)] + [rng.normal(0, 1.5, J - 1) for _ in range(max(0, starts - 2))]
    best = None
    for z0 in inits:
        res = scipy.optimize.minimize(
            objective, z0, method="Nelder-Mead", options={"xatol": 1e-6, "fatol": 1e-10, "maxiter": 400 * J}
        )
        if best is None or res.fun < best.fun:
            best = res
    return to_p(best.x)[inv], float(best.fun)


# --------------------------------------------------------------------------- exact constants and sketch identities
def sketch_constants(problem, sketch: Sketch) -> dict:
    r"""Exact constants of ``sketch`` on ``problem`` (a problem with ``L_matrix``, ``L``, ``d``, ``block_sizes``,
    ``mu``): :math:`\tilde L=\lambda_{\max}(\mathbf L\circ\mathbb E[cc^\top])`, :math:`\Omega=\max_i\mathbb E[c_i^2]`
    and :math:`\max_i|\mathbb E[c_i]-1|` (0: unbiased) from the exact moments, with L, d, the number of
    blocks and, when the problem has one, :math:`\mu` (Szlendak, Gasanov, Richtárik, AISTATS 2024, section 3.1)."""
    mean, second = sketch.moments()
    c = dict(
        L=problem.L,
        L_tilde=lambda_max(problem.L_matrix * second),
        Omega=float(np.max(np.diag(second))),
        d=problem.d,
        blocks=len(problem.block_sizes),
        sketch_mean_error=float(np.max(np.abs(mean - 1))),
    )
    if problem.mu is not None:
        c["mu"] = float(problem.mu)
    return c


def random_block_structure(rng: np.random.Generator, d_max: int = 8) -> tuple[int, np.ndarray, np.ndarray]:
    """A random block structure: dimension d uniform in [2, ``d_max``], J uniform in [1, d] non-empty blocks
    (sizes from J + (d - J) uniform block labels) and block probabilities Dirichlet(1), floored at 1e-3 and
    renormalised.  Returns ``(d, block_sizes, probabilities)``."""
    d = int(rng.integers(2, d_max + 1))
    J = int(rng.integers(1, d + 1))
    sizes = np.bincount(np.sort(np.r_[np.arange(J), rng.integers(0, J, d - J)]), minlength=J)
    probs = rng.dirichlet(np.ones(J))
    probs = np.maximum(probs, 1e-3)
    return d, sizes, probs / probs.sum()


def sketch_table_errors(rng: np.random.Generator, samples: int, kinds, L_tilde_table=None) -> tuple[list, list]:
    r"""Relative errors of the sketch table's closed forms against outcome enumeration, on sampled instances.

    Each of the ``samples`` instances draws a block structure (:func:`random_block_structure`), a smoothness
    matrix :math:`\mathbf L=BB^\top/d` with row-scaled Gaussian B (block-diagonal on odd samples, which exercises
    the RPT table's block shortcut) and :math:`\tau`; for every sketch in ``kinds`` the error is the largest of
    the relative errors of :math:`\mathbb E[C\mathbf LC]` (max entry, relative to the largest entry),
    :math:`\tilde L` and :math:`\Omega`, against :math:`\sum_\omega\pi_\omega C_\omega\mathbf LC_\omega`, its
    :math:`\lambda_{\max}` and :math:`\lambda_{\max}(\sum_\omega\pi_\omega C_\omega^2)`.  ``L_tilde_table(sketch, L)``
    replaces the table's :math:`\tilde L` (default :meth:`Sketch.table_L_tilde`).  Returns ``(errors, kinds)``,
    one entry per (sample, sketch), in that order."""
    L_tilde_table = L_tilde_table or (lambda sk, L: sk.table_L_tilde(L))
    errs, labels = [], []
    for i in range(samples):  # sampled instances (a loop over instances, not coordinates)
        d, sizes, probs = random_block_structure(rng)
        B = rng.standard_normal((d, d + 2)) * np.exp(rng.normal(0, 1, d))[:, None]
        L = B @ B.T / d
        if i % 2:
            blk = np.repeat(np.arange(sizes.size), sizes)
            L = L * (blk[:, None] == blk[None, :])
        tau = int(rng.integers(1, d + 1))
        for kind in kinds:
            sk = make_sketch(kind, L, tau=tau, block_sizes=sizes, p=probs)
            cw, pw = sk.outcomes()
            E_enum = np.einsum("k,ki,ij,kj->ij", pw, cw, L, cw)  # sum_w pi_w C_w L C_w
            Om_enum = lambda_max(np.diag(pw @ (cw * cw)))  # lambda_max(sum_w pi_w C_w^2)
            Lt_enum = lambda_max(E_enum)
            E_tab, Lt_tab, Om_tab = sk.table_expected_CLC(L), L_tilde_table(sk, L), sk.table_Omega()
            scale = max(np.max(np.abs(E_enum)), 1e-300)
            errs.append(
                max(
                    np.max(np.abs(E_tab - E_enum)) / scale,
                    abs(Lt_tab - Lt_enum) / Lt_enum,
                    abs(Om_tab - Om_enum) / Om_enum,
                )
            )
            labels.append(kind)
    return errs, labels


def rpt_mean_errors(rng: np.random.Generator, samples: int, kinds, scaled: bool = True) -> list:
    r""":math:`\max_i|\mathbb E[c_i]-1|` of the RPT sketches ``kinds`` (``rpt-prefix``, ``rpt-suffix``), summed
    over their J outcomes, on ``samples`` sampled block structures (:func:`random_block_structure`, d <= 12);
    one entry per (sample, sketch).  0 up to rounding when ``scaled`` (the :math:`1/q_j` rescaling)."""
    errs = []
    for _ in range(samples):
        d, sizes, probs = random_block_structure(rng, d_max=12)
        for kind in kinds:
            cw, pw = RPTSketch(sizes, probs, order=kind.split("-")[-1], scaled=scaled).outcomes()
            errs.append(float(np.max(np.abs(pw @ cw - 1.0))))
    return errs


def l_tilde_vs_probabilities(problem, ratios=None) -> dict:
    r""":math:`\tilde L(p)/\lambda_{\max}(\mathbf L)` for the RPT prefix sketch along the family
    :math:`p_j\propto r^{j}` (r < 1 favours short prefixes, r > 1 favours training every block)."""
    ratios = np.geomspace(0.25, 8.0, 41) if ratios is None else np.asarray(ratios, dtype=float)
    J = len(problem.block_sizes)
    out = []
    for r in ratios:
        p = r ** np.arange(J)
        sk = RPTSketch(problem.block_sizes, p / p.sum())
        out.append(sk.L_tilde(problem.L_matrix) / problem.L)
    return {"ratio": ratios, "L_tilde_over_L": np.array(out)}


__all__ += [
    "sketch_constants",
    "random_block_structure",
    "sketch_table_errors",
    "rpt_mean_errors",
    "l_tilde_vs_probabilities",
]
