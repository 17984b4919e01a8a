"""RFA under heterogeneity and corruption: claims hold with their tightness, teeth are caught by check and
search, and the round solver (closed-form local steps, reused smoothed Weiszfeld) behaves as stated."""

from __future__ import annotations

import numpy as np
import pytest

from ratecheck import theorems
from ratecheck.solvers.rfa import corrupt, global_optimum, local_updates, rfa, select_clients
from ratecheck.verify import check
from ratecheck.verify.checking import outcome
from ratecheck.verify.searching import search

IDS = (
    "rfa.convergence",
    "rfa.convergence-rounds",
    "rfa.convergence-margin",
    "rfa.convergence-eps",
    "rfa.het-radius",
    "rfa.one-round",
    "rfa.margin",
)


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


def test_poster_shape_slopes():
    """The poster's bound, slope by slope: at least 2^-t in the rounds (super-exponential here: exact local steps),
    at most 1/upsilon^2 in the margin (measured 1.8), exactly eps^2 in the median's accuracy."""
    (r, rs) = check("rfa.convergence-rounds", quick=True)
    assert r.evidence.fit.slope < -5 and rs.evidence.fit.slope < -5
    (mg,) = check("rfa.convergence-margin", quick=True)
    assert 1.0 < mg.evidence.fit.slope <= 2.1
    assert np.all(np.diff(mg.evidence.measured) > 0)  # the floor grows as the margin shrinks
    for v in check("rfa.convergence-eps", quick=True):
        assert abs(v.evidence.fit.slope - 2) < 1e-6


def test_heterogeneity_stalls_the_rounds_slope():
    """The tooth: with spread optima the squared error stalls at its floor (slope ~ 0 in 2^t)."""
    v = check("rfa.convergence-rounds~no-heterogeneity-term", quick=True)[0]
    assert abs(v.evidence.fit.slope) < 0.1 and v.verdict == "violated"


def test_one_round_bound_under_client_sampling():
    """m_sel of n selected per round: per-round vartheta among the selected; rounds with vartheta >= 1/2 left out."""
    inst = [dict(n_good=14, n_bad=4, m_sel=m) for m in (5, 9)] + [dict(n_good=7, n_bad=4, m_sel=5)]
    vs = check("rfa.one-round", instances=inst)
    assert all(v.verdict == "holds" for v in vs), [v.detail for v in vs]
    th = vs[0].evidence.series["vartheta"]
    assert th.min() < th.max()  # the selection moves the corrupted fraction
    kept = vs[2].evidence.grid
    assert kept.size == int(np.sum(vs[2].evidence.series["vartheta"] < 0.5))


def test_select_clients_is_uniform_without_replacement():
    sel = select_clients(np.random.default_rng(0), 6, 2, 30000)
    assert sel.shape == (30000, 6) and np.all(sel.sum(1) == 2)
    # every client in a round w.p. m/n = 1/3: 5 standard errors (sd sqrt(2/9/30000) = 0.0027)
    np.testing.assert_allclose(sel.mean(0), 1 / 3, atol=5 * np.sqrt(2 / 9 / 30000))
    assert select_clients(None, 4, 4, 3).all()


def test_eps_approximate_median_has_gap_at_most_eps():
    """Moving the median by eps adds at most eps to the normalized objective gap (1-Lipschitz)."""
    rng = np.random.default_rng(3)
    H, W = rng.uniform(0.5, 2, (9, 4)), 1 + 0.5 * rng.standard_normal((9, 4))
    kw = dict(gamma=0.5, T=6, K=3, budget=200, polish=400)
    exact = rfa((H, W), np.zeros(4), rng=np.random.default_rng(1), **kw)
    moved = rfa((H, W), np.zeros(4), rng=np.random.default_rng(1), eps_gm=0.05, **kw)
    assert np.all(moved.eps <= exact.eps + 0.05 + 1e-9) and np.all(moved.eps > exact.eps)


def test_sampling_arguments_are_validated():
    H, W = np.ones((3, 2)), np.zeros((3, 2))
    with pytest.raises(ValueError, match="m must be at most"):
        rfa((H, W), np.zeros(2), gamma=0.5, T=2, rng=np.random.default_rng(0), m=4)
    with pytest.raises(ValueError, match="eps_gm"):
        rfa((H, W), np.zeros(2), gamma=0.5, T=2, rng=np.random.default_rng(0), eps_gm=-1.0)
