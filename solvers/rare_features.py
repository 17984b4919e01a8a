r"""Sparse federated problems and support-restricted EF21 / GD (Error Feedback Shines when Features
are Rare, Richtárik, Gasanov, Burlachenko, arXiv:2305.15264).

Client :math:`i` owns the features :math:`Z_i` its function depends on.  Everything here is stored
on the supports only, never as dense ``(n, d)`` arrays:

* data: one CSR matrix ``A`` of shape ``(N, d)`` whose rows are grouped by client
  (``row_ptr[i]:row_ptr[i+1]``), memory :math:`O(\mathrm{nnz})`;
* the *flat support layout*: ``zidx`` (length :math:`S=\sum_i|Z_i|`) lists the features of client 0,
  then client 1, ..., with offsets ``zptr``; a per-client vector supported on :math:`Z_i` (local
  gradient, EF21 state :math:`g_i`) is the segment ``zptr[i]:zptr[i+1]`` of one flat array;
* ``A_loc`` of shape ``(N, S)`` re-indexes the columns of ``A`` into that layout, so all local
  gradients are one sparse product :math:`A_{loc}^\top u` and the aggregation
  :math:`\frac1n\sum_i g_i` is one ``bincount``.

The ownership sets come from the structure of the functions (a feature is owned iff a data entry of
the client in that column is nonzero, exactly), not from thresholding small floating entries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sps
import scipy.sparse.linalg as spla
from scipy.special import expit

from ._trajectory import Trajectory
from ._validate import InvalidInput, finite_array, generator, positive, positive_int

__all__ = [
    "SparseFederated",
    "Accounting",
    "SparseTrajectory",
    "segment_topk",
    "ef21_support",
    "gd_sparse",
    "read_svmlight",
    "MAX_FEATURE_INDEX",
    "DENSE_EIG_MAX",
    "lyapunov_weights",
]

DENSE_EIG_MAX = 200  #: dimensions up to which exact eigenvalues use dense LAPACK (else ARPACK, tol=0)


def _lambda_max_sym(matvec, dim: int, dense=None) -> float:
    """Largest eigenvalue of a symmetric PSD operator: dense LAPACK when small, ARPACK (tol=0) otherwise."""
    if dense is not None and dim <= DENSE_EIG_MAX:
        return float(np.linalg.eigvalsh(dense())[-1])
    op = spla.LinearOperator((dim, dim), matvec=matvec, dtype=float)
    v0 = np.ones(dim) / math.sqrt(dim)
    return float(spla.eigsh(op, k=1, which="LA", tol=0, v0=v0, return_eigenvectors=False)[0])


class SparseFederated:
    r"""Sparse generalised linear federated objective, stored on the clients' feature supports.

    .. math::
        f_i(x)=\frac1{m_i}\sum_{j\in\text{rows}(i)}\phi(a_j^\top x, y_j)
        +\lambda'\sum_{k\in Z_i}\frac{x_k^2}{1+x_k^2},\qquad f=\frac1n\sum_if_i,

    with :math:`\phi(z,y)=(z-y)^2` (``loss="squares"``: the authors' sparse least squares,
    :math:`f_i=\frac1{m_i}\Vert A_ix-b_i\Vert^2`) or :math:`\phi(z,y)=\log(1+e^{-yz})`,
    :math:`y\in\{\pm1\}` (``loss="logistic"``).  The optional nonconvex regulariser is restricted to
    each client's own features (spec section 7; restricting it keeps :math:`Z_i`).

    Constants (spec sections 2 and 7):

    * least squares: :math:`H_i=\frac2{m_i}A_i^\top A_i`, :math:`L_i=\lambda_{\max}(H_i)`,
      :math:`L=\lambda_{\max}(\frac1n\sum_iH_i)`, :math:`L_{plus}=\lambda_{\max}(\frac1n\sum_iH_i^2)^{1/2}`
      (all exact);
    * logistic: :math:`L_i=\lambda_{\max}(A_i^\top A_i)/(4m_i)`, :math:`L` likewise on the average
      (certified upper bounds), :math:`L_{plus}\le\min\{L_{qm},\sqrt{c/n}\max_iL_i\}` (RF-1);
    * regulariser: :math:`L_i\mathrel{+}=2\lambda'`, :math:`L\mathrel{+}=2\lambda'c/n`, and
      :math:`L_{plus}\le\min\{L^{quad}_{plus}+2\lambda'\sqrt{c/n},\ \min(L_{qm},\sqrt{c/n}\max_iL_i)\}`
      (Minkowski; certified upper bounds, ``exact_L`` False);
    * :math:`c=\max_j|\mathcal O_j|`, :math:`r=\max_i|Z_i|`,
      :math:`L_O=\frac1n\max_j\sum_{i\in\mathcal O_j}L_i`.

    Parameters
    ----------
    A : scipy.sparse matrix (N, d)
        Rows grouped by client.
    y : array (N,)
        Targets (least squares) or labels in {-1, +1} (logistic).
    row_ptr : array (n+1,)
        Client i owns rows ``row_ptr[i]:row_ptr[i+1]`` (at least one each).
    loss : {"squares", "logistic"}
    reg : float
        :math:`\lambda'\ge0` of the restricted nonconvex regulariser.
    constants : bool
        Compute L, L_i, L_plus (set False for huge instances that only need gradients).
    block : bool or None
        Padded per-client layout ``(n, m, r)`` for products with block-dense data (every client's rows
        dense on its support, equal m, padding at most 50% of nnz): batched matmuls instead of CSR
        products, same results.  None chooses automatically; memory stays O(nnz).
    """

    def __init__(
        self, A, y, row_ptr, loss: str = "squares", reg: float = 0.0, constants: bool = True, block: bool | None = None
    ):
        if not sps.issparse(A):
            raise InvalidInput(f"A must be a scipy.sparse matrix, got {type(A).__name__}")
        A = sps.csr_matrix(A, dtype=float)
        A.eliminate_zeros()
        A.sum_duplicates()
        if A.nnz and not np.all(np.isfinite(A.data)):
            raise InvalidInput("A must be finite (no NaN or inf)")
        N, d = A.shape
        y = finite_array("y", y, ndim=1)
        if y.shape != (N,):
            raise InvalidInput(f"y must have shape ({N},) to match A, got {y.shape}")
        row_ptr = np.asarray(row_ptr)
        if (
            row_ptr.ndim != 1
            or row_ptr.size < 2
            or not np.issubdtype(row_ptr.dtype, np.integer)
            or row_ptr[0] != 0
            or row_ptr[-1] != N
            or np.any(np.diff(row_ptr) < 1)
        ):
            raise InvalidInput(f"row_ptr must be increasing integers from 0 to N={N} with at least one row per client")
        if loss not in ("squares", "logistic"):
            raise InvalidInput(f"loss must be 'squares' or 'logistic', got {loss!r}")
        if loss == "logistic" and not np.all(np.abs(y) == 1):
            raise InvalidInput("y must contain labels in {-1, +1} for loss='logistic'")
        self.reg = positive("reg", reg, strict=False)
        self.loss, self.A, self.y = loss, A, y
        self.n, self.d, self.N = row_ptr.size - 1, d, N
        self.row_ptr = row_ptr.astype(np.int64)
        self.m_i = np.diff(self.row_ptr)
        self.row_client = np.repeat(np.arange(self.n), self.m_i)
        self.row_w = 1.0 / self.m_i[self.row_client]
        # ownership from the structure: (client, feature) pairs of nonzero entries
        coo = A.tocoo()
        key = self.row_client[coo.row].astype(np.int64) * d + coo.col
        ukey, inv = np.unique(key, return_inverse=True)
        self.zidx = (ukey % d).astype(np.int64)
        self.slot_client = (ukey // d).astype(np.int64)
        counts = np.bincount(self.slot_client, minlength=self.n)
        if np.any(counts == 0):
            bad = int(np.flatnonzero(counts == 0)[0])
            raise InvalidInput(f"A: client {bad} has no nonzero data (it owns no feature); every client needs one")
        self.zptr = np.r_[0, np.cumsum(counts)].astype(np.int64)
        self.S = int(ukey.size)
        self.A_loc = sps.csr_matrix((coo.data, (coo.row, inv.ravel())), shape=(N, self.S))
        self.A_locT = self.A_loc.T.tocsr()
        self.owners = np.bincount(self.zidx, minlength=d)
        self.c = int(self.owners.max())
        self.r = int(counts.max())
        self.support_sizes = counts
        self.exact_L = loss == "squares" and self.reg == 0
        # padded per-client layout: slot s of client i sits at i*r + (s - zptr[i])
        self._pad = None
        if self.n * self.r <= 2 * self.S:
            self._pad = self.slot_client * self.r + (np.arange(self.S) - self.zptr[self.slot_client])
        self._Apad = None
        m0 = int(self.m_i[0])
        dense_blocks = (
            bool(np.all(self.m_i == m0))
            and A.nnz == m0 * self.S
            and self._pad is not None
            and self.n * m0 * self.r <= 1.5 * max(A.nnz, 1)
        )
        if block and not dense_blocks:
            raise InvalidInput("block=True needs equal rows per client, data dense on each support and little padding")
        if dense_blocks and block is not False:
            Aloc = self.A_loc.tocoo()
            Apad = np.zeros((self.n, m0, self.r))
            Apad[
                self.row_client[Aloc.row],
                Aloc.row - self.row_ptr[self.row_client[Aloc.row]],
                Aloc.col - self.zptr[self.slot_client[Aloc.col]],
            ] = Aloc.data
            zpad = np.zeros(self.n * self.r, dtype=np.int64)
            zpad[self._pad] = self.zidx
            self._Apad, self._zpad = Apad, zpad.reshape(self.n, self.r)
        if constants:
            self._constants()

    # ------------------------------------------------------------------ constants
    @property
    def L_am(self) -> float:
        return float(np.mean(self.L_i))

    @property
    def L_qm(self) -> float:
        return float(np.sqrt(np.mean(self.L_i**2)))

    @property
    def L_max(self) -> float:
        return float(np.max(self.L_i))

    @property
    def L_O(self) -> float:
        r""":math:`\frac1n\max_j\sum_{i\in\mathcal O_j}L_i` (spec section 6)."""
        return float(np.bincount(self.zidx, self.L_i[self.slot_client], minlength=self.d).max() / self.n)

    @property
    def mu(self) -> float | None:
        r"""PŁ constant of least squares: the smallest positive eigenvalue of
        :math:`\frac1n\sum_iH_i` (dense LAPACK, d <= 2000; None otherwise or for other losses)."""
        if self.loss != "squares" or self.reg > 0 or self.d > 2000:
            return None
        if getattr(self, "_mu", None) is None:
            D = 2.0 * self.row_w / self.n
            ev = np.linalg.eigvalsh((self.A.T @ sps.diags(D) @ self.A).toarray())
            pos = ev[ev > 1e-10 * max(ev[-1], 1e-300)]
            self._mu = float(pos[0]) if pos.size else 0.0
        return self._mu

    @property
    def L_plus_bound(self) -> float:
        r"""The RF-1 upper bound :math:`\min\{L_{qm},\sqrt{c/n}\max_iL_i\}`."""
        return float(min(self.L_qm, math.sqrt(self.c / self.n) * self.L_max))

    def _block_gram(self):
        r"""Block-diagonal Gram :math:`\mathrm{blkdiag}(A_iA_i^\top)` (N x N, nnz :math:`\sum_im_i^2`)."""
        if getattr(self, "_K", None) is None:
            self._K = (self.A_loc @ self.A_loc.T).tocsr()  # client i's rows only meet client i's slots
        return self._K

    def _client_lambda_max(self) -> np.ndarray:
        r"""Per-client :math:`\lambda_{\max}(A_i^\top A_i)=\lambda_{\max}(A_iA_i^\top)`."""
        K = self._block_gram().tocoo()
        mmax = int(self.m_i.max())
        if self.n * mmax * mmax <= 2e7:
            local = self.row_ptr[self.row_client]
            G = np.zeros((self.n, mmax, mmax))
            G[self.row_client[K.row], K.row - local[K.row], K.col - local[K.col]] = K.data
            return np.linalg.eigvalsh(G)[:, -1]
        K = K.tocsr()
        out = np.empty(self.n)
        for i in range(self.n):  # constants only (not a hot path): one eigenproblem per client
            lo, hi = self.row_ptr[i], self.row_ptr[i + 1]
            out[i] = _lambda_max_sym(
                lambda v, B=K[lo:hi, lo:hi]: B @ v, hi - lo, dense=lambda B=K[lo:hi, lo:hi]: B.toarray()
            )
        return out

    def _constants(self) -> None:
        scale = 2.0 if self.loss == "squares" else 0.25
        lam_i = self._client_lambda_max()
        self.L_i = scale * lam_i / self.m_i
        D = scale * self.row_w / self.n  # f's averaged Hessian (bound) is A^T diag(D) A
        A, AT = self.A, self.A.T.tocsr()
        self.L = _lambda_max_sym(lambda v: AT @ (D * (A @ v)), self.d, dense=lambda: (AT @ sps.diags(D) @ A).toarray())
        if self.loss == "squares":
            Dl = scale * self.row_w

            def hh(v):  # (1/n) sum_i H_i^2 v, all in the flat layout
                s = self.A_locT @ (Dl * (A @ v))
                s2 = self.A_locT @ (Dl * (self.A_loc @ s))
                return np.bincount(self.zidx, s2, minlength=self.d) / self.n

            def hh_dense():  # sum_i H_i^2 = A^T D K D A with K = blkdiag(A_i A_i^T)
                DA = sps.diags(Dl) @ A
                return (DA.T @ (self._block_gram() @ DA)).toarray() / self.n

            L_plus_quad = math.sqrt(max(_lambda_max_sym(hh, self.d, dense=hh_dense), 0.0))
        else:
            L_plus_quad = None
        if self.reg > 0:
            cn = self.c / self.n
            self.L_i = self.L_i + 2 * self.reg
            self.L = self.L + 2 * self.reg * cn
            cand = [self.L_plus_bound]
            if L_plus_quad is not None:
                cand.append(L_plus_quad + 2 * self.reg * math.sqrt(cn))
            self.L_plus = float(min(cand))
        else:
            self.L_plus = L_plus_quad if L_plus_quad is not None else self.L_plus_bound
        if np.any(self.L_i <= 0):
            raise InvalidInput("A: every client needs L_i > 0")

    # ------------------------------------------------------------------ evaluation
    def flat_value_and_grad(self, x) -> tuple[np.ndarray, np.ndarray]:
        r"""Local values (n,) and all local gradients in the flat support layout (S,).

        One sparse product for the margins, one for the gradients:
        :math:`z=Ax`, :math:`u_j=\phi'(z_j,y_j)/m_{i(j)}`, :math:`[\nabla f_i]_{Z_i}=(A_{loc}^\top u)_i`.
        """
        if self._Apad is not None:  # block-dense data: batched matmuls on the padded layout
            z = np.matmul(self._Apad, x[self._zpad][:, :, None]).reshape(self.N)
        else:
            z = self.A @ x
        if self.loss == "squares":
            res = z - self.y
            rv = res * res
            u = 2.0 * res * self.row_w
        else:
            yz = self.y * z
            rv = np.logaddexp(0.0, -yz)
            u = -self.y * expit(-yz) * self.row_w
        vals = np.add.reduceat(rv * self.row_w, self.row_ptr[:-1])
        if self._Apad is not None:
            gflat = np.matmul(u.reshape(self.n, 1, -1), self._Apad).reshape(-1)[self._pad]
        else:
            gflat = self.A_locT @ u
        if self.reg > 0:
            xs = x[self.zidx]
            x2 = xs * xs
            vals = vals + self.reg * np.add.reduceat(x2 / (1 + x2), self.zptr[:-1])
            gflat = gflat + self.reg * 2 * xs / (1 + x2) ** 2
        return vals, gflat

    def top1(self, a: np.ndarray) -> np.ndarray:
        """Flat index of the largest entry of ``a >= 0`` in every segment (:func:`segment_topk` with k = 1)."""
        if self._pad is None:
            return segment_topk(a, self.zptr, self.slot_client, 1)
        pad = np.full(self.n * self.r, -1.0)
        pad[self._pad] = a
        best = np.argmax(pad.reshape(self.n, self.r), axis=1)  # first maximum: lowest feature index
        return self.zptr[:-1] + best

    def aggregate(self, flat) -> np.ndarray:
        r""":math:`\frac1n\sum_i v_i` for per-client vectors given in the flat layout."""
        return np.bincount(self.zidx, flat, minlength=self.d) / self.n

    def value(self, x) -> float:
        return float(np.mean(self.flat_value_and_grad(x)[0]))

    def grad(self, x) -> np.ndarray:
        return self.aggregate(self.flat_value_and_grad(x)[1])

    def segment_sq_norms(self, flat) -> np.ndarray:
        """Per-client squared norms (n,) of a flat-layout vector."""
        return np.add.reduceat(flat * flat, self.zptr[:-1])

    def minimize_squares(self, tol: float = 1e-14) -> tuple[np.ndarray, float]:
        """Least squares without regulariser: minimiser (LSQR, weighted rows) and minimum value."""
        if self.loss != "squares" or self.reg > 0:
            raise InvalidInput("minimize_squares needs loss='squares' and reg=0")
        w = np.sqrt(self.row_w / self.n)
        B = sps.diags(w) @ self.A
        if self.d <= DENSE_EIG_MAX:
            x, *_ = np.linalg.lstsq(B.toarray(), w * self.y, rcond=None)
        else:
            x = spla.lsqr(B, w * self.y, atol=tol, btol=tol, iter_lim=20 * self.d)[0]
        return x, self.value(x)

    def to_dense(self):
        """The same objective as dense ``(n, m, d)`` arrays (equal m_i, squares, no regulariser): tests only."""
        from .problems import LeastSquares

        if self.loss != "squares" or self.reg > 0 or np.any(self.m_i != self.m_i[0]):
            raise InvalidInput("to_dense needs loss='squares', reg=0 and equal rows per client")
        m = int(self.m_i[0])
        return LeastSquares(self.A.toarray().reshape(self.n, m, self.d), self.y.reshape(self.n, m))


# ---------------------------------------------------------------------------- Top-k on supports
def segment_topk(a: np.ndarray, zptr: np.ndarray, slot_client: np.ndarray, k: int) -> np.ndarray:
    r"""Flat indices of the ``k`` largest entries of ``a >= 0`` within each segment ``zptr[i]:zptr[i+1]``.

    ``k`` vectorized passes; each finds every segment's maximum with ``np.maximum.reduceat`` and its
    first position with ``np.minimum.reduceat`` (ties go to the lowest feature index), so a pass costs
    a few sweeps over the S stored entries.  Segments shorter than ``k`` give all their entries.
    Segments must be non-empty.
    """
    S = a.size
    starts = zptr[:-1]
    lens = np.diff(zptr)
    work = np.array(a, dtype=float, copy=True)
    pos = np.arange(S)
    out = []
    for p in range(min(int(k), int(lens.max()))):
        mx = np.maximum.reduceat(work, starts)
        cand = np.where(work == mx[slot_client], pos, S)
        first = np.minimum.reduceat(cand, starts)
        first = first[lens > p]
        out.append(first)
        work[first] = -1.0
    return np.concatenate(out) if out else np.zeros(0, dtype=int)


# ---------------------------------------------------------------------------- accounting
@dataclass(frozen=True)
class Accounting:
    r"""Explicit uplink accounting per worker (spec sections 5 and 9).

    Parameters
    ----------
    bits_per_float : int
        Bits per transmitted value (default 32).
    count_indices : bool
        Charge :math:`\lceil\log_2 d\rceil` bits per transmitted sparse value (default False, as the
        authors' code; the theory absorbs them in the O(.)).
    count_first_round : bool
        Charge the initial uncompressed round of ``init="grad"`` (its true nonzeros, at most
        :math:`|Z_i|` values; default True; the authors do not count it).
    gd_charge : {"nnz", "support", "dense"}
        What a GD round costs a worker: the true nonzeros of its gradient (at most r; default),
        its support size :math:`|Z_i|`, or d (the authors' code, identity compressor).
    """

    bits_per_float: int = 32
    count_indices: bool = False
    count_first_round: bool = True
    gd_charge: str = "nnz"

    def __post_init__(self):
        positive_int("bits_per_float", self.bits_per_float)
        if self.gd_charge not in ("nnz", "support", "dense"):
            raise InvalidInput(f"gd_charge must be 'nnz', 'support' or 'dense', got {self.gd_charge!r}")

    def bits(self, values, d: int, sparse: bool = True):
        """Bits for ``values`` transmitted floats (indices added for sparse messages if counted)."""
        idx = max(1, math.ceil(math.log2(d))) if (self.count_indices and sparse) else 0
        return np.asarray(values, dtype=float) * (self.bits_per_float + idx)

    def describe(self) -> str:
        return (
            f"{self.bits_per_float} bits per float; indices {'counted' if self.count_indices else 'not counted'}; "
            f"first uncompressed round {'counted' if self.count_first_round else 'not counted'}; "
            f"GD charged {dict(nnz='its true nonzeros per round', support='|Z_i| per round', dense='d per round')[self.gd_charge]}; "
            "cost per worker = max over workers"
        )


@dataclass(kw_only=True)
class SparseTrajectory(Trajectory):
    """What a support-restricted run records (one deterministic run).

    Attributes
    ----------
    grad_norm_sq, f : ndarray (T+1,)
        :math:`\\Vert\\nabla f(x^t)\\Vert^2` and :math:`f(x^t)`.
    G : dict name -> ndarray (T+1,)
        :math:`\\sum_ic_i\\Vert g_i^t-\\nabla f_i(x^t)\\Vert^2` for each requested weighting c.
    floats, bits : ndarray (T+1,)
        Cumulative uplink floats / bits of the worst worker (max over workers) after t rounds.
    """

    SERIES = ("grad_norm_sq", "f", "floats", "bits")

    gamma: float
    grad_norm_sq: np.ndarray
    f: np.ndarray
    G: dict
    floats: np.ndarray
    bits: np.ndarray


def _check_run(problem, x0, gamma, T):
    if not isinstance(problem, SparseFederated):
        raise InvalidInput(f"problem must be a SparseFederated, got {type(problem).__name__}")
    gamma = positive("gamma", gamma)
    T = positive_int("T", T)
    x0 = finite_array("x0", x0, ndim=1)
    if x0.shape != (problem.d,):
        raise InvalidInput(f"x0 must have shape ({problem.d},), got {x0.shape}")
    return x0.copy(), gamma, T


def ef21_support(
    problem: SparseFederated,
    x0,
    *,
    gamma: float,
    T: int,
    k: int,
    init: str = "grad",
    lyapunov: dict | None = None,
    accounting: Accounting | None = None,
    stop_below: float | None = None,
) -> SparseTrajectory:
    r"""EF21 with Top-k restricted to each client's support (EF21, Algorithm 1; the paper's GD + TopK + EF).

    The sparse-data kernel of :func:`solvers.ef21.ef21` (call that: ``ef21(problem, x0, gamma=...,
    T=..., compressor=TopK(k), ...)`` dispatches here for a :class:`SparseFederated` problem).

    .. math::
        x^{t+1}=x^t-\gamma g^t,\quad c_i^t=\mathrm{Top}_k\big(\nabla f_i(x^{t+1})-g_i^t\big),\quad
        g_i^{t+1}=g_i^t+c_i^t,\quad g^{t+1}=g^t+\tfrac1n\textstyle\sum_ic_i^t,

    where every :math:`g_i` lives on :math:`Z_i` (flat layout) and Top-k selects within the support
    (:func:`segment_topk`), which is the ordinary Top-k of the dense vector up to ties among zeros.

    Parameters
    ----------
    problem : SparseFederated
    x0 : array (d,)
    gamma : float
    k : int
        Top-k parameter (>= 1); a message carries min(k, |Z_i|) values.
    T : int
    init : {"grad", "zero", "compressed"}
        :math:`g_i^0=\nabla f_i(x^0)` (one uncompressed round), 0, or :math:`\mathrm{Top}_k(\nabla f_i(x^0))`.
    lyapunov : dict name -> array (n,), optional
        Weightings for :math:`G^t`.
    accounting : Accounting
    stop_below : float, optional
        Stop once the running mean of :math:`\Vert\nabla f(x^t)\Vert^2` is below this (series are
        truncated at that round).
    """
    x, gamma, T = _check_run(problem, x0, gamma, T)
    k = positive_int("k", k)
    if k > problem.d:
        raise InvalidInput(f"k must satisfy 1 <= k <= d, got k={k} > d={problem.d}")
    if init not in ("grad", "zero", "compressed"):
        raise InvalidInput(f"init must be 'grad', 'zero' or 'compressed', got {init!r}")
    acc = accounting or Accounting()
    lyap = {}
    for nm, v in (lyapunov or {}).items():
        v = finite_array(f"lyapunov[{nm!r}]", v, ndim=1)
        if v.shape != (problem.n,):
            raise InvalidInput(f"lyapunov[{nm!r}] must have shape ({problem.n},), got {v.shape}")
        lyap[nm] = v
    P = problem
    zptr, sc = P.zptr, P.slot_client
    msg = np.minimum(k, P.support_sizes)
    msg_floats = float(msg.max())
    msg_bits = float(acc.bits(msg, P.d).max())

    gns = np.full(T + 1, np.inf)
    fs = np.full(T + 1, np.inf)
    Gs = {nm: np.full(T + 1, np.inf) for nm in lyap}
    floats = np.zeros(T + 1)
    bits = np.zeros(T + 1)
    vals, gf = P.flat_value_and_grad(x)
    if init == "grad":
        gi = gf.copy()
        if acc.count_first_round:
            nz = np.add.reduceat((gf != 0).astype(float), zptr[:-1])
            floats[0], bits[0] = nz.max(), acc.bits(nz, P.d).max()
    elif init == "zero":
        gi = np.zeros_like(gf)
    else:
        sel = segment_topk(np.abs(gf), zptr, sc, k)
        gi = np.zeros_like(gf)
        gi[sel] = gf[sel]
        floats[0], bits[0] = msg_floats, msg_bits
    g = P.aggregate(gi)

    run_sum = 0.0

    def record(t):
        nonlocal run_sum
        full = P.aggregate(gf)
        gn = float(full @ full)
        if not math.isfinite(gn):
            return False
        gns[t] = gn
        fs[t] = float(vals.mean())
        if lyap:
            e = P.segment_sq_norms(gi - gf)
            for nm, w in lyap.items():
                Gs[nm][t] = float(e @ w)
        run_sum += gn
        return True

    diverged = None
    last = T
    with np.errstate(over="ignore", invalid="ignore"):
        record(0)
        for t in range(T):
            if stop_below is not None and run_sum / (t + 1) <= stop_below:
                last = t
                break
            x -= gamma * g
            vals, gf = P.flat_value_and_grad(x)
            diff = gf - gi
            sel = P.top1(np.abs(diff)) if k == 1 else segment_topk(np.abs(diff), zptr, sc, k)
            cvals = diff[sel]
            gi[sel] += cvals
            g += np.bincount(P.zidx[sel], cvals, minlength=P.d) / P.n
            floats[t + 1] = floats[t] + msg_floats
            bits[t + 1] = bits[t] + msg_bits
            if not record(t + 1):
                diverged = t + 1
                floats[t + 2 :] = floats[t + 1] + np.arange(1, T - t) * msg_floats
                bits[t + 2 :] = bits[t + 1] + np.arange(1, T - t) * msg_bits
                break
    sl = slice(0, last + 1)
    return SparseTrajectory(
        gamma=gamma,
        T=last,
        grad_norm_sq=gns[sl],
        f=fs[sl],
        G={k_: v[sl] for k_, v in Gs.items()},
        floats=floats[sl],
        bits=bits[sl],
        x_final=x,
        diverged_at=diverged,
        meta={"algorithm": "ef21-sparse", "k": k, "init": init, "accounting": acc.describe()},
    )


def gd_sparse(
    problem: SparseFederated,
    x0,
    *,
    gamma: float,
    T: int,
    rng: np.random.Generator | None = None,
    accounting: Accounting | None = None,
    stop_below: float | None = None,
) -> SparseTrajectory:
    r"""Distributed gradient descent :math:`x^{t+1}=x^t-\gamma\frac1n\sum_i\nabla f_i(x^t)`.

    Each worker sends its gradient every round, charged per :class:`Accounting` (by default its true
    nonzeros, at most :math:`|Z_i|\le r` values, spec section 5).
    """
    x, gamma, T = _check_run(problem, x0, gamma, T)
    generator(rng)  # deterministic: accepted for the common signature, never drawn from
    acc = accounting or Accounting()
    P = problem
    gns = np.full(T + 1, np.inf)
    fs = np.full(T + 1, np.inf)
    floats = np.zeros(T + 1)
    bits = np.zeros(T + 1)
    run_sum = 0.0
    last, diverged = T, None
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(T + 1):
            vals, gf = P.flat_value_and_grad(x)
            full = P.aggregate(gf)
            gn = float(full @ full)
            if not math.isfinite(gn):
                diverged, last = t, t
                break
            gns[t], fs[t] = gn, float(vals.mean())
            run_sum += gn
            if t == T or (stop_below is not None and run_sum / (t + 1) <= stop_below):
                last = t
                break
            if acc.gd_charge == "nnz":
                nz = np.add.reduceat((gf != 0).astype(float), P.zptr[:-1])
                fl, bt = nz.max(), acc.bits(nz, P.d).max()
            elif acc.gd_charge == "support":
                fl, bt = P.support_sizes.max(), acc.bits(P.support_sizes, P.d).max()
            else:
                fl, bt = P.d, float(acc.bits(P.d, P.d, sparse=False))
            floats[t + 1] = floats[t] + fl
            bits[t + 1] = bits[t] + bt
            x = x - gamma * full
    sl = slice(0, last + 1)
    return SparseTrajectory(
        gamma=gamma,
        T=last,
        grad_norm_sq=gns[sl],
        f=fs[sl],
        G={},
        floats=floats[sl],
        bits=bits[sl],
        x_final=x,
        diverged_at=diverged,
        meta={"algorithm": "gd-sparse", "accounting": acc.describe()},
    )


# ---------------------------------------------------------------------------- LIBSVM / svmlight
MAX_FEATURE_INDEX = 2**31 - 1  #: largest feature index of a LIBSVM file (LIBSVM's own ``int`` indices)


def _short(tok: str, n: int = 24) -> str:
    return repr(tok if len(tok) <= n else tok[:n] + "...")


def _where(path, line) -> str:
    return f"data: {str(path)!r} line {int(line)}"


def _feature_indices(path, toks: list, line_of) -> np.ndarray:
    """The feature indices of the ``idx`` tokens as int64: decimal integers in [0, MAX_FEATURE_INDEX];
    anything else is refused naming the file, the line and the rule."""
    rule = f"must be a decimal integer in [0, {MAX_FEATURE_INDEX}] (tokens are idx:value)"

    def ok(t: str) -> bool:
        return t.isascii() and t.isdecimal() and len(t.lstrip("0")) <= 10 and int(t) <= MAX_FEATURE_INDEX

    if not toks:
        return np.zeros(0, dtype=np.int64)
    idx = None
    joined = " ".join(toks)
    if joined.isascii() and joined.replace(" ", "").isdecimal() and max(map(len, toks)) <= 10:
        idx = np.fromstring(joined, dtype=np.int64, sep=" ")  # digits only, at most 10 each: exact int64
    if idx is not None:
        bad = int(np.argmax(idx > MAX_FEATURE_INDEX)) if idx.max() > MAX_FEATURE_INDEX else None
    else:  # token by token (long tokens, e.g. leading zeros, or a bad one to name)
        bad = next((j for j, t in enumerate(toks) if not ok(t)), None)
        if bad is None:
            idx = np.array([int(t) for t in toks], dtype=np.int64)
    if bad is not None:
        raise InvalidInput(f"{_where(path, line_of[bad])}: feature index {_short(toks[bad])} {rule}")
    return idx


def read_svmlight(path, n_features: int | None = None) -> tuple[sps.csr_matrix, np.ndarray]:
    r"""Read a LIBSVM / svmlight file: lines ``label idx:val idx:val ... [# comment]``.

    Indices are decimal integers, 1-based (0-based files are detected by a 0 index), at most
    :data:`MAX_FEATURE_INDEX` (LIBSVM's ``int``); labels and values are finite numbers.  A token that
    breaks a rule is refused (:class:`InvalidInput`) with the file, its line and the rule.  Parsing is
    one pass to split the lines and one vectorized conversion of all ``idx:val`` tokens.

    Returns
    -------
    X : csr_matrix (N, d), y : ndarray (N,)
    """
    try:
        with open(path, "rb") as fh:
            text = fh.read().decode("utf-8", errors="strict")
    except OSError as e:
        raise InvalidInput(f"data: cannot read {path!r}: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"data: {path!r} is not a text (UTF-8) LIBSVM file") from None
    lines, numbers = [], []
    for no, ln in enumerate(text.splitlines(), 1):
        t = ln.split("#", 1)[0].split()
        if t:
            lines.append(t)
            numbers.append(no)
    del text
    if not lines:
        raise InvalidInput(f"data: {path!r} contains no samples")
    try:
        y = np.array([t[0] for t in lines], dtype=float)
    except ValueError:
        y = None
    if y is None or not np.all(np.isfinite(y)):
        j = next(j for j, t in enumerate(lines) if not _finite_number(t[0]))
        raise InvalidInput(
            f"{_where(path, numbers[j])}: the label {_short(lines[j][0])} must be a finite number "
            "(every line starts with a numeric label)"
        )
    counts = np.array([len(t) - 1 for t in lines])
    toks = [tok for t in lines for tok in t[1:]]
    line_of = np.repeat(np.asarray(numbers, dtype=np.int64), counts)
    del lines
    if any(tok.startswith("qid:") for tok in toks[:1000]):
        raise InvalidInput(f"data: {path!r}: qid fields are not supported")
    parts = " ".join(toks).replace(":", " ").split()
    if len(parts) != 2 * len(toks):
        j = next(j for j, t in enumerate(toks) if t.count(":") != 1 or t.startswith(":") or t.endswith(":"))
        raise InvalidInput(
            f"{_where(path, line_of[j])}: malformed feature token {_short(toks[j])} (expected idx:value)"
        )
    idx = _feature_indices(path, parts[0::2], line_of)
    try:
        vals = np.array(parts[1::2], dtype=float)
    except ValueError:
        vals = None
    if vals is None or not np.all(np.isfinite(vals)):
        j = next(j for j, t in enumerate(parts[1::2]) if not _finite_number(t))
        raise InvalidInput(
            f"{_where(path, line_of[j])}: feature value {_short(parts[2 * j + 1])} must be a finite "
            "number (tokens are idx:value)"
        )
    del parts, toks
    if idx.size and idx.min() >= 1:
        idx -= 1
    d = int(idx.max()) + 1 if idx.size else 1
    if n_features is not None:
        if n_features < d:
            raise InvalidInput(f"n_features={n_features} is smaller than the largest index in {path!r} ({d})")
        d = n_features
    rows = np.repeat(np.arange(counts.size), counts)
    X = sps.csr_matrix((vals, (rows, idx)), shape=(counts.size, d))
    X.sum_duplicates()
    return X, y


def _finite_number(t: str) -> bool:
    try:
        return math.isfinite(float(t))
    except ValueError:
        return False


def lyapunov_weights(name: str, problem: SparseFederated) -> np.ndarray:
    r"""Weights :math:`w_i` of the EF21 Lyapunov term :math:`G=\sum_iw_i\Vert g_i-\nabla f_i\Vert^2`: 1/n
    (``uniform``, ``qm``, ``rare``), :math:`L_{am}/(nL_i)` (``am``, ``w``: EF21-W's :math:`G_W` equals this
    weighting of EF21's errors, Top-k being positively homogeneous) or :math:`L_O/(nL_i)` (``owners``)."""
    if name in ("uniform", "qm", "rare"):
        return np.full(problem.n, 1.0 / problem.n)
    if name in ("am", "w"):
        return problem.L_am / (problem.n * problem.L_i)
    if name == "owners":
        return problem.L_O / (problem.n * problem.L_i)
    raise InvalidInput(f"setting lyapunov must be one of uniform, qm, am, w, owners, got {name!r}")
