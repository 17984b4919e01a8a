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

``decay_rate`` and the hard instance's measures are one pass of the base's pipeline (``MEASURES``); the
sweeps are ``DIRECT_MEASURES`` whose every cell is one pass.  Instances and runs are cached per (instance,
seed, method parameters), so a claim and its teeth share them.
"""

from __future__ import annotations

import functools
import math
from types import SimpleNamespace

import numpy as np

from ratecheck.solvers.adom import METHODS, StarSequence, multi_consensus_rounds, run_method
from ratecheck.theorems.adom import law_exponent

from ..errors import UsageError
from ..fit import fit_evidence, windowed_decay_rate
from ..instances import (
    ADOM_NETWORKS,
    adom_network,
    adom_problem,
    adversarial_star_schedule,
    chain_depth_needed,
    chain_hard_instance,
)
from ..resources import Need
from ..schema import Choice, Constant, Float, Int, Measure, Rule, Schema, SearchVar, Setting, expr_value, number_list
from . import Experiment, register

FLOOR = 1e-20  #: decay rates are measured while D_k >= FLOOR * D_0
ROUNDING_FLOOR = 1e-15  #: below this fraction of D_0 a rising distance is rounding noise, not divergence
EXPONENT_TOLERANCE = 0.1  #: documented slack on fitted exponents (lower-order log and transient terms)
NETWORKS = ADOM_NETWORKS
PROBLEMS = ("quadratic", "logistic")
COSTS = ("grad_calls", "comm_rounds")
_NODES = dict(min_len=3, low=3, integer=True)  #: node counts of a sweep: at least 3 integers >= 3
_KAPPA = dict(low=1, low_open=True)  #: condition numbers kappa > 1
_DECAY = ("decay_rate",)
_SCALING = ("comm_rounds_to_eps", "mc_cost_to_eps")
_HARD = ("hard_comm_rounds", "hard_grad_calls")
_GAP = ("cost_over_lower_bound",)
#: the method a measure runs where the measure fixes it (the hard instance runs the parameter method)
MEASURE_METHOD = {"decay_rate": "adom+", "comm_rounds_to_eps": "adom+", "mc_cost_to_eps": "adom+-mc"}


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
            number_list(
                "ns", (4, 6, 8, 11, 16), "node counts of the chi sweep (relabelled rings of growing n)", **_NODES
            ),
            number_list(
                "kappas", (4.0, 16.0, 64.0, 256.0), "values of kappa = L/mu of the kappa sweep", min_len=3, **_KAPPA
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
            number_list(
                "eps_grid",
                (1e-1, 1e-2, 1e-3, 1e-4),
                "accuracies of the hard instance in mode 'eps'",
                low=0,
                high=1,
                low_open=True,
                high_open=True,
            ),
            Float(
                "gap_eps", 1e-4, "accuracy of the optimality-gap claim", low=0, high=1, low_open=True, high_open=True
            ),
            number_list("hard_ns", (4, 8, 12), "node counts of the optimality-gap grid (n_chain = n // 2)", **_NODES),
            number_list("hard_kappas", (9.0, 36.0), "values of kappa of the optimality-gap grid", **_KAPPA),
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

    #: the method a measure fixes (setting algorithm may state it, not change it)
    FIXED_SETTINGS = {m: {"algorithm": method} for m, method in MEASURE_METHOD.items()}

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

    # ------------------------------------------------------------------ the pipeline
    MEASURES = {"decay_rate": "_decay", "hard_comm_rounds": "_hard", "hard_grad_calls": "_hard"}
    #: sweeps: every cell is one pass of the pipeline
    DIRECT_MEASURES = {"comm_rounds_to_eps": "_scaling", "mc_cost_to_eps": "_scaling", "cost_over_lower_bound": "_gap"}

    def _axis(self, claim):
        """The sweep axis of comm_rounds_to_eps: the claim's setting axis, else its scaling_in, else chi."""
        return self.settings(claim).axis or claim.scaling_in or "chi"

    def instance(self, p, seed):
        """What a measure reads, each part built on first use and kept in the shared cache (not here):
        ``network()``, the network problem of the parameters n, mu, L, or ``hard()``, the hard instance."""
        return SimpleNamespace(
            network=lambda: self.network(p, p["n"], p["mu"], p["L"], seed), hard=lambda: self.hard_instance(p)
        )

    def network(self, p: dict, n: int, mu: float, L: float, seed: int):
        """``(problem, gossip)``: the local problems and the gossip sequence of n nodes (shared cache)."""
        key = (p["network"], p["problem"], n, p["d"], p["m"], mu, L, seed)

        def make():
            return adom_problem(p["problem"], n, p["d"], p["m"], mu, L, seed), adom_network(p["network"], n, seed)

        return self.cached("inst", key, make)

    def hard_instance(self, p: dict):
        """``(problem, gossip, iterations, stop_ratio, k_eps)``: the split chain on the adversarial moving-centre
        star, whose schedule covers the run's rounds.  Mode 'depth' runs 40 depth_d iterations ((n - n_chain + 2)
        depth_d for ADOM+) to the end; mode 'eps' at most min(max_iter, 2e5) until the smallest eps, and needs
        the chain depth k_eps of every eps (exact tail of x*) below depth_d."""
        n, m, d, mu, L = p["n"], p["n_chain"], p["depth_d"], p["mu"], p["L"]
        problem = self.cached("chain", (n, m, d, mu, L), lambda: chain_hard_instance(n, m, d, mu, L))
        ke = None
        if p["mode"] == "depth":
            iters, stop = (40 * d if p["method"] != "adom+" else (n - m + 2) * d), 0.0
        else:
            eps = np.array(sorted(p["eps_grid"], reverse=True))
            ke = chain_depth_needed(problem.x_star, eps)
            if ke.max() >= d:
                raise UsageError(
                    f"depth_d={d} is too small for eps={eps.min():g}: the chain tail needs depth {ke.max()}"
                )
            iters, stop = min(p["max_iter"], 200000), float(eps.min())
        rounds = iters * (multi_consensus_rounds(n) if p["method"] == "adom+-mc" else 1) + 1
        gossip = self.cached("star", (n, m, rounds), lambda: StarSequence(n, adversarial_star_schedule(n, m, rounds)))
        return problem, gossip, iters, stop, ke

    def constants(self, claim, inst, p):
        """The network's constants at the target eps (and, for the decay rate, the chi in ADOM+'s parameters:
        the claim's expression in them, else chi); the hard instance's constants."""
        hard = claim.measure in _HARD
        problem, gossip = inst.hard()[:2] if hard else inst.network()
        c = dict(mu=problem.mu, L=problem.L, kappa=problem.L / problem.mu, chi=gossip.chi, n=gossip.n, d=problem.d)
        if hard:
            return dict(c, n_chain=p["n_chain"], kappa_sum=problem.kappa_sum)
        c.update(chi_tight=gossip.chi_tight, eps=p["eps"])
        if claim.measure == "decay_rate":
            expr = self.settings(claim).chi_in_parameters
            c["chi_in_parameters"] = c["chi"] if expr is None else expr_value(expr, c, "chi_in_parameters")
        return c

    def solve(self, claim, inst, c, p, seed):
        """Decay rate: ADOM+ for 60/sigma_2 iterations (at most max_iter) or until D_k <= FLOOR D_0, sigma_2 =
        sqrt(mu/L)/(16 chi); a sweep cell: the measure's method until D_k <= eps D_0; the hard instance: the
        parameter method (tracking the chain depth in mode 'depth')."""
        meas = claim.measure
        if meas in _HARD:
            problem, gossip, iters, stop, _ = inst.hard()
            return self.run_method(p["method"], problem, gossip, c["chi"], p, iters, stop, track=p["mode"] == "depth")
        problem, gossip = inst.network()
        if meas in _SCALING:
            return self.run_method(MEASURE_METHOD[meas], problem, gossip, c["chi"], p, p["max_iter"], p["eps"])
        sigma2 = math.sqrt(c["mu"] / c["L"]) / (16 * c["chi"])
        c.update(window=max(1, math.ceil(1 / sigma2)), sigma2=sigma2)
        budget = min(p["max_iter"], int(60 / sigma2))
        return self.run_method("adom+", problem, gossip, c["chi_in_parameters"], p, budget, FLOOR)

    def run_method(self, method, problem, gossip, chi_param, p, iterations, stop_ratio, track=False):
        """:func:`solvers.adom.run_method` (product order ``p['order']``, gradient tracking's stepsize
        ``p['gt_step']``), cached: a claim and its teeth share the run."""
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
        make = functools.partial(run_method, method, problem, order=p["order"], gt_step=p["gt_step"], **run)
        return self.cached(method, key, make, keep=(problem, gossip))

    # ------------------------------------------------------------------ the measures
    def _decay(self, claim, run):
        tr, c = run.result, run.constants
        D = tr.dist_sq
        ends, rate = windowed_decay_rate(D, c["window"], FLOOR, ROUNDING_FLOOR)
        c.update(iterations=tr.T, diverged=tr.diverged_at is not None, final_ratio=float(D[-1] / D[0]))
        c["observed_rate_over_sigma2"] = (
            float(np.median(rate[np.isfinite(rate)]) / c["sigma2"]) if np.isfinite(rate).any() else float("nan")
        )
        series = {"dist_sq": D, "comm_rounds": tr.comm_rounds, "consensus": tr.consensus}
        note = f"windows of {c['window']} iterations; envelope compared while D_k >= {FLOOR:g} D_0 and up to the "
        note += "smallest D_k"
        return run.evidence("k", ends, rate, claim.evaluate(**c), series=series, note=note)

    def _scaling(self, claim, p, seed):
        """Cost to eps over a sweep of chi (relabelled rings of growing n) or kappa, fitted on log-log axes."""
        mc = claim.measure == "mc_cost_to_eps"
        axis, cost = (p["axis"], p["cost"]) if mc else (self._axis(claim), "comm_rounds")
        method, laws = MEASURE_METHOD[claim.measure], self.settings(claim).laws
        # mc_cost_to_eps: the exponent of the claim's law for the cost, if it states one (else the claim's own)
        law = laws.get(cost) if mc else None
        exponent = None if law is None else law_exponent(law, axis, f"claim {claim.id}: the law for {cost}")
        cells = [dict(n=n) for n in p["ns"]] if axis == "chi" else [dict(L=p["mu"] * k) for k in p["kappas"]]
        rows = []
        for q in (dict(p, **cell) for cell in cells):
            run = self.pipeline(claim, q, seed)
            r, g, ok = run.result.cost_to_eps(p["eps"])
            if not ok[0]:
                raise UsageError(
                    f"{method} did not reach eps={p['eps']:g} within max_iter={p['max_iter']} "
                    f"(n={q['n']}, kappa={q['L'] / q['mu']:g}); raise max_iter"
                )
            rows.append((run.constants["chi"], run.constants["kappa"], r[0], g[0]))
        series = {k: np.array(v) for k, v in zip(("chi", "kappa", "comm_rounds", "grad_calls"), zip(*rows))}
        if exponent is None:
            exponent = claim.predicted_exponent(
                chi=float(np.mean(series["chi"])), kappa=float(np.mean(series["kappa"])), eps=p["eps"]
            )
        c = dict(axis=axis, cost=cost, method=method, eps=p["eps"])
        x, y = series[axis], series["comm_rounds" if cost == "comm_rounds" else "grad_calls"]
        ev = fit_evidence(
            claim,
            axis,
            x,
            y,
            c,
            mode="equal",
            tolerance=EXPONENT_TOLERANCE,
            line="none",
            exponent=exponent,
            instance=p,
            seed=seed,
            series=series,
        )
        c.update(fitted_slope=ev.fit.slope, r2=ev.fit.r2)
        return ev

    def _hard(self, claim, run):
        """Rounds or gradient calls before each chain depth k first appears in the method's state (mode 'depth'),
        or to reach each eps (mode 'eps'; eps not reached are dropped: they say nothing against a lower bound)."""
        p, c, tr = run.p, run.constants, run.result
        if p["mode"] == "depth":
            grid = k_eps = np.arange(2, p["depth_d"] + 1)
            r, g, ok = tr.cost_to_depth(grid)
            extra, series = dict(max_depth=int(tr.depth.max())), {"depth": tr.depth}
            note = "cost before chain depth k first appears anywhere in the method's state (k_eps := k)"
        else:
            grid, k_eps = np.array(sorted(p["eps_grid"], reverse=True)), run.instance.hard()[4]
            r, g, ok = tr.cost_to_eps(grid)
            if not ok.any():
                raise UsageError(
                    f"{p['method']} reached none of eps_grid within max_iter={p['max_iter']}; raise max_iter"
                )
            extra, series = dict(unreached=int((~ok).sum())), {"k_eps": k_eps[ok], "dist_sq": tr.dist_sq}
            note = "eps values not reached within the budget are dropped (they say nothing against a lower bound)"
        bound = claim.evaluate(k_eps=k_eps[ok], **c)
        c.update(method=p["method"], **extra, iterations=tr.T)
        series.update(comm_rounds=tr.comm_rounds, grad_calls=tr.grad_calls)
        measured = (r if claim.measure == "hard_comm_rounds" else g)[ok]
        return run.evidence(p["mode"], grid[ok], measured, bound, series=series, note=note)

    def _gap(self, claim, p, seed):
        """ADOM+ rounds to gap_eps on the hard instance over the lower bound, over a grid of (chi, kappa)."""
        lb = claim.variant("lb", kind="lower", measure="hard_comm_rounds")
        eps, method = p["gap_eps"], self.settings(claim).algorithm or "adom+"
        xs, rows = [], []
        for n in p["hard_ns"]:
            for kap in p["hard_kappas"]:
                q = dict(p, n=n, n_chain=n // 2, L=p["mu"] * kap, mode="eps", method=method, eps_grid=(eps,))
                ev = self._hard(lb, self.pipeline(lb, q, seed))
                xs.append(ev.constants["chi"] * math.sqrt(ev.constants["kappa"]))
                rows.append((n, kap, float(ev.measured[0]), float(ev.bound[0])))
        ratios = np.array([float(r / b) for _, _, r, b in rows])
        c = dict(eps=eps)
        ev = fit_evidence(
            claim,
            "chi_sqrt_kappa",
            np.array(xs),
            ratios,
            c,
            mode="at-most",
            tolerance=0.0,
            line="none",
            exponent=claim.predicted_exponent(),
            instance=p,
            seed=seed,
            series={"rows(n, kappa, rounds, bound)": np.array(rows)},
        )
        c.update(fitted_slope=ev.fit.slope, max_ratio=float(ratios.max()), min_ratio=float(ratios.min()))
        return ev


EXPERIMENT = register(ADOMExperiment())
