"""Benchmarks of the private-quantile histogram and of RFA rounds (skipped by default).

Run: PYTHONPATH=. python -m pytest tests/benchmarks/bench_rfa_personalization.py -m benchmark --benchmark-enable

Targets (issue 20): the distributed discrete Gaussian histogram with modular secure summation for m = 10^5
clients and b = 100 bins in <= 1 s; RFA with n = 1,000 clients, d = 100, 50 rounds in <= 5 s.  Side by side:
the plain numpy baseline of the same size (a one-hot histogram with a float Gaussian added, np.sum; one batched
gradient pass per round with mean aggregation).
"""

import numpy as np
import pytest

from ratecheck.solvers.dp_quantile import quantile_readout, secure_histogram
from ratecheck.solvers.rfa import rfa

pytestmark = pytest.mark.benchmark

M, B = 100_000, 100
N, D, ROUNDS = 1000, 100, 50


@pytest.fixture(scope="module")
def scores():
    return np.random.default_rng(0).beta(2, 5, M), np.linspace(0, 1, B + 1)


def _protocol(s, edges):
    rng = np.random.default_rng(1)
    sf = int(round(np.sqrt(M) * 3.0))
    h = secure_histogram(s, edges, scale=sf, sigma_int=3.0, modulus=2 * (M * sf + 10**6) + 2, rng=rng)
    return quantile_readout(h.counts, M, 0.1)


def _baseline_histogram(s, edges):
    rng = np.random.default_rng(1)
    onehot = np.zeros((M, B))
    onehot[np.arange(M), np.clip(np.searchsorted(edges, s) - 1, 0, B - 1)] = 1.0
    return quantile_readout((onehot + rng.normal(0, 3.0 / np.sqrt(M), (M, B))).sum(0), M, 0.1)


def test_dp_histogram_m1e5_b100(benchmark, scores):
    benchmark(_protocol, *scores)


def test_dp_histogram_baseline_float_sum(benchmark, scores):
    benchmark(_baseline_histogram, *scores)


@pytest.fixture(scope="module")
def clients():
    rng = np.random.default_rng(0)
    H, W = rng.uniform(0.5, 2, (N, D)), 1 + 0.5 * rng.standard_normal((N, D))
    return H, W, np.arange(N) >= 700


def test_rfa_n1000_d100_50_rounds(benchmark, clients):
    H, W, bad = clients
    kw = dict(gamma=0.5, T=ROUNDS, rng=np.random.default_rng(0), K=3, corrupted=bad, budget=10, polish=1)
    benchmark(lambda: rfa((H, W), np.zeros(D), **kw))


def test_rfa_baseline_fedavg_one_gradient_pass_per_round(benchmark, clients):
    H, W, _ = clients

    def fedavg():
        w = np.zeros(D)
        for _ in range(ROUNDS):
            w = (w - 0.5 * H * (w - W)).mean(0)
        return w

    benchmark(fedavg)
