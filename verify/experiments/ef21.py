r"""EF21 / EF21-W experiment: heterogeneous least squares and nonconvex logistic regression.

Measures:

* ``avg_grad_norm_sq`` — :math:`\frac1T\sum_{t<T}\Vert\nabla f(x^t)\Vert^2` for every T (exact
  gradients; Monte Carlo over replications when the compressor, participation or gradients are
  random);
* ``pl_lyapunov`` — :math:`\Psi^t=f(x^t)-f^\star+\frac{\gamma}{\theta_c}G^t` (least squares);
* ``ef21w_ef21_gap`` — :math:`\max_t\Vert x_W^t-x^t\Vert/\max(1,\Vert x^t\Vert)` with matched
  initialisation;
* ``smoothness_L`` — exact :math:`L` of sampled least-squares instances (bound: :math:`L_{am}`);
* ``clone_qm`` — :math:`M_{qm}` of the cloned problem with :math:`N_i=\lceil L_i/L_{am}\rceil`
  for the instance and for sampled constant vectors.
"""

from __future__ import annotations

import numpy as np

from ratecheck import theorems
from ratecheck.solvers.compressors import make as make_compressor
from ratecheck.solvers.ef21 import clone_qm_samples, ef21, lyapunov_weights

from ..errors import UsageError
from ..expectation import replication_summary, running_mean_summary
from ..instances import (
    ef21_constants,
    heterogeneous_least_squares,
    heterogeneous_problem,
    sampled_least_squares_smoothness,
    streams,
)
from ..optima import least_squares_optimum, logistic_lower_bound
from ..resources import Need
from ..schema import Choice, Constant, Custom, Float, Int, Measure, Schema, SearchVar, Setting
from ..verdict import Evidence
from . import Experiment, register

EQUIVALENCE_ATOL = 1e-10  #: floating-point tolerance of the EF21 / EF21-W iterate comparison
PL_FLOOR = 1e-11  #: PŁ comparisons stop where the bound falls below this fraction of Psi^0
PROBLEMS = ("least-squares", "logistic")
COMPRESSOR_RULE = "a compressor name: top-K or rand-K (K >= 1), identity, natural or scaled-L[,L...] (0 < L < 2)"
_RATES = ("avg_grad_norm_sq", "pl_lyapunov")
_RUNS = _RATES + ("ef21w_ef21_gap",)
_SAMPLED = ("smoothness_L", "clone_qm")


def _compressor_name(name):
    make_compressor(name)  # raises InvalidInput (a ValueError) on names it does not know
    return name


class EF21Experiment(Experiment):
    name = "ef21"
    title = "EF21 / EF21-W on heterogeneous federated problems"
    schema = Schema(
        params=(
            Choice(
                "problem",
                "least-squares",
                "federated least squares (PL) or logistic regression with the nonconvex regulariser",
                choices=PROBLEMS,
                search=True,
            ),
            Int("n", 20, "number of clients", low=1, search=(2, 40)),
            Int("d", 20, "dimension", low=1, search=(2, 30)),
            Int("m", 10, "data points per client", low=1, search=(1, 20)),
            Float("spread", 2.0, "L_qm / L_am of the instance (1: homogeneous; at most sqrt(n))", low=0, low_open=True),
            Choice(
                "profile",
                "outlier",
                "how the L_i spread: one outlier client or a geometric profile",
                choices=("outlier", "geometric"),
                search=True,
            ),
            Float(
                "L_am",
                1.0,
                "arithmetic mean of the L_i (fixed while the spread varies); the claims are invariant "
                "to this scale, and beyond [1e-8, 1e8] float64 and the conic solver of the certified optimum are not "
                "trusted",
                low=1e-8,
                high=1e8,
            ),
            Float(
                "noise",
                0.5,
                "label noise of least squares (at most 1e8: beyond, the optimum is not certified)",
                low=0,
                high=1e8,
            ),
            Float("lam", 0.1, "weight of the nonconvex regulariser (logistic)", low=0),
            Custom(
                "compressor",
                "top-1",
                "compressor of the client messages",
                rule_text=COMPRESSOR_RULE,
                check=_compressor_name,
            ),
            Choice(
                "init",
                "grad",
                "initial g_i^0: the local gradient, zero, or its compression",
                choices=("grad", "zero", "compressed"),
                search=True,
            ),
            Int("T", 2000, "number of rounds", low=1),
            Float("stepsize_factor", 1.0, "fraction of the claim's largest stepsize", low=0, low_open=True),
            Int("replications", 64, "Monte Carlo replications (random compressor, participation or noise)", low=2),
            Float(
                "participation",
                0.5,
                "probability that a client participates in a round (PP claims)",
                low=0,
                high=1,
                low_open=True,
            ),
            Float(
                "sigma2",
                0.05,
                "variance of the stochastic gradients (SGD claims; at most 1e12: beyond, the noisy "
                "iterates overflow float64)",
                low=0,
                high=1e12,
            ),
            Int("bits_per_float", 32, "bits charged per float sent", low=1),
            Choice(
                "start",
                "random",
                "x^0 ~ N(0, I), or x^0 = x* (least squares)",
                choices=("random", "optimum"),
                search=True,
            ),
        ),
        search=(
            SearchVar("spread_frac", ("float", 0.0, 0.9), "spread as a fraction of its feasible range [1, sqrt(n)]"),
            SearchVar("k_frac", ("float", 0.0, 1.0), "Top-k with k = 1 + k_frac (d - 1)"),
            SearchVar(
                "compressor_family",
                ("choice", ["top-k", "scaled"]),
                "PL claims: Top-k, or the scaled identity C(v) = lambda v -- the worst compressor of single-node EF21 "
                "that the PEP extracts (Thomsen, Taylor, Dieuleveut 2025), which no Top-k produces",
                base=False,
            ),
            SearchVar("scale", ("float", 0.05, 1.95), "factor lambda of the scaled identity", base=False),
        ),
        constants=(
            Constant("L", "smoothness constant of f (exact: largest eigenvalue / curvature bound)", _RUNS + _SAMPLED),
            Constant("L_am", "arithmetic mean of the clients' L_i", _RUNS + _SAMPLED, latex=(r"L_{\rm AM}", "L_{AM}")),
            Constant(
                "L_qm",
                "quadratic mean of the clients' L_i",
                _RUNS + _SAMPLED,
                latex=(r"L_{\rm QM}", "L_{QM}", r"\tilde{L}"),
            ),
            Constant("alpha", "contraction parameter of the compressor", _RUNS),
            Constant(
                "theta_c", "theta(alpha) = 1 - sqrt(1 - alpha)", _RUNS, latex=(r"\theta_c(\alpha)", r"\theta(\alpha)")
            ),
            Constant(
                "xi", "xi(alpha) = sqrt(beta/theta), the factor of the EF21 stepsize", _RUNS, latex=(r"\xi(\alpha)",)
            ),
            Constant("n", "number of clients", _RUNS),
            Constant("d", "dimension", _RUNS),
            Constant("mu", "PL constant of least squares (smallest nonzero eigenvalue; nan for logistic)", _RUNS),
            Constant("spread", "L_qm / L_am", _RUNS),
            Constant("gamma", "the stepsize run: the claim's largest stepsize times stepsize_factor", _RUNS),
            Constant(
                "delta0", "f(x^0) - f_low, with f_low the certified optimum (least squares) or lower bound", _RATES
            ),
            Constant(
                "G0",
                "G^0 = sum_i w_i ||g_i^0 - grad f_i(x^0)||^2 with the claim's Lyapunov weights",
                _RATES,
                latex=("G^0",),
            ),
            Constant("f0", "f(x^0)", _RATES),
            Constant("f_low", "certified f* (least squares) or lower bound on f_inf (logistic)", _RATES),
            Constant("p_min", "smallest participation probability (setting participation=true)", _RATES),
            Constant("sigma2", "(1/n) sum_i (L_am/L_i) sigma_i^2 (setting noise=true)", _RATES, latex=(r"\sigma^2",)),
            Constant("homogeneous", "1 if the compressor is positively homogeneous, else 0", ("ef21w_ef21_gap",)),
        ),
        measures=(
            Measure(
                "avg_grad_norm_sq",
                "running mean over t < T of ||grad f(x^t)||^2, for every T "
                "(Monte Carlo over replications when the compressor, participation or gradients are random)",
                grid="T",
                random=True,
            ),
            Measure(
                "pl_lyapunov", "Psi^T = f(x^T) - f* + (gamma/theta_c) G^T (least squares, PL)", grid="T", random=True
            ),
            Measure("ef21w_ef21_gap", "max_t ||x_W^t - x^t|| / max(1, ||x^t||), matched initialisation", grid="T"),
            Measure("smoothness_L", "exact L of f on 40 sampled least-squares instances", grid="sample"),
            Measure("clone_qm", "quadratic mean M_qm of the cloned problem with N_i = ceil(L_i/L_am)", grid="sample"),
        ),
        settings=(
            Setting(
                "algorithm",
                "ef21",
                "EF21, EF21-W (weights L_i / sum L_j), or both (the equivalence claim)",
                choices=("ef21", "ef21-w", "both"),
            ),
            Setting(
                "lyapunov",
                "qm",
                "weights of G: 1/n (qm), L_am/(n L_i) (am) or L_i / sum L_j (w)",
                choices=("qm", "am", "w"),
                measures=("avg_grad_norm_sq", "pl_lyapunov"),
            ),
            Setting(
                "noise",
                False,
                "stochastic gradients with variance sigma2 per client",
                kind="flag",
                measures=("avg_grad_norm_sq",),
            ),
            Setting(
                "participation",
                False,
                "partial participation with probability `participation`",
                kind="flag",
                measures=("avg_grad_norm_sq",),
            ),
            Setting(
                "compressor",
                None,
                "compressor to run instead of the instance's",
                kind="text",
                rule_text=COMPRESSOR_RULE,
                check=_compressor_name,
            ),
        ),
    )

    def search_space_for(self, claim):
        """PŁ claims and start='optimum' need least squares; the other claims search both problems."""
        space = dict(self.search_space)
        if claim.measure in ("pl_lyapunov", "smoothness_L", "clone_qm"):
            space["problem"] = ("choice", ["least-squares"])
        if claim.measure == "pl_lyapunov" and not self.settings(claim).compressor:
            space["compressor_family"] = ("choice", ["top-k", "scaled"])
            space["scale"] = ("float", 0.05, 1.95)
        return space

    def from_search(self, point):
        """Feasible EF21 instance from a search point: spread and k as fractions of their ranges; for the PL
        claims also the scaled identity with factor ``scale`` in place of Top-k."""
        p = dict(point)
        n, d = int(p.pop("n", self.defaults["n"])), int(p.pop("d", self.defaults["d"]))
        frac = float(p.pop("spread_frac", 0.5))
        cap = 0.3 if p.get("problem") == "logistic" else (0.5 if p.get("profile") == "geometric" else 1.0)
        k = 1 + int(float(p.pop("k_frac", 0.0)) * (d - 1))
        scaled, lam = p.pop("compressor_family", "top-k") == "scaled", float(p.pop("scale", 1.0))
        compressor = f"scaled-{lam:.6g}" if scaled else f"top-{k}"
        out = dict(p, n=n, d=d, spread=float(1 + frac * cap * (np.sqrt(n) - 1)), compressor=compressor)
        out["m"] = max(int(out.get("m", 1)), -(-d // n))  # n*m >= d, so mu > 0 for PL claims
        if out.get("problem") == "logistic":
            out["L_am"] = 20.0
            out["start"] = "random"
        return out

    def memory_needs(self, p):
        """Upper bounds (8-byte entries) over every measure: the client data ``(n, m, d)`` and its copies
        (generated, rescaled, labelled for logistic regression, cloned for clone_qm, the optimum's lstsq and
        cvxpy data), the per-client Gram matrices and the Hessian, EF21's state per replication (iterates,
        gradients, targets, g_i, difference, compressor scratch, residuals) and its series (values,
        gradient norms, G per replication; the iterates of the equivalence runs)."""
        n, d, m, R, T = (int(p[k]) for k in ("n", "d", "m", "replications", "T"))
        return [
            Need("10*n*m*d", 10 * n * m * d, ("n", "m", "d")),
            Need("2*n*min(m,d)^2 + 4*d^2", 2 * n * min(m, d) ** 2 + 4 * d * d, ("n", "m", "d")),
            Need("12*replications*n*(d+m)", 12 * R * n * (d + m), ("replications", "n", "d")),
            Need("4*replications*(T+1) + 2*(T+1)*d", 4 * R * (T + 1) + 2 * (T + 1) * d, ("replications", "T", "d")),
        ]

    # ------------------------------------------------------------------ instances
    def instances(self, claim, quick=False):
        T = 300 if quick else 2000
        s = self.settings(claim)
        if claim.measure == "avg_grad_norm_sq" and s.noise:
            base = dict(compressor="top-5", T=400 if quick else 2000, replications=32 if quick else 64, sigma2=1.0)
            return [base, dict(base, start="optimum")]
        if claim.measure == "avg_grad_norm_sq" and s.participation:
            return [dict(compressor="top-1", T=T, replications=32 if quick else 64, participation=0.5)]
        if claim.measure == "avg_grad_norm_sq":
            out = [dict(T=T), dict(profile="geometric", spread=1.5, compressor="top-2", init="zero", T=T)]
            out.append(dict(problem="logistic", T=T))
            return out[:2] if quick else out
        if claim.measure == "pl_lyapunov":
            T = 1500 if quick else 6000
            return [dict(T=T, d=10), dict(profile="geometric", spread=1.5, compressor="top-2", init="zero", T=T, d=10)]
        if claim.measure == "ef21w_ef21_gap":
            return [dict(T=300), dict(problem="logistic", compressor="top-2", T=300)]
        return [dict()]

    # ------------------------------------------------------------------ the pipeline
    MEASURES = {
        "avg_grad_norm_sq": "_avg_grad_norm_sq",
        "pl_lyapunov": "_pl_lyapunov",
        "ef21w_ef21_gap": "_equivalence",
    }
    DIRECT_MEASURES = {"smoothness_L": "_smoothness", "clone_qm": "_cloning"}

    def instance_params(self, p):
        return {k: p[k] for k in ("problem", "n", "d", "m", "spread", "profile", "L_am", "noise", "lam")}

    def instance(self, p, seed):
        return heterogeneous_problem(seed=seed, **self.instance_params(p))

    def prepare(self, claim, problem, p):
        """The problem and the compressor run (the claim's setting, else the instance's)."""
        return problem, make_compressor(self.settings(claim).compressor or p["compressor"])

    def _optimum(self, problem):
        """The certified optimum (least squares) or lower bound (logistic), through the shared cache."""
        make = least_squares_optimum if hasattr(problem, "b") else logistic_lower_bound
        return self.cached("optimum", id(problem), lambda: make(problem), keep=(problem,))

    def constants(self, claim, inst, p):
        """The smoothness constants and the compressor's; for the rates also the claim's setting constants
        (p_min, sigma2) and the certified f_low."""
        problem, comp = inst
        c = ef21_constants(problem, comp)
        meas, s = claim.measure, self.settings(claim)
        if meas == "ef21w_ef21_gap":
            return c
        if s.algorithm not in ("ef21", "ef21-w"):
            raise UsageError(
                f"claim {claim.id}: setting algorithm must be 'ef21' or 'ef21-w' for {meas}, got {s.algorithm!r}"
            )
        if s.participation:
            c["p_min"] = float(p["participation"])
        if s.noise:
            c["sigma2"] = float(np.mean(problem.L_am / problem.L_i * np.full(problem.n, p["sigma2"])))
        if meas == "pl_lyapunov" and (not hasattr(problem, "b") or not problem.mu > 0):
            raise UsageError(f"claim {claim.id} needs a PL instance: use problem='least-squares'")
        c["f_low"] = self._optimum(problem).lower
        if p["start"] == "optimum" and not hasattr(problem, "b"):
            raise UsageError("start='optimum' needs problem='least-squares'")
        return c

    def stepsize(self, claim, c, p):
        """The claim's largest stepsize; the equivalence claim runs both methods at EF21's L_am stepsize."""
        rule = theorems.get("ef21.nonconvex-am") if claim.measure == "ef21w_ef21_gap" else claim
        return rule.max_stepsize(**c) * p["stepsize_factor"]

    def solve(self, claim, inst, c, p, seed):
        """EF21 (or EF21-W) from x^0 ~ N(0, I) (or x*), replicated when anything in it is random; for the
        equivalence claim, EF21 and EF21-W on the same compressor draws, every iterate kept."""
        problem, comp = inst
        x0 = streams(seed).start.standard_normal(problem.d)
        weights = lyapunov_weights(problem.L_i, problem.L_am)
        run = dict(gamma=c["gamma"], T=p["T"], compressor=comp, init=p["init"])
        if claim.measure == "ef21w_ef21_gap":
            c["homogeneous"] = float(comp.homogeneous)
            run["checkpoints"] = range(p["T"] + 1)
            # the same compressor draws for both
            return tuple(ef21(problem, x0, rng=streams(seed).algorithm, weights=w, **run) for w in (None, weights["w"]))
        s, opt = self.settings(claim), self._optimum(problem)
        participation = np.full(problem.n, p["participation"]) if s.participation else None
        noise = np.full(problem.n, p["sigma2"]) if s.noise else None
        stochastic = (not comp.deterministic) or s.participation or s.noise
        tr = ef21(
            problem,
            opt.x if p["start"] == "optimum" else x0,
            rng=streams(seed).algorithm,
            weights=weights["w"] if s.algorithm == "ef21-w" else None,
            participation=participation,
            noise=noise,
            replications=p["replications"] if stochastic else 1,
            lyapunov={s.lyapunov: weights[s.lyapunov]},
            bits_per_float=p["bits_per_float"],
            **run,
        )
        c.update(delta0=float(tr.f[0, 0] - c["f_low"]), G0=float(tr.G[s.lyapunov][0, 0]), f0=float(tr.f[0, 0]))
        c.update(
            {f"certificate_{k}": v for k, v in opt.certificate.items() if np.ndim(v) == 0 and not isinstance(v, str)}
        )
        if tr.diverged_at is not None:
            c["diverged_at"] = tr.diverged_at
        return tr

    # ------------------------------------------------------------------ the measures
    @staticmethod
    def _evidence(run, grid_name, grid, bound, measured, **kw):
        """Evidence of a run: ``measured`` is the series or its ``(mean, stderr, n_samples, method)`` summary."""
        if isinstance(measured, tuple):
            measured, kw["stderr"], kw["n_samples"], kw["method"] = measured
        return Evidence(grid_name, grid, measured, bound, constants=run.constants, instance=run.p, seed=run.seed, **kw)

    def _avg_grad_norm_sq(self, claim, run):
        tr = run.result
        grid, *summary = running_mean_summary(tr.running_mean(run.p["T"]), 40)
        series = dict(floats_per_client=tr.floats, bits_per_client=tr.bits, grad_norm_sq=tr.grad_norm_sq.mean(axis=0))
        return self._evidence(run, "T", grid, claim.evaluate(T=grid, **run.constants), tuple(summary), series=series)

    def _pl_lyapunov(self, claim, run):
        """Psi^T while the bound is above PL_FLOOR Psi^0 (T >= 1: Psi^0 equals the bound at T = 0)."""
        tr, c = run.result, run.constants
        psi = tr.lyapunov(c["f_low"], c["gamma"] / c["theta_c"], self.settings(claim).lyapunov)
        t = np.arange(run.p["T"] + 1)
        bound = claim.evaluate(T=t, **c)
        keep = bound >= PL_FLOOR * bound[0]
        keep[0] = False
        note = f"compared while the bound is above {PL_FLOOR:g} * Psi^0 (floating-point floor)"
        series = {"floats_per_client": tr.floats, "bits_per_client": tr.bits}
        summary = replication_summary(psi[:, keep])
        return self._evidence(run, "T", t[keep], bound[keep], summary, series=series, note=note)

    def _equivalence(self, claim, run):
        xa, xb = (tr.x_checkpoints[0] for tr in run.result)
        gap = np.linalg.norm(xa - xb, axis=1) / np.maximum(1.0, np.linalg.norm(xa, axis=1))
        grid = np.arange(run.p["T"] + 1)
        note = f"compressor {run.instance[1].name}, tolerance {EQUIVALENCE_ATOL:g}"
        return self._evidence(
            run, "t", grid, claim.evaluate(T=grid, **run.constants), gap, atol=EQUIVALENCE_ATOL, note=note
        )

    def _smoothness(self, claim, p, seed):
        Ls, Lam = sampled_least_squares_smoothness(streams(seed).data, K=40)
        c, series = {"samples": Ls.size}, {"L_am": Lam}
        bound = claim.evaluate(L_am=Lam, L_qm=Lam, L=Ls)
        return Evidence("sample", np.arange(Ls.size), Ls, bound, constants=c, instance=p, seed=seed, series=series)

    def _cloning(self, claim, p, seed):
        """Sample 0: the instance (else the default least squares) cloned explicitly; then sampled vectors."""
        ls = p["problem"] == "least-squares"
        problem = self.cached_instance(p, seed) if ls else heterogeneous_least_squares(seed=seed)
        M, am, c = clone_qm_samples(problem, streams(seed).data, K=300, n_max=50)
        bound, note = claim.evaluate(L_am=am, L=am, L_qm=am), "sample 0 is the explicitly cloned instance"
        return Evidence("sample", np.arange(M.size), M, bound, constants=c, instance=p, seed=seed, note=note)


EXPERIMENT = register(EF21Experiment())
