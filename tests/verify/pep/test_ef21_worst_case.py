"""EF21 worst cases (PEP, extra [pep]): tight rates of Thomsen et al., sandwich kinds, teeth."""

from __future__ import annotations

import math

import pytest

pytest.importorskip("PEPit")

from ratecheck.verify.pep import verdict_of, worst_case  # noqa: E402
from ratecheck.verify.pep.tight import (  # noqa: E402
    lyapunov_rate,
    optimal_rate,
    optimal_stepsize,
    v_metric_pep,
)

L, MU, ALPHA = 1.0, 0.1, 0.5


@pytest.mark.parametrize("T", [1, 3, 5])
def test_v_metric_pep_equals_tight_rate_power(T):
    """(i) sup V^T/V^0 at eta* is (rho*)^T (Thomsen et al. 2025, Theorem 2)."""
    eta, rho = optimal_stepsize(L, MU, ALPHA), optimal_rate(L, MU, ALPHA)
    r = v_metric_pep(L, MU, ALPHA, eta, T)
    assert r.accepted
    assert r.value == pytest.approx(rho**T, rel=1e-5)


def test_lyapunov_sdp_reproduces_closed_form():
    """(ii) the Lyapunov SDP (nu >= 0) gives rho* at eta*."""
    eta = optimal_stepsize(L, MU, ALPHA)
    assert lyapunov_rate(L, MU, ALPHA, eta) == pytest.approx(optimal_rate(L, MU, ALPHA), rel=1e-5)


def test_closed_form_tends_to_gd_rate_and_sdp_matches_near_alpha_one():
    """(iii) alpha -> 1: rho* -> ((L-mu)/(L+mu))^2 and eta* -> 2/(L+mu); SDP = closed form at alpha = 0.999."""
    gd = ((L - MU) / (L + MU)) ** 2
    assert optimal_rate(L, MU, 1 - 1e-12) == pytest.approx(gd, rel=1e-5)
    assert optimal_stepsize(L, MU, 1 - 1e-12) == pytest.approx(2 / (L + MU), rel=1e-5)
    a = 0.999
    assert lyapunov_rate(L, MU, a, optimal_stepsize(L, MU, a)) == pytest.approx(optimal_rate(L, MU, a), rel=1e-5)


def test_tight_rate_at_claim_stepsize_beats_claim_rate():
    """At the claim's stepsize the tight rate is below the claim's (1 - gamma mu) per step."""
    from ratecheck import theorems

    c = theorems.get("ef21.pl-qm")
    g = c.max_stepsize(L=L, L_qm=L, L_am=L, alpha=ALPHA, mu=MU)
    assert lyapunov_rate(L, MU, ALPHA, g) < 1 - g * MU


@pytest.mark.parametrize("claim", ["ef21.pl-qm", "ef21.pl-am", "ef21-w.pl"])
def test_pl_claims_lower_below_upper_below_one(claim):
    """Single node: F_{mu,L} (lower) <= PL relaxation (upper) <= 1, decreasing in T."""
    recs = worst_case(claim, {"L": L, "mu": MU, "alpha": ALPHA}, T=(1, 2, 5))
    lower = [r.pep_value for r in recs if r.kind == "lower"]
    upper = [r.pep_value for r in recs if r.kind == "upper"]
    assert all(r.accepted and r.duality_gap < 1e-6 for r in recs)
    assert all(lo <= up + 1e-7 for lo, up in zip(lower, upper))
    assert max(upper) <= 1 + 1e-6
    assert lower == sorted(lower, reverse=True)
    assert {verdict_of(r.pep_value, r.kind) for r in recs} == {"certified", "lower-bound"}


def test_two_nodes_pl_claim_certified():
    """n = 2, L_i = (0.5, 1.5): lower and upper values below 1."""
    recs = worst_case("ef21.pl-am", {"Ls": [0.5, 1.5], "mu": MU, "alpha": ALPHA}, T=(1, 2))
    assert all(r.accepted for r in recs)
    assert max(r.pep_value for r in recs) <= 1 + 1e-6


@pytest.mark.parametrize("T", [1, 2])
def test_two_identical_nodes_give_the_single_node_worst_case(T):
    """n = 2 with L_1 = L_2 = L: the single-node value (Thomsen et al. 2026: independent of the number of agents)."""
    one = worst_case("ef21.pl-qm", {"L": L, "mu": MU, "alpha": ALPHA}, T=T, cls="sc")[0].pep_value
    two = worst_case("ef21.pl-qm", {"Ls": [L, L], "mu": MU, "alpha": ALPHA}, T=T, cls="sc")[0].pep_value
    assert two == pytest.approx(one, rel=1e-6)


def test_nonconvex_claim_certified_by_upper_pep():
    recs = worst_case("ef21.nonconvex-qm", {"L": L, "alpha": ALPHA}, T=(1, 2, 5))
    assert all(r.kind == "upper" and r.accepted for r in recs)
    assert 0 < max(r.pep_value for r in recs) <= 1 + 1e-6


def test_halved_teeth_violated_by_lower_pep():
    """(vii) the bound halved is refuted by a lower-kind (F_{mu,L}) worst case above 1."""
    recs = worst_case("ef21.pl-qm~halved", {"L": L, "mu": MU, "alpha": ALPHA}, T=1, cls="sc")
    (r,) = recs
    assert r.kind == "lower" and r.pep_value > 1.5
    assert verdict_of(r.pep_value, r.kind) == "violated"


def test_verdict_rules():
    assert verdict_of(1.2, "upper") == "inconclusive"
    assert verdict_of(0.9, "lower") == "lower-bound"
    assert verdict_of(1.2, "exact") == "violated"
    assert verdict_of(math.nan, "exact") == "inconclusive"


def test_in_class_empirical_above_worst_case_is_inconsistent(monkeypatch):
    """An in-class instance beating the class supremum is a bug, reported `inconsistent`, never `certified`."""
    from ratecheck.verify import pep

    monkeypatch.setattr(pep, "empirical_tightness", lambda *a, **k: 0.999)
    s = pep.sandwich("ef21.pl-am", {"L": L, "mu": MU, "alpha": ALPHA}, T=1)
    assert s["empirical"] == 0.999 and s["verdict"] == "inconsistent"
    # nonconvex: only an upper-kind value, which an in-class instance cannot beat either
    s = pep.sandwich("ef21.nonconvex-qm", {"L": L, "alpha": ALPHA}, T=1)
    assert s["empirical"] < s["pep"]["upper"] and s["verdict"] == "certified"
    monkeypatch.setattr(pep, "empirical_tightness_nonconvex", lambda *a, **k: 0.999)
    s = pep.sandwich("ef21.nonconvex-qm", {"L": L, "alpha": ALPHA}, T=1)
    assert s["verdict"] == "inconsistent"


def test_nonconvex_sandwich_has_in_class_empirical():
    """Nonconvex EF21, single node: W_emp (Top-k on convex quadratics with spectrum in [0, L]) <= W_pep
    (upper kind) <= 1, at every horizon of the report."""
    from ratecheck.verify import pep

    for T in (1, 2, 5):
        s = pep.sandwich("ef21.nonconvex-qm", {"L": L, "alpha": ALPHA}, T=T)
        assert 0 < s["empirical"] <= s["pep"]["upper"] <= 1, s
        assert s["search_gap"] == s["empirical"] / s["pep"]["upper"]


def test_pl_search_space_offers_the_worst_case_compressor():
    """The PEP's worst compressor (a scaled identity, which no Top-k produces) is a coordinate of the PL claims'
    instance search: a search point maps onto it, the run is in the claim's class, and the claim holds there."""
    from ratecheck import theorems
    from ratecheck.verify import check, experiments

    exp = experiments.get("ef21")
    claim = theorems.get("ef21.pl-qm")
    space = exp.search_space_for(claim)
    assert space["compressor_family"] == ("choice", ["top-k", "scaled"]) and space["scale"][0] == "float"
    assert "compressor_family" not in exp.search_space_for(theorems.get("ef21.nonconvex-qm"))
    p = exp.from_search({"compressor_family": "scaled", "scale": 1.7, "k_frac": 0.0, "spread_frac": 0.2})
    assert p["compressor"] == "scaled-1.7"
    (v,) = check(claim, instances=[dict(p, T=200)], seed=0)
    assert v.verdict == "holds" and 0 < v.tightness <= 1
    assert v.evidence.constants["alpha"] == pytest.approx(1 - 0.7**2)
