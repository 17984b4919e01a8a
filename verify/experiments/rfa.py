r"""RFA experiment: robust aggregation rounds on heterogeneous diagonal quadratics with exact constants.

Good clients :math:`F_j(w)=\frac12(w-w_j^\star)^\top H_j(w-w_j^\star)`, :math:`H_j=\mathrm{diag}(U[1/\mathrm{curv},
\mathrm{curv}]^d)`, :math:`w_j^\star=\mathbf 1+\mathrm{spread}\cdot\mathcal N(0,0.25I)`; ``n_bad`` corrupted
clients send what the adversary chooses.  Exact constants: :math:`w^\star`, :math:`H_X=\max_{j,k}H_{j,kk}/H_{kk}`,
:math:`H_Y` by enumeration of the pairs, :math:`q_K=\max_j\Vert(I-\gamma H_j)^K\Vert`, :math:`\gamma=1/\max\lambda`.
Measures:

* ``het_radius`` — :math:`\Vert w_i^\star-w^\star\Vert` per good client (deterministic);
* ``one_round_error`` — :math:`e_{t+1}` per round, with :math:`e_t` and the round's GM gap eps (deterministic);
* ``floor_sq`` — :math:`\Vert w_T-w^\star\Vert^2` with :math:`2^t` local steps, no corruption, start at the
  centre 1, over a geometric grid of ``spread`` (log-log slope).
"""

from __future__ import annotations

import numpy as np

from ratecheck.solvers.rfa import ADVERSARIES, global_optimum, rfa

from ..fit import loglog_fit
from ..instances import streams
from ..resources import Need
from ..schema import Choice, Constant, Float, Int, Measure, Rule, Schema, Setting
from ..verdict import Evidence
from . import Experiment, register

RATE_TOLERANCE = 0.1
_ROUND = ("one_round_error",)


def build(p: dict, seed: int):
    """Curvatures (n, d), local optima (n, d) (good clients first), the corrupted mask, and the algorithm stream
    (the adversary's noise), all from :func:`verify.instances.streams` (data / algorithm)."""
    rs = streams(seed)
    n = p["n_good"] + p["n_bad"]
    H = rs.data.uniform(1 / p["curv"], p["curv"], (n, p["d"]))
    W = 1.0 + p["spread"] * 0.5 * rs.data.standard_normal((n, p["d"]))
    return H, W, np.arange(n) >= p["n_good"], rs.algorithm


def constants(H, W, good, K) -> dict:
    Hg, Wg = H[good], W[good]
    wbar = global_optimum(Hg, Wg)
    H_X = float(np.max(Hg / Hg.mean(0)))
    H_Y = float(np.max(np.linalg.norm(Wg[:, None] - Wg[None], axis=-1)))
    gamma = 1.0 / float(H.max())
    q_K = float(np.max(np.abs(1 - gamma * Hg) ** K))
    return dict(H_X=H_X, H_Y=H_Y, q_K=q_K, gamma=gamma, w_star=wbar)


class RFAExperiment(Experiment):
    name = "rfa"
    title = "RFA on heterogeneous quadratic clients: geometric-median aggregation under corruption"
    schema = Schema(
        params=(
            Int("d", 5, "dimension", low=1, high=2000, search=(1, 20)),
            Int("n_good", 7, "good clients", low=2, high=10**5, search=(3, 30)),
            Int("n_bad", 4, "corrupted clients (fewer than the good ones)", low=0, high=10**5, search=(0, 10)),
            Float("curv", 2.0, "curvatures H_j,kk ~ U[1/curv, curv]", low=1, search=(1.0, 10.0), log=True),
            Float(
                "spread",
                1.0,
                "scale s of the local optima around their centre",
                low=0,
                low_open=True,
                search=(0.01, 10.0),
                log=True,
            ),
            Int("K", 3, "local steps per round", low=1, high=1000, search=(1, 10)),
            Choice(
                "adversary", "scaled-mean", "what the corrupted clients send", choices=ADVERSARIES, search=ADVERSARIES
            ),
            Int("rounds", 15, "rounds", low=1, high=10**4),
            Int("budget", 10, "smoothed Weiszfeld iterations of the aggregate", low=1, high=1000, search=(1, 20)),
        ),
        constants=(
            Constant("H_X", "max_j ||H^-1 H_j||_2 over the good clients"),
            Constant("H_Y", "max_ij ||w_i* - w_j*|| over the good clients"),
            Constant("q_K", "max_j ||(I - gamma H_j)^K||_2"),
            Constant("vartheta", "corrupted fraction among the selected", measures=_ROUND),
            Constant("e_prev", "per round: ||w_t - w*||", measures=_ROUND),
            Constant("eps", "per round: normalized GM objective gap of the aggregate", measures=_ROUND),
        ),
        measures=(
            Measure("het_radius", "||w_i* - w*|| per good client", grid="client"),
            Measure("one_round_error", "||w_{t+1} - w*|| per round", grid="round"),
            Measure(
                "floor_sq", "||w_T - w*||^2 over a grid of the spread (no corruption, 2^t local steps)", grid="spread"
            ),
        ),
        settings=(Setting("aggregator", "gm", "server aggregation", choices=("gm", "mean"), measures=_ROUND),),
        rules=(Rule("n_bad must be below n_good", ("n_bad", "n_good"), lambda p: p["n_bad"] < p["n_good"]),),
    )

    def from_search(self, point):
        if "n_bad" in point and "n_good" in point:
            return dict(point, n_bad=min(point["n_bad"], point["n_good"] - 1))
        return dict(point)

    def memory_needs(self, p):
        n = p["n_good"] + p["n_bad"]
        return [Need("n*d*8 + n_good^2*d", n * p["d"] * 8 + p["n_good"] ** 2 * p["d"], ("n_good", "d"))]

    def instances(self, claim, quick=False):
        if claim.measure == "one_round_error":
            return [{}, dict(adversary="sign-flip"), dict(adversary="omniscient", n_bad=2, K=10)]
        if claim.measure == "het_radius":
            return [{}, dict(spread=0.1, curv=5.0), dict(d=20, n_good=30)]
        return [dict(rounds=8)]

    def run(self, claim, p, seed=0):
        H, W, bad, rng = build(p, seed)
        good = ~bad
        c = constants(H, W, good, p["K"])
        w_star = c.pop("w_star")
        common = dict(constants=c, instance=p, seed=seed)
        if claim.measure == "het_radius":
            r = np.linalg.norm(W[good] - w_star, axis=1)
            return Evidence("client", np.arange(r.size), r, claim.evaluate(**c), **common)
        if claim.measure == "one_round_error":
            agg = self.settings(claim).aggregator
            tr = rfa(
                (H, W),
                np.zeros(p["d"]),
                gamma=c["gamma"],
                T=p["rounds"],
                rng=rng,
                K=p["K"],
                corrupted=bad,
                adversary=p["adversary"],
                aggregator=agg,
                budget=p["budget"],
            )
            e = np.linalg.norm(tr.w - w_star, axis=1)
            c["vartheta"] = float(bad.mean())
            claim.check_assumptions(**c)
            bound = claim.evaluate(e_prev=e[:-1], eps=tr.eps, **c)
            return Evidence("round", np.arange(p["rounds"]), e[1:], bound, series={"eps": tr.eps}, **common)
        s = p["spread"] * 2.0 ** np.arange(-2, 3)
        y = np.empty(s.size)
        for i, si in enumerate(s):  # five spreads, same seed: w_j* - 1 scales exactly with s
            Hs, Ws, _, r2 = build(dict(p, spread=float(si)), seed)
            ws = global_optimum(Hs[good], Ws[good])
            tr = rfa(
                (Hs[good], Ws[good]),
                np.ones(p["d"]),
                gamma=1.0 / float(Hs.max()),
                T=p["rounds"],
                rng=r2,
                K_schedule=lambda t: 2**t,
                budget=p["budget"],
                polish=1,
            )
            y[i] = float(np.sum((tr.w[-1] - ws) ** 2))
        fit = loglog_fit(s, y)
        c.update(exponent_tolerance=RATE_TOLERANCE, scaling_mode="equal")
        return Evidence(
            "spread",
            s,
            y,
            fit.predict(s),
            method="fit",
            fit=fit,
            predicted_exponent=claim.predicted_exponent(**c),
            **common,
        )


EXPERIMENT = register(RFAExperiment())
