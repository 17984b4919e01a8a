"""Superquantile report and notebook figures (moved from ``verify/experiments/superquantile.py``)."""

from __future__ import annotations

import numpy as np

from ratecheck.solvers import superquantile as sq

from ..experiments.superquantile import SuperquantileExperiment, m_grid
from ..instances import superquantile_clients
from ..optima import superquantile_optimum

__all__ = ["superquantile_figures", "bias_figure", "variance_figure", "tail_comparison", "histogram_figure"]


def superquantile_figures(exp, verdicts, outdir, quick=False):
    """Bias against m with every bound, variance against m, client-loss histograms."""
    import pathlib

    import matplotlib.pyplot as plt

    outdir = pathlib.Path(outdir)
    out = []
    fig = bias_figure(exp, theta=0.1, m_max=2000 if quick else 10000)
    fig.savefig(outdir / "superquantile_bias.png", dpi=110)
    plt.close(fig)
    out.append(
        (
            "superquantile_bias.png",
            "Bias of the empirical superquantile against m (Bernoulli(0.1) and uniform "
            "laws, theta = 0.1) with the bounds T2, Eq. (40), T4, T6 and the slide's B/(theta m)",
        )
    )
    fig = variance_figure(exp, theta=0.1, m_max=2000 if quick else 10000)
    fig.savefig(outdir / "superquantile_variance.png", dpi=110)
    plt.close(fig)
    out.append(
        (
            "superquantile_variance.png",
            "Variance of the empirical superquantile against m with 2B^2/(theta m), "
            "B^2/(theta m) and the slide bound for |Z| <= B",
        )
    )
    fig = histogram_figure(tail_comparison())
    fig.savefig(outdir / "superquantile_fedavg_vs_sfl.png", dpi=110)
    plt.close(fig)
    out.append(
        (
            "superquantile_fedavg_vs_sfl.png",
            "Client losses of FedAvg and Simplicial-FL (exact minimiser), theta = 0.1, 40 clients with 5 outliers",
        )
    )
    return out


def _law_figure(exp, theta, m_max, curves, bounds, c, ylabel, title):
    """Exact curves (label, law overrides, moment -> series) and claim bounds against m on log axes."""
    import matplotlib.pyplot as plt

    from ratecheck import theorems

    p = exp.params(dict(theta=theta, m_min=10, m_max=m_max, m_points=25))
    m = m_grid(p)
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for label, over, series in curves:
        ax.loglog(m, series(exp.law_moments(dict(p, **over), m, 0)), "o-", ms=3, label=label)
    for cid, label in bounds:  # every bound from the claim's own formula
        ax.loglog(m, theorems.get(cid).evaluate(m=m, **c), "--", lw=1, label=label)
    ax.set_xlabel("sample size m")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def bias_figure(exp: SuperquantileExperiment, theta: float = 0.1, m_max: int = 10000):
    """Bias against m on log axes for Bernoulli(theta) and uniform laws, with every bound."""
    bias = lambda mom: mom["population"] - mom["mean"]  # noqa: E731
    curves = [
        ("bias, Bernoulli law (exact)", dict(law="bernoulli"), bias),
        ("bias, uniform law (exact)", dict(law="uniform"), bias),
    ]
    bounds = [
        ("superquantile.bias-levy", "T2: B min(3/sqrt(theta m), 1)"),
        ("superquantile.bias-exact", "Eq. (40) (Bernoulli: equality)"),
        ("superquantile.bias-sharp", "T6: (B/2) sqrt((1-theta)/(theta m))"),
        ("superquantile.bias-density", "T4: G_icdf/(m+1) (uniform)"),
        ("superquantile.slide-bias-abs", "slide: B/(theta m)"),
    ]
    return _law_figure(
        exp,
        theta,
        m_max,
        curves,
        bounds,
        dict(theta=theta, B=1.0, G_icdf=1.0),
        "S_theta(Z) - E S_theta(Z_1..Z_m)",
        f"Superquantile bias, theta = {theta}",
    )


def variance_figure(exp: SuperquantileExperiment, theta: float = 0.1, m_max: int = 10000):
    """Variance against m for {0, 1}, {-1, 1} and uniform laws, with the variance bounds."""
    var = lambda mom: mom["var"]  # noqa: E731
    curves = [
        ("Var, {0, 1} (exact)", dict(law="bernoulli"), var),
        ("Var, {-1, 1} (exact)", dict(law="bernoulli", low=-1.0), var),
        ("Var, Unif[0, 1] (exact)", dict(law="uniform"), var),
    ]
    bounds = [
        ("superquantile.variance", "T5: 2B^2/(theta m)"),
        ("superquantile.variance-derived", "derived: (b-a)^2/(theta m), [0, 1]"),
        ("superquantile.slide-variance", "slide: B^2/(theta m), |Z| <= B"),
    ]
    return _law_figure(
        exp,
        theta,
        m_max,
        curves,
        bounds,
        dict(theta=theta, B=1.0),
        "Var S_theta(Z_1..Z_m)",
        f"Superquantile variance, theta = {theta}",
    )


def tail_comparison(
    theta: float = 0.1,
    clients: int = 40,
    outliers: int = 5,
    separation: float = 4.0,
    lam: float = 1e-3,
    fedavg_T: int = 3000,
    local_steps: int = 1,
    seed: int = 0,
) -> dict:
    r"""Per-client losses of FedAvg and of the exact Simplicial-FL minimiser on the same clients.

    FedAvg (full participation, ``local_steps`` local gradient steps, stepsize :math:`1/(2L)`)
    targets the mean loss; Simplicial-FL (Pillutla et al., arXiv:2112.09429) minimises
    :math:`S_\theta(F_1,\dots,F_n)+\frac\lambda2\Vert w\Vert^2`, solved exactly by cvxpy with its dual
    certificate.  Reports the mean and the 90th percentile of the client losses for both (the comparison
    the talk makes, on synthetic data): the data of :func:`histogram_figure`.
    """
    cl = superquantile_clients(n=clients, d=2, samples=6, outliers=outliers, separation=separation, seed=seed)
    opt = superquantile_optimum(cl, theta, None, lam)
    w_fa = sq.fedavg(cl, np.zeros(cl.d), gamma=0.5 / cl.L, T=fedavg_T, local_steps=local_steps, lam=lam).x_final
    out = {"clients": cl, "theta": theta, "certificate": opt.certificate}
    for name, w in (("fedavg", w_fa), ("sfl", opt.x)):
        F = cl.values(w)
        out[name] = {
            "w": w,
            "losses": F,
            "mean": float(F.mean()),
            "p90": float(np.quantile(F, 0.9)),
            "superquantile": float(sq.superquantile(F, theta)),
        }
    return out


def histogram_figure(cmp: dict):
    """Histograms of per-client losses for FedAvg and Simplicial-FL with their mean and 90th percentile."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    allF = np.concatenate([cmp["fedavg"]["losses"], cmp["sfl"]["losses"]])
    bins = np.linspace(0, allF.max() * 1.02, 30)
    for name, col in (("fedavg", "C0"), ("sfl", "C3")):
        r = cmp[name]
        ax.hist(
            r["losses"],
            bins=bins,
            alpha=0.5,
            color=col,
            label=f"{'FedAvg' if name == 'fedavg' else 'Simplicial-FL'}: mean {r['mean']:.2f}, p90 {r['p90']:.2f}",
        )
        ax.axvline(r["p90"], color=col, ls="--")
    ax.set_xlabel("client loss F_i(w)")
    ax.set_ylabel("clients")
    ax.set_title(f"Client losses, theta = {cmp['theta']}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
