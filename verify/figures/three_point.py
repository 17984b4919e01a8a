"""Three point compressors (EF21, LAG, CLAG, GD): report and notebook figures.

Richtárik, Sokolov, Fatkhullin, Gasanov, Li, Gorbunov, *3PC*, ICML 2022, arXiv:2202.00998.  Every method runs
at its theory stepsize :math:`1/M_1=1/(L+L_{plus}\\sqrt{B/A})` with its declared (A, B), on the experiment's
least-squares instances (exact :math:`L`, :math:`L_{plus}`).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ratecheck.solvers import three_point as tp
from ratecheck.solvers.compressors import make as make_compressor

from ..experiments.three_point import EXPERIMENT
from ..instances import streams
from .style import draw_each, tidy_log_ticks

__all__ = ["three_point_figures", "plot_grad_vs_bits", "plot_skipped_vs_zeta", "plot_clag_stepsize_gain"]


def three_point_figures(exp, verdicts, outdir, quick=False):
    """Three figures: ||grad f||^2 against bits sent (EF21, LAG, CLAG, GD), the fraction of skipped uploads against
    the trigger zeta (LAG, CLAG), and CLAG's stepsize and bits relative to EF21 against zeta."""
    return draw_each(
        (
            (
                plot_grad_vs_bits,
                "three_point_grad_vs_bits.png",
                "||grad f(x^t)||^2 against the bits each client sent (least squares, n = 20, d = 20), every method at "
                "its theory stepsize 1/(L + L_plus sqrt(B/A)): GD, EF21 (Top-2), LAG (zeta = 1), CLAG (Top-2, zeta = 1)",
            ),
            (
                plot_skipped_vs_zeta,
                "three_point_skipped_vs_zeta.png",
                "Fraction of client-rounds that send nothing against the trigger zeta (LAG, and CLAG with Top-2); not "
                "bounded by any claim: the theory counts rounds, not bits",
            ),
            (
                plot_clag_stepsize_gain,
                "three_point_clag_gain.png",
                "CLAG against EF21 (Top-2): theory stepsize ratio 1/(L + L_plus sqrt(max{beta_c, zeta}/theta_c)) over "
                "EF21's (1 up to zeta = beta_c) and the measured ratio of bits to reach ||grad f||^2 <= 1e-6 ||grad f(x^0)||^2",
            ),
        ),
        outdir,
        quick=quick,
        verdicts=verdicts,
    )


def _instance(n: int = 20, d: int = 20, seed: int = 0):
    """The experiment's least-squares instance: problem, exact L_plus, certified optimum."""
    p = EXPERIMENT.params(dict(n=n, d=d, m=10, spread=2.0))
    return EXPERIMENT.instance(p, seed)


def _run(P, L_plus, opt, mech, T, seed=0, stop_below=None):
    A, B = mech.constants(P.d)
    gamma = 1.0 / (P.L + L_plus * np.sqrt(B / A))
    x0 = opt.x + streams(seed).start.standard_normal(P.d)
    return tp.three_point(P, x0, gamma=gamma, T=T, mechanism=mech, rng=streams(seed).algorithm, stop_below=stop_below)


def _finish(fig, ax):
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    tidy_log_ticks(ax)
    fig.tight_layout()
    return fig


def plot_grad_vs_bits(quick: bool = True, verdicts=None, zeta: float = 1.0):
    """||grad f(x^t)||^2 against cumulative bits per client for GD, EF21, LAG and CLAG (semilog-y)."""
    P, L_plus, opt = _instance()
    T = 1000 if quick else 2000  # rounds of GD; the compressed methods get d/2 times more (the same bits)
    fig, ax = plt.subplots(figsize=(6, 4))
    top2 = make_compressor("top-2")
    for mech, style in ((tp.GD(), "-"), (tp.EF21(top2), "-"), (tp.LAG(zeta), "-"), (tp.CLAG(top2, zeta), "--")):
        tr = _run(P, L_plus, opt, mech, T if mech.name.startswith(("gd", "lag")) else T * P.d // 2)
        y = tr.grad_norm_sq[0] / tr.grad_norm_sq[0, 0]
        keep = y > 1e-16  # floating-point floor
        ax.semilogy(tr.bits[keep], y[keep], style, label=f"{mech.name} (skipped {tr.skipped.mean():.0%})")
    ax.set_xlabel("bits sent per client")
    ax.set_ylabel(r"$\Vert\nabla f(x^t)\Vert^2/\Vert\nabla f(x^0)\Vert^2$")
    ax.set_xlim(0, None)
    return _finish(fig, ax)


def plot_skipped_vs_zeta(quick: bool = True, verdicts=None):
    """Fraction of skipped uploads against zeta (log x) for LAG and CLAG (Top-2)."""
    P, L_plus, opt = _instance()
    T = 300 if quick else 1000
    zetas = np.geomspace(0.01, 100.0, 9 if quick else 17)
    fig, ax = plt.subplots(figsize=(5.5, 4))
    top2 = make_compressor("top-2")
    for label, build in (("LAG", tp.LAG), ("CLAG (Top-2)", lambda z: tp.CLAG(top2, z))):
        frac = [_run(P, L_plus, opt, build(z), T).skipped.mean() for z in zetas]
        ax.semilogx(zetas, frac, "o-", label=label)
    ax.axvline(tp.beta(2 / P.d), color="k", ls=":", lw=1, label=r"$\beta_c(\alpha)$ of Top-2")
    ax.set_xlabel(r"trigger $\zeta$")
    ax.set_ylabel("fraction of client-rounds skipped")
    return _finish(fig, ax)


def _bits_to(tr, target):
    hit = np.flatnonzero(tr.grad_norm_sq[0] <= target)
    return tr.bits[hit[0]] if hit.size else np.nan


def plot_clag_stepsize_gain(quick: bool = True, verdicts=None):
    """CLAG's theory stepsize over EF21's, and EF21's bits to accuracy over CLAG's, against zeta (log x)."""
    P, L_plus, opt = _instance()
    T = 8000 if quick else 16000
    top2 = make_compressor("top-2")
    a = top2.alpha(P.d)
    zetas = np.geomspace(0.1, 100.0, 7 if quick else 13)
    target = 1e-6 * _run(P, L_plus, opt, tp.GD(), 1).grad_norm_sq[0, 0]  # every run starts at the same x^0
    # each run stops at the accuracy (the bits to it are those of the full T rounds)
    ef = _run(P, L_plus, opt, tp.EF21(top2), T, stop_below=target)
    g_ef = 1.0 / (P.L + L_plus * np.sqrt(tp.beta(a) / tp.theta(a)))
    step, bits = [], []
    for z in zetas:
        mech = tp.CLAG(top2, z)
        A, B = mech.constants(P.d)
        step.append(1.0 / (P.L + L_plus * np.sqrt(B / A)) / g_ef)
        bits.append(_bits_to(ef, target) / _bits_to(_run(P, L_plus, opt, mech, T, stop_below=target), target))
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ax.semilogx(zetas, step, "k--", label="theory stepsize CLAG / EF21")
    ax.semilogx(zetas, bits, "o-", label="measured bits to accuracy: EF21 / CLAG")
    ax.axvline(tp.beta(a), color="g", ls=":", lw=1, label=r"$\zeta=\beta_c(\alpha)$")
    ax.set_xlabel(r"trigger $\zeta$")
    ax.set_ylabel("ratio (> 1: CLAG ahead)")
    return _finish(fig, ax)
