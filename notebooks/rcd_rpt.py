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
# # Sketched RCD and Randomized Progressive Training
#
# Szlendak, Gasanov, Richtárik, *Understanding Progressive Training Through the Framework of Randomized
# Coordinate Descent* (AISTATS 2024, arXiv:2306.03626).
#
# RPT trains a random prefix of blocks (layers) per step and rescales block j by $1/q_j$, $q_j=P(s\ge j)$, so
# the sketch is unbiased. The rates below are the spec's **[derived]** forms with
# $\tilde L=\lambda_{\max}(\mathbb E[C\mathbf LC])$; on quadratics `ratecheck` computes the expectations
# **exactly** by propagating the error's second moment.

# %%
import numpy as np
import matplotlib.pyplot as plt
from IPython.display import Latex, display
from ratecheck import theorems, verify
claim = theorems.get('rpt.strongly-convex')
print(claim.title, '|', claim.provenance, '|', claim.provenance_note)
display(Latex('$' + claim.latex() + '$'))

# %% [markdown]
# ## A run: every default quick instance (exact on quadratics, Monte Carlo on logistic regression)

# %%
verdicts = verify.check(claim, quick=True)
for v in verdicts:
    print(f"{v.evidence.constants['sketch']:12s} {v.instance.get('problem'):9s} {str(v.instance.get('profile')):10s} "
          f"{v.verdict:8s} tightness={v.tightness:.3f} method={v.method}")

# %% [markdown]
# ## Bound vs exact expected gap

# %%
fig, ax = plt.subplots(figsize=(7, 4))
for i, v in enumerate(verdicts):
    ev = v.evidence
    ax.semilogy(ev.grid, ev.measured, color=f'C{i}', label=f"{ev.constants['sketch']} / {v.instance.get('problem')} / {v.instance.get('profile')}")
    ax.semilogy(ev.grid, ev.bound, color=f'C{i}', ls='--', lw=1)
ax.plot([], [], 'k-', label='measured: E f(x^T) - f* (solid)')
ax.plot([], [], 'k--', lw=1, label='bound of the claim (dashed, same colour)')
ax.set_xlabel('T (iterations)'); ax.set_ylabel('E f(x^T) - f*'); ax.legend(fontsize=7); plt.show()

# %% [markdown]
# ## A small sweep: $\tilde L$ against the RPT probabilities, and the teeth
#
# $p_j\propto r^j$; the Hadamard structure $\mathbf L\circ Q$ matters:
# $\tilde L\ne\lambda_{\max}(\mathbf L)/\min_jq_j$.

# %%
from ratecheck.verify.instances import block_quadratic
from ratecheck.solvers.rcd import l_tilde_vs_probabilities
fig, ax = plt.subplots(figsize=(6, 3.5))
for prof in ('increasing', 'decreasing'):
    prob = block_quadratic(d=20, blocks=4, profile=prof, seed=0)
    r = l_tilde_vs_probabilities(prob, np.geomspace(0.25, 8, 15))
    ax.loglog(r['ratio'], r['L_tilde_over_L'], marker='.', label=prof)
ax.tick_params(which='minor', labelbottom=False)
ax.set_xlabel('r'); ax.set_ylabel('L_tilde / lambda_max(L)'); ax.legend(); plt.show()
for t in theorems.teeth('rpt.strongly-convex'):
    st, _ = verify.outcome(verify.check(t, quick=True))
    print(f'{t.id:40s} {st:9s} ({t.expected_to_fail})')

# %% [markdown]
# ## RPT vs GD: total cost to a relative expected gap (a prefix of s blocks costs s)

# %%
from ratecheck.verify.figures.rcd import cost_to_eps
res = cost_to_eps(block_quadratic(d=20, blocks=4, profile='decreasing', cond=20.0, coupling=0.2, seed=0), T_max=3000)
for lab, row in res['rows'].items():
    print(f"{lab:16s} p={np.round(row['p'], 3)} L_tilde={row['L_tilde']:.3f} cost to 1e-4: {row['measured_cost'][6]:.0f}")
    plt.loglog(res['eps'], row['measured_cost'], marker='o', label=lab)
plt.gca().invert_xaxis(); plt.xlabel('eps'); plt.ylabel('cost'); plt.legend(); plt.show()
