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


def _counting_solves(monkeypatch, exp):
    calls = []
    solve = type(exp).solve

    def counted(self, claim, inst, c, p, seed):
        calls.append(claim.id)
        return solve(self, claim, inst, c, p, seed)

    monkeypatch.setattr(type(exp), "solve", counted)
    return calls


def test_a_teeth_variant_that_changes_only_the_bound_reuses_its_claims_run(monkeypatch):
    """ef21.nonconvex-am~rate-T2 has the claim's stepsize, settings and assumptions: its check reuses the
    claim's solver run, and its evidence is exactly that of a run made afresh."""
    exp = ex.get("ef21")
    claim, teeth = theorems.get("ef21.nonconvex-am"), theorems.get("ef21.nonconvex-am~rate-T2")
    p = exp.params(exp.instances(claim, quick=True)[0])
    CACHE.clear()
    fresh = exp.run(teeth, p, 0)
    CACHE.clear()
    calls = _counting_solves(monkeypatch, exp)
    exp.run(claim, p, 0)
    reused = exp.run(teeth, p, 0)
    assert calls == [claim.id]
    np.testing.assert_array_equal(reused.measured, fresh.measured)
    np.testing.assert_array_equal(reused.bound, fresh.bound)
    assert reused.constants == fresh.constants


def test_a_teeth_variant_with_another_stepsize_runs_its_own(monkeypatch):
    exp = ex.get("ef21")
    claim, teeth = theorems.get("ef21.nonconvex-am"), theorems.get("ef21.nonconvex-am~step1000")
    p = exp.params(exp.instances(claim, quick=True)[0])
    CACHE.clear()
    calls = _counting_solves(monkeypatch, exp)
    exp.run(claim, p, 0)
    exp.run(teeth, p, 0)
    exp.run(claim, dict(p, T=p["T"] + 1), 0)  # another instance parameter: another run
    assert calls == [claim.id, teeth.id, claim.id]


def test_a_reused_run_gives_back_its_constants_and_warnings(monkeypatch):
    """What solve adds to the constants (here the start's r0) and the warnings it raised come with every reuse."""
    import warnings

    exp = ex.get("weiszfeld")
    claim = next(c for c in theorems.all() if c.experiment == "weiszfeld" and c.measure == "gm_gap")
    p = exp.params(exp.instances(claim, quick=True)[0])
    solve = type(exp).solve

    def noisy(self, claim, inst, c, p, seed):
        warnings.warn("a solver warning", RuntimeWarning)
        return solve(self, claim, inst, c, p, seed)

    monkeypatch.setattr(type(exp), "solve", noisy)
    CACHE.clear()
    runs = []
    for _ in range(2):
        with warnings.catch_warnings(record=True) as held:
            warnings.simplefilter("always")
            runs.append(exp.pipeline(claim, p, 0))
        assert [str(w.message) for w in held] == ["a solver warning"]
    assert runs[1].result is runs[0].result
    assert "r0" in runs[1].constants and runs[1].constants == runs[0].constants


def test_a_run_that_reads_the_bound_is_never_reused_by_a_variant_with_another_bound(monkeypatch):
    """lgd_rounds_to_eps caps each run at the bound (solve reads it): ~H-squared must run its own and be
    caught, also right after its claim filled the cache."""
    exp = ex.get("local_methods")
    claim, teeth = theorems.get("local-gd.comm-vs-H"), theorems.get("local-gd.comm-vs-H~H-squared")
    p = exp.params(exp.instances(claim, quick=True)[0])
    CACHE.clear()
    calls = _counting_solves(monkeypatch, exp)
    assert exp.run(claim, p, 0) is not None
    v = ratecheck_judge(teeth, exp.run(teeth, p, 0))
    assert calls == [claim.id, teeth.id] and v.verdict == "violated"
    exp.run(teeth, p, 0)  # its own run is reused by itself
    assert calls == [claim.id, teeth.id]


def test_the_watched_claim_is_a_claim_that_notes_what_is_read():
    from ratecheck.theorems import Claim
    from ratecheck.verify.experiments import _Watched

    claim = theorems.get("ef21.pl-qm")
    w = _Watched(claim)
    assert isinstance(w, Claim) and w.measure == claim.measure and not w.dependent()
    assert w.evaluate is not None and w.dependent() and "evaluate" in w.reads
    with pytest.raises(AttributeError, match="read-only"):
        w.bound = 1


def ratecheck_judge(claim, ev):
    from ratecheck.verify.verdict import judge

    return judge(claim, ev)


def test_run_evidence_fills_in_the_runs_constants_instance_and_seed():
    c = {"L": 2.0}
    run = ex.Run({"T": 3}, 7, None, None, c, None)
    ev = run.evidence("T", [1, 2, 3], [3.0, 2.0, 1.0], [4.0, 4.0, 4.0], note="x", method="exact-expectation")
    assert ev.constants is c and ev.instance == {"T": 3} and ev.seed == 7 and ev.note == "x"
    assert ev.method == "exact-expectation" and ev.grid_name == "T"
    np.testing.assert_array_equal(ev.bound, [4.0, 4.0, 4.0])
