"""``ratecheck`` command line (also ``python -m verify``).

::

    ratecheck list [--json] [--teeth]
    ratecheck show ID [--latex] [--json]
    ratecheck experiments [--json]
    ratecheck describe EXPERIMENT [--json]
    ratecheck check [ID-or-prefix ...] [--all] [--quick] [--json] [--out DIR] [--no-report]
                    [--seed S] [--param NAME=VALUE ...] [--no-teeth]
                    [--claim FILE.py:NAME --experiment NAME] [--data FILE --clients N]
    ratecheck search CLAIM [--budget N] [--seed S] [--out DIR]      (verify/search.py)
    ratecheck replay FILE                                            (verify/search.py)
    ratecheck sweep ... / ratecheck merge ...                        (verify/sweep.py)

Exit status: 0 when nothing is unexpected, 1 when some verdict is unexpected (a claim not
holding, or a teeth variant not caught), 2 for bad usage or bad input (one-line message).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import shlex
import shutil
import sys
import time
from pathlib import Path

import theorems
from solvers import InvalidInput
from theorems import ClaimError

from .check import UsageError, check, claim_tightness, outcome, summarize

__all__ = ["main", "load_claim"]

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
    if not p.is_file():
        raise UsageError(f"--claim: file {path!r} does not exist")
    mod_name = f"_ratecheck_user_{abs(hash(str(p.resolve())))}"
    sp = importlib.util.spec_from_file_location(mod_name, p)
    if sp is None or sp.loader is None:
        raise UsageError(f"--claim: {path!r} is not a Python file")
    mod = importlib.util.module_from_spec(sp)
    try:
        sp.loader.exec_module(mod)
    except Exception as e:  # the user's file failed to import
        raise UsageError(f"--claim: importing {path!r} failed: {type(e).__name__}: {e}") from None
    if not hasattr(mod, name):
        raise UsageError(f"--claim: {path!r} defines no name {name!r}")
    obj = getattr(mod, name)
    if not isinstance(obj, theorems.Claim):
        raise UsageError(f"--claim: {path}:{name} is a {type(obj).__name__}, not a theorems.Claim")
    return obj


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
    ex = sub.add_parser("experiments", help="list the experiments (what claims can be checked against)")
    ex.add_argument("--json", action="store_true", help="print the list as JSON")
    de = sub.add_parser("describe", help="describe an experiment: parameters, constants, measures, settings, "
                                         "default instances, search space")
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
    ck.add_argument("--seed", type=int, default=0)
    ck.add_argument("--param", action="append", metavar="NAME=VALUE",
                    help="instance parameter (repeatable; names and rules: `ratecheck describe EXPERIMENT`); "
                         "replaces the default instances by one instance")
    ck.add_argument("--data", help="a LIBSVM/svmlight data file (experiments that accept real data)")
    ck.add_argument("--clients", type=int, help="number of clients to split --data across")
    ck.add_argument("--claim", action="append", metavar="FILE.py:NAME", help="a claim defined in your own file")
    ck.add_argument("--experiment", help="experiment to check --claim against (default: the claim's own)")
    ck.add_argument("--search", nargs="?", type=int, const=0, default=None, metavar="BUDGET",
                    help="also search each claim's instance space for its tightest instance (optional run budget) "
                         "and report the best tightness found next to the default one")
    for hook in _hooks():
        hook(sub)
    return p


def _hooks():
    """Subcommands contributed by optional modules (e.g. ``sweep``)."""
    hooks = []
    for name in ("sweep", "search"):
        try:
            mod = importlib.import_module(f"{__package__}.{name}")
        except ImportError:  # pragma: no cover - optional backends missing
            continue
        if hasattr(mod, "add_parsers"):
            hooks.append(mod.add_parsers)
    return hooks


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
    from . import experiments as _exps

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
    from . import experiments as _exps
    from .describe import describe, describe_text

    e = _exps.get(a.experiment)
    if a.json:
        print(json.dumps(describe(e), indent=1))
    else:
        print(describe_text(e))
    return 0


def _cmd_check(a, argv) -> int:
    from . import experiments as _exps

    claims: list = []
    if a.claim:
        claims += [load_claim(s) for s in a.claim]
    if a.all:
        claims += list(theorems.all())
    elif a.ids:
        claims += list(theorems.select(a.ids))
    if not claims:
        raise UsageError("name claim ids or prefixes (see `ratecheck list`), use --all, or give --claim FILE.py:NAME")
    if not a.no_teeth and not a.claim:
        claims += [t for c in list(claims) for t in theorems.teeth(c.id)]
    exp = _exps.get(a.experiment) if a.experiment else None
    if a.seed < 0:
        raise UsageError(f"--seed must be >= 0, got {a.seed}")
    if not a.no_report:
        from .report import prepare_out

        prepare_out(a.out)
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

        from .search import catalogue_row

        if a.search < 0:
            raise UsageError(f"--search budget must be a positive integer, got {a.search}")
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
                print(f"  search {c.id:<38} {row['search_verdict'] or 'not searched':<12} best tightness "
                      f"{('%.3g' % bt) if isinstance(bt, float) else '-'}", flush=True)
    try:
        if not a.no_report:
            from .report import write_report

            exp_of = {c.id: (exp.name if exp else c.experiment) for c in claims if c.measure}
            extra = []
            for name in dict.fromkeys(exp_of.values()):
                e = _exps.get(name)
                mine = [v for v in verdicts if exp_of.get(v.claim) == name]
                extra.append(lambda d, e=e, mine=mine: e.figures(mine, d, quick=a.quick))
            for r in search_rows or []:  # the records move into the report: name them where they will be
                if r.get("counterexample"):
                    r["counterexample"] = str(Path(a.out) / "counterexamples" / Path(r["counterexample"]).name)
            path = write_report(verdicts, a.out, extra_figures=extra, search_rows=search_rows, records=records,
                                command="ratecheck " + " ".join(shlex.quote(x) for x in argv))
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
            row.update(search_verdict=r["search_verdict"], best_tightness=r["best_tightness"],
                       counterexample=r.get("counterexample"))
            row["unexpected"] = row["unexpected"] or r["search_verdict"] == "violated"
    unexpected = [row["claim"] for row in claims_out if row["unexpected"]]
    if a.json:
        payload = {"claims": claims_out, "verdicts": [v.to_dict() for v in verdicts]}
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


def main(argv=None) -> int:
    """Entry point of the ``ratecheck`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
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
            from .sweep import run_cli

            return int(run_cli(a))
        if a.cmd in ("search", "replay"):
            from .search import run_cli as run_search

            return int(run_search(a))
        raise UsageError(f"unknown command {a.cmd!r}")
    except BAD_INPUT as e:
        print(f"ratecheck: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ratecheck: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
