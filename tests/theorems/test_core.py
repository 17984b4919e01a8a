import pickle

import numpy as np
import pytest
import sympy as sp

from ratecheck import theorems
from ratecheck.theorems import (
    AssumptionError,
    Claim,
    ClaimError,
    Identity,
    Kind,
    Provenance,
    UnknownClaimError,
    gt,
    sym,
)


def _claim(**kw):
    L, T, g = sym("L"), sym("T"), sym("gamma")
    base = dict(
        id="test.claim",
        title="t",
        paper="p",
        provenance=Provenance.DERIVED,
        kind=Kind.UPPER,
        measure="m",
        bound=L / (g * T),
        stepsize=1 / L,
        assumptions=(gt(L, 0),),
    )
    base.update(kw)
    return Claim(**base)


def test_evaluate_is_vectorized_and_ignores_extra_values():
    c = _claim()
    out = c.evaluate(L=2.0, gamma=0.5, T=np.arange(1, 5), unused=3)
    np.testing.assert_allclose(out, 4.0 / np.arange(1, 5))
    assert c.max_stepsize(L=4.0) == 0.25


def test_missing_symbol_is_named():
    with pytest.raises(ClaimError, match="gamma"):
        _claim().evaluate(L=1.0, T=3)


def test_non_finite_value_is_rejected():
    with pytest.raises(AssumptionError, match="L must be finite"):
        _claim().evaluate(L=np.nan, gamma=1.0, T=1)


def test_check_assumptions_names_parameter_and_rule():
    c = _claim()
    c.check_assumptions(L=2.0, gamma=0.5)
    with pytest.raises(AssumptionError, match="parameter gamma violates the assumption gamma <= 1/L"):
        c.check_assumptions(L=2.0, gamma=0.6)
    with pytest.raises(AssumptionError, match="parameter L"):
        c.check_assumptions(L=-1.0)
    # the floating-point slack is relative and tiny
    c.check_assumptions(L=3.0, gamma=1 / 3.0 * (1 + 1e-14))


def test_decided_assumption_is_rejected_at_construction():
    with pytest.raises(ClaimError, match="not a relation"):
        _claim(assumptions=(sym("L") > 0,))


def test_kind_requirements():
    with pytest.raises(ClaimError, match="needs a bound"):
        _claim(bound=None)
    with pytest.raises(ClaimError, match="exponent"):
        _claim(kind=Kind.SCALING)
    with pytest.raises(ClaimError, match="without spaces"):
        _claim(id="bad id")


def test_identity_proved_by_sympy_and_refuted_by_sampling():
    x = sp.Symbol("x", positive=True)
    ok = Identity(sp.Eq((x + 1) ** 2, x**2 + 2 * x + 1)).establish()
    assert ok.method == "sympy" and ok.holds
    false = Identity(x**2 <= x).establish()
    assert false.method == "sampling" and not false.holds
    true_sampled = Identity(sp.ceiling(x) <= x + 1).establish()
    assert true_sampled.method == "sampling" and true_sampled.holds


def test_deferred_identity_builds_its_relation_once_on_first_use():
    x = sp.Symbol("x", positive=True)
    calls = []

    def build():
        calls.append(1)
        return sp.Eq((x + 1) ** 2, x**2 + 2 * x + 1)

    lazy = Identity(build, label="square of x + 1")
    assert calls == [] and lazy.statement() == "square of x + 1"  # the label needs no relation
    assert lazy.relation == build() and len(calls) == 2  # first read builds it (the second call is ours)
    assert lazy.relation is lazy.relation and len(calls) == 2  # then it is kept
    eager = Identity(build(), label="square of x + 1")
    assert Identity(build, label="square of x + 1") == eager
    assert lazy.establish().method == "sympy"
    again = pickle.loads(pickle.dumps(Identity(build, label="square of x + 1")))  # the builder is not pickled
    assert again == eager and "_build_relation" not in again.__dict__
    with pytest.raises(ClaimError, match="needs a label"):
        Identity(build)


def test_registry_get_select_and_unknown():
    assert theorems.get("ef21.nonconvex-qm").provenance is Provenance.PAPER
    ids = [c.id for c in theorems.select(["ef21-w"])]
    assert "ef21-w.nonconvex" in ids and all(i.startswith("ef21-w") for i in ids)
    with pytest.raises(UnknownClaimError, match="unknown claim id"):
        theorems.get("nope.nothing")
    with pytest.raises(UnknownClaimError):
        theorems.select(["zzz"])
    ids = [c.id for c in theorems.all()]
    assert ids == sorted(ids) and len(ids) == len(set(ids))


def test_every_claim_is_well_formed():
    for c in list(theorems.all()) + list(theorems.teeth()):
        assert c.paper and c.title and c.kind in Kind
        assert isinstance(c.provenance, Provenance)
        assert c.latex()
        s = c.summary()
        assert s["claim"] == c.id and s["provenance"] in {"paper", "derived", "reconstructed", "not found"}
    for c in theorems.teeth():
        assert c.expected_to_fail and "~" in c.id


def test_every_registered_claim_has_teeth():
    for c in theorems.all():
        assert theorems.teeth(c.id), f"{c.id} ships no teeth variant"


def test_variant_and_latex():
    c = theorems.get("ef21.nonconvex-am")
    v = c.variant("halved", bound=c.bound / 2, expected_to_fail="x")
    assert v.id == "ef21.nonconvex-am~halved" and v.expected_to_fail == "x"
    assert r"\gamma \le" in c.latex() and "L_{am}" in c.latex()


def test_evaluate_survives_intermediate_overflow_but_not_poles_or_domain_errors():
    """A bound whose float64 evaluation overflows in an intermediate step (x**T / x**(T-1), a difference
    of two overflowing powers) is re-evaluated in wide arithmetic; a pole stays inf, a square root of a
    negative number stays NaN, a value beyond the float64 range is inf."""
    x, T = sym("x"), sym("T")
    c = Claim(
        id="t.wide",
        title="t",
        paper="p",
        provenance="derived",
        kind="upper",
        measure="m",
        bound=(3 * x**T - 2 * x**T) / x ** (T - 1),
    )
    np.testing.assert_allclose(c.evaluate(T=np.array([10.0, 400.0]), x=10.0), [10.0, 10.0], rtol=1e-15)
    assert c.variant("big", bound=x**T).evaluate(T=400.0, x=10.0) == np.inf
    pole = c.variant("pole", bound=1 / (T - 1)).evaluate(T=np.array([1.0, 2.0]))
    assert pole[0] == np.inf and pole[1] == 1.0
    assert np.isnan(c.variant("dom", bound=sp.sqrt(x - 1) + 1).evaluate(x=0.5))
