"""Modules imported on first use: the command line loads cvxpy, matplotlib and scipy.stats only for the commands
that run something (``ratecheck --help``, ``list`` and ``show`` print at once).

>>> _search = lazy_module(".searching", "ratecheck.verify")   # doctest: +SKIP
>>> _search.DEFAULT_BUDGET                       # imports verify.search here   # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import importlib.util
import sys

__all__ = ["lazy_module"]


class LazyModule:
    """Stand-in for the module ``name`` (relative to ``package``) that imports it on first attribute access.

    Every attribute access goes through :func:`importlib.import_module`, which is a ``sys.modules`` lookup
    once the module is loaded; nothing is cached here, so the module stays the single source of truth.
    """

    __slots__ = ("_name", "_package")

    def __init__(self, name: str, package: str | None = None) -> None:
        self._name, self._package = name, package

    @property
    def loaded(self) -> bool:
        """Whether the module has been imported (by anyone), without importing it."""
        return importlib.util.resolve_name(self._name, self._package) in sys.modules

    @property
    def module(self):
        """The module itself (imported now if it was not yet)."""
        return importlib.import_module(self._name, self._package)

    def __getattr__(self, attr: str):
        return getattr(self.module, attr)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r} of {self._package!r}>"


def lazy_module(name: str, package: str | None = None) -> LazyModule:
    """A :class:`LazyModule` for ``name`` (``".search"`` with ``package=__package__`` inside this package)."""
    return LazyModule(name, package)
