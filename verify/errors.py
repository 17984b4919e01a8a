"""Errors of the harness (the bottom layer of :mod:`verify`: it imports nothing from the package)."""

from __future__ import annotations

import difflib
import os
import threading
import warnings
from contextlib import contextmanager
from typing import Iterable

__all__ = ["UsageError", "did_you_mean", "close_match", "warnings_after_success", "warning_note"]


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


@contextmanager
def warnings_after_success(into: list | None = None):
    """Hold the warnings raised in the block and show them only if it succeeds.

    A run that fails reports its failure alone (e.g. ``ratecheck: error: ...`` for an extreme value), not the
    raw ``RuntimeWarning`` lines met on the way (an overflow that the error explains).  The warning filters
    stay in force: an ``error`` filter still raises where the warning occurs, ``ignore`` still ignores.
    Holding needs the process-wide warning state, so it only happens in the main thread (elsewhere the
    warnings pass through unchanged).

    Parameters
    ----------
    into : list, optional
        Where the held warnings (``warnings.WarningMessage``) go when the block succeeds, instead of being
        shown: the caller makes them part of its result (a verdict's detail, :func:`warning_note`), so a
        solver's or an optimizer's warning never reaches the console raw.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    with warnings.catch_warnings(record=True) as held:  # record=True keeps the filters, holds what they show
        yield
    if into is not None:
        into.extend(held)
        return
    for w in held:
        warnings.showwarning(w.message, w.category, w.filename, w.lineno, w.file, w.line)


def warning_note(held: Iterable, limit: int = 3) -> str:
    """``"; 2 warnings while running: RuntimeWarning at ef21.py:88 'overflow encountered in ...' (x2)"`` —
    the tail that a verdict's detail carries for the warnings met while it was computed (``""`` for none).

    Repeats are counted, at most ``limit`` distinct warnings are named, each on one line; the full
    list is the caller's to keep if it wants one.
    """
    counts: dict = {}
    for w in held:
        text = " ".join(str(w.message).split())
        if len(text) > 100:
            text = text[:97] + "..."
        where = f"{os.path.basename(str(w.filename))}:{w.lineno}"
        key = (w.category.__name__, where, text)
        counts[key] = counts.get(key, 0) + 1
    if not counts:
        return ""
    total = sum(counts.values())
    items = [f"{cat} at {where} {text!r}" + (f" (x{n})" if n > 1 else "") for (cat, where, text), n in counts.items()]
    more = f"; and {len(items) - limit} more" if len(items) > limit else ""
    return f"; {total} warning{'s' if total > 1 else ''} while running: " + "; ".join(items[:limit]) + more
