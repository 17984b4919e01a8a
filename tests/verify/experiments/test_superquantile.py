"""Superquantile numerics against brute-force / naive references and cvxpy, and input validation."""

from __future__ import annotations

import itertools
import math

import cvxpy as cp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ratecheck.solvers import InvalidInput
from ratecheck.solvers import superquantile as sq


def lp_value(x, theta, w=None):
    """Reference: the LP max <pi, x> over the capped simplex, by cvxpy (with a dual certificate)."""
    n = x.size
    w = np.full(n, 1.0 / n) if w is None else w
    p = cp.Variable(n)
    prob = cp.Problem(cp.Maximize(p @ x), [p >= 0, cp.sum(p) == 1, p <= w / theta])
    prob.solve(solver=cp.CLARABEL)
    return prob.value


def ru_value(x, theta, w=None):
    """Reference: the Rockafellar-Uryasev minimum by cvxpy."""
    n = x.size
    w = np.full(n, 1.0 / n) if w is None else w
    eta = cp.Variable()
    prob = cp.Problem(cp.Minimize(eta + w @ cp.pos(x - eta) / theta))
    prob.solve(solver=cp.CLARABEL)
    return prob.value


def naive_sorted(x, theta):
    """Levy Eq. (28) with a full sort (the naive reference)."""
    xs = np.sort(x)[::-1]
    n = xs.size
    k = int(math.floor(theta * n * (1 + 1e-12)))
    if k >= n:
        return xs.mean()
    return xs[:k].sum() / (theta * n) + (1 - k / (theta * n)) * xs[k]


# ----------------------------------------------------------------------------- exact value
def test_spec_example_value():
    # spec section 6: x = (0, 1, 2, 3), theta = 0.3: LP value (3 + 0.2*2)/1.2
    assert sq.superquantile([0, 1, 2, 3.0], 0.3) == pytest.approx(3.4 / 1.2, rel=1e-15)


@pytest.mark.parametrize("theta", [0.05, 0.1, 0.25, 0.3, 1 / 7, 2 / 7, 0.5, 0.99, 1.0])
def test_value_matches_lp_and_ru_with_ties(theta):
    rng = np.random.default_rng(1)
    X = rng.integers(0, 4, (6, 7)).astype(float)  # many ties
    v = sq.superquantile(X, theta)
    for r in range(X.shape[0]):
        assert v[r] == pytest.approx(lp_value(X[r], theta), abs=1e-7)
        assert v[r] == pytest.approx(ru_value(X[r], theta), abs=1e-7)
        assert v[r] == pytest.approx(naive_sorted(X[r], theta), abs=1e-12)


def test_weighted_value_matches_lp():
    rng = np.random.default_rng(2)
    for _ in range(5):
        x = rng.integers(0, 5, 9).astype(float)
        w = rng.random(9)
        w /= w.sum()
        for theta in (0.2, 0.5, 0.8):
            assert sq.superquantile(x, theta, w) == pytest.approx(lp_value(x, theta, w), abs=1e-7)


def test_uniform_weights_equal_unweighted():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((20, 11))
    np.testing.assert_allclose(sq.superquantile(X, 0.3, np.full(11, 1 / 11)), sq.superquantile(X, 0.3), atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 12), theta=st.floats(0.01, 1.0), seed=st.integers(0, 10_000), ties=st.booleans())
def test_property_value_weights_and_ru(n, theta, seed, ties):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 3, n).astype(float) if ties else rng.standard_normal(n)
    v = float(sq.superquantile(x, theta))
    assert v == pytest.approx(naive_sorted(x, theta), abs=1e-12)
    assert x.mean() - 1e-12 <= v <= x.max() + 1e-12
    for mode in ("greedy", "split"):
        pi = sq.optimal_weights(x, theta, ties=mode)
        assert pi.sum() == pytest.approx(1.0, abs=1e-12)
        assert np.all(pi >= 0) and np.all(pi <= 1 / (theta * n) + 1e-12)
        assert pi @ x == pytest.approx(v, abs=1e-10)
    # RU objective is >= the value everywhere and equal at the lower quantile x_(k+1)
    etas = np.linspace(x.min() - 1, x.max() + 1, 101)
    assert np.all(sq.ru_objective(x, theta, etas) >= v - 1e-10)
    k = min(int(math.floor(theta * n * (1 + 1e-12))), n - 1)
    assert sq.ru_objective(x, theta, np.sort(x)[::-1][k]) == pytest.approx(v, abs=1e-10)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 10), theta=st.floats(0.02, 1.0), seed=st.integers(0, 10_000), ties=st.booleans())
def test_property_weighted_value_is_the_ru_minimum(n, theta, seed, ties):
    """Brute force: the RU objective is piecewise linear, so its minimum is attained at some x_i."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 3, n).astype(float) if ties else rng.standard_normal(n)
    w = rng.random(n) + 0.05
    w /= w.sum()
    brute = float(sq.ru_objective(np.broadcast_to(x, (n, n)), theta, x, w).min())
    assert float(sq.superquantile(x, theta, w)) == pytest.approx(brute, abs=1e-12)
    for mode in ("greedy", "split"):
        pi = sq.optimal_weights(x, theta, w, ties=mode)
        assert np.all(pi <= w / theta + 1e-12) and pi.sum() == pytest.approx(1.0, abs=1e-12)
        assert pi @ x == pytest.approx(brute, abs=1e-10)


def test_batched_rows_equal_row_loop():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((50, 13))
    np.testing.assert_allclose(sq.superquantile(X, 0.2), [sq.superquantile(r, 0.2) for r in X], atol=1e-14)


# ----------------------------------------------------------------------------- weights and ties
def test_split_weights_are_symmetric_on_ties():
    x = np.array([5.0, 1.0, 1.0, 1.0, 0.0])
    pi = sq.optimal_weights(x, 0.4, ties="split")  # cap 1/2: top gets 1/2, the three tied share 1/2
    np.testing.assert_allclose(pi, [0.5, 1 / 6, 1 / 6, 1 / 6, 0.0])
    ts = sq.tie_structure(x, 0.4)
    assert not ts.unique and ts.rho == pytest.approx(0.5)


def test_uniqueness_rules():
    # theta n = 2 integer, no tie at the cutoff: unique
    assert sq.tie_structure([3.0, 2.0, 1.0, 0.0], 0.5).unique
    # tie at the cutoff with rho equal to the tie set's caps: unique
    assert sq.tie_structure([3.0, 3.0, 1.0, 0.0], 0.5).unique
    # tie at the cutoff with rho below the tie set's caps: not unique
    assert not sq.tie_structure([3.0, 1.0, 1.0, 0.0], 0.5).unique


def test_reference_code_tail_deviates_from_pi_star():
    x = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0])
    code = sq.reference_code_weights(x, 0.25, np.ones(10, dtype=int))
    # lower quantile x_(k+1) with k = floor(2.5) = 2: the tail {7, 8, 9} gets equal (full) weights
    np.testing.assert_allclose(code, [0] * 7 + [1 / 3] * 3)
    pi = sq.optimal_weights(x, 0.25)
    np.testing.assert_allclose(pi, [0] * 7 + [0.2, 0.4, 0.4])
    assert code @ x < pi @ x


def test_subgradient_matches_finite_differences_away_from_kinks():
    rng = np.random.default_rng(5)
    A = rng.standard_normal((6, 4, 3))
    b = rng.standard_normal((6, 4))
    cl = sq.QuadraticClients(A, b)
    w = rng.standard_normal(3)
    g = sq.superquantile_subgradient(cl.values(w), cl.grads(w), 0.3)
    f = lambda v: sq.superquantile(cl.values(v), 0.3)  # noqa: E731
    h = 1e-6
    fd = np.array([(f(w + h * e) - f(w - h * e)) / (2 * h) for e in np.eye(3)])
    np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------- smoothings
@pytest.mark.parametrize("theta,n", [(0.25, 20), (0.3, 7), (1.0, 5), (0.05, 40)])
def test_l2_smoothing_matches_qp_and_gap_bound(theta, n):
    rng = np.random.default_rng(6)
    x = rng.standard_normal(n) * 3
    nu = 0.7
    val, pi = sq.l2_smoothed(x, theta, nu)
    p = cp.Variable(n)
    prob = cp.Problem(
        cp.Maximize(p @ x - nu / (2 * n) * cp.sum_squares(p - 1 / n)), [p >= 0, cp.sum(p) == 1, p <= 1 / (n * theta)]
    )
    prob.solve(solver=cp.CLARABEL)
    assert val == pytest.approx(prob.value, abs=1e-7)
    gap = sq.superquantile(x, theta) - val
    assert -1e-12 <= gap <= nu * (1 - theta) / (2 * theta * n**2) + 1e-12


def test_entropic_smoothing_matches_convex_program():
    rng = np.random.default_rng(7)
    x = rng.standard_normal(9)
    theta, nu = 0.3, 0.4
    val, pi = sq.entropic_smoothed(x, theta, nu)
    p = cp.Variable(9)
    prob = cp.Problem(cp.Maximize(p @ x + nu * cp.sum(cp.entr(p))), [cp.sum(p) == 1, p <= 1 / (9 * theta)])
    prob.solve(solver=cp.CLARABEL)
    assert val == pytest.approx(prob.value, abs=1e-6)
    S = sq.superquantile(x, theta)
    assert S + nu * math.log(theta * 9) - 1e-12 <= val <= S + nu * math.log(9) + 1e-12


# ----------------------------------------------------------------------------- exact laws
def test_bernoulli_reference_values():
    # spec section 3, T3: exact values with B = 1
    assert 1 - sq.two_point_law(0.1, [100], 0.1)["mean"][0] == pytest.approx(0.11868, abs=1e-5)
    assert 1 - sq.two_point_law(0.1, [1000], 0.1)["mean"][0] == pytest.approx(0.03782, abs=1e-5)
    assert 1 - sq.two_point_law(0.3, [100], 0.3)["mean"][0] == pytest.approx(0.06075, abs=1e-5)


def test_two_point_law_matches_enumeration():
    theta, m, p = 0.3, 6, 0.4
    mean = var = 0.0
    vals = []
    for z in itertools.product([0.0, 1.0], repeat=m):
        pr = np.prod([p if zi else 1 - p for zi in z])
        s = float(sq.superquantile(np.array(z), theta))
        vals.append((pr, s))
    mean = sum(pr * s for pr, s in vals)
    var = sum(pr * (s - mean) ** 2 for pr, s in vals)
    law = sq.two_point_law(theta, [m], p)
    assert law["mean"][0] == pytest.approx(mean, abs=1e-14)
    assert law["var"][0] == pytest.approx(var, abs=1e-14)


@pytest.mark.parametrize("theta,m", [(0.5, 10), (0.25, 8), (0.3, 7)])
def test_uniform_law_matches_monte_carlo_and_exact_bias(theta, m):
    law = sq.uniform_law(theta, [m])
    rng = np.random.default_rng(8)
    draws = sq.superquantile(rng.random((400_000, m)), theta)
    se = draws.std() / math.sqrt(draws.size)
    assert abs(draws.mean() - law["mean"][0]) < 5 * se
    assert draws.var() == pytest.approx(law["var"][0], rel=0.02)
    if abs(theta * m - round(theta * m)) < 1e-12:  # T4 exact value [derived]
        assert law["population"] - law["mean"][0] == pytest.approx((1 - theta) / (2 * (m + 1)), abs=1e-14)


def test_uniform_example_value():
    # spec: theta = 0.5, m = 10 gives bias 0.5/22
    law = sq.uniform_law(0.5, [10])
    assert law["population"] - law["mean"][0] == pytest.approx(0.5 / 22, abs=1e-15)


# ----------------------------------------------------------------------------- Simplicial-FL pieces
@pytest.mark.parametrize("theta,a,b", [(0.1, 0.3, 0.3), (0.5, 2.0, 5.0), (1.0, 1.5, 0.7)])
def test_beta_superquantile_matches_numerical_integration(theta, a, b):
    """S_theta of low + (high - low) Beta(a, b) against (1/theta) int_q^1 z f(z) dz by quadrature."""
    import scipy.integrate
    import scipy.stats

    q = scipy.stats.beta.ppf(1 - theta, a, b)
    tail = scipy.integrate.quad(lambda z: z * scipy.stats.beta.pdf(z, a, b), q, 1, limit=200)[0]
    assert sq.beta_superquantile(theta, a, b, -1.0, 3.0) == pytest.approx(-1.0 + 4.0 * tail / theta, rel=1e-8)


def test_beta_law_draws_do_not_depend_on_the_block_size():
    """The Monte Carlo draws of S_hat_m come from the generator in order, whatever the blocks."""
    kw = dict(replications=10, low=-1.0, high=2.0)
    one = sq.beta_law(0.3, [5, 12], 0.5, 0.8, rng=np.random.default_rng(3), **kw)
    small = sq.beta_law(0.3, [5, 12], 0.5, 0.8, rng=np.random.default_rng(3), chunk=24, **kw)
    assert one["draws"].shape == (2, 10)
    np.testing.assert_array_equal(one["draws"], small["draws"])
    assert np.all((one["draws"] >= -1.0) & (one["draws"] <= 2.0))
    assert one["population"] == sq.beta_superquantile(0.3, 0.5, 0.8, -1.0, 2.0)
    with pytest.raises(InvalidInput, match="rng must be a numpy.random.Generator"):
        sq.beta_law(0.3, [5], 0.5, 0.8, replications=4, rng=None)


def test_loss_vector_batch_rows_spread_ties_and_flat():
    from ratecheck.verify.instances import loss_vector_batch

    X = loss_vector_batch(10, 7, seed=2)
    assert X.shape == (10, 7)
    np.testing.assert_array_equal(X, loss_vector_batch(10, 7, seed=2))
    assert np.abs(X[:3]).max() > 5  # spread-out
    assert set(np.unique(X[3:6])) <= {0.0, 1.0, 2.0}  # integer, with ties
    assert np.abs(X[6:] - 1).max() < 1e-7  # nearly constant


def test_ciss_optimum_certificate_bounds_the_objective():
    from ratecheck.verify.instances import superquantile_clients
    from ratecheck.verify.optima import ciss_optimum

    cl = superquantile_clients(n=5, d=2, seed=1)
    th, nu, lam = 0.4, 0.5, 2.0
    opt = ciss_optimum(cl, np.full(2, 3.0), th, nu, lam)
    assert opt.lower <= opt.value <= opt.lower + 1e-12
    assert opt.certificate["grad_norm_sq"] < 1e-16  # the reference run converged: the certificate is tight
    W = np.random.default_rng(0).standard_normal((200, 2)) * 3
    assert np.all(sq.ciss_value(cl, W, th, nu, lam) >= opt.lower)


def test_surrogate_with_m_equal_n_is_the_superquantile():
    rng = np.random.default_rng(9)
    cl = sq.QuadraticClients(rng.standard_normal((5, 3, 2)), rng.standard_normal((5, 3)))
    W = rng.standard_normal((4, 2))
    np.testing.assert_allclose(sq.surrogate_value(cl, W, 0.4, 5), sq.superquantile(cl.values(W), 0.4), atol=1e-14)


def test_superquantile_optimum_certificate_and_brute_force():
    from scipy.optimize import minimize

    from ratecheck.verify.instances import superquantile_clients
    from ratecheck.verify.optima import superquantile_optimum

    cl = superquantile_clients(n=6, d=2, seed=3)
    opt = superquantile_optimum(cl, 0.3, m=3, lam=0.1)
    assert opt.lower <= opt.value <= opt.lower + 1e-6
    res = minimize(
        lambda w: sq.surrogate_value(cl, w, 0.3, 3, 0.1),
        opt.x + 0.3,
        method="Nelder-Mead",
        options=dict(xatol=1e-10, fatol=1e-12, maxiter=4000),
    )
    assert res.fun >= opt.lower - 1e-9


def test_surrogate_kinks_at_a_kinked_and_at_a_smooth_optimum():
    """Simplicial-FL seed 6 (theta = 0.25, m = 4 of 8, lambda = 2): the optimum lies on the tie of clients 4 and 6;
    the one-sided slopes, curvature and noise across it agree with finite differences of the exact surrogate and
    with the subgradients of the 70 subsets.  Seed 0's optimum is a differentiable point."""
    from ratecheck.verify.instances import superquantile_clients
    from ratecheck.verify.optima import superquantile_optimum

    th, m, lam = 0.25, 4, 2.0
    cl = superquantile_clients(n=8, d=2, samples=6, outliers=2, separation=4.0, seed=6)
    opt = superquantile_optimum(cl, th, m, lam)
    radius = math.sqrt(2 * opt.certificate["duality_gap"] / lam) + 1e-9
    (k,) = sq.surrogate_kinks(cl, opt.x, th, m, lam, radius=radius)
    assert k.clients == (4, 6) and k.distance <= radius
    f = lambda w: float(sq.surrogate_value(cl, w, th, m, lam))  # noqa: E731
    h = 1e-6
    for side, slope in ((k.flat_side, k.flat_slope), (-k.flat_side, k.steep_slope)):
        assert (f(opt.x + side * h * k.normal) - f(opt.x)) / h == pytest.approx(slope, abs=1e-5)
    assert 0 < k.flat_slope < 0.1 * k.steep_slope  # a nearly flat side: slopes 0.029 and 0.362
    # curvature of the flat-side piece: second difference along the normal, past the kink
    x1 = opt.x + k.flat_side * 1e-3 * k.normal
    step = k.flat_side * 1e-3 * k.normal
    assert (f(x1 + step) - 2 * f(x1) + f(x1 - step)) / 1e-6 == pytest.approx(k.curvature, rel=1e-4)
    S = sq.subsets(8, m)
    pt = opt.x + k.flat_side * 1e-7 * k.normal
    g = np.einsum("cm,cmd->cd", sq.optimal_weights(cl.values(pt)[S], th), cl.grads(opt.x)[S]) + lam * opt.x
    assert (g @ k.normal).std() == pytest.approx(k.noise, rel=1e-6)
    assert (g @ k.normal).mean() * k.flat_side == pytest.approx(k.flat_slope, rel=1e-6)
    # a differentiable optimum, and a ball that misses the tie
    cl0 = superquantile_clients(n=8, d=2, samples=6, outliers=2, separation=4.0, seed=0)
    opt0 = superquantile_optimum(cl0, th, m, lam)
    assert sq.surrogate_kinks(cl0, opt0.x, th, m, lam, radius=1e-6) == []
    assert sq.surrogate_kinks(cl, opt.x + 0.05 * k.normal, th, m, lam, radius=1e-6) == []


def test_moreau_prox_1d_matches_scalar_minimisation():
    from scipy.optimize import minimize_scalar

    from ratecheck.verify.instances import superquantile_clients

    cl = superquantile_clients(n=6, d=1, seed=4)
    W = np.array([[-2.0], [0.3], [3.5]])
    for m in (6, 3):
        pr = sq.moreau_prox_1d(cl, W, 0.3, m, 2 * cl.L)
        for k, w in enumerate(W[:, 0]):
            res = minimize_scalar(
                lambda y: sq.surrogate_value(cl, np.array([y]), 0.3, m) + cl.L * (y - w) ** 2,
                bounds=(-20, 20),
                method="bounded",
                options={"xatol": 1e-12},
            )
            assert pr["y"][k, 0] == pytest.approx(res.x, abs=1e-5)


def test_sfl_subgradient_is_reproducible_and_vectorized():
    from ratecheck.verify.instances import superquantile_clients

    cl = superquantile_clients(n=6, d=2, seed=5)
    g = np.full(50, 0.05)
    run = dict(gamma=g, T=50, theta=0.3)
    a = sq.sfl_subgradient(cl, np.zeros(2), m=3, replications=4, rng=np.random.default_rng(11), **run)
    b = sq.sfl_subgradient(cl, np.zeros(2), m=3, replications=4, rng=np.random.default_rng(11), **run)
    np.testing.assert_array_equal(a.x_checkpoints, b.x_checkpoints)
    assert a.x_checkpoints.shape == (51, 4, 2)
    # m = n is deterministic (draws nothing, needs no rng): all replications coincide
    c = sq.sfl_subgradient(cl, np.zeros(2), m=6, replications=3, **run)
    np.testing.assert_allclose(c.x_checkpoints[:, 0], c.x_checkpoints[:, 2])


def test_moreau_grad_sq_runs_is_one_run_per_horizon_on_its_own_stream():
    """Each horizon T: the subgradient run with gamma = gamma0/(L sqrt T) from a stream spawned for it, and the
    average over t < T of the exact squared Moreau-envelope gradient, per replication."""
    from ratecheck.verify.instances import superquantile_clients

    cl = superquantile_clients(n=6, d=1, seed=4)
    Ts, kw = np.array([8, 20]), dict(theta=0.3, m=3, replications=5, tail="optimal")
    got = sq.moreau_grad_sq_runs(cl, np.full(1, 4.0), Ts, gamma0=0.5, rng=np.random.default_rng(2), **kw)
    assert got.shape == (2, 5) and np.all(got > 0)
    for row, T, r in zip(got, Ts, np.random.default_rng(2).spawn(2)):
        g = np.full(T, 0.5 / (cl.L * math.sqrt(T)))
        tr = sq.sfl_subgradient(cl, np.full(1, 4.0), gamma=g, T=int(T), rng=r, checkpoints=np.arange(T), **kw)
        grad = sq.moreau_prox_1d(cl, tr.x_checkpoints, 0.3, 3, 2 * cl.L)["grad"]
        np.testing.assert_array_equal(row, (grad[..., 0] ** 2).mean(axis=0))


def test_sample_size_grid_keeps_integer_theta_m_and_names_the_way_out():
    m = sq.sample_size_grid(0.1, 10, 1000, 12, integer_tm=True)
    assert m.min() >= 10 and m.max() <= 1000 and np.all(np.diff(m) > 0)
    np.testing.assert_allclose(0.1 * m, np.round(0.1 * m), atol=1e-9)
    np.testing.assert_array_equal(sq.sample_size_grid(0.3, 10, 1000, 5), [10, 32, 100, 316, 1000])
    with pytest.raises(InvalidInput, match=r"no sample size m in \[5, 5\] has theta\*m integer; set integer_tm=False"):
        sq.sample_size_grid(0.3, 5, 5, 3, integer_tm=True)
    np.testing.assert_array_equal(sq.horizon_grid(64, 1024, 5), [64, 128, 256, 512, 1024])


def test_superquantile_moments_of_each_law():
    """The exact laws are the solvers' binomial and order-statistic sums; the Beta law's Monte Carlo uses an even
    number of replications, the mean with its standard error and the variance by pair differences."""
    from ratecheck.verify.expectation import mc_summary, pair_variance, superquantile_moments

    m = np.array([10, 20, 40])
    two = superquantile_moments("bernoulli", 0.1, m, low=-1.0, high=2.0)
    ref = sq.two_point_law(0.1, m, 0.1, -1.0, 2.0)
    np.testing.assert_array_equal(two["mean"], ref["mean"])
    assert two["method"] == "exact-expectation" and two["mean_se"] is None and two["n_samples"] == 1
    np.testing.assert_array_equal(
        superquantile_moments("uniform", 0.25, m, low=0, high=1)["var"], sq.uniform_law(0.25, m)["var"]
    )
    mc = superquantile_moments(
        "beta", 0.3, m, low=0.0, high=1.0, beta=(0.5, 2.0), replications=301, rng=np.random.default_rng(1)
    )
    draws = sq.beta_law(0.3, m, 0.5, 2.0, replications=300, rng=np.random.default_rng(1))["draws"]
    np.testing.assert_array_equal(mc["mean"], mc_summary(draws, axis=1)[0])
    np.testing.assert_array_equal(mc["var_se"], pair_variance(draws, axis=1)[1])
    assert (mc["n_samples"], mc["var_samples"], mc["var_range"]) == (300, 150, 0.5)


def test_ciss_constants_bound_the_client_gradients_from_the_start():
    """The ball of radius sqrt(2 delta0/lambda) around w* holds every point below F(w_0), w_0 included: G bounds
    the client gradients there; F* is the certified lower bound of the optimum."""
    from ratecheck.verify.instances import superquantile_clients
    from ratecheck.verify.optima import ciss_constants, ciss_optimum

    cl, w0 = superquantile_clients(n=5, d=2, seed=1), np.full(2, 3.0)
    c = ciss_constants(cl, w0, 0.4, 0.5, 2.0)
    opt = ciss_optimum(cl, w0, 0.4, 0.5, 2.0)
    assert c["f_star_lower"] == opt.lower and c["delta0"] == float(sq.ciss_value(cl, w0, 0.4, 0.5, 2.0)) - opt.lower
    assert c["delta0"] > 0 and c["G"] >= np.linalg.norm(cl.grads(w0), axis=-1).max()


def test_ciss_eta_minimises_the_smoothed_objective():
    from ratecheck.verify.instances import superquantile_clients

    cl = superquantile_clients(n=6, d=2, seed=6)
    w = np.array([0.5, -0.2])
    eta = sq.ciss_eta(cl.values(w), 0.3, 0.5)
    etas = eta + np.linspace(-0.5, 0.5, 201)
    vals = sq.ciss_objective(cl, np.broadcast_to(w, (201, 2)), etas, 0.3, 0.5, 0.1)[0]
    assert vals.min() >= sq.ciss_objective(cl, w, eta, 0.3, 0.5, 0.1)[0] - 1e-12


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("theta", [0.0, -0.1, 1.5, float("nan")])
def test_bad_theta(theta):
    with pytest.raises(InvalidInput, match="theta"):
        sq.superquantile([1.0, 2.0], theta)


@pytest.mark.parametrize("w,msg", [([0.5, -0.5, 1.0], "> 0"), ([0.2, 0.2, 0.2], "sum to 1"), ([0.5, 0.5], "3 entries")])
def test_bad_weights(w, msg):
    with pytest.raises(InvalidInput, match=msg):
        sq.superquantile([1.0, 2.0, 3.0], 0.5, w)


@pytest.mark.parametrize("x", [[], [1.0, float("nan")], [float("inf")], np.zeros((3, 0))])
def test_bad_losses(x):
    with pytest.raises(InvalidInput, match="x must"):
        sq.superquantile(x, 0.5)


def test_bad_smoothing_and_law_parameters():
    with pytest.raises(InvalidInput, match="nu"):
        sq.l2_smoothed([1.0, 2.0], 0.5, 0.0)
    with pytest.raises(InvalidInput, match="p must"):
        sq.two_point_law(0.5, [10], 1.5)
    with pytest.raises(InvalidInput, match="m must"):
        sq.uniform_law(0.5, [0])
    with pytest.raises(InvalidInput, match="ties"):
        sq.optimal_weights([1.0, 2.0], 0.5, ties="random")


def _reference_gaps(x, theta, nu, dps=80, iters=300):
    """(S - SQ^nu, F^nu - S) of one row in mpmath: eta by bisection far below float resolution."""
    import mpmath

    with mpmath.workdps(dps):
        xs = [mpmath.mpf(float(v)) for v in x]
        n = len(xs)
        th, v = mpmath.mpf(float(theta)), mpmath.mpf(float(nu))
        cap = 1 / (n * th)
        srt = sorted(xs, reverse=True)
        k = min(int(mpmath.floor(th * n * (1 + mpmath.mpf("1e-12")))), n)
        S = cap * sum(srt[:k]) + ((1 - k * cap) * srt[k] if k < n else 0)

        def solve(pi_of):
            lo, hi = min(xs) - 10 * (v + 1), max(xs) + 10 * (v + 1)
            for _ in range(iters):
                mid = (lo + hi) / 2
                lo, hi = (mid, hi) if sum(pi_of(mid)) > 1 else (lo, mid)
            return pi_of((lo + hi) / 2)

        pl2 = solve(lambda e: [min(cap, max(0, mpmath.mpf(1) / n + n * (xi - e) / v)) for xi in xs])
        SQ = sum(p * xi for p, xi in zip(pl2, xs)) - v / (2 * n) * sum((p - mpmath.mpf(1) / n) ** 2 for p in pl2)
        pen = solve(lambda e: [min(cap, mpmath.exp((xi - e) / v - 1)) for xi in xs])
        F = sum(p * xi for p, xi in zip(pen, xs)) - v * sum(p * mpmath.log(p) for p in pen if p > 0)
        return float(S - SQ), float(F - S)


@pytest.mark.parametrize("theta,nu", [(0.1, 1e-6), (0.13, 1e-14), (0.13, 0.1), (0.5, 1e-10)])
def test_smoothing_gaps_match_a_high_precision_reference_within_their_error_bound(theta, nu):
    """S - SQ^nu and F^nu - S without cancellation: against 80-digit references on spread-out, tied,
    nearly constant and large-offset rows, within the returned error bound, which is tiny against nu."""
    rng = np.random.default_rng(2)
    X = np.stack(
        [
            50 * rng.standard_normal(20),
            rng.integers(0, 3, 20).astype(float),
            1 + 1e-9 * rng.standard_normal(20),
            1e6 + rng.standard_normal(20),
        ]
    )
    g2, e2 = sq.l2_smoothing_gap(X, theta, nu)
    ge, ee = sq.entropic_smoothing_gap(X, theta, nu)
    assert np.all(e2 <= 1e-12 * nu) and np.all(ee <= 1e-12 * nu)
    for i, x in enumerate(X):
        r2, re = _reference_gaps(x, theta, nu)
        assert abs(g2[i] - r2) <= e2[i] and abs(ge[i] - re) <= ee[i], (i, g2[i], r2, ge[i], re)
    n = X.shape[1]
    assert np.all((g2 >= 0) & (g2 <= nu * (1 - theta) / (2 * theta * n**2) * (1 + 1e-12)))
    assert np.all((ge >= nu * np.log(theta * n) * (1 - 1e-12)) & (ge <= nu * np.log(n) * (1 + 1e-12)))


def test_smoothing_gap_of_a_failed_weight_solve_has_no_error_bound():
    _, err = sq.entropic_smoothing_gap(1 + 1e-9 * np.random.default_rng(0).standard_normal((1, 20)), 0.01, 1e-300)
    assert err[0] == np.inf
