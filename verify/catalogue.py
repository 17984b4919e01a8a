"""What ``ratecheck list`` and ``show`` print of the built-in claims, without sympy when it can.

Building the claim registry (``ratecheck.theorems``) imports sympy and builds every claim's expressions: about a
second on a 2-core machine, the whole start-up time of ``list`` and ``show``.  Those two commands print only
plain text of each claim (its :meth:`~theorems.Claim.summary`, its LaTeX, its description and the ids of its
teeth), so that text is shipped beside the claims, in ``theorems/catalogue_index.json``, written by
``python tools/gen_docs.py`` (``--check``, run by the tests, reports it stale).

The index is used only while it is current: it records :func:`source_digest`, the SHA-256 of the ``theorems``
package's source files, and :func:`current` compares it with the files it would describe (a few milliseconds).
When they differ (a claim edited in a source checkout or an editable install, an index not regenerated after a
merge) or the index is missing or unreadable, the live registry answers instead, as before the index existed:
what ``list`` and ``show`` print is always what the claims say.  Both sources answer through one interface,
:class:`Catalogue` (``all``, ``teeth``, ``select``), whose :class:`Entry` objects are what the command line prints;
the tests compare the two sources' output claim by claim.

What the index does not hold needs the registry: ``show --toml`` (the claim objects themselves) and every
command that runs a claim.  The LaTeX and ``sstr`` text is sympy's printing of the version the index was
written with (the tests compare both sources in the test environment).
"""

from __future__ import annotations

import difflib
import hashlib
import importlib.util
import json
from pathlib import Path
from typing import Iterable

from ._lazy import lazy_module
from .errors import UsageError

__all__ = ["Entry", "Catalogue", "current", "live", "from_index", "source_digest", "index_path", "index_text"]

# The registry is imported only on the fallback path (and by the index's writer): a lazy import, so that `list`
# and `show` do not pay for sympy when the index is current (not a cycle being dodged: this module is below the
# command line and imports no other layer).
theorems = lazy_module("..theorems", __package__)

#: file name of the index inside the ``theorems`` package (package data of ``ratecheck.theorems`` in pyproject)
INDEX_NAME = "catalogue_index.json"
#: layout version of the index; an index of another layout is not used
FORMAT = 1


class Entry:
    """The printable part of one claim: what ``list`` and ``show`` (text, ``--json``, ``--latex``) print.

    An entry of the index holds the text; an entry of the registry (:meth:`of`) holds the claim and prints
    it on demand (``list`` without ``--json`` needs neither the sympy printing of every expression nor the LaTeX).

    Parameters
    ----------
    data : dict
        The claim's :meth:`theorems.Claim.summary` (JSON-ready; its ``"latex"`` is :meth:`theorems.Claim.latex`).
    description : str
        The claim's free-text note (``Claim.description``).
    teeth : tuple of str
        The ids of the claim's teeth variants, in registration order (``theorems.teeth(id)``).
    """

    __slots__ = ("_data", "_claim", "description", "teeth")

    def __init__(self, data: dict | None, description: str = "", teeth: Iterable[str] = (), *, claim=None) -> None:
        self._data, self._claim = data, claim
        self.description, self.teeth = description, tuple(teeth)

    @classmethod
    def of(cls, claim) -> "Entry":
        """The entry of a live :class:`theorems.Claim` (its teeth looked up in the registry)."""
        return cls(None, claim.description, (t.id for t in theorems.teeth(claim.id)), claim=claim)

    @classmethod
    def from_json(cls, d: dict) -> "Entry":
        return cls(dict(d["summary"]), str(d["description"]), d["teeth"])

    def to_json(self) -> dict:
        return {"summary": self.summary(), "description": self.description, "teeth": list(self.teeth)}

    def summary(self) -> dict:
        """The claim's summary (``Claim.summary()``; a copy)."""
        return self._claim.summary() if self._claim is not None else dict(self._data)

    def latex(self) -> str:
        """The claim's statement as LaTeX (``Claim.latex()``)."""
        return self._claim.latex() if self._claim is not None else self._data["latex"]

    def _field(self, key: str):
        if self._claim is None:
            return self._data[key]
        value = getattr(self._claim, "id" if key == "claim" else key)
        return value.value if key in ("kind", "provenance") else value  # the enums as the summary's text

    # the fields the command line prints besides the summary's (kind and provenance as their text values)
    id = property(lambda self: self._field("claim"))
    title = property(lambda self: self._field("title"))
    paper = property(lambda self: self._field("paper"))
    provenance = property(lambda self: self._field("provenance"))
    provenance_note = property(lambda self: self._field("provenance_note"))
    kind = property(lambda self: self._field("kind"))
    measure = property(lambda self: self._field("measure"))
    in_expectation = property(lambda self: self._field("in_expectation"))
    expected_to_fail = property(lambda self: self._field("expected_to_fail"))

    def __eq__(self, other) -> bool:
        if not isinstance(other, Entry):
            return NotImplemented
        return (self.summary(), self.description, self.teeth) == (other.summary(), other.description, other.teeth)

    __hash__ = None

    def __repr__(self) -> str:
        return f"<catalogue entry {self.id!r}>"


class Catalogue:
    """The built-in claims as :class:`Entry` objects, from the index (:func:`from_index`) or the registry
    (:func:`live`); ``source`` says which."""

    source = ""

    def all(self) -> tuple[Entry, ...]:
        """Every claim, sorted by id, teeth variants excluded (``theorems.all()``)."""
        raise NotImplementedError

    def teeth(self) -> tuple[Entry, ...]:
        """Every teeth variant, by parent id, each parent's in registration order (``theorems.teeth()``)."""
        raise NotImplementedError

    def select(self, patterns: Iterable[str]) -> tuple[Entry, ...]:
        """The claims whose id is or starts with one of ``patterns``, a teeth variant by its full id
        (``theorems.select``); one-line error with the close ids for a pattern that matches nothing."""
        raise NotImplementedError


class _Live(Catalogue):
    source = "live"

    def all(self):
        return tuple(Entry.of(c) for c in theorems.all())

    def teeth(self):
        return tuple(Entry.of(c) for c in theorems.teeth())

    def select(self, patterns):
        return tuple(Entry.of(c) for c in theorems.select(patterns))  # theorems.ClaimError: bad input


class _Indexed(Catalogue):
    source = "index"

    def __init__(self, index: dict) -> None:
        self._claims = tuple(Entry.from_json(d) for d in index["claims"])
        self._teeth = tuple(Entry.from_json(d) for d in index["teeth"])

    def all(self):
        return self._claims

    def teeth(self):
        return self._teeth

    def select(self, patterns):
        # the rules and messages of theorems.select, get and _suggest (tests compare both for every id)
        variants: dict[str, Entry] = {}
        for t in self._teeth:
            variants.setdefault(t.id, t)
        out: dict[str, Entry] = {}
        for pat in patterns:
            if not isinstance(pat, str) or not pat.strip():
                raise UsageError(f"a claim id or prefix must be a non-empty string, got {pat!r}; see `ratecheck list`")
            hits = [c for c in self._claims if c.id == pat or c.id.startswith(pat)]
            if not hits:
                if pat not in variants:
                    raise UsageError(f"no claim id is or starts with {pat!r}{self._suggest(pat)}")
                hits = [variants[pat]]
            for c in hits:
                out[c.id] = c
        return tuple(out.values())

    def _suggest(self, name: str) -> str:
        known = [c.id for c in self._claims + self._teeth]
        close = difflib.get_close_matches(str(name), known, n=3, cutoff=0.6)  # order-free: best score, then id
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        return f"{hint}; see `ratecheck list` (`--teeth` for the wrong variants)"


def _theorems_dir() -> Path | None:
    """The folder of the ``theorems`` package, found without importing it (``None`` if it cannot be found)."""
    try:
        spec = importlib.util.find_spec(importlib.util.resolve_name("..theorems", __package__))
    except (ImportError, ValueError):
        return None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    return Path(locations[0]) if locations else None


def index_path() -> Path | None:
    """Where the index is (``theorems/catalogue_index.json``), or ``None`` without a ``theorems`` folder."""
    folder = _theorems_dir()
    return None if folder is None else folder / INDEX_NAME


def source_digest(folder: Path | None = None) -> str:
    """SHA-256 over the ``theorems`` package's ``*.py`` files: each one's path (relative, sorted), size and bytes.

    What the index describes is a function of these files (the claims and ``Claim.summary``/``latex``); a
    change to any of them, or a file added or removed, changes the digest and retires the index.
    """
    folder = _theorems_dir() if folder is None else Path(folder)
    h = hashlib.sha256()
    if folder is None:
        return h.hexdigest()
    files = sorted((p.relative_to(folder).as_posix(), p) for p in folder.rglob("*.py"))
    for rel, p in files:
        data = p.read_bytes()
        h.update(f"{rel}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()


def read_index(path: Path | None = None) -> dict | None:
    """The index if it is current (its layout is :data:`FORMAT` and its digest that of the ``theorems`` files
    beside it), else ``None``."""
    path = index_path() if path is None else Path(path)
    if path is None:
        return None
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # missing, unreadable or half-written: the registry answers
        return None
    if not isinstance(index, dict) or index.get("format") != FORMAT:
        return None
    if index.get("source_sha256") != source_digest(path.parent):
        return None
    return index


def live() -> Catalogue:
    """The catalogue from the registry (imports ``theorems``, sympy)."""
    return _Live()


def from_index(index: dict) -> Catalogue:
    """The catalogue from an index (as :func:`read_index` returns it)."""
    return _Indexed(index)


def current() -> Catalogue:
    """The index when it is current, else the live registry (see the module's docstring)."""
    index = read_index()
    if index is not None:
        try:
            return from_index(index)
        except (KeyError, TypeError, ValueError, AttributeError):  # current digest, damaged entries (hand-edited)
            pass
    return live()


def build_index() -> dict:
    """The index of the live registry (what ``tools/gen_docs.py`` writes)."""
    return {
        "about": "what `ratecheck list` and `show` print of each claim; written by `python tools/gen_docs.py`, used "
        "only while source_sha256 is the digest of the theorems package's *.py files (verify/catalogue.py)",
        "format": FORMAT,
        "source_sha256": source_digest(),
        "claims": [Entry.of(c).to_json() for c in theorems.all()],
        "teeth": [Entry.of(c).to_json() for c in theorems.teeth()],
    }


def index_text() -> str:
    """:func:`build_index` as the text of the file (deterministic: same claims, same bytes)."""
    return json.dumps(build_index(), indent=1, ensure_ascii=False) + "\n"
