"""Before/after comparison of verdicts: a refactor must not change any verdict.

``python tools/verdicts.py save FILE [--full]`` runs ``ratecheck check --all`` (``--quick`` unless
``--full``) and saves one line per (claim, instance, seed): the verdict and whether it was expected.
``python tools/verdicts.py compare FILE [--full]`` runs it again and lists every record whose
verdict changed, appeared or disappeared (exit 1 if any), and how many tightness values moved.
The default test run compares against ``tests/data/verdicts_quick.json`` (tests/verify/test_verdicts_unchanged.py).
``--claims PREFIX`` (repeatable) restricts both actions to the claims whose id starts with a prefix: ``save``
then replaces only those records in FILE (the others are kept as they are), ``compare`` compares only them.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's packages, not an installed copy


def records(full: bool = False, prefixes=()) -> dict:
    """``{key: {"verdict", "expected", "tightness"}}`` of ``ratecheck check --all`` (teeth included), or of the
    claims whose id starts with one of ``prefixes`` (all when empty)."""
    from ratecheck import theorems
    from ratecheck.verify import check

    out = {}
    for claim in [*theorems.all(), *theorems.teeth()]:
        if prefixes and not claim.id.startswith(tuple(prefixes)):
            continue
        for v in check(claim, quick=not full):
            key = json.dumps([v.claim, v.instance, v.seed], sort_keys=True, default=str)
            out[key] = {"verdict": v.verdict, "expected": v.expected, "tightness": v.tightness}
    return out


def compare(before: dict, after: dict) -> tuple[list[str], int]:
    """Changed verdicts (as lines) and the number of tightness values that moved by > 1e-9 relative."""
    lines = [f"missing after: {k}" for k in before.keys() - after.keys()]
    lines += [f"new after: {k}" for k in after.keys() - before.keys()]
    moved = 0
    for k in before.keys() & after.keys():
        b, a = before[k], after[k]
        if (b["verdict"], b["expected"]) != (a["verdict"], a["expected"]):
            lines.append(f"{k}: {b['verdict']} -> {a['verdict']}")
        tb, ta = b.get("tightness"), a.get("tightness")
        if isinstance(tb, float) and isinstance(ta, float) and math.isfinite(tb) and math.isfinite(ta):
            moved += abs(ta - tb) > 1e-9 * max(1.0, abs(tb))
        elif tb != ta and not (_nan(tb) and _nan(ta)):
            moved += 1
    return sorted(lines), moved


def _selected(key: str, prefixes) -> bool:
    """Whether the record ``key`` (JSON ``[claim, instance, seed]``) belongs to a claim id with one of the prefixes."""
    return json.loads(key)[0].startswith(tuple(prefixes))


def _nan(x) -> bool:
    return isinstance(x, float) and math.isnan(x)


def _clean(rec: dict) -> dict:
    t = rec["tightness"]
    return dict(rec, tightness=t if t is None or math.isfinite(t) else str(t))


def _load(path: Path) -> dict:
    data = json.loads(path.read_text())
    return {
        k: dict(v, tightness=float(v["tightness"]) if isinstance(v["tightness"], str) else v["tightness"])
        for k, v in data.items()
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("action", choices=("save", "compare"))
    ap.add_argument("file", type=Path)
    ap.add_argument("--full", action="store_true", help="default instances instead of --quick ones")
    ap.add_argument(
        "--claims",
        action="append",
        default=[],
        metavar="PREFIX",
        help="only the claims whose id starts with PREFIX (repeatable); save replaces only their records",
    )
    a = ap.parse_args(argv)
    now = records(full=a.full, prefixes=a.claims)
    if a.action == "save":
        kept = {}
        if a.claims and a.file.exists():
            kept = {k: v for k, v in _load(a.file).items() if not _selected(k, a.claims)}
        merged = {**kept, **now}
        tmp = a.file.with_name(a.file.name + ".tmp")
        tmp.write_text(json.dumps({k: _clean(v) for k, v in sorted(merged.items())}, indent=0) + "\n")
        tmp.replace(a.file)  # never a half-written baseline
        print(f"saved {len(now)} verdicts to {a.file}" + (f" ({len(kept)} other records kept)" if a.claims else ""))
        return 0
    before = _load(a.file)
    if a.claims:
        before = {k: v for k, v in before.items() if _selected(k, a.claims)}
    lines, moved = compare(before, now)
    print("\n".join(lines) if lines else f"all {len(now)} verdicts unchanged ({moved} tightness values moved)")
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main())
