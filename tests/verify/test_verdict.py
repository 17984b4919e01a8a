"""Non-finite numbers are never evidence, and a tolerance never swallows a bound (verify.checking.judge)."""

import numpy as np
import pytest

from ratecheck.theorems import Claim, Kind, Provenance, sym
from ratecheck.verify.checking import HOLDS, INCONCLUSIVE, VIOLATED, Evidence, judge
from ratecheck.verify.errors import UsageError

UP = Claim(id="t.up", title="t", paper="p", provenance=Provenance.DERIVED, kind=Kind.UPPER, measure="m", bound=sym("T"))
LOW = Claim(
    id="t.low", title="t", paper="p", provenance=Provenance.DERIVED, kind=Kind.LOWER, measure="m", bound=sym("T")
)
T = np.arange(1.0, 6.0)


def _ev(measured, bound, **kw):
    return Evidence("T", T, np.asarray(measured, float), np.asarray(bound, float), **kw)


def test_nan_bound_point_is_inconclusive_not_violated():
    b = T.copy()
    b[2] = np.nan
    v = judge(UP, _ev(0.5 * T, b))
    assert v.verdict == INCONCLUSIVE and "no evidence" in v.detail and "bound is nan at T=3" in v.detail
    assert v.tightness == pytest.approx(0.5)


def test_inf_bound_point_is_no_evidence_but_a_real_violation_elsewhere_still_counts():
    b = T.copy()
    b[0] = np.inf
    m = 0.5 * T
    m[4] = 10.0
    v = judge(UP, _ev(m, b))
    assert v.verdict == VIOLATED and "T=5" in v.detail


def test_bound_non_finite_everywhere_is_a_usage_error():
    with pytest.raises(UsageError, match="claim t.up: the bound is not finite at any grid point"):
        judge(UP, _ev(T, np.full(T.size, np.nan)))


def test_divergence_to_inf_is_a_violation():
    m = 0.5 * T
    m[3:] = np.inf
    v = judge(UP, _ev(m, T))
    assert v.verdict == VIOLATED and "diverged" in v.detail


def test_nan_measured_is_inconclusive():
    m = 0.5 * T
    m[1] = np.nan
    v = judge(UP, _ev(m, T))
    assert v.verdict == INCONCLUSIVE and "measured value is nan" in v.detail


def test_nan_measured_under_a_lower_bound_is_inconclusive():
    m = 2 * T
    m[1] = np.nan
    assert judge(LOW, _ev(m, T)).verdict == INCONCLUSIVE
    assert judge(LOW, _ev(np.full(T.size, np.inf), T)).verdict == HOLDS  # never reached: consistent


def test_slack_larger_than_the_bound_never_makes_holds():
    b = np.full(T.size, 1e-16)
    m = np.full(T.size, 1.7)
    v = judge(UP, _ev(m, b, atol=10.0))  # a tolerance that swallows the bound
    assert v.verdict == INCONCLUSIVE and "tolerance" in v.detail
    assert judge(UP, _ev(m, b)).verdict == VIOLATED  # with floating-point slack only


def test_floating_point_slack_on_a_zero_bound_still_holds():
    v = judge(UP, _ev(np.full(T.size, 1e-17), np.zeros(T.size)))
    assert v.verdict == HOLDS


def test_monte_carlo_with_nan_standard_error_is_inconclusive():
    se = np.full(T.size, 0.01)
    se[2] = np.nan
    v = judge(UP, _ev(0.5 * T, T, method="monte-carlo", stderr=se, n_samples=100))
    assert v.verdict == INCONCLUSIVE


def test_rare_outcome_monte_carlo_is_not_confidently_wrong():
    """Samples are 0 except, with probability 1e-4, 1e4 (mean 1).  1000 draws usually miss the rare
    outcome: the Student-t interval is then [0, 0] and would say "E <= 0.5 holds"; with the known range
    of the samples the finite-sample (empirical Bernstein) bound refuses to conclude."""
    rng = np.random.default_rng(3)
    draws = np.where(rng.uniform(size=(1000, T.size)) < 1e-4, 1e4, 0.0)
    assert not draws.any()  # the rare outcome was never drawn
    mean, se = draws.mean(0), draws.std(0, ddof=1) / np.sqrt(1000)
    bound = np.full(T.size, 0.5)
    asymptotic = judge(UP, _ev(mean, bound, method="monte-carlo", stderr=se, n_samples=1000))
    assert asymptotic.verdict == HOLDS and "asymptotic" in asymptotic.detail  # says it has no guarantee
    finite = judge(UP, _ev(mean, bound, method="monte-carlo", stderr=se, n_samples=1000, sample_range=1e4))
    assert finite.verdict == INCONCLUSIVE and "finite-sample" in finite.detail


def test_finite_sample_bound_still_decides_clear_cases():
    rng = np.random.default_rng(0)
    draws = rng.uniform(0, 1, size=(4000, T.size))
    mean, se = draws.mean(0), draws.std(0, ddof=1) / np.sqrt(4000)
    kw = dict(method="monte-carlo", stderr=se, n_samples=4000, sample_range=1.0)
    assert judge(UP, _ev(mean, np.full(T.size, 0.6), **kw)).verdict == HOLDS
    assert judge(UP, _ev(mean, np.full(T.size, 0.4), **kw)).verdict == VIOLATED


def test_teeth_records_agree_with_the_claim_level_outcome():
    """A teeth variant is caught by one violating instance; its records on the instances where it holds
    must not say "unexpected" (the command exits 0), and the JSON tightness is a number or null."""
    from ratecheck import verify
    from ratecheck.verify.checking import summarize

    vs = verify.check("adom.lower-bound-comp~comm-bound-for-computations", quick=True)
    assert {v.verdict for v in vs} >= {HOLDS, VIOLATED}
    assert not any(v.unexpected or v.to_dict()["unexpected"] for v in vs)
    row = summarize(vs)[0]
    assert row["caught"] is True and row["unexpected"] is False and row["worst_detail"].startswith("measured")
    for d in (v.to_dict() for v in vs):
        assert d["tightness"] is None or isinstance(d["tightness"], float)


def test_lower_bound_tightness_is_never_inf_on_nonpositive_measured_values():
    """bound/measured means nothing where the measured value is <= 0 (it used to be reported as inf):
    tightness is taken over the positive measured values and the detail says how many were left out."""
    m, b = np.full(T.size, -1.0), np.full(T.size, -2.0)
    m[0], b[0] = 4.0, 2.0
    v = judge(LOW, _ev(m, b))
    assert v.verdict == HOLDS and v.tightness == pytest.approx(0.5)
    assert "over the 1 points with a positive measured value only (4 have measured <= 0" in v.detail
    v = judge(LOW, _ev(np.full(T.size, -1.0), np.full(T.size, -2.0)))
    assert v.verdict == HOLDS and v.tightness is None and "5 have measured <= 0" in v.detail
    v = judge(LOW, _ev(np.full(T.size, -1.0), np.full(T.size, 1.0)))
    assert v.verdict == VIOLATED and v.tightness is None and "measured <= 0" in v.detail


def test_overflowed_monte_carlo_mean_is_a_divergence_only_below_max_over_n():
    """An infinite sample mean only says that a sample overflowed, i.e. the mean is >= MAX/n: a violation
    of a bound below that, no evidence against a (true, growing) bound above it."""
    m = 0.5 * T
    m[4] = np.inf
    kw = dict(method="monte-carlo", stderr=np.full(T.size, 0.01), n_samples=2000)
    assert judge(UP, _ev(m, T, **kw)).verdict == VIOLATED
    huge = T.copy()
    huge[4] = 1e306
    v = judge(UP, _ev(m, huge, **kw))
    assert v.verdict == INCONCLUSIVE and "measured value is inf at T=5" in v.detail


def test_monte_carlo_nan_samples_are_no_evidence_but_inf_samples_are_divergence():
    """A replication that diverged to +inf makes the mean +inf (a violation of a finite upper bound); a NaN
    replication (e.g. 0/0) is no evidence: the point is inconclusive, never violated."""
    from ratecheck.verify.expectation import mc_summary

    draws = np.full((50, T.size), 0.5)
    draws[3, 2] = np.nan
    mean, se, n = mc_summary(draws)
    assert np.isnan(mean[2]) and np.isnan(se[2])
    v = judge(UP, _ev(mean, np.ones(T.size), method="monte-carlo", stderr=se, n_samples=n, sample_range=1.0))
    assert v.verdict == INCONCLUSIVE
    draws[3, 2] = np.inf
    mean, se, n = mc_summary(draws)
    v = judge(UP, _ev(mean, np.ones(T.size), method="monte-carlo", stderr=se, n_samples=n))
    assert mean[2] == np.inf and v.verdict == VIOLATED
