"""Counterexample search performance (issue 10).

Run: python -m pytest tests/benchmarks/bench_search.py -m benchmark --benchmark-enable -s

* with the default budget, ``search`` on any one shipped claim (and teeth variant) whose experiment
  declares a search space finishes in under 60 s on 2 cores;
* the search overhead (point mapping, validation, judging, caching) is small next to the runs: on a
  toy experiment whose run costs nothing, a default-budget search takes well under a second.
"""
import time

import pytest

import theorems
from verify.check import UsageError
from verify.search import DEFAULT_BUDGET, search, searchable

pytestmark = pytest.mark.benchmark
LIMIT = 60.0


def _ids():
    out = []
    for c in list(theorems.all()) + list(theorems.teeth()):
        try:
            searchable(c)
        except UsageError:
            continue
        out.append(c.id)
    return out


@pytest.mark.parametrize("cid", _ids())
def test_default_budget_search_under_60s(cid):
    t0 = time.perf_counter()
    res = search(cid, budget=DEFAULT_BUDGET, seed=0)
    dt = time.perf_counter() - t0
    print(f"\n{cid:<40} {res.verdict:<10} tightness {res.tightness!s:<22.8} runs {res.runs:>2}+{res.shrink_runs:<2} "
          f"infeasible {res.infeasible:>2}  {dt:6.1f} s")
    assert not res.unexpected
    assert dt < LIMIT, f"search on {cid} took {dt:.1f} s (limit {LIMIT:g} s)"


def test_search_overhead_on_a_free_experiment(benchmark):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from test_search import TOY, toy_claim

    claim = toy_claim(1000)
    res = benchmark(lambda: search(claim, experiment=TOY, budget=DEFAULT_BUDGET))
    assert res.verdict == "holds"
    assert benchmark.stats.stats.min < 1.0
