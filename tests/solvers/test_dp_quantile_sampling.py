"""The guide-table inverse CDF of the discrete Gaussian sampler returns exactly ``np.searchsorted``'s indices."""

import numpy as np
import pytest

from ratecheck.solvers.dp_quantile import aggregate_noise_pmf, discrete_gaussian_table, inverse_cdf_index


def _cdf(p):
    c = np.cumsum(p)
    c[-1] = 1.0
    return c


@pytest.mark.parametrize("sigma", [0.3, 2.0, 40.0])
def test_guide_table_matches_searchsorted_on_the_discrete_gaussian(sigma):
    cdf = _cdf(discrete_gaussian_table(sigma)[1])
    u = np.random.default_rng(0).random((3000, 120))
    # the values on bucket edges and on the cdf's own values are the delicate ones
    u.flat[:64] = np.arange(64) / 64
    inside = cdf[cdf < 1.0]  # uniforms lie in [0, 1)
    u.flat[64 : 64 + inside.size] = inside
    np.testing.assert_array_equal(inverse_cdf_index(cdf, u), np.searchsorted(cdf, u, side="right"))


def test_guide_table_with_ties_and_an_aggregate_law():
    """A cdf with flat stretches (probabilities that underflow to zero) and the law of a sum of draws."""
    p = np.r_[np.zeros(5), 0.25, np.zeros(7), 0.5, 0.0, 0.25, np.zeros(3)]
    for cdf in (_cdf(p), _cdf(aggregate_noise_pmf(1.5, 20)[1])):
        u = np.random.default_rng(1).random(400_000)
        u[:4] = [0.0, 0.25, 0.75, np.nextafter(1.0, 0.0)]
        np.testing.assert_array_equal(inverse_cdf_index(cdf, u), np.searchsorted(cdf, u, side="right"))


def test_small_draws_use_the_plain_search():
    cdf = _cdf(discrete_gaussian_table(1.0)[1])
    u = np.random.default_rng(2).random(7)
    np.testing.assert_array_equal(inverse_cdf_index(cdf, u), np.searchsorted(cdf, u, side="right"))
