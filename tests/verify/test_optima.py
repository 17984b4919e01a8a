import numpy as np
import pytest

from ratecheck.verify.instances import heterogeneous_least_squares, heterogeneous_logistic
from ratecheck.verify.optima import least_squares_optimum, logistic_lower_bound


def test_least_squares_certificate():
    P = heterogeneous_least_squares(n=10, d=8, m=5, seed=4)
    opt = least_squares_optimum(P)
    c = opt.certificate
    assert c["pl_gap"] <= 1e-9 and c["solver_disagreement"] <= 1e-6
    assert opt.lower <= opt.value
    rng = np.random.default_rng(0)
    assert np.all(P.value(rng.standard_normal((50, P.d))) >= opt.lower)
    x_np, f_np = P.minimize()
    assert f_np == pytest.approx(opt.value, rel=1e-9)


def test_logistic_lower_bound_certificate():
    P = heterogeneous_logistic(n=10, d=5, m=8, spread=1.5, seed=1)
    opt = logistic_lower_bound(P)
    c = opt.certificate
    assert c["dual_feasible"] and c["constraint_residual"] < 1e-8
    assert 0 <= opt.lower <= c["primal"] and c["duality_gap"] < 1e-5
    rng = np.random.default_rng(0)
    assert np.all(P.value(rng.standard_normal((200, P.d)) * 3) >= opt.lower)


def test_non_finite_certificates_are_refused_where_the_optimum_is_built():
    """An overflow or a NaN is never a certificate: value, lower bound, point and every number of the
    certificate must be finite (a bare lower bound without a point may carry value=nan)."""
    from ratecheck.verify.optima import Optimum, OptimumError

    Optimum(np.zeros(2), 1.0, 0.5, {"method": "m", "gap": 0.5})
    Optimum(None, float("nan"), 0.0, {"method": "trivial bound 0 (solver failed)"})
    for kw, what in (
        (dict(value=np.inf), "value=inf"),
        (dict(lower=np.nan), "lower=nan"),
        (dict(x=np.array([np.inf, 0.0])), "point"),
        (dict(certificate={"method": "m", "gap": np.nan}), "gap=nan"),
    ):
        args = dict(x=np.zeros(2), value=1.0, lower=0.5, certificate={"method": "m"}) | kw
        with pytest.raises(OptimumError, match=f"m: the certificate is not finite .*{what}"):
            Optimum(**args)


def test_least_squares_optimum_of_an_overflowing_problem_is_refused():
    """Targets of 1e160 overflow the conic solver: a failure to certify (OptimumError), not a traceback."""
    from ratecheck.verify.optima import OptimumError

    P = heterogeneous_least_squares(n=10, d=8, m=5, seed=4)
    P.b = P.b * 1e160
    with np.errstate(all="ignore"), pytest.raises(OptimumError, match="least_squares_optimum: Solver"):
        least_squares_optimum(P)


def test_geometric_median_optimum_with_weights_whose_sum_overflows():
    """Weights of 1e308 each sum to inf: they are scaled by the largest first, so the certified median is that
    of the equal weights (it was refused as 'weights must have a positive sum' after dividing by inf)."""
    from ratecheck.verify.optima import geometric_median_optimum

    W = np.random.default_rng(3).standard_normal((7, 4))
    with np.errstate(all="raise"):
        big = geometric_median_optimum(W, np.full(7, 1e308))
    one = geometric_median_optimum(W, np.ones(7))
    np.testing.assert_allclose(big.x, one.x, rtol=1e-12, atol=1e-15)
    assert big.value == pytest.approx(one.value, rel=1e-12) and big.lower == pytest.approx(one.lower, rel=1e-9)
    w = np.r_[1e308, 1e308, np.ones(5)]
    np.testing.assert_allclose(geometric_median_optimum(W, w).x, geometric_median_optimum(W, w / 1e308).x, rtol=1e-9)
