"""L-SVRP report and notebook figures (moved from ``verify/experiments/lsvrp.py``)."""

from __future__ import annotations

import numpy as np

from ratecheck import theorems
from ratecheck.solvers.lsvrp import client_constants, expected_communications, lsvrp_outcomes, sgd_outcomes

from ..expectation import exact_lsvrp_moments
from ..experiments.lsvrp import EXPERIMENT
from ..instances import delta_controlled_quadratics
from ..schema import expr_value
from .style import draw_each

__all__ = ["lsvrp_figures", "plot_lsvrp_vs_sgd", "plot_comms_scaling", "plot_region"]


def lsvrp_figures(exp, verdicts, outdir, quick=False):
    """Three figures: L-SVRP vs SGD against communications (low and high delta), communications
    to eps against delta/mu with the predicted slope, and the convergence region."""

    return draw_each(
        (
            (
                plot_lsvrp_vs_sgd,
                "lsvrp_vs_sgd.png",
                "E||x^k - x*||^2 (exact) against communications: L-SVRP "
                "(gamma = mu/(2 delta^2), p = 1/n) and SGD (gamma = 1/(2 L_max)), low and high Hessian dissimilarity",
            ),
            (
                plot_comms_scaling,
                "lsvrp_comms_scaling.png",
                "Communications to eps = 1e-3 against delta/mu (log-log): "
                "Khaled–Jin stepsize and best stepsize on a grid, with the predicted slope 2",
            ),
            (
                plot_region,
                "lsvrp_region.png",
                "Convergence region in the (gamma, delta) plane: the derived boundary "
                "gamma (delta^2 - mu^2) = 2 mu and the exact growth rate of E||x^k - x*||^2 of L-SVRP",
            ),
        ),
        outdir,
        quick=quick,
        verdicts=verdicts,
    )


def _exact_curve(problem, outcomes, z0, T):
    probs, G, h = outcomes
    return exact_lsvrp_moments(probs, G, h, z0, T, [(0, problem.d)])[0]


def plot_lsvrp_vs_sgd(quick: bool = True, verdicts=None, kappas=(1.5, 10.0), n: int = 10, d: int = 4, seed: int = 0):
    """E||x^k - x*||^2 against expected communications for L-SVRP and SGD at low and high delta/mu."""
    import matplotlib.pyplot as plt

    exp = EXPERIMENT
    cl = theorems.get("lsvrp.complexity")
    sg = theorems.get("sgd.neighborhood")
    fig, axes = plt.subplots(1, len(kappas) + 1, figsize=(5.0 * (len(kappas) + 1), 3.8), squeeze=False)
    budget = 3000 if quick else 12000

    def curves(kap, budget):
        p = exp.params(dict(instance="shared-floor", n=n, d=d, delta=float(kap), start="spread"))
        P, xs, _, x0 = exp.cached_instance(p, seed)
        c = client_constants(P, p["dissimilarity"])
        pp = expr_value(exp.settings(cl).p, c, "p")
        g = cl.max_stepsize(**c)
        T = int((budget - P.n) / (1 + pp * P.n))
        X = _exact_curve(P, lsvrp_outcomes(P, g, pp, "new"), np.r_[x0 - xs, x0 - xs], T)
        gs = sg.max_stepsize(**dict(c, mu=P.mu_f))
        Xs = _exact_curve(P, sgd_outcomes(P, gs), x0 - xs, budget)
        return P, (expected_communications(P.n, np.arange(T + 1), pp), X, g), (np.arange(budget + 1), Xs, gs)

    for ax, kap in zip(axes[0], kappas):
        P, (cl_x, cl_y, g), (sg_x, sg_y, gs) = curves(kap, budget)
        ax.semilogy(cl_x, cl_y, label=f"L-SVRP, gamma={g:.3g}, p=1/n")
        ax.semilogy(sg_x, sg_y, label=f"SGD, gamma={gs:.3g}")
        ax.set_title(f"n={P.n}, d={P.d}, delta/mu={P.delta / P.mu:.3g}")
        ax.set_xlabel("communications (1 per iteration, n per refresh)")
        ax.set_ylabel("E||x^k - x*||^2 (exact)")
        top = max(np.nanmax(cl_y), np.nanmax(sg_y))
        ax.set_ylim(bottom=top * 1e-16)  # no axis down to 1e-269: sixteen decades below the top
        ax.legend(fontsize=8)
    ax = axes[0, -1]
    sweep = np.geomspace(1.2, 30, 6 if quick else 12)
    small = 2000
    ends = np.array([[cv[1][-1] for cv in curves(k, small)[1:]] for k in sweep])
    ax.loglog(sweep, ends[:, 0], "o-", label="L-SVRP (gamma = mu/(2 delta^2), p = 1/n)")
    ax.loglog(sweep, ends[:, 1], "s-", label="SGD (gamma = 1/(2 L_max))")
    ax.set_xlabel("delta / mu")
    ax.set_ylabel(f"E||x - x*||^2 after {small} communications")
    ax.set_title("across delta (exact)")
    from matplotlib.ticker import NullFormatter

    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_comms_scaling(quick: bool = True, verdicts=None, seed: int = 0):
    """Communications to eps against delta/mu on log axes, Khaled–Jin and tuned stepsizes."""
    import matplotlib.pyplot as plt

    from ratecheck import theorems

    fig, ax = plt.subplots(figsize=(5.5, 4))
    inst = dict(
        instance="shared-floor",
        n=10,
        d=3 if quick else 4,
        start="spread",
        kappas=(6.0, 9.0, 13.0, 19.0, 27.0) if quick else (6.0, 9.0, 13.0, 19.0, 27.0, 40.0),
    )
    for cid, mk in (("lsvrp.complexity", "o-"), ("lsvrp.tuned-probe", "s-")):
        claim = theorems.get(cid)
        ev = EXPERIMENT.run(claim, EXPERIMENT.params(inst), seed=seed)
        ax.loglog(ev.grid, ev.measured, mk, label=f"{cid}: slope {ev.fit.slope:.2f}")
        if cid == "lsvrp.complexity":
            ax.loglog(ev.grid, ev.bound, "k--", lw=1, label=f"predicted slope {ev.predicted_exponent:g}")
    ax.set_xlabel("delta / mu")
    ax.set_ylabel("expected communications to eps = 1e-3")
    ax.legend(fontsize=8)
    return fig


def plot_region(quick: bool = True, verdicts=None, n: int = 5, d: int = 3, p: float = 0.2, seed: int = 0):
    """Exact per-step growth rate of E||x^k - x*||^2 over a (gamma, delta) grid, with the derived boundary."""
    import matplotlib.pyplot as plt

    from ratecheck import theorems

    region = theorems.get("lsvrp.region")
    mu = 1.0
    deltas = np.geomspace(0.5, 20, 12 if quick else 24)
    gammas = np.geomspace(1e-3, 10, 12 if quick else 24)
    K = 150
    rate = np.empty((deltas.size, gammas.size))
    for a, dl in enumerate(deltas):
        P = delta_controlled_quadratics(n=n, d=d, delta=float(dl), mu=mu, seed=seed)
        z0 = np.r_[np.ones(d), np.ones(d)] / np.sqrt(d)
        for b, g in enumerate(gammas):
            X = _exact_curve(P, lsvrp_outcomes(P, float(g), p, "new"), z0, K)
            rate[a, b] = (X[-1] / X[0]) ** (1.0 / K) if np.isfinite(X[-1]) else np.inf
    fig, ax = plt.subplots(figsize=(5.5, 4))
    lr = np.log10(np.minimum(rate, 10.0))
    im = ax.pcolormesh(gammas, deltas, lr, cmap="coolwarm", vmin=-0.2, vmax=0.2, shading="auto")
    fig.colorbar(im, ax=ax, label="log10 of the per-step rate of E||x^k - x*||^2 (exact)")
    ax.contour(gammas, deltas, lr, levels=[0.0], colors="g", linestyles="--")
    ax.plot([], [], "g--", label="exact L-SVRP: rate = 1")
    dd = np.linspace(1.0001, deltas.max(), 200)
    boundary = EXPERIMENT.settings(region).gamma_boundary
    gb = np.array([expr_value(boundary, {"mu": mu, "delta": x}, "gamma_boundary") for x in dd])
    ax.plot(gb, dd, "k-", lw=2, label="derived boundary gamma (delta^2 - mu^2) = 2 mu")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(gammas[0], gammas[-1])
    ax.set_xlabel("gamma")
    ax.set_ylabel("delta (mu = 1)")
    ax.legend(fontsize=8, loc="lower left")
    return fig
