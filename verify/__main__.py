"""``python -m ratecheck`` and the ``ratecheck`` console script (``ratecheck.verify.__main__:run``).

The command line imports numpy, scipy, sympy and cvxpy: seconds.  Ctrl-C during those imports exits like
Ctrl-C during a run (status 130, one line, no traceback): ``import ratecheck`` itself is cheap, and the heavy
imports happen inside :func:`run`, under its handler.
"""

import gc
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
    # The catalogue is hundreds of thousands of sympy objects that live until exit; the collector's passes
    # over them during interpreter shutdown cost ~0.3 s, a third of `list`/`show`.  Freezing moves them out of
    # the collector's sight; exit handlers and stream flushing run as usual.
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    run()
