"""Benchmarks of the rare-features result (skipped by default).

    PYTHONPATH=. python -m pytest tests/benchmarks/bench_rare_features.py -m benchmark --benchmark-enable

Targets (issue 3): the authors' synthetic setting (n = 100, d = 500) runs 10,000 EF21 rounds in under
10 s on 2 cores; a sparse instance with n = 10,000, d = 100,000, c = 5 runs one round without
densifying (peak memory reported).  Baselines side by side: the dense vectorized ``solvers.ef21.ef21``
((n, d) state) and a per-client Python loop (how research code runs EF21).
"""

from __future__ import annotations

import time
import tracemalloc

import numpy as np
import pytest

from ratecheck.solvers.compressors import TopK
from ratecheck.solvers.ef21 import ef21
from ratecheck.verify.instances import rare_features_problem

pytestmark = pytest.mark.benchmark

ROUNDS = 10_000


@pytest.fixture(scope="module", params=[0.05, 0.5, 0.9], ids=lambda q: f"c_over_n={q}")
def authors(request):
    n, d = 100, 500
    P = rare_features_problem(n=n, d=d, m=12, c=int(np.ceil(n * request.param)), seed=0)
    x0 = np.random.default_rng(123).uniform(-1, 1, d) / np.sqrt(d)
    gamma = 1.0 / (P.L + np.sqrt(P.c / P.n) * P.L_plus * 2 * P.r)
    return P, x0, gamma


def test_sparse_ef21_authors_10k_rounds(benchmark, authors):
    P, x0, gamma = authors
    kw = dict(gamma=gamma, T=ROUNDS, compressor=TopK(1))
    tr = benchmark.pedantic(ef21, args=(P, x0), kwargs=kw, rounds=1, iterations=1)
    benchmark.extra_info.update(n=P.n, d=P.d, c=P.c, r=P.r, nnz=P.A.nnz, S=P.S, rounds=ROUNDS)
    assert np.isfinite(tr.grad_norm_sq[-1])


def test_dense_ef21_authors_1k_rounds(benchmark, authors):
    """Baseline: the dense (R, n, d) EF21 of solvers.ef21 on the same instance, 1,000 rounds (x10 to compare)."""
    P, x0, gamma = authors
    D = P.to_dense()
    kw = dict(gamma=gamma, T=ROUNDS // 10, compressor=TopK(1))
    tr = benchmark.pedantic(ef21, args=(D, x0), kwargs=kw, rounds=1, iterations=1)
    assert np.isfinite(tr.grad_norm_sq[0, -1])


def naive_loop_ef21(P, x0, gamma, rounds):
    """Per-client Python loop with dense d-vectors per client (the research-code baseline)."""
    n, m = P.n, int(P.m_i[0])
    A = [P.A[i * m : (i + 1) * m].toarray() for i in range(n)]
    b = [P.y[i * m : (i + 1) * m] for i in range(n)]
    x = x0.copy()
    g_i = [2.0 / m * A[i].T @ (A[i] @ x - b[i]) for i in range(n)]
    g = sum(g_i) / n
    for _ in range(rounds):
        x = x - gamma * g
        for i in range(n):
            diff = 2.0 / m * A[i].T @ (A[i] @ x - b[i]) - g_i[i]
            j = int(np.argmax(np.abs(diff)))
            g_i[i][j] += diff[j]
            g[j] += diff[j] / n
    return x


def test_naive_loop_ef21_authors_1k_rounds(benchmark, authors):
    """Baseline: per-client Python loop, 1,000 rounds (10x fewer: multiply by 10 to compare)."""
    P, x0, gamma = authors
    x = benchmark.pedantic(naive_loop_ef21, args=(P, x0, gamma, ROUNDS // 10), rounds=1, iterations=1)
    ref = ef21(P, x0, gamma=gamma, compressor=TopK(1), T=ROUNDS // 10).x_final
    assert np.allclose(x, ref, rtol=1e-8, atol=1e-10)


def test_huge_sparse_one_round(benchmark):
    """n = 10,000 clients, d = 100,000 features, c = 5: one EF21 round, peak memory reported."""
    n, d, c = 10_000, 100_000, 5
    t0 = time.perf_counter()
    P = rare_features_problem(n=n, d=d, m=4, c=c, design="regular", seed=0, constants=False)
    build = time.perf_counter() - t0
    x0 = np.zeros(d)

    def one_round():
        tracemalloc.start()
        ef21(P, x0, gamma=1e-3, compressor=TopK(1), T=1)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak

    peak = benchmark.pedantic(one_round, rounds=3, iterations=1)
    data_bytes = P.A.data.nbytes + P.A.indices.nbytes + P.A.indptr.nbytes
    benchmark.extra_info.update(
        n=n,
        d=d,
        c=P.c,
        r=P.r,
        nnz=P.A.nnz,
        build_seconds=round(build, 2),
        peak_round_MB=round(peak / 1e6, 2),
        data_MB=round(data_bytes / 1e6, 2),
        dense_state_MB=round(n * d * 8 / 1e6),
    )
    print(
        f"\nhuge instance: build {build:.2f} s, peak memory of one round {peak / 1e6:.1f} MB "
        f"(data {data_bytes / 1e6:.1f} MB; one dense (n, d) float64 array would be {n * d * 8 / 1e9:.1f} GB)"
    )
    assert peak < 0.01 * n * d * 8
