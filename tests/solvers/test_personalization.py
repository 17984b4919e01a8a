"""FedSim / FedAlt (solvers/personalization.py) keep the solver contract: run(problem, x0, *, ..., T, rng, ...)
returns a Trajectory subclass whose series have the round as last axis, with T, the last point and the first
overflow."""

import numpy as np
import pytest

from ratecheck.solvers import InvalidInput, Trajectory
from ratecheck.solvers.personalization import PersonalizationTrajectory, QuadraticClients, run


def _clients(n=4, du=2, dv=1, seed=0):
    rng = np.random.default_rng(seed)
    p = du + dv
    A = rng.standard_normal((n, p, p))
    return QuadraticClients(A @ A.transpose(0, 2, 1) / p + 0.1 * np.eye(p), rng.standard_normal((n, p)), du)


@pytest.mark.parametrize("replications", [None, 5])
def test_run_record_is_a_trajectory_with_per_round_series(replications):
    prob = _clients()
    kw = dict(gamma_u=0.1, gamma_v=0.1, T=6, m=2, sigma_u=0.5, algorithm="fedalt", replications=replications)
    tr = run(prob, (np.zeros(2), np.zeros((4, 1))), rng=np.random.default_rng(3), **kw)
    lead = () if replications is None else (replications,)
    assert isinstance(tr, PersonalizationTrajectory) and isinstance(tr, Trajectory)
    assert tr.T == 6 and tr.diverged_at is None
    assert tr.meta == {"algorithm": "fedalt", "clients_per_round": 2}
    assert set(tr.series()) == {"stationarity", "values"}
    assert all(v.shape == lead + (7,) for v in tr.series().values())  # rounds 0..T on the last axis
    assert tr.x_final.shape == lead + (2 + 4 * 1,)
    u, V = prob.split(tr.x_final)
    np.testing.assert_allclose(tr.values[..., -1], prob.value(u, V), rtol=1e-12)
    np.testing.assert_array_equal(prob.join(u, V), tr.x_final)


def test_run_takes_the_start_as_a_pair_or_flat():
    prob = _clients()
    u0, V0 = np.arange(2.0), -np.arange(4.0).reshape(4, 1)
    kw = dict(gamma_u=0.1, gamma_v=0.2, T=4, m=3, sigma_v=0.3)
    a = run(prob, (u0, V0), rng=np.random.default_rng(0), **kw)
    b = run(prob, prob.join(u0, V0), rng=np.random.default_rng(0), **kw)
    np.testing.assert_array_equal(a.stationarity, b.stationarity)
    np.testing.assert_array_equal(a.x_final, b.x_final)


@pytest.mark.parametrize("x0", [np.zeros(5), (np.zeros(2), np.zeros((3, 1))), (np.zeros(2),)])
def test_run_refuses_a_start_of_the_wrong_shape(x0):
    with pytest.raises(InvalidInput, match=r"x0 must be a pair \(u0, V0\) of shapes \(2,\) and \(4, 1\)"):
        run(_clients(), x0, gamma_u=0.1, gamma_v=0.1, T=2, rng=np.random.default_rng(0))


def test_run_diverged_at_is_the_first_non_finite_round():
    prob = _clients()
    with np.errstate(over="ignore", invalid="ignore"):
        tr = run(prob, np.ones(6), gamma_u=1e60, gamma_v=1e60, T=12, rng=np.random.default_rng(0))
    finite = np.isfinite(tr.stationarity) & np.isfinite(tr.values)
    assert not finite.all() and finite[0]
    assert tr.diverged_at == int(np.argmin(finite)) and finite[: tr.diverged_at].all()
