"""Conformance suite over every registered experiment: the declared schema is the contract.

* the schema round-trips (describe -> JSON), its defaults validate, every parameter's default
  parses back from its ``--param`` text, and bad values / unknown names are refused with one line
  that names the parameter, the rule and (for names) the valid ones;
* the search space is the schema's, every searchable claim's space uses only declared names, and
  points of it map to parameters the experiment accepts;
* every shipped claim and teeth variant is accepted by its experiment (measure, settings, symbols),
  and misspelled settings, symbols and measures are refused with the list of valid names.
"""

import json
import math

import numpy as np
import pytest
import sympy as sp

from ratecheck import theorems
from ratecheck.verify.errors import UsageError
from ratecheck.verify.experiments import all_experiments, get
from ratecheck.verify.schema import Choice, Custom, Flag, Float, Int, Setting, number_list
from ratecheck.verify.searching import _Space, searchable

EXPS = list(all_experiments())
CLAIMS = [c for c in (*theorems.all(), *theorems.teeth()) if c.measure]


def _searchable(c):
    try:
        searchable(c)
        return True
    except UsageError:
        return False


SEARCHABLE = [c.id for c in CLAIMS if _searchable(c)]


# --------------------------------------------------------------------------- the schema
@pytest.mark.parametrize("name", EXPS)
def test_schema_round_trips_as_json(name):
    from ratecheck.verify.describe import describe, describe_text

    exp = get(name)
    d = describe(exp)
    assert json.loads(json.dumps(d)) == d
    assert [p["name"] for p in d["parameters"]] == list(exp.defaults)
    assert [m["name"] for m in d["measures"]] == list(exp.measures)
    assert all(p["help"] for p in d["parameters"]), "every parameter says what it means"
    assert all(c["help"] for c in d["constants"]) and all(m["help"] for m in d["measures"])
    assert all(s["help"] for s in d["settings"])
    text = describe_text(exp)
    assert all(p in text for p in exp.defaults)


@pytest.mark.parametrize("name", EXPS)
def test_defaults_validate_and_parse_back(name):
    exp = get(name)
    assert exp.params({}) == exp.defaults
    for p in exp.schema.params:
        if p.default is None or isinstance(p.default, (list, tuple)):
            continue
        text = str(p.default).lower() if isinstance(p.default, bool) else str(p.default)
        assert exp.parse_params([f"{p.name}={text}"]) == {p.name: p.default}, p.name


def _bad_value(p):
    """A value the parameter's rule refuses."""
    if isinstance(p, Int):
        return (p.low - 1) if p.low is not None else "many"
    if isinstance(p, Float):
        return float("nan")
    if isinstance(p, Choice):
        return "no-such-choice"
    if isinstance(p, Flag):
        return "maybe"
    assert isinstance(p, Custom)
    return object()


@pytest.mark.parametrize("name", EXPS)
def test_bad_values_are_refused_naming_parameter_and_rule(name):
    exp = get(name)
    for p in exp.schema.params:
        bad = _bad_value(p)
        if isinstance(p, Custom):
            try:
                p.coerce(bad)
            except (ValueError, TypeError):
                pass
            else:  # this rule accepts anything of that form
                continue
        with pytest.raises(UsageError) as e:
            exp.params({p.name: bad})
        msg = str(e.value)
        assert "\n" not in msg and f"{p.name} must be" in msg and p.rule() in msg, msg


@pytest.mark.parametrize("name", EXPS)
def test_unknown_parameter_names_the_valid_ones(name):
    exp = get(name)
    first = next(iter(exp.defaults))
    typo = first[:-1] + ("x" if first[-1] != "x" else "y") if len(first) > 2 else first + "x"
    with pytest.raises(UsageError, match=f"unknown parameter {typo!r}") as e:
        exp.params({typo: 1})
    assert "parameters: " in str(e.value) and all(p in str(e.value) for p in exp.defaults)
    with pytest.raises(UsageError, match="unknown parameter"):
        exp.parse_params([f"{typo}=1"])


# --------------------------------------------------------------------------- the search space
@pytest.mark.parametrize("name", EXPS)
def test_search_space_is_drawn_from_the_schema(name):
    exp = get(name)
    space = exp.search_space
    assert space == exp.schema.search_space()
    if space:
        _Space(space, name)
        declared = {p.name for p in exp.schema.params} | {v.name for v in exp.schema.search}
        assert set(space) <= declared


@pytest.mark.parametrize("cid", SEARCHABLE)
def test_search_points_map_to_accepted_parameters(cid):
    claim = theorems.get(cid)
    exp, space = searchable(claim)
    declared = {p.name for p in exp.schema.params} | {v.name for v in exp.schema.search}
    assert set(space.spec) <= declared, f"undeclared search coordinates {set(space.spec) - declared}"
    base = dict(exp.instances(claim, quick=True)[0])
    rng = np.random.default_rng(0)
    for point in space.probe(rng, 6):
        inst = dict(base)
        inst.update(exp.from_search(dict(point)))
        p = exp.params(inst)
        assert set(p) == set(exp.defaults)


# --------------------------------------------------------------------------- claims against schemas
@pytest.mark.parametrize("cid", [c.id for c in CLAIMS])
def test_every_shipped_claim_is_accepted_by_its_experiment(cid):
    claim = theorems.get(cid)
    exp = get(claim.experiment)
    exp.validate_claim(claim)
    s = exp.settings(claim)
    for k, v in claim.setting.items():
        assert getattr(s, k) is not None or v is None
    allowed = set(exp.schema.constants_for(claim.measure))
    assert {x.name for x in claim.symbols} <= allowed


def _one_claim_per_experiment():
    seen = {}
    for c in theorems.all():
        if c.measure and c.experiment not in seen and c.bound is not None and c.bound.free_symbols:
            seen[c.experiment] = c
    return seen


@pytest.mark.parametrize("name", EXPS)
def test_misspelled_setting_is_refused_with_the_valid_ones(name):
    exp = get(name)
    claim = _one_claim_per_experiment()[name]
    bad = claim.variant("typo", setting={**claim.setting, "lyapunov_weights": "qm"})
    with pytest.raises(UsageError, match="unknown setting 'lyapunov_weights'") as e:
        exp.validate_claim(bad)
    assert "settings: " in str(e.value)
    for s in exp.schema.settings:
        assert s.name in str(e.value)


@pytest.mark.parametrize("name", EXPS)
def test_bad_setting_value_is_refused_with_the_rule(name):
    exp = get(name)
    choice = next((s for s in exp.schema.settings if s.kind == "choice"), None)
    if choice is None:
        pytest.skip(f"experiment {name} declares no choice setting")
    claim = _one_claim_per_experiment()[name]
    measure = choice.measures[0] if choice.measures else claim.measure
    claim = next((c for c in theorems.all() if c.experiment == name and c.measure == measure), claim)
    bad = claim.variant("typo", setting={**claim.setting, choice.name: "no-such-value"})
    with pytest.raises(UsageError, match=f"setting '{choice.name}' must be one of"):
        exp.validate_claim(bad)


@pytest.mark.parametrize("name", EXPS)
def test_unknown_symbol_is_refused_with_the_supplied_ones(name):
    exp = get(name)
    claim = _one_claim_per_experiment()[name]
    bad = claim.variant("symbol", bound=claim.bound * theorems.sym("delta_00"))
    with pytest.raises(UsageError, match="symbol 'delta_00' is not supplied") as e:
        exp.validate_claim(bad)
    assert "supplied: " in str(e.value)


@pytest.mark.parametrize("name", EXPS)
def test_unknown_measure_is_refused_with_the_valid_ones(name):
    exp = get(name)
    claim = _one_claim_per_experiment()[name]
    bad = claim.variant("measure", measure=claim.measure + "s")
    with pytest.raises(UsageError, match=f"has no measure '{claim.measure}s'") as e:
        exp.validate_claim(bad)
    assert f"did you mean '{claim.measure}'" in str(e.value)


def test_typo_in_a_setting_value_never_runs():
    """The issue's example: regime='convx' used to run the default regime and say 'holds'."""
    from ratecheck import verify

    claim = theorems.get("rcd.convex")
    with pytest.raises(UsageError, match="setting 'regime' must be one of"):
        verify.check(claim.variant("typo", setting={**claim.setting, "regime": "convx"}), quick=True)


def test_expression_settings_are_checked_for_symbols():
    claim = theorems.get("lsvrp.lyapunov")
    weight = claim.setting["psi_weight"]
    bad = claim.variant("w", setting={**claim.setting, "psi_weight": weight * sp.Symbol("kappa_x", positive=True)})
    with pytest.raises(UsageError, match="symbol 'kappa_x' is not supplied"):
        get("lsvrp").validate_claim(bad)


def test_float_rules_refuse_non_finite_values():
    p = Float("x", 1.0, "a number", low=0)
    for v in (math.inf, math.nan, True):
        with pytest.raises(UsageError, match="x must be a finite number >= 0"):
            p.validate(v)


def test_number_list_states_its_rule_and_returns_a_tuple():
    nodes = number_list("ns", (4, 6, 8), "node counts", min_len=3, low=3, integer=True)
    assert nodes.rule() == "a list of at least 3 integers >= 3"
    assert nodes.coerce([4, np.int64(5), 9]) == (4, 5, 9) and nodes.parse("[3, 4, 5]") == (3, 4, 5)
    for bad in ([4, 5], [4, 5, 2], [4, 5, 6.0], [4, True, 6], "456", 4, [[4, 5, 6]]):
        with pytest.raises(ValueError):
            nodes.coerce(bad)
    grid = number_list("eps_grid", (0.1,), "accuracies", low=0, high=1, low_open=True, high_open=True)
    assert grid.rule() == "a non-empty list of values in (0, 1)" and grid.coerce(np.array([0.5, 0.25])) == (0.5, 0.25)
    for bad in ([], [0.0], [1.0], [0.5, float("nan")]):
        with pytest.raises(ValueError):
            grid.coerce(bad)
    kappas = number_list("kappas", (2.0, 3.0, 4.0), "kappa", min_len=3, low=1, distinct=True)
    assert kappas.rule() == "a list of at least 3 distinct values >= 1"
    assert kappas.coerce([2, 2, 3, 4]) == (2.0, 2.0, 3.0, 4.0)
    for bad in ([2, 2, 3], [2, 3, float("inf")], [0.5, 2, 3]):
        with pytest.raises(ValueError):
            kappas.coerce(bad)


def test_factors_setting_is_a_tuple_of_positive_finite_numbers():
    st = Setting("stepsize_factors", (1.0,), "factors", kind="factors")
    assert st.rule() == "a non-empty tuple of finite numbers > 0"
    assert st.validate([0.5, 2, sp.Rational(1, 4)]) == (0.5, 2, sp.Rational(1, 4))
    for bad in ((), "12", (1.0, 0.0), (1.0, float("inf")), (True,), 2.0):
        with pytest.raises(
            UsageError, match="setting 'stepsize_factors' must be a non-empty tuple of finite numbers > 0"
        ):
            st.validate(bad)
