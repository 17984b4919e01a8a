"""Search spaces of the ``adom`` and ``weiszfeld`` experiments (counterexample search, issue 10).

Sanity of the declared spaces (every point maps to parameters the experiment accepts, per claim
restrictions), the short-run fix of the ADOM+ decay-rate windows, and a few shipped claims that a
small search does not find violated.  Teeth found by search: ``tests/verify/test_searching_teeth.py``.
"""

import math

import numpy as np
import pytest

from ratecheck import theorems
from ratecheck.theorems import Kind
from ratecheck.verify.checking import UsageError
from ratecheck.verify.experiments import get
from ratecheck.verify.searching import _Space, evaluate, search, searchable

EXPERIMENTS = ("adom", "weiszfeld")


def _claims(exp_name, teeth=True):
    out = [c for c in theorems.all() if c.experiment == exp_name]
    if teeth:
        out += [t for c in list(out) for t in theorems.teeth(c.id)]
    return out


def _searchable_claims(exp_name):
    return [c for c in _claims(exp_name) if c.kind is not Kind.SCALING and c.measure]


@pytest.mark.parametrize("exp_name", EXPERIMENTS)
def test_every_non_scaling_claim_is_searchable(exp_name):
    for c in _searchable_claims(exp_name):
        exp, space = searchable(c)
        assert exp.name == exp_name
        assert set(space.spec) <= set(exp.search_space)


def test_adom_scaling_claims_are_not_searchable():
    scaling = [c for c in _claims("adom") if c.kind is Kind.SCALING]
    assert scaling
    for c in scaling:
        with pytest.raises(UsageError, match="scaling"):
            searchable(c)
        assert get("adom").search_space_for(c) is None


def test_adom_from_search_respects_the_hard_instance_ranges():
    exp = get("adom")
    space = _Space(exp.search_space_for(theorems.get("adom.lower-bound-comm")), "adom")
    rng = np.random.default_rng(2)
    for _ in range(200):
        q = exp.from_search(space.sample(rng))
        assert 1 <= q["n_chain"] <= q["n"] // 2  # chain_hard_instance's range; chi = n > n_chain
        assert q["L"] > q["mu"] > 0
        assert all(0 < e < 1 for e in q["eps_grid"]) and max(q["eps_grid"]) == pytest.approx(0.1)
    decay = _Space(exp.search_space_for(theorems.get("adom-plus.linear-rate")), "adom")
    for _ in range(50):
        q = exp.from_search(decay.sample(rng))
        assert q["max_iter"] == exp.SEARCH_DECAY_ITERS and q["L"] / q["mu"] > 1


def test_weiszfeld_space_per_claim():
    exp = get("weiszfeld")
    # Assumption 22 (nu <= nu_tilde): no cloud whose median is a data point, small nu
    comp = exp.search_space_for(theorems.get("weiszfeld.complexity"))
    assert not set(comp["cloud"][1]) & {"anchor", "lopsided"} and comp["nu"][2] <= 1e-3
    # the teeth variant drops Assumption 22 and names its cloud in the setting
    teeth = exp.search_space_for(theorems.get("weiszfeld.complexity~no-assumption-22"))
    assert teeth["cloud"] == ("choice", ["anchor"])
    # the fixed-budget claim does not search T
    assert "T" not in exp.search_space_for(theorems.get("weiszfeld.few-iterations"))
    assert "collinear" not in exp.search_space["cloud"][1]  # Assumption 13
    assert exp.from_search({"cloud": "three", "m": 50})["m"] == 3
    sym = exp.from_search({"cloud": "symmetric", "m": 7, "init": "mean"})
    assert sym["m"] == 8 and sym["init"] == "mid"


def test_adom_decay_run_shorter_than_one_window_is_judged():
    """ADOM+ run with parameters for chi = 1 on a random geometric cycle reaches the 1e-20 floor before
    one window of ceil(1/sigma_2) iterations: the run is measured over its whole length instead of
    indexing before its start (an IndexError before)."""
    v = evaluate(
        "adom-plus.linear-rate~chi-one-parameters",
        {"network": "rgg", "problem": "quadratic", "n": 10, "d": 3, "m": 5, "kappa": 4.0, "order": "time"},
        seed=0,
    )
    c = v.evidence.constants
    assert c["iterations"] < c["window"]
    assert v.verdict == "holds" and np.all(np.isfinite(v.evidence.measured)) and np.all(v.evidence.measured > 0)


@pytest.mark.parametrize(
    "cid,budget",
    [
        ("adom.lower-bound-comm", 8),
        ("adom.lower-bound-comp", 8),
        ("weiszfeld.rate", 8),
        ("weiszfeld.hull", 6),
        ("weiszfeld.contraction", 8),
        ("weiszfeld.robustness", 8),
    ],
)
def test_shipped_claims_not_violated_on_a_small_search(cid, budget):
    res = search(cid, budget=budget, seed=0, shrink=False, defaults=[])
    assert res.verdict != "violated", (res.point, res.seed, res.best.detail if res.best else None)
    assert res.runs <= budget
    assert res.tightness is None or math.isfinite(res.tightness)


@pytest.mark.slow
def test_adom_linear_rate_not_violated_on_a_small_search():
    res = search("adom-plus.linear-rate", budget=6, seed=0, shrink=False, defaults=[])
    assert res.verdict != "violated"
