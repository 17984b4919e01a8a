r"""Three point compressors (3PC): any mechanism with declared (A, B) against the 3PC definition and theorems.

Richtárik, Sokolov, Fatkhullin, Gasanov, Li, Gorbunov, ICML 2022, arXiv:2202.00998.  The mechanism is a
parameter (``mechanism``, a name registered in :mod:`solvers.three_point`: ``gd``, ``ef21``, ``lag``,
``clag``, ``3pcv1``, ``3pcv2``, ``3pcv3``, ``3pcv4``, ``3pcv5``, ``adacgd`` or one a user registered in their own
file), and its declared constants ``(A, B)`` are the claim's ``A_3pc``, ``B_3pc``.  A claim may fix the
mechanism with the setting ``mechanism``.

Measures:

* ``3pc_error`` -- per client and per round, :math:`\Vert g_i^{t+1}-\nabla f_i(x^{t+1})\Vert^2` with the
  actual :math:`(h,y,x)=(g_i^t,\nabla f_i(x^t),\nabla f_i(x^{t+1}))`, against the claim's bound in
  ``D_hy`` :math:`=\Vert h-y\Vert^2` and ``D_xy`` :math:`=\Vert x-y\Vert^2` (deterministic mechanisms:
  exact, every client-round; randomized: the conditional expectation at the triples of ``mc_rounds``
  rounds of one run, Monte Carlo over ``mc_draws`` fresh draws of the mechanism, with an empirical
  Bernstein bound when the mechanism states a range of its error);
* ``avg_grad_norm_sq`` -- running mean of :math:`\Vert\nabla f(x^t)\Vert^2` for every T;
* ``lyapunov_step`` -- :math:`\Phi^{t+1}=f(x^{t+1})-f_{low}+\frac\gamma{2A}G^{t+1}` against the bound in
  ``gap_t``, ``G_t``, ``gn2_t`` at step t;
* ``rounds_to_eps`` -- rounds until the running mean is :math:`\le\varepsilon^2`, on a grid of ε;
* ``pl_lyapunov`` -- :math:`\Psi^T=f(x^T)-f^\star+\frac\gamma AG^T`.

Instances: federated least squares with prescribed :math:`L_i` (``least-squares``) or the well-conditioned
family (``well-conditioned``: client Hessians with eigenvalues in :math:`[1,1.5](1+0.2i)`); :math:`L`,
:math:`\mu`, :math:`L_{plus}` exact (:func:`verify.instances.mean_squared_smoothness`), :math:`f^\star`
certified.  Every client in ``(R, n, d)`` arrays.
"""

from __future__ import annotations

import numpy as np

from ratecheck.solvers import three_point as tp
from ratecheck.solvers.compressors import make as make_compressor

from ..errors import UsageError
from ..expectation import affine_bound_summary, mc_summary, replication_summary, running_mean_summary
from ..instances import heterogeneous_least_squares, mean_squared_smoothness, streams, well_conditioned_least_squares
from ..optima import least_squares_optimum
from ..resources import Need
from ..schema import Choice, Constant, Custom, Float, Int, Measure, Schema, SearchVar, Setting
from ..verdict import Evidence
from . import Experiment, register
from .ef21 import PL_FLOOR  # the same floating-point floor of the PL comparisons as EF21's

PROBLEMS = ("least-squares", "well-conditioned")
MECHANISM_RULE = "a mechanism registered in solvers.three_point (gd, ef21, lag, clag, 3pcv1, 3pcv2, 3pcv3, 3pcv4, 3pcv5, adacgd, or a user's)"
COMPRESSORS_RULE = "a compressor name (top-K, rand-K, identity, natural), or a comma-separated list (3pcv4, adacgd)"
#: mechanisms the search draws from (deterministic: each search run is one exact run)
SEARCHED_MECHANISMS = ("ef21", "lag", "clag", "3pcv1", "3pcv4", "adacgd")
_ALL = ("3pc_error", "avg_grad_norm_sq", "lyapunov_step", "rounds_to_eps", "pl_lyapunov")
_RATES = ("avg_grad_norm_sq", "lyapunov_step", "rounds_to_eps", "pl_lyapunov")


def _mechanism_name(name):
    if name not in tp.names():
        raise ValueError(f"unknown mechanism {name!r}")
    return name


def _compressors(spec):
    if not isinstance(spec, str) or not spec:
        raise ValueError(spec)
    for s in spec.split(","):
        make_compressor(s)  # InvalidInput (a ValueError) on names it does not know
    return spec


class ThreePointExperiment(Experiment):
    name = "three_point"
    title = "Three point compressors (EF21, LAG, CLAG, 3PCv1-v5, AdaCGD-type) on federated least squares"
    schema = Schema(
        params=(
            Choice(
                "problem",
                "least-squares",
                "client data: prescribed L_i, or the well-conditioned family",
                choices=PROBLEMS,
                search=True,
            ),
            Int("n", 5, "number of clients", low=1, search=(2, 20)),
            Int("d", 8, "dimension", low=1, search=(2, 20)),
            Int("m", 6, "data points per client (least-squares)", low=1, search=(1, 10)),
            Float("spread", 1.5, "L_qm / L_am (least-squares; at most sqrt(n))", low=0, low_open=True),
            Choice("profile", "outlier", "how the L_i spread", choices=("outlier", "geometric"), search=True),
            Float("noise", 0.5, "label noise (least-squares)", low=0, high=1e8),
            Custom("mechanism", "ef21", "the 3PC mechanism run", rule_text=MECHANISM_RULE, check=_mechanism_name),
            Custom(
                "compressor", "top-2", "compressor(s) of the mechanism", rule_text=COMPRESSORS_RULE, check=_compressors
            ),
            Float("zeta", 1.0, "LAG trigger zeta (lag, clag, adacgd)", low=0, high=1e6, search=(0.01, 100.0), log=True),
            Float("p", 0.5, "probability of a full gradient (3pcv5)", low=0, high=1, low_open=True, search=(0.05, 1.0)),
            Int("k", 2, "k of the unbiased scaled Rand-k Q (3pcv2)", low=1),
            Choice("init", "grad", "g_i^0 = grad f_i(x^0) (G^0 = 0) or 0", choices=("grad", "zero"), search=True),
            Int("T", 400, "number of rounds", low=1),
            Float("stepsize_factor", 1.0, "fraction of the claim's largest stepsize", low=0, low_open=True),
            Int("replications", 32, "Monte Carlo replications (randomized mechanisms)", low=2),
            Int("mc_draws", 2000, "fresh draws of a randomized mechanism per (h, y, x) (3pc_error)", low=2),
            Int("mc_rounds", 8, "rounds whose (h, y, x) are checked by Monte Carlo (3pc_error)", low=1),
            Int("bits_per_float", 32, "bits charged per float sent", low=1),
        ),
        search=(
            SearchVar("spread_frac", ("float", 0.0, 0.9), "spread as a fraction of its feasible range [1, sqrt(n)]"),
            SearchVar("k_frac", ("float", 0.0, 1.0), "Top-k with k = 1 + k_frac (d - 1)"),
            SearchVar("mech", ("choice", list(SEARCHED_MECHANISMS)), "the (deterministic) mechanism"),
            SearchVar("compress", ("choice", ["top-k", "identity"]), "Top-k, or no compression (alpha = 1)"),
        ),
        constants=(
            Constant("L", "smoothness of f (exact)", _ALL),
            Constant(
                "L_plus", "mean-squared smoothness sqrt(lambda_max((1/n) sum_i H_i^2)) (exact)", _ALL, latex=(r"L_{+}",)
            ),
            Constant(
                "L_qm", "quadratic mean of the L_i (>= L_plus; the authors' code uses it)", _ALL, latex=(r"L_{\rm QM}",)
            ),
            Constant("mu", "PL constant (smallest nonzero eigenvalue of the Hessian)", _ALL),
            Constant("n", "number of clients", _ALL),
            Constant("d", "dimension", _ALL),
            Constant("A_3pc", "the mechanism's declared A", _ALL, latex=("A",)),
            Constant("B_3pc", "the mechanism's declared B", _ALL, latex=("B",)),
            Constant("alpha", "contraction of the mechanism's (fallback) compressor; 1 if none", _ALL),
            Constant("zeta", "LAG trigger", _ALL, latex=(r"\zeta",)),
            Constant("p", "probability of a full gradient (3pcv5)", _ALL),
            Constant(
                "gamma", "the stepsize run: the claim's rule (or the mechanism's 1/M_1) times stepsize_factor", _ALL
            ),
            Constant("delta0", "f(x^0) - f*", _RATES),
            Constant("G0", "G^0 = (1/n) sum_i ||g_i^0 - grad f_i(x^0)||^2", _RATES, latex=("G^0",)),
            Constant("f_low", "certified f*", _RATES),
            Constant("D_hy", "||h - y||^2 = ||g_i^t - grad f_i(x^t)||^2 (per client-round)", ("3pc_error",)),
            Constant(
                "D_xy", "||x - y||^2 = ||grad f_i(x^(t+1)) - grad f_i(x^t)||^2 (per client-round)", ("3pc_error",)
            ),
            Constant("gap_t", "f(x^t) - f_low at step t", ("lyapunov_step",)),
            Constant("G_t", "G^t at step t", ("lyapunov_step",)),
            Constant("gn2_t", "||grad f(x^t)||^2 at step t", ("lyapunov_step",)),
            Constant(
                "eps", "target: running mean of ||grad f||^2 <= eps^2", ("rounds_to_eps",), latex=(r"\varepsilon",)
            ),
        ),
        measures=(
            Measure(
                "3pc_error",
                "||g_i^(t+1) - grad f_i(x^(t+1))||^2 per client-round (conditional expectation for randomized mechanisms)",
                grid="sample",
                random=True,
            ),
            Measure(
                "avg_grad_norm_sq", "running mean over t < T of ||grad f(x^t)||^2, for every T", grid="T", random=True
            ),
            Measure(
                "lyapunov_step",
                "Phi^(t+1) = f(x^(t+1)) - f_low + gamma/(2A) G^(t+1) at every step t",
                grid="t",
                random=True,
            ),
            Measure(
                "rounds_to_eps",
                "rounds until the running mean of ||grad f||^2 is <= eps^2, over a grid of eps",
                grid="eps",
                random=True,
            ),
            Measure("pl_lyapunov", "Psi^T = f(x^T) - f* + (gamma/A) G^T", grid="T", random=True),
        ),
        settings=(
            Setting(
                "mechanism",
                None,
                "mechanism to run instead of the instance's",
                kind="text",
                rule_text=MECHANISM_RULE,
                check=_mechanism_name,
            ),
        ),
    )

    def search_space_for(self, claim):
        """Claims that fix the mechanism (setting) search the rest."""
        space = dict(self.search_space)
        if self.settings(claim).mechanism is not None:
            space.pop("mech", None)
        return space

    def from_search(self, point):
        p = dict(point)
        n, d = int(p.pop("n", self.defaults["n"])), int(p.pop("d", self.defaults["d"]))
        frac = float(p.pop("spread_frac", 0.5))
        k = 1 + int(float(p.pop("k_frac", 0.0)) * (d - 1))
        mech = p.pop("mech", "ef21")
        last = f"top-{k}" if p.pop("compress", "top-k") == "top-k" else "identity"
        comp = last if mech not in ("3pcv4", "adacgd") else f"top-1,{last}"
        out = dict(p, n=n, d=d, spread=float(1 + frac * (np.sqrt(n) - 1)), compressor=comp, mechanism=mech)
        out["m"] = max(int(out.get("m", 1)), -(-d // n))  # n m >= d: mu > 0
        return out

    def memory_needs(self, p):
        """Client data (n, m, d) and Hessians (n, d, d); the run's state (R, n, d) several times; per-client
        records (R, T, n) x 3; Monte Carlo draws (mc_draws, mc_rounds, n, d) and the adaptive candidates."""
        n, d, m, R, T = (int(p[k]) for k in ("n", "d", "m", "replications", "T"))
        return [
            Need("6*n*m*d + 3*n*d^2", 6 * n * m * d + 3 * n * d * d, ("n", "m", "d")),
            Need("12*replications*n*d", 12 * R * n * d, ("replications", "n", "d")),
            Need(
                "3*replications*T*n + 6*replications*(T+1)", 3 * R * T * n + 6 * R * (T + 1), ("replications", "T", "n")
            ),
            Need(
                "8*mc_draws*mc_rounds*n*d",
                8 * int(p["mc_draws"]) * int(p["mc_rounds"]) * n * d,
                ("mc_draws", "mc_rounds", "n", "d"),
            ),
        ]

    # ------------------------------------------------------------------ default instances
    def instances(self, claim, quick=False):
        """Default instances; a claim that fixes the mechanism (setting) names it in every instance."""
        mech = self.settings(claim).mechanism
        out = self._instances(claim, quick)
        return [dict(i, mechanism=mech) for i in out] if mech is not None else out

    def _instances(self, claim, quick):
        s = self.settings(claim)
        meas, mech = claim.measure, s.mechanism
        T = 200 if quick else 400
        if meas == "3pc_error":
            if mech == "clag":
                return [dict(T=T, zeta=20.0), dict(T=T, zeta=1.0, compressor="top-1")]
            if mech == "adacgd":
                return [
                    dict(T=T, zeta=1.0, compressor="top-1,top-2,top-4"),
                    dict(T=T, zeta=0.1, compressor="top-1,top-4", init="zero"),
                ]
            if mech is not None:
                return [dict(T=T), dict(T=T, zeta=10.0, init="zero")]
            out = [
                dict(T=T, mechanism="ef21", compressor="top-1"),
                dict(T=T, mechanism="lag"),
                dict(T=T, mechanism="clag", zeta=20.0),
                dict(T=60, mechanism="3pcv2", mc_draws=2000 if quick else 4000),
                dict(T=T, mechanism="3pcv1"),
                dict(T=T, mechanism="3pcv4", compressor="top-1,top-2"),
                dict(T=T, mechanism="3pcv3", zeta=4.0),
                dict(T=T, mechanism="adacgd", compressor="top-1,top-2"),
                dict(T=60, mechanism="3pcv5", mc_draws=2000 if quick else 4000),
            ]
            return out[:4] if quick else out
        if meas == "avg_grad_norm_sq":
            if mech is not None:
                return [dict(T=T), dict(T=T, zeta=4.0, init="zero")]
            out = [
                dict(T=T, mechanism="ef21", compressor="top-1", d=20),
                dict(T=T, mechanism="lag"),
                dict(T=T, mechanism="clag", init="zero"),
                dict(T=T, mechanism="3pcv1"),
                dict(T=T, mechanism="3pcv5", replications=16 if quick else 32),
            ]
            return out[:3] if quick else out
        if meas == "lyapunov_step":
            out = [
                dict(T=T, mechanism="ef21"),
                dict(T=T, mechanism="lag", init="zero"),
                dict(T=T, mechanism="clag", zeta=4.0),
            ]
            return out[:2] if quick else out
        if meas == "rounds_to_eps":
            return [dict(T=2 * T, mechanism="ef21"), dict(T=2 * T, mechanism="lag")]
        if meas == "pl_lyapunov":
            TT = 600 if quick else 1500
            if mech == "3pcv5":  # B = 0 with C = identity: the cap A/(2 mu) is what binds
                base = dict(T=200, problem="well-conditioned", n=4, d=20, compressor="identity", p=0.1, init="zero")
                return [base, dict(base, problem="least-squares", d=6)]
            out = [
                dict(T=TT, mechanism="ef21", d=6),
                dict(T=TT, problem="well-conditioned", n=4, d=20, mechanism="ef21", compressor="top-1", init="zero"),
                dict(T=TT, mechanism="lag", d=6, init="zero"),
            ]
            return out[:2] if quick else out
        return [dict()]

    # ------------------------------------------------------------------ the pipeline
    MEASURES = {
        "3pc_error": "_three_point_error",
        "avg_grad_norm_sq": "_avg_grad_norm_sq",
        "lyapunov_step": "_lyapunov_step",
        "rounds_to_eps": "_rounds_to_eps",
        "pl_lyapunov": "_pl_lyapunov",
    }

    def instance_params(self, p):
        keys = (
            ("problem", "n", "d")
            if p["problem"] == "well-conditioned"
            else ("problem", "n", "d", "m", "spread", "profile", "noise")
        )
        return {k: p[k] for k in keys}

    def instance(self, p, seed):
        if p["problem"] == "well-conditioned":
            P = well_conditioned_least_squares(n=p["n"], d=p["d"], seed=seed)
        else:
            if p["spread"] > np.sqrt(p["n"]) + 1e-12:
                raise UsageError(
                    f"spread must be <= sqrt(n) = {np.sqrt(p['n']):.4g} (L_qm/L_am of n clients), got {p['spread']}"
                )
            P = heterogeneous_least_squares(
                n=p["n"], d=p["d"], m=p["m"], spread=p["spread"], profile=p["profile"], noise=p["noise"], seed=seed
            )
        if not P.mu > 0:
            raise UsageError("the instance has mu = 0 (n m < d or rank-deficient data): use n*m >= d")
        return P, mean_squared_smoothness(P), least_squares_optimum(P)

    def prepare(self, claim, inst, p):
        name = self.settings(claim).mechanism or p["mechanism"]
        return inst, tp.make(name, compressor=p["compressor"], zeta=p["zeta"], p=p["p"], k=p["k"])

    def constants(self, claim, inst, p):
        (P, L_plus, opt), mech = inst
        A, B = mech.checked_constants(P.d)
        return dict(
            L=P.L,
            L_plus=L_plus,
            L_qm=P.L_qm,
            mu=P.mu,
            n=P.n,
            d=P.d,
            A_3pc=A,
            B_3pc=B,
            alpha=float(mech.alpha(P.d)),
            zeta=float(getattr(mech, "zeta", p["zeta"])),
            p=float(p["p"]),
            f_low=opt.lower,
        )

    def stepsize(self, claim, c, p):
        """The claim's rule; claims without one (the 3PC definition) run at the mechanism's 1/M_1."""
        if claim.stepsize is not None:
            return claim.max_stepsize(**c) * p["stepsize_factor"]
        return p["stepsize_factor"] / (c["L"] + c["L_plus"] * np.sqrt(c["B_3pc"] / c["A_3pc"]))

    def solve(self, claim, inst, c, p, seed):
        (P, _, opt), mech = inst
        rs = streams(seed)
        x0 = rs.start.standard_normal(P.d) + opt.x
        R = 1 if mech.deterministic else p["replications"]
        error = claim.measure == "3pc_error"
        rounds = np.unique(np.linspace(0, p["T"] - 1, min(p["mc_rounds"], p["T"])).astype(int))
        tr = tp.three_point(
            P,
            x0,
            gamma=c["gamma"],
            T=p["T"],
            rng=rs.algorithm,
            mechanism=mech,
            init=p["init"],
            replications=1 if error else R,
            record_clients=error and mech.deterministic,
            triples_at=rounds if error and not mech.deterministic else (),
            bits_per_float=p["bits_per_float"],
        )
        c.update(delta0=float(tr.f[0, 0] - c["f_low"]), G0=float(tr.G[0, 0]))
        if tr.diverged_at is not None:
            c["diverged_at"] = tr.diverged_at
        c["skipped_fraction"] = float(tr.skipped.mean())
        return tr

    # ------------------------------------------------------------------ the measures
    def _evidence(self, run, grid_name, grid, bound, measured, *, series=True, **kw):
        """Evidence of a run: ``measured`` is the series, or the ``(mean, stderr, n_samples[, method])`` of a
        Monte Carlo summary; the run's constants, instance, seed and (``series``) its recorded series."""
        if isinstance(measured, tuple):
            measured, kw["stderr"], kw["n_samples"], *method = measured
            kw["method"] = method[0] if method else "monte-carlo"
        if series:
            tr = run.result
            kw["series"] = dict(floats_per_client=tr.floats, bits_per_client=tr.bits, skipped=tr.skipped)
            kw["series"]["grad_norm_sq"] = tr.grad_norm_sq.mean(axis=0)
        return Evidence(grid_name, grid, measured, bound, constants=run.constants, instance=run.p, seed=run.seed, **kw)

    def _three_point_error(self, claim, run):
        """Deterministic mechanisms: every client-round exactly; randomized: the conditional expectation at the
        actual (h, y, x) of a few rounds by fresh draws (:func:`solvers.three_point.definition_samples`)."""
        tr, c, (_, mech) = run.result, run.constants, run.instance
        if mech.deterministic:
            err, dhy, dxy = tr.err[0].ravel(), tr.d_hy[0].ravel(), tr.d_xy[0].ravel()
            ok = np.isfinite(err)
            bound = claim.evaluate(D_hy=dhy[ok], D_xy=dxy[ok], **c)
            note = f"{mech.name}: every client-round (sample = t n + i), exact"
            return self._evidence(run, "sample", np.arange(int(ok.sum())), bound, err[ok], note=note)
        ts, N = sorted(tr.triples), run.p["mc_draws"]
        H, Y, X = (np.stack([tr.triples[t][j][0] for t in ts]) for j in range(3))  # (K, n, d)
        samples, dhy, dxy, srange = tp.definition_samples(mech, H, Y, X, N, streams([run.seed, 1]).algorithm)
        note = f"{mech.name}: E[error | h, y, x] by {N} fresh draws at the (h, y, x) of rounds {ts}"
        note += "; empirical Bernstein with the mechanism's stated error range" if srange is not None else ""
        bound, summary = claim.evaluate(D_hy=dhy, D_xy=dxy, **c), mc_summary(samples)
        grid = np.arange(samples.shape[1])
        return self._evidence(run, "sample", grid, bound, summary, series=False, sample_range=srange, note=note)

    def _avg_grad_norm_sq(self, claim, run):
        grid, *summary = running_mean_summary(run.result.running_mean(run.p["T"]), 30)
        return self._evidence(run, "T", grid, claim.evaluate(T=grid, **run.constants), tuple(summary))

    def _lyapunov_step(self, claim, run):
        """Phi^(t+1) against the bound at step t, while Phi^t is above a floating-point floor (a run that reaches
        f* exactly compares 0 with -1e-18); replications: the bound is affine in (gap_t, G_t, gn2_t)."""
        tr, c, T = run.result, run.constants, run.p["T"]
        phi = tr.lyapunov(c["f_low"], c["gamma"] / (2 * c["A_3pc"]))
        with np.errstate(over="ignore", invalid="ignore"):
            gap, G, gn2 = tr.f[:, :T] - c["f_low"], tr.G[:, :T], tr.grad_norm_sq[:, :T]
            rhs = claim.evaluate(gap_t=gap, G_t=G, gn2_t=gn2, **c) * np.ones_like(phi[:, 1:])
        live = np.all(phi[:, :T] > PL_FLOOR * phi[:, :1], axis=0)
        t, phi_next, rhs = np.arange(T)[live], phi[:, 1:][:, live], rhs[:, live]
        if phi_next.shape[0] == 1:
            note = f"compared while Phi^t > {PL_FLOOR:g} Phi^0 (floating-point floor)"
            return self._evidence(run, "t", t, rhs[0], phi_next[0], note=note)
        grid = np.unique(np.linspace(0, t.size - 1, 30).astype(int))
        measured, bound, se, nsamp = affine_bound_summary(phi_next[:, grid], rhs[:, grid])
        note = (
            "Monte Carlo: measured = bound at the means + mean of the per-replication differences (the bound is affine)"
        )
        return self._evidence(run, "t", t[grid], bound, (measured, se, nsamp), series=False, note=note)

    def _rounds_to_eps(self, claim, run):
        """eps^2 from the first running mean down to the smallest target whose bound the budget T covers."""
        tr, c, T = run.result, run.constants, run.p["T"]
        if tr.grad_norm_sq.shape[0] > 1:
            raise UsageError(
                f"claim {claim.id}: rounds_to_eps is measured for deterministic mechanisms only, got {tr.mechanism}"
            )
        run_mean = tr.running_mean(T)[0]
        top = float(run_mean[0])
        low = max(float(claim.evaluate(eps=1.0, T=T, **c)) / T, top * 1e-12)
        if not low < top:
            raise UsageError(f"claim {claim.id}: T = {T} rounds do not reach the bound's range; raise T")
        eps = np.sqrt(np.geomspace(top, low, 25))
        note = f"smallest T0 with the running mean <= eps^2 for every T0 <= T <= {T}; {T + 1} = not reached"
        return self._evidence(
            run, "eps", eps, claim.evaluate(eps=eps, **c), tp.rounds_below(run_mean, eps**2), note=note
        )

    def _pl_lyapunov(self, claim, run):
        """Psi^T while the bound is above PL_FLOOR Psi^0; replications: 30 geometric T."""
        tr, c, T = run.result, run.constants, run.p["T"]
        psi = tr.lyapunov(c["f_low"], c["gamma"] / c["A_3pc"])
        t = np.arange(T + 1)
        bound = claim.evaluate(T=t, **c)
        keep = bound >= PL_FLOOR * bound[0]
        keep[0] = False
        if psi.shape[0] > 1:
            keep &= np.isin(t, np.unique(np.geomspace(1, T, 30).astype(int)))
        note = f"compared while the bound is above {PL_FLOOR:g} * Psi^0 (floating-point floor)"
        return self._evidence(run, "T", t[keep], bound[keep], replication_summary(psi[:, keep]), note=note)


EXPERIMENT = register(ThreePointExperiment())
