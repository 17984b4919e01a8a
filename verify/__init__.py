"""The harness: instances, exact optima, experiments, checks, sweeps, plots, reports and the CLI.

>>> import verify
>>> verdicts = verify.check("ef21.nonconvex-am", quick=True)   # doctest: +SKIP
"""
from ._version import __version__
from .check import (ATOL, CONFIDENCE, HOLDS, INCONCLUSIVE, RTOL, VIOLATED, Evidence, UsageError, Verdict,
                    assert_claim_holds, check, judge, outcome)

__all__ = ["check", "assert_claim_holds", "outcome", "judge", "Evidence", "Verdict", "UsageError", "HOLDS", "VIOLATED",
           "INCONCLUSIVE", "RTOL", "ATOL", "CONFIDENCE", "__version__"]

from . import search  # noqa: E402  (callable module: verify.search(claim, ...))
