r"""RCD / RPT experiment: sketched coordinate descent and randomized progressive training.

Notes ``notes/rcd.md``; claims in :mod:`theorems.rcd`.  Measures:

* ``expected_gap`` — :math:`\mathbb E[f(x^T)]-f^\star` for every T >= 1;
* ``avg_grad_norm_sq`` — :math:`\frac1T\sum_{k<T}\mathbb E\Vert\nabla f(x^k)\Vert^2` for every T >= 1;
* ``sketch_table_error`` — relative difference between the spec table's closed forms of
  :math:`\mathbb E[C\mathbf LC]`, :math:`\tilde L`, :math:`\Omega` and the same quantities summed
  over the sketch's outcomes, on sampled smoothness matrices;
* ``sketch_mean_error`` — :math:`\max_i|\mathbb E[c_i]-1|` summed over the outcomes of RPT
  sketches with sampled block structures and probabilities.

On quadratics the expectations are **exact** (:func:`verify.expectation.exact_sketched_quadratic`
propagates the error's second moment), so a violation is a violation; on :math:`\ell_2`-logistic
regression and on the nonconvex quadratic-plus-cosine they are Monte Carlo means judged with
one-sided, Bonferroni-corrected confidence bounds.
"""

from __future__ import annotations

import numpy as np

from ratecheck.solvers.rcd import SKETCHES, CoordinateSketch, RPTSketch, lambda_max, make_sketch, sketched_rcd

from ..errors import UsageError
from ..expectation import exact_sketched_quadratic, mc_summary
from ..instances import block_cosine, block_logistic, block_quadratic, streams
from ..optima import matrix_l2_logistic_optimum
from ..resources import Need
from ..schema import Choice, Constant, Custom, Float, Int, Measure, Rule, Schema, SearchVar, Setting, json_list
from ..verdict import Evidence
from . import CACHE, Experiment, register

FLOOR = 1e-11  #: bounds below FLOOR * (largest bound on the grid) are not compared (floating-point floor)
TABLE_ATOL = 1e-10  #: floating-point tolerance of the sketch-table and unbiasedness comparisons
MC_POINTS = 40  #: grid points of Monte Carlo comparisons (geometric in T)
PROBLEMS = ("quadratic", "logistic", "cosine")
METHODS = ("auto", "exact", "monte-carlo")
_RATES = ("expected_gap", "avg_grad_norm_sq")
#: the sketches a claim covers when its setting ``sketches`` is not set, per measure (rates: uniform RCD)
DEFAULT_SKETCHES = {"sketch_table_error": SKETCHES, "sketch_mean_error": ("rpt-prefix", "rpt-suffix")}
#: search-only coordinate of the convex and nonconvex regimes: zero eigenvalues as a fraction of d - 1
ZERO_FRAC = ("float", 0.0, 1.0)


def default_p(blocks: int) -> np.ndarray:
    """Default RPT block probabilities: uniform over the J blocks."""
    return np.full(blocks, 1.0 / blocks)


def _make_problem(p: dict, seed: int):
    common = dict(blocks=p["blocks"], profile=p["profile"], scale_ratio=p["scale_ratio"], seed=seed)
    if p["problem"] == "quadratic":
        prob = block_quadratic(d=p["d"], cond=p["cond"], coupling=p["coupling"], zero_eigs=p["zero_eigs"], **common)
        return prob, prob.x_star, prob.f_star, 0.0, {"f_star": "exact (lstsq, b in range(A))"}
    if p["problem"] == "logistic":
        prob = block_logistic(m=p["m"], d=p["d"], lam=p["lam"], **common)
        opt = matrix_l2_logistic_optimum(prob)
        return prob, opt.x, opt.lower, opt.certificate["dist_bound"], opt.certificate
    prob = block_cosine(d=p["d"], cond=p["cond"], omega=p["omega"], **common)
    return prob, None, prob.f_inf, 0.0, {"f_inf": "exact (separable)" if prob.f_inf_exact else "certified lower bound"}


_INSTANCE_KEYS = (
    "problem",
    "d",
    "blocks",
    "profile",
    "scale_ratio",
    "cond",
    "coupling",
    "zero_eigs",
    "m",
    "lam",
    "omega",
)


def _exact_series(problem, sk, e0, gamma, T):
    """Exact expected series (cached: a claim and its teeth often share stepsize, sketch and instance)."""
    mean, second = sk.moments()
    key = ("exact", id(problem), sk.name, sk.d, mean.tobytes(), second.tobytes(), e0.tobytes(), float(gamma), T)
    return CACHE.get(
        ("rcd", "run", key),
        lambda: exact_sketched_quadratic(problem.A, e0, gamma, mean, second, T),
        keep=(problem,),
    )


def _mc_run(problem, sk, x0, gamma, T, R, seed, x_star):
    """Monte Carlo run (cached like :func:`_exact_series`)."""
    mean, second = sk.moments()
    key = ("mc", id(problem), sk.name, mean.tobytes(), second.tobytes(), x0.tobytes(), float(gamma), T, R, seed)
    return CACHE.get(
        ("rcd", "run", key),
        lambda: sketched_rcd(
            problem,
            x0,
            gamma=gamma,
            T=T,
            sketch=sk,
            rng=streams(seed).algorithm,
            replications=R,
            x_star=x_star,
        ),
        keep=(problem,),
    )


class RCDExperiment(Experiment):
    name = "rcd"
    title = "Sketched RCD and Randomized Progressive Training (exact expectations on quadratics)"
    schema = Schema(
        params=(
            Choice(
                "problem",
                "quadratic",
                "block quadratic (exact expectations), l2-logistic regression, or the "
                "nonconvex quadratic-plus-cosine (Monte Carlo)",
                choices=PROBLEMS,
                search=True,
            ),
            Int("d", 20, "dimension", low=1, search=(2, 24)),
            Int("blocks", 4, "number of blocks J (RPT trains a random prefix or suffix of them)", low=1),
            Choice(
                "profile",
                "increasing",
                "block curvature scales, geometric from 1 to scale_ratio: increasing, decreasing or flat",
                choices=("increasing", "decreasing", "flat"),
                search=True,
            ),
            Float(
                "scale_ratio", 10.0, "largest / smallest block curvature scale", low=1, search=(1.0, 100.0), log=True
            ),
            Float(
                "cond",
                100.0,
                "condition number of the spectrum within each block (quadratic, cosine)",
                low=1,
                search=(1.0, 1000.0),
                log=True,
            ),
            Float(
                "coupling", 0.3, "weight of the dense coupling between the blocks (quadratic)", low=0, search=(0.0, 1.0)
            ),
            Int("zero_eigs", 0, "zero eigenvalues of the quadratic (> 0: convex, not strongly convex)", low=0),
            Choice(
                "sketch",
                None,
                "the sketch run (None: the claim's first sketch)",
                optional=True,
                choices=SKETCHES,
                search=True,
            ),
            Int("tau", 5, "coordinates per step of the tau-nice sketch", low=1),
            Custom(
                "p",
                None,
                "RPT block probabilities p_1..p_J (None: uniform)",
                optional=True,
                rule_text="a probability distribution over the blocks (entries >= 0 summing to 1)",
                parser=json_list,
            ),
            Int("T", 500, "number of iterations", low=1),
            Float(
                "stepsize_factor",
                1.0,
                "fraction of the claim's largest stepsize",
                low=0,
                low_open=True,
                search=(0.25, 1.0),
            ),
            Int("replications", 2000, "Monte Carlo replications (logistic, cosine)", low=2),
            Choice(
                "method",
                "auto",
                "expectations: auto (exact on quadratics, else Monte Carlo), exact, or Monte Carlo",
                choices=METHODS,
            ),
            Int("m", 200, "data points of the logistic regression", low=1),
            Float("lam", 0.1, "l2 weight of the logistic regression (its mu)", low=0, low_open=True),
            Float("omega", 1.0, "weight of the cosine term of the nonconvex problem", low=0, low_open=True),
            Float(
                "x0_scale",
                1.0,
                "scale of x^0 - x* (of x^0 on the cosine problem)",
                low=0,
                low_open=True,
                search=(0.1, 10.0),
                log=True,
            ),
            Choice(
                "start",
                "random",
                "x^0 - x*: random, or supported on the last block (attains the SC bound)",
                choices=("random", "last-block"),
                search=True,
            ),
            Int("samples", 24, "sampled block structures / smoothness matrices of the sketch identities", low=1),
        ),
        #: Counterexample search (``verify.search``).  Rate claims search quadratics (exact expectations)
        #: and, per regime, l2-logistic / quadratic-plus-cosine (Monte Carlo, small R); the sketch-table
        #: identities search the number of sampled structures (the seed draws them): see search_space_for.
        search=(
            SearchVar("blocks_frac", ("float", 0.0, 1.0), "blocks = 1 + round(blocks_frac (min(d, max blocks) - 1))"),
            SearchVar("tau_frac", ("float", 0.0, 1.0), "tau-nice with tau = 1 + round(tau_frac (d - 1))"),
            SearchVar("p_ratio", ("logfloat", 0.2, 5.0), "RPT block probabilities p_j proportional to p_ratio^j"),
            SearchVar(
                "zero_frac", ZERO_FRAC, "convex and nonconvex regimes: zero_eigs = round(zero_frac (d - 1))", base=False
            ),
        ),
        search_order=(
            "problem",
            "d",
            "blocks_frac",
            "profile",
            "scale_ratio",
            "cond",
            "coupling",
            "sketch",
            "tau_frac",
            "p_ratio",
            "start",
            "x0_scale",
            "stepsize_factor",
        ),
        rules=(
            Rule("blocks must be <= d", ("blocks", "d"), lambda p: p["blocks"] <= p["d"]),
            Rule("tau must be <= d", ("tau", "d"), lambda p: p["tau"] <= p["d"]),
            Rule("zero_eigs must be < d", ("zero_eigs", "d"), lambda p: p["zero_eigs"] < p["d"]),
            Rule(
                "method='exact' needs problem='quadratic' (exact expectations are for quadratics)",
                ("method", "problem"),
                lambda p: p["method"] != "exact" or p["problem"] == "quadratic",
            ),
        ),
        constants=(
            Constant("L", "lambda_max of the smoothness matrix L (the GD constant)", _RATES),
            Constant("L_tilde", "lambda_max(L o E[c c^T]) = lambda_max(E[C L C]) of the sketch run", _RATES),
            Constant("Omega", "max_i E[c_i^2] of the sketch run", _RATES),
            Constant("mu", "strong convexity / PL constant (absent on the cosine problem)", _RATES),
            Constant("d", "dimension", _RATES),
            Constant("blocks", "number of blocks J", _RATES),
            Constant("sketch_mean_error", "max_i |E[c_i] - 1| of the sketch run (0: unbiased)", _RATES),
            Constant("gamma", "the stepsize run: the claim's largest stepsize times stepsize_factor", _RATES),
            Constant("R", "||x^0 - x*|| plus the certified distance slack of x* (problems with a minimiser)", _RATES),
            Constant("delta0", "f(x^0) - f_low", _RATES),
            Constant(
                "f_low",
                "f* (exact on quadratics, a certified lower bound on logistic) or f_inf of the cosine "
                "problem (exact when separable, else a certified lower bound)",
                _RATES,
            ),
        ),
        measures=(
            Measure(
                "expected_gap",
                "E[f(x^T)] - f* for every T >= 1 (exact on quadratics, Monte Carlo otherwise)",
                grid="T",
                random=True,
            ),
            Measure(
                "avg_grad_norm_sq",
                "(1/T) sum_{k<T} E||grad f(x^k)||^2 for every T >= 1 (exact on quadratics, Monte Carlo otherwise)",
                grid="T",
                random=True,
            ),
            Measure(
                "sketch_table_error",
                "relative error of the spec table's E[C L C], L_tilde, Omega against outcome "
                "enumeration, on sampled smoothness matrices",
                grid="sample",
            ),
            Measure(
                "sketch_mean_error",
                "max_i |E[c_i] - 1| over the outcomes of RPT prefix/suffix sketches with "
                "sampled block structures and probabilities",
                grid="sample",
            ),
        ),
        settings=(
            Setting(
                "sketches",
                None,
                "the sketches the claim covers (None: coordinate-uniform for the rates, every "
                "sketch for the table, rpt-prefix and rpt-suffix for unbiasedness)",
                kind="subset",
                choices=SKETCHES,
            ),
            Setting(
                "family",
                "rcd",
                "instances of the rates: per sketch with tau = d/4 (rcd), or RPT prefix on "
                "increasing and decreasing block scales (rpt)",
                choices=("rcd", "rpt"),
                measures=_RATES,
            ),
            Setting(
                "regime",
                "strongly-convex",
                "the theorem's regime, which picks instances and searched problems "
                "(strongly convex: mu > 0; convex: singular quadratics; nonconvex: also the cosine problem)",
                choices=("strongly-convex", "convex", "nonconvex"),
                measures=_RATES,
            ),
            Setting(
                "scaled",
                True,
                "RPT sketches rescale block j by 1/q_j (false: the biased variant, E[C] = Diag(q))",
                kind="flag",
                measures=_RATES + ("sketch_mean_error",),
            ),
            Setting(
                "table",
                "spec",
                "the closed form of L_tilde checked: the spec's table, or a deliberately wrong "
                "variant (teeth of rcd.l-tilde)",
                choices=("spec", "no-hadamard", "uniform-without-d"),
                measures=("sketch_table_error",),
            ),
        ),
    )

    SEARCH_T = 300  #: horizon of exact (quadratic) search runs
    SEARCH_MC_T = 60  #: horizon of Monte Carlo search runs (logistic, cosine)
    SEARCH_MC_R = 300  #: replications of Monte Carlo search runs (x4 when the search confirms a point)
    SEARCH_MAX_BLOCKS = 8
    #: Monte Carlo points keep every sketch outcome frequent (probability >= ~1/(2J), 1/d, or for
    #: importance sampling >= ~1/(d * scale ratio)): a confidence bound from R samples is not valid
    #: when an outcome of probability << 1/R carries a visible share of the expectation (the sample
    #: misses it, and the mean and its standard error with it).  Found by search: rpt.strongly-convex
    #: on logistic with p_J = 1e-5 gave a false "violated" at T = 1 (exact E gap below the bound).
    SEARCH_MC_MAX_D = 12
    SEARCH_MC_MAX_BLOCKS = 4
    SEARCH_MC_MAX_SCALE = 10.0

    def search_space_for(self, claim):
        """Per claim: the sketch choice is the claim's own sketches; problems and zero eigenvalues
        follow the regime (strongly convex: mu > 0, so no zero eigenvalues and no cosine; convex:
        singular quadratics or logistic; nonconvex: all three problems)."""
        if claim.measure in ("sketch_table_error", "sketch_mean_error"):
            return {"samples": ("int", 4, 24)}
        if claim.measure not in _RATES:
            return None
        sketches = list(self.sketches(claim))
        if not sketches:
            return None
        regime = self.settings(claim).regime
        space = dict(self.search_space, sketch=("choice", sketches))
        if not any(k.startswith("rpt") for k in sketches):
            del space["p_ratio"]  # block probabilities only enter the RPT sketches
        if "tau-nice" not in sketches:
            del space["tau_frac"]
        if regime == "nonconvex":
            space["problem"] = ("choice", ["quadratic", "cosine", "logistic"])
            space["zero_frac"] = ZERO_FRAC
        elif regime == "convex":
            space["problem"] = ("choice", ["quadratic", "logistic"])
            space["zero_frac"] = ZERO_FRAC
        else:
            space["problem"] = ("choice", ["quadratic", "logistic"])
        return space

    def from_search(self, point):
        """Valid instance parameters from a search point: blocks, tau and zero eigenvalues as
        fractions of their feasible ranges, RPT probabilities p_j proportional to p_ratio^j, quick
        horizons, and for Monte Carlo problems (logistic, cosine) few replications and no rare
        sketch outcomes (d, blocks and scale ratio capped, p_j floored at 1/(2J))."""
        q = dict(point)
        if set(q) <= {"samples"}:
            return {k: int(v) for k, v in q.items()}
        problem = q.get("problem", "quadratic")
        exact = problem == "quadratic"
        d = int(q.pop("d", self.defaults["d"]))
        if not exact:  # Monte Carlo: no sketch outcome may be rare (see SEARCH_MC_MAX_D)
            d = min(d, self.SEARCH_MC_MAX_D)
        out = {k: v for k, v in q.items() if k in self.defaults}
        out["d"] = d
        max_blocks = self.SEARCH_MAX_BLOCKS if exact else self.SEARCH_MC_MAX_BLOCKS
        blocks = 1 + int(round(float(q.get("blocks_frac", 0.5)) * (min(d, max_blocks) - 1)))
        out["blocks"] = blocks
        out["tau"] = 1 + int(round(float(q.get("tau_frac", 0.0)) * (d - 1)))
        # zero eigenvalues (singular quadratics): only in spaces that declare zero_frac; at most d - 1
        out["zero_eigs"] = int(round(float(q.get("zero_frac", 0.0)) * (d - 1)))
        if "p_ratio" in q:
            w = float(q["p_ratio"]) ** np.arange(blocks)
            w = w / w.sum()
            if not exact:  # floor every block probability at 1/(2J)
                w = 0.5 * w + 0.5 / blocks
            out["p"] = [float(v) for v in w]
        else:
            out["p"] = None
        if not exact:
            out["scale_ratio"] = min(float(out.get("scale_ratio", 1.0)), self.SEARCH_MC_MAX_SCALE)
        if exact:
            out.update(T=self.SEARCH_T, method="auto")
        else:
            out.update(T=self.SEARCH_MC_T, replications=self.SEARCH_MC_R, method="auto", m=100, zero_eigs=0)
            if problem == "cosine":
                out["start"] = "random"  # no minimiser: 'last-block' needs x*
        return out

    def memory_needs(self, p):
        """Upper bounds (8-byte entries) over every measure: the dense ``(d, d)`` matrices (problem, smoothness
        matrix, eigenbasis, sketch moments, the exact second-moment recursion), the logistic data ``(m, d)``,
        a Monte Carlo run's states ``(replications, d)`` and series ``(replications, T+1)``, the sampled
        sketch structures (d <= 12 each)."""
        d, m, R, T, samples = (int(p[k]) for k in ("d", "m", "replications", "T", "samples"))
        return [
            Need("20*d^2 + 4*m*d + 4*(T+1)", 20 * d * d + 4 * m * d + 4 * (T + 1), ("d", "m", "T")),
            Need("6*replications*d + 4*replications*(T+1)", 6 * R * d + 4 * R * (T + 1), ("replications", "d", "T")),
            Need("2000*samples", 2000 * samples, ("samples",)),
        ]

    # ------------------------------------------------------------------ instances
    def instances(self, claim, quick=False):
        if claim.measure in ("sketch_table_error", "sketch_mean_error"):
            return [dict(samples=12 if quick else 48)]
        s = self.settings(claim)
        sketches = list(self.sketches(claim))
        regime = s.regime
        T = 300 if quick else 2000
        d = 20 if quick else 40
        base = dict(d=d, T=T, zero_eigs=2 if regime == "convex" else 0)
        # an isotropic instance where the SC bound is attained: A = I, and for RPT x^0 - x* in the last block
        tight = dict(base, cond=1.0, coupling=0.0, profile="flat")
        if s.family == "rpt":
            out = [
                dict(base, sketch="rpt-prefix", profile="increasing"),
                dict(base, sketch="rpt-prefix", profile="decreasing"),
            ]
            out += [dict(base, sketch=k, profile="increasing") for k in sketches if k != "rpt-prefix"]
            if regime == "strongly-convex":
                out.append(dict(tight, sketch="rpt-prefix", start="last-block"))
            mc_sketch = "rpt-prefix"
        else:
            out = [dict(base, sketch=k, tau=d // 4) for k in sketches]
            if regime == "strongly-convex" and "coordinate-uniform" in sketches:
                out.append(dict(tight, sketch="coordinate-uniform"))
            mc_sketch = "coordinate-importance" if "coordinate-importance" in sketches else sketches[0]
        mc = dict(
            sketch=mc_sketch,
            d=10,
            blocks=4,
            T=60 if quick else 200,
            replications=1000 if quick else 2000,
            problem="cosine" if regime == "nonconvex" else "logistic",
            cond=10.0,
            m=100,
        )
        return out + [mc]

    def check_instance(self, p):
        """``p`` (RPT block probabilities) must be a distribution over the ``blocks`` blocks; kept as a list of floats."""
        if p["p"] is not None:
            try:
                q = np.asarray(p["p"], dtype=float) if isinstance(p["p"], (list, tuple, np.ndarray)) else None
            except (TypeError, ValueError):
                q = None
            if (
                q is None
                or q.shape != (p["blocks"],)
                or not np.all(np.isfinite(q))
                or np.any(q < 0)
                or abs(q.sum() - 1) > 1e-10
            ):
                raise UsageError(
                    f"experiment {self.name!r}: p must be a probability distribution over the {p['blocks']} "
                    f"blocks (entries >= 0 summing to 1), got {p['p']!r}"
                )
            p["p"] = [float(v) for v in q]
        return p

    # ------------------------------------------------------------------ run
    def sketches(self, claim) -> tuple:
        """The sketches a claim covers: its setting ``sketches``, or the measure's default."""
        chosen = self.settings(claim).sketches
        return chosen if chosen is not None else DEFAULT_SKETCHES.get(claim.measure, ("coordinate-uniform",))

    def sketch_for(self, claim, p, L, block_sizes):
        """The sketch of instance ``p`` (claim setting ``scaled`` may drop the RPT rescaling)."""
        kind = p["sketch"] or self.sketches(claim)[0]
        probs = default_p(len(block_sizes)) if p["p"] is None else np.asarray(p["p"])
        return make_sketch(kind, L, tau=p["tau"], block_sizes=block_sizes, p=probs, scaled=self.settings(claim).scaled)

    def sketch_constants(self, problem, sketch) -> dict:
        r"""Exact constants: :math:`\tilde L=\lambda_{\max}(\mathbf L\circ\mathbb E[cc^\top])`, :math:`\Omega=\max_i\mathbb E[c_i^2]`."""
        mean, second = sketch.moments()
        Lm = problem.L_matrix
        c = dict(
            L=problem.L,
            L_tilde=lambda_max(Lm * second),
            Omega=float(np.max(np.diag(second))),
            d=problem.d,
            blocks=len(problem.block_sizes),
            sketch_mean_error=float(np.max(np.abs(mean - 1))),
        )
        if problem.mu is not None:
            c["mu"] = float(problem.mu)
        return c

    # ------------------------------------------------------------------ the pipeline
    MEASURES = {"expected_gap": "_series", "avg_grad_norm_sq": "_series"}
    DIRECT_MEASURES = {"sketch_table_error": "_table", "sketch_mean_error": "_mean"}

    def instance_params(self, p):
        return {k: p[k] for k in _INSTANCE_KEYS}

    def instance(self, p, seed):
        """``(problem, x_star, f_low, dist_slack, certificate)``."""
        return _make_problem(self.instance_params(p), int(seed))

    def prepare(self, claim, inst, p):
        """The instance with the claim's sketch appended."""
        problem = inst[0]
        return (*inst, self.sketch_for(claim, p, problem.L_matrix, problem.block_sizes))

    def constants(self, claim, inst, p):
        return self.sketch_constants(inst[0], inst[5])

    def solve(self, claim, inst, c, p, seed):
        """Start point from the start stream, then the exact expectation (quadratics) or Monte Carlo."""
        problem, x_star, f_low, dist_slack, cert, sk = inst
        rng = streams(seed).start
        if x_star is not None:
            direction = rng.standard_normal(problem.d)
            if p["start"] == "last-block":
                direction[: problem.d - int(problem.block_sizes[-1])] = 0.0
            x0 = x_star + p["x0_scale"] * direction
            c["R"] = float(np.linalg.norm(x0 - x_star) + dist_slack)
        else:
            x0 = p["x0_scale"] * rng.uniform(-np.pi, np.pi, problem.d)
        c["delta0"] = float(problem.value(x0) - f_low)
        c["f_low"] = float(f_low)
        c.update(
            {f"certificate_{k}": v for k, v in cert.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
        )
        exact = p["method"] == "exact" or (p["method"] == "auto" and p["problem"] == "quadratic")
        if exact:
            return "exact", _exact_series(problem, sk, x0 - x_star, c["gamma"], p["T"])
        return "mc", _mc_run(problem, sk, x0, c["gamma"], p["T"], p["replications"], seed, x_star)

    def _series(self, claim, run):
        """Expected gap or running mean of the squared gradient norm against the bound."""
        meas, p, c = claim.measure, run.p, run.constants
        f_low, sk = run.instance[2], run.instance[5]
        kind, out = run.result
        T = p["T"]
        if kind == "exact":
            series = dict(out)
            grid = np.arange(1, T + 1)
            measured = out["gap"][1:] if meas == "expected_gap" else np.cumsum(out["grad_norm_sq"][:T]) / grid
            se, nsamp, method = None, 1, "exact-expectation"
        else:
            tr = out
            grid = np.unique(np.geomspace(1, T, MC_POINTS).astype(int))
            if meas == "expected_gap":
                samples = tr.f[:, grid] - f_low
            else:
                samples = (np.cumsum(tr.grad_norm_sq[:, :T], axis=1) / np.arange(1, T + 1))[:, grid - 1]
            measured, se, nsamp = mc_summary(samples)
            method = "monte-carlo"
            series = {"gap": tr.f.mean(0) - f_low, "grad_norm_sq": tr.grad_norm_sq.mean(0)}
        bound = claim.evaluate(T=grid, **c)
        keep = np.isfinite(bound) & (bound >= FLOOR * np.max(bound[np.isfinite(bound)], initial=0.0))
        keep[0] = True
        note = f"sketch {sk.name}; compared where the bound is above {FLOOR:g} x its maximum"
        c["sketch"] = sk.name
        return Evidence(
            "T",
            grid[keep],
            measured[keep],
            bound[keep],
            method=method,
            stderr=None if se is None else se[keep],
            n_samples=nsamp,
            constants=c,
            instance=p,
            seed=run.seed,
            series=series,
            note=note,
        )

    # ------------------------------------------------------------------ identities
    @staticmethod
    def _random_structure(rng, d_max: int = 8):
        d = int(rng.integers(2, d_max + 1))
        J = int(rng.integers(1, d + 1))
        sizes = np.bincount(np.sort(np.r_[np.arange(J), rng.integers(0, J, d - J)]), minlength=J)
        probs = rng.dirichlet(np.ones(J))
        probs = np.maximum(probs, 1e-3)
        return d, sizes, probs / probs.sum()

    def _table(self, claim, p, seed):
        rng = streams(seed).data
        table = self.settings(claim).table
        kinds = list(self.sketches(claim))
        errs, labels = [], []
        for i in range(p["samples"]):  # sampled instances (a loop over instances, not coordinates)
            d, sizes, probs = self._random_structure(rng)
            B = rng.standard_normal((d, d + 2)) * np.exp(rng.normal(0, 1, d))[:, None]
            L = B @ B.T / d
            if i % 2:  # block-diagonal: exercises the table's block shortcut for RPT
                blk = np.repeat(np.arange(sizes.size), sizes)
                L = L * (blk[:, None] == blk[None, :])
            tau = int(rng.integers(1, d + 1))
            for kind in kinds:
                sk = make_sketch(kind, L, tau=tau, block_sizes=sizes, p=probs)
                cw, pw = sk.outcomes()
                E_enum = np.einsum("k,ki,ij,kj->ij", pw, cw, L, cw)  # sum_w pi_w C_w L C_w
                Om_enum = lambda_max(np.diag(pw @ (cw * cw)))  # lambda_max(sum_w pi_w C_w^2)
                Lt_enum = lambda_max(E_enum)
                E_tab, Lt_tab, Om_tab = sk.table_expected_CLC(L), self._table_L_tilde(sk, L, table), sk.table_Omega()
                scale = max(np.max(np.abs(E_enum)), 1e-300)
                errs.append(
                    max(
                        np.max(np.abs(E_tab - E_enum)) / scale,
                        abs(Lt_tab - Lt_enum) / Lt_enum,
                        abs(Om_tab - Om_enum) / Om_enum,
                    )
                )
                labels.append(kind)
        grid = np.arange(len(errs))
        worst = {k: max(e for e, lab in zip(errs, labels) if lab == k) for k in kinds}
        c = {"samples": p["samples"], "table": table, **{f"max_error_{k}": v for k, v in worst.items()}}
        return Evidence(
            "sample",
            grid,
            np.array(errs),
            claim.evaluate(T=grid),
            constants=c,
            instance=p,
            seed=seed,
            atol=TABLE_ATOL,
            series={"sketch": labels},
            note=f"relative errors; tolerance {TABLE_ATOL:g} (floating point)",
        )

    @staticmethod
    def _table_L_tilde(sk, L, table: str) -> float:
        """The table's closed-form L_tilde, or a deliberately wrong variant (teeth of ``rcd.l-tilde``)."""
        if table == "no-hadamard" and isinstance(sk, RPTSketch):
            return lambda_max(L) / float(np.min(sk.q))
        if table == "uniform-without-d" and isinstance(sk, CoordinateSketch) and sk.name == "coordinate-uniform":
            return float(np.max(np.diag(L)))
        return sk.table_L_tilde(L)

    def _mean(self, claim, p, seed):
        rng = streams(seed).data
        scaled = self.settings(claim).scaled
        kinds = list(self.sketches(claim))
        errs = []
        for _ in range(p["samples"]):
            d, sizes, probs = self._random_structure(rng, d_max=12)
            for kind in kinds:
                sk = RPTSketch(sizes, probs, order=kind.split("-")[-1], scaled=scaled)
                cw, pw = sk.outcomes()
                errs.append(float(np.max(np.abs(pw @ cw - 1.0))))
        grid = np.arange(len(errs))
        return Evidence(
            "sample",
            grid,
            np.array(errs),
            claim.evaluate(T=grid),
            constants={"samples": p["samples"], "scaled": scaled},
            instance=p,
            seed=seed,
            atol=TABLE_ATOL,
            note=f"enumerated over the J outcomes; tolerance {TABLE_ATOL:g}",
        )


EXPERIMENT = register(RCDExperiment())


# --------------------------------------------------------------------------- comparisons and figures
def l_tilde_vs_probabilities(problem, ratios=None) -> dict:
    r""":math:`\tilde L(p)/\lambda_{\max}(\mathbf L)` for the RPT prefix sketch along the family
    :math:`p_j\propto r^{j}` (r < 1 favours short prefixes, r > 1 favours training every block)."""
    ratios = np.geomspace(0.25, 8.0, 41) if ratios is None else np.asarray(ratios, dtype=float)
    J = len(problem.block_sizes)
    out = []
    for r in ratios:
        p = r ** np.arange(J)
        sk = RPTSketch(problem.block_sizes, p / p.sum())
        out.append(sk.L_tilde(problem.L_matrix) / problem.L)
    return {"ratio": ratios, "L_tilde_over_L": np.array(out)}


def cost_to_eps(problem, cost=None, eps=None, T_max: int = 20000, seed: int = 0) -> dict:
    r"""RPT against GD in total cost to reach :math:`\mathbb E[f(x^k)]-f^\star\le\varepsilon\,\delta_0`.

    A step that trains a prefix of s blocks costs ``cost[s-1]`` (default s).  Compared, with
    :math:`\gamma=1/\tilde L` each: GD (:math:`p=e_J`), RPT with uniform p, and RPT with the p
    minimising :math:`\tilde L(p)\sum_sp_s\mathrm{cost}_s` (:func:`solvers.rcd.rpt_optimal_probabilities`).
    Measured costs use the exact expected gap; the theoretical ones evaluate the iteration
    complexity :data:`theorems.rcd.SC_COMPLEXITY` times the expected cost per step.
    """
    import sympy as sp

    from ratecheck.solvers.rcd import rpt_optimal_probabilities
    from ratecheck.theorems.rcd import SC_COMPLEXITY

    J = len(problem.block_sizes)
    cost = np.arange(1.0, J + 1) if cost is None else np.asarray(cost, dtype=float)
    eps = np.geomspace(1e-1, 1e-6, 11) if eps is None else np.asarray(eps, dtype=float)
    p_opt, _ = rpt_optimal_probabilities(problem.L_matrix, problem.block_sizes, cost, rng=streams(seed).algorithm)
    e0 = streams(seed).start.standard_normal(problem.d)
    complexity = sp.lambdify(
        [sp.Symbol(s.name, positive=True) for s in sorted(SC_COMPLEXITY.free_symbols, key=lambda s: s.name)],
        SC_COMPLEXITY.subs({s: sp.Symbol(s.name, positive=True) for s in SC_COMPLEXITY.free_symbols}),
    )
    names = [s.name for s in sorted(SC_COMPLEXITY.free_symbols, key=lambda s: s.name)]
    rows = {}
    for label, p in (("GD", np.eye(J)[-1]), ("RPT uniform p", np.full(J, 1.0 / J)), ("RPT optimised p", p_opt)):
        sk = RPTSketch(problem.block_sizes, p)
        Lt = sk.L_tilde(problem.L_matrix)
        m, P = sk.moments()
        ex = exact_sketched_quadratic(problem.A, e0, 1.0 / Lt, m, P, T_max)
        rel = ex["gap"] / ex["gap"][0]
        below = rel[None, :] <= eps[:, None]
        iters = np.where(below.any(1), below.argmax(1), np.nan).astype(float)
        step_cost = float(p @ cost)
        vals = dict(L_tilde=Lt, mu=problem.mu, delta0=1.0, eps=eps)
        theory = complexity(*[vals[n] for n in names])
        rows[label] = {
            "p": p,
            "L_tilde": Lt,
            "step_cost": step_cost,
            "measured_cost": iters * step_cost,
            "theory_cost": np.asarray(theory, dtype=float) * step_cost,
        }
    return {"eps": eps, "cost": cost, "rows": rows}
