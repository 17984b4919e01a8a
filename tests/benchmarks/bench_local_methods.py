"""Local-method benchmarks (issue 18 targets), each side by side with its baseline in one run.

Run: PYTHONPATH=. python -m pytest tests/benchmarks/bench_local_methods.py -m benchmark --benchmark-enable -s

* Exact expectation of ProxSkip (the shared engine ``verify.expectation.exact_linear_second_moments`` on the
  state (x - x*, h - h*) of dimension 2nd, its two maps applied with their structure: ``proxskip_operators``) against Monte Carlo reaching a 1%-wide 95% interval of E Psi_T on
  the same instance.  Target: 10,000 steps <= 5 s at n = d = 10 and >= 100x faster than Monte Carlo.  The
  Monte Carlo cost is measured per replication-step on a pilot run and multiplied by the replications the
  pilot's coefficient of variation requires; the exact cost is measured on ``STEPS`` steps and scaled to
  10,000 (the engine's cost per step is constant).  On a shared eigenbasis (n = 10, d = 1,000) the decoupled
  coordinates (``exact_scaffnew_coordinates``) run the full 10,000 steps beside the previous engine.
* One Scaffnew step with n = 1,000 clients, d = 100 against one batched gradient pass (target <= 1.5x).
"""

import time

import numpy as np
import pytest

from ratecheck.solvers.local_methods import proxskip
from ratecheck.solvers.problems import QuadraticClients
from ratecheck.verify.experiments import get
from ratecheck.verify.experiments.local_methods import build_clients, proxskip_exact

pytestmark = pytest.mark.benchmark

TARGET_T = 10_000
STEPS = 300  #: exact steps timed (scaled to TARGET_T)


def _general(n=10, d=10):
    return build_clients(get("local_methods").params(dict(instance="rotated", n=n, d=d, kappa=10.0)), seed=0)


def test_exact_expectation_against_monte_carlo_n10_d10():
    P = _general()
    g, q, x0 = 1 / P.L_max, 0.3, P.x_star + 1.0
    t = time.perf_counter()
    psi = proxskip_exact(P, g, q, x0, STEPS)
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
    """Diagonal client Hessians (a shared eigenbasis), n = 10, d = 1,000: ``proxskip_exact`` runs
    ``exact_scaffnew_coordinates`` (O(n^2) per coordinate and step) for the full 10,000 steps, beside the
    previous engine (the generic engine on the d batched 2n x 2n systems of ``proxskip_coordinate_operators``,
    timed on ``OLD_STEPS`` steps and scaled) and Monte Carlo to a 1%-wide 95% interval of E Psi_T (the solver
    on the same instance; pilot run scaled as in the n = d = 10 benchmark).  Wall and CPU times are printed:
    on a shared machine the CPU time is the comparable one.  Issue target: 10,000 steps <= 5 s and >= 100x
    faster than Monte Carlo."""
    from ratecheck.solvers.local_methods import proxskip_coordinate_operators
    from ratecheck.verify.expectation import exact_linear_second_moments

    exp = get("local_methods")
    P = build_clients(exp.schema.validate_params(dict(instance="diagonal", n=10, d=1000)), seed=0)
    g, q, x0 = 1 / P.L_max, 0.3, P.x_star + 1.0
    wall, cpu = time.perf_counter(), time.process_time()
    psi = proxskip_exact(P, g, q, x0, TARGET_T)
    new_wall, new_cpu = time.perf_counter() - wall, time.process_time() - cpu

    OLD_STEPS = 100
    lam = np.diagonal(P.A, axis1=1, axis2=2)
    hs = np.einsum("nij,j->ni", P.A, P.x_star) - P.b
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
        f"{new_cpu:.1f} s CPU; previous engine (batched 2n x 2n operators) {old_wall:.0f} s wall, {old_cpu:.0f} s "
        f"CPU (speed-up {old_cpu / new_cpu:.1f}x CPU); Monte Carlo to a 1%-wide interval: {R_needed} replications, "
        f"{mc_cpu:.3g} s CPU (exact is {mc_cpu / new_cpu:.3g}x faster)"
    )
    assert mc_cpu >= 100 * new_cpu  # issue target
    assert new_cpu <= 5.0  # issue target (measured 12-14 s CPU on the shared 2-core machine: not met)


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
