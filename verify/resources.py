r"""Memory a run needs, estimated from its parameters before anything is allocated.

Each experiment states, for an instance, the dominant arrays its run allocates as :class:`Need`\ s
(:meth:`verify.experiments.Experiment.memory_needs`): a formula in the parameters (``"12*replications*n*d"``),
the number of 8-byte entries it comes to (Python integers: an absurd size never overflows) and the
parameters that grow it.  :func:`check_memory` compares their sum with the memory the machine has
available and refuses a run that cannot fit with one line naming the estimate, what dominates it, the
memory available and the parameters to reduce::

    experiment 'ef21': this instance needs about 80 GB (mostly 12*replications*n*d floats), more than the
    20 GB available; reduce replications, n or d

The estimates are upper bounds of the dominant arrays (every copy alive at once counted), not of every
small temporary; they keep an absurd size (``n=10**9``) from ending in a ``MemoryError`` or in swapping.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Iterable

from .errors import UsageError

__all__ = ["Need", "ENTRY_BYTES", "available_memory", "format_bytes", "memory_bytes", "check_memory"]

ENTRY_BYTES = 8  #: bytes of one float64 or int64 entry


@dataclass(frozen=True)
class Need:
    """One family of arrays of a run: ``entries`` 8-byte entries, ``formula`` says how many in terms of
    the parameters ``names`` that grow it (the ones to reduce when it is too much)."""

    formula: str
    entries: int
    names: tuple = ()

    def __post_init__(self):
        object.__setattr__(self, "entries", max(int(self.entries), 0))

    @property
    def bytes(self) -> int:
        return self.entries * ENTRY_BYTES


def memory_bytes(needs: Iterable[Need]) -> int:
    """Total bytes of ``needs``."""
    return sum(n.bytes for n in needs)


def available_memory() -> int | None:
    """Bytes of memory available to a new computation: ``MemAvailable`` of ``/proc/meminfo`` (Linux), else
    the free physical pages (``os.sysconf``); ``None`` when the platform says neither."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def format_bytes(n: float) -> str:
    """``80 GB``, ``512 MB``, ``3.5 kB`` (decimal units, two significant digits at most)."""
    n = float(n)
    for unit, size in (("EB", 1e18), ("PB", 1e15), ("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            v = n / size
            if v >= 1000:  # beyond exabytes: scientific notation
                return f"{n:.1e} bytes"
            return f"{v:.0f} {unit}" if v >= 10 else f"{v:.1f} {unit}"
    return f"{n:.0f} bytes"


def _names_text(names) -> str:
    names = list(dict.fromkeys(names))
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " or " + names[-1]


def check_memory(who: str, needs: Iterable[Need], available: int | None = None) -> int:
    """Refuse (:class:`UsageError`, one line) a run whose estimated memory exceeds the memory available.

    ``who`` starts the message (e.g. ``"experiment 'ef21'"``); ``available`` defaults to
    :func:`available_memory` (no check when it is unknown).  Returns the estimate in bytes.
    """
    needs = [n for n in needs if n.entries > 0]
    total = memory_bytes(needs)
    if available is None:
        available = available_memory()
    if available is None or total <= available or not needs:
        return total
    top = max(needs, key=lambda n: n.entries)
    names = [nm for n in sorted(needs, key=lambda n: -n.entries) for nm in n.names if n.bytes * 10 >= top.bytes]
    raise UsageError(
        f"{who}: this instance needs about {format_bytes(total)} (mostly {top.formula} floats), "
        f"more than the {format_bytes(available)} available; reduce {_names_text(names or top.names)}"
    )
