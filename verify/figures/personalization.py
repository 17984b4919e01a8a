"""Partial personalization (FedAlt vs FedSim) report and notebook figures (moved from
``notebooks/rfa_personalization.py``).

Pillutla, Malik, Mohamed, Rabbat, Sanjabi, Xiao, "Federated learning with partial model personalization",
ICML 2022, arXiv:2204.03809.
"""

from __future__ import annotations

import os

import matplotlib.pyplot as plt
import numpy as np

from ratecheck import theorems

from ..checking import check
from .style import tidy_log_ticks

__all__ = ["personalization_figures", "fig_personalization"]


def personalization_figures(exp, verdicts, outdir, quick=False):
    """One figure: exact expected averaged stationarity of FedSim and FedAlt against rounds."""
    name = "personalization_fedsim_vs_fedalt.png"
    fig = fig_personalization(quick=quick, verdicts=verdicts)
    fig.savefig(os.path.join(outdir, name), dpi=110, bbox_inches="tight")
    plt.close(fig)
    caption = (
        "FedSim (solid) against FedAlt (dashed): exact expected averaged stationarity E (1/T) sum_t M_t against "
        "rounds T (log-log; n = 6 clients, m = 2 sampled, all sets enumerated; equal steps eta/L_u, eta/L_v)"
    )
    return [(name, caption)]


def fig_personalization(quick: bool = True, verdicts=None, etas=(0.1, 0.3), seed: int = 0):
    """Exact E (1/T) sum_{t<T} M_t of FedSim and FedAlt against T for each step factor eta
    (claim ``personalization.fedsim-vs-fedalt-runs``)."""
    claim = theorems.get("personalization.fedsim-vs-fedalt-runs")
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for eta, color in zip(etas, ("C0", "C2")):
        (v,) = check(claim, instances=[dict(eta=eta)], seed=seed)
        s = v.evidence.series
        t = np.arange(1, s["fedsim"].size + 1)
        ax.loglog(t, s["fedsim"], "-", color=color, label=f"FedSim, eta={eta}")
        ax.loglog(t, s["fedalt"], "--", color=color, label=f"FedAlt, eta={eta}")
    ax.set_xlabel("rounds T")
    ax.set_ylabel("exact E (1/T) sum M_t")
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    tidy_log_ticks(ax)
    fig.tight_layout()
    return fig
