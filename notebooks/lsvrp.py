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
# # L-SVRP under Hessian dissimilarity
#
# Gasanov & Richtárik, arXiv:2412.13619 (the paper's improved theorem could not be consulted and is **not**
# encoded), with the derived one-step analysis of `notes/lsvrp.md`, the Khaled–Jin baseline and the SGD
# comparison. Expectations are exact: second moments of (x, w) propagated over the 2n outcomes (client, refresh
# coin).

# %%
import numpy as np
import matplotlib.pyplot as plt
from ratecheck import theorems, verify
from ratecheck.verify.figures.lsvrp import plot_lsvrp_vs_sgd, plot_comms_scaling, plot_region

# %% [markdown]
# ## The claim: the 2×2 matrix recursion

# %%
from IPython.display import Math
c = theorems.get('lsvrp.recursion')
print(c.title)
from ratecheck.theorems.lsvrp import recursion_matrix
import sympy as sp
sp.Matrix(recursion_matrix())

# %% [markdown]
# ## A run: exact $X_k$, $W_k$ against $[M^k(X_0,W_0)]$

# %%
v = verify.check('lsvrp.recursion', instances=[dict(gamma=0.02, p=0.2, T=150)])[0]
print(v.verdict, 'tightness', round(v.tightness, 4), '|', v.method)
e = v.evidence; T = e.grid.size // 2
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.semilogy(e.grid[:T], e.measured[:T], label='measured: X_k = E||x^k - x*||^2 (exact)')
ax.semilogy(e.grid[:T], e.bound[:T], '--', label='bound: [M^k (X_0, W_0)]_1')
ax.semilogy(e.grid[T:], e.measured[T:], label='measured: W_k = E||w^k - x*||^2 (exact)')
ax.semilogy(e.grid[T:], e.bound[T:], '--', label='bound: [M^k (X_0, W_0)]_2')
ax.set_xlabel('k (iterations)'); ax.set_ylabel('second moment'); ax.legend(fontsize=8); plt.show()

# %% [markdown]
# ## Every claim and its teeth (quick instances)

# %%
for cid in ['lsvrp.recursion', 'lsvrp.lyapunov', 'lsvrp.region', 'lsvrp.complexity', 'lsvrp.tuned-probe', 'sgd.neighborhood']:
    for cl in (theorems.get(cid),) + theorems.teeth(cid):
        vs = verify.check(cl, quick=True)
        st, unexpected = verify.outcome(vs)
        t = [None if x.tightness is None else round(x.tightness, 3) for x in vs]
        print(f'{cl.id:36s} {st:9s} unexpected={unexpected} tightness={t}')

# %% [markdown]
# ## L-SVRP vs SGD against communications, low and high δ

# %%
plot_lsvrp_vs_sgd(quick=True); plt.show()

# %% [markdown]
# ## Small sweep: communications to ε against δ/μ (predicted slope 2 for the Khaled–Jin stepsize)

# %%
plot_comms_scaling(quick=True); plt.show()

# %% [markdown]
# ## Convergence region in the (γ, δ) plane

# %%
plot_region(quick=True); plt.show()
