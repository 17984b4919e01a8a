r"""Read the LaTeX of a claim into sympy, in the project's symbols, without executing anything.

The expressions are parsed by sympy's LaTeX parser with the ``lark`` backend
(``sympy.parsing.latex.parse_latex(text, backend="lark")``; the ANTLR backend needs
antlr4-python3-runtime 4.11 exactly).  That parser builds sympy objects from a grammar and never
evaluates Python (``sympify`` of a string would), but its grammar reads only part of everyday LaTeX:
``\sqrt{2} x`` (a function followed by a factor) fails, ``\left`` can be read as ``\le`` + ``ft``,
``f(x)`` is ambiguous between a product and a call, ``d`` is taken for a differential, ``G^0`` is
``1`` and ``\vartheta`` is ``\theta``.  So the text first goes through a small front end:

1. it is split into tokens and brace/bracket groups (unbalanced ones are reported with their column);
2. every symbol -- a letter or Greek letter with its subscript, an accent (``\hat{\nu}``), an upright
   name (``\mathrm{L\_am}``), a declared spelling with a superscript or an argument (``G^0``,
   ``\theta_c(\alpha)``) -- is looked up in a :class:`SymbolTable` (the experiment's constants and
   their LaTeX spellings) and replaced by a placeholder symbol the grammar reads as one atom;
3. spacing and ``\left``/``\right`` are dropped, products get an explicit ``\cdot``, function
   applications are braced, and relations (chains such as ``0 < \alpha \le 1``, and
   ``\alpha \in (0, 1]``) are split here, so the grammar only ever sees one expression;
4. the grammar parses the normalized text, and the placeholders are replaced by the project's
   symbols (:func:`theorems.sym`, with their assumptions), ``e`` by Euler's number and ``\pi`` by pi
   unless a symbol of that name is declared.

Errors (:class:`LatexError`, a :class:`~verify.errors.UsageError`) give the column in the text as
written.  Symbols the table does not know are returned, not refused: the caller checks them against
the experiment (``Schema.validate_claim`` lists the supplied ones).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import sympy as sp

from ratecheck import theorems
from ratecheck.theorems._core import _GREEK, tex_symbol

from .errors import UsageError

__all__ = [
    "LatexError",
    "Parsed",
    "SymbolTable",
    "auto_spellings",
    "name_of_spelling",
    "parse_expression",
    "parse_relations",
]


class LatexError(UsageError):
    """LaTeX that cannot be read; ``column`` is 1-based in the text as written (0: no position)."""

    def __init__(self, message: str, column: int = 0, text: str = ""):
        self.reason, self.column, self.text = message, column, text
        where = f" at column {column}" if column else ""
        shown = ""
        if text:
            shown = f" in {text!r}" if not column else f" in {_mark(text, column - 1)!r}"
        super().__init__(f"{message}{where}{shown}")


def _mark(text: str, i: int) -> str:
    i = max(0, min(i, len(text)))
    return text[:i] + "\u2192" + text[i:]  # an arrow where the problem is


# --------------------------------------------------------------------------- tokens and groups
_TOKEN = re.compile(
    r"(?P<ws>\s+)|(?P<cmd>\\[A-Za-z]+)|(?P<esc>\\[^A-Za-z])|(?P<num>\d+(?:\.\d+)?|\.\d+)"
    r"|(?P<letter>[A-Za-z])|(?P<char>.)",
    re.DOTALL,
)
_DROP = {
    r"\,",
    r"\;",
    r"\:",
    r"\!",
    r"\ ",
    r"\quad",
    r"\qquad",
    r"\thinspace",
    r"\medspace",
    r"\thickspace",
    r"\negthinspace",
    r"\displaystyle",
    r"\textstyle",
    r"\limits",
    r"\nolimits",
    "~",
}
_SIZES = {
    r"\left",
    r"\right",
    r"\middle",
    r"\big",
    r"\Big",
    r"\bigg",
    r"\Bigg",
    r"\bigl",
    r"\bigr",
    r"\Bigl",
    r"\Bigr",
    r"\biggl",
    r"\biggr",
    r"\Biggl",
    r"\Biggr",
}
_RENAME = {
    r"\dfrac": r"\frac",
    r"\tfrac": r"\frac",
    r"\dbinom": r"\binom",
    r"\tbinom": r"\binom",
    r"\leq": r"\le",
    r"\leqslant": r"\le",
    r"\geq": r"\ge",
    r"\geqslant": r"\ge",
    r"\lt": "<",
    r"\gt": ">",
    r"\neq": r"\ne",
    r"\times": r"\cdot",
    r"\widehat": r"\hat",
    r"\widetilde": r"\tilde",
    r"\overline": r"\bar",
    r"\lvert": "|",
    r"\rvert": "|",
    r"\vert": "|",
    r"\lbrace": r"\{",
    r"\rbrace": r"\}",
    r"\ast": r"\star",
    r"\varnothing": r"\emptyset",
}
_OPEN = {"{": "}", "(": ")", "[": "]", r"\{": r"\}", r"\lceil": r"\rceil", r"\lfloor": r"\rfloor"}
_CLOSE = {v: k for k, v in _OPEN.items()}
_INTERVAL = {("(", "]"), ("[", ")")}  # half-open intervals, only after \in


@dataclass
class _Tok:
    kind: str  # cmd | num | letter | char
    text: str
    start: int
    end: int


@dataclass
class _Group:
    open: str
    close: str
    items: list
    start: int
    end: int


def _tokens(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    drop_next_dot = False
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        t = m.group()
        if kind == "ws":
            continue
        if kind == "esc":
            kind = "cmd"
        if drop_next_dot and t == ".":
            drop_next_dot = False
            continue
        drop_next_dot = False
        if t in _DROP:
            continue
        if t in _SIZES:
            drop_next_dot = t in (r"\left", r"\right", r"\middle")
            continue
        t = _RENAME.get(t, t)
        out.append(_Tok(kind if t != "|" else "char", t, m.start(), m.end()))
    return out


def _groups(toks: list[_Tok], text: str) -> list:
    """Nest the tokens into groups; ``|...|`` pairs up with the nearest bar at the same depth."""
    root: list = []
    stack: list[tuple[_Tok, list]] = []
    cur = root
    for t in toks:
        if t.text in _OPEN or (t.text == "|" and not (stack and stack[-1][0].text == "|")):
            stack.append((t, cur))
            cur = []
            continue
        if t.text in _CLOSE or t.text == "|":
            if not stack:
                raise LatexError(f"{t.text!r} closes nothing", t.start + 1, text)
            opener, parent = stack.pop()
            want = "|" if opener.text == "|" else _OPEN[opener.text]
            if t.text != want and (opener.text, t.text) not in _INTERVAL:
                raise LatexError(
                    f"{opener.text!r} (column {opener.start + 1}) is closed by {t.text!r}", t.start + 1, text
                )
            parent.append(_Group(opener.text, t.text, cur, opener.start, t.end))
            cur = parent
            continue
        cur.append(t)
    if stack:
        opener = stack[-1][0]
        raise LatexError(f"{opener.text!r} is never closed", opener.start + 1, text)
    return root


# --------------------------------------------------------------------------- symbols
_WORDS = {r"\mathrm", r"\text", r"\textrm", r"\operatorname", r"\mathit", r"\textit", r"\mathsf", r"\textsf"}
_ACCENTS = {r"\hat", r"\tilde", r"\bar", r"\check", r"\breve", r"\dot", r"\ddot", r"\vec"}
_GREEK_CMDS = {"\\" + g for g in _GREEK}
_FUNCTION_WORDS = {"sign": sp.sign, "sgn": sp.sign}
_STARS = {"*": r"\star", r"\star": r"\star"}


def _word_text(g: _Group, text: str) -> str:
    raw = text[g.start + 1 : g.end - 1]
    return re.sub(r"\s+", "", raw.replace(r"\_", "_").replace(r"\,", "").replace(r"\ ", ""))


def _canon(items: list, text: str) -> str:
    """Canonical text of a subscript, superscript or argument: ``{\\rm am}``, ``{\\mathrm{am}}`` and ``am``
    agree, as do ``\\max``/``max`` and ``*``/``\\ast``/``\\star``."""
    out = []
    i = 0
    while i < len(items):
        it = items[i]
        if isinstance(it, _Group):
            out.append(it.open + _canon(it.items, text) + it.close)
        elif it.kind == "cmd" and it.text in _WORDS and i + 1 < len(items) and isinstance(items[i + 1], _Group):
            out.append(_word_text(items[i + 1], text))
            i += 1
        elif it.kind == "cmd" and it.text in (r"\rm", r"\mathrm", r"\text", r"\it"):
            pass
        elif it.kind == "cmd" and it.text in (r"\max", r"\min"):
            out.append(it.text[1:])
        else:
            out.append(_STARS.get(it.text, it.text))
        i += 1
    return (
        " ".join(out).replace(" _ ", "_").replace(" ^ ", "^")
        if any(isinstance(x, _Group) or x.kind == "cmd" for x in items)
        else "".join(out)
    )


def _arg(items: list, i: int, text: str):
    """The argument at ``items[i]``: a ``{...}`` group, or one token (a number gives its first digit)."""
    if i >= len(items):
        return None, i
    it = items[i]
    if isinstance(it, _Group):
        return (it.items if it.open == "{" else [it]), i + 1
    if isinstance(it, _Tok) and it.kind == "num" and len(it.text) > 1 and "." not in it.text:
        first = _Tok("num", it.text[0], it.start, it.start + 1)
        items[i] = _Tok("num", it.text[1:], it.start + 1, it.end)
        return [first], i
    return [it], i + 1


@dataclass
class _Sym:
    """A symbol of the text: its canonical key, where it is, and what it stands for once resolved."""

    key: str
    start: int
    end: int
    name: str | None = None  # a declared (or, for unknown symbols, derived) project symbol name
    value: sp.Basic | None = None  # a constant (e, pi) or a function value (sign(...))
    known: bool = True
    spelling: str = ""


@dataclass
class _Fn:
    """``\\operatorname{sign}(...)``: a function the grammar does not read, applied to a parsed argument."""

    fn: object
    arg: list
    start: int
    end: int


def _symbol_at(items: list, i: int, text: str):
    """If a symbol starts at ``items[i]``: ``(base key, index after it)``, else ``(None, i)``."""
    it = items[i]
    if isinstance(it, _Group):
        return None, i
    if it.kind == "letter" or it.kind == "cmd" and it.text in _GREEK_CMDS:
        key, j = it.text, i + 1
    elif (
        it.kind == "cmd"
        and it.text in _WORDS
        and i + 1 < len(items)
        and isinstance(items[i + 1], _Group)
        and items[i + 1].open == "{"
    ):
        word = _word_text(items[i + 1], text)
        if not word:
            raise LatexError(f"empty {it.text}{{}}", it.start + 1, text)
        key, j = r"\mathrm{" + word + "}", i + 2
    elif it.kind == "cmd" and it.text in _ACCENTS:
        arg, j = _arg(items, i + 1, text)
        inner = None
        if arg is not None and len(arg) >= 1:
            inner, k = _symbol_at(arg, 0, text)
            if inner is not None and k != len(arg):
                inner = None
        if inner is None:
            raise LatexError(f"{it.text} applies to one symbol here", it.start + 1, text)
        key = f"{it.text}{{{inner}}}"
    else:
        return None, i
    # a subscript is part of the name
    if j < len(items) and not isinstance(items[j], _Group) and items[j].text == "_":
        arg, k = _arg(items, j + 1, text)
        if not arg:
            raise LatexError("subscript without content", items[j].start + 1, text)
        key += "_{" + _canon(arg, text) + "}"
        j = k
    return key, j


@dataclass
class SymbolTable:
    """LaTeX spellings -> project symbol names.

    ``declared`` maps each name to its explicit spellings (``verify.schema.Constant.latex``); every
    name also gets the automatic ones of :func:`auto_spellings`.  An explicit spelling claimed by two
    names is an error; an automatic one claimed by two names is dropped (and reported as ambiguous
    when used), and never overrides an explicit one.
    """

    keys: dict = field(default_factory=dict)
    ambiguous: dict = field(default_factory=dict)
    call_bases: set = field(default_factory=set)
    names: tuple = ()

    @classmethod
    def build(cls, names: Iterable[str], declared: Mapping[str, Iterable[str]] | None = None) -> SymbolTable:
        names = tuple(dict.fromkeys(names))
        declared = dict(declared or {})
        t = cls(names=names)
        explicit: dict = {}
        for name in names:
            for s in declared.get(name, ()):
                for key in _spelling_keys(s):
                    if key in explicit and explicit[key] != name:
                        raise ValueError(f"LaTeX spelling {s!r} is declared for both {explicit[key]!r} and {name!r}")
                    explicit[key] = name
        auto: dict = {}
        for name in names:
            for s in auto_spellings(name):
                for key in _spelling_keys(s):
                    if key in explicit:
                        continue
                    auto.setdefault(key, set()).add(name)
        t.keys = dict(explicit)
        for key, owners in auto.items():
            if len(owners) == 1:
                t.keys[key] = next(iter(owners))
            else:
                t.ambiguous[key] = sorted(owners)
        t.call_bases = {k.split("(", 1)[0] for k in t.keys if "(" in k}
        return t


def _spelling_keys(spelling: str) -> list[str]:
    """The canonical key of one declared spelling (``G^0`` -> ``G^{0}``, ``\\theta_c(\\alpha)`` ->
    ``\\theta_{c}(\\alpha)``); a spelling that is not one symbol (with an optional superscript or
    argument) raises ``ValueError``."""
    try:
        items = _groups(_tokens(spelling), spelling)
        key, j = _symbol_at(items, 0, spelling) if items else (None, 0)
    except LatexError as e:
        raise ValueError(f"LaTeX spelling {spelling!r} cannot be read: {e}") from None
    if key is None:
        raise ValueError(f"LaTeX spelling {spelling!r} is not a symbol")
    if j < len(items) and not isinstance(items[j], _Group) and items[j].text == "^":
        arg, j = _arg(items, j + 1, spelling)
        key += "^{" + _canon(arg or [], spelling) + "}"
    elif j < len(items) and isinstance(items[j], _Group) and items[j].open == "(":
        key += "(" + _canon(items[j].items, spelling) + ")"
        j += 1
    if j != len(items):
        raise ValueError(f"LaTeX spelling {spelling!r} is more than one symbol")
    return [key]


def auto_spellings(name: str) -> list[str]:
    r"""The spellings every symbol ``name`` gets: what :func:`theorems.tex_symbol` prints, the upright
    name (``\mathrm{L\_am}``, also ``\text{...}``, ``\operatorname{...}``), sympy's own spelling when
    it is one symbol (``\nu_{hat}`` for ``nu_hat``), and the usual synonyms (``\epsilon`` for ``eps``)."""
    out = [tex_symbol(name), r"\mathrm{" + name.replace("_", r"\_") + "}"]
    default = sp.latex(sp.Symbol(name))
    try:
        _spelling_keys(default)
        out.append(default)
    except ValueError:
        pass
    head, _, rest = name.partition("_")
    if head == "eps":
        out.append(r"\epsilon" + name[3:] if not rest else r"\epsilon_{" + rest + "}")
    if rest == "star":
        out.append(tex_symbol(head) + "_{\\star}")
    return list(dict.fromkeys(out))


def name_of_spelling(key: str) -> str:
    r"""A project symbol name for a spelling no table declares (``\delta_{1}`` -> ``delta1``,
    ``L_{xy}`` -> ``L_xy``, ``\hat{\nu}`` -> ``nu_hat``), the inverse of :func:`theorems.tex_symbol`
    where that is defined."""
    m = re.fullmatch(r"\\mathrm\{(.*)\}", key)
    if m:
        return m.group(1)
    sup = ""
    m = re.fullmatch(r"(.*)\^\{(.*)\}", key)
    if m:
        key, sup = m.group(1), m.group(2)
    sub = ""
    m = re.fullmatch(r"(.*?)_\{(.*)\}", key)
    if m:
        key, sub = m.group(1), m.group(2)
    accent = ""
    m = re.fullmatch(r"\\(hat|tilde|bar|check|breve|dot|ddot|vec)\{(.*)\}", key)
    if m:
        accent, key = m.group(1), m.group(2)
    base = key.lstrip("\\")
    base = {"varepsilon": "eps", "epsilon": "eps", "lambda": "lam"}.get(base, base)
    sub = re.sub(r"[^A-Za-z0-9]+", "_", sub.replace("\\varepsilon", "eps").replace("\\", "")).strip("_")
    name = base
    if sub:
        name += sub if sub.isdigit() else "_" + sub
    if accent:
        name += "_" + accent
    if sup:
        s = sup.replace("\\", "")
        name += "_star" if s == "star" else ("_" + re.sub(r"[^A-Za-z0-9]+", "_", s).strip("_"))
    return name


# --------------------------------------------------------------------------- resolving symbols
_RELATIONS = {"<", ">", "=", r"\le", r"\ge", r"\ne", r"\in"}
_OPERATORS = {"+", "-", "/", "*", r"\cdot", r"\div", ",", r"\pm", r"\mp"}
_PREFIX = {
    r"\log",
    r"\ln",
    r"\exp",
    r"\sin",
    r"\cos",
    r"\tan",
    r"\sinh",
    r"\cosh",
    r"\tanh",
    r"\arcsin",
    r"\arccos",
    r"\arctan",
}


class _Resolver:
    def __init__(self, table: SymbolTable | None, text: str):
        self.table = table or SymbolTable()
        self.text = text
        self.unknown: list[_Sym] = []

    def resolve(self, items: list) -> list:
        """Replace symbols by :class:`_Sym` (resolved against the table), recursively into groups."""
        out = []
        i = 0
        items = list(items)
        while i < len(items):
            it = items[i]
            if isinstance(it, _Group):
                out.append(_Group(it.open, it.close, self.resolve(it.items), it.start, it.end))
                i += 1
                continue
            if it.kind == "cmd" and it.text in _WORDS and i + 1 < len(items) and isinstance(items[i + 1], _Group):
                word = _word_text(items[i + 1], self.text)
                if word in _FUNCTION_WORDS and r"\mathrm{" + word + "}" not in self.table.keys:
                    j = i + 2
                    if (
                        j < len(items)
                        and isinstance(items[j], _Group)
                        and items[j].open == "{"
                        and len(items[j].items) == 1
                        and isinstance(items[j].items[0], _Group)
                    ):
                        items[j] = items[j].items[0]  # sympy prints \operatorname{sign}{\left(x\right)}
                    if j >= len(items) or not isinstance(items[j], _Group) or items[j].open != "(":
                        raise LatexError(f"{word} needs a parenthesised argument", it.start + 1, self.text)
                    out.append(_Fn(_FUNCTION_WORDS[word], self.resolve(items[j].items), it.start, items[j].end))
                    i = j + 1
                    continue
            key, j = _symbol_at(items, i, self.text)
            if key is None:
                out.append(it)
                i += 1
                continue
            start, end = it.start, items[j - 1].end
            keys = self.table.keys
            chosen = None
            # a declared spelling with a superscript (G^0) or an argument (\theta_c(\alpha)) wins
            if j < len(items) and not isinstance(items[j], _Group) and items[j].text == "^":
                arg, k = _arg(items, j + 1, self.text)
                if arg is not None:
                    sup_key = key + "^{" + _canon(arg, self.text) + "}"
                    if sup_key in keys or sup_key in self.table.ambiguous:
                        chosen, end, j = sup_key, items[k - 1].end, k
            if chosen is None and j < len(items) and isinstance(items[j], _Group) and items[j].open == "(":
                call_key = key + "(" + _canon(items[j].items, self.text) + ")"
                if call_key in keys or call_key in self.table.ambiguous:
                    chosen, end, j = call_key, items[j].end, j + 1
                elif key in self.table.call_bases:
                    decl = sorted(k_ for k_ in keys if k_.startswith(key + "("))
                    raise LatexError(
                        f"{self.text[start : items[j].end]} is not a declared symbol (this experiment "
                        f"supplies {', '.join(decl)}); for a product write "
                        f"{self.text[start:end]} \\cdot (...)",
                        start + 1,
                        self.text,
                    )
                elif items[j].items and _symbol_at(list(items[j].items), 0, self.text)[1] == len(items[j].items):
                    raise LatexError(
                        f"{self.text[start : items[j].end]} reads as a function applied to an argument, "
                        f"which is not a declared symbol; for a product write "
                        f"{self.text[start:end]} \\cdot ({self.text[items[j].start + 1 : items[j].end - 1]})",
                        start + 1,
                        self.text,
                    )
            if chosen is None:
                chosen = key
            if chosen in self.table.ambiguous:
                raise LatexError(
                    f"{self.text[start:end]} could be any of {', '.join(self.table.ambiguous[chosen])}; "
                    f"write \\mathrm{{NAME}} for the one you mean",
                    start + 1,
                    self.text,
                )
            sym = _Sym(chosen, start, end, spelling=self.text[start:end])
            if chosen in keys:
                sym.name = keys[chosen]
            elif chosen == "e":
                sym.value = sp.E
            elif chosen == r"\pi":
                sym.value = sp.pi
            else:
                sym.name, sym.known = name_of_spelling(chosen), False
                self.unknown.append(sym)
            out.append(sym)
            i = j
        return out


# --------------------------------------------------------------------------- normalized text for the grammar
class _Emitter:
    """Write resolved items as LaTeX the lark grammar reads unambiguously, remembering where each piece
    came from (to report errors at the column of the text as written)."""

    def __init__(self, text: str):
        self.text = text
        self.pieces: list[tuple[str, int]] = []
        self.values: dict[str, sp.Basic] = {}

    def put(self, s: str, pos: int) -> None:
        self.pieces.append((s, pos))

    def placeholder(self, value: sp.Basic, pos: int) -> None:
        n = len(self.values)
        if n < len(_LETTERS):
            name = _LETTERS[n]  # one letter: the grammar's Earley parser is slow, and slower on long input
        else:
            tag = ""
            while True:
                tag = chr(ord("a") + n % 26) + tag
                n //= 26
                if not n:
                    break
            name = f"Q_{{zq{tag}}}"
        self.values[name] = value
        self.put(name, pos)

    def source(self) -> str:
        return "".join(s for s, _ in self.pieces)

    def column(self, col: int) -> int:
        """1-based column in the written text of 1-based column ``col`` of :meth:`source`."""
        if col is None or col < 1:
            return 0
        n = 0
        for s, pos in self.pieces:
            if n + len(s) >= col:
                return pos + 1
            n += len(s)
        return len(self.text)

    # -------------------------------------------------------------- sequences and units
    def seq(self, items: list, pos: int) -> None:
        items = list(items)
        if not items:
            raise LatexError("empty expression", pos + 1, self.text)
        i, prev_operand = 0, False
        while i < len(items):
            it = items[i]
            if _is_op(it):
                if it.text in _RELATIONS:
                    raise LatexError(f"a relation ({it.text}) where an expression is expected", it.start + 1, self.text)
                if it.text in (r"\pm", r"\mp"):
                    raise LatexError(f"{it.text} is not an expression", it.start + 1, self.text)
                op = r"\cdot" if it.text == "*" else it.text
                self.put(op + (" " if op.startswith("\\") else ""), it.start)
                prev_operand = False
                i += 1
                continue
            if prev_operand:
                self.put(r"\cdot ", _start(it))
            i = self.unit(items, i)
            prev_operand = True

    def part(self, items: list, pos: int) -> None:
        """Write a bracketed part: inline when small, else parsed on its own and written as one placeholder
        (the grammar's Earley parser slows down sharply on long inputs; a part is an atom either way)."""
        if _size(items) <= _CHUNK or not items:
            self.seq(items, pos)
        else:
            self.placeholder(_Emitter(self.text).parse(items, pos), pos)

    def unit(self, items: list, i: int) -> int:
        """Write one factor starting at ``items[i]`` (with its superscripts); return the next index."""
        it = items[i]
        if isinstance(it, _Sym):
            if it.value is not None:
                self.placeholder(it.value, it.start)
            else:
                self.placeholder(theorems.sym(it.name), it.start)
            i += 1
        elif isinstance(it, _Fn):
            inner = _Emitter(self.text)
            self.placeholder(it.fn(inner.parse(it.arg, it.start)), it.start)
            i += 1
        elif isinstance(it, _Group):
            self.group(it)
            i += 1
        elif it.kind == "num":
            self.put(it.text, it.start)
            i += 1
        elif it.text in (r"\frac", r"\binom"):
            self.put("{" + it.text, it.start)
            j = i + 1
            for _ in range(2):
                arg, j = _arg(items, j, self.text)
                if not arg:
                    raise LatexError(f"{it.text} needs two arguments", it.start + 1, self.text)
                self.put("{", _start(arg[0]))
                self.part(arg, _start(arg[0]))
                self.put("}", _start(arg[0]))
            self.put("}", it.start)
            i = j
        elif it.text == r"\sqrt":
            self.put(r"{\sqrt", it.start)
            j = i + 1
            if j < len(items) and isinstance(items[j], _Group) and items[j].open == "[":
                self.put("[", items[j].start)
                self.seq(items[j].items, items[j].start)
                self.put("]", items[j].start)
                j += 1
            arg, j = _arg(items, j, self.text)
            if not arg:
                raise LatexError(r"\sqrt needs an argument", it.start + 1, self.text)
            self.put("{", _start(arg[0]))
            self.part(arg, _start(arg[0]))
            self.put("}}", _start(arg[0]))
            i = j
        elif it.text in _PREFIX or it.text in (r"\min", r"\max"):
            i = self.function(items, i)
        elif it.text in (r"\sum", r"\prod"):
            i = self.big_operator(items, i)
        elif it.text == r"\infty":
            self.put(r"\infty ", it.start)
            i += 1
        else:
            what = "command" if it.kind == "cmd" else "character"
            raise LatexError(f"unsupported {what} {it.text!r}", it.start + 1, self.text)
        # postfix: superscripts and factorials
        while i < len(items) and isinstance(items[i], _Tok) and items[i].text in ("^", "!", "_", "'"):
            op = items[i]
            if op.text == "!":
                self.put("!", op.start)
                i += 1
                continue
            if op.text in ("_", "'"):
                raise LatexError(f"{op.text!r} on something that is not a symbol", op.start + 1, self.text)
            arg, i = _arg(items, i + 1, self.text)
            if not arg:
                raise LatexError("superscript without content", op.start + 1, self.text)
            self.put("^{", op.start)
            self.part(arg, _start(arg[0]))
            self.put("}", op.start)
        return i

    def group(self, g: _Group) -> None:
        if (g.open, g.close) in _INTERVAL:
            raise LatexError("a half-open interval outside '\\in'", g.start + 1, self.text)
        if g.open in ("{", "(", "[", r"\{"):
            self.put("(", g.start)
            self.part(g.items, g.start)
            self.put(")", g.start)
        elif g.open == "|":
            self.put("{|", g.start)
            self.part(g.items, g.start)
            self.put("|}", g.start)
        else:  # ceiling and floor
            self.put("{" + g.open + " ", g.start)
            self.part(g.items, g.start)
            self.put(g.close + "}", g.start)

    def function(self, items: list, i: int) -> int:
        it = items[i]
        j = i + 1
        power = None
        if j < len(items) and isinstance(items[j], _Tok) and items[j].text == "^" and it.text in _PREFIX:
            power, j = _arg(items, j + 1, self.text)  # \sin^{2} x
        if (
            j < len(items)
            and isinstance(items[j], _Group)
            and items[j].open == "{"
            and len(items[j].items) == 1
            and isinstance(items[j].items[0], _Group)
            and items[j].items[0].open == "("
        ):
            items[j] = items[j].items[0]  # sympy prints \log{\left(x \right)}
        self.put("{" + it.text + "(", it.start)
        if j < len(items) and isinstance(items[j], _Group) and items[j].open in ("(", "{", "[", r"\{"):
            g = items[j]
            self.part(g.items, g.start) if it.text in _PREFIX else self.arguments(g.items, g.start)
            j += 1
        elif it.text in (r"\min", r"\max"):
            raise LatexError(f"{it.text} needs a parenthesised list of arguments", it.start + 1, self.text)
        elif j < len(items) and not _is_op(items[j]):
            j = self.unit(items, j)  # \log n
        else:
            raise LatexError(f"{it.text} needs an argument", it.start + 1, self.text)
        self.put(")}", it.start)
        if power:
            self.put("^{", it.start)
            self.seq(power, _start(power[0]))
            self.put("}", it.start)
        return j

    def arguments(self, items: list, pos: int) -> None:
        parts, cur = [], []
        for it in items:
            if isinstance(it, _Tok) and it.text == ",":
                parts.append(cur)
                cur = []
            else:
                cur.append(it)
        parts.append(cur)
        for k, part in enumerate(parts):
            if k:
                self.put(", ", pos)
            self.part(part, _start(part[0]) if part else pos)

    def big_operator(self, items: list, i: int) -> int:
        it = items[i]
        j = i + 1
        lower = upper = None
        for _ in range(2):
            if j < len(items) and isinstance(items[j], _Tok) and items[j].text in ("_", "^"):
                which = items[j].text
                arg, j = _arg(items, j + 1, self.text)
                if which == "_":
                    lower = arg
                else:
                    upper = arg
        if not lower or not upper:
            raise LatexError(f"{it.text} needs _{{i=a}}^{{b}}", it.start + 1, self.text)
        k = j
        while k < len(items) and not (_is_op(items[k]) and items[k].text != r"\cdot"):
            k += 1
        if k == j:
            raise LatexError(f"{it.text} without a summand", it.start + 1, self.text)
        self.put("{" + it.text + "_{", it.start)
        self.seq(lower, it.start)  # the grammar reads i = a
        self.put("}^{", it.start)
        self.seq(upper, it.start)
        self.put("}{", it.start)
        self.seq(items[j:k], _start(items[j]))
        self.put("}}", it.start)
        return k

    # -------------------------------------------------------------- parsing
    def parse(self, items: list, pos: int) -> sp.Basic:
        """Write ``items`` and parse them with the grammar (placeholders replaced)."""
        self.seq(items, pos)
        return _lark_parse(self.source(), self)


_CHUNK = 16  #: tokens above which a bracketed part is parsed on its own
#: placeholder names: single letters but d (the grammar's differential); the text the grammar sees has no
#: other letters, and every factor is separated by an explicit \cdot, so no two letters ever touch
_LETTERS = [c for c in "abcfghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZeil"]


def _size(items: list) -> int:
    n = 0
    for it in items:
        if isinstance(it, _Group):
            n += 2 + _size(it.items)
        elif isinstance(it, _Fn):
            n += 2 + _size(it.arg)
        else:
            n += 1
    return n


def _is_op(it) -> bool:
    return isinstance(it, _Tok) and (it.text in _OPERATORS or it.text in _RELATIONS or it.text in (r"\pm", r"\mp"))


def _start(it) -> int:
    return it.start


@functools.lru_cache(maxsize=4096)
def _cached_parse(src: str):
    """sympy's lark parser on normalized text (placeholders are letters named by position, so equal parts of
    different expressions are parsed once)."""
    from sympy.parsing.latex import parse_latex

    return parse_latex(src, backend="lark")


def _lark_parse(src: str, em: _Emitter) -> sp.Basic:
    try:
        from lark import Tree
        from lark.exceptions import UnexpectedEOF, UnexpectedInput
    except ImportError as e:  # pragma: no cover - lark is a dependency
        raise UsageError(f"reading LaTeX needs the 'lark' package (pip install lark): {e}") from None
    try:
        out = _cached_parse(src)
    except UnexpectedEOF:
        raise LatexError("the expression ends too early", len(em.text), em.text) from None
    except UnexpectedInput as e:
        col = em.column(getattr(e, "column", 0))
        m = _TOKEN.match(em.text, col - 1) if col else None
        while m and m.lastgroup == "ws":
            m = _TOKEN.match(em.text, m.end())
        what = f"unexpected {m.group()!r}" if m else "unexpected input"
        raise LatexError(f"cannot read the LaTeX ({what})", col, em.text) from None
    except Exception as e:  # noqa: BLE001 - the transformer's own errors (LaTeXParsingError, TypeError...)
        raise LatexError(f"cannot read the LaTeX ({type(e).__name__}: {e})", 0, em.text) from None
    if isinstance(out, Tree):
        alts = [a for a in out.children if isinstance(a, sp.Basic)] if out.data == "_ambig" else []
        if not alts or any(sp.simplify(a - alts[0]) != 0 for a in alts[1:] if isinstance(a, sp.Expr)):
            raise LatexError("ambiguous LaTeX: add \\cdot or parentheses", 0, em.text)
        out = alts[0]
    if not isinstance(out, sp.Basic):
        raise LatexError(f"cannot read the LaTeX (got {type(out).__name__})", 0, em.text)
    placeholders = {s: em.values[s.name] for s in out.free_symbols if isinstance(s, sp.Symbol) and s.name in em.values}
    stray = [s for s in out.free_symbols if s not in placeholders]
    if stray:  # cannot happen: every letter of the text is a placeholder
        raise LatexError(f"cannot read the LaTeX (stray symbol {stray[0]})", 0, em.text)
    return out.xreplace(placeholders)


# --------------------------------------------------------------------------- public entry points
@dataclass
class Parsed:
    """What :func:`parse_expression` and :func:`parse_relations` return: the sympy value and the
    symbols the table does not declare (their derived names, spellings and columns)."""

    value: object
    unknown: list = field(default_factory=list)

    def unknown_names(self) -> dict:
        return {s.name: (s.spelling, s.start + 1) for s in self.unknown}


def _prepare(text: str, table: SymbolTable | None):
    if not isinstance(text, str):
        raise LatexError(f"LaTeX must be a string, got {type(text).__name__}")
    if not text.strip():
        raise LatexError("empty LaTeX")
    r = _Resolver(table, text)
    items = r.resolve(_groups(_tokens(text), text))
    return r, items


def parse_expression(text: str, table: SymbolTable | None = None) -> Parsed:
    """Parse one expression (a relation is an error)."""
    r, items = _prepare(text, table)
    em = _Emitter(text)
    value = em.parse(items, 0)
    if not isinstance(value, sp.Expr):
        raise LatexError(f"not an expression (read {type(value).__name__})", 0, text)
    return Parsed(value, r.unknown)


_REL = {
    "<": sp.StrictLessThan,
    ">": sp.StrictGreaterThan,
    r"\le": sp.LessThan,
    r"\ge": sp.GreaterThan,
    "=": sp.Equality,
}


def parse_relations(text: str, table: SymbolTable | None = None) -> Parsed:
    r"""Parse a relation into a list of unevaluated sympy relations: a chain ``0 < \alpha \le 1`` gives
    two, ``\alpha \in (0, 1]`` gives ``0 < alpha`` and ``alpha <= 1``.  ``\ne`` is refused (a claim's
    assumptions are inequalities and equations)."""
    r, items = _prepare(text, table)
    parts, ops, cur = [], [], []
    for it in items:
        if isinstance(it, _Tok) and it.text in _RELATIONS:
            parts.append(cur)
            ops.append(it)
            cur = []
        else:
            cur.append(it)
    parts.append(cur)
    if not ops:
        raise LatexError("not a relation (write it with <, >, \\le, \\ge, = or \\in)", 0, text)
    sides = []
    for k, part in enumerate(parts):
        if k and ops[k - 1].text == r"\in":
            if (
                k != len(parts) - 1
                or len(part) != 1
                or not isinstance(part[0], _Group)
                or part[0].open not in "(["
                or part[0].close not in ")]"
            ):
                raise LatexError("\\in must be followed by an interval such as (0, 1]", ops[k - 1].start + 1, text)
            sides.append(part[0])
            continue
        pos = ops[k - 1].end if k else 0
        if not part:
            raise LatexError("a side of the relation is empty", pos + 1, text)
        sides.append(_Emitter(text).parse(part, _start(part[0])))
    rels = []
    for k, op in enumerate(ops):
        a, b = sides[k], sides[k + 1]
        if op.text == r"\ne":
            raise LatexError(
                "\\ne is not an assumption a claim can state (use <, >, \\le, \\ge or =)", op.start + 1, text
            )
        if op.text == r"\in":
            g = b
            halves = []
            cur = []
            for it in g.items:
                if isinstance(it, _Tok) and it.text == ",":
                    halves.append(cur)
                    cur = []
                else:
                    cur.append(it)
            halves.append(cur)
            if len(halves) != 2 or not halves[0] or not halves[1]:
                raise LatexError("an interval needs two ends: (a, b]", g.start + 1, text)
            lo, hi = (_Emitter(text).parse(h, _start(h[0])) for h in halves)
            if lo != -sp.oo:
                rels.append((sp.StrictLessThan if g.open == "(" else sp.LessThan)(lo, a, evaluate=False))
            if hi != sp.oo:
                rels.append((sp.StrictLessThan if g.close == ")" else sp.LessThan)(a, hi, evaluate=False))
            continue
        if not isinstance(a, sp.Expr) or not isinstance(b, sp.Expr):
            raise LatexError("each side of a relation must be an expression", op.start + 1, text)
        rels.append(_REL[op.text](a, b, evaluate=False))
    return Parsed(rels, r.unknown)
