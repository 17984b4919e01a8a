import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ratecheck import theorems
from ratecheck.solvers import InvalidInput
from ratecheck.solvers.compressors import Identity, NaturalRounding, RandK, TopK
from ratecheck.solvers.ef21 import ef21
from ratecheck.verify.instances import ef21_constants, heterogeneous_least_squares, heterogeneous_logistic


def _problem(seed=0, **kw):
    kw.setdefault("spread", 2.0)
    return heterogeneous_least_squares(n=kw.pop("n", 8), d=kw.pop("d", 6), m=kw.pop("m", 4), seed=seed, **kw)


def test_identity_compressor_is_gradient_descent():
    P = _problem()
    x0 = np.random.default_rng(0).standard_normal(P.d)
    tr = ef21(P, x0, gamma=1 / P.L, compressor=Identity(), T=40, checkpoints=range(41))
    x = x0.copy()
    for t in range(40):
        x = x - P.grad(x) / P.L
        np.testing.assert_allclose(tr.x_checkpoints[0, t + 1], x, rtol=1e-12, atol=1e-14)


def _lyapunov_step_holds(P, k, init, gamma_rule, seed):
    comp = TopK(k)
    c = ef21_constants(P, comp)
    gamma = theorems.get(gamma_rule).max_stepsize(**c)
    x0 = np.random.default_rng(seed).standard_normal(P.d)
    tr = ef21(P, x0, gamma=gamma, compressor=comp, T=200, init=init, lyapunov={"qm": np.full(P.n, 1 / P.n)})
    phi = tr.f[0] + gamma / (2 * c["theta_c"]) * tr.G["qm"][0]
    lhs = phi[1:]
    rhs = phi[:-1] - gamma / 2 * tr.grad_norm_sq[0, :-1]
    return np.all(lhs <= rhs + 1e-12 * np.abs(rhs).max())


@given(seed=st.integers(0, 10_000), k=st.integers(1, 5), init=st.sampled_from(["grad", "zero", "compressed"]))
@settings(max_examples=25, deadline=None)
def test_per_step_lyapunov_decrease_is_pointwise_for_topk(seed, k, init):
    """Spec EF-5: f(x^{t+1}) + gamma/(2 theta) G^{t+1} <= f(x^t) + gamma/(2 theta) G^t - gamma/2 ||grad f(x^t)||^2."""
    P = _problem(seed)
    assert _lyapunov_step_holds(P, k, init, "ef21.nonconvex-qm", seed)


def test_per_step_lyapunov_fails_past_the_stepsize_rule():
    """Teeth for the pointwise inequality: far past the rule it breaks."""
    P = _problem(0)
    comp = TopK(1)
    c = ef21_constants(P, comp)
    gamma = 50 * theorems.get("ef21.nonconvex-qm").max_stepsize(**c)
    tr = ef21(P, np.ones(P.d), gamma=gamma, compressor=comp, T=100, lyapunov={"qm": np.full(P.n, 1 / P.n)})
    phi = tr.f[0] + gamma / (2 * c["theta_c"]) * tr.G["qm"][0]
    assert np.any(phi[1:] > phi[:-1] - gamma / 2 * tr.grad_norm_sq[0, :-1] + 1e-12)


@pytest.mark.parametrize("make", [_problem, lambda: heterogeneous_logistic(n=8, d=6, m=5, spread=1.5, seed=2)])
def test_ef21w_equals_ef21_for_homogeneous_and_differs_for_natural(make):
    P = make()
    w = P.L_i / P.L_i.sum()
    x0 = np.random.default_rng(1).standard_normal(P.d)
    for comp, same in ((TopK(2), True), (NaturalRounding(), False)):
        a = ef21(P, x0, gamma=0.05, compressor=comp, T=100, checkpoints=range(101))
        b = ef21(P, x0, gamma=0.05, compressor=comp, T=100, weights=w, checkpoints=range(101))
        gap = np.abs(a.x_checkpoints - b.x_checkpoints).max()
        assert (gap < 1e-12) if same else (gap > 1e-6)


def test_replications_are_independent_and_reproducible():
    P = _problem()
    kw = dict(participation=0.5, replications=4)
    a = ef21(P, np.ones(P.d), gamma=0.01, compressor=RandK(2), T=30, rng=np.random.default_rng(3), **kw)
    b = ef21(P, np.ones(P.d), gamma=0.01, compressor=RandK(2), T=30, rng=np.random.default_rng(3), **kw)
    np.testing.assert_array_equal(a.grad_norm_sq, b.grad_norm_sq)
    assert len({tuple(np.round(r, 14)) for r in a.grad_norm_sq}) == 4
    assert 0.3 < a.floats[-1] / (30 * 2) < 0.7  # half the clients send 2 floats per round on average


def test_full_participation_noiseless_counts_communication():
    P = _problem()
    tr = ef21(P, np.ones(P.d), gamma=0.01, compressor=TopK(2), T=10, init="grad")
    assert tr.floats[0] == P.d and tr.floats[-1] == P.d + 10 * 2
    assert tr.bits[-1] == P.d * 32 + 10 * (2 * 32 + 2 * 3)


def test_noise_oracle_has_the_stated_variance():
    P = _problem(n=4, d=50, spread=1.5)
    sig = np.array([0.0, 0.5, 1.0, 2.0])
    # with the identity compressor g_i^1 = noisy gradient at x^1, so the recorded error is the noise
    for i, s in enumerate(sig):
        tr_i = ef21(
            P,
            np.ones(P.d),
            gamma=1e-9,
            compressor=Identity(),
            T=1,
            init="zero",
            noise=sig,
            replications=4000,
            rng=np.random.default_rng(0),
            lyapunov={"e": np.eye(4)[i]},
        )
        assert tr_i.G["e"][:, 1].mean() == pytest.approx(s, rel=0.05, abs=1e-12)


def test_divergence_is_recorded_not_nan():
    P = _problem()
    tr = ef21(P, np.ones(P.d), gamma=1e3, compressor=TopK(1), T=500)
    assert tr.diverged_at is not None and np.isinf(tr.grad_norm_sq[0, -1])


@pytest.mark.parametrize(
    "kw,msg",
    [
        (dict(T=0), "T must be an integer >= 1"),
        (dict(gamma=0.0), "gamma must be > 0"),
        (dict(gamma=float("nan")), "gamma must be finite"),
        (dict(x0=np.ones(3)), r"x0 must have shape \(6,\)"),
        (dict(compressor=TopK(9)), "k must satisfy"),
        (dict(participation=1.5), r"participation probabilities must lie in \(0, 1\]"),
        (dict(weights=np.ones(8)), "weights must be 8 positive numbers summing to 1"),
        (dict(init="warm"), "init must be"),
        (dict(x0=np.full(6, np.inf)), "x0 must be finite"),
    ],
)
def test_bad_input(kw, msg):
    P = _problem()
    args = dict(x0=np.ones(6), gamma=0.1, compressor=TopK(1), T=5)
    args.update(kw)
    with pytest.raises(InvalidInput, match=msg):
        ef21(P, args.pop("x0"), gamma=args.pop("gamma"), compressor=args.pop("compressor"), T=args.pop("T"), **args)


# --------------------------------------------------------------------------- absurd sizes
@pytest.mark.parametrize(
    "params, words",
    [
        (dict(n=10**9), ("reduce replications, n",)),
        (dict(d=10**9), ("d",)),
        (dict(T=10**9), ("T",)),
        (dict(m=10**9), ("m",)),
        (dict(replications=10**9), ("replications",)),
    ],
)
def test_absurd_sizes_are_refused_before_allocating(refused_without_allocating, params, words):
    refused_without_allocating("ef21", params, *words)


# --------------------------------------------------------------------------- extreme finite values
@pytest.mark.parametrize(
    "params, msg",
    [
        (dict(L_am=1e60), r"L_am must be a finite number in \[1e-08, 1e\+08\], got 1e\+60"),
        (dict(L_am=1e-300), r"L_am must be a finite number in \[1e-08, 1e\+08\]"),
        (dict(noise=1e60), r"noise must be a finite number in \[0, 1e\+08\], got 1e\+60"),
        (dict(sigma2=1e300), r"sigma2 must be a finite number in \[0, 1e\+12\]"),
    ],
)
def test_extreme_values_are_refused_by_the_declared_ranges(params, msg):
    """Beyond these ranges the conic solver of the certified optimum failed (SolverError traceback at L_am=1e60,
    OptimumError at noise=1e60) or the noisy iterates overflowed (sigma2=1e300)."""
    from ratecheck import verify

    with pytest.raises(verify.UsageError, match=msg):
        verify.check("ef21.nonconvex-qm", instances=[params])


def test_the_ends_of_the_declared_ranges_run():
    from ratecheck import verify

    for params in (dict(L_am=1e8, T=50), dict(L_am=1e-8, T=50), dict(noise=1e8, T=50)):
        assert verify.check("ef21.nonconvex-qm", instances=[params])[0].verdict == "holds", params
