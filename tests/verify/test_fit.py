"""Scaling-law fits: power, offset and piecewise forms, bootstrap over seeds, the exponent plot."""

from __future__ import annotations

import numpy as np
import pytest

from ratecheck.verify import UsageError
from ratecheck.verify.fit import (
    Fit,
    fit_evidence,
    loglog_fit,
    offset_fit,
    piecewise_fit,
    plot_exponents,
    scaling_fit,
    windowed_decay_rate,
)

X = np.geomspace(1, 1000, 9)


def test_loglog_fit_exact_and_compatible():
    f = loglog_fit(X, 3 * X**-0.5)
    assert isinstance(f, Fit) and f.form == "power" and f.method == "t"
    assert f.slope == pytest.approx(-0.5) and f.interval[0] <= -0.5 <= f.interval[1]
    assert f.predict([4.0]) == pytest.approx([1.5])
    with pytest.raises(UsageError, match="3 distinct"):
        loglog_fit([1, 2, 2], [1, 2, 3])
    with pytest.raises(UsageError, match="positive"):
        loglog_fit([1, 2, 3], [1, 0, 3])


def test_offset_fit_recovers_constant_term():
    y = 0.2 + 5 * X**-1.0
    plain = loglog_fit(X, y)
    f = offset_fit(X, y)
    assert plain.slope > -0.8  # the floor bends a plain log-log fit
    assert f.slope == pytest.approx(-1.0, abs=1e-6) and f.offset == pytest.approx(0.2, rel=1e-6)
    assert f.predict(X) == pytest.approx(y)
    with pytest.raises(UsageError, match="4 distinct"):
        offset_fit([1, 2, 3], [1, 2, 3])


def test_piecewise_fit_reports_the_last_segment():
    y = np.where(X < 10, X**-0.2, 10**0.8 * X**-1.0)  # continuous at x = 10
    f = piecewise_fit(X, y)
    assert f.slope == pytest.approx(-1.0, abs=1e-8) and f.first_slope == pytest.approx(-0.2, abs=1e-8)
    assert f.breakpoint == pytest.approx(10, rel=1e-4)
    assert f.predict(X) == pytest.approx(y, rel=1e-6)


def test_bootstrap_over_seeds_covers_truth_and_contains_t_interval():
    rng = np.random.default_rng(0)
    R, true = 6, -0.75
    reps = np.repeat(np.arange(R), X.size)
    xs = np.tile(X, R)
    c = np.exp(rng.normal(0, 0.5, R))[reps]  # each seed: its own constant (common random numbers along x)
    y = c * xs**true * np.exp(rng.normal(0, 0.02, xs.size))
    f = scaling_fit(xs, y, replicate=reps)
    assert f.method == "bootstrap+t" and f.n_boot > 1000 and f.n_points == xs.size
    assert f.interval[0] <= true <= f.interval[1] and f.interval[1] - f.interval[0] < 0.05
    means_fit = loglog_fit(X, np.exp(np.log(y).reshape(R, -1).mean(0)))
    assert f.interval[0] <= means_fit.interval[0] and f.interval[1] >= means_fit.interval[1]
    assert scaling_fit(xs, y, replicate=reps, seed=0) == f  # reproducible
    unpaired = scaling_fit(xs, y)  # no labels: resampled within each x, so the seed constants widen it
    assert unpaired.interval[1] - unpaired.interval[0] > f.interval[1] - f.interval[0]


def test_scaling_fit_forms_and_single_replicate():
    assert scaling_fit(X, 2 * X**1.5).method == "t"
    reps = np.repeat([0, 1], X.size)
    xs = np.tile(X, 2)
    y = (0.1 + xs**-1.0) * np.where(reps == 0, 1.0, 1.01)
    f = scaling_fit(xs, y, replicate=reps, form="offset", n_boot=30)
    assert f.form == "offset" and f.interval[0] <= -1.0 <= f.interval[1]
    with pytest.raises(UsageError, match="fit form"):
        scaling_fit(X, X, form="cubic")


def test_plot_exponents(tmp_path):
    from types import SimpleNamespace

    f = loglog_fit(X, X**-1.0 * (1 + 0.01 * np.sin(X)))
    v = SimpleNamespace(claim="toy", verdict="holds", evidence=SimpleNamespace(fit=f, predicted_exponent=-1.0))
    out = plot_exponents([v], tmp_path / "exp.png")
    assert (tmp_path / "exp.png").stat().st_size > 1000 and out.endswith("exp.png")


def test_windowed_decay_rate_of_a_geometric_series_is_its_rate():
    D = 0.9 ** np.arange(400.0)
    ends, rate = windowed_decay_rate(D, 10, floor=1e-12, rounding_floor=1e-15)
    assert ends[0] == 10 and np.all(np.diff(ends) == 5)
    np.testing.assert_allclose(rate, -np.log(0.9), rtol=1e-9)
    assert D[ends[-1]] >= 1e-12 * D[0] > D[ends[-1] + 5]  # compared down to the floor only


def test_windowed_decay_rate_uses_the_suffix_max_envelope_and_stops_at_the_rounding_floor():
    D = 0.5 ** np.arange(80.0)
    D[1::2] *= 3.0  # not monotone: the envelope keeps the worst later value
    noisy = np.r_[D[:60], 1e-16 * np.ones(30)]  # rounding noise drifting back up after the smallest value
    ends, rate = windowed_decay_rate(noisy, 4, floor=1e-30, rounding_floor=1e-15)
    assert ends[-1] <= 60 and np.all(rate > 0)
    np.testing.assert_allclose(rate[:-1], np.log(2.0), rtol=1e-9)


def test_windowed_decay_rate_of_a_diverging_or_short_run():
    ends, rate = windowed_decay_rate(np.array([1.0, 10.0, np.inf]), 8, floor=1e-20, rounding_floor=1e-15)
    assert ends.tolist() == [2] and rate[0] == -np.inf  # shorter than one window: measured over its length


class _Scaling:
    """The two things fit_evidence asks of a scaling claim."""

    def predicted_exponent(self, **constants):
        return 2.0


@pytest.mark.parametrize("line", ["fit", "predicted", "none"])
def test_fit_evidence_lines_and_exponent(line):
    x = np.array([1.0, 2.0, 4.0, 8.0])
    y = 3.0 * x**1.5
    c = {"n": 5}
    ev = fit_evidence(_Scaling(), "kappa", x, y, c, mode="at-most", tolerance=0.1, line=line)
    assert ev.method == "fit" and abs(ev.fit.slope - 1.5) < 1e-12 and ev.predicted_exponent == 2.0
    assert c == {"n": 5, "exponent_tolerance": 0.1, "scaling_mode": "at-most"} and ev.constants is c
    want = {"fit": ev.fit.predict(x), "predicted": y[0] * (x / x[0]) ** 2.0, "none": np.full(4, np.nan)}[line]
    np.testing.assert_array_equal(ev.bound, want)
    ev = fit_evidence(_Scaling(), "kappa", x, y, {}, mode="equal", tolerance=0.0, line=line, exponent=1.5)
    assert ev.predicted_exponent == 1.5


def test_fit_evidence_refuses_an_unknown_line():
    with pytest.raises(ValueError, match="line must be one of fit, predicted, none"):
        fit_evidence(_Scaling(), "x", [1, 2, 4], [1, 2, 4], {}, mode="equal", tolerance=0.0, line="bound")
