"""The measurements the EF21 and Weiszfeld experiments moved into ``solvers`` and ``verify.instances``, side by side
with the inline code they replace (the experiments' code before the move, copied here as the baseline).

Run: ``PYTHONPATH=. python -m pytest tests/benchmarks/bench_ef21_weiszfeld_measures.py -m benchmark -s``

Each pair runs in one session on the same data; ``test_ratios`` prints the CPU-time ratio moved / inline
(min over repetitions) and checks the results are bit-identical.  The target is a ratio near 1: the move
changes where the code lives, not what it computes.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from scipy.optimize import nnls

from ratecheck.solvers.ef21 import lyapunov_weights, sampled_clone_qm
from ratecheck.solvers.weiszfeld import first_below, hull_distance, max_ratio_while_above, smoothed_weiszfeld
from ratecheck.verify.instances import heterogeneous_least_squares, point_cloud, sampled_least_squares_smoothness

pytestmark = pytest.mark.benchmark


# --------------------------------------------------------------------------- the inline code before the move
def inline_hull_distance(W, Z, R):
    big = 1e3 * max(R, 1.0)
    A = np.vstack([W.T, np.full(W.shape[0], big)])
    out = np.empty(Z.shape[0])
    for i, z in enumerate(Z):
        lam, _ = nnls(A, np.r_[z, big], maxiter=50 * W.shape[0])
        out[i] = float(np.linalg.norm(W.T @ (lam / lam.sum()) - z))
    return out


def inline_first(gap, eps):
    hit = gap[None, :] <= eps[:, None]
    reached = hit.any(axis=1)
    return np.where(reached, np.argmax(hit, axis=1), gap.size).astype(float), reached


def inline_ratio(iterates, z, g_nu, level, floor):
    dstar = np.linalg.norm(iterates - z, axis=1)
    cond = (g_nu[1:] >= level) & (dstar[:-1] > floor)
    return float(np.max(dstar[1:][cond] / dstar[:-1][cond], initial=0.0))


def inline_clone_qm(rng, K=300, n_max=50):
    n = rng.integers(1, n_max + 1, K)
    mask = np.arange(n_max) < n[:, None]
    L = np.exp(rng.normal(0, 1, (K, n_max)) * rng.uniform(0.1, 3, (K, 1)))
    am = np.where(mask, L, 0).sum(1) / n
    N_i = np.where(mask, np.ceil(L / am[:, None] - 1e-12), 1.0)
    return np.sqrt(np.where(mask, N_i, 0).sum(1) / n**2 * np.where(mask, L**2 / N_i, 0).sum(1)), am


def inline_smoothness(rng, K=40):
    Ls, Lam = np.empty(K), np.empty(K)
    for j in range(K):
        n = int(rng.integers(2, 30))
        spread = float(1 + (np.sqrt(n) - 1) * rng.uniform(0, 0.5))
        prob = heterogeneous_least_squares(
            n=n,
            d=int(rng.integers(2, 15)),
            m=int(rng.integers(1, 8)),
            spread=spread,
            profile=str(rng.choice(["outlier", "geometric"])),
            seed=int(rng.integers(2**31)),
        )
        Ls[j], Lam[j] = prob.L, prob.L_am
    return Ls, Lam


def inline_weights(P):
    n = P.n
    return {"qm": np.full(n, 1.0 / n), "am": P.L_am / (n * P.L_i), "w": P.L_i / P.L_i.sum()}


# --------------------------------------------------------------------------- the pairs
@pytest.fixture(scope="module")
def run():
    W, w, _ = point_cloud("gaussian", m=100, d=10, outlier_frac=0.25, shift=100.0, seed=0)
    res = smoothed_weiszfeld(W, w @ W, T=400, weights=w, nu=1e-6, store_iterates=True)
    return W, w, res


def _pairs(run):
    W, w, res = run
    Z, R, z = res.iterates[1:60], float(np.ptp(W, axis=0).max()), res.iterates[-1]
    gap = res.g - res.g.min()
    eps = np.geomspace(1e-1, 1e-12, 12) * res.g.min()
    P = heterogeneous_least_squares(n=2000, d=20, m=10)
    return {
        "hull_distance": (lambda: hull_distance(W, Z, R), lambda: inline_hull_distance(W, Z, R)),
        "first_below": (lambda: first_below(gap, eps), lambda: inline_first(gap, eps)),
        "max_ratio_while_above": (
            lambda: max_ratio_while_above(res.iterates, z, res.g_nu, res.g_nu[-1], 1e-7 * R),
            lambda: inline_ratio(res.iterates, z, res.g_nu, res.g_nu[-1], 1e-7 * R),
        ),
        "sampled_clone_qm": (
            lambda: sampled_clone_qm(np.random.default_rng(0)),
            lambda: inline_clone_qm(np.random.default_rng(0)),
        ),
        "sampled_least_squares_smoothness": (
            lambda: sampled_least_squares_smoothness(np.random.default_rng(0)),
            lambda: inline_smoothness(np.random.default_rng(0)),
        ),
        "lyapunov_weights": (lambda: lyapunov_weights(P.L_i, P.L_am), lambda: inline_weights(P)),
    }


def _cpu(f, repeat=5):
    f()
    ts = []
    for _ in range(repeat):
        t = time.process_time()
        f()
        ts.append(time.process_time() - t)
    return min(ts)


def _same(a, b):
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return np.array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.parametrize(
    "name",
    [
        "hull_distance",
        "first_below",
        "max_ratio_while_above",
        "sampled_clone_qm",
        "sampled_least_squares_smoothness",
        "lyapunov_weights",
    ],
)
def test_ratios(run, name):
    moved, inline = _pairs(run)[name]
    assert _same(moved(), inline())
    t_moved, t_inline = _cpu(moved), _cpu(inline)
    print(f"{name}: moved {t_moved * 1e3:.3f} ms, inline {t_inline * 1e3:.3f} ms, ratio {t_moved / t_inline:.2f}")
