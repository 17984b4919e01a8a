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


def sparse_logistic_lower_bound(problem) -> Optimum:
    r"""Certified lower bound on :math:`f^\star` of the weighted sparse logistic loss
    :math:`f(x)=\sum_jw_j\log(1+e^{-z_j})`, :math:`z=Mx`, :math:`M=\mathrm{diag}(y)A` (rare features).

    By Fenchel duality (:math:`\log(1+e^{-z})=\max_{u\in[0,1]}-uz+H(u)`), every :math:`u\in[0,1]^N`
    with :math:`M^\top(w\circ u)=0` gives :math:`f^\star\ge\sum_jw_jH(u_j)`.  The primal is solved by
    cvxpy (CLARABEL, sparse data); :math:`u=\sigma(-\hat z)` is corrected onto the constraint by the
    least-norm step (LSQR) and the bound is kept only when the corrected point is feasible;
    ``lower`` is at least 0 in any case (the loss is positive).  Appended for the rare-features result.
    """
    import scipy.sparse as sps

    w = problem.row_w / problem.n
    M = sps.diags(problem.y) @ problem.A
    x = cp.Variable(problem.d)
    prob = cp.Problem(cp.Minimize(cp.sum(cp.multiply(w, cp.logistic(-(M @ x))))))
    try:
        prob.solve(solver=cp.CLARABEL)
    except (cp.SolverError, ValueError):  # pragma: no cover - solver trouble: trivial bound
        return Optimum(None, float("nan"), 0.0, {"method": "trivial bound 0 (solver failed)"})
    if x.value is None:
        return Optimum(None, float("nan"), 0.0, {"method": "trivial bound 0 (solver failed)"})
    xh = np.asarray(x.value, dtype=float)
    z = M @ xh
    primal = float(w @ np.logaddexp(0.0, -z))
    v = w * expit(-z)
    rhs = M.T @ v
    # least-norm correction delta = M s with (M^T M) s = M^T v, so that M^T (v - delta) = 0
    G = (M.T @ M).toarray() if problem.d <= 2000 else None
    if G is None:
        return Optimum(xh, primal, 0.0, {"method": "cvxpy primal; dimension too large for the dual certificate", "primal": primal})
    sol = np.linalg.lstsq(G, rhs, rcond=None)[0]
    u2 = (v - M @ sol) / w
    feasible = bool(np.all((u2 >= 0) & (u2 <= 1)))
    dual = 0.0
    if feasible:
        with np.errstate(divide="ignore", invalid="ignore"):
            H = -(u2 * np.log(np.where(u2 > 0, u2, 1)) + (1 - u2) * np.log(np.where(u2 < 1, 1 - u2, 1)))
        dual = float(w @ H)
    lower = max(0.0, dual)
    cert = {"method": "cvxpy(CLARABEL) primal, projected Fenchel dual", "primal": primal, "dual": dual,
            "duality_gap": primal - lower, "dual_feasible": feasible,
            "constraint_residual": float(np.linalg.norm(M.T @ (w * u2)))}
    if lower > primal + 1e-9:
        raise OptimumError(f"logistic lower bound {lower} exceeds the primal value {primal}")
    return Optimum(xh, primal, lower, cert)
