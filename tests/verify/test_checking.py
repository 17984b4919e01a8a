import numpy as np
import pytest

from ratecheck.theorems import Claim, Kind, Provenance, sym
from ratecheck.verify.checking import HOLDS, INCONCLUSIVE, VIOLATED, Evidence, UsageError, check, judge, outcome
from ratecheck.verify.fit import loglog_fit

UP = Claim(id="t.up", title="t", paper="p", provenance=Provenance.DERIVED, kind=Kind.UPPER, measure="m", bound=sym("T"))
LOW = Claim(
    id="t.low", title="t", paper="p", provenance=Provenance.DERIVED, kind=Kind.LOWER, measure="m", bound=sym("T")
)
SC = Claim(
    id="t.sc",
    title="t",
    paper="p",
    provenance=Provenance.DERIVED,
    kind=Kind.SCALING,
    measure="m",
    exponent=-1,
    scaling_in="m",
)


def ev(measured, bound, **kw):
    g = np.arange(1, len(measured) + 1)
    return Evidence("T", g, measured, bound, **kw)


def test_deterministic_upper():
    v = judge(UP, ev([0.5, 1.0, 1.5], [1.0, 2.0, 3.0]))
    assert v.verdict == HOLDS and v.tightness == pytest.approx(0.5)
    v = judge(UP, ev([0.5, 2.1, 1.5], [1.0, 2.0, 3.0]))
    assert v.verdict == VIOLATED and v.worst_at["T"] == 2 and v.tightness == pytest.approx(1.05)
    # equality up to floating point holds, a relative excess of 1e-6 does not
    assert judge(UP, ev([1.0 + 1e-14], [1.0])).verdict == HOLDS
    assert judge(UP, ev([1.0 + 1e-6], [1.0])).verdict == VIOLATED
    assert judge(UP, ev([np.nan], [1.0])).verdict == INCONCLUSIVE  # NaN is never evidence
    assert judge(UP, ev([np.inf], [1.0])).verdict == VIOLATED


def test_monte_carlo_upper_three_outcomes():
    kw = dict(method="monte-carlo", n_samples=100)
    assert judge(UP, ev([0.5], [1.0], stderr=[0.01], **kw)).verdict == HOLDS
    assert judge(UP, ev([0.99], [1.0], stderr=[0.05], **kw)).verdict == INCONCLUSIVE
    assert judge(UP, ev([1.5], [1.0], stderr=[0.01], **kw)).verdict == VIOLATED
    # the mean above the bound but within noise is not a violation
    assert judge(UP, ev([1.02], [1.0], stderr=[0.05], **kw)).verdict == INCONCLUSIVE


def test_lower_bound():
    assert judge(LOW, ev([2.0, 3.0], [1.0, 3.0])).verdict == HOLDS
    v = judge(LOW, ev([2.0, 2.5], [1.0, 3.0]))
    assert v.verdict == VIOLATED and v.tightness == pytest.approx(1.2)


def test_scaling():
    x = np.array([10, 20, 40, 80, 160.0])
    rng = np.random.default_rng(0)
    y = 3 / x * np.exp(rng.normal(0, 0.01, x.size))
    e = Evidence("m", x, y, np.zeros_like(y), method="fit", fit=loglog_fit(x, y), predicted_exponent=-1.0)
    assert judge(SC, e).verdict == HOLDS
    e.predicted_exponent = -0.5
    assert judge(SC, e).verdict == VIOLATED


def test_outcome_one_counterexample_refutes():
    a = judge(UP, ev([0.5], [1.0]))
    b = judge(UP, ev([2.0], [1.0]))
    assert outcome([a, a]) == (HOLDS, False)
    assert outcome([a, b]) == (VIOLATED, True)
    teeth = UP.variant("x", expected_to_fail="wrong")
    ta, tb = judge(teeth, ev([0.5], [1.0])), judge(teeth, ev([2.0], [1.0]))
    assert outcome([ta, tb]) == (VIOLATED, False)
    assert outcome([ta]) == (HOLDS, True)


def test_verdict_json_is_plain():
    import json

    v = judge(UP, ev([0.5, np.inf], [1.0, 2.0]))
    d = v.to_dict()
    json.dumps(d)
    for key in ("claim", "paper", "provenance", "kind", "verdict", "tightness", "instance", "seed"):
        assert key in d


def test_fit_interval_and_errors():
    from ratecheck.verify.checking import UsageError

    x = np.array([1, 2, 4, 8.0])
    f = loglog_fit(x, 5 * x**2)
    assert f.slope == pytest.approx(2) and f.interval[0] <= 2 <= f.interval[1]
    with pytest.raises(UsageError, match="positive"):
        loglog_fit([1, 2, 3], [1, -1, 2])
    with pytest.raises(UsageError, match="3 distinct"):
        loglog_fit([1, 1, 2], [1, 2, 3])


def test_every_experiment_reports_bad_values_as_usage_errors():
    """The Experiment base converts solver and claim errors once, for check, search and sweep alike."""
    from ratecheck.solvers import InvalidInput
    from ratecheck.verify.checking import UsageError
    from ratecheck.verify.experiments import Experiment
    from ratecheck.verify.schema import Float, Measure, Schema

    class Broken(Experiment):
        name = "broken"
        schema = Schema(params=(Float("x", 1.0, "a number"),), measures=(Measure("m", "a measure"),))

        def run(self, claim, params, seed=0):
            raise InvalidInput("x must be > 0, got -1")

    with pytest.raises(UsageError, match="x must be > 0"):
        Broken().run(UP, {"x": -1})
    with pytest.raises(UsageError, match="x must be > 0"):
        from ratecheck import verify

        verify.check(UP, experiment=Broken(), instances=[{"x": -1}])


# --------------------------------------------------------------------------- warnings of a failing run
def test_warnings_are_shown_only_when_the_block_succeeds():
    import warnings

    from ratecheck.verify.errors import UsageError, warnings_after_success

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with pytest.raises(UsageError):
            with warnings_after_success():
                warnings.warn("overflow encountered", RuntimeWarning)
                raise UsageError("x must be finite")
        assert seen == []
        with warnings_after_success():
            warnings.warn("kept", RuntimeWarning)
        assert [str(w.message) for w in seen] == ["kept"]
        warnings.simplefilter("error")  # the filters stay in force: an error filter raises where it warns
        with pytest.raises(RuntimeWarning, match="boom"):
            with warnings_after_success():
                warnings.warn("boom", RuntimeWarning)


def test_a_run_that_fails_after_overflowing_leaves_no_warning():
    import warnings

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with pytest.raises(UsageError, match="parameter R must be finite"):
            check("rcd.convex", instances=[dict(x0_scale=1e160)])
        with pytest.raises(UsageError, match="the bound is not finite"):
            check("rcd.nonconvex", instances=[dict(scale_ratio=1e160)])
    assert [str(w.message) for w in seen] == []
