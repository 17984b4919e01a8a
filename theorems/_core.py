"""The mathematical core: :class:`Claim`, identities and their proofs, and the registry.

A claim is a frozen, symbolic statement about a named empirical quantity (its *measure*): an
upper or lower bound, a scaling law, or an identity.  Numerics never live here; the harness in
``verify`` evaluates the sympy expressions through :meth:`Claim.evaluate`.
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import functools
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

import numpy as np
import sympy as sp
from sympy.core.sympify import _sympify
from sympy.printing.latex import LatexPrinter

__all__ = [
    "Provenance",
    "Kind",
    "Claim",
    "Identity",
    "Proof",
    "ClaimError",
    "AssumptionError",
    "UnknownClaimError",
    "sym",
    "register",
    "register_teeth",
    "get",
    "all_claims",
    "teeth",
    "select",
    "gt",
    "ge",
    "lt",
    "le",
    "tex",
    "tex_symbol",
]


class ClaimError(ValueError):
    """A claim is malformed or was given values it cannot use."""


class AssumptionError(ClaimError):
    """A value breaks one of a claim's assumptions (the message names the parameter and the rule)."""


class UnknownClaimError(ClaimError, LookupError):
    """No registered claim has the requested id."""


class Provenance(str, enum.Enum):
    """Where a claim comes from (see ``docs/symbols.md``)."""

    PAPER = "paper"
    DERIVED = "derived"
    RECONSTRUCTED = "reconstructed"
    NOT_FOUND = "not found"

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.value


class Kind(str, enum.Enum):
    """What sort of statement a claim makes about its measure."""

    UPPER = "upper"
    LOWER = "lower"
    SCALING = "scaling"
    IDENTITY = "identity"

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.value


# --------------------------------------------------------------------------- symbols
_NONNEGATIVE = {"delta0", "G0", "sigma2", "eps_floor"}
_INTEGER = {"T", "n", "d", "k", "m", "r", "c"}
_SYMBOLS: dict[str, sp.Symbol] = {}


def sym(name: str, **assumptions: Any) -> sp.Symbol:
    """Return the project-wide sympy symbol called ``name``.

    Symbols are named as the experiments supply them (``docs/symbols.md``).  By default a symbol is positive (all
    constants in the table are), integer for counts (``T``, ``n``, ``d``, ``k``...), and merely
    nonnegative for initial errors such as ``G0`` and ``delta0``.  The same name always returns
    the same object, so claims written in different files combine.
    """
    if name in _SYMBOLS and not assumptions:
        return _SYMBOLS[name]
    if not assumptions:
        if name in _NONNEGATIVE:
            assumptions = {"nonnegative": True, "real": True}
        elif name in _INTEGER:
            assumptions = {"positive": True, "integer": True}
        else:
            assumptions = {"positive": True}
    s = sp.Symbol(name, **assumptions)
    _SYMBOLS.setdefault(name, s)
    return s


def gt(a: Any, b: Any) -> sp.Basic:
    """Unevaluated ``a > b`` (kept even when the symbol assumptions already decide it)."""
    return sp.StrictGreaterThan(sp.sympify(a), sp.sympify(b), evaluate=False)


def ge(a: Any, b: Any) -> sp.Basic:
    """Unevaluated ``a >= b``."""
    return sp.GreaterThan(sp.sympify(a), sp.sympify(b), evaluate=False)


def lt(a: Any, b: Any) -> sp.Basic:
    """Unevaluated ``a < b``."""
    return sp.StrictLessThan(sp.sympify(a), sp.sympify(b), evaluate=False)


def le(a: Any, b: Any) -> sp.Basic:
    """Unevaluated ``a <= b``."""
    return sp.LessThan(sp.sympify(a), sp.sympify(b), evaluate=False)


# --------------------------------------------------------------------------- identities
@dataclass(frozen=True)
class Proof:
    """Outcome of establishing one identity: by a sympy proof or by sampling its domain."""

    statement: str
    method: str  # "sympy" | "sampling"
    holds: bool
    detail: str
    n_samples: int = 0
    worst_margin: float | None = None  # sampling: min over samples of (rhs - lhs) / scale

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


Sampler = Callable[[np.random.Generator, int], Mapping[str, np.ndarray]]


@dataclass(frozen=True)
class Identity:
    """A symbolic fact: an equation or inequality between expressions.

    Parameters
    ----------
    relation : sympy relational, or a callable returning one
        ``Eq(a, b)``, ``a <= b`` or ``a >= b``.  A zero-argument callable defers building the relation to
        its first use (``identity.relation``, :meth:`establish`, equality, pickling): a claim module then
        does not pay for an expensive relation at import, which ``ratecheck list`` and ``show`` never read
        (their text is the ``label``, so a deferred relation needs one).
    proof : callable, optional
        ``proof() -> str | None``: a sympy argument that returns a one-line description when it
        succeeds and ``None`` when it cannot conclude.  When absent, a generic attempt is made
        (simplify the difference, ask sympy for its sign).
    sampler : callable, optional
        ``sampler(rng, size) -> {symbol name: array}`` drawing points of the assumption domain.
        Used when no sympy proof succeeds; the default draws every free symbol log-uniformly in
        ``[1e-3, 1e3]`` (``alpha``, ``p`` and ``theta`` uniformly in ``(0, 1]``).
    label : str
        Short human label shown in reports.
    """

    relation: sp.Basic
    proof: Callable[[], str | None] | None = None
    sampler: Sampler | None = None
    label: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.relation, sp.Basic) and callable(self.relation):
            if not self.label:
                raise ClaimError("an identity with a deferred relation needs a label (its statement)")
            # deferred: the field is removed so that the first read goes through __getattr__ and builds it
            object.__setattr__(self, "_build_relation", self.relation)
            object.__delattr__(self, "relation")

    def __getattr__(self, name: str):
        build = self.__dict__.get("_build_relation") if name == "relation" else None
        if build is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        rel = build()
        object.__setattr__(self, "relation", rel)
        return rel

    def statement(self) -> str:
        return self.label or sp.sstr(self.relation)

    def __getstate__(self):  # pickling keeps the relation unevaluated (see _frozen_relation); built if deferred
        state = {k: v for k, v in self.__dict__.items() if k != "_build_relation"}
        return dict(state, relation=_frozen_relation(self.relation))

    def __setstate__(self, state):
        self.__dict__.update(state, relation=_thawed_relation(state["relation"]))

    def establish(self, n_samples: int = 4000, seed: int = 0, rtol: float = 1e-10) -> Proof:
        """Prove the identity with sympy if possible, else check it on sampled points."""
        text = self.statement()
        detail = self.proof() if self.proof is not None else _generic_proof(self.relation)
        if detail:
            return Proof(text, "sympy", True, detail)
        return _sample_relation(self.relation, self.sampler, text, n_samples, seed, rtol)


def _difference(rel: sp.Basic) -> tuple[sp.Expr, bool]:
    """Return (rhs - lhs oriented so that the relation says ``>= 0``, is_equality)."""
    if isinstance(rel, sp.Equality):
        return rel.rhs - rel.lhs, True
    if isinstance(rel, (sp.LessThan, sp.StrictLessThan)):
        return rel.rhs - rel.lhs, False
    if isinstance(rel, (sp.GreaterThan, sp.StrictGreaterThan)):
        return rel.lhs - rel.rhs, False
    raise ClaimError(f"identity must be an equation or inequality, got {rel!r}")


def _generic_proof(rel: sp.Basic) -> str | None:
    diff, is_eq = _difference(rel)
    simp = sp.simplify(diff)
    if is_eq:
        return "sympy.simplify(rhs - lhs) == 0" if simp == 0 else None
    if simp.is_nonnegative:
        return "sympy: rhs - lhs is nonnegative under the symbol assumptions"
    factored = sp.factor(simp)
    if factored.is_nonnegative:
        return "sympy: factor(rhs - lhs) is nonnegative under the symbol assumptions"
    return None


_UNIT_INTERVAL = {"alpha", "p", "theta", "p_min"}


def _default_sampler(names: Iterable[str]) -> Sampler:
    names = list(names)

    def draw(rng: np.random.Generator, size: int) -> dict[str, np.ndarray]:
        out = {}
        for nm in names:
            if nm in _UNIT_INTERVAL:
                out[nm] = 1.0 - rng.uniform(0.0, 1.0, size)  # (0, 1]
            else:
                out[nm] = 10.0 ** rng.uniform(-3, 3, size)
        return out

    return draw


def _sample_relation(rel, sampler, text, n_samples, seed, rtol) -> Proof:
    diff, is_eq = _difference(rel)
    names = sorted(s.name for s in diff.free_symbols)
    syms = sorted(diff.free_symbols, key=lambda s: s.name)
    f = sp.lambdify(syms, diff, modules="numpy")
    scale_expr = sp.Abs(rel.lhs) + sp.Abs(rel.rhs)
    g = sp.lambdify(syms, scale_expr, modules="numpy")
    draw = sampler or _default_sampler(names)
    rng = np.random.default_rng(seed)
    pts = draw(rng, n_samples)
    missing = [nm for nm in names if nm not in pts]
    if missing:
        raise ClaimError(f"identity {text!r}: sampler does not draw {missing}")
    args = [np.asarray(pts[nm], dtype=float) for nm in names]
    with np.errstate(all="ignore"):
        val = np.broadcast_to(np.asarray(f(*args), dtype=float), np.broadcast(*args).shape if args else ())
        scale = np.maximum(np.broadcast_to(np.asarray(g(*args), dtype=float), val.shape), 1.0)
    ok = np.isfinite(val)
    if not ok.any():
        raise ClaimError(f"identity {text!r}: no sampled point gave a finite value")
    margin = val[ok] / scale[ok]
    if is_eq:
        worst = float(np.max(np.abs(margin)))
        holds = worst <= rtol
        detail = f"max |rhs - lhs|/scale = {worst:.3g} over {int(ok.sum())} sampled points"
        return Proof(text, "sampling", holds, detail, int(ok.sum()), -worst)
    worst = float(np.min(margin))
    holds = worst >= -rtol
    detail = f"min (rhs - lhs)/scale = {worst:.3g} over {int(ok.sum())} sampled points"
    return Proof(text, "sampling", holds, detail, int(ok.sum()), worst)


def _frozen_relation(rel):
    if isinstance(rel, sp.core.relational.Relational):
        return ("relation", type(rel), rel.lhs, rel.rhs)
    return rel


def _thawed_relation(x):
    if isinstance(x, tuple) and len(x) == 4 and x[0] == "relation":
        return x[1](x[2], x[3], evaluate=False)
    return x


_COMPILED = ("_bound_fn", "_stepsize_fn", "_exponent_fn", "_assumption_fns")


# --------------------------------------------------------------------------- claims
@dataclass(frozen=True)
class Claim:
    r"""A theorem's statement, encoded symbolically.

    A claim says that the empirical quantity named by ``measure`` is bounded (``kind='upper'``)
    or bounded below (``'lower'``) by ``bound``, scales with a predicted exponent (``'scaling'``)
    or satisfies symbolic ``identities`` (``'identity'``).

    Parameters
    ----------
    id : str
        Stable identifier, e.g. ``"ef21.nonconvex-qm"``; prefixes select families.
    title : str
        One line for humans.
    paper : str
        Citation: authors, venue, arXiv id and theorem/equation.
    provenance : Provenance
        Tag under which the encoded form is valid (``paper``, ``derived``, ``reconstructed``).
    provenance_note : str
        Free text when a claim carries two tags (e.g. valid [derived]; as printed [reconstructed]).
    kind : Kind
    measure : str
        Name of the empirical quantity the experiment measures (e.g. ``avg_grad_norm_sq``).
    in_expectation : bool
        Whether the statement holds in expectation (True) or for every run (False).
    bound : sympy expression, optional
        Right-hand side; free symbols are supplied by the experiment at evaluation time.
    stepsize : sympy expression, optional
        The largest admissible stepsize :math:`\gamma_{\max}`; the assumption
        :math:`\gamma \le \gamma_{\max}` is implied.
    assumptions : tuple of sympy relationals
        Conditions on the constants (``mu > 0``, ``alpha <= 1``...).
    identities : tuple of Identity
        Symbolic facts established by :meth:`prove` (identity claims, or side facts).
    setting : mapping
        What the experiment must run (algorithm, Lyapunov weighting, compressor...).
    experiment : str
        Name of the default experiment in ``verify.experiments``.
    exponent : sympy expression, optional
        For scaling claims, the predicted log-log slope; ``scaling_in`` names the variable.
    expected_to_fail : str, optional
        Set on statements the package shows to be false (e.g. teeth variants): the verdict then
        expects ``violated`` and only the opposite outcome counts as a failure.
    source_latex : mapping, optional
        The LaTeX a claim was written in (claim files, ``verify.claimfiles``): field name
        (``stepsize``, ``bound``, ``exponent``) -> text, ``assumptions`` -> list of texts.  Shown by
        reports as written; not part of the claim's identity (ignored by ``==``).
    """

    id: str
    title: str
    paper: str
    provenance: Provenance
    kind: Kind
    measure: str
    in_expectation: bool = False
    bound: sp.Expr | None = None
    stepsize: sp.Expr | None = None
    assumptions: tuple = ()
    identities: tuple = ()
    setting: Mapping[str, Any] = field(default_factory=dict)
    experiment: str = ""
    provenance_note: str = ""
    exponent: sp.Expr | None = None
    scaling_in: str = ""
    expected_to_fail: str | None = None
    description: str = ""
    source_latex: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if not self.id or any(ch.isspace() for ch in self.id):
            raise ClaimError(f"claim id must be a non-empty string without spaces, got {self.id!r}")
        object.__setattr__(self, "provenance", Provenance(self.provenance))
        object.__setattr__(self, "kind", Kind(self.kind))
        object.__setattr__(self, "assumptions", tuple(self.assumptions))
        for a in self.assumptions:
            if not isinstance(a, sp.core.relational.Relational):
                raise ClaimError(
                    f"claim {self.id}: assumption {a!r} is not a relation; build it with "
                    "theorems.gt/ge/lt/le so that sympy does not decide it from the symbol's assumptions"
                )
        object.__setattr__(self, "identities", tuple(self.identities))
        object.__setattr__(self, "setting", dict(self.setting))
        object.__setattr__(self, "source_latex", dict(self.source_latex or {}))
        for name in ("bound", "stepsize", "exponent"):
            v = getattr(self, name)
            if v is not None:
                object.__setattr__(self, name, sp.sympify(v))
        if self.kind in (Kind.UPPER, Kind.LOWER) and self.bound is None:
            raise ClaimError(f"claim {self.id}: an {self.kind.value} claim needs a bound")
        if self.kind is Kind.SCALING and self.exponent is None:
            raise ClaimError(f"claim {self.id}: a scaling claim needs a predicted exponent")
        if self.kind is Kind.IDENTITY and not self.identities and self.bound is None:
            raise ClaimError(f"claim {self.id}: an identity claim needs identities or a bound")

    # ---------------------------------------------------------------- pickling (sweep workers)
    def __getstate__(self):
        """Pickle without the compiled functions, with the assumptions unevaluated: sympy rebuilds a relation
        by evaluating it, so ``alpha > 0`` on a positive ``alpha`` would come back as ``True``."""
        state = {k: v for k, v in self.__dict__.items() if k not in _COMPILED}
        state["assumptions"] = tuple(_frozen_relation(a) for a in self.assumptions)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state, assumptions=tuple(_thawed_relation(a) for a in state["assumptions"]))

    # ---------------------------------------------------------------- symbols and evaluation
    @property
    def symbols(self) -> tuple[sp.Symbol, ...]:
        """Every free symbol of the bound, stepsize and assumptions, sorted by name."""
        free: set = set()
        for e in (self.bound, self.stepsize, self.exponent, *self.assumptions):
            if e is not None:
                free |= e.free_symbols
        return tuple(sorted(free, key=lambda s: s.name))

    @functools.cached_property
    def _bound_fn(self):
        return _Lambdified(self.bound) if self.bound is not None else None

    @functools.cached_property
    def _stepsize_fn(self):
        return _Lambdified(self.stepsize) if self.stepsize is not None else None

    @functools.cached_property
    def _exponent_fn(self):
        return _Lambdified(self.exponent) if self.exponent is not None else None

    def evaluate(self, **values: Any) -> np.ndarray:
        r"""Evaluate the bound numerically; arrays broadcast (e.g. ``T=np.arange(1, 1001)``).

        The lambdified function is built once per claim.  Missing symbols raise a
        :class:`ClaimError` naming them; extra keyword arguments are ignored, so an experiment
        can pass every constant it knows.
        """
        if self._bound_fn is None:
            raise ClaimError(f"claim {self.id} has no bound to evaluate")
        return self._bound_fn(self.id, "bound", values)

    def max_stepsize(self, **values: Any) -> float:
        r"""Evaluate the stepsize rule :math:`\gamma_{\max}` on the given constants."""
        if self._stepsize_fn is None:
            raise ClaimError(f"claim {self.id} has no stepsize rule")
        return float(self._stepsize_fn(self.id, "stepsize", values))

    def predicted_exponent(self, **values: Any) -> float:
        """Evaluate the predicted exponent of a scaling claim."""
        if self._exponent_fn is None:
            raise ClaimError(f"claim {self.id} is not a scaling claim")
        return float(self._exponent_fn(self.id, "exponent", values))

    def check_assumptions(self, rtol: float = 1e-12, **values: Any) -> None:
        """Raise :class:`AssumptionError` naming the first violated assumption.

        Non-strict inequalities get a relative floating-point slack ``rtol``; the implied
        stepsize assumption :math:`\\gamma \\le \\gamma_{\\max}` is checked when ``gamma`` is given.
        """
        for rel, diff_fn, scale_fn, is_eq in self._assumption_fns:
            needed = diff_fn.names
            if any(nm not in values for nm in needed):
                continue  # not decidable with the values given: the experiment checks later
            val = np.asarray(diff_fn(self.id, "assumption", values), dtype=float)
            scale = np.asarray(scale_fn(self.id, "assumption", values), dtype=float)
            strict = isinstance(rel, (sp.StrictLessThan, sp.StrictGreaterThan))
            slack = 0.0 if strict else rtol * np.maximum(scale, 1e-300)
            if is_eq:
                bad = np.abs(val) > slack
            else:
                bad = (val <= 0) if strict else (val < -slack)
            if np.any(bad | ~np.isfinite(val)):
                shown = ", ".join(f"{nm}={_fmt(values[nm])}" for nm in needed)
                lhs = sorted(s.name for s in rel.lhs.free_symbols) or needed
                raise AssumptionError(
                    f"{self.id}: parameter {', '.join(lhs)} violates the assumption {sp.sstr(rel)} (with {shown})"
                )

    @functools.cached_property
    def _assumption_fns(self):
        rels = list(self.assumptions)
        if self.stepsize is not None:
            rels.append(sp.Le(sym("gamma"), self.stepsize, evaluate=False))
        out = []
        for rel in rels:
            diff, is_eq = _difference(rel)
            out.append((rel, _Lambdified(diff), _Lambdified(sp.Abs(rel.lhs) + sp.Abs(rel.rhs)), is_eq))
        return out

    # ---------------------------------------------------------------- proofs and printing
    def prove(self, n_samples: int = 4000, seed: int = 0) -> list[Proof]:
        """Establish every identity (sympy proof, else sampling); see :class:`Identity`."""
        return [idt.establish(n_samples=n_samples, seed=seed + i) for i, idt in enumerate(self.identities)]

    def latex_parts(self, source: bool = False) -> dict:
        r"""The claim's mathematics as LaTeX, one entry per expression.

        Keys: ``stepsize``, ``bound``, ``exponent`` (text or absent), ``assumptions`` and
        ``identities`` (lists of relations).  Each entry is printed by :func:`tex`, which the claim-file
        parser (``verify.claimfiles``) reads back to the same expression.  With ``source=True``, the
        LaTeX a claim file was written in (:attr:`source_latex`) replaces the printed form where present.
        """
        out: dict = {}
        for name in ("stepsize", "bound", "exponent"):
            e = getattr(self, name)
            if e is not None:
                out[name] = tex(e)
        out["assumptions"] = [tex(a) for a in self.assumptions]
        out["identities"] = [tex(idt.relation) for idt in self.identities]
        if source:
            for name, text in self.source_latex.items():
                if name in out:
                    out[name] = list(text) if isinstance(text, (list, tuple)) else text
        return out

    def latex(self, source: bool = False) -> str:
        """LaTeX for the stepsize rule, the bound (or exponent) and the identities (see :meth:`latex_parts`)."""
        p = self.latex_parts(source=source)
        parts = []
        if "stepsize" in p:
            parts.append(r"\gamma \le " + p["stepsize"])
        if "bound" in p:
            rel = {Kind.LOWER: r"\ge"}.get(self.kind, r"\le")
            lhs = (
                r"\mathbb{E}\,\mathrm{" + _tex_name(self.measure) + "}"
                if self.in_expectation
                else r"\mathrm{" + _tex_name(self.measure) + "}"
            )
            parts.append(f"{lhs} {rel} " + p["bound"])
        if "exponent" in p:
            parts.append(
                r"\mathrm{"
                + _tex_name(self.measure)
                + r"} \propto "
                + tex(sym(self.scaling_in or "x"))
                + "^{"
                + p["exponent"]
                + "}"
            )
        parts += p["identities"]
        return r",\quad ".join(parts)

    def variant(self, suffix: str, *, expected_to_fail: str | None = None, **changes: Any) -> "Claim":
        """A copy with some fields changed and id ``"<id>~<suffix>"`` (teeth, user edits)."""
        new_id = f"{self.id}~{suffix}"
        return dataclasses.replace(self, id=new_id, expected_to_fail=expected_to_fail, **changes)

    def summary(self) -> dict:
        """Plain-data description (JSON-ready)."""
        return {
            "claim": self.id,
            "title": self.title,
            "paper": self.paper,
            "provenance": self.provenance.value,
            "provenance_note": self.provenance_note,
            "kind": self.kind.value,
            "measure": self.measure,
            "in_expectation": self.in_expectation,
            "bound": None if self.bound is None else sp.sstr(self.bound),
            "stepsize": None if self.stepsize is None else sp.sstr(self.stepsize),
            "assumptions": [sp.sstr(a) for a in self.assumptions],
            "identities": [idt.statement() for idt in self.identities],
            "exponent": None if self.exponent is None else sp.sstr(self.exponent),
            "experiment": self.experiment,
            "expected_to_fail": self.expected_to_fail,
            "latex": self.latex(),
            **({"source_latex": dict(self.source_latex)} if self.source_latex else {}),
        }


# --------------------------------------------------------------------------- LaTeX of symbols and expressions
_GREEK = frozenset(
    """alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi pi
    varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon
    Phi Psi Omega""".split()
)
_ABBREVIATIONS = {"eps": r"\varepsilon", "lam": r"\lambda"}  #: short names of Greek letters
_ACCENT_SUFFIXES = {"hat": r"\hat", "tilde": r"\tilde", "bar": r"\bar"}
_NAMED_TEX = {"f_star": r"f^{\star}", "g_star": r"g^{\star}"}


def _base_tex(base: str) -> str | None:
    if len(base) == 1 and base.isascii() and base.isalpha():
        return base
    if base in _GREEK:
        return "\\" + base
    return _ABBREVIATIONS.get(base)


def tex_symbol(name: str) -> str:
    r"""The LaTeX spelling of the project symbol ``name`` (what :func:`tex` prints for it).

    A letter or Greek name is printed as such (``mu`` -> ``\mu``, ``eps`` -> ``\varepsilon``), trailing
    digits and one-word suffixes as a subscript (``delta0`` -> ``\delta_{0}``, ``L_am`` -> ``L_{am}``,
    ``p_min`` -> ``p_{\min}``), ``_hat``/``_tilde``/``_bar`` as accents (``nu_hat`` -> ``\hat{\nu}``), and
    every other name upright (``r0_nu`` -> ``\mathrm{r0\_nu}``).  The claim-file parser reads each of
    these spellings back to the same name (``verify.latex``).
    """
    if name in _NAMED_TEX:
        return _NAMED_TEX[name]
    head = name.rstrip("0123456789")
    if head != name and "_" not in name and _base_tex(head):
        return f"{_base_tex(head)}_{{{name[len(head) :]}}}"
    base, _, rest = name.partition("_")
    b = _base_tex(base)
    if b is not None and not rest:
        return b
    if b is not None and rest.isascii() and rest.isalnum():
        if rest in _ACCENT_SUFFIXES:
            return f"{_ACCENT_SUFFIXES[rest]}{{{b}}}"
        if rest in ("max", "min"):
            return f"{b}_{{\\{rest}}}"
        if rest in _GREEK or rest in _ABBREVIATIONS:
            return f"{b}_{{{_base_tex(rest)}}}"
        return f"{b}_{{{rest}}}"
    return r"\mathrm{" + name.replace("_", r"\_") + "}"


class _ClaimLatexPrinter(LatexPrinter):
    """sympy's LaTeX printer with the project's symbol spellings (:func:`tex_symbol`)."""

    def _print_Symbol(self, expr, style="plain"):
        if getattr(expr, "is_Dummy", False) or not isinstance(expr, sp.Symbol):
            return super()._print_Symbol(expr, style)
        return tex_symbol(expr.name)


def tex(expr: Any) -> str:
    """LaTeX of an expression or relation, with the project's symbol spellings (:func:`tex_symbol`)."""
    return _ClaimLatexPrinter().doprint(expr if isinstance(expr, sp.Basic) else _sympify(expr))


def _tex_name(measure: str) -> str:
    return measure.replace("_", r"\_")


def _fmt(v: Any) -> str:
    a = np.asarray(v)
    if a.ndim == 0:
        return f"{float(a):.6g}"
    return f"array(shape={a.shape})"


def _real_only(f):
    """An mpmath function that returns NaN where NumPy's real version would (no complex detours)."""

    def g(x, *rest):
        import mpmath

        if isinstance(x, mpmath.mpc) or x < 0:
            return mpmath.mpf("nan")
        return f(x, *rest)

    return g


class _Lambdified:
    """A sympy expression compiled once to a NumPy function of its (sorted) free symbols.

    Float64 evaluation can overflow in an intermediate step where the value itself is
    representable (``lambda**T`` times a small factor, ``inf - inf`` in a difference of powers,
    ``0 * inf``): every point where the NumPy result is not finite is evaluated again with mpmath,
    whose exponent range is unbounded, and keeps that value when it is real (``inf`` when the value
    itself exceeds the float64 range).  The expression evaluated is the same; only its arithmetic
    is wider.
    """

    #: bits of precision of the mpmath re-evaluation (float64 has 53)
    WIDE_PRECISION = 113

    def __init__(self, expr: sp.Expr):
        self.expr = expr
        self.syms = sorted(expr.free_symbols, key=lambda s: s.name)
        self.names = [s.name for s in self.syms]
        self.fn = sp.lambdify(self.syms, expr, modules=["numpy", {"Min": np.minimum, "Max": np.maximum}])
        self._wide_fn = None

    def _wide(self):
        if self._wide_fn is None:
            import mpmath

            ns = {"Min": min, "Max": max, "sqrt": _real_only(mpmath.sqrt), "log": _real_only(mpmath.log)}
            try:
                self._wide_fn = sp.lambdify(self.syms, self.expr, modules=[ns, "mpmath"])
            except Exception:  # pragma: no cover - a function mpmath cannot print: keep float64 values
                self._wide_fn = False
        return self._wide_fn

    def _refine(self, out: np.ndarray, args: list) -> np.ndarray:
        """Re-evaluate the non-finite entries of ``out`` with mpmath (see the class docstring)."""
        bad = np.flatnonzero(~np.isfinite(out))
        if bad.size == 0 or not self._wide():
            return out
        import mpmath

        flat = out.reshape(-1)
        full = [np.broadcast_to(a, out.shape).reshape(-1) for a in args]
        with mpmath.workprec(self.WIDE_PRECISION):
            for i in bad:
                try:
                    v = self._wide_fn(*[mpmath.mpf(float(a[i])) for a in full])
                except (ArithmeticError, ValueError, TypeError):
                    continue  # a genuine pole or domain error: keep NumPy's value
                if isinstance(v, mpmath.mpf) and not mpmath.isnan(v):
                    flat[i] = float(v)  # inf when the value itself exceeds the float64 range
        return flat.reshape(out.shape)

    def __call__(self, claim_id: str, what: str, values: Mapping[str, Any]) -> np.ndarray:
        missing = [nm for nm in self.names if nm not in values]
        if missing:
            raise ClaimError(f"{claim_id}: the {what} needs a value for {', '.join(missing)}")
        args = []
        for nm in self.names:
            a = np.asarray(values[nm], dtype=float)
            if not np.all(np.isfinite(a)):
                raise AssumptionError(f"{claim_id}: parameter {nm} must be finite, got {_fmt(values[nm])}")
            args.append(a)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            out = np.asarray(self.fn(*args), dtype=float)
        shape = np.broadcast(*args).shape if args else ()
        out = np.broadcast_to(out, np.broadcast_shapes(out.shape, shape)).copy()
        return self._refine(out, args)


# --------------------------------------------------------------------------- registry
_REGISTRY: dict[str, Claim] = {}
_TEETH: dict[str, list[Claim]] = {}


def register(claim: Claim) -> Claim:
    """Add a claim to the catalogue (ids are unique)."""
    if claim.id in _REGISTRY and _REGISTRY[claim.id] is not claim:
        raise ClaimError(f"claim id {claim.id!r} is registered twice")
    _REGISTRY[claim.id] = claim
    return claim


def register_teeth(parent: Claim, *variants: Claim) -> None:
    """Attach deliberately wrong variants to a claim; each must carry ``expected_to_fail``."""
    for v in variants:
        if not v.expected_to_fail:
            raise ClaimError(f"teeth variant {v.id} must say why it is wrong (expected_to_fail)")
    _TEETH.setdefault(parent.id, []).extend(variants)


def get(claim_id: str) -> Claim:
    """Return the registered claim with this id (teeth variants included)."""
    if claim_id in _REGISTRY:
        return _REGISTRY[claim_id]
    for vs in _TEETH.values():
        for v in vs:
            if v.id == claim_id:
                return v
    raise UnknownClaimError(f"unknown claim id {claim_id!r}{_suggest(claim_id)}")


def _suggest(name: str) -> str:
    """``"; did you mean 'x'?; see `ratecheck list`"``: the close ids (teeth included), as the harness words
    every unknown name (``verify.errors.did_you_mean``; this package cannot import the harness)."""
    known = [*_REGISTRY, *(v.id for vs in _TEETH.values() for v in vs)]
    close = difflib.get_close_matches(str(name), known, n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return f"{hint}; see `ratecheck list` (`--teeth` for the wrong variants)"


def all_claims() -> tuple[Claim, ...]:
    """Every registered claim, sorted by id (teeth variants excluded)."""
    return tuple(_REGISTRY[k] for k in sorted(_REGISTRY))


def teeth(claim_id: str | None = None) -> tuple[Claim, ...]:
    """The teeth variants of one claim, or of every claim when ``claim_id`` is None."""
    if claim_id is None:
        return tuple(v for k in sorted(_TEETH) for v in _TEETH[k])
    return tuple(_TEETH.get(claim_id, ()))


def select(patterns: Iterable[str]) -> tuple[Claim, ...]:
    """Claims whose id equals or starts with one of ``patterns`` (error if one matches nothing)."""
    out: dict[str, Claim] = {}
    for pat in patterns:
        if not isinstance(pat, str) or not pat.strip():
            raise UnknownClaimError(
                f"a claim id or prefix must be a non-empty string, got {pat!r}; see `ratecheck list`"
            )
        hits = [c for c in all_claims() if c.id == pat or c.id.startswith(pat)]
        if not hits:
            try:
                hits = [get(pat)]
            except UnknownClaimError:
                raise UnknownClaimError(f"no claim id is or starts with {pat!r}{_suggest(pat)}") from None
        for c in hits:
            out[c.id] = c
    return tuple(out.values())
