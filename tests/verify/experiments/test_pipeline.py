"""The fixed pipeline of the Experiment base and its one shared run cache (verify/experiments/__init__.py)."""

import gc
import weakref

import numpy as np
import pytest

import ratecheck.verify.experiments as ex
from ratecheck import theorems
from ratecheck.verify.experiments import CACHE, RunCache, all_experiments


def test_cache_is_bounded_by_entries_and_bytes():
    c = RunCache(max_entries=3, max_bytes=10**9)
    for k in range(5):
        c.get(k, lambda k=k: k)
    assert len(c) == 3 and c.get(0, lambda: "remade") == "remade"  # least recently used went first
    b = RunCache(max_entries=100, max_bytes=3 * 8000)
    for k in range(5):
        b.get(k, lambda: np.zeros(1000))
    assert len(b) == 3


def test_cache_hits_do_not_recompute_and_refresh_recency():
    c = RunCache(max_entries=2)
    calls = []
    c.get("a", lambda: calls.append("a") or 1)
    c.get("b", lambda: calls.append("b") or 2)
    assert c.get("a", lambda: calls.append("a!") or 0) == 1  # a hit; "a" is now the most recent
    c.get("c", lambda: 3)  # evicts "b", not "a"
    assert c.get("a", lambda: 0) == 1 and c.get("b", lambda: 9) == 9
    assert calls == ["a", "b"]


def test_cache_keeps_the_objects_whose_ids_it_is_keyed_by():
    c = RunCache()

    class Problem:
        pass

    p = Problem()
    alive = weakref.ref(p)
    c.get(("run", id(p)), lambda: "result", keep=(p,))
    del p
    gc.collect()
    assert alive() is not None  # kept alive by the entry: its id cannot be reused while the entry exists
    c.clear()
    gc.collect()
    assert alive() is None


@pytest.mark.parametrize("name", sorted(all_experiments()))
def test_measure_tables_cover_exactly_the_declared_measures(name):
    exp = ex.get(name)
    table = {**exp.MEASURES, **exp.DIRECT_MEASURES}
    if not table:
        pytest.skip(f"experiment {name!r} still dispatches in its own run()")
    assert set(table) == set(exp.measures)
    assert not set(exp.MEASURES) & set(exp.DIRECT_MEASURES)
    assert all(callable(getattr(exp, m)) for m in table.values())


def test_pipeline_runs_in_order_and_shares_the_instance():
    exp = ex.get("weiszfeld")
    claim = next(c for c in theorems.all() if c.experiment == "weiszfeld" and c.measure == "gm_gap")
    p = exp.params(exp.instances(claim, quick=True)[0])
    CACHE.clear()
    run = exp.pipeline(claim, p, 0)
    assert list(run.constants)[-2:] == ["gamma", "r0"]  # constants, then the stepsize, then the start
    again = exp.pipeline(claim, p, 0)
    assert again.instance is run.instance  # the instance came from the shared cache
    ev = exp.run(claim, p, 0)
    np.testing.assert_array_equal(ev.measured, exp._gm_gap(claim, run).measured)


def test_run_evidence_fills_in_the_runs_constants_instance_and_seed():
    c = {"L": 2.0}
    run = ex.Run({"T": 3}, 7, None, None, c, None)
    ev = run.evidence("T", [1, 2, 3], [3.0, 2.0, 1.0], [4.0, 4.0, 4.0], note="x", method="exact-expectation")
    assert ev.constants is c and ev.instance == {"T": 3} and ev.seed == 7 and ev.note == "x"
    assert ev.method == "exact-expectation" and ev.grid_name == "T"
    np.testing.assert_array_equal(ev.bound, [4.0, 4.0, 4.0])
