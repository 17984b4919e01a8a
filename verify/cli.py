"""``ratecheck`` command line (also ``python -m ratecheck``).

::

    ratecheck list [--json] [--teeth]
    ratecheck show ID [--latex] [--json] [--toml]
    ratecheck experiments [--json]
    ratecheck describe EXPERIMENT [--json]
    ratecheck check [ID-or-prefix ...] [--all] [--quick] [--json [--series]] [--out DIR] [--no-report]
                    [--seed S] [--param NAME=VALUE ...] [--no-teeth]
                    [--claim FILE.py:NAME | FILE.toml[:ID] --experiment NAME] [--data FILE --clients N]
    ratecheck search CLAIM [--budget N] [--seed S] [--out DIR]      (verify/search.py)
    ratecheck replay FILE                                            (verify/search.py)
    ratecheck sweep ... / ratecheck merge ...                        (verify/sweep.py)
    ratecheck plot CLAIM --out FILE [--format pdf|svg|pgf|png] [--style plain|icml|neurips|iclr|jmlr]
                    [--param NAME=VALUE ...] [--seed S] [--quick]

Exit status: 0 when nothing is unexpected, 1 when some verdict is unexpected (a claim not
holding, or a teeth variant not caught), 2 for bad usage or bad input (one-line message).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shlex
import shutil
import sys
import time
from pathlib import Path

from ratecheck import theorems
from ratecheck.solvers import InvalidInput
from ratecheck.theorems import ClaimError

from . import claimfiles as _claimfiles
from . import experiments as _exps
from . import store as _store
from . import sweep as _sweep
from .checking import check
from .describe import describe, describe_text
from .errors import UsageError
from .figures import experiment_figures
from .outputs import check_out, claim_dir
from .report import write_report
from .searching import (
    DEFAULT_BUDGET,
    MC_BUDGET,
    _changes,
    _check_int,
    _fmt,
    catalogue,
    catalogue_markdown,
    catalogue_row,
    load_counterexample,
    replay,
    reproduces,
    search,
    searchable,
)
from .verdict import claim_tightness, evidence_series, outcome, summarize

__all__ = ["main", "load_claim", "user_claims"]

BAD_INPUT = (UsageError, ClaimError, InvalidInput)


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2
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


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="ratecheck", description="Check convergence-rate theorems numerically.")
    sub = p.add_subparsers(dest="cmd", parser_class=_Parser)
    ls = sub.add_parser("list", help="list the catalogue of claims")
    ls.add_argument("--json", action="store_true")
    ls.add_argument("--teeth", action="store_true", help="include the deliberately wrong variants")
    sh = sub.add_parser("show", help="show one claim")
    sh.add_argument("id")
    sh.add_argument("--latex", action="store_true")
    sh.add_argument("--json", action="store_true")
    sh.add_argument("--toml", action="store_true", help="print the claim as a claim file (TOML with LaTeX) to edit")
    ex = sub.add_parser("experiments", help="list the experiments (what claims can be checked against)")
    ex.add_argument("--json", action="store_true", help="print the list as JSON")
    de = sub.add_parser(
        "describe",
        help="describe an experiment: parameters, constants, measures, settings, default instances, search space",
    )
    de.add_argument("experiment", help="experiment name (see `ratecheck experiments`)")
    de.add_argument("--json", action="store_true", help="print the description as JSON")
    ck = sub.add_parser("check", help="check claims and write a report")
    ck.add_argument("ids", nargs="*", help="claim ids or id prefixes (e.g. ef21)")
    ck.add_argument("--all", action="store_true", help="every claim in the catalogue")
    ck.add_argument("--quick", action="store_true", help="small instances (fast)")
    ck.add_argument("--json", action="store_true", help="print verdict records as JSON")
    ck.add_argument("--out", default="ratecheck-report", help="report directory (default: ratecheck-report)")
    ck.add_argument("--no-report", action="store_true", help="do not write a report")
    ck.add_argument("--no-teeth", action="store_true", help="skip the teeth variants of the selected claims")
    ck.add_argument(
        "--series",
        action="store_true",
        help="with --json: each verdict record carries its series (grid, measured, ...)",
    )
    ck.add_argument("--seed", type=int, default=0)
    ck.add_argument(
        "--param",
        action="append",
        metavar="NAME=VALUE",
        help="instance parameter (repeatable; names and rules: `ratecheck describe EXPERIMENT`); "
        "replaces the default instances by one instance",
    )
    ck.add_argument("--data", help="a LIBSVM/svmlight data file (experiments that accept real data)")
    ck.add_argument("--clients", type=int, help="number of clients to split --data across")
    ck.add_argument("--claim", action="append", metavar="FILE", help=_CLAIM_HELP)
    ck.add_argument("--experiment", help="experiment to check --claim against (default: the claim's own)")
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
    _add_sweep_parsers(sub)
    _add_search_parsers(sub)
    _add_plot_parser(sub)
    return p


def _cmd_list(a) -> int:
    claims = list(theorems.all()) + (list(theorems.teeth()) if a.teeth else [])
    if a.json:
        print(json.dumps([c.summary() for c in claims], indent=1))
        return 0
    w = max(len(c.id) for c in claims)
    for c in claims:
        print(f"{c.id:<{w}}  {c.kind.value:<8}  [{c.provenance.value}]  {c.title}")
    return 0


def _cmd_show(a) -> int:
    c = theorems.get(a.id)
    if a.toml:
        print(_claimfiles.claim_to_toml(c), end="")
        return 0
    if a.json:
        print(json.dumps(c.summary(), indent=1))
        return 0
    if a.latex:
        print(c.latex())
        return 0
    s = c.summary()
    print(f"{c.id}: {c.title}\n  paper:      {c.paper}\n  provenance: [{c.provenance.value}] {c.provenance_note}")
    print(f"  kind:       {c.kind.value}{' (in expectation)' if c.in_expectation else ''}; measure: {c.measure or '-'}")
    for key in ("stepsize", "bound", "exponent"):
        if s[key]:
            print(f"  {key + ':':<11} {s[key]}")
    for a_ in s["assumptions"]:
        print(f"  assumes:    {a_}")
    for i in s["identities"]:
        print(f"  identity:   {i}")
    if c.expected_to_fail:
        print(f"  expected to fail: {c.expected_to_fail}")
    teeth = theorems.teeth(c.id)
    if teeth:
        print("  teeth:      " + ", ".join(t.id for t in teeth))
    if c.description:
        print(f"  note:       {c.description}")
    return 0


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
        print(json.dumps(describe(e), indent=1))
    else:
        print(describe_text(e))
    return 0


def _cmd_check(a, argv) -> int:
    if a.series and not a.json:  # the series travel in the JSON records (a report has them as CSV files)
        raise UsageError("--series needs --json (the report folder has every series as <claim>.csv)")
    if a.clients is not None and a.data is None:  # it would be silently ignored
        raise UsageError(
            f"--clients needs --data (the number of clients to split a data file across), got "
            f"--clients {a.clients} without --data"
        )
    claims: list = []
    if a.claim:
        claims += [c for s in a.claim for c in user_claims(s)]
    if a.all:
        claims += list(theorems.all())
    elif a.ids:
        claims += list(theorems.select(a.ids))
    if not claims:
        raise UsageError(
            "name claim ids or prefixes (see `ratecheck list`), use --all, or give --claim FILE.py:NAME "
            "or --claim FILE.toml"
        )
    if not a.no_teeth and not a.claim:
        claims += [t for c in list(claims) for t in theorems.teeth(c.id)]
    exp = _exps.get(a.experiment) if a.experiment else None
    if a.seed < 0:
        raise UsageError(f"--seed must be >= 0, got {a.seed}")
    if a.search is not None and a.search < 0:
        raise UsageError(f"--search budget must be a positive integer, got {a.search}")
    if not a.no_report:
        claim_dir(a.out)  # the report folder may be written, checked before any work
    # validate every claim against its experiment's schema, and the parameters, before running anything
    instances: dict = {}
    for c in claims:
        e = exp or (_exps.get(c.experiment) if c.measure else None)
        if e is not None:
            e.validate_claim(c)
            instances[c.id] = _instances(e, a)
    verdicts = []
    t0 = time.perf_counter()
    for c in claims:
        vs = check(c, experiment=exp, instances=instances.get(c.id), seed=a.seed, quick=a.quick)
        verdicts += vs
        if not a.json:
            status, unexpected = outcome(vs)
            t = _fmt_tightness(claim_tightness(vs))
            mark = "UNEXPECTED" if unexpected else "ok"
            print(f"{c.id:<40} {status:<12} tightness {t:<9} [{c.provenance.value}] {mark}", flush=True)
    search_rows = None
    records = None  # counterexample records found by --search (copied into the report)
    if a.search is not None:
        import tempfile

        records = Path(tempfile.mkdtemp(prefix="ratecheck-cx-"))
        search_rows = []
        by: dict = {}
        for v in verdicts:
            by.setdefault(v.claim, []).append(v)
        for c in claims:
            if c.expected_to_fail or c.id not in by:
                continue
            row = catalogue_row(c, by[c.id], budget=a.search or None, seed=a.seed, experiment=exp, out=records)
            search_rows.append(row)
            if not a.json:
                bt = row["best_tightness"]
                print(
                    f"  search {c.id:<38} {row['search_verdict'] or 'not searched':<12} best tightness "
                    f"{('%.3g' % bt) if isinstance(bt, float) else '-'}",
                    flush=True,
                )
    try:
        if not a.no_report:
            exp_of = {c.id: (exp.name if exp else c.experiment) for c in claims if c.measure}
            extra = []
            for name in dict.fromkeys(exp_of.values()):
                e = _exps.get(name)
                mine = [v for v in verdicts if exp_of.get(v.claim) == name]
                extra.append(lambda d, e=e, mine=mine: experiment_figures(e, mine, d, quick=a.quick))
            for r in search_rows or []:  # the records move into the report: name them where they will be
                if r.get("counterexample"):
                    r["counterexample"] = str(Path(a.out) / "counterexamples" / Path(r["counterexample"]).name)
            path = write_report(
                verdicts,
                a.out,
                extra_figures=extra,
                search_rows=search_rows,
                records=records,
                command="ratecheck " + " ".join(shlex.quote(x) for x in argv),
                claims=claims,
                progress=_figure_progress(a.json),
            )
            if not a.json:
                print(f"report: {path}/index.html ({time.perf_counter() - t0:.1f} s)")
        elif search_rows:
            for r in search_rows:  # no report: the records are not kept
                r["counterexample"] = None
    finally:
        if records is not None:
            shutil.rmtree(records, ignore_errors=True)
    claims_out = summarize(verdicts)
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
        print(json.dumps(payload, indent=1))
    elif unexpected:
        print(f"{len(unexpected)} unexpected: {', '.join(unexpected)}")
    return 1 if unexpected else 0


def _fmt_tightness(t) -> str:
    if t is None:
        return "-"
    return "inf" if t == float("inf") else f"{t:.3g}"


# --------------------------------------------------------------------------- search and replay
def _add_search_parsers(subparsers) -> None:
    """Add ``search`` and ``replay`` to the ``ratecheck`` subcommands."""
    s = subparsers.add_parser("search", help="search the instance space for a counterexample / the tightest instance")
    s.add_argument("ids", nargs="*", help="claim ids or id prefixes (teeth variants by their full id)")
    s.add_argument(
        "--budget",
        type=int,
        default=None,
        help=f"runs per claim (default {DEFAULT_BUDGET}, {MC_BUDGET} for Monte Carlo runs)",
    )
    s.add_argument("--seed", type=int, default=0, help="search seed (the search is deterministic given it)")
    s.add_argument("--out", default="ratecheck-counterexamples", help="directory for counterexample records")
    s.add_argument("--json", action="store_true", help="print one JSON record per claim")
    s.add_argument("--teeth", action="store_true", help="also search the teeth variants of the selected claims")
    s.add_argument("--claim", action="append", metavar="FILE", help=_CLAIM_HELP)
    s.add_argument("--experiment", help="experiment to search --claim against (default: the claim's own)")
    s.add_argument("--all", action="store_true", help="every claim in the catalogue")
    s.add_argument(
        "--catalogue",
        action="store_true",
        help="print the tightness catalogue (default-instance vs best-found tightness) instead",
    )
    r = subparsers.add_parser("replay", help="re-run a counterexample record exactly")
    r.add_argument("file")
    r.add_argument("--json", action="store_true")
    r.add_argument(
        "--claim",
        metavar="FILE",
        help="the claim, when it is not registered: FILE.py:NAME, or FILE.toml[:ID] "
        "(a claim file; without ID, its claim with the record's id)",
    )


def _cmd_search(a) -> int:
    claims, named = [], set()
    for spec in a.claim or []:
        for c in user_claims(spec):
            claims.append(c)
            named.add(c.id)
    if a.all or a.ids:
        sel = list(theorems.all()) if a.all else list(theorems.select(a.ids))
        claims += sel
        named |= {c.id for c in sel if c.id in a.ids}
        if a.teeth:
            claims += [t for c in sel for t in theorems.teeth(c.id)]
    if not claims:
        raise UsageError("name a claim id or prefix (see `ratecheck list`), or give --claim FILE.py:NAME or FILE.toml")
    if a.budget is not None:
        _check_int("--budget", a.budget, 1)
    _check_int("--seed", a.seed, 0)
    if not a.catalogue:
        check_out(a.out)  # a folder we may write records into, checked before the search runs
    if a.catalogue:
        rows = catalogue(claims, budget=a.budget, seed=a.seed, experiment=a.experiment)
        print(json.dumps(rows, indent=1) if a.json else catalogue_markdown(rows))
        return 1 if any(r["unexpected"] for r in rows) else 0
    todo, skipped = [], []
    for c in claims:  # validate everything before running anything
        try:
            searchable(c, a.experiment)
            todo.append(c)
        except UsageError as e:
            if c.id in named or len(claims) == 1:
                raise
            skipped.append(str(e))
    if not todo:
        raise UsageError("no selected claim can be searched: " + "; ".join(skipped))
    results = []
    for c in todo:
        res = search(c, experiment=a.experiment, budget=a.budget, seed=a.seed, out=a.out)
        results.append(res)
        if not a.json:
            t = _fmt(res.tightness)
            mark = "UNEXPECTED" if res.unexpected else "ok"
            print(
                f"{res.claim:<40} {res.verdict:<12} best tightness {t:<9} {res.runs + res.shrink_runs:>3} runs "
                f"({res.infeasible} infeasible) {res.seconds:6.1f} s {mark}",
                flush=True,
            )
            changes = (
                ", ".join(
                    f"{k}={_fmt(v) if isinstance(v, float) else v}"
                    for k, v in _changes(res.instance, res.experiment).items()
                )
                or "the defaults"
            )
            print(f"    on {changes}; seed {res.seed}")
            if res.counterexample is not None:
                print(f"    counterexample: {res.counterexample}")
    if a.json:
        print(json.dumps([r.to_dict() for r in results], indent=1))
    else:
        for s in skipped:
            print(f"skipped: {s}")
    return 1 if any(r.unexpected for r in results) else 0


def _cmd_replay(a) -> int:
    rec = load_counterexample(a.file)
    claim = None
    if a.claim and _claimfiles.is_claim_file(a.claim) and a.claim.endswith(".toml"):
        claim = _claimfiles.load_claim(f"{a.claim}:{rec['claim']}")  # the file's claim with the record's id
    elif a.claim:
        claim = user_claims(a.claim)[0]
    v = replay(a.file, claim=claim)
    same = reproduces(rec, v)
    if a.json:
        print(json.dumps(dict(v.to_dict(), reproduced=same), indent=1))
    else:
        print(f"{v.claim}: {v.verdict} (expected {v.expected}); tightness {_fmt(v.tightness)}; {v.detail}")
        print(
            f"record {'reproduced exactly' if same else 'NOT reproduced'} "
            f"(recorded {rec.get('verdict')}, measured {rec.get('measured')}, bound {rec.get('bound')} at {rec.get('where')})"
        )
    return 1 if v.unexpected else 0


# --------------------------------------------------------------------------- plot
def _records(verdicts, series: bool) -> list[dict]:
    """Verdict records (:meth:`Verdict.to_dict`); with ``series``, each also carries ``"series"``
    (:func:`verify.verdict.evidence_series`: grid, measured, bound, interval, instance, seed; null when symbolic)."""
    recs = [v.to_dict() for v in verdicts]
    if series:
        for r, v in zip(recs, verdicts):
            r["series"] = evidence_series(v.evidence)
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


def _add_plot_parser(subparsers) -> None:
    """Add ``plot`` (one claim's publication figure) to the ``ratecheck`` subcommands."""
    from .figures import FORMATS, STYLES

    p = subparsers.add_parser(
        "plot",
        help="draw one claim's bound-versus-measured figure (pdf/svg/pgf/png, venue styles) and its series (CSV)",
    )
    p.add_argument("claim", help="claim id or teeth variant id (see `ratecheck list --teeth`)")
    p.add_argument("--param", action="append", metavar="NAME=VALUE", help="instance parameter (repeatable)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="small instance (fast)")
    p.add_argument("--format", help=f"one of {', '.join(FORMATS)} (default: the suffix of --out)")
    p.add_argument("--style", default="plain", help=f"one of {', '.join(STYLES)} (default plain)")
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
    verdicts = check(claim, instances=[params] if params else None, seed=a.seed, quick=a.quick)
    fig = pub.claim_figure(verdicts, claim, style=a.style)
    pub.save_figure(fig, out, fmt)
    csv_path = pub.write_series(verdicts, out.with_suffix(".csv"))
    status, unexpected = outcome(verdicts)
    mark = f"UNEXPECTED (expected {verdicts[0].expected})" if unexpected else "ok"
    print(f"{claim.id}: {status} {mark}; figure {out}" + (f", series {csv_path}" if csv_path else ""))
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
    p.add_argument("--backend", choices=_sweep.BACKENDS, default="loky", help="loky (local processes), dask, or serial")
    p.add_argument("--scheduler", metavar="ADDRESS", help="dask scheduler of an existing cluster, e.g. tcp://host:8786")
    p.add_argument("--workers", type=int, default=2, metavar="K", help="worker processes (loky, local dask cluster)")
    p.add_argument("--out", default="ratecheck-sweep", metavar="DIR", help="results store (created or resumed)")
    p.add_argument("--json", action="store_true", help="print a JSON summary; no progress bar")
    p.add_argument("--quick", action="store_true", help="start from the claim's quick instance (shorter runs)")
    m = subparsers.add_parser(
        "merge",
        help="combine results stores made on several machines",
        description="Copy the finished cells of SOURCE stores into DEST (no duplicates).",
    )
    m.add_argument("dest", metavar="DEST")
    m.add_argument("sources", nargs="+", metavar="SOURCE")
    m.add_argument("--json", action="store_true")


def _cmd_sweep(args) -> int:
    """Run ``sweep`` or ``merge`` from parsed arguments; exit status 0 / 1 (unexpected or failed) / 2 (usage).

    Usage errors are raised as :class:`~verify.checking.UsageError` for the caller to print.
    """
    if args.cmd == "merge":
        counts = _store.merge(args.dest, *args.sources)
        if args.json:
            print(json.dumps(dict(counts, dest=args.dest)))
        else:
            print(
                f"merged into {args.dest}: {counts['copied']} cells copied, {counts['skipped']} already there, "
                f"{counts['failed_copied']} failure records"
            )
        return 0
    cells = _sweep.parse_grid(args.grid, zip_axes=args.zip)
    if args.zip and not args.grid:
        raise UsageError("--zip needs --grid axes")
    target = args.target
    if _claimfiles.is_claim_file(target):
        target = _claimfiles.load_claim(target)  # a claim file of one claim, or FILE.toml:ID
    res = _sweep.sweep(
        target,
        cells,
        seeds=args.seeds,
        out=args.out,
        backend=args.backend,
        workers=args.workers,
        scheduler=args.scheduler,
        quick=args.quick,
        progress=False if args.json else None,
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
        print(
            f"{res.out}: {res.ran} cells run, {res.skipped} already done, {len(res.failed)} failed "
            f"({res.seconds:.1f} s)"
            + (f"; {res.resubmitted} resubmitted after a worker died" if res.resubmitted else "")
        )
        for s in res.summary:
            t = "-" if s["tightness"] is None else f"{s['tightness']:.3g}"
            line = f"  {s['claim']:<28} {s['verdict']:<12} tightness {t:<8} {s['units']} cells"
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
                line += f"  UNEXPECTED (expected {s['expected']})"
            print(line)
        for f in res.failed:
            print(
                f"  failed: {f['claim']} {_sweep._short(f['cell']) or '(default instance)'} seed {f['seed']}: {f['error']}"
            )
    return 1 if res.unexpected else 0


def _one_line_warnings():
    """Show the package's own warnings (e.g. an unreadable store part) as one ``ratecheck: warning:`` line."""
    import warnings

    shown = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, _store.CorruptPartWarning):
            print(f"ratecheck: warning: {' '.join(str(message).split())}", file=sys.stderr)
        else:
            shown(message, category, filename, lineno, file, line)

    return shown, show


def main(argv=None) -> int:
    """Entry point of the ``ratecheck`` console script."""
    import warnings

    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("MPLBACKEND", "Agg")  # the one place that picks a backend: files, no windows
    shown, warnings.showwarning = _one_line_warnings()
    try:
        code = _main(argv)
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


def _main(argv) -> int:
    try:
        p = _parser()
        a = p.parse_args(argv)
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
        raise UsageError(f"unknown command {a.cmd!r}")
    except BAD_INPUT as e:
        print(f"ratecheck: error: {' '.join(str(e).split())}", file=sys.stderr)  # one line, always
        return 2
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
