"""ADOM+ benchmarks (skipped by default).

Run: PYTHONPATH=. python -m pytest tests/benchmarks/bench_adom.py -m benchmark --benchmark-enable

Targets (issue 6): n = 100 nodes, d = 50, sparse time-varying W: >= 2,000 ADOM+ iterations/s;
n = 2,000 relabelled ring: chi in < 5 s and one iteration without dense n x n matrices.
The baseline is a straightforward per-node Python loop of the same iteration (how research code
typically runs), with the same sparse W.
"""

import numpy as np
import pytest

from ratecheck.solvers.adom import RelabelledRing, adom_plus, adom_plus_params, implicit_step
from ratecheck.verify.instances import adom_quadratics, random_geometric_cycle

pytestmark = pytest.mark.benchmark

ITERS = 400


@pytest.fixture(scope="module")
def big():
    prob = adom_quadratics(100, 50, 1.0, 100.0, seed=0)
    return prob, random_geometric_cycle(100, K=10, radius=0.25, seed=0), RelabelledRing(100, seed=0)


def _run(prob, net):
    return adom_plus(prob, T=ITERS, gossip=net, chi=net.chi)


def test_adom_sparse_rgg_n100_d50(benchmark, big):
    prob, rgg, _ = big
    benchmark.extra_info["iterations"] = ITERS
    benchmark(_run, prob, rgg)


def test_adom_relabelled_ring_n100_d50(benchmark, big):
    prob, _, ring = big
    benchmark.extra_info["iterations"] = ITERS
    benchmark(_run, prob, ring)


def naive_loop(prob, net, iters):
    """Per-node Python loop of the same ADOM+ iteration (sparse W products, row by row)."""
    n, d = prob.n, prob.d
    p = adom_plus_params(prob.mu, prob.L, net.chi)
    S = {k: [np.zeros(d) for _ in range(n)] for k in ("x", "xf", "y", "yf", "z", "zf", "m")}
    for k in range(iters):
        W = net.matrix(k).tolil()
        v, yz = [], []
        new = {key: [None] * n for key in S}
        for i in range(n):
            xg = p["tau1"] * S["x"][i] + (1 - p["tau1"]) * S["xf"][i]
            g = prob.C[i] @ xg + prob.b[i] - p["nu"] * xg
            yg = p["sigma1"] * S["y"][i] + (1 - p["sigma1"]) * S["yf"][i]
            zg = p["sigma1"] * S["z"][i] + (1 - p["sigma1"]) * S["zf"][i]
            xn, yn = implicit_step(S["x"][i], S["y"][i], xg, g, yg + zg, p)
            new["xf"][i] = xg + p["tau2"] * (xn - S["x"][i])
            new["yf"][i] = yg + p["sigma2"] * (yn - S["y"][i])
            new["x"][i], new["y"][i] = xn, yn
            v.append(p["gamma"] / p["nu"] * (yg + zg) + S["m"][i])
            yz.append((yg + zg, zg))
        for i in range(n):
            Wv = sum(W[i, j] * v[j] for j in W.rows[i])
            Wyz = sum(W[i, j] * yz[j][0] for j in W.rows[i])
            zg = yz[i][1]
            new["z"][i] = S["z"][i] + p["gamma"] * p["delta"] * (zg - S["z"][i]) - Wv
            new["m"][i] = v[i] - Wv
            new["zf"][i] = zg - p["zeta"] * Wyz
        S = new
    return S


def test_naive_per_node_loop_n100_d50(benchmark, big):
    prob, rgg, _ = big
    benchmark.extra_info["iterations"] = 20
    benchmark.pedantic(naive_loop, args=(prob, rgg, 20), rounds=2, iterations=1)


def test_chi_relabelled_ring_n2000(benchmark):
    ring = benchmark.pedantic(RelabelledRing, args=(2000,), rounds=3, iterations=1)
    assert ring.chi > 1e5


def test_one_iteration_ring_n2000(benchmark):
    ring = RelabelledRing(2000, seed=0)
    prob = adom_quadratics(2000, 5, 1.0, 10.0, seed=0)
    benchmark(adom_plus, prob, T=1, gossip=ring)
