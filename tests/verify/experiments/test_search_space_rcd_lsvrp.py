"""Search spaces of the ``rcd`` and ``lsvrp`` experiments: experiment-specific rules (the generic contract is in
test_experiment_conformance.py):
random points of each claim's space map to parameters the experiment accepts, the spaces respect
the claims' assumptions, and shipped claims are not found violated on a small budget."""

import math

import numpy as np
import pytest

from ratecheck import theorems
from ratecheck.verify.checking import UsageError
from ratecheck.verify.experiments import get
from ratecheck.verify.searching import search, searchable

EXPS = ("rcd", "lsvrp")


def _claims(exp_name, teeth=True):
    out = []
    for c in theorems.all():
        if c.experiment == exp_name:
            out.append(c)
            if teeth:
                out += list(theorems.teeth(c.id))
    return out


def _searchable(c):
    try:
        searchable(c)
        return True
    except UsageError:
        return False


SEARCHABLE = [c.id for e in EXPS for c in _claims(e) if _searchable(c)]


@pytest.mark.parametrize("cid", SEARCHABLE)
def test_from_search_gives_valid_parameters(cid):
    claim = theorems.get(cid)
    exp, space = searchable(claim)
    base = dict(exp.instances(claim, quick=True)[0])
    rng = np.random.default_rng(1)
    for point in space.probe(rng, 40):
        inst = dict(base)
        inst.update(exp.from_search(dict(point)))
        p = exp.params(inst)  # raises UsageError on an invalid parameter
        if claim.measure not in ("sketch_table_error", "sketch_mean_error"):  # T is unused by the identities
            assert p["T"] <= 300
        if exp.name == "rcd" and claim.measure in ("expected_gap", "avg_grad_norm_sq"):
            assert p["blocks"] <= p["d"] and p["tau"] <= p["d"] and 0 <= p["zero_eigs"] < p["d"]
            assert p["sketch"] in claim.setting["sketches"]
            if p["problem"] != "quadratic":
                assert p["replications"] <= 500 and p["T"] <= 100  # quick Monte Carlo
                # no rare sketch outcome on Monte Carlo points (their confidence bounds would be invalid)
                assert p["d"] <= 12 and p["blocks"] <= 4 and p["scale_ratio"] <= 10
                if p["p"] is not None:
                    assert min(p["p"]) >= 1 / (2 * p["blocks"]) - 1e-12
            if claim.setting["regime"] == "strongly-convex":
                assert p["zero_eigs"] == 0 and p["problem"] != "cosine"  # mu > 0
        if exp.name == "lsvrp":
            assert p["method"] == "exact"
            if claim.measure == "lyapunov_psi":
                assert 2 * p["delta"] > p["mu"]
            if claim.measure == "moments_xw" and claim.stepsize is None:
                assert p["gamma"] is not None and math.isfinite(p["gamma"]) and p["gamma"] > 0


def test_claim_specific_restrictions():
    rcd = get("rcd")
    sc = rcd.search_space_for(theorems.get("rcd.strongly-convex"))
    assert "zero_frac" not in sc and "cosine" not in sc["problem"][1]
    assert "p_ratio" not in sc and "tau_frac" in sc
    rpt = rcd.search_space_for(theorems.get("rpt.nonconvex"))
    assert set(rpt["sketch"][1]) == {"rpt-prefix", "rpt-suffix"} and "p_ratio" in rpt and "tau_frac" not in rpt
    assert rcd.search_space_for(theorems.get("rpt.unbiased")) == {"samples": ("int", 4, 24)}
    ls = get("lsvrp")
    assert ls.search_space_for(theorems.get("lsvrp.lyapunov"))["kappa"][1] > 0.5
    assert "refresh" not in ls.search_space_for(theorems.get("lsvrp.lyapunov"))
    assert ls.search_space_for(theorems.get("lsvrp.complexity")) is None


def test_monte_carlo_points_have_no_rare_sketch_outcomes():
    """Regression: this point (search seed 2 of rpt.strongly-convex) once mapped to RPT block
    probabilities down to 1e-5 on logistic regression; 1200 Monte Carlo samples missed the rare
    outcome and reported a false violation at T = 1 (exact expectation 0.999996 x the bound)."""
    point = {
        "problem": "logistic",
        "d": 22,
        "blocks_frac": 0.9868979862014584,
        "profile": "flat",
        "scale_ratio": 58.12374532780221,
        "cond": 2.164187898973867,
        "coupling": 0.19576350349670946,
        "sketch": "rpt-prefix",
        "p_ratio": 0.2,
        "start": "last-block",
        "x0_scale": 4.556579972015887,
        "stepsize_factor": 0.9721139963543624,
    }
    exp = get("rcd")
    p = exp.params(exp.from_search(point))
    assert p["blocks"] <= 4 and min(p["p"]) >= 1 / (2 * p["blocks"]) - 1e-12
    q = exp.params(exp.from_search(dict(point, problem="quadratic")))  # exact expectations: rare outcomes allowed
    assert q["blocks"] == 8 and min(q["p"]) < 1e-4


@pytest.mark.parametrize("cid", ["lsvrp.complexity", "lsvrp.tuned-probe", "lsvrp.region"])
def test_unsearchable_lsvrp_claims_are_clear_errors(cid):
    with pytest.raises(UsageError):
        searchable(theorems.get(cid))


@pytest.mark.parametrize(
    "cid,budget",
    [
        ("rcd.nonconvex", 6),
        ("rpt.unbiased", 3),
        ("rcd.l-tilde", 3),
        ("lsvrp.recursion", 8),
        ("lsvrp.lyapunov", 6),
        ("sgd.neighborhood", 6),
    ],
)
def test_shipped_claims_not_violated_on_small_budget(cid, budget):
    res = search(cid, budget=budget, seed=0, shrink=False, defaults=[])
    assert res.verdict != "violated", (cid, res.point, res.seed, res.best and res.best.detail)
    assert res.runs - res.infeasible >= 1


@pytest.mark.parametrize(
    "tid", ["rpt.nonconvex~unscaled", "lsvrp.recursion~refresh-swapped", "sgd.neighborhood~no-neighbourhood"]
)
def test_some_teeth_found_on_small_budget(tid):
    assert search(tid, budget=6, seed=0, shrink=False, defaults=[]).verdict == "violated"


@pytest.mark.slow
@pytest.mark.parametrize("cid", [c.id for e in EXPS for c in _claims(e, teeth=False) if _searchable(c)])
def test_shipped_claims_not_violated_default_budget(cid):
    res = search(cid, seed=0, shrink=False, defaults=[])
    assert res.verdict != "violated", (cid, res.point, res.seed, res.best and res.best.detail)
    assert res.seconds < 60
