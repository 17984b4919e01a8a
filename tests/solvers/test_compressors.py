import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ratecheck.solvers import InvalidInput
from ratecheck.solvers.compressors import Identity, NaturalRounding, RandK, TopK, make

vec = st.integers(1, 12).flatmap(lambda d: arrays(np.float64, (3, d), elements=st.floats(-1e6, 1e6, allow_nan=False)))


@given(X=vec, k=st.integers(1, 12))
@settings(max_examples=60, deadline=None)
def test_topk_contraction_pointwise_and_homogeneous(X, k):
    d = X.shape[1]
    k = min(k, d)
    C = TopK(k)
    out = C(X)
    err = ((out - X) ** 2).sum(1)
    assert np.all(err <= (1 - k / d) * (X**2).sum(1) * (1 + 1e-12) + 1e-300)
    assert np.all((out != 0).sum(1) <= k)
    np.testing.assert_array_equal(C(2.5 * X), 2.5 * out)


def test_topk_batched_over_leading_axes_and_kept_entries():
    X = np.array([[[3.0, -5.0, 1.0], [0.0, 0.5, -0.2]]])
    np.testing.assert_array_equal(TopK(1)(X), [[[0, -5.0, 0], [0, 0.5, 0]]])
    assert TopK(2).alpha(4) == 0.5


def test_topk_sparse_input_contraction_k_over_r():
    rng = np.random.default_rng(0)
    X = np.zeros((50, 40))
    X[:, :5] = rng.standard_normal((50, 5))  # r = 5 nonzeros
    err = ((TopK(2)(X) - X) ** 2).sum(1)
    assert np.all(err <= (1 - 2 / 5) * (X**2).sum(1) + 1e-15)


def test_randk_contraction_in_expectation():
    rng = np.random.default_rng(1)
    x = rng.standard_normal(10)
    X = np.broadcast_to(x, (20000, 10))
    err = ((RandK(3)(X, rng) - X) ** 2).sum(1)
    assert err.mean() == pytest.approx((1 - 0.3) * (x**2).sum(), rel=0.02)
    with pytest.raises(InvalidInput, match="rng"):
        RandK(3)(X)


@given(X=vec)
@settings(max_examples=60, deadline=None)
def test_natural_rounding_contraction_and_powers_of_two(X):
    out = NaturalRounding()(X)
    assert np.all(((out - X) ** 2).sum(1) <= (1 / 9) * (X**2).sum(1) * (1 + 1e-12))
    nz = out[out != 0]
    assert np.allclose(np.log2(np.abs(nz)), np.round(np.log2(np.abs(nz))))


def test_natural_rounding_is_not_homogeneous():
    x = np.array([1.0, 3.0])
    assert not np.allclose(NaturalRounding()(1.5 * x), 1.5 * NaturalRounding()(x))
    assert not NaturalRounding.homogeneous and TopK(1).homogeneous


def test_bits_accounting():
    assert TopK(2).bits(1000) == 2 * 32 + 2 * 10
    assert TopK(2).bits(1000, count_indices=False) == 64
    assert Identity().bits(7) == 7 * 32
    assert NaturalRounding().bits(10) == 90


def test_bad_input():
    with pytest.raises(InvalidInput, match=r"k must satisfy 1 <= k <= d, got k=5 > d=3"):
        TopK(5)(np.ones((2, 3)))
    with pytest.raises(InvalidInput, match="k must be an integer >= 1"):
        TopK(0)
    with pytest.raises(InvalidInput, match="unknown compressor"):
        make("zip")
    assert make("top-3").k == 3 and make("identity").alpha(5) == 1.0


def test_scaled_identity_from_name_and_reset_per_ef21_run():
    """`scaled-L0,L1` builds the schedule; every EF21 run restarts it (two runs give the same trajectory)."""
    from ratecheck.solvers.compressors import ScaledIdentity, make
    from ratecheck.solvers.ef21 import ef21
    from ratecheck.solvers.problems import QuadraticClients

    c = make("scaled-1.7,0.5")
    assert isinstance(c, ScaledIdentity) and c.alpha(4) == pytest.approx(1 - 0.7**2)
    with pytest.raises(InvalidInput, match="factors must be numbers"):
        make("scaled-x")
    prob = QuadraticClients(np.array([[[0.3]]]), np.zeros((1, 1)))
    a = ef21(prob, np.array([1.0]), gamma=0.5, T=4, compressor=c, init="zero")
    b = ef21(prob, np.array([1.0]), gamma=0.5, T=4, compressor=c, init="zero")
    np.testing.assert_array_equal(a.f, b.f)
