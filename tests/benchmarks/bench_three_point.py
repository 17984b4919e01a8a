"""3PC benchmark (issue 19 target), side by side with its baseline in one run.

Run: python3 -m pytest tests/benchmarks/bench_three_point.py -m benchmark -s

One LAG round and one CLAG (Top-10) round of the generic 3PC solver with n = 10,000 clients, d = 100 (federated
least squares, m = 10 rows per client) against one batched gradient pass of the same problem.  Target <= 1.5x.
A round also updates x, the server mean and the records (||grad f||^2, f, G), which is what a round of the method
costs in the harness.  The machine is shared: every timing is the best of REPEATS runs, the round and the gradient
pass interleaved (the load hits both alike), wall and CPU time (all threads) both reported.

History.  First version: LAG 1.6-2.0x (2.0x on a quiet machine: round 7.7-8.3 ms, gradient pass 3.8-4.1 ms),
CLAG (Top-10) 5-8x.  The trigger's differences through one reusable scratch array (a fresh 8 MB temporary pays
its page faults, which on this VM cost more than the arithmetic): the trigger alone 5.2-5.7 ms -> 2.6-3.2 ms.

What a round did beyond the gradient pass (line-level timings at load 4-5, gradient pass 5-8 ms): the mean of
the estimates (one (n, d) read), the trigger (two differences and two row norms: four passes), a fresh
``np.where`` copy of the whole state, the mean gradient of the record (one read); CLAG in addition the Top-k of
the fired rows by ``np.argpartition`` along each row (the compressor's row-wise selection, not a global one
over the n d entries: kept as it is) through ``take_along_axis``/``put_along_axis`` (their index arrays are
(rows, d) temporaries): 10-14 ms for the 10,000 rows, argpartition alone 0.6-0.7 of a gradient pass.

Now (``Mechanism.advance``, the solver's in-place form of a mechanism): the trigger runs block by block (512 KiB
of rows), h, y, x read once with the differences in cache; when h is y (the round after all clients sent, the solver passes one array) one
difference serves both norms; the state is updated in place for the fired rows only (O(fired d)); LAG returns
``X`` itself when all fire, and the server mean is then the gradients' mean the record computes anyway, and is
kept without a pass when none fire (an incremental mean over the changed rows was tried and dropped: its
rounding differs from the mean's, and LAG's trigger at zeta = 1 is an exact tie every other round, so
trajectories and skip counts moved at n = 3000); Top-k reads the k-th magnitude off one vectorized row sort
(``ndarray.sort``, 3-4x faster than ``argpartition`` along rows), adds h + (x - h) 1[kept], and gives rows
tied at the k-th magnitude (or with a NaN) to ``argpartition``, so the kept sets are exactly the compressor's;
EF21 with Top-k shares it.  Results are bit for bit those of the maps (``tests/solvers/test_three_point.py``;
trajectories of EF21, LAG, CLAG, GD, 3PCv5 at n = 4, 300, 3000 identical to the previous solver) and every
verdict is unchanged.  Handing alternate blocks to a second thread (as the gradient pass does) was tried and
dropped: interleaved against one thread at load 2-6, rounds -1% to +7% (no gain: the machine has no idle core).

Measured (2 cores shared with three other engineers' jobs, load 3-4; under that load the gradient pass's two
threads run one after the other, wall = CPU), best of 15 interleaved runs of 4 rounds (best of 7 runs of 20
rounds let a preempted run inflate the wall time: LAG 1.98x wall but 1.35x CPU once): LAG 1.32x, 1.41x, 1.45x
(round 8.5-9.3 ms, gradient pass 6.3-6.6 ms): target met.  CLAG (Top-10) 2.12x, 2.19x, 2.10x: target NOT met;
against EF21 with the same Top-10 (now sharing the in-place update: EF21 round 38.7 -> 11-14 ms) 0.96-1.06x.
Why CLAG cannot meet it with numpy (``test_the_passes_a_clag_round_cannot_skip``: every pass a round must make,
one numpy call each over the (n, d) arrays, outputs preallocated, interleaved with the gradient pass): trigger
0.17-0.29, magnitudes 0.03-0.05, the row sort 0.15-0.23, the kept mask 0.07-0.10, the update 0.12-0.17, the
errors 0.09-0.13, the two means 0.07-0.10 of a gradient pass, 0.69-1.19 in total over six runs -- more than the
0.5 the target leaves, before any bookkeeping; the CLAG round's own excess (7.0 ms over a 6.3 ms gradient pass)
is that sum.  Meeting it would need the selection, update and error fused in one compiled pass (numba or C: not a
dependency).
"""

import time

import numpy as np
import pytest

from ratecheck.solvers import three_point as tp
from ratecheck.solvers.compressors import TopK
from ratecheck.solvers.problems import LeastSquares

pytestmark = pytest.mark.benchmark

N, D, M, ROUNDS, REPEATS = 10_000, 100, 10, 4, 15


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(0)
    return LeastSquares(rng.standard_normal((N, M, D)) / np.sqrt(M), rng.standard_normal((N, M)))


def _interleaved(runs: dict, repeats: int = REPEATS) -> dict:
    """Best-of-``repeats`` wall and CPU (all threads) seconds of each callable, run in turn in every repeat, so
    that the load of a shared machine hits them alike."""
    wall, cpu = ({k: [] for k in runs} for _ in range(2))
    for _ in range(repeats):
        for k, f in runs.items():
            w, c = time.perf_counter(), time.process_time()
            f()
            wall[k].append(time.perf_counter() - w)
            cpu[k].append(time.process_time() - c)
    return {k: (min(wall[k]), min(cpu[k])) for k in runs}


def _rounds(problem, mechs: dict) -> dict:
    """Per-round wall and CPU seconds of each mechanism's solver run, and of one batched gradient pass
    (``"grad"``), interleaved.  The solver's set-up (x^0's gradient, round-0 records) is one extra pass:
    a round is the difference between a (ROUNDS + 1)-round and a 1-round run, over ROUNDS."""
    x0 = np.zeros(D)
    gamma = 0.1 / problem.L
    runs = {"grad": lambda: problem.value_and_grad(x0)}
    for name, mech in mechs.items():
        runs[name + "/1"] = lambda m=mech: tp.three_point(problem, x0, gamma=gamma, T=1, mechanism=m)
        runs[name + "/many"] = lambda m=mech: tp.three_point(problem, x0, gamma=gamma, T=ROUNDS + 1, mechanism=m)
    t = _interleaved(runs)
    out = {"grad": t["grad"]}
    for name in mechs:
        out[name] = tuple((t[name + "/many"][i] - t[name + "/1"][i]) / ROUNDS for i in (0, 1))
    return out


@pytest.mark.parametrize("name", ["lag", "clag"])
def test_round_against_one_gradient_pass(problem, name):
    mech = tp.LAG(1.0) if name == "lag" else tp.CLAG(TopK(10), 1.0)
    t = _rounds(problem, {name: mech})
    (rw, rc), (gw, gc) = t[name], t["grad"]
    print(
        f"\n{name}: one round {rw * 1e3:.2f} ms wall / {rc * 1e3:.2f} ms CPU, one batched gradient pass "
        f"{gw * 1e3:.2f} ms wall / {gc * 1e3:.2f} ms CPU (ratio {rw / gw:.2f} wall, {rc / gc:.2f} CPU)"
    )
    assert rw <= 1.5 * gw


def test_clag_round_against_an_ef21_round(problem):
    """CLAG's cost beyond EF21's (the same Top-10 compressor): the trigger and the selection of the clients it
    fires for, side by side in one run."""
    t = _rounds(problem, {"ef21": tp.EF21(TopK(10)), "clag": tp.CLAG(TopK(10), 1.0)})
    (ew, ec), (cw, cc) = t["ef21"], t["clag"]
    print(
        f"\nEF21 (Top-10) round {ew * 1e3:.2f} ms wall / {ec * 1e3:.2f} ms CPU, CLAG (Top-10, zeta = 1) round "
        f"{cw * 1e3:.2f} ms wall / {cc * 1e3:.2f} ms CPU (ratio {cw / ew:.2f} wall, {cc / ec:.2f} CPU)"
    )
    assert cw <= 1.5 * ew


def test_the_passes_a_clag_round_cannot_skip(problem):
    """Why CLAG (Top-k) misses the target: a round must, beyond the gradient pass, read h, y, x for the trigger,
    select the k largest magnitudes of every fired row, update those rows, compute their errors and the two
    means.  Each as one numpy pass over the (n, d) arrays, outputs preallocated, interleaved with the gradient
    pass: their sum alone exceeds half a gradient pass (what the 1.5x target leaves)."""
    rng = np.random.default_rng(1)
    H, Y, X = (rng.standard_normal((N, D)) for _ in range(3))
    S, A, U, T = (np.empty((N, D)) for _ in range(4))
    keep = np.empty((N, D), dtype=bool)
    np.subtract(X, H, out=S)
    np.abs(S, out=A)
    thr = np.sort(A, axis=-1)[:, D - 10, None]
    x0 = np.zeros(D)
    passes = {
        "trigger: x - y, x - h and their row norms": lambda: (
            np.einsum("ij,ij->i", np.subtract(X, Y, out=T), T),
            np.einsum("ij,ij->i", np.subtract(X, H, out=S), S),
        ),
        "magnitudes |x - h|": lambda: np.abs(S, out=A),
        "selection: one row sort of the magnitudes": lambda: (np.copyto(U, A), U.sort(axis=-1)),
        "kept mask (magnitude >= k-th largest)": lambda: np.greater_equal(A, thr, out=keep),
        "update h + (x - h) [kept]": lambda: np.add(H, np.multiply(S, keep, out=T), out=T),
        "errors ||g - x||^2": lambda: np.einsum("ij,ij->i", np.subtract(T, X, out=U), U),
        "means of g and of the gradients": lambda: (H.mean(axis=0), X.mean(axis=0)),
    }
    t = _interleaved({"grad": lambda: problem.value_and_grad(x0), **passes}, repeats=3 * REPEATS)
    gw = t["grad"][0]
    total = sum(t[k][0] for k in passes)
    for k in passes:
        print(f"\n  {k}: {t[k][0] * 1e3:.2f} ms ({t[k][0] / gw:.2f} of a gradient pass)", end="")
    print(f"\nCLAG's passes {total * 1e3:.2f} ms = {total / gw:.2f} of one gradient pass ({gw * 1e3:.2f} ms)")
    assert total > 0.5 * gw
