"""L-SVRP (issue 5): solvers against naive references, exact moments against enumeration and Monte
Carlo, every claim verdicted on its default quick instances, every teeth caught, bad input."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.optimize

from ratecheck import theorems, verify
from ratecheck.solvers import InvalidInput
from ratecheck.solvers.lsvrp import (
    client_constants,
    expected_communications,
    lsvrp,
    lsvrp_outcomes,
    outcome_system,
    sgd,
    sgd_outcomes,
)
from ratecheck.solvers.problems import L2Logistic, QuadraticClients
from ratecheck.verify.checking import UsageError
from ratecheck.verify.expectation import LsvrpExactMoments, exact_lsvrp_hitting_time, exact_lsvrp_moments, mc_summary
from ratecheck.verify.instances import (
    delta_controlled_quadratics,
    high_dissimilarity_quadratics,
    l2_logistic_clients,
    lsvrp_problem,
    unit_start,
)
from ratecheck.verify.optima import clients_optimum, l2_logistic_optimum

BOUND_ONLY = theorems.get("lsvrp.recursion").variant("bound-only", identities=())
IDS = ["lsvrp.recursion", "lsvrp.lyapunov", "lsvrp.region", "lsvrp.complexity", "lsvrp.tuned-probe", "sgd.neighborhood"]


# ----------------------------------------------------------------------------- problems
def test_quadratic_constants_brute_force():
    P = high_dissimilarity_quadratics(n=6, d=4, seed=3)
    rng = np.random.default_rng(0)
    D = P.A - P.A.mean(0)
    V = rng.standard_normal((2000, 4))
    V /= np.linalg.norm(V, axis=1, keepdims=True)
    ratios = np.mean(np.sum(np.einsum("nij,kj->kni", D, V) ** 2, axis=2), axis=1)  # (1/n) sum_i ||D_i v||^2
    assert ratios.max() <= P.delta**2 * (1 + 1e-12)
    assert ratios.max() >= 0.9 * P.delta**2
    # the definition with gradients at two points, per the spec: (1/n) sum ||grad_i(x) - grad(x) - (grad_i(y) - grad(y))||^2
    x, y = rng.standard_normal(4), rng.standard_normal(4)
    gx, gy = P.value_and_grad(x)[1], P.value_and_grad(y)[1]
    lhs = np.mean(np.sum((gx - gx.mean(0) - gy + gy.mean(0)) ** 2, axis=1))
    assert lhs <= P.delta**2 * np.sum((x - y) ** 2) * (1 + 1e-12)
    assert P.delta <= P.delta_max + 1e-12
    assert P.delta**2 <= np.mean(P.L_i**2)
    assert P.mu == pytest.approx(min(np.linalg.eigvalsh(A)[0] for A in P.A))
    assert np.allclose(P.A.mean(0) @ P.x_star, P.b.mean(0))


def test_quadratic_prox_matches_solve():
    P = delta_controlled_quadratics(n=5, d=3, delta=4.0, seed=1)
    rng = np.random.default_rng(1)
    i = rng.integers(0, 5, 7)
    v = rng.standard_normal((7, 3))
    got = P.prox(i, v, 0.3)
    want = np.stack([np.linalg.solve(np.eye(3) + 0.3 * P.A[j], vv + 0.3 * P.b[j]) for j, vv in zip(i, v)])
    assert np.allclose(got, want, atol=1e-12)


def test_delta_controlled_generator_is_exact():
    for sf in (False, True):
        P = delta_controlled_quadratics(n=7, d=5, delta=12.5, mu=0.5, shared_floor=sf, seed=4)
        assert P.delta == pytest.approx(12.5, rel=1e-10)
        assert P.mu == pytest.approx(0.5, rel=1e-10)
    P = delta_controlled_quadratics(n=7, d=5, delta=12.5, mu=0.5, shared_floor=True, seed=4)
    assert P.mu_f == pytest.approx(0.5, rel=1e-9)  # the shared floor is an eigenvector of A_bar too


def test_logistic_gradient_and_prox():
    P = l2_logistic_clients(n=4, d=3, m=10, lam=0.2, seed=2)
    x = np.random.default_rng(0).standard_normal(3)
    g = P.value_and_grad(x)[1]
    for i in range(P.n):
        num = scipy.optimize.approx_fprime(x, lambda z: P.value_and_grad(z)[0][i], 1e-7)
        assert np.allclose(g[i], num, atol=1e-5)
    v = np.random.default_rng(1).standard_normal((2, 3))
    z, _ = P.prox(np.array([0, 3]), v, 0.7)
    for r, i in enumerate((0, 3)):
        res = scipy.optimize.minimize(
            lambda q: P.value_and_grad(q)[0][i] + np.sum((q - v[r]) ** 2) / 1.4,
            v[r],
            method="BFGS",
            options={"gtol": 1e-12},
        )
        assert np.allclose(z[r], res.x, atol=1e-6)
    opt = l2_logistic_optimum(P)
    assert opt.certificate["dist_bound"] < 1e-10


# ----------------------------------------------------------------------------- solver vs naive loop
def _naive_lsvrp(P, x0, gamma, p, T, refresh, seed):
    """Straightforward per-step loop with a linear solve per prox (same random draws as the solver)."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, P.n, size=(T, 1))
    coins = rng.random((T, 1)) < p
    x, w = x0.copy(), x0.copy()
    xs = [x.copy()]
    for k in range(T):
        i = idx[k, 0]
        g = (P.A.mean(0) @ w - P.b.mean(0)) - (P.A[i] @ w - P.b[i])
        xn = np.linalg.solve(np.eye(P.d) + gamma * P.A[i], x - gamma * g + gamma * P.b[i])
        if coins[k, 0]:
            w = xn.copy() if refresh == "new" else x.copy()
        x = xn
        xs.append(x.copy())
    return np.array(xs)


@pytest.mark.parametrize("refresh", ["new", "old"])
def test_lsvrp_matches_naive_loop(refresh):
    P = delta_controlled_quadratics(n=6, d=4, delta=3.0, seed=2)
    x0 = np.ones(4)
    tr = lsvrp(P, x0, gamma=0.1, p=0.3, T=40, refresh=refresh, rng=np.random.default_rng(5), x_star=P.x_star)
    ref = _naive_lsvrp(P, x0, 0.1, 0.3, 40, refresh, 5)
    assert np.allclose(tr.dist_x[0], np.sum((ref - P.x_star) ** 2, axis=1), rtol=1e-10, atol=1e-13)
    assert tr.comms[0, -1] == P.n + 40 + P.n * tr.refreshes[0]
    assert tr.prox_calls == 40


def test_lsvrp_logistic_runs_and_converges():
    P = l2_logistic_clients(n=5, d=3, m=10, lam=0.1, seed=0)
    xs = l2_logistic_optimum(P).x
    tr = lsvrp(
        P, xs + 1.0, gamma=1.0, p=0.3, T=60, replications=3, x_star=xs, prox_tol=1e-12, rng=np.random.default_rng(0)
    )
    assert np.all(tr.dist_x[:, -1] < 1e-3 * tr.dist_x[:, 0])
    assert tr.newton_iterations > 0


def test_sgd_matches_naive_loop():
    P = delta_controlled_quadratics(n=4, d=3, delta=2.0, seed=0)
    tr = sgd(P, np.zeros(3), gamma=0.05, T=30, rng=np.random.default_rng(3), x_star=P.x_star)
    rng = np.random.default_rng(3)
    idx = rng.integers(0, 4, size=(30, 1))
    x = np.zeros(3)
    for k in range(30):
        x = x - 0.05 * (P.A[idx[k, 0]] @ x - P.b[idx[k, 0]])
    assert np.allclose(tr.x_final[0], x, atol=1e-13)


# ----------------------------------------------------------------------------- exact moments
def _enumerate(probs, G, h, z0, T):
    """Brute force: E||z^T||^2 over every outcome path of length T."""
    tot = 0.0
    for path in itertools.product(range(len(probs)), repeat=T):
        z, pr = z0.copy(), 1.0
        for o in path:
            z = G[o] @ z + h[o]
            pr *= probs[o]
        tot += pr * z @ z
    return tot


@pytest.mark.parametrize("refresh", ["new", "old"])
def test_exact_moments_match_enumeration(refresh):
    P = delta_controlled_quadratics(n=3, d=2, delta=3.0, seed=1)
    probs, G, h = lsvrp_outcomes(P, 0.2, 0.4, refresh)
    z0 = np.r_[1.0, -0.5, 1.0, -0.5]
    got = exact_lsvrp_moments(probs, G, h, z0, 3, [(0, 4)])[0]
    for T in (1, 2, 3):
        assert got[T] == pytest.approx(_enumerate(probs, G, h, z0, T), rel=1e-12)


def test_exact_sgd_moments_affine_match_enumeration():
    P = delta_controlled_quadratics(n=3, d=2, delta=2.0, seed=1)
    probs, G, h = sgd_outcomes(P, 0.05)
    assert np.any(h != 0)
    got = exact_lsvrp_moments(probs, G, h, np.array([0.3, 0.1]), 3, [(0, 2)])[0]
    for T in (1, 2, 3):
        assert got[T] == pytest.approx(_enumerate(probs, G, h, np.array([0.3, 0.1]), T), rel=1e-12)


def test_exact_moments_agree_with_monte_carlo():
    P = delta_controlled_quadratics(n=5, d=3, delta=4.0, seed=0)
    x0 = P.x_star + 1.0
    probs, G, h = lsvrp_outcomes(P, 0.05, 0.3, "new")
    ex = exact_lsvrp_moments(probs, G, h, np.r_[x0 - P.x_star, x0 - P.x_star], 20, [(0, 3), (3, 6)])
    tr = lsvrp(P, x0, gamma=0.05, p=0.3, T=20, replications=4000, rng=np.random.default_rng(11), x_star=P.x_star)
    m, se, _ = mc_summary(tr.dist_x[:, 1:])
    assert np.all(np.abs(m - ex[0, 1:]) <= 5 * se)
    m, se, _ = mc_summary(tr.dist_w[:, 1:])
    ok = se > 0
    assert np.all(np.abs(m - ex[1, 1:])[ok] <= 5 * se[ok])


def test_hitting_time_and_engine_validation():
    P = delta_controlled_quadratics(n=3, d=2, delta=2.0, seed=0)
    probs, G, h = lsvrp_outcomes(P, 0.1, 0.5)
    z0 = np.r_[1.0, 0.0, 1.0, 0.0]
    k = exact_lsvrp_hitting_time(probs, G, h, z0, (0, 2), 1e-2, 10000)
    vals = exact_lsvrp_moments(probs, G, h, z0, k, [(0, 2)])[0]
    assert vals[k] <= 1e-2 * vals[0] < vals[k - 1]
    with pytest.raises(ValueError, match="probs"):
        LsvrpExactMoments(probs[:-1], G, h, z0)
    with pytest.raises(ValueError, match="z0"):
        LsvrpExactMoments(probs, G, h, z0[:3])


# ----------------------------------------------------------------------------- claims and teeth
def _lsvrp_claims():
    return [theorems.get(i) for i in IDS]


def test_claim_ids_registered_with_provenance():
    for c in _lsvrp_claims():
        assert c.experiment == "lsvrp"
        assert c.paper
        assert theorems.teeth(c.id), f"{c.id} ships no teeth"
    assert theorems.get("sgd.neighborhood").provenance.value == "reconstructed"
    assert theorems.get("lsvrp.recursion").provenance.value == "derived"


@pytest.mark.parametrize("cid", IDS)
def test_claim_holds_quick(cid):
    verify.assert_claim_holds(cid, quick=True)
    vs = verify.check(cid, quick=True)
    assert verify.outcome(vs) == ("holds", False)


@pytest.mark.parametrize("tid", [t.id for cid in IDS for t in theorems.teeth(cid)])
def test_teeth_caught_quick(tid):
    vs = verify.check(tid, quick=True)
    status, unexpected = verify.outcome(vs)
    assert status == "violated" and not unexpected, [v.detail for v in vs]


def test_user_modified_claim_is_judged_as_written():
    c = theorems.get("lsvrp.recursion")
    mine = c.variant("mine", bound=1.0001 * c.bound, identities=())
    assert verify.outcome(verify.check(mine, experiment="lsvrp", quick=True))[0] == "holds"


def test_complexity_reports_fitted_exponent():
    v = verify.check("lsvrp.complexity", quick=True)[0]
    assert 1.8 < v.evidence.fit.slope <= 2.0
    assert "fitted exponent" in v.detail


# ----------------------------------------------------------------------------- bad input
def test_bad_input_messages():
    with pytest.raises(UsageError, match="mu"):
        delta_controlled_quadratics(mu=0.0)
    with pytest.raises(UsageError, match="mu"):
        verify.check(BOUND_ONLY, instances=[dict(mu=-1.0, gamma=0.1)])
    with pytest.raises(UsageError, match=r"p must be a finite number in \(0, 1\]"):
        verify.check(BOUND_ONLY, instances=[dict(p=1.5, gamma=0.1)])
    with pytest.raises(UsageError, match=r"p must be a finite number in \(0, 1\]"):
        verify.check(BOUND_ONLY, instances=[dict(p=0.0, gamma=0.1)])
    with pytest.raises(UsageError, match="gamma"):  # s > 1/4: outside the Lyapunov theorem's range
        verify.check("lsvrp.lyapunov", instances=[dict(delta=2.0, gamma_factor=2.0)])
    with pytest.raises(UsageError, match="gamma"):
        verify.check("sgd.neighborhood", instances=[dict(gamma_factor=1.5)])
    with pytest.raises(UsageError, match="unknown parameter"):
        verify.check(BOUND_ONLY, instances=[dict(stepsize=0.1)])
    with pytest.raises(UsageError, match="instance"):
        verify.check(BOUND_ONLY, instances=[dict(instance="cubic", gamma=0.1)])
    with pytest.raises(UsageError, match="kappas"):
        verify.check("lsvrp.complexity", instances=[dict(kappas=(2.0, 3.0))])
    A = np.array([[[2.0, 1.0], [0.0, 2.0]]] * 2)
    with pytest.raises(InvalidInput, match="symmetric"):
        QuadraticClients(A, np.zeros((2, 2)))
    with pytest.raises(InvalidInput, match="positive definite"):
        QuadraticClients(np.array([np.eye(2), -np.eye(2)]), np.zeros((2, 2)))
    P = delta_controlled_quadratics(n=3, d=2, seed=0)
    with pytest.raises(InvalidInput, match="p must lie in"):
        lsvrp(P, np.zeros(2), gamma=0.1, p=1.2, T=10, rng=np.random.default_rng(0))
    with pytest.raises(InvalidInput, match="gamma"):
        lsvrp(P, np.zeros(2), gamma=-0.1, p=0.5, T=10, rng=np.random.default_rng(0))
    with pytest.raises(InvalidInput, match="refresh"):
        lsvrp(P, np.zeros(2), gamma=0.1, p=0.5, T=10, refresh="sometimes", rng=np.random.default_rng(0))
    with pytest.raises(InvalidInput, match="x0"):
        lsvrp(P, np.zeros(3), gamma=0.1, p=0.5, T=10, rng=np.random.default_rng(0))
    with pytest.raises(InvalidInput, match="lam"):
        L2Logistic(np.ones((2, 3, 2)), np.ones((2, 3)), lam=0.0)


def test_reproducible():
    a = verify.check(BOUND_ONLY, instances=[dict(gamma=0.02, T=20, method="monte-carlo", replications=50)], seed=3)[0]
    b = verify.check(BOUND_ONLY, instances=[dict(gamma=0.02, T=20, method="monte-carlo", replications=50)], seed=3)[0]
    assert np.array_equal(a.evidence.measured, b.evidence.measured)


# ----------------------------------------------------------------------------- closed form past float64 powers
def _exact_power(c: dict, k: int, u_X: float, u_W: float) -> float:
    """[M^k (X0, W0)] in 50-digit mpmath (no overflow), the quantity the closed form states."""
    import mpmath

    from ratecheck.theorems import lsvrp as L

    M = L.recursion_matrix().subs(
        {L.gamma: c["gamma"], L.mu: c["mu"], L.delta: c["delta"], L.p: c["p"], L.refresh_old: c["refresh_old"]}
    )
    with mpmath.workdps(50):
        Mm = mpmath.matrix([[mpmath.mpf(str(M[i, j].evalf(60))) for j in range(2)] for i in range(2)])
        r = (Mm**k) * mpmath.matrix([c["X0"], c["W0"]])
        return float(u_X * r[0] + u_W * r[1])


def test_recursion_closed_form_does_not_overflow_before_its_value():
    """With gamma delta large, lambda_+^k overflows float64 around k = 92 while [M^k v] (about 1e305) does
    not: the float64 closed form gave inf - inf = NaN there and the true claim came out inconclusive.  The
    bound is now re-evaluated in wide arithmetic (same expression): finite, equal to the matrix power,
    and the verdict holds."""
    v = verify.check("lsvrp.recursion", instances=[dict(delta=50.0, gamma=10.0, p=1.0, T=92)])[0]
    assert v.verdict == "holds", v.detail
    ev, c = v.evidence, v.evidence.constants
    assert np.all(np.isfinite(ev.bound))
    for j, (uX, uW) in ((91, (1.0, 0.0)), (183, (0.0, 1.0))):  # k = 92 of X, then of W
        assert ev.grid[j] == 92
        assert ev.bound[j] == pytest.approx(_exact_power(c, 92, uX, uW), rel=1e-12)
    assert ev.bound[91] > 1e304


@pytest.mark.parametrize("refresh_old", [0.0, 1.0])
def test_recursion_closed_form_equals_matrix_power_where_representable(refresh_old):
    """Sampled over large gamma mu and gamma delta: the evaluated closed form is never NaN; where the
    matrix power is representable it is finite and equal to it; beyond, it is +inf."""
    claim = theorems.get("lsvrp.recursion")
    rng = np.random.default_rng(1)
    ks = np.array([1, 40, 80, 120, 200, 400])
    for _ in range(6):
        c = dict(
            gamma=10 ** rng.uniform(0, 3),
            mu=10 ** rng.uniform(-1, 0.5),
            delta=10 ** rng.uniform(0.5, 2),
            p=rng.uniform(0.1, 1.0),
            refresh_old=refresh_old,
            X0=1.0,
            W0=rng.uniform(0.5, 2.0),
        )
        for uX, uW in ((1.0, 0.0), (0.0, 1.0)):
            b = claim.evaluate(T=ks, u_X=uX, u_W=uW, **c)
            assert not np.any(np.isnan(b)), c
            for k, bk in zip(ks, b):
                exact = _exact_power(c, int(k), uX, uW)
                if np.isfinite(exact):
                    assert bk == pytest.approx(exact, rel=1e-9), (c, k)
                else:
                    assert bk == np.inf


# ----------------------------------------------------------------------------- absurd sizes
@pytest.mark.parametrize(
    "params, words",
    [
        (dict(n=10**8), ("n",)),
        (dict(d=10**5), ("d",)),
        (dict(replications=10**9), ("replications",)),
        (dict(T=10**10), ("T",)),
    ],
)
def test_absurd_sizes_are_refused_before_allocating(refused_without_allocating, params, words):
    refused_without_allocating("lsvrp", params, *words)


# ----------------------------------------------------------------------------- extreme finite values
@pytest.mark.parametrize(
    "params, msg",
    [
        (dict(delta=1e160), r"delta must be a finite number in \(0, 1e\+30\]"),
        (dict(mu=1e300), r"mu must be a finite number in \(0, 1e\+30\]"),
        (dict(spread=1e12), r"spread must be a finite number in \(0, 1e\+06\]"),
        (dict(mean_gap=1e300, instance="reference"), r"mean_gap must be a finite number in \(0, 1e\+30\]"),
    ],
)
def test_extreme_values_are_refused_by_the_declared_ranges(params, msg):
    """delta=1e160 or mu=1e300 overflowed the clients' squared curvatures (a scipy ValueError traceback), spread=1e12
    left the optimum uncertified."""
    with pytest.raises(UsageError, match=msg):
        verify.check("lsvrp.lyapunov", instances=[params])


# ----------------------------------------------------------------------------- instance, constants, start
@pytest.mark.parametrize("kind", ["controlled", "shared-floor", "reference", "logistic"])
def test_lsvrp_problem_builds_each_family_and_its_constants(kind):
    P = lsvrp_problem(kind, 4, 3, delta=2.0, mu=0.5, spread=1.0, mean_gap=5.0, m=6, seed=1)
    c = client_constants(P, "mean-square")
    assert (c["n"], c["d"]) == (4, 3) and c["kappa"] == c["delta"] / c["mu"]
    if kind == "logistic":
        assert c["mu"] == 0.5 and c["delta"] == c["delta_certified_upper"] == P.delta_bound
        assert clients_optimum(P).x.shape == (3,)
        return
    assert abs(c["mu"] - 0.5) < 1e-12 and c["delta_exact"] == P.delta and c["sigma2"] == P.sigma_star2
    if kind != "reference":
        assert abs(c["delta"] - 2.0) < 1e-9
    assert client_constants(P, "max")["delta"] == P.delta_max >= P.delta
    np.testing.assert_array_equal(clients_optimum(P).x, P.x_star)


def test_lsvrp_problem_and_constants_refuse_unknown_names():
    with pytest.raises(UsageError, match="instance must be one of controlled, shared-floor, reference, logistic"):
        lsvrp_problem("ring", 4, 3, delta=2.0, mu=0.5, spread=1.0, mean_gap=5.0, m=6)
    P = delta_controlled_quadratics(n=3, d=2)
    with pytest.raises(InvalidInput, match="dissimilarity must be one of mean-square, max"):
        client_constants(P, "min")


def test_unit_start_is_at_distance_one_with_equal_energy_when_spread():
    P = delta_controlled_quadratics(n=3, d=4, seed=2)
    xs = P.x_star
    for kind in ("random", "spread"):
        x0 = unit_start(xs, kind, np.random.default_rng(0), P.A_bar)
        assert abs(np.linalg.norm(x0 - xs) - 1) < 1e-12
    energy = (np.linalg.eigh(P.A_bar)[1].T @ (unit_start(xs, "spread", None, P.A_bar) - xs)) ** 2
    np.testing.assert_allclose(energy, 0.25, rtol=1e-10)
    np.testing.assert_array_equal(unit_start(xs, "optimum", None), xs)


def test_expected_communications_counts_the_start_the_iterations_and_the_refreshes():
    assert expected_communications(10, 0, 0.1) == 10
    assert expected_communications(10, 5, 0.1, cost_it=2) == 10 + 5 * (2 + 1.0)


def test_a_measure_refuses_a_setting_that_changes_what_it_runs():
    c = theorems.get("lsvrp.complexity")
    with pytest.raises(UsageError, match="measure comms_to_eps runs refresh 'new' only, the claim's setting refresh"):
        verify.check(c.variant("old", setting={**c.setting, "refresh": "old"}), quick=True)
    with pytest.raises(UsageError, match="measure sgd_dist_sq runs algorithm 'sgd' only"):
        s = theorems.get("sgd.neighborhood")
        verify.check(s.variant("lsvrp", setting={**s.setting, "algorithm": "lsvrp"}), quick=True)


def test_outcome_system_of_lsvrp_and_of_sgd():
    P = delta_controlled_quadratics(n=3, d=2, delta=2.0, seed=0)
    e0 = np.array([1.0, -0.5])
    (probs, G, h), z0, blocks = outcome_system(P, 0.1, e0, p=0.3, refresh="old")
    want = lsvrp_outcomes(P, 0.1, 0.3, "old")
    assert all(np.array_equal(a, b) for a, b in zip((probs, G, h), want))
    np.testing.assert_array_equal(z0, np.r_[e0, e0])
    assert blocks == [(0, 2), (2, 4)]
    (probs, G, h), z0, blocks = outcome_system(P, 0.1, e0)
    assert all(np.array_equal(a, b) for a, b in zip((probs, G, h), sgd_outcomes(P, 0.1)))
    np.testing.assert_array_equal(z0, e0)
    assert blocks == [(0, 2)]
