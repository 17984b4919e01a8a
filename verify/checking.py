r"""Check a claim against an experiment: the engine behind ``verify.check`` and ``ratecheck check``.

It validates the claim against the experiment's schema, runs the default (or given) instances and
judges each piece of evidence with :func:`verify.verdict.judge`.  The verdict types are re-exported
here for convenience.
"""

from __future__ import annotations

import time
from typing import Sequence

import numpy as np

from ratecheck import theorems
from ratecheck.theorems import Claim, Kind

from . import experiments as _exps
from .errors import UsageError, warnings_after_success
from .verdict import (
    ATOL,
    CONFIDENCE,
    HOLDS,
    INCONCLUSIVE,
    RTOL,
    VIOLATED,
    Evidence,
    Verdict,
    _jsonable,
    claim_tightness,
    judge,
    outcome,
    summarize,
)

__all__ = [
    "check",
    "Evidence",
    "Verdict",
    "UsageError",
    "judge",
    "outcome",
    "summarize",
    "claim_tightness",
    "HOLDS",
    "VIOLATED",
    "INCONCLUSIVE",
    "RTOL",
    "ATOL",
    "CONFIDENCE",
    "_jsonable",
]


def _resolve(claim) -> Claim:
    if isinstance(claim, Claim):
        return claim
    if isinstance(claim, str):
        return theorems.get(claim)
    raise UsageError(f"claim must be a theorems.Claim or a claim id, got {type(claim).__name__}")


def check(
    claim, experiment=None, instances: Sequence[dict] | None = None, seed: int = 0, quick: bool = False
) -> list[Verdict]:
    """Check a claim (object or id) against an experiment; one :class:`Verdict` per instance.

    Parameters
    ----------
    claim : Claim or str
        A registered id or any :class:`theorems.Claim`, e.g. one written in a user's own file.
    experiment : str or Experiment, optional
        Defaults to ``claim.experiment``.
    instances : list of dict, optional
        Instance parameters (see the experiment's ``defaults``); defaults to the experiment's
        default instances for this claim.
    seed : int
        Seed of the instance data and of every random choice of the run.
    quick : bool
        Smaller default instances (shorter runs, fewer replications).
    """
    claim = _resolve(claim)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise UsageError(f"seed must be an integer >= 0, got {seed!r}")
    proofs = claim.prove() if claim.identities else []
    if claim.kind is Kind.IDENTITY and not claim.measure:
        t0 = time.perf_counter()
        ev = Evidence("none", [], [], [], method="none", proofs=proofs, seed=seed)
        v = judge(claim, ev, time.perf_counter() - t0)
        v.claim_verdict = v.verdict
        return [v]
    exp = experiment if isinstance(experiment, _exps.Experiment) else _exps.get(experiment or claim.experiment or "")
    exp.validate_claim(claim)  # unknown measure, setting or symbol: one line naming the valid ones
    if instances is None:
        instances = exp.instances(claim, quick=quick)
    out = []
    for inst in instances:
        if not isinstance(inst, dict):
            raise UsageError(f"each instance must be a dict of parameters, got {type(inst).__name__}")
        params = exp.params(inst)
        t0 = time.perf_counter()
        with warnings_after_success():  # a run or a bound that fails is one line, with no raw warning before it
            ev = exp.run(claim, params, seed=seed)  # bad values arrive as one-line UsageError (Experiment base)
            ev.proofs = list(proofs)
            out.append(judge(claim, ev, time.perf_counter() - t0))
    status = outcome(out)[0]
    for v in out:
        v.claim_verdict = status
    return out
