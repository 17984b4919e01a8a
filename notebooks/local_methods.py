# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Local-update methods: ProxSkip/Scaffnew, Local GD and FLIX
#
# ProxSkip/Scaffnew (Mishchenko, Malinovsky, Stich, Richtárik, ICML 2022, arXiv:2202.09357; the rate as
# restated by Malinovsky, Yi, Richtárik, NeurIPS 2022 — **[reconstructed]**), Local GD (Khaled, Mishchenko,
# Richtárik, AISTATS 2020, arXiv:1909.04746) and FLIX (Gasanov, Khaled, Horváth, Richtárik, AISTATS 2022,
# arXiv:2111.11556). ProxSkip's expectations are **exact** on quadratics: the coin has two outcomes per step,
# so the second moments of the state (x − x*, h − h*) are propagated exactly
# (`verify.expectation.exact_linear_second_moments`); Local GD and GD on FLIX are deterministic.
#
# The figure functions below live in this notebook for now (to be moved into the figures package).

# %%
import matplotlib.pyplot as plt
import numpy as np
import sympy as sp

from ratecheck import theorems
from ratecheck import verify
from ratecheck.solvers.local_methods import flix_gd, flix_quadratic, local_gd_round_map
from ratecheck.solvers.problems import QuadraticClients
from ratecheck.theorems.local_methods import delta_H
from ratecheck.verify.experiments import get
from ratecheck.verify.experiments.local_methods import (
    build_clients,
    client_constants,
    gd_hitting_time,
    hitting_time,
    identical,
    proxskip_exact,
)

EXP = get("local_methods")


# %% [markdown]
# ## Every claim and its teeth (quick instances)

# %%
ids = [c.id for c in theorems.all() if c.experiment == "local_methods"]
for cid in ids:
    for cl in (theorems.get(cid),) + theorems.teeth(cid):
        vs = verify.check(cl, quick=True)
        st, unexpected = verify.outcome(vs)
        t = [None if x.tightness is None else float(f"{x.tightness:.3g}") for x in vs]
        print(f"{cl.id:42s} [{cl.provenance.value}] {st:9s} unexpected={unexpected} tightness={t}")


# %% [markdown]
# ## Communications to ε against κ: ProxSkip √κ against GD's κ (fair family Q1(κ))
#
# On Q1(κ) the per-client condition number κ (ProxSkip's) and GD's κ_f = κ/2 coincide up to a factor 2, so
# the comparison is fair. ProxSkip: γ = 1/L, p = κ^(−1/2), exact E Ψ_t ≤ ε Ψ_0; GD: stepsize 1/L_f,
# ‖x_t − x*‖² ≤ ε ‖x_0 − x*‖²; ε = 10⁻⁶.


# %%
def plot_comms_vs_kappa(kappas=(10.0, 100.0, 1000.0, 10000.0), eps=1e-6):
    """Communications to eps against kappa for ProxSkip (exact expectation) and GD, log-log with fitted slopes."""
    v = verify.check("proxskip.comm-complexity", instances=[dict(instance="q1", kappas=kappas, eps=eps)])[0]
    ev = v.evidence
    c = ev.constants
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ax.loglog(ev.grid, ev.series["proxskip"], "o-", label=f"ProxSkip (exact E), slope {c['proxskip_slope']:.2f}")
    ax.loglog(ev.grid, ev.series["proxskip_bound"], "k--", lw=1, label="bound sqrt(kappa) ln(1/eps) + 1")
    ax.loglog(ev.grid, ev.series["gd"], "s-", label=f"GD, slope {c['gd_slope']:.2f}")
    ax.set_xlabel("kappa = max L_i / min mu_i  (kappa_f = kappa/2)")
    ax.set_ylabel("communications to eps = 1e-6")
    ax.legend(fontsize=8)
    return fig, v


fig, v = plot_comms_vs_kappa()
print(v.verdict, "|", v.detail)
print("ProxSkip:", np.round(v.evidence.series["proxskip"], 1), " GD:", v.evidence.series["gd"])
plt.show()

# %% [markdown]
# **Not always a win.** With A₁ = diag(κ, 1), A₂ = diag(1, κ), averaging makes f̄ perfectly conditioned
# (κ_f = 1): GD needs a handful of communications while ProxSkip still pays √κ (its theory uses the
# per-client κ).

# %%
kap = 3000.0
P = QuadraticClients(np.array([np.diag([kap, 1.0]), np.diag([1.0, kap])]), np.array([[1.0, -2.0], [-1.0, 3.0]]))
x0 = P.x_star + np.array([0.6, 0.8])
q = kap**-0.5
psi = proxskip_exact(P, 1 / kap, q, x0, 40000)
print("GD communications:", gd_hitting_time(P, 1 / P.L, x0, 1e-6, 10**6))
print("ProxSkip expected communications:", round(q * hitting_time(psi, 1e-6 * psi[0]), 1))


# %% [markdown]
# ## The expected Lyapunov function against the bound (1 − ζ)^t Ψ₀


# %%
def plot_lyapunov(ps=(1.0, 0.3, 0.1, 0.05), T=400):
    """Exact E Psi_t / Psi_0 of Scaffnew against (1 - min{gamma mu, p^2})^t on random rotated clients."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for k, q in enumerate(ps):
        v = verify.check("proxskip.linear-rate", instances=[dict(p=q, T=T, kappa=10.0)])[0]
        ev = v.evidence
        psi0 = ev.constants["Psi0"]
        (line,) = ax.semilogy(ev.grid, ev.measured / psi0, label=f"p = {q}: exact, tightness {v.tightness:.2f}")
        ax.semilogy(ev.grid, ev.bound / psi0, "--", color=line.get_color(), lw=1)
    ax.set_xlabel("t")
    ax.set_ylabel("E Psi_t / Psi_0 (dashed: bound)")
    ax.legend(fontsize=8)
    return fig


plot_lyapunov()
plt.show()


# %% [markdown]
# ## The p trade-off: expected communications against p (Q1(100), γ = 1/L): minimum at √(γμ) = 0.1


# %%
def plot_p_tradeoff():
    v = verify.check("proxskip.p-tradeoff", instances=[dict(instance="q1", kappa=100.0)])[0]
    ev = v.evidence
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ax.loglog(ev.grid, ev.measured, "o-", label="exact expected communications p T_eps")
    ax.loglog(ev.grid, ev.bound, "k--", lw=1, label="bound p ceil(ln(1/eps)/min{gamma mu, p^2})")
    ax.axvline(ev.constants["p_star"], color="g", ls=":", label="p = sqrt(gamma mu)")
    ax.set_xlabel("p")
    ax.set_ylabel("communications to eps = 1e-6")
    ax.legend(fontsize=8)
    return fig, v


fig, v = plot_p_tradeoff()
print(dict(zip(v.evidence.grid, np.round(v.evidence.measured, 1))))
plt.show()


# %% [markdown]
# ## Local GD: the error floor against H
#
# The floor ‖x_∞ − x*‖ grows linearly in H − 1 when the client Hessians differ (LG2, γ = 0.002), and is
# **zero for every H** when they are identical, even with heterogeneous optima (σ* > 0): drift comes from
# Hessian heterogeneity.


# %%
def plot_floor_vs_H(Hs=(2, 3, 5, 9, 17, 33), gamma=0.002):
    P = build_clients(EXP.params(dict(instance="lg2")), seed=0)
    c = client_constants(P)
    fl = [np.linalg.norm(local_gd_round_map(P.A, P.b, gamma, h)[2] - P.x_star) for h in Hs]
    args = [theorems.sym(k) for k in ("gamma", "L", "H", "sigma_bar", "mu", "mu_f")]
    dfun = sp.lambdify(args, delta_H())
    dH = [dfun(gamma, c["L"], h, c["sigma_bar"], c["mu"], c["mu_f"]) for h in Hs]
    Q = identical(build_clients(EXP.params(dict(instance="rotated")), seed=0))
    fl0 = [np.linalg.norm(local_gd_round_map(Q.A, Q.b, gamma, h)[2] - Q.x_star) for h in Hs]
    v = verify.check("local-gd.floor-vs-H", quick=True)[0]
    fig, ax = plt.subplots(figsize=(5.5, 4))
    Hm = np.array(Hs) - 1
    ax.loglog(Hm, fl, "o-", label=f"LG2 (heterogeneous Hessians): slope {v.evidence.fit.slope:.3f}")
    ax.loglog(Hm, dH, "k--", lw=1, label="Delta_H (local-gd.neighbourhood)")
    ax.loglog(Hm, np.maximum(fl0, 1e-17), "s-", label="identical Hessians, sigma_* > 0: floor 0 (float)")
    ax.set_xlabel("H - 1")
    ax.set_ylabel("||x_inf - x*||")
    ax.legend(fontsize=8)
    return fig, v


fig, v = plot_floor_vs_H()
print(v.verdict, "|", v.detail)
plt.show()

# %% [markdown]
# ## Local GD: rounds to ε against H (LG2, γ = 0.1/L, ‖x₀ − x*‖ = 1000, ε = 0.05‖x₀ − x*‖)

# %%
v = verify.check("local-gd.comm-vs-H", quick=True)[0]
fig, ax = plt.subplots(figsize=(5.5, 4))
ax.loglog(v.evidence.grid, v.evidence.measured, "o-", label="exact rounds to eps")
ax.loglog(v.evidence.grid, v.evidence.bound, "k--", lw=1, label="bound (where Delta_H < eps)")
ax.set_xlabel("H")
ax.set_ylabel("rounds (communications)")
ax.legend(fontsize=8)
plt.show()


# %% [markdown]
# ## FLIX: GD iterations against the personalization weight
#
# With uniform τ on quadratics, f̃ − f̃* = τ²(f − f*) and κ̃ = κ_f: GD with 1/L̃ runs exactly the same iterates,
# so the iterations to a *relative* accuracy are flat in τ (the only gain is ln τ⁻² to an absolute one).
# Heterogeneous τᵢ change the conditioning.


# %%
def plot_flix_iterations(taus=(1.0, 0.7, 0.5, 0.3, 0.2, 0.1, 0.05), eps=1e-8, T=3000):
    P = build_clients(EXP.params(dict(instance="rotated", n=5, d=4)), seed=0)
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
    ax.set_ylabel("GD iterations (= communications) to relative eps = 1e-8")
    ax.legend(fontsize=8)
    return fig


plot_flix_iterations()
plt.show()

# %% [markdown]
# ## FLIX and Local GD: the weights that make their solutions coincide (Aᵢ = aᵢ I)

# %%
for rule in ("psi", "phi", "psi-linear"):
    cl = theorems.get("flix.local-gd-equivalence")
    cl = cl if rule == "psi" else cl.variant(rule, setting={"tau_rule": rule})
    ev = verify.check(cl, quick=True)[0].evidence
    print(
        f"tau rule {rule:11s} max ||x_inf - x~*|| / (1 + ||x~*||) over H = {ev.grid.tolist()}: {ev.measured.max():.2e}"
    )
