"""Errors of the harness (the bottom layer of :mod:`verify`: it imports nothing from the package)."""
from __future__ import annotations

import difflib
from typing import Iterable

__all__ = ["UsageError", "did_you_mean", "close_match"]


class UsageError(ValueError):
    """Bad input to the harness: an unknown name, an out-of-range value, a claim its experiment cannot check.

    The message is one line that names the parameter (or setting, symbol, measure), the rule it
    breaks and, for names, the valid choices.  The command line prints it as
    ``ratecheck: error: ...`` and exits with status 2.
    """


def close_match(name: str, known: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` when a known name is close to ``name``, else ``""``."""
    close = difflib.get_close_matches(str(name), [str(k) for k in known], n=3, cutoff=0.6)
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def did_you_mean(name: str, known: Iterable[str], what: str = "known") -> str:
    """``"; did you mean 'x'?; known: a, b, c"`` — the tail of an unknown-name message."""
    known = sorted(str(k) for k in known)
    return f"{close_match(name, known)}; {what}: {', '.join(known) if known else 'none'}"
