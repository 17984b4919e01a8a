"""ADOM+ over time-varying networks: networks and chi, solvers against naive references, hard
instance, claims and teeth, bad input."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sps
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ratecheck import theorems, verify
from ratecheck.solvers import InvalidInput
from ratecheck.solvers.adom import (
    CyclicGossip,
    RelabelledRing,
    StarSequence,
    _adom_linear_map,
    _multi_apply,
    adom_plus,
    adom_plus_params,
    check_gossip,
    gradient_tracking,
    implicit_step,
    laplacian,
    multi_consensus_rounds,
    normalized_gossip,
    ring_chi,
    run_method,
    support_depth,
)
from ratecheck.theorems import ClaimError
from ratecheck.theorems.adom import law_exponent
from ratecheck.verify.checking import UsageError, outcome
from ratecheck.verify.instances import (
    adom_logistic,
    adom_network,
    adom_problem,
    adom_quadratics,
    adversarial_star_schedule,
    chain_depth_needed,
    chain_hard_instance,
    max_span_depth,
    random_geometric_cycle,
    relabelled_ring,
    ring_star_alternating,
)

ADOM_IDS = [c.id for c in theorems.all() if c.id.startswith(("adom.", "adom-plus."))]
TEETH = [t.id for cid in ADOM_IDS for t in theorems.teeth(cid)]


# --------------------------------------------------------------------------- networks and chi
def _graph(kind, n):
    idx = np.arange(n)
    if kind == "complete":
        iu = np.triu_indices(n, 1)
        return laplacian(n, np.c_[iu])
    if kind == "star":
        return laplacian(n, np.c_[np.zeros(n - 1, int), idx[1:]])
    if kind == "ring":
        return laplacian(n, np.c_[idx, (idx + 1) % n])
    if kind == "path":
        return laplacian(n, np.c_[idx[:-1], idx[1:]])
    raise ValueError(kind)


@pytest.mark.parametrize("n", [3, 4, 7, 10, 25])
def test_chi_closed_forms(n):
    closed = {
        "complete": 1.0,
        "star": float(n),
        "ring": ring_chi(n),
        "path": (1 + math.cos(math.pi / n)) / (1 - math.cos(math.pi / n)),
    }
    for kind, chi in closed.items():
        W, spec = normalized_gossip(_graph(kind, n))
        assert spec.chi == pytest.approx(chi, rel=1e-9), kind
        assert spec.lam_max == pytest.approx(1.0)
        assert 1.0 <= spec.chi_tight <= spec.chi + 1e-12


def test_ring_n10_value():
    assert RelabelledRing(10).chi == pytest.approx(10.472135954999581, rel=1e-12)


def test_sparse_eigensolver_matches_closed_form():
    n = 700  # above DENSE_MAX: shift-invert eigsh path
    W, spec = normalized_gossip(_graph("ring", n))
    assert "sparse" in spec.method
    assert spec.chi == pytest.approx(ring_chi(n), rel=1e-7)


def _contraction_ok(apply, n, chi, rng, d=3, reps=20):
    for _ in range(reps):
        x = rng.standard_normal((n, d))
        x -= x.mean(axis=0)
        lhs = np.sum((apply(x) - x) ** 2)
        assert lhs <= (1 - 1 / chi) * np.sum(x**2) * (1 + 1e-10)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(4, 14), family=st.sampled_from(["ring", "rgg", "ring-star", "star"]), seed=st.integers(0, 10**6))
def test_contraction_and_kernel(n, family, seed):
    rng = np.random.default_rng(seed)
    seq = {
        "ring": lambda: relabelled_ring(n, seed),
        "rgg": lambda: random_geometric_cycle(n, K=3, seed=seed),
        "ring-star": lambda: ring_star_alternating(n),
        "star": lambda: StarSequence(n, rng.integers(0, n, 7)),
    }[family]()
    for q in range(4):
        Wq = seq.matrix(q)
        assert np.allclose(Wq @ np.ones(n), 0, atol=1e-12)
        assert np.allclose(seq.apply(q, np.eye(n)), Wq.toarray(), atol=1e-12)
        _contraction_ok(lambda x: seq.apply(q, x), n, seq.chi, rng)
    T = multi_consensus_rounds(seq.chi)
    _contraction_ok(lambda x: _multi_apply(seq, 5, x, T, "time"), n, 2.0, rng)
    _contraction_ok(lambda x: _multi_apply(seq, 5, x, T, "dadao"), n, 2.0, rng)


def test_fast_applies_match_sparse_matrices():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((9, 4))
    ring = RelabelledRing(9, seed=3)
    star = StarSequence(9, [4, 0, 8])
    for q in (0, 1, 600, 1025):
        assert sps.issparse(ring.matrix(q))
        assert np.allclose(ring.apply(q, X), ring.matrix(q) @ X)
        assert np.allclose(star.apply(q, X), star.matrix(q) @ X)


def test_large_relabelled_ring_no_dense():
    ring = RelabelledRing(2000, seed=0)
    assert ring.chi == pytest.approx(ring_chi(2000), rel=1e-7)
    X = np.random.default_rng(0).standard_normal((2000, 3))
    assert np.allclose(ring.apply(7, X), ring.matrix(7) @ X)


def test_gossip_errors():
    M = np.full((4, 4), 0.25)  # doubly stochastic mixing matrix
    with pytest.raises(InvalidInput, match="mixing matrix"):
        check_gossip(M)
    disconnected = laplacian(4, [[0, 1], [2, 3]]) / 2
    with pytest.raises(InvalidInput, match="disconnected"):
        check_gossip(disconnected)
    with pytest.raises(InvalidInput, match="lambda_max"):
        check_gossip(_graph("ring", 5))
    with pytest.raises(InvalidInput, match="symmetric"):
        check_gossip(np.array([[1.0, -1.0], [0.0, 0.0]]))
    with pytest.raises(InvalidInput, match="self-loops"):
        laplacian(3, [[1, 1]])
    with pytest.raises(InvalidInput, match="disconnected"):
        CyclicGossip([_graph("ring", 4) / 4, disconnected])
    with pytest.raises(InvalidInput, match="pass I - M"):
        CyclicGossip([np.eye(4) - _graph("ring", 4) / 4])  # a mixing matrix where W is expected


def test_parameter_errors():
    with pytest.raises(InvalidInput, match="mu must be < L"):
        adom_plus_params(2.0, 1.0, 3.0)
    with pytest.raises(InvalidInput, match="chi must be >= 1"):
        adom_plus_params(1.0, 10.0, 0.5)
    p = adom_quadratics(4, 3, 1.0, 10.0)
    with pytest.raises(InvalidInput, match="nodes"):
        adom_plus(p, T=10, gossip=RelabelledRing(5), chi=2.0, mu=1.0, L=10.0)
    with pytest.raises(InvalidInput, match="GossipSequence"):
        adom_plus(p, T=10, gossip=np.eye(4), chi=2.0, mu=1.0, L=10.0)


# --------------------------------------------------------------------------- solvers
@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), mu=st.floats(0.01, 1.0), kappa=st.floats(1.5, 1e4), chi=st.floats(1.0, 100.0))
def test_implicit_step_residual(seed, mu, kappa, chi):
    rng = np.random.default_rng(seed)
    p = adom_plus_params(mu, mu * kappa, chi)
    x, y, xg, g, yz = (rng.standard_normal((3, 2)) for _ in range(5))
    xn, yn = implicit_step(x, y, xg, g, yz, p)
    r1 = xn - (x + p["eta"] * p["alpha"] * (xg - xn) - p["eta"] * (g - yn))
    r2 = yn - (y + p["theta"] * p["beta"] * (g - yn) - p["theta"] * (yz / p["nu"] + xn))
    scale = (
        1
        + np.abs(x).max()
        + np.abs(y).max()
        + p["theta"] * (np.abs(yz).max() / p["nu"] + 1)
        + p["eta"] * np.abs(g).max()
    )
    assert np.abs(r1).max() <= 1e-12 * scale and np.abs(r2).max() <= 1e-12 * scale


def naive_adom_plus(prob, Ws, mu, L, chi, K):
    """Line-by-line spec pseudo-code (section 3.1) with dense W(k) and a fixed-point-free 2x2 solve."""
    n, d = prob.n, prob.d
    p = adom_plus_params(mu, L, chi)
    x = np.zeros((n, d))
    xf = x.copy()
    y = x.copy()
    yf = x.copy()
    z = x.copy()
    zf = x.copy()
    m = x.copy()
    out = []
    for k in range(K):
        W = Ws[k]
        xg = p["tau1"] * x + (1 - p["tau1"]) * xf
        g = prob.local_grads(xg) - p["nu"] * xg
        yg = p["sigma1"] * y + (1 - p["sigma1"]) * yf
        zg = p["sigma1"] * z + (1 - p["sigma1"]) * zf
        # solve the implicit pair as a linear system per entry: [a1, -eta; theta, a2] [x; y] = [u1; u2]
        a1, a2 = 1 + p["eta"] * p["alpha"], 1 + p["theta"] * p["beta"]
        u1 = x + p["eta"] * p["alpha"] * xg - p["eta"] * g
        u2 = y + p["theta"] * p["beta"] * g - p["theta"] / p["nu"] * (yg + zg)
        sol = np.linalg.solve(np.array([[a1, -p["eta"]], [p["theta"], a2]]), np.stack([u1.ravel(), u2.ravel()]))
        xn, yn = sol[0].reshape(n, d), sol[1].reshape(n, d)
        xf = xg + p["tau2"] * (xn - x)
        yf = yg + p["sigma2"] * (yn - y)
        v = p["gamma"] / p["nu"] * (yg + zg) + m
        z = z + p["gamma"] * p["delta"] * (zg - z) - W @ v
        m = v - W @ v
        zf = zg - p["zeta"] * W @ (yg + zg)
        x, y = xn, yn
        assert np.abs(z.sum(axis=0)).max() <= 1e-9 * (1 + np.abs(z).max())  # z stays in L-perp (AD-5)
        out.append(np.sum((x - prob.x_star) ** 2))
    return np.array(out)


@pytest.mark.parametrize("family", ["ring", "ring-star"])
def test_adom_plus_matches_naive_reference(family):
    prob = adom_quadratics(6, 3, 1.0, 20.0, seed=2)
    seq = relabelled_ring(6, 1) if family == "ring" else ring_star_alternating(6)
    K = 300
    Ws = [seq.matrix(k).toarray() for k in range(K)]
    ref = naive_adom_plus(prob, Ws, prob.mu, prob.L, seq.chi, K)
    tr = adom_plus(prob, T=K, gossip=seq, chi=seq.chi)
    assert np.allclose(tr.dist_sq[1:], ref, rtol=1e-8, atol=1e-14)
    assert tr.comm_rounds[-1] == K - 1 and tr.grad_calls[-1] == K


def test_linear_map_rows_agree_with_implicit_step():
    p = adom_plus_params(1.0, 50.0, 7.0)
    A, cg = _adom_linear_map(p)
    assert A.shape == (9, 8) and np.allclose(cg, [p["tau1"], 1 - p["tau1"], 0, 0, 0, 0, 0])


def test_sanity_values_and_counters():
    """Spec section 4 sanity: n=10, d=5, mu=1, L=100, relabelled ring; ~1.7e4 iterations to 1e-12."""
    prob = adom_quadratics(10, 5, 1.0, 100.0, 0)
    ring = relabelled_ring(10, 0)
    mc = adom_plus(prob, T=10000, gossip=ring, chi=ring.chi, multi_consensus=True, stop_ratio=1e-12)
    assert mc.params["T_mc"] == 8 and 2000 < mc.T < 5000
    assert mc.comm_rounds[-1] == 8 * (mc.T - 1) and mc.grad_calls[-1] == mc.T


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(3, 8),
    d=st.integers(2, 6),
    mu=st.floats(0.1, 2.0),
    kappa=st.floats(2.0, 10.0),
    family=st.sampled_from(["ring", "ring-star", "star", "rgg"]),
    seed=st.integers(0, 1000),
)
def test_property_adom_converges_linearly(n, d, mu, kappa, family, seed):
    prob = adom_quadratics(n, d, mu, mu * kappa, seed)
    assert prob.mu == pytest.approx(mu, rel=1e-8) and prob.L == pytest.approx(mu * kappa, rel=1e-8)
    seq = adom_network(family, n, seed) if family != "rgg" else random_geometric_cycle(n, K=3, seed=seed)
    sigma2 = math.sqrt(1 / kappa) / (16 * seq.chi)
    K = int(12 / sigma2)
    tr = adom_plus(prob, T=K, gossip=seq, chi=seq.chi)
    assert tr.diverged_at is None
    assert tr.dist_sq[-1] <= 1e-3 * tr.dist_sq[0]


def test_gradient_tracking_converges_and_is_slower():
    prob = adom_quadratics(8, 4, 1.0, 30.0, 0)
    ring = relabelled_ring(8, 0)
    gt = gradient_tracking(prob, T=60000, gossip=ring, chi=ring.chi, stop_ratio=1e-8)
    ad = adom_plus(prob, T=60000, gossip=ring, chi=ring.chi, stop_ratio=1e-8)
    assert gt.dist_sq[-1] <= 1e-8 * gt.dist_sq[0] and ad.dist_sq[-1] <= 1e-8 * ad.dist_sq[0]


def test_logistic_instance_certified():
    prob = adom_logistic(5, 3, 10, 0.1, seed=0)
    assert prob.certificate["dist_bound"] < 1e-9
    assert np.linalg.norm(prob.grad_sum(prob.x_star)) < 1e-8


# --------------------------------------------------------------------------- hard instance
def test_hard_instance_constants_and_support():
    prob = chain_hard_instance(8, 3, 20, 1.0, 50.0)
    assert np.allclose(prob.L_i[:6], 50.0) and np.allclose(prob.mu_i, 1.0) and np.allclose(prob.L_i[6:], 1.0)
    x = np.zeros(20)
    x[:4] = 1.0  # depth 4 (even): A extends, B does not
    G = prob.local_grads(np.tile(x, (8, 1)))
    assert support_depth(G[:3]) == 5 and support_depth(G[3:6]) == 4 and support_depth(G[6:]) == 4
    ev = np.linalg.eigvalsh(prob.C.sum(axis=0))  # the condition number of the sum of the Hessians
    assert prob.kappa_sum == ev[-1] / ev[0] and 1.0 < prob.kappa_sum <= 50.0


def test_a_measure_refuses_another_method_in_the_claims_setting():
    c = theorems.get("adom-plus.linear-rate")
    with pytest.raises(UsageError, match="measure decay_rate runs algorithm 'adom\\+' only, the claim's setting"):
        verify.check(c.variant("gt", setting={**c.setting, "algorithm": "gt"}), quick=True)


def test_trajectory_costs_to_eps_and_to_depth_are_the_first_iterates_reaching_them():
    prob = chain_hard_instance(6, 3, 12, 1.0, 20.0)
    tr = adom_plus(
        prob, T=300, gossip=StarSequence(6, adversarial_star_schedule(6, 3, 301)), chi=6.0, track_support=True
    )
    eps = np.array([0.5, 0.05, 1e-300])
    r, g, ok = tr.cost_to_eps(eps)
    assert ok.tolist() == [True, True, False]
    for e, rr, gg in zip(eps[:2], r, g):
        k = int(np.flatnonzero(tr.dist_sq <= e * tr.dist_sq[0])[0])
        assert (rr, gg) == (tr.comm_rounds[k], tr.grad_calls[k])
    ks = np.arange(2, 14)
    r, g, ok = tr.cost_to_depth(ks)
    assert not ok[-1] and ok[0]  # depth 13 > d never appears
    for k, rr, gg in zip(ks[ok], r[ok], g[ok]):
        first = int(np.flatnonzero(tr.depth >= k)[0])
        assert (rr, gg) == (tr.comm_rounds[first], tr.grad_calls[first])
    untracked = adom_plus(prob, T=5, gossip=StarSequence(6, adversarial_star_schedule(6, 3, 6)), chi=6.0)
    with pytest.raises(InvalidInput, match="track_support"):
        untracked.cost_to_depth(ks)


def test_adom_network_and_problem_refuse_unknown_families():
    with pytest.raises(UsageError, match="network must be one of ring, rgg, ring-star, star"):
        adom_network("torus", 6)
    with pytest.raises(UsageError, match="problem must be 'quadratic' or 'logistic'"):
        adom_problem("huber", 6, 3, 5, 1.0, 4.0)
    assert adom_problem("quadratic", 6, 3, 5, 1.0, 4.0).L == pytest.approx(4.0)


def test_chain_depth_needed_bruteforce():
    rng = np.random.default_rng(0)
    xs = rng.standard_normal(12)
    for eps in (0.5, 1e-1, 1e-3):
        k = chain_depth_needed(xs, eps)[0]
        tails = [np.sum(xs[j:] ** 2) for j in range(13)]
        assert tails[k] <= eps * np.sum(xs**2) and (k == 0 or tails[k - 1] > eps * np.sum(xs**2))


@pytest.mark.parametrize("n,m", [(8, 4), (9, 2), (6, 1)])
def test_adversarial_schedule_depth_bound(n, m):
    N = 300
    sched = adversarial_star_schedule(n, m, N)
    depth = max_span_depth(n, m, sched, N)
    assert np.all(depth <= 2 + np.arange(N + 1) / (n - m))  # the construction's hop cost
    assert depth[-1] >= 2 + (N - (n - 2 * m) - 1) // (n - m)  # and it is attained


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(4, 10),
    frac=st.floats(0.0, 1.0),
    kappa=st.floats(4.0, 200.0),
    method=st.sampled_from(["adom+", "adom+-mc", "gt"]),
)
def test_property_depth_never_exceeds_span_bound(n, frac, kappa, method):
    """No method of the span class outruns the maximal-memory simulation on the adversarial star."""
    m = 1 + int(frac * (n // 2 - 1))
    d = 16
    prob = chain_hard_instance(n, m, d, 1.0, kappa)
    iters = 60
    T = multi_consensus_rounds(n) if method == "adom+-mc" else 1
    rounds = iters * T + 1
    sched = adversarial_star_schedule(n, m, rounds)
    run = dict(T=iters, gossip=StarSequence(n, sched), chi=float(n), track_support=True)
    tr = (
        gradient_tracking(prob, **run)
        if method == "gt"
        else adom_plus(prob, multi_consensus=(method == "adom+-mc"), **run)
    )
    bound = max_span_depth(n, m, sched, rounds)
    assert np.all(tr.depth[1:] <= bound[tr.comm_rounds[1:]])
    assert np.all(tr.depth[1:] <= tr.grad_calls[1:])  # one computation extends the support by at most one


# --------------------------------------------------------------------------- claims
@pytest.mark.parametrize("cid", ADOM_IDS)
def test_claim_holds_quick(cid):
    status, unexpected = outcome(verify.check(cid, quick=True))
    assert status == "holds" and not unexpected


@pytest.mark.parametrize("tid", TEETH)
def test_teeth_violated_quick(tid):
    status, unexpected = outcome(verify.check(tid, quick=True))
    assert status == "violated" and not unexpected


def test_every_claim_has_teeth_and_identities_prove():
    assert len(ADOM_IDS) == 7
    for cid in ADOM_IDS:
        c = theorems.get(cid)
        assert theorems.teeth(cid), cid
        assert all(pr.holds for pr in c.prove())


def test_user_claim_against_experiment():
    c = theorems.get("adom-plus.linear-rate")
    mine = c.variant("mine", bound=c.bound / 2)
    vs = verify.check(mine, experiment="adom", quick=True)
    assert outcome(vs) == ("holds", False)


@pytest.mark.parametrize(
    "bad,match",
    [
        (dict(mu=2.0, L=1.0), "mu must be < L"),
        (dict(network="mesh"), "network"),
        (dict(n=0), "n must"),
        (dict(eps=2.0), "eps"),
        (dict(ns=(4, 5)), "ns"),
        (dict(kappas=(0.5, 2.0, 3.0)), "kappas"),
        (dict(bogus=1), "unknown parameter"),
    ],
)
def test_experiment_bad_params(bad, match):
    with pytest.raises(UsageError, match=match):
        verify.check("adom-plus.linear-rate", instances=[bad])


# ----------------------------------------------------------------------------- absurd sizes
@pytest.mark.parametrize(
    "params, words",
    [
        (dict(n=10**7), ("n",)),
        (dict(d=10**6), ("d",)),
        (dict(depth_d=10**6), ("depth_d",)),
        (dict(max_iter=10**10), ("max_iter",)),
        (dict(ns=[3, 4, 10**8]), ("n",)),
    ],
)
def test_absurd_sizes_are_refused_before_allocating(refused_without_allocating, params, words):
    refused_without_allocating("adom", params, *words)


# ----------------------------------------------------------------------------- Python API input checks
@pytest.mark.parametrize(
    "kw, msg",
    [
        (dict(L=-1.0), "L must be > 0, got -1"),
        (dict(chi=0.0), "chi must be >= 1, got 0"),
        (dict(mu=0.0), "mu must be > 0"),
        (dict(mu=20.0), "mu must be < L"),
        (dict(L=float("nan")), "L must be finite"),
        (dict(chi=float("inf")), "chi must be finite"),
        (dict(gamma=-0.1), "gamma must be > 0"),
    ],
)
def test_gradient_tracking_validates_its_constants(kw, msg):
    ring = RelabelledRing(4)
    a = dict(mu=1.0, L=10.0, chi=ring.chi)
    a.update(kw)
    gamma = a.pop("gamma", None)
    identity = SimpleNamespace(local_grads=lambda X: X, n=4, d=2, x_star=np.zeros(2))
    with pytest.raises(InvalidInput, match=msg) as info:
        gradient_tracking(identity, T=10, gossip=ring, gamma=gamma, **a)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "edges, msg",
    [
        ([[0, 0.7], [1, 2]], "edges must be integer node indices, found 0.7"),
        ([[0, float("nan")], [1, 2]], "edges must be integer node indices, found nan"),
        ([[0, float("inf")], [1, 2]], "found inf"),
        ([[True, False]], "edges must be an array of integer node indices, got booleans"),
        ("01", "edges must be an array of integer node indices, got str"),
        ([0, 1, 2], r"edges must be pairs of nodes"),
    ],
)
def test_laplacian_refuses_non_integer_node_indices(edges, msg):
    with pytest.raises(InvalidInput, match=msg):
        laplacian(3, edges)


def test_laplacian_accepts_integral_floats_and_no_edges():
    np.testing.assert_array_equal(
        laplacian(3, [[0, 1.0], [1.0, 2]]).toarray(), laplacian(3, [[0, 1], [1, 2]]).toarray()
    )
    assert laplacian(3, np.zeros((0, 2))).nnz == 0


def test_run_method_runs_each_method_by_name():
    prob, net = adom_quadratics(n=5, d=3, L=9.0, seed=1), relabelled_ring(5, seed=1)
    kw = dict(T=40, gossip=net, chi=net.chi)
    for name, direct in (
        ("adom+", adom_plus(prob, **kw)),
        ("adom+-mc", adom_plus(prob, **kw, multi_consensus=True, order="dadao")),
        ("gt", gradient_tracking(prob, **kw, gamma=0.01)),
    ):
        tr = run_method(name, prob, **kw, order="dadao", gt_step=0.01)
        np.testing.assert_array_equal(tr.dist_sq, direct.dist_sq)
        np.testing.assert_array_equal(tr.comm_rounds, direct.comm_rounds)
    with pytest.raises(InvalidInput, match="method must be one of adom\\+, adom\\+-mc, gt, got 'dgd'"):
        run_method("dgd", prob, **kw)


def test_law_exponent_is_the_log_log_slope_of_a_power_law_only():
    chi, kappa, eps = sp.symbols("chi kappa eps", positive=True)
    law = chi * sp.sqrt(kappa) * sp.log(1 / eps)
    assert law_exponent(law, "chi") == 1.0 and law_exponent(law, "kappa") == 0.5 and law_exponent(law, "n") == 0.0
    with pytest.raises(ClaimError, match="the law for grad_calls is not a power law in kappa"):
        law_exponent(sp.sqrt(kappa) * sp.log(kappa), "kappa", "the law for grad_calls")
