"""ratecheck: numerical verification of convergence-rate theorems in optimization and federated learning.

The public entry point.  Three packages live under this namespace:

``ratecheck.theorems``
    paper results as symbolic claims (sympy only);
``ratecheck.solvers``
    the algorithms, vectorized (numpy/scipy only);
``ratecheck.verify``
    what joins them: instances, exact optima, experiments, verdicts, search, sweeps, figures, reports, the CLI.

>>> import ratecheck
>>> claim = ratecheck.get("ef21.nonconvex-am")                              # doctest: +SKIP
>>> verdicts = ratecheck.check("ef21.nonconvex-am", quick=True)             # doctest: +SKIP

``import ratecheck`` is cheap: every public name loads its module on first use.  In the repository the
three packages are the top-level folders ``theorems/``, ``solvers/`` and ``verify/``; an installed
distribution maps them under this namespace (``[tool.setuptools] package-dir`` in ``pyproject.toml``), so
a user's own ``theorems.py`` or ``verify.py`` can never shadow them.
"""

import importlib
import os

_here = os.path.dirname(os.path.abspath(__file__))
_root = os.path.dirname(_here)
if not os.path.isdir(os.path.join(_here, "theorems")) and os.path.isfile(
    os.path.join(_root, "theorems", "__init__.py")
):
    # a source checkout (not installed, or installed in editable mode): the packages are the repository's folders
    __path__.append(_root)  # noqa: F821 - the package's search path

__all__ = [
    # claims
    "Claim",
    "get",
    "all_claims",
    # checking
    "check",
    "search",
    "assert_claim_holds",
    "load_claims",
    "claim_to_toml",
    # verdicts
    "Evidence",
    "Verdict",
    "judge",
    "outcome",
    "HOLDS",
    "VIOLATED",
    "INCONCLUSIVE",
    "UsageError",
    # the packages
    "theorems",
    "solvers",
    "verify",
    "__version__",
]

#: public name -> (module, attribute) imported on first use
_LAZY = {
    "Claim": ("ratecheck.theorems", "Claim"),
    "get": ("ratecheck.theorems", "get"),
    "all_claims": ("ratecheck.theorems", "all_claims"),
    **{
        name: ("ratecheck.verify", name)
        for name in ("check", "search", "assert_claim_holds", "load_claims", "claim_to_toml", "Evidence", "Verdict")
        + ("judge", "outcome", "HOLDS", "VIOLATED", "INCONCLUSIVE", "UsageError")
    },
    "theorems": ("ratecheck.theorems", None),
    "solvers": ("ratecheck.solvers", None),
    "verify": ("ratecheck.verify", None),
    "__version__": ("ratecheck.verify._version", "__version__"),
}


def __getattr__(name):
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'ratecheck' has no attribute {name!r}")
    module = importlib.import_module(target[0])
    value = module if target[1] is None else getattr(module, target[1])
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
