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
# # EF21: from the quadratic to the arithmetic mean of smoothness constants
#
# EF21 (Richtárik, Sokolov, Fatkhullin, NeurIPS 2021, arXiv:2106.05203) compresses the *change* of each client's
# gradient estimate. Its nonconvex theorem needs a stepsize $\gamma\le 1/(L+L_{qm}\xi(\alpha))$ with the
# quadratic mean $L_{qm}$ of the clients' smoothness constants. *Error Feedback Reloaded* (Richtárik, Gasanov,
# Burlachenko, ICLR 2024, arXiv:2402.10774) shows that the arithmetic mean $L_{am}\le L_{qm}$ suffices, via
# cloning, the weighted method EF21-W, and a new analysis of plain EF21.
#
# This notebook checks both statements numerically with `ratecheck`.

# %%
import numpy as np
import matplotlib.pyplot as plt
from IPython.display import Math, display

from ratecheck import theorems, verify
from ratecheck.verify.figures import draw_evidence

for cid in ('ef21.nonconvex-qm', 'ef21.nonconvex-am'):
    c = theorems.get(cid)
    print(cid, '-', c.title, f'[{c.provenance.value}]', c.provenance_note)
    display(Math(c.latex()))

# %% [markdown]
# ## The bound against the measured running mean
#
# The measured quantity is $\frac1T\sum_{t<T}\Vert\nabla f(x^t)\Vert^2$ for every $T$, on heterogeneous least
# squares ($n=20$ clients, $L_{qm}/L_{am}=2$, Top-1). With Top-k and $g_i^0=\nabla f_i(x^0)$ the run is
# deterministic, so the inequality must hold exactly at every $T$.

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
for ax, cid in zip(axes, ('ef21.nonconvex-qm', 'ef21.nonconvex-am')):
    v = verify.check(cid, quick=True)[0]
    draw_evidence(ax, v, label_measured='measured: running mean of ||grad f(x^t)||^2', label_bound='bound of the claim')
    ax.set_title(f"{cid}: {v.verdict}, tightness {v.tightness:.2f}, gamma={v.constants['gamma']:.3g}", fontsize=9)
    ax.set_xlabel('T (rounds)')
    ax.legend(fontsize=8)
axes[0].set_ylabel('(1/T) sum_{t<T} ||grad f(x^t)||^2')
fig.tight_layout(); plt.show()

# %% [markdown]
# ## How much does the larger stepsize buy?
#
# At fixed $L_{am}$ we raise the spread $L_{qm}/L_{am}$ (one outlier client) and count the rounds EF21 needs to
# reduce $\Vert\nabla f\Vert^2$ a hundredfold with each stepsize. The speedup follows the stepsize ratio
# $(L+L_{qm}\xi)/(L+L_{am}\xi)$.

# %%
from ratecheck.verify.figures import speedup_table
spreads, measured, predicted = speedup_table(quick=True)
plt.plot(spreads, measured, 'o-', label='measured T_qm / T_am')
plt.plot(spreads, predicted, 'k--', label='stepsize ratio')
plt.xlabel('L_qm / L_am'); plt.ylabel('speedup'); plt.legend(); plt.show()
print(np.round(measured, 3), np.round(predicted, 3))

# %% [markdown]
# ## A plausible but wrong claim is caught
#
# "Error feedback repairs the compression error, so EF21 runs at gradient descent's stepsize $1/L$ with the same
# guarantee." The package refutes it with a counterexample.

# %%
wrong = theorems.get('ef21.nonconvex-am').variant('gd-step', stepsize=1 / theorems.sym('L'))
for v in verify.check(wrong, quick=True):
    print(v.verdict, '-', v.detail)

# %% [markdown]
# ## Every EF21 claim and its teeth

# %%
rows = []
for c in [c for c in theorems.all() if c.id.startswith('ef21')]:
    vs = verify.check(c, quick=True)
    status, unexpected = verify.outcome(vs)
    t = [v.tightness for v in vs if v.tightness is not None]
    print(f"{c.id:24s} {status:9s} tightness {max(t) if t else float('nan'):.3f}  [{c.provenance.value}]")

# %% [markdown]
# ## A figure for the paper
#
# `verify.plot` checks a claim and returns a matplotlib figure in a venue's style (here ICML's column width and
# fonts): the measured Lyapunov function on a semilog-y axis against the theorem's bound, named by its formula.
# `fig.savefig("pl.pdf")` (or `ratecheck plot ef21.pl-qm --style icml --out pl.pdf`) writes it as a vector file;
# the command also writes the series beside it (`pl.csv`).

# %%
fig = verify.plot('ef21.pl-qm', quick=True, style='icml')
fig
