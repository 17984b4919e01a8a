"""Counterexample search (issue 10): search logic on a toy experiment, records, replay, bad input."""

import json

import numpy as np
import pytest
import sympy as sp

from ratecheck import theorems
from ratecheck.theorems import Claim, sym
from ratecheck.verify.checking import Evidence, UsageError
from ratecheck.verify.experiments import Experiment
from ratecheck.verify.schema import Choice, Float, Int, Measure, Rule, Schema
from ratecheck.verify.searching import (
    FORMAT,
    _Space,
    assert_claim_holds_search,
    load_counterexample,
    replay,
    reproduces,
    search,
)

T = sym("T")


class Toy(Experiment):
    """measured(t) = a * n * (1 + noise(seed)) * t / T on t = 1..T; kind 'y' needs n <= 3."""

    name = "toy-search"
    title = "toy"
    schema = Schema(
        params=(
            Float("a", 0.5, "scale", search=(0.0, 1.0)),
            Int("n", 3, "size", search=(1, 10)),
            Choice("kind", "x", "kind of instance", choices=("x", "y"), search=True),
            Int("T", 8, "horizon", low=1),
            Int("replications", 16, "Monte Carlo samples", low=2),
        ),
        rules=(Rule("n must be <= 3 for kind 'y'", ("n", "kind"), lambda p: p["kind"] != "y" or p["n"] <= 3),),
        measures=(Measure("toy", "a n t / T"), Measure("toy_mc", "Monte Carlo mean of N(a n, 1)", random=True)),
        search_order=("n", "a", "kind"),
    )

    def instances(self, claim, quick=False):
        return [dict(T=8)]

    def run(self, claim, p, seed=0):
        rng = np.random.default_rng(seed)
        grid = np.arange(1, p["T"] + 1)
        if claim.measure == "toy_mc":
            s = p["a"] * p["n"] + rng.standard_normal((p["replications"], grid.size))
            m, se = s.mean(0), s.std(0, ddof=1) / np.sqrt(p["replications"])
            return Evidence(
                "T",
                grid,
                m,
                claim.evaluate(T=grid),
                method="monte-carlo",
                stderr=se,
                n_samples=p["replications"],
                instance=p,
                seed=seed,
            )
        measured = p["a"] * p["n"] * (1 + 0.01 * rng.uniform()) * grid / p["T"]
        return Evidence("T", grid, measured, claim.evaluate(T=grid), instance=p, seed=seed)


TOY = Toy()


def toy_claim(bound, kind="upper", measure="toy", **kw):
    return Claim(
        id=kw.pop("id", "toy.claim"),
        title="toy",
        paper="none",
        provenance="derived",
        kind=kind,
        measure=measure,
        bound=sp.sympify(bound) + 0 * T,
        experiment="toy-search",
        **kw,
    )


def test_space_maps_unit_coordinates_and_simplifies():
    sp_ = _Space({"n": ("int", 2, 40), "x": ("logfloat", 1e-2, 1e2), "c": ("choice", ["a", "b", "c"])}, "t")
    assert sp_.value("n", 0.0) == 2 and sp_.value("n", 1.0) == 40 and sp_.value("x", 0.5) == pytest.approx(1.0)
    assert sp_.unit("x", 1.0) == pytest.approx(0.5)
    p = sp_.midpoint()
    assert p == {"n": 21, "x": pytest.approx(1.0), "c": "a"}
    assert sp_.simpler(dict(p, c="c"), "c") == ["a", "b"] and sp_.simpler(p, "n") == [2, 11, 20]
    assert all(q != p for q in sp_.neighbours(p, 0.25))
    with pytest.raises(UsageError, match="search spec of 'n'"):
        _Space({"n": ("int", 2)}, "t")


def test_search_finds_the_tightest_instance_of_a_true_claim():
    res = search(toy_claim(20), experiment=TOY, budget=30)
    assert res.verdict == "holds" and not res.unexpected
    # max of a n (1 + 0.01 u) / 20 over the space is about 0.5 (a = 1, n = 10)
    assert 0.45 <= res.tightness <= 0.51
    assert res.infeasible >= 1 and res.runs <= 30
    assert sum(res.skipped.values()) == res.infeasible and "for kind 'y'" in next(iter(res.skipped))
    assert res.instance["T"] == 8  # the quick instance sets what the space leaves free


def test_search_is_deterministic_given_the_seed():
    a = search(toy_claim(20), experiment=TOY, budget=12, seed=3)
    b = search(toy_claim(20), experiment=TOY, budget=12, seed=3)
    c = search(toy_claim(20), experiment=TOY, budget=12, seed=4)
    assert a.history == b.history and a.tightness == b.tightness
    assert a.history != c.history


def test_violation_stops_search_and_is_shrunk(tmp_path):
    res = search(toy_claim(5), experiment=TOY, budget=40, out=tmp_path)
    assert res.verdict == "violated" and res.unexpected
    assert res.runs < 40  # stopped at the first violation
    inst = res.instance
    assert inst["a"] * inst["n"] * 1.01 > 5
    assert inst["T"] == 2 and res.seed == 0  # horizon and seed shrunk
    assert res.shrunk_from is not None and inst["n"] <= res.shrunk_from["point"]["n"]
    rec = json.loads(res.counterexample.read_text())
    assert rec["format"] == FORMAT and rec["claim"] == "toy.claim" and rec["experiment"] == "toy-search"
    assert rec["verdict"] == "violated" and rec["measured"] > rec["bound"] == 5.0 and rec["where"] == {"T": 2.0}
    assert rec["instance"] == inst and rec["seed"] == res.seed and rec["package_version"]


def test_replay_reproduces_the_record_exactly(tmp_path):
    claim = toy_claim(5)
    res = search(claim, experiment=TOY, budget=20, out=tmp_path)
    rec = load_counterexample(res.counterexample)
    v = replay(res.counterexample, claim=claim, experiment=TOY)
    assert v.verdict == "violated" and reproduces(rec, v)
    assert v.worst_at["measured"] == rec["measured"] and v.tightness == rec["tightness"]
    with pytest.raises(UsageError, match="not registered"):
        replay(res.counterexample)
    with pytest.raises(UsageError, match="records claim"):
        replay(res.counterexample, claim=toy_claim(5, id="toy.other"), experiment=TOY)


def test_lower_bound_claims_are_searched_by_bound_over_measured():
    res = search(toy_claim(0.4, kind="lower"), experiment=TOY, budget=20)
    assert res.verdict == "violated"
    assert res.best.worst_at["measured"] < res.best.worst_at["bound"]


def test_lower_bound_without_a_tightness_scores_by_its_distance_to_a_violation():
    """A lower bound on measured values <= 0 has no tightness (bound/measured); the fallback objective
    must then measure how close the bound is to being violated, not how far it holds."""
    from ratecheck.verify.checking import judge
    from ratecheck.verify.searching import _score

    claim = toy_claim(-1.0, kind="lower")
    grid = np.arange(1.0, 4.0)
    far = judge(claim, Evidence("T", grid, np.zeros(3), np.full(3, -1.0)))
    near = judge(claim, Evidence("T", grid, np.full(3, -1.0), np.full(3, -1.0 + 1e-12)))  # holds by rounding
    assert far.tightness is None and near.tightness is None and near.verdict == "holds"
    assert _score(far) < 0 < _score(near)


class _ToyOutside(Toy):
    """Its default instance (n = 50) lies outside the search space (n <= 10)."""

    name = "toy-outside"

    def instances(self, claim, quick=False):
        return [dict(T=8, n=50)]


def test_search_is_never_weaker_than_check():
    """The plain check refutes a bound on the default instance that the search space never reaches; the
    search evaluates the default instances first, so it reports the violation too (issue: search was
    weaker than check)."""
    from ratecheck import verify

    exp = _ToyOutside()
    claim = toy_claim(11)
    assert any(v.verdict == "violated" for v in verify.check(claim, experiment=exp))
    res = search(claim, experiment=exp, budget=8)
    assert res.verdict == "violated" and res.instance["n"] == 50 and res.default_runs == 1
    with pytest.raises(AssertionError, match="violated"):
        assert_claim_holds_search(claim, experiment=exp, budget=8)


def test_monte_carlo_violation_is_a_confidence_bound_violation():
    # true mean a n <= 10 against the bound 10.5: a single noisy draw may exceed it, the verdict must not
    res = search(toy_claim(10.5, measure="toy_mc"), experiment=TOY, budget=20)
    assert res.verdict != "violated"
    bad = search(toy_claim(6, measure="toy_mc"), experiment=TOY, budget=30)
    assert bad.verdict == "violated" and bad.best.method == "monte-carlo"
    assert bad.instance["replications"] == 64  # confirmed with 4x the replications


def test_pytest_helper_names_the_replayable_file(tmp_path):
    with pytest.raises(AssertionError, match=r"counterexample: .*toy\.claim-.*\.json") as e:
        assert_claim_holds_search(toy_claim(5), experiment=TOY, budget=20, directory=tmp_path)
    assert "replay" in str(e.value)
    assert assert_claim_holds_search(toy_claim(50), experiment=TOY, budget=5).verdict == "holds"
    teeth = toy_claim(50).variant("wrong", expected_to_fail="bound far too large to fail")
    with pytest.raises(AssertionError, match="expected violated"):
        assert_claim_holds_search(teeth, experiment=TOY, budget=5)


def test_bad_input_is_a_one_line_usage_error():
    class NoSpace(Toy):
        search_space = None

    with pytest.raises(UsageError, match="declares no search space"):
        search(toy_claim(5), experiment=NoSpace(), budget=5)
    for b in (0, -1, 1.5, True):
        with pytest.raises(UsageError, match="budget must be an integer >= 1"):
            search(toy_claim(5), experiment=TOY, budget=b)
    with pytest.raises(UsageError, match="seed"):
        search(toy_claim(5), experiment=TOY, seed=-1)
    with pytest.raises(UsageError, match="without a measure"):
        search("ef21.constants")
    scaling = Claim(
        id="toy.scaling",
        title="s",
        paper="none",
        provenance="derived",
        kind="scaling",
        measure="toy",
        exponent=sp.Integer(-1),
        scaling_in="T",
        experiment="toy-search",
    )
    with pytest.raises(UsageError, match="scaling claim"):
        search(scaling, experiment=TOY)
    with pytest.raises(UsageError, match="has no measure .nothing.; measures: toy, toy_mc"):
        search(toy_claim(5, measure="nothing"), experiment=TOY)


def test_load_counterexample_rejects_other_files(tmp_path):
    p = tmp_path / "x.json"
    p.write_text("{not json")
    with pytest.raises(UsageError, match="invalid JSON"):
        load_counterexample(p)
    p.write_text(json.dumps({"claim": "x"}))
    with pytest.raises(UsageError, match="format"):
        load_counterexample(p)
    with pytest.raises(UsageError, match="does not exist"):
        load_counterexample(tmp_path / "missing.json")


def test_registered_teeth_variant_found_and_replayed(tmp_path):
    """A real claim end to end: search, shrink, record, replay through the registry."""
    res = search("ef21.pl-qm~halved", budget=6, out=tmp_path, defaults=[])  # search points only: shrunk
    assert res.verdict == "violated" and not res.unexpected
    assert res.instance["n"] == 2 and res.instance["d"] == 2
    rec = load_counterexample(res.counterexample)
    v = replay(res.counterexample)
    assert v.claim == "ef21.pl-qm~halved" and reproduces(rec, v)
    assert rec["statement"]["kind"] == "upper" and theorems.get(rec["claim"]).expected_to_fail


def test_catalogue_separates_near_tight_from_loose_claims():
    from ratecheck.verify.searching import catalogue, catalogue_markdown

    claims = [toy_claim(12, id="toy.near"), toy_claim(100, id="toy.loose"), toy_claim(5, id="toy.false")]
    rows = catalogue(claims, budget=20, experiment=TOY)
    by = {r["claim"]: r for r in rows}
    assert by["toy.near"]["near_tight"] and not by["toy.loose"]["near_tight"]
    assert (
        by["toy.near"]["search_verdict"] == "holds"
        and by["toy.near"]["best_tightness"] >= by["toy.near"]["default_tightness"]
    )
    assert by["toy.false"]["search_verdict"] == "violated" and by["toy.false"]["unexpected"]
    assert by["toy.near"]["best_instance"]["T"] == 8 and by["toy.near"]["best_seed"] >= 0
    md = catalogue_markdown(rows)
    near, loose = md.split("### Loose")[0], md.split("### Loose")[1].split("### Claims without")[0]
    assert "toy.near" in near and "toy.loose" in loose and "toy.loose" not in near
    json.dumps(rows)  # JSON-ready


def test_catalogue_notes_claims_search_cannot_judge():
    from ratecheck.verify.searching import catalogue

    (row,) = catalogue(["ef21.constants"], budget=2)
    assert row["search_verdict"] is None and "without a measure" in row["note"] and row["default_verdict"] == "holds"


def test_search_breaks_a_wrong_claim_that_holds_on_the_default_instances(tmp_path):
    """The point of search: a bound 0.55x the true one survives ``verify.check`` on its default
    instances but not the search, which shrinks the counterexample and records it."""
    from ratecheck import verify

    base = theorems.get("ef21.nonconvex-am")
    wrong = base.variant("x0.55", bound=sp.Rational(55, 100) * base.bound)
    assert all(v.verdict == "holds" for v in verify.check(wrong, quick=True))
    res = search(wrong, out=tmp_path)
    assert res.verdict == "violated" and res.unexpected and res.tightness > 1
    assert res.instance["n"] <= res.shrunk_from["point"]["n"]
    assert reproduces(load_counterexample(res.counterexample), replay(res.counterexample, claim=wrong))


def test_hypothesis_strategy_and_evaluate_find_the_violation():
    """Users can drive the same instance space with hypothesis (target() + shrinking)."""
    from hypothesis import HealthCheck, assume, given, settings, target
    from hypothesis import strategies as st

    from ratecheck.verify.searching import evaluate, strategy

    claim = toy_claim(5)
    found = []

    @settings(max_examples=60, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
    @given(point=strategy(TOY, claim), seed=st.integers(0, 10))
    def prop(point, seed):
        v = evaluate(claim, point, seed, experiment=TOY)
        assume(v is not None)
        target(v.tightness)
        if v.verdict == "violated":
            found.append(point)
        assert v.verdict != "violated"

    with pytest.raises(AssertionError):
        prop()
    assert found and all(p["a"] * p["n"] > 4.9 for p in found)
    assert evaluate(claim, {"n": 9, "a": 0.5, "kind": "y"}, experiment=TOY) is None  # infeasible point


def test_verify_search_is_the_search_function():
    from ratecheck import verify
    from ratecheck.verify.searching import replay

    res = verify.search(toy_claim(20), experiment=TOY, budget=3)
    assert res.verdict == "holds" and callable(replay)
