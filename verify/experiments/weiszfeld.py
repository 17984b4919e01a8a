r"""Geometric median experiment: smoothed Weiszfeld on seeded point clouds with certified optima.

Measures (``specs/weiszfeld.md`` sections 3-5); all deterministic:

* ``gm_gap`` — :math:`g(z_t)-g^\star`, t = 1..T, with :math:`\hat\nu_t` computed along the run;
* ``gnu_gap`` — :math:`g_\nu(z_t)-g_\nu(z^\star_\nu)` with :math:`\sum_{\tau<t}1/L^{(\tau)}`;
* ``iterations_to_eps`` — first t with :math:`g(z_t)-g^\star\le\varepsilon` on a grid of ε;
* ``gnu_increase`` — :math:`g_\nu(z_{t+1})-g_\nu(z_t)`;
* ``dist_ratio`` — :math:`\Vert z_{t+1}-z^\star_\nu\Vert/\Vert z_t-z^\star_\nu\Vert`;
* ``eta_max`` — :math:`\max_k\eta_k^{(t)}` (t >= 1), plus R for an iterate found outside the hull;
* ``gm_distance`` — :math:`\Vert z_t-y\Vert` from the inlier centre y, with ε = the iterate's gap;
* ``relative_gap`` — :math:`(g(z_T)-g^\star)/g^\star` at the budget T = ``claim.setting['budget']``.

:math:`g^\star` is the certified lower bound of :func:`verify.optima.geometric_median_optimum`
(so measured gaps are never understated).  Bounds come from ``claim.evaluate`` and the relative
step :math:`\gamma` from ``claim.max_stepsize`` (1 = Weiszfeld).
"""
from __future__ import annotations

import math
import os

import numpy as np
from scipy.optimize import nnls

from solvers.weiszfeld import diameter, smoothed_weiszfeld

from ..check import Evidence, UsageError
from ..instances import POINT_CLOUDS, point_cloud
from ..optima import geometric_median_optimum
from . import Experiment, register

EPS_MACH = float(np.finfo(float).eps)
DIST_FLOOR = 1e-7   #: dist_ratio is compared while ||z_t - z*_nu|| > DIST_FLOOR * R (float64 resolution of z*_nu)
HULL_TOL = 1e-9     #: an iterate farther than HULL_TOL * R from conv{w_k} (NNLS) counts as outside

# named default instances (spec section 4, instance 2 rows and instances 1, 3, 5)
SPEC = dict(cloud="gaussian", m=100, d=10)                                       # the "3-5 iterations" regime
OUTLIERS = dict(cloud="gaussian", m=100, d=10, outlier_frac=0.25, shift=100.0)
HIGH_DIM = dict(cloud="gaussian", m=50, d=1000, outlier_frac=0.2, shift=1000.0)
RFA_LIKE = dict(cloud="gaussian", m=50, d=1000)
LOW_DIM = dict(cloud="gaussian", m=200, d=2, outlier_frac=0.45, shift=10.0, T=60)
ANCHOR = dict(cloud="anchor", m=50, d=5, nu=0.05, T=400)
LOPSIDED = dict(cloud="lopsided", m=30, d=5, anchor_weight=0.55, shift=10.0, T=200)
TRIANGLE = dict(cloud="three", m=3, d=2, T=200)
SYMMETRIC = dict(cloud="symmetric", m=40, d=10, init="mid")  # the mean *is* the median here

_CACHE: dict = {}


def build(p: dict, seed: int):
    """Points, weights, info and the certified optimum for parameters ``p`` (memoised)."""
    key = (p["cloud"], p["m"], p["d"], p["outlier_frac"], p["shift"], p["anchor_weight"], seed)
    if key not in _CACHE:
        W, w, info = point_cloud(p["cloud"], m=p["m"], d=p["d"], outlier_frac=p["outlier_frac"], shift=p["shift"],
                                 anchor_weight=p["anchor_weight"], seed=seed)
        opt = geometric_median_optimum(W, w)
        R = diameter(W)
        nu_tilde = float(np.min(np.linalg.norm(opt.x - W, axis=1)))
        if len(_CACHE) > 64:
            _CACHE.clear()
        _CACHE[key] = (W, w, info, opt, R, nu_tilde, {})
    return _CACHE[key]


def smoothed_optimum(entry, nu: float):
    """(z*_nu, certified lower bound of g_nu*); Lemma 24: z*_nu = z* when nu <= nu_tilde."""
    W, w, info, opt, R, nu_tilde, memo = entry
    if nu <= nu_tilde:
        return opt.x, opt.lower  # g_nu = g at z* and g_nu >= g everywhere
    if nu not in memo:
        o = geometric_median_optimum(W, w, nu=nu)
        memo[nu] = (o.x, o.lower)
    return memo[nu]


class WeiszfeldExperiment(Experiment):
    name = "weiszfeld"
    title = "Smoothed Weiszfeld for the geometric median on seeded point clouds"
    measures = {
        "gm_gap": "g(z_t) - g* for t = 1..T (normalised weights, certified g*)",
        "gnu_gap": "g_nu(z_t) - g_nu(z*_nu) for t = 1..T",
        "iterations_to_eps": "first t with g(z_t) - g* <= eps, eps on a geometric grid relative to g*",
        "gnu_increase": "g_nu(z_{t+1}) - g_nu(z_t) for t = 0..T-1",
        "dist_ratio": "||z_{t+1} - z*_nu|| / ||z_t - z*_nu||",
        "eta_max": "max_k max(nu, ||z_t - w_k||) for t = 1..T (+R if z_t is outside conv{w_k})",
        "gm_distance": "||z_t - y|| for t = 0..T, y the inlier centre",
        "relative_gap": "(g(z_T) - g*)/g* at the budget T = claim.setting['budget']",
    }
    defaults = dict(cloud="gaussian", m=100, d=10, outlier_frac=0.0, shift=100.0, anchor_weight=0.6, nu=1e-6, T=30,
                    stepsize_factor=1.0, init="mean", eps_max=1e-1, eps_min=1e-12, n_eps=12)

    # ------------------------------------------------------------------ search space
    #: Counterexample-search coordinates (``verify.search``).  ``collinear`` clouds are left out: they
    #: break RFA's Assumption 13 (points not all on one line; the median need not be unique).
    search_space = {
        "cloud": ("choice", ["gaussian", "anchor", "lopsided", "three", "symmetric"]),
        "m": ("int", 3, 120),
        "d": ("int", 2, 30),
        "outlier_frac": ("float", 0.0, 0.45),
        "shift": ("logfloat", 1.0, 1000.0),
        "anchor_weight": ("float", 0.5, 0.95),
        "nu": ("logfloat", 1e-8, 1.0),
        "T": ("int", 10, 400),
        "init": ("choice", ["mean", "mid"]),
    }
    #: Assumption 22 (nu <= nu_tilde = min_k ||z* - w_k||) fails at every nu on clouds whose median is a data point
    _MEDIAN_AT_A_POINT = ("anchor", "lopsided")

    def search_space_for(self, claim):
        """The clouds a claim's setting names (``setting['clouds']``) or else all of them; claims assuming
        nu <= nu_tilde (Assumption 22) search only clouds whose median is not a data point, with small nu;
        the fixed-budget claim (``setting['budget']``) does not search the horizon T."""
        space = dict(self.search_space)
        clouds = tuple(claim.setting.get("clouds", ()))
        if clouds:
            space["cloud"] = ("choice", [c for c in space["cloud"][1] if c in clouds] or list(clouds))
        if any(s.name == "nu_tilde" for a in claim.assumptions for s in getattr(a, "free_symbols", ())):
            space["cloud"] = ("choice", [c for c in space["cloud"][1] if c not in self._MEDIAN_AT_A_POINT])
            space["nu"] = ("logfloat", 1e-8, 1e-3)
        if "budget" in claim.setting:
            space.pop("T")
        return space

    def from_search(self, point):
        """Instance parameters of a search point: m = 3 for the triangle, m even for the symmetric cloud
        (the constructions require it) which also starts from ``init='mid'`` (its mean is the median, a
        degenerate start with r0 = 0, as in the named SYMMETRIC instance); the other coordinates are
        instance parameters as they are."""
        p = dict(point)
        cloud = p.get("cloud")
        if cloud == "three":
            p["m"] = 3
        elif cloud == "symmetric":
            if "m" in p:
                p["m"] = max(2, int(p["m"]) + int(p["m"]) % 2)
            p["init"] = "mid"  # the mean *is* the median here: from the mean every bound is 0 (or nu/2)
        return p

    # ------------------------------------------------------------------ instances
    def instances(self, claim, quick=False):
        meas = claim.measure
        if meas in ("gm_gap", "gnu_gap"):
            out = [SPEC, OUTLIERS, dict(ANCHOR, T=2000), LOPSIDED]
            return out if quick else out + [TRIANGLE, HIGH_DIM, LOW_DIM, SYMMETRIC]
        if meas == "iterations_to_eps":
            if "anchor" in tuple(claim.setting.get("clouds", ())):
                return [dict(ANCHOR, T=3000, eps_max=1e-1, eps_min=1e-4, n_eps=8)]
            out = [SPEC, OUTLIERS]
            return out if quick else out + [SYMMETRIC, dict(LOW_DIM, T=400, eps_min=1e-8), HIGH_DIM]
        if meas in ("gnu_increase", "dist_ratio"):
            out = [SPEC, OUTLIERS, ANCHOR, LOW_DIM]
            return out if quick else out + [TRIANGLE, HIGH_DIM, LOPSIDED]
        if meas == "eta_max":
            out = [OUTLIERS, ANCHOR]
            return out if quick else out + [SPEC, LOW_DIM, HIGH_DIM, LOPSIDED]
        if meas == "gm_distance":
            out = [OUTLIERS, dict(OUTLIERS, outlier_frac=0.45)]
            return out if quick else out + [dict(OUTLIERS, outlier_frac=0.1), dict(OUTLIERS, outlier_frac=0.4), LOW_DIM,
                                            HIGH_DIM]
        if meas == "relative_gap":
            return [SPEC, RFA_LIKE, OUTLIERS, HIGH_DIM, LOW_DIM, TRIANGLE]
        return [dict()]

    def params(self, params):
        p = super().params(params)
        if p["cloud"] not in POINT_CLOUDS:
            raise UsageError(f"cloud must be one of {', '.join(POINT_CLOUDS)}, got {p['cloud']!r}")
        for nm in ("m", "d", "T", "n_eps"):
            if isinstance(p[nm], bool) or not isinstance(p[nm], (int, np.integer)) or p[nm] < 1:
                raise UsageError(f"{nm} must be an integer >= 1, got {p[nm]!r}")
        for nm in ("nu", "shift", "stepsize_factor", "eps_max", "eps_min"):
            if not (isinstance(p[nm], (int, float)) and not isinstance(p[nm], bool) and math.isfinite(p[nm]) and p[nm] > 0):
                raise UsageError(f"{nm} must be a finite number > 0, got {p[nm]!r}")
        if not (isinstance(p["outlier_frac"], (int, float)) and 0 <= p["outlier_frac"] < 0.5):
            raise UsageError(f"outlier_frac must lie in [0, 0.5), got {p['outlier_frac']!r}")
        if not (isinstance(p["anchor_weight"], (int, float)) and 0.5 <= p["anchor_weight"] < 1):
            raise UsageError(f"anchor_weight must lie in [0.5, 1), got {p['anchor_weight']!r}")
        if p["init"] not in ("mean", "mid"):
            raise UsageError(f"init must be 'mean' (weighted mean) or 'mid' (midpoint of the mean and the first point), "
                             f"got {p['init']!r}")
        if p["eps_min"] > p["eps_max"]:
            raise UsageError(f"eps_min must be <= eps_max, got {p['eps_min']!r} > {p['eps_max']!r}")
        return p

    # ------------------------------------------------------------------ run
    def trace(self, claim, p, seed=0):
        """Run smoothed Weiszfeld for ``claim`` on instance ``p``: (entry, result, constants)."""
        entry = build(p, seed)
        W, w, info, opt, R, nu_tilde, _ = entry
        nu = float(p["nu"])
        c = dict(nu=nu, R=R, nu_tilde=nu_tilde, m=W.shape[0], d=W.shape[1], g_star=opt.lower,
                 g_star_certified_gap=opt.value - opt.lower, optimum_method=opt.certificate["method"])
        gamma = claim.max_stepsize(**c) * p["stepsize_factor"] if claim.stepsize is not None else 1.0
        c["gamma"] = gamma
        claim.check_assumptions(**c)
        T = int(claim.setting.get("budget", p["T"]))
        z0 = w @ W
        if p["init"] == "mid":
            z0 = 0.5 * (z0 + W[0])  # still inside the hull, as Theorem 21 requires
        res = smoothed_weiszfeld(W, w, nu=nu, T=T, z0=z0, store_iterates=True, step=gamma)
        c["r0"] = float(np.linalg.norm(z0 - opt.x))
        return entry, res, c

    def run(self, claim, p, seed=0):
        meas = claim.measure
        if meas not in self.measures:
            raise UsageError(f"experiment 'weiszfeld' cannot measure {meas!r}; it measures {', '.join(self.measures)}")
        entry, res, c = self.trace(claim, p, seed)
        W, w, info, opt, R, nu_tilde, _ = entry
        nu, T = c["nu"], res.n_iter
        t = np.arange(1, T + 1)
        gap = res.g - opt.lower
        series = {"g": res.g, "g_nu": res.g_nu, "L": res.L, "eta_min": res.eta_min}
        ev = dict(constants=c, instance=p, seed=seed, series=series)
        if meas == "gm_gap":
            nu_hat = np.minimum.accumulate(res.eta_min)
            bound = claim.evaluate(T=t, nu_hat=nu_hat, **c)
            claim.check_assumptions(nu_hat=nu_hat, **c)
            series["nu_hat"] = nu_hat
            return Evidence("t", t, gap[1:], bound, **ev)
        if meas == "gnu_gap":
            zs, gs = smoothed_optimum(entry, nu)
            c["r0_nu"] = float(np.linalg.norm(res.iterates[0] - zs))
            s = np.cumsum(1.0 / res.L)
            c["sum_inv_L_over_RT"] = float(np.max(s / (R * t)))
            series["sum_inv_L"] = s
            return Evidence("t", t, res.g_nu[1:] - gs, claim.evaluate(T=t, sum_inv_L=s, **c), **ev)
        if meas == "iterations_to_eps":
            eps = np.geomspace(p["eps_max"], p["eps_min"], p["n_eps"]) * opt.lower
            claim.check_assumptions(eps=eps, **c)
            bound = claim.evaluate(eps=eps, **c)
            hit = gap[None, :] <= eps[:, None]
            reached = hit.any(axis=1)
            first = np.where(reached, np.argmax(hit, axis=1), T + 1).astype(float)
            keep = reached | (bound < T + 1)
            if not keep.any():
                raise UsageError(f"no eps of the grid is reached within T={T} and every bound exceeds T + 1: increase T")
            c["undecided_eps"] = int((~keep).sum())
            return Evidence("eps", eps[keep], first[keep], bound[keep], **ev,
                            note="unreached targets count as T + 1 (a lower bound on the true count) and are kept only "
                                 "when the bound is below T + 1")
        if meas == "gnu_increase":
            inc = np.diff(res.g_nu)
            ev["atol"] = 64 * EPS_MACH * max(1.0, float(res.g_nu[0]))
            return Evidence("t", np.arange(T), inc, claim.evaluate(T=np.arange(T), **c), **ev,
                            note="absolute slack 64 eps_mach g_nu(z_0) (rounding of the objective)")
        if meas == "dist_ratio":
            zs, _ = smoothed_optimum(entry, nu)
            dist = np.linalg.norm(res.iterates - zs, axis=1)
            keep = dist[:-1] > DIST_FLOOR * R
            if not keep.any():
                raise UsageError("the start is already within the float64 resolution of z*_nu; nothing to compare")
            ratio = dist[1:][keep] / dist[:-1][keep]
            series["dist"] = dist
            # Lemma 20, second part: distance to z* while g_nu(z_{t+1}) >= g_nu(z*)
            dstar = np.linalg.norm(res.iterates - opt.x, axis=1)
            from solvers.weiszfeld import smoothed_objective
            gnu_star = float(smoothed_objective(opt.x, W, w, nu))
            cond = (res.g_nu[1:] >= gnu_star) & (dstar[:-1] > DIST_FLOOR * R)
            c["max_ratio_to_z_star_when_above"] = float(np.max(dstar[1:][cond] / dstar[:-1][cond], initial=0.0))
            grid = np.arange(T)[keep]
            return Evidence("t", grid, ratio, claim.evaluate(T=grid, **c), **ev,
                            note=f"compared while ||z_t - z*_nu|| > {DIST_FLOOR:g} R")
        if meas == "eta_max":
            Z = res.iterates[1:]
            eta = np.maximum(nu, np.linalg.norm(Z[:, None, :] - W[None], axis=2))
            emax = eta.max(axis=1)
            hd = self._hull_distance(W, Z, R)
            outside = hd > HULL_TOL * R
            c.update(max_hull_distance=float(hd.max()), L_times_nu_max=float(np.max(res.L * nu)),
                     L_times_R_min=float(np.min(res.L * R)) if res.L.size else float("nan"))
            series["hull_distance"] = hd
            return Evidence("t", t, emax + np.where(outside, R, 0.0), claim.evaluate(T=t, **c), **ev)
        if meas == "gm_distance":
            y = info["inlier_centre"]
            inl = ~info["outliers"]
            c["vartheta"] = float(w[info["outliers"]].sum())
            c["rho_in"] = float(np.max(np.linalg.norm(W[inl] - y, axis=1)))
            epsv = np.maximum(gap, 0.0)
            claim.check_assumptions(eps=epsv, **c)
            dist = np.linalg.norm(res.iterates - y, axis=1)
            tt = np.arange(T + 1)
            series["eps"] = epsv
            return Evidence("t", tt, dist, claim.evaluate(T=tt, eps=epsv, **c), **ev)
        # relative_gap
        rel = gap[-1] / opt.lower
        series["relative_gap"] = gap / opt.lower
        return Evidence("T", [T], [rel], claim.evaluate(T=np.array([T]), **c), **ev)

    @staticmethod
    def _hull_distance(W, Z, R):
        """Distance of each row of Z to conv{w_k} by NNLS with a heavily weighted sum-to-one row."""
        big = 1e3 * max(R, 1.0)
        A = np.vstack([W.T, np.full(W.shape[0], big)])
        out = np.empty(Z.shape[0])
        for i, z in enumerate(Z):  # a loop over iterates (T of them), not over points
            lam, _ = nnls(A, np.r_[z, big], maxiter=50 * W.shape[0])
            out[i] = float(np.linalg.norm(W.T @ (lam / lam.sum()) - z))
        return out

    def figures(self, verdicts, outdir, quick=False):
        """Suboptimality against the Theorem 21 bound, iterations-to-eps against 1/(nu eps), RFA vs FedAvg."""
        return figures(verdicts, outdir, quick=quick)


EXPERIMENT = register(WeiszfeldExperiment())


# --------------------------------------------------------------------------- tables and figures
def complexity_table(nus=(1e-6, 1e-3, 1e-2, 1e-1), n_eps: int = 10, seed: int = 0, instance: dict | None = None):
    r"""Iterations to an ε-approximate median against :math:`1/(\nu\varepsilon)` (Cor. 25) for several ν.

    Runs ``weiszfeld.complexity`` (bound from the registered claim) on one instance (default: the
    spec's outlier cloud) for each ν; returns rows ``(nu, eps, measured, bound)`` as arrays.
    """
    import theorems
    from ..check import check

    claim = theorems.get("weiszfeld.complexity")
    rows = []
    for nu in nus:
        inst = dict(instance or OUTLIERS, nu=nu, n_eps=n_eps, T=400)
        v = check(claim, instances=[inst], seed=seed)[0]
        ev = v.evidence
        rows += [(nu, e, m, b) for e, m, b in zip(ev.grid, ev.measured, ev.bound)]
    return tuple(np.array(x) for x in zip(*rows))


def rfa_table(fracs=(0.0, 0.1, 0.2, 0.3, 0.4, 0.45), budgets=(1, 3, 100), n: int = 50, s: int = 20, d: int = 10,
              rounds: int = 20, local_steps: int = 5, seed: int = 0):
    r"""Federated least squares under RFA's omniscient corruption: distance of the final server model to
    the least-squares solution for FedAvg and for RFA with each Weiszfeld ``budget`` (1 = RFA-1, 3 =
    RFA's default, 100 = essentially the exact geometric median), for each corrupted fraction.

    Returns ``(fracs, {label: errors})``.
    """
    from solvers.weiszfeld import rfa_least_squares

    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, s, d))
    w_true = rng.standard_normal(d)
    b = A @ w_true + 0.1 * rng.standard_normal((n, s))
    w_ls = np.linalg.lstsq(A.reshape(-1, d), b.ravel(), rcond=None)[0]
    out = {"FedAvg (mean)": []}
    out.update({f"RFA, {k} Weiszfeld iteration{'s' if k > 1 else ''}": [] for k in budgets})
    for f in fracs:
        bad = np.zeros(n, dtype=bool)
        bad[: int(round(f * n))] = True
        tr = rfa_least_squares(A, b, bad, rounds=rounds, local_steps=local_steps, aggregator="mean")
        out["FedAvg (mean)"].append(np.linalg.norm(tr[-1] - w_ls))
        for k in budgets:
            tr = rfa_least_squares(A, b, bad, rounds=rounds, local_steps=local_steps, aggregator="gm", budget=k)
            out[f"RFA, {k} Weiszfeld iteration{'s' if k > 1 else ''}"].append(np.linalg.norm(tr[-1] - w_ls))
    return np.asarray(fracs, dtype=float), {k: np.asarray(v) for k, v in out.items()}


def _save(fig, ax, outdir, name, xlabel, ylabel, caption):
    """Label, save and close one figure; return its (file name, caption) entry."""
    import matplotlib.pyplot as plt

    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(outdir, name))
    plt.close(fig)
    return name, caption


def figures(verdicts, outdir, quick: bool = False):
    """Write the three Weiszfeld figures into ``outdir``; return ``[(file name, caption), ...]``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import theorems
    from ..check import check

    out = []
    rate_vs = [v for v in verdicts if v.claim == "weiszfeld.rate" and v.evidence is not None]
    if not rate_vs and any(v.claim.startswith("weiszfeld") for v in verdicts):
        rate_vs = check(theorems.get("weiszfeld.rate"), quick=True)
    if rate_vs:
        fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=100)
        for i, v in enumerate(rate_vs):
            ev = v.evidence
            q = v.instance
            lab = f"{q['cloud']} (m={q['m']}, d={q['d']}, outliers={q['outlier_frac']:g}, nu={q['nu']:g})"
            ax.loglog(ev.grid, np.maximum(ev.measured, 1e-17), "-", color=f"C{i}", label=lab)
            ax.loglog(ev.grid, ev.bound, "--", color=f"C{i}", lw=0.8)
        out.append(_save(fig, ax, outdir, "weiszfeld_rate.png", "iteration t",
                         "g(z_t) - g*   (dashed: Theorem 21 bound)",
                         "Smoothed Weiszfeld from the mean: suboptimality g(z_t) - g* (solid) against "
                    "RFA's Theorem 21 bound 2||z_0 - z*||^2/(nu_hat t) + nu/2 (dashed) on the default clouds."))
    if any(v.claim.startswith("weiszfeld") for v in verdicts):
        nus, eps, meas, bnd = complexity_table(nus=(1e-6, 1e-2, 1e-1) if quick else (1e-6, 1e-4, 1e-2, 1e-1))
        fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=100)
        for i, nu in enumerate(np.unique(nus)):
            k = nus == nu
            x = 1.0 / (nu * eps[k])
            ax.loglog(x, np.maximum(meas[k], 0.8), "o-", color=f"C{i}", ms=3, label=f"measured, nu={nu:g}")
            ax.loglog(x, bnd[k], "--", color=f"C{i}", lw=0.8)
        out.append(_save(fig, ax, outdir, "weiszfeld_complexity.png", "1/(nu eps)",
                         "iterations to an eps-approximate median",
                         "Iterations of smoothed Weiszfeld to reach g - g* <= eps against "
                    "1/(nu eps) (outlier cloud, m=100, d=10); dashed: Cor. 25's 2||z_0 - z*||^2/(nu eps). Measured counts "
                    "are plotted at >= 0.8 so that 0 iterations stays visible."))
        fr, tab = rfa_table(rounds=10 if quick else 20)
        fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=100)
        for i, (lab, err) in enumerate(tab.items()):
            ax.semilogy(fr, err, "o-", color=f"C{i}", ms=4, label=lab)
        out.append(_save(fig, ax, outdir, "weiszfeld_rfa.png", "fraction of corrupted clients (omniscient adversary)",
                         "||w_T - w_LS||", "Federated least squares (50 clients, d=10) under RFA's omniscient corruption: "
                    "FedAvg against RFA with 1, 3 and 100 smoothed Weiszfeld iterations (nu = 1e-6)."))
    return out
