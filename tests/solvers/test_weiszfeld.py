"""Unit tests of solvers.weiszfeld and the geometric-median optimum against naive references."""

import numpy as np
import pytest

from ratecheck.solvers import InvalidInput
from ratecheck.solvers.weiszfeld import (
    anchor_test,
    blockwise_geometric_median,
    diameter,
    eta_update,
    gm_gradient,
    gm_objective,
    omniscient_corruption,
    rfa_least_squares,
    smoothed_gradient,
    smoothed_norm,
    smoothed_objective,
    smoothed_weiszfeld,
    variational_objective,
    weiszfeld,
    z_update,
)
from ratecheck.verify.instances import point_cloud
from ratecheck.verify.optima import geometric_median_optimum


def naive_smoothed_weiszfeld(W, w, nu, T, z0=None):
    """The algorithm as printed (RFA Algorithm 3), one point at a time in pure Python."""
    w = [float(x) / sum(w) for x in w]
    z = np.array(sum(wk * Wk for wk, Wk in zip(w, W))) if z0 is None else np.array(z0, dtype=float)
    out = [z.copy()]
    for _ in range(T):
        num, den = np.zeros_like(z), 0.0
        for wk, Wk in zip(w, W):
            eta = max(nu, float(np.sqrt(sum((zi - wi) ** 2 for zi, wi in zip(z, Wk)))))
            num += wk / eta * Wk
            den += wk / eta
        z = num / den
        out.append(z.copy())
    return np.array(out)


def naive_objective(z, W, w):
    w = np.asarray(w) / np.sum(w)
    return sum(wk * np.sqrt(np.sum((z - Wk) ** 2)) for wk, Wk in zip(w, W))


@pytest.fixture
def cloud():
    W, w, _ = point_cloud("gaussian", m=40, d=6, outlier_frac=0.2, shift=20.0, seed=3)
    w = np.random.default_rng(1).uniform(0.5, 2.0, 40)
    return W, w


def test_matches_naive_reference(cloud):
    W, w = cloud
    ref = naive_smoothed_weiszfeld(W, w, 1e-3, 15)
    res = smoothed_weiszfeld(W, weights=w, nu=1e-3, T=15, store_iterates=True)
    np.testing.assert_allclose(res.iterates, ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.g, [naive_objective(z, W, w) for z in ref], rtol=1e-13)
    assert res.n_iter == 15 and res.termination == "iteration budget reached"


def test_gram_and_direct_agree(cloud):
    W, w = cloud
    a = smoothed_weiszfeld(W, weights=w, nu=1e-6, T=20)
    b = smoothed_weiszfeld(W, weights=w, nu=1e-6, T=20, method="gram")
    np.testing.assert_allclose(b.g, a.g, rtol=1e-13)
    np.testing.assert_allclose(b.z, a.z, atol=1e-10)


def test_weight_scale_invariance(cloud):
    W, w = cloud
    a = smoothed_weiszfeld(W, weights=w, T=10)
    b = smoothed_weiszfeld(W, weights=1000 * w, T=10)
    np.testing.assert_allclose(a.z, b.z, atol=1e-13)
    np.testing.assert_allclose(a.g, b.g, rtol=1e-13)


def test_batched_equals_loop():
    rng = np.random.default_rng(0)
    P = rng.standard_normal((7, 20, 4))
    wt = rng.uniform(0.1, 1.0, (7, 20))
    res = smoothed_weiszfeld(P, weights=wt, nu=1e-5, T=12)
    for b in range(7):
        one = smoothed_weiszfeld(P[b], weights=wt[b], nu=1e-5, T=12)
        np.testing.assert_allclose(res.z[b], one.z, atol=1e-13)
        np.testing.assert_allclose(res.g[b], one.g, rtol=1e-13)


def test_batched_early_stop_freezes_each_problem():
    rng = np.random.default_rng(1)
    P = rng.standard_normal((5, 30, 3))
    P[0, :, 0] *= 1e-9  # nearly collinear: converges differently
    res = smoothed_weiszfeld(P, nu=1e-8, T=200, tol=1e-12)
    for b in range(5):
        one = smoothed_weiszfeld(P[b], nu=1e-8, T=200, tol=1e-12)
        assert res.n_iter[b] == one.n_iter
        np.testing.assert_allclose(res.z[b], one.z, atol=1e-13)


def test_blockwise_equals_per_block(cloud):
    W, _ = cloud
    med, res = blockwise_geometric_median(W, [2, 1, 3], T=25)
    edges = [0, 2, 3, 6]
    for i in range(3):
        one = smoothed_weiszfeld(W[:, edges[i] : edges[i + 1]], T=25)
        np.testing.assert_allclose(med[edges[i] : edges[i + 1]], one.z, atol=1e-13)
    med2, _ = blockwise_geometric_median(W, [np.array([0, 1]), np.array([2]), np.array([3, 4, 5])], T=25)
    np.testing.assert_allclose(med, med2, atol=0)


def test_claim17_gradient_step(cloud):
    """z+ = z - grad g_nu(z)/L (RFA Claim 17) and the variational view (Claims 15-16)."""
    W, w = cloud
    nu = 0.5
    res = smoothed_weiszfeld(W, weights=w, nu=nu, T=1, store_iterates=True)
    z0, z1 = res.iterates
    np.testing.assert_allclose(z1, z0 - smoothed_gradient(z0, W, w, nu) / res.L[0], atol=1e-12)
    eta = eta_update(z0, W, nu)
    np.testing.assert_allclose(z_update(eta, W, w), z1, atol=1e-13)
    G0 = variational_objective(z0, eta, W, w)
    assert G0 == pytest.approx(float(smoothed_objective(z0, W, w, nu)), rel=1e-13)
    assert variational_objective(z1, eta, W, w) <= G0
    assert variational_objective(z0, eta * 1.1, W, w) >= G0


def test_smoothing_gap_eq11():
    rng = np.random.default_rng(2)
    v = rng.standard_normal((500, 3)) * rng.uniform(0, 2, (500, 1))
    for nu in (1e-3, 0.5, 2.0):
        gap = smoothed_norm(v, nu) - np.linalg.norm(v, axis=1)
        assert gap.min() >= 0 and gap.max() <= nu / 2 + 1e-15


def test_objective_shapes(cloud):
    W, w = cloud
    Z = np.random.default_rng(0).standard_normal((3, 5, 6))
    g = gm_objective(Z, W, w)
    assert g.shape == (3, 5)
    assert g[1, 2] == pytest.approx(naive_objective(Z[1, 2], W, w), rel=1e-13)


def test_gradient_vanishes_at_certified_optimum(cloud):
    W, w = cloud
    opt = geometric_median_optimum(W, w)
    assert np.linalg.norm(gm_gradient(opt.x, W, w)) < 1e-12
    assert opt.lower <= opt.value <= opt.lower + 1e-12 * opt.value
    assert opt.value <= smoothed_weiszfeld(W, weights=w, nu=1e-9, T=500).g[-1] + 1e-13


def test_symmetric_cloud_exact_median():
    W, w, info = point_cloud("symmetric", m=20, d=5, seed=4)
    opt = geometric_median_optimum(W, w)
    np.testing.assert_allclose(opt.x, info["z_exact"], atol=1e-12)


def test_anchor_median_and_classic_weiszfeld():
    W, w, info = point_cloud("anchor", m=30, d=4, anchor_weight=0.5, seed=5)
    test = anchor_test(W, w)
    assert test.optimal == 0 and test.margin[0] >= 0
    opt = geometric_median_optimum(W, w)
    assert opt.certificate["method"] == "anchor test"
    np.testing.assert_allclose(opt.x, info["z_exact"], atol=0)
    res = weiszfeld(W, weights=w, T=200)
    assert res.anchor == 0 and res.termination == "anchor certified optimal"
    assert res.g[-1] - opt.value <= 1e-12
    res2 = weiszfeld(W, weights=w, T=5, x0="anchor")  # Beck-Sabach start: certified immediately
    assert res2.anchor == 0 and res2.n_iter == 0


def test_anchor_test_brute_force():
    """||R_j|| <= w_j iff w_j minimises g: compare with objective values near each anchor."""
    rng = np.random.default_rng(6)
    W = rng.standard_normal((9, 2))
    w = rng.uniform(0.1, 1, 9)
    w[4] = 3.0  # heavy but below one half of the total
    t = anchor_test(W, w)
    dirs = np.c_[np.cos(np.linspace(0, 2 * np.pi, 64)), np.sin(np.linspace(0, 2 * np.pi, 64))]
    for j in range(9):
        g0 = naive_objective(W[j], W, w)
        nearby = gm_objective(W[j] + 1e-6 * dirs, W, w)
        assert (t.optimal == j) == bool(np.all(nearby >= g0 - 1e-15)), j
        assert t.values[j] == pytest.approx(g0, rel=1e-13)


def test_classic_weiszfeld_steps_off_a_nonoptimal_anchor():
    rng = np.random.default_rng(7)
    W = rng.standard_normal((15, 3))
    res = weiszfeld(W, T=300, x0=W[3])  # start exactly at a data point that is not the median
    opt = geometric_median_optimum(W)
    assert res.anchor == -1
    assert np.all(np.diff(res.g) <= 1e-15)
    assert res.g[-1] - opt.value < 1e-10


def test_duplicate_points():
    rng = np.random.default_rng(8)
    W = np.vstack([np.repeat(rng.standard_normal((1, 3)), 6, axis=0), rng.standard_normal((5, 3))])
    t = anchor_test(W)
    assert t.mass[0] == pytest.approx(6 / 11) and t.optimal == 0
    res = weiszfeld(W, T=100)
    np.testing.assert_allclose(res.z, W[0], atol=1e-10)


def test_collinear_points():
    """Assumption 13 fails; odd m: the 1-D median (an anchor); even m: a whole segment is optimal."""
    W, w, _ = point_cloud("collinear", m=7, d=3, seed=9)
    opt = geometric_median_optimum(W, w)
    np.testing.assert_allclose(opt.x, W[3], atol=1e-12)  # points are sorted along the line
    W2, w2, _ = point_cloud("collinear", m=8, d=3, seed=9)
    opt2 = geometric_median_optimum(W2, w2)
    mid = 0.5 * (W2[3] + W2[4])
    assert opt2.value == pytest.approx(naive_objective(mid, W2, w2), rel=1e-12)
    res = smoothed_weiszfeld(W2, weights=w2, nu=1e-9, T=200)
    assert res.g[-1] - opt2.value <= 1e-9 * opt2.value


def test_fermat_point():
    W, w, _ = point_cloud("three", m=3, d=2, seed=10)
    opt = geometric_median_optimum(W, w)
    U = (W - opt.x) / np.linalg.norm(W - opt.x, axis=1)[:, None]
    cosines = [U[0] @ U[1], U[1] @ U[2], U[0] @ U[2]]
    np.testing.assert_allclose(cosines, -0.5, atol=1e-9)  # 120 degrees between every pair


def test_smoothed_optimum_certificate():
    W, w, _ = point_cloud("anchor", m=20, d=3, seed=11)
    nu = 0.2
    o = geometric_median_optimum(W, w, nu=nu)
    assert np.linalg.norm(smoothed_gradient(o.x, W, w, nu)) < 1e-11
    res = smoothed_weiszfeld(W, weights=w, nu=nu, T=3000)
    assert o.value <= res.g_nu[-1] + 1e-14
    assert float(smoothed_objective(o.x, W, w, nu)) == pytest.approx(o.value, rel=1e-14)


def test_high_dimension_optimum_uses_affine_coordinates():
    W, w, _ = point_cloud("gaussian", m=20, d=300, outlier_frac=0.2, shift=50.0, seed=12)
    opt = geometric_median_optimum(W, w)
    assert np.linalg.norm(gm_gradient(opt.x, W, w)) < 1e-12
    assert opt.certificate["certified_gap"] < 1e-10 * opt.value


def test_diameter():
    W = np.random.default_rng(0).standard_normal((50, 3))
    brute = max(np.linalg.norm(a - b) for a in W for b in W)
    assert diameter(W, chunk=7) == pytest.approx(brute, rel=1e-14)


def test_omniscient_corruption_flips_the_mean():
    U = np.random.default_rng(0).standard_normal((10, 4))
    bad = np.zeros(10, dtype=bool)
    bad[:3] = True
    V = omniscient_corruption(U, bad)
    np.testing.assert_allclose(V.mean(0), -U.mean(0), atol=1e-13)
    np.testing.assert_allclose(V[~bad], U[~bad])


def test_rfa_without_corruption_matches_fedavg_fixed_point():
    rng = np.random.default_rng(1)
    A = rng.standard_normal((8, 30, 3))
    b = A @ np.ones(3)
    none = np.zeros(8, dtype=bool)
    for agg in ("mean", "gm"):
        tr = rfa_least_squares((A, b), T=30, corrupted=none, local_steps=5, aggregator=agg)
        np.testing.assert_allclose(tr.x_final, np.ones(3), atol=1e-8)
        np.testing.assert_array_equal(tr.models[-1], tr.x_final)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(nu=0.0), "nu must be > 0"),
        (dict(nu=-1.0), "nu must be > 0"),
        (dict(weights=-np.ones(5)), "weights must be >= 0"),
        (dict(weights=np.ones(4)), "weights must have shape"),
        (dict(T=-1), "T must be an integer >= 0"),
        (dict(T=2.5), "T must be an integer >= 0"),
        (dict(method="fast"), "method must be"),
        (dict(x0=np.zeros(7)), "x0 must have shape"),
        (dict(tol=-1.0), "tol must be >= 0"),
    ],
)
def test_bad_input(kwargs, match):
    W = np.random.default_rng(0).standard_normal((5, 3))
    with pytest.raises(InvalidInput, match=match):
        smoothed_weiszfeld(W, **kwargs)


def test_bad_points():
    W = np.random.default_rng(0).standard_normal((5, 3))
    W[2, 1] = np.nan
    with pytest.raises(InvalidInput, match="points must be finite"):
        smoothed_weiszfeld(W)
    with pytest.raises(InvalidInput, match="points must have 2 or 3"):
        smoothed_weiszfeld(np.ones(4))
    with pytest.raises(InvalidInput, match="positive sum"):
        smoothed_weiszfeld(np.ones((3, 2)), weights=np.zeros(3))
    with pytest.raises(InvalidInput, match="block sizes must sum"):
        blockwise_geometric_median(np.ones((3, 4)), [1, 2])
    with pytest.raises(InvalidInput, match="single problem"):
        weiszfeld(np.ones((2, 3, 2)), x0="anchor")


def test_geom_median_side_by_side():
    """W-15: geom_median(eps=nu, maxiter=T, ftol=0) is smoothed Weiszfeld from the weighted mean."""
    gm = pytest.importorskip("geom_median.numpy")
    W, w, _ = point_cloud("gaussian", m=200, d=8, outlier_frac=0.3, shift=30.0, seed=13)
    wts = np.random.default_rng(0).uniform(0.5, 1.5, 200)
    ref = gm.compute_geometric_median(W, weights=wts, eps=1e-6, maxiter=12, ftol=0.0)
    ours = smoothed_weiszfeld(W, weights=wts, nu=1e-6, T=len(ref.logs) - 1)
    np.testing.assert_allclose(ours.g, ref.logs, rtol=1e-12)
    np.testing.assert_allclose(ours.z, ref.median, atol=1e-10)
    # to convergence: our objective is <= theirs up to 1e-12 relative
    ref = gm.compute_geometric_median(W, weights=wts, eps=1e-6)
    ours = smoothed_weiszfeld(W, weights=wts, nu=1e-6, T=100, tol=1e-15, method="gram")
    assert ours.g[-1] <= ref.logs[-1] * (1 + 1e-12)


def test_batched_classic_with_anchors_equals_singles():
    rng = np.random.default_rng(14)
    P = rng.standard_normal((6, 12, 3))
    wt = np.ones((6, 12))
    wt[::2, 0] = 12.0  # problems 0, 2, 4: the first point carries more than half the weight
    res = weiszfeld(P, weights=wt, T=400)
    for b in range(6):
        one = weiszfeld(P[b], weights=wt[b], T=400)
        assert res.anchor[b] == one.anchor == (0 if b % 2 == 0 else -1)
        assert res.n_iter[b] == one.n_iter
        np.testing.assert_allclose(res.z[b], one.z, atol=1e-12)
        np.testing.assert_allclose(res.g[b, : one.g.size], one.g, rtol=1e-13)


def test_anchor_test_subset_and_large_m():
    W, w, info = point_cloud("anchor", m=30, d=4, anchor_weight=0.5, seed=15)
    full = anchor_test(W, w)
    sub = anchor_test(W, w, indices=[5, 0, 7])
    assert sub.optimal == 0 and sub.best == 0
    np.testing.assert_allclose(sub.residual, full.residual[[5, 0, 7]], rtol=1e-14)
    with pytest.raises(InvalidInput, match="indices must be point indices"):
        anchor_test(W, w, indices=[30])
    # more points than ANCHOR_TEST_ALL: only the candidates near the median are tested
    rng = np.random.default_rng(16)
    big = rng.standard_normal((2500, 3))
    big[0] = 0.0
    wt = np.full(2500, 1.0)
    wt[0] = 2600.0
    opt = geometric_median_optimum(big, wt)
    assert opt.certificate["method"] == "anchor test" and opt.certificate["anchor"] == 0


def test_weights_whose_sum_overflows_are_normalised_safely():
    """Weights of 1e308 each sum to inf in float64: they are scaled by the largest first (the median does not
    depend on the scale of the weights), never divided by an infinite sum into zeros."""
    W = np.random.default_rng(3).standard_normal((7, 4))
    big, one = np.full(7, 1e308), np.ones(7)
    for solve in (
        lambda w: smoothed_weiszfeld(W, weights=w, nu=1e-6, T=30).z,
        lambda w: weiszfeld(W, weights=w, T=30).z,
    ):
        with np.errstate(all="raise"):  # no overflow warning either
            z = solve(big)
        np.testing.assert_allclose(z, solve(one), rtol=1e-12, atol=1e-15)
        assert np.any(z != 0)
    w = np.r_[1e308, 1e308, np.ones(5)]  # the unequal case: the same median as the rescaled weights
    np.testing.assert_allclose(
        smoothed_weiszfeld(W, weights=w, T=30).z, smoothed_weiszfeld(W, weights=w / 1e308, T=30).z, rtol=1e-12
    )
    np.testing.assert_allclose(gm_objective(W[0], W, big), gm_objective(W[0], W, one), rtol=1e-12)
