r"""EF21 / EF21-W worst cases over a function class (PEP), with the per-call contractive compressor model.

Algorithm (Richtárik, Sokolov, Fatkhullin 2021; EF21-W: Richtárik, Gasanov, Burlachenko 2024), n nodes,
weights :math:`w_i` (EF21: :math:`w_i=1/n`), targets :math:`u_i(x)=\nabla f_i(x)/(nw_i)`:

.. math::
    x^{t+1}=x^t-\gamma\textstyle\sum_iw_id_i^t,\qquad
    d_i^{t+1}=d_i^t+c_i^t,\qquad \Vert c_i^t-v_i^t\Vert^2\le(1-\alpha)\Vert v_i^t\Vert^2,\quad
    v_i^t=u_i(x^{t+1})-d_i^t .

The compressor is modelled as in Thomsen, Taylor & Dieuleveut, *Tight analyses of first-order methods with
error feedback* (arXiv:2506.05271, authors' ``utils.compress``): each call creates a free point
:math:`c` and one inequality; nothing ties two calls together, which is exactly what the EF21 proofs assume
(Top-k, scaled identities and every deterministic contractive map are members).

Normalisation (one SDP per horizon): the claim's bound is linear in :math:`(\delta_0, G^0)`, so
:math:`\sup_{\mathcal C}\text{measure}_T/\text{bound}_T` is the optimum of "max measure subject to
bound :math:`\le 1`".  The bound, the stepsize and the weight of :math:`G` in :math:`\Psi` are all read from
the shipped claim object (its bound at :math:`T=0` is :math:`\Psi^0`), never restated here.

Classes and kinds (relative to the claim's class):

* ``cls="sc"``: :math:`f_i\in\mathcal F_{\mu,L_i}` (interpolation conditions, exact on that class); a
  subclass of the PŁ claims' class, so the value is a **lower** bound on the claim's worst case;
* ``cls="pl"``: n = 1, PEPit ``SmoothQuadraticLojasiewiczFunctionCheap`` (Rubbens, Hendrickx, Taylor
  2025; necessary conditions) — **upper**; n > 1, :math:`f_i` :math:`L_i`-smooth (exact) plus, for
  :math:`f=\frac1n\sum f_i`, PŁ, :math:`f\ge f^\star` and the smoothness upper inequality at every pair of
  iterates — **upper**;
* ``cls="smooth"`` (nonconvex claims): :math:`f_i` :math:`L_i`-smooth with :math:`f(x^0)-f(x^T)` in place of
  :math:`\delta_0` — **upper** (the proof telescopes only down to :math:`f(x^T)\ge f^{\inf}`).
"""

from __future__ import annotations

import numpy as np

from ratecheck import theorems
from ratecheck.theorems.ef21 import theta_c

from ..errors import UsageError
from ._pepit import Solved, pepit, solve

__all__ = ["EF21Setting", "ef21_setting", "ef21_pep", "PL_CLAIMS", "NONCONVEX_CLAIMS"]

PL_CLAIMS = ("ef21.pl-qm", "ef21.pl-am", "ef21-w.pl")
NONCONVEX_CLAIMS = ("ef21.nonconvex-qm", "ef21.nonconvex-am", "ef21-w.nonconvex")


class EF21Setting:
    """Constants of one EF21 PEP, evaluated from the claim: stepsize, bound coefficients, weights."""

    def __init__(self, claim, Ls, mu: float | None, alpha: float, gamma: float | None = None):
        self.claim = claim
        self.Ls = np.asarray(Ls, dtype=float).ravel()
        n = self.n = self.Ls.size
        if n < 1 or np.any(self.Ls <= 0):
            raise UsageError(f"worst case: every L_i must be > 0 (got {self.Ls.tolist()})")
        if not 0 < alpha <= 1:
            raise UsageError(f"worst case: alpha must be in (0, 1] (got {alpha})")
        self.alpha = float(alpha)
        L_am, L_qm = float(self.Ls.mean()), float(np.sqrt((self.Ls**2).mean()))
        # L of f = mean f_i is at most L_am: the claim is evaluated with L := L_am (a valid smoothness constant)
        self.consts = dict(L=L_am, L_am=L_am, L_qm=L_qm, alpha=self.alpha)
        self.pl = claim.measure == "pl_lyapunov"
        if self.pl:
            if mu is None or not 0 < mu <= L_am:
                raise UsageError(f"worst case: mu must be in (0, L] for {claim.id} (got {mu})")
            self.consts["mu"] = float(mu)
        self.mu = None if mu is None else float(mu)
        gmax = claim.max_stepsize(**self.consts)
        self.gamma = gmax if gamma is None else float(gamma)
        if not 0 < self.gamma:
            raise UsageError(f"worst case: gamma must be > 0 (got {gamma})")
        self.consts["gamma"] = self.gamma
        setting = claim.setting
        self.weighted = setting.get("algorithm") == "ef21-w"
        self.w = self.Ls / self.Ls.sum() if self.weighted else np.full(n, 1.0 / n)
        lyap = setting.get("lyapunov", "qm")
        # weights of G = sum_i g_i ||d_i - u_i(x)||^2 (qm: 1/n; am: L_am/(n L_i); w: w_i)
        if lyap == "am":
            self.gw = L_am / (n * self.Ls)
        elif lyap == "w":
            self.gw = self.w.copy()
        else:
            self.gw = np.full(n, 1.0 / n)

    def coefficients(self, T: int, claim=None) -> tuple[float, float]:
        """:math:`(a, b)` with bound_T = a·δ0 + b·G0, from the claim (linear in both)."""
        claim = claim or self.claim
        a = float(claim.evaluate(T=T, delta0=1.0, G0=0.0, **self.consts))
        b = float(claim.evaluate(T=T, delta0=0.0, G0=1.0, **self.consts))
        return a, b

    @property
    def measure_claim(self):
        """The claim that defines the measure: a teeth variant ``id~name`` shares its parent's measure."""
        return theorems.get(self.claim.id.split("~", 1)[0])

    @property
    def theta(self) -> float:
        return float(theta_c(self.alpha))


def ef21_setting(claim_id: str, params: dict) -> EF21Setting:
    """Build the setting from ``params`` (L or Ls, mu, alpha, gamma; n = 1 by default)."""
    claim = theorems.get(claim_id)
    Ls = params.get("Ls")
    if Ls is None:
        n = int(params.get("n", 1))
        Ls = np.full(n, float(params.get("L", 1.0)))
    return EF21Setting(claim, Ls, params.get("mu"), float(params.get("alpha", 0.5)), params.get("gamma"))


def _functions(problem, s: EF21Setting, cls: str):
    F = pepit("PEPit.functions")
    n = s.n
    if cls == "sc":
        fs = [problem.declare_function(F.SmoothStronglyConvexFunction, mu=s.mu, L=float(Li)) for Li in s.Ls]
    elif cls == "pl" and n == 1:
        fs = [problem.declare_function(F.SmoothQuadraticLojasiewiczFunctionCheap, L=float(s.Ls[0]), mu=s.mu)]
    elif cls in ("pl", "smooth"):
        fs = [problem.declare_function(F.SmoothFunction, L=float(Li)) for Li in s.Ls]
    else:
        raise UsageError(f"worst case: class must be one of sc, pl, smooth (got {cls!r})")
    f = fs[0] if n == 1 else sum(fs[1:], fs[0]) / n
    return fs, f


def _run(problem, s: EF21Setting, fs, f, x0, T: int, init: str):
    """EF21 iterates; returns the list of x^t and the estimates d_i^t (t = 0..T)."""
    P = pepit()
    n = s.n
    scale = 1.0 / (n * s.w)  # target u_i = grad f_i / (n w_i)
    if init == "grad":
        d = [fi.gradient(x0) * float(scale[i]) for i, fi in enumerate(fs)]
    elif init == "free":
        d = [P.Point() for _ in range(n)]
    else:
        raise UsageError(f"worst case: init must be 'free' or 'grad' (got {init!r})")
    xs, ds, cs = [x0], [d], []
    x = x0
    for _ in range(T):
        step = d[0] * float(s.w[0])
        for i in range(1, n):
            step = step + d[i] * float(s.w[i])
        x = x - s.gamma * step
        new, ct = [], []
        for i, fi in enumerate(fs):
            v = fi.gradient(x) * float(scale[i]) - d[i]
            c = P.Point()
            problem.add_constraint((c - v) ** 2 <= (1 - s.alpha) * v**2)
            new.append(d[i] + c)
            ct.append(c)
        d = new
        xs.append(x)
        ds.append(d)
        cs.append(ct)
    return xs, ds, cs


def _G(s: EF21Setting, fs, x, d):
    scale = 1.0 / (s.n * s.w)
    out = None
    for i, fi in enumerate(fs):
        term = float(s.gw[i]) * (d[i] - fi.gradient(x) * float(scale[i])) ** 2
        out = term if out is None else out + term
    return out


def ef21_pep(
    s: EF21Setting, T: int, cls: str = "sc", init: str = "free", keep: bool = False, solver: str = "CLARABEL"
) -> Solved:
    r"""Worst case of measure_T / bound_T for EF21 with the claim's constants (one SDP).

    PŁ claims: measure :math:`\Psi^T=f(x^T)-f^\star+b_0G^T` with :math:`b_0` the weight of :math:`G^0` in the
    claim's bound at :math:`T=0`; nonconvex claims: :math:`\frac1T\sum_{t<T}\Vert\nabla f(x^t)\Vert^2`.
    ``keep=True`` stores the PEPit objects in ``extra`` (for extraction).
    """
    P = pepit()
    if T < 1:
        raise UsageError(f"worst case: T must be >= 1 (got {T})")
    problem = P.PEP()
    fs, f = _functions(problem, s, cls)
    x0 = problem.set_initial_point()
    a, b = s.coefficients(T)
    if s.pl:
        xstar = f.stationary_point()
        fstar = f(xstar)
        if cls == "pl" and s.n > 1:
            _pl_conditions(problem, s, f, xstar, fstar, [x0])
        xs, ds, cs = _run(problem, s, fs, f, x0, T, init)
        if cls == "pl" and s.n > 1:
            _pl_conditions(problem, s, f, xstar, fstar, xs, pairs=True)
        problem.set_initial_condition(a * (f(x0) - fstar) + b * _G(s, fs, x0, ds[0]) <= 1)
        a0, b0 = s.coefficients(0, s.measure_claim)  # Psi^0 = the true bound at T = 0
        problem.set_performance_metric(a0 * (f(xs[-1]) - fstar) + b0 * _G(s, fs, xs[-1], ds[-1]))
    else:
        xstar = None
        if cls != "smooth":
            raise UsageError(f"worst case: {s.claim.id} is a nonconvex claim; class must be smooth (got {cls!r})")
        xs, ds, cs = _run(problem, s, fs, f, x0, T, init)
        problem.set_initial_condition(a * (f(x0) - f(xs[-1])) + b * _G(s, fs, x0, ds[0]) <= 1)
        avg = None
        for x in xs[:-1]:
            term = f.gradient(x) ** 2 / T
            avg = term if avg is None else avg + term
        problem.set_performance_metric(avg)
    out = solve(problem, solver=solver)
    if keep:
        out.extra.update(problem=problem, f=f, fs=fs, xs=xs, ds=ds, cs=cs, xstar=xstar)
    return out


def _pl_conditions(problem, s, f, xstar, fstar, points, pairs: bool = False):
    """Necessary conditions for f = mean f_i being L-smooth and μ-PŁ with minimiser x* (n > 1, upper)."""
    L, mu = s.consts["L"], s.mu
    for x in points:
        problem.add_constraint(f(x) - fstar <= f.gradient(x) ** 2 / (2 * mu))
        problem.add_constraint(f(x) >= fstar)
    if pairs:
        pts = [xstar, *points]
        for i, x in enumerate(pts):
            for j, y in enumerate(pts):
                if i != j:
                    problem.add_constraint(f(y) <= f(x) + f.gradient(x) * (y - x) + L / 2 * (y - x) ** 2)
