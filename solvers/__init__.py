"""Numerics only (NumPy/SciPy): problems with exact constants, compressors, and the algorithms.

Nothing here imports ``theorems`` or sympy; the harness in ``verify`` joins the two.
"""

from ._validate import InvalidInput

__all__ = ["InvalidInput"]
