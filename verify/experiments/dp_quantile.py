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

from ratecheck.solvers.dp_quantile import (
    histogram_counts,
    level_error,
    max_prefix_noise,
    quantile_readout,
    secure_histogram_runs,
)

from ..errors import UsageError
from ..expectation import clopper_pearson
from ..fit import fit_evidence
from ..instances import streams
from ..resources import Need
from ..schema import Choice, Constant, Float, Int, Measure, Schema, Setting, expr_value
from ..verdict import Evidence
from . import Experiment, register

RATE_TOLERANCE = 0.1  #: slack of the fitted exponent (finite b, finite m: the laws are asymptotic)
_RUNS = ("level_error", "decode_error")


def scaling_constants(p: dict, mechanism: str = "flat") -> dict:
    """The constants of instance ``p``: the integer scaling s_f (per node of the dyadic tree, ``hierarchical``, at
    the poster's aggregate scale log2(b)/eps), the aggregate noise scale s_agg and the modulus allowance z."""
    m, per_node = p["m"], 1.0
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
    s_agg = float(np.sqrt(m) * p["sigma_int"] / s_f)
    return dict(
        m=m, n_bins=p["n_bins"], eps_dp=p["eps_dp"], alpha_fail=p["alpha_fail"], s_agg=s_agg, s_f=s_f, z_mod=float(z)
    )


def cdf_errors(p: dict, c: dict, rng, reps: int, mechanism: str = "flat") -> np.ndarray:
    """N = max_j |C_hat_j - C_j| (counts) for ``reps`` draws of the aggregate noise (exact law)."""
    hier = mechanism == "hierarchical"
    return max_prefix_noise(rng, p["sigma_int"], p["m"], p["n_bins"], reps, hierarchical=hier) / c["s_f"]


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
            Need("3*runs*n_bins (the runs' sums, stacked)", 3 * p["runs"] * p["n_bins"], ("runs", "n_bins")),
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

    # ------------------------------------------------------------------ the pipeline
    MEASURES = {"cdf_exceed_prob": "_exceed_rate", "level_error": "_level_error", "decode_error": "_decode_error"}
    DIRECT_MEASURES = {"cdf_error_quantile": "_error_quantile"}

    def instance_params(self, p):
        return {k: p[k] for k in ("m", "n_bins", "data")}

    def instance(self, p, seed):
        """Client scores (``streams(seed).data``), the bin edges and the exact counts."""
        rng = streams(seed).data
        scores = rng.beta(2.0, 5.0, p["m"]) if p["data"] == "beta" else rng.uniform(0.0, 1.0, p["m"])
        edges = np.linspace(0.0, 1.0, p["n_bins"] + 1)
        return scores, edges, histogram_counts(scores, edges)

    def constants(self, claim, inst, p):
        """:func:`scaling_constants`; decode_error: the modulus M_ring of the claim's setting, rounded up."""
        c = scaling_constants(p)
        if claim.measure == "decode_error":
            c["M_ring"] = int(np.ceil(expr_value(self.settings(claim).modulus, c, "modulus")))
        return c

    def solve(self, claim, inst, c, p, seed):
        """cdf_exceed_prob: ``reps`` draws of N (:func:`cdf_errors`); the others: ``runs`` runs of the full modular
        protocol, modulus M_ring (decode_error) or one safely above 2 (m s_f + z)."""
        rng = streams(seed).algorithm
        if claim.measure == "cdf_exceed_prob":
            return cdf_errors(p, c, rng, p["reps"])
        scores, edges, _ = inst
        M = c["M_ring"] if claim.measure == "decode_error" else int(2 * (c["m"] * c["s_f"] + c["z_mod"])) + 2
        return secure_histogram_runs(
            scores, edges, runs=p["runs"], scale=c["s_f"], sigma_int=p["sigma_int"], modulus=M, rng=rng
        )

    @staticmethod
    def _aggregate_noise(run):
        """Per run: the aggregate integer noise of every bin, (runs, b)."""
        return run.result.true_sum - run.constants["s_f"] * run.instance[2]

    # ------------------------------------------------------------------ the measures
    def _exceed_rate(self, claim, run):
        c, p = run.constants, run.p
        x = expr_value(self.settings(claim).threshold, c, "threshold")
        hits = run.result > x
        k, n = int(hits.sum()), hits.size
        lo, hi = clopper_pearson(k, n)
        note = f"{k}/{n} exceedances of {x:.4g} counts; Clopper-Pearson 99% interval [{lo:.4g}, {hi:.4g}]"
        se = hits.std(ddof=1) / np.sqrt(n)
        mc = dict(method="monte-carlo", stderr=[se], n_samples=n, sample_range=1.0)
        ev = dict(
            constants=c, instance=p, seed=run.seed, note=note, series={"threshold": x, "clopper_pearson": (lo, hi)}
        )
        return Evidence("n_bins", [p["n_bins"]], [hits.mean()], claim.evaluate(**c), **mc, **ev)

    def _level_error(self, claim, run):
        c, p, counts = run.constants, run.p, run.instance[2]
        noise = np.max(np.abs(np.cumsum(self._aggregate_noise(run), axis=1)), axis=1) / c["s_f"]
        jhat = quantile_readout(run.result.counts, c["m"], p["theta"])
        err = level_error(counts, jhat, c["m"], p["theta"], binned=self.settings(claim).level_on == "binned")
        bound = claim.evaluate(cdf_noise=noise, **c)
        ev = dict(constants=c, instance=p, seed=run.seed, series={"cdf_noise": noise})
        return Evidence("run", np.arange(p["runs"]), err, bound, **ev)

    def _decode_error(self, claim, run):
        """Over the runs whose aggregate noise stays within z on every bin (the others are left out and counted)."""
        c, p, h = run.constants, run.p, run.result
        inside = np.all(np.abs(self._aggregate_noise(run)) <= c["z_mod"], axis=1)
        err = np.max(np.abs(h.decoded - h.true_sum), axis=1)
        note = f"{int((~inside).sum())} of {p['runs']} runs left out (aggregate noise above z on some bin)"
        grid = np.arange(p["runs"])
        return Evidence(
            "run", grid[inside], err[inside], claim.evaluate(**c), note=note, constants=c, instance=p, seed=run.seed
        )

    def _error_quantile(self, claim, p, seed):
        """The (1 - alpha) quantile of N/m on five grid points of the scaling variable (common random numbers)."""
        mech, var = self.settings(claim).mechanism, claim.scaling_in
        c = scaling_constants(p, mech)
        x = p[var] * 2.0 ** np.arange(-2, 3)
        x = np.unique(np.maximum(np.round(x), 2).astype(int)) if var in ("m", "n_bins") else x
        q = np.empty(x.size)
        for i, xi in enumerate(x):
            pi = dict(p, **{var: xi.item()})
            N = cdf_errors(pi, scaling_constants(pi, mech), streams(seed).algorithm, p["reps"], mech)
            q[i] = np.quantile(N, 1 - p["alpha_fail"]) / pi["m"]
        note = f"exponent tolerance {RATE_TOLERANCE}; {mech} mechanism"
        ev = dict(n_samples=p["reps"], note=note, instance=p, seed=seed)
        return fit_evidence(claim, var, x, q, c, mode="equal", tolerance=RATE_TOLERANCE, **ev)


EXPERIMENT = register(DPQuantile())
