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
# # Error Feedback Shines when Features are Rare
#
# Richtárik, Gasanov, Burlachenko, arXiv:2305.15264.
#
# Client $i$ owns the features $Z_i$ its loss depends on; $c$ is the largest number of clients sharing a
# feature, $r$ the largest support. EF21 with Top-$k$ (the paper's *GD + TopK + EF*) may use the stepsize
# $1/(L+\sqrt{c/n}\,L_{plus}\,\xi(k/r))$. This notebook shows the claim, checks it on the authors' synthetic
# generator, plots bound against empirics, runs a small sweep over $c$ and compares communication with GD.

# %%
import numpy as np
import matplotlib.pyplot as plt
from IPython.display import Math, display
from ratecheck import theorems, verify
from ratecheck.verify.figures import rare_features as rff
claim = theorems.get('rare-features.nonconvex')
print(claim.title)
print(claim.provenance, '|', claim.provenance_note)
display(Math(claim.latex()))

# %% [markdown]
# ## A run: the claim on its quick default instances

# %%
verdicts = verify.check(claim, quick=True)
for v in verdicts:
    print(v.verdict, 'tightness', round(v.tightness, 3), {k: v.instance[k] for k in ('problem', 'n', 'd', 'c', 'k', 'init')},
          'c =', v.constants['c'], 'r =', v.constants['r'])

# %% [markdown]
# ## Bound against empirics

# %%
fig, axes = plt.subplots(1, len(verdicts), figsize=(5 * len(verdicts), 3.5))
for ax, v in zip(np.atleast_1d(axes), verdicts):
    ev = v.evidence
    ax.loglog(ev.grid, ev.measured, label='measured: running mean of ||grad f||^2')
    ax.loglog(ev.grid, ev.bound, '--', label='bound: 2 delta0/(gamma T) + (c/n) G0/(theta T)')
    ax.set_xlabel('T (rounds)'); ax.set_ylabel('(1/T) sum_{t<T} ||grad f(x^t)||^2')
    ax.set_title(f"{v.instance['problem']}, c={v.constants['c']}, r={v.constants['r']}")
    ax.legend(fontsize=7)
fig.tight_layout(); plt.show()

# %% [markdown]
# ## A small sweep over the multiplicity c (n = 40, d = 60)

# %%
from ratecheck.verify.sweep import grid
rows = []
for cell in grid(c=[1, 2, 4, 8, 20, 40]):
    d = max(60, 240 // cell['c'])
    v = verify.check(claim, instances=[dict(cell, d=d, T=300)])[0]
    rows.append((cell['c'], v.constants['r'], v.constants['gamma'], v.constants['gamma_classical'], v.verdict, v.tightness))
print('   c    r   gamma_rare  gamma_classical  verdict  tightness')
for r_ in rows:
    print(f'{r_[0]:4d} {r_[1]:4d}  {r_[2]:10.4g}  {r_[3]:14.4g}  {r_[4]:>8s}  {r_[5]:.3f}')

# %% [markdown]
# ## Communication: bits to reach eps against c/n, and GD
#
# GD is charged its true nonzeros (at most r floats per round) and, dotted, d floats per round as in the
# authors' code. Since $L\le\sqrt{c/n}\,L_{plus}$ always (sparse averaging applied to gradient differences), the
# guaranteed EF21 + Top-1 cost $(L+\sqrt{c/n}L_{plus}\xi(1/r))/\varepsilon$ is at least
# $(1+\xi(1/r))L/\varepsilon\approx 2rL/\varepsilon$ floats, i.e. never below GD's $rL/\varepsilon$.

# %%
cv = verify.check('rare-features.complexity', quick=True)[0]
print(cv.verdict, cv.detail)
print({k: cv.constants[k] for k in ('ef21_beats_gd_at_min_c', 'ef21_beats_dense_gd_at_min_c', 'min_sqrt_c_over_n_L_plus_over_L')})
fig = rff.plot_bits_to_eps(cv.evidence); plt.show()

# %%
runs = rff.gradnorm_vs_bits(quick=True)
fig = rff.plot_gradnorm_vs_bits(runs); plt.show()
