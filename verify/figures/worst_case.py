r"""Figures of the worst case over the class (PEP, extra ``[pep]``): the sandwich per horizon and the tight rate.

* :func:`plot_sandwich` — for one claim, against T: in-class empirical tightness (Top-k), the replayed
  extracted worst case (scaled-identity compressor through the package's EF21 solver), :math:`W_{\rm pep}` by
  kind (lower: :math:`\mathcal F_{\mu,L}`; upper: PŁ relaxation) and the claim (1).
* :func:`plot_tight_rate` — per-step rates against the stepsize: the claim's :math:`1-\gamma\mu` (where its
  stepsize rule allows it), the Lyapunov-SDP tight rate (Thomsen, Taylor & Dieuleveut 2025) and
  :math:`(\eta^\star,\rho^\star)`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..pep import worst_case
from ..pep.ef21 import ef21_setting
from ..pep.replay import empirical_tightness, replay_worst_case
from ..pep.tight import lyapunov_rate, optimal_rate, optimal_stepsize
from .style import COLORS

__all__ = ["plot_sandwich", "plot_tight_rate"]


def plot_sandwich(claim_id: str, params: dict, Ts=(1, 2, 3, 5, 8), ax=None, replay_T=(1, 2, 3)):
    """Empirical ≤ replay ≤ W_pep(lower) ≤ W_pep(upper) ≤ 1 against T for a single-node EF21 PŁ claim."""
    ax = ax or plt.subplots(figsize=(5.2, 3.4))[1]
    Ts = list(Ts)
    recs = worst_case(claim_id, params, T=Ts)
    s = ef21_setting(claim_id, params)
    for kind, style, color in (("lower", "o-", COLORS["holds"]), ("upper", "s--", "C1")):
        v = [r.pep_value for r in recs if r.kind == kind]
        cls = next(r.cls for r in recs if r.kind == kind)
        ax.plot(Ts, v, style, color=color, ms=4, label=f"worst case, {kind} ({cls})")
    grad = [r.pep_value for r in worst_case(claim_id, params, T=Ts, cls="sc", init="grad")]
    ax.plot(Ts, grad, "o:", color=COLORS["holds"], mfc="none", ms=5, label="worst case, lower, d⁰ = ∇f(x⁰)")
    emp = [empirical_tightness(s, t, only_T=True) for t in Ts]
    ax.plot(Ts, emp, "^:", color="C0", ms=4, label="empirical, Top-k (in class, d⁰ = ∇f(x⁰))")
    rep = [replay_worst_case(s, t)["replay"] for t in replay_T]
    ax.plot(list(replay_T), rep, "x", color="k", ms=7, label="replayed worst case (scaled identity, d⁰ = ∇f(x⁰))")
    ax.axhline(1.0, color="k", lw=1, label="claim")
    ax.set_xlabel("T")
    ax.set_ylabel("measure / bound")
    ax.set_title(f"{claim_id}: empirical ≤ worst case ≤ claim", fontsize=10)
    ax.legend(fontsize=7, loc="lower left")
    return ax


def plot_tight_rate(claim_id: str, L: float, mu: float, alpha: float, ax=None, points: int = 12):
    r"""Per-step rates against γ: the claim's 1 − γμ up to its stepsize, the tight Lyapunov rate, (η⋆, ρ⋆)."""
    ax = ax or plt.subplots(figsize=(5.2, 3.4))[1]
    s = ef21_setting(claim_id, {"L": L, "mu": mu, "alpha": alpha})
    eta = optimal_stepsize(L, mu, alpha)
    gs = np.union1d(np.linspace(0.15, 1.5, points) * eta, [s.gamma, eta])
    tight = [lyapunov_rate(L, mu, alpha, g, tol=1e-5) for g in gs]
    ax.plot(gs, tight, "o-", color=COLORS["holds"], ms=4, label="tight rate (Lyapunov SDP)")
    gc = np.linspace(gs[0], s.gamma, 20)
    ax.plot(gc, 1 - gc * mu, "-", color="C0", label="claim 1 − γμ (up to its stepsize)")
    ax.plot([s.gamma], [1 - s.gamma * mu], "o", color="C0")
    ax.plot([eta], [optimal_rate(L, mu, alpha)], "*", color="k", ms=10, label="(η⋆, ρ⋆) Thomsen et al.")
    ax.set_xlabel("stepsize γ")
    ax.set_ylabel("rate per step")
    ax.set_title(f"EF21, L={L:g}, μ={mu:g}, α={alpha:g}", fontsize=10)
    ax.legend(fontsize=7)
    return ax
