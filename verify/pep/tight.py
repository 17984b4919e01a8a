r"""Tight EF21 rates of Thomsen, Taylor & Dieuleveut (arXiv:2506.05271): closed form and Lyapunov SDP.

Notation: the authors' compressor parameter δ is our α; :math:`\epsilon=1-\alpha`, :math:`s=\sqrt\epsilon`.
Single node, :math:`f\in\mathcal F_{\mu,L}`, contractive compressor (per-call model of :mod:`.ef21`).

* Optimal stepsize and rate (authors' ``theory_helpers`` and certificate notebook for EF21, Theorem 2):

  .. math::
      \eta^\star=\frac2{L+\mu}\,\frac{1-s}{1+s},\qquad
      \lambda=\frac{\eta^\star}{L+\mu}\Big[(1-s)(L-\mu)+(1+s)\sqrt{(L-\mu)^2+16L\mu\,\tfrac{s}{(1+s)^2}}\Big],
      \qquad \rho^\star=s+\tfrac14(1+s)(L-\mu)\lambda,

  the per-iteration contraction of :math:`V=\Vert\nabla f(x)-d\Vert^2+s\Vert\nabla f(x)\Vert^2`
  (a rate for squared quantities); :math:`\rho^\star\to((L-\mu)/(L+\mu))^2` as :math:`\alpha\to1`.
* Tight rate at any stepsize (method of the authors' ``lyapunov.has_lyapunov``): the smallest ρ for which a
  quadratic Lyapunov function :math:`z^\top Pz+p(f-f_\star)`, :math:`z=(x-x_\star,\nabla f(x),d)`, decreases by
  ρ per step, certified by nonnegative multipliers of the six interpolation inequalities among
  :math:`\{x_\star,x^0,x^1\}` and of the compressor inequality.  The compressor multiplier **must** be
  :math:`\nu\ge0` (the authors' code leaves it free, which does not give a valid certificate).
"""

from __future__ import annotations

import math
import warnings

import cvxpy as cp
import numpy as np

from ._pepit import pepit, solve

__all__ = ["optimal_stepsize", "optimal_rate", "lyapunov_rate", "v_metric_pep", "complexity_looseness"]


def optimal_stepsize(L: float, mu: float, alpha: float) -> float:
    r""":math:`\eta^\star=\frac2{L+\mu}\frac{\alpha}{(1+\sqrt{1-\alpha})^2}` (Thomsen et al. 2025)."""
    s = math.sqrt(1 - alpha)
    return 2 / (L + mu) * alpha / (1 + s) ** 2


def optimal_rate(L: float, mu: float, alpha: float) -> float:
    r""":math:`\rho^\star` of Thomsen et al. 2025 (the tight EF21 rate at :math:`\eta^\star`)."""
    s = math.sqrt(1 - alpha)
    eta = optimal_stepsize(L, mu, alpha)
    lam = eta / (L + mu) * ((1 - s) * (L - mu) + (1 + s) * math.sqrt((L - mu) ** 2 + 16 * L * mu * s / (1 + s) ** 2))
    return s + 0.25 * (1 + s) * (L - mu) * lam


# basis of the one-step Gram matrix: (x0 - x*, g0, d0, g1, c0); function values (f0, f1), f* = 0
def _basis(gamma: float):
    e = np.eye(5)
    x0, g0, d0, g1, c0 = e
    x1 = x0 - gamma * d0
    zero = np.zeros(5)
    pts = [(zero, zero, np.array([0.0, 0.0])), (x0, g0, np.array([1.0, 0.0])), (x1, g1, np.array([0.0, 1.0]))]
    return x0, g0, d0, g1, c0, x1, pts


def _outer(a, b):
    return 0.5 * (np.outer(a, b) + np.outer(b, a))


def _feasible(rho: float, L: float, mu: float, alpha: float, gamma: float) -> bool:
    x0, g0, d0, g1, c0, x1, pts = _basis(gamma)
    P = cp.Variable((3, 3), symmetric=True)
    p = cp.Variable(nonneg=True)
    lam = cp.Variable((3, 3), nonneg=True)
    nu = cp.Variable(nonneg=True)  # compressor multiplier: nonnegative (see module docstring)
    Z0 = np.stack([x0, g0, d0])  # z rows in the basis
    Z1 = np.stack([x1, g1, d0 + c0])
    gram = Z1.T @ P @ Z1 - rho * (Z0.T @ P @ Z0)
    fval = p * np.array([0.0, 1.0]) - rho * p * np.array([1.0, 0.0])
    for i, (xi, gi, fi) in enumerate(pts):
        for j, (xj, gj, fj) in enumerate(pts):
            if i == j:
                continue
            # h_ij = f_i - f_j - <g_j, x_i - x_j> - ||g_i-g_j||^2/(2L) - mu/(2(1-mu/L)) ||x_i-x_j-(g_i-g_j)/L||^2 >= 0
            dx, dg = xi - xj, gi - gj
            r = dx - dg / L
            Q = -_outer(gj, dx) - np.outer(dg, dg) / (2 * L) - mu / (2 * (1 - mu / L)) * np.outer(r, r)
            gram = gram + lam[i, j] * Q
            fval = fval + lam[i, j] * (fi - fj)
    v = g1 - d0
    qc = (1 - alpha) * np.outer(v, v) - np.outer(c0 - v, c0 - v)  # >= 0 on feasible points
    gram = gram + nu * qc
    cons = [
        P >> 0,
        cp.trace(P) + p == 1,
        0.5 * (gram + gram.T) << 0,
        fval == 0,
        cp.diag(lam) == 0,
    ]
    prob = cp.Problem(cp.Minimize(0), cons)
    try:
        with warnings.catch_warnings():  # an inaccurate solve counts as "no certificate" below
            warnings.simplefilter("ignore")
            prob.solve(solver=cp.CLARABEL)
    except cp.SolverError:
        return False
    return prob.status == cp.OPTIMAL


def lyapunov_rate(L: float, mu: float, alpha: float, gamma: float, tol: float = 1e-7) -> float:
    r"""Smallest ρ in [0, 1] with a quadratic Lyapunov certificate (bisection); 1.0 when none exists."""
    if not _feasible(1.0, L, mu, alpha, gamma):
        return 1.0
    lo, hi = 0.0, 1.0
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        if _feasible(mid, L, mu, alpha, gamma):
            hi = mid
        else:
            lo = mid
    return hi


def complexity_looseness(claim_rate: float, tight_rate: float) -> float:
    r""":math:`\log(\text{claim rate})/\log\rho_{\rm tight}`: iterations the claim needs per tight iteration.

    Both must be rates of squared quantities per iteration, in (0, 1).
    """
    return math.log(tight_rate) / math.log(claim_rate)


def v_metric_pep(L: float, mu: float, alpha: float, gamma: float, T: int):
    r"""PEP of :math:`\sup V(x^T,d^T)/V(x^0,d^0)` with Thomsen et al.'s V (free :math:`d^0`, exact class)."""
    P = pepit()
    F = pepit("PEPit.functions")
    s = math.sqrt(1 - alpha)
    problem = P.PEP()
    f = problem.declare_function(F.SmoothStronglyConvexFunction, mu=mu, L=L)
    x = problem.set_initial_point()
    d = P.Point()

    def V(x, d):
        g = f.gradient(x)
        return (g - d) ** 2 + s * g**2

    problem.set_initial_condition(V(x, d) <= 1)
    for _ in range(T):
        x = x - gamma * d
        v = f.gradient(x) - d
        c = P.Point()
        problem.add_constraint((c - v) ** 2 <= (1 - alpha) * v**2)
        d = d + c
    problem.set_performance_metric(V(x, d))
    return solve(problem)
