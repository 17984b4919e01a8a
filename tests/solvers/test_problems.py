import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ratecheck.solvers import InvalidInput
from ratecheck.solvers.problems import LeastSquares, NonconvexLogistic
from ratecheck.verify.checking import UsageError
from ratecheck.verify.instances import heterogeneous_least_squares, heterogeneous_logistic, smoothness_profile


def _fd_grad(f, x, eps=1e-6):
    e = np.eye(x.size)
    return np.array([(f(x + eps * e[j]) - f(x - eps * e[j])) / (2 * eps) for j in range(x.size)])


@pytest.mark.parametrize(
    "make",
    [
        lambda: heterogeneous_least_squares(n=5, d=4, m=3, seed=1),
        lambda: heterogeneous_logistic(n=5, d=4, m=3, spread=1.5, L_am=2.0, seed=1),
    ],
)
def test_gradients_match_finite_differences(make):
    P = make()
    x = np.random.default_rng(2).standard_normal(P.d)
    np.testing.assert_allclose(P.grad(x), _fd_grad(lambda z: float(P.value(z)), x), rtol=1e-5, atol=1e-7)
    vals, grads = P.value_and_grad(x)
    for i in range(P.n):  # per client

        def fi(z, i=i):
            return float(P.value_and_grad(z)[0][i])

        np.testing.assert_allclose(grads[i], _fd_grad(fi, x), rtol=1e-5, atol=1e-7)


def test_batched_and_per_client_shapes_agree():
    P = heterogeneous_least_squares(n=4, d=3, m=2, spread=1.5, seed=0)
    X = np.random.default_rng(0).standard_normal((5, 3))
    v, g = P.value_and_grad(X)
    assert v.shape == (5, 4) and g.shape == (5, 4, 3)
    for r in range(5):
        v1, g1 = P.value_and_grad(X[r])
        np.testing.assert_allclose(v[r], v1)
        np.testing.assert_allclose(g[r], g1)
    vp, gp = P.value_and_grad(np.broadcast_to(X[0], (4, 3)), per_client=True)
    np.testing.assert_allclose(gp, P.value_and_grad(X[0])[1])


def test_least_squares_constants_are_exact():
    P = heterogeneous_least_squares(n=6, d=5, m=4, seed=3)
    for i in range(P.n):  # brute force per client
        Hi = 2 / P.m * P.A[i].T @ P.A[i]
        assert P.L_i[i] == pytest.approx(np.linalg.eigvalsh(Hi)[-1], rel=1e-12)
    H = np.mean([2 / P.m * P.A[i].T @ P.A[i] for i in range(P.n)], axis=0)
    ev = np.linalg.eigvalsh(H)
    assert P.L == pytest.approx(ev[-1], rel=1e-12) and P.mu == pytest.approx(ev[0], rel=1e-9)
    assert P.L <= P.L_am <= P.L_qm


def test_logistic_constants_bound_the_hessian():
    P = heterogeneous_logistic(n=4, d=3, m=5, spread=1.5, L_am=2.0, seed=0)
    rng = np.random.default_rng(0)
    for _ in range(5):
        x = rng.standard_normal(3) * 3
        H = np.array([_fd_grad(lambda z, j=j: float(P.grad(z)[j]), x, 1e-5) for j in range(3)])
        assert np.max(np.abs(np.linalg.eigvalsh((H + H.T) / 2))) <= P.L * (1 + 1e-4)


@given(
    n=st.integers(2, 40),
    frac=st.floats(0.0, 0.9),
    profile=st.sampled_from(["outlier", "geometric"]),
    L_am=st.floats(0.1, 10),
)
@settings(max_examples=40, deadline=None)
def test_smoothness_profile_hits_targets(n, frac, profile, L_am):
    spread = 1 + frac * (np.sqrt(n) - 1) * (0.5 if profile == "geometric" else 1)
    L = smoothness_profile(n, spread, profile, L_am)
    assert L.mean() == pytest.approx(L_am, rel=1e-9)
    assert np.sqrt((L**2).mean()) / L.mean() == pytest.approx(spread, rel=1e-8)


def test_instance_constants_recomputed_match_targets():
    P = heterogeneous_least_squares(n=10, d=6, m=4, spread=2.0, seed=5)
    assert P.L_qm / P.L_am == pytest.approx(2.0, rel=1e-9) and P.L_am == pytest.approx(1.0, rel=1e-9)


def test_clone_preserves_objective_and_spec_example():
    P = heterogeneous_least_squares(n=4, d=3, m=2, spread=1.5, seed=0)
    counts = np.ceil(P.L_i / P.L_am - 1e-12).astype(int)
    Q = P.clone(counts)
    x = np.random.default_rng(1).standard_normal(3)
    assert Q.n == counts.sum() and float(Q.value(x)) == pytest.approx(float(P.value(x)), rel=1e-12)
    N = counts.sum()
    assert Q.L_qm == pytest.approx(np.sqrt(N / P.n**2 * np.sum(P.L_i**2 / counts)), rel=1e-10)
    # spec section 1.6: L_i = (1,1,1,100) -> N_i = (1,1,1,4), M_qm ~ 33.09 <= sqrt(2) L_am ~ 36.42
    L = np.array([1.0, 1, 1, 100])
    Ni = np.ceil(L / L.mean())
    assert list(Ni) == [1, 1, 1, 4]
    assert np.sqrt(Ni.sum() / 16 * np.sum(L**2 / Ni)) == pytest.approx(33.09, abs=0.01)


def test_bad_input_messages():
    A = np.ones((2, 3, 4))
    b = np.ones((2, 3))
    with pytest.raises(InvalidInput, match=r"b must have shape \(n, m\)"):
        LeastSquares(A, np.ones((2, 2)))
    A2 = A.copy()
    A2[0, 0, 0] = np.nan
    with pytest.raises(InvalidInput, match="A must be finite"):
        LeastSquares(A2, b)
    with pytest.raises(InvalidInput, match="L_i > 0"):
        LeastSquares(np.zeros((2, 3, 4)), b)
    with pytest.raises(InvalidInput, match="labels"):
        NonconvexLogistic(A, b * 0.5)
    with pytest.raises(InvalidInput, match=r"x must have shape"):
        LeastSquares(A + np.arange(4), b).value(np.ones(3))
    with pytest.raises(UsageError, match=r"spread must lie in \[1, sqrt\(n\)\)"):
        smoothness_profile(4, 2.5)
    with pytest.raises(UsageError, match="n must be an integer"):
        heterogeneous_least_squares(n=0)
