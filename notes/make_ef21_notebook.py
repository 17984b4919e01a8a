"""Build notebooks/ef21_am.ipynb (run: python notes/make_ef21_notebook.py)."""
import nbformat as nbf

nb = nbf.v4.new_notebook()
md, code = nbf.v4.new_markdown_cell, nbf.v4.new_code_cell
nb.cells = [
    md("# EF21: from the quadratic to the arithmetic mean of smoothness constants\n\n"
       "EF21 (Richtárik, Sokolov, Fatkhullin, NeurIPS 2021, arXiv:2106.05203) compresses the *change* of each "
       "client's gradient estimate. Its nonconvex theorem needs a stepsize $\\gamma\\le 1/(L+L_{qm}\\xi(\\alpha))$ "
       "with the quadratic mean $L_{qm}$ of the clients' smoothness constants. *Error Feedback Reloaded* "
       "(Richtárik, Gasanov, Burlachenko, ICLR 2024, arXiv:2402.10774) shows that the arithmetic mean $L_{am}\\le L_{qm}$ "
       "suffices, via cloning, the weighted method EF21-W, and a new analysis of plain EF21.\n\n"
       "This notebook checks both statements numerically with `ratecheck`."),
    code("import numpy as np\nimport matplotlib.pyplot as plt\nfrom IPython.display import Math, display\n\n"
         "import theorems, verify\nfrom verify.plots import draw_evidence\n\n"
         "for cid in ('ef21.nonconvex-qm', 'ef21.nonconvex-am'):\n"
         "    c = theorems.get(cid)\n"
         "    print(cid, '-', c.title, f'[{c.provenance.value}]', c.provenance_note)\n"
         "    display(Math(c.latex()))"),
    md("## The bound against the measured running mean\n\nThe measured quantity is "
       "$\\frac1T\\sum_{t<T}\\Vert\\nabla f(x^t)\\Vert^2$ for every $T$, on heterogeneous least squares "
       "($n=20$ clients, $L_{qm}/L_{am}=2$, Top-1). With Top-k and $g_i^0=\\nabla f_i(x^0)$ the run is deterministic, "
       "so the inequality must hold exactly at every $T$."),
    code("fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)\n"
         "for ax, cid in zip(axes, ('ef21.nonconvex-qm', 'ef21.nonconvex-am')):\n"
         "    v = verify.check(cid, quick=True)[0]\n"
         "    draw_evidence(ax, v)\n"
         "    ax.set_title(f\"{cid}: {v.verdict}, tightness {v.tightness:.2f}, gamma={v.constants['gamma']:.3g}\", fontsize=9)\n"
         "    ax.legend(fontsize=8)\n"
         "plt.show()"),
    md("## How much does the larger stepsize buy?\n\nAt fixed $L_{am}$ we raise the spread $L_{qm}/L_{am}$ (one outlier "
       "client) and count the rounds EF21 needs to reduce $\\Vert\\nabla f\\Vert^2$ a hundredfold with each stepsize. "
       "The speedup follows the stepsize ratio $(L+L_{qm}\\xi)/(L+L_{am}\\xi)$."),
    code("from verify.plots import speedup_table\n"
         "spreads, measured, predicted = speedup_table(quick=True)\n"
         "plt.plot(spreads, measured, 'o-', label='measured T_qm / T_am')\n"
         "plt.plot(spreads, predicted, 'k--', label='stepsize ratio')\n"
         "plt.xlabel('L_qm / L_am'); plt.ylabel('speedup'); plt.legend(); plt.show()\n"
         "print(np.round(measured, 3), np.round(predicted, 3))"),
    md("## A plausible but wrong claim is caught\n\n\"Error feedback repairs the compression error, so EF21 runs at "
       "gradient descent's stepsize $1/L$ with the same guarantee.\" The package refutes it with a counterexample."),
    code("wrong = theorems.get('ef21.nonconvex-am').variant('gd-step', stepsize=1 / theorems.sym('L'))\n"
         "for v in verify.check(wrong, quick=True):\n"
         "    print(v.verdict, '-', v.detail)"),
    md("## Every EF21 claim and its teeth"),
    code("rows = []\nfor c in [c for c in theorems.all() if c.id.startswith('ef21')]:\n"
         "    vs = verify.check(c, quick=True)\n"
         "    status, unexpected = verify.outcome(vs)\n"
         "    t = [v.tightness for v in vs if v.tightness is not None]\n"
         "    print(f\"{c.id:24s} {status:9s} tightness {max(t) if t else float('nan'):.3f}  [{c.provenance.value}]\")"),
]
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nbf.write(nb, "notebooks/ef21_am.ipynb")
