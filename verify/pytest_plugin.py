r"""pytest items for claim files (``*.claim.toml``), collected by the ``ratecheck_pytest`` plugin.

Each ``[[claim]]`` of a claim file becomes a test item ``FILE::ID`` that runs the plain check
(:func:`verify.check` on the experiment's quick default instances unless the claim says
``quick = false``; seed from ``seed``); a claim with ``search_budget = N`` gets a second item
``FILE::ID[search]`` that attacks it with the counterexample search (:func:`verify.search`, ``N`` runs).
A failing item reports the verdicts, writes a replayable counterexample record and prints the command
that replays it (``ratecheck replay RECORD --claim FILE``).  Records go to ``--ratecheck-out DIR``, else
to a folder under pytest's temporary directory.  A claim file that cannot be read is a collection
error naming the field and the column.  Nothing in a claim file is executed.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import pytest

from ._version import __version__
from .claimfiles import ClaimEntry, read_claim_file
from .errors import UsageError
from .outputs import MARKER, claim_dir, mark
from .verdict import VIOLATED, _jsonable, outcome

__all__ = ["ClaimCheck", "ClaimFailed", "ClaimFile", "ClaimSearch"]


class ClaimFailed(AssertionError):
    """A claim-file test's outcome is not the expected one (the message says why and how to replay)."""


class ClaimFile(pytest.File):
    """A claim file: one item per claim, plus a search item per claim with ``search_budget``."""

    def collect(self):
        try:
            entries = read_claim_file(self.path)
        except UsageError as e:
            raise self.CollectError(str(e)) from None
        for e in entries:
            yield ClaimCheck.from_parent(self, name=e.claim.id, entry=e)
            if e.search_budget:
                yield ClaimSearch.from_parent(self, name=f"{e.claim.id}[search]", entry=e)


class _ClaimItem(pytest.Item):
    def __init__(self, *, entry: ClaimEntry, **kwargs):
        super().__init__(**kwargs)
        self.entry = entry

    what = "claim"

    def reportinfo(self):
        line = self.entry.line - 1 if self.entry.line else None
        return self.path, line, f"{self.what} {self.entry.claim.id}"

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, (ClaimFailed, UsageError)):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def _out(self) -> Path:
        given = self.config.getoption("ratecheck_out", None)
        if given:
            return Path(given)
        cached = getattr(self.config, "_ratecheck_out", None)
        if cached is None:
            factory = getattr(self.config, "_tmp_path_factory", None)  # pytest's tmp_path_factory
            cached = factory.mktemp("ratecheck") if factory is not None else Path(tempfile.mkdtemp(prefix="ratecheck-"))
            self.config._ratecheck_out = cached
        return cached

    def _replay(self, record: Path) -> str:
        return f"ratecheck replay {_rel(record)} --claim {_rel(self.path)}"


class ClaimCheck(_ClaimItem):
    """The plain check of one claim on its experiment's default instances."""

    def runtest(self):
        from .checking import check

        e = self.entry
        verdicts = check(e.claim, seed=e.seed, quick=e.quick)
        status, unexpected = outcome(verdicts)
        if not unexpected:
            return
        c = e.claim
        expected = verdicts[0].expected
        lines = [
            f"{c.id}: {status} (expected {expected})"
            + (f"; the claim says it is false: {c.expected_to_fail}" if c.expected_to_fail else "")
        ]
        shown = [v for v in verdicts if v.verdict != expected] or list(verdicts)
        lines += [f"  {v.verdict} on {_short(v.instance, c)} (seed {v.seed}): {v.detail}" for v in shown]
        violated = [v for v in verdicts if v.verdict == VIOLATED]
        if violated and not c.expected_to_fail:
            worst = max(violated, key=lambda v: v.tightness if v.tightness is not None else float("inf"))
            path = write_verdict_record(worst, c, self._out())
            lines += [f"counterexample: {_rel(path)}", f"replay: {self._replay(path)}"]
        raise ClaimFailed("\n".join(lines))


class ClaimSearch(_ClaimItem):
    """The counterexample search over the experiment's instance space (``search_budget`` runs)."""

    what = "search"

    def runtest(self):
        from .searching import search

        e = self.entry
        res = search(e.claim, budget=e.search_budget, seed=e.seed, out=self._out())
        if not res.unexpected:
            return
        best = f"{res.tightness:.3g}" if isinstance(res.tightness, float) else str(res.tightness)
        lines = [
            (
                f"{res.claim}: search found it {res.verdict} (expected {res.expected}) after {res.runs} runs "
                f"({res.infeasible} infeasible); best tightness {best}"
            )
        ]
        if res.best is not None:
            lines.append(f"  on {_short(res.instance, e.claim)} (seed {res.seed}): {res.best.detail}")
        if res.counterexample is not None:
            lines += [f"counterexample: {_rel(res.counterexample)}", f"replay: {self._replay(res.counterexample)}"]
        raise ClaimFailed("\n".join(lines))


def _rel(path) -> str:
    """``path`` relative to the working directory when it lies below it (shorter commands to copy)."""
    p = Path(path).resolve()
    try:
        return str(p.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


def _short(instance: dict, claim) -> str:
    """The instance's parameters that differ from the experiment's defaults."""
    from . import experiments

    try:
        defaults = experiments.get(claim.experiment).defaults
    except UsageError:
        defaults = {}
    diff = {k: v for k, v in instance.items() if defaults.get(k, object()) != v}
    return ", ".join(f"{k}={v}" for k, v in diff.items()) or "the default instance"


def write_verdict_record(v, claim, out) -> Path:
    """A counterexample record (the format of :func:`verify.searching.write_counterexample`) of one violating
    verdict of the plain check; ``ratecheck replay`` re-runs it exactly."""
    from .searching import FORMAT, _safe

    w = dict(v.worst_at)
    measured, bound = w.pop("measured", None), w.pop("bound", None)
    s = claim.summary()
    rec = _jsonable(
        {
            "format": FORMAT,
            "claim": claim.id,
            "experiment": claim.experiment,
            "instance": v.instance,
            "seed": v.seed,
            "measured": measured,
            "bound": bound,
            "where": w,
            "verdict": v.verdict,
            "tightness": v.tightness,
            "detail": v.detail,
            "expected_to_fail": bool(claim.expected_to_fail),
            "point": None,
            "search": None,
            "package_version": __version__,
            "statement": {k: s[k] for k in ("kind", "measure", "in_expectation", "bound", "stepsize", "assumptions")},
        }
    )
    d = Path(out)
    if not (d / MARKER).is_file():
        claim_dir(d, "--ratecheck-out")
        d.mkdir(parents=True, exist_ok=True)
        mark(d, "counterexample records")
    digest = hashlib.sha1(json.dumps([rec["instance"], rec["seed"]], sort_keys=True).encode()).hexdigest()[:8]
    path = d / f"{_safe(claim.id)}-{digest}.json"
    fd, tmp = tempfile.mkstemp(prefix=".cx-", suffix=".json", dir=d)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(json.dumps(rec, indent=1) + "\n")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path
