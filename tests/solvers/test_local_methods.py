"""Solver properties of the local-update methods (ProxSkip/Scaffnew, Local GD, GD on FLIX) and the exact
expectation of ProxSkip against Monte Carlo."""

import numpy as np
import pytest

from ratecheck.solvers import InvalidInput
from ratecheck.solvers.local_methods import (
    flix_gd,
    flix_quadratic,
    flix_value,
    gd_hitting_time,
    gd_quadratic,
    hitting_time,
    local_gd,
    local_gd_floors,
    local_gd_round_map,
    local_gd_rounds_to,
    proxskip,
    proxskip_maps,
    shared_eigenbasis,
)
from ratecheck.solvers.problems import QuadraticClients
from ratecheck.verify.expectation import exact_scaffnew_lyapunov, mc_summary
from ratecheck.verify.experiments import get
from ratecheck.verify.instances import identical_hessians, local_quadratic_clients

EXP = get("local_methods")


def clients(instance="rotated", **kw):
    return local_quadratic_clients(instance, **kw)


def gd(P, x0, gamma, T):
    x = [np.asarray(x0, float)]
    for _ in range(T):
        x.append(x[-1] - gamma * (P.A_bar @ x[-1] - P.b_bar))
    return np.array(x)


def test_q1_has_the_spec_constants():
    P = clients("q1", kappa=100.0)
    assert P.L_max == 100.0 and P.mu == 1.0 and P.L / P.mu_f == pytest.approx(50.0)
    np.testing.assert_allclose(P.x_star, [0.0, 1 / 3], atol=1e-15)


def test_proxskip_with_p_one_is_gd_whatever_h0():
    P = clients(n=4, d=3)
    x0 = np.ones(3)
    h0 = np.random.default_rng(5).standard_normal((4, 3))
    g = 0.7 / P.L_max
    tr = proxskip(P, x0, gamma=g, p=1.0, T=40, rng=np.random.default_rng(0), h0=h0)
    np.testing.assert_allclose(tr.x_mean[0], gd(P, x0, g, 40), rtol=0, atol=1e-12)
    assert tr.comms[0, -1] == 40 and tr.grad_calls == 4 * 40


def test_proxskip_control_variates_sum_to_zero_after_a_communication():
    P = clients(n=5, d=2)
    tr = proxskip(P, np.zeros(2), gamma=0.5 / P.L_max, p=0.3, T=30, rng=np.random.default_rng(1), replications=8)
    communicated = tr.comms[:, -1] > 0
    assert communicated.all()
    np.testing.assert_allclose(tr.h.sum(axis=1), 0.0, atol=1e-10)


def test_proxskip_fixed_point_is_the_optimum():
    """x_i = x*, h_i = grad f_i(x*) is a fixed point of both coin outcomes (Psi stays 0)."""
    P = clients(n=3, d=3)
    hs = np.einsum("nij,j->ni", P.A, P.x_star) - P.b
    tr = proxskip(P, P.x_star, gamma=1 / P.L_max, p=0.4, T=20, rng=np.random.default_rng(2), h0=hs, x_star=P.x_star)
    assert np.max(tr.lyapunov) < 1e-20


def test_exact_expectation_equals_monte_carlo_within_its_bound():
    P = clients(n=3, d=2, kappa=10.0)
    x0, g, q, T, R = P.x_star + 1.0, 1 / P.L_max, 0.3, 60, 4000
    exact = exact_scaffnew_lyapunov(P, g, q, x0, T)
    tr = proxskip(P, x0, gamma=g, p=q, T=T, rng=np.random.default_rng(3), replications=R, x_star=P.x_star)
    grid = np.arange(1, T + 1, 6)
    mean, se, _ = mc_summary(tr.lyapunov[:, grid])
    z = np.abs(mean - exact[grid]) / se
    assert np.max(z) < 4.0, z  # 10 comparisons at 4 standard errors: family-wise level above 99.9%


def test_proxskip_maps_match_one_solver_step():
    P = clients(n=3, d=2)
    g, q = 0.4 / P.L_max, 0.5
    M0, M1 = proxskip_maps(P.A, g, q)
    hs = np.einsum("nij,j->ni", P.A, P.x_star) - P.b
    rng = np.random.default_rng(4)
    X, Hh = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    z = np.r_[(X - P.x_star).ravel(), (Hh - hs).ravel()]
    Xh = X - g * (np.einsum("nij,nj->ni", P.A, X) - P.b - Hh)
    np.testing.assert_allclose((M0 @ z)[:6], (Xh - P.x_star).ravel(), atol=1e-13)
    avg = (Xh - (g / q) * Hh).mean(axis=0)
    H1 = Hh + (q / g) * (avg - Xh)
    np.testing.assert_allclose(M1 @ z, np.r_[np.tile(avg - P.x_star, 3), (H1 - hs).ravel()], atol=1e-12)


def test_local_gd_with_one_local_step_is_gd_and_the_round_map_is_exact():
    P = clients(n=4, d=3)
    x0, g = np.ones(3), 0.5 / P.L_max
    tr = local_gd(P, x0, gamma=g, T=25, H=1)
    np.testing.assert_allclose(tr.x, gd(P, x0, g, 25), atol=1e-12)
    np.testing.assert_allclose(local_gd_round_map(P.A, P.b, g, 1)[2], P.x_star, atol=1e-12)
    tr = local_gd(P, x0, gamma=g, T=400, H=7)
    M, v, x_inf = local_gd_round_map(P.A, P.b, g, 7)
    np.testing.assert_allclose(tr.x[-1], x_inf, atol=1e-10)
    np.testing.assert_allclose(tr.x[5], M @ tr.x[4] + v, atol=1e-12)
    assert tr.grad_calls == 4 * 7 * 400 and tr.comms[-1] == 400


def test_identical_hessians_leave_no_floor_but_heterogeneous_ones_do():
    P = clients(n=4, d=3)
    Q = identical_hessians(P)
    assert Q.sigma_star2 > 0.1
    for H in (2, 9, 30):
        assert np.linalg.norm(local_gd_round_map(Q.A, Q.b, 0.5 / Q.L_max, H)[2] - Q.x_star) < 1e-12
        assert np.linalg.norm(local_gd_round_map(P.A, P.b, 0.5 / P.L_max, H)[2] - P.x_star) > 1e-3


def test_flix_gradient_and_optimum():
    P = clients(n=3, d=2)
    tau = np.array([0.2, 0.7, 1.0])
    xl, At, Lt, mt, xt = flix_quadratic(P.A, P.b, tau)
    tr = flix_gd(P, np.zeros(2), gamma=1 / Lt, T=1500, tau=tau, x_local=xl)
    np.testing.assert_allclose(tr.x[-1], xt, atol=1e-9)
    tr1 = flix_gd(P, np.zeros(2), gamma=0.1, T=20, tau=np.ones(3), x_local=xl)
    np.testing.assert_allclose(tr1.x, gd(P, np.zeros(2), 0.1, 20), atol=1e-12)
    assert tr.grad_calls == 3 * 1500 and 0 < mt <= Lt


def test_gd_hitting_time_in_closed_form_equals_the_iterates():
    """The closed form in A's eigenbasis finds the first t with ||x_t - x*||^2 <= eps ||x_0 - x*||^2 of the
    iterates themselves (GD on f-bar), past the first chunk of 1,024 steps too; None when out of reach."""
    P = clients("q1", kappa=300.0)
    x0 = P.x_star + np.array([0.6, 0.8])
    g = 1 / P.L
    x = gd_quadratic(P.A_bar, P.b_bar, x0, gamma=g, T=5000)
    np.testing.assert_allclose(x, gd(P, x0, g, 5000), rtol=1e-12, atol=1e-14)
    dist = np.sum((x - P.x_star) ** 2, axis=1)
    for eps in (1e-2, 1e-8):
        t = gd_hitting_time(P.A_bar, x0 - P.x_star, g, eps, 5000)
        assert t == hitting_time(dist, eps * dist[0])
    assert t > 1024
    assert gd_hitting_time(P.A_bar, x0 - P.x_star, g, 1e-8, t - 1) is None
    assert hitting_time(dist, -1.0) is None


def test_local_gd_floors_and_rounds_to_eps_follow_the_round_map():
    """The floors are ||x_inf(H) - x*||, and the rounds to eps are those of the Local GD run itself."""
    P = clients(n=4, d=3)
    g, x0 = 0.5 / P.L_max, P.x_star + 2.0
    fl = local_gd_floors(P.A, P.b, g, [1, 3, 9], P.x_star)
    assert fl[0] < 1e-12 and fl[1] < fl[2]
    M, v, x_inf = local_gd_round_map(P.A, P.b, g, 3)
    assert fl[1] == np.linalg.norm(x_inf - P.x_star)
    eps = fl[1] + 0.1
    r = local_gd_rounds_to(M, v, x0, P.x_star, eps, cap=10_000)
    dist = np.linalg.norm(local_gd(P, x0, gamma=g, T=int(r) + 1, H=3).x - P.x_star, axis=1)
    assert dist[int(r)] <= eps < dist[int(r) - 1]
    assert local_gd_rounds_to(M, v, x0, P.x_star, 1e-9, cap=50) == np.inf  # far below the floor: not within cap


def test_flix_value_is_the_mean_of_the_clients_at_the_mixed_points():
    """f~(x) = (1/n) sum_i f_i(tau_i x + (1 - tau_i) x_i*), from the clients' own values; its minimiser is x~*."""
    P = clients(n=3, d=2)
    tau = np.array([0.2, 0.7, 1.0])
    xl, _, _, _, xt = flix_quadratic(P.A, P.b, tau)
    X = np.random.default_rng(0).standard_normal((5, 2))
    Y = tau[None, :, None] * X[:, None, :] + (1 - tau)[None, :, None] * xl[None]
    direct = P.value_and_grad(Y, per_client=True)[0].mean(axis=1)
    np.testing.assert_allclose(flix_value(P.A, P.b, tau, xl, X), direct, rtol=1e-12, atol=1e-12)
    assert np.all(flix_value(P.A, P.b, tau, xl, X) >= flix_value(P.A, P.b, tau, xl, xt[None])[0])


def test_shared_eigenbasis_only_for_diagonal_hessians():
    P = clients("diagonal", n=4, d=3)
    np.testing.assert_array_equal(shared_eigenbasis(P.A), np.diagonal(P.A, axis1=1, axis2=2).T)
    assert shared_eigenbasis(clients(n=4, d=3).A) is None


def test_bad_inputs_are_one_line_errors():
    P = clients()
    with pytest.raises(InvalidInput, match="p must lie in"):
        proxskip(P, np.zeros(3), gamma=0.1, p=1.5, T=3, rng=np.random.default_rng(0))
    with pytest.raises(InvalidInput, match="x0 must have shape"):
        proxskip(P, np.zeros(4), gamma=0.1, p=0.5, T=3, rng=np.random.default_rng(0))
    with pytest.raises(InvalidInput, match="h0 must have shape"):
        proxskip(P, np.zeros(3), gamma=0.1, p=0.5, T=3, rng=np.random.default_rng(0), h0=np.zeros(3))
    with pytest.raises(InvalidInput, match="tau must be"):
        flix_gd(P, np.zeros(3), gamma=0.1, T=3, tau=np.full(3, 2.0), x_local=np.zeros((3, 3)))
    with pytest.raises(InvalidInput, match="H must be"):
        local_gd(P, np.zeros(3), gamma=0.1, T=2, H=0)
    assert isinstance(QuadraticClients, type)


def test_proxskip_operators_apply_the_maps():
    """The structured maps (client by client, the average as a mean) are the dense maps of proxskip_maps."""
    from ratecheck.solvers.local_methods import proxskip_maps, proxskip_operators

    rng = np.random.default_rng(3)
    n, d = 4, 3
    A = rng.standard_normal((n, d, d))
    A = A @ A.transpose(0, 2, 1) + np.eye(d)
    Z = rng.standard_normal((2 * n * d, 7))
    for M, f in zip(proxskip_maps(A, 0.1, 0.3), proxskip_operators(A, 0.1, 0.3)):
        np.testing.assert_allclose(f(Z), M @ Z, rtol=1e-13, atol=1e-13)


def test_exact_engine_with_operators_equals_the_dense_engine():
    """exact_linear_second_moments gives the same moments whether the maps come as matrices or as functions
    (with offsets too)."""
    from ratecheck.verify.expectation import exact_linear_second_moments

    rng = np.random.default_rng(4)
    K, n = 3, 5
    M = 0.4 * rng.standard_normal((K, n, n))
    b = rng.standard_normal((K, n))
    p = np.array([0.2, 0.5, 0.3])
    z0 = rng.standard_normal(n)
    W = {"w": np.diag(rng.uniform(0.5, 2.0, n))}
    dense = exact_linear_second_moments(M, p, z0, 12, W, offsets=b)
    ops = exact_linear_second_moments([(lambda X, m=m: m @ X) for m in M], p, z0, 12, W, offsets=b)
    np.testing.assert_allclose(ops["w"], dense["w"], rtol=1e-12)
    np.testing.assert_allclose(ops["mean"], dense["mean"], rtol=1e-12, atol=1e-14)


def test_decoupled_coordinates_give_the_moments_of_the_full_state():
    """On diagonal client Hessians (a shared eigenbasis) the exact ProxSkip moments computed coordinate by
    coordinate (a batch of d systems of size 2n) equal those of the full 2nd-dimensional state."""
    from ratecheck.solvers.local_methods import proxskip_coordinate_operators, proxskip_operators
    from ratecheck.verify.expectation import exact_linear_second_moments

    rng = np.random.default_rng(5)
    n, d, g, q = 3, 4, 0.2, 0.4
    lam = rng.uniform(0.5, 2.0, (n, d))
    A = lam[:, :, None] * np.eye(d)
    e0, g0 = rng.standard_normal((n, d)), rng.standard_normal((n, d))
    full = exact_linear_second_moments(
        list(proxskip_operators(A, g, q)),
        [1 - q, q],
        np.r_[e0.ravel(), g0.ravel()],
        30,
        {"psi": np.diag(np.r_[np.ones(n * d), np.full(n * d, (g / q) ** 2)])},
    )["psi"]
    per_coordinate = exact_linear_second_moments(
        list(proxskip_coordinate_operators(lam, g, q)),
        [1 - q, q],
        np.concatenate([e0.T, g0.T], axis=1),
        30,
        {"psi": np.diag(np.r_[np.ones(n), np.full(n, (g / q) ** 2)])},
    )["psi"]
    np.testing.assert_allclose(per_coordinate, full, rtol=1e-12)


def _dense_psi(A, g, q, x0, x_star, hs, h0, T):
    """E Psi_t from the dense engine on the full state (2nd) with the dense maps (the reference)."""
    from ratecheck.verify.expectation import exact_linear_second_moments

    n, d = hs.shape
    z0 = np.r_[(x0 - x_star).ravel(), (h0 - hs).ravel()]
    W = np.diag(np.r_[np.ones(n * d), np.full(n * d, (g / q) ** 2)])
    with np.errstate(under="ignore", over="ignore", invalid="ignore"):
        return exact_linear_second_moments(np.stack(proxskip_maps(A, g, q)), [1 - q, q], z0, T, {"psi": W})["psi"]


@pytest.mark.parametrize(
    "n, d, q, gamma_factor, kappa",
    [
        (3, 4, 0.3, 1.0, 20.0),
        (4, 3, 0.1, 1.0, 20.0),
        (2, 5, 1.0, 1.0, 20.0),
        (5, 4, 0.7, 0.5, 20.0),
        (6, 5, 0.05, 1.0, 20.0),
        (1, 3, 0.4, 1.0, 20.0),
        (3, 4, 0.3, 1.0, 1e6),  # ill-conditioned: no cancellation in the engine's variables
        (4, 3, 1.0, 1.0, 1e4),
    ],
)
def test_scaffnew_coordinates_engine_equals_the_dense_engine(n, d, q, gamma_factor, kappa):
    """exact_scaffnew_coordinates (O(n^2) per coordinate and step) gives E Psi_t of the full state to 1e-10
    relative, for any starting points per client and any h_0 (sum h_0 != sum h*), over hundreds of steps
    (several renormalisations), at p = 1 and up to kappa = 10^6."""
    from ratecheck.verify.expectation import exact_scaffnew_coordinates

    rng = np.random.default_rng([n, d])
    lam = np.exp(rng.uniform(0.0, np.log(kappa), (n, d)))
    A = lam[:, :, None] * np.eye(d)
    b = rng.standard_normal((n, d))
    P = QuadraticClients(A, b)
    g = gamma_factor / lam.max()
    X0 = P.x_star + rng.standard_normal((n, d))  # a different start per client (the engine allows it)
    h0 = rng.standard_normal((n, d))
    hs = lam * P.x_star - b
    T = 300
    ref = _dense_psi(A, g, q, X0, np.broadcast_to(P.x_star, (n, d)), hs, h0, T)
    got = exact_scaffnew_coordinates(lam.T, g, q, (X0 - P.x_star).T, (h0 - hs).T, T)
    ok = ref > 1e-280  # where the reference is a normal float
    assert ok.sum() > 50
    np.testing.assert_allclose(got[ok], ref[ok], rtol=1e-10)


def test_scaffnew_coordinates_engine_reports_divergence_as_inf_and_refuses_bad_input():
    from ratecheck.verify.expectation import exact_scaffnew_coordinates

    lam = np.array([[1.0, 10.0], [2.0, 5.0]])
    ones = np.ones((2, 2))
    psi = exact_scaffnew_coordinates(lam, 0.5, 0.5, ones, ones, 400)  # gamma = 5/L: diverges
    assert np.isfinite(psi[0]) and np.isinf(psi[-1]) and np.all(np.isinf(psi[np.argmax(~np.isfinite(psi)) :]))
    for bad in (dict(lam=np.nan * lam), dict(gamma=0.0), dict(p=1.5), dict(e0=np.ones(2))):
        kw = dict(lam=lam, gamma=0.1, p=0.5, e0=ones, g0=ones, T=3) | bad
        with pytest.raises(ValueError):
            exact_scaffnew_coordinates(**kw)


def test_exact_scaffnew_lyapunov_takes_the_coordinates_above_the_dense_threshold_with_the_same_values():
    """Above DENSE_STATE a diagonal instance runs exact_scaffnew_coordinates: same E Psi_t as the dense maps."""
    from ratecheck.verify.expectation import DENSE_STATE
    from ratecheck.verify.experiments.local_methods import proxskip_engine

    P = local_quadratic_clients("diagonal", n=8, d=9)
    assert 2 * P.n * P.d > DENSE_STATE and proxskip_engine(8, 9, "diagonal") == "coordinates"
    g, q = 1 / P.L_max, 0.2
    x0 = P.x_star + np.random.default_rng(3).standard_normal(P.d)
    hs = np.einsum("nij,j->ni", P.A, P.x_star) - P.b
    ref = _dense_psi(P.A, g, q, np.broadcast_to(x0, (P.n, P.d)), np.broadcast_to(P.x_star, (P.n, P.d)), hs, 0 * hs, 200)
    np.testing.assert_allclose(exact_scaffnew_lyapunov(P, g, q, x0, 200), ref, rtol=1e-10)


@pytest.mark.parametrize("n, d, q", [(3, 2, 0.4), (4, 3, 1.0), (1, 2, 0.2)])
def test_scaffnew_coordinates_engine_with_gradient_noise_equals_the_dense_engine(n, d, q):
    """Additive gradient noise (variance sigma_ij^2 per client and coordinate) in exact_scaffnew_coordinates
    equals the dense engine with proxskip_noise_covs (isotropic noise, the same in every coordinate), to
    1e-12 relative over renormalisations and at the stationary floor."""
    from ratecheck.solvers.local_methods import proxskip_noise_covs
    from ratecheck.verify.expectation import exact_linear_second_moments, exact_scaffnew_coordinates

    rng = np.random.default_rng([n, d, 7])
    lam = rng.uniform(1.0, 5.0, (d, n))
    A = np.zeros((n, d, d))
    A[:, np.arange(d), np.arange(d)] = lam.T
    g, sigma, T = 0.15, 0.7, 400
    e0, g0 = rng.standard_normal((d, n)), rng.standard_normal((d, n))
    z0 = np.r_[e0.T.ravel(), g0.T.ravel()]
    W = np.diag(np.r_[np.ones(n * d), np.full(n * d, g**2 / q**2)])
    covs = proxskip_noise_covs(n, d, g, q, sigma)
    ref = exact_linear_second_moments(np.stack(proxskip_maps(A, g, q)), [1 - q, q], z0, T, {"psi": W}, noise_covs=covs)
    got = exact_scaffnew_coordinates(lam, g, q, e0, g0, T, noise_var=sigma**2)
    np.testing.assert_allclose(got, ref["psi"], rtol=1e-12)
    with pytest.raises(ValueError, match="noise_var"):
        exact_scaffnew_coordinates(lam, g, q, e0, g0, 3, noise_var=-1.0)


def test_proxskip_with_gradient_noise_matches_the_exact_expectation():
    """The solver's stochastic gradients (noise drawn from the algorithm's generator, vectorized over clients
    and replications) give Monte Carlo means of Psi_t within 4.5 standard errors of the exact expectation
    (Bonferroni over the 60 steps), and noise = 0 draws nothing (the exact-gradient run is unchanged)."""
    P = local_quadratic_clients("rotated", n=3, d=2)
    g, q, sigma, T, R = 1 / P.L_max, 0.3, 0.5, 60, 4000
    x0 = P.x_star + 1.0
    exact = exact_scaffnew_lyapunov(P, g, q, x0, T, noise=sigma)
    tr = proxskip(P, x0, gamma=g, p=q, T=T, rng=np.random.default_rng(3), replications=R, x_star=P.x_star, noise=sigma)
    mean = tr.lyapunov.mean(axis=0)[1:]
    se = tr.lyapunov.std(axis=0, ddof=1)[1:] / np.sqrt(R)
    assert np.all(np.abs(mean - exact[1:]) <= 4.5 * se)
    a = proxskip(P, x0, gamma=g, p=q, T=T, rng=np.random.default_rng(3), x_star=P.x_star)
    b = proxskip(P, x0, gamma=g, p=q, T=T, rng=np.random.default_rng(3), x_star=P.x_star, noise=0.0)
    np.testing.assert_array_equal(a.lyapunov, b.lyapunov)
    with pytest.raises(InvalidInput, match="noise must be >= 0"):
        proxskip(P, x0, gamma=g, p=q, T=T, rng=np.random.default_rng(3), noise=-0.1)


def test_scaffnew_coordinates_engine_is_independent_of_the_chunk_of_coordinates():
    """Coordinates are independent: processing them in chunks (here 1, 2 and 3 of 7, the last chunk short)
    gives the same E Psi_t as all at once, with and without noise, and a divergence in one chunk still makes
    the total inf from its first overflow on."""
    from ratecheck.verify.expectation import exact_scaffnew_coordinates

    rng = np.random.default_rng(11)
    d, n = 7, 4
    lam = rng.uniform(0.5, 10.0, (d, n))
    e0, g0 = rng.standard_normal((d, n)), rng.standard_normal((d, n))
    for nv in (None, rng.uniform(0.0, 0.3, (d, n))):
        whole = exact_scaffnew_coordinates(lam, 0.09, 0.35, e0, g0, 250, noise_var=nv)
        for chunk in (1, 2, 3):
            got = exact_scaffnew_coordinates(lam, 0.09, 0.35, e0, g0, 250, chunk=chunk, noise_var=nv)
            np.testing.assert_allclose(got, whole, rtol=1e-13)
    lam[5, 2] = 60.0  # gamma * lam = 5.4: that coordinate diverges
    psi = exact_scaffnew_coordinates(lam, 0.09, 0.35, e0, g0, 400, chunk=2)
    first = int(np.argmax(~np.isfinite(psi)))
    assert 0 < first < 400 and np.all(np.isinf(psi[first:])) and np.all(np.isfinite(psi[:first]))
    with pytest.raises(ValueError, match="chunk"):
        exact_scaffnew_coordinates(lam, 0.09, 0.35, e0, g0, 3, chunk=0)
