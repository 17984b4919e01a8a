"""Experiments: how to turn (claim, instance parameters, seed) into :class:`~verify.checking.Evidence`.

Every module in this package registers one :class:`Experiment` on import.  To add a result, add
``verify/experiments/<name>.py`` defining a subclass with its :class:`~verify.schema.Schema` and
calling :func:`register`.

The fixed pipeline
------------------
An experiment that declares its measures in the table ``MEASURES`` (measure name -> method name)
gets :meth:`Experiment.run` for free, in a fixed order::

    instance(p, seed)                  the problem (cached in the shared run cache)
    -> prepare(claim, inst, p)         the claim's algorithm objects on it (compressor, sketch, ...)
    -> constants(claim, inst, p)       its exact constants
    -> stepsize(claim, c, p)           the claim's rule at those constants (then the assumptions)
    -> solve(claim, inst, c, p, seed)  the solver run (start point and rng from ``streams(seed)``; cached:
                                       a teeth variant that changes only the bound reuses its claim's run)
    -> MEASURES[claim.measure](claim, run)   the measured series -> Evidence

Measures that are not one solver run (sweeps over instances, identities, sampled constants) are listed in
``DIRECT_MEASURES`` (measure name -> method called with ``(claim, p, seed)``); they build their instances with
:meth:`Experiment.cached_instance`, the pipeline's first step (or run :meth:`Experiment.pipeline` per cell).
``FIXED_SETTINGS`` (measure name -> {setting: value}) states what a measure runs whatever the claim says
(e.g. its method): :meth:`Experiment.validate_claim` refuses a claim whose setting changes it.  Every cache of an experiment goes through
one bounded LRU, :data:`CACHE`, keyed by (experiment, kind, key).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib
import json
import pkgutil
import warnings
from collections import OrderedDict
from typing import Any

import numpy as np

from ratecheck.solvers import InvalidInput
from ratecheck.theorems import Claim, ClaimError

from ..errors import UsageError, did_you_mean, warnings_after_success
from ..instances import Streams, streams
from ..optima import OptimumError
from ..resources import Need, check_memory, memory_bytes
from ..schema import Schema
from ..verdict import Evidence

__all__ = ["Experiment", "Run", "RunCache", "CACHE", "register", "get", "all_experiments"]


def _nbytes(obj, seen=None) -> int:
    """Bytes held by the arrays reachable from ``obj`` (containers, dataclasses, plain objects)."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        return obj.nbytes
    if isinstance(obj, dict):
        return sum(_nbytes(v, seen) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return sum(_nbytes(v, seen) for v in obj)
    if hasattr(obj, "__dict__") and not isinstance(obj, type):
        return sum(_nbytes(v, seen) for v in vars(obj).values())
    return 0


class RunCache:
    """One bounded least-recently-used cache for every experiment (instances, optima, solver runs).

    Bounded by entries and by the bytes of the arrays the values hold.  ``keep`` objects are stored
    with the value: a key may then name them by ``id`` safely (an id is never reused while its
    object is alive).
    """

    def __init__(self, max_entries: int = 256, max_bytes: int = 512 << 20):
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self._data: OrderedDict = OrderedDict()
        self._bytes = 0

    def get(self, key, make, keep=()):
        """The cached value of ``key``, made by ``make()`` on a miss."""
        if key in self._data:
            self._data.move_to_end(key)
            return self._data[key][0]
        value = make()
        self.put(key, value, keep)
        return value

    def peek(self, key):
        """The cached value of ``key`` (now the most recent), or None."""
        if key not in self._data:
            return None
        self._data.move_to_end(key)
        return self._data[key][0]

    def put(self, key, value, keep=()) -> None:
        """Store ``value`` under ``key`` (with ``keep``), then evict the least recently used beyond the bounds."""
        if key in self._data:
            self._bytes -= self._data.pop(key)[2]
        size = _nbytes(value)
        self._data[key] = (value, tuple(keep), size)
        self._bytes += size
        while len(self._data) > 1 and (len(self._data) > self.max_entries or self._bytes > self.max_bytes):
            _, (_, _, s) = self._data.popitem(last=False)
            self._bytes -= s

    def clear(self) -> None:
        self._data.clear()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._data)


CACHE = RunCache()


def params_key(p: dict) -> str:
    """A hashable, order-independent key of instance parameters."""
    return json.dumps(p, sort_keys=True, default=repr)


@dataclasses.dataclass
class Run:
    """One pass of the pipeline: what a measure method reads."""

    p: dict
    seed: int
    streams: Streams
    instance: Any
    constants: dict
    result: Any

    def evidence(self, grid_name: str, grid, measured, bound, **fields) -> Evidence:
        """:class:`Evidence` of this run: its constants, instance parameters and seed filled in; ``fields`` adds
        the others (``method``, ``stderr``, ``n_samples``, ``series``, ``note``, ...)."""
        fields = {"constants": self.constants, "instance": self.p, "seed": self.seed, **fields}
        return Evidence(grid_name, grid, measured, bound, **fields)


def _fingerprint(obj, alive: list) -> str:
    """A text naming ``obj`` exactly: floats by ``repr``, arrays by dtype, shape and a hash of their bytes,
    containers element by element, other objects by identity (appended to ``alive``, which the cache keeps
    with the entry, so the id is not reused while the key exists)."""
    if isinstance(obj, np.ndarray):
        a = np.ascontiguousarray(obj)
        return f"array({a.dtype.str},{a.shape},{hashlib.sha1(a.view(np.uint8).ravel()).hexdigest()})"
    if isinstance(obj, dict):
        return "{" + ",".join(f"{k!r}:{_fingerprint(obj[k], alive)}" for k in sorted(obj, key=repr)) + "}"
    if isinstance(obj, (list, tuple)):
        return type(obj).__name__ + "(" + ",".join(_fingerprint(v, alive) for v in obj) + ")"
    if obj is None or isinstance(obj, (bool, int, float, complex, str, np.generic)):
        return repr(obj)
    alive.append(obj)
    return f"{type(obj).__qualname__}@{id(obj)}"


#: what ``prepare`` and ``solve`` may read of a claim without their run depending on more than its name in the
#: cache (the measure, settings and assumptions are part of the name; ``id`` only names it in messages)
RUN_NEUTRAL = frozenset({"id", "measure", "setting", "assumptions", "check_assumptions", "in_expectation"})


class _Watched:
    """A claim as :meth:`Experiment.prepare` and :meth:`Experiment.solve` see it: every attribute read goes to
    the claim and is noted, so the run cache knows whether the run depends on more than its name
    (:data:`RUN_NEUTRAL`).  ``isinstance(watched, Claim)`` holds."""

    __slots__ = ("claim_", "reads")

    def __init__(self, claim):
        object.__setattr__(self, "claim_", claim)
        object.__setattr__(self, "reads", set())

    def __getattr__(self, name):
        self.reads.add(name)
        return getattr(self.claim_, name)

    def __setattr__(self, name, value):
        raise AttributeError(f"a claim is read-only (tried to set {name!r})")

    @property
    def __class__(self):  # noqa: D105 - isinstance() sees the claim's class
        return type(self.claim_)

    def dependent(self) -> bool:
        """Whether anything outside :data:`RUN_NEUTRAL` was read."""
        return bool(self.reads - RUN_NEUTRAL)


def _definition(claim) -> str:
    """Everything a claim states (its fields but the id and the prose): the cache name of a run that read it."""
    skip = {"id", "title", "description", "paper", "provenance", "provenance_note"}
    return repr([(f.name, getattr(claim, f.name)) for f in dataclasses.fields(claim) if f.name not in skip])


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
    schema.  :meth:`check_instance` may add checks that the schema cannot state.
    Report figures live in :mod:`verify.figures`, not here.
    """

    name: str = ""
    title: str = ""
    schema: Schema = Schema()
    #: measure name -> name of a method ``(claim, run: Run) -> Evidence`` fed by the pipeline
    MEASURES: dict = {}
    #: measure name -> name of a method ``(claim, p, seed) -> Evidence`` that runs no solver pipeline
    DIRECT_MEASURES: dict = {}
    #: measure name -> {setting: the only value it runs}: a claim's setting may state it, not change it
    FIXED_SETTINGS: dict = {}

    def __init_subclass__(cls, **kwargs):
        """Every subclass's :meth:`run` first validates the claim against the schema, and reports bad
        values (a solver's ``InvalidInput``, a claim's ``ClaimError``/``AssumptionError``, an optimum
        that cannot be certified, e.g. because the instance overflows float64) as one-line
        :class:`UsageError`, whoever calls it (``verify.check``, the search, a sweep worker)."""
        super().__init_subclass__(**kwargs)
        run = cls.__dict__.get("run")
        if run is None and ("MEASURES" in cls.__dict__ or "DIRECT_MEASURES" in cls.__dict__):
            run = Experiment._run_table
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
        experiment does not declare (the message lists the valid names), or whose setting changes what
        its measure fixes (:attr:`FIXED_SETTINGS`)."""
        self.schema.validate_claim(claim, self.name)
        fixed = self.FIXED_SETTINGS.get(claim.measure, {})
        if fixed:
            s = self.settings(claim)
            for name, runs in fixed.items():
                if getattr(s, name) not in (None, runs):
                    raise UsageError(
                        f"claim {claim.id}: measure {claim.measure} runs {name} {runs!r} only, the claim's "
                        f"setting {name} says {getattr(s, name)!r}"
                    )

    def run(self, claim: Claim, params: dict, seed: int = 0) -> Evidence:
        raise NotImplementedError

    # ---------------------------------------------------------------- the fixed pipeline
    def _run_table(self, claim: Claim, p: dict, seed: int = 0) -> Evidence:
        """Dispatch through the measure tables: pipeline measures get the :class:`Run`."""
        m = claim.measure
        if m in self.DIRECT_MEASURES:
            return getattr(self, self.DIRECT_MEASURES[m])(claim, p, seed)
        if m not in self.MEASURES:
            raise UsageError(f"experiment {self.name!r} cannot measure {m!r}; it measures {', '.join(self.measures)}")
        return getattr(self, self.MEASURES[m])(claim, self.pipeline(claim, p, seed))

    def pipeline(self, claim: Claim, p: dict, seed: int = 0) -> Run:
        """instance -> the claim's algorithm objects -> exact constants -> stepsize (and the claim's
        assumptions) -> solver run (through the shared cache, see :meth:`_solve_cached`)."""
        watched = _Watched(claim)
        inst = self.prepare(watched, self.cached_instance(p, seed), p)
        c = self.constants(claim, inst, p)
        gamma = self.stepsize(claim, c, p)
        if gamma is not None:
            c["gamma"] = gamma
        claim.check_assumptions(**c)
        return Run(p, seed, streams(seed), inst, c, self._solve_cached(watched, inst, c, p, seed))

    def _solve_cached(self, watched: _Watched, inst, c: dict, p: dict, seed: int):
        """:meth:`solve` through the shared cache.

        A run is named by the instance parameters and seed, the claim's measure, typed settings and
        assumptions, and the constants (the stepsize among them; arrays by their bytes).  ``prepare`` and
        ``solve`` see the claim through :class:`_Watched`, which notes what they read of it: a run for which
        they read nothing but those (:data:`RUN_NEUTRAL`) is stored under that name alone and serves every
        claim with the same name -- a teeth variant that changes only the bound reuses its claim's run --
        while a run that read more (the bound, to choose a horizon, say) is stored under the claim's whole
        definition too.  The split is sound because the code follows the same path for every claim until it
        reads something outside the name.  What :meth:`solve` adds to ``c`` and the warnings it raises are
        kept with the run and given again on every reuse."""
        claim = watched.claim_
        alive: list = []  # objects the name refers to by identity (none for plain constants)
        name = (
            params_key(p),
            seed,
            claim.measure,
            repr(self.settings(claim)),
            repr(claim.assumptions),
            claim.in_expectation,
            _fingerprint(c, alive),
        )
        neutral = (self.name, "solve", name, "")
        hit = None if watched.dependent() else CACHE.peek(neutral)
        if hit is None:  # the claim's whole definition is spelled out only when the short name does not serve
            own = (self.name, "solve", name, _definition(claim))
            hit = CACHE.peek(own)
        if hit is None:
            c2 = dict(c)
            with warnings.catch_warnings(record=True) as held:  # the filters stay; an error filter still raises
                result = self.solve(watched, inst, c2, p, seed)
            added = {k: v for k, v in c2.items() if k not in c or not _same(c[k], v)}
            hit = (result, added, [(w.message, w.category, w.filename, w.lineno) for w in held])
            CACHE.put(own if watched.dependent() else neutral, hit, keep=alive)
        result, added, held = hit
        c.update(added)
        for message, category, filename, lineno in held:
            warnings.warn_explicit(message, category, filename, lineno)
        return result

    def cached_instance(self, p: dict, seed: int):
        """:meth:`instance` of ``p`` through the shared cache (keyed by :meth:`instance_params` and the seed): what
        :meth:`pipeline` starts from, and what a direct measure (a sweep over instances) builds its instances with."""
        return self.cached("instance", (params_key(self.instance_params(p)), seed), lambda: self.instance(p, seed))

    def instance_params(self, p: dict) -> dict:
        """The parameters that name the instance (its cache key; default: all of them)."""
        return p

    def instance(self, p: dict, seed: int):
        """Build the problem of instance ``p`` from ``streams(seed).data``."""
        raise NotImplementedError

    def prepare(self, claim: Claim, inst, p: dict):
        """What the claim's settings add to the instance (default: nothing; the instance itself)."""
        return inst

    def constants(self, claim: Claim, inst, p: dict) -> dict:
        """The exact constants of the instance (the claim's symbols)."""
        raise NotImplementedError

    def stepsize(self, claim: Claim, c: dict, p: dict) -> float | None:
        """The claim's stepsize rule at the constants, times ``stepsize_factor`` (None: no rule)."""
        if claim.stepsize is None:
            return None
        return claim.max_stepsize(**c) * p.get("stepsize_factor", 1.0)

    def solve(self, claim: Claim, inst, c: dict, p: dict, seed: int):
        """Run the solver (start point from ``streams(seed).start``, ``rng=streams(seed).algorithm``);
        may add start-dependent constants to ``c``."""
        raise NotImplementedError

    def cached(self, kind: str, key, make, keep=()):
        """``make()`` through the shared :data:`CACHE` under (experiment, ``kind``, ``key``)."""
        return CACHE.get((self.name, kind, key), make, keep)

    def supports(self, claim: Claim) -> bool:
        return claim.measure in self.measures


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
