r"""Worst cases of randomised methods by **exact enumeration** of their outcomes (PEPit writes expectations as
explicit averages over all outcomes; Taylor & Bach 2019, *Stochastic first-order methods: non-asymptotic and
computer-aided analyses via potential functions*, COLT).

* RCD with uniform single-coordinate sketches :math:`C=d\,e_ie_i^\top` (claims ``rcd.strongly-convex``,
  ``rcd.nonconvex``): :math:`x^+=x-\gamma\,d\,e_ie_i^\top\nabla f(x)`, the :math:`d^T` leaves averaged.  The
  metric is the **claim's** metric (the expected gap, resp. the running mean of
  :math:`\mathbb E\Vert\nabla f(x^t)\Vert^2`), not the distance of PEPit's shipped example.  Class: f
  L-smooth (:math:`\mathbf L=LI`, so :math:`\tilde L=dL`), μ-strongly convex — ``exact``; nonconvex: f
  L-smooth with :math:`f(x^0)-\mathbb Ef(x^T)` in place of :math:`\delta_0` — ``upper``.
* SGD with uniform sampling (``sgd.neighborhood``): :math:`x^+=x-\gamma\nabla f_i(x)`, the :math:`n^T` leaves
  averaged; :math:`f_i` convex :math:`L_i`-smooth with f μ-strongly convex through necessary conditions at
  every visited point (``upper``) or :math:`f_i\in\mathcal F_{\mu,L_i}` (``lower``).
* L-SVRP one step (``lsvrp.lyapunov``, Gasanov & Richtárik 2024): :math:`f_i` μ-strongly convex, the Hessian
  dissimilarity imposed only at :math:`(w,x_\star)` — the ingredients of the proof only, so the value is the
  proof's tightness given its ingredients (``upper`` for the class of the claim).
"""

from __future__ import annotations

import numpy as np

from ratecheck import theorems
from ratecheck.solvers.rcd import CoordinateSketch, RPTSketch

from ..errors import UsageError
from ..expectation import exact_sketched_quadratic
from ..instances import streams
from ._pepit import Solved, pepit, solve

__all__ = [
    "rcd_pep",
    "rcd_measured",
    "sgd_measured",
    "sgd_pep",
    "lsvrp_measured",
    "lsvrp_pep",
    "taylor_bach_check",
    "pepit_sgd_check",
]


def _sum(terms):
    out = terms[0]
    for t in terms[1:]:
        out = out + t
    return out


def _outcomes(claim, d: int, p) -> tuple[list, float]:
    r"""The sketch of an RCD/RPT claim on d blocks of one coordinate: its outcomes ``[(probability, [(block,
    scale), ...]), ...]`` and :math:`\Omega=\max_j\mathbb E[c_j^2]` (so :math:`\tilde L=L\,\Omega` on the class
    :math:`\mathbf L=LI`).  RCD: uniform single coordinates, :math:`c=d\,e_i`.  RPT: the claim's first sketch
    (prefix or suffix) with block probabilities ``p`` (default uniform), scales :math:`1/q_j`."""
    if claim.setting.get("family") != "rpt":
        return [(1.0 / d, [(i, float(d))]) for i in range(d)], float(d)
    sk = _rpt_sketch(claim, d, p)
    masks = sk._block_masks()
    u = 1.0 / sk.q if sk.scaled else np.ones(d)  # the teeth variant `~unscaled` drops the 1/q_j rescaling
    outs = [(float(sk.p[s]), [(j, float(u[j])) for j in range(d) if masks[s, j]]) for s in range(d)]
    return [o for o in outs if o[0] > 0], float(np.max(u * u * sk.q))  # Omega = max_j E[c_j^2] = u_j^2 q_j


def _rpt_sketch(claim, d: int, p) -> RPTSketch:
    p = np.full(d, 1.0 / d) if p is None else p
    return RPTSketch([1] * d, p, order=_rpt_order(claim), scaled=claim.setting.get("scaled", True))


def _rpt_order(claim) -> str:
    sketches = claim.setting.get("sketches") or ("rpt-prefix",)
    return "suffix" if sketches[0] == "rpt-suffix" else "prefix"


def rcd_pep(claim_id: str, d: int, L: float, mu: float | None, T: int, p=None) -> tuple[Solved, float]:
    """RCD worst case of measure_T/bound_T with the claim's metric; returns (solve, gamma).

    Uniform single coordinates :math:`C=d\\,e_ie_i^\top`: :math:`\tilde L=dL`, :math:`\\Omega=\\lambda_{\\max}
    (\\mathbb E[C^2])=d`.  Regimes (the claim's ``setting["regime"]``): strongly convex (f in F_{mu,L}, gap),
    convex (f convex L-smooth, gap, bound linear in :math:`R^2=\\Vert x^0-x_\\star\\Vert^2` and
    :math:`\\delta_0`) — both exact; nonconvex (f L-smooth, running mean of the squared gradient norm,
    :math:`f(x^0)-\\mathbb Ef(x^T)` for :math:`\\delta_0`) — upper.
    """
    P, F = pepit(), pepit("PEPit.functions")
    claim = theorems.get(claim_id)
    if d < 1 or d ** max(T, 1) > 16:
        raise UsageError(f"worst case: the RCD tree has d^T leaves; need d >= 1 and d^T <= 16 (got d={d}, T={T})")
    regime = claim.setting.get("regime")
    outcomes, omega = _outcomes(claim, d, p)
    consts = dict(L_tilde=omega * L, L=L, Omega=omega)
    if regime == "strongly-convex":
        if mu is None or not 0 < mu <= L:
            raise UsageError(f"worst case: mu must be in (0, L] for {claim_id} (got {mu})")
        consts["mu"] = mu
    gamma = claim.max_stepsize(**consts)
    consts["gamma"] = gamma
    problem = P.PEP()
    part = problem.declare_block_partition(d=d)
    if regime == "strongly-convex":
        f = problem.declare_function(F.SmoothStronglyConvexFunction, mu=mu, L=L)
    elif regime == "convex":
        f = problem.declare_function(F.SmoothConvexFunction, L=L)
    else:
        f = problem.declare_function(F.SmoothFunction, L=L)
    x0 = problem.set_initial_point()
    levels = [[(1.0, x0)]]  # (probability of the leaf, point)
    for _ in range(T):
        nxt = []
        for w, x in levels[-1]:
            g = f.gradient(x)
            for prob, blocks in outcomes:
                nxt.append((w * prob, x - gamma * _sum([scale * part.get_block(g, j) for j, scale in blocks])))
        levels.append(nxt)

    def mean(level, fn):
        return _sum([w * fn(x) for w, x in level])

    if regime in ("strongly-convex", "convex"):
        xs = f.stationary_point()
        fs = f(xs)
        if regime == "convex":
            a = float(claim.evaluate(T=T, delta0=1.0, R=0.0, **consts))
            b = float(claim.evaluate(T=T, delta0=0.0, R=1.0, **consts))  # coefficient of R^2
            problem.set_initial_condition(a * (f(x0) - fs) + b * (x0 - xs) ** 2 <= 1)
        else:
            a = float(claim.evaluate(T=T, delta0=1.0, **consts))
            problem.set_initial_condition(a * (f(x0) - fs) <= 1)
        problem.set_performance_metric(mean(levels[-1], lambda x: f(x) - fs))
    else:
        a = float(claim.evaluate(T=T, delta0=1.0, **consts))
        problem.set_initial_condition(a * (f(x0) - mean(levels[-1], f)) <= 1)
        avg = _sum([mean(lev, lambda x: f.gradient(x) ** 2) for lev in levels[:-1]]) / T
        problem.set_performance_metric(avg)
    return solve(problem), gamma


def sgd_pep(claim_id: str, Ls, mu: float, T: int, cls: str) -> tuple[Solved, float]:
    """SGD (uniform sampling) worst case of E||x^T-x*||^2 / bound_T; ``cls`` = "upper" or "lower" class."""
    P, F = pepit(), pepit("PEPit.functions")
    claim = theorems.get(claim_id)
    Ls = np.asarray(Ls, dtype=float)
    n = Ls.size
    if n < 1 or n**T > 27:
        raise UsageError(f"worst case: the SGD tree has n^T leaves; need n^T <= 27 (got n={n}, T={T})")
    consts = dict(L_max=float(Ls.max()), mu=mu)
    gamma = claim.max_stepsize(**consts)
    consts["gamma"] = gamma
    problem = P.PEP()
    if cls == "sc":
        fs = [problem.declare_function(F.SmoothStronglyConvexFunction, mu=mu, L=float(Li)) for Li in Ls]
    else:
        fs = [problem.declare_function(F.SmoothConvexFunction, L=float(Li)) for Li in Ls]
    f = _sum(fs) / n
    xs = f.stationary_point()
    fstar = f(xs)
    x0 = problem.set_initial_point()
    levels, visited = [[x0]], [x0]
    for _ in range(T):
        nxt = [x - gamma * fi.gradient(x) for x in levels[-1] for fi in fs]
        levels.append(nxt)
        visited.extend(nxt)
    if cls != "sc":  # f mu-strongly convex: necessary conditions at every visited point (upper)
        for x in visited:
            problem.add_constraint(f(x) >= fstar + mu / 2 * (x - xs) ** 2)
            problem.add_constraint(fstar >= f(x) + f.gradient(x) * (xs - x) + mu / 2 * (x - xs) ** 2)
    a = float(claim.evaluate(T=T, X0=1.0, sigma2=0.0, **consts))
    b = float(claim.evaluate(T=T, X0=0.0, sigma2=1.0, **consts))
    sigma2 = _sum([fi.gradient(xs) ** 2 for fi in fs]) / n
    problem.set_initial_condition(a * (x0 - xs) ** 2 + b * sigma2 <= 1)
    problem.set_performance_metric(_sum([(x - xs) ** 2 for x in levels[-1]]) / len(levels[-1]))
    return solve(problem), gamma


def lsvrp_pep(claim_id: str, n: int, mu: float, delta: float, p: float | None) -> tuple[Solved, float]:
    r"""L-SVRP one-step Lyapunov PEP: :math:`\sup\mathbb E\Psi^1/\text{bound}_1`, :math:`\Psi=X+cW`."""
    P, F = pepit(), pepit("PEPit.functions")
    step = pepit("PEPit.primitive_steps")
    claim = theorems.get(claim_id)
    p = 1.0 / n if p is None else float(p)
    consts = dict(mu=mu, delta=delta, p=p)
    gamma = claim.max_stepsize(**consts)
    consts["gamma"] = gamma
    c = float(claim.setting["psi_weight"].subs({theorems.sym(k): v for k, v in consts.items()}))
    a = float(claim.evaluate(T=1, X0=1.0, W0=0.0, **consts))
    b = float(claim.evaluate(T=1, X0=0.0, W0=1.0, **consts))
    problem = P.PEP()
    fs = [problem.declare_function(F.StronglyConvexFunction, mu=mu, reuse_gradient=True) for _ in range(n)]
    f = _sum(fs) / n
    xs = f.stationary_point()
    x0, w = problem.set_initial_point(), problem.set_initial_point()
    gw = [fi.gradient(w) for fi in fs]
    gs = [fi.gradient(xs) for fi in fs]
    gwm, gsm = _sum(gw) / n, _sum(gs) / n
    dis = _sum([(gw[i] - gwm - gs[i] + gsm) ** 2 for i in range(n)]) / n
    problem.add_constraint(dis <= delta**2 * (w - xs) ** 2)
    problem.set_initial_condition(a * (x0 - xs) ** 2 + b * (w - xs) ** 2 <= 1)
    terms = []
    for i, fi in enumerate(fs):
        xi, _, _ = step.proximal_step(x0 - gamma * (gwm - gw[i]), fi, gamma)
        X1 = (xi - xs) ** 2
        terms.append(X1 + c * (p * X1 + (1 - p) * (w - xs) ** 2))
    problem.set_performance_metric(_sum(terms) / n)
    return solve(problem, fallback=True), gamma


def taylor_bach_check(d: int = 3, L: float = 1.0, mu: float = 0.1) -> dict:
    r"""PEPit's shipped RCD example (distance metric) against its own tight value (Taylor & Bach 2019, Thm 17).

    A reproduction check of the PEP machinery only: the distance contraction
    :math:`\mathbb E\Vert x_1-x_\star\Vert^2/\Vert x_0-x_\star\Vert^2` is **not** the metric of
    ``rcd.strongly-convex`` (the expected gap), so it is not compared with the claim (see :func:`rcd_pep`).
    """
    ex = pepit(
        "PEPit.examples.stochastic_and_randomized_convex_minimization.randomized_coordinate_descent_smooth_strongly_convex"
    )
    tau, theory = ex.wc_randomized_coordinate_descent_smooth_strongly_convex(
        L=L, mu=mu, gamma=1 / L, d=d, wrapper="cvxpy", verbose=-1
    )
    return {"pep": float(tau), "theory": float(theory)}


def rcd_measured(
    d: int, L: float, mu: float | None, T: int, seed: int = 0, claim_id: str = "rcd.strongly-convex", p=None
) -> float:
    r"""In-class measured tightness of an RCD claim: max over k ≤ T of the **exact** expected measure over the
    claim's bound, uniform coordinates, on a quadratic :math:`f=\frac12x^\top Ax` with :math:`A\preceq LI` (so
    :math:`\mathbf L\preceq LI` and :math:`\tilde L=dL`, the PEP's class) — :math:`W_{\rm emp}\le W_{\rm pep}`.

    Strongly convex: spectrum geometric in :math:`[\mu, L]`, the expected gap.  Convex and nonconvex: the same
    with one zero eigenvalue (f convex, L-smooth, :math:`f^\star=0`; :math:`R` is the distance from
    :math:`x^0` to the set of minimisers), the expected gap resp. the running mean
    :math:`\frac1k\sum_{t<k}\mathbb E\Vert\nabla f(x^t)\Vert^2`.  The claim's own sketch (RPT: d blocks of one
    coordinate, block probabilities ``p``), stepsize and bound.
    """
    claim = theorems.get(claim_id)
    regime = claim.setting.get("regime")
    _, omega = _outcomes(claim, d, p)
    c = dict(L_tilde=omega * L, L=L, Omega=omega)
    if regime == "strongly-convex":
        c["mu"] = mu
        spec = np.geomspace(mu, L, d)
    else:
        spec = np.r_[0.0, np.geomspace(1e-2 * L, L, d - 1)] if d > 1 else np.array([L])
        spec[-1] = L  # the top of the class (geomspace of one point is its start)
    gamma = claim.max_stepsize(**c)
    rng = streams(seed).data
    U = np.linalg.qr(rng.standard_normal((d, d)))[0]
    A = (U * spec) @ U.T
    e0 = streams(seed).start.standard_normal(d)
    if claim.setting.get("family") == "rpt":
        sk = _rpt_sketch(claim, d, p)
    else:
        sk = CoordinateSketch.uniform(d)
    m, P2 = sk.moments()
    out = exact_sketched_quadratic(A, e0, gamma, m, P2, T)
    k = np.arange(1, T + 1)
    if regime == "nonconvex":
        measured = np.cumsum(out["grad_norm_sq"][:T]) / k
    else:
        measured = out["gap"][1:]
    extra = {}
    if regime == "convex":  # distance to the minimisers: the component of x^0 - 0 in the range of A
        rangecomp = U[:, spec > 0] @ (U[:, spec > 0].T @ e0)
        extra["R"] = float(np.linalg.norm(rangecomp))
    bound = np.asarray(claim.evaluate(T=k, delta0=float(out["gap"][0]), gamma=gamma, **c, **extra), dtype=float)
    return float(np.max(measured / bound))


def sgd_measured(claim_id: str, Ls, mu: float, T: int, seeds: int = 8) -> float:
    r"""In-class measured tightness of ``sgd.neighborhood``: max over seeds and k ≤ T of the **exact**
    :math:`\mathbb E\Vert x^k-x^\star\Vert^2` over the claim's bound, uniform sampling, on one-dimensional
    quadratics :math:`f_i=\frac{h_i}2(x-c_i)^2` with :math:`h_i\in[\mu,L_i]` (so :math:`f_i\in\mathcal F_{\mu,L_i}`,
    the PEP's lower class, and f is μ-strongly convex).  In one dimension the error
    :math:`e=x-x^\star` is affine in itself at every step, :math:`e^+=(1-\gamma h_i)e+\gamma h_iu_i` with
    :math:`u_i=c_i-x^\star`, so its first two moments propagate exactly (no enumeration of the :math:`n^T`
    paths); :math:`\sigma_\star^2=\frac1n\sum_ih_i^2u_i^2`.
    """
    claim = theorems.get(claim_id)
    Ls = np.asarray(Ls, dtype=float)
    n = Ls.size
    consts = dict(L_max=float(Ls.max()), mu=mu)
    gamma = claim.max_stepsize(**consts)
    best = 0.0
    for seed in range(seeds):
        rng = streams(seed).data
        h = rng.uniform(mu, Ls)
        h[0] = mu  # one client at the class's flattest curvature
        c = rng.standard_normal(n)
        xs = float(h @ c / h.sum())
        u = c - xs
        e0 = float(streams(seed).start.standard_normal())
        a, b = 1.0 - gamma * h, gamma * h * u
        m1, m2 = e0, e0 * e0
        sigma2 = float(np.mean((h * u) ** 2))
        for k in range(1, T + 1):
            m1, m2 = float(np.mean(a * m1 + b)), float(np.mean(a * a * m2 + 2 * a * b * m1 + b * b))
            bound = float(claim.evaluate(T=k, X0=e0 * e0, sigma2=sigma2, gamma=gamma, **consts))
            best = max(best, m2 / bound)
    return best


def lsvrp_measured(claim_id: str, n: int, mu: float, delta: float, p: float | None, seeds: int = 8) -> float:
    r"""In-class measured value of the L-SVRP one-step Lyapunov claim: max over seeds of the **exact**
    :math:`\mathbb E\Psi^1/\text{bound}_1`, :math:`\Psi=X+cW`, on one-dimensional quadratics
    :math:`f_i=\frac{h_i}2(x-c_i)^2` with :math:`h_i\ge\mu` (μ-strongly convex) whose Hessian dissimilarity
    :math:`\sqrt{\frac1n\sum_i(h_i-\bar h)^2}` equals δ (the PEP's constraint, met with equality), the step
    :math:`x^1=\mathrm{prox}_{\gamma f_i}(x^0-\gamma(\nabla f(w)-\nabla f_i(w)))` averaged over the n clients and
    the refresh :math:`w^1=x^1` with probability p — the quantities of :func:`lsvrp_pep`.
    """
    claim = theorems.get(claim_id)
    p = 1.0 / n if p is None else float(p)
    consts = dict(mu=mu, delta=delta, p=p)
    gamma = claim.max_stepsize(**consts)
    consts["gamma"] = gamma
    cw = float(claim.setting["psi_weight"].subs({theorems.sym(k): v for k, v in consts.items()}))
    a = float(claim.evaluate(T=1, X0=1.0, W0=0.0, **consts))
    b = float(claim.evaluate(T=1, X0=0.0, W0=1.0, **consts))
    best = 0.0
    for seed in range(seeds):
        rng = streams(seed).data
        z = np.abs(rng.standard_normal(n))
        h = mu + (delta / z.std() * z if n > 1 and z.std() > 0 else 0.0 * z)  # h_i >= mu, dissimilarity delta
        c = rng.standard_normal(n)
        xs = float(h @ c / h.sum())
        x0, w = (float(v) for v in xs + streams(seed).start.standard_normal(2))
        grad_w = h * (w - c)  # the clients' gradients at w
        v = x0 - gamma * (grad_w.mean() - grad_w)  # one entry per sampled client i
        x1 = (v + gamma * h * c) / (1 + gamma * h)  # prox of gamma f_i
        X1 = (x1 - xs) ** 2
        psi1 = float(np.mean(X1 + cw * (p * X1 + (1 - p) * (w - xs) ** 2)))
        best = max(best, psi1 / (a * (x0 - xs) ** 2 + b * (w - xs) ** 2))
    return best


def pepit_sgd_check(L: float = 1.0, mu: float = 0.1, n: int = 5) -> dict:
    """PEPit's shipped one-step SGD example (each f_i in F_{mu,L}, R and v constraints) against its own tight
    value — a reproduction check of the enumeration over samples used by :func:`sgd_pep`."""
    ex = pepit("PEPit.examples.stochastic_and_randomized_convex_minimization.sgd")
    tau, theory = ex.wc_sgd(L=L, mu=mu, gamma=1 / L, v=1.0, R=2.0, n=n, wrapper="cvxpy", solver="CLARABEL", verbose=-1)
    return {"pep": float(tau), "theory": float(theory)}
