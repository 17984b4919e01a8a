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

Where the pieces live: the instances and their certified optima :func:`verify.instances.rcd_problem`; the
sketches, their exact constants (:func:`solvers.rcd.sketch_constants`) and the sampled identities
(:func:`solvers.rcd.sketch_table_errors`, :func:`solvers.rcd.rpt_mean_errors`) :mod:`solvers.rcd`; the
figures' computations (:func:`solvers.rcd.l_tilde_vs_probabilities`, :func:`verify.figures.rcd.cost_to_eps`)
beside them.
"""

from __future__ import annotations

import numpy as np

from ratecheck.solvers.rcd import (
    SKETCHES,
    CoordinateSketch,
    RPTSketch,
    lambda_max,
    make_sketch,
    rpt_mean_errors,
    sketch_constants,
    sketch_table_errors,
    sketched_rcd,
)

from ..errors import UsageError
from ..expectation import exact_sketched_quadratic, running_mean_summary
from ..instances import rcd_problem, streams
from ..resources import Need
from ..schema import Choice, Constant, Custom, Float, Int, Measure, Rule, Schema, SearchVar, Setting, json_list
from ..verdict import Evidence
from . import Experiment, register

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

    # ------------------------------------------------------------------ the pipeline
    MEASURES = {"expected_gap": "_series", "avg_grad_norm_sq": "_series"}
    DIRECT_MEASURES = {"sketch_table_error": "_table", "sketch_mean_error": "_mean"}

    def sketches(self, claim) -> tuple:
        """The sketches a claim covers: its setting ``sketches``, or the measure's default."""
        chosen = self.settings(claim).sketches
        return chosen if chosen is not None else DEFAULT_SKETCHES.get(claim.measure, ("coordinate-uniform",))

    def instance_params(self, p):
        return {k: p[k] for k in _INSTANCE_KEYS}

    def instance(self, p, seed):
        """``(problem, x_star, f_low, dist_slack, certificate)`` (:func:`verify.instances.rcd_problem`)."""
        return rcd_problem(**self.instance_params(p), seed=int(seed))

    def prepare(self, claim, inst, p):
        """The instance with the claim's sketch appended (instance ``sketch``, else the claim's first; uniform RPT
        block probabilities unless ``p`` is set; the setting ``scaled`` may drop the RPT rescaling)."""
        problem = inst[0]
        J = len(problem.block_sizes)
        probs = np.full(J, 1.0 / J) if p["p"] is None else np.asarray(p["p"])
        kind, scaled = p["sketch"] or self.sketches(claim)[0], self.settings(claim).scaled
        sk = make_sketch(kind, problem.L_matrix, tau=p["tau"], block_sizes=problem.block_sizes, p=probs, scaled=scaled)
        return (*inst, sk)

    def constants(self, claim, inst, p):
        return sketch_constants(inst[0], inst[5])

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
        c.update(delta0=float(problem.value(x0) - f_low), f_low=float(f_low))
        c.update(
            {f"certificate_{k}": v for k, v in cert.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
        )
        exact = p["method"] == "exact" or (p["method"] == "auto" and p["problem"] == "quadratic")
        gamma, T, R = c["gamma"], p["T"], p["replications"]
        mean, second = sk.moments()
        # cached by the run's inputs: the two rate measures (and a claim's teeth) share instance, sketch and stepsize
        key = (id(problem), sk.name, mean.tobytes(), second.tobytes(), float(gamma), T)
        if exact:
            e0 = x0 - x_star
            make = lambda: exact_sketched_quadratic(problem.A, e0, gamma, mean, second, T)  # noqa: E731
            return "exact", self.cached("run", ("exact", *key, e0.tobytes()), make, keep=(problem,))
        make = lambda: sketched_rcd(  # noqa: E731
            problem, x0, gamma=gamma, T=T, sketch=sk, rng=streams(seed).algorithm, replications=R, x_star=x_star
        )
        return "mc", self.cached("run", ("mc", *key, x0.tobytes(), R, seed), make, keep=(problem,))

    def _series(self, claim, run):
        """Expected gap or running mean of the squared gradient norm against the bound: every T of the exact
        expectation, or MC_POINTS geometric T of the Monte Carlo means (:func:`verify.expectation.running_mean_summary`)."""
        p, c, (kind, out) = run.p, run.constants, run.result
        f_low, sk, T = run.instance[2], run.instance[5], p["T"]
        if kind == "exact":
            series, gap, g2 = dict(out), out["gap"][None, 1:], out["grad_norm_sq"][None, :T]
        else:
            series = {"gap": out.f.mean(0) - f_low, "grad_norm_sq": out.grad_norm_sq.mean(0)}
            gap, g2 = out.f[:, 1:] - f_low, out.grad_norm_sq[:, :T]
        rows = gap if claim.measure == "expected_gap" else np.cumsum(g2, axis=1) / np.arange(1, T + 1)
        grid, measured, se, nsamp, method = running_mean_summary(rows, MC_POINTS)
        bound = claim.evaluate(T=grid, **c)
        keep = np.isfinite(bound) & (bound >= FLOOR * np.max(bound[np.isfinite(bound)], initial=0.0))
        keep[0] = True
        c["sketch"] = sk.name
        return Evidence(
            "T",
            grid[keep],
            measured[keep],
            bound[keep],
            method="exact-expectation" if kind == "exact" else method,
            stderr=None if se is None else se[keep],
            n_samples=nsamp,
            constants=c,
            instance=p,
            seed=run.seed,
            series=series,
            note=f"sketch {sk.name}; compared where the bound is above {FLOOR:g} x its maximum",
        )

    # ------------------------------------------------------------------ identities
    def _identity(self, claim, p, seed, errs, constants, note, series=None):
        grid = np.arange(len(errs))
        return Evidence(
            "sample",
            grid,
            np.array(errs),
            claim.evaluate(T=grid),
            constants=constants,
            instance=p,
            seed=seed,
            atol=TABLE_ATOL,
            series=series or {},
            note=note,
        )

    def _table(self, claim, p, seed):
        """The sketch table's closed forms against enumeration (:func:`solvers.rcd.sketch_table_errors`)."""
        table, kinds = self.settings(claim).table, list(self.sketches(claim))
        errs, labels = sketch_table_errors(
            streams(seed).data, p["samples"], kinds, lambda sk, L: _table_L_tilde(sk, L, table)
        )
        worst = {k: max(e for e, lab in zip(errs, labels) if lab == k) for k in kinds}
        c = {"samples": p["samples"], "table": table, **{f"max_error_{k}": v for k, v in worst.items()}}
        note = f"relative errors; tolerance {TABLE_ATOL:g} (floating point)"
        return self._identity(claim, p, seed, errs, c, note, series={"sketch": labels})

    def _mean(self, claim, p, seed):
        """Unbiasedness of the RPT sketches (:func:`solvers.rcd.rpt_mean_errors`)."""
        scaled = self.settings(claim).scaled
        errs = rpt_mean_errors(streams(seed).data, p["samples"], list(self.sketches(claim)), scaled)
        c = {"samples": p["samples"], "scaled": scaled}
        return self._identity(claim, p, seed, errs, c, f"enumerated over the J outcomes; tolerance {TABLE_ATOL:g}")


def _table_L_tilde(sk, L, table: str) -> float:
    """The table's closed-form L_tilde, or a deliberately wrong variant (teeth of ``rcd.l-tilde``)."""
    if table == "no-hadamard" and isinstance(sk, RPTSketch):
        return lambda_max(L) / float(np.min(sk.q))
    if table == "uniform-without-d" and isinstance(sk, CoordinateSketch) and sk.name == "coordinate-uniform":
        return float(np.max(np.diag(L)))
    return sk.table_L_tilde(L)


EXPERIMENT = register(RCDExperiment())
