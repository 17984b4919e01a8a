"""Worst cases of randomised methods by exact enumeration (PEP, extra [pep]): RCD, SGD, L-SVRP."""

from __future__ import annotations

import pytest

pytest.importorskip("PEPit")

from ratecheck import theorems  # noqa: E402
from ratecheck.verify.pep import worst_case  # noqa: E402
from ratecheck.verify.pep.randomized import pepit_sgd_check, rcd_measured, taylor_bach_check  # noqa: E402


@pytest.mark.parametrize("d, mu", [(2, 0.1), (3, 0.3)])
def test_pepit_reproduces_taylor_bach_distance_rate(d, mu):
    r = taylor_bach_check(d=d, L=1.0, mu=mu)
    assert r["pep"] == pytest.approx(r["theory"], abs=1e-5)


@pytest.mark.parametrize("d, mu, T", [(2, 0.1, 2), (3, 0.3, 2)])
def test_rcd_gap_pep_between_measured_and_claim(d, mu, T):
    """(vi) with the claim's own (gap) metric: exact measured <= exact PEP <= 1."""
    recs = worst_case("rcd.strongly-convex", {"d": d, "L": 1.0, "mu": mu}, T=range(1, T + 1))
    assert all(r.kind == "exact" and r.accepted for r in recs)
    w = max(r.pep_value for r in recs)
    assert w <= 1 + 1e-6
    assert rcd_measured(d, 1.0, mu, T) <= w * (1 + 1e-6)


def test_rcd_sandwich_has_in_class_empirical():
    from ratecheck.verify.pep import sandwich

    s = sandwich("rcd.strongly-convex", {"d": 2, "L": 1.0, "mu": 0.1}, T=(1, 2))
    assert s["verdict"] == "certified"
    assert 0 < s["empirical"] <= s["pep"]["exact"] <= 1 + 1e-6
    assert s["search_gap"] == pytest.approx(s["empirical"] / s["pep"]["exact"])


def test_rcd_convex_claim_certified_on_its_class():
    """Convex L-smooth f, uniform coordinates (Omega = d): exact worst case below the bound (R^2 and delta_0)."""
    recs = worst_case("rcd.convex", {"d": 2, "L": 1.0}, T=(1, 2))
    assert all(r.kind == "exact" and r.accepted for r in recs)
    assert 0 < max(r.pep_value for r in recs) <= 1 + 1e-6


def test_rcd_nonconvex_claim_is_tight_for_its_relaxation():
    """The nonconvex RCD bound is attained by the upper PEP (value 1 at T = 1, 2)."""
    recs = worst_case("rcd.nonconvex", {"d": 2, "L": 1.0}, T=(1, 2))
    assert all(r.accepted for r in recs)
    assert [r.pep_value for r in recs] == pytest.approx([1.0, 1.0], abs=1e-6)


def test_pepit_reproduces_its_sgd_example():
    r = pepit_sgd_check()
    assert r["pep"] == pytest.approx(r["theory"], rel=1e-6)


def test_sgd_neighborhood_lower_below_upper_below_one():
    recs = worst_case("sgd.neighborhood", {"Ls": [0.5, 1.0], "mu": 0.1}, T=(1, 2))
    lower = [r.pep_value for r in recs if r.kind == "lower"]
    upper = [r.pep_value for r in recs if r.kind == "upper"]
    assert all(r.accepted for r in recs)
    assert all(lo <= up + 1e-7 for lo, up in zip(lower, upper))
    assert max(upper) <= 1 + 1e-6


@pytest.mark.parametrize("n, delta", [(2, 1.0), (3, 4.0)])
def test_lsvrp_one_step_pep_equals_claim_factor(n, delta):
    """(v) the one-step PEP with the proof's ingredients attains the claim's factor (proof-tight)."""
    (r,) = worst_case("lsvrp.lyapunov", {"n": n, "mu": 1.0, "delta": delta}, T=1)
    assert r.accepted and r.kind == "upper"
    assert r.pep_value == pytest.approx(1.0, rel=1e-5)


def test_claims_read_from_catalogue():
    """The builders evaluate the shipped claims: the stepsize in the records is the claim's."""
    (r,) = worst_case("sgd.neighborhood", {"n": 2, "L": 1.0, "mu": 0.1}, T=1, cls="sc")
    assert r.params["gamma"] == pytest.approx(theorems.get("sgd.neighborhood").max_stepsize(L_max=1.0, mu=0.1))
