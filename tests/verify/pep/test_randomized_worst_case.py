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


@pytest.mark.parametrize("cid, kind", [("rcd.convex", "exact"), ("rcd.nonconvex", "upper")])
def test_rcd_convex_and_nonconvex_sandwich_have_in_class_empirical(cid, kind):
    """Convex / nonconvex RCD: W_emp (exact expectation on a quadratic with spectrum in [0, L], one zero
    eigenvalue) <= W_pep <= 1."""
    from ratecheck.verify.pep import sandwich

    s = sandwich(cid, {"d": 2, "L": 1.0}, T=(1, 2))
    assert s["verdict"] == "certified"
    assert 0 < s["empirical"] <= s["pep"][kind] * (1 + 1e-6) <= 1 + 2e-6, s
    assert s["search_gap"] == pytest.approx(s["empirical"] / s["pep"][kind])


def test_rcd_nonconvex_in_class_value_at_one_step_is_one_over_d():
    """At T = 1 with the claim's stepsize 1/L_tilde = 1/(dL): ||grad f||^2 / (2 L_tilde delta_0) = e'A^2e/(d L e'Ae)
    <= 1/d, attained along the top eigenvector -- with A = diag(0, L) every start attains it."""
    assert rcd_measured(2, 1.0, None, 1, claim_id="rcd.nonconvex") == pytest.approx(0.5, rel=1e-12)


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


def test_sgd_sandwich_has_in_class_empirical():
    """sgd.neighborhood: W_emp (exact moments on 1-D quadratics with h_i in [mu, L_i]) <= W_pep (lower, the
    subclass the instances live in) <= W_pep (upper) <= 1."""
    from ratecheck.verify.pep import sandwich

    s = sandwich("sgd.neighborhood", {"n": 2, "L": 1.0, "mu": 0.1}, T=(1, 2))
    assert s["verdict"] == "certified"
    assert 0 < s["empirical"] <= s["pep"]["lower"] * (1 + 1e-6) <= s["pep"]["upper"] * (1 + 1e-6) <= 1 + 1e-6, s


def test_sgd_in_class_value_of_one_client_is_gd():
    """One client at h = mu has sigma_* = 0: SGD is GD, E e_k^2 = (1 - gamma mu)^(2k) e_0^2 against the bound
    (1 - gamma mu)^k e_0^2, so the largest ratio is 1 - gamma mu (k = 1), gamma = 1/(2L)."""
    from ratecheck.verify.pep.randomized import sgd_measured

    L, mu = 1.0, 0.1
    assert sgd_measured("sgd.neighborhood", [L], mu, 3) == pytest.approx(1 - mu / (2 * L), rel=1e-12)


def test_lsvrp_sandwich_has_in_class_empirical():
    """lsvrp.lyapunov: W_emp (exact one step on 1-D quadratics, mu-strongly convex, Hessian dissimilarity delta)
    <= W_pep (upper, the proof's ingredients only) <= 1."""
    from ratecheck.verify.pep import sandwich

    s = sandwich("lsvrp.lyapunov", T=(1,))
    assert s["verdict"] == "certified"
    assert 0 < s["empirical"] <= s["pep"]["upper"] * (1 + 1e-6) <= 1 + 1e-6, s


@pytest.mark.parametrize(
    "cid, kind", [("rpt.strongly-convex", "exact"), ("rpt.convex", "exact"), ("rpt.nonconvex", "upper")]
)
def test_rpt_sandwich(cid, kind):
    """RPT (prefix sketch, J = 2 blocks of one coordinate, 1/q_j scaling): W_emp <= W_pep <= 1 with the claim's metric."""
    from ratecheck.verify.pep import sandwich

    s = sandwich(cid, {"d": 2, "L": 1.0, **({"mu": 0.1} if "strongly" in cid else {}), "p": [0.3, 0.7]}, T=(1, 2))
    assert s["verdict"] == "certified"
    assert 0 < s["empirical"] <= s["pep"][kind] * (1 + 1e-6) <= 1 + 2e-6, s


def test_rpt_with_uniform_blocks_of_one_coordinate_and_p_last_one_is_gd():
    """p = (0, 1): every step trains both blocks (q = 1): RPT is gradient descent, Omega = 1, L_tilde = L, and the
    strongly convex worst case is GD's with stepsize 1/L on F_(mu, L)."""
    from ratecheck.verify.pep import worst_case

    (r,) = worst_case("rpt.strongly-convex", {"d": 2, "L": 1.0, "mu": 0.1, "p": [0.0, 1.0]}, T=(1,))
    # GD at 1/L on F_(mu,L): f(x1) - f* <= (1 - mu/L)^2 (f(x0) - f*) (tight), against the bound 1 - 2 gamma mu (1 - 1/2)
    assert r.kind == "exact" and r.pep_value == pytest.approx((1 - 0.1) ** 2 / (1 - 0.1), rel=1e-5)


def test_rpt_teeth_unscaled_refuted_by_the_worst_case():
    """`rpt.strongly-convex~unscaled` (the 1/q_j rescaling dropped) is refuted on its class: W_pep (exact) > 1."""
    from ratecheck.verify.pep import sandwich

    s = sandwich("rpt.strongly-convex~unscaled", T=(1, 2))
    assert s["verdict"] == "violated" and s["pep"]["exact"] > 1
