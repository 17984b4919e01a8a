"""RFA with client sampling under corruption (solvers/rfa.py) keeps the solver contract: its record is a
Trajectory subclass of its own name, with its per-round series, T, the last model and the first overflow."""

import numpy as np
import pytest

from ratecheck.solvers import Trajectory
from ratecheck.solvers.rfa import ByzantineRFATrajectory, rfa
from ratecheck.solvers.weiszfeld import RFATrajectory


def _clients(n=6, d=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.5, 2.0, (n, d)), rng.standard_normal((n, d)), np.arange(n) >= n - 2


@pytest.mark.parametrize("aggregator", ["gm", "mean"])
def test_rfa_record_is_a_trajectory_with_per_round_series(aggregator):
    H, W, bad = _clients()
    tr = rfa(
        (H, W), np.zeros(3), gamma=0.4, T=7, rng=np.random.default_rng(1), corrupted=bad, m=4, aggregator=aggregator
    )
    assert isinstance(tr, ByzantineRFATrajectory) and isinstance(tr, Trajectory)
    assert tr.T == 7 and tr.diverged_at is None
    assert set(tr.series()) == {"eps", "vartheta"}
    assert all(v.shape == (7,) for v in tr.series().values())  # the round is the last (only) axis
    assert tr.w.shape == (8, 3) and tr.selected.shape == (7, 6) and tr.selected.sum(1).tolist() == [4] * 7
    np.testing.assert_array_equal(tr.x_final, tr.w[-1])
    np.testing.assert_array_equal(tr.vartheta, (tr.selected & bad).sum(1) / 4)
    assert tr.meta == {
        "algorithm": "rfa" if aggregator == "gm" else "fedavg",
        "adversary": "scaled-mean",
        "local_steps": 3,
        "clients_per_round": 4,
    }
    if aggregator == "mean":
        np.testing.assert_array_equal(tr.eps, 0.0)


def test_rfa_record_is_not_the_least_squares_record():
    """Two different records, two names (the least-squares RFA of solvers/weiszfeld.py keeps RFATrajectory)."""
    assert ByzantineRFATrajectory is not RFATrajectory
    assert ByzantineRFATrajectory.__name__ != RFATrajectory.__name__


def test_rfa_diverged_at_is_the_first_non_finite_round():
    H, W, _ = _clients()
    with np.errstate(over="ignore", invalid="ignore"):
        tr = rfa((H, W), np.ones(3), gamma=1e40, T=12, rng=np.random.default_rng(0), aggregator="mean", K=4)
    finite = np.isfinite(tr.w).all(1)
    assert not finite.all() and finite[0]
    assert tr.diverged_at == int(np.argmin(finite)) and finite[: tr.diverged_at].all()


def test_a_round_with_only_corrupted_clients_selected_stays_finite():
    """With every selected client corrupted there is no good update to imitate: the adversary imitates the
    server model the round started from (zero when none is given), never the NaN of an empty mean."""
    import warnings

    from ratecheck.solvers.rfa import corrupt, rfa

    U = np.ones((3, 2))
    all_bad = np.ones(3, bool)
    np.testing.assert_array_equal(
        corrupt(U, all_bad, "sign-flip", None, reference=[1.0, 2.0]), -100.0 * np.array([[1.0, 2.0]] * 3)
    )
    np.testing.assert_array_equal(corrupt(U, all_bad, "sign-flip", None), np.zeros((3, 2)))
    rng = np.random.default_rng(0)
    H, W = rng.uniform(0.5, 2, (6, 3)), 1 + 0.5 * rng.standard_normal((6, 3))
    bad = np.arange(6) >= 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "Mean of empty slice"
        tr = rfa(
            (H, W),
            np.zeros(3),
            gamma=0.5,
            T=40,
            rng=np.random.default_rng(3),
            K=2,
            corrupted=bad,
            m=1,
            adversary="scaled-mean",
            aggregator="mean",
        )
    assert (tr.vartheta == 1.0).any() and np.isfinite(tr.w).all() and tr.diverged_at is None
