"""Teeth by search (issue 10): every teeth variant of every claim whose experiment declares a search
space is found violated by ``verify.search.search`` within the default budget, from the search
space alone (no hand-picked instances)."""
import pytest

import theorems
from verify.check import UsageError
from verify.search import DEFAULT_BUDGET, MC_BUDGET, load_counterexample, replay, reproduces, search, searchable


def _searchable(claim):
    try:
        searchable(claim)
        return True
    except UsageError:
        return False


TEETH = [t.id for t in theorems.teeth()]
SEARCHABLE = [tid for tid in TEETH if _searchable(theorems.get(tid))]


def test_some_teeth_are_searchable():
    assert len(SEARCHABLE) >= 10


@pytest.mark.parametrize("tid", TEETH)
def test_teeth_variant_found_by_search(tid):
    claim = theorems.get(tid)
    if tid not in SEARCHABLE:
        with pytest.raises(UsageError):
            searchable(claim)
        pytest.skip(f"{tid}: its experiment declares no search space, or the claim has no measure")
    res = search(claim, seed=0, shrink=False)  # the default budget
    assert res.verdict == "violated" and not res.unexpected, (
        f"{tid} not found violated in {res.runs} runs ({res.infeasible} infeasible); best tightness {res.tightness}")
    assert res.runs <= max(DEFAULT_BUDGET, MC_BUDGET)


@pytest.mark.slow
@pytest.mark.parametrize("tid", SEARCHABLE)
def test_teeth_counterexample_shrunk_and_replayed(tid, tmp_path):
    res = search(tid, out=tmp_path)
    assert res.verdict == "violated" and res.counterexample is not None
    rec = load_counterexample(res.counterexample)
    assert reproduces(rec, replay(res.counterexample))
