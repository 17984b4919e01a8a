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
# # ADOM+ and lower bounds over time-varying networks
#
# Kovalev, Gasanov, Gasnikov, Richtárik, NeurIPS 2021, arXiv:2106.04469. ADOM+ needs O(chi sqrt(kappa)
# log(1/eps)) rounds and gradient calls; with multi-consensus the gradient calls drop to O(sqrt(kappa)
# log(1/eps)); no span-class method beats Omega(chi sqrt(kappa) log(1/eps)) rounds. The constants below are the
# package's derived/empirical ones (see `notes/adom.md`).

# %%
import numpy as np
import matplotlib.pyplot as plt
from IPython.display import Math, display
from ratecheck import theorems, verify
from ratecheck.verify.figures import draw_evidence
from ratecheck.verify.figures.adom import plot_distance_vs_rounds, plot_scaling, plot_cost_vs_lower_bound

# %% [markdown]
# ## The claims

# %%
for cid in ['adom-plus.linear-rate', 'adom-plus.complexity-chi', 'adom.lower-bound-comm', 'adom.lower-bound-comp']:
    c = theorems.get(cid)
    print(cid, '|', c.provenance.value, '|', c.measure)
    display(Math(c.latex()))

# %% [markdown]
# ## A run: distance against communication rounds for networks of different chi

# %%
fig, ax = plt.subplots(figsize=(6, 3.5))
plot_distance_vs_rounds(ax, ns=(6, 10, 16))
plt.show()

# %% [markdown]
# ## Verdicts and the scaling fits (quick instances)

# %%
vs = {cid: verify.check(cid, quick=True) for cid in ['adom-plus.linear-rate', 'adom-plus.complexity-chi',
      'adom-plus.complexity-kappa', 'adom.lower-bound-comm', 'adom.lower-bound-comp']}
for cid, v in vs.items():
    print(cid, [(x.verdict, None if x.tightness is None else round(x.tightness, 3)) for x in v])
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
plot_scaling(axes[0], vs['adom-plus.complexity-chi'][0].evidence, 'rounds vs chi')
plot_scaling(axes[1], vs['adom-plus.complexity-kappa'][0].evidence, 'rounds vs kappa')
plt.show()

# %% [markdown]
# ## The linear rate: measured decay rate against the guaranteed one
#
# `adom-plus.linear-rate` is a lower bound on the per-iteration decay rate of $\sum_i\Vert x_i^k-x^\star\Vert^2$:
# the measured windowed rate must stay above $\sqrt{\mu}/(32\sqrt{L}\chi)$.

# %%
fig, axes = plt.subplots(1, len(vs['adom-plus.linear-rate']), figsize=(10, 3.5), squeeze=False)
for ax, v in zip(axes[0], vs['adom-plus.linear-rate']):
    draw_evidence(ax, v, label_measured='measured: windowed decay rate', label_bound='lower bound: sqrt(mu)/(32 sqrt(L) chi)')
    ax.set_xlabel('k (iterations)'); ax.set_ylabel('decay rate of sum_i ||x_i^k - x*||^2')
    ax.tick_params(axis='both', which='minor', labelleft=False, labelbottom=False)
    ax.set_title(f"{v.instance['network']}, n={v.instance['n']}: {v.verdict}, tightness {v.tightness:.2f}", fontsize=9)
    ax.legend(fontsize=8)
fig.tight_layout(); plt.show()

# %% [markdown]
# ## Measured cost against the lower bound on the hard instance

# %%
fig, ax = plt.subplots(figsize=(6, 4))
plot_cost_vs_lower_bound(ax, vs['adom.lower-bound-comm'] + vs['adom.lower-bound-comp'])
plt.show()

# %% [markdown]
# ## A small sweep: ADOM+ rounds to eps over (n, kappa) on relabelled rings

# %%
from ratecheck.verify.sweep import grid
from ratecheck.verify.experiments.adom import EXPERIMENT as exp
p = exp.params({})
rows = []
for cell in grid(n=[5, 8, 12], kappa=[4.0, 16.0]):
    prob, net = exp.network(p, cell['n'], 1.0, cell['kappa'], 0)
    tr = exp.run_method('adom+', prob, net, net.chi, p, 10**6, 1e-6)
    r, g, ok = tr.cost_to_eps(1e-6)
    rows.append((cell['n'], round(net.chi, 2), cell['kappa'], int(r[0]), round(r[0] / (net.chi * cell['kappa'] ** 0.5), 1)))
print('n, chi, kappa, rounds, rounds/(chi sqrt(kappa))')
for r in rows: print(r)
