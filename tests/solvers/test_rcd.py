"""Unit and property tests of the RCD/RPT numerics: sketches, solver, exact engine, instances."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ratecheck.solvers import InvalidInput
from ratecheck.solvers.problems import MatrixL2Logistic, Quadratic, QuadraticCosine
from ratecheck.solvers.rcd import (
    SKETCHES,
    CoordinateSketch,
    RPTSketch,
    TauNiceSketch,
    lambda_max,
    make_sketch,
    rpt_optimal_probabilities,
    sketched_rcd,
    sketched_rcd_naive,
    split_blocks,
)
from ratecheck.verify.expectation import (
    diagonal_sketch_moments,
    exact_linear_second_moments,
    exact_sketched_quadratic,
    mc_summary,
)
from ratecheck.verify.instances import block_cosine, block_logistic, block_quadratic
from ratecheck.verify.optima import matrix_l2_logistic_optimum


def _psd(rng, d, rank=None):
    B = rng.standard_normal((d, rank or d + 1))
    return B @ B.T / d


def _all(L, sizes, p, tau=2):
    return [make_sketch(k, L, tau=tau, block_sizes=sizes, p=p) for k in SKETCHES]


# --------------------------------------------------------------------------- sketches
@pytest.mark.parametrize("kind", SKETCHES)
def test_sketch_moments_match_dense_enumeration(kind):
    rng = np.random.default_rng(0)
    L = _psd(rng, 7)
    sk = make_sketch(kind, L, tau=3, block_sizes=[2, 2, 3], p=[0.2, 0.5, 0.3])
    c, pi = sk.outcomes()
    assert np.isclose(pi.sum(), 1) and np.all(pi >= 0)
    # brute force: dense matrices, one outcome at a time
    dense = sum(w * np.diag(ci) @ L @ np.diag(ci) for ci, w in zip(c, pi))
    mean, second = sk.moments()
    np.testing.assert_allclose(mean, 1.0, atol=1e-13)
    np.testing.assert_allclose(sk.expected_CLC(L), dense, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(sk.table_expected_CLC(L), dense, rtol=1e-12, atol=1e-13)
    assert np.isclose(sk.L_tilde(L), np.linalg.eigvalsh(dense)[-1], rtol=1e-12)
    assert np.isclose(sk.table_L_tilde(L), sk.L_tilde(L), rtol=1e-12)
    Om = np.linalg.eigvalsh(sum(w * np.diag(ci**2) for ci, w in zip(c, pi)))[-1]
    assert np.isclose(sk.Omega(), Om) and np.isclose(sk.table_Omega(), Om)


def test_table_special_cases():
    rng = np.random.default_rng(1)
    L = _psd(rng, 6)
    d = 6
    assert np.isclose(CoordinateSketch.importance(L).L_tilde(L), np.trace(L))
    assert np.isclose(CoordinateSketch.uniform(d).L_tilde(L), d * np.max(np.diag(L)))
    Lb = L * np.kron(np.eye(2), np.ones((3, 3)))  # block diagonal, 2 blocks of 3
    sk = RPTSketch([3, 3], [0.3, 0.7])
    lam = [np.linalg.eigvalsh(Lb[:3, :3])[-1] / sk.q[0], np.linalg.eigvalsh(Lb[3:, 3:])[-1] / sk.q[1]]
    assert np.isclose(sk.table_L_tilde(Lb), max(lam)) and np.isclose(sk.L_tilde(Lb), max(lam))
    # Hadamard, not L / min q (spec pitfall): the naive value is strictly larger here
    assert sk.L_tilde(L) < lambda_max(L) / sk.q.min()


def test_tau_nice_counting_matches_enumeration():
    sk = TauNiceSketch(6, 3)
    m1, s1 = sk.moments()
    m2, s2 = sk.enumerated_moments()
    np.testing.assert_allclose(m1, m2, atol=1e-14)
    np.testing.assert_allclose(s1, s2, atol=1e-13)


@pytest.mark.parametrize("kind", SKETCHES)
def test_sampling_is_unbiased(kind):
    rng = np.random.default_rng(2)
    L = _psd(rng, 6)
    sk = make_sketch(kind, L, tau=2, block_sizes=[1, 2, 3], p=[0.5, 0.3, 0.2])
    draws = sk.sample(rng, 200_000)
    mean, second = sk.moments()
    se = np.sqrt(np.diag(second) / draws.shape[0])
    assert np.all(np.abs(draws.mean(0) - 1) <= 6 * se + 1e-12)


def test_unscaled_rpt_is_biased():
    sk = RPTSketch([2, 2, 2], [0.2, 0.3, 0.5], scaled=False)
    np.testing.assert_allclose(sk.moments()[0], np.repeat(sk.q, 2))


@settings(max_examples=30, deadline=None)
@given(d=st.integers(2, 9), J=st.integers(1, 5), seed=st.integers(0, 10_000), suffix=st.booleans())
def test_property_L_tilde_at_least_lambda_max(d, J, seed, suffix):
    """E[C L C] - L = E[(C - I) L (C - I)] >= 0, so L_tilde >= lambda_max(L) and Omega >= 1 for unbiased sketches."""
    J = min(J, d)
    rng = np.random.default_rng(seed)
    L = _psd(rng, d, rank=int(rng.integers(1, d + 1)))
    p = rng.dirichlet(np.ones(J)) + 1e-3
    p /= p.sum()
    sizes = split_blocks(d, J)
    for sk in _all(L, sizes, p, tau=int(rng.integers(1, d + 1))) + [
        RPTSketch(sizes, p, "suffix" if suffix else "prefix")
    ]:
        E = sk.expected_CLC(L)
        assert np.linalg.eigvalsh(E - L)[0] >= -1e-10 * max(1, lambda_max(L))
        assert sk.L_tilde(L) >= lambda_max(L) * (1 - 1e-12)
        assert sk.Omega() >= 1 - 1e-12
        assert np.isclose(sk.table_L_tilde(L), sk.L_tilde(L), rtol=1e-10)


# --------------------------------------------------------------------------- solver
def test_vectorized_solver_matches_naive_loop():
    prob = block_quadratic(d=8, blocks=2, seed=3)
    sk = make_sketch("rpt-prefix", prob.A, block_sizes=prob.block_sizes, p=[0.4, 0.6])
    x0 = prob.x_star + np.ones(8)
    g = 1 / sk.L_tilde(prob.A)
    fast = sketched_rcd(prob, x0, gamma=g, sketch=sk, T=15, replications=5, rng=np.random.default_rng(7))
    slow = sketched_rcd_naive(prob, x0, gamma=g, sketch=sk, T=15, replications=5, rng=np.random.default_rng(7))
    np.testing.assert_allclose(fast.f, slow.f, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fast.x_final, slow.x_final, rtol=1e-12, atol=1e-12)


def test_solver_reproducible_and_divergence_frozen():
    prob = block_quadratic(d=6, blocks=2, seed=0)
    sk = CoordinateSketch.uniform(6)
    a = sketched_rcd(prob, np.zeros(6), gamma=0.01, sketch=sk, T=20, replications=3, rng=np.random.default_rng(4))
    b = sketched_rcd(prob, np.zeros(6), gamma=0.01, sketch=sk, T=20, replications=3, rng=np.random.default_rng(4))
    np.testing.assert_array_equal(a.f, b.f)
    big = sketched_rcd(prob, np.ones(6), gamma=1e6, sketch=sk, T=400, replications=2, rng=np.random.default_rng(0))
    assert np.isinf(big.f[:, -1]).all()


# --------------------------------------------------------------------------- exact engine
@settings(max_examples=25, deadline=None)
@given(
    d=st.integers(2, 7),
    J=st.integers(1, 4),
    seed=st.integers(0, 10_000),
    kind=st.sampled_from(SKETCHES),
    factor=st.floats(0.1, 1.0),
)
def test_property_fast_engine_equals_outcome_engine(d, J, seed, kind, factor):
    J = min(J, d)
    rng = np.random.default_rng(seed)
    A = _psd(rng, d, rank=int(rng.integers(1, d + 1)))
    p = rng.dirichlet(np.ones(J)) + 1e-2
    p /= p.sum()
    sk = make_sketch(kind, A, tau=int(rng.integers(1, d + 1)), block_sizes=split_blocks(d, J), p=p)
    g = factor / sk.L_tilde(A)
    e0 = rng.standard_normal(d)
    c, pi = sk.outcomes()
    m, P = diagonal_sketch_moments(c, pi)
    fast = exact_sketched_quadratic(A, e0, g, m, P, 12)
    maps = np.eye(d)[None] - g * c[:, :, None] * A[None]
    ref = exact_linear_second_moments(maps, pi, e0, 12, {"gap": A / 2, "grad": A @ A, "dist": np.eye(d)})
    for a, b in (("gap", "gap"), ("grad_norm_sq", "grad"), ("dist_sq", "dist")):
        np.testing.assert_allclose(fast[a], ref[b], rtol=1e-9, atol=1e-12 * max(1.0, ref[b][0]))
    # the expected-descent lemma: E f(x^k) never increases for gamma <= 1/L_tilde
    assert np.all(np.diff(fast["gap"]) <= 1e-12 * fast["gap"][0])


def test_linear_engine_matches_path_enumeration_with_offsets():
    """Brute force: enumerate all K^T outcome paths of an affine recursion."""
    rng = np.random.default_rng(5)
    K, n, T = 3, 3, 4
    M = rng.standard_normal((K, n, n)) * 0.5
    b = rng.standard_normal((K, n))
    p = np.array([0.2, 0.3, 0.5])
    z0 = rng.standard_normal(n)
    W = _psd(rng, n)
    out = exact_linear_second_moments(M, p, z0, T, {"w": W}, offsets=b)
    for t in range(T + 1):
        tot, mean = 0.0, np.zeros(n)
        for path in itertools.product(range(K), repeat=t):
            z, w = z0.copy(), 1.0
            for o in path:
                z, w = M[o] @ z + b[o], w * p[o]
            tot += w * z @ W @ z
            mean += w * z
        assert np.isclose(out["w"][t], tot, rtol=1e-12)
        np.testing.assert_allclose(out["mean"][t], mean, rtol=1e-12, atol=1e-12)


def test_exact_engine_agrees_with_monte_carlo_interval():
    prob = block_quadratic(d=10, blocks=3, seed=11)
    sk = make_sketch("rpt-prefix", prob.A, block_sizes=prob.block_sizes, p=[0.3, 0.3, 0.4])
    g = 1 / sk.L_tilde(prob.A)
    x0 = prob.x_star + np.random.default_rng(0).standard_normal(10)
    m, P = sk.moments()
    ex = exact_sketched_quadratic(prob.A, x0 - prob.x_star, g, m, P, 40)
    tr = sketched_rcd(
        prob, x0, gamma=g, sketch=sk, T=40, replications=20_000, rng=np.random.default_rng(1), x_star=prob.x_star
    )
    grid = np.array([1, 5, 10, 20, 40])
    for name, samples in (
        ("gap", tr.f[:, grid] - prob.f_star),
        ("dist_sq", tr.dist_sq[:, grid]),
        ("grad_norm_sq", tr.grad_norm_sq[:, grid]),
    ):
        mean, se, _ = mc_summary(samples)
        z = np.abs(mean - ex[name][grid]) / se
        assert np.all(z < 4.5), (name, z)  # 4.5 standard errors: family-wise ~1e-4 false alarm


def test_exact_engine_divergence_is_inf():
    A = np.eye(3)
    ex = exact_sketched_quadratic(A, np.ones(3), 5.0, np.ones(3), np.ones((3, 3)), 2000)
    assert np.isinf(ex["gap"][-1])


def test_exact_engine_no_subnormal_slowdown_and_values():
    """Fast decay is renormalised: GD with gamma = 1/L on A = I gives zero after one step."""
    ex = exact_sketched_quadratic(np.diag([1.0, 0.5]), np.ones(2), 1.0, np.ones(2), np.ones((2, 2)), 3000)
    np.testing.assert_allclose(ex["gap"][:3], [0.75, 0.5**2 * 0.5 * 0.25 * 2, 0.5 * 0.5 * 0.5**4], rtol=1e-12)
    assert ex["gap"][-1] >= 0


# --------------------------------------------------------------------------- problems and instances
def test_quadratic_cosine_f_inf_exact():
    prob = block_cosine(d=5, blocks=2, cond=10.0, omega=1.0, seed=2)
    assert prob.f_inf_exact
    import scipy.optimize

    rng = np.random.default_rng(0)
    best = min(scipy.optimize.minimize(prob.value, rng.uniform(-4, 4, 5), jac=prob.grad).fun for _ in range(30))
    assert prob.f_inf <= best + 1e-9 and best - prob.f_inf < 1e-7
    x = rng.standard_normal((4, 5))
    assert np.all(prob.value(x) >= prob.f_inf)


@pytest.mark.parametrize(
    "make",
    [
        lambda: block_logistic(m=50, d=6, blocks=2, seed=1),
        lambda: block_cosine(d=6, seed=1),
        lambda: block_quadratic(d=6, blocks=2, seed=1),
    ],
)
def test_gradients_match_finite_differences(make):
    prob = make()
    rng = np.random.default_rng(0)
    x = rng.standard_normal(prob.d)
    h = 1e-6
    fd = np.array([(prob.value(x + h * e) - prob.value(x - h * e)) / (2 * h) for e in np.eye(prob.d)])
    np.testing.assert_allclose(prob.grad(x), fd, rtol=1e-6, atol=1e-7)
    # Hessian bound: L_matrix - Hessian is PSD at a random point (finite differences)
    H = np.array([(prob.grad(x + h * e) - prob.grad(x - h * e)) / (2 * h) for e in np.eye(prob.d)])
    assert np.linalg.eigvalsh(prob.L_matrix - 0.5 * (H + H.T))[0] >= -1e-5


def test_logistic_optimum_certificate():
    prob = block_logistic(m=60, d=5, blocks=2, seed=3)
    opt = matrix_l2_logistic_optimum(prob)
    assert opt.certificate["grad_norm"] < 1e-10
    assert opt.lower <= opt.value and opt.value - opt.lower < 1e-12
    rng = np.random.default_rng(0)
    assert np.all(prob.value(opt.x + 0.1 * rng.standard_normal((50, 5))) >= opt.lower)


def test_block_quadratic_constants_recomputed():
    q = block_quadratic(d=12, blocks=3, cond=50.0, coupling=0.0, profile="increasing", scale_ratio=10.0, seed=0)
    ev = np.linalg.eigvalsh(q.A)
    assert np.isclose(q.L, ev[-1]) and np.isclose(q.mu, ev[0])
    assert np.allclose(q.A[:4, 4:], 0)  # block diagonal without coupling
    s = block_quadratic(d=12, blocks=3, zero_eigs=2, seed=0)
    assert s.mu == 0.0 and np.allclose(s.A @ s.x_star, s.b)


def test_rpt_cost_tradeoff_beats_uniform_and_gd_point():
    q = block_quadratic(d=12, blocks=3, profile="decreasing", scale_ratio=30.0, coupling=0.1, seed=0)
    cost = np.array([1.0, 2.0, 3.0])
    p, val = rpt_optimal_probabilities(q.A, q.block_sizes, cost, rng=np.random.default_rng(0))
    uni = RPTSketch(q.block_sizes, np.full(3, 1 / 3)).L_tilde(q.A) * cost.mean()
    gd_ish = RPTSketch(q.block_sizes, [1e-6, 1e-6, 1 - 2e-6]).L_tilde(q.A) * cost[-1]
    assert np.isclose(p.sum(), 1) and p[-1] > 0
    assert val <= uni * (1 + 1e-9) and val <= gd_ish * (1 + 1e-6)


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: RPTSketch([2, 2], [0.5, 0.6]), "p must be a probability distribution"),
        (lambda: RPTSketch([2, 2], [1.0, 0.0]), r"p\[1\] \(p_J"),
        (lambda: RPTSketch([2, 2], [0.0, 1.0], order="suffix"), r"p\[0\] \(p_1\)"),
        (lambda: RPTSketch([2, 2], [0.5, 0.5], order="middle"), "order must be"),
        (lambda: make_sketch("gd", np.array([[1.0, 0.0], [0.0, -1.0]])), "L must be positive semidefinite"),
        (lambda: make_sketch("gd", np.array([[1.0, 0.5], [0.0, 1.0]])), "L must be symmetric"),
        (lambda: make_sketch("sparse", np.eye(2)), "sketch must be one of"),
        (lambda: TauNiceSketch(3, 4), "tau must be <= d"),
        (lambda: CoordinateSketch([0.5, 0.5, 0.0]), "pi must be > 0"),
        (lambda: Quadratic(np.diag([1.0, -1.0])), "A must be positive semidefinite"),
        (lambda: Quadratic(np.diag([1.0, 0.0]), b=np.array([0.0, 1.0])), "b must lie in the range of A"),
        (
            lambda: sketched_rcd(
                block_quadratic(d=4, blocks=2),
                np.zeros(4),
                gamma=-1.0,
                sketch=CoordinateSketch.uniform(4),
                T=3,
                rng=np.random.default_rng(0),
            ),
            "gamma must be > 0",
        ),
        (lambda: MatrixL2Logistic(np.ones((3, 2)), np.array([1.0, 0.0, 1.0])), "y must contain labels"),
        (lambda: QuadraticCosine(np.diag([1.0, 0.0])), "A must be positive definite"),
    ],
)
def test_bad_input_messages(call, match):
    with pytest.raises(InvalidInput, match=match):
        call()


@pytest.mark.parametrize("kind", ["coordinate-uniform", "rpt-prefix", "tau-nice"])
def test_fast_engine_long_horizon_stays_accurate(kind):
    """Regression (found by the PEPit cross-check): the fast recursion does not damp an antisymmetric
    rounding error, so S must stay exactly symmetric; over 400 steps (25 orders of magnitude of decay)
    it must agree with the outcome-by-outcome engine to ~1e-12 relative."""
    rng = np.random.default_rng(0)
    d = 3 if kind != "rpt-prefix" else 4
    U = np.linalg.qr(rng.standard_normal((d, d)))[0]
    A = (U * np.geomspace(0.3, 1.0, d)) @ U.T  # not exactly symmetric in floating point
    sk = make_sketch(kind, 0.5 * (A + A.T), tau=2, block_sizes=[2, 2], p=[0.5, 0.5])
    e0 = rng.standard_normal(d)
    g = 1 / sk.L_tilde(0.5 * (A + A.T))
    m, P = sk.moments()
    fast = exact_sketched_quadratic(0.5 * (A + A.T), e0, g, m, P, 400)["dist_sq"]
    c, pi = sk.outcomes()
    maps = np.eye(d)[None] - g * c[:, :, None] * (0.5 * (A + A.T))[None]
    ref = exact_linear_second_moments(maps, pi, e0, 400, {"d": np.eye(d)})["d"]
    assert ref[-1] < 1e-20 * ref[0]
    np.testing.assert_allclose(fast, ref, rtol=1e-11)


# --------------------------------------------------------------------------- sketch identities and constants
def test_random_block_structure_partitions_the_dimension():
    from ratecheck.solvers.rcd import random_block_structure

    rng = np.random.default_rng(3)
    for d_max in (2, 8, 12):
        for _ in range(50):
            d, sizes, probs = random_block_structure(rng, d_max)
            assert 2 <= d <= d_max and sizes.sum() == d and np.all(sizes >= 1)
            assert probs.shape == sizes.shape and abs(probs.sum() - 1) < 1e-12
            assert np.all(probs >= 1e-3 / (1 + 1e-3 * sizes.size))  # floored at 1e-3 before renormalising


def test_sketch_table_errors_vanish_for_the_spec_table_and_catch_a_wrong_closed_form():
    from ratecheck.solvers.rcd import sketch_table_errors

    errs, labels = sketch_table_errors(np.random.default_rng(0), 6, SKETCHES)
    assert len(errs) == 6 * len(SKETCHES) and labels == list(SKETCHES) * 6
    assert max(errs) < 1e-10
    # teeth: L_tilde without the Hadamard product is wrong for RPT on coupled L
    wrong, _ = sketch_table_errors(
        np.random.default_rng(0), 6, ("rpt-prefix",), lambda sk, L: lambda_max(L) / float(np.min(sk.q))
    )
    assert max(wrong) > 1e-3


def test_rpt_mean_errors_unbiased_only_when_scaled():
    from ratecheck.solvers.rcd import rpt_mean_errors

    scaled = rpt_mean_errors(np.random.default_rng(1), 20, ("rpt-prefix", "rpt-suffix"))
    biased = rpt_mean_errors(np.random.default_rng(1), 20, ("rpt-prefix", "rpt-suffix"), scaled=False)
    assert len(scaled) == 40 and max(scaled) < 1e-12
    assert max(biased) > 0.1


def test_sketch_constants_match_the_sketch_moments():
    from ratecheck.solvers.rcd import sketch_constants

    prob = block_quadratic(d=8, blocks=3, cond=10.0, seed=2)
    for kind in SKETCHES:
        sk = make_sketch(kind, prob.L_matrix, tau=3, block_sizes=prob.block_sizes, p=np.full(3, 1 / 3))
        c = sketch_constants(prob, sk)
        assert c["L_tilde"] == pytest.approx(sk.L_tilde(prob.L_matrix), rel=1e-12)
        assert c["Omega"] == pytest.approx(sk.Omega(), rel=1e-12)
        assert c["sketch_mean_error"] < 1e-12 and c["d"] == 8 and c["blocks"] == 3 and c["mu"] == prob.mu
    cosine = block_cosine(d=6, blocks=2, seed=0)  # no strong convexity: no mu
    assert "mu" not in sketch_constants(cosine, CoordinateSketch.uniform(6))


def test_l_tilde_vs_probabilities_is_at_least_L():
    """An unbiased sketch has E[cc^T] - 11^T PSD, so L o E[cc^T] >= L (Schur): L_tilde / L >= 1."""
    from ratecheck.solvers.rcd import l_tilde_vs_probabilities

    prob = block_quadratic(d=12, blocks=4, profile="decreasing", cond=20.0, seed=0)
    r = l_tilde_vs_probabilities(prob, [0.5, 1.0, 4.0])
    assert r["ratio"].shape == r["L_tilde_over_L"].shape == (3,)
    assert np.all(r["L_tilde_over_L"] >= 1 - 1e-12)
    p = 4.0 ** np.arange(4)
    assert r["L_tilde_over_L"][2] == RPTSketch(prob.block_sizes, p / p.sum()).L_tilde(prob.L_matrix) / prob.L


def test_rcd_problem_certifies_what_its_bounds_need():
    from ratecheck.verify.instances import rcd_problem

    common = dict(d=8, blocks=2, profile="flat", scale_ratio=1.0, cond=5.0, coupling=0.1, zero_eigs=0, m=40)
    common.update(lam=0.1, omega=1.0, seed=0)
    prob, x_star, f_low, slack, cert = rcd_problem("quadratic", **common)
    assert slack == 0.0 and f_low == prob.f_star and np.allclose(prob.grad(x_star), 0, atol=1e-10)
    prob, x_star, f_low, slack, cert = rcd_problem("logistic", **common)
    assert f_low <= prob.value(x_star) and slack == cert["dist_bound"] >= 0
    prob, x_star, f_low, slack, cert = rcd_problem("cosine", **common)
    assert x_star is None and f_low == prob.f_inf and "f_inf" in cert
