"""EF21 performance targets (issue 2), measured side by side in one run.

Run: python -m pytest tests/benchmarks/bench_ef21.py -m benchmark --benchmark-enable -s

* gradient pass (all n local gradients of dense least squares) <= 1.5x streaming the client data
  twice through memory (two full reductions over the same array);
* one full EF21 round (gradients, batched Top-k, state update, ||grad f||^2 record) <= 1.5x the
  gradient pass;
* at n = 10,000, d = 100: >= 3x faster than a straightforward per-client Python loop;
* ``ratecheck check ef21 --quick`` under 20 s.
"""

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from ratecheck.solvers.compressors import TopK
from ratecheck.solvers.ef21 import ef21
from ratecheck.solvers.problems import LeastSquares

pytestmark = pytest.mark.benchmark
ROOT = Path(__file__).resolve().parents[2]


def best(f, repeat=7):
    f()
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t)
    return min(ts)


def _problem(n, m, d):
    rng = np.random.default_rng(0)
    return LeastSquares(rng.standard_normal((n, m, d)), rng.standard_normal((n, m)))


def naive_ef21_round(A, b, x, G, gamma, k):
    """How research code runs a round: a Python loop over clients."""
    n, m, d = A.shape
    g = G.mean(axis=0)
    x = x - gamma * g
    for i in range(n):
        grad_i = 2.0 / m * A[i].T @ (A[i] @ x - b[i])
        diff = grad_i - G[i]
        idx = np.argsort(np.abs(diff))[-k:]
        G[i, idx] += diff[idx]
    return x, G


@pytest.mark.parametrize("n,m,d", [(10_000, 10, 100), (1_000, 20, 1_000)])
def test_gradient_pass_vs_memory_stream(benchmark, n, m, d):
    P = _problem(n, m, d)
    x = np.random.default_rng(1).standard_normal(d)
    stream = best(lambda: (P.A.sum(), P.A.sum()))
    grad = best(lambda: P.value_and_grad(x))
    benchmark(P.value_and_grad, x)
    benchmark.extra_info.update(stream_twice_s=stream, gradient_pass_s=grad, ratio=grad / stream)
    print(
        f"\n[n={n} m={m} d={d}] gradient pass {grad * 1e3:.2f} ms, stream twice {stream * 1e3:.2f} ms, ratio {grad / stream:.2f} (target <= 1.5)"
    )
    assert grad <= 1.5 * stream


@pytest.mark.parametrize("n,m,d", [(10_000, 10, 100), (1_000, 20, 1_000)])
def test_ef21_round_vs_gradient_pass(benchmark, n, m, d):
    P = _problem(n, m, d)
    x = np.random.default_rng(1).standard_normal(d)
    rounds = 20
    grad = best(lambda: P.value_and_grad(x))
    run = best(lambda: ef21(P, x, gamma=1e-4, compressor=TopK(1), T=rounds), repeat=3)
    init = best(lambda: ef21(P, x, gamma=1e-4, compressor=TopK(1), T=1), repeat=3)  # setup + 1 round
    per_round = (run - init) / (rounds - 1)
    benchmark.pedantic(ef21, args=(P, x), kwargs=dict(gamma=1e-4, T=rounds, compressor=TopK(1)), rounds=3)
    benchmark.extra_info.update(gradient_pass_s=grad, round_s=per_round, ratio=per_round / grad)
    print(
        f"\n[n={n} m={m} d={d}] EF21 round {per_round * 1e3:.2f} ms, gradient pass {grad * 1e3:.2f} ms, ratio {per_round / grad:.2f} (target <= 1.5)"
    )
    assert per_round <= 1.5 * grad


def test_ef21_vs_per_client_loop(benchmark):
    n, m, d = 10_000, 10, 100
    P = _problem(n, m, d)
    x = np.random.default_rng(1).standard_normal(d)
    G = P.value_and_grad(x)[1].copy()
    loop = best(lambda: naive_ef21_round(P.A, P.b, x, G.copy(), 1e-4, 1), repeat=3)
    run = best(lambda: ef21(P, x, gamma=1e-4, compressor=TopK(1), T=10), repeat=3)
    init = best(lambda: ef21(P, x, gamma=1e-4, compressor=TopK(1), T=1), repeat=3)
    per_round = (run - init) / 9
    benchmark.pedantic(naive_ef21_round, args=(P.A, P.b, x, G.copy(), 1e-4, 1), rounds=3)
    benchmark.extra_info.update(loop_round_s=loop, vectorized_round_s=per_round, speedup=loop / per_round)
    print(
        f"\n[n={n} d={d}] per-client loop {loop * 1e3:.1f} ms/round, vectorized {per_round * 1e3:.2f} ms/round, speedup {loop / per_round:.1f}x (target >= 3)"
    )
    assert loop >= 3 * per_round


def test_quick_check_wall_time(benchmark, tmp_path):
    def run():
        return subprocess.run(
            [sys.executable, "-m", "ratecheck", "check", "ef21", "--quick", "--out", str(tmp_path / "r")],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )

    t = time.perf_counter()
    r = run()
    wall = time.perf_counter() - t
    assert r.returncode == 0, r.stdout + r.stderr
    benchmark.pedantic(run, rounds=1)
    benchmark.extra_info.update(wall_s=wall)
    print(f"\n`ratecheck check ef21 --quick`: {wall:.1f} s (target < 20 s)")
    assert wall < 20
