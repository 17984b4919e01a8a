"""Paper results as symbolic claims (math only: sympy, no numerics from ``solvers``).

Every module in this package registers its claims on import; they are all imported here, so
``theorems.get(id)`` and ``theorems.all()`` see the whole catalogue.  To add a result, add a
module ``theorems/<name>.py`` that builds :class:`Claim` objects and calls :func:`register`.
"""

from __future__ import annotations

import importlib
import pkgutil

from ._core import (
    AssumptionError,
    Claim,
    ClaimError,
    Identity,
    Kind,
    Proof,
    Provenance,
    UnknownClaimError,
    all_claims,
    ge,
    get,
    gt,
    le,
    lt,
    register,
    register_teeth,
    select,
    sym,
    teeth,
    tex,
    tex_symbol,
)

__all__ = [
    "AssumptionError",
    "Claim",
    "ClaimError",
    "Identity",
    "Kind",
    "Proof",
    "Provenance",
    "UnknownClaimError",
    "all",
    "ge",
    "gt",
    "le",
    "lt",
    "get",
    "register",
    "register_teeth",
    "select",
    "sym",
    "teeth",
    "tex",
    "tex_symbol",
]


def all() -> tuple[Claim, ...]:  # noqa: A001 - the public name of the catalogue
    """Every registered claim, sorted by id (teeth variants excluded)."""
    return all_claims()


for _m in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if not _m.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_m.name}")
