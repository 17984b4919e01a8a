"""The batched 3PC mechanisms and the generic solver: each map is the formula of its table row on every client at
once, deterministic mechanisms satisfy the 3PC inequality with their declared (A, B) pointwise, randomized ones in
expectation, and the solver's records (G, skipped rounds, floats, bits) are consistent."""

import numpy as np
import pytest

from ratecheck.solvers import InvalidInput
from ratecheck.solvers import three_point as tp
from ratecheck.solvers.compressors import TopK
from ratecheck.verify.instances import heterogeneous_least_squares

DET = ["gd", "ef21", "lag", "clag", "3pcv1", "3pcv3", "3pcv4", "adacgd"]


def _triples(rng, R=(), n=7, d=9):
    H, Y, X = (rng.standard_normal((*R, n, d)) for _ in range(3))
    return H, Y, X


def _sq(D):
    return np.einsum("...d,...d->...", D, D)


@pytest.mark.parametrize("name", DET)
def test_deterministic_mechanisms_satisfy_their_declared_inequality_pointwise(name):
    rng = np.random.default_rng(0)
    comp = "top-1,top-3" if name in ("3pcv4", "adacgd") else "top-2"
    for zeta in (0.0, 0.3, 5.0):
        m = tp.make(name, compressor=comp, zeta=zeta)
        A, B = m.constants(9)
        for scale in (0.01, 1.0, 100.0):  # x close to y, or far
            H, Y, X = _triples(rng, (20,))
            X = Y + scale * (X - Y)
            out = m(H, Y, X)
            G, fl, bi = out[:3]
            if len(out) > 3:  # the optional per-client error is ||G - X||^2
                np.testing.assert_allclose(out[3], _sq(G - X), rtol=1e-12, atol=1e-14)
            assert G.shape == X.shape and fl.shape == X.shape[:-1] == bi.shape
            lhs, rhs = _sq(G - X), (1 - A) * _sq(H - Y) + B * _sq(X - Y)
            assert np.all(lhs <= rhs * (1 + 1e-12) + 1e-12), (name, zeta, scale)


@pytest.mark.parametrize("name", ["3pcv2", "3pcv5"])
def test_randomized_mechanisms_satisfy_it_in_expectation(name):
    rng = np.random.default_rng(1)
    m = tp.make(name, compressor="top-2", p=0.3, k=3)
    A, B = m.constants(9)
    H, Y, X = _triples(rng)
    N = 20000
    G = m(*(np.broadcast_to(Z, (N, *Z.shape)) for Z in (H, Y, X)), rng)[0]
    e = _sq(G - X)
    mean, se = e.mean(0), e.std(0) / np.sqrt(N)
    rhs = (1 - A) * _sq(H - Y) + B * _sq(X - Y)
    assert np.all(mean - 4 * se <= rhs)
    assert np.all(e <= m.error_range(H, Y, X) * (1 + 1e-12))  # the stated range holds for every draw


def test_lag_is_the_formula_and_skips_when_the_trigger_does_not_fire():
    rng = np.random.default_rng(2)
    H, Y, X = _triples(rng)
    X[:3] = H[:3] + 1e-3 * (X[:3] - Y[:3])  # x close to h: no upload
    lag = tp.LAG(1.0)
    G, fl, bi, _ = lag(H, Y, X, bits_per_float=16)
    fire = _sq(X - H) > _sq(X - Y)
    assert not fire[:3].any() and fire[3:].all()
    np.testing.assert_array_equal(G, np.where(fire[:, None], X, H))
    np.testing.assert_array_equal(fl, 9 * fire)
    np.testing.assert_array_equal(bi, 9 * 16 * fire)


def test_clag_with_identity_is_lag_and_ef21_is_h_plus_compressed_difference():
    rng = np.random.default_rng(3)
    H, Y, X = _triples(rng)
    a = tp.make("clag", compressor="identity", zeta=0.7)(H, Y, X)
    b = tp.LAG(0.7)(H, Y, X)
    np.testing.assert_allclose(a[0], b[0], rtol=0, atol=1e-14)  # h + (x - h) is x up to one rounding
    np.testing.assert_array_equal(a[1], b[1])
    G = tp.EF21(TopK(2))(H, Y, X)[0]
    np.testing.assert_array_equal(G, H + TopK(2)(X - H))
    assert tp.make("clag", compressor="identity", zeta=0.7).constants(9) == (1.0, 0.7)


def test_adaptive_choice_takes_the_first_passing_candidate():
    rng = np.random.default_rng(4)
    H, Y, X = _triples(rng)
    m = tp.AdaptiveChoice([TopK(1), TopK(9)], zeta=0.0, send_nothing=False)  # nothing passes: fallback = identity
    G, fl, _ = m(H, Y, X)[:3]
    np.testing.assert_allclose(G, X)
    assert np.all(fl == 9)
    m = tp.AdaptiveChoice([TopK(1), TopK(9)], zeta=1e9)  # "send nothing" passes for everyone
    G, fl, _ = m(H, Y, X)[:3]
    np.testing.assert_array_equal(G, H)
    assert np.all(fl == 0)


def test_solver_records_and_user_mechanisms():
    P = heterogeneous_least_squares(n=4, d=6, m=5, spread=1.5, seed=0)
    x0 = np.ones(6)
    tr = tp.three_point(P, x0, gamma=0.05, T=30, mechanism=tp.LAG(2.0), record_clients=True)
    assert tr.G[0, 0] == 0 and tr.A == 1 and tr.B == 2
    # the recorded per-client terms reproduce G: G^(t+1) = mean_i err_i^t
    np.testing.assert_allclose(tr.err[0].mean(axis=1), tr.G[0, 1:], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(tr.d_hy[0].mean(axis=1), tr.G[0, :-1], rtol=1e-12, atol=1e-15)
    assert np.all(np.diff(tr.floats) == 6 * (1 - tr.skipped))
    gd = tp.three_point(P, x0, gamma=0.05, T=30, mechanism=tp.GD())
    lag0 = tp.three_point(P, x0, gamma=0.05, T=30, mechanism=tp.LAG(0.0))
    np.testing.assert_allclose(lag0.grad_norm_sq, gd.grad_norm_sq, rtol=1e-12)  # zeta = 0: LAG is GD
    with pytest.raises(InvalidInput, match="rng"):
        tp.three_point(P, x0, gamma=0.05, T=3, mechanism=tp.make("3pcv5"))
    with pytest.raises(InvalidInput, match="unknown mechanism"):
        tp.make("no-such")
    with pytest.raises(InvalidInput, match="mechanism must be"):
        tp.three_point(P, x0, gamma=0.05, T=3, mechanism="lag")


def test_stop_below_is_the_prefix_of_the_full_run_up_to_the_accuracy():
    P = heterogeneous_least_squares(n=4, d=6, m=5, spread=1.5, seed=0)
    x0 = np.ones(6)
    clag = tp.CLAG(TopK(2), 1.0)
    full = tp.three_point(P, x0, gamma=0.05, T=400, mechanism=clag, record_clients=True)
    target = 1e-3 * full.grad_norm_sq[0, 0]
    hit = int(np.flatnonzero(full.grad_norm_sq[0] <= target)[0])
    short = tp.three_point(P, x0, gamma=0.05, T=400, mechanism=clag, record_clients=True, stop_below=target)
    assert short.T == hit < 400
    for name in ("grad_norm_sq", "f", "G"):
        np.testing.assert_array_equal(getattr(short, name), getattr(full, name)[:, : hit + 1])
    np.testing.assert_array_equal(short.bits, full.bits[: hit + 1])
    np.testing.assert_array_equal(short.skipped, full.skipped[:hit])
    np.testing.assert_array_equal(short.err, full.err[:, :hit])
    never = tp.three_point(P, x0, gamma=0.05, T=50, mechanism=clag, stop_below=0.0)
    np.testing.assert_array_equal(never.grad_norm_sq, full.grad_norm_sq[:, :51])
    assert tp.three_point(P, x0, gamma=0.05, T=50, mechanism=clag, stop_below=1e300).T == 0
    with pytest.raises(InvalidInput, match="stop_below"):
        tp.three_point(P, x0, gamma=0.05, T=5, mechanism=clag, stop_below=float("nan"))


def test_replications_run_together_with_one_coin_per_replication():
    P = heterogeneous_least_squares(n=4, d=6, m=5, spread=1.5, seed=0)
    tr = tp.three_point(
        P, np.ones(6), gamma=0.05, T=40, mechanism=tp.make("3pcv5", p=0.5), rng=np.random.default_rng(0), replications=8
    )
    assert tr.grad_norm_sq.shape == (8, 41) and np.isfinite(tr.grad_norm_sq).all()
    assert not np.allclose(tr.grad_norm_sq[0], tr.grad_norm_sq[1])


@pytest.mark.parametrize("R", [(), (2,)])
@pytest.mark.parametrize("name", ["lag", "clag", "ef21", "gd"])
def test_the_solvers_in_place_form_is_the_map(name, R):
    """``advance`` (in place, block by block, the exact Top-k by a row sort with
    ``argpartition`` for tied rows) equals ``__call__`` entry for entry: integer data give ties at the k-th
    magnitude, a NaN row and x = h rows are included, and the solver's aliasing h is y is taken."""
    rng = np.random.default_rng(5)
    n, d = 3000, 100  # several blocks
    H, Y, X = (rng.integers(-3, 4, size=(*R, n, d)).astype(float) for _ in range(3))
    X[..., :50, :] = H[..., :50, :]  # nothing to send
    X[..., 50:60, :] = Y[..., 50:60, :] + 0.5 * (X[..., 50:60, :] - Y[..., 50:60, :])  # fires for zeta < 1
    X[..., 60, 3] = np.nan
    if R:  # the solver's gradients of several replications are strided views: so are these
        Y, X = (np.ascontiguousarray(Z.swapaxes(0, 1)).swapaxes(0, 1) for Z in (Y, X))
        assert not Y.flags.c_contiguous
    for comp in ("top-1", "top-7", "top-100"):
        for zeta in (0.5, 1.0, 4.0):
            m = tp.make(name, compressor=comp, zeta=zeta)
            for Hin in (H, Y):  # h is y: the solver passes one array after every client sent its gradient
                want = m(Hin, Y, X)
                state = Hin.copy() if Hin is H else Y.copy()
                Yin = state if Hin is Y else Y
                G, fl, bi, err, changed = m.advance(state, Yin, X)
                np.testing.assert_array_equal(G, want[0])
                np.testing.assert_array_equal(fl, want[1])
                np.testing.assert_array_equal(bi, want[2])
                if err is not None:
                    np.testing.assert_array_equal(err, want[3] if len(want) > 3 else _sq(want[0] - X))
                if changed is not None:
                    assert changed == np.count_nonzero(np.any(want[0] != Hin, axis=-1) | np.isnan(want[0]).any(-1))


def test_trajectory_helpers_and_the_definition_terms_by_fresh_draws():
    run_mean = np.array([5.0, 3.0, 4.0, 1.0, 2.0, 0.5])  # running means over 1..6 rounds
    # the smallest T0 after which every running mean is <= the target; T + 1 = 7 when the last is above
    np.testing.assert_array_equal(tp.rounds_below(run_mean, [6.0, 4.0, 2.0, 1.0, 0.1]), [1, 2, 4, 6, 7])
    P = heterogeneous_least_squares(n=4, d=6, m=5, spread=1.5, seed=0)
    tr = tp.three_point(P, np.ones(6), gamma=0.05, T=10, mechanism=tp.LAG(2.0))
    np.testing.assert_allclose(tr.running_mean()[0, 2], tr.grad_norm_sq[0, :3].mean(), rtol=1e-15)
    np.testing.assert_allclose(tr.lyapunov(1.0, 0.5), tr.f - 1.0 + 0.5 * tr.G)
    rng = np.random.default_rng(6)
    H, Y, X = _triples(rng, (2,), n=3, d=5)
    for mech, ranged in (
        (tp.make("3pcv2", compressor="top-2", k=2), True),
        (tp.make("3pcv2", compressor="natural"), False),
    ):
        err, dhy, dxy, srange = tp.definition_samples(mech, H, Y, X, 50, rng)
        assert err.shape == (50, 6) and dhy.shape == dxy.shape == (6,)
        np.testing.assert_allclose(dhy, _sq(H - Y).ravel())
        assert (srange is not None) == ranged  # a mechanism without a stated range gives None (no error)
    assert tp.make("lag", zeta=2.0).checked_constants(3) == (1.0, 2.0)
    bold = tp.LAG(1.0)
    bold.constants = lambda d: (1.5, 0.0)
    with pytest.raises(InvalidInput, match="declared constants must satisfy 0 < A <= 1"):
        bold.checked_constants(3)
    tp.register("not-a-mechanism", lambda **kw: object())
    try:
        with pytest.raises(InvalidInput, match="its factory must return"):
            tp.make("not-a-mechanism")
    finally:
        tp._FACTORIES.pop("not-a-mechanism")
