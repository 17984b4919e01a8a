r"""Contractive compressors, batched over rows.

A (possibly randomized) map :math:`\mathcal C:\mathbb R^d\to\mathbb R^d` is *contractive* with
parameter :math:`\alpha\in(0,1]` if :math:`\mathbb E\Vert\mathcal C(x)-x\Vert^2\le(1-\alpha)\Vert x\Vert^2`
(EF21, arXiv:2106.05203, Definition 1).  Every compressor here acts on the last axis of an array
of any shape, so one call compresses all clients (and all Monte Carlo replications) at once.
"""

from __future__ import annotations

import math

import numpy as np

from ._validate import InvalidInput, positive_int

__all__ = ["Compressor", "TopK", "RandK", "Identity", "NaturalRounding", "ScaledIdentity", "make"]


class Compressor:
    """Base class: ``C(X, rng)`` compresses each row of ``X`` (last axis)."""

    name = "compressor"
    deterministic = True
    homogeneous = True  # C(t x) = t C(x) for t > 0

    def alpha(self, d: int) -> float:
        """Contraction parameter on R^d."""
        raise NotImplementedError

    def floats(self, d: int) -> int:
        """Floats sent per compressed vector of dimension d."""
        raise NotImplementedError

    def bits(self, d: int, bits_per_float: int = 32, count_indices: bool = True) -> int:
        """Bits sent per compressed vector (values, plus ceil(log2 d)-bit indices if sparse)."""
        return self.floats(d) * bits_per_float

    def __call__(self, X: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        raise NotImplementedError

    def select(self, X: np.ndarray, rng: np.random.Generator | None = None, scratch: np.ndarray | None = None):
        """For sparsifiers, the kept indices (shape ``(..., k)``) such that ``C(X)`` equals ``X`` on
        them and 0 elsewhere; ``None`` for dense compressors.  Lets algorithms update state in
        O(k) per row instead of O(d).  ``scratch`` (same shape as ``X``) may be overwritten, to
        avoid allocating a temporary in hot loops."""
        return None

    def _check_dim(self, d: int) -> None:
        pass

    def __repr__(self) -> str:
        return self.name


class _Sparsifier(Compressor):
    """Keeps ``k`` coordinates per row: k floats plus, optionally, ceil(log2 d)-bit indices."""

    label = "sparse"

    def __init__(self, k: int):
        self.k = positive_int("k", k)
        self.name = f"{self.label}-{self.k}"

    def _check_dim(self, d: int) -> None:
        if self.k > d:
            raise InvalidInput(f"k must satisfy 1 <= k <= d, got k={self.k} > d={d}")

    def alpha(self, d: int) -> float:
        self._check_dim(d)
        return self.k / d

    def floats(self, d: int) -> int:
        return min(self.k, d)

    def bits(self, d: int, bits_per_float: int = 32, count_indices: bool = True) -> int:
        k = min(self.k, d)
        return k * bits_per_float + (k * max(1, math.ceil(math.log2(d))) if count_indices and k < d else 0)

    def __call__(self, X, rng=None):
        X = np.asarray(X)
        self._check_dim(X.shape[-1])
        if self.k == X.shape[-1]:
            return X.copy()
        idx = self.select(X, rng)
        out = np.zeros_like(X)
        np.put_along_axis(out, idx, np.take_along_axis(X, idx, axis=-1), axis=-1)
        return out


class TopK(_Sparsifier):
    r"""Keep the ``k`` entries of largest magnitude in each row; :math:`\alpha=k/d` pointwise.

    Ties are broken deterministically by ``np.argpartition`` on the same input, so runs are
    reproducible.  Positively homogeneous.
    """

    label = "top"

    def select(self, X, rng=None, scratch=None):
        X = np.asarray(X)
        d = X.shape[-1]
        self._check_dim(d)
        A = np.abs(X, out=scratch) if scratch is not None else np.abs(X)
        if self.k == 1:
            return np.argmax(A, axis=-1)[..., None]
        return np.argpartition(A, d - self.k, axis=-1)[..., d - self.k :]


class RandK(_Sparsifier):
    r"""Keep ``k`` coordinates drawn uniformly without replacement, unscaled.

    :math:`\mathbb E\Vert\mathcal C(x)-x\Vert^2=(1-k/d)\Vert x\Vert^2`, so :math:`\alpha=k/d` in
    expectation.  Randomized, positively homogeneous.
    """

    label = "rand"
    deterministic = False

    def select(self, X, rng=None, scratch=None):
        if rng is None:
            raise InvalidInput("rng is required for the randomized compressor rand-k")
        X = np.asarray(X)
        self._check_dim(X.shape[-1])
        return np.argpartition(rng.random(X.shape), self.k - 1, axis=-1)[..., : self.k]

    def __call__(self, X, rng=None):
        if rng is None:
            raise InvalidInput("rng is required for the randomized compressor rand-k")
        return super().__call__(X, rng)


class Identity(Compressor):
    """No compression: :math:`\\alpha = 1`; EF21 with it is gradient descent."""

    name = "identity"

    def alpha(self, d: int) -> float:
        return 1.0

    def floats(self, d: int) -> int:
        return d

    def __call__(self, X, rng=None):
        return np.array(X, copy=True)


class NaturalRounding(Compressor):
    r"""Round every entry to the nearest signed power of two (deterministic natural compression).

    For :math:`|x|\in[2^e,2^{e+1}]` the nearest endpoint is at relative distance at most
    :math:`1/3`, so :math:`\Vert\mathcal C(x)-x\Vert^2\le\frac19\Vert x\Vert^2` and
    :math:`\alpha=8/9`.  It is *not* positively homogeneous (:math:`\mathcal C(1.5x)\neq1.5\,\mathcal C(x)`),
    which is what makes EF21-W differ from EF21 (Error Feedback Reloaded, section 2.4).
    A message costs one sign bit and an 8-bit exponent per coordinate.
    """

    name = "natural"
    homogeneous = False

    def alpha(self, d: int) -> float:
        return 8.0 / 9.0

    def floats(self, d: int) -> int:
        return d

    def bits(self, d: int, bits_per_float: int = 32, count_indices: bool = True) -> int:
        return 9 * d

    def __call__(self, X, rng=None):
        X = np.asarray(X)
        a = np.abs(X)
        with np.errstate(divide="ignore"):
            e = np.floor(np.log2(np.where(a > 0, a, 1.0)))
        lo = np.exp2(e)
        r = np.where(a - lo <= 2 * lo - a, lo, 2 * lo)
        return np.where(a > 0, np.sign(X) * r, 0.0)


class ScaledIdentity(Compressor):
    r"""Scaling compressor :math:`\mathcal C_t(v)=\lambda_tv` with a schedule :math:`\lambda_0,\lambda_1,\dots`.

    Call t (counted from the first call; the last factor repeats) multiplies by :math:`\lambda_t`.  It is
    deterministic, positively homogeneous and contractive with

    .. math::
        \Vert\lambda v-v\Vert^2=(\lambda-1)^2\Vert v\Vert^2\le(1-\alpha)\Vert v\Vert^2,\qquad
        \alpha=1-\max_t(\lambda_t-1)^2,

    i.e. every :math:`\lambda\in[1-\sqrt{1-\alpha},\,1+\sqrt{1-\alpha}]` is allowed.  It is the worst
    compressor of single-node EF21 on one-dimensional quadratics (Thomsen, Taylor, Dieuleveut 2025,
    arXiv:2506.05271), which Top-k cannot produce for d >= 2.  Stateful: :meth:`reset` restarts the schedule.
    """

    name = "scaled-identity"

    def __init__(self, lambdas):
        lam = np.atleast_1d(np.asarray(lambdas, dtype=float))
        if lam.ndim != 1 or lam.size == 0 or not np.all(np.isfinite(lam)) or np.any(lam <= 0) or np.any(lam >= 2):
            raise InvalidInput(f"ScaledIdentity: every factor must be finite and in (0, 2), got {lambdas!r}")
        self.lambdas = lam
        self.calls = 0

    def reset(self) -> None:
        """Restart the schedule at its first factor."""
        self.calls = 0

    def alpha(self, d: int) -> float:
        return float(1.0 - np.max((self.lambdas - 1.0) ** 2))

    def floats(self, d: int) -> int:
        return d

    def __call__(self, X, rng=None):
        lam = self.lambdas[min(self.calls, self.lambdas.size - 1)]
        self.calls += 1
        return lam * np.asarray(X, dtype=float)


def make(spec: str) -> Compressor:
    """Build a compressor from a short name: ``top-K``, ``rand-K``, ``identity``, ``natural``, or
    ``scaled-L`` / ``scaled-L0,L1,...`` (:class:`ScaledIdentity` with that schedule of factors in (0, 2))."""
    if not isinstance(spec, str):
        raise InvalidInput(f"compressor must be a name such as 'top-1', got {spec!r}")
    s = spec.strip().lower()
    if s in ("identity", "none", "gd"):
        return Identity()
    if s == "natural":
        return NaturalRounding()
    if s.startswith("scaled-"):
        try:
            lams = [float(v) for v in s[len("scaled-") :].split(",")]
        except ValueError:
            raise InvalidInput(
                f"compressor {spec!r}: factors must be numbers, e.g. 'scaled-1.7' or 'scaled-1.7,0.3'"
            ) from None
        return ScaledIdentity(lams)
    for prefix, cls in (("top-", TopK), ("rand-", RandK)):
        if s.startswith(prefix):
            try:
                k = int(s[len(prefix) :])
            except ValueError:
                raise InvalidInput(f"compressor {spec!r}: k must be an integer, e.g. '{prefix}1'") from None
            return cls(k)
    raise InvalidInput(f"unknown compressor {spec!r}; use top-K, rand-K, identity, natural or scaled-L[,L...]")
