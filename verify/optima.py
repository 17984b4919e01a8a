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


def l2_logistic_optimum(problem, tol: float = 1e-9, newton_steps: int = 8) -> Optimum:
    r"""Minimum of :math:`\ell_2`-logistic regression (:class:`solvers.problems.L2Logistic`), certified.

    Solved by cvxpy (``cp.sum(cp.logistic(-y * (M @ x))) / m + lam/2 ||x||^2``), then polished by
    a few Newton steps.  The certificate is :math:`\lambda`-strong convexity: for any
    :math:`\hat x`, :math:`f(\hat x)-\frac{\Vert\nabla f(\hat x)\Vert^2}{2\lambda}\le f^\star\le f(\hat x)`
    and :math:`\Vert\hat x-x^\star\Vert\le\Vert\nabla f(\hat x)\Vert/\lambda` (reported as
    ``dist_bound``), so bounds built from ``lower`` and ``dist_bound`` stay valid.
    """
    m, d = problem.M.shape
    x = cp.Variable(d)
    obj = cp.sum(cp.logistic(-cp.multiply(problem.y, problem.M @ x))) / m + problem.lam / 2 * cp.sum_squares(x)
    prob = cp.Problem(cp.Minimize(obj))
    try:
        prob.solve(solver=cp.CLARABEL)
    except cp.SolverError:  # pragma: no cover - fall back to another conic solver
        prob.solve(solver=cp.SCS, eps=1e-10)
    xh = np.zeros(d) if x.value is None else np.asarray(x.value, dtype=float)
    for _ in range(newton_steps):
        z = problem.YM @ xh
        s = expit(-z)
        H = (problem.YM.T * (s * (1 - s) / m)) @ problem.YM + problem.lam * np.eye(d)
        xh = xh - np.linalg.solve(H, problem.grad(xh))
    g = problem.grad(xh)
    gn = float(np.linalg.norm(g))
    fb = float(problem.value(xh))
    gap = gn ** 2 / (2 * problem.lam)
    cert = {"method": "cvxpy(CLARABEL) + Newton polish, strong-convexity certificate", "grad_norm": gn,
            "sc_gap": gap, "dist_bound": gn / problem.lam, "cvxpy_status": prob.status}
    if gap > tol * max(1.0, abs(fb)):
        raise OptimumError(f"l2-logistic optimum not certified: strong-convexity gap {gap:.3g}")
    return Optimum(xh, fb, fb - gap, cert)


__all__ += ["l2_logistic_optimum"]
