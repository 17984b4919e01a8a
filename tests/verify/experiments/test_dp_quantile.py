"""DP federated quantile (distributed discrete Gaussian, modular secure summation): the claims hold with their
tightness, every tooth is caught by check and by search, and the protocol is exact integer arithmetic mod M."""

from __future__ import annotations

import numpy as np
import pytest

from ratecheck import theorems
from ratecheck.solvers.dp_quantile import (
    aggregate_noise_pmf,
    discrete_gaussian,
    histogram_counts,
    level_error,
    quantile_readout,
    secure_histogram,
)
from ratecheck.verify import check
from ratecheck.verify.checking import outcome
from ratecheck.verify.searching import search

IDS = ("dp-quantile.poster", "dp-quantile.cdf-uniform", "dp-quantile.accuracy", "dp-quantile.modulus")


def test_ids_provenance_and_teeth():
    for cid in IDS:
        c = theorems.get(cid)
        assert c.experiment == "dp_quantile" and theorems.teeth(cid)
    assert theorems.get("dp-quantile.poster").provenance.value == "paper"
    assert {theorems.get(i).provenance.value for i in IDS[1:]} == {"derived"}


@pytest.mark.parametrize("cid", IDS)
def test_claim_holds(cid):
    vs = check(cid, quick=True)
    assert outcome(vs) == ("holds", False), [v.detail for v in vs]
    t = max(v.tightness for v in vs if v.tightness is not None) if cid != "dp-quantile.modulus" else None
    if cid == "dp-quantile.cdf-uniform":
        assert 0 < t < 0.5  # an exceedance rate well below alpha: the bound is valid, not vacuous
    if cid == "dp-quantile.accuracy":
        assert 0.05 < t <= 1
    if cid == "dp-quantile.poster":
        assert abs(vs[0].evidence.fit.slope + 1) < 0.05


@pytest.mark.parametrize("tid", [t.id for c in IDS for t in theorems.teeth(c)])
def test_tooth_caught_by_check(tid):
    assert outcome(check(tid, quick=True))[0] == "violated"


def test_brief_form_is_refuted_in_b():
    """Finding: the level error grows like sqrt(b) (slope 1/2), not like b sigma^2/m (slope 1)."""
    (v,) = check("dp-quantile.poster~brief-b-sigma2-in-b", quick=True)
    assert v.verdict == "violated" and abs(v.evidence.fit.slope - 0.5) < 0.1


@pytest.mark.parametrize("tid", ["dp-quantile.cdf-uniform~no-sqrt-b", "dp-quantile.modulus~M-2m"])
def test_tooth_found_by_search(tid):
    res = search(tid, seed=0, shrink=False, budget=4)
    assert res.verdict == "violated"


def test_discrete_gaussian_moments_and_aggregate_law():
    rng = np.random.default_rng(0)
    x = discrete_gaussian(rng, 3.0, 200_000)
    assert x.dtype.kind == "i" and abs(x.mean()) < 0.05 and abs(x.var() / 9.0 - 1) < 0.02
    support, pmf = aggregate_noise_pmf(3.0, 7)
    assert abs(pmf.sum() - 1) < 1e-12 and abs(np.sum(support**2 * pmf) - 7 * 9.0) < 1e-6  # variances add


def test_secure_sum_is_exact_mod_M_and_masks_do_not_change_it():
    rng = np.random.default_rng(1)
    s = rng.beta(2, 5, 300)
    edges = np.linspace(0, 1, 11)
    M = 2 * (300 * 50 + 10**4) + 2
    h1 = secure_histogram(s, edges, scale=50, sigma_int=2.0, modulus=M, rng=np.random.default_rng(2), mask=True)
    h2 = secure_histogram(s, edges, scale=50, sigma_int=2.0, modulus=M, rng=np.random.default_rng(2), mask=False)
    np.testing.assert_array_equal(h1.decoded, h1.true_sum)
    np.testing.assert_array_equal(h1.true_sum, h2.true_sum)
    assert abs(h1.counts.sum() - 300) < 5
    np.testing.assert_array_equal(histogram_counts([0.0, 0.1, 0.1000001, 1.0], edges), [2, 1] + [0] * 7 + [1])


def test_readout_and_level_error_without_noise_are_exact():
    counts = np.array([10, 20, 30, 40])
    j = quantile_readout(counts, 100, 0.5)  # C = 10, 30, 60, 100 -> first >= 50 is j = 3
    assert j == 3 and level_error(counts, j, 100, 0.5) == 0.0
    assert level_error(counts, j, 100, 0.5, binned=False) == pytest.approx(0.1)
