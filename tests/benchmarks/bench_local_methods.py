"""Local-method benchmarks (issue 18 targets), each side by side with its baseline in one run.

Run: PYTHONPATH=. python -m pytest tests/benchmarks/bench_local_methods.py -m benchmark --benchmark-enable -s

* Exact expectation of ProxSkip (the shared engine ``verify.expectation.exact_linear_second_moments`` on the
  state (x - x*, h - h*) of dimension 2nd, its two maps applied with their structure: ``proxskip_operators``) against Monte Carlo reaching a 1%-wide 95% interval of E Psi_T on
  the same instance.  Target: 10,000 steps <= 5 s at n = d = 10 and >= 100x faster than Monte Carlo.  The
  Monte Carlo cost is measured per replication-step on a pilot run and multiplied by the replications the
  pilot's coefficient of variation requires; the exact cost is measured on ``STEPS`` steps and scaled to
  10,000 (the engine's cost per step is constant).  On a shared eigenbasis (n = 10, d = 1,000) the decoupled
  coordinates (``exact_scaffnew_coordinates``) run the full 10,000 steps beside the previous coordinate engine
  (its code is kept here as ``_previous_scaffnew_coordinates``) and the batched 2n x 2n engine.
  Measured (2-core machine shared with three other sessions, so CPU time is the comparable figure), two
  runs of this file: exact_scaffnew_coordinates 4.6 s CPU (6.7 s wall; load average 3.5-4.6) against 10.9 s
  CPU for the previous coordinate engine, 2.4x, passing; 5.8 s CPU (15.4 s wall; load 6) against 11.6 s,
  2.0x, failing the 5 s assertion; in short interleaved runs (1,000 steps, old / new / old) 0.44-0.45 s
  against 1.00-1.19 s CPU, 2.3-2.6x.  The previous engine took 12.2 s on a quiet machine, so the new one
  should take ~5 s there: the <= 5 s target is at the edge, not met with margin.  Chunks of 1,024
  coordinates (the default, here all of them), 512 and 334: 0.57-0.63, 0.61-0.63 and 0.70-0.76 s CPU per
  1,500 steps, interleaved.  What was measured on the way (per step, d = 1,000):
  the previous layout (d, n, n) puts the client pair last, so every broadcast and the row means run
  10-element inner loops; putting the coordinate last ((n, n, d): every pass one contiguous loop, the
  transposes and the averaging corrections strided only over whole rows) and rewriting the recursion as
  16 passes + 2 row sums (E' = P + S + G, D = P - qE', V = (D + (q/p) G) / p, G+ = p^2 D + q(1 + p) G - H)
  instead of 23 passes + a matrix-vector product gave ~2.3x; cache-sized chunks of coordinates did not help
  (256 or 512 coordinates: slower, the broadcasts' per-row overhead grows); packed upper triangles of E and
  G (55 of 100 entries) lose more on the gathers the row sums and corrections then need (a packed row sum
  costs ~3 elementwise passes, a (10 x 55) @ (55 x d) product ~4) than they save; fusing the linear
  combinations into BLAS (gemv/gemm over stacked rows) was slower than the ufunc passes (OpenBLAS on
  4 x 8 @ 8 x 55,000: ~20 passes' worth).  No BLAS call sits in the loop, so no thread pinning is needed.
* One Scaffnew step with n = 1,000 clients, d = 100 against one batched gradient pass (target <= 1.5x).
"""

import time

import numpy as np
import pytest

from ratecheck.solvers.local_methods import proxskip
from ratecheck.solvers.problems import QuadraticClients
from ratecheck.verify.expectation import exact_scaffnew_lyapunov
from ratecheck.verify.instances import local_quadratic_clients

pytestmark = pytest.mark.benchmark

TARGET_T = 10_000
STEPS = 300  #: exact steps timed (scaled to TARGET_T)


def _previous_scaffnew_coordinates(lam, gamma, p, e0, g0, T, renormalise_every=32):
    """The previous ``exact_scaffnew_coordinates`` (kept here as the baseline of the side-by-side timing):
    arrays (d, n, n) with the client pair last, 23 elementwise passes and a matrix-vector row mean per step."""
    d, n = lam.shape
    a = 1.0 - gamma * lam
    beta = -gamma * (1.0 - p) / p
    col, row = (slice(None), slice(None), None), (slice(None), None, slice(None))
    E, Y, G = e0[col] * e0[row], e0[col] * g0[row], g0[col] * g0[row]
    aa = a[col] * a[row]
    a_full = a[col] * np.ones((d, n, n))
    w_g, k_y, k_g = gamma**2 / p**2, p * p / gamma, p**3 / gamma**2
    ones = np.full(n, 1.0 / n)
    Q1, Q2, Z, V, tmp, tG = (np.empty((d, n, n)) for _ in range(6))
    log_scale = np.zeros(d)
    out = np.full(T + 1, np.inf)
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        for t in range(T + 1):
            psi_j = np.einsum("dii->d", E) + w_g * np.einsum("dii->d", G)
            total = float(np.exp(log_scale) @ psi_j)
            if not np.isfinite(total) or np.any(np.abs(psi_j) >= 1e300):
                break
            out[t] = total
            if t == T:
                break
            if t % renormalise_every == renormalise_every - 1:
                s = np.where((psi_j > 0) & np.isfinite(psi_j), psi_j, 1.0)
                log_scale += np.log(s)
                s = (1.0 / s)[:, None, None]
                E *= s
                Y *= s
                G *= s
            np.multiply(aa, E, out=Q1)
            np.multiply(a_full, Y, out=Z)
            np.add(Z, Z.transpose(0, 2, 1), out=Q2)
            np.multiply(Q2, beta, out=tmp)
            np.add(Q1, tmp, out=V)
            np.multiply(G, beta * beta, out=tmp)
            V += tmp
            r = (V.reshape(d * n, n) @ ones).reshape(d, n)
            m = r.mean(axis=1)
            c = r - m[:, None]
            h = c + 0.5 * m[:, None]
            np.add(h[col], h[row], out=tmp)
            V -= tmp
            np.multiply(G, gamma, out=tG)
            np.multiply(Q2, gamma, out=tmp)
            Q1 += tmp
            np.multiply(tG, gamma, out=tmp)
            Q1 += tmp
            Q1 *= 1.0 - p
            Q1 += (p * m)[:, None, None]
            E, Q1 = Q1, E
            Z += tG
            Z *= 1.0 - p
            Z -= (k_y * c)[row]
            Y, Z = Z, Y
            G *= 1.0 - p
            np.multiply(V, k_g, out=tmp)
            G += tmp
    return out


def _general(n=10, d=10):
    return local_quadratic_clients("rotated", n=n, d=d, kappa=10.0)


def test_exact_expectation_against_monte_carlo_n10_d10():
    P = _general()
    g, q, x0 = 1 / P.L_max, 0.3, P.x_star + 1.0
    t = time.perf_counter()
    psi = exact_scaffnew_lyapunov(P, g, q, x0, STEPS)
    exact_s = (time.perf_counter() - t) * TARGET_T / STEPS
    R0, T = 400, 100  # Monte Carlo horizon where E Psi_T is far above float resolution
    t = time.perf_counter()
    tr = proxskip(P, x0, gamma=g, p=q, T=T, rng=np.random.default_rng(0), replications=R0, x_star=P.x_star)
    per_rep_step = (time.perf_counter() - t) / (R0 * T)
    last = tr.lyapunov[:, -1]
    cv = last.std(ddof=1) / last.mean()
    R_needed = int(np.ceil((2 * 1.96 * cv / 0.01) ** 2))  # 95% interval of width 1% of the mean
    mc_s = R_needed * TARGET_T * per_rep_step
    assert abs(last.mean() - psi[T]) <= 4 * last.std(ddof=1) / np.sqrt(R0)
    print(
        f"\nexact (2nd = {2 * P.n * P.d}): {exact_s:.2f} s per {TARGET_T} steps; Monte Carlo to a 1%-wide interval: "
        f"{R_needed} replications, {mc_s:.1f} s; speed-up {mc_s / exact_s:.0f}x"
    )
    assert mc_s >= 100 * exact_s  # issue target: >= 100x faster than Monte Carlo
    assert exact_s <= 5.0  # issue target (the dense maps took ~90-160 s: O((2nd)^3) per step)


def test_exact_expectation_shared_eigenbasis_n10_d1000():
    """Diagonal client Hessians (a shared eigenbasis), n = 10, d = 1,000: ``exact_scaffnew_lyapunov`` runs
    ``exact_scaffnew_coordinates`` (O(n^2) per coordinate and step) for the full 10,000 steps, beside the
    previous coordinate engine (``_previous_scaffnew_coordinates``, also the full 10,000 steps, same
    instance, in the same run), the engine before it (the generic engine on the d batched 2n x 2n systems
    of ``proxskip_coordinate_operators``, timed on ``OLD_STEPS`` steps and scaled) and Monte Carlo to a
    1%-wide 95% interval of E Psi_T (the solver on the same instance; pilot run scaled as in the n = d = 10
    benchmark).  Wall and CPU times are printed: on a shared machine the CPU time is the comparable one.
    Issue target: 10,000 steps <= 5 s and >= 100x faster than Monte Carlo."""
    from ratecheck.solvers.local_methods import proxskip_coordinate_operators
    from ratecheck.verify.expectation import exact_linear_second_moments

    P = local_quadratic_clients("diagonal", n=10, d=1000)
    g, q, x0 = 1 / P.L_max, 0.3, P.x_star + 1.0
    wall, cpu = time.perf_counter(), time.process_time()
    psi = exact_scaffnew_lyapunov(P, g, q, x0, TARGET_T)
    new_wall, new_cpu = time.perf_counter() - wall, time.process_time() - cpu

    lam = np.diagonal(P.A, axis1=1, axis2=2)
    hs = np.einsum("nij,j->ni", P.A, P.x_star) - P.b
    e0 = np.ascontiguousarray(np.broadcast_to(x0 - P.x_star, (P.n, P.d)).T)
    wall, cpu = time.perf_counter(), time.process_time()
    prev = _previous_scaffnew_coordinates(lam.T, g, q, e0, np.ascontiguousarray(-hs.T), TARGET_T)
    prev_wall, prev_cpu = time.perf_counter() - wall, time.process_time() - cpu
    np.testing.assert_allclose(psi, prev, rtol=1e-11)

    OLD_STEPS = 100
    z0 = np.concatenate([np.broadcast_to(x0 - P.x_star, (P.n, P.d)).T, -hs.T], axis=1)
    W = np.diag(np.r_[np.ones(P.n), np.full(P.n, g**2 / q**2)])
    wall, cpu = time.perf_counter(), time.process_time()
    old = exact_linear_second_moments(
        list(proxskip_coordinate_operators(lam, g, q)), [1 - q, q], z0, OLD_STEPS, {"psi": W}
    )["psi"]
    old_wall = (time.perf_counter() - wall) * TARGET_T / OLD_STEPS
    old_cpu = (time.process_time() - cpu) * TARGET_T / OLD_STEPS
    np.testing.assert_allclose(psi[: OLD_STEPS + 1], old, rtol=1e-10)

    R0, T = 100, 10  # Monte Carlo pilot (the solver stores the Hessians dense: n d^2 per replication-step)
    wall, cpu = time.perf_counter(), time.process_time()
    tr = proxskip(P, x0, gamma=g, p=q, T=T, rng=np.random.default_rng(0), replications=R0, x_star=P.x_star)
    per_rep_step = (time.process_time() - cpu) / (R0 * T)
    last = tr.lyapunov[:, -1]
    cv = last.std(ddof=1) / last.mean()
    R_needed = int(np.ceil((2 * 1.96 * cv / 0.01) ** 2))
    mc_cpu = R_needed * TARGET_T * per_rep_step
    assert abs(last.mean() - psi[T]) <= 4 * last.std(ddof=1) / np.sqrt(R0)
    print(
        f"\nshared eigenbasis n=10, d=1000, {TARGET_T} steps: exact_scaffnew_coordinates {new_wall:.1f} s wall, "
        f"{new_cpu:.1f} s CPU; previous coordinate engine {prev_wall:.1f} s wall, {prev_cpu:.1f} s CPU "
        f"(speed-up {prev_cpu / new_cpu:.1f}x CPU); batched 2n x 2n operators {old_wall:.0f} s wall, "
        f"{old_cpu:.0f} s CPU (speed-up {old_cpu / new_cpu:.1f}x CPU); Monte Carlo to a 1%-wide interval: "
        f"{R_needed} replications, {mc_cpu:.3g} s CPU (exact is {mc_cpu / new_cpu:.3g}x faster)"
    )
    assert mc_cpu >= 100 * new_cpu  # issue target
    assert new_cpu <= 5.0  # issue target (4.6 s CPU at load 3.5-4.6, 5.8 s at load 6 on the shared 2-core machine)


def test_scaffnew_step_against_one_gradient_pass_n1000_d100():
    n, d = 1000, 100
    rng = np.random.default_rng(0)
    lam = rng.uniform(1.0, 10.0, (n, d))
    A = lam[:, :, None] * np.eye(d)  # (n, d, d) dense storage: the gradient pass is the einsum of the solver
    P = QuadraticClients(A, rng.standard_normal((n, d)))
    X = rng.standard_normal((1, n, d))
    reps = 20
    t = time.perf_counter()
    for _ in range(reps):
        P.value_and_grad(X, per_client=True)
    grad_s = (time.perf_counter() - t) / reps
    t = time.perf_counter()
    proxskip(P, np.zeros(d), gamma=0.05, p=0.5, T=reps, rng=np.random.default_rng(1))
    step_s = (time.perf_counter() - t) / reps
    print(f"\nScaffnew step {1e3 * step_s:.2f} ms, gradient pass {1e3 * grad_s:.2f} ms, ratio {step_s / grad_s:.2f}")
    assert step_s <= 1.5 * grad_s
