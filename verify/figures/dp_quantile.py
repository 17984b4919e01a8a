"""Private federated quantile report and notebook figures (moved from ``notebooks/rfa_personalization.py``).

Pillutla, Laguel, Malick, Harchaoui, "Federated learning with superquantile aggregation for heterogeneous data"
(Simplicial-FL), arXiv:2112.09429: a noisy histogram through the distributed discrete Gaussian and modular
secure summation.
"""

from __future__ import annotations

import os

import matplotlib.pyplot as plt
import numpy as np

from ..experiments.dp_quantile import EXPERIMENT, cdf_errors, scaling_constants
from ..fit import loglog_fit
from ..instances import streams
from .style import tidy_log_ticks

__all__ = ["dp_quantile_figures", "fig_dp_quantile"]


def dp_quantile_figures(exp, verdicts, outdir, quick=False):
    """One figure: the 95% quantile of N/m against m and against epsilon with the poster's and the brief's slopes."""
    name = "dp_quantile_level_error.png"
    fig = fig_dp_quantile(quick=quick, verdicts=verdicts)
    fig.savefig(os.path.join(outdir, name), dpi=110, bbox_inches="tight")
    plt.close(fig)
    caption = (
        "Private quantile: the 95% quantile of N/m = max_j |C_hat_j - C_j| / m (which bounds the level error) "
        "against m and against epsilon (log-log), with the fitted slope, the poster's slope -1 and the brief's "
        "b sigma^2/m with sigma = 1/(eps m) (slopes -3 in m, -2 in epsilon); against m also the poster's hierarchical "
        "mechanism (dyadic tree, per-client noise log2(b)/(eps sqrt(m)))"
    )
    return [(name, caption)]


def fig_dp_quantile(quick: bool = True, verdicts=None, seed: int = 0):
    """The (1 - alpha) quantile (alpha = 0.05) of N/m, N = max_j |C_hat_j - C_j| the largest cumulative
    histogram error of the distributed discrete Gaussian, against m and eps_dp on log-log axes: the poster's
    sqrt(b log(1/alpha))/(eps m) predicts slope -1 in both."""
    exp = EXPERIMENT
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    base = exp.params(dict(reps=500 if quick else 1000))
    m_grid = [250, 500, 1000, 2000, 4000] if quick else [250, 500, 1000, 2000, 4000, 8000]
    labels = {"m": "number of clients m", "eps_dp": "privacy budget epsilon"}
    for ax, var, grid, slope, brief in (
        (axes[0], "m", m_grid, -1.0, -3.0),
        (axes[1], "eps_dp", [0.25, 0.5, 1.0, 2.0, 4.0], -1.0, -2.0),
    ):
        q = []
        for x in grid:
            p = dict(base, **{var: x})
            N = cdf_errors(p, scaling_constants(p), streams(seed).algorithm, p["reps"])
            q.append(np.quantile(N, 0.95) / p["m"])
        q = np.array(q)
        g = np.array(grid, dtype=float)
        fit = loglog_fit(g, q)
        ax.loglog(g, q, "o-", label=f"95% quantile of N/m: fitted slope {fit.slope:.2f}")
        ax.loglog(g, q[0] * (g / g[0]) ** slope, "k--", label=f"predicted slope {slope:g} (poster)")
        ax.loglog(g, q[0] * (g / g[0]) ** brief, ":", color="gray", label=f"brief's b sigma^2/m: slope {brief:g}")
        if var == "m":  # the poster's hierarchical mechanism (dyadic tree) on the same grid
            qh = []
            for x in grid:
                p = dict(base, m=x)
                c = scaling_constants(p, "hierarchical")
                dev = cdf_errors(p, c, streams(seed).algorithm, p["reps"], "hierarchical")
                qh.append(np.quantile(dev, 0.95) / p["m"])
            fh = loglog_fit(g, np.array(qh))
            ax.loglog(g, qh, "s-", color="C2", label=f"hierarchical (tree): fitted slope {fh.slope:.2f}")
        ax.set_xlabel(labels[var])
        ax.set_ylabel("level error scale (N/m)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
        tidy_log_ticks(ax)
    fig.tight_layout()
    return fig
