"""The pytest plugin of ratecheck: every claim file (``*.claim.toml``) is collected as tests.

Installed as the ``pytest11`` entry point ``ratecheck`` (``pip install ratecheck``), or enabled by hand
with ``pytest -p ratecheck_pytest``.  This module is deliberately tiny: pytest imports it in every run
of the environment, and it imports ratecheck only when it meets a claim file
(:mod:`verify.pytest_plugin` holds the test items).
"""

from __future__ import annotations

SUFFIX = ".claim.toml"


def pytest_addoption(parser):
    group = parser.getgroup("ratecheck", "ratecheck claim files (*.claim.toml)")
    group.addoption(
        "--ratecheck-out",
        metavar="DIR",
        default=None,
        help="folder for the counterexample records of failing claim-file tests "
        "(default: a folder under pytest's temporary directory)",
    )


def pytest_collect_file(file_path, parent):
    if file_path.name.endswith(SUFFIX):
        from ratecheck.verify.pytest_plugin import ClaimFile

        return ClaimFile.from_parent(parent, path=file_path)
    return None
