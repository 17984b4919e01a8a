"""``ratecheck`` command line (also ``python -m ratecheck``).

::

    ratecheck [--version] [-h]
    ratecheck list [--json] [--teeth]
    ratecheck show ID-or-prefix ... [--latex] [--json] [--toml]
    ratecheck experiments [--json]
    ratecheck describe EXPERIMENT [--json]
    ratecheck check [ID-or-prefix ...] [--all] [--quick] [--json [--series]] [--report DIR | --no-report] [--jobs N]
                    [--seed S] [--param NAME=VALUE ...] [--no-teeth] [--search [BUDGET]] [-q | -v]
                    [--claim FILE.py:NAME | FILE.toml[:ID] --experiment NAME] [--data FILE --clients N]
    ratecheck search [ID-or-prefix ...] [--budget N] [--seed S] [--records DIR] [--jobs N]   (verify/searching.py)
    ratecheck replay FILE                                                                      (verify/searching.py)
    ratecheck sweep ... [--store DIR] / ratecheck merge ...                                    (verify/sweep.py)
    ratecheck worst-case CLAIM [--param NAME=VALUE ...] [--T N ...] [--json]             (verify/pep, extra [pep])
    ratecheck plot CLAIM --out FILE [--format pdf|svg|pgf|png] [--style plain|icml|neurips|iclr|jmlr]
                    [--param NAME=VALUE ...] [--seed S] [--quick]

Exit status: 0 when nothing is unexpected, 1 when some verdict is unexpected (a claim not
holding, or a teeth variant not caught), 2 for bad usage or bad input (one-line message).

``--help``, ``list`` and ``show`` print at once: the modules that run things (and through them cvxpy,
matplotlib and scipy.stats) are bound with :func:`verify._lazy.lazy_module` and load on the first command
that needs them, and ``list`` and ``show`` print the claims from the index shipped beside them
(:mod:`verify.catalogue`) while it is current, without building the registry (sympy).
"""

from __future__ import annotations

import argparse
import builtins
import collections
import concurrent.futures
import functools
import importlib.util
import json
import math
import os
import shlex
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

from ratecheck.solvers import InvalidInput

from . import catalogue as _catalogue
from ._lazy import lazy_module
from ._version import __version__
from .errors import UsageError, close_match
from .outputs import check_out, claim_dir

# the claims (sympy: what the commands that run claims need; `list` and `show` read the shipped index of
# verify.catalogue while it is current, `--help` and `--version` neither), and the modules behind the commands
# that run something, imported on first use
theorems = lazy_module("..theorems", __package__)
_claimfiles = lazy_module(".claimfiles", __package__)
_exps = lazy_module(".experiments", __package__)
_store = lazy_module(".store", __package__)
_sweep = lazy_module(".sweep", __package__)
_check = lazy_module(".checking", __package__)
_describe = lazy_module(".describe", __package__)
_figpkg = lazy_module(".figures", __package__)
_report = lazy_module(".report", __package__)
_search = lazy_module(".searching", __package__)
_verdict = lazy_module(".verdict", __package__)
_pep = lazy_module(".pep", __package__)

__all__ = ["main", "load_claim", "user_claims"]


def _bad_input() -> tuple:
    """The errors that are bad input (one line, exit 2): ours, the solvers' and, once the claims are loaded,
    :class:`theorems.ClaimError` (which cannot have been raised before)."""
    return (UsageError, InvalidInput) + ((theorems.ClaimError,) if theorems.loaded else ())


#: shown in the help without importing the search and sweep modules (tests/verify/test_cli_conventions.py checks
#: them against ``verify.searching.DEFAULT_BUDGET``, ``MC_BUDGET`` and ``verify.sweep.BACKENDS``)
_HELP_BUDGET, _HELP_MC_BUDGET = 48, 24
_HELP_BACKENDS = ("serial", "loky", "dask")
#: ``--jobs`` above this is refused (the bound of the sweeps' ``--workers``, ``verify.sweep.MAX_WORKERS``)
MAX_JOBS = 1024


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2
        if "invalid choice:" in message and self._subparsers is not None:  # a misspelled command
            for action in self._subparsers._group_actions:
                if isinstance(action, argparse._SubParsersAction):
                    wrong = message.split("invalid choice:", 1)[1].split("(", 1)[0].strip().strip("'")
                    message += close_match(wrong, action.choices)
        raise UsageError(message)


def load_claim(spec: str) -> theorems.Claim:
    """Load ``NAME`` from a Python file ``FILE.py`` given as ``"FILE.py:NAME"``."""
    if ":" not in spec:
        raise UsageError(f"--claim must look like path/to/file.py:NAME, got {spec!r}")
    path, name = spec.rsplit(":", 1)
    p = Path(path)
    if not path.strip():
        raise UsageError(f"--claim must look like path/to/file.py:NAME, got {spec!r} (no file)")
    if not name.strip():
        raise UsageError(f"--claim must look like path/to/file.py:NAME, got {spec!r} (no name)")
    if not p.is_file():
        raise UsageError(f"--claim: file {path!r} " + ("is not a file" if p.exists() else "does not exist"))
    mod_name = f"_ratecheck_user_{abs(hash(str(p.resolve())))}"
    sp = importlib.util.spec_from_file_location(mod_name, p)
    if sp is None or sp.loader is None:
        raise UsageError(f"--claim: {path!r} is not a Python file")
    mod = importlib.util.module_from_spec(sp)
    try:
        sp.loader.exec_module(mod)  # runs the file as Python code (the README says so)
    except SystemExit as e:  # sys.exit()/exit() in the file: an error of the file, not the end of our run
        raise UsageError(
            f"--claim: {path!r} called sys.exit({e.code!r}) while being imported; a claim file must "
            "define claims, not exit"
        ) from None
    except Exception as e:  # the user's file failed to import (KeyboardInterrupt stays an interrupt)
        raise UsageError(f"--claim: importing {path!r} failed: {type(e).__name__}: {e}") from None
    if not hasattr(mod, name):
        raise UsageError(f"--claim: {path!r} defines no name {name!r}")
    obj = getattr(mod, name)
    if not isinstance(obj, theorems.Claim):
        raise UsageError(f"--claim: {path}:{name} is a {type(obj).__name__}, not a theorems.Claim")
    return obj


def user_claims(spec: str) -> list:
    """The claims a ``--claim`` argument names: ``FILE.py:NAME`` (Python, :func:`load_claim`), or a claim
    file ``FILE.toml`` (all its claims) or ``FILE.toml:ID`` (LaTeX in TOML, :mod:`verify.claimfiles`: read,
    never executed)."""
    if _claimfiles.is_claim_file(spec):
        if str(spec).endswith(".toml"):
            return _claimfiles.load_claims(spec)
        return [_claimfiles.load_claim(spec)]
    return [load_claim(spec)]


_CLAIM_HELP = "a claim of your own: FILE.py:NAME (Python) or FILE.toml[:ID] (a claim file, LaTeX in TOML)"
_IDS_HELP = (
    "claim ids or id prefixes, e.g. ef21 (every claim whose id starts with it) or ef21.pl-qm~halved (a teeth variant)"
)
_JSON_HELP = "print machine-readable JSON on stdout instead of text (no progress display)"


def _verbosity(p: argparse.ArgumentParser, top: bool = False) -> None:
    """``-q``/``-v`` on the main parser and on every command (``ratecheck -q check`` = ``ratecheck check -q``)."""
    d = {} if top else {"default": argparse.SUPPRESS}
    p.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print only what is unexpected (with its counterexample) and the final summary",
        **d,
    )
    p.add_argument(
        "-v",
        "--verbose",
        action="count",
        help="also print every instance's verdict and detail (and, with -vv, the warnings met outside verdicts)",
        **({"default": 0} if top else d),
    )


def _jobs(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=1,
        metavar="N",
        help="run N claims at a time in worker processes (joblib/loky, one BLAS thread each); the results are "
        "identical to a serial run (default: 1)",
    )


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="ratecheck",
        description="Check convergence-rate theorems numerically.",
        epilog="`ratecheck COMMAND -h` explains a command. Exit status: 0 nothing unexpected, 1 something "
        "unexpected (a claim that does not hold, a teeth variant not caught), 2 bad usage or input, "
        "130 interrupted. Colour on a terminal; NO_COLOR=1 turns it off.",
    )
    p.add_argument("--version", action="version", version=f"ratecheck {__version__}")
    _verbosity(p, top=True)
    sub = p.add_subparsers(dest="cmd", parser_class=_Parser, metavar="COMMAND")
    ls = sub.add_parser("list", help="list the catalogue of claims")
    ls.add_argument("--json", action="store_true", help="print the catalogue as JSON (one summary per claim)")
    ls.add_argument("--teeth", action="store_true", help="include the deliberately wrong variants")
    _verbosity(ls)
    sh = sub.add_parser("show", help="show claims: statement, provenance, assumptions, teeth")
    sh.add_argument("ids", nargs="+", metavar="id", help=_IDS_HELP)
    form = sh.add_mutually_exclusive_group()  # one output form: two would silently drop one
    form.add_argument("--latex", action="store_true", help="print the statement as LaTeX")
    form.add_argument(
        "--json", action="store_true", help="print the summary as JSON (a list when several claims match)"
    )
    form.add_argument("--toml", action="store_true", help="print the claim as a claim file (TOML with LaTeX) to edit")
    _verbosity(sh)
    ex = sub.add_parser("experiments", help="list the experiments (what claims can be checked against)")
    ex.add_argument("--json", action="store_true", help="print the list as JSON")
    _verbosity(ex)
    de = sub.add_parser(
        "describe",
        help="describe an experiment: parameters, constants, measures, settings, default instances, search space",
    )
    de.add_argument("experiment", help="experiment name (see `ratecheck experiments`)")
    de.add_argument("--json", action="store_true", help="print the description as JSON")
    _verbosity(de)
    ck = sub.add_parser(
        "check",
        help="check claims on their default instances and write a report",
        description="Check claims (and their teeth) on their experiments' default instances; print one line per "
        "claim, the counterexample of every unexpected verdict, and write a report folder.",
    )
    ck.add_argument("ids", nargs="*", metavar="id", help=_IDS_HELP)
    ck.add_argument("--all", action="store_true", help="every claim in the catalogue")
    ck.add_argument("--quick", action="store_true", help="small instances (fast)")
    ck.add_argument("--json", action="store_true", help=_JSON_HELP)
    ck.add_argument(
        "--report",
        "--out",
        dest="out",
        default="ratecheck-report",
        metavar="DIR",
        help="the report folder to write, replaced atomically (default: ratecheck-report; --out is the same option)",
    )
    ck.add_argument("--no-report", action="store_true", help="do not write a report")
    ck.add_argument("--no-teeth", action="store_true", help="skip the teeth variants of the selected claims")
    ck.add_argument(
        "--series",
        action="store_true",
        help="with --json: each verdict record carries its series (grid, measured, ...)",
    )
    ck.add_argument(
        "--seed", type=int, default=0, help="seed of the instance data and of every random choice (default: 0)"
    )
    ck.add_argument(
        "--param",
        action="append",
        metavar="NAME=VALUE",
        help="instance parameter (repeatable; names and rules: `ratecheck describe EXPERIMENT`); "
        "replaces the default instances by one instance",
    )
    ck.add_argument("--data", metavar="FILE", help="a LIBSVM/svmlight data file (experiments that accept real data)")
    ck.add_argument("--clients", type=int, metavar="N", help="number of clients to split --data across")
    ck.add_argument("--claim", action="append", metavar="FILE", help=_CLAIM_HELP)
    ck.add_argument("--experiment", help="experiment to check --claim against (default: the claim's own)")
    ck.add_argument(
        "--worst-case",
        action="store_true",
        help="add the worst case over each expressible claim's class (PEP, extra [pep]) to the report: empirical "
        "<= PEP (with its kind) <= claim, at small horizons (about 1-2 s per claim)",
    )
    ck.add_argument(
        "--search",
        nargs="?",
        type=int,
        const=0,
        default=None,
        metavar="BUDGET",
        help="also search each claim's instance space for its tightest instance (optional run budget) "
        "and report the best tightness found next to the default one",
    )
    _jobs(ck)
    _verbosity(ck)
    _add_sweep_parsers(sub)
    _add_search_parsers(sub)
    _add_plot_parser(sub)
    _add_worst_case_parser(sub)
    return p


def _select(ids, teeth: bool = False) -> list:
    """The claims that ``ids`` name (ids or prefixes, teeth variants by their full id), in catalogue order per
    pattern, plus their teeth variants when ``teeth``; one line with close ids for a name that matches nothing."""
    claims = list(theorems.select(ids))
    if teeth:
        claims += [t for c in list(claims) for t in theorems.teeth(c.id)]
    return claims


def _cmd_list(a) -> int:
    cat = _catalogue.current()  # the shipped index while it is current (no sympy), else the registry
    claims = cat.all() + (cat.teeth() if a.teeth else ())
    if a.json:
        print(json.dumps([c.summary() for c in claims], indent=1))
        return 0
    w = max(len(c.id) for c in claims)
    for c in claims:
        print(f"{c.id:<{w}}  {c.kind:<8}  [{c.provenance}]  {c.title}")
    return 0


def _cmd_show(a) -> int:
    if a.toml:  # the claim objects themselves: the registry
        print("\n".join(_claimfiles.claim_to_toml(c) for c in _select(a.ids)), end="")
        return 0
    claims = _catalogue.current().select(a.ids)
    if a.json:
        out = [c.summary() for c in claims]
        print(json.dumps(out[0] if len(out) == 1 else out, indent=1))
        return 0
    for k, c in enumerate(claims):
        if k:
            print()
        if a.latex:
            print(f"{c.id}: {c.latex()}" if len(claims) > 1 else c.latex())
            continue
        _show_text(c)
    return 0


def _show_text(c: _catalogue.Entry) -> None:
    s = c.summary()
    print(f"{c.id}: {c.title}\n  paper:      {c.paper}\n  provenance: [{c.provenance}] {c.provenance_note}")
    print(f"  kind:       {c.kind}{' (in expectation)' if c.in_expectation else ''}; measure: {c.measure or '-'}")
    for key in ("stepsize", "bound", "exponent"):
        if s[key]:
            print(f"  {key + ':':<11} {s[key]}")
    for a_ in s["assumptions"]:
        print(f"  assumes:    {a_}")
    for i in s["identities"]:
        print(f"  identity:   {i}")
    if c.expected_to_fail:
        print(f"  expected to fail: {c.expected_to_fail}")
    if c.teeth:
        print("  teeth:      " + ", ".join(c.teeth))
    if c.description:
        print(f"  note:       {c.description}")


def _instances(exp, a) -> list[dict] | None:
    """The one instance that ``--param`` (and ``--data``/``--clients``) describe, parsed and validated by
    the experiment's schema; ``None`` (the default instances) when no parameter is given."""
    params = exp.parse_params(a.param or [])
    for name in ("data", "clients"):
        if getattr(a, name) is not None:
            params[name] = exp.schema.param(name, f"--{name}: experiment {exp.name!r}: ").validate(getattr(a, name))
    if not params:
        return None
    exp.params(params)
    return [params]


def _cmd_experiments(a) -> int:
    rows = [{"name": e.name, "title": e.title, "measures": list(e.measures)} for e in _exps.all_experiments().values()]
    if a.json:
        print(json.dumps(rows, indent=1))
        return 0
    w = max(len(r["name"]) for r in rows)
    for r in rows:
        print(f"{r['name']:<{w}}  {r['title']}")
    print("\n`ratecheck describe NAME` lists an experiment's parameters, constants, measures and settings.")
    return 0


def _cmd_describe(a) -> int:
    e = _exps.get(a.experiment)
    if a.json:
        print(json.dumps(_describe.describe(e), indent=1))
    else:
        print(_describe.describe_text(e))
    return 0


# --------------------------------------------------------------------------- console: colour, progress, levels
_COLOURS = {"holds": "32", "violated": "31", "inconclusive": "33", "UNEXPECTED": "1;31", "ok": "32"}


def _colour_on(stream) -> bool:
    """Colour on a terminal, unless ``NO_COLOR`` is set (https://no-color.org) or ``TERM=dumb``."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


class _Console:
    """What a command prints: its lines on stdout (by level: ``-q`` keeps only what is unexpected and the
    summary, ``-v`` adds every instance), verdict words in colour on a terminal, and a progress line with a
    counter and ETA on stderr when stderr is a terminal (never under ``--json``/``-q``, never when piped)."""

    def __init__(self, a, total: int = 0, what: str = "claims"):
        self.json = bool(getattr(a, "json", False))
        self.quiet = bool(getattr(a, "quiet", False))
        self.verbose = int(getattr(a, "verbose", 0) or 0)
        self.colour = not self.json and _colour_on(sys.stdout)
        enabled = (
            not self.json
            and not self.quiet
            and bool(getattr(sys.stderr, "isatty", lambda: False)())
            and not os.environ.get("CI")
        )
        self.progress = _Progress(total, what, enabled)

    def paint(self, word: str, width: int = 0) -> str:
        text = f"{word:<{width}}"
        code = _COLOURS.get(word)
        if not self.colour or code is None:
            return text
        return f"\x1b[{code}m{word}\x1b[0m" + text[len(word) :]

    def print(self, text: str = "", level: int = 0) -> None:
        """``level`` 0: default output; 1: only with ``-v``; -1: also under ``-q``.  Nothing under ``--json``."""
        if self.json or (self.quiet and level >= 0) or level > self.verbose:
            return
        self.progress.clear()
        print(text, flush=True)
        self.progress.draw()


class _Progress:
    """``[12/151] 4 unexpected  elapsed 0:01:10  ETA 0:02:30  ef21.pl-qm`` on stderr, redrawn in place."""

    def __init__(self, total: int, what: str, enabled: bool):
        self.total, self.what, self.enabled = total, what, enabled
        self.done, self.unexpected, self.label = 0, 0, ""
        self.t0 = time.perf_counter()
        self._shown = False

    def restart(self, total: int, what: str) -> None:
        self.clear()
        self.total, self.what, self.done, self.label = total, what, 0, ""
        self.t0 = time.perf_counter()
        self.draw()

    def advance(self, label: str = "", unexpected: bool = False) -> None:
        self.done += 1
        self.unexpected += bool(unexpected)
        self.label = label
        self.clear()
        self.draw()

    def draw(self) -> None:
        if not self.enabled or not self.total:
            return
        el = time.perf_counter() - self.t0
        eta = el / self.done * (self.total - self.done) if self.done else math.nan
        bad = f" {self.unexpected} unexpected" if self.unexpected else ""
        line = f"[{self.done}/{self.total} {self.what}]{bad}  elapsed {_hms(el)}  ETA {_hms(eta)}  {self.label}"
        width = shutil.get_terminal_size((80, 20)).columns
        sys.stderr.write("\r" + line[: max(width - 1, 10)])
        sys.stderr.flush()
        self._shown = True

    def clear(self) -> None:
        if self._shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
            self._shown = False

    def close(self) -> None:
        self.clear()
        self.enabled = False


def _hms(s: float) -> str:
    if not math.isfinite(s):
        return "--:--"
    s = int(round(s))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


# --------------------------------------------------------------------------- running claims, serially or in parallel
def _check_jobs(jobs) -> int:
    if isinstance(jobs, bool) or not isinstance(jobs, int) or not 1 <= jobs <= MAX_JOBS:
        raise UsageError(f"--jobs must be an integer in [1, {MAX_JOBS}], got {jobs!r}")
    return jobs


def _portable(claim):
    """A registered claim travels to a worker by id (the worker has the same object), any other by value."""
    try:
        if theorems.get(claim.id) is claim:
            return claim.id
    except theorems.ClaimError:
        pass
    return claim


def _claim_unit(task: dict) -> dict:
    """One work unit of ``check``/``search`` (run in a worker process, or here when ``--jobs 1``): a claim's
    default instances, then, when asked, its search.  Deterministic given the task (the seeds are in it), so
    the result does not depend on the process or the order it runs in."""
    if task["kind"] == "figures":  # an experiment's report figures, drawn into a scratch folder
        e = _exps.get(task["experiment"])
        return {"files": _figpkg.experiment_figures(e, task["verdicts"], task["dir"], quick=task["quick"])}
    if task["kind"] == "worst_case":  # a claim's sandwich at its family's default constants (PEP solves)
        s = _pep.sandwich(task["claim"], None, _REPORT_WC_T.get(task["claim"].split(".")[0].split("-")[0]))
        s.pop("records", None)
        return {"sandwich": s}
    claim = task["claim"]
    claim = theorems.get(claim) if isinstance(claim, str) else claim
    out: dict = {"claim": claim.id}
    if task["kind"] == "search":
        out["result"] = _search.search(
            claim, experiment=task["experiment"], budget=task["budget"], seed=task["seed"], out=task["out"]
        )
        return out
    exp = _exps.get(task["experiment"]) if task["experiment"] else None
    vs = _check.check(claim, experiment=exp, instances=task["instances"], seed=task["seed"], quick=task["quick"])
    out["verdicts"] = vs
    if task["search"] is not None and not claim.expected_to_fail:
        out["row"] = _search.catalogue_row(
            claim, vs, budget=task["search"] or None, seed=task["seed"], experiment=exp, out=task["out"]
        )
    if task.get("figdir") and _figpkg.telling(vs) is not None:  # the report's figure and series, drawn here
        out["drawn"] = _figpkg.ClaimFigure(claim.id, vs, _report.safe_name(claim.id), claim)(task["figdir"])
    return out


def _worker_unit(task: dict) -> dict:
    """:func:`_claim_unit` in a loky worker: BLAS pinned to one thread (threadpoolctl), the claim's warnings
    kept with its verdicts (``verify.errors.warnings_after_success``), none printed by the worker."""
    _sweep._limit_threads()
    with warnings.catch_warnings(record=True) as stray:  # what the verdicts did not keep: counted by the parent
        out = _claim_unit(task)
    out["stray_warnings"] = [_warning_record(w) for w in stray]
    return out


def _worker_units(tasks: list) -> list:
    """:func:`_worker_unit` on tasks that run together, in order, in one worker (a claim and its teeth
    variants: the variants that change only the bound reuse the claim's runs from the worker's cache)."""
    return [_worker_unit(t) for t in tasks]


def _warning_record(w) -> dict:
    return {"category": w.category.__name__, "message": str(w.message), "filename": w.filename, "lineno": w.lineno}


def _run_units(tasks: list, jobs: int, on_done, on_finish=None, *, order=None, follow=None, together=None) -> list:
    """Run :func:`_claim_unit` on every task, ``jobs`` at a time, and return the results in task order.

    ``on_done(i, result)`` is called in task order (a result that finishes early waits for the ones before
    it), so the output is the same for every ``jobs``; ``on_finish(i, result)`` as soon as a task finishes
    (the progress display).  ``order`` is the order in which the tasks are started (default: task order);
    it changes when results arrive, never what they are.  ``together`` lists groups of task indices that run
    one after the other in the same process (a group starts where its first member comes in ``order``).
    ``follow(i, result)`` may return new tasks, which are appended to ``tasks`` and started before any task
    still waiting (e.g. an experiment's figures, as soon as its last claim is checked), so no worker idles at
    a phase boundary."""
    results: list = [None] * len(tasks)
    group_of = {i: tuple(g) for g in together or () for i in g}
    pending: collections.deque = collections.deque()
    started: set = set()
    for i in range(len(tasks)) if order is None else order:
        g = group_of.get(i, (i,))
        if g not in started:
            started.add(g)
            pending.append(g)
    # one BLAS thread here too: a multi-threaded BLAS sums in another order (last-digit differences, e.g. in an
    # eigenvalue), and the results of --jobs 1 must be those of the workers, whose BLAS is pinned
    _sweep._limit_threads()
    shown = 0

    def finish(i, res) -> None:
        nonlocal shown
        results[i] = res
        if on_finish is not None:
            on_finish(i, res)
        for t in follow(i, res) if follow is not None else ():
            tasks.append(t)
            results.append(None)
            pending.appendleft((len(tasks) - 1,))
        while shown < len(tasks) and results[shown] is not None:
            on_done(shown, results[shown])
            shown += 1

    if jobs == 1 or len(tasks) <= 1 and follow is None:
        while pending:
            for i in pending.popleft():
                finish(i, _claim_unit(tasks[i]))
        return results
    try:
        ex = _sweep.loky_executor(jobs if follow is not None else min(jobs, len(tasks)))
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise UsageError(f"--jobs {jobs} needs joblib (pip install joblib), or use --jobs 1") from e
    running: dict = {}

    def top_up() -> None:  # a few groups queued beyond the workers, so that none waits for the next submission
        while pending and len(running) < jobs + 2:
            g = pending.popleft()
            running[ex.submit(_worker_units, [tasks[i] for i in g])] = g

    try:
        top_up()
        while running:
            finished, _ = concurrent.futures.wait(running, return_when=concurrent.futures.FIRST_COMPLETED)
            for fut in finished:
                g = running.pop(fut)
                for i, res in zip(g, fut.result()):
                    for w in res.pop("stray_warnings", []):  # a worker's warnings, shown here like the serial run's
                        warnings.warn_explicit(w["message"], _warning_class(w["category"]), w["filename"], w["lineno"])
                    finish(i, res)
            top_up()
    except BaseException:
        for f in running:
            f.cancel()
        raise
    return results


def _warning_class(name: str) -> type:
    cls = getattr(builtins, name, None)
    return cls if isinstance(cls, type) and issubclass(cls, Warning) else UserWarning


# --------------------------------------------------------------------------- check
def _cmd_check(a, argv) -> int:
    if a.series and not a.json:  # the series travel in the JSON records (a report has them as CSV files)
        raise UsageError("--series needs --json (the report folder has every series as <claim>.csv)")
    if a.clients is not None and a.data is None:  # it would be silently ignored
        raise UsageError(
            f"--clients needs --data (the number of clients to split a data file across), got "
            f"--clients {a.clients} without --data"
        )
    jobs = _check_jobs(a.jobs)
    claims: list = []
    if a.claim:
        claims += [c for s in a.claim for c in user_claims(s)]
    if a.all:
        claims += list(theorems.all())
    elif a.ids:
        claims += _select(a.ids)
    if not claims:
        raise UsageError(
            "name claim ids or prefixes (see `ratecheck list`), use --all, or give --claim FILE.py:NAME "
            "or --claim FILE.toml"
        )
    families: list = []  # a claim and its teeth variants: checked one after the other in the same worker
    if not a.no_teeth and not a.claim:
        n_own = len(claims)
        for k in range(n_own):
            teeth = theorems.teeth(claims[k].id)
            families.append([k, *range(len(claims), len(claims) + len(teeth))])
            claims += teeth
    exp = _exps.get(a.experiment) if a.experiment else None
    if a.seed < 0:
        raise UsageError(f"--seed must be >= 0, got {a.seed}")
    if a.search is not None and a.search < 0:
        raise UsageError(f"--search budget must be a positive integer, got {a.search}")
    if a.worst_case and importlib.util.find_spec("PEPit") is None:
        raise UsageError(f"--worst-case needs PEPit; install the extra: {_pep.PEP_EXTRA}")
    if not a.no_report:
        claim_dir(a.out)  # the report folder may be written, checked before any work
    # validate every claim against its experiment's schema, and the parameters, before running anything
    instances: dict = {}
    for c in claims:
        e = exp or (_exps.get(c.experiment) if c.measure else None)
        if e is not None:
            e.validate_claim(c)
            instances[c.id] = _instances(e, a)
    con = _Console(a, total=len(claims))
    scratch: list = []  # folders of figures drawn by workers (removed at the end)
    records = None  # counterexample records found by --search (copied into the report)
    if a.search is not None:
        records = Path(tempfile.mkdtemp(prefix="ratecheck-cx-"))
    t0 = time.perf_counter()
    tasks = [
        {
            "kind": "check",
            "claim": _portable(c),
            "experiment": a.experiment,
            "instances": instances.get(c.id),
            "seed": a.seed,
            "quick": a.quick,
            "search": a.search,
            "out": None if records is None else str(records),
        }
        for c in claims
    ]
    by_id = {c.id: c for c in claims}
    exp_of = {c.id: (exp.name if exp else c.experiment) for c in claims if c.measure}
    names = list(dict.fromkeys(exp_of.values()))
    # With a report and workers, everything is drawn by the workers while the claims run: each unit draws its
    # claim's figure into a scratch folder, and an experiment's figures start as soon as its last claim (or
    # teeth variant) is checked.  The units are started experiment by experiment for that; the output keeps
    # the catalogue's order.
    overlap = not a.no_report and jobs > 1
    if overlap:
        drawn_dir = tempfile.mkdtemp(prefix="ratecheck-claimfig-")
        scratch.append(drawn_dir)
        for t in tasks:
            t["figdir"] = drawn_dir
    group = {name: [i for i, c in enumerate(claims) if exp_of.get(c.id) == name] for name in names}
    order = [i for name in names for i in group[name]] + [i for i, c in enumerate(claims) if c.id not in exp_of]
    # the worst-case column's PEP solves need no verdict: they run beside the claims, started first
    wc_claims = [c.id for c in claims if c.id in set(_pep.expressible())] if a.worst_case else []
    tasks += [{"kind": "worst_case", "claim": cid} for cid in wc_claims]
    order = list(range(len(claims), len(tasks))) + order
    left = {name: len(ix) for name, ix in group.items()}
    fig_tasks: dict = {}  # experiment name -> index of its figure task

    def follow(i, res) -> list:
        if not overlap or i >= len(claims) or claims[i].id not in exp_of:
            return []
        name = exp_of[claims[i].id]
        left[name] -= 1
        if left[name]:
            return []
        d = tempfile.mkdtemp(prefix=f"ratecheck-fig-{name}-")
        scratch.append(d)
        fig_tasks[name] = len(tasks)
        mine = [v for j in group[name] for v in (tasks_results[j] or {}).get("verdicts", [])]
        return [{"kind": "figures", "experiment": name, "verdicts": mine, "dir": d, "quick": a.quick}]

    tasks_results: list = []  # filled by finished(), read by follow() (which runs right after it)

    def finished(i, res) -> None:
        while len(tasks_results) <= i:
            tasks_results.append(None)
        tasks_results[i] = res
        if i < len(claims):
            con.progress.advance(claims[i].id, _verdict.outcome(res["verdicts"])[1])

    def done(i, res) -> None:
        if i >= len(claims):  # an experiment's figures: nothing to print
            return
        c, vs = claims[i], res["verdicts"]
        status, unexpected = _verdict.outcome(vs)
        t = _fmt_tightness(_verdict.claim_tightness(vs))
        mark = "UNEXPECTED" if unexpected else "ok"
        con.print(
            f"{c.id:<40} {con.paint(status, 12)} tightness {t:<9} [{c.provenance.value}] {con.paint(mark)}",
            level=-1 if unexpected else 0,
        )
        for v in vs:
            if v.unexpected or con.verbose:
                con.print(f"    {_instance_line(v)}", level=-1 if v.unexpected else 1)
        row = res.get("row")
        if row is not None:
            bt = row["best_tightness"]
            bad = row["search_verdict"] == "violated" and not by_id[row["claim"]].expected_to_fail
            con.print(
                f"  search {c.id:<38} {con.paint(row['search_verdict'] or 'not searched', 12)} best tightness "
                f"{('%.3g' % bt) if isinstance(bt, float) else '-'}" + (f"  {con.paint('UNEXPECTED')}" if bad else ""),
                level=-1 if bad else 0,
            )
            if bad and row.get("best_changes") is not None:
                con.print(f"    on {_changes_text(row['best_changes'])}; seed {row['best_seed']}", level=-1)

    try:
        con.progress.draw()
        n_claims = len(claims)
        results = _run_units(tasks, jobs, done, finished, order=order, follow=follow, together=families)
        verdicts = [v for r in results[:n_claims] for v in r["verdicts"]]
        search_rows = None if a.search is None else [r["row"] for r in results[:n_claims] if "row" in r]
        sandwiches = [r["sandwich"] for r in results[n_claims : n_claims + len(wc_claims)]]
        wc_rows = _worst_case_rows(sandwiches, verdicts) if a.worst_case else None
        if not a.no_report:
            mine = {name: [v for v in verdicts if exp_of.get(v.claim) == name] for name in names}
            drawn = None
            if overlap:  # drawn by the workers into scratch folders, moved into the report
                extra = [_mover(tasks[fig_tasks[name]]["dir"], results[fig_tasks[name]]["files"]) for name in names]
                drawn = {r["claim"]: (drawn_dir, r["drawn"]) for r in results[:n_claims] if "drawn" in r}
                if not a.json:
                    n_fig = sum(d["figure"] is not None for _, d in drawn.values())
                    n_fig += sum(len(results[i]["files"]) for i in fig_tasks.values())
                    print(f"figures: {n_fig} drawn by the workers while the claims ran", flush=True)
            else:
                extra = [_figures(_exps.get(name), mine[name], a.quick) for name in names]
            con.progress.label = "one plot per claim, then the pages"
            con.progress.draw()
            for r in search_rows or []:  # the records move into the report: name them where they will be
                if r.get("counterexample"):
                    r["counterexample"] = str(Path(a.out) / "counterexamples" / Path(r["counterexample"]).name)
            path = _report.write_report(
                verdicts,
                a.out,
                extra_figures=extra,
                search_rows=search_rows,
                worst_case_rows=wc_rows,
                records=records,
                command="ratecheck " + " ".join(shlex.quote(x) for x in argv),
                claims=claims,
                progress=_figure_progress(a.json or overlap),
                drawn=drawn,
            )
            con.progress.close()
            con.print(f"report: {path}/index.html ({time.perf_counter() - t0:.1f} s)")
        elif search_rows:
            for r in search_rows:  # no report: the records are not kept
                r["counterexample"] = None
    finally:
        con.progress.close()
        for d in (records, *scratch):
            if d is not None:
                shutil.rmtree(d, ignore_errors=True)
    claims_out = _verdict.summarize(verdicts)
    # a search that finds a violation refutes the claim; an inconclusive best point (a Monte Carlo interval
    # straddling the bound) is reported in the catalogue but is no evidence against the claim
    found = {r["claim"]: r for r in search_rows or []}
    for row in claims_out:
        r = found.get(row["claim"])
        if r is not None:
            row.update(
                search_verdict=r["search_verdict"],
                best_tightness=r["best_tightness"],
                counterexample=r.get("counterexample"),
            )
            row["unexpected"] = row["unexpected"] or r["search_verdict"] == "violated"
    unexpected = [row["claim"] for row in claims_out if row["unexpected"]]
    if a.json:
        payload = {"claims": claims_out, "verdicts": _records(verdicts, a.series)}
        if search_rows is not None:
            payload["search"] = search_rows
        if wc_rows is not None:
            payload["worst_case"] = wc_rows
        print(json.dumps(payload, indent=1, default=float))
    elif unexpected:
        con.print(f"{len(unexpected)} unexpected: {', '.join(unexpected)}", level=-1)
    else:
        con.print(f"{len(claims)} claims checked, nothing unexpected ({time.perf_counter() - t0:.1f} s)", level=-1)
    return 1 if unexpected else 0


#: horizons of the report's worst-case column (small: the whole column stays within about a minute on 2 cores;
#: RCD and RPT share the tree of d^T sketch outcomes, whose T = 3 PEP alone took 13 s for rpt.strongly-convex)
_REPORT_WC_T = {"ef21": (1, 2, 5), "rcd": (1, 2), "rpt": (1, 2), "sgd": (1, 2), "lsvrp": (1,)}


def _worst_case_rows(sandwiches, verdicts) -> list[dict]:
    """The worst-case column: one sandwich per expressible (non-teeth) claim at the family's default constants
    (computed by the work units), with the check's tightness beside it."""
    tight: dict = {}
    for v in verdicts:
        if v.tightness is not None and math.isfinite(v.tightness):
            tight[v.claim] = max(tight.get(v.claim, 0.0), v.tightness)
    return [dict(s, check_tightness=tight.get(s["claim"])) for s in sandwiches]


def _figures(e, mine, quick):
    """The report's writer of an experiment's figures (drawn by the report's own pool, with its progress)."""
    return functools.partial(_figpkg.experiment_figures, e, mine, quick=quick)


def _mover(src: str, files: list):
    """The report's writer of figures already drawn into the scratch folder ``src``: it moves them in."""

    def write(d):
        for fname, _caption in files:
            shutil.move(os.path.join(src, fname), os.path.join(d, fname))
        return files

    return write


def _changes_text(changes: dict) -> str:
    return (
        ", ".join(f"{k}={_search._fmt(v) if isinstance(v, float) else v}" for k, v in changes.items()) or "the defaults"
    )


def _instance_line(v) -> str:
    """``violated on n=2, d=2 (seed 0): measured 0.671 > bound 0.452 at T=5`` — one instance's verdict, its
    instance (the parameters that differ from the experiment's defaults) and its detail (measured vs bound)."""
    try:
        inst = _changes_text(_search._changes(v.instance, _experiment_of(v))) if v.instance else "no instance"
    except Exception:  # noqa: BLE001 - an unregistered experiment: show every parameter
        inst = _changes_text(v.instance)
    t = f"; tightness {_fmt_tightness(v.tightness)}" if v.tightness is not None else ""
    return f"{v.verdict} on {inst} (seed {v.seed}){t}: {v.detail}"


def _experiment_of(v) -> str:
    try:
        return theorems.get(v.claim).experiment
    except theorems.ClaimError:
        return ""


def _fmt_tightness(t) -> str:
    if t is None:
        return "-"
    return "inf" if t == float("inf") else f"{t:.3g}"


# --------------------------------------------------------------------------- search and replay
def _add_search_parsers(subparsers) -> None:
    """Add ``search`` and ``replay`` to the ``ratecheck`` subcommands."""
    s = subparsers.add_parser("search", help="search the instance space for a counterexample / the tightest instance")
    s.add_argument("ids", nargs="*", metavar="id", help=_IDS_HELP)
    s.add_argument(
        "--budget",
        type=int,
        default=None,
        help=f"runs per claim (default {_HELP_BUDGET}, {_HELP_MC_BUDGET} for Monte Carlo runs)",
    )
    s.add_argument("--seed", type=int, default=0, help="search seed (the search is deterministic given it; default: 0)")
    s.add_argument(
        "--records",
        "--out",
        dest="out",
        default="ratecheck-counterexamples",
        metavar="DIR",
        help="the folder counterexample records are written into (default: ratecheck-counterexamples; "
        "--out is the same option)",
    )
    s.add_argument("--json", action="store_true", help=_JSON_HELP + "; one record per claim")
    s.add_argument("--teeth", action="store_true", help="also search the teeth variants of the selected claims")
    s.add_argument("--claim", action="append", metavar="FILE", help=_CLAIM_HELP)
    s.add_argument("--experiment", help="experiment to search --claim against (default: the claim's own)")
    s.add_argument("--all", action="store_true", help="every claim in the catalogue")
    s.add_argument(
        "--catalogue",
        action="store_true",
        help="print the tightness catalogue (default-instance vs best-found tightness) instead",
    )
    _jobs(s)
    _verbosity(s)
    r = subparsers.add_parser("replay", help="re-run a counterexample record exactly")
    r.add_argument("file", help="a counterexample record (JSON) written by `ratecheck search` or `check --search`")
    r.add_argument("--json", action="store_true", help=_JSON_HELP)
    r.add_argument(
        "--claim",
        metavar="FILE",
        help="the claim, when it is not registered: FILE.py:NAME, or FILE.toml[:ID] "
        "(a claim file; without ID, its claim with the record's id)",
    )
    _verbosity(r)


def _cmd_search(a) -> int:
    jobs = _check_jobs(a.jobs)
    claims, named = [], set()
    for spec in a.claim or []:
        for c in user_claims(spec):
            claims.append(c)
            named.add(c.id)
    if a.all or a.ids:
        sel = list(theorems.all()) if a.all else _select(a.ids)
        claims += sel
        named |= {c.id for c in sel if c.id in a.ids}
        if a.teeth:
            claims += [t for c in sel for t in theorems.teeth(c.id)]
    if not claims:
        raise UsageError("name a claim id or prefix (see `ratecheck list`), or give --claim FILE.py:NAME or FILE.toml")
    if a.budget is not None:
        _search._check_int("--budget", a.budget, 1)
    _search._check_int("--seed", a.seed, 0)
    if not a.catalogue:
        check_out(a.out)  # a folder we may write records into, checked before the search runs
    if a.catalogue:
        rows = _search.catalogue(claims, budget=a.budget, seed=a.seed, experiment=a.experiment)
        print(json.dumps(rows, indent=1) if a.json else _search.catalogue_markdown(rows))
        return 1 if any(r["unexpected"] for r in rows) else 0
    todo, skipped = [], []
    for c in claims:  # validate everything before running anything
        try:
            _search.searchable(c, a.experiment)
            todo.append(c)
        except UsageError as e:
            if c.id in named or len(claims) == 1:
                raise
            skipped.append(str(e))
    if not todo:
        raise UsageError("no selected claim can be searched: " + "; ".join(skipped))
    con = _Console(a, total=len(todo))
    tasks = [
        {
            "kind": "search",
            "claim": _portable(c),
            "experiment": a.experiment,
            "budget": a.budget,
            "seed": a.seed,
            "out": a.out,
        }
        for c in todo
    ]

    def finished(i, r) -> None:
        con.progress.advance(r["result"].claim, r["result"].unexpected)

    def done(i, r) -> None:
        res = r["result"]
        t = _search._fmt(res.tightness)
        mark = "UNEXPECTED" if res.unexpected else "ok"
        level = -1 if res.unexpected else 0
        con.print(
            f"{res.claim:<40} {con.paint(res.verdict, 12)} best tightness {t:<9} {res.runs + res.shrink_runs:>3} "
            f"runs ({res.infeasible} infeasible) {res.seconds:6.1f} s {con.paint(mark)}",
            level=level,
        )
        con.print(
            f"    on {_changes_text(_search._changes(res.instance, res.experiment))}; seed {res.seed}", level=level
        )
        if res.best is not None and (res.unexpected or con.verbose):
            con.print(f"    {res.best.detail}", level=level if res.unexpected else 1)
        if res.counterexample is not None:
            con.print(f"    counterexample: {res.counterexample}", level=level)

    try:
        con.progress.draw()
        results = [r["result"] for r in _run_units(tasks, jobs, done, finished)]
    finally:
        con.progress.close()
    if a.json:
        print(json.dumps([r.to_dict() for r in results], indent=1))
    else:
        for s in skipped:
            con.print(f"skipped: {s}")
    return 1 if any(r.unexpected for r in results) else 0


def _cmd_replay(a) -> int:
    rec = _search.load_counterexample(a.file)
    claim = None
    if a.claim and _claimfiles.is_claim_file(a.claim) and a.claim.endswith(".toml"):
        claim = _claimfiles.load_claim(f"{a.claim}:{rec['claim']}")  # the file's claim with the record's id
    elif a.claim:
        claim = user_claims(a.claim)[0]
    v = _search.replay(a.file, claim=claim)
    same = _search.reproduces(rec, v)
    if a.json:
        print(json.dumps(dict(v.to_dict(), reproduced=same), indent=1))
    else:
        con = _Console(a)
        con.print(
            f"{v.claim}: {con.paint(v.verdict)} (expected {v.expected}); tightness {_search._fmt(v.tightness)}; "
            f"{v.detail}",
            level=-1,
        )
        con.print(
            f"record {'reproduced exactly' if same else 'NOT reproduced'} "
            f"(recorded {rec.get('verdict')}, measured {rec.get('measured')}, bound {rec.get('bound')} at "
            f"{rec.get('where')})",
            level=-1,
        )
    return 1 if v.unexpected else 0


# --------------------------------------------------------------------------- plot
def _records(verdicts, series: bool) -> list[dict]:
    """Verdict records (:meth:`Verdict.to_dict`); with ``series``, each also carries ``"series"``
    (:func:`verify.verdict.evidence_series`: grid, measured, bound, interval, instance, seed; null when symbolic)."""
    recs = [v.to_dict() for v in verdicts]
    if series:
        for r, v in zip(recs, verdicts):
            r["series"] = _verdict.evidence_series(v.evidence)
    return recs


def _figure_progress(quiet: bool):
    """``progress(i, n)`` for the figure phase of a report: ``figures i/N`` on a terminal, then one line
    with the count and the time it took; ``None`` when ``quiet`` (JSON output)."""
    if quiet:
        return None
    tty = sys.stdout.isatty()
    t0 = [0.0]

    def progress(i, n):
        if i == 0:
            t0[0] = time.perf_counter()
        if tty:
            print(f"\rfigures {i}/{n}", end="", flush=True)
        if i == n:
            print(("\r" if tty else "") + f"figures: {n} drawn in {time.perf_counter() - t0[0]:.1f} s", flush=True)

    return progress


#: the formats and styles of `plot`, named here so that `--help` does not load matplotlib (the figures package
#: defines them; tests/verify/test_figures.py checks that the two agree)
PLOT_FORMATS = ("pdf", "svg", "pgf", "png")
PLOT_STYLES = ("plain", "icml", "neurips", "iclr", "jmlr")


def _add_plot_parser(subparsers) -> None:
    """Add ``plot`` (one claim's publication figure) to the ``ratecheck`` subcommands."""
    p = subparsers.add_parser(
        "plot",
        help="draw one claim's bound-versus-measured figure (pdf/svg/pgf/png, venue styles) and its series (CSV)",
    )
    p.add_argument("claim", help="claim id or teeth variant id (see `ratecheck list --teeth`)")
    p.add_argument("--param", action="append", metavar="NAME=VALUE", help="instance parameter (repeatable)")
    p.add_argument(
        "--seed", type=int, default=0, help="seed of the instance data and of every random choice (default: 0)"
    )
    p.add_argument("--quick", action="store_true", help="small instance (fast)")
    p.add_argument("--format", help=f"one of {', '.join(PLOT_FORMATS)} (default: the suffix of --out)")
    p.add_argument("--style", default="plain", help=f"one of {', '.join(PLOT_STYLES)} (default plain)")
    p.add_argument("--out", required=True, metavar="FILE", help="figure file; its series goes beside it as FILE.csv")


def _cmd_plot(a) -> int:
    """``ratecheck plot CLAIM --out FILE``: validate everything, check the claim, write the figure and its series."""
    from .figures import publication as pub

    claim = pub.resolve_claim(a.claim)
    fmt = pub.format_of(a.out, a.format)
    pub.style_rc(a.style)  # unknown style: one line, before any work
    if a.seed < 0:
        raise UsageError(f"--seed must be >= 0, got {a.seed}")
    out = pub.check_file_out(a.out, fmt)
    params = None
    if a.param:
        exp = _exps.get(claim.experiment) if claim.measure else None
        if exp is None:
            raise UsageError(f"--param: claim {claim.id} is symbolic (no experiment, no instance parameters)")
        params = exp.parse_params(a.param)
        exp.params(params)
    verdicts = _check.check(claim, instances=[params] if params else None, seed=a.seed, quick=a.quick)
    fig = pub.claim_figure(verdicts, claim, style=a.style)
    pub.save_figure(fig, out, fmt)
    csv_path = pub.write_series(verdicts, out.with_suffix(".csv"))
    status, unexpected = _verdict.outcome(verdicts)
    mark = f"UNEXPECTED (expected {verdicts[0].expected})" if unexpected else "ok"
    print(f"{claim.id}: {status} {mark}; figure {out}" + (f", series {csv_path}" if csv_path else ""))
    return 1 if unexpected else 0


# --------------------------------------------------------------------------- worst case (PEP)
_WC_PARAMS = ("L", "Ls", "alpha", "d", "delta", "gamma", "mu", "n", "p")


def _add_worst_case_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "worst-case",
        help="worst case over the claim's function class (PEP, extra [pep]) beside the claim and the empirics",
        description="Empirical tightness <= worst case over the class (PEP, with its kind) <= 1 (the claim). "
        "A lower-kind value above 1 refutes the claim (with the extracted counterexample); an upper- or exact-kind "
        "value at most 1 certifies it on that class up to the largest T.",
    )
    p.add_argument("claim", metavar="CLAIM", help="a claim id or unique prefix with a PEP builder, e.g. ef21.pl-qm")
    p.add_argument(
        "--param",
        action="append",
        metavar="NAME=VALUE",
        help=f"constant of the class (repeatable): {', '.join(_WC_PARAMS)} (Ls comma-separated, one per node)",
    )
    p.add_argument(
        "--T",
        dest="T",
        type=int,
        action="append",
        metavar="N",
        help="horizon (repeatable; default: the family's, EF21 1 2 5 10, RCD 1 2 3, SGD 1 2, L-SVRP 1)",
    )
    p.add_argument("--json", action="store_true", help=_JSON_HELP)
    _verbosity(p)


def _wc_params(items) -> dict:
    out: dict = {}
    for item in items or []:
        name, sep, value = str(item).partition("=")
        name = name.strip()
        if not sep or not name:
            raise UsageError(f"--param must look like NAME=VALUE, got {item!r}")
        if name not in _WC_PARAMS:
            raise UsageError(
                f"--param: unknown parameter {name!r}{close_match(name, _WC_PARAMS)}; known: {', '.join(_WC_PARAMS)}"
            )
        try:
            if name == "Ls":
                v = [float(x) for x in value.split(",")]
                bad = [x for x in v if not (math.isfinite(x) and x > 0)]
            elif name in ("n", "d"):
                v = int(value)
                bad = [] if 1 <= v <= 10 else [v]
            elif name == "p" and "," in value:  # RPT block probabilities p_1, ..., p_J
                v = [float(x) for x in value.split(",")]
                bad = [] if all(0 <= x <= 1 for x in v) and abs(sum(v) - 1) <= 1e-9 else v
            elif name == "p":
                v = float(value)
                bad = [] if 0 < v <= 1 else [v]
            else:
                v = float(value)
                bad = [] if math.isfinite(v) and v > 0 else [v]
        except ValueError:
            raise UsageError(f"--param {name}: {value!r} is not a number") from None
        if bad:
            rule = {
                "n": "an integer in 1..10",
                "d": "an integer in 1..10",
                "p": "in (0, 1] (L-SVRP), or d block probabilities in [0, 1] summing to 1 (RPT: p=0.3,0.7)",
            }.get(name, "finite and > 0")
            raise UsageError(f"--param {name}: must be {rule}, got {value!r}")
        out[name] = v
    return out


def _cmd_worst_case(a) -> int:
    claims = [c for c in theorems.select([a.claim])]
    expressible = set(_pep.expressible())
    picks = [c for c in claims if c.id.split("~", 1)[0] in expressible]
    if len(picks) != 1:
        what = "no claim with a PEP builder" if not picks else f"{len(picks)} claims ({', '.join(c.id for c in picks)})"
        raise UsageError(f"worst-case: {a.claim!r} names {what}; expressible: {', '.join(sorted(expressible))}")
    claim = picks[0]
    Ts = a.T or None  # None: the family's default horizons
    bad = [t for t in Ts or () if not 1 <= t <= 20]
    if bad:
        raise UsageError(f"--T must be an integer in 1..20 (the PEP grows with T), got {bad[0]}")
    params = _wc_params(a.param)
    if importlib.util.find_spec("PEPit") is None:
        raise UsageError(f"worst-case needs PEPit; install the extra: {_pep.PEP_EXTRA}")
    result = _pep.sandwich(claim.id, params, Ts)
    if a.json:
        print(json.dumps(result, indent=2, default=float))
    else:
        print("\n".join(_pep.sandwich_lines(result)))
    unexpected = result["verdict"] == "violated" and not claim.expected_to_fail
    unexpected |= bool(claim.expected_to_fail) and result["verdict"] == "certified"
    return 1 if unexpected else 0


# --------------------------------------------------------------------------- sweep and merge
def _add_sweep_parsers(subparsers) -> None:
    """Add the ``sweep`` and ``merge`` subcommands to an argparse ``subparsers`` object."""
    p = subparsers.add_parser(
        "sweep",
        help="run a claim or experiment over a parameter grid into a results store",
        description="Run CLAIM_OR_EXPERIMENT on every cell of a parameter grid and seed; "
        "rows go to a resumable Parquet store (re-running skips finished cells).",
    )
    p.add_argument(
        "target",
        metavar="CLAIM_OR_EXPERIMENT",
        help="claim id, claim-id prefix or experiment name, or a claim file FILE.toml[:ID] (one claim)",
    )
    p.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="name=v1,v2,...",
        help="a swept instance parameter (repeatable); values are parsed as int, float, bool, None or str",
    )
    p.add_argument("--zip", action="store_true", help="walk the --grid axes together instead of their product")
    p.add_argument(
        "--seeds", type=int, default=1, metavar="N", help="replicates per cell (seeds derived from the cell)"
    )
    p.add_argument(
        "--backend", choices=_HELP_BACKENDS, default="loky", help="loky (local processes, default), dask, or serial"
    )
    p.add_argument("--scheduler", metavar="ADDRESS", help="dask scheduler of an existing cluster, e.g. tcp://host:8786")
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="K",
        help="worker processes of the loky backend or of a local dask cluster (default: 2)",
    )
    p.add_argument(
        "--store",
        "--out",
        dest="out",
        default="ratecheck-sweep",
        metavar="DIR",
        help="the results store, created or resumed (default: ratecheck-sweep; --out is the same option)",
    )
    p.add_argument("--json", action="store_true", help="print a JSON summary; no progress bar")
    p.add_argument("--quick", action="store_true", help="start from the claim's quick instance (shorter runs)")
    _verbosity(p)
    m = subparsers.add_parser(
        "merge",
        help="combine results stores made on several machines",
        description="Copy the finished cells of SOURCE stores into DEST (no duplicates).",
    )
    m.add_argument("dest", metavar="DEST", help="the results store to copy into (created if missing)")
    m.add_argument("sources", nargs="+", metavar="SOURCE", help="results stores to copy from (read, never changed)")
    m.add_argument("--json", action="store_true", help="print the counts as JSON")
    _verbosity(m)


def _cmd_sweep(args) -> int:
    """Run ``sweep`` or ``merge`` from parsed arguments; exit status 0 / 1 (unexpected or failed) / 2 (usage).

    Usage errors are raised as :class:`~verify.checking.UsageError` for the caller to print.
    """
    if args.cmd == "merge":
        counts = _store.merge(args.dest, *args.sources)
        if args.json:
            print(json.dumps(dict(counts, dest=args.dest)))
        else:
            _Console(args).print(
                f"merged into {args.dest}: {counts['copied']} cells copied, {counts['skipped']} already there, "
                f"{counts['failed_copied']} failure records",
                level=-1,
            )
        return 0
    cells = _sweep.parse_grid(args.grid, zip_axes=args.zip)
    if args.zip and not args.grid:
        raise UsageError("--zip needs --grid axes")
    if args.workers is not None and (args.backend == "serial" or args.backend == "dask" and args.scheduler):
        why = (
            "--backend serial runs in this process" if args.backend == "serial" else "--scheduler's cluster has its own"
        )
        raise UsageError(
            f"--workers {args.workers} has no effect: {why}; drop --workers, or use --backend loky or a local "
            "dask cluster (--backend dask without --scheduler)"
        )
    workers = 2 if args.workers is None else args.workers
    target = args.target
    if _claimfiles.is_claim_file(target):
        target = _claimfiles.load_claim(target)  # a claim file of one claim, or FILE.toml:ID
    res = _sweep.sweep(
        target,
        cells,
        seeds=args.seeds,
        out=args.out,
        backend=args.backend,
        workers=workers,
        scheduler=args.scheduler,
        quick=args.quick,
        progress=False if args.json or getattr(args, "quiet", False) else None,
    )
    if args.json:
        print(
            json.dumps(
                {
                    "out": res.out,
                    "ran": res.ran,
                    "skipped": res.skipped,
                    "seconds": res.seconds,
                    "resubmitted": res.resubmitted,
                    "claims": res.summary,
                    "failed": res.failed,
                },
                default=str,
            )
        )
    else:
        con = _Console(args)
        con.print(
            f"{res.out}: {res.ran} cells run, {res.skipped} already done, {len(res.failed)} failed "
            f"({res.seconds:.1f} s)"
            + (f"; {res.resubmitted} resubmitted after a worker died" if res.resubmitted else ""),
            level=-1,
        )
        for s in res.summary:
            t = "-" if s["tightness"] is None else f"{s['tightness']:.3g}"
            line = f"  {s['claim']:<28} {con.paint(s['verdict'], 12)} tightness {t:<8} {s['units']} cells"
            if "fit" not in s and s.get("seed") is not None:
                line += f"; worst at {_sweep._short(s['instance']) or 'the default instance'} (seed {s['seed']})"
            if "fit" in s:
                f = s["fit"]
                line += (
                    f"; exponent {f['fitted_exponent']:.3f} [{f['interval_low']:.3f}, {f['interval_high']:.3f}]"
                    f" vs predicted {f['predicted_exponent']:.3f}"
                )
                if s.get("instance"):
                    line += f" at {_sweep._short(s['instance'])}"
            if s["unexpected"]:
                line += f"  {con.paint('UNEXPECTED')} (expected {s['expected']})"
            con.print(line, level=-1 if s["unexpected"] else 0)
        for f in res.failed:
            con.print(
                f"  failed: {f['claim']} {_sweep._short(f['cell']) or '(default instance)'} seed {f['seed']}: {f['error']}",
                level=-1,
            )
    return 1 if res.unexpected else 0


class _Warnings:
    """What becomes of a warning that reaches the command line (outside a verdict, which keeps its own in its
    detail: ``verify.errors.warnings_after_success``): the package's own (e.g. an unreadable store part) are one
    ``ratecheck: warning:`` line; those of the numerical libraries (an overflow while drawing a figure, an
    optimizer's "solution may be inaccurate") are counted, shown one line each with ``-vv``, and summed up in one
    ``ratecheck: note:`` line at the end — never raw."""

    def __init__(self):
        self.verbose = 0
        self.counted: dict = {}

    def show(self, message, category, filename, lineno, file=None, line=None):
        text = " ".join(str(message).split())
        if category.__module__.split(".")[0] == __package__.split(".")[0]:  # our own warning classes
            print(f"ratecheck: warning: {text}", file=sys.stderr)
            return
        where = f"{os.path.basename(str(filename))}:{lineno}"
        key = (category.__name__, where, text)
        self.counted[key] = self.counted.get(key, 0) + 1
        if self.verbose >= 2:
            print(f"ratecheck: note: {category.__name__} at {where}: {text}", file=sys.stderr)

    def summary(self) -> None:
        n = sum(self.counted.values())
        if n and self.verbose < 2:
            kinds = ", ".join(sorted({k[0] for k in self.counted}))
            print(
                f"ratecheck: note: {n} warning{'s' if n > 1 else ''} of the numerical libraries outside the "
                f"verdicts ({kinds}); -vv shows them",
                file=sys.stderr,
            )


def main(argv=None) -> int:
    """Entry point of the ``ratecheck`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("MPLBACKEND", "Agg")  # the one place that picks a backend: files, no windows
    handler = _Warnings()
    shown, warnings.showwarning = warnings.showwarning, handler.show
    try:
        code = _main(argv, handler)
        handler.summary()
        sys.stdout.flush()  # a reader that went away shows here, not as a traceback at interpreter exit
        return code
    except BrokenPipeError:  # e.g. `ratecheck list | head -1`: the reader has what it wanted
        _drop_stdout()
        return EXIT_BROKEN_PIPE
    finally:
        warnings.showwarning = shown


#: exit status when stdout's reader went away (128 + SIGPIPE, what a shell reports for a command killed by it)
EXIT_BROKEN_PIPE = 141


def _drop_stdout() -> None:
    """Point stdout at /dev/null: what is still buffered for the closed pipe is discarded at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real file behind sys.stdout (e.g. captured by a test)
        pass


def _main(argv, handler=None) -> int:
    try:
        p = _parser()
        a = p.parse_args(argv)
        if getattr(a, "quiet", False) and getattr(a, "verbose", 0):
            raise UsageError("-q/--quiet and -v/--verbose contradict each other; give one")
        if handler is not None:
            handler.verbose = getattr(a, "verbose", 0) or 0
        if a.cmd is None:
            p.print_help()
            return 2
        if a.cmd == "list":
            return _cmd_list(a)
        if a.cmd == "show":
            return _cmd_show(a)
        if a.cmd == "experiments":
            return _cmd_experiments(a)
        if a.cmd == "describe":
            return _cmd_describe(a)
        if a.cmd == "check":
            return _cmd_check(a, argv)
        if a.cmd in ("sweep", "merge"):
            return _cmd_sweep(a)
        if a.cmd == "search":
            return _cmd_search(a)
        if a.cmd == "replay":
            return _cmd_replay(a)
        if a.cmd == "plot":
            return _cmd_plot(a)
        if a.cmd == "worst-case":
            return _cmd_worst_case(a)
        raise UsageError(f"unknown command {a.cmd!r}")
    except MemoryError as e:  # an instance too large for this machine (e.g. --param n=100000000)
        detail = " ".join(str(e).split())
        print(
            f"ratecheck: error: out of memory{': ' + detail if detail else ''}; choose a smaller instance "
            "(see `ratecheck describe EXPERIMENT` for its parameters)",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        print("ratecheck: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 - bad input is one line (exit 2); anything else propagates
        if not isinstance(e, _bad_input()):
            raise
        print(f"ratecheck: error: {' '.join(str(e).split())}", file=sys.stderr)  # one line, always
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
