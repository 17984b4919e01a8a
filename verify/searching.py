r"""Tightness and counterexample search: hunt for the instance that breaks a claim.

:func:`search` explores an experiment's declared instance space
(:meth:`~verify.experiments.Experiment.search_space_for`) for the instance, and the seed, that
maximises the claim's tightness (measured/bound; for lower bounds bound/measured):

0. the experiment's default instances for the claim, exactly as :func:`verify.check` runs them (so
   a search is never weaker than the plain check; not charged to the budget);
1. the midpoint of the space, then random points (uniform; log-uniform for ``logfloat``), each
   with its own instance seed;
2. a local refinement around the best point found: coordinate moves in the unit cube of the numeric
   parameters with a halving step, every other value of each choice parameter, and fresh seeds;
3. at the first verdict ``violated`` the search stops and *shrinks* the counterexample toward a
   simpler instance (smallest integers, lowest spreads, first choices, shorter horizon ``T``,
   seed 0) that is still violated, and records it as a replayable JSON file.

A point goes through ``exp.from_search(point)`` (merged over the experiment's first ``quick``
instance for the claim, which fixes the horizon and replication counts) and ``exp.params``;
points the experiment or the claim's assumptions reject (:class:`~verify.checking.UsageError`,
:class:`theorems.ClaimError`) are skipped and counted.  Verdicts come from
:func:`verify.checking.judge`, so a Monte Carlo violation is always a confidence-bound violation, never
a noisy single draw; an ``inconclusive`` or ``violated`` Monte Carlo point is re-run once with four times
the replications and that run decides (a confirmation: the search tests many instances, so the 1%
family-wise error of one verdict would otherwise add up over the search).

The search is deterministic given ``seed`` (the budget counts runs, not seconds).

>>> from ratecheck.verify.searching import search, replay                     # doctest: +SKIP
>>> res = search("ef21.pl-qm~halved", budget=20, out="cx/")      # doctest: +SKIP
>>> res.verdict, res.counterexample                              # doctest: +SKIP
('violated', PosixPath('cx/ef21.pl-qm_halved-....json'))
>>> replay(res.counterexample).verdict                           # doctest: +SKIP
'violated'
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from ratecheck import theorems
from ratecheck.solvers import InvalidInput
from ratecheck.theorems import Claim, ClaimError, Kind

from ._version import __version__
from .checking import HOLDS, INCONCLUSIVE, VIOLATED, UsageError, Verdict, _jsonable, _resolve, check, judge, outcome
from .errors import warnings_after_success
from .optima import OptimumError
from .outputs import MARKER, check_out, claim_dir, mark

__all__ = [
    "search",
    "evaluate",
    "strategy",
    "replay",
    "reproduces",
    "load_counterexample",
    "write_counterexample",
    "SearchResult",
    "assert_claim_holds_search",
    "catalogue",
    "catalogue_markdown",
    "searchable",
    "DEFAULT_BUDGET",
    "MC_BUDGET",
    "SHRINK_BUDGET",
    "FORMAT",
    "NEAR_TIGHT",
]

DEFAULT_BUDGET = 48  #: runs per search (midpoint + random + local refinement); shrinking has its own budget
MC_BUDGET = 24  #: default budget when the claim's runs are Monte Carlo (each run is R replications)
SHRINK_BUDGET = 12  #: runs spent shrinking a counterexample
NEAR_TIGHT = 0.5  #: catalogue threshold: best-found tightness >= this is "near-tight"
FORMAT = "ratecheck-counterexample/1"
RANDOM_SHARE = 0.5  #: share of the budget spent on random points (after the midpoint)
MIN_STEP = 1 / 32  #: smallest coordinate move of the local refinement (unit-cube scale)
MIN_T = 2  #: shrinking never shortens the horizon below this
MC_RESOLVE = 4  #: an inconclusive Monte Carlo point is re-run once with this many times the replications
_INFEASIBLE = (UsageError, ClaimError, InvalidInput, OptimumError)  # a point the harness cannot judge: skipped, counted


# --------------------------------------------------------------------------- the space
class _Space:
    """A declared search space: ``name -> ("int"|"float"|"logfloat", lo, hi)`` or ``("choice", [values])``."""

    def __init__(self, spec: dict, owner: str):
        if not isinstance(spec, dict) or not spec:
            raise UsageError(f"experiment {owner!r}: search space must be a non-empty dict, got {spec!r}")
        self.spec = {}
        for name, s in spec.items():
            kind = s[0] if isinstance(s, (tuple, list)) and s else None
            if kind in ("int", "float", "logfloat") and len(s) == 3:
                lo, hi = s[1], s[2]
                if not (np.isfinite(lo) and np.isfinite(hi) and lo <= hi) or (kind == "logfloat" and lo <= 0):
                    raise UsageError(f"experiment {owner!r}: search range of {name!r} is invalid: {s!r}")
            elif kind == "choice" and len(s) == 2 and len(s[1]) >= 1:
                pass
            else:
                raise UsageError(
                    f"experiment {owner!r}: search spec of {name!r} must be ('int'|'float'|'logfloat', lo, hi) "
                    f"or ('choice', [values]), got {s!r}"
                )
            self.spec[name] = tuple(s)
        self.numeric = [n for n, s in self.spec.items() if s[0] != "choice"]
        self.choices = [n for n, s in self.spec.items() if s[0] == "choice"]

    def value(self, name: str, u: float):
        """Parameter value at unit coordinate ``u`` in [0, 1]."""
        kind, lo, hi = self.spec[name]
        u = min(1.0, max(0.0, float(u)))
        if kind == "int":
            return int(lo + round(u * (hi - lo)))
        if kind == "logfloat":
            return float(math.exp(math.log(lo) + u * (math.log(hi) - math.log(lo))))
        return float(lo + u * (hi - lo))

    def unit(self, name: str, v) -> float:
        kind, lo, hi = self.spec[name]
        if hi == lo:
            return 0.0
        if kind == "logfloat":
            return (math.log(v) - math.log(lo)) / (math.log(hi) - math.log(lo))
        return (float(v) - lo) / (hi - lo)

    def midpoint(self) -> dict:
        p = {n: self.value(n, 0.5) for n in self.numeric}
        p.update({n: self.spec[n][1][0] for n in self.choices})
        return self._ordered(p)

    def sample(self, rng: np.random.Generator) -> dict:
        p = {n: self.value(n, rng.uniform()) for n in self.numeric}
        p.update({n: self.spec[n][1][int(rng.integers(len(self.spec[n][1])))] for n in self.choices})
        return self._ordered(p)

    def probe(self, rng: np.random.Generator, k: int):
        """The midpoint, the two corners (all coordinates low, all high) and ``k`` random points: what a
        test of a space's validity walks."""
        yield self.midpoint()
        for u in (0.0, 1.0):
            p = {n: self.value(n, u) for n in self.numeric}
            p.update({n: self.spec[n][1][-1 if u else 0] for n in self.choices})
            yield self._ordered(p)
        for _ in range(k):
            yield self.sample(rng)

    def neighbours(self, point: dict, step: float) -> list[dict]:
        """Coordinate moves of size ``step`` (unit scale) and every other value of each choice."""
        out = []
        for n in self.numeric:
            u = self.unit(n, point[n])
            for v in (self.value(n, u + step), self.value(n, u - step)):
                if v != point[n]:
                    out.append(dict(point, **{n: v}))
        for n in self.choices:
            out += [dict(point, **{n: v}) for v in self.spec[n][1] if v != point[n]]
        return out

    def simpler(self, point: dict, name: str) -> list:
        """Candidate values of ``name`` simpler than the current one, simplest first."""
        s, v = self.spec[name], point[name]
        if s[0] == "choice":
            vals = list(s[1])
            return vals[: vals.index(v)] if v in vals else vals[:1]
        lo = s[1]
        if not v > lo:
            return []
        if s[0] == "int":
            cands = [lo, lo + (v - lo) // 2, v - 1]
        elif s[0] == "logfloat":
            cands = [lo, float(math.sqrt(lo * v))]
        else:
            cands = [lo, lo + (v - lo) / 2]
        return list(dict.fromkeys(c for c in cands if c < v))

    def _ordered(self, p: dict) -> dict:
        return {n: p[n] for n in self.spec}


# --------------------------------------------------------------------------- evaluations
@dataclass
class _Eval:
    point: dict
    seed: int
    overrides: dict
    verdict: Verdict | None = None
    params: dict | None = None
    reason: str = ""
    default: bool = False  #: one of the experiment's default instances (no search point: not shrunk)

    @property
    def feasible(self) -> bool:
        return self.verdict is not None

    @property
    def violated(self) -> bool:
        return self.verdict is not None and self.verdict.verdict == VIOLATED

    @property
    def score(self) -> float:
        return _score(self.verdict) if self.verdict is not None else -math.inf


def _score(v: Verdict) -> float:
    """The search objective: the verdict's tightness, or where it has none (bounds equal to zero, such as
    "the gap is 0"; lower bounds on measured values <= 0) the share of the floating-point tolerance used
    towards a violation, max(measured - bound)/slack (lower bounds: max(bound - measured)/slack)."""
    if v.tightness is not None:
        t = float(v.tightness)
        return math.inf if math.isnan(t) else t
    ev = v.evidence
    if ev is None or ev.measured.size == 0:
        return -math.inf
    finite = np.isfinite(ev.bound)
    scale = max(1.0, float(np.max(np.abs(ev.bound[finite])))) if finite.any() else 1.0
    slack = np.abs(ev.bound) * ev.rtol + ev.atol * scale
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        r = (ev.measured - ev.bound) / slack
    if v.kind == "lower":
        r = -r
    r = np.where(np.isnan(r), np.inf, r)
    return float(np.max(r))


class _Runner:
    """Evaluates points for one (claim, experiment): base instance, caching, budget accounting."""

    def __init__(self, claim: Claim, exp, base: dict):
        self.claim, self.exp, self.base = claim, exp, dict(base)
        self.proofs = claim.prove() if claim.identities else []
        self.cache: dict[str, _Eval] = {}
        self.runs = 0
        self.infeasible = 0
        self.history: list[_Eval] = []

    def key(self, point, seed, overrides) -> str:
        return json.dumps([_jsonable(point), int(seed), _jsonable(overrides)], sort_keys=True)

    def __call__(self, point: dict, seed: int, overrides: dict | None = None) -> _Eval:
        overrides = dict(overrides or {})
        k = self.key(point, seed, overrides)
        if k in self.cache:
            return self.cache[k]
        e = _Eval(dict(point), int(seed), overrides)
        self.runs += 1
        try:
            inst = dict(self.base)
            inst.update(self.exp.from_search(dict(point)))
            inst.update(overrides)
            e.params = self.exp.params(inst)
            e.verdict = self._run(e.params, e.seed)
            if (
                e.verdict.verdict in (INCONCLUSIVE, VIOLATED)
                and "monte-carlo" in e.verdict.method
                and isinstance(e.params.get("replications"), int)
            ):
                # resolve a straddling confidence interval, or confirm a Monte Carlo violation (many instances
                # are tested, so a 1% family-wise error per instance would add up): re-run with more replications
                self.runs += 1
                more = dict(e.params, replications=e.params["replications"] * MC_RESOLVE)
                e.params, e.verdict = more, self._run(more, e.seed)
        except _INFEASIBLE as err:
            e.verdict, e.params, e.reason = None, None, f"{type(err).__name__}: {err}"
            self.infeasible += 1
        self.cache[k] = e
        self.history.append(e)
        return e

    def default(self, params: dict, seed: int, verdict: Verdict | None = None) -> _Eval:
        """One of the experiment's default instances, run exactly (or its verdict, already computed)."""
        e = _Eval({}, int(seed), {}, default=True)
        try:
            if verdict is None:
                self.runs += 1
                e.params = self.exp.params(dict(params))
                e.verdict = self._run(e.params, e.seed)
            else:
                e.params, e.verdict = dict(verdict.instance), verdict
        except _INFEASIBLE as err:
            e.verdict, e.params, e.reason = None, None, f"{type(err).__name__}: {err}"
            self.infeasible += 1
        self.history.append(e)
        return e

    def _run(self, params: dict, seed: int) -> Verdict:
        t0 = time.perf_counter()
        with warnings_after_success():  # no raw warning before a point found infeasible while judging
            ev = self.exp.run(self.claim, params, seed=seed)
            ev.proofs = list(self.proofs)
            return judge(self.claim, ev, time.perf_counter() - t0)


# --------------------------------------------------------------------------- result
@dataclass
class SearchResult:
    """Outcome of :func:`search` for one claim.

    ``verdict`` is ``violated`` when a counterexample was found, ``holds`` when every feasible
    instance tried held, else ``inconclusive``; ``unexpected`` compares it with what the claim
    expects (``violated`` for teeth variants).  ``best`` is the verdict on the best instance (the
    shrunk counterexample after a violation), found at search point ``point`` with instance seed
    ``seed``; ``instance`` holds the full validated parameters that ran.
    """

    claim: str
    experiment: str
    verdict: str
    expected: str
    tightness: float | None
    point: dict
    seed: int
    instance: dict
    best: Verdict | None
    runs: int
    infeasible: int
    default_runs: int = 0
    skipped: dict = field(default_factory=dict)
    shrink_runs: int = 0
    shrunk_from: dict | None = None
    counterexample: Path | None = None
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    score: float | None = None
    search_seed: int = 0
    budget: int = DEFAULT_BUDGET
    history: list = field(default_factory=list, repr=False)

    @property
    def unexpected(self) -> bool:
        return self.verdict != self.expected

    def to_dict(self) -> dict:
        d = {k: v for k, v in dataclasses.asdict(self).items() if k not in ("best", "history")}
        d["counterexample"] = None if self.counterexample is None else str(self.counterexample)
        d["unexpected"] = self.unexpected
        if self.best is not None:
            d["detail"] = self.best.detail
            d["worst_at"] = self.best.worst_at
        return _jsonable(d)


# --------------------------------------------------------------------------- search
def searchable(claim: Claim, experiment=None):
    """``(experiment, space)`` for a claim search can judge; :class:`UsageError` (one line) otherwise."""
    from . import experiments as _exps

    if claim.kind is Kind.SCALING:
        raise UsageError(
            f"search cannot judge {claim.id}: a scaling claim has no bound to maximise measured/bound against"
        )
    if not claim.measure:
        raise UsageError(
            f"search cannot judge {claim.id}: an identity claim without a measure has no instances to search "
            "(use `ratecheck check`)"
        )
    exp = experiment if isinstance(experiment, _exps.Experiment) else _exps.get(experiment or claim.experiment or "")
    exp.validate_claim(claim)
    space = exp.search_space_for(claim)
    if not space:
        raise UsageError(f"experiment {exp.name!r} declares no search space, so claim {claim.id} cannot be searched")
    return exp, _Space(space, exp.name)


def _check_int(name: str, v, lo: int) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
        raise UsageError(f"{name} must be an integer >= {lo}, got {v!r}")
    return int(v)


def search(
    claim,
    experiment=None,
    budget: int | None = None,
    seed: int = 0,
    *,
    out=None,
    shrink: bool = True,
    shrink_budget: int = SHRINK_BUDGET,
    base: dict | None = None,
    quick: bool = False,
    defaults: Sequence[Verdict] | None = None,
) -> SearchResult:
    """Search an experiment's instance space for the instance maximising the claim's tightness.

    Parameters
    ----------
    claim : Claim or str
        A registered id (teeth variants included) or any :class:`theorems.Claim`.
    experiment : str or Experiment, optional
        Defaults to ``claim.experiment``; it must declare a search space.
    budget : int, optional
        Number of runs (instances x seeds) of the search phase, >= 1.  Default
        :data:`DEFAULT_BUDGET`, or :data:`MC_BUDGET` when the first run turns out to be Monte Carlo
        (either keeps one search under 60 s on 2 cores for the shipped claims).
    seed : int
        Seed of the search (point and instance-seed draws); the search is deterministic given it.
    out : path, optional
        Directory receiving the counterexample record when a violation is found.
    shrink : bool
        Shrink a counterexample toward a simpler instance (``shrink_budget`` extra runs at most).
    base : dict, optional
        Instance parameters under every point (default: the experiment's first quick instance).
    quick : bool
        Which default instances are evaluated first (those of ``verify.check(..., quick=quick)``).
    defaults : list of Verdict, optional
        The claim's verdicts on those default instances when they were already computed (e.g. by
        ``ratecheck check --search``): they are used instead of running the instances again.

    Notes
    -----
    The search first evaluates the experiment's default instances for the claim, exactly as
    :func:`verify.check` does, then explores the space; so it never reports ``holds`` where the plain
    check reports ``violated``.  These runs are not charged to ``budget``.
    """
    claim = _resolve(claim)
    auto = budget is None
    budget = DEFAULT_BUDGET if auto else _check_int("budget", budget, 1)
    seed = _check_int("seed", seed, 0)
    shrink_budget = _check_int("shrink_budget", shrink_budget, 0)
    exp, space = searchable(claim, experiment)
    if out is not None:
        check_out(out, "out")  # records can be written there: checked before the search runs
    if base is None:
        quick = exp.instances(claim, quick=True)
        base = dict(quick[0]) if quick else {}
    t0, c0 = time.perf_counter(), time.process_time()
    rng = np.random.default_rng(seed)
    run = _Runner(claim, exp, base)
    best: _Eval | None = None  # best search point (refined around)
    top_any: _Eval | None = None  # best of everything evaluated, default instances included
    found: _Eval | None = None

    def consider(e: _Eval) -> bool:
        nonlocal best, top_any, found, budget, auto
        if auto and e.feasible:  # the default budget depends on the cost of a run
            auto = False
            budget = MC_BUDGET if "monte-carlo" in e.verdict.method else DEFAULT_BUDGET
        if e.feasible and (top_any is None or e.score > top_any.score):
            top_any = e
        if e.feasible and not e.default and (best is None or e.score > best.score):
            best = e
        if e.violated:
            found = e
        return found is not None

    def draw_seed() -> int:
        return int(rng.integers(0, 2**16))

    # 0. the experiment's default instances: the search is a superset of the plain check
    if defaults is not None:
        for v in defaults:
            consider(run.default(v.instance, v.seed, verdict=v))
    else:
        for inst in exp.instances(claim, quick=quick):
            if consider(run.default(inst, seed)):
                break
    spent = run.runs  # not charged to the budget
    # 1. midpoint, then random points
    if found is None:
        consider(run(space.midpoint(), seed))
    while found is None and run.runs - spent < math.ceil(RANDOM_SHARE * budget):
        consider(run(space.sample(rng), draw_seed()))
    # 2. local refinement around the best point
    step = 0.25
    while found is None and best is not None and run.runs - spent < budget and step >= MIN_STEP:
        cands = space.neighbours(best.point, step)
        cands = [cands[i] for i in rng.permutation(len(cands))]
        moves = [(c, best.seed) for c in cands] + [(best.point, draw_seed())]
        improved = False
        for pt, s in moves:
            if run.runs - spent >= budget:
                break
            before = best
            if consider(run(pt, s)):
                break
            if best is not before:
                improved = True
                break
        if not improved:
            step /= 2
    if found is None and best is None:  # no feasible search point yet: spend what is left on random points
        while run.runs - spent < budget and not consider(run(space.sample(rng), draw_seed())):
            pass
    search_runs = run.runs
    # 3. shrink a counterexample (one found on a search point; a default instance is already a named instance)
    shrunk_from = None
    if found is not None and shrink and shrink_budget and not found.default:
        small = _shrink(run, space, found, search_runs + shrink_budget)
        if small is not found:
            shrunk_from = {"point": found.point, "seed": found.seed, "overrides": found.overrides}
            found = small
    feasible = [e for e in run.history if e.feasible]
    if found is not None:
        status, top = VIOLATED, found
    else:
        top = top_any
        status = HOLDS if feasible and all(e.verdict.verdict == HOLDS for e in feasible) else INCONCLUSIVE
    res = SearchResult(
        claim=claim.id,
        experiment=exp.name,
        verdict=status,
        expected=VIOLATED if claim.expected_to_fail else HOLDS,
        tightness=None if top is None else top.verdict.tightness,
        point={} if top is None else dict(top.point),
        seed=-1 if top is None else top.seed,
        instance={} if top is None else dict(top.params),
        best=None if top is None else top.verdict,
        runs=search_runs - spent,
        default_runs=spent,
        infeasible=run.infeasible,
        skipped=_reasons(run.history),
        shrink_runs=run.runs - search_runs,
        shrunk_from=shrunk_from,
        search_seed=seed,
        budget=budget,
        score=None if top is None else top.score,
        history=[
            (
                e.point,
                e.seed,
                e.overrides,
                None if e.verdict is None else e.verdict.verdict,
                e.score if e.feasible else None,
                e.reason,
            )
            for e in run.history
        ],
    )
    res.seconds, res.cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
    if found is not None and out is not None:
        res.counterexample = write_counterexample(res, out, claim=claim)
    return res


def _reasons(history: Sequence[_Eval]) -> dict:
    """Why points were skipped: the first line of each distinct reason (numbers elided) -> count."""
    out: dict = {}
    for e in history:
        if not e.feasible:
            key = re.sub(r"(?<![\w.])[-+]?\d[\d.e+-]*", "#", e.reason.splitlines()[0])[:120]
            out[key] = out.get(key, 0) + 1
    return out


def _shrink(run: _Runner, space: _Space, found: _Eval, limit: int) -> _Eval:
    """Greedy passes over the axes (each parameter, then the horizon ``T``, then the seed): replace
    the axis by its simplest value that keeps the instance violated."""

    def moves(cur: _Eval, axis: str) -> list[tuple[dict, int, dict]]:
        if axis == "T":
            T = cur.params.get("T")
            if not (isinstance(T, int) and T > MIN_T and "T" in run.base):
                return []
            ts = dict.fromkeys(t for t in (max(MIN_T, T // 4), max(MIN_T, T // 2)) if t < T)
            return [(cur.point, cur.seed, dict(cur.overrides, T=t)) for t in ts]
        if axis == "seed":
            return [(cur.point, 0, cur.overrides)] if cur.seed != 0 else []
        return [(dict(cur.point, **{axis: v}), cur.seed, cur.overrides) for v in space.simpler(cur.point, axis)]

    cur = found
    progress = True
    while progress and run.runs < limit:
        progress = False
        for axis in (*space.spec, "T", "seed"):
            for pt, s, ov in moves(cur, axis):
                if run.runs >= limit:
                    return cur
                e = run(pt, s, ov)
                if e.violated:
                    cur, progress = e, True
                    break
    return cur


# --------------------------------------------------------------------------- hypothesis
def strategy(experiment, claim: Claim | None = None):
    """A hypothesis strategy drawing points of an experiment's search space (for ``@given``).

    Integers shrink toward their lower end, floats toward the lower end of their range (log scale
    for ``logfloat``), choices toward the first value: the same notion of "simpler" as
    :func:`search`'s shrinker.  Evaluate a point with :func:`evaluate`.
    """
    from hypothesis import strategies as st

    from . import experiments as _exps

    exp = experiment if isinstance(experiment, _exps.Experiment) else _exps.get(experiment)
    spec = exp.search_space_for(claim) if claim is not None else exp.search_space
    if not spec:
        raise UsageError(f"experiment {exp.name!r} declares no search space")
    space = _Space(spec, exp.name)
    parts = {}
    for name, s in space.spec.items():
        if s[0] == "choice":
            parts[name] = st.sampled_from(list(s[1]))
        elif s[0] == "int":
            parts[name] = st.integers(int(s[1]), int(s[2]))
        else:
            parts[name] = st.floats(0.0, 1.0).map(lambda u, name=name: space.value(name, u))
    return st.fixed_dictionaries(parts)


def evaluate(claim, point: dict, seed: int = 0, experiment=None, base: dict | None = None) -> Verdict | None:
    """The verdict of ``claim`` on one search point (mapped like :func:`search` does), or ``None``
    when the experiment or the claim's assumptions reject the point."""
    claim = _resolve(claim)
    exp, _ = searchable(claim, experiment)
    if base is None:
        quick = exp.instances(claim, quick=True)
        base = dict(quick[0]) if quick else {}
    e = _Runner(claim, exp, base)(point, _check_int("seed", seed, 0))
    return e.verdict


# --------------------------------------------------------------------------- records
def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)


def counterexample_record(res: SearchResult, claim: Claim | None = None) -> dict:
    """The JSON-ready counterexample record of a search result that found a violation."""

    if res.best is None or res.verdict != VIOLATED:
        raise UsageError(f"search for {res.claim} found no violation: nothing to record")
    v = res.best
    w = dict(v.worst_at)
    measured, bound = w.pop("measured", None), w.pop("bound", None)
    rec = {
        "format": FORMAT,
        "claim": res.claim,
        "experiment": res.experiment,
        "instance": res.instance,
        "seed": res.seed,
        "measured": measured,
        "bound": bound,
        "where": w,
        "verdict": v.verdict,
        "tightness": v.tightness,
        "detail": v.detail,
        "expected_to_fail": bool(claim.expected_to_fail) if claim is not None else res.expected == VIOLATED,
        "point": res.point,
        "search": {
            "seed": res.search_seed,
            "budget": res.budget,
            "runs": res.runs,
            "shrink_runs": res.shrink_runs,
            "shrunk_from": res.shrunk_from,
        },
        "package_version": __version__,
    }
    if claim is not None:
        s = claim.summary()
        rec["statement"] = {k: s[k] for k in ("kind", "measure", "in_expectation", "bound", "stepsize", "assumptions")}
    return _jsonable(rec)


def write_counterexample(res: SearchResult, out, claim: Claim | None = None) -> Path:
    """Write the record of ``res`` into directory ``out`` atomically; return the file's path."""
    rec = counterexample_record(res, claim)
    d = Path(out)
    if not (d / MARKER).is_file():
        claim_dir(d)  # never write into a folder the package did not create
    d.mkdir(parents=True, exist_ok=True)
    if not (d / MARKER).is_file():
        mark(d, "counterexample records")
    text = json.dumps(rec, indent=1, sort_keys=False) + "\n"
    digest = hashlib.sha1(json.dumps([rec["instance"], rec["seed"]], sort_keys=True).encode()).hexdigest()[:8]
    path = d / f"{_safe(res.claim)}-{digest}.json"
    fd, tmp = tempfile.mkstemp(prefix=".cx-", suffix=".json", dir=d)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def load_counterexample(path) -> dict:
    """Read and validate a counterexample record."""
    p = Path(path)
    if not str(path).strip():
        raise UsageError("replay needs a counterexample file, got an empty path")
    if not p.is_file():
        raise UsageError(f"counterexample file {str(p)!r} " + ("is not a file" if p.exists() else "does not exist"))
    try:
        rec = json.loads(p.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as e:
        raise UsageError(f"{str(p)!r} is not a counterexample record (invalid JSON: {e})") from None
    except OSError as e:
        raise UsageError(f"counterexample file {str(p)!r} cannot be read ({e.strerror or type(e).__name__})") from None
    if not isinstance(rec, dict) or rec.get("format") != FORMAT:
        raise UsageError(f"{str(p)!r} is not a counterexample record (format must be {FORMAT!r})")
    missing = [k for k in ("claim", "experiment", "instance", "seed") if k not in rec]
    if missing:
        raise UsageError(f"{str(p)!r}: counterexample record lacks {', '.join(missing)}")
    for key, ok, rule in _RECORD_FIELDS:
        if key in rec and not ok(rec[key]):
            raise UsageError(f"{str(p)!r}: counterexample field {key!r} must be {rule}, got {_shown(rec[key])}")
    return rec


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _is_value(x) -> bool:
    """A recorded number: a JSON number, null, or a non-finite one as text (``"inf"``, ``"nan"``)."""
    return x is None or _is_number(x) or (isinstance(x, str) and x.strip().lower() in ("inf", "-inf", "nan"))


def _shown(x) -> str:
    text = json.dumps(x) if not isinstance(x, str) else repr(x)
    text = text if len(text) <= 60 else text[:57] + "..."
    return f"{type(x).__name__} {text}"


#: (field, check, rule) of a counterexample record; the required ones are checked for presence first
_RECORD_FIELDS = (
    ("claim", lambda x: isinstance(x, str) and x.strip() != "", "a claim id (a non-empty string)"),
    ("experiment", lambda x: isinstance(x, str) and x.strip() != "", "an experiment name (a non-empty string)"),
    ("instance", lambda x: isinstance(x, dict), "an object of instance parameters"),
    (
        "seed",
        lambda x: isinstance(x, int) and not isinstance(x, bool) and 0 <= x < 2**63,
        "an integer 0 <= seed < 2**63",
    ),
    ("verdict", lambda x: x is None or x in (HOLDS, VIOLATED, INCONCLUSIVE), "holds, violated, inconclusive or null"),
    ("measured", _is_value, "a number or null"),
    ("bound", _is_value, "a number or null"),
    ("tightness", _is_value, "a number or null"),
    ("where", lambda x: x is None or isinstance(x, dict), "an object (the grid point) or null"),
    ("detail", lambda x: x is None or isinstance(x, str), "a string or null"),
    ("expected_to_fail", lambda x: isinstance(x, bool), "true or false"),
)


def replay(path, claim: Claim | None = None, experiment=None) -> Verdict:
    """Re-run a counterexample record exactly and return the verdict.

    ``claim`` is needed for claims that are not registered (e.g. one from a user's file) and
    ``experiment`` for experiments that are not (an :class:`~verify.experiments.Experiment`
    object); they must carry the recorded id and name.
    """
    rec = load_counterexample(path)
    if claim is None:
        try:
            claim = theorems.get(rec["claim"])
        except ClaimError:
            raise UsageError(
                f"claim {rec['claim']!r} of {str(path)!r} is not registered; pass the claim "
                "(Python: replay(path, claim=...); CLI: --claim FILE.py:NAME or FILE.toml)"
            ) from None
    elif claim.id != rec["claim"]:
        raise UsageError(f"{str(path)!r} records claim {rec['claim']!r}, got claim {claim.id!r}")
    if experiment is not None and getattr(experiment, "name", experiment) != rec["experiment"]:
        got = getattr(experiment, "name", experiment)
        raise UsageError(f"{str(path)!r} records experiment {rec['experiment']!r}, got {got!r}")
    return check(claim, experiment=experiment or rec["experiment"], instances=[rec["instance"]], seed=rec["seed"])[0]


def reproduces(rec: dict, v: Verdict, rtol: float = 1e-12) -> bool:
    """Whether a replayed verdict reproduces a record: same verdict, same numbers at the same grid point."""
    w = dict(v.worst_at)
    got = [w.pop("measured", None), w.pop("bound", None), v.tightness]
    want = [rec.get("measured"), rec.get("bound"), rec.get("tightness")]
    if v.verdict != rec.get("verdict") or _jsonable(w) != rec.get("where"):
        return False
    for a, b in zip(_jsonable(got), want):
        if isinstance(a, float) and isinstance(b, float):
            if not (a == b or abs(a - b) <= rtol * max(abs(a), abs(b))):
                return False
        elif a != b:
            return False
    return True


# --------------------------------------------------------------------------- pytest helper
def assert_claim_holds_search(
    claim, experiment=None, budget: int | None = None, seed: int = 0, directory=None
) -> SearchResult:
    """Assertion helper for test suites: search for a counterexample and fail if the outcome is unexpected.

    A claim expected to hold fails with an :class:`AssertionError` naming the replayable
    counterexample file (written to ``directory``, default a fresh temporary directory); a teeth
    variant (``expected_to_fail``) fails when no violation is found.
    """
    res = search(
        claim,
        experiment=experiment,
        budget=budget,
        seed=seed,
        out=directory if directory is not None else tempfile.mkdtemp(prefix="ratecheck-cx-"),
    )
    if res.unexpected:
        if res.counterexample is not None:
            raise AssertionError(
                f"{res.claim}: violated on {res.point} (instance seed {res.seed}): {res.best.detail}\n"
                f"counterexample: {res.counterexample}\nreplay: ratecheck replay {res.counterexample}  "
                f"or ratecheck.verify.searching.replay({str(res.counterexample)!r})"
            )
        raise AssertionError(
            f"{res.claim}: search found it {res.verdict} (expected {res.expected}) after {res.runs} runs "
            f"({res.infeasible} infeasible); best tightness {res.tightness} on {res.point}, seed {res.seed}"
        )
    return res


# --------------------------------------------------------------------------- catalogue
def catalogue(
    claims: Iterable | None = None, budget: int | None = None, seed: int = 0, quick: bool = True, experiment=None
) -> list[dict]:
    """Per claim: default-instance tightness (``verify.check``) and the best tightness found by search.

    Rows carry ``claim``, ``default_verdict``, ``default_tightness``, ``search_verdict``,
    ``best_tightness``, ``best_point``, ``best_seed``, ``best_instance``, ``near_tight`` (best
    tightness >= :data:`NEAR_TIGHT`), ``best_changes`` (the best instance's parameters that differ
    from the experiment's defaults), ``unexpected`` (the search outcome contradicts the claim's
    expectation) and ``note`` (why a claim was not searched).
    """
    claims = list(theorems.all() if claims is None else claims)
    rows = []
    for c in claims:
        c = _resolve(c)
        vs = check(c, experiment=experiment if c.measure else None, quick=quick, seed=seed)
        rows.append(catalogue_row(c, vs, budget=budget, seed=seed, experiment=experiment))
    return rows


def catalogue_row(claim, verdicts, budget: int | None = None, seed: int = 0, experiment=None, out=None) -> dict:
    """One :func:`catalogue` row from a claim's default-instance verdicts plus a search (a counterexample
    record is written into ``out`` when one is found and ``out`` is given)."""
    c = _resolve(claim)
    tights = [v.tightness for v in verdicts if v.tightness is not None]
    row = {
        "claim": c.id,
        "kind": c.kind.value,
        "provenance": c.provenance.value,
        "default_verdict": outcome(verdicts)[0],
        "default_tightness": max(tights) if tights else None,
        "search_verdict": None,
        "best_tightness": None,
        "best_point": None,
        "best_seed": None,
        "best_instance": None,
        "best_changes": None,
        "best_score": None,
        "runs": 0,
        "seconds": 0.0,
        "note": "",
        "unexpected": False,
        "counterexample": None,
    }
    try:
        res = search(c, experiment=experiment, budget=budget, seed=seed, defaults=verdicts, out=out)
    except UsageError as e:
        row["note"] = str(e)
    else:
        row.update(
            search_verdict=res.verdict,
            unexpected=res.unexpected,
            best_tightness=res.tightness,
            best_point=res.point,
            best_seed=res.seed,
            best_instance=res.instance,
            best_score=res.score,
            best_changes=_changes(res.instance, res.experiment),
            runs=res.runs + res.shrink_runs,
            seconds=res.seconds,
            counterexample=None if res.counterexample is None else str(res.counterexample),
        )
    t = [x for x in (row["default_tightness"], row["best_tightness"]) if x is not None and np.isfinite(x)]
    row["near_tight"] = bool(t) and max(t) >= NEAR_TIGHT
    return _jsonable(row)


def _changes(instance: dict, experiment: str) -> dict:
    """The instance parameters that differ from the experiment's defaults."""
    from . import experiments as _exps

    try:
        defaults = _exps.get(experiment).defaults
    except UsageError:  # an unregistered experiment object
        return dict(instance)
    return {k: v for k, v in instance.items() if defaults.get(k, object()) != v}


def _fmt(t) -> str:
    if t is None:
        return "–"
    if isinstance(t, str) or not math.isfinite(t):
        return "∞" if t in (math.inf, "inf") else str(t)
    return f"{t:.3g}"


def catalogue_markdown(rows: Sequence[dict]) -> str:
    """Markdown tables: near-tight claims (tightness >= 0.5), loose ones, then claims without a ratio
    (a bound equal to 0, or identities without a measure)."""
    head = (
        "| claim | default verdict | default tightness | search verdict | best tightness | found on (instance, seed) |\n"
        "|---|---|---|---|---|---|"
    )

    def line(r):
        where = "–"
        if r["best_point"] is not None:
            inst = r["best_changes"] if r.get("best_changes") is not None else r["best_point"]
            where = ", ".join(f"{k}={_fmt(v) if isinstance(v, float) else v}" for k, v in inst.items()) or "defaults"
            where += f"; seed {r['best_seed']}"
        sv = r["search_verdict"] or f"not searched ({r['note']})"
        best = _fmt(r["best_tightness"])
        if r["best_tightness"] is None and isinstance(r.get("best_score"), float):
            best = f"– (max gap {r['best_score']:.2g} of the tolerance)"
        return f"| {r['claim']} | {r['default_verdict']} | {_fmt(r['default_tightness'])} | {sv} | {best} | {where} |"

    def section(r) -> str:
        if r["default_tightness"] is None and r["best_tightness"] is None:
            return "none"
        return "near" if r["near_tight"] else "loose"

    parts = []
    for title, key in (
        (f"Near-tight claims (tightness >= {NEAR_TIGHT:g})", "near"),
        (f"Loose claims (tightness < {NEAR_TIGHT:g})", "loose"),
        ("Claims without a tightness ratio (bound 0, or identities without a measure)", "none"),
    ):
        sel = [r for r in rows if section(r) == key]
        parts.append(f"### {title}\n\n" + ("\n".join([head] + [line(r) for r in sel]) if sel else "none") + "\n")
    return "\n".join(parts)
