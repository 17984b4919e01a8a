r"""ADOM+ experiment: time-varying networks with exact χ, the ADOM+ family, and the hard chain instance.

Measures (``notes/adom.md``):

* ``decay_rate`` — per window of :math:`w=\lceil1/\sigma_2\rceil` iterations,
  :math:`-\frac1w\log(E_{k}/E_{k-w})` with :math:`E_k=\max_{j\ge k}D_j` the suffix-max envelope of
  :math:`D_k=\sum_i\Vert x_i^k-x^\star\Vert^2` (deterministic; compared while
  :math:`D_k\ge10^{-20}D_0`, above the floating-point floor);
* ``comm_rounds_to_eps`` — communication rounds until :math:`D_k\le\varepsilon D_0`, over a sweep of χ
  (relabelled rings of growing n) or κ; log-log fit;
* ``mc_cost_to_eps`` — gradient calls or rounds of ADOM+ with multi-consensus, over χ or κ;
* ``hard_comm_rounds`` / ``hard_grad_calls`` — on the split-chain instance over the adversarial
  moving-centre star (χ = n): rounds / gradient calls needed for accuracy ε (grid over ε), or before
  chain depth k first appears in the method's state (grid over k);
* ``cost_over_lower_bound`` — ADOM+ rounds to ε on the hard instance divided by the claim's bound,
  over a grid of (χ, κ); fitted against :math:`\chi\sqrt\kappa`.

Runs are cached per (instance, seed, method parameters), so a claim and its teeth share them.
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from ratecheck.solvers.adom import StarSequence, adom_plus, gradient_tracking
from ratecheck.theorems.adom import order_exponent

from ..errors import UsageError
from ..fit import loglog_fit
from ..instances import (
    adom_logistic,
    adom_quadratics,
    adversarial_star_schedule,
    chain_depth_needed,
    chain_hard_instance,
    random_geometric_cycle,
    relabelled_ring,
    ring_star_alternating,
)
from ..resources import Need
from ..schema import Choice, Constant, Custom, Float, Int, Measure, Rule, Schema, SearchVar, Setting, json_list
from ..verdict import Evidence
from . import CACHE, Experiment, register

FLOOR = 1e-20  #: decay rates are measured while D_k >= FLOOR * D_0
ROUNDING_FLOOR = 1e-15  #: below this fraction of D_0 a rising distance is rounding noise, not divergence
EXPONENT_TOLERANCE = 0.1  #: documented slack on fitted exponents (lower-order log and transient terms)
NETWORKS = ("ring", "rgg", "ring-star", "star")
METHODS = ("adom+", "adom+-mc", "gt")
PROBLEMS = ("quadratic", "logistic")
COSTS = ("grad_calls", "comm_rounds")
NS_RULE = "a list of at least 3 integers >= 3"
_DECAY = ("decay_rate",)
_SCALING = ("comm_rounds_to_eps", "mc_cost_to_eps")
_HARD = ("hard_comm_rounds", "hard_grad_calls")
_GAP = ("cost_over_lower_bound",)
#: the method a measure runs where the measure fixes it (the hard instance runs the parameter method)
MEASURE_METHOD = {"decay_rate": "adom+", "comm_rounds_to_eps": "adom+", "mc_cost_to_eps": "adom+-mc"}


def _node_counts(v):
    v = tuple(v)
    if len(v) < 3 or any(isinstance(x, bool) or not isinstance(x, (int, np.integer)) or x < 3 for x in v):
        raise ValueError
    return v


def _kappas(v):
    v = tuple(float(x) for x in v)
    if len(v) < 3 or min(v) <= 1:
        raise ValueError
    return v


def _hard_kappas(v):
    v = tuple(float(x) for x in v)
    if not v or min(v) <= 1:
        raise ValueError
    return v


def _eps_grid(v):
    v = tuple(float(x) for x in v)
    if not v or not all(0 < e < 1 for e in v):
        raise ValueError
    return v


def _cached(key, fn, keep=()):
    """Through the shared run cache (``keep``: the objects whose ids the key names)."""
    return CACHE.get(("adom", key[0], key), fn, keep)


def build_network(kind: str, n: int, seed: int):
    """A gossip sequence of the given family (see :data:`NETWORKS`) with exact χ."""
    if kind == "ring":
        return relabelled_ring(n, seed)
    if kind == "rgg":
        return random_geometric_cycle(n, K=50, seed=seed)
    if kind == "ring-star":
        return ring_star_alternating(n)
    if kind == "star":
        return StarSequence(n, np.arange(n))
    raise UsageError(f"network must be one of {', '.join(NETWORKS)}, got {kind!r}")


def build_problem(p: dict, mu: float, L: float, n: int, seed: int):
    if p["problem"] == "quadratic":
        return adom_quadratics(n, p["d"], mu, L, seed)
    if p["problem"] == "logistic":
        return adom_logistic(n, p["d"], p["m"], mu, seed)
    raise UsageError(f"problem must be 'quadratic' or 'logistic', got {p['problem']!r}")


def _rounds_to(tr, eps) -> np.ndarray:
    """(comm rounds, grad calls, reached) at the first iterate with D_k <= eps D_0, for each eps."""
    eps = np.atleast_1d(eps)
    ok = tr.dist_sq[None, :] <= eps[:, None] * tr.dist_sq[0]
    reached = ok.any(axis=1)
    idx = np.argmax(ok, axis=1)
    return tr.comm_rounds[idx].astype(float), tr.grad_calls[idx].astype(float), reached


class ADOMExperiment(Experiment):
    name = "adom"
    title = "ADOM+ and lower bounds over time-varying networks"
    schema = Schema(
        params=(
            Choice(
                "network",
                "ring",
                "gossip sequence: relabelled ring, cycle of random geometric graphs, ring and "
                "star alternating, or star (exact chi)",
                choices=NETWORKS,
                search=True,
            ),
            Choice(
                "problem",
                "quadratic",
                "local quadratics with exact mu and L, or l2-logistic regression (mu = lambda; L from the data)",
                choices=PROBLEMS,
                search=True,
            ),
            Int("n", 8, "number of nodes", low=1, search=(3, 16)),
            Int("d", 5, "dimension of the local problems (the hard instance uses depth_d)", low=1, search=(2, 8)),
            Int("m", 20, "data points per node (logistic)", low=1, search=(2, 30)),
            Float("mu", 1.0, "strong convexity of the local functions", low=0, low_open=True),
            Float("L", 16.0, "smoothness of the local functions (kappa = L/mu)", low=0, low_open=True),
            Float(
                "eps",
                1e-6,
                "target accuracy D_k <= eps D_0 of the scaling claims",
                low=0,
                high=1,
                low_open=True,
                high_open=True,
            ),
            Int("max_iter", 400000, "iteration cap of a run", low=1),
            Custom(
                "ns",
                (4, 6, 8, 11, 16),
                "node counts of the chi sweep (relabelled rings of growing n)",
                rule_text=NS_RULE,
                check=_node_counts,
                parser=json_list,
            ),
            Custom(
                "kappas",
                (4.0, 16.0, 64.0, 256.0),
                "values of kappa = L/mu of the kappa sweep",
                rule_text="a list of at least 3 values > 1",
                check=_kappas,
                parser=json_list,
            ),
            Choice("axis", "chi", "sweep axis of the multi-consensus claim (mc_cost_to_eps)", choices=("chi", "kappa")),
            Choice(
                "cost",
                "grad_calls",
                "cost of the multi-consensus claim: gradient calls or communication rounds",
                choices=COSTS,
            ),
            Choice(
                "method",
                "adom+",
                "method run on the hard instance: ADOM+, ADOM+ with multi-consensus or gradient tracking",
                choices=METHODS,
                search=True,
            ),
            Choice(
                "mode",
                "eps",
                "hard instance: cost to each accuracy of eps_grid, or cost before each chain depth",
                choices=("eps", "depth"),
                search=("depth", "eps"),
            ),
            Int("n_chain", 4, "nodes holding each half of the split chain (chi = n > n_chain)", low=1),
            Int("depth_d", 40, "dimension (chain length) of the hard instance", low=3, search=(8, 48)),
            Custom(
                "eps_grid",
                (1e-1, 1e-2, 1e-3, 1e-4),
                "accuracies of the hard instance in mode 'eps'",
                rule_text="a non-empty list of values in (0, 1)",
                check=_eps_grid,
                parser=json_list,
            ),
            Float(
                "gap_eps", 1e-4, "accuracy of the optimality-gap claim", low=0, high=1, low_open=True, high_open=True
            ),
            Custom(
                "hard_ns",
                (4, 8, 12),
                "node counts of the optimality-gap grid (n_chain = n // 2)",
                rule_text=NS_RULE,
                check=_node_counts,
                parser=json_list,
            ),
            Custom(
                "hard_kappas",
                (9.0, 36.0),
                "values of kappa of the optimality-gap grid",
                rule_text="a non-empty list of values > 1",
                check=_hard_kappas,
                parser=json_list,
            ),
            Choice(
                "order",
                "time",
                "product order of multi-consensus: physical time, or the DADAO order",
                choices=("time", "dadao"),
                search=True,
            ),
            Float("gt_step", 0.0, "stepsize of gradient tracking (0: the default 1/(4 L chi))", low=0),
        ),
        rules=(Rule("mu must be < L (kappa = L/mu > 1)", ("mu", "L"), lambda p: p["mu"] < p["L"]),),
        # counterexample search (``verify.search``); :meth:`from_search` maps the search-only coordinates to
        # parameters (kappa -> L = mu kappa, n_chain as a fraction of 1..n/2, eps_grid from its smallest value)
        search=(
            SearchVar("kappa", ("logfloat", 2.0, 200.0), "condition number: L = mu kappa"),
            SearchVar("n_chain_frac", ("float", 0.0, 1.0), "n_chain = 1 + round(frac (n//2 - 1))"),
            SearchVar("eps_min", ("logfloat", 1e-6, 1e-1), "eps_grid: 4 values from 1e-1 down to eps_min"),
        ),
        # the order in which the search draws (changing it changes the random draws)
        search_order=(
            "network",
            "problem",
            "n",
            "d",
            "m",
            "kappa",
            "mode",
            "method",
            "n_chain_frac",
            "depth_d",
            "eps_min",
            "order",
        ),
        constants=(
            Constant("mu", "strong convexity of the local functions"),
            Constant("L", "smoothness of the local functions"),
            Constant("kappa", "L / mu"),
            Constant("chi", "exact chi of the gossip sequence (the hard instance's star: chi = n)"),
            Constant("chi_tight", "smallest admissible chi of the gossip sequence (spec AD-2)", _DECAY + _SCALING),
            Constant("n", "number of nodes"),
            Constant("d", "dimension (the hard instance: the chain length depth_d)"),
            Constant("eps", "target accuracy (parameter eps)", _DECAY + _SCALING),
            Constant("chi_in_parameters", "chi used in ADOM+'s parameters (the claim's setting, else chi)", _DECAY),
            Constant("sigma2", "sigma_2 = sqrt(mu/L) / (16 chi)", _DECAY),
            Constant("window", "window w = ceil(1/sigma_2) of the decay rate, in iterations", _DECAY),
            Constant("n_chain", "nodes holding each half of the split chain", _HARD + _GAP),
            Constant(
                "kappa_sum", "condition number of the sum of the nodes' Hessians of the split chain", _HARD + _GAP
            ),
            Constant(
                "k_eps", "chain depth needed for accuracy eps (exact tail of x*), or the depth k reached", _HARD + _GAP
            ),
        ),
        measures=(
            Measure(
                "decay_rate",
                "windowed decay rate of the envelope of sum_i ||x_i^k - x*||^2 (per iteration)",
                grid="k (window end)",
            ),
            Measure(
                "comm_rounds_to_eps",
                "ADOM+ communication rounds until sum_i ||x_i^k - x*||^2 <= eps "
                "||x^0 - x*||^2, over a sweep (log-log fit)",
                grid="chi or kappa (setting axis)",
            ),
            Measure(
                "mc_cost_to_eps",
                "ADOM+ with multi-consensus: gradient calls or rounds to eps (parameter cost), "
                "over a sweep (log-log fit)",
                grid="chi or kappa (parameter axis)",
            ),
            Measure(
                "hard_comm_rounds",
                "rounds a method needs on the split-chain / moving-star instance (to eps, or to depth k)",
                grid="k_eps",
            ),
            Measure(
                "hard_grad_calls",
                "gradient calls per node needed on the hard instance (to eps, or to depth k)",
                grid="k_eps",
            ),
            Measure(
                "cost_over_lower_bound",
                "ADOM+ rounds to eps on the hard instance over the claim's lower bound, "
                "over a grid of (chi, kappa) (log-log fit)",
                grid="chi sqrt(kappa)",
            ),
        ),
        settings=(
            Setting(
                "algorithm",
                None,
                "method run: ADOM+ (decay_rate, comm_rounds_to_eps; default of "
                "cost_over_lower_bound), ADOM+ with multi-consensus (mc_cost_to_eps); another value is refused "
                "where the measure fixes the method",
                choices=METHODS,
                measures=_DECAY + _SCALING + _GAP,
            ),
            Setting(
                "axis",
                None,
                "sweep axis of comm_rounds_to_eps (None: the claim's scaling_in, else chi)",
                choices=("chi", "kappa"),
                measures=("comm_rounds_to_eps",),
            ),
            Setting(
                "laws",
                {},
                "complexity law per cost; the predicted exponent is its log-derivative in the "
                "swept axis (a cost without a law: the claim's exponent)",
                kind="exprs",
                choices=COSTS,
                measures=("mc_cost_to_eps",),
            ),
            Setting(
                "chi_in_parameters",
                None,
                "chi used in ADOM+'s parameters, an expression in the constants (None: the network's chi)",
                kind="expr",
                measures=_DECAY,
            ),
            Setting(
                "instance",
                "chain-star",
                "the hard instance: split Nesterov chain on the adversarial moving-centre star (the only one)",
                choices=("chain-star",),
                measures=_HARD + _GAP,
            ),
        ),
    )

    def validate_claim(self, claim):
        """The schema's checks, and the method a measure fixes (setting algorithm may state it, not change it)."""
        super().validate_claim(claim)
        runs, algo = MEASURE_METHOD.get(claim.measure), self.settings(claim).algorithm
        if runs is not None and algo not in (None, runs):
            raise UsageError(
                f"claim {claim.id}: measure {claim.measure} runs {runs!r}, the claim's setting algorithm says {algo!r}"
            )

    # ------------------------------------------------------------------ search space
    _SEARCH_DECAY = ("network", "problem", "n", "d", "m", "kappa", "order")
    _SEARCH_HARD = ("mode", "method", "n", "n_chain_frac", "kappa", "depth_d", "eps_min", "order")
    #: cap on the iteration budget 60/sigma_2 = 960 chi sqrt(kappa) of one decay-rate search run (keeps a run fast)
    SEARCH_DECAY_ITERS = 10000
    #: cap on the iterations of one hard-instance search run in eps mode (unreached eps are dropped)
    SEARCH_HARD_ITERS = 20000

    def search_space_for(self, claim):
        """Decay-rate claims search networks x problems x (n, kappa); the hard-instance lower bounds search
        the split chain (n, n_chain, kappa, depth or eps grid) and the method; scaling claims (fits over
        a sweep) are not searchable."""
        sel = {
            "decay_rate": self._SEARCH_DECAY,
            "hard_comm_rounds": self._SEARCH_HARD,
            "hard_grad_calls": self._SEARCH_HARD,
        }.get(claim.measure)
        if sel is None:
            return None
        space = {k: self.search_space[k] for k in sel}
        if claim.measure == "decay_rate":
            space.update(n=("int", 3, 10), kappa=("logfloat", 2.0, 64.0))
        return space

    def from_search(self, point):
        """Instance parameters of a search point: L = mu kappa (logistic problems use mu = lambda = 0.1
        and their L comes from the data, so kappa is inert there), n_chain = 1 + round(frac (n//2 - 1))
        in 1..n/2 (the split chain's range; chi = n > n_chain), eps_grid = 4 values from 1e-1 down to
        ``eps_min``, and the iteration budgets capped at :attr:`SEARCH_DECAY_ITERS` /
        :attr:`SEARCH_HARD_ITERS`.

        Capping a decay-rate run only drops later windows and can only raise the measured rates of the
        last kept ones (the suffix-max envelope of a shorter run is lower at its end), so it never
        manufactures a violation of the lower bound."""
        p = dict(point)
        out = {}
        n = int(p.pop("n", self.defaults["n"]))
        out["n"] = n
        mu = 0.1 if p.get("problem") == "logistic" else 1.0
        kappa = float(p.pop("kappa", 16.0))
        out.update(mu=mu, L=mu * kappa)
        if "n_chain_frac" in p:
            out["n_chain"] = 1 + int(round(float(p.pop("n_chain_frac")) * max(n // 2 - 1, 0)))
            out["max_iter"] = self.SEARCH_HARD_ITERS
        if "eps_min" in p:
            e = float(p.pop("eps_min"))
            out["eps_grid"] = tuple(float(x) for x in np.geomspace(0.1, e, 4)) if e < 0.1 else (0.1,)
        if "network" in p:
            out["max_iter"] = self.SEARCH_DECAY_ITERS
        out.update(p)
        return out

    def memory_needs(self, p):
        """Upper bounds (8-byte entries) over every measure, with n the largest node count of the instance and
        its sweeps (n, ns, hard_ns): the local problems ``(n, d, d)`` and ``(n, m, d)``, ADOM+'s stacked state
        and gossip buffers (about 40 vectors of n d), the split chain ``(n, depth_d, depth_d)``, the relabelled
        ring's blocks of 512 permutations (or the 50 random geometric graphs), the per-iteration records of a
        run (max_iter) and of the hard instance (its iterations, the moving-centre schedule of iterations x
        ceil(n ln 2) rounds, and the depth table)."""
        n = max(int(p["n"]), *(int(v) for v in p["ns"]), *(int(v) for v in p["hard_ns"]))
        d, m, D, it = int(p["d"]), int(p["m"]), int(p["depth_d"]), int(p["max_iter"])
        hard = max(40 * D, (n + 2) * D, min(it, 200000))
        rounds = hard * math.ceil(n * math.log(2)) + 1
        gossip = 50 * n * n if p["network"] == "rgg" else 3072 * n + 4 * min(n, 600) ** 2
        return [
            Need("6*n*d^2 + 4*n*m*d", 6 * n * d * d + 4 * n * m * d, ("n", "d", "m")),
            Need("40*n*(d + depth_d) + 3*n*depth_d^2", 40 * n * (d + D) + 3 * n * D * D, ("n", "depth_d", "d")),
            Need("3072*n (ring) or 50*n^2 (rgg)", gossip, ("n",)),
            Need("3*(max_iter+1)", 3 * (it + 1), ("max_iter",)),
            Need(
                "3*iterations*ceil(n ln 2) + depth_d*iterations/8 (hard instance)",
                3 * rounds + 3 * hard + D * hard // 8,
                ("n", "depth_d", "max_iter"),
            ),
        ]

    # ------------------------------------------------------------------ instances
    def instances(self, claim, quick=False):
        meas = claim.measure
        if meas == "decay_rate":
            out = [dict(network="ring", n=18, L=4.0), dict(network="ring-star", n=6, L=16.0)]
            if not quick:
                out += [
                    dict(network="rgg", n=10, L=16.0),
                    dict(network="ring", n=10, L=100.0, problem="logistic", mu=0.1, d=5),
                ]
            return out
        if meas == "comm_rounds_to_eps":
            if self._axis(claim) == "kappa":
                return (
                    [dict(axis="kappa", n=6, kappas=(16.0, 64.0, 256.0, 1024.0))]
                    if quick
                    else [dict(axis="kappa", n=6, kappas=(64.0, 256.0, 1024.0, 4096.0))]
                )
            return [dict(axis="chi", L=4.0)] if quick else [dict(axis="chi", L=16.0, ns=(4, 6, 8, 11, 16, 22))]
        if meas == "mc_cost_to_eps":
            mc = dict(method="adom+-mc")
            base = [
                dict(mc, axis="chi", cost="grad_calls", L=16.0),
                dict(mc, axis="chi", cost="comm_rounds", L=16.0),
                dict(mc, axis="kappa", cost="grad_calls", n=8),
            ]
            return base if quick else base + [dict(mc, axis="kappa", cost="comm_rounds", n=8)]
        if meas in ("hard_comm_rounds", "hard_grad_calls"):
            depth_method = "adom+" if meas == "hard_comm_rounds" else "adom+-mc"
            out = [
                dict(mode="depth", method=depth_method, n=8, n_chain=4, L=100.0),
                dict(mode="eps", method="adom+", n=8, n_chain=4, L=36.0),
                dict(mode="eps", method="adom+-mc", n=8, n_chain=4, L=36.0),
                dict(mode="depth", method="gt", n=8, n_chain=4, L=100.0),
            ]
            if not quick:
                out += [
                    dict(mode="eps", method="gt", n=8, n_chain=4, L=36.0, eps_grid=(1e-1, 1e-2, 1e-3)),
                    dict(mode="depth", method=depth_method, n=12, n_chain=2, L=100.0),
                ]
            return out
        if meas == "cost_over_lower_bound":
            return [dict()] if quick else [dict(hard_ns=(4, 8, 12, 16), hard_kappas=(9.0, 36.0, 144.0))]
        return [dict()]

    # ------------------------------------------------------------------ runs
    def _axis(self, claim):
        """The sweep axis of comm_rounds_to_eps: the claim's setting axis, else its scaling_in, else chi."""
        return self.settings(claim).axis or claim.scaling_in or "chi"

    def run(self, claim, p, seed=0):
        meas = claim.measure
        if meas == "decay_rate":
            return self._decay(claim, p, seed)
        if meas == "comm_rounds_to_eps":
            return self._scaling(claim, p, seed, method="adom+", cost="comm_rounds", exponent=None)
        if meas == "mc_cost_to_eps":
            laws = self.settings(claim).laws
            exponent = None
            if p["cost"] in laws:  # predicted exponent = d log(law) / d log(axis), evaluated symbolically
                law = laws[p["cost"]]
                var = next((s for s in law.free_symbols if s.name == p["axis"]), None)
                e = sp.Integer(0) if var is None else order_exponent(law, var)
                if e.free_symbols:
                    raise UsageError(f"claim {claim.id}: the law for {p['cost']} is not a power law in {p['axis']}")
                exponent = float(e)
            return self._scaling(claim, p, seed, method="adom+-mc", cost=p["cost"], exponent=exponent)
        if meas in ("hard_comm_rounds", "hard_grad_calls"):
            return self._hard(claim, p, seed)
        if meas == "cost_over_lower_bound":
            return self._gap(claim, p, seed)
        raise UsageError(f"experiment 'adom' cannot measure {meas!r}; it measures {', '.join(self.measures)}")

    def _run_method(self, method, problem, gossip, chi_param, p, iterations, stop_ratio, track=False):
        key = (
            method,
            id(problem),
            id(gossip),
            float(chi_param),
            iterations,
            stop_ratio,
            track,
            p["order"],
            p["gt_step"],
        )
        run = dict(T=iterations, gossip=gossip, chi=chi_param, track_support=track, stop_ratio=stop_ratio)
        if method == "gt":
            return _cached(
                key, lambda: gradient_tracking(problem, gamma=p["gt_step"] or None, **run), keep=(problem, gossip)
            )
        return _cached(
            key,
            lambda: adom_plus(
                problem,
                **run,
                multi_consensus=(method == "adom+-mc"),
                order=p["order"],
            ),
            keep=(problem, gossip),
        )

    def _instance(self, p, n, mu, L, seed):
        key = ("inst", p["network"], p["problem"], n, p["d"], p["m"], mu, L, seed)

        def make():
            return build_problem(p, mu, L, n, seed), build_network(p["network"], n, seed)

        return _cached(key, make)

    def _constants(self, problem, gossip, eps):
        return dict(
            mu=problem.mu,
            L=problem.L,
            kappa=problem.L / problem.mu,
            chi=gossip.chi,
            chi_tight=gossip.chi_tight,
            n=gossip.n,
            d=problem.d,
            eps=eps,
        )

    # decay rate ---------------------------------------------------------
    def _decay(self, claim, p, seed):
        problem, gossip = self._instance(p, p["n"], p["mu"], p["L"], seed)
        c = self._constants(problem, gossip, p["eps"])
        claim.check_assumptions(**c)
        chi_param = c["chi"]
        expr = self.settings(claim).chi_in_parameters
        if expr is not None:  # a claim may state the chi used in ADOM+'s parameters (sympy, in the constants)
            chi_param = float(expr.subs({s: c[s.name] for s in expr.free_symbols if s.name in c}))
        c["chi_in_parameters"] = chi_param
        sigma2 = math.sqrt(c["mu"] / c["L"]) / (16 * c["chi"])
        w = max(1, math.ceil(1 / sigma2))
        budget = min(p["max_iter"], int(60 / sigma2))
        tr = self._run_method("adom+", problem, gossip, chi_param, p, budget, FLOOR)
        D = tr.dist_sq
        # once the distance has reached the rounding floor (ROUNDING_FLOOR * D_0) only noise is left, which
        # drifts back up: the envelope is then built on the run up to its smallest distance.  A run that
        # never gets there (e.g. one that diverges) is measured whole.
        with np.errstate(invalid="ignore"):
            kmin = int(np.nanargmin(np.where(np.isfinite(D), D, np.nan))) if np.isfinite(D).any() else len(D) - 1
        stop = kmin + 1 if D[kmin] <= ROUNDING_FLOOR * D[0] else len(D)
        env = np.maximum.accumulate(D[:stop][::-1])[::-1]
        keep = np.flatnonzero(env >= FLOOR * D[0])
        last = int(keep[-1]) if keep.size else 0
        ends = np.arange(w, last + 1, max(1, w // 2))
        if ends.size == 0:
            ends = np.array([min(w, len(env) - 1)])
        # a run shorter than one window (it diverged or stopped early) is measured over its whole length
        starts = np.maximum(ends - w, 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = -(np.log(env[ends]) - np.log(env[starts])) / np.maximum(ends - starts, 1)
        rate = np.where(np.isfinite(rate), rate, -np.inf)
        c.update(
            window=w,
            sigma2=sigma2,
            iterations=tr.T,
            diverged=tr.diverged_at is not None,
            final_ratio=float(D[-1] / D[0]),
        )
        c["observed_rate_over_sigma2"] = (
            float(np.median(rate[np.isfinite(rate)]) / sigma2) if np.isfinite(rate).any() else float("nan")
        )
        bound = claim.evaluate(**c)
        return Evidence(
            "k",
            ends,
            rate,
            bound,
            constants=c,
            instance=p,
            seed=seed,
            series={"dist_sq": D, "comm_rounds": tr.comm_rounds, "consensus": tr.consensus},
            note=f"windows of {w} iterations; envelope compared while D_k >= {FLOOR:g} D_0 and up to the smallest D_k",
        )

    # scaling --------------------------------------------------------------
    def _scaling(self, claim, p, seed, method, cost, exponent):
        axis = p["axis"] if claim.measure == "mc_cost_to_eps" else self._axis(claim)
        cells = (
            [(n, p["mu"], p["L"]) for n in p["ns"]]
            if axis == "chi"
            else [(p["n"], p["mu"], p["mu"] * k) for k in p["kappas"]]
        )
        chis, kappas, grads, comms = [], [], [], []
        for n, mu, L in cells:
            problem, gossip = self._instance(p, n, mu, L, seed)
            c = self._constants(problem, gossip, p["eps"])
            claim.check_assumptions(**c)
            tr = self._run_method(method, problem, gossip, c["chi"], p, p["max_iter"], p["eps"])
            r, g, ok = _rounds_to(tr, p["eps"])
            if not ok[0]:
                raise UsageError(
                    f"{method} did not reach eps={p['eps']:g} within max_iter={p['max_iter']} "
                    f"(n={n}, kappa={L / mu:g}); raise max_iter"
                )
            chis.append(c["chi"])
            kappas.append(c["kappa"])
            comms.append(r[0])
            grads.append(g[0])
        x = np.array(chis if axis == "chi" else kappas)
        y = np.array(comms if cost == "comm_rounds" else grads)
        fit = loglog_fit(x, y)
        pred = (
            claim.predicted_exponent(chi=float(np.mean(chis)), kappa=float(np.mean(kappas)), eps=p["eps"])
            if exponent is None
            else exponent
        )
        c = dict(
            axis=axis,
            cost=cost,
            method=method,
            eps=p["eps"],
            exponent_tolerance=EXPONENT_TOLERANCE,
            fitted_slope=fit.slope,
            r2=fit.r2,
        )
        ev = Evidence(
            axis,
            x,
            y,
            np.full_like(y, np.nan),
            method="fit",
            constants=c,
            instance=p,
            seed=seed,
            series={
                "chi": np.array(chis),
                "kappa": np.array(kappas),
                "comm_rounds": np.array(comms),
                "grad_calls": np.array(grads),
            },
            fit=fit,
            predicted_exponent=pred,
        )
        return ev

    # hard instance ----------------------------------------------------------
    def _hard_setup(self, p, n, n_chain, L, d, horizon):
        key = ("hard", n, n_chain, d, p["mu"], L, horizon)

        def make():
            prob = chain_hard_instance(n, n_chain, d, p["mu"], L)
            return prob, StarSequence(n, adversarial_star_schedule(n, n_chain, horizon))

        return _cached(key, make)

    def _hard(self, claim, p, seed):
        n, m = p["n"], p["n_chain"]
        if p["mode"] == "depth":
            d = p["depth_d"]
            iters = 40 * d if p["method"] != "adom+" else (n - m + 2) * d
            horizon = iters * (math.ceil(n * math.log(2)) if p["method"] == "adom+-mc" else 1) + 1
            problem, gossip = self._hard_setup(p, n, m, p["L"], d, horizon)
            c = self._hard_constants(problem, gossip, m)
            claim.check_assumptions(**c)
            tr = self._run_method(p["method"], problem, gossip, c["chi"], p, iters, 0.0, track=True)
            ks = np.arange(2, d + 1)
            hit = tr.depth[None, :] >= ks[:, None]
            reached = hit.any(axis=1)
            ks = ks[reached]
            idx = np.argmax(hit[reached], axis=1)
            cost = tr.comm_rounds[idx] if claim.measure == "hard_comm_rounds" else tr.grad_calls[idx]
            bound = claim.evaluate(k_eps=ks, **c)
            c.update(method=p["method"], max_depth=int(tr.depth.max()), iterations=tr.T)
            return Evidence(
                "depth",
                ks,
                cost.astype(float),
                bound,
                constants=c,
                instance=p,
                seed=seed,
                series={"depth": tr.depth, "comm_rounds": tr.comm_rounds, "grad_calls": tr.grad_calls},
                note="cost before chain depth k first appears anywhere in the method's state (k_eps := k)",
            )
        eps = np.array(sorted(p["eps_grid"], reverse=True))
        d = p["depth_d"]
        problem, _ = self._hard_setup(p, n, m, p["L"], d, 1)
        ke = chain_depth_needed(problem.x_star, eps)
        if ke.max() >= d:
            raise UsageError(f"depth_d={d} is too small for eps={eps.min():g}: the chain tail needs depth {ke.max()}")
        tmc = math.ceil(n * math.log(2)) if p["method"] == "adom+-mc" else 1
        iters = min(p["max_iter"], 200000)
        key_iters = iters
        problem, gossip = self._hard_setup(p, n, m, p["L"], d, key_iters * tmc + 1)
        c = self._hard_constants(problem, gossip, m)
        claim.check_assumptions(**c)
        tr = self._run_method(p["method"], problem, gossip, c["chi"], p, key_iters, float(eps.min()))
        r, g, ok = _rounds_to(tr, eps)
        if not ok.any():
            raise UsageError(f"{p['method']} reached none of eps_grid within max_iter={p['max_iter']}; raise max_iter")
        cost = (r if claim.measure == "hard_comm_rounds" else g)[ok]
        bound = claim.evaluate(k_eps=ke[ok], **c)
        c.update(method=p["method"], unreached=int((~ok).sum()), iterations=tr.T)
        return Evidence(
            "eps",
            eps[ok],
            cost,
            bound,
            constants=c,
            instance=p,
            seed=seed,
            series={"k_eps": ke[ok], "dist_sq": tr.dist_sq, "comm_rounds": tr.comm_rounds, "grad_calls": tr.grad_calls},
            note="eps values not reached within the budget are dropped (they say nothing against a lower bound)",
        )

    def _hard_constants(self, problem, gossip, m):
        H = problem.C.sum(axis=0)
        ev = np.linalg.eigvalsh(H)
        return dict(
            mu=problem.mu,
            L=problem.L,
            kappa=problem.L / problem.mu,
            chi=gossip.chi,
            n=gossip.n,
            n_chain=m,
            d=problem.d,
            kappa_sum=float(ev[-1] / ev[0]),
        )

    def _gap(self, claim, p, seed):
        lb = claim.variant("lb", kind="lower", measure="hard_comm_rounds")
        xs, ys, rows = [], [], []
        eps = p["gap_eps"]
        method = self.settings(claim).algorithm or "adom+"
        for n in p["hard_ns"]:
            m = n // 2
            for kap in p["hard_kappas"]:
                q = dict(p, n=n, n_chain=m, L=p["mu"] * kap, mode="eps", method=method, eps_grid=(eps,))
                ev = self._hard(lb, q, seed)
                ratio = float(ev.measured[0] / ev.bound[0])
                xs.append(ev.constants["chi"] * math.sqrt(ev.constants["kappa"]))
                ys.append(ratio)
                rows.append((n, kap, float(ev.measured[0]), float(ev.bound[0])))
        fit = loglog_fit(xs, ys)
        pred = claim.predicted_exponent()
        c = dict(
            scaling_mode="at-most", eps=eps, fitted_slope=fit.slope, max_ratio=float(max(ys)), min_ratio=float(min(ys))
        )
        return Evidence(
            "chi_sqrt_kappa",
            np.array(xs),
            np.array(ys),
            np.full(len(ys), np.nan),
            method="fit",
            constants=c,
            instance=p,
            seed=seed,
            fit=fit,
            predicted_exponent=pred,
            series={"rows(n, kappa, rounds, bound)": np.array(rows)},
        )


EXPERIMENT = register(ADOMExperiment())
