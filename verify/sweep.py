"""Parameter sweeps: grids of instance parameters run on a local or distributed backend into a results store.

``grid(n=[10, 20], spread=[1.5, 2])`` expands the Cartesian product in a fixed order, ``zipped(...)`` walks
axes together, ``cell_seed(cell, r)`` derives the seed of replicate ``r`` from the cell's content (never from
its position or from scheduling order).  :func:`sweep` runs a claim (or every claim of an experiment) on every
(cell, replicate) with joblib/loky worker processes or a dask.distributed cluster and writes one row per
(cell, seed, evidence grid point) into a :class:`verify.store.Store`::

    >>> from ratecheck.verify.sweep import sweep, grid
    >>> res = sweep("ef21.nonconvex-am", grid(n=[10, 20], spread=[1.5, 2.0]), seeds=2,
    ...             out="sweep-out", backend="loky", workers=2)          # doctest: +SKIP
    >>> res.frame().groupby("param_n").tightness.max()                    # doctest: +SKIP

Semantics:

* a **cell** is a dict of experiment instance parameters, laid over a *base* instance (by default the
  experiment's first default instance for the claim, ``quick`` or not); with no grid the cells are the
  experiment's default instances for the claim;
* a **unit** is (claim, cell, replicate); it runs ``verify.check(claim, experiment, instances=[cell],
  seed=s)`` and is stored atomically when it finishes; units already in the store are skipped (resume);
* everything is validated before any unit runs: unknown parameters, empty axes and out-of-range values via
  the experiment's ``params()``, a claim's assumptions on the values of each cell (a cheap *dry run* of each
  cell with its horizon shrunk, see :data:`DRY_PARAMS`); failures raise :class:`~verify.checking.UsageError`;
* a unit that raises is recorded with its error and does not stop the sweep (it is retried on resume);
  a worker process that dies is replaced and its unit resubmitted (up to ``max_attempts``);
* **scaling** claims: each unit records the claim's measure (its *response*, by default the last grid point;
  ``claim.setting['response']`` may say ``max``, ``min``, ``mean`` or ``first``) with verdict ``pending``; after
  the sweep the responses are fitted against ``claim.scaling_in`` (the exact constant when the experiment
  reports it, else the cell parameter) with :func:`verify.fit.scaling_fit` (bootstrap over seeds; form from
  ``claim.setting['fit']``: ``power``, ``offset`` or ``piecewise``) and judged by :func:`verify.checking.judge`;
  one verdict per combination of the other swept parameters.  The seed of a scaling unit ignores the
  scaling variable (common random numbers: every x sees the same random instance family, which is what makes
  a slope measurable), so it still depends only on the cell's content; ``claim.setting['common_random_numbers']``
  may name other parameters to leave out (e.g. a target constant whose exact value is the scaling variable).
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import itertools
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np

from ._version import __version__
from .checking import HOLDS, INCONCLUSIVE, VIOLATED, UsageError, judge
from .errors import close_match, warning_note, warnings_after_success
from .schema import scaling_settings

__all__ = [
    "grid",
    "zipped",
    "cell_seed",
    "run_grid",
    "sweep",
    "plan",
    "SweepResult",
    "Unit",
    "run_unit",
    "check_scaling",
    "fit_scaling",
    "scaling_verdicts",
    "summarize",
    "parse_grid",
    "DRY_PARAMS",
    "BLAS_ENV",
    "PENDING",
    "ERROR",
]

PENDING, ERROR = "pending", "error"
#: parameters shrunk for the dry validation run of a cell (only those the experiment knows)
DRY_PARAMS = {"T": 2, "replications": 2}
#: environment of worker processes: one BLAS/OpenMP thread each (workers are the parallelism)
BLAS_ENV = {
    k: "1"
    for k in (
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
        "VECLIB_MAXIMUM_THREADS",
        "NUMEXPR_NUM_THREADS",
    )
}
BACKENDS = ("serial", "loky", "dask")
#: sanity bounds: worker processes of one sweep, and units (claims x cells x seeds) one sweep plans
MAX_WORKERS = 1024
MAX_UNITS = 10**7


# --------------------------------------------------------------------------- grids and seeds
def grid(**axes: Iterable[Any]) -> list[dict]:
    """Cartesian product of the named axes, in the order given."""
    names = list(axes)
    values = []
    for nm in names:
        vs = list(axes[nm])
        if not vs:
            raise UsageError(f"grid axis {nm!r} is empty")
        values.append(vs)
    if math.prod(len(vs) for vs in values) > MAX_UNITS:
        raise UsageError(
            f"the grid has {math.prod(len(vs) for vs in values)} cells, more than a sweep plans ({MAX_UNITS}); split it"
        )
    return [dict(zip(names, combo)) for combo in itertools.product(*values)]


def zipped(**axes: Iterable[Any]) -> list[dict]:
    """Axes walked together (all must have the same length)."""
    lists = {k: list(v) for k, v in axes.items()}
    lengths = {len(v) for v in lists.values()}
    if len(lengths) != 1 or 0 in lengths:
        raise UsageError(f"zipped axes must be non-empty and of equal length, got {[len(v) for v in lists.values()]}")
    return [dict(zip(lists, vals)) for vals in zip(*lists.values())]


def cell_seed(cell: dict, replicate: int = 0, base: int = 0) -> int:
    """A seed that depends only on the cell's parameters, the replicate index and ``base``."""
    key = json.dumps({"cell": cell, "rep": replicate, "base": base}, sort_keys=True, default=str)
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "little")


def run_grid(
    fn: Callable[..., Any], cells: list[dict], seeds: int = 1, base_seed: int = 0
) -> Iterator[tuple[dict, int, Any]]:
    """Yield ``(cell, seed, fn(**cell, seed=seed))`` for every cell and replicate, sequentially."""
    for cell in cells:
        for r in range(seeds):
            s = cell_seed(cell, r, base_seed)
            yield cell, s, fn(**cell, seed=s)


def _parse_value(text: str):
    t = text.strip()
    if t.lower() in ("true", "false"):
        return t.lower() == "true"
    if t.lower() in ("none", "null"):
        return None
    for conv in (int, float):
        try:
            v = conv(t)
        except ValueError:
            continue
        if conv is float and not math.isfinite(v) and t.lower() not in ("inf", "+inf", "-inf", "nan"):
            continue
        return v
    return t


def parse_grid(specs: Sequence[str], zip_axes: bool = False) -> list[dict] | None:
    """Cells from ``name=v1,v2,...`` strings (values parsed as int, float, bool, None or str); None if no spec."""
    if not specs:
        return None
    axes: dict[str, list] = {}
    for spec in specs:
        name, eq, vals = spec.partition("=")
        name = name.strip()
        if not eq or not name:
            raise UsageError(f"--grid expects name=v1,v2,..., got {spec!r}")
        if name in axes:
            raise UsageError(f"--grid {name} is given twice")
        axes[name] = [_parse_value(v) for v in vals.split(",") if v.strip()]
        if not axes[name]:
            raise UsageError(f"grid axis {name!r} is empty")
    return zipped(**axes) if zip_axes else grid(**axes)


# --------------------------------------------------------------------------- units of work
def _fingerprint(claim) -> str:
    """What identifies a claim's statement (id, kind, measure, bound, stepsize, exponent, assumptions, setting)."""
    import sympy as sp

    parts = [
        claim.id,
        claim.kind.value,
        claim.measure,
        claim.experiment,
        str(claim.in_expectation),
        *(sp.sstr(e) if e is not None else "-" for e in (claim.bound, claim.stepsize, claim.exponent)),
        *map(sp.sstr, claim.assumptions),
        claim.scaling_in or "",
        json.dumps(dict(claim.setting), sort_keys=True, default=str),
    ]
    return claim.id + ":" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:12]


@dataclass
class Unit:
    """One (claim, cell, replicate): what a worker needs to run it, and where its rows go."""

    key: str
    claim: Any  # a registered claim travels by id; others by value
    experiment: Any  # a registered experiment travels by name
    cell: dict  # the swept values
    params: dict  # the completed instance parameters
    seed: int
    replicate: int
    meta: dict = field(default_factory=dict)  # version, git revision


def _portable_claim(claim):
    from ratecheck import theorems

    try:
        if theorems.get(claim.id) is claim:
            return claim.id
    except Exception:  # noqa: BLE001 - not registered
        pass
    return dataclasses.replace(claim)  # a fresh copy: no cached lambdified functions to pickle


def _portable_experiment(exp):
    from . import experiments

    try:
        if experiments.get(exp.name) is exp:
            return exp.name
    except UsageError:
        pass
    return exp


def _limit_threads():
    """Pin BLAS to one thread in this process (threadpoolctl if installed; workers also get BLAS_ENV)."""
    global _THREADS_LIMITED
    if _THREADS_LIMITED:
        return
    _THREADS_LIMITED = True
    for k, v in BLAS_ENV.items():
        os.environ.setdefault(k, v)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(1)


_THREADS_LIMITED = False


def run_unit(unit: Unit, limit_threads: bool = True):
    """Run one unit; returns ``(key, table, failed)``.  Never raises for errors of the unit itself."""
    import socket
    import traceback

    from ratecheck import theorems

    from . import experiments
    from .checking import check
    from .store import failure_table, rows_table

    if limit_threads:
        _limit_threads()
    t0 = time.perf_counter()
    claim = theorems.get(unit.claim) if isinstance(unit.claim, str) else unit.claim
    exp = experiments.get(unit.experiment) if isinstance(unit.experiment, str) else unit.experiment
    meta = dict(
        unit.meta,
        key=unit.key,
        claim=claim.id,
        experiment=exp.name,
        kind=claim.kind.value,
        measure=claim.measure,
        seed=unit.seed,
        replicate=unit.replicate,
        host=socket.gethostname(),
        expected=VIOLATED if claim.expected_to_fail else HOLDS,
    )
    try:
        if claim.kind.value == "scaling":
            held: list = []  # as in check: the run's warnings go into the detail, never raw to the console
            with warnings_after_success(into=held):
                ev = _run_experiment(claim, exp, unit.params, unit.seed)
            if ev.fit is not None:  # the experiment fitted the law itself: judge per unit
                v = judge(claim, ev)
                verdict, tight, detail, method = v.verdict, v.tightness, v.detail + warning_note(held), v.method
            else:
                verdict, tight, detail, method = (
                    PENDING,
                    None,
                    "response recorded; judged by the sweep's fit" + warning_note(held),
                    ev.method,
                )
        else:
            (v,) = check(claim, experiment=exp, instances=[unit.params], seed=unit.seed)
            ev = v.evidence
            verdict, tight, detail, method = v.verdict, v.tightness, v.detail, v.method
        consts = {k: v for k, v in ev.constants.items() if np.ndim(v) == 0}
        meta.update(
            grid_name=ev.grid_name,
            method=method,
            verdict=verdict,
            detail=detail,
            tightness=tight,
            params=_json(unit.params),
            constants=_json(consts),
            wall_time=time.perf_counter() - t0,
            finished_at=time.time(),
        )
        series = dict(grid=ev.grid, measured=ev.measured, bound=ev.bound, stderr=ev.stderr)
        if ev.grid.size == 0:
            series = dict(grid=[np.nan], measured=[np.nan], bound=[np.nan], stderr=[np.nan])
        return unit.key, rows_table(meta, series, unit.params), False
    except Exception as e:  # noqa: BLE001 - a failing unit is recorded, not fatal
        err = f"{type(e).__name__}: {e}"
        tb = traceback.format_exc(limit=-3)
        meta.update(
            params=_json(unit.params), wall_time=time.perf_counter() - t0, finished_at=time.time(), detail=tb[-2000:]
        )
        return unit.key, failure_table(meta, unit.params, err), True


def _json(x) -> str:
    from .checking import _jsonable

    return json.dumps(_jsonable(x), sort_keys=True)


def _run_experiment(claim, exp, params, seed):
    return exp.run(claim, exp.params(params), seed=seed)


# --------------------------------------------------------------------------- planning
def _resolve_targets(target) -> list[tuple[Any, Any]]:
    """(claim, experiment) pairs for a claim object/id, an experiment name or a claim-id prefix."""
    from ratecheck import theorems
    from ratecheck.theorems import Claim

    from . import experiments

    def exp_of(c):
        if not c.measure:
            raise UsageError(f"claim {c.id} has no measure: nothing to sweep (it is checked by `ratecheck check`)")
        return experiments.get(c.experiment or "")

    if isinstance(target, Claim):
        return [(target, exp_of(target))]
    if isinstance(target, tuple) and len(target) == 2:
        c, e = target
        c = theorems.get(c) if isinstance(c, str) else c
        return [(c, e if isinstance(e, experiments.Experiment) else experiments.get(e))]
    if not isinstance(target, str) or not target:
        raise UsageError(f"sweep target must be a claim, a claim id, a prefix or an experiment name, got {target!r}")
    try:
        return [(theorems.get(target), exp_of(theorems.get(target)))]
    except theorems.UnknownClaimError:
        pass
    if target in experiments.all_experiments():
        exp = experiments.get(target)
        claims = [c for c in theorems.all() if c.experiment == target and c.measure and exp.supports(c)]
        if not claims:
            raise UsageError(f"experiment {target!r} has no claims with a measure to sweep")
        return [(c, exp) for c in claims]
    try:
        claims = theorems.select([target])
    except theorems.UnknownClaimError:
        known = [*experiments.all_experiments(), *(c.id for c in theorems.all()), *(t.id for t in theorems.teeth())]
        raise UsageError(
            f"{target!r} is neither a claim id, a claim-id prefix nor an experiment"
            f"{close_match(target, known)}; experiments: {', '.join(experiments.all_experiments())}"
        ) from None
    return [(c, exp_of(c)) for c in claims if c.measure]


def _dry_params(exp, params: dict) -> dict:
    hook = getattr(exp, "dry_params", None)
    if callable(hook):
        return exp.params(hook(dict(params)))
    out = dict(params)
    for k, v in DRY_PARAMS.items():
        if k in out and isinstance(out[k], (int, np.integer)) and not isinstance(out[k], bool):
            out[k] = min(out[k], v)
    return exp.params(out)


def _validate_cell(claim, exp, params: dict, seed: int, dry: bool, cell: dict | None = None) -> None:
    """Reject a cell whose values break the claim's assumptions (raises UsageError naming the cell)."""
    from ratecheck.theorems import ClaimError

    numeric = {
        k: v
        for k, v in params.items()
        if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
    }
    try:
        claim.check_assumptions(**numeric)
        if dry:
            exp.run(claim, _dry_params(exp, params), seed=seed)
    except (ClaimError, UsageError) as e:
        msg = " ".join(str(e).split())  # one line
        raise UsageError(f"cell {_short(params if cell is None else cell) or '(defaults)'}: {msg}") from None
    except Exception:  # noqa: BLE001 - not a usage problem: the real run records it
        pass


def _short(cell: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in cell.items())


def _check_scaling_axis(claim, exp, cells: list[dict]) -> None:
    """A scaling claim needs enough distinct values of its variable (when it is a parameter) to fit a law."""
    from .fit import MIN_DISTINCT

    form = scaling_settings(claim).fit
    if form not in MIN_DISTINCT:
        raise UsageError(f"claim {claim.id}: setting 'fit' must be one of {', '.join(MIN_DISTINCT)}, got {form!r}")
    if claim.scaling_in not in exp.defaults:
        return  # an exact constant computed by the experiment: checked when the fit is made
    xs = {json.dumps(exp.params(c)[claim.scaling_in], default=str) for c in cells}
    if len(xs) < MIN_DISTINCT[form]:
        raise UsageError(
            f"scaling claim {claim.id}: a {form} fit needs at least {MIN_DISTINCT[form]} distinct values "
            f"of {claim.scaling_in!r}, the grid has {len(xs)}"
        )


def plan(
    target,
    cells: Sequence[dict] | None = None,
    seeds: int = 1,
    base: dict | None = None,
    quick: bool = False,
    base_seed: int = 0,
    validate: str = "dry",
    done: Iterable[str] = (),
) -> list[Unit]:
    """Resolve the target, build and validate every unit (nothing runs except dry validations).

    ``cells`` are laid over ``base`` (default: the experiment's first default instance for the claim);
    ``cells=None`` means the experiment's default instances.  ``validate`` is ``"dry"`` (parameters,
    assumptions on cell values, and a dry run of each distinct cell), ``"params"`` (parameters and
    assumptions on cell values only) or ``"none"``.  Cells whose units are all in ``done`` are not dry-run.
    """
    from .store import git_revision, unit_key

    if isinstance(seeds, bool) or not isinstance(seeds, (int, np.integer)) or not 1 <= seeds <= MAX_UNITS:
        raise UsageError(f"seeds must be an integer in [1, {MAX_UNITS}], got {seeds!r}")
    if validate not in ("dry", "params", "none"):
        raise UsageError(f"validate must be 'dry', 'params' or 'none', got {validate!r}")
    if cells is not None:
        cells = list(cells)
        if not cells:
            raise UsageError("the grid is empty: no cells to run")
        for c in cells:
            if not isinstance(c, dict):
                raise UsageError(f"each cell must be a dict of parameters, got {type(c).__name__}")
        if len(cells) * seeds > MAX_UNITS:
            raise UsageError(
                f"{len(cells)} cells x {seeds} seeds = {len(cells) * seeds} units per claim, more than "
                f"a sweep plans ({MAX_UNITS}); split the grid"
            )
    meta = {"version": __version__, "git_rev": git_revision()}
    done = set(done)
    units, seen, checks = [], set(), {}
    for claim, exp in _resolve_targets(target):
        if not claim.measure:
            raise UsageError(f"claim {claim.id} has no measure: nothing to sweep")
        exp.validate_claim(claim)
        if claim.kind.value == "scaling" and not claim.scaling_in:
            raise UsageError(f"scaling claim {claim.id} does not name the parameter it scales in (scaling_in)")
        defaults = exp.instances(claim, quick=quick)
        if cells is None:
            claim_cells = [dict(c) for c in defaults]
            start = {}
        else:
            claim_cells = cells
            start = dict(defaults[0] if (base is None and defaults) else (base or {}))
        # a grid along the claim's own variable must be wide enough to fit a law; claims whose experiment
        # fits the law itself (its evidence carries the fit) are judged per cell
        if (
            claim.kind.value == "scaling"
            and validate != "none"
            and cells is not None
            and any(claim.scaling_in in c for c in cells)
        ):
            _check_scaling_axis(claim, exp, [{**start, **c} for c in claim_cells])
        fp, portable_c, portable_e = _fingerprint(claim), _portable_claim(claim), _portable_experiment(exp)
        crn = scaling_settings(claim).common_random_numbers
        crn = set([claim.scaling_in] if crn is None and claim.kind.value == "scaling" else (crn or []))
        for cell in claim_cells:
            params = exp.params({**start, **cell})  # unknown names / out-of-range values: UsageError
            pkey = _json(params)
            # scaling claims: common random numbers along the scaling variable (the seed ignores it)
            seed_of = {k: v for k, v in params.items() if k not in crn} if crn else params
            for r in range(seeds):
                s = cell_seed(seed_of, r, base_seed)
                key = unit_key(fp, exp.name, params, s)
                if key in seen:
                    continue
                seen.add(key)
                units.append(Unit(key, portable_c, portable_e, dict(cell), params, s, r, dict(meta)))
                if validate != "none" and key not in done and (claim.id, pkey) not in checks:
                    checks[(claim.id, pkey)] = (claim, exp, params, s, cell)
    for claim, exp, params, s, cell in checks.values():  # everything is validated before anything runs
        _validate_cell(claim, exp, params, s, dry=validate == "dry", cell=cell)
    return units


# --------------------------------------------------------------------------- backends
class _Done:
    """A finished 'future' of the serial backend."""

    def __init__(self, value):
        self.value = value


class _Serial:
    workers = 1

    def submit(self, unit):
        return _Done(run_unit(unit, limit_threads=False))

    def wait(self, futs):
        return list(futs)

    @staticmethod
    def result(fut):
        return fut.value

    def close(self):
        pass


#: seconds between two checks, in a worker process, that the sweep which started it is still alive
PARENT_POLL = 0.5


def _exit_with_parent(parent: int, interval: float = PARENT_POLL) -> None:
    """Initializer of every worker process: exit as soon as the process that started it (``parent``) is gone.

    A sweep killed with SIGKILL cannot shut its pool down; without this its workers (and through them loky's
    resource tracker) would live on until their idle timeout, holding the caller's stdout open.  A daemon
    thread polls ``os.getppid()``: when the parent dies the worker is re-parented and exits at once
    (``os._exit``: nothing of the dead sweep is worth flushing).  Portable (no ``prctl``), and immune to
    ``PR_SET_PDEATHSIG``'s catch of firing when the parent *thread* that spawned the worker ends.
    """
    import threading

    if os.getppid() != parent:  # the sweep died before this worker finished starting
        os._exit(1)

    def watch():
        while True:
            time.sleep(interval)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="ratecheck-parent-watchdog", daemon=True).start()


def loky_executor(workers: int):
    """The reusable loky executor of the sweeps: ``workers`` processes with one BLAS thread each, which exit
    when the sweep's process dies (:func:`_exit_with_parent`)."""
    from joblib.externals.loky import get_reusable_executor

    return get_reusable_executor(
        max_workers=workers, env=dict(BLAS_ENV), timeout=60, initializer=_exit_with_parent, initargs=(os.getpid(),)
    )


class _Loky:
    def __init__(self, workers: int):
        try:
            import joblib.externals.loky  # noqa: F401
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise UsageError("--backend loky needs joblib (pip install joblib), or use --backend serial") from e

        self.workers = workers
        self._get = lambda: loky_executor(workers)
        self.ex = self._get()

    def submit(self, unit):
        try:
            return self.ex.submit(run_unit, unit)
        except Exception:  # noqa: BLE001 - the pool broke (a worker died): start a fresh one
            self.reset()
            return self.ex.submit(run_unit, unit)

    def wait(self, futs):
        import concurrent.futures as cf

        done, _ = cf.wait(list(futs), return_when=cf.FIRST_COMPLETED)
        return list(done)

    @staticmethod
    def result(fut):
        return fut.result()

    def reset(self):
        self.ex = self._get()  # a broken pool (dead worker) is replaced by a fresh one

    def close(self):
        pass  # the reusable executor is shut down by loky after its idle timeout


class _Dask:
    def __init__(self, workers: int, scheduler: str | None = None, client=None):
        try:
            from distributed import Client, LocalCluster
        except ImportError as e:  # pragma: no cover
            raise UsageError("--backend dask needs dask.distributed (pip install 'ratecheck[dask]')") from e
        self._own = []
        if client is not None:
            self.client = client
        elif scheduler:
            try:
                self.client = Client(scheduler, timeout=10)
            except OSError as e:
                raise UsageError(f"cannot reach the dask scheduler {scheduler!r}: {e}") from None
            self._own.append(self.client)
        else:
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                env=dict(BLAS_ENV),
            )
            self.client = Client(cluster)
            self._own += [self.client, cluster]
        self.workers = max(1, len(self.client.scheduler_info().get("workers", {})) or workers)

    def submit(self, unit):
        import uuid

        return self.client.submit(run_unit, unit, key=f"ratecheck-{unit.key}-{uuid.uuid4().hex[:8]}", pure=False)

    def wait(self, futs):
        from distributed import wait

        return list(wait(list(futs), return_when="FIRST_COMPLETED").done)

    @staticmethod
    def result(fut):
        return fut.result()

    def close(self):
        for obj in self._own:
            obj.close()


def _check_backend(name: str, workers: int, scheduler: str | None, client=None) -> None:
    if name not in BACKENDS:
        raise UsageError(f"backend must be one of {', '.join(BACKENDS)}, got {name!r}")
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or not 1 <= workers <= MAX_WORKERS:
        raise UsageError(f"workers must be an integer in [1, {MAX_WORKERS}], got {workers!r}")
    if (scheduler or client is not None) and name != "dask":
        raise UsageError("--scheduler needs --backend dask")


def _backend(name: str, workers: int, scheduler: str | None, client=None):
    _check_backend(name, workers, scheduler, client)
    if name == "serial":
        return _Serial()
    if name == "loky":
        return _Loky(int(workers))
    return _Dask(int(workers), scheduler, client)


# --------------------------------------------------------------------------- progress
class Progress:
    """``cells done/total, failures, ETA`` on a terminal; silent otherwise."""

    def __init__(self, total: int, enabled: bool | None = None, stream=None):
        self.stream = stream or sys.stderr
        if enabled is None:
            enabled = bool(getattr(self.stream, "isatty", lambda: False)()) and not os.environ.get("CI")
        self.enabled, self.total, self.done, self.failed = enabled, total, 0, 0
        self.t0 = time.perf_counter()

    def update(self, failed: bool = False) -> None:
        self.done += 1
        self.failed += bool(failed)
        if not self.enabled:
            return
        el = time.perf_counter() - self.t0
        eta = el / self.done * (self.total - self.done) if self.done else float("nan")
        width = 30
        fill = int(width * self.done / max(self.total, 1))
        self.stream.write(
            f"\r[{'#' * fill}{'.' * (width - fill)}] {self.done}/{self.total} cells, "
            f"{self.failed} failed, ETA {_hms(eta)}  "
        )
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def _hms(s: float) -> str:
    if not math.isfinite(s):
        return "--:--"
    s = int(round(s))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


# --------------------------------------------------------------------------- running
@dataclass
class SweepResult:
    """What a sweep did: the store, counts, failures and claim-level verdicts (scaling fits included)."""

    out: str
    keys: list
    ran: int
    skipped: int
    failed: list  # [{key, claim, cell, seed, error}] of units whose last attempt raised
    summary: list  # one dict per claim (and per fit group for scaling claims)
    verdicts: list  # verify.checking.Verdict objects of the scaling fits
    seconds: float
    resubmitted: int = 0  # units sent again because their worker died

    def frame(self, failed: bool = True):
        """This sweep's rows as a pandas DataFrame."""
        from .store import Store

        return Store(self.out).load(self.keys, failed=failed)

    @property
    def unexpected(self) -> bool:
        return bool(self.failed) or any(s["unexpected"] for s in self.summary)


def sweep(
    target,
    cells: Sequence[dict] | None = None,
    *,
    seeds: int = 1,
    out: str | os.PathLike = "ratecheck-sweep",
    backend: str = "loky",
    workers: int = 2,
    scheduler: str | None = None,
    client=None,
    quick: bool = False,
    base: dict | None = None,
    base_seed: int = 0,
    validate: str = "dry",
    progress: bool | None = None,
    max_attempts: int = 3,
    on_unit: Callable[[str, bool], None] | None = None,
) -> SweepResult:
    """Run ``target`` (claim, claim id, prefix or experiment name) over ``cells`` x ``seeds`` into ``out``.

    Units already in the store are skipped.  Returns a :class:`SweepResult`; the rows are in ``out``
    (:func:`verify.store.load`).  ``backend`` is ``"loky"`` (``workers`` local processes, BLAS pinned to one
    thread each), ``"dask"`` (an existing cluster at ``scheduler`` or ``client``, else a loopback
    ``LocalCluster`` with ``workers`` processes) or ``"serial"`` (in this process).
    """
    from .outputs import claim_dir
    from .store import Store, write_json_atomic

    t0 = time.perf_counter()
    _check_backend(backend, workers, scheduler, client)
    if Path(out, "parts").is_dir():
        # an existing store: ours and writable (checked before any work); unreadable parts are moved aside
        # to quarantine/ by the scan, so their units count as not done and run again
        store = Store(out, write=True)
        done = store.done_keys()
    else:
        claim_dir(out)  # refuses a folder the package did not write, or cannot write in, before any work
        store, done = None, set()
    units = plan(target, cells, seeds=seeds, base=base, quick=quick, base_seed=base_seed, validate=validate, done=done)
    todo = [u for u in units if u.key not in done]
    runner = _backend(backend, workers, scheduler, client) if todo else None  # e.g. an unreachable scheduler
    store = store or Store(out, write=True)
    store.clean_temporary()
    store.log_run(
        {
            "target": getattr(target, "id", str(target)),
            "cells": None if cells is None else list(cells),
            "seeds": seeds,
            "backend": backend,
            "workers": workers,
            "quick": quick,
            "base_seed": base_seed,
            "units": len(units),
            "to_run": len(todo),
            "version": units[0].meta["version"] if units else None,
            "git_rev": units[0].meta["git_rev"] if units else None,
        }
    )
    resubmitted = 0
    if todo:
        bar = Progress(len(todo), enabled=progress)
        try:
            resubmitted = _drive(runner, todo, store, bar, max_attempts, on_unit)
        finally:
            bar.close()
            runner.close()
    keys = [u.key for u in units]
    summary, verdicts = summarize(store, units)
    failed = _failures(store, units)
    res = SweepResult(
        str(out),
        keys,
        len(todo),
        len(units) - len(todo),
        failed,
        summary,
        verdicts,
        time.perf_counter() - t0,
        resubmitted,
    )
    write_json_atomic(
        store.path / "summary.json",
        {
            "summary": summary,
            "failed": failed,
            "ran": res.ran,
            "resubmitted": res.resubmitted,
            "skipped": res.skipped,
            "seconds": res.seconds,
        },
    )
    return res


def _drive(runner, todo, store, bar, max_attempts, on_unit) -> int:
    """Keep ``2 * workers`` units in flight; write each finished unit's part as soon as it arrives.

    A future that raises (its worker died: loky fails every future of a broken pool, and the next submit
    starts a fresh pool; dask gives up after its own retries) is resubmitted, up to ``max_attempts`` per
    unit.  Returns how many units were resubmitted."""
    pending = collections.deque(todo)
    resubmitted = 0
    in_flight: dict[Any, Unit] = {}
    attempts: collections.Counter = collections.Counter()
    limit = 2 * max(1, runner.workers)
    while pending or in_flight:
        while pending and len(in_flight) < limit:
            u = pending.popleft()
            in_flight[runner.submit(u)] = u
        for fut in runner.wait(in_flight):
            u = in_flight.pop(fut)
            try:
                key, table, bad = runner.result(fut)
            except Exception as e:  # noqa: BLE001 - the worker died or the unit could not travel
                attempts[u.key] += 1
                if attempts[u.key] < max_attempts:
                    pending.appendleft(u)
                    resubmitted += 1
                    continue
                from .store import failure_table

                key, bad = u.key, True
                table = failure_table(
                    dict(
                        u.meta,
                        key=u.key,
                        claim=getattr(u.claim, "id", u.claim),
                        experiment=getattr(u.experiment, "name", u.experiment),
                        seed=u.seed,
                        replicate=u.replicate,
                        params=_json(u.params),
                    ),
                    u.params,
                    f"{type(e).__name__}: {e} (after {attempts[u.key]} attempts)",
                )
            store.write(key, table, failed=bad)
            bar.update(bad)
            if on_unit is not None:
                on_unit(key, bad)
    return resubmitted


def _failures(store, units) -> list[dict]:
    bad = store.failed_keys() & {u.key for u in units}
    if not bad:
        return []
    cells = {u.key: u.cell for u in units}
    df = store.load(sorted(bad))
    return [
        {
            "key": r["key"],
            "claim": r["claim"],
            "cell": dict(cells[r["key"]]),
            "seed": int(r["seed"]),
            "error": r["error"],
        }
        for _, r in df.iterrows()
    ]


# --------------------------------------------------------------------------- summaries and scaling fits
def summarize(store, units: Sequence[Unit]) -> tuple[list[dict], list]:
    """Claim-level outcome of every claim in ``units`` (scaling claims: fitted and judged)."""
    from ratecheck import theorems

    from .checking import outcome

    if not units:
        return [], []
    df = store.load([u.key for u in units], failed=False)
    cells = {u.key: u.cell for u in units}
    by_claim: dict[str, list[Unit]] = collections.defaultdict(list)
    for u in units:
        by_claim[getattr(u.claim, "id", u.claim)].append(u)
    summary, verdicts = [], []
    for cid, us in by_claim.items():
        claim = us[0].claim if not isinstance(us[0].claim, str) else theorems.get(us[0].claim)
        rows = df[df["claim"] == cid] if len(df) else df
        firsts = rows.drop_duplicates("key") if len(rows) else rows
        n_failed = len({u.key for u in us}) - len(firsts)
        if claim.kind.value == "scaling" and len(firsts) and (firsts["verdict"] == PENDING).any():
            try:
                fitted = scaling_verdicts(claim, rows, us)
            except UsageError as e:  # e.g. a non-positive response: no law can be fitted
                rec = _summary_record(
                    claim, INCONCLUSIVE, VIOLATED if claim.expected_to_fail else HOLDS, None, len(firsts), n_failed
                )
                rec.update(unexpected=True, detail=f"no scaling fit: {e}")
                summary.append(rec)
                continue
            for v in fitted:
                verdicts.append(v)
                summary.append(
                    _summary_record(
                        claim,
                        v.verdict,
                        v.expected,
                        v.tightness,
                        len(firsts),
                        n_failed,
                        fit=dict(v.constants, detail=v.detail),
                        instance=v.instance,
                    )
                )
            continue
        states = [
            SimpleNamespace(verdict=str(s), expected=str(e)) for s, e in zip(firsts["verdict"], firsts["expected"])
        ]
        status, unexpected = outcome(states) if states else (INCONCLUSIVE, True)
        tight = firsts["tightness"].max() if len(firsts) else float("nan")
        rec = _summary_record(
            claim,
            status,
            VIOLATED if claim.expected_to_fail else HOLDS,
            None if not np.isfinite(tight) else float(tight),
            len(firsts),
            n_failed,
        )
        rec["unexpected"] = bool(unexpected or n_failed)
        if len(firsts):  # where it is worst: the first violating unit, else the tightest
            verdict_col = firsts["verdict"].astype(str)
            pool = firsts[verdict_col == VIOLATED] if status == VIOLATED else firsts
            worst = pool.loc[pool["tightness"].fillna(-np.inf).idxmax()]
            rec.update(
                instance=dict(cells[worst["key"]]),
                seed=int(worst["seed"]),
                violations=int((verdict_col == VIOLATED).sum()),
                detail=str(worst["detail"]),
            )
        summary.append(rec)
    return summary, verdicts


def _summary_record(claim, verdict, expected, tightness, units, failed, fit=None, instance=None) -> dict:
    rec = {
        "claim": claim.id,
        "paper": claim.paper,
        "provenance": claim.provenance.value,
        "kind": claim.kind.value,
        "verdict": verdict,
        "expected": expected,
        "unexpected": verdict != expected or failed > 0,
        "tightness": tightness,
        "units": units,
        "failed": failed,
        "instance": {},
        "seed": None,
    }
    if fit is not None:
        rec["fit"] = fit
    if instance is not None:
        rec["instance"] = instance  # scaling: the values of the other swept parameters; seed None (all seeds)
    return rec


def _response(measured: np.ndarray, how: str) -> float:
    ops = {"last": lambda a: a[-1], "first": lambda a: a[0], "max": np.max, "min": np.min, "mean": np.mean}
    if how not in ops:
        raise UsageError(f"setting 'response' must be one of {', '.join(ops)}, got {how!r}")
    return float(ops[how](measured))


def _scaling_record(claim, params: dict, consts: dict, measured, seed: int, rep: int, others, wall: float) -> dict:
    """One unit's contribution to a scaling fit: x (exact constant if reported), response, predicted exponent."""
    from ratecheck.theorems import ClaimError

    x_name = claim.scaling_in
    x = consts.get(x_name, params.get(x_name))
    if x is None:
        raise UsageError(f"claim {claim.id}: neither the constants nor the parameters give {x_name!r}")
    try:
        pred = claim.predicted_exponent(**{**params, **consts})
    except ClaimError as e:
        raise UsageError(f"claim {claim.id}: cannot evaluate the predicted exponent: {e}") from None
    y = _response(np.asarray(measured, dtype=float), scaling_settings(claim).response)
    return dict(
        x=float(x),
        y=y,
        seed=int(seed),
        rep=int(rep),
        group=tuple((k, params.get(k)) for k in others),
        pred=float(pred),
        wall=float(wall),
    )


def fit_scaling(claim, records: Sequence[dict]) -> list:
    """Judge a scaling claim from unit records (:func:`_scaling_record`): one Verdict per group."""
    from .checking import Evidence
    from .fit import scaling_fit

    st = scaling_settings(claim)
    x_name, how, form = claim.scaling_in, st.response, st.fit
    out = []
    for group, items in itertools.groupby(
        sorted(records, key=lambda r: json.dumps(r["group"], default=str)), key=lambda r: r["group"]
    ):
        items = list(items)
        x = np.array([r["x"] for r in items])
        y = np.array([r["y"] for r in items])
        reps = np.array([r["rep"] for r in items])
        pred = float(np.median([r["pred"] for r in items]))
        held: list = []  # the fit's warnings go into the verdict's detail, never raw to the console
        with warnings_after_success(into=held):
            fit = scaling_fit(x, y, replicate=reps, form=form, confidence=float(st.confidence), seed=0)
        xs = np.unique(x)
        ym = np.array([np.exp(np.mean(np.log(y[x == v]))) for v in xs])  # geometric means (fit checked y > 0)
        anchor = ym[len(xs) // 2] / xs[len(xs) // 2] ** pred
        consts = {
            "scaling_mode": st.scaling_mode,
            "exponent_tolerance": float(st.exponent_tolerance),
            "fitted_exponent": fit.slope,
            "interval_low": fit.interval[0],
            "interval_high": fit.interval[1],
            "predicted_exponent": pred,
            "fit_form": fit.form,
            "fit_method": fit.method,
            "points": int(x.size),
            "x_values": int(xs.size),
            "r2": fit.r2,
        }
        ev = Evidence(
            x_name,
            xs,
            ym,
            anchor * xs**pred,
            method="fit",
            fit=fit,
            predicted_exponent=pred,
            constants=consts,
            instance=dict(group),
            seed=0,
            note=f"{claim.measure} ({how}) vs {x_name}: {fit.form} fit over {x.size} units",
        )
        v = judge(claim, ev, seconds=float(sum(r["wall"] for r in items)))
        v.detail += warning_note(held)
        out.append(v)
    return out


def _others(claim, units: Sequence[Unit]) -> list[str]:
    return [k for k in sorted({k for u in units for k in u.cell}) if k != claim.scaling_in]


def scaling_verdicts(claim, rows, units: Sequence[Unit]) -> list:
    """Fit a scaling claim's stored responses against ``claim.scaling_in`` and judge: one Verdict per group of
    the other swept parameters."""
    others = _others(claim, units)
    recs = []
    for _, g in rows[rows["verdict"] == PENDING].groupby("key", sort=True, observed=True):
        recs.append(
            _scaling_record(
                claim,
                json.loads(g["params"].iloc[0]),
                json.loads(g["constants"].iloc[0]),
                g["measured"].to_numpy(float),
                g["seed"].iloc[0],
                g["replicate"].iloc[0],
                others,
                g["wall_time"].iloc[0],
            )
        )
    return fit_scaling(claim, recs)


def check_scaling(
    claim,
    experiment=None,
    instances: Sequence[dict] | None = None,
    seeds: int = 3,
    quick: bool = False,
    base_seed: int = 0,
) -> list:
    """Check a scaling claim in memory (serially, no store): run every instance x seed, fit, judge.

    ``instances`` default to the experiment's default instances for the claim (they should vary
    ``claim.scaling_in``).  This is what ``verify.check`` can call for claims of kind ``scaling``.
    """
    from . import experiments

    if isinstance(claim, str):
        from ratecheck import theorems

        claim = theorems.get(claim)
    exp = (
        experiment
        if isinstance(experiment, experiments.Experiment)
        else experiments.get(experiment or claim.experiment)
    )
    if claim.kind.value != "scaling":
        raise UsageError(f"claim {claim.id} is not a scaling claim")
    units = plan((claim, exp), instances, seeds=seeds, quick=quick, base_seed=base_seed, validate="params")
    others, recs = _others(claim, units), []
    for u in units:
        t0 = time.perf_counter()
        ev = _run_experiment(claim, exp, u.params, u.seed)
        consts = {k: v for k, v in ev.constants.items() if np.ndim(v) == 0}
        recs.append(
            _scaling_record(claim, u.params, consts, ev.measured, u.seed, u.replicate, others, time.perf_counter() - t0)
        )
    return fit_scaling(claim, recs)
