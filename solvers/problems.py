r"""Finite-sum objectives :math:`f(x)=\frac1n\sum_{i=1}^n f_i(x)` with every client evaluated at once.

A problem stores the data of all clients stacked in arrays, evaluates all local values and
gradients in one pass, and reports its constants by exact linear algebra (never by guesswork):
per-client smoothness :math:`L_i`, the smoothness :math:`L` of :math:`f`, and for quadratics the
PŁ constant :math:`\mu` (smallest positive Hessian eigenvalue) and the minimum.
"""
from __future__ import annotations

from dataclasses import dataclass, field

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
        return float(np.sqrt(np.mean(self.L_i ** 2)))

    def value_and_grad(self, x: np.ndarray, per_client: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Local values and gradients of all clients.

        ``x`` has shape ``(..., d)`` (one shared point per leading index, e.g. Monte Carlo
        replications) or, with ``per_client=True``, ``(..., n, d)`` (one point per client).
        Returns values of shape ``(..., n)`` and gradients of shape ``(..., n, d)``.
        """
        raise NotImplementedError

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
    bounded below is PŁ with it).  EF21 spec, section 2.4 (``specs/ef21_am.md``).

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
        if per_client:
            r = np.einsum("nmd,...nd->...nm", self.A, x) - self.b
        elif x.ndim == 1:
            r = (self._A2 @ x).reshape(self.n, self.m) - self.b
        else:
            lead = x.shape[:-1]
            xr = x.reshape(-1, self.d)
            r = (self._A2 @ xr.T).reshape(self.n, self.m, -1).transpose(2, 0, 1).reshape(*lead, self.n, self.m) - self.b
        vals = np.einsum("...m,...m->...", r, r) / self.m
        grads = np.einsum("nmd,...nm->...nd", self.A, r) * (2.0 / self.m)
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
            z = (self._YA2 @ x.reshape(-1, self.d).T).reshape(self.n, self.m, -1).transpose(2, 0, 1).reshape(*lead, self.n, self.m)
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


class L2Logistic:
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
        return 0.5 * a * t ** 2 + w * np.cos(t)

    @property
    def L_matrix(self) -> np.ndarray:
        return self._L

    def value(self, x):
        x = np.asarray(x, dtype=float)
        return 0.5 * np.einsum("...i,...i->...", x @ self.A, x) + self.omega * np.cos(x).sum(axis=-1)

    def grad(self, x):
        x = np.asarray(x, dtype=float)
        return x @ self.A - self.omega * np.sin(x)

__all__ += ["Quadratic", "L2Logistic", "QuadraticCosine"]
