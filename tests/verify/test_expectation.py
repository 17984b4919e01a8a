"""Monte Carlo summaries: the pair-difference variance."""

from __future__ import annotations

import numpy as np
import pytest

from ratecheck.verify.expectation import pair_variance


def test_pair_variance_is_the_mean_of_half_squared_pair_differences():
    x = np.array([1.0, 3.0, 2.0, 2.0, 5.0, 1.0, 7.0])  # the odd last sample is left out
    var, se, pairs = pair_variance(x)
    halves = np.array([2.0, 0.0, 8.0])
    assert pairs == 3 and var == pytest.approx(halves.mean())
    assert se == pytest.approx(halves.std(ddof=1) / np.sqrt(3))


def test_pair_variance_along_an_axis_equals_row_by_row():
    draws = np.random.default_rng(1).standard_normal((3, 40000)) * np.array([[1.0], [2.0], [0.5]])
    var, se, pairs = pair_variance(draws, axis=1)
    assert pairs == 20000
    for j in range(3):
        np.testing.assert_array_equal(var[j], pair_variance(draws[j])[0])
    assert np.all(np.abs(var - [1.0, 4.0, 0.25]) < 5 * se)  # unbiased for the variance


def test_pair_variance_needs_two_pairs():
    with pytest.raises(ValueError, match="at least 2 replications"):
        pair_variance(np.array([1.0, 2.0, 3.0]))
