"""The harness: instances, exact optima, experiments, checks, sweeps, figures, reports and the CLI.

>>> from ratecheck import verify
>>> verdicts = verify.check("ef21.nonconvex-am", quick=True)   # doctest: +SKIP

``import ratecheck.verify`` is cheap: the public names below load their modules (numpy, scipy, sympy, cvxpy: seconds)
on first use, so that the command line can handle Ctrl-C before those imports start (``verify.__main__``).
``check`` and ``search`` are the functions (their modules are ``checking`` and ``searching``).
"""

import importlib

from ._version import __version__
from .errors import UsageError

__all__ = [
    "check",
    "search",
    "plot",
    "assert_claim_holds",
    "load_claims",
    "claim_to_toml",
    "outcome",
    "judge",
    "Evidence",
    "Verdict",
    "UsageError",
    "HOLDS",
    "VIOLATED",
    "INCONCLUSIVE",
    "RTOL",
    "ATOL",
    "CONFIDENCE",
    "__version__",
]

#: public name -> the module (of this package) that defines it, imported on first use
_LAZY = {
    "check": "checking",
    "search": "searching",
    "plot": "figures",
    "assert_claim_holds": "testing",
    "load_claims": "claimfiles",
    "claim_to_toml": "claimfiles",
    **{
        n: "verdict"
        for n in (
            "ATOL",
            "CONFIDENCE",
            "HOLDS",
            "INCONCLUSIVE",
            "RTOL",
            "VIOLATED",
            "Evidence",
            "Verdict",
            "judge",
            "outcome",
        )
    },
}


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
