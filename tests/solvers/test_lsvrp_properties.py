"""Property tests (hypothesis) for L-SVRP: the derived recursion and Lyapunov bounds hold under exact
expectations on random delta-controlled quadratics, and the region identity on random constants."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ratecheck import theorems, verify

# the bounds only (the claims' symbolic identities are established once in tests/verify/experiments/test_lsvrp.py)
RECURSION = theorems.get("lsvrp.recursion").variant("bound-only", identities=())


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(2, 6),
    d=st.integers(1, 4),
    mu=st.floats(0.1, 3.0),
    kappa=st.floats(0.2, 20.0),
    p=st.floats(0.01, 1.0),
    gamma_mu=st.floats(1e-3, 10.0),
    refresh=st.sampled_from(["new", "old"]),
    seed=st.integers(0, 2**16),
)
def test_recursion_holds_everywhere(n, d, mu, kappa, p, gamma_mu, refresh, seed):
    inst = dict(n=n, d=d, mu=mu, delta=kappa * mu, p=p, gamma=gamma_mu / mu, refresh=refresh, T=15)
    vs = verify.check(RECURSION, instances=[inst], seed=seed)
    assert vs[0].verdict == "holds", vs[0].detail


@settings(max_examples=20, deadline=None)
@given(
    n=st.integers(2, 6),
    d=st.integers(1, 4),
    mu=st.floats(0.1, 3.0),
    kappa=st.floats(0.6, 20.0),
    p=st.floats(0.01, 1.0),
    frac=st.floats(0.05, 1.0),
    seed=st.integers(0, 2**16),
)
def test_lyapunov_holds_in_range(n, d, mu, kappa, p, frac, seed):
    inst = dict(n=n, d=d, mu=mu, delta=kappa * mu, p=p, gamma_factor=frac, T=30)
    vs = verify.check("lsvrp.lyapunov", instances=[inst], seed=seed)
    assert vs[0].verdict == "holds", vs[0].detail


@settings(max_examples=200, deadline=None)
@given(
    gamma=st.floats(1e-3, 100.0),
    mu=st.floats(1e-2, 10.0),
    delta=st.floats(0.0, 100.0),
    p=st.floats(1e-3, 1.0),
    theta=st.sampled_from([0.0, 1.0]),
)
def test_region_matches_spectral_radius(gamma, mu, delta, p, theta):
    import sympy as sp

    from ratecheck.theorems.lsvrp import recursion_matrix

    M = np.array(recursion_matrix(*(sp.Float(v) for v in (gamma, mu, delta, p, theta))).evalf(), dtype=float)
    rho = max(abs(np.linalg.eigvals(M)))
    margin = 2 * mu - gamma * (delta**2 - mu**2)
    if abs(margin) > 1e-6 * (2 * mu + gamma * (delta**2 + mu**2)) and abs(rho - 1) > 1e-9:
        assert (rho < 1) == (margin > 0)
