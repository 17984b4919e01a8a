r"""Reduced one-dimensional model of the Simplicial-FL strongly convex run at a kinked optimum.

Provenance of ``KINK_ONSET_FACTOR`` in ``verify/experiments/superquantile.py`` (notes/superquantile.md,
"Strongly convex rate at a kinked optimum").  Across a kink through the optimum, with coordinate
:math:`u` pointing into the flat side, the surrogate is

.. math:: f(u)=c_gu_++c_su_-+\frac\mu2u^2,\qquad 0<c_g\le c_s,

and the minibatch subgradient is :math:`f'(u)+\sigma\xi`.  The run is the experiment's:
:math:`u_{t+1}=u_t-\frac a{t+2}(f'(u_t)+\sigma\xi_t)`, :math:`a=2/\lambda`, output the
:math:`(t+1)`-weighted average :math:`\bar u_T`, measure :math:`\mathbb E f(\bar u_T)`.

Scales: :math:`s_1^2=a\sigma^2/(2a\mu-1)` (iterate variance times t on a smooth quadratic),
:math:`\ell=c_g/\mu` (the flat side's scale), :math:`T_\times=s_1^2/\ell^2`.  In :math:`\tau=T/T_\times` and
:math:`u/\ell` the model depends only on the asymmetry :math:`\rho=c_s/c_g` and on :math:`b=a\mu`, so one
simulation per :math:`(\rho,b)` maps where the local log-log slope of the gap settles within
``SGD_RATE_TOLERANCE/2`` of -1.

Run from the repository root: ``python3 notes/superquantile_kink_model.py`` (about 4-5 minutes).
"""

from __future__ import annotations

import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

T_CROSS = 48.0  #: T_x in model steps (large enough for the continuous limit, small enough to reach tau = 2048)
RUNS = 4096
TAU = 2.0 ** np.arange(-3, 11.01, 0.5)  #: checkpoints in units of T_x
RHO = (1.5, 2.0, 3.0, 10.0, 30.0, 100.0)
B = (2.0, 3.0, 6.0)


def simulate(c_g, c_s, mu, sigma, a, checkpoints, runs=RUNS, seed=1):
    """Mean gap E f(ubar_T) at the checkpoints (started at the optimum: the transient from w0 is not at issue)."""
    rng = np.random.default_rng(seed)
    u, acc, tot = np.zeros(runs), np.zeros(runs), 0.0
    want, out = set(int(c) for c in checkpoints), {}
    for t in range(int(max(checkpoints)) + 1):
        if t in want and t > 0:
            ub = acc / tot
            out[t] = float((c_g * np.maximum(ub, 0) + c_s * np.maximum(-ub, 0) + 0.5 * mu * ub**2).mean())
        acc += (t + 1) * u
        tot += t + 1
        g = mu * u + np.where(u > 0, c_g, np.where(u < 0, -c_s, 0.0)) + sigma * rng.standard_normal(runs)
        u = u - a / (t + 2) * g
    T = np.array(sorted(out))
    return T, np.array([out[k] for k in T])


def onset(rho, b, tol):
    """Smallest tau from which every local slope (over one doubling) stays within tol of -1."""
    a, sigma = 1.0, 2.0
    mu = b / a
    c_g = np.sqrt(a * sigma**2 * mu**2 / ((2 * a * mu - 1) * T_CROSS))
    T, gap = simulate(c_g, rho * c_g, mu, sigma, a, np.unique(np.round(T_CROSS * TAU)))
    slope = np.log(gap[2:] / gap[:-2]) / np.log(T[2:] / T[:-2])
    tau = T[2:] / T_CROSS
    bad = np.flatnonzero(np.abs(slope + 1) > tol)
    first = tau[0] if bad.size == 0 else (tau[bad[-1] + 1] if bad[-1] + 1 < tau.size else np.inf)
    return first, T[-1] * gap[-1] / (T[0] * gap[0]), slope


def main():
    from ratecheck.verify.experiments.superquantile import KINK_ONSET_FACTOR, SGD_RATE_TOLERANCE

    tol = SGD_RATE_TOLERANCE / 2
    worst = 0.0
    print(f"onset tau (local slope within {tol} of -1 from there on); T gap late/early")
    for b in B:
        for rho in RHO:
            tau0, ratio, _ = onset(rho, b, tol)
            worst = max(worst, tau0)
            print(
                f"  b = a mu = {b:3.1f}, rho = c_s/c_g = {rho:5.1f}: onset tau {tau0:7.1f}; T gap ratio {ratio:.2f}",
                flush=True,
            )
    print(f"worst onset {worst:.1f}; KINK_ONSET_FACTOR = {KINK_ONSET_FACTOR}")
    assert worst <= KINK_ONSET_FACTOR, "KINK_ONSET_FACTOR is below the mapped onset"


if __name__ == "__main__":
    main()
