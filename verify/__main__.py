"""``python -m ratecheck`` and the ``ratecheck`` console script (``ratecheck.verify.__main__:run``).

The command line imports numpy, scipy, sympy and cvxpy: seconds.  Ctrl-C during those imports exits like
Ctrl-C during a run (status 130, one line, no traceback): ``import ratecheck`` itself is cheap, and the heavy
imports happen inside :func:`run`, under its handler.
"""

import sys


def _interrupted() -> "None":
    try:
        print("ratecheck: interrupted", file=sys.stderr, flush=True)
    except (OSError, ValueError):  # stderr closed
        pass
    raise SystemExit(130)


def run(argv=None) -> "None":
    """Run the command line and exit with its status."""
    try:
        from .cli import main
    except KeyboardInterrupt:
        _interrupted()
    try:
        code = main(argv)
    except KeyboardInterrupt:  # outside main's own handler (e.g. between two of its statements)
        _interrupted()
    sys.exit(code)


if __name__ == "__main__":
    run()
