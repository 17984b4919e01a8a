r"""The declared contract between claims and experiments.

Each experiment declares one :class:`Schema`: its instance **parameters** (type, range or choices,
default, meaning), the **constants** it supplies to claims (symbol name and meaning), the
**measures** it produces, and the **settings** a claim may choose.  Everything else is derived
from that one declaration: parameter validation with messages that name the parameter and the
allowed range (the model is scikit-learn's ``_parameter_constraints``), ``--param NAME=VALUE``
parsing, the counterexample search space, ``ratecheck describe`` and ``docs/experiments.md``, and
the validation of a claim before it runs (:meth:`Schema.validate_claim`): an unknown setting,
setting value, symbol or measure is refused with the list of valid names.

Example
-------
>>> s = Schema(params=(Int("n", 20, "number of clients", low=1, search=(2, 40)),
...                    Float("spread", 2.0, "L_qm / L_am", low=1.0)),
...            constants=(Constant("L", "smoothness constant of f"),),
...            measures=(Measure("avg_grad_norm_sq", "running mean of ||grad f||^2", grid="T"),),
...            settings=(Setting("lyapunov", "qm", "weights of G", choices=("qm", "am")),))
>>> s.validate_params({"n": 5})["spread"]
2.0
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any, Callable, Iterable, Mapping

import numpy as np
import sympy as sp

from .errors import UsageError, close_match, did_you_mean

__all__ = [
    "Param",
    "Int",
    "Float",
    "Choice",
    "Flag",
    "Custom",
    "number_list",
    "Rule",
    "SearchVar",
    "Constant",
    "Measure",
    "Setting",
    "Schema",
    "SCALING_SETTINGS",
    "scaling_settings",
    "expr_value",
]

_MISSING = object()


# --------------------------------------------------------------------------- parameters
@dataclass(frozen=True)
class Param:
    """One instance parameter: ``name``, ``default``, one-line ``help``.

    ``search`` declares the parameter's range in the counterexample search (``None``: not
    searched).  ``optional`` admits ``None`` (meaning: "derived from the claim or the instance").
    Subclasses define :meth:`rule` (the allowed values, in words), :meth:`coerce` and :meth:`parse`.
    """

    name: str
    default: Any
    help: str
    optional: bool = False
    search: Any = None

    def rule(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    def coerce(self, value: Any) -> Any:
        """Return the validated value or raise ``ValueError`` (the caller words the message)."""
        raise NotImplementedError  # pragma: no cover - overridden

    def validate(self, value: Any, where: str = "") -> Any:
        if value is None and self.optional:
            return None
        try:
            return self.coerce(value)
        except (ValueError, TypeError, OverflowError):
            rule = self.rule() + (" or None" if self.optional else "")
            raise UsageError(f"{where}{self.name} must be {rule}, got {value!r}") from None

    def parse(self, text: str, where: str = "") -> Any:
        """The value of ``--param NAME=TEXT``."""
        if self.optional and text.strip().lower() in ("none", "null"):
            return None
        try:
            value = self._parse(text.strip())
        except (ValueError, TypeError, OverflowError):  # not of the declared type: validate words the rule
            value = text.strip()
        return self.validate(value, where)

    def _parse(self, text: str) -> Any:
        return text

    def search_spec(self):
        return None

    def describe(self) -> dict:
        return {
            "name": self.name,
            "type": type(self).__name__.lower(),
            "rule": self.rule() + (" or None" if self.optional else ""),
            "default": _plain(self.default),
            "help": self.help,
            "search": _plain(self.search_spec()),
        }


def _bounds_text(low, high, low_open, high_open) -> str:
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f"{'<' if high_open else '<='} {high:g}"
    return ""


def _in_bounds(v, low, high, low_open, high_open) -> bool:
    if low is not None and (v <= low if low_open else v < low):
        return False
    if high is not None and (v >= high if high_open else v > high):
        return False
    return True


@dataclass(frozen=True)
class _Number(Param):
    """A number within bounds (``low``/``high``, each closed unless ``*_open``)."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    _what = "a number"

    def _accepts(self, value) -> bool:
        raise NotImplementedError  # pragma: no cover - overridden

    def rule(self) -> str:
        b = _bounds_text(self.low, self.high, self.low_open, self.high_open)
        return self._what + (f" {b}" if b else "")

    def coerce(self, value):
        if isinstance(value, bool) or not self._accepts(value):
            raise TypeError
        if not _in_bounds(value, self.low, self.high, self.low_open, self.high_open):
            raise ValueError
        return value

    def _parse(self, text):
        for cast in (int, float):
            try:
                return cast(text)
            except ValueError:
                pass
        return text


@dataclass(frozen=True)
class Int(_Number):
    """An integer in ``[low, high]``; searched over ``search=(lo, hi)``."""

    _what = "an integer"

    def _accepts(self, value) -> bool:
        return isinstance(value, Integral)

    def _parse(self, text):
        v = super()._parse(text)
        return int(v) if isinstance(v, float) and v.is_integer() else v  # "1e3" is an integer written as a float

    def search_spec(self):
        return None if self.search is None else ("int", *self.search)


@dataclass(frozen=True)
class Float(_Number):
    """A finite real number within the bounds; ``log=True`` searches on a log scale."""

    log: bool = False
    _what = "a finite number"

    def _accepts(self, value) -> bool:
        return isinstance(value, Real) and math.isfinite(value)

    def search_spec(self):
        return None if self.search is None else ("logfloat" if self.log else "float", *self.search)


@dataclass(frozen=True)
class Choice(Param):
    """One of ``choices``; ``search=True`` searches all of them, a tuple searches that subset."""

    choices: tuple = ()

    def rule(self) -> str:
        return "one of " + ", ".join(repr(c) for c in self.choices)

    def coerce(self, value):
        if isinstance(value, bool) or value not in self.choices:
            raise ValueError
        return value

    def validate(self, value, where=""):
        if value is None and self.optional:
            return None
        if isinstance(value, bool) or value not in self.choices:
            raise UsageError(
                f"{where}{self.name} must be {self.rule()}{' or None' if self.optional else ''}, "
                f"got {value!r}" + close_match(str(value), self.choices)
            )
        return value

    def _parse(self, text):
        for c in self.choices:
            if str(c) == text:
                return c
        return text

    def search_spec(self):
        if self.search is None:
            return None
        return ("choice", list(self.choices if self.search is True else self.search))


@dataclass(frozen=True)
class Flag(Param):
    """True or False."""

    def rule(self) -> str:
        return "true or false"

    def coerce(self, value):
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError
        return bool(value)

    def _parse(self, text):
        return {"true": True, "false": False, "1": True, "0": False}.get(text.lower(), text)

    def search_spec(self):
        return None if self.search is None else ("choice", [False, True])


@dataclass(frozen=True)
class Custom(Param):
    """A value with its own rule: ``check(value)`` returns the accepted value or raises ``ValueError``.

    ``rule_text`` says in words what is allowed (e.g. ``"top-K, rand-K, identity or natural"``);
    ``parser`` turns ``--param`` text into a value (default: the text itself; ``json`` for lists).
    """

    rule_text: str = ""
    check: Callable[[Any], Any] | None = None
    parser: Callable[[str], Any] | None = None

    def rule(self) -> str:
        return self.rule_text

    def coerce(self, value):
        return self.check(value) if self.check is not None else value

    def _parse(self, text):
        if self.parser is None:
            return text
        try:
            return self.parser(text)
        except ValueError:
            return text

    def search_spec(self):
        return None if self.search is None else tuple(self.search)


def json_list(text: str):
    """``--param`` parser for list values written as JSON (``[0.5, 0.5]``)."""
    return json.loads(text)


def number_list(
    name: str,
    default,
    help: str,
    *,
    min_len: int = 1,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    integer: bool = False,
    distinct: bool = False,
    **kw,
) -> Custom:
    """A :class:`Custom` parameter whose value is a list of finite numbers (a sweep grid, written as JSON after
    ``--param``): at least ``min_len`` of them (``distinct``: at least ``min_len`` distinct ones), each an integer
    when ``integer``, within the bounds (``low``/``high``, closed unless ``*_open``); the value is a tuple of
    ints or floats.  The rule in words is derived: e.g. ``"a list of at least 3 integers >= 3"``."""
    bounds = _bounds_text(low, high, low_open, high_open)
    size = "a non-empty list of" if min_len <= 1 else f"a list of at least {min_len}"
    rule = f"{size} {'distinct ' if distinct else ''}{'integers' if integer else 'values'}" + (
        f" {bounds}" if bounds else ""
    )

    def check(value):
        if isinstance(value, (str, bytes)) or np.ndim(value) != 1:
            raise ValueError
        kind = Integral if integer else Real
        if any(isinstance(x, bool) or not isinstance(x, kind) for x in value):
            raise ValueError
        out = tuple(int(x) if integer else float(x) for x in value)
        if len(set(out) if distinct else out) < max(min_len, 1):
            raise ValueError
        if not all(math.isfinite(x) and _in_bounds(x, low, high, low_open, high_open) for x in out):
            raise ValueError
        return out

    return Custom(name, default, help, rule_text=rule, check=check, parser=json_list, **kw)


@dataclass(frozen=True)
class Rule:
    """A rule across parameters: ``test(p)`` is True on valid instances; ``text`` states it."""

    text: str
    names: tuple
    test: Callable[[dict], bool]

    def check(self, p: dict, where: str = "") -> None:
        if not self.test(p):
            got = ", ".join(f"{n}={p[n]!r}" for n in self.names)
            raise UsageError(f"{where}{self.text}, got {got}")


@dataclass(frozen=True)
class SearchVar:
    """A coordinate of the search space that is not a parameter (e.g. a spread as a fraction of its
    feasible range); :meth:`Experiment.from_search` maps it onto parameters."""

    name: str
    spec: tuple
    help: str
    base: bool = True  #: False: only the claim-specific spaces of ``search_space_for`` use it (``spec`` is typical)


# --------------------------------------------------------------------------- what claims see
@dataclass(frozen=True)
class Constant:
    r"""A constant an experiment supplies to claims (a sympy symbol name and its meaning).

    ``measures`` restricts it to the measures whose runs compute it (empty: every measure).
    ``latex`` lists the LaTeX spellings of the constant that a claim file may use besides the automatic
    ones (``theorems.tex_symbol(name)``, ``\mathrm{name}``...; see :mod:`verify.latex`), e.g.
    ``("G^0",)`` for ``G0`` or ``(r"	heta_c(lpha)",)`` for ``theta_c``.
    """

    name: str
    help: str
    measures: tuple = ()
    latex: tuple = ()


@dataclass(frozen=True)
class Measure:
    """An empirical quantity an experiment produces.

    ``grid`` names the variable the series runs over (``T``, ``m``, ``sample``...; a claim's bound
    may use it when it is a symbol such as ``T``); ``random`` says whether it is an expectation
    (exact or Monte Carlo) rather than one deterministic run.
    """

    name: str
    help: str
    grid: str = "T"
    random: bool = False


_SETTING_KINDS = ("choice", "flag", "number", "factors", "subset", "expr", "exprs", "text", "names")


@dataclass(frozen=True)
class Setting:
    """A setting a claim may choose (what the experiment must run).

    ``kind``: ``choice`` (one of ``choices``), ``flag`` (bool), ``number`` (int, float or sympy
    number; ``choices`` restricts it when given), ``factors`` (a non-empty tuple of positive finite numbers,
    e.g. stepsize factors), ``subset`` (a tuple of ``choices``), ``expr`` (a
    sympy expression in the experiment's constants), ``exprs`` (a mapping from ``choices`` to
    sympy expressions) or ``text`` (a string accepted by ``check``, which raises ``ValueError``
    otherwise; ``rule_text`` says what is allowed).  ``measures`` lists the measures it applies to
    (empty: all).  A default of ``None`` means "not set: the experiment decides".
    """

    name: str
    default: Any
    help: str
    kind: str = "choice"
    choices: tuple = ()
    measures: tuple = ()
    rule_text: str = ""
    check: Callable[[Any], Any] | None = field(default=None, compare=False)

    def __post_init__(self):
        if self.kind not in _SETTING_KINDS:
            raise ValueError(f"setting kind must be one of {_SETTING_KINDS}, got {self.kind!r}")

    def rule(self) -> str:
        ch = ", ".join(repr(c) for c in self.choices)
        return {
            "choice": f"one of {ch}",
            "flag": "true or false",
            "number": f"one of {ch}" if self.choices else "a number",
            "factors": "a non-empty tuple of finite numbers > 0",
            "subset": f"a tuple of {ch}",
            "expr": "a sympy expression in the experiment's constants",
            "exprs": f"a mapping from {ch} to sympy expressions",
            "text": self.rule_text,
            "names": "a list of parameter names",
        }[self.kind]

    def validate(self, value, where: str = ""):
        bad = UsageError(f"{where}setting {self.name!r} must be {self.rule()}, got {value!r}")
        if self.kind == "choice":
            if isinstance(value, bool) or value not in self.choices:
                raise bad
            return value
        if self.kind == "flag":
            if not isinstance(value, bool):
                raise bad
            return value
        if self.kind == "names":
            if (
                isinstance(value, str)
                or not isinstance(value, (tuple, list))
                or not all(isinstance(v, str) for v in value)
            ):
                raise bad
            return tuple(value)
        if self.kind == "text":
            try:
                if not isinstance(value, str):
                    raise TypeError
                return self.check(value) if self.check is not None else value
            except (ValueError, TypeError):
                raise bad from None
        if self.kind == "number":
            if isinstance(value, bool) or not isinstance(value, (Real, sp.Number)):
                raise bad
            if self.choices and value not in self.choices:
                raise bad
            return value
        if self.kind == "factors":
            try:
                if (
                    isinstance(value, (str, bool))
                    or not value
                    or any(isinstance(f, bool) or not 0 < float(f) < math.inf for f in value)
                ):
                    raise ValueError
            except (TypeError, ValueError):
                raise bad from None
            return tuple(value)
        if self.kind == "subset":
            if (
                isinstance(value, str)
                or not isinstance(value, (tuple, list))
                or any(v not in self.choices for v in value)
            ):
                raise bad
            return tuple(value)
        if self.kind == "expr":
            try:
                return sp.sympify(value)
            except (sp.SympifyError, TypeError):
                raise bad from None
        if not isinstance(value, Mapping) or any(k not in self.choices for k in value):
            raise bad
        try:
            return {k: sp.sympify(v) for k, v in value.items()}
        except (sp.SympifyError, TypeError):
            raise bad from None

    def expressions(self, value) -> list:
        """The sympy expressions inside a value of this setting (for the symbol check)."""
        if value is None:
            return []
        if self.kind == "expr":
            return [value]
        if self.kind == "exprs":
            return list(value.values())
        return []

    def describe(self) -> dict:
        return {
            "name": self.name,
            "kind": self.kind,
            "rule": self.rule(),
            "default": _plain(self.default),
            "help": self.help,
            "measures": list(self.measures),
        }


#: Settings every experiment accepts: how a scaling claim is fitted across instances by the sweep engine
#: (:func:`verify.sweep.check_scaling`).  An experiment may declare its own setting of the same name.
SCALING_SETTINGS = (
    Setting(
        "response",
        "last",
        "scaling claims: which value of each run's series is the response (fitted against scaling_in)",
        choices=("last", "first", "max", "min", "mean"),
    ),
    Setting(
        "fit",
        "power",
        "scaling claims: the fitted form (log-log power law, power law plus offset, or piecewise)",
        choices=("power", "offset", "piecewise"),
    ),
    Setting("confidence", 0.95, "scaling claims: level of the fitted exponent's interval", kind="number"),
    Setting(
        "scaling_mode",
        "equal",
        "scaling claims: the exponent must equal the prediction, or be at most it",
        choices=("equal", "at-most"),
    ),
    Setting("exponent_tolerance", 0.0, "scaling claims: slack allowed around the predicted exponent", kind="number"),
    Setting(
        "common_random_numbers",
        None,
        "sweeps: parameters whose cells share their seeds (default: the scaling variable of a scaling claim)",
        kind="names",
    ),
)


# --------------------------------------------------------------------------- the schema
@dataclass(frozen=True)
class Schema:
    """Everything an experiment declares; see the module docstring."""

    params: tuple = ()
    constants: tuple = ()
    measures: tuple = ()
    settings: tuple = ()
    rules: tuple = ()
    search: tuple = ()  #: search-only coordinates (:class:`SearchVar`)
    search_order: tuple = ()  #: names in the order the search draws them (default: parameters, then search-only)
    settings_type: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        for what in ("params", "constants", "measures", "settings", "search"):
            names = [x.name for x in getattr(self, what)]
            dup = {n for n in names if names.count(n) > 1}
            if dup:
                raise ValueError(f"schema declares {what} {sorted(dup)} twice")
        fields = [(s.name, Any, field(default_factory=(lambda v=s.default: v))) for s in self.all_settings()]
        object.__setattr__(self, "settings_type", dataclasses.make_dataclass("Settings", fields, frozen=True))

    # ---------------------------------------------------------------- lookups
    def all_settings(self) -> tuple:
        """The declared settings, then the :data:`SCALING_SETTINGS` the experiment does not declare itself."""
        own = {s.name for s in self.settings}
        return tuple(self.settings) + tuple(s for s in SCALING_SETTINGS if s.name not in own)

    def param(self, name: str, where: str = "") -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise UsageError(f"{where}unknown parameter {name!r}" + did_you_mean(name, self.defaults(), "parameters"))

    def defaults(self) -> dict:
        return {p.name: p.default for p in self.params}

    def measure(self, name: str) -> Measure | None:
        return next((m for m in self.measures if m.name == name), None)

    def spellings_for(self, measure: str) -> dict:
        """``{name: declared LaTeX spellings}`` of the constants a claim on ``measure`` may use."""
        return {c.name: tuple(c.latex) for c in self.constants if (not c.measures or measure in c.measures) and c.latex}

    def constants_for(self, measure: str) -> list[str]:
        """Names of the constants (and grid variable) a claim on ``measure`` may use."""
        names = [c.name for c in self.constants if not c.measures or measure in c.measures]
        m = self.measure(measure)
        if m is not None and m.grid not in names and m.grid.isidentifier():
            names.append(m.grid)
        return names

    # ---------------------------------------------------------------- parameters
    def validate_params(self, params: Mapping, where: str = "") -> dict:
        """Merge ``params`` over the defaults; unknown names and values outside their rule raise
        :class:`UsageError` naming the parameter, the rule and (for names) the valid ones."""
        if not isinstance(params, Mapping):
            raise UsageError(f"{where}instance parameters must be a dict, got {type(params).__name__}")
        out = self.defaults()
        for k in params:
            self.param(k, where)
        for p in self.params:
            if p.name in params:
                out[p.name] = p.validate(params[p.name], where)
        for r in self.rules:
            r.check(out, where)
        return out

    def parse_params(self, pairs: Iterable[str], where: str = "") -> dict:
        """``["n=20", "problem=logistic"]`` -> typed values, each parsed by its declared type."""
        out = {}
        for item in pairs or []:
            if "=" not in item:
                raise UsageError(f"--param must look like NAME=VALUE, got {item!r}")
            k, v = (s.strip() for s in item.split("=", 1))
            out[k] = self.param(k, where).parse(v, where)
        return out

    def search_space(self) -> dict | None:
        space = {p.name: p.search_spec() for p in self.params if p.search_spec() is not None}
        space.update({v.name: tuple(v.spec) for v in self.search if v.base})
        if self.search_order:
            if sorted(self.search_order) != sorted(space):
                raise ValueError(
                    f"search_order {self.search_order} must list exactly the searched names {sorted(space)}"
                )
            space = {k: space[k] for k in self.search_order}
        return space or None

    # ---------------------------------------------------------------- claims
    def settings_of(self, claim, where: str | None = None):
        """The claim's settings as the experiment's frozen ``Settings`` dataclass (defaults filled in)."""
        where = f"claim {claim.id}: " if where is None else where
        known = {s.name: s for s in self.all_settings()}
        values = {}
        for k, v in dict(claim.setting or {}).items():
            if k not in known:
                raise UsageError(f"{where}unknown setting {k!r}" + did_you_mean(k, known, "settings"))
            values[k] = known[k].validate(v, where)
        return self.settings_type(**values)

    def validate_claim(self, claim, experiment: str = "") -> None:
        """Refuse a claim whose measure, settings or symbols this experiment does not declare."""
        where = f"claim {claim.id}: "
        exp = f"experiment {experiment!r}" if experiment else "the experiment"
        if claim.measure and self.measure(claim.measure) is None:
            raise UsageError(
                f"{where}{exp} has no measure {claim.measure!r}"
                + did_you_mean(claim.measure, [m.name for m in self.measures], "measures")
            )
        s = self.settings_of(claim, where)
        for st in self.settings:
            if st.measures and claim.setting and st.name in claim.setting and claim.measure not in st.measures:
                raise UsageError(
                    f"{where}setting {st.name!r} applies to measure(s) {', '.join(st.measures)}, "
                    f"not to {claim.measure!r}"
                )
        if not claim.measure:
            return
        allowed = set(self.constants_for(claim.measure))
        free = {x.name for x in claim.symbols}
        for st in self.settings:
            for e in st.expressions(getattr(s, st.name)):
                free |= {x.name for x in getattr(e, "free_symbols", ())}
        for name in sorted(free - allowed):
            raise UsageError(
                f"{where}symbol {name!r} is not supplied by {exp} for measure {claim.measure!r}"
                + did_you_mean(name, allowed, "supplied")
            )

    # ---------------------------------------------------------------- documentation
    def describe(self) -> dict:
        return {
            "parameters": [p.describe() for p in self.params],
            "rules": [r.text for r in self.rules],
            "constants": [
                {"name": c.name, "help": c.help, "measures": list(c.measures), "latex": list(c.latex)}
                for c in self.constants
            ],
            "measures": [{"name": m.name, "help": m.help, "grid": m.grid, "random": m.random} for m in self.measures],
            "settings": [s.describe() for s in self.settings],
            "search_only": [
                {"name": v.name, "spec": _plain(v.spec), "help": v.help, "base": v.base} for v in self.search
            ],
        }


def scaling_settings(claim):
    """The :data:`SCALING_SETTINGS` of a claim, validated (for engines that judge scaling claims)."""
    return Schema().settings_of(
        claim.variant(
            "scaling", setting={k: v for k, v in dict(claim.setting).items() if k in {s.name for s in SCALING_SETTINGS}}
        ),
        where=f"claim {claim.id}: ",
    )


def expr_value(expr, constants: Mapping[str, Any], what: str) -> float:
    """The value of a claim's ``expr`` setting ``what`` (a sympy expression in the experiment's constants) at
    ``constants``; a symbol without a value is one :class:`UsageError` naming the setting and the symbols."""
    e = sp.sympify(expr)
    missing = sorted(s.name for s in e.free_symbols if s.name not in constants)
    if missing:
        raise UsageError(f"setting {what!r} needs a value for {', '.join(missing)}")
    return float(e.subs({s: constants[s.name] for s in e.free_symbols}))


def _plain(x):
    """JSON-ready copy (sympy objects and tuples become strings and lists)."""
    if isinstance(x, Mapping):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, sp.Basic):
        return sp.sstr(x)
    if isinstance(x, (np.integer, np.floating)):
        return x.item()
    return x
