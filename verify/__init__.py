"""The harness: instances, exact optima, experiments, checks, sweeps, plots, reports and the CLI.

>>> import verify
>>> verdicts = verify.check("ef21.nonconvex-am", quick=True)   # doctest: +SKIP
"""
from ._version import __version__
from .check import check
from .claimfiles import claim_to_toml, load_claims
from .errors import UsageError
from .search import search
from .testing import assert_claim_holds
from .verdict import ATOL, CONFIDENCE, HOLDS, INCONCLUSIVE, RTOL, VIOLATED, Evidence, Verdict, judge, outcome

__all__ = ["check", "search", "assert_claim_holds", "load_claims", "claim_to_toml", "outcome", "judge", "Evidence", "Verdict", "UsageError", "HOLDS", "VIOLATED",
           "INCONCLUSIVE", "RTOL", "ATOL", "CONFIDENCE", "__version__"]

