r"""Finite-sum objectives :math:`f(x)=\frac1n\sum_{i=1}^n f_i(x)` with every client evaluated at once.

A problem stores the data of all clients stacked in arrays, evaluates all local values and
gradients in one pass, and reports its constants by exact linear algebra (never by guesswork):
per-client smoothness :math:`L_i`, the smoothness :math:`L` of :math:`f`, and for quadratics the
PŁ constant :math:`\mu` (smallest positive Hessian eigenvalue) and the minimum.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
from scipy.special import expit

from ._validate import InvalidInput, finite_array, positive

__all__ = ["Problem", "LeastSquares", "NonconvexLogistic"]


class Problem:
    """Interface shared by all finite-sum problems.

    Attributes
    ----------
    n, d : int
        Number of clients and dimension.
    L_i : ndarray, shape (n,)
        Smoothness constant of each :math:`f_i` (exact, or a certified upper bound when
        ``exact_L`` is False).
    L : float
        Smoothness constant of :math:`f`.
    """

    n: int
    d: int
    L_i: np.ndarray
    L: float
    exact_L: bool = True

    @property
    def L_am(self) -> float:
        r""":math:`L_{am}=\frac1n\sum_iL_i`."""
        return float(np.mean(self.L_i))

    @property
    def L_qm(self) -> float:
        r""":math:`L_{qm}=(\frac1n\sum_iL_i^2)^{1/2}`."""
        return float(np.sqrt(np.mean(self.L_i**2)))

    def value_and_grad(self, x: np.ndarray, per_client: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Local values and gradients of all clients.

        ``x`` has shape ``(..., d)`` (one shared point per leading index, e.g. Monte Carlo
        replications) or, with ``per_client=True``, ``(..., n, d)`` (one point per client).
        Returns values of shape ``(..., n)`` and gradients of shape ``(..., n, d)``.
        """
        raise NotImplementedError

    def local_grads(self, x: np.ndarray) -> np.ndarray:
        r""":math:`(\nabla f_i(x_i))_i` for ``x`` of shape ``(..., n, d)`` (one point per client), shape
        ``(..., n, d)``: the gradients of ``value_and_grad(x, per_client=True)`` (a subclass may skip the values)."""
        return self.value_and_grad(x, per_client=True)[1]

    def value(self, x: np.ndarray) -> np.ndarray:
        """:math:`f(x)` for ``x`` of shape ``(..., d)``."""
        return self.value_and_grad(x)[0].mean(axis=-1)

    def grad(self, x: np.ndarray) -> np.ndarray:
        r""":math:`\nabla f(x)` for ``x`` of shape ``(..., d)``."""
        return self.value_and_grad(x)[1].mean(axis=-2)

    def _point(self, x, per_client: bool) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        if x.shape[-1] != self.d or (per_client and (x.ndim < 2 or x.shape[-2] != self.n)):
            want = f"(..., {self.n}, {self.d})" if per_client else f"(..., {self.d})"
            raise InvalidInput(f"x must have shape {want}, got {x.shape}")
        return x


_POOL = None
_THREADED_MIN = 2_000_000  # entries of A above which the gradient pass is split across 2 threads
_CHUNK_BYTES = 2 << 20  # per-chunk slice of A: small enough to stay in cache between the two products


def _pool():
    global _POOL
    if _POOL is None:
        from concurrent.futures import ThreadPoolExecutor

        _POOL = ThreadPoolExecutor(2)
    return _POOL


def _residual_pass(A: np.ndarray, b: np.ndarray, x: np.ndarray, scale: float):
    r"""Values and gradients of all clients of :math:`\frac1m\Vert A_ix-b_i\Vert^2` at one shared ``x``.

    The data are streamed from memory once: clients are processed in chunks of about 2 MiB, and
    each chunk's residual :math:`r_i=A_ix-b_i` and gradient :math:`\frac2mA_i^\top r_i` are computed
    while the chunk is still in cache.  Two threads take alternate chunks (``np.einsum`` releases
    the GIL).  Returns ``(sum_j r_ij^2, scale * A_i^T r_i)`` per client.
    """
    n, m, d = A.shape
    sq = np.empty(n)
    out = np.empty((n, d))

    def work(lo, hi):
        Ac = A[lo:hi]
        r = np.einsum("nmd,d->nm", Ac, x)
        r -= b[lo:hi]
        sq[lo:hi] = np.einsum("nm,nm->n", r, r)
        r *= scale
        np.einsum("nmd,nm->nd", Ac, r, out=out[lo:hi])

    if A.size < _THREADED_MIN or n < 2:
        work(0, n)
        return sq, out
    cs = max(1, _CHUNK_BYTES // (m * d * A.itemsize))

    def half(h):
        for lo in range(h * cs, n, 2 * cs):
            work(lo, min(n, lo + cs))

    futures = [_pool().submit(half, h) for h in (0, 1)]
    for f in futures:
        f.result()
    return sq, out


def _lambda_max_gram(A: np.ndarray) -> np.ndarray:
    r"""Batched :math:`\lambda_{\max}(A_i^\top A_i)` via the smaller of the two Gram matrices."""
    n, m, d = A.shape
    if m <= d:
        G = np.einsum("nmd,nkd->nmk", A, A)
    else:
        G = np.einsum("nmd,nme->nde", A, A)
    return np.linalg.eigvalsh(G)[:, -1]


class LeastSquares(Problem):
    r"""Federated least squares :math:`f_i(x)=\frac1m\Vert A_ix-b_i\Vert^2`.

    .. math::
        \nabla f_i(x)=\tfrac2mA_i^\top(A_ix-b_i),\qquad
        L_i=\tfrac2m\lambda_{\max}(A_i^\top A_i),\qquad
        L=\lambda_{\max}\Big(\tfrac1n\sum_i\tfrac2mA_i^\top A_i\Big),

    and :math:`\mu` is the smallest positive eigenvalue of that averaged Hessian (a convex quadratic
    bounded below is PŁ with it); used by the EF21 experiment (``verify/experiments/ef21.py``).

    Parameters
    ----------
    A : array, shape (n, m, d)
        Client data, ``m`` samples per client.
    b : array, shape (n, m)
        Targets.
    """

    def __init__(self, A, b):
        A = finite_array("A", A, ndim=3)
        b = finite_array("b", b, ndim=2)
        if b.shape != A.shape[:2]:
            raise InvalidInput(f"b must have shape (n, m) = {A.shape[:2]} to match A, got {b.shape}")
        self.A = np.ascontiguousarray(A)
        self.b = np.ascontiguousarray(b)
        self.n, self.m, self.d = A.shape
        self._A2 = self.A.reshape(self.n * self.m, self.d)
        self.L_i = 2.0 / self.m * _lambda_max_gram(self.A)
        if np.any(self.L_i <= 0):
            raise InvalidInput("A: every client needs nonzero data (L_i > 0), found a client with A_i = 0")
        H = self.hessian()
        ev = scipy.linalg.eigvalsh(H)
        self.L = float(ev[-1])
        tol = 1e-10 * max(self.L, 1e-300)
        pos = ev[ev > tol]
        self.mu = float(pos[0]) if pos.size else 0.0

    def hessian(self) -> np.ndarray:
        r"""The constant Hessian :math:`\frac{2}{nm}\sum_iA_i^\top A_i` of f."""
        return 2.0 / (self.n * self.m) * (self._A2.T @ self._A2)

    def value_and_grad(self, x, per_client=False):
        x = self._point(x, per_client)
        if not per_client and x.size == self.d:  # one shared point: a single pass over the data
            sq, grads = _residual_pass(self.A, self.b, x.reshape(self.d), 2.0 / self.m)
            return (sq / self.m).reshape(*x.shape[:-1], self.n), grads.reshape(*x.shape[:-1], self.n, self.d)
        if per_client:
            r = np.einsum("nmd,...nd->...nm", self.A, x) - self.b
        else:
            lead = x.shape[:-1]
            xr = x.reshape(-1, self.d)
            r = (self._A2 @ xr.T).reshape(self.n, self.m, -1).transpose(2, 0, 1).reshape(*lead, self.n, self.m) - self.b
        vals = np.einsum("...m,...m->...", r, r) / self.m
        grads = np.einsum("nmd,...nm->...nd", self.A, r * (2.0 / self.m))
        return vals, grads

    def minimize(self) -> tuple[np.ndarray, float]:
        """Minimum-norm minimizer and minimum value by ``lstsq`` (equal weights per client)."""
        x, *_ = np.linalg.lstsq(self._A2, self.b.ravel(), rcond=None)
        return x, float(self.value(x))

    def clone(self, counts) -> "LeastSquares":
        r"""The cloned problem of Error Feedback Reloaded (step 1): client i becomes ``counts[i]``
        clients :math:`f_{ij}=\frac{N}{nN_i}f_i`, so the average is unchanged."""
        counts = np.asarray(counts)
        if counts.shape != (self.n,) or np.any(counts < 1) or not np.issubdtype(counts.dtype, np.integer):
            raise InvalidInput(f"counts must be {self.n} integers >= 1, got {counts!r}")
        N = int(counts.sum())
        s = np.sqrt(N / (self.n * counts))[:, None]
        A = np.repeat(self.A * s[:, :, None], counts, axis=0)
        b = np.repeat(self.b * s, counts, axis=0)
        return LeastSquares(A, b)


class NonconvexLogistic(Problem):
    r"""Logistic regression with the nonconvex regulariser used by EF21 and Reloaded.

    .. math::
        f_i(x)=\frac1m\sum_{j=1}^m\log\big(1+e^{-y_{ij}a_{ij}^\top x}\big)
        +\lambda\sum_{k=1}^d\frac{x_k^2}{1+x_k^2},\qquad y_{ij}\in\{\pm1\}.

    The loss Hessian lies in :math:`[0,\frac1{4m}A_i^\top A_i]` and
    :math:`\frac{d^2}{dx^2}\frac{x^2}{1+x^2}\in[-\frac12,2]`, hence the certified constants
    :math:`L_i=\frac{\lambda_{\max}(A_i^\top A_i)}{4m}+2\lambda` and
    :math:`L=\lambda_{\max}(\frac1n\sum_i\frac{A_i^\top A_i}{4m})+2\lambda` (``exact_L`` is False:
    these are upper bounds, which keep every theorem valid).  EF21 spec, section 2.4.
    """

    exact_L = False

    def __init__(self, A, y, lam: float = 0.1):
        A = finite_array("A", A, ndim=3)
        y = finite_array("y", y, ndim=2)
        if y.shape != A.shape[:2]:
            raise InvalidInput(f"y must have shape (n, m) = {A.shape[:2]} to match A, got {y.shape}")
        if not np.all(np.abs(y) == 1):
            raise InvalidInput("y must contain labels in {-1, +1}")
        self.lam = positive("lam", lam, strict=False)
        self.A = np.ascontiguousarray(A)
        self.y = np.ascontiguousarray(y)
        self.n, self.m, self.d = A.shape
        self._A2 = self.A.reshape(self.n * self.m, self.d)
        self._YA = self.A * self.y[:, :, None]
        self._YA2 = self._YA.reshape(self.n * self.m, self.d)
        self.L_i = _lambda_max_gram(self.A) / (4 * self.m) + 2 * self.lam
        if np.any(self.L_i <= 0):
            raise InvalidInput("A: every client needs nonzero data or lam > 0 (L_i > 0)")
        G = self._A2.T @ self._A2 / (4 * self.n * self.m)
        self.L = float(scipy.linalg.eigvalsh(G)[-1]) + 2 * self.lam
        self.mu = None

    def value_and_grad(self, x, per_client=False):
        x = self._point(x, per_client)
        if per_client:
            z = np.einsum("nmd,...nd->...nm", self._YA, x)
        elif x.ndim == 1:
            z = (self._YA2 @ x).reshape(self.n, self.m)
        else:
            lead = x.shape[:-1]
            z = (
                (self._YA2 @ x.reshape(-1, self.d).T)
                .reshape(self.n, self.m, -1)
                .transpose(2, 0, 1)
                .reshape(*lead, self.n, self.m)
            )
        loss = np.logaddexp(0.0, -z).mean(axis=-1)
        w = -expit(-z) / self.m
        grads = np.einsum("nmd,...nm->...nd", self._YA, w)
        x2 = x * x
        reg = self.lam * np.sum(x2 / (1 + x2), axis=-1)
        reg_g = self.lam * 2 * x / (1 + x2) ** 2
        if per_client:
            return loss + reg, grads + reg_g
        return loss + reg[..., None], grads + reg_g[..., None, :]

    def loss_only(self) -> tuple[np.ndarray, np.ndarray]:
        """The data ``(Y*A stacked, weights)`` of the convex logistic part, for exact optima."""
        return self._YA2, np.full(self.n * self.m, 1.0 / (self.n * self.m))


# --------------------------------------------------------------------------- decentralized (sum) problems
class NodeQuadratics:
    r"""Decentralized quadratics :math:`\min_x\sum_{i=1}^nf_i(x)`, :math:`f_i(x)=\frac12x^\top C_ix+b_i^\top x`.

    Used by ADOM+ (``notes/adom.md``): a **sum**, not an average.  The constants are
    exact: :math:`\mu_i=\lambda_{\min}(C_i)`, :math:`L_i=\lambda_{\max}(C_i)`, the uniform
    :math:`\mu=\min_i\mu_i` and :math:`L=\max_iL_i`, and
    :math:`x^\star=-(\sum_iC_i)^{-1}\sum_ib_i` by a symmetric linear solve.

    Parameters
    ----------
    C : array (n, d, d)
        Symmetric positive definite local Hessians.
    b : array (n, d)
        Linear terms.
    """

    def __init__(self, C, b):
        C = finite_array("C", C, ndim=3)
        b = finite_array("b", b, ndim=2)
        n, d, d2 = C.shape
        if d != d2 or b.shape != (n, d):
            raise InvalidInput(f"C must have shape (n, d, d) and b (n, d), got {C.shape} and {b.shape}")
        if np.max(np.abs(C - C.transpose(0, 2, 1))) > 1e-12 * max(1.0, float(np.max(np.abs(C)))):
            raise InvalidInput("C must be symmetric (every C_i)")
        self.C = np.ascontiguousarray(C)
        self.b = np.ascontiguousarray(b)
        self.n, self.d = n, d
        ev = np.linalg.eigvalsh(self.C)
        self.mu_i, self.L_i = ev[:, 0], ev[:, -1]
        if np.any(self.mu_i <= 0):
            raise InvalidInput(
                f"every C_i must be positive definite (mu_i > 0), found min eigenvalue {self.mu_i.min():.3g}"
            )
        self.mu, self.L = float(self.mu_i.min()), float(self.L_i.max())
        H = self.C.sum(axis=0)
        self.x_star = scipy.linalg.solve(H, -self.b.sum(axis=0), assume_a="pos")
        self.f_star = float(self.value(self.x_star))

    def local_grads(self, X: np.ndarray) -> np.ndarray:
        r""":math:`(\nabla f_i(x_i))_i` for ``X`` of shape ``(n, d)`` (one batched matmul)."""
        return np.matmul(self.C, X[:, :, None])[:, :, 0] + self.b

    def value(self, x: np.ndarray) -> float:
        r""":math:`\sum_if_i(x)` at a common point ``x`` of shape ``(d,)``."""
        x = np.asarray(x, dtype=float)
        return float(0.5 * np.einsum("j,njk,k->", x, self.C, x) + self.b.sum(axis=0) @ x)


class NodeLogistic:
    r"""Decentralized :math:`\ell_2`-regularised logistic regression, :math:`\min_x\sum_if_i(x)` with

    .. math::
        f_i(x)=\frac1m\sum_{j=1}^m\log\big(1+e^{-y_{ij}a_{ij}^\top x}\big)+\frac\lambda2\Vert x\Vert^2,

    :math:`\mu=\lambda` and the certified :math:`L_i=\lambda_{\max}(A_i^\top A_i)/(4m)+\lambda`
    (spec section 4).  ``x_star`` is set by :func:`verify.optima.decentralized_logistic_optimum`.
    """

    def __init__(self, A, y, lam: float):
        A = finite_array("A", A, ndim=3)
        y = finite_array("y", y, ndim=2)
        if y.shape != A.shape[:2]:
            raise InvalidInput(f"y must have shape (n, m) = {A.shape[:2]} to match A, got {y.shape}")
        if not np.all(np.abs(y) == 1):
            raise InvalidInput("y must contain labels in {-1, +1}")
        self.lam = positive("lam", lam)
        self.n, self.m, self.d = A.shape
        self.YA = np.ascontiguousarray(A * y[:, :, None])
        self.L_i = _lambda_max_gram(A) / (4 * self.m) + self.lam
        self.mu_i = np.full(self.n, self.lam)
        self.mu, self.L = self.lam, float(self.L_i.max())
        self.x_star = None

    def local_grads(self, X: np.ndarray) -> np.ndarray:
        r""":math:`(\nabla f_i(x_i))_i` for ``X`` of shape ``(n, d)``."""
        z = np.einsum("nmd,nd->nm", self.YA, X)
        w = -expit(-z) / self.m
        return np.einsum("nmd,nm->nd", self.YA, w) + self.lam * X

    def value(self, x: np.ndarray) -> float:
        z = self.YA @ np.asarray(x, dtype=float)
        return float(np.logaddexp(0.0, -z).mean(axis=1).sum() + 0.5 * self.n * self.lam * float(x @ x))

    def grad_sum(self, x: np.ndarray) -> np.ndarray:
        r""":math:`\sum_i\nabla f_i(x)`."""
        return self.local_grads(np.broadcast_to(x, (self.n, self.d))).sum(axis=0)

    def hess_sum(self, x: np.ndarray) -> np.ndarray:
        r""":math:`\sum_i\nabla^2f_i(x)`."""
        z = self.YA @ x
        s = expit(z) * expit(-z) / self.m
        return np.einsum("nmd,nm,nme->de", self.YA, s, self.YA) + self.n * self.lam * np.eye(self.d)


# --------------------------------------------------------------------------- L-SVRP problems
def _check_symmetric(name: str, A: np.ndarray) -> None:
    scale = max(1.0, float(np.max(np.abs(A)))) if A.size else 1.0
    asym = float(np.max(np.abs(A - np.swapaxes(A, -1, -2)))) if A.size else 0.0
    if asym > 1e-12 * scale:
        raise InvalidInput(f"{name} must be symmetric (every A_i = A_i^T), found max |A_i - A_i^T| = {asym:.3g}")


class QuadraticClients(Problem):
    r"""Client quadratics :math:`f_i(x)=\frac12x^\top A_ix-b_i^\top x` with exact constants.

    Used by L-SVRP (Gasanov & Richtárik, arXiv 2412.13619; ``notes/lsvrp.md``).
    One symmetric eigendecomposition per client, :math:`A_i=U_i\Lambda_iU_i^\top`, is computed
    once (batched); every prox is then two matrix-vector products:

    .. math::
        \mathrm{prox}_{\gamma f_i}(v)=(I+\gamma A_i)^{-1}(v+\gamma b_i)
        =U_i\,\frac{U_i^\top(v+\gamma b_i)}{1+\gamma\Lambda_i}.

    Exact constants (all by linear algebra):

    .. math::
        \mu=\min_i\lambda_{\min}(A_i),\qquad
        \delta^2=\lambda_{\max}\Big(\frac1n\sum_i(A_i-\bar A)^2\Big),\qquad
        \delta_{\max}=\max_i\Vert A_i-\bar A\Vert_2,

    :math:`L_i=\lambda_{\max}(A_i)`, :math:`L=\lambda_{\max}(\bar A)`,
    :math:`\mu_f=\lambda_{\min}(\bar A)`, :math:`x^\star=\bar A^{-1}\bar b` and
    :math:`\sigma_\star^2=\frac1n\sum_i\Vert\nabla f_i(x^\star)\Vert^2`.

    Parameters
    ----------
    A : array, shape (n, d, d)
        Symmetric positive definite client matrices.
    b : array, shape (n, d)
        Linear terms.
    """

    def __init__(self, A, b):
        A = finite_array("A", A, ndim=3)
        b = finite_array("b", b, ndim=2)
        n, d, d2 = A.shape
        if d != d2:
            raise InvalidInput(f"A must have shape (n, d, d), got {A.shape}")
        if b.shape != (n, d):
            raise InvalidInput(f"b must have shape (n, d) = {(n, d)} to match A, got {b.shape}")
        _check_symmetric("A", A)
        self.A = np.ascontiguousarray(0.5 * (A + np.swapaxes(A, 1, 2)))
        self.b = np.ascontiguousarray(b)
        self.n, self.d = n, d
        self.eigvals, self.eigvecs = np.linalg.eigh(self.A)  # (n, d), (n, d, d)
        self.mu = float(self.eigvals[:, 0].min())
        if not self.mu > 0:
            raise InvalidInput(
                f"A: every A_i must be positive definite (mu = min_i lambda_min(A_i) > 0), got mu = {self.mu:.6g}"
            )
        self.L_i = self.eigvals[:, -1].copy()
        self.A_bar = self.A.mean(axis=0)
        self.b_bar = self.b.mean(axis=0)
        ev_bar = scipy.linalg.eigvalsh(self.A_bar)
        self.L, self.mu_f = float(ev_bar[-1]), float(ev_bar[0])
        D = self.A - self.A_bar
        self.delta = float(np.sqrt(max(scipy.linalg.eigvalsh(np.einsum("nij,njk->ik", D, D) / n)[-1], 0.0)))
        self.delta_max = float(np.abs(np.linalg.eigvalsh(D)).max())
        self.x_star = scipy.linalg.solve(self.A_bar, self.b_bar, assume_a="pos")
        g_star = self.A @ self.x_star - self.b
        self.sigma_star2 = float(np.mean(np.einsum("nd,nd->n", g_star, g_star)))

    @property
    def L_max(self) -> float:
        r""":math:`L_{\max}=\max_iL_i`."""
        return float(self.L_i.max())

    def local_grads(self, x):
        return np.einsum("nij,...nj->...ni", self.A, self._point(x, True)) - self.b

    def value_and_grad(self, x, per_client=False):
        x = self._point(x, per_client)
        if per_client:
            Ax = np.einsum("nij,...nj->...ni", self.A, x)
            vals = 0.5 * np.einsum("...ni,...ni->...n", x, Ax) - np.einsum("ni,...ni->...n", self.b, x)
        else:
            Ax = np.einsum("nij,...j->...ni", self.A, x)
            vals = 0.5 * np.einsum("...i,...ni->...n", x, Ax) - np.einsum("ni,...i->...n", self.b, x)
        return vals, Ax - self.b

    def prox(self, i, v, gamma: float) -> np.ndarray:
        r""":math:`\mathrm{prox}_{\gamma f_{i}}(v)` for client indices ``i`` (shape (R,)) and points ``v`` (R, d)."""
        i = np.asarray(i)
        U = self.eigvecs[i]
        y = np.einsum("rji,rj->ri", U, v + gamma * self.b[i])
        return np.einsum("rij,rj->ri", U, y / (1.0 + gamma * self.eigvals[i]))


class L2Logistic(Problem):
    r"""ℓ2-regularised logistic regression, :math:`\mu`-strongly convex per client.

    .. math::
        f_i(x)=\frac1m\sum_{j=1}^m\log\big(1+e^{-y_{ij}a_{ij}^\top x}\big)+\frac\lambda2\Vert x\Vert^2,

    so :math:`\mu=\lambda` for every client, :math:`L_i=\lambda_{\max}(A_i^\top A_i)/(4m)+\lambda`.
    The Hessian dissimilarity is only bounded (spec ``lsvrp.md`` section 1): the loss Hessians
    :math:`H_i\in[0,\frac1{4m}A_i^\top A_i]` give
    :math:`\delta^2\le\lambda_{\max}(\frac1n\sum_iH_i^2)\le\frac1n\sum_i(\lambda_{\max}(A_i^\top A_i)/(4m))^2`
    (``delta_bound``, certified; ``exact_delta`` is False).

    The prox is an inner Newton solve (:meth:`prox`) to gradient norm ``tol``, i.e. to distance
    at most ``tol/(lambda + 1/gamma)`` from the exact prox (strong convexity).
    """

    exact_L = False
    exact_delta = False

    def __init__(self, A, y, lam: float = 0.1):
        self.lam = positive("lam", lam)
        base = NonconvexLogistic(A, y, lam=0.0)  # validates A and y; its L_i, L are the loss-only constants
        self.n, self.m, self.d = base.n, base.m, base.d
        self.YA = base._YA
        self.mu = self.lam
        lmax = base.L_i
        self.L_i = lmax + self.lam
        self.L = base.L + self.lam
        self.delta_bound = float(np.sqrt(np.mean(lmax**2)))

    def value_and_grad(self, x, per_client=False):
        x = self._point(x, per_client)
        if per_client:
            z = np.einsum("nmd,...nd->...nm", self.YA, x)
            reg = 0.5 * self.lam * np.einsum("...nd,...nd->...n", x, x)
            rg = self.lam * x
        else:
            z = np.einsum("nmd,...d->...nm", self.YA, x)
            reg = 0.5 * self.lam * np.einsum("...d,...d->...", x, x)[..., None]
            rg = self.lam * x[..., None, :]
        loss = np.logaddexp(0.0, -z).mean(axis=-1)
        grads = np.einsum("nmd,...nm->...nd", self.YA, -expit(-z) / self.m)
        return loss + reg, grads + rg

    def _client_grad_hess(self, i, z_pt):
        YA = self.YA[i]  # (R, m, d)
        z = np.einsum("rmd,rd->rm", YA, z_pt)
        s = expit(-z)
        g = np.einsum("rmd,rm->rd", YA, -s / self.m) + self.lam * z_pt
        w = s * (1 - s) / self.m
        H = np.einsum("rmd,rm,rme->rde", YA, w, YA) + self.lam * np.eye(self.d)
        return g, H

    def prox(self, i, v, gamma: float, tol: float = 1e-12, max_iter: int = 50):
        r"""Batched prox by Newton's method on
        :math:`z\mapsto f_i(z)+\frac1{2\gamma}\Vert z-v\Vert^2` (strongly convex with modulus
        :math:`\lambda+1/\gamma`), started at ``v``; stops when every gradient norm is below ``tol``.

        Returns ``(z, newton_iterations)``; raises :class:`InvalidInput` if ``max_iter`` is reached.
        """
        i = np.asarray(i)
        z = np.array(v, dtype=float, copy=True)
        eye = np.eye(self.d) / gamma
        for it in range(1, max_iter + 1):
            g, H = self._client_grad_hess(i, z)
            g += (z - v) / gamma
            if np.max(np.linalg.norm(g, axis=1)) <= tol:
                return z, it - 1
            z -= np.linalg.solve(H + eye, g[..., None])[..., 0]
        g, _ = self._client_grad_hess(i, z)
        g += (z - v) / gamma
        if np.max(np.linalg.norm(g, axis=1)) <= tol:
            return z, max_iter
        raise InvalidInput(f"prox: Newton did not reach tol={tol:g} in max_iter={max_iter} iterations")


__all__ += ["QuadraticClients", "L2Logistic"]


# --------------------------------------------------------------------------- single-objective problems (RCD / RPT)
def _symmetric_psd(name: str, A) -> tuple[np.ndarray, np.ndarray]:
    """Validate a symmetric PSD matrix; return it (symmetrised) and its eigenvalues."""
    A = finite_array(name, A, ndim=2)
    if A.shape[0] != A.shape[1]:
        raise InvalidInput(f"{name} must be a square matrix, got shape {A.shape}")
    scale = max(float(np.max(np.abs(A))) if A.size else 0.0, 1e-300)
    if np.max(np.abs(A - A.T)) > 1e-10 * scale:
        raise InvalidInput(f"{name} must be symmetric, found max |{name} - {name}^T| = {np.max(np.abs(A - A.T)):.3g}")
    A = 0.5 * (A + A.T)
    ev = scipy.linalg.eigvalsh(A)
    if ev[0] < -1e-10 * max(abs(ev[-1]), 1e-300):
        raise InvalidInput(f"{name} must be positive semidefinite, found eigenvalue {ev[0]:.6g}")
    return A, ev


class Quadratic:
    r"""Quadratic :math:`f(x)=\frac12x^\top Ax-b^\top x` with :math:`A\succeq0` and :math:`b\in\mathrm{range}(A)`.

    Matrix smoothness holds with :math:`\mathbf L=A`; :math:`\mu=\lambda_{\min}(A)` (0 for a
    singular A: convex, not strongly convex); a minimiser :math:`x^\star=A^+b` and
    :math:`f^\star=-\frac12b^\top x^\star` (spec ``rcd_rpt.md`` section 4).  ``block_sizes`` records
    the block structure used by RPT sketches.  Values and gradients are batched over leading
    dimensions of ``x``.
    """

    def __init__(self, A, b=None, block_sizes=None):
        self.A, self.eigenvalues = _symmetric_psd("A", A)
        self.d = self.A.shape[0]
        self.b = np.zeros(self.d) if b is None else finite_array("b", b, ndim=1)
        if self.b.shape != (self.d,):
            raise InvalidInput(f"b must have {self.d} entries, got {self.b.shape}")
        self.L = float(self.eigenvalues[-1])
        tol = 1e-10 * max(self.L, 1e-300)
        self.mu = float(self.eigenvalues[0]) if self.eigenvalues[0] > tol else 0.0
        self.x_star = scipy.linalg.lstsq(self.A, self.b, cond=None)[0] if np.any(self.b) else np.zeros(self.d)
        res = self.A @ self.x_star - self.b
        if np.linalg.norm(res) > 1e-8 * max(1.0, np.linalg.norm(self.b)):
            raise InvalidInput("b must lie in the range of A (otherwise f is unbounded below)")
        self.f_star = float(-0.5 * self.b @ self.x_star)
        self.block_sizes = None if block_sizes is None else np.asarray(block_sizes, dtype=int)

    @property
    def L_matrix(self) -> np.ndarray:
        r"""The smoothness matrix :math:`\mathbf L=A`."""
        return self.A

    def value(self, x):
        x = np.asarray(x, dtype=float)
        return 0.5 * np.einsum("...i,...i->...", x @ self.A, x) - x @ self.b

    def grad(self, x):
        return np.asarray(x, dtype=float) @ self.A - self.b


class MatrixL2Logistic:
    r""":math:`\ell_2`-regularised logistic regression
    :math:`f(x)=\frac1m\sum_{j=1}^m\log(1+e^{-y_ja_j^\top x})+\frac\lambda2\Vert x\Vert^2`.

    Matrix smoothness with :math:`\mathbf L=\frac1{4m}M^\top M+\lambda I` (M has rows
    :math:`a_j`), :math:`\mu=\lambda` (spec ``rcd_rpt.md`` section 4).  Batched over leading
    dimensions of ``x``.
    """

    def __init__(self, M, y, lam: float = 0.1, block_sizes=None):
        self.M = finite_array("M", M, ndim=2)
        self.y = finite_array("y", y, ndim=1)
        if self.y.shape != (self.M.shape[0],):
            raise InvalidInput(f"y must have {self.M.shape[0]} entries to match M, got {self.y.shape}")
        if not np.all(np.abs(self.y) == 1):
            raise InvalidInput("y must contain labels in {-1, +1}")
        self.lam = positive("lam", lam)
        self.m, self.d = self.M.shape
        self.YM = self.M * self.y[:, None]
        self._L = self.M.T @ self.M / (4 * self.m) + self.lam * np.eye(self.d)
        self.L = float(scipy.linalg.eigvalsh(self._L)[-1])
        self.mu = self.lam
        self.block_sizes = None if block_sizes is None else np.asarray(block_sizes, dtype=int)

    @property
    def L_matrix(self) -> np.ndarray:
        return self._L

    def value(self, x):
        x = np.asarray(x, dtype=float)
        z = x @ self.YM.T
        return np.logaddexp(0.0, -z).mean(axis=-1) + 0.5 * self.lam * np.einsum("...i,...i->...", x, x)

    def grad(self, x):
        return self.value_and_grad(x)[1]

    def value_and_grad(self, x):
        """Value and gradient from one pass over the data (batched over leading dimensions)."""
        x = np.asarray(x, dtype=float)
        z = x @ self.YM.T
        e = np.exp(-np.abs(z))  # stable: log(1+e^{-z}) = max(-z, 0) + log1p(e^{-|z|}), sigma(-z) from the same e
        loss = np.maximum(-z, 0.0) + np.log1p(e)
        sig = np.where(z >= 0, e, 1.0) / (1.0 + e)
        val = loss.mean(axis=-1) + 0.5 * self.lam * np.einsum("...i,...i->...", x, x)
        return val, (-sig / self.m) @ self.YM + self.lam * x


class QuadraticCosine:
    r"""Nonconvex :math:`f(x)=\frac12x^\top Ax+\omega\sum_i\cos x_i` (spec ``rcd_rpt.md`` section 4).

    :math:`\nabla^2f(x)=A-\omega\,\mathrm{Diag}(\cos x)\preceq A+\omega I=:\mathbf L`.  Since
    :math:`x^\top Ax\ge\lambda_{\min}(A)\Vert x\Vert^2`, :math:`f\ge\sum_ig(\lambda_{\min}(A))` with
    :math:`g(a)=\min_t\frac a2t^2+\omega\cos t`; for a diagonal A the minimum is separable and
    :math:`f^{\inf}=\sum_ig(A_{ii})` exactly (``f_inf_exact``).  For :math:`a<\omega` the 1-D
    minimiser solves :math:`at=\omega\sin t` on :math:`(0,\pi)` (unique: the left side minus the
    right is convex there); for :math:`a\ge\omega` it is t = 0.
    """

    def __init__(self, A, omega: float = 1.0, block_sizes=None):
        self.A, ev = _symmetric_psd("A", A)
        self.d = self.A.shape[0]
        self.omega = positive("omega", omega)
        if ev[0] <= 1e-12 * max(ev[-1], 1e-300):
            raise InvalidInput("A must be positive definite (else f is not bounded below by the certificate)")
        self._L = self.A + self.omega * np.eye(self.d)
        self.L = float(ev[-1] + self.omega)
        self.mu = None
        diag = np.allclose(self.A, np.diag(np.diag(self.A)), rtol=0, atol=0)
        self.f_inf_exact = bool(diag)
        a = np.diag(self.A) if diag else np.full(self.d, ev[0])
        self.f_inf = float(np.sum(self._g(a)))
        self.block_sizes = None if block_sizes is None else np.asarray(block_sizes, dtype=int)

    def _g(self, a: np.ndarray) -> np.ndarray:
        """:math:`\\min_t\\frac a2t^2+\\omega\\cos t`, vectorised bisection on :math:`at=\\omega\\sin t`."""
        w = self.omega
        lo, hi = np.zeros_like(a), np.full_like(a, np.pi)
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            neg = a * mid - w * np.sin(mid) < 0
            lo, hi = np.where(neg, mid, lo), np.where(neg, hi, mid)
        t = np.where(a < w, 0.5 * (lo + hi), 0.0)
        return 0.5 * a * t**2 + w * np.cos(t)

    @property
    def L_matrix(self) -> np.ndarray:
        return self._L

    def value(self, x):
        x = np.asarray(x, dtype=float)
        return 0.5 * np.einsum("...i,...i->...", x @ self.A, x) + self.omega * np.cos(x).sum(axis=-1)

    def grad(self, x):
        x = np.asarray(x, dtype=float)
        return x @ self.A - self.omega * np.sin(x)


__all__ += ["Quadratic", "MatrixL2Logistic", "QuadraticCosine"]
