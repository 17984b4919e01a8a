"""Local-update methods (ProxSkip/Scaffnew, Local GD, FLIX) report and notebook figures.

Moved from ``notebooks/local_methods.py``.  ProxSkip: Mishchenko, Malinovsky, Stich, Richtárik, ICML 2022,
arXiv:2202.09357; Local GD: Khaled, Mishchenko, Richtárik, AISTATS 2020, arXiv:1909.04746; FLIX: Gasanov,
Khaled, Horváth, Richtárik, AISTATS 2022, arXiv:2111.11556.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import sympy as sp

from ratecheck import theorems
from ratecheck.solvers.local_methods import flix_gd, flix_quadratic, local_gd_floors
from ratecheck.theorems.local_methods import delta_H

from ..checking import check
from ..experiments.local_methods import client_constants
from ..instances import identical_hessians, local_quadratic_clients
from .style import draw_each, tidy_log_ticks

__all__ = [
    "local_methods_figures",
    "plot_comms_vs_kappa",
    "plot_lyapunov",
    "plot_p_tradeoff",
    "plot_floor_vs_H",
    "plot_rounds_vs_H",
    "plot_flix_iterations",
]


def local_methods_figures(exp, verdicts, outdir, quick=False):
    """Six figures: ProxSkip communications against kappa and against p, its exact Lyapunov function,
    the Local GD floor and rounds against H, and GD iterations on FLIX against the personalization weight."""
    return draw_each(
        (
            (
                plot_comms_vs_kappa,
                "local_methods_comms_vs_kappa.png",
                "Communications to eps = 1e-6 against kappa on Q1(kappa) (log-log): ProxSkip (gamma = 1/L, "
                "p = kappa^(-1/2), exact expectation) against its bound sqrt(kappa) ln(1/eps) + 1, and GD (1/L_f), "
                "with the fitted slopes (predicted 1/2 and 1)",
            ),
            (
                plot_lyapunov,
                "local_methods_lyapunov.png",
                "Exact E Psi_t / Psi_0 of Scaffnew (solid) against the bound (1 - min{gamma mu, p^2})^t (dashed) "
                "for several p on random rotated clients (kappa = 10)",
            ),
            (
                plot_p_tradeoff,
                "local_methods_p_tradeoff.png",
                "Exact expected communications to eps = 1e-6 against p on Q1(100) (gamma = 1/L, log-log), the bound "
                "p ceil(ln(1/eps)/min{gamma mu, p^2}) and the optimum p = sqrt(gamma mu)",
            ),
            (
                plot_floor_vs_H,
                "local_methods_floor_vs_H.png",
                "Local GD error floor ||x_inf - x*|| against H - 1 (log-log, gamma = 0.002): heterogeneous Hessians "
                "(LG2, fitted slope; predicted 1) with Delta_H, and identical Hessians with heterogeneous optima (floor 0)",
            ),
            (
                plot_rounds_vs_H,
                "local_methods_rounds_vs_H.png",
                "Local GD rounds to eps = 0.05 ||x_0 - x*|| against H (LG2, gamma = 0.1/L, log-log) and the "
                "bound where Delta_H < eps",
            ),
            (
                plot_flix_iterations,
                "local_methods_flix_iterations.png",
                "GD iterations (= communications) on FLIX to relative eps = 1e-8 against the personalization weight "
                "tau: uniform tau (flat: the same iterates) and tau_i random in [tau, 1]",
            ),
        ),
        outdir,
        quick=quick,
        verdicts=verdicts,
    )


def _finish(fig, ax):
    """Grid, legend and tidy log ticks of a one-axis figure; return the figure."""
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    tidy_log_ticks(ax)
    fig.tight_layout()
    return fig


def plot_comms_vs_kappa(quick: bool = True, verdicts=None, kappas=None, eps: float = 1e-6):
    """Communications to eps against kappa for ProxSkip (exact expectation) and GD, log-log with fitted slopes.

    ProxSkip with gamma = 1/L, p = kappa^(-1/2) needs O(sqrt(kappa) ln(1/eps)) communications (Mishchenko et al.
    2022, Thm. 3.6), GD with 1/L_f needs O(kappa_f ln(1/eps)); on Q1(kappa), kappa_f = kappa/2.
    """
    if kappas is None:
        kappas = (10.0, 100.0, 1000.0) if quick else (10.0, 100.0, 1000.0, 10000.0)
    (v,) = check(theorems.get("proxskip.comm-complexity"), instances=[dict(instance="q1", kappas=kappas, eps=eps)])
    ev = v.evidence
    c = ev.constants
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ax.loglog(ev.grid, ev.series["proxskip"], "o-", label=f"ProxSkip (exact E), fitted slope {c['proxskip_slope']:.2f}")
    ax.loglog(ev.grid, ev.series["proxskip_bound"], "k--", lw=1, label="bound sqrt(kappa) ln(1/eps) + 1: slope 1/2")
    ax.loglog(ev.grid, ev.series["gd"], "s-", label=f"GD, fitted slope {c['gd_slope']:.2f} (predicted 1)")
    ax.set_xlabel("kappa = max L_i / min mu_i  (kappa_f = kappa/2)")
    ax.set_ylabel(f"communications to eps = {eps:g}")
    return _finish(fig, ax)


def plot_lyapunov(quick: bool = True, verdicts=None, ps=(1.0, 0.3, 0.1, 0.05), T=None):
    """Exact E Psi_t / Psi_0 of Scaffnew against (1 - min{gamma mu, p^2})^t on random rotated clients."""
    T = (200 if quick else 400) if T is None else T
    claim = theorems.get("proxskip.linear-rate")
    fig, ax = plt.subplots(figsize=(6, 4))
    for q in ps:
        (v,) = check(claim, instances=[dict(p=q, T=T, kappa=10.0)])
        ev = v.evidence
        psi0 = ev.constants["Psi0"]
        (line,) = ax.semilogy(ev.grid, ev.measured / psi0, label=f"p = {q}: exact, tightness {v.tightness:.2f}")
        ax.semilogy(ev.grid, ev.bound / psi0, "--", color=line.get_color(), lw=1)
    ax.set_xlabel("iteration t")
    ax.set_ylabel("E Psi_t / Psi_0 (dashed: bound)")
    return _finish(fig, ax)


def plot_p_tradeoff(quick: bool = True, verdicts=None, kappa: float = 100.0):
    """Exact expected communications p T_eps against p, minimal near p = sqrt(gamma mu)."""
    (v,) = check(theorems.get("proxskip.p-tradeoff"), instances=[dict(instance="q1", kappa=kappa)])
    ev = v.evidence
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ax.loglog(ev.grid, ev.measured, "o-", label="exact expected communications p T_eps")
    ax.loglog(ev.grid, ev.bound, "k--", lw=1, label="bound p ceil(ln(1/eps)/min{gamma mu, p^2})")
    ax.axvline(ev.constants["p_star"], color="g", ls=":", label="p = sqrt(gamma mu)")
    ax.set_xlabel("communication probability p")
    ax.set_ylabel("communications to eps = 1e-6")
    return _finish(fig, ax)


def plot_floor_vs_H(quick: bool = True, verdicts=None, Hs=(2, 3, 5, 9, 17, 33), gamma: float = 0.002):
    """Local GD's floor ||x_inf - x*|| against H - 1 with Delta_H: linear for heterogeneous Hessians, zero
    for identical Hessians even with heterogeneous optima."""
    P = local_quadratic_clients("lg2")
    c = client_constants(P)
    fl = local_gd_floors(P.A, P.b, gamma, Hs, P.x_star)
    args = [theorems.sym(k) for k in ("gamma", "L", "H", "sigma_bar", "mu", "mu_f")]
    dfun = sp.lambdify(args, delta_H())
    dH = [dfun(gamma, c["L"], h, c["sigma_bar"], c["mu"], c["mu_f"]) for h in Hs]
    Q = identical_hessians(local_quadratic_clients("rotated"))
    fl0 = local_gd_floors(Q.A, Q.b, gamma, Hs, Q.x_star)
    (v,) = check(theorems.get("local-gd.floor-vs-H"), quick=True)
    fig, ax = plt.subplots(figsize=(5.5, 4))
    Hm = np.array(Hs) - 1
    ax.loglog(
        Hm, fl, "o-", label=f"LG2 (heterogeneous Hessians): fitted slope {v.evidence.fit.slope:.3f} (predicted 1)"
    )
    ax.loglog(Hm, dH, "k--", lw=1, label="Delta_H (local-gd.neighbourhood)")
    ax.loglog(Hm, np.maximum(fl0, 1e-17), "s-", label="identical Hessians, sigma_* > 0: floor 0 (float)")
    ax.set_xlabel("local steps H - 1")
    ax.set_ylabel("||x_inf - x*||")
    return _finish(fig, ax)


def plot_rounds_vs_H(quick: bool = True, verdicts=None):
    """Exact Local GD rounds to eps against H (LG2, gamma = 0.1/L) and the bound where Delta_H < eps."""
    (v,) = check(theorems.get("local-gd.comm-vs-H"), quick=True)
    ev = v.evidence
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ax.loglog(ev.grid, ev.measured, "o-", label="exact rounds to eps")
    ax.loglog(ev.grid, ev.bound, "k--", lw=1, label="bound (where Delta_H < eps)")
    ax.set_xlabel("local steps H")
    ax.set_ylabel("rounds (communications)")
    return _finish(fig, ax)


def plot_flix_iterations(
    quick: bool = True, verdicts=None, taus=(1.0, 0.7, 0.5, 0.3, 0.2, 0.1, 0.05), eps: float = 1e-8, T: int = 3000
):
    """GD iterations on FLIX to relative eps against tau: flat for uniform tau (f~ - f~* = tau^2 (f - f*) on
    quadratics, kappa~ = kappa_f), changed conditioning for heterogeneous tau_i."""
    P = local_quadratic_clients("rotated", n=5, d=4)
    x0 = P.x_star + 1.0
    rng = np.random.default_rng(0)
    out = {"uniform": [], "random in [tau, 1]": []}
    for tau in taus:
        for name, t in (("uniform", np.full(P.n, tau)), ("random in [tau, 1]", rng.uniform(tau, 1, P.n))):
            xl, At, Lt, mt, xt = flix_quadratic(P.A, P.b, t)
            tr = flix_gd(P, x0, gamma=1 / Lt, T=T, tau=t, x_local=xl)
            e = tr.x - xt
            gap = 0.5 * np.einsum("ti,ij,tj->t", e, At, e)
            hit = np.nonzero(gap <= eps * gap[0])[0]
            out[name].append(hit[0] if hit.size else np.nan)
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for name, its in out.items():
        ax.semilogx(taus, its, "o-", label=name)
    ax.set_xlabel("personalization weight tau")
    ax.set_ylabel(f"GD iterations (= communications) to relative eps = {eps:g}")
    return _finish(fig, ax)
