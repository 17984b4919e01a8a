"""Input validation shared by the solvers: one-line errors that name the parameter and the rule."""

from __future__ import annotations

from typing import Any

import numpy as np


class InvalidInput(ValueError):
    """A solver or problem was given input that breaks a stated requirement."""


def finite_array(name: str, value: Any, *, ndim: int | tuple[int, ...] | None = None, dtype=float) -> np.ndarray:
    """Return ``value`` as a float array, rejecting NaN/inf and wrong dimensionality."""
    try:
        a = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} must be numeric, got {type(value).__name__}") from None
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if a.ndim not in allowed:
            raise InvalidInput(f"{name} must have {' or '.join(map(str, allowed))} dimension(s), got shape {a.shape}")
    if a.size and not np.all(np.isfinite(a)):
        bad = int(np.size(a) - np.count_nonzero(np.isfinite(a)))
        raise InvalidInput(
            f"{name} must be finite (no NaN or inf), found {bad} non-finite entr{'y' if bad == 1 else 'ies'}"
        )
    return a


def positive(name: str, value: Any, *, strict: bool = True) -> float:
    """A finite scalar that is > 0 (or >= 0 when ``strict`` is False)."""
    v = finite_array(name, value, ndim=0)
    if (v <= 0) if strict else (v < 0):
        raise InvalidInput(f"{name} must be {'> 0' if strict else '>= 0'}, got {float(v):.6g}")
    return float(v)


def positive_int(name: str, value: Any) -> int:
    """An integer >= 1 (bools rejected)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InvalidInput(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def in_unit_interval(name: str, value: Any) -> float:
    """A scalar in (0, 1]."""
    v = float(finite_array(name, value, ndim=0))
    if not 0.0 < v <= 1.0:
        raise InvalidInput(f"{name} must lie in (0, 1], got {v:.6g}")
    return v


def positive_array(name: str, value: Any, *, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """A finite array with every entry > 0 and, optionally, a given shape."""
    a = finite_array(name, value)
    if shape is not None and a.shape != shape:
        raise InvalidInput(f"{name} must have shape {shape}, got {a.shape}")
    if a.size and np.any(a <= 0):
        raise InvalidInput(f"{name} must be > 0 entrywise, found min {float(a.min()):.6g}")
    return a


def generator(rng: Any, needed: str | None = None) -> np.random.Generator | None:
    """``rng`` as a ``numpy.random.Generator`` (or None when the run draws nothing).

    ``needed`` names what draws random numbers in this run; then None is refused.  Integers are
    refused too: a solver never seeds itself (the caller spawns independent streams).
    """
    if rng is None:
        if needed is not None:
            raise InvalidInput(f"rng must be a numpy.random.Generator: {needed} draws random numbers, got None")
        return None
    if not isinstance(rng, np.random.Generator):
        raise InvalidInput(
            f"rng must be a numpy.random.Generator (e.g. numpy.random.default_rng(seed)), got {type(rng).__name__}"
        )
    return rng
