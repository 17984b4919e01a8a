"""Bound-versus-empirics plots (matplotlib; the backend is the caller's: the command line picks Agg).

``plot_verdict`` draws one verdict's measured series (with its confidence band for Monte Carlo)
against the bound; :func:`experiment_figures` adds each experiment's own figures to a report
(from :data:`FIGURES`, else the experiment's ``figures`` hook).
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from ratecheck import theorems
from ratecheck.solvers.compressors import make as make_compressor
from ratecheck.solvers.ef21 import ef21

from .checking import check
from .experiments.ef21 import EF21Experiment, rounds_to
from .experiments.weiszfeld import complexity_table, rfa_table
from .instances import heterogeneous_least_squares
from .sweep import grid, run_grid
from .verdict import Verdict

__all__ = ["plot_verdict", "draw_evidence", "ef21_figures", "speedup_table", "experiment_figures", "FIGURES"]

COLORS = {"holds": "#1b7837", "violated": "#b2182b", "inconclusive": "#e08214"}


def _positive(a: np.ndarray) -> bool:
    a = np.asarray(a, dtype=float)
    a = a[np.isfinite(a)]
    return a.size > 0 and bool(np.all(a > 0))


def draw_evidence(ax, v: Verdict, label_measured: str = "measured", label_bound: str = "bound") -> None:
    """Draw the measured series and the bound of one verdict on ``ax``."""
    ev = v.evidence
    g, m, b = ev.grid, ev.measured, ev.bound
    big = 1e150  # beyond this, log axes overflow while placing ticks
    m = np.where(np.abs(m) < big, m, np.nan)
    b = np.where(np.abs(b) < big, b, np.nan)
    finite = np.isfinite(m)
    if ev.method == "monte-carlo" and ev.stderr is not None:
        ax.fill_between(
            g[finite],
            (m - 2 * ev.stderr)[finite],
            (m + 2 * ev.stderr)[finite],
            alpha=0.25,
            color="C0",
            lw=0,
            label="mean ± 2 s.e.",
        )
    style = "o" if g.size <= 60 and ev.grid_name == "sample" else "-"
    ax.plot(g[finite], m[finite], style, color="C0", ms=3, label=label_measured)
    ax.plot(g, b, "--" if style == "-" else "_", color="k", label=label_bound)
    logx = ev.grid_name in ("T", "t", "k", "m", "iterations") and _positive(g)
    if logx:
        ax.set_xscale("log")
    if _positive(m[finite]) and _positive(b) and ev.grid_name != "sample":
        ax.set_yscale("log")
    ax.set_xlabel(ev.grid_name)
    ax.grid(True, which="both", alpha=0.3)


def plot_verdict(v: Verdict, path: str | os.PathLike) -> str:
    """Write a PNG of one verdict (measured vs bound) and return its path."""
    fig, ax = plt.subplots(figsize=(5.6, 3.8), dpi=80)
    ev = v.evidence
    if ev is None or ev.measured.size == 0:
        ax.text(0.5, 0.5, "symbolic claim: no series", ha="center", va="center")
        ax.set_axis_off()
    else:
        draw_evidence(ax, v)
        ax.legend(fontsize=8)
    t = f" tightness {v.tightness:.3g}" if v.tightness is not None and np.isfinite(v.tightness) else ""
    ax.set_title(f"{v.claim}: {v.verdict}{t}", fontsize=9, color=COLORS.get(v.verdict, "k"))
    fig.subplots_adjust(left=0.14, right=0.97, bottom=0.13, top=0.9)
    fig.savefig(path)
    plt.close(fig)
    return str(path)


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
        c = EF21Experiment()._constants(prob, comp)
        x0 = np.random.default_rng(seed).standard_normal(prob.d)
        g_qm, g_am = qm.max_stepsize(**c), am.max_stepsize(**c)
        t_qm = ef21(prob, x0, g_qm, comp, T)
        t_am = ef21(prob, x0, g_am, comp, T)
        target = 1e-2 * t_qm.grad_norm_sq[0, 0]
        return rounds_to(t_qm.grad_norm_sq[0], target) / rounds_to(t_am.grad_norm_sq[0], target), g_am / g_qm

    rows = [(c["spread"], *res) for c, _, res in run_grid(cell, grid(spread=spreads), base_seed=seed)]
    s, meas, pred = (np.array(x, dtype=float) for x in zip(*rows))
    return s, meas, pred


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


def _save_labelled(fig, ax, outdir, name, xlabel, ylabel, caption):
    """Label, save and close one figure; return its (file name, caption) entry."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(outdir, name))
    plt.close(fig)
    return name, caption


#: Report figures drawn here for an experiment (name -> ``f(exp, verdicts, outdir, quick)``); experiments not
#: listed contribute through their own ``figures`` hook.
FIGURES = {"ef21": ef21_figures, "weiszfeld": weiszfeld_figures}


def experiment_figures(exp, verdicts: list, outdir, quick: bool = False) -> list[tuple[str, str]]:
    """The report figures of one experiment: ``[(file name, caption), ...]`` written into ``outdir``."""
    draw = FIGURES.get(exp.name)
    return draw(exp, verdicts, outdir, quick=quick) if draw is not None else exp.figures(verdicts, outdir, quick=quick)
