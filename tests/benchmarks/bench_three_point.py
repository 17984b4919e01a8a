"""3PC benchmark (issue 19 target), side by side with its baseline in one run.

Run: PYTHONPATH=. python -m pytest tests/benchmarks/bench_three_point.py -m benchmark -s

One LAG round and one CLAG (Top-10) round of the generic 3PC solver with n = 10,000 clients, d = 100 (federated
least squares, m = 10 rows per client) against one batched gradient pass of the same problem.  Target <= 1.5x: the
trigger is a batched row norm, not a per-client loop.  A round also updates x, the server mean and the records
(||grad f||^2, f, G), which is what a round of the method costs in the harness.

Measured (2-core machine shared with other jobs, load 3-4, best of 5): LAG 7.8-9.6 ms per round against a
4.0-6.1 ms gradient pass (ratio 1.6-2.0, the mechanism alone 2.6-2.7 ms): target NOT met -- the gradient pass of
least squares is memory-bound and cheap, and a round touches the (n, d) state about six more times (two
differences and norms for the trigger, the selection, the server mean, the mean gradient).  Then the trigger's
two differences went through one reusable scratch array (`solvers.three_point._sq_diff`): a fresh 8 MB
temporary per difference paid its page faults, and the trigger alone went from 5.2-5.7 ms to 2.6-3.2 ms (same
run, alternating).  After it, three runs at load 2-3: LAG ratio 1.22, 1.65, 1.73 (round 7.7-11.7 ms, gradient
pass 6.2-6.8 ms), and two on the quiet machine: 2.04, 2.01 (round 7.7-8.3 ms, gradient pass 3.8-4.1 ms: the
threaded gradient pass gains more from a quiet machine than the round does): the target is not met.  Against an
EF21 round with the same Top-10 (test below, two quiet runs): CLAG 1.60x, 1.31x.  CLAG (Top-10) 30-38 ms (ratio 5-8,
the mechanism alone 8-24 ms): the Top-k selection (argpartition over n d entries, which EF21 pays too)
dominates.
"""

import time

import numpy as np
import pytest

from ratecheck.solvers import three_point as tp
from ratecheck.solvers.compressors import TopK
from ratecheck.solvers.problems import LeastSquares

pytestmark = pytest.mark.benchmark

N, D, M, ROUNDS = 10_000, 100, 10, 20


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(0)
    return LeastSquares(rng.standard_normal((N, M, D)) / np.sqrt(M), rng.standard_normal((N, M)))


def _best(f, repeats=5):
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        out.append(time.perf_counter() - t)
    return min(out)


@pytest.mark.parametrize("name", ["lag", "clag"])
def test_round_against_one_gradient_pass(problem, name):
    x0 = np.zeros(D)
    mech = tp.LAG(1.0) if name == "lag" else tp.CLAG(TopK(10), 1.0)
    grad = _best(lambda: problem.value_and_grad(x0), repeats=ROUNDS)
    gamma = 0.1 / problem.L
    # the solver's set-up (x^0's gradient and round-0 records) is one extra pass: subtract a 1-round run
    one = _best(lambda: tp.three_point(problem, x0, gamma=gamma, T=1, mechanism=mech))
    many = _best(lambda: tp.three_point(problem, x0, gamma=gamma, T=ROUNDS + 1, mechanism=mech))
    per_round = (many - one) / ROUNDS
    H, Y, X = (np.random.default_rng(k).standard_normal((N, D)) for k in range(3))
    mech_only = _best(lambda: mech(H, Y, X), repeats=ROUNDS)
    print(
        f"\n{name}: one round {per_round * 1e3:.2f} ms, one batched gradient pass {grad * 1e3:.2f} ms "
        f"(ratio {per_round / grad:.2f}); the mechanism alone {mech_only * 1e3:.2f} ms"
    )
    assert per_round <= 1.5 * grad


def test_clag_round_against_an_ef21_round(problem):
    """CLAG's cost beyond EF21's (the same Top-10 compressor): the trigger and the selection of the clients it
    fires for.  The gradient-pass target above cannot hold for any Top-k method here (the selection over the
    n d entries alone costs more than half a gradient pass); against EF21 the question is what the lazy trigger
    adds, side by side in one run."""
    x0 = np.zeros(D)
    gamma = 0.1 / problem.L
    rounds = {}
    for name, mech in (("ef21", tp.EF21(TopK(10))), ("clag", tp.CLAG(TopK(10), 1.0))):
        one = _best(lambda: tp.three_point(problem, x0, gamma=gamma, T=1, mechanism=mech))
        many = _best(lambda: tp.three_point(problem, x0, gamma=gamma, T=ROUNDS + 1, mechanism=mech))
        rounds[name] = (many - one) / ROUNDS
    print(
        f"\nEF21 (Top-10) round {rounds['ef21'] * 1e3:.2f} ms, CLAG (Top-10, zeta = 1) round "
        f"{rounds['clag'] * 1e3:.2f} ms (ratio {rounds['clag'] / rounds['ef21']:.2f})"
    )
    assert rounds["clag"] <= 1.5 * rounds["ef21"]
