r"""PEPit behind the optional extra ``[pep]``: lazy import, one solve with Clarabel, the acceptance rule.

A performance-estimation problem (PEP; Drori & Teboulle 2014, Taylor, Hendrickx & Glineur 2017) is a
semidefinite program over the Gram matrix of the iterates and gradients.  It is solved here with cvxpy +
Clarabel; the solve is **accepted** only when PEPit's primal value (a feasible worst case, a lower bound on
the SDP optimum) and dual value (a certificate, an upper bound) agree to ``rtol`` — the same rule as the
certified cvxpy optima of :mod:`verify.optima`.  Clarabel often ends with ``optimal_inaccurate``; that
status is accepted when the gap is small, otherwise the problem is re-solved with SCS (``eps=1e-9``) and, if
the gap is still large, the record says ``inconclusive``.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import time
import warnings
from dataclasses import asdict, dataclass, field

from ..errors import UsageError

__all__ = ["PEP_EXTRA", "PepUnavailable", "pepit", "Solved", "solve", "GAP_RTOL"]

PEP_EXTRA = "pip install 'ratecheck[pep]'"
GAP_RTOL = 1e-6  # relative primal-dual gap below which a solve is accepted (spec: 1e-6 for verdicts)


class PepUnavailable(UsageError):
    """PEPit is not installed (the optional extra ``[pep]``)."""


def pepit(module: str = "PEPit"):
    """Import ``module`` from PEPit on first use; a one-line :class:`PepUnavailable` names the extra."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise PepUnavailable(f"worst case: PEPit is not installed; install the extra: {PEP_EXTRA}") from exc


def available() -> bool:
    """Whether PEPit can be imported (without raising)."""
    return importlib.util.find_spec("PEPit") is not None


@dataclass
class Solved:
    """Outcome of one PEP solve: ``value`` is the dual value (certificate) when accepted."""

    value: float
    primal: float
    dual: float
    status: str
    solver: str
    duality_gap: float
    accepted: bool
    seconds: float
    gram_dim: int
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def _one(problem, solver: str, **kw) -> tuple[float, float, str]:
    with warnings.catch_warnings():  # "solution may be inaccurate": the duality gap below decides
        warnings.simplefilter("ignore")
        try:
            primal = problem.solve(wrapper="cvxpy", solver=solver, verbose=0, return_primal_or_dual="primal", **kw)
        except Exception as exc:  # noqa: BLE001 - cvxpy.SolverError and numerical failures: no value, say so
            if type(exc).__name__ != "SolverError":
                raise
            return math.nan, math.nan, "solver_error"
        if primal is None:
            return float("inf"), float("inf"), "unbounded"
        dual = problem.check_feasibility(primal, verbose=0)
    status = str(getattr(getattr(problem.wrapper, "prob", None), "status", "unknown"))
    return float(primal), float(dual), status


def _gap(primal: float, dual: float) -> float:
    if not (math.isfinite(primal) and math.isfinite(dual)):
        return math.inf
    return abs(dual - primal) / max(abs(dual), abs(primal), 1e-12)


def solve(problem, rtol: float = GAP_RTOL, fallback: bool = True, solver: str = "CLARABEL", **kw) -> Solved:
    """Solve a built ``PEPit.PEP`` with ``solver`` (Clarabel; SCS fallback) and apply the duality-gap rule."""
    pepit()
    t0 = time.perf_counter()
    if solver == "SCS":
        kw.setdefault("eps", 1e-9)
    primal, dual, status = _one(problem, solver, **kw)
    gap = _gap(primal, dual)
    if fallback and solver != "SCS" and not gap <= rtol and status != "unbounded":  # SCS second opinion
        p2, d2, s2 = _one(problem, "SCS", eps=1e-9, **kw)
        if _gap(p2, d2) < gap:
            primal, dual, status, solver, gap = p2, d2, s2, "SCS", _gap(p2, d2)
    accepted = bool(gap <= rtol)
    gram = int(problem.G_value.shape[0]) if getattr(problem, "G_value", None) is not None else 0
    return Solved(dual, primal, dual, status, solver, gap, accepted, time.perf_counter() - t0, gram)
