"""Experiments: how to turn (claim, instance parameters, seed) into :class:`~verify.check.Evidence`.

Every module in this package registers one :class:`Experiment` on import.  To add a result, add
``verify/experiments/<name>.py`` defining a subclass and calling :func:`register`.
"""
from __future__ import annotations

import functools
import importlib
import pkgutil

from solvers import InvalidInput
from theorems import Claim, ClaimError

from ..check import Evidence, UsageError

__all__ = ["Experiment", "register", "get", "all_experiments"]


class Experiment:
    """Base class of an experiment.

    Subclasses set ``name``, ``title`` and ``measures`` (measure name -> description) and
    implement :meth:`instances` (default instance parameter dicts for a claim), :meth:`params`
    (validate and complete user parameters: unknown names and out-of-range values raise
    :class:`UsageError` naming the parameter) and :meth:`run`.  :meth:`figures` may add
    experiment-specific plots to a report.
    """

    name: str = ""
    title: str = ""
    measures: dict = {}
    defaults: dict = {}
    #: Instance space for counterexample search (``verify.search``): parameter name -> spec, where a
    #: spec is ``("int", lo, hi)``, ``("float", lo, hi)``, ``("logfloat", lo, hi)`` or
    #: ``("choice", [values])``.  ``None`` means the experiment cannot be searched.
    search_space: dict | None = None

    def __init_subclass__(cls, **kwargs):
        """Every subclass's :meth:`run` reports bad values (a solver's ``InvalidInput``, a claim's
        ``ClaimError``/``AssumptionError``) as one-line :class:`UsageError`, whoever calls it
        (``verify.check``, the search, a sweep worker)."""
        super().__init_subclass__(**kwargs)
        run = cls.__dict__.get("run")
        if run is not None and not getattr(run, "_usage_errors", False):
            @functools.wraps(run)
            def wrapped(self, claim, params, seed=0):
                try:
                    return run(self, claim, params, seed)
                except (InvalidInput, ClaimError) as e:
                    raise UsageError(str(e)) from None
            wrapped._usage_errors = True
            cls.run = wrapped

    def search_space_for(self, claim: Claim) -> dict | None:
        """The search space for one claim (default: :attr:`search_space`); override to restrict it,
        e.g. to instances a claim's assumptions admit."""
        return self.search_space

    def from_search(self, point: dict) -> dict:
        """Map a point of the search space to instance parameters (default: the point itself).
        Experiments use it to express constrained parameters through free ones (e.g. a spread as a
        fraction of its feasible range)."""
        return dict(point)

    def instances(self, claim: Claim, quick: bool = False) -> list[dict]:
        raise NotImplementedError

    def params(self, params: dict) -> dict:
        """Merge ``params`` into :attr:`defaults`, rejecting unknown names."""
        unknown = sorted(set(params) - set(self.defaults))
        if unknown:
            raise UsageError(f"experiment {self.name!r}: unknown parameter {unknown[0]!r}; "
                             f"known: {', '.join(sorted(self.defaults))}")
        out = dict(self.defaults)
        out.update(params)
        return out

    def run(self, claim: Claim, params: dict, seed: int = 0) -> Evidence:
        raise NotImplementedError

    def supports(self, claim: Claim) -> bool:
        return claim.measure in self.measures

    def figures(self, verdicts: list, outdir, quick: bool = False) -> list[tuple[str, str]]:
        """Extra figures for a report: list of (file name, caption)."""
        return []


_EXPERIMENTS: dict[str, Experiment] = {}


def register(exp: Experiment) -> Experiment:
    if not exp.name:
        raise UsageError("an experiment needs a name")
    _EXPERIMENTS[exp.name] = exp
    return exp


def get(name: str) -> Experiment:
    if name not in _EXPERIMENTS:
        raise UsageError(f"unknown experiment {name!r}; known: {', '.join(sorted(_EXPERIMENTS)) or 'none'}")
    return _EXPERIMENTS[name]


def all_experiments() -> dict[str, Experiment]:
    return dict(sorted(_EXPERIMENTS.items()))


for _m in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if not _m.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_m.name}")
