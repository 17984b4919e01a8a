"""Parameter grids, run sequentially (the distributed sweep builds on these pieces).

``grid(n=[10, 20], spread=[1.5, 2])`` expands the Cartesian product in a fixed order;
``run_grid(fn, cells, seeds)`` calls ``fn(**cell, seed=s)`` for every cell and seed, with seeds
derived from the cell's content (not its position), so results never depend on ordering.
"""
from __future__ import annotations

import hashlib
import itertools
import json
from typing import Any, Callable, Iterable, Iterator

from .check import UsageError

__all__ = ["grid", "zipped", "cell_seed", "run_grid"]


def grid(**axes: Iterable[Any]) -> list[dict]:
    """Cartesian product of the named axes, in the order given."""
    names = list(axes)
    values = []
    for nm in names:
        vs = list(axes[nm])
        if not vs:
            raise UsageError(f"grid axis {nm!r} is empty")
        values.append(vs)
    return [dict(zip(names, combo)) for combo in itertools.product(*values)]


def zipped(**axes: Iterable[Any]) -> list[dict]:
    """Axes walked together (all must have the same length)."""
    lists = {k: list(v) for k, v in axes.items()}
    lengths = {len(v) for v in lists.values()}
    if len(lengths) != 1 or 0 in lengths:
        raise UsageError(f"zipped axes must be non-empty and of equal length, got {[len(v) for v in lists.values()]}")
    return [dict(zip(lists, vals)) for vals in zip(*lists.values())]


def cell_seed(cell: dict, replicate: int = 0, base: int = 0) -> int:
    """A seed that depends only on the cell's parameters, the replicate index and ``base``."""
    key = json.dumps({"cell": cell, "rep": replicate, "base": base}, sort_keys=True, default=str)
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "little")


def run_grid(fn: Callable[..., Any], cells: list[dict], seeds: int = 1, base_seed: int = 0) -> Iterator[tuple[dict, int, Any]]:
    """Yield ``(cell, seed, fn(**cell, seed=seed))`` for every cell and replicate, sequentially."""
    for cell in cells:
        for r in range(seeds):
            s = cell_seed(cell, r, base_seed)
            yield cell, s, fn(**cell, seed=s)
