r"""Claim files: theorems written in LaTeX in a TOML file, checked like any other claim.

A claim file holds one or more ``[[claim]]`` tables.  Plain fields are TOML values; the mathematics
(stepsize rule, bound, exponent, assumptions, identities, and settings that are expressions) is
LaTeX, read by :mod:`verify.latex` -- sympy's LaTeX parser with the ``lark`` backend, never ``eval``
and never ``sympify`` of a string.  Symbols are the experiment's constants, written as
``docs/symbols.md`` lists them (``\delta_0``, ``L_{am}``, ``G^0``, ``\theta_c(\alpha)``...).

.. code-block:: toml

    [[claim]]
    id = "mypaper.thm1"
    title = "EF21 with the arithmetic-mean stepsize, as printed in our Theorem 1"
    paper = "Doe and Roe, 2025, Theorem 1"
    provenance = "paper"
    kind = "upper"
    experiment = "ef21"
    measure = "avg_grad_norm_sq"
    in_expectation = true
    stepsize = '\frac{1}{L + L_{am}\,\xi(\alpha)}'
    bound = '\frac{2\delta_0}{\gamma T} + \frac{G^0}{\theta_c(\alpha) T}'
    assumptions = ['0 < \alpha \le 1', 'L > 0']
    search_budget = 16          # pytest: also search the instance space (16 runs)

    [claim.setting]
    algorithm = "ef21"
    lyapunov = "am"

``base = "ef21.nonconvex-am"`` starts from a shipped claim: the fields given replace the base's
(``setting`` entries are merged into the base's), its identities are kept, and ``expected_to_fail``
is not inherited.  ``ratecheck show ID --toml`` prints any shipped claim in this format.

>>> claims = load_claims("theorems.claim.toml")          # doctest: +SKIP
>>> print(claim_to_toml(theorems.get("ef21.pl-qm")))      # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from dataclasses import dataclass
from numbers import Real
from pathlib import Path
from typing import Any

import sympy as sp

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser, packaged as tomli
    import tomli as tomllib

from ratecheck import theorems
from ratecheck.theorems import Claim, ClaimError, Identity, Kind, Provenance

from . import experiments as _exps
from .errors import UsageError, close_match, did_you_mean
from .latex import LatexError, SymbolTable, parse_expression, parse_relations

__all__ = [
    "FIELDS",
    "SUFFIX",
    "ClaimEntry",
    "claim_to_toml",
    "is_claim_file",
    "load_claim",
    "load_claims",
    "read_claim_file",
]

SUFFIX = ".claim.toml"  #: what the pytest plugin collects

#: every field of a ``[[claim]]`` table and what it holds
FIELDS = {
    "id": "the claim's id (no spaces), e.g. 'mypaper.thm1'",
    "base": "a shipped claim to start from (its fields are the defaults)",
    "title": "one line for humans",
    "paper": "the citation: authors, venue, arXiv id, theorem",
    "citation": "synonym of paper",
    "provenance": "paper, derived, reconstructed or not found",
    "provenance_note": "free text, e.g. a second provenance tag",
    "kind": "upper, lower, scaling or identity",
    "experiment": "the experiment that checks it (`ratecheck experiments`)",
    "measure": "the measured quantity the bound is about (`ratecheck describe EXPERIMENT`)",
    "in_expectation": "true when the statement holds in expectation",
    "stepsize": "LaTeX: the largest admissible stepsize gamma_max (gamma <= stepsize is implied)",
    "bound": "LaTeX: the bound on the measure",
    "exponent": "LaTeX: the predicted exponent of a scaling claim",
    "scaling_in": "the variable of a scaling claim (a constant or parameter name)",
    "assumptions": "LaTeX relations (chains such as 0 < \\alpha \\le 1 and \\alpha \\in (0, 1] allowed)",
    "identities": "LaTeX relations the claim states as symbolic facts (proved by sympy, else sampled)",
    "setting": "table: what the experiment must run (expression settings in LaTeX)",
    "expected_to_fail": "why the statement is false (the check then expects a violation)",
    "description": "free text",
    "search_budget": "pytest: also search the instance space with this many runs",
    "seed": "pytest: the seed of the check and of the search (default 0)",
    "quick": "pytest: check the quick default instances (default true)",
}
_STRINGS = (
    "id",
    "base",
    "title",
    "paper",
    "citation",
    "provenance",
    "provenance_note",
    "kind",
    "experiment",
    "measure",
    "scaling_in",
    "expected_to_fail",
    "description",
)
_EXPRESSIONS = ("stepsize", "bound", "exponent")
_RELATIONS = ("assumptions", "identities")


@dataclass(frozen=True)
class ClaimEntry:
    """One ``[[claim]]`` of a claim file: the claim and the file's options for running it."""

    claim: Claim
    path: str
    index: int  #: 1-based position in the file
    line: int | None = None  #: line of its ``[[claim]]`` header
    search_budget: int | None = None
    seed: int = 0
    quick: bool = True


def is_claim_file(spec: str) -> bool:
    """Whether a ``--claim`` argument names a claim file (``FILE.toml`` or ``FILE.toml:ID``)."""
    s = str(spec)
    return s.endswith(".toml") or bool(re.search(r"\.toml:[^/\\]+$", s))


def load_claims(path) -> list[Claim]:
    """Every claim of a claim file (see the module docstring), validated against its experiment."""
    return [e.claim for e in read_claim_file(path)]


def load_claim(spec: str) -> Claim:
    """``"FILE.toml:ID"`` -> that claim; ``"FILE.toml"`` -> its only claim."""
    path, cid = _split(spec)
    entries = read_claim_file(path)
    if cid is None:
        if len(entries) != 1:
            raise UsageError(
                f"{path}: holds {len(entries)} claims ({', '.join(e.claim.id for e in entries)}); name one as {path}:ID"
            )
        return entries[0].claim
    for e in entries:
        if e.claim.id == cid:
            return e.claim
    raise UsageError(f"{path}: no claim {cid!r}" + did_you_mean(cid, [e.claim.id for e in entries], "claims"))


def _split(spec: str) -> tuple[str, str | None]:
    s = str(spec)
    if s.endswith(".toml"):
        return s, None
    path, _, cid = s.rpartition(":")
    return path, cid


def read_claim_file(path) -> list[ClaimEntry]:
    """The entries of a claim file; any problem raises one :class:`UsageError` naming the file, the claim,
    the field and (for LaTeX) the column."""
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"claim file {str(p)!r} does not exist")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise UsageError(f"{p}: not UTF-8 text ({e})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise UsageError(f"{p}: invalid TOML: {e}") from None
    extra = [k for k in data if k != "claim"]
    if extra:
        raise UsageError(
            f"{p}: unknown top-level key {extra[0]!r}; a claim file holds [[claim]] tables"
            + did_you_mean(extra[0], ["claim"], "keys")
        )
    tables = data.get("claim")
    if isinstance(tables, dict):
        tables = [tables]
    if not tables or not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise UsageError(f"{p}: no claims; write each claim as a [[claim]] table")
    lines = [i + 1 for i, ln in enumerate(text.splitlines()) if re.match(r"\s*\[\[\s*claim\s*\]\]", ln)]
    tables_cache: dict = {}
    entries = []
    for i, t in enumerate(tables):
        line = lines[i] if len(lines) == len(tables) else None
        entries.append(_entry(p, i + 1, line, t, tables_cache))
    seen: dict = {}
    for e in entries:
        if e.claim.id in seen:
            raise UsageError(f"{p}: claim id {e.claim.id!r} appears twice (claims {seen[e.claim.id]} and {e.index})")
        seen[e.claim.id] = e.index
    return entries


# --------------------------------------------------------------------------- one claim
def _entry(p: Path, index: int, line: int | None, t: dict, tables_cache: dict) -> ClaimEntry:
    cid = t.get("id")
    where = f"{p}: claim {cid!r}" if isinstance(cid, str) and cid else f"{p}: claim #{index}"
    if line:
        where += f" (line {line})"
    for k in t:
        if k not in FIELDS:
            raise UsageError(f"{where}: unknown field {k!r}" + did_you_mean(k, FIELDS, "fields"))
    for k in _STRINGS:
        if k in t and not isinstance(t[k], str):
            raise UsageError(f"{where}: field {k!r} must be a string, got {_tname(t[k])}")
    for k in _EXPRESSIONS:
        if k in t and not isinstance(t[k], str):
            raise UsageError(f"{where}: field {k!r} must be a LaTeX string, got {_tname(t[k])}")
    for k in _RELATIONS:
        if k in t:
            v = t[k]
            if isinstance(v, str):
                t = dict(t, **{k: [v]})
            elif not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                raise UsageError(f"{where}: field {k!r} must be a list of LaTeX strings")
    for k in ("in_expectation", "quick"):
        if k in t and not isinstance(t[k], bool):
            raise UsageError(f"{where}: field {k!r} must be true or false, got {t[k]!r}")
    if "setting" in t and not isinstance(t["setting"], dict):
        raise UsageError(f"{where}: field 'setting' must be a table ([claim.setting])")
    budget = t.get("search_budget")
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, int) or budget < 1):
        raise UsageError(f"{where}: field 'search_budget' must be an integer >= 1, got {budget!r}")
    seed = t.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise UsageError(f"{where}: field 'seed' must be an integer >= 0, got {seed!r}")
    if "paper" in t and "citation" in t:
        raise UsageError(f"{where}: give 'paper' or its synonym 'citation', not both")
    if "id" not in t or not t["id"]:
        raise UsageError(f"{where}: field 'id' is required")
    if "expected_to_fail" in t and not t["expected_to_fail"].strip():
        raise UsageError(f"{where}: field 'expected_to_fail' must say why the statement is false")

    # ------------------------------------------------------------ plain fields, over the base's
    if "base" in t:
        try:
            base = theorems.get(t["base"])
        except theorems.UnknownClaimError as e:
            raise UsageError(f"{where}: field 'base': {e}") from None
        values = {f.name: getattr(base, f.name) for f in dataclasses.fields(Claim)}
        values.update(expected_to_fail=None, source_latex={}, setting=dict(base.setting))
    else:
        values = {}
        missing = [k for k in ("title", "provenance", "kind") if k not in t] + (
            ["paper"] if "paper" not in t and "citation" not in t else []
        )
        if missing:
            raise UsageError(
                f"{where}: field(s) {', '.join(repr(m) for m in missing)} required (or start from a "
                "shipped claim with base = 'ID')"
            )
    for k in (
        "id",
        "title",
        "provenance_note",
        "measure",
        "experiment",
        "scaling_in",
        "expected_to_fail",
        "description",
        "in_expectation",
    ):
        if k in t:
            values[k] = t[k]
    if "paper" in t or "citation" in t:
        values["paper"] = t.get("paper", t.get("citation"))
    for k, enum in (("provenance", Provenance), ("kind", Kind)):
        if k in t:
            allowed = [m.value for m in enum]
            if t[k] not in allowed:
                raise UsageError(
                    f"{where}: field {k!r} must be one of {', '.join(allowed)}, got {t[k]!r}"
                    + close_match(t[k], allowed)
                )
            values[k] = t[k]
    exp = None
    if values.get("experiment"):
        try:
            exp = _exps.get(values["experiment"])
        except UsageError as e:
            raise UsageError(f"{where}: field 'experiment': {e}") from None
    measure = values.get("measure") or ""
    if exp is not None and measure and exp.schema.measure(measure) is None:
        raise UsageError(
            f"{where}: field 'measure': experiment {exp.name!r} has no measure {measure!r}"
            + did_you_mean(measure, [m.name for m in exp.schema.measures], "measures")
        )

    # ------------------------------------------------------------ the mathematics
    table = _table(exp, measure, where, tables_cache)
    source = {}
    unknown: dict = {}  # derived symbol name -> (field, spelling, column)

    def note(field_name, parsed):
        for s in parsed.unknown:
            unknown.setdefault(s.name, (field_name, s.spelling, s.start + 1))

    for k in _EXPRESSIONS:
        if k in t:
            parsed = _parse(parse_expression, t[k], table, where, k)
            values[k] = parsed.value
            source[k] = t[k]
            note(k, parsed)
    if "assumptions" in t:
        rels = []
        for j, text in enumerate(t["assumptions"]):
            parsed = _parse(parse_relations, text, table, where, f"assumptions[{j}]")
            rels += parsed.value
            note(f"assumptions[{j}]", parsed)
        values["assumptions"] = tuple(rels)
        source["assumptions"] = list(t["assumptions"])
    if "identities" in t:
        idts = []
        for j, text in enumerate(t["identities"]):
            parsed = _parse(parse_relations, text, table, where, f"identities[{j}]")
            idts += [Identity(rel) for rel in parsed.value]
        values["identities"] = tuple(idts)
        source["identities"] = list(t["identities"])
    if "setting" in t:
        settings = _settings(t["setting"], exp, table, where, note)
        values["setting"] = {**dict(values.get("setting") or {}), **settings}
    values["source_latex"] = source
    try:
        claim = Claim(**values)
    except TypeError as e:
        raise UsageError(f"{where}: {e}") from None
    except (ClaimError, ValueError) as e:
        raise UsageError(f"{where}: {e}") from None

    # ------------------------------------------------------------ against the experiment
    if exp is not None:
        try:
            exp.validate_claim(claim)
        except UsageError as e:
            msg = str(e)
            prefix = f"claim {claim.id}: "
            msg = msg.removeprefix(prefix)
            m = re.match(r"symbol '([^']+)' ", msg)
            if m and m.group(1) in unknown:
                f, spelling, col = unknown[m.group(1)]
                raise UsageError(
                    f"{where}: field {f!r}, column {col}: {spelling} (symbol {m.group(1)!r}) {msg[m.end() :]}"
                ) from None
            raise UsageError(f"{where}: {msg}") from None
    elif measure:
        raise UsageError(
            f"{where}: a claim with a measure needs an experiment (field 'experiment'; see `ratecheck experiments`)"
        )
    return ClaimEntry(claim, str(p), index, line, budget, seed, t.get("quick", True))


def _tname(v) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", list: "a list", dict: "a table"}.get(
        type(v), type(v).__name__
    )


def _table(exp, measure: str, where: str, cache: dict) -> SymbolTable:
    key = (getattr(exp, "name", None), measure)
    if key not in cache:
        if exp is None or not measure:
            cache[key] = SymbolTable.build(())
        else:
            try:
                cache[key] = SymbolTable.build(exp.schema.constants_for(measure), exp.schema.spellings_for(measure))
            except ValueError as e:  # two constants declare one spelling: a schema bug
                raise UsageError(f"{where}: experiment {exp.name!r}: {e}") from None
    return cache[key]


def _parse(fn, text: str, table: SymbolTable, where: str, field_name: str):
    try:
        return fn(text, table)
    except LatexError as e:
        raise UsageError(f"{where}: field {field_name!r}: {e}") from None


def _settings(raw: dict, exp, table: SymbolTable, where: str, note) -> dict:
    if exp is None:
        if raw:
            raise UsageError(f"{where}: settings need an experiment (field 'experiment')")
        return {}
    known = {s.name: s for s in exp.schema.all_settings()}
    out = {}
    for k, v in raw.items():
        st = known.get(k)
        if st is None:
            raise UsageError(f"{where}: unknown setting {k!r}" + did_you_mean(k, known, "settings"))
        out[k] = _setting_value(st, v, table, f"{where}: setting {k!r}", f"setting.{k}", note)
    return out


def _setting_value(st, v, table, where: str, field_name: str, note):
    """A TOML value -> the setting's value: LaTeX strings of expression settings are parsed (never
    ``sympify``), lists become tuples."""

    def latex(text, what=field_name):
        try:
            parsed = parse_expression(text, table)
        except LatexError as e:
            raise UsageError(f"{where}: {e}") from None
        note(what, parsed)
        return parsed.value

    if st.kind == "expr":
        if isinstance(v, str):
            return latex(v)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return v
        raise UsageError(f"{where} must be a LaTeX expression or a number, got {_tname(v)}")
    if st.kind == "exprs":
        if not isinstance(v, dict):
            raise UsageError(f"{where} must be a table of LaTeX expressions")
        return {k: (latex(x, f"{field_name}.{k}") if isinstance(x, str) else x) for k, x in v.items()}
    if st.kind in ("number", "factors"):

        def number(x):
            if isinstance(x, str):
                val = latex(x)
                if val.free_symbols or not val.is_number:
                    raise UsageError(f"{where} must be a number, got {x!r}")
                return val
            return x

        return tuple(number(x) for x in v) if isinstance(v, list) else number(v)
    if isinstance(v, list):
        return tuple(v)
    return v


# --------------------------------------------------------------------------- writing
def claim_to_toml(claim: Claim) -> str:
    """A claim as a claim file that :func:`load_claims` reads back to an equal claim.

    What LaTeX cannot carry -- identities with their own proofs, samplers, labels or local symbols, and
    expressions in functions of the package's own (such as ``BinomialExcess``) -- comes from the
    shipped claim: the file then starts from it (``base = ID``) and says what it inherits.
    """
    inherited = [k for k in _EXPRESSIONS if getattr(claim, k) is not None and not _expressible(getattr(claim, k))]
    inherited += ["assumptions"] if not all(_expressible(a) for a in claim.assumptions) else []
    if claim.identities and not all(_writable_identity(i) for i in claim.identities):
        inherited.append("identities")
    if inherited:
        try:
            registered = theorems.get(claim.id) is claim
        except theorems.UnknownClaimError:
            registered = False
        if not registered:
            raise ClaimError(
                f"claim {claim.id}: its {', '.join(inherited)} cannot be written in LaTeX (Python proofs, "
                "samplers, local symbols or the package's own functions); register the claim and write "
                "the file with base = its id"
            )
    out = [
        "# ratecheck claim file: the claim's fields in TOML, its mathematics in LaTeX.",
        f"# Check it: ratecheck check --claim FILE --quick  (pytest collects files named *{SUFFIX})",
        "",
        "[[claim]]",
        _kv("id", claim.id),
    ]
    if inherited:
        out += [
            f"# from the shipped claim, which LaTeX cannot carry: its {', '.join(inherited)}",
            _kv("base", claim.id),
        ]
    out += [_kv("title", claim.title), _kv("paper", claim.paper), _kv("provenance", claim.provenance.value)]
    if claim.provenance_note:
        out.append(_kv("provenance_note", claim.provenance_note))
    out.append(_kv("kind", claim.kind.value))
    if claim.experiment:
        out.append(_kv("experiment", claim.experiment))
    if claim.measure:
        out.append(_kv("measure", claim.measure))
    if claim.in_expectation:
        out.append("in_expectation = true")
    for k in _EXPRESSIONS:
        e = getattr(claim, k)
        if e is not None and k not in inherited:
            out.append(_kv(k, theorems.tex(e)))
    if claim.scaling_in:
        out.append(_kv("scaling_in", claim.scaling_in))
    if claim.assumptions and "assumptions" not in inherited:
        out.append("assumptions = [\n" + "".join(f"  {_q(theorems.tex(a))},\n" for a in claim.assumptions) + "]")
    if claim.identities and "identities" not in inherited:
        out.append("identities = [\n" + "".join(f"  {_q(theorems.tex(i.relation))},\n" for i in claim.identities) + "]")
    if claim.expected_to_fail:
        out.append(_kv("expected_to_fail", claim.expected_to_fail))
    if claim.description:
        out.append(_kv("description", claim.description))
    if claim.setting:
        out += ["", "[claim.setting]"] + [f"{_key(k)} = {_value(v)}" for k, v in claim.setting.items()]
    return "\n".join(out) + "\n"


def _expressible(e) -> bool:
    """Whether the claim-file LaTeX can say ``e``: an expression or relation in sympy's own functions."""
    if not isinstance(e, sp.Basic) or isinstance(e, (sp.logic.boolalg.BooleanAtom, sp.MatrixBase)):
        return False
    if any(isinstance(x, sp.MatrixBase) for x in sp.preorder_traversal(e)):
        return False
    return all(type(f).__module__.startswith("sympy.") for f in e.atoms(sp.Function))


def _writable_identity(idt) -> bool:
    rel = idt.relation
    return (
        idt.proof is None
        and idt.sampler is None
        and not idt.label
        and _expressible(rel)
        and isinstance(rel, sp.core.relational.Relational)
        and all(theorems.sym(s.name) == s for s in rel.free_symbols)
    )


def _key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else _q(k)


def _q(s: str) -> str:
    """A TOML string: literal ('...', LaTeX backslashes as written) when possible, else basic (escaped)."""
    if "'" not in s and all(c == "\t" or (ord(c) >= 0x20 and c != "\x7f") for c in s):
        return "'" + s + "'"
    return json.dumps(s, ensure_ascii=False)


def _kv(k: str, v: str) -> str:
    return f"{k} = {_q(v)}"


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, sp.Basic):
        return _q(theorems.tex(v))
    if isinstance(v, int):
        return str(v)
    if isinstance(v, Real):
        f = float(v)
        return ("inf" if f > 0 else "-inf") if math.isinf(f) else ("nan" if math.isnan(f) else repr(f))
    if isinstance(v, str):
        return _q(v)
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(str(k))} = {_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    raise ClaimError(f"a setting value of type {type(v).__name__} cannot be written to a claim file: {v!r}")
