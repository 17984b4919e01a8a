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
# # Smoothed Weiszfeld and the geometric median (RFA, arXiv:1912.13445)
#
# Pillutla, Kakade and Harchaoui aggregate federated updates with the geometric median
# $z^\star=\arg\min_z\sum_k\omega_k\Vert z-w_k\Vert$, computed by smoothed Weiszfeld. Their Theorem 21 bounds
# the suboptimality after $t$ steps by $2\Vert z_0-z^\star\Vert^2/(\hat\nu t)+\nu/2$. This notebook shows the
# encoded claim, one run against the bound, the iteration count against $1/(\nu\varepsilon)$ (Cor. 25) and
# robust aggregation under corruption.

# %%
import numpy as np
import matplotlib.pyplot as plt
from IPython.display import Math, display
from ratecheck import theorems, verify
claim = theorems.get('weiszfeld.rate')
print(claim.title)
print(claim.paper)
display(Math(claim.latex()))

# %% [markdown]
# ## One run against the bound
# Gaussian inliers with 25% far outliers (the spec's instance 2), $\nu=10^{-6}$, start at the mean.

# %%
v, = verify.check(claim, instances=[dict(outlier_frac=0.25, shift=100.0, T=30)])
print(v.verdict, 'tightness', v.tightness)
ev = v.evidence
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.loglog(ev.grid, np.maximum(ev.measured, 1e-17), label='measured: g(z_t) - g*')
ax.loglog(ev.grid, ev.bound, 'k--', label='bound: Theorem 21')
ax.set_xlabel('t (iterations)'); ax.set_ylabel('suboptimality g(z_t) - g*'); ax.legend(); ax.grid(True, which='both', alpha=0.3)
plt.show()

# %% [markdown]
# ## All claims of this result (quick default instances)

# %%
from ratecheck.verify.checking import outcome
for c in theorems.all():
    if c.id.startswith('weiszfeld'):
        vs = verify.check(c, quick=True)
        tight = max((x.tightness for x in vs if x.tightness is not None), default=None)
        print(f"{c.id:28s} {outcome(vs)[0]:9s} expected {vs[0].expected:9s} max tightness {tight}")

# %% [markdown]
# ## A small sweep: iterations to an $\varepsilon$-approximate median against $1/(\nu\varepsilon)$

# %%
from ratecheck.verify.experiments.weiszfeld import complexity_table
nus, eps, meas, bnd = complexity_table(nus=(1e-6, 1e-2, 1e-1), n_eps=8)
fig, ax = plt.subplots(figsize=(6, 3.5))
for i, nu in enumerate(np.unique(nus)):
    k = nus == nu
    ax.loglog(1 / (nu * eps[k]), np.maximum(meas[k], 0.8), 'o-', color=f'C{i}', label=f'nu={nu:g}')
    ax.loglog(1 / (nu * eps[k]), bnd[k], '--', color=f'C{i}', lw=0.8)
ax.plot([], [], 'ko-', label='measured iterations (solid)')
ax.plot([], [], 'k--', lw=0.8, label='bound (dashed, same colour)')
ax.set_xlabel('1/(nu eps)'); ax.set_ylabel('iterations to eps'); ax.legend(fontsize=8); plt.show()

# %% [markdown]
# ## Robust aggregation: FedAvg against RFA under omniscient corruption

# %%
from ratecheck.verify.experiments.weiszfeld import rfa_table
fr, tab = rfa_table(fracs=(0.0, 0.2, 0.4), rounds=10)
for lab, err in tab.items():
    print(f'{lab:34s}', ' '.join(f'{e:9.3g}' for e in err))
