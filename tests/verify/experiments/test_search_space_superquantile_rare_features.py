"""Search spaces of the superquantile and rare_features experiments (issue 10): every point of the
declared spaces maps to valid instance parameters, the spaces are restricted per claim as documented,
and a few shipped claims hold (and a few teeth fall) on a small budget."""

import math

import numpy as np
import pytest

from ratecheck import theorems
from ratecheck.verify.checking import UsageError
from ratecheck.verify.experiments import get
from ratecheck.verify.experiments.superquantile import m_grid
from ratecheck.verify.searching import _Space, search, searchable

EXPERIMENTS = ("superquantile", "rare_features")


def _claims(exp_name):
    return [c for c in theorems.all() if c.experiment == exp_name]


def _spaces(exp_name):
    exp = get(exp_name)
    out = []
    for c in _claims(exp_name):
        space = exp.search_space_for(c)
        if space is not None and c.kind.value != "scaling":
            out.append((c, _Space(space, exp_name)))
    return out


def _instance(exp, claim, point):
    base = exp.instances(claim, quick=True)[0]
    return exp.params({**base, **exp.from_search(dict(point))})


@pytest.mark.parametrize("exp_name", EXPERIMENTS)
def test_random_points_give_valid_parameters(exp_name):
    exp = get(exp_name)
    rng = np.random.default_rng(0)
    spaces = _spaces(exp_name)
    assert spaces
    for claim, space in spaces:
        for point in [space.midpoint()] + [space.sample(rng) for _ in range(40)]:
            p = _instance(exp, claim, point)  # exp.params raises UsageError on anything invalid
            if exp_name == "superquantile" and "tm" in point:
                assert 1 <= p["m_min"] <= p["m_max"] <= exp.SEARCH_M_MAX and 0 <= p["p"] <= 1
                assert m_grid(p).size >= 1
            if exp_name == "superquantile" and "outlier_frac" in point:
                assert 0 <= p["outliers"] < p["clients"] and p["sample_m"] <= p["clients"]
            if exp_name == "rare_features":
                assert 1 <= p["c"] <= p["n"] and 1 <= p["k"] <= p["d"]
                if p["design"] == "regular":
                    assert (p["d"] * p["c"]) % p["n"] == 0


def test_superquantile_spaces_per_claim():
    exp = get("superquantile")
    sp_ = {c.id: exp.search_space_for(c) for c in _claims("superquantile")}
    assert sp_["superquantile.bias-density"]["law"] == ("choice", ["uniform"])  # needs a Lipschitz inverse cdf
    assert "beta" not in sp_["superquantile.bias-exact"]["law"][1]  # exact laws only
    for cid in ("simplicial-fl.nonconvex", "simplicial-fl.strongly-convex"):  # scaling claims
        with pytest.raises(UsageError, match="scaling"):
            searchable(theorems.get(cid))
    # the two-point laws are placed by their standardised offset from the extremal law p = theta (the midpoint)
    mid = _Space(sp_["superquantile.bias-exact"], "superquantile").midpoint()
    p = _instance(exp, theorems.get("superquantile.bias-exact"), mid)
    assert p["law"] == "bernoulli" and math.isclose(p["p"], p["theta"], rel_tol=1e-12)
    q = exp.from_search(dict(mid, p_z=1.0))
    assert math.isclose(q["p"], q["theta"] - math.sqrt(q["theta"] * (1 - q["theta"]) / q["m_max"]), rel_tol=1e-12)
    # bias-levy (and its teeth) search only theta m >= 9, where the bound is not the trivial range B
    for cid in ("superquantile.bias-levy", "superquantile.bias-levy~rate-1-over-theta-m"):
        c = theorems.get(cid)
        space = _Space(exp.search_space_for(c), "superquantile")
        for point in [space.midpoint()] + [space.sample(np.random.default_rng(s)) for s in range(20)]:
            q = _instance(exp, c, point)
            assert q["theta"] * m_grid(q).min() >= 9 - 1e-9


def test_rare_features_spaces_per_claim():
    exp = get("rare_features")
    assert set(exp.search_space_for(theorems.get("rare-features.constants"))) == {
        "design",
        "n",
        "c_frac",
        "r_target",
        "m",
    }
    with pytest.raises(UsageError, match="scaling"):
        searchable(theorems.get("rare-features.complexity"))
    p = exp.params(exp.from_search({"design": "regular", "n": 12, "c_frac": 0.3, "r_target": 5}))
    assert p["c"] == 4 and p["d"] == 15 and (p["d"] * p["c"]) % p["n"] == 0


@pytest.mark.parametrize(
    "cid,budget",
    [
        ("superquantile.bias-exact", 8),
        ("superquantile.variance-derived", 8),
        ("superquantile.bias-sharp", 8),
        ("superquantile.bias-levy", 6),
        ("rare-features.nonconvex", 4),
        ("rare-features.constants", 3),
    ],
)
def test_shipped_claims_not_violated_on_a_small_budget(cid, budget):
    res = search(cid, budget=budget, seed=0, shrink=False, defaults=[])
    assert res.verdict != "violated", f"{cid}: {res.best.detail} on {res.point}"


@pytest.mark.parametrize(
    "tid",
    [
        "superquantile.bias-levy~rate-1-over-theta-m",
        "superquantile.bias-exact~off-by-one",
        "superquantile.variance-derived~quartered",
        "rare-features.reloaded~rate-T2",
    ],
)
def test_teeth_found_on_a_small_budget(tid):
    res = search(tid, budget=6, seed=1, shrink=False, defaults=[])
    assert res.verdict == "violated" and not res.unexpected, f"{tid}: best tightness {res.tightness} on {res.point}"


@pytest.mark.parametrize("tid", ["superquantile.bias-levy~rate-1-over-theta-m", "superquantile.bias-exact~off-by-one"])
def test_estimator_teeth_found_without_the_midpoint(tid, monkeypatch):
    """The two teeth the draft space missed are found by the random and local phases too, not only at
    the midpoint (the extremal law p = theta): the search starts from a random point instead."""
    from ratecheck.verify.searching import _Space

    for s in range(4):
        monkeypatch.setattr(_Space, "midpoint", lambda self, s=s: self.sample(np.random.default_rng(1000 + s)))
        res = search(tid, seed=s, shrink=False, defaults=[])
        assert res.verdict == "violated", f"{tid}, seed {s}: best tightness {res.tightness} on {res.point}"


def test_l2_smoothing_space_stays_above_the_floating_point_floor():
    exp = get("superquantile")
    space = exp.search_space_for(theorems.get("superquantile.l2-smoothing-gap"))
    assert space["nu"][1] >= 0.05 and space["theta"][2] < 1
    res = search("superquantile.l2-smoothing-gap", budget=10, seed=0, shrink=False, defaults=[])
    assert res.verdict == "holds" and res.tightness <= 1 + 1e-9


@pytest.mark.slow
@pytest.mark.parametrize(
    "cid", [c.id for e in EXPERIMENTS for c in _claims(e) if c.kind.value != "scaling" and not c.expected_to_fail]
)
def test_shipped_claims_hold_under_the_default_search(cid):
    res = search(cid, seed=0, shrink=False, defaults=[])
    assert res.verdict == "holds" and not res.unexpected, f"{cid}: {res.verdict} on {res.point}; {res.best.detail}"
