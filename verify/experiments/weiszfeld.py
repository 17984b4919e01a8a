r"""Geometric median experiment: smoothed Weiszfeld on seeded point clouds with certified optima.

Measures (``notes/weiszfeld.md``); all deterministic:

* ``gm_gap`` — :math:`g(z_t)-g^\star`, t = 1..T, with :math:`\hat\nu_t` computed along the run;
* ``gnu_gap`` — :math:`g_\nu(z_t)-g_\nu(z^\star_\nu)` with :math:`\sum_{\tau<t}1/L^{(\tau)}`;
* ``iterations_to_eps`` — first t with :math:`g(z_t)-g^\star\le\varepsilon` on a grid of ε;
* ``gnu_increase`` — :math:`g_\nu(z_{t+1})-g_\nu(z_t)`;
* ``dist_ratio`` — :math:`\Vert z_{t+1}-z^\star_\nu\Vert/\Vert z_t-z^\star_\nu\Vert`;
* ``eta_max`` — :math:`\max_k\eta_k^{(t)}` (t >= 1), plus R for an iterate found outside the hull;
* ``gm_distance`` — :math:`\Vert z_t-y\Vert` from the inlier centre y, with ε = the iterate's gap;
* ``relative_gap`` — :math:`(g(z_T)-g^\star)/g^\star` at the horizon T (the claim's setting ``budget``).

:math:`g^\star` is the certified lower bound of :func:`verify.optima.geometric_median_optimum`
(so measured gaps are never understated).  Bounds come from ``claim.evaluate`` and the relative
step :math:`\gamma` from ``claim.max_stepsize`` (1 = Weiszfeld).
"""

from __future__ import annotations

import numpy as np

from ratecheck import theorems
from ratecheck.solvers.weiszfeld import (
    first_below,
    hull_distance,
    max_ratio_while_above,
    rfa_corruption_errors,
    smoothed_objective,
    smoothed_weiszfeld,
)

from ..errors import UsageError
from ..instances import POINT_CLOUDS, federated_least_squares, point_cloud
from ..optima import certified_cloud, geometric_median_optimum
from ..resources import Need
from ..schema import Choice, Constant, Float, Int, Measure, Rule, Schema, Setting
from ..verdict import Evidence
from . import Experiment, register

EPS_MACH = float(np.finfo(float).eps)
DIST_FLOOR = 1e-7  #: dist_ratio is compared while ||z_t - z*_nu|| > DIST_FLOOR * R (float64 resolution of z*_nu)
HULL_TOL = 1e-9  #: an iterate farther than HULL_TOL * R from conv{w_k} (NNLS) counts as outside

# named default instances (spec section 4, instance 2 rows and instances 1, 3, 5)
SPEC = dict(cloud="gaussian", m=100, d=10)  # the "3-5 iterations" regime
OUTLIERS = dict(cloud="gaussian", m=100, d=10, outlier_frac=0.25, shift=100.0)
HIGH_DIM = dict(cloud="gaussian", m=50, d=1000, outlier_frac=0.2, shift=1000.0)
RFA_LIKE = dict(cloud="gaussian", m=50, d=1000)
LOW_DIM = dict(cloud="gaussian", m=200, d=2, outlier_frac=0.45, shift=10.0, T=60)
ANCHOR = dict(cloud="anchor", m=50, d=5, nu=0.05, T=400)
LOPSIDED = dict(cloud="lopsided", m=30, d=5, anchor_weight=0.55, shift=10.0, T=200)
TRIANGLE = dict(cloud="three", m=3, d=2, T=200)
SYMMETRIC = dict(cloud="symmetric", m=40, d=10, init="mid")  # the mean *is* the median here
#: measure -> (quick instances, the further ones of a full check); the order is the one of MEASURES
DEFAULTS = {
    "gm_gap": ([SPEC, OUTLIERS, dict(ANCHOR, T=2000), LOPSIDED], [TRIANGLE, HIGH_DIM, LOW_DIM, SYMMETRIC]),
    "gnu_gap": ([SPEC, OUTLIERS, dict(ANCHOR, T=2000), LOPSIDED], [TRIANGLE, HIGH_DIM, LOW_DIM, SYMMETRIC]),
    "iterations_to_eps": ([SPEC, OUTLIERS], [SYMMETRIC, dict(LOW_DIM, T=400, eps_min=1e-8), HIGH_DIM]),
    "gnu_increase": ([SPEC, OUTLIERS, ANCHOR, LOW_DIM], [TRIANGLE, HIGH_DIM, LOPSIDED]),
    "dist_ratio": ([SPEC, OUTLIERS, ANCHOR, LOW_DIM], [TRIANGLE, HIGH_DIM, LOPSIDED]),
    "eta_max": ([OUTLIERS, ANCHOR], [SPEC, LOW_DIM, HIGH_DIM, LOPSIDED]),
    "gm_distance": (
        [OUTLIERS, dict(OUTLIERS, outlier_frac=0.45)],
        [dict(OUTLIERS, outlier_frac=0.1), dict(OUTLIERS, outlier_frac=0.4), LOW_DIM, HIGH_DIM],
    ),
    "relative_gap": ([SPEC, RFA_LIKE, OUTLIERS, HIGH_DIM, LOW_DIM, TRIANGLE], []),
}


class WeiszfeldExperiment(Experiment):
    name = "weiszfeld"
    title = "Smoothed Weiszfeld for the geometric median on seeded point clouds"
    schema = Schema(
        params=(
            # ``collinear`` clouds are not searched: they break RFA's Assumption 13 (points not all on one
            # line; the median need not be unique)
            Choice(
                "cloud",
                "gaussian",
                "point cloud (verify.instances.point_cloud): Gaussian with shifted outliers, "
                "axis-symmetric, anchor or lopsided (median at a data point), collinear, or a triangle",
                choices=POINT_CLOUDS,
                search=("gaussian", "anchor", "lopsided", "three", "symmetric"),
            ),
            Int("m", 100, "number of points", low=1, search=(3, 120)),
            Int("d", 10, "dimension", low=1, search=(2, 30)),
            Float(
                "outlier_frac",
                0.0,
                "fraction of outliers (gaussian cloud)",
                low=0,
                high=0.5,
                high_open=True,
                search=(0.0, 0.45),
            ),
            Float(
                "shift",
                100.0,
                "outlier shift (gaussian) or distance of the far point (lopsided); at most 1e6 (the "
                "points have unit scale: beyond, the optimum is not certified in float64)",
                low=0,
                high=1e6,
                low_open=True,
                search=(1.0, 1000.0),
                log=True,
            ),
            Float(
                "anchor_weight",
                0.6,
                "weight of the anchor point (anchor and lopsided clouds)",
                low=0.5,
                high=1,
                high_open=True,
                search=(0.5, 0.95),
            ),
            Float(
                "nu",
                1e-6,
                "smoothing parameter nu of g_nu (at most 1e6, against points of unit scale)",
                low=0,
                high=1e6,
                low_open=True,
                search=(1e-8, 1.0),
                log=True,
            ),
            Int("T", 30, "number of iterations (unless the claim sets a budget)", low=1, search=(10, 400)),
            Float(
                "stepsize_factor",
                1.0,
                "fraction of the claim's relative step gamma (1 = Weiszfeld)",
                low=0,
                low_open=True,
            ),
            Choice(
                "init",
                "mean",
                "start z_0: the weighted mean, or the midpoint of the mean and the first point",
                choices=("mean", "mid"),
                search=True,
            ),
            Float("eps_max", 1e-1, "largest target eps of iterations_to_eps, relative to g*", low=0, low_open=True),
            Float("eps_min", 1e-12, "smallest target eps of iterations_to_eps, relative to g*", low=0, low_open=True),
            Int("n_eps", 12, "number of targets eps (geometric grid) of iterations_to_eps", low=1),
        ),
        rules=(
            Rule("eps_min must be <= eps_max", ("eps_min", "eps_max"), lambda p: p["eps_min"] <= p["eps_max"]),
            Rule(
                "m must be even for cloud='symmetric'",
                ("cloud", "m"),
                lambda p: p["cloud"] != "symmetric" or p["m"] % 2 == 0,
            ),
            Rule(
                "m must be >= 3 for cloud='lopsided'", ("cloud", "m"), lambda p: p["cloud"] != "lopsided" or p["m"] >= 3
            ),
            Rule("m must be 3 for cloud='three'", ("cloud", "m"), lambda p: p["cloud"] != "three" or p["m"] == 3),
            Rule("d must be >= 2 for cloud='three'", ("cloud", "d"), lambda p: p["cloud"] != "three" or p["d"] >= 2),
        ),
        constants=(
            Constant("nu", "smoothing parameter nu"),
            Constant("R", "diameter of the cloud, max_{k,l} ||w_k - w_l||"),
            Constant("nu_tilde", "min_k ||z* - w_k|| (Assumption 22: nu <= nu_tilde)"),
            Constant("m", "number of points"),
            Constant("d", "dimension"),
            Constant("g_star", "certified lower bound of g* = min g (normalised weights)"),
            Constant("g_star_certified_gap", "certified gap of the optimum: g(z*) - g_star"),
            Constant("gamma", "relative step run: the claim's stepsize times stepsize_factor (1 without a stepsize)"),
            Constant("r0", "||z_0 - z*||"),
            Constant("nu_hat", "nu_hat_t = min_{tau < t} min_k eta_k^(tau), along the run", ("gm_gap",)),
            Constant("r0_nu", "||z_0 - z*_nu||", ("gnu_gap",)),
            Constant("sum_inv_L", "sum_{tau < t} 1/L^(tau), along the run", ("gnu_gap",)),
            Constant("sum_inv_L_over_RT", "max_t sum_{tau < t} 1/L^(tau) / (R t)", ("gnu_gap",)),
            Constant(
                "max_ratio_to_z_star_when_above",
                "max ||z_{t+1} - z*|| / ||z_t - z*|| over t with g_nu(z_{t+1}) >= g_nu(z*) (Lemma 20)",
                ("dist_ratio",),
            ),
            Constant("max_hull_distance", "largest distance of an iterate to conv{w_k} (NNLS)", ("eta_max",)),
            Constant("L_times_nu_max", "max_t L^(t) nu", ("eta_max",)),
            Constant("L_times_R_min", "min_t L^(t) R", ("eta_max",)),
            Constant("eps", "g(z_t) - g* of each iterate", ("gm_distance",)),
            Constant("vartheta", "total weight of the outliers", ("gm_distance",)),
            Constant("rho_in", "inlier radius max_{k inlier} ||w_k - y||, y the inlier centre", ("gm_distance",)),
        ),
        measures=(
            Measure("gm_gap", "g(z_t) - g* for t = 1..T (normalised weights, certified g*)", grid="T"),
            Measure("gnu_gap", "g_nu(z_t) - g_nu(z*_nu) for t = 1..T", grid="T"),
            Measure(
                "iterations_to_eps",
                "first t with g(z_t) - g* <= eps, eps on a geometric grid relative to g*",
                grid="eps",
            ),
            Measure("gnu_increase", "g_nu(z_{t+1}) - g_nu(z_t) for t = 0..T-1", grid="T"),
            Measure("dist_ratio", "||z_{t+1} - z*_nu|| / ||z_t - z*_nu||", grid="T"),
            Measure("eta_max", "max_k max(nu, ||z_t - w_k||) for t = 1..T (+R if z_t is outside conv{w_k})", grid="T"),
            Measure("gm_distance", "||z_t - y|| for t = 0..T, y the inlier centre", grid="T"),
            Measure(
                "relative_gap",
                "(g(z_T) - g*)/g* at the horizon T (the claim's budget, else the instance's T)",
                grid="T",
            ),
        ),
        settings=(
            Setting(
                "algorithm",
                "smoothed-weiszfeld",
                "the method run: smoothed Weiszfeld with the claim's relative step (the only one)",
                choices=("smoothed-weiszfeld",),
            ),
            Setting(
                "budget",
                None,
                "fixed number of iterations T, replacing the instance's T (an integer >= 1; "
                "the search then does not vary T)",
                kind="number",
            ),
            Setting(
                "clouds",
                (),
                "clouds the counterexample search draws from (default: every searched cloud); "
                "('anchor',) also runs iterations_to_eps on the anchor cloud",
                kind="subset",
                choices=POINT_CLOUDS,
            ),
        ),
    )

    def validate_claim(self, claim):
        """The schema's checks, and a ``budget`` that is a whole number of iterations (a ``number``
        setting has no integer rule)."""
        super().validate_claim(claim)
        budget = self.settings(claim).budget
        if budget is not None and not (budget >= 1 and int(budget) == budget):
            raise UsageError(f"claim {claim.id}: setting 'budget' must be an integer >= 1, got {budget!r}")

    # ------------------------------------------------------------------ search space
    #: Assumption 22 (nu <= nu_tilde = min_k ||z* - w_k||) fails at every nu on clouds whose median is a data point
    _MEDIAN_AT_A_POINT = ("anchor", "lopsided")

    def search_space_for(self, claim):
        """The clouds a claim's setting ``clouds`` names or else all of them; claims assuming
        nu <= nu_tilde (Assumption 22) search only clouds whose median is not a data point, with small nu;
        a fixed-budget claim (setting ``budget``) does not search the horizon T."""
        s = self.settings(claim)
        space = dict(self.search_space)
        if s.clouds:
            space["cloud"] = ("choice", [c for c in space["cloud"][1] if c in s.clouds] or list(s.clouds))
        if any(x.name == "nu_tilde" for a in claim.assumptions for x in getattr(a, "free_symbols", ())):
            space["cloud"] = ("choice", [c for c in space["cloud"][1] if c not in self._MEDIAN_AT_A_POINT])
            space["nu"] = ("logfloat", 1e-8, 1e-3)
        if s.budget is not None:
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

    def memory_needs(self, p):
        """Upper bounds (8-byte entries) over every measure: the points ``(m, d)`` with the certified optimum's
        copies and cvxpy data, the diameter's and anchor test's chunks of pairwise differences, the iterates
        ``(T+1, d)``, the distances of every iterate to every point ``(T, m, d)`` (hull claim) and the eps grid."""
        m, d, T, k = int(p["m"]), int(p["d"]), int(p["T"]), int(p["n_eps"])
        return [
            Need("40*m*d + 2*min(m,512)*m*d + 3*2^22", 40 * m * d + 2 * min(m, 512) * m * d + 3 * 2**22, ("m", "d")),
            Need("2*T*m*d + 3*(T+1)*d", 2 * T * m * d + 3 * (T + 1) * d, ("T", "m", "d")),
            Need("n_eps*(T+2)", k * (T + 2), ("n_eps", "T")),
        ]

    # ------------------------------------------------------------------ instances
    def instances(self, claim, quick=False):
        """The measure's row of :data:`DEFAULTS` (quick: its first part); iterations_to_eps on the anchor cloud
        (setting ``clouds=('anchor',)``) runs one long anchor instance."""
        if claim.measure == "iterations_to_eps" and "anchor" in self.settings(claim).clouds:
            return [dict(ANCHOR, T=3000, eps_max=1e-1, eps_min=1e-4, n_eps=8)]
        first, more = DEFAULTS.get(claim.measure, ([{}], []))
        return list(first) if quick else [*first, *more]

    # ------------------------------------------------------------------ the pipeline
    MEASURES = {m: f"_{m}" for m in DEFAULTS}

    def instance_params(self, p):
        return {k: p[k] for k in ("cloud", "m", "d", "outlier_frac", "shift", "anchor_weight")}

    def instance(self, p, seed):
        """The point cloud with its certified optimum, diameter and nu_tilde (a :class:`CertifiedCloud`)."""
        kw = self.instance_params(p)
        return certified_cloud(*point_cloud(kw.pop("cloud"), seed=seed, **kw))

    def constants(self, claim, cloud, p):
        return cloud.constants(p["nu"])

    def stepsize(self, claim, c, p):
        return super().stepsize(claim, c, p) if claim.stepsize is not None else 1.0

    def solve(self, claim, cloud, c, p, seed):
        """Smoothed Weiszfeld from the weighted mean (or the midpoint to the first point), every iterate kept."""
        budget = self.settings(claim).budget
        z0 = cloud.w @ cloud.W
        if p["init"] == "mid":
            z0 = 0.5 * (z0 + cloud.W[0])  # still inside the hull, as Theorem 21 requires
        T = int(p["T"] if budget is None else budget)
        res = smoothed_weiszfeld(cloud.W, z0, gamma=c["gamma"], T=T, weights=cloud.w, nu=c["nu"], store_iterates=True)
        c["r0"] = float(np.linalg.norm(z0 - cloud.opt.x))
        return res

    def _smoothed_optimum(self, cloud, nu: float):
        """(z*_nu, certified lower bound of g_nu*), through the shared cache; Lemma 24: z*_nu = z* when
        nu <= nu_tilde (g_nu = g at z* and g_nu >= g everywhere)."""
        if nu <= cloud.nu_tilde:
            return cloud.opt.x, cloud.opt.lower

        def make():
            o = geometric_median_optimum(cloud.W, cloud.w, nu=nu)
            return o.x, o.lower

        return self.cached("smoothed_optimum", (id(cloud), nu), make, keep=(cloud,))

    # ------------------------------------------------------------------ the measures
    @staticmethod
    def _evidence(run, grid_name, grid, measured, bound, series=(), **kw):
        """Evidence of a run, with the run's series g, g_nu, L, eta_min followed by ``series``."""
        res, ev = run.result, dict(constants=run.constants, instance=run.p, seed=run.seed)
        series = dict(g=res.g, g_nu=res.g_nu, L=res.L, eta_min=res.eta_min, **dict(series))
        return Evidence(grid_name, grid, measured, bound, series=series, **ev, **kw)

    @staticmethod
    def _gap(run):
        """g(z_t) - g* for t = 0..T, g* the certified lower bound."""
        return run.result.g - run.instance.opt.lower

    def _gm_gap(self, claim, run):
        res, c = run.result, run.constants
        t, nu_hat = np.arange(1, res.n_iter + 1), np.minimum.accumulate(res.eta_min)
        bound = claim.evaluate(T=t, nu_hat=nu_hat, **c)
        claim.check_assumptions(nu_hat=nu_hat, **c)
        return self._evidence(run, "t", t, self._gap(run)[1:], bound, {"nu_hat": nu_hat})

    def _gnu_gap(self, claim, run):
        res, c, t = run.result, run.constants, np.arange(1, run.result.n_iter + 1)
        zs, gs = self._smoothed_optimum(run.instance, c["nu"])
        c["r0_nu"] = float(np.linalg.norm(res.iterates[0] - zs))
        s = np.cumsum(1.0 / res.L)
        c["sum_inv_L_over_RT"] = float(np.max(s / (run.instance.R * t)))
        return self._evidence(run, "t", t, res.g_nu[1:] - gs, claim.evaluate(T=t, sum_inv_L=s, **c), {"sum_inv_L": s})

    def _iterations_to_eps(self, claim, run):
        c, p, T = run.constants, run.p, run.result.n_iter
        eps = np.geomspace(p["eps_max"], p["eps_min"], p["n_eps"]) * run.instance.opt.lower
        claim.check_assumptions(eps=eps, **c)
        bound = claim.evaluate(eps=eps, **c)
        first, reached = first_below(self._gap(run), eps)  # unreached: T + 1
        keep = reached | (bound < T + 1)
        if not keep.any():
            raise UsageError(f"no eps of the grid is reached within T={T} and every bound exceeds T + 1: increase T")
        c["undecided_eps"] = int((~keep).sum())
        note = "unreached targets count as T + 1 (a lower bound on the true count) and are kept only "
        note += "when the bound is below T + 1"
        return self._evidence(run, "eps", eps[keep], first[keep], bound[keep], note=note)

    def _gnu_increase(self, claim, run):
        g_nu, t = run.result.g_nu, np.arange(run.result.n_iter)
        atol = 64 * EPS_MACH * max(1.0, float(g_nu[0]))
        note = "absolute slack 64 eps_mach g_nu(z_0) (rounding of the objective)"
        return self._evidence(run, "t", t, np.diff(g_nu), claim.evaluate(T=t, **run.constants), atol=atol, note=note)

    def _dist_ratio(self, claim, run):
        """||z_{t+1} - z*_nu|| / ||z_t - z*_nu||; also Lemma 20's second part, the ratio to z* while
        g_nu(z_{t+1}) >= g_nu(z*)."""
        res, c, cloud = run.result, run.constants, run.instance
        floor = DIST_FLOOR * cloud.R
        zs, _ = self._smoothed_optimum(cloud, c["nu"])
        dist = np.linalg.norm(res.iterates - zs, axis=1)
        keep = dist[:-1] > floor
        if not keep.any():
            raise UsageError("the start is already within the float64 resolution of z*_nu; nothing to compare")
        level = float(smoothed_objective(cloud.opt.x, cloud.W, cloud.w, c["nu"]))
        c["max_ratio_to_z_star_when_above"] = max_ratio_while_above(res.iterates, cloud.opt.x, res.g_nu, level, floor)
        grid, note = np.arange(res.n_iter)[keep], f"compared while ||z_t - z*_nu|| > {DIST_FLOOR:g} R"
        ratio = dist[1:][keep] / dist[:-1][keep]
        return self._evidence(run, "t", grid, ratio, claim.evaluate(T=grid, **c), {"dist": dist}, note=note)

    def _eta_max(self, claim, run):
        res, c, (W, R), nu = run.result, run.constants, (run.instance.W, run.instance.R), run.constants["nu"]
        Z, t = res.iterates[1:], np.arange(1, res.n_iter + 1)
        emax = np.maximum(nu, np.linalg.norm(Z[:, None, :] - W[None], axis=2)).max(axis=1)
        hd = hull_distance(W, Z, R)
        c.update(
            max_hull_distance=float(hd.max()),
            L_times_nu_max=float(np.max(res.L * nu)),
            L_times_R_min=float(np.min(res.L * R)) if res.L.size else float("nan"),
        )
        measured = emax + np.where(hd > HULL_TOL * R, R, 0.0)
        return self._evidence(run, "t", t, measured, claim.evaluate(T=t, **c), {"hull_distance": hd})

    def _gm_distance(self, claim, run):
        c, (W, w, info) = run.constants, run.instance[:3]
        y, out = info["inlier_centre"], info["outliers"]
        c["vartheta"] = float(w[out].sum())
        c["rho_in"] = float(np.max(np.linalg.norm(W[~out] - y, axis=1)))
        epsv = np.maximum(self._gap(run), 0.0)
        claim.check_assumptions(eps=epsv, **c)
        dist, t = np.linalg.norm(run.result.iterates - y, axis=1), np.arange(run.result.n_iter + 1)
        return self._evidence(run, "t", t, dist, claim.evaluate(T=t, eps=epsv, **c), {"eps": epsv})

    def _relative_gap(self, claim, run):
        gap, lower, T = self._gap(run), run.instance.opt.lower, run.result.n_iter
        bound = claim.evaluate(T=np.array([T]), **run.constants)
        return self._evidence(run, "T", [T], [gap[-1] / lower], bound, {"relative_gap": gap / lower})


EXPERIMENT = register(WeiszfeldExperiment())


# --------------------------------------------------------------------------- tables and figures
def complexity_table(nus=(1e-6, 1e-3, 1e-2, 1e-1), n_eps: int = 10, seed: int = 0, instance: dict | None = None):
    r"""Iterations to an ε-approximate median against :math:`1/(\nu\varepsilon)` (Cor. 25) for several ν.

    Runs ``weiszfeld.complexity`` (bound from the registered claim) on one instance (default: the
    spec's outlier cloud) for each ν; returns rows ``(nu, eps, measured, bound)`` as arrays.
    """
    claim = theorems.get("weiszfeld.complexity")
    rows = []
    for nu in nus:
        inst = dict(instance or OUTLIERS, nu=nu, n_eps=n_eps, T=400)
        ev = EXPERIMENT.run(claim, EXPERIMENT.params(inst), seed=seed)
        rows += [(nu, e, m, b) for e, m, b in zip(ev.grid, ev.measured, ev.bound)]
    return tuple(np.array(x) for x in zip(*rows))


def rfa_table(
    fracs=(0.0, 0.1, 0.2, 0.3, 0.4, 0.45),
    budgets=(1, 3, 100),
    n: int = 50,
    s: int = 20,
    d: int = 10,
    rounds: int = 20,
    local_steps: int = 5,
    seed: int = 0,
):
    r"""Federated least squares under RFA's omniscient corruption: distance of the final server model to
    the least-squares solution for FedAvg and for RFA with each Weiszfeld ``budget`` (1 = RFA-1, 3 =
    RFA's default, 100 = essentially the exact geometric median), for each corrupted fraction
    (:func:`verify.instances.federated_least_squares`, :func:`solvers.weiszfeld.rfa_corruption_errors`).

    Returns ``(fracs, {label: errors})``.
    """
    problem, w_ls = federated_least_squares(n=n, s=s, d=d, seed=seed)
    out = rfa_corruption_errors(problem, w_ls, fracs, budgets, rounds=rounds, local_steps=local_steps)
    return np.asarray(fracs, dtype=float), {k: np.asarray(v) for k, v in out.items()}
