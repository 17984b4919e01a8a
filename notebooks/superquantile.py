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
# # Superquantile surrogate gap and Simplicial-FL
#
# The empirical superquantile $\hat S_m=S_\theta(Z_1,\dots,Z_m)$ underestimates the population value
# $S_\theta(Z)$ (Levy et al. 2020, arXiv:2010.05893). This notebook shows the claims as sympy objects, runs the
# package's checks, plots the exact bias against every bound, and compares FedAvg with Simplicial-FL (Pillutla
# et al., arXiv:2112.09429) on synthetic heterogeneous clients.

# %%
import numpy as np
import matplotlib.pyplot as plt
from IPython.display import Math, display
from ratecheck import theorems, verify
import ratecheck.verify.experiments as E
exp = E.get('superquantile')
for cid in ['superquantile.bias-levy', 'superquantile.bias-sharp', 'superquantile.slide-bias-abs', 'superquantile.slide-variance']:
    c = theorems.get(cid)
    print(cid, '-', c.provenance.value)
    display(Math(c.latex()))

# %% [markdown]
# ## Verdicts on the quick default instances

# %%
for cid in ['superquantile.bias-exact', 'superquantile.bias-sharp', 'superquantile.slide-bias',
            'superquantile.slide-bias-abs', 'superquantile.slide-variance', 'simplicial-fl.convex']:
    vs = verify.check(cid, quick=True)
    status, unexpected = verify.outcome(vs)
    print(f"{cid:36s} {status:10s} expected {vs[0].expected:9s} tightness {max(v.tightness for v in vs if v.tightness is not None):.3g}")

# %% [markdown]
# ## Bias against m with every bound (exact binomial sums and order statistics)

# %%
from ratecheck.verify.figures.superquantile import bias_figure, variance_figure, histogram_figure, tail_comparison
fig = bias_figure(exp, theta=0.1, m_max=2000)
fig.axes[0].legend(fontsize=7, title='measured (solid, exact) against bounds (dashed)', title_fontsize=7)
plt.show()

# %%
fig = variance_figure(exp, theta=0.1, m_max=2000)
fig.axes[0].legend(fontsize=7, title='measured (solid, exact) against bounds (dashed)', title_fontsize=7)
plt.show()

# %% [markdown]
# ## A small sweep: worst-case bias over theta at fixed m = 200, against T6

# %%
from ratecheck.solvers import superquantile as sq
thetas = np.array([0.05, 0.1, 0.2, 0.25, 0.5])
bias = np.array([1 - sq.two_point_law(t, [200], t)['mean'][0] for t in thetas])
t6 = theorems.get('superquantile.bias-sharp').evaluate(theta=thetas, m=200, B=1.0)
for t, b, u in zip(thetas, bias, t6):
    print(f'theta={t:5.2f}  bias={b:.4f}  T6={u:.4f}  ratio={b/u:.3f}')

# %% [markdown]
# ## FedAvg vs Simplicial-FL: client-loss histograms

# %%
cmp = tail_comparison(theta=0.1)
print({k: (round(cmp[k]['mean'], 3), round(cmp[k]['p90'], 3)) for k in ('fedavg', 'sfl')})
fig = histogram_figure(cmp); plt.show()
