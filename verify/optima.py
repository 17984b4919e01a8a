r"""Exact optima with certificates (cvxpy), where a bound needs :math:`f^\star`, :math:`x^\star` or
:math:`f^{\inf}`.

Every function returns an :class:`Optimum` whose ``certificate`` records how the value was
certified, and raises :class:`OptimumError` when the certificate fails.  An optimum whose value,
lower bound, point or any number of its certificate is not finite is refused where it is built
(:class:`Optimum` itself): an overflow or a NaN is never a certificate.
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass, field
from typing import NamedTuple

import cvxpy as cp
import numpy as np
from scipy.special import expit

from ratecheck.solvers.problems import LeastSquares, NonconvexLogistic
from ratecheck.solvers.rare_features import SparseFederated
from ratecheck.solvers.superquantile import ciss_alternating, ciss_eta, ciss_objective, ciss_value, surrogate_kinks
from ratecheck.solvers.weiszfeld import diameter

__all__ = ["Optimum", "OptimumError", "least_squares_optimum", "logistic_lower_bound"]


class OptimumError(RuntimeError):
    """An optimum could not be certified."""


@dataclass
class Optimum:
    """A certified optimum: ``lower <= f* <= value`` and the evidence for it.

    Construction refuses (:class:`OptimumError`) a non-finite ``lower``, point ``x`` or number in the
    ``certificate``, and a non-finite ``value`` unless there is no point (``x=None``: a lower bound
    alone, e.g. the trivial bound 0 when a solver failed)."""

    x: np.ndarray | None
    value: float
    lower: float
    certificate: dict = field(default_factory=dict)

    def __post_init__(self):
        bad = [] if math.isfinite(self.lower) else [f"lower={self.lower:g}"]
        if self.x is not None:
            if not math.isfinite(self.value):
                bad.insert(0, f"value={self.value:g}")
            if not np.all(np.isfinite(self.x)):
                bad.append("a non-finite point x")
        bad += [
            f"{k}={v:g}"
            for k, v in self.certificate.items()
            if isinstance(v, (float, np.floating)) and not math.isfinite(v)
        ]
        if bad:
            raise OptimumError(
                f"{self.certificate.get('method', 'optimum')}: the certificate is not finite "
                f"({', '.join(bad)}); the instance overflows float64 or the solver failed"
            )


def _certified(fn):
    """Report a conic solver that fails (``cvxpy.SolverError``, e.g. on an instance whose numbers
    overflow) as :class:`OptimumError`, like every other failure to certify an optimum.

    cvxpy's "Solution may be inaccurate" names the caller's line (here) as its origin; it is cvxpy's
    warning, and every optimum here is certified after the solve, so it is passed on as cvxpy's
    (``module="cvxpy"``): a verdict keeps it in its detail (``verify.errors.warnings_after_success``), and a
    filter that makes this package's own warnings errors does not turn it into a failed optimum."""

    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        with warnings.catch_warnings(record=True) as held:  # the filters stay in force, except for cvxpy's:
            warnings.filterwarnings("always", message="Solution may be inaccurate", category=UserWarning)
            try:
                out = fn(*args, **kwargs)
            except cp.SolverError as e:
                raise OptimumError(f"{fn.__name__}: {e}") from None
        for w in held:
            cvxpy = issubclass(w.category, UserWarning) and str(w.message).startswith("Solution may be inaccurate")
            warnings.warn_explicit(
                w.message, w.category, w.filename, w.lineno, module="cvxpy" if cvxpy else None, source=w.source
            )
        return out

    return wrapped


@_certified
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
    cert = {
        "method": "cvxpy(CLARABEL) + lstsq, PL certificate",
        "grad_norm_sq": gn2,
        "pl_gap": gap,
        "solver_disagreement": agree,
        "mu": mu,
    }
    if gap > tol * max(1.0, abs(fb)) or agree > max(tol, 1e-6):
        raise OptimumError(f"least squares optimum not certified: PL gap {gap:.3g}, solver disagreement {agree:.3g}")
    return Optimum(xb, fb, fb - gap, cert)


@_certified
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
    cert = {
        "method": "cvxpy(CLARABEL) primal, projected Fenchel dual",
        "primal": primal,
        "dual": dual,
        "duality_gap": primal - lower,
        "dual_feasible": feasible,
        "constraint_residual": float(np.linalg.norm(M.T @ u2)),
    }
    if lower > primal + 1e-9:
        raise OptimumError(f"logistic lower bound {lower} exceeds the primal value {primal}")
    return Optimum(xh, primal, lower, cert)


@_certified
def decentralized_logistic_optimum(problem, tol: float = 1e-12) -> Optimum:
    r"""Minimiser of :math:`\sum_if_i` for :class:`solvers.problems.NodeLogistic`, certified.

    cvxpy (CLARABEL) gives a starting point, Newton's method polishes it, and strong convexity
    (:math:`\sum_if_i` is :math:`n\lambda`-strongly convex) certifies
    :math:`\Vert\hat x-x^\star\Vert\le\Vert\nabla\Vert/(n\lambda)`, reported as ``dist_bound``.
    """
    n, d, lam = problem.n, problem.d, problem.lam
    M = problem.YA.reshape(-1, d)
    x = cp.Variable(d)
    obj = cp.sum(cp.logistic(-(M @ x))) / problem.m + 0.5 * n * lam * cp.sum_squares(x)
    try:
        cp.Problem(cp.Minimize(obj)).solve(solver=cp.CLARABEL)
        xh = np.zeros(d) if x.value is None else np.asarray(x.value, dtype=float)
    except cp.SolverError:  # pragma: no cover
        xh = np.zeros(d)
    for _ in range(50):
        g = problem.grad_sum(xh)
        if np.linalg.norm(g) <= 1e-15 * max(1.0, n):
            break
        xh = xh - np.linalg.solve(problem.hess_sum(xh), g)
    g = problem.grad_sum(xh)
    gn = float(np.linalg.norm(g))
    dist_bound = gn / (n * lam)
    cert = {
        "method": "cvxpy(CLARABEL) + Newton polish, strong-convexity certificate",
        "grad_norm": gn,
        "dist_bound": dist_bound,
        "strong_convexity": n * lam,
    }
    if dist_bound > tol * max(1.0, float(np.linalg.norm(xh))) * 1e3:
        raise OptimumError(f"decentralized logistic optimum not certified: ||x - x*|| <= {dist_bound:.3g}")
    return Optimum(xh, problem.value(xh), problem.value(xh) - gn**2 / (2 * n * lam), cert)


# --------------------------------------------------------------------------- L-SVRP optima
@_certified
def quadratic_clients_optimum(problem, tol: float = 1e-10) -> Optimum:
    r"""Minimiser :math:`x^\star=\bar A^{-1}\bar b` of client quadratics, certified by the residual:
    with :math:`\mu_f=\lambda_{\min}(\bar A)`, :math:`\Vert\hat x-x^\star\Vert\le\Vert\nabla f(\hat x)\Vert/\mu_f`
    (reported as ``dist_bound``; must be below ``tol`` relative to ``max(1, ||x*||)``)."""
    x = problem.x_star
    g = problem.A_bar @ x - problem.b_bar
    dist = float(np.linalg.norm(g) / problem.mu_f)
    cert = {
        "method": "linear solve A_bar x = b_bar, residual certificate",
        "grad_norm": float(np.linalg.norm(g)),
        "dist_bound": dist,
        "mu_f": problem.mu_f,
    }
    if dist > tol * max(1.0, float(np.linalg.norm(x))):
        raise OptimumError(f"quadratic optimum not certified: ||x - x*|| <= {dist:.3g}")
    return Optimum(x, float(problem.value(x)), float(problem.value(x)) - float(g @ g) / (2 * problem.mu_f), cert)


@_certified
def l2_logistic_optimum(problem, tol: float = 1e-10) -> Optimum:
    r"""Minimiser of ℓ2-logistic clients: cvxpy (CLARABEL), polished by Newton steps on f, certified by
    strong convexity: :math:`\Vert\hat x-x^\star\Vert\le\Vert\nabla f(\hat x)\Vert/\lambda`."""
    YA = problem.YA.reshape(-1, problem.d)
    N = YA.shape[0]
    x = cp.Variable(problem.d)
    cp.Problem(cp.Minimize(cp.sum(cp.logistic(-(YA @ x))) / N + problem.lam / 2 * cp.sum_squares(x))).solve(
        solver=cp.CLARABEL
    )
    xh = np.zeros(problem.d) if x.value is None else np.asarray(x.value, dtype=float)
    for _ in range(20):  # Newton polish on f (same objective: clients have equal sample counts)
        z = YA @ xh
        s = expit(-z)
        g = -(YA.T @ s) / N + problem.lam * xh
        if np.linalg.norm(g) < 1e-14:
            break
        H = (YA.T * (s * (1 - s))) @ YA / N + problem.lam * np.eye(problem.d)
        xh = xh - np.linalg.solve(H, g)
    g = problem.grad(xh)
    dist = float(np.linalg.norm(g) / problem.lam)
    cert = {
        "method": "cvxpy(CLARABEL) + Newton polish, strong-convexity certificate",
        "grad_norm": float(np.linalg.norm(g)),
        "dist_bound": dist,
    }
    if dist > tol * max(1.0, float(np.linalg.norm(xh))):
        raise OptimumError(f"logistic optimum not certified: ||x - x*|| <= {dist:.3g}")
    val = float(problem.value(xh))
    return Optimum(xh, val, val - float(g @ g) / (2 * problem.lam), cert)


def clients_optimum(problem) -> Optimum:
    """The certified optimum of L-SVRP's clients: :func:`quadratic_clients_optimum` for quadratic clients,
    :func:`l2_logistic_optimum` for l2-logistic ones."""
    return quadratic_clients_optimum(problem) if hasattr(problem, "x_star") else l2_logistic_optimum(problem)


__all__ += ["quadratic_clients_optimum", "l2_logistic_optimum", "clients_optimum"]


# --------------------------------------------------------------------------- geometric median
def _affine_coordinates(W: np.ndarray):
    """Isometric coordinates of the points in their affine hull (dimension <= min(d, m-1))."""
    m, d = W.shape
    o = W.mean(0)
    C = W - o
    if d < m:
        return C, o, None
    U, s, Vt = np.linalg.svd(C, full_matrices=False)
    r = int(np.sum(s > 1e-12 * max(s.max(initial=0.0), 1e-300)))
    Q = Vt[: max(r, 1)].T
    return C @ Q, o, Q


def _newton_polish(Y, w, z, nu=0.0, iters=60):
    """Damped Newton on g (nu = 0) or g_nu in coordinates Y; returns the best point found.

    A step is accepted when it lowers the objective, or keeps it within rounding and lowers the
    gradient norm (near the minimum the objective is flat to rounding, the gradient is not).
    """
    k = Y.shape[1]

    def state(z):
        V = z - Y
        r = np.linalg.norm(V, axis=1)
        val = float(w @ (np.where(r <= nu, r * r / (2 * nu) + nu / 2, r) if nu > 0 else r))
        eta = np.maximum(r, nu) if nu > 0 else np.maximum(r, 1e-300)
        a = w / eta
        return val, a @ V, V, r, a

    fz, gz, V, r, a = state(z)
    for _ in range(iters):
        if nu <= 0 and np.any(r <= 1e-14 * (1 + np.abs(Y).max())):
            break  # at an anchor: the anchor test decides
        outer = np.where(r > nu, w / np.maximum(r, 1e-300) ** 3, 0.0)
        H = a.sum() * np.eye(k) - (V * outer[:, None]).T @ V
        try:
            step = np.linalg.solve(H + 1e-15 * a.sum() * np.eye(k), gz)
        except np.linalg.LinAlgError:
            step = gz / a.sum()
        s, moved = 1.0, False
        gnorm = np.linalg.norm(gz)
        for _ls in range(40):
            zn = z - s * step
            fn, gn, Vn, rn, an = state(zn)
            if fn < fz - 4e-16 * abs(fz) or (fn <= fz + 4e-15 * abs(fz) and np.linalg.norm(gn) < gnorm):
                z, fz, gz, V, r, a, moved = zn, fn, gn, Vn, rn, an, True
                break
            s *= 0.5
        if not moved:
            break
    return z, fz


ANCHOR_TEST_ALL = 2000  #: up to this many points every point is anchor-tested (O(m^2 d)); beyond, the 3 nearest


@_certified
def _normalised(weights) -> np.ndarray:
    """Weights divided by their sum; a sum that overflows (weights of 1e308) is avoided by scaling by the largest
    first (the median does not depend on the scale), as :mod:`solvers.weiszfeld` does."""
    w = np.asarray(weights, dtype=float)
    with np.errstate(over="ignore"):
        tot = np.sum(w)
    if not np.isfinite(tot) and w.size and np.all(np.isfinite(w)) and np.max(w) > 0:
        w = w / np.max(w)
        tot = np.sum(w)
    return w / tot


def geometric_median_optimum(points, weights=None, nu: float = 0.0) -> Optimum:
    r"""Certified minimum of :math:`g(z)=\sum_k\omega_k\Vert z-w_k\Vert` (``nu = 0``) or of the smoothed
    :math:`g_\nu` (``nu > 0``), weights normalised to sum 1 (``notes/weiszfeld.md``).

    1. the anchor test (:func:`solvers.weiszfeld.anchor_test`) certifies a median at a data point
       (``nu = 0``; every point up to ``ANCHOR_TEST_ALL`` points, else the three points nearest to a
       smoothed Weiszfeld estimate, since a median at a data point attracts the iterates);
    2. otherwise cvxpy solves the SOCP :math:`\min\sum_k\omega_k\Vert z-w_k\Vert` (for ``nu > 0``
       the variational form :math:`\min_{z,\eta\ge\nu}\frac12\sum_k\omega_k(\Vert z-w_k\Vert^2/\eta_k+\eta_k)`)
       in isometric coordinates of the affine hull, and damped Newton polishes it in float64 (the
       best of the cvxpy point, the polished point and a long smoothed Weiszfeld run is kept);
    3. certificate: by convexity :math:`g^\star\ge g(\hat z)-\Vert\nabla g(\hat z)\Vert\,D` with
       :math:`D=\max_k\Vert\hat z-w_k\Vert\ge\Vert\hat z-z^\star\Vert` (the median lies in the hull),
       so ``lower`` is a certified lower bound and ``value - lower`` the certified gap.
    """
    from ratecheck.solvers.weiszfeld import anchor_test, smoothed_weiszfeld

    W = np.asarray(points, dtype=float)
    m, d = W.shape
    w = np.full(m, 1.0 / m) if weights is None else _normalised(weights)
    if nu <= 0:
        cand = None
        if m > ANCHOR_TEST_ALL:  # test only the points nearest to an approximate median
            approx = smoothed_weiszfeld(
                W, weights=w, nu=1e-12 * (1 + float(np.abs(W).max())), T=300, tol=1e-15, method="gram"
            ).z
            cand = np.argsort(np.linalg.norm(W - approx, axis=1))[:3]
        test = anchor_test(W, w, indices=cand)
        if test.optimal >= 0:
            j = test.optimal
            v = float(test.values[test.at(j)])
            return Optimum(
                W[j].copy(),
                v,
                v,
                {
                    "method": "anchor test",
                    "anchor": j,
                    "anchor_margin": float(test.margin[test.at(j)]),
                    "grad_norm": 0.0,
                    "certified_gap": 0.0,
                },
            )
    Y, o, Q = _affine_coordinates(W)
    k = Y.shape[1]
    z = cp.Variable(k)
    if nu <= 0:
        obj = w @ cp.norm(Y - np.ones((m, 1)) @ cp.reshape(z, (1, k), order="C"), 2, axis=1)
        prob = cp.Problem(cp.Minimize(obj))
    else:
        eta = cp.Variable(m)
        terms = [cp.quad_over_lin(Y[i] - z, eta[i]) for i in range(m)]
        obj = 0.5 * (w @ cp.hstack(terms) + w @ eta)
        prob = cp.Problem(cp.Minimize(obj), [eta >= nu])
    try:
        prob.solve(solver=cp.CLARABEL)
    except cp.SolverError:  # pragma: no cover
        prob.solve(solver=cp.SCS, eps=1e-10)
    cands = []
    if z.value is not None:
        cands.append(np.asarray(z.value, dtype=float))
    sw = smoothed_weiszfeld(Y, weights=w, nu=nu if nu > 0 else 1e-14 * (1 + np.abs(Y).max()), T=500, tol=1e-16)
    cands.append(sw.z)
    best, fbest = None, np.inf
    for c0 in cands:
        zc, fc = _newton_polish(Y, w, c0, nu)
        if fc < fbest:
            best, fbest = zc, fc
    if best is None:
        raise OptimumError(
            f"geometric median not certified: no candidate has a finite objective (nu={nu:g}); "
            "the points overflow float64"
        )
    V = best - Y
    r = np.linalg.norm(V, axis=1)
    eta_ = np.maximum(r, nu) if nu > 0 else np.maximum(r, 1e-300)
    grad = (w / eta_) @ V
    D = float(r.max())
    gn = float(np.linalg.norm(grad))
    zfull = o + (best if Q is None else Q @ best)
    cert = {
        "method": "cvxpy(CLARABEL) SOCP + Newton polish, first-order certificate",
        "grad_norm": gn,
        "diameter_bound": D,
        "certified_gap": gn * D,
        "min_anchor_distance": float(r.min()),
        "cvxpy_status": prob.status,
    }
    if not np.isfinite(fbest) or gn * D > 1e-8 * max(1.0, abs(fbest)):
        raise OptimumError(f"geometric median not certified: gradient norm {gn:.3g}, certified gap {gn * D:.3g}")
    return Optimum(zfull, float(fbest), float(fbest - gn * D), cert)


class CertifiedCloud(NamedTuple):
    """A point cloud with its certified geometric median (:func:`certified_cloud`)."""

    W: np.ndarray  #: points (m, d)
    w: np.ndarray  #: weights (m,) summing to 1
    info: dict  #: what :func:`verify.instances.point_cloud` records (outliers, inlier centre, exact median)
    opt: Optimum  #: certified optimum of g (:func:`verify.optima.geometric_median_optimum`)
    R: float  #: diameter max_{k,l} ||w_k - w_l||
    nu_tilde: float  #: min_k ||z* - w_k|| (RFA's Assumption 22: nu <= nu_tilde)

    def constants(self, nu: float) -> dict:
        """The constants of RFA's smoothed Weiszfeld theorems on this cloud at smoothing ``nu`` (g_star: the
        certified lower bound of g*, g_star_certified_gap: g(z*) - g_star)."""
        opt, (m, d) = self.opt, self.W.shape
        return dict(
            nu=float(nu),
            R=self.R,
            nu_tilde=self.nu_tilde,
            m=m,
            d=d,
            g_star=opt.lower,
            g_star_certified_gap=opt.value - opt.lower,
            optimum_method=opt.certificate["method"],
        )


def certified_cloud(W, w, info: dict) -> CertifiedCloud:
    r"""Points ``W`` with weights ``w`` (e.g. :func:`verify.instances.point_cloud`'s) with their certified optimum
    (:func:`geometric_median_optimum`), diameter R and :math:`\tilde\nu=\min_k\Vert z^\star-w_k\Vert`.  An
    overflow is refused by the certificate, not warned."""
    with np.errstate(over="ignore", invalid="ignore"):
        opt = geometric_median_optimum(W, w)
        R = diameter(W)
    nu_tilde = float(np.min(np.linalg.norm(opt.x - W, axis=1)))
    return CertifiedCloud(W, w, info, opt, R, nu_tilde)


__all__ += ["CertifiedCloud", "certified_cloud"]


@_certified
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

    from ratecheck.solvers.superquantile import subsets, surrogate_value

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
    cert = {
        "method": "cvxpy(CLARABEL) epigraph + Lagrangian dual bound",
        "duality_gap": gap,
        "subsets": C,
        "solver_value": float(prob.value),
    }
    if not gap <= tol * max(1.0, abs(value)):
        raise OptimumError(f"superquantile optimum not certified: duality gap {gap:.3g}")
    return Optimum(wh, value, lower, cert)


def ciss_optimum(clients, w0, theta: float, nu: float, lam: float, T: int = 60) -> Optimum:
    r"""Certified minimum of the smoothed, regularised superquantile objective of CISS,
    :math:`F_{\theta,\nu}(w)=\min_\eta\Phi(w,\eta)+\frac\lambda2\Vert w\Vert^2`.

    The alternating scheme (:func:`solvers.superquantile.ciss_alternating`) runs ``T`` rounds from ``w0``
    with inner accuracy :math:`10^{-20}`; at its last point :math:`\hat w` the exact :math:`\eta`-step
    gives :math:`F(\hat w)` and the gradient :math:`g`, and :math:`\lambda`-strong convexity certifies
    :math:`F^\star\ge F(\hat w)-\Vert g\Vert^2/(2\lambda)` (``lower``).  The certificate records
    :math:`\Vert g\Vert^2` (``grad_norm_sq``).
    """
    ref = ciss_alternating(clients, w0, T=T, theta=theta, nu=nu, lam=lam, eps0=1e-20, kappa=1e9)
    x = ref.x_final
    eta = ciss_eta(clients.values(x), theta, nu)
    value, g, _ = ciss_objective(clients, x, eta, theta, nu, lam)
    gn2 = float(g @ g)
    cert = {"method": "CISS reference run + strong-convexity gradient bound", "grad_norm_sq": gn2}
    return Optimum(x, float(value), float(value - gn2 / (2 * lam)), cert)


def ciss_constants(clients, w0, theta: float, nu: float, lam: float) -> dict:
    r"""The constants of the CISS rate from ``w0`` at the certified optimum (:func:`ciss_optimum`).

    :math:`\delta_0=F_{\theta,\nu}(w_0)-F^\star` with :math:`F^\star` certified from below (``f_star_lower``);
    :math:`\lambda`-strong convexity keeps the iterates in the ball of radius :math:`\sqrt{2\delta_0/\lambda}` around
    :math:`w^\star`, enlarged by :math:`\Vert g\Vert/\lambda` (the certificate's gradient at the candidate
    :math:`\hat w`: the ball around :math:`\hat w` then contains the one around :math:`w^\star`), over which
    :math:`G=\max_i(\Vert\nabla F_i(\hat w)\Vert+L_ir)` bounds the client gradients.  Returns ``delta0``, ``G``,
    ``certificate_grad_norm_sq`` and ``f_star_lower``.
    """
    opt = ciss_optimum(clients, w0, theta, nu, lam)
    gn2 = opt.certificate["grad_norm_sq"]
    delta0 = float(ciss_value(clients, w0, theta, nu, lam)) - opt.lower
    r = math.sqrt(2 * delta0 / lam)
    r += math.sqrt(gn2) / lam
    G = float((np.linalg.norm(clients.grads(opt.x), axis=-1) + clients.L_i * r).max())
    return dict(delta0=delta0, G=G, certificate_grad_norm_sq=gn2, f_star_lower=opt.lower)


def surrogate_kinks_at_optimum(clients, opt: Optimum, theta: float, m: int, lam: float) -> tuple[float, list]:
    r"""The kinks of the Simplicial-FL surrogate through its certified optimum ``opt``
    (:func:`superquantile_optimum`; :func:`solvers.superquantile.surrogate_kinks`), and the radius searched.

    :math:`\lambda`-strong convexity puts :math:`x^\star` within :math:`\sqrt{2\,\mathrm{gap}/\lambda}` of the solver's
    point (gap: the certified duality gap); a floor of :math:`10^{-9}(1+\Vert\hat x\Vert)` absorbs floating point in
    :math:`|F_i-F_j|`.  Returns ``(radius, kinks)``.
    """
    gap = opt.certificate["duality_gap"]
    radius = math.sqrt(2 * max(gap, 0.0) / lam) + 1e-9 * (1 + float(np.linalg.norm(opt.x)))
    return radius, surrogate_kinks(clients, opt.x, theta, m, lam, radius=radius)


__all__ += ["ciss_constants", "surrogate_kinks_at_optimum"]


@_certified
def matrix_l2_logistic_optimum(problem, tol: float = 1e-9, newton_steps: int = 8) -> Optimum:
    r"""Minimum of :math:`\ell_2`-logistic regression (:class:`solvers.problems.MatrixL2Logistic`), certified.

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
    gap = gn**2 / (2 * problem.lam)
    cert = {
        "method": "cvxpy(CLARABEL) + Newton polish, strong-convexity certificate",
        "grad_norm": gn,
        "sc_gap": gap,
        "dist_bound": gn / problem.lam,
        "cvxpy_status": prob.status,
    }
    if gap > tol * max(1.0, abs(fb)):
        raise OptimumError(f"l2-logistic optimum not certified: strong-convexity gap {gap:.3g}")
    return Optimum(xh, fb, fb - gap, cert)


__all__ += ["l2_logistic_optimum"]


@_certified
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
        return Optimum(
            xh, primal, 0.0, {"method": "cvxpy primal; dimension too large for the dual certificate", "primal": primal}
        )
    sol = np.linalg.lstsq(G, rhs, rcond=None)[0]
    u2 = (v - M @ sol) / w
    feasible = bool(np.all((u2 >= 0) & (u2 <= 1)))
    dual = 0.0
    if feasible:
        with np.errstate(divide="ignore", invalid="ignore"):
            H = -(u2 * np.log(np.where(u2 > 0, u2, 1)) + (1 - u2) * np.log(np.where(u2 < 1, 1 - u2, 1)))
        dual = float(w @ H)
    lower = max(0.0, dual)
    cert = {
        "method": "cvxpy(CLARABEL) primal, projected Fenchel dual",
        "primal": primal,
        "dual": dual,
        "duality_gap": primal - lower,
        "dual_feasible": feasible,
        "constraint_residual": float(np.linalg.norm(M.T @ (w * u2))),
    }
    if lower > primal + 1e-9:
        raise OptimumError(f"logistic lower bound {lower} exceeds the primal value {primal}")
    return Optimum(xh, primal, lower, cert)


def rare_features_lower_bound(P: SparseFederated) -> tuple[float, dict]:
    r"""A certified lower bound on :math:`f^{\inf}` of a rare-features problem, with its certificate: the
    least-squares minimum (lstsq/LSQR), PŁ-certified :math:`f^\star\ge f(\hat x)-\Vert\nabla f(\hat x)\Vert^2/(2\mu)`
    when :math:`\mu>0`, and still valid with the nonnegative restricted regulariser; for the logistic loss the
    projected Fenchel dual (:func:`sparse_logistic_lower_bound`, d <= 2000 without regulariser) or 0."""
    if P.loss == "logistic":
        if P.reg == 0 and P.d <= 2000:
            opt = sparse_logistic_lower_bound(P)
            return opt.lower, {
                "f_low_method": "logistic: max(0, projected Fenchel dual of the cvxpy primal)",
                **{k: v for k, v in opt.certificate.items() if not isinstance(v, str)},
            }
        return 0.0, {"f_low_method": "logistic loss >= 0"}
    base = P if P.reg == 0 else SparseFederated(P.A, P.y, P.row_ptr, loss="squares", constants=False)
    x, fv = base.minimize_squares()
    g = base.grad(x)
    gn = float(g @ g)
    cert = {
        "f_low_method": "least-squares minimum (lstsq/LSQR)" + (", regulariser >= 0" if P.reg else ""),
        "f_low_grad_norm_sq": gn,
    }
    mu = base.mu
    if mu:  # PL certificate: f* >= f(x) - ||grad f(x)||^2 / (2 mu)
        cert.update(f_low_method=cert["f_low_method"] + ", PL-certified", mu=mu, pl_gap=gn / (2 * mu))
        return fv - gn / (2 * mu), cert
    return fv, cert


__all__ += ["rare_features_lower_bound"]
