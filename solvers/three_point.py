r"""Three point compressors (3PC) as batched maps over all clients, and the generic 3PC method.

Richtárik, Sokolov, Fatkhullin, Gasanov, Li, Gorbunov, *3PC: Three Point Compressors for
Communication-Efficient Distributed Training and a Better Theory for Lazy Aggregation*, ICML 2022,
arXiv:2202.00998.  A mechanism maps :math:`(h,y,x)` to :math:`\mathcal C_{h,y}(x)` with

.. math:: \mathbb E\Vert\mathcal C_{h,y}(x)-x\Vert^2\le(1-A)\Vert h-y\Vert^2+B\Vert x-y\Vert^2,

and the method runs :math:`x^{t+1}=x^t-\gamma g^t`,
:math:`g_i^{t+1}=\mathcal C_{g_i^t,\nabla f_i(x^t)}(\nabla f_i(x^{t+1}))`, :math:`g^{t+1}=\frac1n\sum_ig_i^{t+1}`.

Every mechanism acts on arrays of shape ``(..., n, d)`` (all clients, and Monte Carlo replications in
the leading axes) with a handful of array operations -- no loop over clients -- and returns the new
estimates together with the floats and bits each client sent (zero for a skipped upload).  It declares
its own constants ``(A, B) = mechanism.constants(d)``; a user may define a new mechanism by subclassing
:class:`Mechanism` and registering it (:func:`register`), after which the harness checks its declared
(A, B) against the definition and the theorems.

==============  =====================================================  ==========================  ==========================
mechanism       :math:`\mathcal C_{h,y}(x)`                            A                           B
==============  =====================================================  ==========================  ==========================
``gd``          x                                                      1                           0
``ef21``        :math:`h+\mathcal C(x-h)`                              :math:`\theta_c(\alpha)`    :math:`\beta_c(\alpha)`
``lag``         x if :math:`\Vert x-h\Vert^2>\zeta\Vert x-y\Vert^2`    1                           ζ
                else h
``clag``        :math:`h+\mathcal C(x-h)` if the LAG test fires,       :math:`\theta_c`            :math:`\max\{\beta_c,\zeta\}`
                else h
``3pcv1``       :math:`y+\mathcal C(x-y)` (theory only: the server     1                           :math:`1-\alpha`
                never receives :math:`\nabla f_i(x^t)`)
``3pcv2``       :math:`b+\mathcal C(x-b)`, :math:`b=h+\mathcal Q(x-y)`  α                           :math:`(1-\alpha)\omega`
``3pcv3``       :math:`b+\mathcal C(x-b)`, :math:`b=` LAG(ζ)            :math:`1-(1-\alpha)\cdot0=1`  :math:`(1-\alpha)\zeta`
                (any inner 3PC :math:`(A_1,B_1)`: ``V3``)
``3pcv4``       :math:`b+\mathcal C_1(x-b)`, :math:`b=h+\mathcal C_2(x-h)`  :math:`\theta_c(\bar\alpha)`  :math:`\beta_c(\bar\alpha)`
``3pcv5``       x w.p. p (one coin for all clients), else               :math:`1-\sqrt{1-p}`        :math:`\frac{(1-p)(1-\alpha)}{1-\sqrt{1-p}}`
                :math:`h+\mathcal C(x-y)`
``adacgd``      :math:`h+\mathcal C_j(x-h)` for the first j passing     :math:`\theta_c(\alpha_K)`  :math:`\max\{\beta_c(\alpha_K),\zeta\}`
                the LAG-type test, else :math:`\mathcal C_K`
==============  =====================================================  ==========================  ==========================

:math:`\bar\alpha=1-(1-\alpha_1)(1-\alpha_2)`, :math:`\mathcal Q` = Rand-k scaled by d/k (unbiased,
:math:`\omega=d/k-1`).  MARINA is not a per-client 3PC (its estimator is the server's) and is not run here.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np

from ._trajectory import Trajectory
from ._validate import InvalidInput, finite_array, generator, positive, positive_int
from .compressors import Compressor, RandK, TopK
from .compressors import make as make_compressor
from .problems import Problem

__all__ = [
    "Mechanism",
    "GD",
    "EF21",
    "LAG",
    "CLAG",
    "V1",
    "V2",
    "V3",
    "V4",
    "V5",
    "AdaptiveChoice",
    "ThreePointTrajectory",
    "three_point",
    "rounds_below",
    "definition_samples",
    "register",
    "make",
    "names",
    "theta",
    "beta",
]


def theta(a: float) -> float:
    r""":math:`\theta_c(\alpha)=1-\sqrt{1-\alpha}=\alpha/(1+\sqrt{1-\alpha})` (stable form)."""
    return a / (1.0 + math.sqrt(max(1.0 - a, 0.0)))


def beta(a: float) -> float:
    r""":math:`\beta_c(\alpha)=(1-\alpha)(1+\sqrt{1-\alpha})/\alpha`."""
    r = math.sqrt(max(1.0 - a, 0.0))
    return (1.0 - a) * (1.0 + r) / a


def _sq(D: np.ndarray) -> np.ndarray:
    """Row-wise squared norms over the last axis."""
    return np.einsum("...d,...d->...", D, D)


_SCRATCH = threading.local()


def _scratch(name: str, shape, dtype=float) -> np.ndarray:
    """A reusable scratch array per thread and name (a fresh (n, d) temporary per call costs its page faults)."""
    buf = getattr(_SCRATCH, name, None)
    if buf is None or buf.shape != tuple(shape) or buf.dtype != dtype:
        buf = np.empty(shape, dtype)
        setattr(_SCRATCH, name, buf)
    return buf


def _sq_diff(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    r"""Row-wise :math:`\Vert a-b\Vert^2` through one reusable scratch array per thread: a fresh (n, d)
    temporary per call costs its page faults, which doubled the LAG trigger's time at n = 10,000, d = 100."""
    buf = _scratch("buf", np.broadcast_shapes(A.shape, B.shape))
    np.subtract(A, B, out=buf)
    return _sq(buf)


_BLOCK_BYTES = 1 << 19  # one block of rows of an (n, d) array: 512 KiB, so a block's differences stay in cache


def _row_blocks(H, Y, X):
    """The ``(R, n, d)`` views of the solver's state and its ``(r, lo, hi)`` row blocks, for the in-place
    :meth:`Mechanism.advance` passes; None unless the three arrays have one shape and ``H`` is C-contiguous."""
    if not (H.shape == Y.shape == X.shape and H.ndim >= 2 and H.flags.c_contiguous):
        return None
    n, d = X.shape[-2:]
    H3, Y3, X3 = (Z.reshape(-1, n, d) for Z in (H, Y, X))
    rows = _block_rows(d)
    return (H3, Y3, X3), [(r, lo, min(n, lo + rows)) for r in range(H3.shape[0]) for lo in range(0, n, rows)]


def _block_rows(d: int) -> int:
    return max(1, _BLOCK_BYTES // (8 * d))


def _trigger_block(H, Y, X, zeta, dh, dy, same: bool = False):
    r"""One block of the LAG test: fills ``dy`` :math:`=\Vert x-y\Vert^2` and ``dh`` :math:`=\Vert x-h\Vert^2`
    (the differences through the thread's block scratch, still in cache) and returns the rows that fire and
    the scratch, left holding :math:`x-h`.  ``same``: h is y (after a round in which every client sent its
    gradient the solver passes one array for both), one difference serves both norms."""
    S = _scratch("block", (_block_rows(X.shape[-1]), X.shape[-1]))[: X.shape[0]]
    np.subtract(X, Y, out=S)
    np.einsum("ij,ij->i", S, S, out=dy)
    if same:
        dh[...] = dy
    else:
        np.subtract(X, H, out=S)
        np.einsum("ij,ij->i", S, S, out=dh)
    return np.flatnonzero(dh > zeta * dy), S


class Mechanism:
    """A three point compressor acting on all clients at once.

    Subclasses set ``name`` and ``deterministic`` and implement :meth:`constants` (the declared
    ``(A, B)`` on ``R^d``) and :meth:`__call__`; they may add :meth:`advance`, the in-place form the
    solver calls (LAG, CLAG and EF21 with Top-k do, bit for bit equal to their maps).
    """

    name = "mechanism"
    deterministic = True

    def constants(self, d: int) -> tuple[float, float]:
        """Declared 3PC constants ``(A, B)`` on R^d."""
        raise NotImplementedError

    def alpha(self, d: int) -> float:
        """Contraction parameter of the (fallback) compressor, 1 when there is none."""
        return 1.0

    def checked_constants(self, d: int) -> tuple[float, float]:
        """:meth:`constants` as floats, refused (``InvalidInput``) unless 0 < A <= 1 and B >= 0."""
        A, B = (float(v) for v in self.constants(d))
        if not (0 < A <= 1 and B >= 0):
            raise InvalidInput(
                f"mechanism {self.name}: declared constants must satisfy 0 < A <= 1 and B >= 0, got A={A:g}, B={B:g}"
            )
        return A, B

    def error_range(self, H, Y, X) -> np.ndarray | None:
        r"""Optional: an upper bound on :math:`\Vert\mathcal C_{h,y}(x)-x\Vert^2` for every draw, per client
        (buys a finite-sample Monte Carlo bound); None when the mechanism states none."""
        return None

    def __call__(self, H, Y, X, rng=None, bits_per_float: int = 32):
        r"""New estimates ``C_{h,y}(x)`` (shape of ``X``), floats and bits sent per client (shape ``X.shape[:-1]``);
        optionally a fourth value, the error :math:`\Vert\mathcal C_{h,y}(x)-x\Vert^2` per client, when the
        mechanism has it at hand (the solver computes it otherwise)."""
        raise NotImplementedError

    def advance(self, H, Y, X, rng=None, bits_per_float: int = 32):
        r"""The solver's form of :meth:`__call__`: ``H`` is the solver's own state, which it may overwrite
        (``H`` may share memory with ``Y``, never with ``X``).

        Returns ``(G, floats, bits, err, changed)``: the new estimates (``H`` itself when updated in place,
        or ``X`` itself when every client sent x), floats and bits per client, the error
        :math:`\Vert\mathcal C_{h,y}(x)-x\Vert^2` per client or None (the solver computes it), and the
        number of clients whose estimate changed or None (unknown; 0 lets the solver keep its mean
        :math:`\frac1n\sum_ig_i` without a pass).  The default calls :meth:`__call__`."""
        out = self(H, Y, X, rng, bits_per_float)
        return out[0], out[1], out[2], (out[3] if len(out) > 3 else None), None

    def __repr__(self) -> str:
        return self.name


class GD(Mechanism):
    """Send the gradient: :math:`\\mathcal C_{h,y}(x)=x`, A = 1, B = 0."""

    name = "gd"

    def constants(self, d):
        return 1.0, 0.0

    def __call__(self, H, Y, X, rng=None, bits_per_float=32):
        d = X.shape[-1]
        one = np.ones(X.shape[:-1])
        return X.copy(), d * one, d * bits_per_float * one


class EF21(Mechanism):
    r"""EF21: :math:`h+\mathcal C(x-h)` with any contractive compressor; :math:`(\theta_c,\beta_c)`."""

    def __init__(self, compressor: Compressor):
        if not isinstance(compressor, Compressor):
            raise InvalidInput(f"compressor must be a solvers.compressors.Compressor, got {type(compressor).__name__}")
        self.compressor = compressor
        self.deterministic = compressor.deterministic
        self.name = f"ef21[{compressor.name}]"

    def alpha(self, d):
        return self.compressor.alpha(d)

    def constants(self, d):
        a = self.alpha(d)
        return theta(a), beta(a)

    def error_range(self, H, Y, X):
        r"""Sparsifiers keep a subset of coordinates: the error is at most :math:`\Vert x-h\Vert^2` for every draw."""
        return _sq(X - H) if isinstance(self.compressor, RandK) else None

    def __call__(self, H, Y, X, rng=None, bits_per_float=32):
        d = X.shape[-1]
        one = np.ones(X.shape[:-1])
        c = self.compressor
        return _ef21_update(c, H, X, rng), c.floats(d) * one, c.bits(d, bits_per_float) * one

    def advance(self, H, Y, X, rng=None, bits_per_float=32):
        """In place, block by block, for Top-k: CLAG's update of every client (:func:`_topk_rows`); other
        compressors take :meth:`__call__`."""
        c = self.compressor
        blocks = _row_blocks(H, Y, X) if isinstance(c, TopK) else None
        if blocks is None:
            return Mechanism.advance(self, H, Y, X, rng, bits_per_float)
        (H3, _, X3), spans = blocks
        R, n, d = X3.shape
        err = np.empty((R, n))

        def work(r, lo, hi):
            S = _scratch("block", (_block_rows(d), d))[: hi - lo]
            np.subtract(X3[r, lo:hi], H3[r, lo:hi], out=S)
            err[r, lo:hi] = _topk_rows(c, H3[r, lo:hi], X3[r, lo:hi], S, np.arange(hi - lo))

        for span in spans:
            work(*span)
        one = np.ones(X.shape[:-1])
        return H, c.floats(d) * one, c.bits(d, bits_per_float) * one, err.reshape(X.shape[:-1]), None


def _ef21_update(c: Compressor, H, X, rng=None, rows=None):
    r""":math:`h+\mathcal C(x-h)`; a sparsifier updates only its k kept coordinates per row (O(nk) after the
    selection) instead of building the dense compressed difference.  ``rows`` (boolean, shape ``X.shape[:-1]``)
    restricts the update, and the compression, to those rows (the others keep h: a skipped client compresses
    nothing)."""
    d = X.shape[-1]
    sparse = isinstance(c, (TopK, RandK)) and c.k < d
    if rows is None:
        D = X - H
        idx = c.select(D, rng) if sparse else None
        if idx is None:
            return H + c(D, rng)
        G = H.copy()
        np.put_along_axis(G, idx, np.take_along_axis(H, idx, axis=-1) + np.take_along_axis(D, idx, axis=-1), axis=-1)
        return G
    G = H.copy()
    flat, m = G.reshape(-1, d), rows.reshape(-1)
    if not m.any():
        return G
    Hs = flat[m]
    Ds = X.reshape(-1, d)[m] - Hs
    idx = c.select(Ds, rng) if sparse else None
    if idx is None:
        flat[m] = Hs + c(Ds, rng)
    else:
        np.put_along_axis(Hs, idx, np.take_along_axis(Hs, idx, axis=-1) + np.take_along_axis(Ds, idx, axis=-1), axis=-1)
        flat[m] = Hs
    return G


class LAG(Mechanism):
    r"""Lazy aggregation: send x iff :math:`\Vert x-h\Vert^2>\zeta\Vert x-y\Vert^2` (strict, as the authors'
    ``LAG_step``), else keep h; A = 1, B = ζ pointwise."""

    def __init__(self, zeta: float):
        self.zeta = positive("zeta", zeta, strict=False)
        self.name = f"lag[zeta={self.zeta:g}]"

    def constants(self, d):
        return 1.0, self.zeta

    def fires(self, H, Y, X) -> np.ndarray:
        """The trigger, one batched norm per client: shape ``X.shape[:-1]``."""
        return self._test(H, Y, X)[0]

    def _test(self, H, Y, X):
        dh = _sq_diff(X, H)
        return dh > self.zeta * _sq_diff(X, Y), dh

    def __call__(self, H, Y, X, rng=None, bits_per_float=32):
        d = X.shape[-1]
        fire, dh = self._test(H, Y, X)
        # the fourth value, the error ||C(x) - x||^2 per client (0 when sent), saves the solver a pass
        return np.where(fire[..., None], X, H), d * fire, d * bits_per_float * fire, np.where(fire, 0.0, dh)

    def advance(self, H, Y, X, rng=None, bits_per_float=32):
        r"""In place: the test block by block (h, y and x read once, the differences in cache), then
        :math:`h_i\leftarrow x_i` for the clients it fires for only (O(fired d)); ``X`` itself when all fire."""
        blocks = _row_blocks(H, Y, X)
        if blocks is None:
            return Mechanism.advance(self, H, Y, X, rng, bits_per_float)
        (H3, Y3, X3), spans = blocks
        dh, dy, same = np.empty(X3.shape[:2]), np.empty(X3.shape[:2]), H is Y

        def work(r, lo, hi):
            _trigger_block(H3[r, lo:hi], Y3[r, lo:hi], X3[r, lo:hi], self.zeta, dh[r, lo:hi], dy[r, lo:hi], same)

        for span in spans:
            work(*span)
        fire = dh > self.zeta * dy
        changed = int(np.count_nonzero(fire))
        G = X if changed == fire.size else H

        def send(r, lo, hi):  # the fired rows of a block, through the thread's scratch (no fresh temporary)
            rows = np.flatnonzero(fire[r, lo:hi])
            if rows.size:
                buf = _scratch("x", (_block_rows(X3.shape[-1]), X3.shape[-1]))[: rows.size]
                H3[r, lo:hi][rows] = np.take(X3[r, lo:hi], rows, axis=0, out=buf)

        if 0 < changed < fire.size:
            for span in spans:
                send(*span)
        lead, d = X.shape[:-1], X.shape[-1]
        fire = fire.reshape(lead)
        return G, d * fire, d * bits_per_float * fire, np.where(fire, 0.0, dh.reshape(lead)), changed


class CLAG(LAG):
    r"""CLAG: EF21's update when the LAG test fires, else keep h; :math:`(\theta_c,\max\{\beta_c,\zeta\})`."""

    def __init__(self, compressor: Compressor, zeta: float):
        super().__init__(zeta)
        self.ef21 = EF21(compressor)
        self.deterministic = compressor.deterministic
        self.name = f"clag[{compressor.name},zeta={self.zeta:g}]"

    def alpha(self, d):
        return self.ef21.alpha(d)

    def constants(self, d):
        a = self.alpha(d)
        return theta(a), max(beta(a), self.zeta)

    def __call__(self, H, Y, X, rng=None, bits_per_float=32):
        fire = self.fires(H, Y, X)
        c, d = self.ef21.compressor, X.shape[-1]
        G = _ef21_update(c, H, X, rng, rows=fire)
        return G, c.floats(d) * fire, c.bits(d, bits_per_float) * fire

    def advance(self, H, Y, X, rng=None, bits_per_float=32):
        r"""In place, block by block, for Top-k: the LAG test, then Top-k of :math:`x_i-h_i` for the fired
        clients only (the row-wise selection of :meth:`TopK.select`), their k kept coordinates updated
        through flat indices, and their errors :math:`\Vert g_i-x_i\Vert^2`, while the block is in cache.
        Other compressors (randomized or stateful: their draws and calls must not be split into blocks)
        take :meth:`__call__`."""
        c = self.ef21.compressor
        blocks = _row_blocks(H, Y, X) if isinstance(c, TopK) else None
        if blocks is None:
            return Mechanism.advance(self, H, Y, X, rng, bits_per_float)
        (H3, Y3, X3), spans = blocks
        R, n, d = X3.shape
        dh, dy, err = np.empty((R, n)), np.empty((R, n)), np.empty((R, n))
        fire, same = np.zeros((R, n), dtype=bool), H is Y

        def work(r, lo, hi):
            Hb, Xb, e = H3[r, lo:hi], X3[r, lo:hi], err[r, lo:hi]
            fired, S = _trigger_block(Hb, Y3[r, lo:hi], Xb, self.zeta, dh[r, lo:hi], dy[r, lo:hi], same)
            e[...] = dh[r, lo:hi]  # a skipped client keeps h: its error is ||x - h||^2
            if fired.size:
                fire[r, lo + fired] = True
                e[fired] = _topk_rows(c, Hb, Xb, S, fired)

        for span in spans:
            work(*span)
        lead = X.shape[:-1]
        fire = fire.reshape(lead)
        changed = int(np.count_nonzero(fire))
        return H, c.floats(d) * fire, c.bits(d, bits_per_float) * fire, err.reshape(lead), changed


def _topk_rows(c: TopK, Hb, Xb, S, fired):
    r"""EF21 with Top-k on the rows ``fired`` of one block, in place: :math:`h+\mathcal C(x-h)` (``S`` holds
    :math:`x-h`); returns the rows' errors :math:`\Vert g-x\Vert^2`.  The fired rows are gathered into
    thread scratch arrays (no fresh temporaries: page faults cost more than the arithmetic here)."""
    m, d = fired.size, Xb.shape[-1]
    rows = _block_rows(d)
    whole = m == Xb.shape[0]
    if whole:
        Hs, Ds, Xs = Hb, S, Xb
    else:
        Hs, Ds, Xs = (
            np.take(Z, fired, axis=0, out=_scratch(nm, (rows, d))[:m]) for Z, nm in ((Hb, "h"), (S, "s"), (Xb, "x"))
        )
    T = _scratch("topk", (rows, d))[:m]
    if c.k < d:
        _add_top_k(Hs, Ds, c, T)
    else:
        np.add(Hs, Ds, out=Hs)
    if not whole:
        Hb[fired] = Hs
    np.subtract(Hs, Xs, out=T)
    return _sq(T)


def _add_top_k(H, D, c: TopK, T) -> None:
    r""":math:`h\leftarrow h+\mathrm{Top}_k(d)` row by row, in place, with exactly the kept set of
    :meth:`TopK.select`.

    A row's k largest magnitudes are a unique set when the k-th and (k+1)-th largest differ: then they are
    the entries at or above the k-th largest, read off one sort of the row (``ndarray.sort`` is vectorized,
    several times faster than ``np.argpartition`` along rows), and :math:`h+d\cdot1[\text{kept}]` adds
    them (a kept entry exactly :math:`h+d`, the others :math:`h\pm0`, equal to h up to the sign of a
    zero).  Rows with a tie at the k-th magnitude, or a NaN, take ``c.select`` (``np.argpartition``'s
    tie-breaking)."""
    m, d = D.shape
    k, rows = c.k, _block_rows(d)
    np.abs(D, out=T)
    U = _scratch("sorted", (rows, d))[:m]
    np.copyto(U, T)
    U.sort(axis=-1)
    thr = U[:, d - k]
    tied = np.flatnonzero(~(U[:, d - k - 1] < thr) | np.isnan(U[:, -1]))
    keep = _scratch("keep", (rows, d), bool)[:m]
    np.greater_equal(T, thr[:, None], out=keep)
    Ht = H[tied]  # before the update below, which a NaN would spoil
    np.multiply(D, keep, out=T)
    np.add(H, T, out=H)
    if tied.size:
        Dt = D[tied]
        flat = c.select(Dt) + (d * np.arange(tied.size))[:, None]
        Hf = Ht.reshape(-1)
        np.put(Hf, flat, np.take(Hf, flat) + np.take(Dt.reshape(-1), flat))
        H[tied] = Ht


class V1(Mechanism):
    r"""3PCv1: :math:`y+\mathcal C(x-y)`; A = 1, B = 1 − α (a theory check: not implementable by messages)."""

    def __init__(self, compressor: Compressor):
        self.compressor = compressor
        self.deterministic = compressor.deterministic
        self.name = f"3pcv1[{compressor.name}]"

    def alpha(self, d):
        return self.compressor.alpha(d)

    def constants(self, d):
        return 1.0, 1.0 - self.alpha(d)

    def __call__(self, H, Y, X, rng=None, bits_per_float=32):
        d = X.shape[-1]
        one = np.ones(X.shape[:-1])
        c = self.compressor
        return Y + c(X - Y, rng), c.floats(d) * one, c.bits(d, bits_per_float) * one


class UnbiasedRandK:
    r"""Rand-k scaled by d/k: unbiased, :math:`\mathbb E\Vert\mathcal Q(v)-v\Vert^2=(d/k-1)\Vert v\Vert^2`."""

    def __init__(self, k: int):
        self.rand = RandK(k)
        self.k = self.rand.k

    def omega(self, d: int) -> float:
        return d / self.k - 1.0

    def __call__(self, V, rng):
        return self.rand(V, rng) * (V.shape[-1] / self.k)


class V2(Mechanism):
    r"""3PCv2: :math:`b+\mathcal C(x-b)`, :math:`b=h+\mathcal Q(x-y)` with Q = scaled Rand-k; A = α, B = (1 − α)ω."""

    deterministic = False

    def __init__(self, compressor: Compressor, k: int):
        self.compressor, self.Q = compressor, UnbiasedRandK(k)
        self.name = f"3pcv2[{compressor.name},rand-{self.Q.k}]"

    def alpha(self, d):
        return self.compressor.alpha(d)

    def constants(self, d):
        a = self.alpha(d)
        return a, (1.0 - a) * self.Q.omega(d)

    def error_range(self, H, Y, X):
        """With a sparsifier C: error <= ||x - b||^2 <= (max(d/k - 1, 1)||x - y|| + ||h - y||)^2 for every draw."""
        if not isinstance(self.compressor, (RandK, TopK)):
            return None
        c = max(X.shape[-1] / self.Q.k - 1.0, 1.0)
        return (c * np.sqrt(_sq(X - Y)) + np.sqrt(_sq(H - Y))) ** 2

    def __call__(self, H, Y, X, rng=None, bits_per_float=32):
        if rng is None:
            raise InvalidInput("rng is required for the randomized mechanism 3pcv2")
        d = X.shape[-1]
        one = np.ones(X.shape[:-1])
        b = H + self.Q(X - Y, rng)
        c = self.compressor
        fl = c.floats(d) + self.Q.rand.floats(d)
        bi = c.bits(d, bits_per_float) + self.Q.rand.bits(d, bits_per_float)
        return b + c(X - b, rng), fl * one, bi * one


class V3(Mechanism):
    r"""3PCv3: :math:`b+\mathcal C(x-b)` with :math:`b=\mathcal C^1_{h,y}(x)` an inner 3PC with
    :math:`(A_1,B_1)`; :math:`A=1-(1-\alpha)(1-A_1)`, :math:`B=(1-\alpha)B_1`."""

    def __init__(self, compressor: Compressor, inner: Mechanism):
        self.compressor, self.inner = compressor, inner
        self.deterministic = compressor.deterministic and inner.deterministic
        self.name = f"3pcv3[{compressor.name},{inner.name}]"

    def alpha(self, d):
        return self.compressor.alpha(d)

    def constants(self, d):
        a = self.alpha(d)
        A1, B1 = self.inner.constants(d)
        return 1.0 - (1.0 - a) * (1.0 - A1), (1.0 - a) * B1

    def __call__(self, H, Y, X, rng=None, bits_per_float=32):
        d = X.shape[-1]
        b, fl, bi = self.inner(H, Y, X, rng, bits_per_float)[:3]
        c = self.compressor
        return b + c(X - b, rng), fl + c.floats(d), bi + c.bits(d, bits_per_float)


class V4(Mechanism):
    r"""3PCv4: :math:`b+\mathcal C_1(x-b)`, :math:`b=h+\mathcal C_2(x-h)`; EF21's constants at
    :math:`\bar\alpha=1-(1-\alpha_1)(1-\alpha_2)`."""

    def __init__(self, c1: Compressor, c2: Compressor):
        self.c1, self.c2 = c1, c2
        self.deterministic = c1.deterministic and c2.deterministic
        self.name = f"3pcv4[{c1.name},{c2.name}]"

    def alpha(self, d):
        return 1.0 - (1.0 - self.c1.alpha(d)) * (1.0 - self.c2.alpha(d))

    def constants(self, d):
        a = self.alpha(d)
        return theta(a), beta(a)

    def __call__(self, H, Y, X, rng=None, bits_per_float=32):
        d = X.shape[-1]
        one = np.ones(X.shape[:-1])
        b = H + self.c2(X - H, rng)
        fl = self.c1.floats(d) + self.c2.floats(d)
        bi = self.c1.bits(d, bits_per_float) + self.c2.bits(d, bits_per_float)
        return b + self.c1(X - b, rng), fl * one, bi * one


class V5(Mechanism):
    r"""3PCv5: x with probability p (one coin per round for all clients, as the authors' code), else
    :math:`h+\mathcal C(x-y)`; :math:`A=1-\sqrt{1-p}`, :math:`B=(1-p)(1-\alpha)/(1-\sqrt{1-p})`."""

    deterministic = False

    def __init__(self, compressor: Compressor, p: float):
        self.compressor = compressor
        self.p = positive("p", p)
        if self.p > 1:
            raise InvalidInput(f"p must lie in (0, 1], got {p!r}")
        self.name = f"3pcv5[{compressor.name},p={self.p:g}]"

    def alpha(self, d):
        return self.compressor.alpha(d)

    def constants(self, d):
        A = 1.0 - math.sqrt(1.0 - self.p)
        return A, (1.0 - self.p) * (1.0 - self.alpha(d)) / A

    def error_range(self, H, Y, X):
        """With a sparsifier C: error 0 (coin) or ||(h - y) - ((x - y) - C(x - y))||^2 <= (||h - y|| + ||x - y||)^2."""
        if not isinstance(self.compressor, (RandK, TopK)):
            return None
        return (np.sqrt(_sq(H - Y)) + np.sqrt(_sq(X - Y))) ** 2

    def __call__(self, H, Y, X, rng=None, bits_per_float=32):
        if rng is None:
            raise InvalidInput("rng is required for the randomized mechanism 3pcv5")
        d = X.shape[-1]
        coin = rng.random(X.shape[:-2] + (1,)) < self.p  # one coin for all clients of a replication
        c = self.compressor
        G = np.where(coin[..., None], X, H + c(X - Y, rng))
        fl = np.where(coin, d, c.floats(d)) * np.ones(X.shape[:-1])
        bi = np.where(coin, d * bits_per_float, c.bits(d, bits_per_float)) * np.ones(X.shape[:-1])
        return G, fl, bi


class AdaptiveChoice(Mechanism):
    r"""AdaCGD-type adaptive choice among contractive compressors :math:`\mathcal C_1..\mathcal C_K`
    (most to least aggressive): :math:`h+\mathcal C_j(x-h)` for the smallest j with
    :math:`\Vert h+\mathcal C_j(x-h)-x\Vert^2\le\zeta\Vert x-y\Vert^2`, else :math:`h+\mathcal C_K(x-h)`;
    with ``send_nothing`` a candidate :math:`\mathcal C_0\equiv0` (keep h) is tried first.
    :math:`A=\theta_c(\alpha_K)`, :math:`B=\max\{\beta_c(\alpha_K),\zeta\}` [derived; AdaCGD's own rule,
    Makarenko et al., TMLR 2023, was not found].  All K candidates are computed at once (K is small)."""

    def __init__(self, compressors, zeta: float, send_nothing: bool = True):
        comps = list(compressors)
        if not comps or not all(isinstance(c, Compressor) for c in comps):
            raise InvalidInput("compressors must be a non-empty list of solvers.compressors.Compressor")
        self.compressors, self.send_nothing = comps, bool(send_nothing)
        self.zeta = positive("zeta", zeta, strict=False)
        self.deterministic = all(c.deterministic for c in comps)
        self.name = f"adacgd[{','.join(c.name for c in comps)},zeta={self.zeta:g}]"

    def alpha(self, d):
        return self.compressors[-1].alpha(d)

    def constants(self, d):
        a = self.alpha(d)
        return theta(a), max(beta(a), self.zeta)

    def __call__(self, H, Y, X, rng=None, bits_per_float=32):
        d = X.shape[-1]
        D = X - H
        cands = [np.zeros_like(D)] if self.send_nothing else []
        cands += [c(D, rng) for c in self.compressors]
        fl = ([0.0] if self.send_nothing else []) + [c.floats(d) for c in self.compressors]
        bi = ([0.0] if self.send_nothing else []) + [c.bits(d, bits_per_float) for c in self.compressors]
        C = np.stack(cands)  # (K', ..., n, d)
        ok = _sq_diff(C, D) <= self.zeta * _sq_diff(X, Y)  # (K', ..., n)
        ok[-1] = True  # the fallback
        j = np.argmax(ok, axis=0)  # first passing candidate
        chosen = np.take_along_axis(C, j[None, ..., None], axis=0)[0]
        return H + chosen, np.asarray(fl)[j], np.asarray(bi)[j]


# ----------------------------------------------------------------------------- registry
_FACTORIES: dict = {}


def register(name: str, factory) -> None:
    """Register a mechanism factory ``factory(compressor=..., zeta=..., p=..., k=...) -> Mechanism`` under ``name``
    (how a user adds a mechanism from their own file; the harness then checks it by name)."""
    if not isinstance(name, str) or not name or any(ch.isspace() for ch in name):
        raise InvalidInput(f"mechanism name must be a non-empty string without spaces, got {name!r}")
    _FACTORIES[name] = factory


def names() -> tuple[str, ...]:
    """Registered mechanism names."""
    return tuple(_FACTORIES)


def make(name: str, *, compressor: str = "top-1", zeta: float = 1.0, p: float = 0.5, k: int = 1) -> Mechanism:
    """Build the registered mechanism ``name`` with the given parameters (unused ones are ignored)."""
    if name not in _FACTORIES:
        raise InvalidInput(f"unknown mechanism {name!r}; registered: {', '.join(_FACTORIES)}")
    mech = _FACTORIES[name](compressor=compressor, zeta=zeta, p=p, k=k)
    if not isinstance(mech, Mechanism):
        raise InvalidInput(
            f"mechanism {name!r}: its factory must return a solvers.three_point.Mechanism, got {type(mech).__name__}"
        )
    return mech


def _comps(spec: str) -> list:
    return [make_compressor(s) for s in spec.split(",")]


register("gd", lambda **kw: GD())
register("ef21", lambda compressor, **kw: EF21(make_compressor(compressor)))
register("lag", lambda zeta, **kw: LAG(zeta))
register("clag", lambda compressor, zeta, **kw: CLAG(make_compressor(compressor), zeta))
register("3pcv1", lambda compressor, **kw: V1(make_compressor(compressor)))
register("3pcv2", lambda compressor, k, **kw: V2(make_compressor(compressor), k))
register("3pcv3", lambda compressor, zeta, **kw: V3(make_compressor(compressor), LAG(zeta)))
register("3pcv4", lambda compressor, **kw: V4(*(_comps(compressor) * 2)[:2]))
register("3pcv5", lambda compressor, p, **kw: V5(make_compressor(compressor), p))
register("adacgd", lambda compressor, zeta, **kw: AdaptiveChoice(_comps(compressor), zeta))


# ----------------------------------------------------------------------------- the method
@dataclass(kw_only=True)
class ThreePointTrajectory(Trajectory):
    """What a 3PC run records.

    Attributes
    ----------
    grad_norm_sq, f, G : ndarray, shape (R, T+1)
        :math:`\\Vert\\nabla f(x^t)\\Vert^2`, :math:`f(x^t)` and :math:`G^t=\\frac1n\\sum_i\\Vert g_i^t-\\nabla f_i(x^t)\\Vert^2`.
    floats, bits : ndarray, shape (T+1,)
        Cumulative uplink floats / bits per client (mean over clients and replications).
    skipped : ndarray, shape (T,)
        Fraction of clients (and replications) that sent nothing in round t.
    err, d_hy, d_xy : ndarray (R, T, n) or None
        With ``record_clients``: the per-client terms of the 3PC inequality at round t,
        :math:`\\Vert g_i^{t+1}-\\nabla f_i(x^{t+1})\\Vert^2`, :math:`\\Vert g_i^t-\\nabla f_i(x^t)\\Vert^2`,
        :math:`\\Vert\\nabla f_i(x^{t+1})-\\nabla f_i(x^t)\\Vert^2`.
    triples : dict round -> (H, Y, X), arrays (R, n, d)
        The actual (h, y, x) of the rounds in ``triples_at`` (for Monte Carlo checks of the definition).
    """

    SERIES = ("grad_norm_sq", "f", "G", "floats", "bits", "skipped")

    gamma: float
    mechanism: str
    A: float
    B: float
    grad_norm_sq: np.ndarray
    f: np.ndarray
    G: np.ndarray
    floats: np.ndarray
    bits: np.ndarray
    skipped: np.ndarray
    err: np.ndarray | None = None
    d_hy: np.ndarray | None = None
    d_xy: np.ndarray | None = None
    triples: dict | None = None

    def running_mean(self, T: int | None = None) -> np.ndarray:
        r"""Running means :math:`\frac1{T'}\sum_{t<T'}\Vert\nabla f(x^t)\Vert^2` for :math:`T'=1..T`
        (default: all rounds), shape (R, T): the left side of the nonconvex theorem (3PC, Theorem 5.5)."""
        T = self.T if T is None else T
        return np.cumsum(self.grad_norm_sq[:, :T], axis=1) / np.arange(1, T + 1)

    def lyapunov(self, f_low: float, weight: float) -> np.ndarray:
        r""":math:`f(x^t)-f_{low}+w\,G^t`, shape (R, T+1): the nonconvex Lyapunov function
        :math:`\Phi^t` with :math:`w=\gamma/(2A)`, the PŁ one :math:`\Psi^t` with :math:`w=\gamma/A`
        (inf past a divergence)."""
        with np.errstate(over="ignore", invalid="ignore"):
            return self.f - f_low + weight * self.G


def rounds_below(run_mean: np.ndarray, targets) -> np.ndarray:
    r"""For each target :math:`\tau`, the smallest :math:`T_0` such that the running mean (one run, T values,
    ``run_mean[j]`` over :math:`j+1` rounds) is :math:`\le\tau` for every :math:`T_0\le T'\le T`;
    :math:`T+1` when the last value is above :math:`\tau` (not reached).  As floats."""
    T = run_mean.size
    above = run_mean[None, :] > np.asarray(targets, dtype=float)[:, None]  # (targets, T)
    last = T - 1 - np.argmax(above[:, ::-1], axis=1)  # the last index above the target
    return np.where(above.any(axis=1), last + 2, 1).astype(float)


def definition_samples(mechanism: Mechanism, H, Y, X, draws: int, rng: np.random.Generator):
    r"""The terms of the 3PC definition at given :math:`(h,y,x)` (arrays ``(..., n, d)``), by ``draws`` fresh
    draws of a randomized mechanism: the errors :math:`\Vert\mathcal C_{h,y}(x)-x\Vert^2`, shape
    ``(draws, K)`` with K the number of clients in all leading axes, :math:`\Vert h-y\Vert^2` and
    :math:`\Vert x-y\Vert^2` (K,), and the mechanism's stated range of its error (K,) or None."""
    G = mechanism(*(np.broadcast_to(Z, (draws, *Z.shape)) for Z in (H, Y, X)), rng)[0]
    err = _sq(G - X).reshape(draws, -1)
    rng_bound = mechanism.error_range(H, Y, X)
    return err, _sq(H - Y).ravel(), _sq(X - Y).ravel(), None if rng_bound is None else rng_bound.ravel()


def three_point(
    problem: Problem,
    x0,
    *,
    gamma: float,
    T: int,
    rng: np.random.Generator | None = None,
    mechanism: Mechanism,
    init: str = "grad",
    replications: int = 1,
    record_clients: bool = False,
    triples_at=(),
    bits_per_float: int = 32,
    stop_below: float | None = None,
) -> ThreePointTrajectory:
    r"""Run the 3PC method (poster Algorithm 1) with any :class:`Mechanism`, all clients in ``(R, n, d)`` arrays.

    Parameters
    ----------
    problem : Problem
        Dense federated problem (``value_and_grad`` batched over leading axes).
    x0 : array (d,)
    gamma : float
        Stepsize (> 0).
    T : int
        Rounds (>= 1).
    rng : numpy.random.Generator, optional
        Required by randomized mechanisms.
    mechanism : Mechanism
    init : {"grad", "zero"}
        :math:`g_i^0=\nabla f_i(x^0)` (so :math:`G^0=0`; d floats charged in round 0) or 0.
    replications : int
        Independent runs carried together (randomized mechanisms).
    record_clients : bool
        Record the per-client terms of the 3PC inequality every round (arrays (R, T, n)).
    triples_at : iterable of int
        Rounds t whose actual :math:`(h,y,x)=(g_i^t,\nabla f_i(x^t),\nabla f_i(x^{t+1}))` are kept.
    bits_per_float : int
        Bits charged per float.
    stop_below : float, optional
        Stop at the first round t with :math:`\Vert\nabla f(x^t)\Vert^2\le` ``stop_below`` in every replication
        (e.g. the bits to an accuracy): the trajectory then has ``T = t`` rounds, identical to the first t
        rounds of a longer run.
    """
    if not isinstance(mechanism, Mechanism):
        raise InvalidInput(f"mechanism must be a solvers.three_point.Mechanism, got {type(mechanism).__name__}")
    gamma = positive("gamma", gamma)
    T = positive_int("T", T)
    R = positive_int("replications", replications)
    n, d = problem.n, problem.d
    x0 = finite_array("x0", x0, ndim=1)
    if x0.shape != (d,):
        raise InvalidInput(f"x0 must have shape ({d},), got {x0.shape}")
    if init not in ("grad", "zero"):
        raise InvalidInput(f"init must be 'grad' or 'zero', got {init!r}")
    A, B = mechanism.constants(d)
    rng = generator(rng, None if mechanism.deterministic else mechanism.name)
    keep = {int(t) for t in triples_at}
    if any(t < 0 or t >= T for t in keep):
        raise InvalidInput(f"triples_at must lie in [0, T-1={T - 1}]")
    if stop_below is not None:
        stop_below = float(finite_array("stop_below", stop_below, ndim=0))

    gns, fs, Gs = (np.full((R, T + 1), np.inf) for _ in range(3))
    floats, bits, skipped = np.zeros(T + 1), np.zeros(T + 1), np.zeros(T)
    rec = (np.full((R, T, n), np.inf) for _ in range(3)) if record_clients else (None, None, None)
    err, d_hy, d_xy = rec
    triples = {}

    def grads_at(X):
        if R == 1:
            v, g = problem.value_and_grad(X[0])
            return v[None], g[None]
        return problem.value_and_grad(X)

    X = np.broadcast_to(x0, (R, d)).copy()
    vals, Y = grads_at(X)
    if init == "grad":
        Gi = Y.copy()
        floats[0], bits[0] = d, d * bits_per_float
    else:
        Gi = np.zeros_like(Y)

    def record(t: int, ybar, vals, e) -> bool:
        gn = _sq(ybar)
        if not np.all(np.isfinite(gn)):
            return False
        gns[:, t], fs[:, t], Gs[:, t] = gn, vals.mean(axis=1), e.mean(axis=1)
        return True

    diverged = None

    def reached(t: int) -> bool:
        return stop_below is not None and bool(np.all(gns[:, t] <= stop_below))

    gbar = Gi.mean(axis=1)
    with np.errstate(over="ignore", invalid="ignore"):
        e = _sq(Gi - Y)  # per-client errors ||g_i^t - grad f_i(x^t)||^2
        record(0, Y.mean(axis=1), vals, e)
        last = 0 if reached(0) else T  # rounds run
        for t in range(last):
            X -= gamma * gbar
            vals, Xg = grads_at(X)
            if t in keep:
                triples[t] = (Gi.copy(), Y.copy(), Xg.copy())
            if record_clients:  # before the mechanism: Gi, which it may overwrite, may share memory with Y
                d_hy[:, t], d_xy[:, t] = e, _sq_diff(Xg, Y)
            Gn, fl, bi, e_new, changed = mechanism.advance(Gi, Y, Xg, rng, bits_per_float)
            if e_new is None:
                e_new = _sq_diff(Gn, Xg)
            if record_clients:
                err[:, t] = e_new
            ybar = Xg.mean(axis=1)
            # the mean estimate: unchanged without a pass when no client changed, the gradients' mean when
            # every client sent its gradient (Gn is Xg), else one pass
            gbar = gbar if changed == 0 else ybar if Gn is Xg else Gn.mean(axis=1)
            floats[t + 1] = floats[t] + float(np.mean(fl))
            bits[t + 1] = bits[t] + float(np.mean(bi))
            skipped[t] = float(np.mean(fl == 0))
            Gi, Y, e = Gn, Xg, e_new
            if not record(t + 1, ybar, vals, e):
                diverged = t + 1
                break
            if reached(t + 1):
                last = t + 1
                break
    if last < T:  # stopped at the accuracy: the arrays of the rounds run
        gns, fs, Gs = gns[:, : last + 1], fs[:, : last + 1], Gs[:, : last + 1]
        floats, bits, skipped = floats[: last + 1], bits[: last + 1], skipped[:last]
        err, d_hy, d_xy = (None if a is None else a[:, :last] for a in (err, d_hy, d_xy))
    return ThreePointTrajectory(
        T=last,
        x_final=X,
        diverged_at=diverged,
        meta={"algorithm": "3pc", "mechanism": mechanism.name, "init": init, "replications": R},
        gamma=gamma,
        mechanism=mechanism.name,
        A=float(A),
        B=float(B),
        grad_norm_sq=gns,
        f=fs,
        G=Gs,
        floats=floats,
        bits=bits,
        skipped=skipped,
        err=err,
        d_hy=d_hy,
        d_xy=d_xy,
        triples=triples,
    )
