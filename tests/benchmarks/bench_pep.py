"""Worst-case (PEP) benchmarks (skipped by default; need the extra [pep]).

Run: PYTHONPATH=. python -m pytest tests/benchmarks/bench_pep.py -m benchmark --benchmark-enable

Targets (issue 21): the EF21 single-node PEP (class F_{mu,L}, claim ef21.pl-qm at L = 1, mu = 0.1,
alpha = 0.5, free d^0; build + solve + duality-gap check) in <= 1 s at N = 10 and <= 10 s at N = 20 with
Clarabel.  The baseline is the same PEP solved with SCS (eps = 1e-9), PEPit's usual open-source fallback.
"""

import pytest

pytest.importorskip("PEPit")

from ratecheck.verify.pep.ef21 import ef21_pep, ef21_setting  # noqa: E402

pytestmark = pytest.mark.benchmark


@pytest.fixture(scope="module")
def setting():
    return ef21_setting("ef21.pl-qm", {"L": 1.0, "mu": 0.1, "alpha": 0.5})


@pytest.mark.parametrize("N", [10, 20])
def test_ef21_pep_clarabel(benchmark, setting, N):
    r = benchmark.pedantic(ef21_pep, args=(setting, N), rounds=3 if N == 10 else 1, iterations=1)
    benchmark.extra_info.update(N=N, value=r.value, gap=r.duality_gap, solver=r.solver)
    assert r.accepted


def test_ef21_pep_scs_baseline_n10(benchmark, setting):
    r = benchmark.pedantic(ef21_pep, args=(setting, 10), kwargs={"solver": "SCS"}, rounds=1, iterations=1)
    benchmark.extra_info.update(N=10, value=r.value, gap=r.duality_gap, solver=r.solver)
