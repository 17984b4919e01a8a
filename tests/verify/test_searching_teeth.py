"""Teeth by search (issue 10): every teeth variant of every claim whose experiment declares a search
space is found violated by ``verify.searching.search`` within the default budget, from the search
space alone (no hand-picked instances)."""

import pytest

from ratecheck import theorems
from ratecheck.verify.checking import UsageError
from ratecheck.verify.searching import (
    DEFAULT_BUDGET,
    MC_BUDGET,
    load_counterexample,
    replay,
    reproduces,
    search,
    searchable,
)


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


#: teeth variants the search does not find from the search space alone (no default instances) within the
#: default budget.  rpt.convex~unscaled: its violation needs several coordinates at once -- the quadratic problem,
#: the prefix sketch, slowly decaying block probabilities (p_ratio below ~0.7: p_ratio = 1 holds with tightness
#: 0.81 where 0.5 is violated), a stepsize factor near 1 (0.7 holds), and x^0 - x* in the last block (start =
#: last-block) or a random start that weighs it -- about 1 point in 150 of the uniform draws; search seed 0
#: reaches best tightness 0.88 in 48 runs (seeds 1-8 find it).  check, and search starting from the defaults,
#: do report it violated (test_search_is_never_weaker_than_the_plain_check).  strict: the day search finds it,
#: this entry must go.
NOT_FOUND_FROM_THE_SPACE_ALONE = {"rpt.convex~unscaled"}


@pytest.mark.parametrize(
    "tid",
    [
        pytest.param(
            t,
            marks=pytest.mark.xfail(
                strict=True, reason="needs five coordinates at once (see NOT_FOUND_FROM_THE_SPACE_ALONE)"
            ),
        )
        if t in NOT_FOUND_FROM_THE_SPACE_ALONE
        else t
        for t in TEETH
    ],
)
def test_teeth_variant_found_by_search(tid):
    claim = theorems.get(tid)
    if tid not in SEARCHABLE:
        with pytest.raises(UsageError):
            searchable(claim)
        pytest.skip(f"{tid}: its experiment declares no search space, or the claim has no measure")
    res = search(claim, seed=0, shrink=False, defaults=[])  # the default budget, the search space alone
    assert res.verdict == "violated" and not res.unexpected, (
        f"{tid} not found violated in {res.runs} runs ({res.infeasible} infeasible); best tightness {res.tightness}"
    )
    assert res.runs <= max(DEFAULT_BUDGET, MC_BUDGET)


@pytest.mark.slow
@pytest.mark.parametrize("tid", SEARCHABLE)
def test_teeth_counterexample_shrunk_and_replayed(tid, tmp_path):
    res = search(tid, out=tmp_path)
    assert res.verdict == "violated" and res.counterexample is not None
    rec = load_counterexample(res.counterexample)
    assert reproduces(rec, replay(res.counterexample))


def _planted():
    """Wrong claims a user might write: shipped bounds halved (upper) or doubled (lower)."""
    out = []
    for cid in (
        "ef21.nonconvex-am",
        "ef21.pl-qm",
        "rcd.convex",
        "weiszfeld.rate",
        "superquantile.variance",
        "lsvrp.lyapunov",
        "adom.lower-bound-comm",
    ):
        c = theorems.get(cid)
        factor = 2 if c.kind.value == "lower" else 0.5
        out.append(c.variant("planted", bound=c.bound * factor, expected_to_fail="planted wrong constant"))
    return out


PLANTED = {c.id: c for c in _planted()}


@pytest.mark.parametrize("cid", [t for t in TEETH if t in SEARCHABLE] + list(PLANTED))
def test_search_is_never_weaker_than_the_plain_check(cid):
    """Search evaluates the default instances before exploring: wherever the plain check reports a
    violation, the search reports one too (on a budget of a single search run)."""
    from ratecheck.verify import check
    from ratecheck.verify.checking import outcome

    claim = PLANTED.get(cid) or theorems.get(cid)
    plain = outcome(check(claim, quick=True))[0]
    res = search(claim, budget=1, seed=0, shrink=False, quick=True)
    if plain == "violated":
        assert res.verdict == "violated", f"check: violated; search: {res.verdict} ({res.default_runs} default runs)"
    assert res.default_runs >= 1 or res.verdict == "violated"
