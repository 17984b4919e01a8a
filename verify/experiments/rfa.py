r"""RFA experiment: robust aggregation rounds on heterogeneous diagonal quadratics with exact constants.

Good clients :math:`F_j(w)=\frac12(w-w_j^\star)^\top H_j(w-w_j^\star)`, :math:`H_j=\mathrm{diag}(U[1/\mathrm{curv},
\mathrm{curv}]^d)`, :math:`w_j^\star=\mathbf 1+\mathrm{spread}\cdot\mathcal N(0,0.25I)`; ``n_bad`` corrupted
clients send what the adversary chooses.  Exact constants: :math:`w^\star`, :math:`H_X=\max_{j,k}H_{j,kk}/H_{kk}`,
:math:`H_Y` by enumeration of the pairs, :math:`q_K=\max_j\Vert(I-\gamma H_j)^K\Vert`, :math:`\gamma=1/\max\lambda`.
Measures:

* ``het_radius`` — :math:`\Vert w_i^\star-w^\star\Vert` per good client (deterministic);
* ``one_round_error`` — :math:`e_{t+1}` per round, with :math:`e_t` and the round's GM gap eps (deterministic);
* ``floor_sq`` — :math:`\Vert w_T-w^\star\Vert^2` with :math:`2^t` local steps, every good client in every round
  (no corruption, no sampling), start at the centre 1, over a geometric grid of ``spread`` (log-log slope);
* ``error_sq_rounds`` — :math:`\Vert w_t-w^\star\Vert^2` against :math:`K_t=2^t` (local steps of round t) over the
  second half of the rounds (at least the 3 latest above the float resolution), no corruption, optima at the
  centre (setting ``optima='common'``, :math:`H_Y=0`) or spread as built (``'spread'``);
* ``floor_sq_margin`` — :math:`\Vert w_T-w^\star\Vert^2` with :math:`2^t` local steps for ``n_bad`` at 10%, 25%,
  50%, 75%, 90% of ``n_good`` (:math:`1/\upsilon=n/(n_{\rm good}-n_{\rm bad})`), the median polished
  (``budget`` x 20 iterations) so that the margin, not the median's accuracy, is measured;
* ``floor_sq_eps`` — :math:`\Vert w_T-w^\star\Vert^2`, the aggregate moved by a displacement on a geometric grid
  around ``eps_gm`` (an approximate median), optima at the centre, no corruption, against the measured normalized
  GM gap eps of the last aggregate (equal to the displacement here: the updates coincide at the end).

Client sampling (``m_sel`` of the n clients per round, uniformly without replacement; 0: all) applies to the other
round-based measures; ``one_round_error`` then uses each round's corrupted fraction among the selected and leaves out
(and counts) the rounds outside the event :math:`\vartheta<1/2` on which the bound is stated.  Random streams:
clients from ``streams(seed).data``, selections, adversary noise and the eps direction from ``.algorithm``.
"""

from __future__ import annotations

import numpy as np

from ratecheck.solvers.rfa import ADVERSARIES, global_optimum, rfa

from ..errors import UsageError
from ..fit import fit_evidence
from ..instances import streams
from ..resources import Need
from ..schema import Choice, Constant, Float, Int, Measure, Rule, Schema, Setting
from ..verdict import Evidence
from . import Experiment, register

RATE_TOLERANCE = 0.1
_ROUND = ("one_round_error",)
MARGIN_FRACTIONS = (0.1, 0.25, 0.5, 0.75, 0.9)  #: n_bad / n_good of the margin grid
FLOAT_FLOOR = 1e3 * np.finfo(float).eps  #: relative resolution below which a squared error is left out
GRID = 2.0 ** np.arange(-2, 3)  #: the five factors of a sweep around the instance's spread or eps_gm
#: the reference instances of each measure (the others: ``rounds=8``)
INSTANCES = {
    "one_round_error": [{}, dict(adversary="sign-flip"), dict(adversary="omniscient", n_bad=2, K=10)],
    "het_radius": [{}, dict(spread=0.1, curv=5.0), dict(d=20, n_good=30)],
    "error_sq_rounds": [dict(rounds=8), dict(rounds=8, m_sel=5)],
    "floor_sq_margin": [dict(n_good=20, rounds=6, adversary="sign-flip")],
    "floor_sq_eps": [dict(rounds=8), dict(rounds=8, m_sel=5)],
}


def doubling(t: int) -> int:
    """Local steps of round t in the measures of the poster's rate: K_t = 2^t."""
    return 2**t


def rounds(p: dict, H, W, bad, seed: int, *, x0=None, gamma=None, sampled: bool = True, **kw):
    """``p['rounds']`` RFA rounds on the clients (H, W) from x0 (default 0), gamma = 1/max H unless given,
    ``m_sel`` clients per round (``sampled``; else all), rng = ``streams(seed).algorithm``."""
    x0 = np.zeros(p["d"]) if x0 is None else x0
    gamma = 1.0 / float(H.max()) if gamma is None else gamma
    m = (p["m_sel"] or None) if sampled else None
    return rfa((H, W), x0, gamma=gamma, T=p["rounds"], rng=streams(seed).algorithm, corrupted=bad, m=m, **kw)


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
            Int(
                "m_sel",
                0,
                "clients selected per round, uniformly without replacement (0: all)",
                low=0,
                high=10**5,
                search=(0, 20),
            ),
            Float(
                "eps_gm",
                1e-3,
                "centre of the grid of median accuracies (floor_sq_eps)",
                low=0,
                low_open=True,
                search=(1e-5, 1e-1),
                log=True,
            ),
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
            Measure("error_sq_rounds", "||w_t - w*||^2 against K_t = 2^t (2^t local steps in round t)", grid="K_t"),
            Measure(
                "floor_sq_margin",
                "||w_T - w*||^2 over a grid of the corrupted fraction (2^t local steps)",
                grid="inv_upsilon",
            ),
            Measure("floor_sq_eps", "||w_T - w*||^2 over a grid of the median's accuracy eps", grid="eps"),
        ),
        settings=(
            Setting("aggregator", "gm", "server aggregation", choices=("gm", "mean"), measures=_ROUND),
            Setting(
                "optima",
                "common",
                "local optima at their centre (H_Y = 0) or spread as built",
                choices=("common", "spread"),
                measures=("error_sq_rounds",),
            ),
        ),
        rules=(
            Rule("n_bad must be below n_good", ("n_bad", "n_good"), lambda p: p["n_bad"] < p["n_good"]),
            Rule(
                "m_sel must be at most n_good + n_bad",
                ("m_sel", "n_good", "n_bad"),
                lambda p: p["m_sel"] <= p["n_good"] + p["n_bad"],
            ),
        ),
    )

    def from_search(self, point):
        out = dict(point)
        if "n_bad" in out and "n_good" in out:
            out["n_bad"] = min(out["n_bad"], out["n_good"] - 1)
        if "m_sel" in out and "n_good" in out and "n_bad" in out:
            out["m_sel"] = min(out["m_sel"], out["n_good"] + out["n_bad"])
        return out

    def memory_needs(self, p):
        n = p["n_good"] + p["n_bad"]
        return [Need("n*d*8 + n_good^2*d", n * p["d"] * 8 + p["n_good"] ** 2 * p["d"], ("n_good", "d"))]

    def instances(self, claim, quick=False):
        return [dict(q) for q in INSTANCES.get(claim.measure, [dict(rounds=8)])]

    # ------------------------------------------------------------------ the pipeline
    MEASURES = {"one_round_error": "_one_round", "error_sq_rounds": "_rounds_rate"}
    DIRECT_MEASURES = {
        "het_radius": "_het_radius",
        "floor_sq": "_floor_spread",
        "floor_sq_margin": "_floor_margin",
        "floor_sq_eps": "_floor_eps",
    }

    def instance_params(self, p):
        return {k: p[k] for k in ("d", "n_good", "n_bad", "curv", "spread")}

    def instance(self, p, seed):
        """Curvatures (n, d), local optima (n, d) (good clients first) and the corrupted mask, from
        ``streams(seed).data``."""
        data, n = streams(seed).data, p["n_good"] + p["n_bad"]
        H = data.uniform(1 / p["curv"], p["curv"], (n, p["d"]))
        W = 1.0 + p["spread"] * 0.5 * data.standard_normal((n, p["d"]))
        return H, W, np.arange(n) >= p["n_good"]

    def constants(self, claim, inst, p):
        """H_X, H_Y, q_K over the good clients, gamma = 1/max H; one_round_error: the corrupted fraction vartheta."""
        H, W, bad = inst
        Hg, Wg = H[~bad], W[~bad]
        gamma = 1.0 / float(H.max())
        c = dict(
            H_X=float(np.max(Hg / Hg.mean(0))),
            H_Y=float(np.max(np.linalg.norm(Wg[:, None] - Wg[None], axis=-1))),
            q_K=float(np.max(np.abs(1 - gamma * Hg) ** p["K"])),
            gamma=gamma,
        )
        if claim.measure == "one_round_error":
            c["vartheta"] = float(bad.mean())
        return c

    def _rate_clients(self, claim, inst):
        """The good clients of error_sq_rounds, optima at their centre 1 or as built (setting ``optima``)."""
        H, W, bad = inst
        Wr = W if self.settings(claim).optima == "spread" else np.ones_like(W)
        return H[~bad], Wr[~bad]

    def solve(self, claim, inst, c, p, seed):
        """From w_0 = 0: every client with the instance's K and adversary (one_round_error), or the good clients
        with 2^t local steps in round t (error_sq_rounds)."""
        H, W, bad = inst
        if claim.measure == "one_round_error":
            agg = self.settings(claim).aggregator
            return rounds(p, H, W, bad, seed, K=p["K"], adversary=p["adversary"], aggregator=agg, budget=p["budget"])
        Hg, Wr = self._rate_clients(claim, inst)
        return rounds(p, Hg, Wr, None, seed, K_schedule=doubling, budget=p["budget"], polish=1)

    def _scaling(self, claim, x, y, c, p, seed, note=""):
        mode = "equal" if claim.measure in ("floor_sq_eps", "floor_sq") else "at-most"
        grid = self.schema.measure(claim.measure).grid
        return fit_evidence(claim, grid, x, y, c, mode=mode, tolerance=RATE_TOLERANCE, instance=p, seed=seed, note=note)

    # ------------------------------------------------------------------ the measures
    def _one_round(self, claim, run):
        c, p, tr = run.constants, run.p, run.result
        H, W, bad = run.instance
        e = np.linalg.norm(tr.w - global_optimum(H[~bad], W[~bad]), axis=1)
        on = tr.vartheta < 0.5  # the event on which the bound is stated (an honest majority among the selected)
        bound = claim.evaluate(**dict(c, e_prev=e[:-1][on], eps=tr.eps[on], vartheta=tr.vartheta[on]))
        note = "" if on.all() else f"{int((~on).sum())} of {p['rounds']} rounds left out (vartheta >= 1/2)"
        ev = dict(constants=c, instance=p, seed=run.seed, series={"eps": tr.eps, "vartheta": tr.vartheta})
        return Evidence("round", np.arange(p["rounds"])[on], e[1:][on], bound, note=note, **ev)

    def _rounds_rate(self, claim, run):
        p = run.p
        ws = global_optimum(*self._rate_clients(claim, run.instance))
        e2 = np.sum((run.result.w[1:] - ws) ** 2, axis=1)  # after round t = 0..T-1, which ran K_t = 2^t steps
        t = np.arange(p["rounds"])
        above = np.flatnonzero(e2 > (FLOAT_FLOOR * max(1.0, float(np.abs(ws).max()))) ** 2)
        keep = above[above >= p["rounds"] // 2]
        keep = keep if keep.size >= 3 else above[-3:]  # at least 3 rounds, the latest above the float resolution
        if keep.size < 3:
            raise UsageError(f"rounds={p['rounds']}: fewer than 3 rounds above the float resolution to fit")
        note = f"rounds {t[keep[0]]}..{t[keep[-1]]} fitted ({p['rounds'] - above.size} below the float resolution)"
        return self._scaling(claim, 2.0 ** t[keep], e2[keep], run.constants, p, run.seed, note)

    def _het_radius(self, claim, p, seed):
        H, W, bad = inst = self.cached_instance(p, seed)
        c = self.constants(claim, inst, p)
        r = np.linalg.norm(W[~bad] - global_optimum(H[~bad], W[~bad]), axis=1)
        return Evidence("client", np.arange(r.size), r, claim.evaluate(**c), constants=c, instance=p, seed=seed)

    def _floor_spread(self, claim, p, seed):
        """Five spreads, the same seed (w_j* - 1 scales exactly with s); every good client, from the centre 1."""
        H, W, bad = inst = self.cached_instance(p, seed)
        s, y = p["spread"] * GRID, np.empty(GRID.size)
        for i, si in enumerate(s):
            Hs, Ws, _ = self.cached_instance(dict(p, spread=float(si)), seed)
            Hg, Wg = Hs[~bad], Ws[~bad]
            kw = dict(x0=np.ones(p["d"]), gamma=1.0 / float(Hs.max()), K_schedule=doubling, budget=p["budget"])
            tr = rounds(p, Hg, Wg, None, seed, sampled=False, polish=1, **kw)
            y[i] = float(np.sum((tr.w[-1] - global_optimum(Hg, Wg)) ** 2))
        return self._scaling(claim, s, y, self.constants(claim, inst, p), p, seed)

    def _floor_margin(self, claim, p, seed):
        """Five corruption levels, the same good clients; the median polished (20 x budget iterations)."""
        ng = p["n_good"]
        nbs = sorted({min(ng - 1, round(f * ng)) for f in MARGIN_FRACTIONS} - {0})
        if len(nbs) < 3:
            raise UsageError(f"n_good={ng}: the margin grid needs at least 3 distinct corrupted counts (n_good >= 7)")
        x, y = np.empty(len(nbs)), np.empty(len(nbs))
        for i, nb in enumerate(nbs):
            pi = dict(p, n_bad=nb, m_sel=min(p["m_sel"], ng + nb))
            H, W, bad = self.cached_instance(pi, seed)
            kw = dict(K_schedule=doubling, adversary=p["adversary"], budget=20 * p["budget"], polish=1)
            x[i] = (ng + nb) / (ng - nb)
            tr = rounds(pi, H, W, bad, seed, **kw)
            y[i] = float(np.sum((tr.w[-1] - global_optimum(H[~bad], W[~bad])) ** 2))
        c = self.constants(claim, self.cached_instance(p, seed), p)  # of the instance's own n_bad
        return self._scaling(claim, x, y, c, p, seed, f"n_bad in {nbs}")

    def _floor_eps(self, claim, p, seed):
        """Five displacements of the aggregate, the same stream, optima at the centre; x: the measured gap."""
        H, W, bad = inst = self.cached_instance(p, seed)
        Hg, Wc = H[~bad], np.ones_like(W[~bad])
        ws = global_optimum(Hg, Wc)
        x, y = np.empty(GRID.size), np.empty(GRID.size)
        for i, e in enumerate(p["eps_gm"] * GRID):
            kw = dict(K_schedule=doubling, budget=p["budget"], polish=50, eps_gm=float(e))
            tr = rounds(p, Hg, Wc, None, seed, **kw)
            x[i], y[i] = tr.eps[-1], float(np.sum((tr.w[-1] - ws) ** 2))
        note = "eps: the normalized GM gap of the last aggregate (against a 50-iteration reference)"
        return self._scaling(claim, x, y, self.constants(claim, inst, p), p, seed, note)


EXPERIMENT = register(RFAExperiment())
