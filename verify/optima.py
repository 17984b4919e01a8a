r"""Exact optima with certificates (cvxpy), where a bound needs :math:`f^\star`, :math:`x^\star` or
:math:`f^{\inf}`.

Every function returns an :class:`Optimum` whose ``certificate`` records how the value was
certified, and raises :class:`OptimumError` when the certificate fails.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cvxpy as cp
import numpy as np
from scipy.special import expit

from solvers.problems import LeastSquares, NonconvexLogistic

__all__ = ["Optimum", "OptimumError", "least_squares_optimum", "logistic_lower_bound"]


class OptimumError(RuntimeError):
    """An optimum could not be certified."""


@dataclass
class Optimum:
    """A certified optimum: ``lower <= f* <= value`` and the evidence for it."""

    x: np.ndarray | None
    value: float
    lower: float
    certificate: dict = field(default_factory=dict)


def least_squares_optimum(problem: LeastSquares, tol: float = 1e-9) -> Optimum:
    r"""Minimum of federated least squares, by cvxpy and by ``lstsq``, certified by PŁ.

    For a convex quadratic with PŁ constant :math:`\mu`,
    :math:`f^\star\ge f(\hat x)-\Vert\nabla f(\hat x)\Vert^2/(2\mu)`, so
    ``[value - gap, value]`` brackets :math:`f^\star`.  The two solvers must agree to ``tol``
    (relative), and the PŁ gap must be below ``tol``.
    """
    n, m, d = problem.A.shape
    x = cp.Variable(d)
    obj = cp.sum_squares(problem._A2 @ x - problem.b.ravel()) / (n * m)
    cp.Problem(cp.Minimize(obj)).solve(solver=cp.CLARABEL)
    candidates = []
    if x.value is not None:
        candidates.append(np.asarray(x.value, dtype=float))
    x_ls, _ = problem.minimize()
    candidates.append(x_ls)
    vals = [float(problem.value(c)) for c in candidates]
    best = int(np.argmin(vals))
    xb, fb = candidates[best], vals[best]
    g = problem.grad(xb)
    gn2 = float(g @ g)
    mu = problem.mu
    if mu <= 0:
        raise OptimumError("least squares: the Hessian is zero; no PŁ certificate")
    gap = gn2 / (2 * mu)
    agree = abs(vals[0] - vals[-1]) / max(1.0, abs(fb))
    cert = {"method": "cvxpy(CLARABEL) + lstsq, PL certificate", "grad_norm_sq": gn2, "pl_gap": gap,
            "solver_disagreement": agree, "mu": mu}
    if gap > tol * max(1.0, abs(fb)) or agree > max(tol, 1e-6):
        raise OptimumError(f"least squares optimum not certified: PL gap {gap:.3g}, solver disagreement {agree:.3g}")
    return Optimum(xb, fb, fb - gap, cert)


def logistic_lower_bound(problem: NonconvexLogistic) -> Optimum:
    r"""A certified lower bound on :math:`f^{\inf}` for the nonconvex logistic problem.

    The regulariser is nonnegative, so :math:`f^{\inf}\ge\ell^\star=\min_x\frac1N\sum_j
    \log(1+e^{-z_j(x)})`, :math:`z=\mathrm{diag}(y)Ax`.  The primal is solved by cvxpy; the lower
    bound comes from Fenchel duality: for every :math:`u\in[0,1]^N` with
    :math:`(\mathrm{diag}(y)A)^\top u=0`,
    :math:`\ell^\star\ge\frac1N\sum_jH(u_j)` with the binary entropy :math:`H`.  The dual point is
    :math:`u_j=\sigma(-z_j(\hat x))` projected onto the constraint; the reported duality gap is the
    certificate.  ``lower`` is at least 0 in any case.
    """
    M, wts = problem.loss_only()
    N = M.shape[0]
    x = cp.Variable(problem.d)
    obj = cp.sum(cp.logistic(-(M @ x))) / N
    prob = cp.Problem(cp.Minimize(obj))
    try:
        prob.solve(solver=cp.CLARABEL)
    except cp.SolverError:  # pragma: no cover - fall back to another conic solver
        prob.solve(solver=cp.SCS, eps=1e-10)
    if x.value is None:
        return Optimum(None, float("nan"), 0.0, {"method": "trivial bound 0 (solver failed)"})
    xh = np.asarray(x.value, dtype=float)
    z = M @ xh
    primal = float(np.mean(np.logaddexp(0.0, -z)))
    u = expit(-z)
    # least-norm correction onto {M^T u = 0}
    corr, *_ = np.linalg.lstsq(M.T, M.T @ u, rcond=None)
    u2 = u - corr
    dual = 0.0
    feasible = bool(np.all((u2 >= 0) & (u2 <= 1)))
    if feasible:
        with np.errstate(divide="ignore", invalid="ignore"):
            H = -(u2 * np.log(np.where(u2 > 0, u2, 1)) + (1 - u2) * np.log(np.where(u2 < 1, 1 - u2, 1)))
        dual = float(np.mean(H))
    lower = max(0.0, dual)
    cert = {"method": "cvxpy(CLARABEL) primal, projected Fenchel dual", "primal": primal, "dual": dual,
            "duality_gap": primal - lower, "dual_feasible": feasible,
            "constraint_residual": float(np.linalg.norm(M.T @ u2))}
    if lower > primal + 1e-9:
        raise OptimumError(f"logistic lower bound {lower} exceeds the primal value {primal}")
    return Optimum(xh, primal, lower, cert)


def superquantile_optimum(clients, theta: float, m: int | None = None, lam: float = 0.0, tol: float = 1e-7) -> Optimum:
    r"""Exact minimum of the Simplicial-FL objective :math:`\bar F_\theta(w)+\frac\lambda2\Vert w\Vert^2` by cvxpy.

    ``m = None`` (or ``n``) gives :math:`F_\theta(w)=S_\theta(F_1(w),\dots,F_n(w))`; otherwise the
    surrogate averages :math:`S_\theta` over all size-``m`` subsets.  Epigraph form (spec section 5.2):

    .. math:: \min_{w,\eta,s}\ \frac1{|\mathcal S|}\sum_S\Big(\eta_S+\frac1{\theta m}\sum_{i\in S}s_{S,i}\Big)
        +\frac\lambda2\Vert w\Vert^2,\quad s_{S,i}\ge F_i(w)-\eta_S,\ s\ge0.

    Certificate: the constraint duals give tail weights :math:`\pi_S\in P_\theta` (projected onto the
    capped simplices), hence the aggregated weights :math:`r_i=\frac1{|\mathcal S|}\sum_{S\ni i}\pi_{S,i}` and
    the Lagrangian lower bound :math:`D(r)=\min_w\sum_ir_iF_i(w)+\frac\lambda2\Vert w\Vert^2` (one
    linear solve); ``value`` is the exact surrogate at the solution, ``lower = D(r)``.
    """
    import warnings

    from solvers.superquantile import subsets, surrogate_value

    n, d = clients.n, clients.d
    m = n if m is None else int(m)
    Ss = subsets(n, m)
    C = Ss.shape[0]
    w = cp.Variable(d)
    eta = cp.Variable(C)
    s = cp.Variable((C, m), nonneg=True)
    A, b = clients.ls.A, clients.ls.b
    F = cp.hstack([cp.sum_squares(A[i] @ w - b[i]) / clients.ls.m for i in range(n)])
    rows = Ss.ravel()
    Fsel = cp.reshape(F[rows], (C, m), order="C")
    cons = [s >= Fsel - cp.reshape(eta, (C, 1), order="C") @ np.ones((1, m))]
    obj = cp.sum(eta) / C + cp.sum(s) / (C * theta * m) + 0.5 * lam * cp.sum_squares(w)
    prob = cp.Problem(cp.Minimize(obj), cons)
    with warnings.catch_warnings():  # "solution may be inaccurate": the dual certificate below decides
        warnings.simplefilter("ignore", UserWarning)
        prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10)
    if w.value is None:
        raise OptimumError(f"superquantile optimum: solver status {prob.status}")
    wh = np.asarray(w.value, dtype=float)
    value = float(surrogate_value(clients, wh, theta, m, lam))
    dual = np.maximum(np.asarray(cons[0].dual_value, dtype=float), 0.0) * C  # per-subset weights pi_S
    cap = 1.0 / (theta * m)
    # repair rounding: clip to the caps and rescale to the simplex, keeping feasibility
    dual = np.minimum(dual, cap)
    dual = dual / np.maximum(dual.sum(axis=1, keepdims=True), 1e-300)
    if np.any(dual > cap * (1 + 1e-9)):
        dual = np.minimum(dual, cap)  # pragma: no cover - only after extreme rounding
        dual += (1 - dual.sum(axis=1, keepdims=True)) / m
    r = np.zeros(n)
    np.add.at(r, rows, dual.ravel() / C)
    if lam > 0 or np.all(np.linalg.eigvalsh(np.einsum("n,nde->de", r, clients.H)) > 0):
        wr = clients.minimize_weighted(r, lam)
        lower = float(r @ clients.values(wr) + 0.5 * lam * wr @ wr)
    else:  # pragma: no cover - singular weighted Hessian
        lower = -np.inf
    gap = value - lower
    cert = {"method": "cvxpy(CLARABEL) epigraph + Lagrangian dual bound", "duality_gap": gap, "subsets": C,
            "solver_value": float(prob.value)}
    if not gap <= tol * max(1.0, abs(value)):
        raise OptimumError(f"superquantile optimum not certified: duality gap {gap:.3g}")
    return Optimum(wh, value, lower, cert)
