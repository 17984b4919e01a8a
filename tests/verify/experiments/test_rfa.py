"""RFA under heterogeneity and corruption: claims hold with their tightness, teeth are caught by check and
search, and the round solver (closed-form local steps, reused smoothed Weiszfeld) behaves as stated."""

from __future__ import annotations

import numpy as np
import pytest

from ratecheck import theorems
from ratecheck.solvers.rfa import corrupt, global_optimum, local_updates, rfa
from ratecheck.verify import check
from ratecheck.verify.checking import outcome
from ratecheck.verify.searching import search

IDS = ("rfa.convergence", "rfa.het-radius", "rfa.one-round", "rfa.margin")


@pytest.mark.parametrize("cid", IDS)
def test_claim_holds_and_teeth_caught(cid):
    vs = check(cid, quick=True)
    assert outcome(vs) == ("holds", False), [v.detail for v in vs]
    for t in theorems.teeth(cid):
        assert outcome(check(t.id, quick=True))[0] == "violated", t.id


def test_floor_scales_like_the_spread_squared():
    """Finding: H_Y is a distance: the squared-error floor has slope 2 in the spread, not 4."""
    (v,) = check("rfa.convergence", quick=True)
    assert abs(v.evidence.fit.slope - 2) < 0.05


def test_one_round_bound_is_valid_for_every_adversary():
    for v in check("rfa.one-round", quick=True):
        assert 0 < v.tightness <= 1


@pytest.mark.parametrize("tid", ["rfa.one-round~fedavg", "rfa.het-radius~omega-y-squared"])
def test_tooth_found_by_search(tid):
    assert search(tid, seed=0, shrink=False, budget=8).verdict == "violated"


def test_local_updates_closed_form_equals_k_gradient_steps():
    rng = np.random.default_rng(0)
    H, W = rng.uniform(0.5, 2, (4, 3)), rng.standard_normal((4, 3))
    w = rng.standard_normal(3)
    X = np.broadcast_to(w, (4, 3)).copy()
    for _ in range(5):
        X -= 0.3 * H * (X - W)
    np.testing.assert_allclose(local_updates(H, W, w, gamma=0.3, K=5), X, atol=1e-14)
    ws = global_optimum(H, W)
    np.testing.assert_allclose((H * (ws - W)).sum(0), 0, atol=1e-12)  # stationary for the average


def test_geometric_median_resists_what_drags_the_mean():
    rng = np.random.default_rng(1)
    H, W = rng.uniform(0.5, 2, (11, 5)), 1 + 0.5 * rng.standard_normal((11, 5))
    bad = np.arange(11) >= 7
    ws = global_optimum(H[~bad], W[~bad])
    kw = dict(gamma=0.5, T=10, rng=np.random.default_rng(2), K=5, corrupted=bad, adversary="sign-flip")
    gm, mean = rfa((H, W), np.zeros(5), aggregator="gm", **kw), rfa((H, W), np.zeros(5), aggregator="mean", **kw)
    assert np.linalg.norm(gm.w[-1] - ws) < 1.0 < np.linalg.norm(mean.w[-1] - ws)
    U = corrupt(np.ones((3, 2)), np.array([False, False, True]), "sign-flip", None)
    np.testing.assert_array_equal(U[2], [-100.0, -100.0])
