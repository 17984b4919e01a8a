"""Experiments: how to turn (claim, instance parameters, seed) into :class:`~verify.checking.Evidence`.

Every module in this package registers one :class:`Experiment` on import.  To add a result, add
``verify/experiments/<name>.py`` defining a subclass with its :class:`~verify.schema.Schema` and
calling :func:`register`.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil

from ratecheck.solvers import InvalidInput
from ratecheck.theorems import Claim, ClaimError

from ..errors import UsageError, did_you_mean, warnings_after_success
from ..optima import OptimumError
from ..resources import Need, check_memory, memory_bytes
from ..schema import Schema
from ..verdict import Evidence

__all__ = ["Experiment", "register", "get", "all_experiments"]


def _same(a, b) -> bool:
    try:
        return bool(a == b)
    except (TypeError, ValueError):  # arrays and the like: compare as text
        return repr(a) == repr(b)


class Experiment:
    """Base class of an experiment.

    A subclass sets ``name``, ``title`` and ``schema`` (a :class:`~verify.schema.Schema`: its
    parameters, the constants it supplies, its measures and the settings a claim may choose) and
    implements :meth:`instances` (default instance parameter dicts for a claim), :meth:`run` and
    :meth:`memory_needs` (upper bounds of the arrays a run allocates, from the parameters alone).
    Parameter validation (:meth:`params`, which also refuses an instance that cannot fit in the
    memory available), the search space, the claim check
    (:meth:`validate_claim`) and the claim's typed settings (:meth:`settings`) all derive from the
    schema.  :meth:`check_instance` may add checks that the schema cannot state;
    :meth:`figures` may add experiment-specific plots to a report.
    """

    name: str = ""
    title: str = ""
    schema: Schema = Schema()

    def __init_subclass__(cls, **kwargs):
        """Every subclass's :meth:`run` first validates the claim against the schema, and reports bad
        values (a solver's ``InvalidInput``, a claim's ``ClaimError``/``AssumptionError``, an optimum
        that cannot be certified, e.g. because the instance overflows float64) as one-line
        :class:`UsageError`, whoever calls it (``verify.check``, the search, a sweep worker)."""
        super().__init_subclass__(**kwargs)
        run = cls.__dict__.get("run")
        if run is not None and not getattr(run, "_usage_errors", False):

            @functools.wraps(run)
            def wrapped(self, claim, params, seed=0):
                self.validate_claim(claim)
                try:
                    with warnings_after_success():  # shown if the run succeeds: no raw warning before an error
                        return run(self, claim, params, seed)
                except (InvalidInput, ClaimError) as e:
                    raise UsageError(str(e)) from None
                except OptimumError as e:
                    raise UsageError(
                        f"experiment {self.name!r}: no certified optimum for the instance with "
                        f"{self._changed(params)}: {e}"
                    ) from None

            wrapped._usage_errors = True
            cls.run = wrapped

    def _changed(self, params: dict) -> str:
        """``name=value`` of the parameters that differ from the defaults (what names an instance)."""
        d = self.defaults
        out = [f"{k}={v!r}" for k, v in params.items() if k in d and not _same(v, d[k])]
        return ", ".join(out) if out else "the default parameters"

    # ---------------------------------------------------------------- derived from the schema
    @property
    def defaults(self) -> dict:
        """Default instance parameters (from the schema)."""
        return self.schema.defaults()

    @property
    def measures(self) -> dict:
        """Measure name -> meaning (from the schema)."""
        return {m.name: m.help for m in self.schema.measures}

    @property
    def search_space(self) -> dict | None:
        """Instance space of the counterexample search (``verify.search``), from the schema: name ->
        ``("int", lo, hi)``, ``("float", lo, hi)``, ``("logfloat", lo, hi)`` or ``("choice", [values])``;
        ``None`` when the experiment cannot be searched."""
        return self.schema.search_space()

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
        """Merge ``params`` over the defaults and validate them against the schema (unknown names and
        out-of-range values raise :class:`UsageError` naming the parameter and the rule); an instance
        whose :meth:`memory_needs` exceed the memory available is refused before anything is allocated
        (:func:`verify.resources.check_memory`: the estimate, the memory available, the parameters to
        reduce)."""
        p = self.schema.validate_params(params, where=f"experiment {self.name!r}: ")
        check_memory(f"experiment {self.name!r}", self.memory_needs(p))
        return self.check_instance(p)

    def memory_needs(self, p: dict) -> list[Need]:
        """Upper bounds of the dominant arrays a run of the validated instance ``p`` allocates, as
        :class:`~verify.resources.Need` (formula, 8-byte entries, the parameters that grow it), over every
        measure the experiment runs; computed from ``p`` alone (no allocation).  Every experiment states
        its own; the default states none."""
        return []

    def memory_bytes(self, p: dict) -> int:
        """Estimated bytes a run of the validated instance ``p`` needs (the sum of :meth:`memory_needs`)."""
        return memory_bytes(self.memory_needs(p))

    def parse_params(self, pairs) -> dict:
        """``--param NAME=VALUE`` strings -> typed parameter values (each parsed by its declared type)."""
        return self.schema.parse_params(pairs, where=f"experiment {self.name!r}: ")

    def check_instance(self, p: dict) -> dict:
        """Checks of a validated instance that the schema cannot state (default: none)."""
        return p

    def settings(self, claim: Claim):
        """The claim's settings as this experiment's frozen ``Settings`` dataclass (defaults filled in)."""
        return self.schema.settings_of(claim)

    def validate_claim(self, claim: Claim) -> None:
        """Refuse (one-line :class:`UsageError`) a claim whose measure, settings or symbols this
        experiment does not declare; the message lists the valid names."""
        self.schema.validate_claim(claim, self.name)

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
        raise UsageError(f"unknown experiment {name!r}" + did_you_mean(str(name), _EXPERIMENTS, "experiments"))
    return _EXPERIMENTS[name]


def all_experiments() -> dict[str, Experiment]:
    return dict(sorted(_EXPERIMENTS.items()))


for _m in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if not _m.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_m.name}")
