r"""Worst case back into the empirics (single-node EF21): extract the PEP's worst case and run the package's
own EF21 solver on it.

Recipe (Thomsen, Taylor & Dieuleveut 2025, arXiv:2506.05271, observed worst cases; extraction as in PEPit's
dimension-reduction tools): at n = 1 on :math:`\mathcal F_{\mu,L}` the worst case of the claim's ratio is a
one-dimensional quadratic :math:`f(x)=\frac h2x^2` with a **scaling** compressor
:math:`\mathcal C_t(v)=\lambda_tv`, :math:`\lambda_t\in[1-\sqrt{1-\alpha},1+\sqrt{1-\alpha}]`.  From the PEP's
Gram matrix (initialisation :math:`d^0=\nabla f(x^0)`, the solver's ``init="grad"``) we read

.. math::
    h=\frac{\sum_t\langle\nabla f(x^t),x^t-x_\star\rangle}{\sum_t\Vert x^t-x_\star\Vert^2}\in[\mu,L],\qquad
    \lambda_t=\frac{\langle c^t,v^t\rangle}{\Vert v^t\Vert^2}\ \text{clipped to the allowed interval},

so the replayed instance is in the class exactly (whatever the solver error), then run
:func:`solvers.ef21.ef21` with :class:`solvers.compressors.ScaledIdentity` and evaluate the claim's ratio
:math:`\Psi^T/\text{bound}_T`.  :math:`W_{\rm replay}\le W_{\rm pep}` always; equality up to solver accuracy
when the worst case is one-dimensional.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import minimize

from ratecheck.solvers.compressors import ScaledIdentity, TopK
from ratecheck.solvers.ef21 import ef21
from ratecheck.solvers.problems import QuadraticClients

from ..errors import UsageError
from ..instances import streams
from .ef21 import EF21Setting, ef21_pep

__all__ = ["extract_worst_case", "replay", "replay_worst_case", "empirical_tightness"]


def extract_worst_case(s: EF21Setting, T: int) -> dict:
    """Solve the single-node PEP (``init="grad"``, class F_{mu,L}) and read (h, lambdas) from its solution."""
    if s.n != 1:
        raise UsageError(f"worst case: replay is single-node (n = 1), got n = {s.n}")
    r = ef21_pep(s, T, cls="sc", init="grad", keep=True)
    e = r.extra
    f, xs, ds, cs = e["f"], e["xs"], e["ds"], e["cs"]
    xstar = e["xstar"]
    X = np.array([(x - xstar).eval() for x in xs])
    G = np.array([f.gradient(x).eval() for x in xs])
    h = float(np.sum(X * G) / np.sum(X * X))
    h = min(max(h, s.mu), float(s.Ls[0]))
    rad = math.sqrt(1 - s.alpha)
    lams = []
    for t in range(T):
        v = G[t + 1] - ds[t][0].eval()
        c = cs[t][0].eval()
        lam = float(np.dot(c, v) / max(np.dot(v, v), 1e-300))
        lams.append(min(max(lam, 1 - rad), 1 + rad))
    return {"h": h, "lambdas": np.array(lams), "pep": r}


def replay(s: EF21Setting, T: int, h: float, lambdas) -> float:
    r"""Run the package's EF21 on :math:`f=\frac h2x^2` with the scaling schedule; return :math:`\Psi^T/\text{bound}_T`."""
    problem = QuadraticClients(np.array([[[h]]]), np.zeros((1, 1)))
    comp = ScaledIdentity(lambdas)
    a0, b0 = s.coefficients(0, s.measure_claim)
    a, b = s.coefficients(T)
    tr = ef21(problem, np.array([1.0]), gamma=s.gamma, T=T, compressor=comp, init="grad", lyapunov={"G": np.ones(1)})
    f, Gt = tr.f[0], tr.G["G"][0]  # f* = 0 at x* = 0
    return float((a0 * f[T] + b0 * Gt[T]) / (a * f[0] + b * Gt[0]))


def replay_worst_case(s: EF21Setting, T: int) -> dict:
    r"""Extract, then polish (h, λ) by a bounded local search on the package's own solver (L-BFGS-B).

    Every point of the search is an instance of the class (h in [μ, L], λ_t in the allowed interval), so the
    returned ``replay`` is a measured tightness of a member: :math:`W_{\rm replay}\le W_{\rm pep}`.
    """
    e = extract_worst_case(s, T)
    rad = math.sqrt(1 - s.alpha)
    z0 = np.r_[e["h"], e["lambdas"]]
    bounds = [(s.mu, float(s.Ls[0]))] + [(1 - rad, 1 + rad)] * T
    res = minimize(lambda z: -replay(s, T, z[0], z[1:]), z0, bounds=bounds, method="L-BFGS-B")
    first = replay(s, T, e["h"], e["lambdas"])
    h, lam, w = (res.x[0], res.x[1:], -res.fun) if -res.fun > first else (e["h"], e["lambdas"], first)
    return {"h": float(h), "lambdas": np.asarray(lam), "replay": float(w), "pep": e["pep"].value, "extracted": first}


def empirical_tightness(s: EF21Setting, T: int, d: int = 8, seeds: int = 4, only_T: bool = False) -> float:
    r"""In-class empirical tightness: max over t ≤ T of :math:`\Psi^t/\text{bound}_t` for single-node EF21 with
    Top-k (:math:`k=\lceil\alpha d\rceil`, contractive with :math:`k/d\ge\alpha`) on quadratics with spectrum in
    :math:`[\mu,L]` (one geometric, the rest random), ``init="grad"`` — the instances the package would run,
    restricted to the PEP's class so that :math:`W_{\rm emp}\le W_{\rm pep}` must hold.  ``only_T``: the
    ratio at T alone (not the running maximum).
    """
    k = min(d, math.ceil(s.alpha * d - 1e-12))
    a0, b0 = s.coefficients(0, s.measure_claim)
    coef = [s.coefficients(t) for t in range(1, T + 1)]
    best = 0.0
    for seed in range(seeds):
        rng = streams(seed).data
        U = np.linalg.qr(rng.standard_normal((d, d)))[0]
        spec = np.geomspace(s.mu, float(s.Ls[0]), d) if seed == 0 else rng.uniform(s.mu, float(s.Ls[0]), d)
        spec[0], spec[-1] = s.mu, float(s.Ls[0])
        A = (U * spec) @ U.T
        problem = QuadraticClients(A[None], np.zeros((1, d)))
        x0 = streams(seed).start.standard_normal(d)
        tr = ef21(problem, x0, gamma=s.gamma, T=T, compressor=TopK(k), init="grad", lyapunov={"G": np.ones(1)})
        f, G = tr.f[0], tr.G["G"][0]
        for t in range(T if only_T else 1, T + 1):
            a, b = coef[t - 1]
            best = max(best, float((a0 * f[t] + b0 * G[t]) / (a * f[0] + b * G[0])))
    return best


def empirical_tightness_nonconvex(s: EF21Setting, T: int, d: int = 8, seeds: int = 4) -> float:
    r"""In-class empirical tightness of a nonconvex EF21 claim, single node: max over T' ≤ T of
        :math:`rac1{T'}\sum_{t<T'}\Vert
    abla f(x^t)\Vert^2/	ext{bound}_{T'}` for EF21 with Top-k
        (:math:`k=\lceillpha d
    ceil`) on convex quadratics :math:`f=rac12x^	op Ax` with spectrum in
        :math:`[0,L]` (L-smooth and bounded below, :math:`f^\star=0`, so :math:`\delta_0=f(x^0)`), ``init="grad"``
        (:math:`G^0=0`).  The PEP normalises with :math:`f(x^0)-f(x^T)\le\delta_0` (an upper kind), so
        :math:`W_{
    m emp}\le W_{
    m pep}` must hold.
    """
    k = min(d, math.ceil(s.alpha * d - 1e-12))
    coef = [s.coefficients(t) for t in range(1, T + 1)]
    L = float(s.Ls[0])
    best = 0.0
    for seed in range(seeds):
        rng = streams(seed).data
        U = np.linalg.qr(rng.standard_normal((d, d)))[0]
        spec = np.geomspace(1e-3 * L, L, d) if seed == 0 else rng.uniform(0.0, L, d)
        spec[-1] = L
        A = (U * spec) @ U.T
        problem = QuadraticClients(A[None], np.zeros((1, d)))
        x0 = streams(seed).start.standard_normal(d)
        tr = ef21(problem, x0, gamma=s.gamma, T=T, compressor=TopK(k), init="grad")
        g, f0 = tr.grad_norm_sq[0], float(tr.f[0, 0])
        running = np.cumsum(g[:T]) / np.arange(1, T + 1)
        for t in range(1, T + 1):
            a, _b = coef[t - 1]
            best = max(best, float(running[t - 1] / (a * f0)))
    return best
