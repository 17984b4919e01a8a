"""EF21 report figures (moved from ``verify/plots.py``)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from ratecheck import theorems
from ratecheck.solvers.compressors import make as make_compressor
from ratecheck.solvers.ef21 import ef21, rounds_to

from ..instances import ef21_constants, heterogeneous_least_squares, streams
from ..sweep import grid, run_grid
from .style import draw_evidence

__all__ = ["ef21_figures", "speedup_table"]


def ef21_figures(exp, verdicts: list, outdir, quick: bool = False) -> list[tuple[str, str]]:
    """EF21 figures: both stepsizes side by side, and the L_am speedup against the spread."""
    out = []
    by = {}
    for v in verdicts:
        by.setdefault(v.claim, []).append(v)
    if "ef21.nonconvex-qm" in by and "ef21.nonconvex-am" in by:
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), dpi=100, sharey=True)
        for ax, cid, name in zip(
            axes, ("ef21.nonconvex-qm", "ef21.nonconvex-am"), ("1/(L + L_qm xi)", "1/(L + L_am xi)")
        ):
            v = by[cid][0]
            draw_evidence(ax, v, "running mean of ||grad f||^2", "bound")
            ax.set_title(f"EF21, stepsize {name} = {v.constants.get('gamma', float('nan')):.3g}", fontsize=9)
            ax.legend(fontsize=8)
        fig.subplots_adjust(left=0.07, right=0.98, bottom=0.13, top=0.9, wspace=0.08)
        fig.savefig(Path(outdir) / "ef21_stepsizes.png")
        plt.close(fig)
        out.append(
            (
                "ef21_stepsizes.png",
                "EF21 with the classical (L_qm) and the improved (L_am) stepsize on the same "
                "instance: measured running mean of ||grad f(x^t)||^2 against each theorem's bound.",
            )
        )
    if any(c.startswith("ef21") for c in by):
        spreads, measured, predicted = speedup_table(quick=quick)
        fig, ax = plt.subplots(figsize=(5.6, 3.8), dpi=100)
        ax.plot(spreads, measured, "o-", label="measured rounds ratio T_qm / T_am")
        ax.plot(spreads, predicted, "k--", label="stepsize ratio (L + L_qm xi)/(L + L_am xi)")
        ax.set_xlabel("spread L_qm / L_am (L_am fixed)")
        ax.set_ylabel("speedup of the L_am stepsize")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
        fig.subplots_adjust(left=0.13, right=0.97, bottom=0.13, top=0.95)
        fig.savefig(Path(outdir) / "ef21_speedup.png")
        plt.close(fig)
        out.append(
            (
                "ef21_speedup.png",
                "Rounds for EF21 (Top-1) to reach ||grad f||^2 <= 1e-2 ||grad f(x^0)||^2 with the "
                "L_qm stepsize divided by rounds with the L_am stepsize, against the spread of the L_i at fixed L_am.",
            )
        )
    return out


def speedup_table(quick: bool = False, spreads=(1.0, 1.5, 2.0, 3.0, 4.0), seed: int = 0):
    r"""Rounds-to-accuracy ratio of the L_qm and the L_am stepsizes across spreads at fixed L_am.

    For each spread :math:`L_{qm}/L_{am}`, EF21 with Top-1 runs on a least-squares instance
    (n = 20, outlier profile) with :math:`\gamma_{qm}=1/(L+L_{qm}\xi)` and
    :math:`\gamma_{am}=1/(L+L_{am}\xi)` (both read from the registered claims) until
    :math:`\Vert\nabla f\Vert^2\le10^{-2}\Vert\nabla f(x^0)\Vert^2`.  Returns the spreads, the
    measured ratio :math:`T_{qm}/T_{am}` and the stepsize ratio :math:`\gamma_{am}/\gamma_{qm}`.
    """
    qm, am = theorems.get("ef21.nonconvex-qm"), theorems.get("ef21.nonconvex-am")
    T = 3000 if quick else 12000

    def cell(spread, seed):
        prob = heterogeneous_least_squares(n=20, d=20, m=10, spread=spread, seed=seed)
        comp = make_compressor("top-1")
        c = ef21_constants(prob, comp)
        x0 = streams(seed).start.standard_normal(prob.d)
        g_qm, g_am = qm.max_stepsize(**c), am.max_stepsize(**c)
        t_qm = ef21(prob, x0, gamma=g_qm, T=T, compressor=comp)
        t_am = ef21(prob, x0, gamma=g_am, T=T, compressor=comp)
        target = 1e-2 * t_qm.grad_norm_sq[0, 0]
        return rounds_to(t_qm.grad_norm_sq[0], target) / rounds_to(t_am.grad_norm_sq[0], target), g_am / g_qm

    rows = [(c["spread"], *res) for c, _, res in run_grid(cell, grid(spread=spreads), base_seed=seed)]
    s, meas, pred = (np.array(x, dtype=float) for x in zip(*rows))
    return s, meas, pred
