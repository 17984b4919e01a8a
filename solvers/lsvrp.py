r"""L-SVRP (loopless stochastic variance-reduced proximal point) and SGD, all replications at once.

L-SVRP (Khaled & Jin, ICLR 2023; revisited by Gasanov & Richtárik, arXiv 2412.13619; see
``notes/lsvrp.md``): with :math:`w^0=x^0` and :math:`i_k` uniform on :math:`\{1..n\}`,

.. math::
    g^k=\nabla f(w^k)-\nabla f_{i_k}(w^k),\qquad
    x^{k+1}=\mathrm{prox}_{\gamma f_{i_k}}(x^k-\gamma g^k),

and, with probability :math:`p` (a coin independent of :math:`i_k`), :math:`w^{k+1}=x^{k+1}`
(``refresh="new"``) or :math:`w^{k+1}=x^k` (``refresh="old"``, the L-SVRG convention); otherwise
:math:`w^{k+1}=w^k`.  Communication accounting: each iteration costs ``cost_it`` (1 or 2) and a
refresh costs :math:`n` client gradients; the initial :math:`\nabla f(w^0)` costs :math:`n`.

SGD: :math:`x^{k+1}=x^k-\gamma\nabla f_{i_k}(x^k)` with the same per-iteration cost.

The affine maps of one step on the stacked centred state :math:`z=(x-x^\star,w-x^\star)` for
every random outcome (client, coin) are given by :func:`lsvrp_outcomes` / :func:`sgd_outcomes`,
so that exact second moments can be propagated (``verify.expectation``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._trajectory import Trajectory
from ._validate import InvalidInput, finite_array, generator, in_unit_interval, positive, positive_int
from .problems import L2Logistic, Problem, QuadraticClients

__all__ = [
    "LSVRPTrajectory",
    "lsvrp",
    "sgd",
    "lsvrp_outcomes",
    "sgd_outcomes",
    "REFRESH",
    "DISSIMILARITY",
    "client_constants",
    "expected_communications",
    "outcome_system",
]

REFRESH = ("new", "old")
DISSIMILARITY = ("mean-square", "max")  #: which Hessian dissimilarity :func:`client_constants` calls delta


@dataclass(kw_only=True)
class LSVRPTrajectory(Trajectory):
    r"""What an L-SVRP / SGD run records (replications on the first axis).

    Attributes
    ----------
    dist_x, dist_w : ndarray, shape (R, T+1)
        :math:`\Vert x^k-x^\star\Vert^2` and :math:`\Vert w^k-x^\star\Vert^2` (``dist_w`` is zero
        for SGD); only when ``x_star`` is given, else NaN.
    comms : ndarray, shape (R, T+1)
        Cumulative communications (``cost_it`` per iteration, ``n`` per refresh, ``n`` initially).
    refreshes : ndarray, shape (R,)
        Number of refreshes.
    prox_calls : int
        Client prox evaluations per replication (= T; SGD: 0).
    grad_calls : ndarray, shape (R,)
        Client gradient evaluations per replication.
    newton_iterations : int
        Inner Newton iterations in total (ℓ2-logistic prox), 0 for quadratics.
    """

    SERIES = ("dist_x", "dist_w", "comms")

    gamma: float
    dist_x: np.ndarray
    dist_w: np.ndarray
    comms: np.ndarray
    refreshes: np.ndarray
    prox_calls: int
    grad_calls: np.ndarray
    newton_iterations: int = 0


def _common(problem, x0, gamma, T, replications, cost_it, x_star):
    if not isinstance(problem, (QuadraticClients, L2Logistic)):
        raise InvalidInput(f"problem must be QuadraticClients or L2Logistic, got {type(problem).__name__}")
    gamma = positive("gamma", gamma)
    T = positive_int("T", T)
    R = positive_int("replications", replications)
    if cost_it not in (1, 2):
        raise InvalidInput(f"cost_it must be 1 or 2, got {cost_it!r}")
    x0 = finite_array("x0", x0, ndim=1)
    if x0.shape != (problem.d,):
        raise InvalidInput(f"x0 must have shape ({problem.d},), got {x0.shape}")
    xs = None
    if x_star is not None:
        xs = finite_array("x_star", x_star, ndim=1)
        if xs.shape != (problem.d,):
            raise InvalidInput(f"x_star must have shape ({problem.d},), got {xs.shape}")
    return gamma, T, R, x0, xs


def _sq(a, xs):
    if xs is None:
        return np.full(a.shape[0], np.nan)
    e = a - xs
    return np.einsum("rd,rd->r", e, e)


def lsvrp(
    problem: Problem,
    x0,
    *,
    gamma: float,
    T: int,
    p: float,
    rng: np.random.Generator,
    refresh: str = "new",
    replications: int = 1,
    x_star=None,
    cost_it: int = 1,
    prox_tol: float = 1e-12,
) -> LSVRPTrajectory:
    r"""Run L-SVRP with exact proxes (``replications`` independent runs carried together).

    Parameters
    ----------
    problem : QuadraticClients or L2Logistic
        Quadratics use the precomputed per-client eigendecomposition (no solve per step);
        ℓ2-logistic uses a batched inner Newton solve to gradient norm ``prox_tol``.
    x0 : array (d,)
    gamma : float
        Stepsize :math:`\gamma>0`.
    p : float
        Refresh probability in (0, 1].
    T : int
        Iterations.
    refresh : {"new", "old"}
        :math:`w\leftarrow x^{k+1}` (matrix M of the spec) or :math:`w\leftarrow x^k` (M').
    rng : numpy.random.Generator
        Source of every random choice (client indices, then coins).
    replications : int
        Monte Carlo replications.
    x_star : array (d,), optional
        Minimiser; when given, squared distances are recorded.
    cost_it : {1, 2}
        Communications per iteration.
    prox_tol : float
        Newton tolerance on the prox subproblem's gradient norm (logistic only).
    """
    gamma, T, R, x0, xs = _common(problem, x0, gamma, T, replications, cost_it, x_star)
    p = in_unit_interval("p", p)
    if refresh not in REFRESH:
        raise InvalidInput(f"refresh must be 'new' (w <- x^(k+1)) or 'old' (w <- x^k), got {refresh!r}")
    n, d = problem.n, problem.d
    rng = generator(rng, "L-SVRP (client indices, coins)")
    idx = rng.integers(0, n, size=(T, R))
    coins = rng.random((T, R)) < p
    quad = isinstance(problem, QuadraticClients)
    X = np.broadcast_to(x0, (R, d)).copy()
    W = X.copy()
    dx = np.full((R, T + 1), np.inf)
    dw = np.full((R, T + 1), np.inf)
    dx[:, 0], dw[:, 0] = _sq(X, xs), _sq(W, xs)
    comms = np.empty((R, T + 1))
    comms[:, 0] = n
    step_cost = np.where(coins, cost_it + n, cost_it).T.cumsum(axis=1)  # (R, T)
    comms[:, 1:] = n + step_cost
    grad_calls = n + 2 * T + n * coins.sum(axis=0)
    newton = 0
    diverged = None
    if quad:
        lam, U = problem.eigvals, problem.eigvecs
        gbar = W @ problem.A_bar.T - problem.b_bar  # full gradient at w, (R, d)
    else:
        gbar = problem.grad(W)
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(T):
            i = idx[k]
            if quad:
                # x+ = U_i [(U_i^T (x - gamma gbar) + gamma lam_i * U_i^T w) / (1 + gamma lam_i)]; b_i cancels
                if R == 1:  # a view of one eigenbasis and one (d, 2) product: no gather, no einsum
                    Ui, li = U[i[0]], lam[i[0]]
                    y = Ui.T @ np.stack((X[0] - gamma * gbar[0], W[0]), axis=1)
                    Xn = (Ui @ ((y[:, 0] + gamma * li * y[:, 1]) / (1.0 + gamma * li)))[None, :]
                else:
                    Ui, li = U[i], lam[i]
                    yx = np.einsum("rji,rj->ri", Ui, X - gamma * gbar)
                    yw = np.einsum("rji,rj->ri", Ui, W)
                    Xn = np.einsum("rij,rj->ri", Ui, (yx + gamma * li * yw) / (1.0 + gamma * li))
            else:
                gi = problem.value_and_grad(W, per_client=False)[1][np.arange(R), i]
                Xn, it = problem.prox(i, X - gamma * (gbar - gi), gamma, tol=prox_tol)
                newton += it
            c = coins[k]
            if c.any():
                src = Xn if refresh == "new" else X
                W = np.where(c[:, None], src, W)
                if quad:
                    gbar = np.where(c[:, None], W @ problem.A_bar.T - problem.b_bar, gbar)
                else:
                    gbar = np.where(c[:, None], problem.grad(W), gbar)
            X = Xn
            dx[:, k + 1], dw[:, k + 1] = _sq(X, xs), _sq(W, xs)
            if not np.all(np.isfinite(X)):
                diverged = k + 1
                break
    return LSVRPTrajectory(
        gamma=gamma,
        T=T,
        dist_x=dx,
        dist_w=dw,
        comms=comms,
        refreshes=coins.sum(axis=0),
        prox_calls=T,
        grad_calls=grad_calls,
        x_final=X,
        newton_iterations=newton,
        diverged_at=diverged,
        meta={
            "algorithm": "lsvrp",
            "p": p,
            "refresh": refresh,
            "replications": R,
            "cost_it": cost_it,
            "prox": "eigendecomposition" if quad else f"newton(tol={prox_tol:g})",
        },
    )


def sgd(
    problem: Problem,
    x0,
    *,
    gamma: float,
    T: int,
    rng: np.random.Generator,
    replications: int = 1,
    x_star=None,
    cost_it: int = 1,
) -> LSVRPTrajectory:
    r"""Run SGD :math:`x^{k+1}=x^k-\gamma\nabla f_{i_k}(x^k)` with uniform :math:`i_k`.

    Communication: ``cost_it`` per iteration (no full gradients).  Same record as :func:`lsvrp`.
    """
    gamma, T, R, x0, xs = _common(problem, x0, gamma, T, replications, cost_it, x_star)
    rng = generator(rng, "SGD (client indices)")
    idx = rng.integers(0, problem.n, size=(T, R))
    X = np.broadcast_to(x0, (R, problem.d)).copy()
    dx = np.full((R, T + 1), np.inf)
    dx[:, 0] = _sq(X, xs)
    quad = isinstance(problem, QuadraticClients)
    diverged = None
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(T):
            i = idx[k]
            if quad:
                g = np.einsum("rij,rj->ri", problem.A[i], X) - problem.b[i]
            else:
                g = problem.value_and_grad(X)[1][np.arange(R), i]
            X = X - gamma * g
            dx[:, k + 1] = _sq(X, xs)
            if not np.all(np.isfinite(X)):
                diverged = k + 1
                break
    comms = np.broadcast_to(cost_it * np.arange(T + 1.0), (R, T + 1)).copy()
    return LSVRPTrajectory(
        gamma=gamma,
        T=T,
        dist_x=dx,
        dist_w=np.zeros_like(dx),
        comms=comms,
        refreshes=np.zeros(R, dtype=int),
        prox_calls=0,
        grad_calls=np.full(R, T),
        x_final=X,
        diverged_at=diverged,
        meta={"algorithm": "sgd", "replications": R, "cost_it": cost_it},
    )


def lsvrp_outcomes(problem: QuadraticClients, gamma: float, p: float, refresh: str = "new"):
    r"""The random outcomes of one L-SVRP step on quadratics as linear maps of the centred state.

    With :math:`e=x-x^\star`, :math:`u=w-x^\star`, :math:`P_i=(I+\gamma A_i)^{-1}` and
    :math:`B_i=\gamma P_i(A_i-\bar A)`, client :math:`i` gives :math:`e^+=P_ie+B_iu` (the minimiser
    is a fixed point of every map), and the coin :math:`c\in\{0,1\}` gives

    .. math::
        u^+=\begin{cases}c\,(P_ie+B_iu)+(1-c)\,u & \text{refresh "new"}\\
        c\,e+(1-c)\,u & \text{refresh "old"}.\end{cases}

    Returns ``(probs (2n,), G (2n, 2d, 2d), h (2n, 2d))``: outcome ``(c, i)`` at index
    ``c*n + i`` with probability :math:`(p\,c+(1-p)(1-c))/n`; ``h`` is zero (the maps are linear).
    """
    if not isinstance(problem, QuadraticClients):
        raise InvalidInput(f"problem must be QuadraticClients for exact moments, got {type(problem).__name__}")
    gamma = positive("gamma", gamma)
    p = in_unit_interval("p", p)
    if refresh not in REFRESH:
        raise InvalidInput(f"refresh must be 'new' or 'old', got {refresh!r}")
    n, d = problem.n, problem.d
    lam, U = problem.eigvals, problem.eigvecs
    P = np.einsum("nij,nj,nkj->nik", U, 1.0 / (1.0 + gamma * lam), U)
    B = gamma * P @ (problem.A - problem.A_bar)
    G = np.zeros((2, n, 2 * d, 2 * d))
    G[:, :, :d, :d] = P
    G[:, :, :d, d:] = B
    eye = np.eye(d)
    G[0, :, d:, d:] = eye  # no refresh: u+ = u
    if refresh == "new":
        G[1, :, d:, :d] = P
        G[1, :, d:, d:] = B
    else:
        G[1, :, d:, :d] = eye
    probs = np.r_[np.full(n, (1 - p) / n), np.full(n, p / n)]
    return probs, G.reshape(2 * n, 2 * d, 2 * d), np.zeros((2 * n, 2 * d))


def sgd_outcomes(problem: QuadraticClients, gamma: float):
    r"""SGD's outcomes on quadratics as affine maps of :math:`e=x-x^\star`:
    :math:`e^+=(I-\gamma A_i)e-\gamma\nabla f_i(x^\star)`, each with probability :math:`1/n`.

    Returns ``(probs (n,), G (n, d, d), h (n, d))``.
    """
    if not isinstance(problem, QuadraticClients):
        raise InvalidInput(f"problem must be QuadraticClients for exact moments, got {type(problem).__name__}")
    gamma = positive("gamma", gamma)
    n, d = problem.n, problem.d
    G = np.eye(d) - gamma * problem.A
    h = -gamma * (problem.A @ problem.x_star - problem.b)
    return np.full(n, 1.0 / n), G, h


def client_constants(problem, dissimilarity: str = "mean-square") -> dict:
    r"""The exact constants of the clients that L-SVRP's and SGD's rates are stated in.

    Quadratic clients: :math:`\mu=\min_i\lambda_{\min}(A_i)`, the Hessian dissimilarity
    :math:`\delta=\sqrt{\lambda_{\max}(\frac1n\sum_i(A_i-\bar A)^2)}` (``delta_exact``) or its upper bound
    :math:`\delta_{\max}=\max_i\Vert A_i-\bar A\Vert` as ``delta`` (``dissimilarity="max"``), :math:`\mu_f`,
    :math:`L_{\max}` and :math:`\sigma_\star^2=\frac1n\sum_i\Vert\nabla f_i(x^\star)\Vert^2`.  l2-logistic
    clients: :math:`\mu=\lambda` and the certified upper bound of :math:`\delta` (``delta_certified_upper``).
    Both: ``n``, ``d`` and :math:`\kappa=\delta/\mu`.
    """
    if dissimilarity not in DISSIMILARITY:
        raise InvalidInput(f"dissimilarity must be one of {', '.join(DISSIMILARITY)}, got {dissimilarity!r}")
    if isinstance(problem, QuadraticClients):
        c = dict(
            mu=problem.mu,
            delta=problem.delta if dissimilarity == "mean-square" else problem.delta_max,
            delta_exact=problem.delta,
            delta_max=problem.delta_max,
            mu_f=problem.mu_f,
            L_max=problem.L_max,
            sigma2=problem.sigma_star2,
        )
    elif isinstance(problem, L2Logistic):
        c = dict(mu=problem.mu, delta=problem.delta_bound, delta_certified_upper=problem.delta_bound)
        c["L_max"] = float(problem.L_i.max())
    else:
        raise InvalidInput(f"problem must be QuadraticClients or L2Logistic, got {type(problem).__name__}")
    c.update(n=problem.n, d=problem.d, kappa=c["delta"] / c["mu"])
    return c


def expected_communications(n: int, iterations, p: float, cost_it: int = 1):
    """Expected communications of ``iterations`` L-SVRP steps: ``n`` for the initial full gradient, then
    ``cost_it`` per iteration and ``n`` per refresh (probability ``p``)."""
    return n + iterations * (cost_it + p * n)


def outcome_system(problem: QuadraticClients, gamma: float, e0, p: float | None = None, refresh: str = "new"):
    r"""The random affine recursion of a run from :math:`x^0=w^0=x^\star+e_0` for exact moments:
    ``(outcomes, z0, blocks)`` with ``outcomes = (probs, G, h)``: L-SVRP's (:func:`lsvrp_outcomes`, refresh
    probability ``p``) on the stacked state :math:`(x-x^\star,w-x^\star)` with the blocks of :math:`x` and
    :math:`w`, or SGD's (``p=None``, :func:`sgd_outcomes`) on :math:`x-x^\star` with the block of :math:`x`."""
    d = problem.d
    if p is None:
        return sgd_outcomes(problem, gamma), np.asarray(e0, dtype=float), [(0, d)]
    return lsvrp_outcomes(problem, gamma, p, refresh), np.r_[e0, e0], [(0, d), (d, 2 * d)]
