"""Build notebooks/weiszfeld.ipynb with nbformat (outputs stripped; the tests execute it).

Run from the repository root: ``PYTHONPATH=. python notes/build_weiszfeld_notebook.py``.
"""
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

cells = [
    new_markdown_cell(
        "# Smoothed Weiszfeld and the geometric median (RFA, arXiv:1912.13445)\n\n"
        "Pillutla, Kakade and Harchaoui aggregate federated updates with the geometric median "
        "$z^\\star=\\arg\\min_z\\sum_k\\omega_k\\Vert z-w_k\\Vert$, computed by smoothed Weiszfeld. "
        "Their Theorem 21 bounds the suboptimality after $t$ steps by "
        "$2\\Vert z_0-z^\\star\\Vert^2/(\\hat\\nu t)+\\nu/2$. This notebook shows the encoded claim, "
        "one run against the bound, the iteration count against $1/(\\nu\\varepsilon)$ (Cor. 25) and "
        "robust aggregation under corruption."),
    new_code_cell(
        "import numpy as np\n"
        "import matplotlib\n"
        "matplotlib.use('Agg')\n"
        "import matplotlib.pyplot as plt\n"
        "from IPython.display import Math, display\n"
        "import theorems, verify\n"
        "claim = theorems.get('weiszfeld.rate')\n"
        "print(claim.title)\n"
        "print(claim.paper)\n"
        "display(Math(claim.latex()))"),
    new_markdown_cell("## One run against the bound\n"
                      "Gaussian inliers with 25% far outliers (the spec's instance 2), $\\nu=10^{-6}$, start at the mean."),
    new_code_cell(
        "v, = verify.check(claim, instances=[dict(outlier_frac=0.25, shift=100.0, T=30)])\n"
        "print(v.verdict, 'tightness', v.tightness)\n"
        "ev = v.evidence\n"
        "fig, ax = plt.subplots(figsize=(6, 3.5))\n"
        "ax.loglog(ev.grid, np.maximum(ev.measured, 1e-17), label='g(z_t) - g*')\n"
        "ax.loglog(ev.grid, ev.bound, 'k--', label='Theorem 21 bound')\n"
        "ax.set_xlabel('t'); ax.legend(); ax.grid(True, which='both', alpha=0.3)\n"
        "plt.show()"),
    new_markdown_cell("## All claims of this result (quick default instances)"),
    new_code_cell(
        "from verify.check import outcome\n"
        "for c in theorems.all():\n"
        "    if c.id.startswith('weiszfeld'):\n"
        "        vs = verify.check(c, quick=True)\n"
        "        tight = max((x.tightness for x in vs if x.tightness is not None), default=None)\n"
        "        print(f\"{c.id:28s} {outcome(vs)[0]:9s} expected {vs[0].expected:9s} max tightness {tight}\")"),
    new_markdown_cell("## A small sweep: iterations to an $\\varepsilon$-approximate median against $1/(\\nu\\varepsilon)$"),
    new_code_cell(
        "from verify.experiments.weiszfeld import complexity_table\n"
        "nus, eps, meas, bnd = complexity_table(nus=(1e-6, 1e-2, 1e-1), n_eps=8)\n"
        "fig, ax = plt.subplots(figsize=(6, 3.5))\n"
        "for i, nu in enumerate(np.unique(nus)):\n"
        "    k = nus == nu\n"
        "    ax.loglog(1 / (nu * eps[k]), np.maximum(meas[k], 0.8), 'o-', color=f'C{i}', label=f'nu={nu:g}')\n"
        "    ax.loglog(1 / (nu * eps[k]), bnd[k], '--', color=f'C{i}', lw=0.8)\n"
        "ax.set_xlabel('1/(nu eps)'); ax.set_ylabel('iterations'); ax.legend(); plt.show()"),
    new_markdown_cell("## Robust aggregation: FedAvg against RFA under omniscient corruption"),
    new_code_cell(
        "from verify.experiments.weiszfeld import rfa_table\n"
        "fr, tab = rfa_table(fracs=(0.0, 0.2, 0.4), rounds=10)\n"
        "for lab, err in tab.items():\n"
        "    print(f'{lab:34s}', ' '.join(f'{e:9.3g}' for e in err))"),
]
nb = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
out = Path(__file__).resolve().parents[1] / "notebooks" / "weiszfeld.ipynb"
nbformat.write(nb, out)
print("wrote", out)
