"""Weiszfeld / RFA report figures (moved from ``verify/plots.py``)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ratecheck import theorems

from ..checking import check
from ..experiments.weiszfeld import complexity_table, rfa_table
from .style import _save_labelled

__all__ = ["weiszfeld_figures"]


def weiszfeld_figures(exp, verdicts: list, outdir, quick: bool = False) -> list[tuple[str, str]]:
    """Suboptimality against the Theorem 21 bound, iterations-to-eps against 1/(nu eps), RFA vs FedAvg."""
    out = []
    rate_vs = [v for v in verdicts if v.claim == "weiszfeld.rate" and v.evidence is not None]
    if not rate_vs and any(v.claim.startswith("weiszfeld") for v in verdicts):
        rate_vs = check(theorems.get("weiszfeld.rate"), quick=True)
    if rate_vs:
        fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=100)
        for i, v in enumerate(rate_vs):
            ev = v.evidence
            q = v.instance
            lab = f"{q['cloud']} (m={q['m']}, d={q['d']}, outliers={q['outlier_frac']:g}, nu={q['nu']:g})"
            ax.loglog(ev.grid, np.maximum(ev.measured, 1e-17), "-", color=f"C{i}", label=lab)
            ax.loglog(ev.grid, ev.bound, "--", color=f"C{i}", lw=0.8)
        out.append(
            _save_labelled(
                fig,
                ax,
                outdir,
                "weiszfeld_rate.png",
                "iteration t",
                "g(z_t) - g*   (dashed: Theorem 21 bound)",
                "Smoothed Weiszfeld from the mean: suboptimality g(z_t) - g* (solid) against "
                "RFA's Theorem 21 bound 2||z_0 - z*||^2/(nu_hat t) + nu/2 (dashed) on the default clouds.",
            )
        )
    if any(v.claim.startswith("weiszfeld") for v in verdicts):
        nus, eps, meas, bnd = complexity_table(nus=(1e-6, 1e-2, 1e-1) if quick else (1e-6, 1e-4, 1e-2, 1e-1))
        fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=100)
        for i, nu in enumerate(np.unique(nus)):
            k = nus == nu
            x = 1.0 / (nu * eps[k])
            ax.loglog(x, np.maximum(meas[k], 0.8), "o-", color=f"C{i}", ms=3, label=f"measured, nu={nu:g}")
            ax.loglog(x, bnd[k], "--", color=f"C{i}", lw=0.8)
        out.append(
            _save_labelled(
                fig,
                ax,
                outdir,
                "weiszfeld_complexity.png",
                "1/(nu eps)",
                "iterations to an eps-approximate median",
                "Iterations of smoothed Weiszfeld to reach g - g* <= eps against "
                "1/(nu eps) (outlier cloud, m=100, d=10); dashed: Cor. 25's 2||z_0 - z*||^2/(nu eps). Measured counts "
                "are plotted at >= 0.8 so that 0 iterations stays visible.",
            )
        )
        fr, tab = rfa_table(rounds=10 if quick else 20)
        fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=100)
        for i, (lab, err) in enumerate(tab.items()):
            ax.semilogy(fr, err, "o-", color=f"C{i}", ms=4, label=lab)
        out.append(
            _save_labelled(
                fig,
                ax,
                outdir,
                "weiszfeld_rfa.png",
                "fraction of corrupted clients (omniscient adversary)",
                "||w_T - w_LS||",
                "Federated least squares (50 clients, d=10) under RFA's omniscient corruption: "
                "FedAvg against RFA with 1, 3 and 100 smoothed Weiszfeld iterations (nu = 1e-6).",
            )
        )
    return out
