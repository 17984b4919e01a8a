"""RCD / RPT report figures (moved from ``verify/experiments/rcd.py``)."""

from __future__ import annotations

import numpy as np
import sympy as sp

from ratecheck.solvers.rcd import RPTSketch, l_tilde_vs_probabilities, rpt_optimal_probabilities
from ratecheck.theorems.rcd import SC_COMPLEXITY

from ..expectation import exact_sketched_quadratic
from ..instances import block_quadratic, streams
from .style import tidy_log_ticks

__all__ = ["rcd_figures", "cost_to_eps"]


def cost_to_eps(problem, cost=None, eps=None, T_max: int = 20000, seed: int = 0) -> dict:
    r"""RPT against GD in total cost to reach :math:`\mathbb E[f(x^k)]-f^\star\le\varepsilon\,\delta_0`.

    A step that trains a prefix of s blocks costs ``cost[s-1]`` (default s).  Compared, with
    :math:`\gamma=1/\tilde L` each: GD (:math:`p=e_J`), RPT with uniform p, and RPT with the p
    minimising :math:`\tilde L(p)\sum_sp_s\mathrm{cost}_s` (:func:`solvers.rcd.rpt_optimal_probabilities`).
    Measured costs use the exact expected gap; the theoretical ones evaluate the iteration
    complexity :data:`theorems.rcd.SC_COMPLEXITY` times the expected cost per step.
    """
    J = len(problem.block_sizes)
    cost = np.arange(1.0, J + 1) if cost is None else np.asarray(cost, dtype=float)
    eps = np.geomspace(1e-1, 1e-6, 11) if eps is None else np.asarray(eps, dtype=float)
    p_opt, _ = rpt_optimal_probabilities(problem.L_matrix, problem.block_sizes, cost, rng=streams(seed).algorithm)
    e0 = streams(seed).start.standard_normal(problem.d)
    symbols = sorted(SC_COMPLEXITY.free_symbols, key=lambda s: s.name)
    complexity = sp.lambdify(
        [sp.Symbol(s.name, positive=True) for s in symbols],
        SC_COMPLEXITY.subs({s: sp.Symbol(s.name, positive=True) for s in SC_COMPLEXITY.free_symbols}),
    )
    rows = {}
    for label, p in (("GD", np.eye(J)[-1]), ("RPT uniform p", np.full(J, 1.0 / J)), ("RPT optimised p", p_opt)):
        sk = RPTSketch(problem.block_sizes, p)
        Lt = sk.L_tilde(problem.L_matrix)
        m, P = sk.moments()
        ex = exact_sketched_quadratic(problem.A, e0, 1.0 / Lt, m, P, T_max)
        rel = ex["gap"] / ex["gap"][0]
        below = rel[None, :] <= eps[:, None]
        iters = np.where(below.any(1), below.argmax(1), np.nan).astype(float)
        step_cost = float(p @ cost)
        vals = dict(L_tilde=Lt, mu=problem.mu, delta0=1.0, eps=eps)
        theory = complexity(*[vals[s.name] for s in symbols])
        rows[label] = {
            "p": p,
            "L_tilde": Lt,
            "step_cost": step_cost,
            "measured_cost": iters * step_cost,
            "theory_cost": np.asarray(theory, dtype=float) * step_cost,
        }
    return {"eps": eps, "cost": cost, "rows": rows}


def _pyplot():
    """matplotlib.pyplot with the non-interactive Agg backend (reports are written to files)."""
    import matplotlib.pyplot as plt

    return plt


def _save(plt, fig, outdir, name):
    fig.tight_layout()
    fig.savefig(outdir / name, dpi=110)
    plt.close(fig)
    return name


def _fig_gap_curves(verdicts, outdir, name):
    plt = _pyplot()
    vs = [v for v in verdicts if v.evidence is not None and v.evidence.grid_name == "T" and not v.claim.count("~")]
    if not vs:
        return None
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for i, v in enumerate(vs):
        ev = v.evidence
        col = f"C{i % 10}"
        lab = f"{ev.constants.get('sketch', '?')} ({v.instance.get('problem')}, {v.instance.get('profile')})"
        ax.semilogy(ev.grid, ev.measured, color=col, label=lab)
        ax.semilogy(ev.grid, ev.bound, color=col, ls="--", lw=1)
    ax.set_xlabel("T")
    ax.set_ylabel("measured (solid) / bound (dashed)")
    ax.set_title(f"{vs[0].claim}: expected value vs bound")
    ax.legend(fontsize=7)
    return _save(plt, fig, outdir, name)


def _fig_l_tilde(outdir, name, quick):
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for prof in ("increasing", "decreasing", "flat"):
        prob = block_quadratic(d=20, blocks=4, profile=prof, scale_ratio=10.0, cond=100.0, coupling=0.3, seed=0)
        r = l_tilde_vs_probabilities(prob, np.geomspace(0.25, 8.0, 15 if quick else 41))
        ax.loglog(r["ratio"], r["L_tilde_over_L"], marker=".", label=f"block scales {prof}")
    ax.set_xlabel("r  (p_j proportional to r^j; large r: mostly full passes)")
    ax.set_ylabel("L_tilde(p) / lambda_max(L)")
    ax.set_title("RPT prefix sketch: expected smoothness vs block probabilities")
    tidy_log_ticks(ax)
    ax.legend(fontsize=8)
    return _save(plt, fig, outdir, name)


def _fig_cost(outdir, name, quick):
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, prof in zip(axes, ("decreasing", "increasing")):
        prob = block_quadratic(d=20, blocks=4, profile=prof, scale_ratio=10.0, cond=20.0, coupling=0.2, seed=0)
        res = cost_to_eps(prob, T_max=4000 if quick else 20000)
        for i, (lab, row) in enumerate(res["rows"].items()):
            ax.loglog(res["eps"], row["measured_cost"], marker="o", color=f"C{i}", label=f"{lab} (exact E gap)")
            ax.loglog(res["eps"], row["theory_cost"], ls="--", color=f"C{i}", lw=1, label=f"{lab} (theory)")
        ax.invert_xaxis()
        ax.set_xlabel("eps (relative expected gap)")
        ax.set_title(f"block scales {prof}; prefix of s blocks costs s")
    axes[0].set_ylabel("total cost to reach eps")
    axes[0].legend(fontsize=7)
    return _save(plt, fig, outdir, name)


def rcd_figures(exp, verdicts, outdir, quick=False):
    from pathlib import Path

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    out = []
    for cid in ("rcd.strongly-convex", "rpt.strongly-convex", "rcd.convex", "rpt.nonconvex"):
        mine = [v for v in verdicts if v.claim == cid]
        if mine:
            nm = _fig_gap_curves(mine, outdir, f"{cid.replace('.', '_')}_curves.png")
            if nm:
                out.append((nm, f"{cid}: expected quantity (solid) and bound (dashed) per sketch and instance"))
    if any(v.claim.startswith(("rcd", "rpt")) for v in verdicts):
        out.append(
            (
                _fig_l_tilde(outdir, "rpt_l_tilde_vs_p.png", quick),
                "RPT: L_tilde(p)/lambda_max(L) along p_j ~ r^j for three block-scale profiles",
            )
        )
        out.append(
            (
                _fig_cost(outdir, "rpt_vs_gd_cost.png", quick),
                "RPT vs GD: total cost to reach a relative expected gap eps (exact) and the theoretical complexity",
            )
        )
    return out
