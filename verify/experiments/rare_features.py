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
"""

from __future__ import annotations

import math
import os
import re

import numpy as np
import sympy as sp

from ratecheck.solvers import InvalidInput
from ratecheck.solvers.compressors import TopK
from ratecheck.solvers.ef21 import ef21
from ratecheck.solvers.rare_features import Accounting, SparseFederated, gd_sparse

from ..errors import UsageError
from ..fit import loglog_fit
from ..instances import libsvm_problem, rare_features_problem, streams, theta_c, xi
from ..optima import sparse_logistic_lower_bound
from ..resources import Need
from ..schema import Choice, Constant, Custom, Flag, Float, Int, Measure, Rule, Schema, SearchVar, Setting, json_list
from ..verdict import Evidence
from . import Experiment, register

PROBLEMS = {"least-squares": ("squares", False), "least-squares-nc": ("squares", True), "logistic": ("logistic", False)}
COMPRESSOR_RULE = "top-k (the instance's k) or top-K with an integer K >= 1"
_RATE, _BITS = "avg_grad_norm_sq", "bits_to_eps"
_RUNS = (_RATE, _BITS)  #: the measures that run EF21 + Top-k


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


def build_problem(p: dict, seed: int, loss: str | None = None, reg: bool | None = None) -> SparseFederated:
    """The sparse problem described by parameters ``p`` (see :attr:`RareFeaturesExperiment.defaults`)."""
    loss0, reg0 = PROBLEMS[p["problem"]]
    loss = loss or loss0
    lam = p["reg"] if (reg0 if reg is None else reg) else 0.0
    try:
        if p["data"] is not None:
            clients = p["clients"] or p["n"]
            return libsvm_problem(
                p["data"],
                clients,
                split=p["split"],
                c=p["c"] if p["split"] == "multiplicity" else None,
                loss=loss,
                reg=lam,
                bias=p["bias"],
                seed=1234 + seed,
            )
        return rare_features_problem(
            n=p["n"], d=p["d"], m=p["m"], c=p["c"], design=p["design"], loss=loss, reg=lam, seed=seed
        )
    except InvalidInput as e:
        raise UsageError(str(e)) from None


def f_lower(P: SparseFederated) -> tuple[float, dict]:
    r"""A certified lower bound on :math:`f^{\inf}`: the least-squares minimum (PŁ-certified; also valid
    with the nonnegative regulariser); for the logistic loss the projected Fenchel dual (or 0)."""
    if P.loss == "logistic":
        if P.reg == 0 and P.d <= 2000:
            opt = sparse_logistic_lower_bound(P)
            return opt.lower, {
                "f_low_method": "logistic: max(0, projected Fenchel dual of the cvxpy primal)",
                **{k: v for k, v in opt.certificate.items() if not isinstance(v, str)},
            }
        return 0.0, {"f_low_method": "logistic loss >= 0"}
    base = P if P.reg == 0 else SparseFederated(P.A, P.y, P.row_ptr, loss="squares", constants=False)
    x, fv = base.minimize_squares()
    g = base.grad(x)
    gn = float(g @ g)
    cert = {
        "f_low_method": "least-squares minimum (lstsq/LSQR)" + (", regulariser >= 0" if P.reg else ""),
        "f_low_grad_norm_sq": gn,
    }
    mu = base.mu
    if mu:  # PL certificate: f* >= f(x) - ||grad f(x)||^2 / (2 mu)
        cert.update(f_low_method=cert["f_low_method"] + ", PL-certified", mu=mu, pl_gap=gn / (2 * mu))
        return fv - gn / (2 * mu), cert
    return fv, cert


def start_point(p: dict, d: int, seed: int) -> np.ndarray:
    """x0: ``uniform`` = U(-1/sqrt(d), 1/sqrt(d)) (PyTorch's nn.Linear default, as the authors), ``zero``, ``random`` = N(0, I)."""
    rng = streams(seed).start
    if p["start"] == "uniform":
        return rng.uniform(-1, 1, d) / math.sqrt(d)
    if p["start"] == "zero":
        return np.zeros(d)
    return rng.standard_normal(d)


def constants_of(P: SparseFederated, k: int) -> dict:
    """Every constant a rare-features or EF21 claim may use (exact where the problem says so)."""
    a_kr, a_kd = min(1.0, k / P.r), k / P.d
    return dict(
        L=P.L,
        L_plus=P.L_plus,
        L_qm=P.L_qm,
        L_am=P.L_am,
        L_max=P.L_max,
        L_O=P.L_O,
        c=P.c,
        n=P.n,
        d=P.d,
        r=P.r,
        k=k,
        alpha=a_kd,
        alpha_kr=a_kr,
        theta_c_kr=theta_c(a_kr),
        xi_kr=xi(a_kr),
        xi_kd=xi(a_kd),
        L_plus_bound=P.L_plus_bound,
        exact_L=float(P.exact_L),
        nnz=P.A.nnz,
        S=P.S,
    )


def accounting(p: dict) -> Accounting:
    try:
        return Accounting(
            bits_per_float=p["bits_per_float"],
            count_indices=p["count_indices"],
            count_first_round=p["count_first_round"],
            gd_charge=p["gd_charge"],
        )
    except InvalidInput as e:
        raise UsageError(str(e)) from None


def lyapunov_weights(name: str, P: SparseFederated) -> np.ndarray:
    r"""Weights :math:`w_i` of :math:`G=\sum_iw_i\Vert g_i-\nabla f_i\Vert^2` named by a claim's setting."""
    if name in ("uniform", "qm", "rare"):
        return np.full(P.n, 1.0 / P.n)
    if name in ("am", "w"):  # EF21-W's G_W equals this weighting of EF21's errors (Top-k is homogeneous)
        return P.L_am / (P.n * P.L_i)
    if name == "owners":
        return P.L_O / (P.n * P.L_i)
    raise UsageError(f"setting lyapunov must be one of uniform, qm, am, w, owners, got {name!r}")


def _k_of(compressor: str, p: dict) -> int:
    """k of a claim's Top-k compressor: ``top-K`` fixes it, ``top-k`` takes the instance's ``k``."""
    return p["k"] if compressor == "top-k" else int(compressor[len("top-") :])


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
        keys = ("problem", "reg", "data", "clients", "split", "c", "bias", "n", "d", "m", "design")
        return {k: p[k] for k in keys}

    def instance(self, p, seed):
        return build_problem(p, seed)

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
        return constants_of(*inst)

    def stepsize(self, claim, c, p):
        return claim.max_stepsize(**c) * p["stepsize_factor"]

    def _f_lower(self, P):
        """:func:`f_lower` of the instance, through the shared cache."""
        return self.cached("f_lower", id(P), lambda: f_lower(P), keep=(P,))

    def solve(self, claim, inst, c, p, seed):
        """One deterministic EF21 + Top-k run from the instance's start point, with the claim's Lyapunov weights."""
        P, k = inst
        lyap_name = self.settings(claim).lyapunov
        w = lyapunov_weights(lyap_name, P)
        f_low, cert = self._f_lower(P)
        x0 = start_point(p, P.d, seed)
        tr = ef21(
            P,
            x0,
            gamma=c["gamma"],
            T=p["T"],
            compressor=TopK(k),
            init=p["init"],
            lyapunov={lyap_name: w},
            accounting=accounting(p),
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
        run_mean = np.cumsum(tr.grad_norm_sq[:T]) / np.arange(1, T + 1)
        grid = np.arange(1, T + 1)
        series = {"grad_norm_sq": tr.grad_norm_sq, "bits_per_worker": tr.bits, "floats_per_worker": tr.floats}
        method = self._f_lower(run.instance[0])[1]["f_low_method"]
        return Evidence(
            "T",
            grid,
            run_mean,
            claim.evaluate(T=grid, **c),
            constants=c,
            instance=run.p,
            seed=run.seed,
            series=series,
            note=f"{method}; accounting: {accounting(run.p).describe()}",
        )

    def _lplus(self, claim, p, seed):
        rng = streams(seed).data
        probs = [build_problem(p, seed, loss="squares", reg=False)]
        for j in range(p["samples"]):  # sampled instances: a loop over instances, not over clients
            n = int(rng.integers(2, 13))
            design = "regular" if j % 4 == 0 else "random"
            cc = 1 if j % 4 == 0 else int(rng.integers(1, n + 1))
            d = (
                n * int(rng.integers(1, 4))
                if design == "regular"
                else int(rng.integers(5 * n // cc + 1, 5 * n // cc + 20))
            )
            probs.append(
                rare_features_problem(
                    n=n, d=d, m=int(rng.integers(1, 7)), c=cc, design=design, seed=int(rng.integers(2**31))
                )
            )
        arr = {
            nm: np.array([getattr(q, nm) for q in probs], dtype=float)
            for nm in ("L", "L_plus", "L_qm", "L_am", "L_max", "c", "n", "r", "d", "L_O")
        }
        grid = np.arange(len(probs))
        vals = {k_: v for k_, v in arr.items() if k_ != "L_plus"}
        bound = claim.evaluate(**vals, L_plus=arr["L_plus"])
        c = {
            "instance_c": probs[0].c,
            "instance_r": probs[0].r,
            "instance_L": probs[0].L,
            "instance_L_plus": probs[0].L_plus,
            "instance_L_qm": probs[0].L_qm,
            "instance_L_max": probs[0].L_max,
            "samples": len(probs),
            "min_L_plus_over_L": float(np.min(arr["L_plus"] / arr["L"])),
            "min_sqrt_c_over_n_L_plus_over_L": float(np.min(np.sqrt(arr["c"] / arr["n"]) * arr["L_plus"] / arr["L"])),
        }
        return Evidence(
            "sample",
            grid,
            arr["L_plus"],
            bound,
            constants=c,
            instance=p,
            seed=seed,
            series={k_: v for k_, v in arr.items()},
            note="sample 0 is the instance (least-squares version)",
        )

    def complexity_runs(self, claim, p, seed):
        """For each c in ``c_values``: the regular-design instance, its constants and the bits to eps of EF21 and GD."""
        acc = accounting(p)
        k = _k_of(self.settings(claim).compressor, p)
        rows = []
        for cc in p["c_values"]:
            if cc > p["n"] or (p["n"] * p["r"]) % cc:
                raise UsageError(f"c_values: each c must divide n*r = {p['n'] * p['r']} and be <= n, got {cc}")
            P = rare_features_problem(n=p["n"], d=p["n"] * p["r"] // cc, m=p["m"], c=cc, design="regular", seed=seed)
            c = constants_of(P, k)
            f_low, _ = f_lower(P)
            x0 = start_point(p, P.d, seed)
            f0 = P.value(x0)
            delta0 = f0 - f_low
            eps = p["eps_rel"] * P.L_max * delta0
            c.update(delta0=delta0, eps=eps, G0=0.0)
            gamma = claim.max_stepsize(**c)
            claim.check_assumptions(gamma=gamma, **c)
            tr = ef21(P, x0, gamma=gamma, T=p["T_max"], compressor=TopK(k), accounting=acc, stop_below=eps)
            gd = gd_sparse(P, x0, gamma=1.0 / P.L, T=p["T_max"], accounting=acc, stop_below=eps)
            reached = (tr.T < p["T_max"] and tr.diverged_at is None, gd.T < p["T_max"] and gd.diverged_at is None)
            rows.append(
                dict(
                    c=cc,
                    consts=c,
                    gamma=gamma,
                    rounds=tr.T,
                    bits=float(tr.bits[-1]),
                    gd_rounds=gd.T,
                    gd_bits=float(gd.bits[-1]),
                    reached=reached,
                )
            )
        return rows

    def _complexity(self, claim, p, seed):
        rows = self.complexity_runs(claim, p, seed)
        bad = [r_["c"] for r_ in rows if not r_["reached"][0]]
        if bad:
            raise UsageError(f"T_max={p['T_max']} rounds did not reach eps for c in {bad}; raise T_max or eps_rel")
        cs = np.array([r_["c"] for r_ in rows], dtype=float)
        bits = np.array([r_["bits"] for r_ in rows])
        gd_bits = np.array([r_["gd_bits"] if r_["reached"][1] else np.inf for r_ in rows])
        keys = rows[0]["consts"].keys()
        arr = {k_: np.array([r_["consts"][k_] for r_ in rows], dtype=float) for k_ in keys}
        bound = claim.evaluate(**arr)
        fit = loglog_fit(cs, bits)
        pred = claim.predicted_exponent(**{k_: v[0] for k_, v in arr.items()})
        s = self.settings(claim)
        base = s.baseline
        gd_pred = None
        if base is not None:
            fn = sp.lambdify(sorted(base.free_symbols, key=lambda s_: s_.name), base, modules="numpy")
            gd_pred = np.asarray(
                fn(*[arr[s_.name] for s_ in sorted(base.free_symbols, key=lambda s_: s_.name)]), dtype=float
            )
        wins = bits < gd_bits
        # the authors' accounting charges GD d floats per round (identity compressor), shown for comparison
        gd_dense = np.array([r_["gd_rounds"] * r_["consts"]["d"] for r_ in rows], dtype=float) * p["bits_per_float"]
        wins_dense = bits < gd_dense
        c = {
            "scaling_mode": s.scaling_mode,
            "n": p["n"],
            "r": p["r"],
            "m": p["m"],
            "eps_rel": p["eps_rel"],
            "ef21_beats_gd_at_min_c": bool(wins[0]),
            "ef21_beats_gd_at_max_c": bool(wins[-1]),
            "largest_c_where_ef21_beats_gd": float(cs[wins].max()) if wins.any() else 0.0,
            "ef21_beats_dense_gd_at_min_c": bool(wins_dense[0]),
            "largest_c_where_ef21_beats_dense_gd": float(cs[wins_dense].max()) if wins_dense.any() else 0.0,
            "min_sqrt_c_over_n_L_plus_over_L": float(np.min(np.sqrt(arr["c"] / arr["n"]) * arr["L_plus"] / arr["L"])),
            "gd_bits_slope": float(loglog_fit(cs, gd_bits).slope) if np.all(np.isfinite(gd_bits)) else float("nan"),
            "accounting": accounting(p).describe(),
        }
        series = {
            "c": cs,
            "c_over_n": cs / p["n"],
            "bits": bits,
            "rounds": np.array([r_["rounds"] for r_ in rows], dtype=float),
            "gd_bits": gd_bits,
            "gd_bits_dense": gd_dense,
            "gd_rounds": np.array([r_["gd_rounds"] for r_ in rows], dtype=float),
            "gamma": np.array([r_["gamma"] for r_ in rows]),
            "bound": bound,
        }
        if gd_pred is not None:
            series["gd_bound"] = gd_pred
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
            fit=fit,
            predicted_exponent=pred,
            note="bound = the abstract's O(.) expression (up to its constant); judged on the fitted exponent",
        )


def gradnorm_vs_bits(
    c_over_n=(0.05, 0.5, 0.9), quick: bool = True, k: int = 1, seed: int = 0, accounting_=None
) -> list[dict]:
    r"""Runs for the first figure: for each c/n, the authors' generator (n = 100, d = 500 in full runs;
    n = 20, d = 100 in quick ones) and three methods with stepsizes taken from the registered claims:
    EF21 (``ef21.nonconvex-qm``: :math:`1/(L+L_{qm}\xi(k/d))`), EF21 (``rare-features.nonconvex``) and GD (1/L)."""
    from ratecheck import theorems

    n, d, T_ef, T_gd = (20, 100, 3000, 150) if quick else (100, 500, 10000, 300)
    acc = accounting_ or Accounting()
    out = []
    for q in c_over_n:
        cc = max(1, int(math.ceil(n * q - 1e-9)))
        P = rare_features_problem(n=n, d=d, m=12, c=cc, seed=seed)
        c = constants_of(P, k)
        x0 = start_point(dict(start="uniform"), d, seed)
        g_cl = theorems.get("ef21.nonconvex-qm").max_stepsize(**c)
        g_rf = theorems.get("rare-features.nonconvex").max_stepsize(**c)
        ef_cl = ef21(P, x0, gamma=g_cl, T=T_ef, compressor=TopK(k), accounting=acc)
        ef_rf = ef21(P, x0, gamma=g_rf, T=T_ef, compressor=TopK(k), accounting=acc)
        gd = gd_sparse(P, x0, gamma=1.0 / P.L, T=T_gd, accounting=acc)
        g0 = ef_rf.grad_norm_sq[0]
        out.append(
            dict(
                c_over_n=q,
                c=P.c,
                r=P.r,
                n=n,
                d=d,
                gamma_classical=g_cl,
                gamma_rare=g_rf,
                gamma_gd=1.0 / P.L,
                curves={
                    "EF21, classical stepsize": (ef_cl.bits, ef_cl.grad_norm_sq / g0),
                    "EF21, rare-features stepsize": (ef_rf.bits, ef_rf.grad_norm_sq / g0),
                    "GD (true nonzeros)": (gd.bits, gd.grad_norm_sq / g0),
                    "GD (d floats, authors)": (np.arange(gd.T + 1) * d * acc.bits_per_float, gd.grad_norm_sq / g0),
                },
            )
        )
    return out


EXPERIMENT = register(RareFeaturesExperiment())
