r"""Seeded instance generators with controlled constants, and the random streams of a run.

Each generator takes target constants and a seed and returns a ``solvers`` problem whose exact
constants are then *recomputed* by the problem itself (never assumed from the targets).

One seed names one run, and :func:`streams` turns it into three independent generators: the
instance's data (every generator here draws from ``streams(seed).data``, the seed's root stream), the
start point (``streams(seed).start``) and the algorithm (``streams(seed).algorithm``, the ``rng`` a
solver receives), the last two spawned from the seed's ``SeedSequence``.  Changing how a start point or a solver draws never changes the data, and no start point
is a copy of the data (EF21's used to be exactly the first data row of client 0).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import sympy as sp
from scipy.optimize import brentq

from ratecheck.solvers.adom import StarSequence
from ratecheck.solvers.problems import LeastSquares, NonconvexLogistic, QuadraticClients
from ratecheck.theorems.ef21 import theta_c as _theta_c_expr
from ratecheck.theorems.ef21 import xi as _xi_expr

from .errors import UsageError
from .optima import matrix_l2_logistic_optimum
from .resources import Need, check_memory

__all__ = [
    "Streams",
    "streams",
    "smoothness_profile",
    "heterogeneous_least_squares",
    "heterogeneous_logistic",
    "heterogeneous_problem",
    "sampled_least_squares_smoothness",
]


class Streams(NamedTuple):
    """Independent generators of one run: instance ``data``, ``start`` point, ``algorithm``."""

    data: np.random.Generator
    start: np.random.Generator
    algorithm: np.random.Generator


def streams(seed) -> Streams:
    """The three independent random streams of ``seed`` (an int, or a sequence of ints naming a sub-run).

    With ``ss = numpy.random.SeedSequence(seed)``: ``data`` is the root stream ``default_rng(ss)``
    (the very numbers ``default_rng(seed)`` gives, so every instance is the one this seed always
    named), and ``start``, ``algorithm`` are ``ss.spawn(2)``: children with their own spawn keys,
    independent of the root and of each other by construction.  Before, the same
    ``default_rng(seed)`` served data, start point and algorithm, which handed each of them the
    *same* numbers.  Fresh generators on every call, so ``streams(seed).data`` drawn by an instance
    builder and by an experiment agree.
    """
    ss = np.random.SeedSequence(seed)
    data = np.random.default_rng(ss)
    start, algorithm = (np.random.default_rng(s) for s in ss.spawn(2))
    return Streams(data, start, algorithm)


def _spread(L: np.ndarray) -> float:
    return float(np.sqrt(np.mean(L**2)) / np.mean(L))


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
        raise UsageError(
            f"spread={spread!r} is not reachable with profile={profile!r} and n={n} "
            f"(at most about {_spread(shape(hi)):.4g})"
        )
    a = brentq(lambda a: _spread(shape(a)) - spread, 1.0, hi, xtol=1e-14, rtol=1e-14, maxiter=500)
    L = shape(a)
    return L * (L_am / L.mean())


def heterogeneous_least_squares(
    n: int = 20,
    d: int = 30,
    m: int = 10,
    spread: float = 2.0,
    profile: str = "outlier",
    L_am: float = 1.0,
    noise: float = 0.5,
    seed: int = 0,
) -> LeastSquares:
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
    rng = streams(seed).data
    A = rng.standard_normal((n, m, d))
    xs = rng.standard_normal(d) / np.sqrt(d)
    b = A @ xs + noise * rng.standard_normal((n, m))
    raw = LeastSquares(A, b).L_i
    s = np.sqrt(target / raw)
    return LeastSquares(A * s[:, None, None], b * s[:, None])


def heterogeneous_logistic(
    n: int = 20,
    d: int = 20,
    m: int = 20,
    spread: float = 2.0,
    profile: str = "outlier",
    L_am: float = 1.0,
    lam: float = 0.1,
    seed: int = 0,
) -> NonconvexLogistic:
    r"""Logistic regression with the nonconvex regulariser and prescribed certified :math:`L_i`.

    The loss part of client i is rescaled so that
    :math:`\lambda_{\max}(A_i^\top A_i)/(4m)+2\lambda` equals the target; this needs every target
    above :math:`2\lambda`.  Labels come from a random linear model with 10% flipped.
    """
    target = smoothness_profile(n, spread, profile, L_am)
    if np.min(target) <= 2 * lam:
        raise UsageError(f"L_am={L_am} is too small for lam={lam} at spread={spread}: every L_i must exceed 2*lam")
    rng = streams(seed).data
    A = rng.standard_normal((n, m, d))
    w = rng.standard_normal(d)
    y = np.sign(A @ w + 1e-12)
    y[rng.random((n, m)) < 0.1] *= -1
    raw = NonconvexLogistic(A, y, lam=0.0).L_i
    s = np.sqrt((target - 2 * lam) / raw)
    return NonconvexLogistic(A * s[:, None, None], y, lam=lam)


def heterogeneous_problem(problem: str, **kw) -> LeastSquares | NonconvexLogistic:
    """:func:`heterogeneous_least_squares` (``problem='least-squares'``, keyword ``noise``) or
    :func:`heterogeneous_logistic` (``'logistic'``, keyword ``lam``); the other keywords go to both."""
    if problem == "least-squares":
        kw.pop("lam", None)
        return heterogeneous_least_squares(**kw)
    if problem == "logistic":
        kw.pop("noise", None)
        return heterogeneous_logistic(**kw)
    raise UsageError(f"problem must be 'least-squares' or 'logistic', got {problem!r}")


def sampled_least_squares_smoothness(rng: np.random.Generator, K: int = 40) -> tuple[np.ndarray, np.ndarray]:
    r"""Exact :math:`L` and :math:`L_{am}` of ``K`` random :func:`heterogeneous_least_squares` instances
    (n in [2, 30), d in [2, 15), m in [1, 8), spread a random fraction of at most half its feasible range
    :math:`[1,\sqrt n]`, a random profile); a loop over instances, not over clients."""
    Ls, Lam = np.empty(K), np.empty(K)
    for j in range(K):
        n = int(rng.integers(2, 30))
        spread = float(1 + (np.sqrt(n) - 1) * rng.uniform(0, 0.5))
        prob = heterogeneous_least_squares(
            n=n,
            d=int(rng.integers(2, 15)),
            m=int(rng.integers(1, 8)),
            spread=spread,
            profile=str(rng.choice(["outlier", "geometric"])),
            seed=int(rng.integers(2**31)),
        )
        Ls[j], Lam[j] = prob.L, prob.L_am
    return Ls, Lam


# --------------------------------------------------------------------------- ADOM+ (time-varying networks)
def adom_quadratics(n: int = 10, d: int = 5, mu: float = 1.0, L: float = 100.0, seed: int = 0):
    r"""Local quadratics with exactly prescribed :math:`\mu` and :math:`L` on every node (ADOM+ spec §4).

    .. math::
        C_i=\mu I+(L-\mu)\frac{G_i^\top G_i}{\lambda_{\max}(G_i^\top G_i)},\qquad
        G_i\in\mathbb R^{(d-1)\times d},\ (G_i)_{jk}\sim U[0,1),

    so :math:`\lambda_{\min}(C_i)=\mu` (rank :math:`d-1`) and :math:`\lambda_{\max}(C_i)=L`;
    :math:`b_i\sim\mu\,U[0,1)^d`.  The problem recomputes all constants and :math:`x^\star`.
    """
    from ratecheck.solvers.problems import NodeQuadratics

    for nm, v in (("n", n), ("d", d)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 2:
            raise UsageError(f"{nm} must be an integer >= 2, got {v!r}")
    if not (np.isfinite(mu) and np.isfinite(L) and 0 < mu < L):
        raise UsageError(f"mu and L must satisfy 0 < mu < L, got mu={mu!r}, L={L!r}")
    rng = streams(seed).data
    G = rng.random((n, d - 1, d))
    GG = np.einsum("nkd,nke->nde", G, G)
    lam = np.linalg.eigvalsh(GG)[:, -1]
    C = mu * np.eye(d) + (L - mu) * GG / lam[:, None, None]
    C = 0.5 * (C + C.transpose(0, 2, 1))
    b = mu * rng.random((n, d))
    return NodeQuadratics(C, b)


def adom_logistic(n: int = 10, d: int = 5, m: int = 20, lam: float = 0.1, seed: int = 0):
    r"""Per-node :math:`\ell_2`-logistic regression with :math:`\mu=\lambda`; :math:`x^\star` certified by
    :func:`verify.optima.decentralized_logistic_optimum`."""
    from ratecheck.solvers.problems import NodeLogistic

    from .optima import decentralized_logistic_optimum

    rng = streams(seed).data
    A = rng.standard_normal((n, m, d))
    w = rng.standard_normal(d)
    y = np.sign(A @ w + 1e-12)
    y[rng.random((n, m)) < 0.1] *= -1
    prob = NodeLogistic(A, y, lam)
    opt = decentralized_logistic_optimum(prob)
    prob.x_star = opt.x
    prob.certificate = opt.certificate
    return prob


def relabelled_ring(n: int, seed: int = 0):
    """Ring with a fresh uniform relabelling every round (spec §4, network 1); χ of the ring."""
    from ratecheck.solvers.adom import RelabelledRing

    return RelabelledRing(n, seed=seed)


def random_geometric_cycle(n: int, K: int = 50, radius: float = 0.4, seed: int = 0):
    r"""Cycle through ``K`` random geometric graphs (radius ``radius`` in the unit square), each made
    connected by joining every extra component to its nearest node in the first one (spec §4,
    network 2, after DADAO ``data.py``).  χ is the maximum over the graphs."""
    from ratecheck.solvers.adom import CyclicGossip, laplacian, normalized_gossip

    rng = streams(seed).data
    mats = []
    for _ in range(K):
        P = rng.random((n, 2))
        D = np.linalg.norm(P[:, None] - P[None], axis=-1)
        iu = np.triu_indices(n, 1)
        close = D[iu] <= radius
        edges = np.c_[iu[0][close], iu[1][close]]
        comp = _components(n, edges)
        main = comp == comp[0]
        extra = []
        for c in np.unique(comp):
            if c == comp[0]:
                continue
            inside = np.flatnonzero(comp == c)
            out = np.flatnonzero(main)
            sub = D[np.ix_(inside, out)]
            i, j = np.unravel_index(np.argmin(sub), sub.shape)
            extra.append((inside[i], out[j]))
            main |= comp == c
        if extra:
            edges = np.r_[edges, np.array(extra)]
        mats.append(normalized_gossip(laplacian(n, edges))[0])
    return CyclicGossip(mats)


def _components(n: int, edges: np.ndarray) -> np.ndarray:
    import scipy.sparse as sps
    from scipy.sparse.csgraph import connected_components

    A = (
        sps.coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n))
        if len(edges)
        else sps.coo_matrix((n, n))
    )
    return connected_components(A, directed=False)[1]


def ring_star_alternating(n: int):
    r"""Alternate a ring and a star (centre 0): :math:`\chi=\max(\chi_{\rm ring},n)` (spec §4, network 3)."""
    from ratecheck.solvers.adom import CyclicGossip, laplacian, normalized_gossip

    idx = np.arange(n)
    ring = normalized_gossip(laplacian(n, np.c_[idx, (idx + 1) % n]))[0]
    star = normalized_gossip(laplacian(n, np.c_[np.zeros(n - 1, dtype=int), idx[1:]]))[0]
    return CyclicGossip([ring, star])


ADOM_NETWORKS = ("ring", "rgg", "ring-star", "star")  #: the gossip families of :func:`adom_network`


def adom_network(kind: str, n: int, seed: int = 0):
    """A gossip sequence of n nodes with exact chi: a relabelled ring (:func:`relabelled_ring`), a cycle of 50
    random geometric graphs (:func:`random_geometric_cycle`), a ring and a star alternating
    (:func:`ring_star_alternating`), or the star centred at node 0 in every round."""
    if kind == "ring":
        return relabelled_ring(n, seed)
    if kind == "rgg":
        return random_geometric_cycle(n, K=50, seed=seed)
    if kind == "ring-star":
        return ring_star_alternating(n)
    if kind == "star":
        return StarSequence(n, np.arange(n))
    raise UsageError(f"network must be one of {', '.join(ADOM_NETWORKS)}, got {kind!r}")


def adom_problem(problem: str, n: int, d: int, m: int, mu: float, L: float, seed: int = 0):
    """The local problems of the ADOM+ experiment: quadratics with exact mu and L (:func:`adom_quadratics`), or
    l2-logistic regression with m points per node and mu = lambda (:func:`adom_logistic`; L from the data)."""
    if problem == "quadratic":
        return adom_quadratics(n, d, mu, L, seed)
    if problem == "logistic":
        return adom_logistic(n, d, m, mu, seed)
    raise UsageError(f"problem must be 'quadratic' or 'logistic', got {problem!r}")


def chain_hard_instance(n: int = 8, n_chain: int = 4, d: int = 60, mu: float = 1.0, L: float = 100.0):
    r"""Nesterov's chain split between two groups of nodes (lower-bound construction, spec §2.2).

    Nodes ``0..n_chain-1`` (group A) hold
    :math:`f_a(x)=\frac\mu2\Vert x\Vert^2+\varsigma(x_1^2+\sum_{k\,{\rm even}}(x_k-x_{k+1})^2-2x_1)`,
    nodes ``n_chain..2n_chain-1`` (group B) hold
    :math:`f_b(x)=\frac\mu2\Vert x\Vert^2+\varsigma\sum_{k\,{\rm odd}}(x_k-x_{k+1})^2`, the others
    :math:`\frac\mu2\Vert x\Vert^2`.  With :math:`\varsigma=(L-\mu)/4` the Hessians
    :math:`\mu I+2\varsigma M_{a/b}` have spectrum in :math:`[\mu,L]` with both ends attained (for
    :math:`d\ge3`); the spec's :math:`(L-\mu)/8` refers to the unscaled forms.  A gradient of
    :math:`f_a` at a point supported on :math:`e_1..e_k` reaches :math:`e_{k+1}` only when k is even,
    one of :math:`f_b` only when k is odd.  ``kappa_sum`` is the condition number of :math:`\sum_iC_i`.
    """
    from ratecheck.solvers.problems import NodeQuadratics

    if not (isinstance(n_chain, (int, np.integer)) and n_chain >= 1 and 2 * n_chain <= n):
        raise UsageError(f"n_chain must be an integer with 1 <= n_chain <= n/2, got {n_chain!r} (n={n})")
    if not (isinstance(d, (int, np.integer)) and d >= 3):
        raise UsageError(f"d must be an integer >= 3, got {d!r}")
    if not (0 < mu < L):
        raise UsageError(f"mu and L must satisfy 0 < mu < L, got mu={mu!r}, L={L!r}")
    s = (L - mu) / 4
    Ma = np.zeros((d, d))
    Mb = np.zeros((d, d))
    Ma[0, 0] = 1.0
    for k in range(1, d):  # pair (k, k+1) in 1-based indexing = (k-1, k) 0-based
        blk = Ma if k % 2 == 0 else Mb
        blk[k - 1, k - 1] += 1
        blk[k, k] += 1
        blk[k - 1, k] -= 1
        blk[k, k - 1] -= 1
    C = np.broadcast_to(mu * np.eye(d), (n, d, d)).copy()
    b = np.zeros((n, d))
    C[:n_chain] += 2 * s * Ma
    b[:n_chain, 0] = -2 * s
    C[n_chain : 2 * n_chain] += 2 * s * Mb
    prob = NodeQuadratics(C, b)
    prob.n_chain = int(n_chain)
    ev = np.linalg.eigvalsh(prob.C.sum(axis=0))
    prob.kappa_sum = float(ev[-1] / ev[0])  # condition number of the sum of the nodes' Hessians
    return prob


def chain_depth_needed(x_star: np.ndarray, eps) -> np.ndarray:
    r"""Smallest depth k with :math:`\sum_{j>k}(x^\star_j)^2\le\varepsilon\Vert x^\star\Vert^2` (exact tails).

    Any iterate supported on :math:`e_1..e_k` has :math:`\Vert x-x^\star\Vert^2\ge` that tail, so
    reaching accuracy ε (relative, from :math:`x^0=0`) needs depth ``chain_depth_needed``.
    """
    sq = np.asarray(x_star, dtype=float) ** 2
    tail = np.r_[np.cumsum(sq[::-1])[::-1], 0.0]  # tail[k] = sum_{j>k} (1-based) = sum(sq[k:])
    eps = np.atleast_1d(np.asarray(eps, dtype=float))
    ok = tail[None, :] <= eps[:, None] * sq.sum()
    return np.argmax(ok, axis=1)


def adversarial_star_schedule(n: int, n_chain: int, rounds: int) -> np.ndarray:
    r"""Star centres that slow information down on :func:`chain_hard_instance` (spec §2.2).

    In each round the centre is a node that does not yet hold the newest chain coordinate, and the
    node that could extend the chain is taken last, so exactly one new node learns the frontier per
    round.  With groups A (``0..m-1``), B (``m..2m-1``) and the others D:
    D then :math:`b_0` (coordinate 1 starts on all of A), then alternately
    (B \ b_0, D, :math:`a_0`) and (A \ a_0, D, :math:`b_0`), i.e. :math:`n-m` rounds per chain step.
    Every method of the span class then reaches depth k only after
    :math:`N\ge(n-m)(k-2)` rounds (see :func:`max_span_depth`).
    """
    m = n_chain
    A, B, D = list(range(m)), list(range(m, 2 * m)), list(range(2 * m, n))
    first = D + [B[0]]
    even = B[1:] + D + [A[0]]
    odd = A[1:] + D + [B[0]]
    period = even + odd
    reps = max(0, rounds - len(first)) // len(period) + 1
    return np.array(first + period * reps, dtype=np.int64)[: max(rounds, 1)]


def max_span_depth(n: int, n_chain: int, centres: np.ndarray, rounds: int) -> np.ndarray:
    r"""Largest depth any span-class method can hold after ``N`` star rounds, N = 0..rounds.

    Simulates the maximal memories: before every round each node applies its gradient as often as
    it likes (A extends an even depth by one, B an odd one, the others never), then the star with
    centre :math:`c_q` merges: the centre takes the union, leaves take the centre's old memory.
    Returned entry N is the depth after the computation that follows round N.
    """
    m = n_chain
    kind = np.zeros(n, dtype=np.int64)  # 0 dummy, 1 A, 2 B
    kind[:m], kind[m : 2 * m] = 1, 2
    k = np.zeros(n, dtype=np.int64)
    out = np.empty(rounds + 1, dtype=np.int64)

    def compute(k):
        ext = ((kind == 1) & (k % 2 == 0)) | ((kind == 2) & (k % 2 == 1))
        return k + ext

    k = compute(k)
    out[0] = k.max()
    for q in range(rounds):
        c = centres[q % len(centres)]
        kc = k[c]
        k = np.maximum(k, kc)
        k[c] = k.max()
        k = compute(k)
        out[q + 1] = k.max()
    return out


# --------------------------------------------------------------------------- L-SVRP instances
def _random_orthogonal(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    """n Haar-random orthogonal d x d matrices (QR with sign correction), shape (n, d, d)."""
    Z = rng.standard_normal((n, d, d))
    Q, R = np.linalg.qr(Z)
    return Q * np.sign(np.diagonal(R, axis1=1, axis2=2))[:, None, :]


def delta_controlled_quadratics(
    n: int = 10,
    d: int = 4,
    delta: float = 5.0,
    mu: float = 1.0,
    spread: float = 1.0,
    shared_floor: bool = False,
    b_scale: float = 1.0,
    seed: int = 0,
):
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
    from ratecheck.solvers.problems import QuadraticClients

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
    rng = streams(seed).data
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
    from ratecheck.solvers.problems import QuadraticClients

    if not (np.isfinite(mu) and mu > 0):
        raise UsageError(f"mu must be a finite number > 0, got {mu!r}")
    rng = streams(seed).data
    U = _random_orthogonal(rng, n, d)
    lam = mu + np.concatenate([np.zeros((n, 1)), rng.exponential(mean_gap, (n, d - 1))], axis=1)
    A = np.einsum("nij,nj,nkj->nik", U, lam, U)
    return QuadraticClients(0.5 * (A + A.transpose(0, 2, 1)), rng.standard_normal((n, d)))


def l2_logistic_clients(
    n: int = 10, d: int = 5, m: int = 20, lam: float = 0.1, heterogeneity: float = 2.0, seed: int = 0
):
    r"""ℓ2-regularised logistic clients (``solvers.problems.L2Logistic``): client i draws features
    :math:`a_{ij}\sim\mathcal N(0,s_i^2I)` with scales :math:`s_i` log-uniform over a factor
    ``heterogeneity`` (so the Hessians differ), labels from a random linear model with 10% flipped."""
    from ratecheck.solvers.problems import L2Logistic

    rng = streams(seed).data
    s = heterogeneity ** rng.uniform(-0.5, 0.5, n)
    A = rng.standard_normal((n, m, d)) * s[:, None, None]
    w = rng.standard_normal(d)
    y = np.sign(A @ w + 1e-12)
    y[rng.random((n, m)) < 0.1] *= -1
    return L2Logistic(A, y, lam=lam)


LSVRP_INSTANCES = (
    "controlled",
    "shared-floor",
    "reference",
    "logistic",
)  #: the client families of :func:`lsvrp_problem`


def lsvrp_problem(
    instance: str, n: int, d: int, *, delta: float, mu: float, spread: float, mean_gap: float, m: int, seed: int = 0
):
    """The clients of the L-SVRP experiment: ``'controlled'`` quadratics with exact ``delta`` and ``mu``
    (:func:`delta_controlled_quadratics`), the same with a ``'shared-floor'`` eigenvector at ``mu``, the
    ``'reference'`` high-dissimilarity quadratics (:func:`high_dissimilarity_quadratics`, gaps of mean
    ``mean_gap``), or ``'logistic'`` clients with ``m`` points each and l2 weight ``mu``
    (:func:`l2_logistic_clients`)."""
    if instance in ("controlled", "shared-floor"):
        shared = instance == "shared-floor"
        return delta_controlled_quadratics(n=n, d=d, delta=delta, mu=mu, spread=spread, shared_floor=shared, seed=seed)
    if instance == "reference":
        return high_dissimilarity_quadratics(n=n, d=d, mu=mu, mean_gap=mean_gap, seed=seed)
    if instance == "logistic":
        return l2_logistic_clients(n=n, d=d, m=m, lam=mu, seed=seed)
    raise UsageError(f"instance must be one of {', '.join(LSVRP_INSTANCES)}, got {instance!r}")


def unit_start(x_star: np.ndarray, kind: str, rng: np.random.Generator, A_bar: np.ndarray | None = None) -> np.ndarray:
    """A start point at distance 1 from ``x_star``: in a random direction drawn from ``rng`` (``'random'``),
    with equal energy 1/d on every eigenvector of ``A_bar`` (``'spread'``; a random direction without
    ``A_bar``), or ``x_star`` itself (``'optimum'``)."""
    if kind == "optimum":
        return x_star.copy()
    if kind == "spread" and A_bar is not None:
        v = np.linalg.eigh(A_bar)[1].sum(axis=1)
    else:
        v = rng.standard_normal(x_star.size)
    return x_star + v / np.linalg.norm(v)


__all__ += ["delta_controlled_quadratics", "high_dissimilarity_quadratics", "l2_logistic_clients"]
__all__ += ["LSVRP_INSTANCES", "lsvrp_problem", "unit_start"]


# --------------------------------------------------------------------------- local-update methods' clients
LOCAL_QUADRATICS = ("q1", "rotated", "diagonal", "lg0", "lg2", "isotropic")


def _log_uniform_spectra(rng, n: int, d: int, mu: float, L: float, shared_floor: bool = False) -> np.ndarray:
    """Client spectra (n, d) in [mu, L], log-uniform, with client 0 pinned to both ends (exact min_i mu_i = mu,
    max_i L_i = L); ``shared_floor``: every client has curvature mu along e_1 (the slowest mode is shared)."""
    lam = np.exp(rng.uniform(math.log(mu), math.log(L), (n, d)))
    lam[0, 0], lam[0, -1] = mu, L
    if shared_floor:
        lam[:, 0] = mu
    if d == 1:
        lam[0, 0] = mu
        lam[min(1, n - 1), 0] = L
    return lam


def local_quadratic_clients(
    kind: str = "rotated", n: int = 3, d: int = 3, mu: float = 1.0, kappa: float = 20.0, seed: int = 0
) -> QuadraticClients:
    r"""Quadratic clients :math:`f_i=\frac12x^\top A_ix-b_i^\top x` of the local-update experiments, L = κμ:

    * ``q1`` — the fair family Q1(κ) (n = d = 2): :math:`A_1=\mu\,\mathrm{diag}(\kappa,1)`,
      :math:`A_2=\mu\,\mathrm{diag}(\kappa/2,2)`, :math:`b_1=(1,-2)`, :math:`b_2=(-1,3)`;
    * ``lg2`` — :math:`A=\mathrm{diag}(10,1),\mathrm{diag}(1,10),3I`, :math:`b=(5,-1),(-2,4),(0,-3)` (n = 3, d = 2);
    * ``isotropic`` — :math:`A_i=a_iI`, :math:`a_i` geometric in [μ, L], :math:`x_i^\star\sim\mathcal N(0,I)`;
    * ``rotated`` — :math:`A_i=U_i\mathrm{diag}(\lambda^{(i)})U_i^\top`, random rotations, log-uniform spectra in
      [μ, L] with client 1 pinned to both ends; ``diagonal`` — the same with :math:`U_i=I` and every client at μ
      along :math:`e_1`; ``lg0`` — every :math:`A_i` the mean of the ``rotated`` ones; all three with
      :math:`x_i^\star\sim\mathcal N(0,I)` (heterogeneous optima).

    The data come from ``default_rng([seed, 7])`` (the experiment's data stream; see
    :mod:`verify.experiments.local_methods`)."""
    L = kappa * mu
    rng = np.random.default_rng([seed, 7])
    if kind == "q1":
        A = np.array([np.diag([kappa, 1.0]), np.diag([kappa / 2, 2.0])]) * mu
        return QuadraticClients(A, np.array([[1.0, -2.0], [-1.0, 3.0]]))
    if kind == "lg2":
        A = np.array([np.diag([10.0, 1.0]), np.diag([1.0, 10.0]), 3 * np.eye(2)])
        return QuadraticClients(A, np.array([[5.0, -1.0], [-2.0, 4.0], [0.0, -3.0]]))
    if kind == "isotropic":
        a = np.geomspace(mu, L, n)
        return QuadraticClients(a[:, None, None] * np.eye(d), a[:, None] * rng.standard_normal((n, d)))
    lam = _log_uniform_spectra(rng, n, d, mu, L, shared_floor=kind == "diagonal")
    if kind == "diagonal":
        A = lam[:, :, None] * np.eye(d)
    else:
        U = np.linalg.qr(rng.standard_normal((n, d, d)))[0]
        A = np.einsum("nij,nj,nkj->nik", U, lam, U)
        if kind == "lg0":
            A = np.broadcast_to(A.mean(axis=0), (n, d, d)).copy()
    return QuadraticClients(A, np.einsum("nij,nj->ni", A, rng.standard_normal((n, d))))


def identical_hessians(problem: QuadraticClients) -> QuadraticClients:
    """The same clients with every Hessian replaced by their mean (heterogeneous b_i kept)."""
    return QuadraticClients(np.broadcast_to(problem.A_bar, problem.A.shape).copy(), problem.b)


__all__ += ["LOCAL_QUADRATICS", "local_quadratic_clients", "identical_hessians"]


# --------------------------------------------------------------------------- EF21's compressor constants
def theta_c(alpha: float) -> float:
    r""":math:`\theta(\alpha)=1-\sqrt{1-\alpha}` of a contractive compressor, evaluated from the symbolic
    definition in :mod:`theorems.ef21` (Richtárik, Sokolov, Fatkhullin, EF21, NeurIPS 2021, Lemma 3)."""
    return float(_theta_c_expr(sp.Float(alpha, 30)))


def xi(alpha: float) -> float:
    r""":math:`\xi(\alpha)=\sqrt{\beta/\theta}`, the factor of the EF21 stepsize
    :math:`1/(L+\tilde L\xi)`, evaluated from the symbolic definition in :mod:`theorems.ef21`."""
    return float(_xi_expr(sp.Float(alpha, 30)))


def ef21_constants(problem, compressor) -> dict:
    r"""The constants of the EF21 theorems on ``problem`` run with ``compressor``: :math:`L`, :math:`L_{am}`,
    :math:`L_{qm}`, the spread :math:`L_{qm}/L_{am}`, :math:`\mu` (PŁ constant; nan when the problem has
    none), n, d, and the compressor's :math:`\alpha`, :math:`\theta(\alpha)`, :math:`\xi(\alpha)`."""
    alpha = compressor.alpha(problem.d)
    return dict(
        L=problem.L,
        L_am=problem.L_am,
        L_qm=problem.L_qm,
        alpha=alpha,
        n=problem.n,
        d=problem.d,
        mu=getattr(problem, "mu", None) or float("nan"),
        theta_c=theta_c(alpha),
        xi=xi(alpha),
        spread=problem.L_qm / problem.L_am,
    )


__all__ += ["theta_c", "xi", "ef21_constants"]


# --------------------------------------------------------------------------- point clouds (geometric median)
POINT_CLOUDS = ("gaussian", "symmetric", "anchor", "lopsided", "collinear", "three")


def point_cloud(
    kind: str = "gaussian",
    m: int = 100,
    d: int = 10,
    outlier_frac: float = 0.0,
    shift: float = 100.0,
    anchor_weight: float = 0.5,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, dict]:
    r"""Seeded point clouds for the geometric median (``notes/weiszfeld.md``).

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
    rng = streams(seed).data
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


def federated_least_squares(n: int = 50, s: int = 20, d: int = 10, seed: int = 0):
    r"""RFA's federated least squares (Pillutla, Kakade, Harchaoui 2022, section 5): client i holds
    :math:`A_i` (s, d) Gaussian and :math:`b_i=A_iw^\sharp+0.1\,\mathcal N(0,I)`.  Returns ``((A, b), w_LS)`` with
    :math:`w_{LS}` the least-squares solution of the pooled data."""
    rng = streams(seed).data
    A = rng.standard_normal((n, s, d))
    w_true = rng.standard_normal(d)
    b = A @ w_true + 0.1 * rng.standard_normal((n, s))
    return (A, b), np.linalg.lstsq(A.reshape(-1, d), b.ravel(), rcond=None)[0]


__all__ += ["POINT_CLOUDS", "point_cloud", "federated_least_squares"]


def loss_vector_batch(rows: int, n: int, seed: int = 0) -> np.ndarray:
    r"""A batch of ``rows`` loss vectors of length ``n`` for the superquantile smoothings (Levy et al.
    2020, arXiv:2010.05893; Laguel et al. 2021): a third spread-out (:math:`50\,\mathcal N(0,1)`), a third
    integer-valued in :math:`\{0,1,2\}` (ties at the quantile), the rest nearly constant
    (:math:`1+10^{-9}\mathcal N(0,1)`, where cancellation would show).  Drawn from ``streams(seed).data``."""
    rng = streams(seed).data
    k = rows // 3
    spread = 50.0 * rng.standard_normal((k, n))
    ties = rng.integers(0, 3, (k, n)).astype(float)
    flat = 1.0 + 1e-9 * rng.standard_normal((rows - 2 * k, n))
    return np.concatenate([spread, ties, flat])


def superquantile_clients(
    n: int = 8,
    d: int = 2,
    samples: int = 6,
    outliers: int = 2,
    separation: float = 4.0,
    noise: float = 0.3,
    seed: int = 0,
):
    r"""Heterogeneous quadratic clients for Simplicial-FL (spec ``superquantile.md`` section 5.2).

    Client :math:`i` owns :math:`F_i(w)=\frac1{m_i}\Vert A_iw-b_i\Vert^2` with
    :math:`b_i=A_iw_i^\star+\text{noise}`; the local optima :math:`w_i^\star` form one cluster around
    the origin except ``outliers`` clients whose optima sit at distance ``separation`` (a minority
    the average model serves badly).  Returns a :class:`solvers.superquantile.QuadraticClients`
    whose constants (``L_i``, ``L``) are recomputed exactly.
    """
    from ratecheck.solvers.superquantile import QuadraticClients

    for nm, v in (("n", n), ("d", d), ("samples", samples)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise UsageError(f"{nm} must be an integer >= 1, got {v!r}")
    if isinstance(outliers, bool) or not isinstance(outliers, (int, np.integer)) or not 0 <= outliers < n:
        raise UsageError(f"outliers must be an integer in [0, n), got {outliers!r}")
    rng = streams(seed).data
    A = rng.standard_normal((n, samples, d)) / np.sqrt(d)
    centers = 0.3 * rng.standard_normal((n, d))
    if outliers:
        direction = rng.standard_normal(d)
        direction /= np.linalg.norm(direction)
        centers[n - outliers :] += separation * direction
    b = np.einsum("nmd,nd->nm", A, centers) + noise * rng.standard_normal((n, samples))
    return QuadraticClients(A, b)


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


def block_quadratic(
    d: int = 20,
    blocks: int = 4,
    profile: str = "increasing",
    scale_ratio: float = 10.0,
    cond: float = 100.0,
    coupling: float = 0.3,
    zero_eigs: int = 0,
    seed: int = 0,
):
    r"""Block-diagonal-dominant quadratic :math:`f(x)=\frac12x^\top Ax-b^\top x` for RCD/RPT.

    .. math::
        A=\mathrm{blockdiag}\big(s_jU_j\Lambda_jU_j^\top\big)
        +\texttt{coupling}\cdot D^{1/2}U\Lambda U^\top D^{1/2},\qquad D=\mathrm{Diag}(s_{j(i)}),

    with Haar rotations :math:`U_j, U` and spectra geometric in :math:`[1/\texttt{cond},1]`; the
    block scales :math:`s_j` come from :func:`block_scales`.  ``zero_eigs`` > 0 projects out a
    random subspace of that dimension (convex, not strongly convex).  :math:`b=Ax^\sharp` so a
    minimiser exists; every constant is recomputed by :class:`solvers.problems.Quadratic`.
    """
    from ratecheck.solvers.problems import Quadratic
    from ratecheck.solvers.rcd import block_index, split_blocks

    sizes = split_blocks(d, blocks)
    if not (np.isfinite(cond) and cond >= 1):
        raise UsageError(f"cond must be a finite number >= 1, got {cond!r}")
    if not (np.isfinite(coupling) and coupling >= 0):
        raise UsageError(f"coupling must be a finite number >= 0, got {coupling!r}")
    if not (isinstance(zero_eigs, (int, np.integer)) and 0 <= zero_eigs < d):
        raise UsageError(f"zero_eigs must be an integer in [0, d), got {zero_eigs!r}")
    s = block_scales(blocks, profile, scale_ratio)
    rng = streams(seed).data
    A = np.zeros((d, d))
    start = 0
    for j, dj in enumerate(sizes):  # a loop over blocks (a handful), not coordinates
        U = _haar(rng, dj)
        lam = np.geomspace(1.0 / cond, 1.0, dj)[rng.permutation(dj)] if dj > 1 else np.ones(1)
        A[start : start + dj, start : start + dj] = s[j] * (U * lam) @ U.T
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


def block_logistic(
    m: int = 200,
    d: int = 10,
    blocks: int = 4,
    profile: str = "increasing",
    scale_ratio: float = 10.0,
    lam: float = 0.1,
    seed: int = 0,
):
    r""":math:`\ell_2`-logistic regression whose feature blocks have curvature scales :math:`s_j`.

    Features are Gaussian, block j multiplied by :math:`\sqrt{s_j}`; labels from a random linear
    model with 10% flipped.  :math:`\mathbf L=\frac1{4m}M^\top M+\lambda I`, :math:`\mu=\lambda`.
    """
    from ratecheck.solvers.problems import MatrixL2Logistic
    from ratecheck.solvers.rcd import block_index, split_blocks

    sizes = split_blocks(d, blocks)
    s = block_scales(blocks, profile, scale_ratio)
    rng = streams(seed).data
    M = rng.standard_normal((m, d)) * np.sqrt(s[block_index(sizes)])[None, :]
    w = rng.standard_normal(d) / np.sqrt(d)
    y = np.sign(M @ w + 1e-12)
    y[rng.random(m) < 0.1] *= -1
    return MatrixL2Logistic(M, y, lam=lam, block_sizes=sizes)


def block_cosine(
    d: int = 10,
    blocks: int = 4,
    profile: str = "increasing",
    scale_ratio: float = 10.0,
    cond: float = 10.0,
    omega: float = 1.0,
    seed: int = 0,
):
    r"""Nonconvex :math:`f(x)=\frac12x^\top Ax+\omega\sum_i\cos x_i` with diagonal A (exact :math:`f^{\inf}`).

    :math:`A_{ii}=s_{j(i)}a_i` with :math:`a_i` geometric in :math:`[1/\texttt{cond},1]`, so that
    coordinates with :math:`A_{ii}<\omega` are nonconvex (a double well) and the others convex.
    """
    from ratecheck.solvers.problems import QuadraticCosine
    from ratecheck.solvers.rcd import block_index, split_blocks

    sizes = split_blocks(d, blocks)
    s = block_scales(blocks, profile, scale_ratio)
    rng = streams(seed).data
    a = np.geomspace(1.0 / cond, 1.0, d)[rng.permutation(d)] * s[block_index(sizes)]
    return QuadraticCosine(np.diag(a), omega=omega, block_sizes=sizes)


def rcd_problem(
    problem: str,
    d: int,
    blocks: int,
    profile: str,
    scale_ratio: float,
    cond: float,
    coupling: float,
    zero_eigs: int,
    m: int,
    lam: float,
    omega: float,
    seed: int = 0,
) -> tuple:
    r"""An RCD / RPT instance with what its bounds need of the optimum: ``(problem, x_star, f_low, dist_slack,
    certificate)``.  ``problem="quadratic"``: :func:`block_quadratic`, exact :math:`x^\star`, :math:`f^\star`;
    ``"logistic"``: :func:`block_logistic` with its certified optimum (:func:`verify.optima.matrix_l2_logistic_optimum`:
    ``f_low`` a certified lower bound, ``dist_slack`` the certified distance to :math:`x^\star`);
    ``"cosine"``: :func:`block_cosine`, no minimiser (``x_star`` None) and :math:`f^{\inf}` exact when
    separable, else a certified lower bound."""
    common = dict(blocks=blocks, profile=profile, scale_ratio=scale_ratio, seed=seed)
    if problem == "quadratic":
        prob = block_quadratic(d=d, cond=cond, coupling=coupling, zero_eigs=zero_eigs, **common)
        return prob, prob.x_star, prob.f_star, 0.0, {"f_star": "exact (lstsq, b in range(A))"}
    if problem == "logistic":
        prob = block_logistic(m=m, d=d, lam=lam, **common)
        opt = matrix_l2_logistic_optimum(prob)
        return prob, opt.x, opt.lower, opt.certificate["dist_bound"], opt.certificate
    prob = block_cosine(d=d, cond=cond, omega=omega, **common)
    return prob, None, prob.f_inf, 0.0, {"f_inf": "exact (separable)" if prob.f_inf_exact else "certified lower bound"}


__all__ += ["block_scales", "block_quadratic", "block_logistic", "block_cosine", "rcd_problem"]


# --------------------------------------------------------------------------- rare features
# (appended for the rare-features result, notes/rare_features.md)
def rare_ownership(
    n: int, d: int, c: int, rng: np.random.Generator, design: str = "random", attempts: int = 5
) -> tuple[np.ndarray, np.ndarray]:
    r"""Feature ownership with every feature owned by exactly ``c`` clients, as flat pairs.

    ``design="random"``: the authors' generator (``artificial_dataset_rotated.py`` l.84, l.110):
    each feature picks ``c`` distinct clients uniformly; redrawn (up to ``attempts`` times) while a
    client owns nothing.  ``design="regular"``: feature j is owned by clients
    :math:`(jc+t)\bmod n`, :math:`t<c`, so every client owns exactly :math:`r=dc/n` features
    (needs n | dc).  Returns ``(client, feature)`` index arrays sorted by client then feature.
    """
    for name, v in (("n", n), ("d", d), ("c", c)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise UsageError(f"{name} must be an integer >= 1, got {v!r}")
    if c > n:
        raise UsageError(f"c must satisfy 1 <= c <= n, got c={c} > n={n}")
    if design == "regular":
        if (d * c) % n:
            raise UsageError(f"design='regular' needs n to divide d*c, got n={n}, d={d}, c={c}")
        feat = np.repeat(np.arange(d), c)
        cli = (np.arange(d * c)) % n
    elif design == "random":
        for _ in range(attempts):
            keys = rng.random((d, n))
            cli_m = np.argpartition(keys, c - 1, axis=1)[:, :c]  # c distinct clients per feature
            feat = np.repeat(np.arange(d), c)
            cli = cli_m.ravel()
            if np.unique(cli).size == n:
                break
        else:
            raise UsageError(
                f"some client owns no feature after {attempts} draws (n={n}, d={d}, c={c}); increase d*c/n"
            )
    else:
        raise UsageError(f"design must be 'random' or 'regular', got {design!r}")
    order = np.lexsort((feat, cli))
    return cli[order], feat[order]


def rare_features_problem(
    n: int = 100,
    d: int = 500,
    m: int = 12,
    c: int = 5,
    design: str = "random",
    loss: str = "squares",
    reg: float = 0.0,
    L_hi: float = 20.0,
    boost: float = 10.0,
    noise: float = 2.0,
    seed: int = 0,
    constants: bool = True,
):
    r"""The authors' synthetic rare-features generator (spec section 8.1), sparse end to end.

    Steps, as in ``data_preprocess/artificial_dataset_rotated.py``: ownership with multiplicity
    exactly ``c`` (:func:`rare_ownership`); per client :math:`\tilde A_i\sim U[0,1)^{m\times|Z_i|}`
    with SVD :math:`USV^\top` and singular values replaced by
    :math:`0.9\sqrt{(L_{hi}-1)k/(|Z_i|-1)+1}+0.1v_i` (:math:`v_0=` ``boost``, else 0; a single
    singular value becomes :math:`\sqrt{L_{hi}}`); :math:`b_i=A_ix_{sol}+` ``noise``
    :math:`\cdot U[-1,1]^m` with :math:`x_{sol}=0.5\cdot\mathbf 1`; both scaled by :math:`\sqrt{m/2}`,
    so :math:`H_i=\frac2mA_i^\top A_i` has eigenvalues :math:`s_k^2`.  Defaults are the authors'
    (n = 100, d = 500, m = 12, "l" = 20, ``b_perturbation`` = 2, ``l_plus_min_selector`` = 0.1).

    ``loss="logistic"`` keeps the same matrices with labels :math:`\mathrm{sign}(a_j^\top(x_{sol}-\bar x)+\text{noise})`,
    10% of them flipped
    (sparse logistic regression); ``reg`` > 0 adds the restricted nonconvex regulariser
    :math:`\lambda'\sum_{k\in Z_i}x_k^2/(1+x_k^2)` with :math:`\lambda'=` ``reg`` :math:`\cdot\max_jL_j`
    (the authors use 3).  Constants are recomputed exactly by the returned problem
    (``constants=False`` skips them, for gradient-only benchmarks on huge instances).
    """
    import scipy.sparse as sps

    from ratecheck.solvers.rare_features import SparseFederated

    if not isinstance(m, (int, np.integer)) or isinstance(m, bool) or m < 1:
        raise UsageError(f"m must be an integer >= 1, got {m!r}")
    rng = streams(seed).data
    cli, feat = rare_ownership(n, d, c, rng, design=design)
    sizes = np.bincount(cli, minlength=n)
    zptr = np.r_[0, np.cumsum(sizes)]
    blocks = []
    for i in range(n):  # instance construction: one small SVD per client (not a hot path)
        z = sizes[i]
        At = rng.random((m, z))
        U, s, Vt = np.linalg.svd(At, full_matrices=False)
        q = s.size
        if q == 1:
            s = np.array([np.sqrt(L_hi)])
        else:
            kk = np.arange(q)
            s = 0.9 * np.sqrt((L_hi - 1) * kk / (z - 1) + 1) + 0.1 * (boost if i == 0 else 0.0)
        blocks.append((U * s) @ Vt)
    vals = np.concatenate([B.ravel() for B in blocks])
    rows = np.concatenate([i * m + np.repeat(np.arange(m), sizes[i]) for i in range(n)])
    cols = np.concatenate([np.tile(feat[zptr[i] : zptr[i + 1]], m) for i in range(n)])
    scale = np.sqrt(m / 2.0)
    A = sps.csr_matrix((vals * scale, (rows, cols)), shape=(n * m, d))
    x_sol = np.full(d, 0.5)
    pert = noise * rng.uniform(-1, 1, n * m)
    if loss == "squares":
        y = A @ x_sol + pert * scale
    elif loss == "logistic":
        y = np.sign(A @ (x_sol - 0.5 * rng.random(d)) + 0.1 * pert)
        y[y == 0] = 1.0
        y[rng.random(n * m) < 0.1] *= -1  # 10% flipped labels: not separable, f* > 0
    else:
        raise UsageError(f"loss must be 'squares' or 'logistic', got {loss!r}")
    row_ptr = np.arange(0, n * m + 1, m)
    prob = SparseFederated(A, y, row_ptr, loss=loss, constants=constants or reg > 0)
    if reg > 0:
        prob = SparseFederated(A, y, row_ptr, loss=loss, reg=reg * float(prob.L_i.max()), constants=constants)
    return prob


def split_rows(X, y, clients: int, split: str = "shuffled", c: int | None = None, seed: int = 1234):
    r"""Split a data set (rows of sparse ``X``) across ``clients`` workers in equal contiguous chunks.

    ``split="contiguous"``: file order; ``"shuffled"``: permuted with ``seed`` first (the authors'
    LIBSVM loader, seed 1234); ``"multiplicity"``: rows ordered to make features rare (sorted by
    the frequency ranks of their features, so rows sharing a common feature sit together), then a
    random fraction of rows is re-shuffled, the fraction found by bisection so that the resulting
    multiplicity is the largest one <= the target ``c``.  The remainder ``N mod clients`` is
    dropped.  Returns ``(X', y', row_ptr, achieved_c)``.
    """
    import scipy.sparse as sps

    N = X.shape[0]
    if isinstance(clients, bool) or not isinstance(clients, (int, np.integer)) or not 1 <= clients <= N:
        raise UsageError(f"clients must be an integer in [1, N={N}] (one sample at least per client), got {clients!r}")
    m = N // clients
    rng = streams(seed).data
    X = sps.csr_matrix(X)
    X.eliminate_zeros()

    def multiplicity(order):
        Xo = X[order[: m * clients]]
        cl = np.repeat(np.arange(clients), m)[Xo.tocoo().row]
        key = np.unique(cl.astype(np.int64) * X.shape[1] + Xo.tocoo().col)
        return int(np.bincount(key % X.shape[1], minlength=X.shape[1]).max()) if key.size else 0

    if split == "contiguous":
        order = np.arange(N)
    elif split == "shuffled":
        order = rng.permutation(N)
    elif split == "multiplicity":
        if c is None or isinstance(c, bool) or not isinstance(c, (int, np.integer)) or not 1 <= c <= clients:
            raise UsageError(f"split='multiplicity' needs a target c, an integer in [1, clients={clients}], got {c!r}")
        freq = np.bincount(X.tocoo().col, minlength=X.shape[1])
        rank = np.empty(X.shape[1], dtype=np.int64)
        rank[np.argsort(-freq, kind="stable")] = np.arange(X.shape[1])
        K = 4  # sort rows by the ranks of their 4 most frequent features
        coo = X.tocoo()
        rk = rank[coo.col]
        o = np.lexsort((rk, coo.row))
        rows_s, rk_s = coo.row[o], rk[o]
        start = np.searchsorted(rows_s, np.arange(N))
        keys = np.full((K, N), X.shape[1], dtype=np.int64)
        pos_in_row = np.arange(rows_s.size) - start[rows_s]
        keep = pos_in_row < K
        keys[pos_in_row[keep], rows_s[keep]] = rk_s[keep]
        sorted_order = np.lexsort(keys[::-1])
        perm = rng.permutation(N)

        def mixed(q):
            order = sorted_order.copy()
            sel = perm[: int(round(q * N))]
            order[np.sort(sel)] = sorted_order[sel][rng.permutation(sel.size)] if sel.size else order[sel]
            return order

        best = sorted_order
        c0 = multiplicity(best)
        if c0 > c:
            raise UsageError(
                f"split='multiplicity': c={c} is not reachable for this data with {clients} clients "
                f"(sorting the rows gives at best c={c0})"
            )
        lo, hi = 0.0, 1.0
        for _ in range(14):
            mid = (lo + hi) / 2
            o2 = mixed(mid)
            if multiplicity(o2) <= c:
                lo, best = mid, o2
            else:
                hi = mid
        order = best
    else:
        raise UsageError(f"split must be 'contiguous', 'shuffled' or 'multiplicity', got {split!r}")
    order = order[: m * clients]
    return X[order], np.asarray(y)[order], np.arange(0, m * clients + 1, m), multiplicity(order)


def _libsvm_memory(path, X, clients) -> None:
    """Refuse a LIBSVM file whose problem cannot fit in the memory available (one line), before it is built:
    the nonzeros and their layouts, the vectors of d entries (features), the per-client row Gram blocks and
    the dense Hessian of the PL constant (d <= 2000)."""
    N, d = X.shape
    nnz = int(X.nnz)
    k = max(1, min(int(clients), N)) if isinstance(clients, (int, np.integer)) and not isinstance(clients, bool) else 1
    rows = -(-N // k)
    check_memory(
        f"data {str(path)!r}",
        [
            Need("24*nnz", 24 * nnz, ("the nonzeros of the data file",)),
            Need(
                "40*d + 4*min(d,2000)^2", 40 * d + 4 * min(d, 2000) ** 2, ("the number of features of the data file",)
            ),
            Need("5*N*(N/clients)", 5 * N * rows, ("the rows per client (raise clients)",)),
        ],
    )


def libsvm_problem(
    path,
    clients: int,
    split: str = "shuffled",
    c: int | None = None,
    loss: str = "logistic",
    reg: float = 0.0,
    bias: bool = False,
    seed: int = 1234,
):
    r"""A LIBSVM / svmlight file as a sparse federated problem (spec section 8.3).

    Labels are mapped to {-1, +1} (two classes: the larger label is +1) for the logistic loss and
    used as targets for least squares.  ``bias=True`` appends a constant feature, as the authors
    do; it is owned by every client, so it forces c = n.  ``reg`` > 0 adds the restricted
    nonconvex regulariser with :math:`\lambda'=` ``reg`` :math:`\cdot\max_jL_j`.
    """
    import scipy.sparse as sps

    from ratecheck.solvers.rare_features import SparseFederated, read_svmlight

    X, y = read_svmlight(path)
    _libsvm_memory(path, X, clients)
    if bias:
        X = sps.hstack([X, np.ones((X.shape[0], 1))], format="csr")
    if loss == "logistic":
        labels = np.unique(y)
        if labels.size != 2:
            raise UsageError(f"data: loss='logistic' needs exactly two label values, {path!r} has {labels.size}")
        y = np.where(y == labels[1], 1.0, -1.0)
    elif loss != "squares":
        raise UsageError(f"loss must be 'squares' or 'logistic', got {loss!r}")
    Xs, ys, row_ptr, _ = split_rows(X, y, clients, split=split, c=c, seed=seed)
    prob = SparseFederated(Xs, ys, row_ptr, loss=loss)
    if reg > 0:
        prob = SparseFederated(Xs, ys, row_ptr, loss=loss, reg=reg * float(prob.L_i.max()))
    return prob


def rare_features_instance(
    data, clients, split: str, bias: bool, n: int, d: int, m: int, c: int, design: str, loss: str, reg: float, seed: int
):
    """A rare-features problem: the LIBSVM file ``data`` split over ``clients`` workers (None: ``n``; rows
    shuffled with seed 1234 + ``seed``; ``split="multiplicity"`` targets ``c``) by :func:`libsvm_problem`, or
    (``data`` None) the authors' synthetic generator :func:`rare_features_problem`."""
    if data is not None:
        mult = c if split == "multiplicity" else None
        return libsvm_problem(data, clients or n, split=split, c=mult, loss=loss, reg=reg, bias=bias, seed=1234 + seed)
    return rare_features_problem(n=n, d=d, m=m, c=c, design=design, loss=loss, reg=reg, seed=seed)


def sampled_rare_features_problems(rng: np.random.Generator, samples: int) -> list:
    """``samples`` small synthetic sparse least-squares problems drawn from ``rng``: n in [2, 12]; every fourth a
    regular design with disjoint supports (c = 1, d a multiple of n up to 3n), the others the random design with
    c in [1, n] and about 5 n / c + [1, 20) features; m in [1, 6] rows per client."""
    out = []
    for j in range(samples):  # sampled instances: a loop over instances, not over clients
        n = int(rng.integers(2, 13))
        design = "regular" if j % 4 == 0 else "random"
        cc = 1 if j % 4 == 0 else int(rng.integers(1, n + 1))
        d = n * int(rng.integers(1, 4)) if design == "regular" else int(rng.integers(5 * n // cc + 1, 5 * n // cc + 20))
        out.append(
            rare_features_problem(
                n=n, d=d, m=int(rng.integers(1, 7)), c=cc, design=design, seed=int(rng.integers(2**31))
            )
        )
    return out


def rare_features_start(start: str, d: int, seed: int) -> np.ndarray:
    """x^0 of a rare-features run from ``streams(seed).start``: ``uniform`` = U(-1/sqrt(d), 1/sqrt(d)) (PyTorch's
    nn.Linear default, as the authors), ``zero``, or ``random`` = N(0, I)."""
    rng = streams(seed).start
    if start == "uniform":
        return rng.uniform(-1, 1, d) / math.sqrt(d)
    if start == "zero":
        return np.zeros(d)
    return rng.standard_normal(d)


def rare_features_constants(P, k: int) -> dict:
    r"""Every constant a rare-features or EF21 claim may use on the sparse problem ``P`` with Top-``k`` (exact where
    the problem says so): the smoothness constants, c, n, d, r, the contraction constants :math:`k/d` and
    :math:`\min(1,k/r)` with :math:`\theta` and :math:`\xi` (Richtárik, Gasanov, Burlachenko, arXiv:2305.15264)."""
    a_kr, a_kd = min(1.0, k / P.r), k / P.d
    out = {nm: getattr(P, nm) for nm in ("L", "L_plus", "L_qm", "L_am", "L_max", "L_O", "c", "n", "d", "r")}
    out.update(k=k, alpha=a_kd, alpha_kr=a_kr, theta_c_kr=theta_c(a_kr), xi_kr=xi(a_kr), xi_kd=xi(a_kd))
    return dict(out, L_plus_bound=P.L_plus_bound, exact_L=float(P.exact_L), nnz=P.A.nnz, S=P.S)


__all__ += [
    "rare_features_instance",
    "sampled_rare_features_problems",
    "rare_features_start",
    "rare_features_constants",
]


# ----------------------------------------------------------------------------- three point compressors
def mean_squared_smoothness(problem: LeastSquares) -> float:
    r"""Exact :math:`L_{plus}=\big(\lambda_{\max}(\frac1n\sum_iH_i^2)\big)^{1/2}` of federated least squares,
    :math:`H_i=\frac2mA_i^\top A_i` (3PC, Richtárik et al. ICML 2022, Assumption 3): the smallest constant with
    :math:`\frac1n\sum_i\Vert\nabla f_i(x)-\nabla f_i(y)\Vert^2\le L_{plus}^2\Vert x-y\Vert^2`.  Computed from the
    averaged squared Hessians, not from the :math:`L_i` (which give only :math:`L_{qm}\ge L_{plus}`)."""
    H = (2.0 / problem.m) * np.einsum("nmi,nmj->nij", problem.A, problem.A)
    S = np.einsum("nij,njk->ik", H, H) / problem.n
    return float(np.sqrt(max(np.linalg.eigvalsh(0.5 * (S + S.T))[-1], 0.0)))


def well_conditioned_least_squares(n: int = 4, d: int = 20, seed: int = 0) -> LeastSquares:
    r"""Least squares whose client Hessians have eigenvalues in :math:`[1,1.5]\cdot(1+0.2i)` in random bases
    (the instance where the PŁ stepsize cap :math:`A/(2\mu)` matters): :math:`A_i=\sqrt{d/2}\,
    \mathrm{diag}(\lambda^{(i)})^{1/2}U_i^\top` with m = d rows, so :math:`H_i=\frac2dA_i^\top A_i=U_i\,
    \mathrm{diag}(\lambda^{(i)})U_i^\top`; targets :math:`b_i\sim\mathcal N(0,I)`."""
    for name, v in (("n", n), ("d", d)):
        if not isinstance(v, (int, np.integer)) or v < 1:
            raise UsageError(f"{name} must be an integer >= 1, got {v!r}")
    rng = streams(seed).data
    lam = rng.uniform(1.0, 1.5, (n, d)) * (1.0 + 0.2 * np.arange(n))[:, None]
    U = np.linalg.qr(rng.standard_normal((n, d, d)))[0]
    A = np.sqrt(d / 2.0) * np.sqrt(lam)[:, :, None] * np.swapaxes(U, 1, 2)
    return LeastSquares(A, rng.standard_normal((n, d)))


__all__ += ["mean_squared_smoothness", "well_conditioned_least_squares"]
