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
# The figures are drawn by `ratecheck.verify.figures.local_methods` (the report draws the same ones).

# %%
import matplotlib.pyplot as plt
import numpy as np

from ratecheck import theorems
from ratecheck import verify
from ratecheck.solvers.problems import QuadraticClients
from ratecheck.solvers.local_methods import gd_hitting_time, hitting_time
from ratecheck.verify.expectation import exact_scaffnew_lyapunov
from ratecheck.verify.figures.local_methods import (
    plot_comms_vs_kappa,
    plot_flix_iterations,
    plot_floor_vs_H,
    plot_lyapunov,
    plot_p_tradeoff,
    plot_rounds_vs_H,
)


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
v = verify.check("proxskip.comm-complexity", instances=[dict(instance="q1", kappas=(10.0, 100.0, 1000.0, 10000.0))])[0]
print(v.verdict, "|", v.detail)
print("ProxSkip:", np.round(v.evidence.series["proxskip"], 1), " GD:", v.evidence.series["gd"])
plot_comms_vs_kappa(quick=False)
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
psi = exact_scaffnew_lyapunov(P, 1 / kap, q, x0, 40000)
print("GD communications:", gd_hitting_time(P.A_bar, x0 - P.x_star, 1 / P.L, 1e-6, 10**6))
print("ProxSkip expected communications:", round(q * hitting_time(psi, 1e-6 * psi[0]), 1))


# %% [markdown]
# ## The expected Lyapunov function against the bound (1 − ζ)^t Ψ₀


# %%
plot_lyapunov(quick=False)
plt.show()


# %% [markdown]
# ## Stochastic gradients: a noise floor γ²C/ζ (`proxskip.stochastic`, [reconstructed])
#
# Every client uses ∇fᵢ + ξᵢ with ξᵢ ~ N(0, σ² I): the noise covariance adds a constant to the second-moment
# recursion, so E Ψ_t is still exact. It no longer decays to 0 but settles at a floor, below the claimed
# γ²C/ζ (C = n d σ²) and far above the deterministic rate's (1 − ζ)^t Ψ₀ (the tooth without the noise term).


# %%
v = verify.check("proxskip.stochastic", instances=[dict(p=0.3, T=600, noise=0.5)])[0]
c = v.evidence.constants
zeta = min(c["gamma"] * c["mu"], c["p"] ** 2)
t = np.asarray(v.evidence.grid)
fig, ax = plt.subplots(figsize=(5, 3.2))
ax.semilogy(t, v.evidence.measured, label="exact E Ψ_t (stochastic gradients)")
ax.semilogy(t, v.evidence.bound, "--", label="(1 − ζ)^t Ψ₀ + γ²C/ζ")
ax.semilogy(t, (1 - zeta) ** t * c["Psi0"], ":", label="(1 − ζ)^t Ψ₀ (no noise term)")
ax.set_xlabel("t")
ax.legend(fontsize=7)
print(
    v.verdict,
    "| floor",
    f"{v.evidence.measured[-1]:.3g}",
    "against gamma^2 C / zeta",
    f"{c['gamma'] ** 2 * c['C'] / zeta:.3g}",
)
plt.show()


# %% [markdown]
# ## The p trade-off: expected communications against p (Q1(100), γ = 1/L): minimum at √(γμ) = 0.1


# %%
v = verify.check("proxskip.p-tradeoff", instances=[dict(instance="q1", kappa=100.0)])[0]
print(dict(zip(v.evidence.grid, np.round(v.evidence.measured, 1))))
plot_p_tradeoff(quick=False)
plt.show()


# %% [markdown]
# ## Local GD: the error floor against H
#
# The floor ‖x_∞ − x*‖ grows linearly in H − 1 when the client Hessians differ (LG2, γ = 0.002), and is
# **zero for every H** when they are identical, even with heterogeneous optima (σ* > 0): drift comes from
# Hessian heterogeneity.


# %%
v = verify.check("local-gd.floor-vs-H", quick=True)[0]
print(v.verdict, "|", v.detail)
plot_floor_vs_H(quick=False)
plt.show()

# %% [markdown]
# ## Local GD: rounds to ε against H (LG2, γ = 0.1/L, ‖x₀ − x*‖ = 1000, ε = 0.05‖x₀ − x*‖)

# %%
plot_rounds_vs_H(quick=False)
plt.show()


# %% [markdown]
# ## FLIX: GD iterations against the personalization weight
#
# With uniform τ on quadratics, f̃ − f̃* = τ²(f − f*) and κ̃ = κ_f: GD with 1/L̃ runs exactly the same iterates,
# so the iterations to a *relative* accuracy are flat in τ (the only gain is ln τ⁻² to an absolute one).
# Heterogeneous τᵢ change the conditioning.


# %%
plot_flix_iterations(quick=False)
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
