r"""DP federated quantile experiment: the distributed discrete Gaussian histogram with modular secure summation.

``m`` client scores (Beta(2, 5) or uniform on [0, 1]), ``n_bins`` equal bins, level 1 - theta.  The integer
scaling is :math:`s_f=\mathrm{round}(\varepsilon_{\rm dp}\sqrt m\sigma_{\rm int})`, so the aggregate per-bin noise
has sub-Gaussian scale :math:`s_{\rm agg}=\sqrt m\sigma_{\rm int}/s_f\approx1/\varepsilon_{\rm dp}` counts (the
Gaussian-mechanism scale of ½ε²-zCDP at L2-sensitivity 1).  Measures:

* ``cdf_exceed_prob`` — rate of runs with :math:`N=\max_j|\hat C_j-C_j|` above the claim's ``threshold``
  (aggregate noise from its exact law, :func:`solvers.dp_quantile.aggregate_noise`); a Bernoulli mean judged
  with the finite-sample bound of ``verify.verdict`` (its exact Clopper-Pearson interval is in the note);
* ``level_error`` — :math:`|\theta'-\theta|` per run of the full modular protocol, with that run's N;
* ``decode_error`` — :math:`|\text{decoded}-\text{true}|` of the modular sums, per protocol run (runs whose
  aggregate noise exceeds :math:`z` on some bin are left out and counted);
* ``cdf_error_quantile`` — (1 - alpha) quantile of N/m over a 5-point geometric grid of the scaling variable
  (common random numbers), for the log-log slope; setting ``mechanism='hierarchical'``: the dyadic-tree
  mechanism (``n_bins`` a power of 2), node noise of aggregate scale :math:`\log_2b/\varepsilon_{\rm dp}` counts
  (the poster's per-client :math:`\sigma=\log_2b/(\varepsilon\sqrt m)`, i.e. :math:`s_f=\mathrm{round}(
  \varepsilon_{\rm dp}\sqrt m\sigma_{\rm int}/\log_2b)`), N the largest prefix error of the tiling.
"""

from __future__ import annotations

import numpy as np
import scipy.stats
import sympy as sp

from ratecheck.solvers.dp_quantile import (
    aggregate_noise,
    dyadic_prefix_nodes,
    histogram_counts,
    level_error,
    quantile_readout,
    secure_histogram,
    tree_prefix_noise,
)

from ..errors import UsageError
from ..fit import loglog_fit
from ..instances import streams
from ..resources import Need
from ..schema import Choice, Constant, Float, Int, Measure, Schema, Setting
from ..verdict import Evidence
from . import Experiment, register

RATE_TOLERANCE = 0.1  #: slack of the fitted exponent (finite b, finite m: the laws are asymptotic)
_RUNS = ("level_error", "decode_error")


def _value(expr, c: dict) -> float:
    e = sp.sympify(expr)
    return float(e.subs({s: c[s.name] for s in e.free_symbols}))


def clopper_pearson(k: int, n: int, confidence: float = 0.99) -> tuple[float, float]:
    """Exact two-sided binomial interval for k successes in n trials."""
    a = 1 - confidence
    lo = 0.0 if k == 0 else float(scipy.stats.beta.ppf(a / 2, k, n - k + 1))
    hi = 1.0 if k == n else float(scipy.stats.beta.ppf(1 - a / 2, k + 1, n - k))
    return lo, hi


class DPQuantile(Experiment):
    name = "dp_quantile"
    title = "Private federated quantile: distributed discrete Gaussian histogram, modular secure summation"
    schema = Schema(
        params=(
            Int("m", 2000, "number of clients (one score each)", low=2, high=200000, search=(100, 5000)),
            Int("n_bins", 64, "number of equal histogram bins on [0, 1]", low=2, high=4096, search=(4, 128)),
            Float(
                "eps_dp", 1.0, "privacy parameter (1/2 eps^2-zCDP)", low=0, low_open=True, search=(0.1, 10.0), log=True
            ),
            Float("sigma_int", 3.0, "per-client integer noise scale sigma_int", low=0.5, high=50.0),
            Float(
                "theta",
                0.1,
                "the level 1 - theta of the quantile",
                low=0,
                high=1,
                low_open=True,
                high_open=True,
                search=(0.02, 0.5),
            ),
            Float(
                "alpha_fail",
                0.05,
                "failure probability alpha of the high-probability bounds",
                low=0,
                high=1,
                low_open=True,
                high_open=True,
                search=(0.01, 0.2),
            ),
            Float(
                "alpha_mod",
                1e-6,
                "failure probability of the noise allowance z of the modulus",
                low=0,
                high=1,
                low_open=True,
                high_open=True,
            ),
            Choice(
                "data",
                "beta",
                "client scores: Beta(2, 5) or uniform on [0, 1]",
                choices=("beta", "uniform"),
                search=("beta", "uniform"),
            ),
            Int("reps", 2000, "Monte Carlo replications of the aggregate noise", low=20, high=10**6),
            Int("runs", 100, "runs of the full modular protocol", low=1, high=10**5),
        ),
        constants=(
            Constant("m", "number of clients"),
            Constant("n_bins", "number of bins b"),
            Constant("eps_dp", "privacy parameter"),
            Constant("alpha_fail", "failure probability"),
            Constant("s_agg", "sub-Gaussian scale of the aggregate per-bin noise, sqrt(m) sigma_int / s_f (counts)"),
            Constant("s_f", "integer scaling of the counts, round(eps_dp sqrt(m) sigma_int)"),
            Constant("z_mod", "noise allowance sqrt(m) sigma_int sqrt(2 log(2 b / alpha_mod)) of the modulus"),
            Constant(
                "M_ring",
                "secure-aggregation modulus run (the claim's setting 'modulus', rounded up)",
                measures=("decode_error",),
            ),
            Constant("cdf_noise", "per run: N = max_j |C_hat_j - C_j| (counts)", measures=("level_error",)),
        ),
        measures=(
            Measure(
                "cdf_exceed_prob", "rate of runs with max_j |C_hat_j - C_j| > threshold", grid="n_bins", random=True
            ),
            Measure("level_error", "|theta' - theta| of the returned edge, per protocol run", grid="run"),
            Measure("decode_error", "|decoded - true| modular sum, max over bins, per protocol run", grid="run"),
            Measure(
                "cdf_error_quantile",
                "(1 - alpha) quantile of N/m over a grid of the scaling variable",
                grid="x",
                random=True,
            ),
        ),
        settings=(
            Setting(
                "threshold",
                None,
                "the deviation whose exceedance rate is bounded (expression)",
                kind="expr",
                measures=("cdf_exceed_prob",),
            ),
            Setting(
                "level_on",
                "binned",
                "level error on the binned data or on the raw scores",
                choices=("binned", "raw"),
                measures=("level_error",),
            ),
            Setting(
                "mechanism",
                "flat",
                "flat histogram or the hierarchical (dyadic tree) mechanism",
                choices=("flat", "hierarchical"),
                measures=("cdf_error_quantile",),
            ),
            Setting(
                "modulus",
                None,
                "secure-aggregation modulus M (expression, rounded up)",
                kind="expr",
                measures=("decode_error",),
            ),
        ),
    )

    def memory_needs(self, p):
        pmf = 4 * p["m"] * (24 * p["sigma_int"] + 5)  # law of the aggregate noise at the largest grid point
        return [
            Need("3*m*n_bins (one protocol run)", 3 * p["m"] * p["n_bins"], ("m", "n_bins")),
            Need("reps*n_bins*16 + pmf", p["reps"] * p["n_bins"] * 16 + pmf, ("reps", "m")),
        ]

    def instances(self, claim, quick=False):
        reps, runs = (600, 30) if quick else (2000, 100)
        base = dict(reps=reps, runs=runs)
        if claim.measure == "level_error":
            return [base, dict(base, eps_dp=10.0), dict(base, data="uniform", n_bins=16, theta=0.3)]
        if claim.measure == "decode_error":
            return [base, dict(base, m=500, n_bins=16, eps_dp=5.0)]
        if claim.measure == "cdf_error_quantile":
            return [dict(base, m=1000)]
        return [base, dict(base, n_bins=16, eps_dp=0.5, alpha_fail=0.1)]

    def _constants(self, p, mechanism="flat"):
        m = p["m"]
        per_node = 1.0
        if mechanism == "hierarchical":
            L = int(p["n_bins"]).bit_length() - 1
            if p["n_bins"] < 2 or 1 << L != p["n_bins"]:
                raise UsageError(
                    f"n_bins must be a power of 2 >= 2 for the hierarchical mechanism, got {p['n_bins']} "
                    "(e.g. --param n_bins=64)"
                )
            per_node = float(L)  # the poster's log2(b)/eps aggregate scale per node
        s_f = max(1, int(round(p["eps_dp"] * np.sqrt(m) * p["sigma_int"] / per_node)))
        z = np.sqrt(m) * p["sigma_int"] * np.sqrt(2 * np.log(2 * p["n_bins"] / p["alpha_mod"]))
        return dict(
            m=m,
            n_bins=p["n_bins"],
            eps_dp=p["eps_dp"],
            alpha_fail=p["alpha_fail"],
            s_agg=float(np.sqrt(m) * p["sigma_int"] / s_f),
            s_f=s_f,
            z_mod=float(z),
        )

    def _scores(self, p, rng):
        if p["data"] == "beta":
            return rng.beta(2.0, 5.0, p["m"])
        return rng.uniform(0.0, 1.0, p["m"])

    def _max_dev(self, p, c, rng, reps, mechanism="flat"):
        """N = max_j |C_hat_j - C_j| (counts) for ``reps`` draws of the aggregate noise (exact law): prefix sums of
        the per-bin noise (flat), or sums over each prefix's dyadic tiling of the per-node noise (hierarchical)."""
        if mechanism == "hierarchical":
            n_nodes = int(dyadic_prefix_nodes(p["n_bins"]).max())
            z = aggregate_noise(rng, p["sigma_int"], p["m"], (reps, n_nodes))
            return np.max(np.abs(tree_prefix_noise(z, p["n_bins"])), axis=1) / c["s_f"]
        z = aggregate_noise(rng, p["sigma_int"], p["m"], (reps, p["n_bins"]))
        return np.max(np.abs(np.cumsum(z, axis=1)), axis=1) / c["s_f"]

    def run(self, claim, p, seed=0):
        rs = streams(seed)  # client scores: data stream; noise and masks: algorithm stream
        rng = rs.algorithm
        c = self._constants(p)
        st = self.settings(claim)
        meas = claim.measure
        common = dict(constants=c, instance=p, seed=seed)
        if meas == "cdf_exceed_prob":
            claim.check_assumptions(**c)
            x = _value(st.threshold, c)
            hits = self._max_dev(p, c, rng, p["reps"]) > x
            k, n = int(hits.sum()), hits.size
            lo, hi = clopper_pearson(k, n)
            note = f"{k}/{n} exceedances of {x:.4g} counts; Clopper-Pearson 99% interval [{lo:.4g}, {hi:.4g}]"
            se = hits.std(ddof=1) / np.sqrt(n)
            return Evidence(
                "n_bins",
                [p["n_bins"]],
                [hits.mean()],
                claim.evaluate(**c),
                method="monte-carlo",
                stderr=[se],
                n_samples=n,
                sample_range=1.0,
                note=note,
                series={"threshold": x, "clopper_pearson": (lo, hi)},
                **common,
            )
        if meas == "cdf_error_quantile":
            mech = st.mechanism
            c = self._constants(p, mech)
            common["constants"] = c
            var = claim.scaling_in
            x = p[var] * 2.0 ** np.arange(-2, 3)
            x = np.unique(np.maximum(np.round(x), 2).astype(int)) if var in ("m", "n_bins") else x
            q = np.empty(x.size)
            for i, xi in enumerate(x):  # five grid points; common random numbers
                pi = dict(p, **{var: xi.item()})
                ci = self._constants(pi, mech)
                q[i] = np.quantile(self._max_dev(pi, ci, streams(seed).algorithm, p["reps"], mech), 1 - p["alpha_fail"])
                q[i] /= pi["m"]
            fit = loglog_fit(x, q)
            c.update(exponent_tolerance=RATE_TOLERANCE, scaling_mode="equal")
            return Evidence(
                var,
                x,
                q,
                fit.predict(x),
                method="fit",
                fit=fit,
                n_samples=p["reps"],
                predicted_exponent=claim.predicted_exponent(**c),
                note=f"exponent tolerance {RATE_TOLERANCE}; {mech} mechanism",
                **common,
            )
        scores = self._scores(p, rs.data)
        edges = np.linspace(0.0, 1.0, p["n_bins"] + 1)
        counts = histogram_counts(scores, edges)
        if meas == "decode_error":
            M = int(np.ceil(_value(st.modulus, c)))
            c["M_ring"] = M
            claim.check_assumptions(**c)
        else:
            M = int(2 * (c["m"] * c["s_f"] + c["z_mod"])) + 2
        err, noise, inside = np.empty(p["runs"]), np.empty(p["runs"]), np.empty(p["runs"], bool)
        for r in range(p["runs"]):  # protocol runs (each vectorized over clients and bins)
            h = secure_histogram(scores, edges, scale=c["s_f"], sigma_int=p["sigma_int"], modulus=M, rng=rng)
            agg = h.true_sum - c["s_f"] * counts
            inside[r] = np.all(np.abs(agg) <= c["z_mod"])
            noise[r] = np.max(np.abs(np.cumsum(agg))) / c["s_f"]
            if meas == "decode_error":
                err[r] = np.max(np.abs(h.decoded - h.true_sum))
            else:
                jhat = quantile_readout(h.counts, c["m"], p["theta"])
                err[r] = level_error(counts, jhat, c["m"], p["theta"], binned=st.level_on == "binned")
        grid = np.arange(p["runs"])
        if meas == "decode_error":
            note = f"{int((~inside).sum())} of {p['runs']} runs left out (aggregate noise above z on some bin)"
            return Evidence("run", grid[inside], err[inside], claim.evaluate(**c), note=note, **common)
        bound = claim.evaluate(cdf_noise=noise, **c)
        return Evidence("run", grid, err, bound, series={"cdf_noise": noise}, **common)


EXPERIMENT = register(DPQuantile())
