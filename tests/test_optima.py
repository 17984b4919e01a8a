import numpy as np
import pytest

from verify.instances import heterogeneous_least_squares, heterogeneous_logistic
from verify.optima import least_squares_optimum, logistic_lower_bound


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
