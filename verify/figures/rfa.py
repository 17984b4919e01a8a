"""RFA report and notebook figures (moved from ``notebooks/rfa_personalization.py``).

RFA: Pillutla, Kakade, Harchaoui, "Robust aggregation for federated learning", IEEE TSP 2022, arXiv:1912.13445.
"""

from __future__ import annotations

import os

import matplotlib.pyplot as plt
import numpy as np

from ratecheck.solvers.rfa import global_optimum, rfa

from ..experiments.rfa import EXPERIMENT
from ..instances import streams
from .style import tidy_log_ticks

__all__ = ["rfa_figures", "fig_rfa_rounds"]


def rfa_figures(exp, verdicts, outdir, quick=False):
    """One figure: ||w_t - w*|| against rounds, mean against geometric-median aggregation, several corruption levels."""
    name = "rfa_rounds.png"
    fig = fig_rfa_rounds(quick=quick, verdicts=verdicts)
    fig.savefig(os.path.join(outdir, name), dpi=110, bbox_inches="tight")
    plt.close(fig)
    caption = (
        "RFA on diagonal quadratic clients (d = 5, 7 good, 3 local steps, gamma = 1/max curvature): "
        "||w_t - w*|| against rounds with geometric-median (solid) and mean (dotted) aggregation, 0, 2 and 4 "
        "clients corrupted (they send -3 mean + 10 N(0, I))"
    )
    return [(name, caption)]


def fig_rfa_rounds(quick: bool = True, verdicts=None, bads=(0, 2, 4), rounds: int = 15, seed: int = 4):
    """||w_t - w*|| against rounds t of RFA (geometric median, ``aggregator='gm'``) and FedAvg (``'mean'``),
    w* the optimum of the good clients, for ``bads`` corrupted clients."""
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for nb, color in zip(bads, ("C0", "C1", "C3")):
        p = dict(d=5, n_good=7, n_bad=nb, curv=2.0, spread=1.0)
        H, W, bad = EXPERIMENT.instance(p, seed)
        ws = global_optimum(H[~bad], W[~bad])
        for agg, ls in (("gm", "-"), ("mean", ":")):
            tr = rfa(
                (H, W),
                np.zeros(5),
                gamma=1 / H.max(),
                T=rounds,
                rng=streams(seed).algorithm,  # the experiment's adversary stream, the same for both
                K=3,
                corrupted=bad,
                aggregator=agg,
            )
            ax.semilogy(
                np.linalg.norm(tr.w - ws, axis=1),
                ls,
                color=color,
                label=f"{'GM' if agg == 'gm' else 'mean'}, {nb}/{7 + nb} corrupted",
            )
    ax.set_xlabel("round t")
    ax.set_ylabel("||w_t - w*||")
    ax.legend(fontsize=7, ncol=2)
    ax.grid(True, which="both", alpha=0.3)
    tidy_log_ticks(ax)
    fig.tight_layout()
    return fig
