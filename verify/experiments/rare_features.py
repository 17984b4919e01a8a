r"""Rare-features experiment: support-restricted EF21 + Top-k on sparse federated problems.

Error Feedback Shines when Features are Rare (Richtárik, Gasanov, Burlachenko, arXiv:2305.15264),
``notes/rare_features.md``.  Measures:

* ``avg_grad_norm_sq`` — :math:`\frac1T\sum_{t<T}\Vert\nabla f(x^t)\Vert^2` for every T of one
  deterministic EF21 + Top-k run (exact gradients; the expectation over the random output
  :math:`\hat x^T` is this running mean, exactly);
* ``L_plus`` — the exact mean-squared smoothness of sparse least-squares instances (the instance and
  sampled ones, including disjoint supports);
* ``bits_to_eps`` — bits sent by each worker until the running mean drops below
  :math:`\varepsilon=` ``eps_rel`` :math:`\cdot\max_iL_i\cdot\delta_0`, on a family with fixed n, r,
  m and client spectra and growing multiplicity c (``design="regular"``), with GD alongside.

Instances: the authors' generator (``design="random"``; n = 100, d = 500, m = 12,
c/n in {0.05, 0.5, 0.9} in the full runs, smaller ones in quick runs), with the restricted nonconvex
regulariser (``problem="least-squares-nc"``), sparse logistic regression, or a LIBSVM file
(``data``, ``clients``, ``split``).  Communication is charged per :class:`solvers.rare_features.Accounting`
(``bits_per_float``, ``count_indices``, ``count_first_round``, ``gd_charge``).

Where the pieces live: the problem, start point, constants and sampled L_plus instances in
:mod:`verify.instances` (``rare_features_instance``, ``rare_features_start``, ``rare_features_constants``,
``sampled_rare_features_problems``), the certified lower bound :func:`verify.optima.rare_features_lower_bound`,
the Lyapunov weights :func:`solvers.rare_features.lyapunov_weights`, the first figure's runs
:func:`verify.figures.rare_features.gradnorm_vs_bits`.
"""

from __future__ import annotations

import math
import os
import re

import numpy as np
import sympy as sp

from ratecheck.solvers.compressors import TopK
from ratecheck.solvers.ef21 import ef21
from ratecheck.solvers.rare_features import Accounting, gd_sparse, lyapunov_weights

from ..errors import UsageError
from ..fit import loglog_fit
from ..instances import (
    rare_features_constants,
    rare_features_instance,
    rare_features_start,
    sampled_rare_features_problems,
    streams,
)
from ..optima import rare_features_lower_bound
from ..resources import Need
from ..schema import Choice, Constant, Custom, Flag, Float, Int, Measure, Rule, Schema, SearchVar, Setting, json_list
from ..verdict import Evidence
from . import Experiment, register

PROBLEMS = {"least-squares": ("squares", False), "least-squares-nc": ("squares", True), "logistic": ("logistic", False)}
COMPRESSOR_RULE = "top-k (the instance's k) or top-K with an integer K >= 1"
_RATE, _BITS = "avg_grad_norm_sq", "bits_to_eps"
_RUNS = (_RATE, _BITS)  #: the measures that run EF21 + Top-k
#: the parameters that name the problem (its cache key); the data ones also feed verify.instances.rare_features_instance
_DATA_KEYS = ("data", "clients", "split", "bias", "n", "d", "m", "c", "design")
_ACCOUNTING_KEYS = ("bits_per_float", "count_indices", "count_first_round", "gd_charge")  #: Accounting's fields


def _compressor_name(name: str) -> str:
    """A claim's compressor: Top-k only (``top-k`` takes the instance's k)."""
    if not re.fullmatch(r"top-(k|[1-9][0-9]*)", name):
        raise ValueError(name)
    return name


def _data_file(path):
    """``data``: a path to an existing LIBSVM/svmlight file."""
    if not isinstance(path, (str, os.PathLike)) or not os.path.isfile(path):
        raise ValueError(path)
    return path


def _c_values(cv):
    """``c_values``: at least 3 distinct integers >= 1, as a tuple of ints."""
    if not (
        isinstance(cv, (list, tuple))
        and len(cv) >= 3
        and len(set(cv)) == len(cv)
        and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1 for v in cv)
    ):
        raise ValueError(cv)
    return tuple(int(v) for v in cv)


def _k_of(compressor: str, p: dict) -> int:
    """k of a claim's Top-k compressor: ``top-K`` fixes it, ``top-k`` takes the instance's ``k``."""
    return p["k"] if compressor == "top-k" else int(compressor[len("top-") :])


def _accounting(p: dict) -> Accounting:
    """The communication accounting of instance ``p`` (:class:`solvers.rare_features.Accounting`)."""
    return Accounting(**{k: p[k] for k in _ACCOUNTING_KEYS})


def _min_sqrt_c_over_n_L_plus_over_L(arr: dict) -> float:
    """min over the instances of sqrt(c/n) L_plus / L (how far the rare-features factor is from 1)."""
    return float(np.min(np.sqrt(arr["c"] / arr["n"]) * arr["L_plus"] / arr["L"]))


class RareFeaturesExperiment(Experiment):
    name = "rare_features"
    title = "EF21 + Top-k on sparse data with rare features (support-restricted)"
    schema = Schema(
        params=(
            # the synthetic problem (the authors' generator) and the run
            Choice(
                "problem",
                "least-squares",
                "loss: least squares, least squares with the restricted nonconvex regulariser, or logistic regression",
                choices=tuple(PROBLEMS),
                search=True,
            ),
            Choice(
                "design",
                "random",
                "ownership of the features: the authors' random generator, or regular "
                "(every feature owned by exactly c clients)",
                choices=("random", "regular"),
                search=True,
            ),
            Int("n", 40, "number of clients (workers)", low=1, search=(2, 40)),
            Int("d", 60, "number of features (synthetic data)", low=1),
            Int("m", 12, "data rows per client", low=1, search=(1, 12)),
            Int(
                "c",
                4,
                "multiplicity: the largest number of clients owning one feature (synthetic data; "
                "split='multiplicity' targets it on a LIBSVM file)",
                low=1,
            ),
            Int("k", 1, "Top-k: coordinates each client sends per round (claim compressor 'top-k')", low=1),
            Choice(
                "init",
                "grad",
                "initial g_i^0: the local gradient, zero, or its compression",
                choices=("grad", "zero", "compressed"),
                search=True,
            ),
            Int("T", 2000, "number of rounds", low=1),
            Float("stepsize_factor", 1.0, "fraction of the claim's largest stepsize", low=0, low_open=True),
            Float(
                "reg",
                3.0,
                "weight of the restricted nonconvex regulariser, lambda' = reg * max_j L_j "
                "(problem='least-squares-nc')",
                low=0,
                search=(0.1, 10.0),
                log=True,
            ),
            Choice(
                "start",
                "uniform",
                "x^0: U(-1/sqrt(d), 1/sqrt(d)) as the authors (PyTorch's nn.Linear), zero, or N(0, I)",
                choices=("uniform", "zero", "random"),
                search=True,
            ),
            # a LIBSVM file instead of the generator
            Custom(
                "data",
                None,
                "path to a LIBSVM/svmlight file (None: the synthetic generator)",
                optional=True,
                rule_text="a path to an existing LIBSVM/svmlight file",
                check=_data_file,
            ),
            Int("clients", None, "number of workers the file is split over (None: n)", optional=True, low=1),
            Choice(
                "split",
                "shuffled",
                "how the file's rows go to the workers: contiguous, shuffled, or 'multiplicity' (target c)",
                choices=("contiguous", "shuffled", "multiplicity"),
            ),
            Flag("bias", False, "append a constant feature to the file's data, as the authors (owned by all: c = n)"),
            # communication accounting (solvers.rare_features.Accounting)
            Int("bits_per_float", 32, "bits charged per float sent", low=1),
            Flag("count_indices", False, "also charge ceil(log2 d) bits of index per sparse value sent"),
            Flag(
                "count_first_round", True, "charge the initial uncompressed round of init='grad' (the authors do not)"
            ),
            Choice(
                "gd_charge",
                "nnz",
                "what a GD round costs a worker: its gradient's nonzeros, its support |Z_i|, or d floats (the authors)",
                choices=("nnz", "support", "dense"),
            ),
            # the bits_to_eps family (regular design, d = n r / c)
            Int("r", 8, "features per client of the bits_to_eps family", low=1),
            Custom(
                "c_values",
                (1, 2, 4, 8, 16),
                "multiplicities c of the bits_to_eps family (each divides n r, <= n)",
                rule_text="at least 3 distinct integers >= 1",
                check=_c_values,
                parser=json_list,
            ),
            Float("eps_rel", 1e-3, "target of bits_to_eps: eps = eps_rel * max_i L_i * delta0", low=0, low_open=True),
            Int("T_max", 200_000, "round budget of each bits_to_eps run", low=1),
            # the L_plus identity
            Int("samples", 40, "sampled sparse least-squares instances of the L_plus check", low=1),
        ),
        #: Counterexample search (synthetic generator only; LIBSVM files are not searched): the sparsity
        #: pattern (n, c as a fraction of n, about r_target features per client, the design), the rows m,
        #: the loss, the regulariser, k as a fraction of the features per client, init and start.
        search=(
            SearchVar("c_frac", ("float", 0.0, 1.0), "multiplicity c = 1 + round(c_frac (n - 1))"),
            SearchVar("r_target", ("int", 1, 12), "features per client: d is the smallest size giving about r_target"),
            SearchVar("k_frac", ("float", 0.0, 1.0), "Top-k with k = 1 + round(k_frac (r_target - 1))"),
        ),
        search_order=("problem", "design", "n", "c_frac", "r_target", "m", "k_frac", "reg", "init", "start"),
        rules=(
            Rule(
                "c must satisfy 1 <= c <= n (synthetic data)",
                ("c", "n"),
                lambda p: p["data"] is not None or p["c"] <= p["n"],
            ),
            Rule(
                "k must satisfy 1 <= k <= d (synthetic data)",
                ("k", "d"),
                lambda p: p["data"] is not None or p["k"] <= p["d"],
            ),
        ),
        constants=(
            Constant("L", "smoothness constant of f (exact for least squares, else a certified upper bound)"),
            Constant(
                "L_plus",
                "mean-squared smoothness L_plus (exact for least squares, else a certified upper bound)",
                latex=("L_{+}",),
            ),
            Constant("L_qm", "quadratic mean of the clients' L_i"),
            Constant("L_am", "arithmetic mean of the clients' L_i"),
            Constant("L_max", "max_i L_i"),
            Constant("L_O", "owners' constant (1/n) max_j sum_(i owns j) L_i"),
            Constant("c", "multiplicity: max_j |O_j|"),
            Constant("n", "number of clients"),
            Constant("d", "number of features"),
            Constant("r", "max_i |Z_i|, features per client"),
            Constant("k", "k of Top-k", _RUNS),
            Constant("alpha", "k/d, the generic Top-k contraction constant", _RUNS),
            Constant("alpha_kr", "min(1, k/r), Top-k's contraction on vectors with at most r nonzeros", _RUNS),
            Constant("theta_c_kr", "theta_c(min(1, k/r))", _RUNS),
            Constant("xi_kr", "xi(min(1, k/r))", _RUNS),
            Constant("xi_kd", "xi(k/d)", _RUNS),
            Constant("L_plus_bound", "min(L_qm, sqrt(c/n) max_i L_i), the RF-1 upper bound on L_plus", _RUNS),
            Constant("exact_L", "1 if L and L_plus are exact (least squares without regulariser), else 0", _RUNS),
            Constant("nnz", "nonzeros of the data matrix", _RUNS),
            Constant("S", "sum_i |Z_i|, owned (client, feature) pairs", _RUNS),
            Constant("gamma", "the stepsize run: the claim's largest stepsize (times stepsize_factor)", _RUNS),
            Constant(
                "G0",
                "G^0 = sum_i w_i ||g_i^0 - grad f_i(x^0)||^2 with the claim's Lyapunov weights "
                "(0 for bits_to_eps, which starts from g_i^0 = grad f_i(x^0))",
                _RUNS,
                latex=("G^0",),
            ),
            Constant("delta0", "f(x^0) - f_low", _RUNS),
            Constant("f0", "f(x^0)", (_RATE,)),
            Constant("f_low", "certified lower bound on f_inf (least-squares minimum, or logistic dual / 0)", (_RATE,)),
            Constant("mu", "PL constant of the least-squares part (supplied when it certifies f_low)", (_RATE,)),
            Constant("gamma_rare", "the rare-features stepsize 1/(L + sqrt(c/n) L_plus xi(min(1, k/r)))", (_RATE,)),
            Constant("gamma_classical", "the classical EF21 stepsize 1/(L + L_qm xi(k/d))", (_RATE,)),
            Constant("eps", "target accuracy eps_rel * max_i L_i * delta0", (_BITS,)),
        ),
        measures=(
            Measure(
                "avg_grad_norm_sq",
                "running mean over t < T of ||grad f(x^t)||^2, for every T (one deterministic "
                "Top-k run: exactly the expectation over the random output x_hat^T)",
                grid="T",
            ),
            Measure(
                "L_plus",
                "exact mean-squared smoothness L_plus of sparse least-squares instances (instance + sampled)",
                grid="sample",
            ),
            Measure(
                "bits_to_eps",
                "bits per worker until the running mean of ||grad f||^2 <= eps_rel * max_i L_i * delta0, against c",
                grid="c",
            ),
        ),
        settings=(
            Setting(
                "algorithm",
                "ef21",
                "EF21 or EF21-W (the same iterates: Top-k is positively homogeneous)",
                choices=("ef21", "ef21-w"),
                measures=_RUNS,
            ),
            Setting(
                "compressor",
                "top-k",
                "the Top-k compressor run (top-k: the instance's k)",
                kind="text",
                rule_text=COMPRESSOR_RULE,
                check=_compressor_name,
                measures=_RUNS,
            ),
            Setting(
                "lyapunov",
                "uniform",
                "weights of G: 1/n (uniform, qm, rare), L_am/(n L_i) (am, w) or L_O/(n L_i) (owners)",
                choices=("uniform", "qm", "rare", "am", "w", "owners"),
                measures=(_RATE,),
            ),
            Setting(
                "noise",
                False,
                "stochastic gradients: not supported (a claim setting it is refused)",
                kind="flag",
                measures=(_RATE,),
            ),
            Setting(
                "participation",
                False,
                "partial participation: not supported (a claim setting it is refused)",
                kind="flag",
                measures=(_RATE,),
            ),
            Setting(
                "baseline",
                None,
                "a competitor's O(.) bits (e.g. GD's r L / eps), evaluated alongside for the figure",
                kind="expr",
                measures=(_BITS,),
            ),
            Setting(
                "scaling_mode",
                "equal",
                "judge the fitted exponent in c as equal to, or at most, the predicted one",
                choices=("equal", "at-most"),
                measures=(_BITS,),
            ),
        ),
    )

    # ------------------------------------------------------------------ counterexample search
    def search_space_for(self, claim):
        """EF21 + Top-k rates search the full space; ``L_plus`` (constants of the least-squares
        version of the instance) only the sparsity pattern and the rows; the complexity claim is a
        scaling claim (not searched)."""
        if claim.measure == "avg_grad_norm_sq":
            return dict(self.search_space)
        if claim.measure == "L_plus":
            return {k_: self.search_space[k_] for k_ in ("design", "n", "c_frac", "r_target", "m")}
        return None

    def from_search(self, point):
        """Valid generator parameters from a search point: ``c = 1 + round(c_frac (n - 1))``, ``d`` the
        smallest size giving about ``r_target`` features per client (a multiple of ``n/gcd(n, c)`` for
        the regular design, which needs n | d c), ``k = 1 + round(k_frac (r_target - 1))``."""
        p = dict(point)
        n = int(p.pop("n", self.defaults["n"]))
        c = 1 + int(round(float(p.pop("c_frac", 0.0)) * (n - 1)))
        r = int(p.pop("r_target", 1))
        d = max(1, -(-n * r // c))
        if p.get("design", self.defaults["design"]) == "regular":
            step = n // math.gcd(n, c)
            d = step * -(-d // step)
        out = dict(p, n=n, c=c, d=d)
        if "k_frac" in out:
            out["k"] = min(d, 1 + int(round(float(out.pop("k_frac")) * (r - 1))))
        if "reg" in out:
            out["reg"] = float(out["reg"])
        return out

    # ------------------------------------------------------------------ instances
    def instances(self, claim, quick=False):
        m = claim.measure
        if m == "avg_grad_norm_sq":
            T = 300 if quick else 2000
            out = [dict(T=T), dict(problem="least-squares-nc", c=8, init="zero", k=2, T=T)]
            if not quick:
                out += [
                    dict(problem="logistic", c=8, T=T),
                    dict(n=100, d=500, c=5, T=T),
                    dict(n=100, d=500, c=50, init="zero", T=1000),
                ]
            return out
        if m == "L_plus":
            return [dict(samples=12 if quick else 40), dict(c=1, design="regular", n=12, d=36, samples=4)]
        if m == "bits_to_eps":
            if quick:
                return [dict(n=8, r=4, m=6, c_values=(1, 2, 4, 8), eps_rel=1e-2)]
            return [dict(n=16, r=8, m=12, c_values=(1, 2, 4, 8, 16), eps_rel=1e-3)]
        return [dict()]

    def memory_needs(self, p):
        """Upper bounds (8-byte entries) over every measure.  Synthetic data: the ownership draw ``(d, n)``,
        the sparse data and its layouts (``m c d`` nonzeros: CSR, COO, flat-support and padded copies), the
        per-client Gram blocks ``(n, m, m)``, the dense Hessian of the PL constant (d <= 2000), the series of
        a run (T) and of the bits_to_eps family (``n r`` features per multiplicity, T_max rounds), the sampled
        instances of L_plus.  A LIBSVM file: its parsing (about 64 bytes per byte of the file); the problem
        built from it is checked once its size is known (:func:`verify.instances.libsvm_problem`)."""
        n, d, m, c, T = (int(p[k]) for k in ("n", "d", "m", "c", "T"))
        r, T_max, samples = int(p["r"]), int(p["T_max"]), int(p["samples"])
        out = [
            Need("6*(T+1) + 11*(T_max+1)", 6 * (T + 1) + 11 * (T_max + 1), ("T", "T_max")),
            Need(
                "20*(m+1)*n*r + 4*min(n*r,2000)^2 + 3*n*r*n",
                20 * (m + 1) * n * r + 4 * min(n * r, 2000) ** 2 + 3 * n * r * n,
                ("n", "r", "m"),
            ),
            Need("10000*samples", 10000 * samples, ("samples",)),
        ]
        if p["data"] is not None:
            try:
                size = os.path.getsize(p["data"])
            except OSError:
                size = 0
            return out + [Need("8*(bytes of the data file)", 8 * size, ("the data file",))]
        return out + [
            Need("3*n*d + 20*(m+1)*c*d", 3 * n * d + 20 * (m + 1) * c * d, ("n", "d", "c", "m")),
            Need(
                "5*n*m^2 + 4*min(d,2000)^2 + 30*(n+d)",
                5 * n * m * m + 4 * min(d, 2000) ** 2 + 30 * (n + d),
                ("n", "m", "d"),
            ),
        ]

    # ------------------------------------------------------------------ the pipeline
    MEASURES = {"avg_grad_norm_sq": "_rate"}
    DIRECT_MEASURES = {"L_plus": "_lplus", "bits_to_eps": "_complexity"}

    def instance_params(self, p):
        return {k: p[k] for k in ("problem", "reg", *_DATA_KEYS)}

    def instance(self, p, seed):
        """The sparse problem of ``p`` (:func:`verify.instances.rare_features_instance`): the loss of ``problem``,
        with the restricted regulariser of weight ``reg`` for least-squares-nc."""
        loss, nonconvex = PROBLEMS[p["problem"]]
        reg = p["reg"] if nonconvex else 0.0
        return rare_features_instance(**{k: p[k] for k in _DATA_KEYS}, loss=loss, reg=reg, seed=seed)

    def prepare(self, claim, P, p):
        """The problem and the k of the claim's Top-k (EF21 and EF21-W run the same iterates with Top-k,
        which is positively homogeneous); stochastic gradients and partial participation are refused."""
        s = self.settings(claim)
        if s.noise or s.participation:
            raise UsageError(
                f"claim {claim.id}: stochastic gradients / partial participation are not supported by 'rare_features'"
            )
        k = _k_of(s.compressor, p)
        if k > P.d:  # a LIBSVM file's d, or a claim's top-K
            raise UsageError(f"k must satisfy 1 <= k <= d, got k={k} > d={P.d}")
        return P, k

    def constants(self, claim, inst, p):
        return rare_features_constants(*inst)

    def stepsize(self, claim, c, p):
        return claim.max_stepsize(**c) * p["stepsize_factor"]

    def _f_lower(self, P):
        """:func:`verify.optima.rare_features_lower_bound` of the instance, through the shared cache."""
        return self.cached("f_lower", id(P), lambda: rare_features_lower_bound(P), keep=(P,))

    def solve(self, claim, inst, c, p, seed):
        """One deterministic EF21 + Top-k run from the instance's start point, with the claim's Lyapunov weights."""
        P, k = inst
        lyap_name = self.settings(claim).lyapunov
        f_low, cert = self._f_lower(P)
        x0 = rare_features_start(p["start"], P.d, seed)
        lyapunov = {lyap_name: lyapunov_weights(lyap_name, P)}
        tr = ef21(
            P,
            x0,
            gamma=c["gamma"],
            T=p["T"],
            compressor=TopK(k),
            init=p["init"],
            lyapunov=lyapunov,
            accounting=_accounting(p),
        )
        c.update(
            delta0=float(tr.f[0] - f_low),
            G0=float(tr.G[lyap_name][0]),
            f0=float(tr.f[0]),
            f_low=f_low,
            gamma_rare=1 / (P.L + math.sqrt(P.c / P.n) * P.L_plus * c["xi_kr"]),
            gamma_classical=1 / (P.L + P.L_qm * c["xi_kd"]),
        )
        c.update({k_: v for k_, v in cert.items() if not isinstance(v, str)})
        if tr.diverged_at is not None:
            c["diverged_at"] = tr.diverged_at
        return tr

    # ------------------------------------------------------------------ the measures
    def _rate(self, claim, run):
        tr, c, T = run.result, run.constants, run.p["T"]
        grid = np.arange(1, T + 1)
        series = {"grad_norm_sq": tr.grad_norm_sq, "bits_per_worker": tr.bits, "floats_per_worker": tr.floats}
        method = self._f_lower(run.instance[0])[1]["f_low_method"]
        return Evidence(
            "T",
            grid,
            np.cumsum(tr.grad_norm_sq[:T]) / grid,
            claim.evaluate(T=grid, **c),
            constants=c,
            instance=run.p,
            seed=run.seed,
            series=series,
            note=f"{method}; accounting: {_accounting(run.p).describe()}",
        )

    def _lplus(self, claim, p, seed):
        """L_plus of the instance's least-squares version (sample 0) and of sampled sparse least-squares problems
        (:func:`verify.instances.sampled_rare_features_problems`) against the claim's bounds."""
        probs = [self.cached_instance(dict(p, problem="least-squares"), seed)]
        probs += sampled_rare_features_problems(streams(seed).data, p["samples"])
        names = ("L", "L_plus", "L_qm", "L_am", "L_max", "c", "n", "r", "d", "L_O")
        arr = {nm: np.array([getattr(q, nm) for q in probs], dtype=float) for nm in names}
        grid = np.arange(len(probs))
        c = {f"instance_{nm}": getattr(probs[0], nm) for nm in ("c", "r", "L", "L_plus", "L_qm", "L_max")}
        c.update(
            samples=len(probs),
            min_L_plus_over_L=float(np.min(arr["L_plus"] / arr["L"])),
            min_sqrt_c_over_n_L_plus_over_L=_min_sqrt_c_over_n_L_plus_over_L(arr),
        )
        return Evidence(
            "sample",
            grid,
            arr["L_plus"],
            claim.evaluate(**arr),
            constants=c,
            instance=p,
            seed=seed,
            series=dict(arr),
            note="sample 0 is the instance (least-squares version)",
        )

    def complexity_runs(self, claim, p, seed):
        """For each c in ``c_values``: the regular-design instance (d = n r / c), its constants and the bits to eps
        of EF21 and GD from the instance's start point."""
        acc, k, T_max = _accounting(p), _k_of(self.settings(claim).compressor, p), p["T_max"]
        rows = []
        for cc in p["c_values"]:
            if cc > p["n"] or (p["n"] * p["r"]) % cc:
                raise UsageError(f"c_values: each c must divide n*r = {p['n'] * p['r']} and be <= n, got {cc}")
            # the least-squares regular-design instance of multiplicity c (shared by the claim and its teeth)
            family = dict(p, data=None, problem="least-squares", design="regular", c=cc, d=p["n"] * p["r"] // cc)
            P = self.cached_instance(family, seed)
            c = rare_features_constants(P, k)
            x0 = rare_features_start(p["start"], P.d, seed)
            delta0 = P.value(x0) - self._f_lower(P)[0]
            eps = p["eps_rel"] * P.L_max * delta0
            c.update(delta0=delta0, eps=eps, G0=0.0)
            gamma = claim.max_stepsize(**c)
            claim.check_assumptions(gamma=gamma, **c)
            tr = ef21(P, x0, gamma=gamma, T=T_max, compressor=TopK(k), accounting=acc, stop_below=eps)
            gd = gd_sparse(P, x0, gamma=1.0 / P.L, T=T_max, accounting=acc, stop_below=eps)
            reached = (tr.T < T_max and tr.diverged_at is None, gd.T < T_max and gd.diverged_at is None)
            rows.append(
                {
                    "c": cc,
                    "consts": c,
                    "gamma": gamma,
                    "rounds": tr.T,
                    "bits": float(tr.bits[-1]),
                    "gd_rounds": gd.T,
                    "gd_bits": float(gd.bits[-1]),
                    "reached": reached,
                }
            )
        return rows

    def _complexity(self, claim, p, seed):
        """Bits to eps against c, judged on the fitted exponent; GD's bits (true nonzeros, and d floats per round as
        the authors charge it) and the setting ``baseline`` alongside."""
        rows = self.complexity_runs(claim, p, seed)
        bad = [r_["c"] for r_ in rows if not r_["reached"][0]]
        if bad:
            raise UsageError(f"T_max={p['T_max']} rounds did not reach eps for c in {bad}; raise T_max or eps_rel")
        col = lambda key: np.array([r_[key] for r_ in rows], dtype=float)  # noqa: E731
        cs, bits, s = col("c"), col("bits"), self.settings(claim)
        gd_bits = np.array([r_["gd_bits"] if r_["reached"][1] else np.inf for r_ in rows])
        arr = {k_: np.array([r_["consts"][k_] for r_ in rows], dtype=float) for k_ in rows[0]["consts"]}
        bound = claim.evaluate(**arr)
        wins = bits < gd_bits
        gd_dense = np.array([r_["gd_rounds"] * r_["consts"]["d"] for r_ in rows], dtype=float) * p["bits_per_float"]
        wins_dense = bits < gd_dense
        c = {"scaling_mode": s.scaling_mode, **{k_: p[k_] for k_ in ("n", "r", "m", "eps_rel")}}
        c.update(
            ef21_beats_gd_at_min_c=bool(wins[0]),
            ef21_beats_gd_at_max_c=bool(wins[-1]),
            largest_c_where_ef21_beats_gd=float(cs[wins].max()) if wins.any() else 0.0,
            ef21_beats_dense_gd_at_min_c=bool(wins_dense[0]),
            largest_c_where_ef21_beats_dense_gd=float(cs[wins_dense].max()) if wins_dense.any() else 0.0,
            min_sqrt_c_over_n_L_plus_over_L=_min_sqrt_c_over_n_L_plus_over_L(arr),
            gd_bits_slope=float(loglog_fit(cs, gd_bits).slope) if np.all(np.isfinite(gd_bits)) else float("nan"),
            accounting=_accounting(p).describe(),
        )
        series = dict(c=cs, c_over_n=cs / p["n"], bits=bits, rounds=col("rounds"), gd_bits=gd_bits)
        series.update(gd_bits_dense=gd_dense, gd_rounds=col("gd_rounds"), gamma=col("gamma"), bound=bound)
        if s.baseline is not None:  # a competitor's O(.) bits, evaluated alongside for the figure
            syms = sorted(s.baseline.free_symbols, key=lambda s_: s_.name)
            gd_bound = sp.lambdify(syms, s.baseline, modules="numpy")(*[arr[s_.name] for s_ in syms])
            series["gd_bound"] = np.asarray(gd_bound, dtype=float)
        series.update({f"const_{k_}": v for k_, v in arr.items()})
        return Evidence(
            "c",
            cs,
            bits,
            bound,
            method="fit",
            constants=c,
            instance=p,
            seed=seed,
            series=series,
            fit=loglog_fit(cs, bits),
            predicted_exponent=claim.predicted_exponent(**{k_: v[0] for k_, v in arr.items()}),
            note="bound = the abstract's O(.) expression (up to its constant); judged on the fitted exponent",
        )


EXPERIMENT = register(RareFeaturesExperiment())
