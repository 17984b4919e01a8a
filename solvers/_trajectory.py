r"""The one record every solver returns: :class:`Trajectory` and its per-algorithm subclasses.

A run of an iterative method :math:`x^{k+1}=\mathcal A(x^k,\xi^k)` is summarised by what it tracked
per step (distances, gradient norms, objective values, consensus errors, ... as arrays whose last
axis is the step :math:`k=0..T`), its cost counters (gradient calls, communications, floats and
bits sent, where the algorithm has them) and four fields every run has:

``T``
    the number of steps actually run (a run stopped early by a tolerance records fewer than asked);
``x_final``
    the last iterate (shape ``(d,)``, or with leading replication / batch axes);
``diverged_at``
    the first step whose values overflowed (later entries are ``inf``), or None;
``meta``
    a dict naming the algorithm and its discrete options (for reports, never for arithmetic).

Subclasses add their own tracked series; the names of those series are listed in the class
attribute ``SERIES`` so harness code can read them generically with :meth:`Trajectory.series`.
A series holds one scalar per step on its last axis (leading axes: replications, batches).
Per-step vectors such as iterates (``(T+1, d)``, with replication axes where the method has them;
each record documents its layout) are stored as per-step rows and are not listed in ``SERIES``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

__all__ = ["Trajectory"]


@dataclass(kw_only=True)
class Trajectory:
    """Base record of a solver run (see the module docstring for the contract).

    Attributes
    ----------
    T : int
        Steps run.
    x_final : ndarray or None
        Last iterate (leading axes: replications or batched problems).
    diverged_at : int or None
        First overflowing step, if any.
    meta : dict
        Algorithm name and discrete options.
    """

    SERIES: ClassVar[tuple[str, ...]] = ()

    T: int
    x_final: np.ndarray | None = None
    diverged_at: int | None = None
    meta: dict = field(default_factory=dict)

    def series(self) -> dict[str, np.ndarray]:
        """The tracked per-step measures of this run, by name (those of ``SERIES`` that were recorded)."""
        out = {}
        for name in self.SERIES:
            v = getattr(self, name)
            if v is not None:
                out[name] = v
        return out
