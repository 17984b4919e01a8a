r"""The whole catalogue as a test of the claim-file LaTeX: every expression of every shipped claim and
teeth variant -- stepsize rule, bound, exponent, each assumption and each identity -- printed by
``theorems.tex`` (what ``Claim.latex()`` and ``ratecheck show --latex/--toml`` print) parses back,
through ``verify.latex`` (sympy's lark LaTeX parser) and the experiment's symbol table, to the same
mathematics: the same expression, else one sympy proves equal (``simplify(a - b) == 0``), else one
equal at sampled points of the assumption domain (reported as a ``RoundTripBySampling`` warning in the
test output).  Symbols come back as the project-wide ``theorems.sym`` ones; identities may use local
symbols of their own (``x`` in ``ceil(x) <= x + 1``), compared by name.

What cannot round-trip is listed below with the reason, as strict xfails (never skipped): when it
starts to round-trip, the xfail fails and the list must shrink.  The default run reads back a sample
(``DEFAULT``); ``pytest -m slow`` reads back the whole catalogue.
"""

import warnings

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from ratecheck import theorems
from ratecheck.theorems._core import _default_sampler, _difference
from ratecheck.verify import experiments
from ratecheck.verify.latex import LatexError, SymbolTable, parse_expression, parse_relations


class RoundTripBySampling(UserWarning):
    """sympy could not prove a parsed expression equal to the original: equal at sampled points only."""


#: expression classes that cannot round-trip, and why
CANNOT = {
    "own-function": r"uses a function of the package's own (theorems.superquantile.BinomialExcess, "
    r"E[(Bin(m, theta) - floor(m theta))_+]), which prints as notation (\mathbb{E}\big[...\big]) "
    r"naming no sympy function: such claims stay in Python, and a claim file inherits them with "
    r"base = ID (`ratecheck show ID --toml` does so)",
    "matrix": "an identity between matrices (the sketch tables of rcd.l-tilde and rpt.unbiased): claim-file LaTeX "
    "states scalar relations",
    "true": r"an identity sympy already evaluated to True when the claim was built (printed \text{True}): no "
    "relation is left to print",
}

#: the default run reads back these claims (one or more per family, together every kind of expression the
#: catalogue prints: nested fractions, square and fourth roots, Min inside roots, powers in T, logarithms,
#: exponentials, ceilings, accents, scaling exponents); the rest of the catalogue -- the other claims, the teeth
#: variants, the longest expressions -- runs with -m slow (the lark grammar's Earley parser takes 20 ms to
#: seconds per expression)
DEFAULT = (
    "ef21.nonconvex-am",
    "ef21.pl-qm",
    "ef21-w.sgd",
    "rare-features.nonconvex",
    "rcd.strongly-convex",
    "weiszfeld.complexity",
    "weiszfeld.rate",
    "superquantile.entropic-gap",
    "simplicial-fl.convex",
    "adom-plus.complexity-chi",
    "lsvrp.tuned-probe",
    "ef21.constants",
)


def _cannot(e) -> str | None:
    if isinstance(e, sp.logic.boolalg.BooleanAtom):
        return "true"
    if any(isinstance(x, sp.MatrixBase) for x in sp.preorder_traversal(e)):
        return "matrix"
    if any(not type(f).__module__.startswith("sympy.") for f in e.atoms(sp.Function)):
        return "own-function"
    return None


def _expressions(c):
    """(label, expression, is a relation, is an identity) of one claim."""
    out = [(k, getattr(c, k), False, False) for k in ("stepsize", "bound", "exponent") if getattr(c, k) is not None]
    out += [(f"assumptions[{i}]", a, True, False) for i, a in enumerate(c.assumptions)]
    out += [(f"identities[{i}]", idt.relation, True, True) for i, idt in enumerate(c.identities)]
    return out


def _table(c, local=()) -> SymbolTable:
    """The symbol table a claim file on ``c``'s experiment and measure gets (plus ``local`` names: the local
    symbols of an identity, e.g. ``p_2``, which a table of spellings alone cannot tell from ``p2``)."""
    names, spellings = [], {}
    if c.experiment and c.measure:
        s = experiments.get(c.experiment).schema
        names, spellings = s.constants_for(c.measure), s.spellings_for(c.measure)
    return SymbolTable.build(list(names) + [n for n in local if n not in names], spellings)


CLAIMS = list(theorems.all()) + list(theorems.teeth())


def _params():
    ok, cannot = [], []
    for c in CLAIMS:
        marks = [] if c.id in DEFAULT else [pytest.mark.slow]
        ok.append(pytest.param(c.id, marks=marks, id=c.id))
        for label, e, _, _ in _expressions(c):
            why = _cannot(e)
            if why:
                cannot.append(
                    pytest.param(
                        c.id, label, marks=pytest.mark.xfail(strict=True, reason=CANNOT[why]), id=f"{c.id}:{label}"
                    )
                )
    return ok, cannot


OK, CANNOT_PARAMS = _params()


def _same(parsed: sp.Expr, original: sp.Expr, what: str) -> str:
    """How ``parsed`` equals ``original``: 'identical', 'sympy' (simplify) or 'sampling'; else fail."""
    if parsed == original:
        return "identical"
    diff = parsed - original
    if diff == 0 or sp.simplify(diff) == 0:
        return "sympy"
    syms = sorted(diff.free_symbols, key=lambda s: s.name)
    f = sp.lambdify(syms, [parsed, original], modules=["numpy", {"Min": np.minimum, "Max": np.maximum}])
    pts = _default_sampler([s.name for s in syms])(np.random.default_rng(0), 2000)
    with np.errstate(all="ignore"):
        a, b = (np.broadcast_to(np.asarray(v, dtype=float), (2000,)) for v in f(*[pts[s.name] for s in syms]))
    fin = np.isfinite(a) & np.isfinite(b)
    assert fin.sum() >= 100, f"{what}: too few finite sampled points to compare"
    assert np.allclose(a[fin], b[fin], rtol=1e-9, atol=1e-12), f"{what}: parsed {parsed} differs from {original}"
    warnings.warn(
        RoundTripBySampling(
            f"{what}: sympy cannot simplify the difference to 0; equal at {int(fin.sum())} sampled points"
        )
    )
    return "sampling"


@pytest.mark.parametrize("cid", OK)
def test_catalogue_latex_parses_back(cid):
    c = theorems.get(cid)
    table = _table(c)
    for label, e, is_rel, is_identity in _expressions(c):
        if _cannot(e):
            continue  # the xfail cases below
        what = f"{cid} {label}"
        text = theorems.tex(e)
        if not is_rel:
            parsed = parse_expression(text, table)
            assert not parsed.unknown, f"{what}: {text!r} has symbols the experiment does not declare: {parsed.unknown}"
            # the claim's own symbols come back: project-wide, with their assumptions
            assert parsed.value.free_symbols == e.free_symbols, what
            _same(parsed.value, e, what)
            continue
        local = sorted(x.name for x in e.free_symbols) if is_identity else ()
        (rel,) = parse_relations(text, _table(c, local) if local else table).value
        assert type(rel) is type(e), f"{what}: {type(rel).__name__} read back for {type(e).__name__}"
        if is_identity:  # identities may use local symbols: compare them by name
            by_name = {s.name: s for s in e.free_symbols}
            rel = type(rel)(
                *(side.xreplace({s: by_name.get(s.name, s) for s in side.free_symbols}) for side in (rel.lhs, rel.rhs)),
                evaluate=False,
            )
        else:
            assert rel.free_symbols == e.free_symbols, what
        _same(_difference(rel)[0], _difference(e)[0], what)


@pytest.mark.parametrize("cid, label", CANNOT_PARAMS)
def test_what_cannot_round_trip(cid, label):
    c = theorems.get(cid)
    (e,) = [e for lab, e, _, _ in _expressions(c) if lab == label]
    text = theorems.tex(e)
    parsed = (
        parse_relations(text, _table(c))
        if label.startswith(("assumptions", "identities"))
        else parse_expression(text, _table(c))
    )
    value = parsed.value[0] if isinstance(parsed.value, list) else parsed.value
    assert value == e


def test_the_cannot_list_is_what_the_catalogue_holds():
    """Each reason in CANNOT is used, and the xfail list is short: a regression in the printer or the parser
    shows up as a failing claim above, not as a longer list here."""
    used = {_cannot(e) for c in CLAIMS for _, e, _, _ in _expressions(c)} - {None}
    assert used == set(CANNOT)
    assert len(CANNOT_PARAMS) <= 12


def test_printed_symbol_spellings_read_back_to_their_names():
    """theorems.tex_symbol and the parser agree on every symbol an experiment supplies."""
    for exp in experiments.all_experiments().values():
        for m in exp.schema.measures:
            names = exp.schema.constants_for(m.name)
            table = SymbolTable.build(names, exp.schema.spellings_for(m.name))
            for name in names:
                parsed = parse_expression(theorems.tex_symbol(name), table)
                assert parsed.value == theorems.sym(name) and not parsed.unknown, (exp.name, name)


# --------------------------------------------------------------------------- properties of the parser


_NAMES = [
    "alpha",
    "theta_c",
    "L",
    "L_am",
    "T",
    "G0",
    "delta0",
    "gamma",
    "mu",
    "n",
    "nu_hat",
    "eps",
    "p_min",
    "r0_nu",
    "f_star",
    "x_sq",
    "k_eps",
    "L_tilde",
]
_ATOMS = st.one_of(
    st.sampled_from([theorems.sym(n) for n in _NAMES]),
    st.integers(1, 9).map(sp.Integer),
    st.tuples(st.integers(1, 5), st.integers(2, 7)).map(lambda t: sp.Rational(*t)),
)


def _grow(children):
    two = st.tuples(children, children)
    return st.one_of(
        two.map(lambda t: t[0] + t[1]),
        two.map(lambda t: t[0] * t[1]),
        two.map(lambda t: t[0] / t[1]),
        st.tuples(children, st.sampled_from([2, 3, -1, sp.Rational(1, 3), theorems.sym("T")])).map(
            lambda t: t[0] ** t[1]
        ),
        children.map(sp.sqrt),
        children.map(sp.log),
        children.map(sp.exp),
        children.map(sp.ceiling),
        children.map(sp.Abs),
        children.map(lambda e: -e),
        two.map(lambda t: sp.Min(*t)),
        two.map(lambda t: sp.Max(*t)),
    )


@settings(max_examples=25)
@given(st.recursive(_ATOMS, _grow, max_leaves=6))
def test_random_expressions_round_trip(e):
    """Expressions in the project's symbols, printed by theorems.tex, read back to the same expression."""
    if not isinstance(e, sp.Expr) or e.has(sp.I, sp.zoo, sp.nan, sp.oo):
        return
    parsed = parse_expression(theorems.tex(e), SymbolTable.build(_NAMES))
    assert parsed.value == e or sp.simplify(parsed.value - e) == 0, (theorems.tex(e), parsed.value)


_TOKENS = [
    "a",
    "x",
    "T",
    "d",
    "e",
    "2",
    "0.5",
    r"\frac",
    "{",
    "}",
    "(",
    ")",
    "^",
    "_",
    "+",
    "-",
    r"\cdot",
    r"\sqrt",
    r"\alpha",
    r"\left(",
    r"\right)",
    r"\min",
    ",",
    r"\le",
    "<",
    "=",
    "|",
    r"\mathrm{x}",
    " ",
    r"\log",
    "[",
    "]",
    r"\in",
    "*",
    "/",
    "!",
    "'",
    r"\lceil",
    r"\rceil",
    r"\hat",
    r"\theta_c(\alpha)",
    r"\sum_{i=0}^{n}",
    r"\pi",
    "G^0",
    r"\delta_0",
    r"\mathbb",
    r"\{",
    r"\}",
    r"\left.",
    r"\operatorname{sign}",
    r"\binom",
    "_{",
    "^{",
]


@settings(max_examples=300)
@given(st.lists(st.sampled_from(_TOKENS), min_size=1, max_size=14).map("".join))
def test_any_text_is_read_or_refused_with_a_latex_error(text):
    """Whatever the text, the parser returns a value or raises LatexError (a UsageError: one line, exit 2) --
    never another exception."""
    table = SymbolTable.build(
        ["alpha", "theta_c", "T", "G0", "delta0", "x"], {"G0": ["G^0"], "theta_c": [r"\theta_c(\alpha)"]}
    )
    for parse in (parse_expression, parse_relations):
        try:
            parse(text, table)
        except LatexError as e:
            assert "\n" not in str(e)
