"""Assertions for test suites: a user's own claims checked from pytest (``verify.assert_claim_holds``)."""

from __future__ import annotations

from typing import Sequence

from .checking import check
from .searching import assert_claim_holds_search
from .verdict import outcome

__all__ = ["assert_claim_holds"]


def assert_claim_holds(
    claim,
    experiment=None,
    instances: Sequence[dict] | None = None,
    seed: int = 0,
    quick: bool = True,
    budget: int | None = None,
    directory=None,
):
    """Assertion helper for test suites: fail with the verdict details unless every verdict is
    the expected one (``holds``, or ``violated`` for claims marked ``expected_to_fail``).

    With ``budget``, the claim is instead attacked by the counterexample search
    (:func:`verify.searching.assert_claim_holds_search`) over the experiment's instance space; a
    failure names a replayable counterexample file (written to ``directory``).
    """
    if budget is not None:
        return assert_claim_holds_search(claim, experiment=experiment, budget=budget, seed=seed, directory=directory)
    verdicts = check(claim, experiment=experiment, instances=instances, seed=seed, quick=quick)
    status, unexpected = outcome(verdicts)
    if unexpected:
        bad = [v for v in verdicts if v.verdict != v.expected] or list(verdicts)
        lines = [
            f"{v.claim}: {v.verdict} (expected {v.expected}) on {v.instance}, seed {v.seed}: {v.detail}" for v in bad
        ]
        raise AssertionError("\n".join(lines))
    return verdicts
