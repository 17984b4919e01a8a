r"""Local-update methods for federated optimization: ProxSkip/Scaffnew, Local GD and GD on FLIX.

The clients hold :math:`f_i`, :math:`i=1..n`, and the target is :math:`\bar f=\frac1n\sum_if_i`.  Every
solver keeps the per-client state in ``(..., n, d)`` arrays and calls the problem's batched
``value_and_grad(X, per_client=True)`` once per step (one gradient per client).

* **Scaffnew** (ProxSkip on the consensus form; Mishchenko, Malinovsky, Stich, Richtárik, ICML 2022,
  arXiv 2202.09357, Algorithm as restated by Malinovsky, Yi, Richtárik, NeurIPS 2022): with one coin
  :math:`\eta_t\sim\mathrm{Bernoulli}(p)` shared by all clients,

  .. math::
      \hat x_i=x_i-\gamma(\nabla f_i(x_i)-h_i),\qquad
      x_i^+=\begin{cases}\frac1n\sum_j(\hat x_j-\frac\gamma ph_j)&\eta_t=1\\ \hat x_i&\eta_t=0\end{cases},\qquad
      h_i^+=h_i+\frac p\gamma(x_i^+-\hat x_i).

  A communication is a coin equal to 1.  :func:`proxskip_maps` gives the two linear maps of one step on
  quadratics in error coordinates :math:`(x-x^\star,h-h^\star)`, for exact second moments.
* **Local GD** (Khaled, Mishchenko, Richtárik, AISTATS 2020, arXiv 1909.04746): every round, each client
  runs H gradient steps from the server point and the server averages (one communication per round).
* **GD on FLIX** (Gasanov, Khaled, Horváth, Richtárik, AISTATS 2022, arXiv 2111.11556):
  :math:`\tilde f(x)=\frac1n\sum_if_i(\tau_ix+(1-\tau_i)x_i^\star)`, whose gradient is
  :math:`\frac1n\sum_i\tau_i\nabla f_i(\tau_ix+(1-\tau_i)x_i^\star)` (one communication per step).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._trajectory import Trajectory
from ._validate import InvalidInput, finite_array, generator, in_unit_interval, positive, positive_int

__all__ = [
    "ProxSkipTrajectory",
    "LocalGDTrajectory",
    "FlixTrajectory",
    "proxskip",
    "proxskip_maps",
    "proxskip_noise_covs",
    "local_gd",
    "local_gd_round_map",
    "flix_gd",
    "flix_quadratic",
    "shared_eigenbasis",
    "proxskip_one_step_moment",
    "generalized_max_eig",
    "hitting_time",
    "gd_hitting_time",
    "gd_quadratic",
    "local_gd_floors",
    "local_gd_rounds_to",
    "flix_value",
    "flix_local_gd_weights",
]


def _grads(problem, X):
    return problem.local_grads(X)


def _first_nonfinite(rows, series=None) -> int | None:
    """The first step t at which the per-step rows ``rows`` (..., T+1, d) or the ``series`` (..., T+1) hold a
    non-finite value, or None (the record's ``diverged_at``)."""
    bad = ~np.isfinite(rows).all(axis=-1)
    if series is not None:
        bad |= ~np.isfinite(series)
    bad = bad.reshape(-1, bad.shape[-1]).any(axis=0)
    return int(np.argmax(bad)) if bad.any() else None


def _start(problem, x0, R):
    x0 = finite_array("x0", x0)
    n, d = problem.n, problem.d
    if x0.shape == (d,):
        return np.broadcast_to(x0, (R, n, d)).copy()
    if x0.shape == (n, d):
        return np.broadcast_to(x0, (R, n, d)).copy()
    raise InvalidInput(f"x0 must have shape (d,) = ({d},) or (n, d) = ({n}, {d}), got {x0.shape}")


# --------------------------------------------------------------------------- ProxSkip / Scaffnew
@dataclass(kw_only=True)
class ProxSkipTrajectory(Trajectory):
    r"""A Scaffnew run (:func:`proxskip`), replications on the first axis, the step on the last axis of a series.

    ``T`` is the number of steps, ``x_final`` the client average :math:`\frac1n\sum_ix_{i,T}` per replication
    (R, d), ``diverged_at`` the first step t whose client average (or :math:`\Psi_t`) is not finite (None when
    all are), ``meta`` the algorithm and its discrete options.

    Attributes
    ----------
    lyapunov : ndarray (R, T+1) or None
        :math:`\Psi_t=\sum_i\Vert x_{i,t}-x^\star\Vert^2+\frac{\gamma^2}{p^2}\sum_i\Vert h_{i,t}-h_i^\star\Vert^2`
        with :math:`h_i^\star=\nabla f_i(x^\star)` (when ``x_star`` was given); a series.
    comms : ndarray (R, T+1)
        Cumulative communications (coins equal to 1); a series.
    x_mean : ndarray (R, T+1, d)
        Client average :math:`\frac1n\sum_ix_{i,t}` (equal to every :math:`x_{i,t}` after a communication),
        one row per step t = 0..T (per-step rows of vectors, as iterates are: not a series).
    grad_calls : int
        Client gradient evaluations per replication (n per step).
    x, h : ndarray (R, n, d)
        Final client states.
    gamma, p : float
        Stepsize and communication probability.
    """

    SERIES = ("lyapunov", "comms")

    gamma: float
    p: float
    x_mean: np.ndarray
    lyapunov: np.ndarray | None
    comms: np.ndarray
    grad_calls: int
    x: np.ndarray
    h: np.ndarray


def proxskip(
    problem, x0, *, gamma, T, rng, p, h0=None, replications: int = 1, x_star=None, noise: float = 0.0
) -> ProxSkipTrajectory:
    r"""Scaffnew (ProxSkip on the consensus form), all clients and replications vectorized.

    With ``noise`` = σ > 0 every client uses a stochastic gradient :math:`\nabla f_i(x_i)+\xi_i`,
    :math:`\xi_i\sim\mathcal N(0,\sigma^2I_d)` independent over clients, steps and replications (additive
    noise: unbiased, variance :math:`C=nd\sigma^2` at :math:`x^\star` summed over clients, expected smoothness
    A'' = L; SProxSkip as restated by Malinovsky, Yi, Richtárik, NeurIPS 2022, Theorem 8), drawn from ``rng``
    as one (replications, n, d) array per step after the coins.

    Parameters
    ----------
    problem
        Clients with a batched ``value_and_grad(X, per_client=True)`` (``X`` of shape (..., n, d)).
    x0 : array (d,) or (n, d)
        Starting point (common or per client).
    gamma : float
        Stepsize (the theory needs :math:`\gamma\le1/\max_iL_i`).
    T : int
        Steps.
    rng : numpy Generator
        Draws the coin, one per step and replication (shared by the clients); required.
    p : float in (0, 1]
        Communication probability.
    h0 : array (n, d), optional
        Control variates (default 0).
    replications : int
    x_star : array (d,), optional
        The minimiser of :math:`\bar f`; enables the Lyapunov series.
    noise : float >= 0
        Standard deviation σ of the additive gradient noise (0: exact gradients, no draws).
    """
    gamma = positive("gamma", gamma)
    p = in_unit_interval("p", p)
    T = positive_int("T", T)
    noise = positive("noise", noise, strict=False)
    R = positive_int("replications", replications)
    rng = generator(rng, "the communication coins")
    X = _start(problem, x0, R)
    n, d = problem.n, problem.d
    if h0 is not None and finite_array("h0", h0).shape != (n, d):
        raise InvalidInput(f"h0 must have shape (n, d) = ({n}, {d}), got {np.shape(h0)}")
    H = np.zeros((R, n, d)) if h0 is None else np.broadcast_to(np.asarray(h0, dtype=float), (R, n, d)).copy()
    xm = np.empty((R, T + 1, d))
    comms = np.zeros((R, T + 1))
    psi = None
    if x_star is not None:
        xs = finite_array("x_star", x_star, ndim=1)
        hs = _grads(problem, np.broadcast_to(xs, (n, d)))
        w = gamma**2 / p**2
        psi = np.empty((R, T + 1))

        def lyap(X, H):
            return np.einsum("rnd,rnd->r", X - xs, X - xs) + w * np.einsum("rnd,rnd->r", H - hs, H - hs)

        psi[:, 0] = lyap(X, H)
    xm[:, 0] = X.mean(axis=1)
    coins = rng.random((T, R)) < p
    for t in range(T):  # a loop over steps; clients and replications are array axes
        Xh = X - gamma * (_grads(problem, X) - H)
        if noise > 0:
            Xh -= (gamma * noise) * rng.standard_normal((R, n, d))
        eta = coins[t]
        if eta.any():
            avg = (Xh[eta] - (gamma / p) * H[eta]).mean(axis=1, keepdims=True)
            H[eta] += (p / gamma) * (avg - Xh[eta])
            Xh[eta] = avg
        X = Xh
        xm[:, t + 1] = X.mean(axis=1)
        comms[:, t + 1] = comms[:, t] + eta
        if psi is not None:
            psi[:, t + 1] = lyap(X, H)
    return ProxSkipTrajectory(
        T=T,
        x_final=xm[:, T].copy(),
        diverged_at=_first_nonfinite(xm, psi),
        meta={"algorithm": "scaffnew", "replications": R, "gradients": "additive-gaussian" if noise > 0 else "exact"},
        gamma=gamma,
        p=p,
        x_mean=xm,
        lyapunov=psi,
        comms=comms,
        grad_calls=n * T,
        x=X,
        h=H,
    )


def proxskip_maps(A, gamma: float, p: float) -> tuple[np.ndarray, np.ndarray]:
    r"""The maps :math:`M_0` (skip) and :math:`M_1` (communicate) of one Scaffnew step on quadratics.

    For :math:`f_i=\frac12x^\top A_ix-b_i^\top x` and the error state :math:`z=(e,g)`,
    :math:`e=X-\mathbf1\otimes x^\star`, :math:`g=h-h^\star` (both stacked over clients, length nd each),
    with :math:`\hat e=(I-\gamma\mathbf A)e+\gamma g`:

    * skip: :math:`e^+=\hat e`, :math:`g^+=g`;
    * communicate: :math:`e^+=P(\hat e-\frac\gamma pg)`, :math:`g^+=g+\frac p\gamma(e^+-\hat e)`,

    with :math:`P=\frac1n\mathbf1\mathbf1^\top\otimes I_d`.  Both are linear because :math:`x^\star` is a
    fixed point of the communication step.  Returns two arrays of shape (2nd, 2nd).
    """
    A = finite_array("A", A, ndim=3)
    n, d, _ = A.shape
    gamma = positive("gamma", gamma)
    p = in_unit_interval("p", p)
    N = n * d
    I = np.eye(N)
    BA = np.zeros((n, d, n, d))
    BA[np.arange(n), :, np.arange(n), :] = A  # block-diagonal blkdiag(A_1..A_n)
    BA = BA.reshape(N, N)
    P = np.kron(np.full((n, n), 1.0 / n), np.eye(d))
    Ehat = np.hstack([I - gamma * BA, gamma * I])  # e_hat as a map of z
    M0 = np.vstack([Ehat, np.hstack([np.zeros((N, N)), I])])
    Eplus = P @ (Ehat - np.hstack([np.zeros((N, N)), (gamma / p) * I]))
    Gplus = np.hstack([np.zeros((N, N)), I]) + (p / gamma) * (Eplus - Ehat)
    M1 = np.vstack([Eplus, Gplus])
    return M0, M1


def proxskip_noise_covs(n: int, d: int, gamma: float, p: float, noise: float) -> np.ndarray:
    r"""Covariances (2, 2nd, 2nd) of the additive noise that stochastic gradients
    :math:`\nabla f_i+\xi_i`, :math:`\xi_i\sim\mathcal N(0,\sigma^2I_d)` (``noise`` = σ), add to one Scaffnew
    step of :func:`proxskip_maps` (state :math:`z=(e,g)`): :math:`\hat e` gains :math:`-\gamma\xi`, which the
    skip keeps and the communication maps to :math:`e^+\mathrel{+}=-\gamma P\xi`,
    :math:`g^+\mathrel{+}=p(I-P)\xi`, so

    .. math:: C_0=\begin{pmatrix}\gamma^2\sigma^2I&0\\0&0\end{pmatrix},\qquad
              C_1=\begin{pmatrix}\gamma^2\sigma^2P&0\\0&p^2\sigma^2(I-P)\end{pmatrix}

    (:math:`P(I-P)=0`).  With them :func:`verify.expectation.exact_linear_second_moments` keeps the expectation
    exact (its ``noise_covs``)."""
    gamma = positive("gamma", gamma)
    p = in_unit_interval("p", p)
    noise = positive("noise", noise, strict=False)
    N = n * d
    P = np.kron(np.full((n, n), 1.0 / n), np.eye(d))
    C = np.zeros((2, 2 * N, 2 * N))
    C[0, :N, :N] = (gamma * noise) ** 2 * np.eye(N)
    C[1, :N, :N] = (gamma * noise) ** 2 * P
    C[1, N:, N:] = (p * noise) ** 2 * (np.eye(N) - P)
    return C


def proxskip_operators(A, gamma: float, p: float):
    r"""The maps of :func:`proxskip_maps` as functions ``Z -> M Z`` (``Z`` of shape (2nd, m)), applied with
    their structure: the block-diagonal :math:`\mathbf A` client by client and :math:`P` as a mean over
    clients, :math:`O(nd^2m)` per application instead of :math:`O(n^2d^2m)`.  Returns ``(skip, communicate)``."""
    A = finite_array("A", A, ndim=3)
    n, d, _ = A.shape
    gamma = positive("gamma", gamma)
    p = in_unit_interval("p", p)
    N = n * d

    def e_hat(Z):
        E, G = Z[:N].reshape(n, d, -1), Z[N:].reshape(n, d, -1)
        return E - gamma * (A @ E) + gamma * G, G  # batched over clients

    def skip(Z):
        Eh, G = e_hat(Z)
        return np.concatenate([Eh.reshape(N, -1), G.reshape(N, -1)])

    def communicate(Z):
        Eh, G = e_hat(Z)
        Ep = np.broadcast_to((Eh - (gamma / p) * G).mean(axis=0, keepdims=True), Eh.shape)
        Gp = G + (p / gamma) * (Ep - Eh)
        return np.concatenate([Ep.reshape(N, -1), Gp.reshape(N, -1)])

    return skip, communicate


def proxskip_coordinate_operators(lam, gamma: float, p: float):
    r"""The maps of :func:`proxskip_maps` when every :math:`A_i=\mathrm{Diag}(\lambda_i)` (a shared
    eigenbasis): coordinates decouple, and coordinate j's state :math:`(e_{1j},\dots,e_{nj},g_{1j},\dots,g_{nj})`
    follows its own two maps.  ``lam`` is (n, d); the functions act on a batch ``Z`` of shape (d, 2n, m), one
    system per coordinate, at :math:`O(n m)` per coordinate.  Returns ``(skip, communicate)``."""
    lam = finite_array("lam", lam, ndim=2)
    n, d = lam.shape
    gamma = positive("gamma", gamma)
    p = in_unit_interval("p", p)
    contraction = (1.0 - gamma * lam.T)[:, :, None]  # (d, n, 1)

    def e_hat(Z):
        E, G = Z[:, :n], Z[:, n:]
        return contraction * E + gamma * G, G

    def skip(Z):
        Eh, G = e_hat(Z)
        return np.concatenate([Eh, G], axis=1)

    def communicate(Z):
        Eh, G = e_hat(Z)
        Ep = np.broadcast_to((Eh - (gamma / p) * G).mean(axis=1, keepdims=True), Eh.shape)
        return np.concatenate([Ep, G + (p / gamma) * (Ep - Eh)], axis=1)

    return skip, communicate


def shared_eigenbasis(A) -> np.ndarray | None:
    """The clients' eigenvalues, shape (d, n), when every Hessian :math:`A_i` is diagonal (a shared eigenbasis:
    the coordinates), else None."""
    A = np.asarray(A)
    lam = np.diagonal(A, axis1=1, axis2=2)
    return lam.T.copy() if np.array_equal(A, lam[:, :, None] * np.eye(A.shape[-1])) else None


def proxskip_one_step_moment(A, gamma: float, p: float, lam=None) -> tuple[np.ndarray, int]:
    r"""The exact conditional second moment of one Scaffnew step: the matrix :math:`Q` with
    :math:`\mathbb E[\Psi_{t+1}\mid z_t]=z_t^\top Qz_t`,
    :math:`Q=(1-p)M_0^\top WM_0+pM_1^\top WM_1`, :math:`W=\mathrm{Diag}(\mathbf1_N,\frac{\gamma^2}{p^2}\mathbf1_N)`
    (the weights of :math:`\Psi`), :math:`M_0,M_1` the maps of :func:`proxskip_maps`.  With ``lam`` (the (d, n)
    eigenvalues of a shared eigenbasis, :func:`shared_eigenbasis`) :math:`Q` is block diagonal: one
    :math:`2n\times2n` block per coordinate, returned as a batch (d, 2n, 2n).  Returns ``(Q, N)``, N = nd (full
    state) or n (per coordinate block): the first N entries of the state are :math:`e`, the last N are :math:`g`."""
    if lam is None:  # the full state's maps (2nd x 2nd)
        M0, M1 = proxskip_maps(A, gamma, p)
        N = A.shape[0] * A.shape[1]
    else:  # a shared eigenbasis: one 2n x 2n block per coordinate
        skip, communicate = proxskip_coordinate_operators(lam.T, gamma, p)
        d, n = lam.shape
        eye = np.broadcast_to(np.eye(2 * n), (d, 2 * n, 2 * n))
        M0, M1 = skip(eye), communicate(eye)
        N = n
    W = np.r_[np.ones(N), np.full(N, gamma**2 / p**2)]
    MT = np.swapaxes
    return (1 - p) * MT(M0, -1, -2) @ (W[:, None] * M0) + p * MT(M1, -1, -2) @ (W[:, None] * M1), N


def generalized_max_eig(Q, D) -> float:
    r"""Largest :math:`\lambda` with :math:`z^\top Qz=\lambda z^\top Dz` for a diagonal form D >= 0: the bound
    :math:`z^\top Qz\le z^\top Dz` for every z holds iff this is <= 1.  Where D vanishes (p = 1 leaves no weight on
    h), Q must vanish too (else inf); a negative entry of D cannot dominate Q >= 0 (inf).  ``Q`` may be a batch
    (B, N, N) of blocks of a block-diagonal form (the largest over the blocks)."""
    if np.any(D < 0) or not np.all(np.isfinite(D)):
        return np.inf
    on = D > 0
    scale = max(float(np.abs(Q).max()), 1e-300)
    if np.any(np.abs(Q[..., ~on, :]) > 1e-12 * scale) or np.any(np.abs(Q[..., :, ~on]) > 1e-12 * scale):
        return np.inf
    s = 1 / np.sqrt(D[on])
    return float(np.linalg.eigvalsh(s[:, None] * Q[..., on, :][..., :, on] * s[None, :])[..., -1].max())


def hitting_time(series, target: float) -> int | None:
    """First index t >= 1 with ``series[t] <= target`` (None if never)."""
    hit = np.nonzero(np.asarray(series)[1:] <= target)[0]
    return int(hit[0]) + 1 if hit.size else None


def gd_hitting_time(A, e0, gamma: float, eps: float, T_max: int) -> int | None:
    r"""First t <= ``T_max`` with :math:`\Vert x_t-x^\star\Vert^2\le\varepsilon\Vert x_0-x^\star\Vert^2` for GD
    with stepsize γ on :math:`\frac12x^\top Ax-b^\top x` from :math:`x_0=x^\star+e_0`, in closed form in the
    eigenbasis of A (:math:`\Vert x_t-x^\star\Vert^2=\sum_jc_j^2(1-\gamma\lambda_j)^{2t}`), over chunks of t of
    doubling length; None if not reached."""
    lam, U = np.linalg.eigh(A)
    c2 = (U.T @ e0) ** 2
    q2 = (1 - gamma * lam) ** 2
    target = eps * c2.sum()
    t0, chunk = 1, 1024
    while t0 <= T_max:
        t = np.arange(t0, min(t0 + chunk, T_max + 1))
        vals = np.exp(np.log(np.maximum(q2, 1e-300))[None, :] * t[:, None]) @ c2
        hit = np.nonzero(vals <= target)[0]
        if hit.size:
            return int(t[hit[0]])
        t0 += chunk
        chunk *= 2
    return None


def gd_quadratic(A, b, x0, *, gamma: float, T: int) -> np.ndarray:
    r"""Iterates :math:`x_{t+1}=x_t-\gamma(Ax_t-b)`, t < T, of GD on :math:`\frac12x^\top Ax-b^\top x` (for
    Scaffnew at p = 1 against GD on :math:`\bar f`: ``A_bar``, ``b_bar``).  Returns (T+1, d)."""
    x = np.empty((T + 1, np.shape(x0)[0]))
    x[0] = x0
    for t in range(T):  # a loop over iterations
        x[t + 1] = x[t] - gamma * (A @ x[t] - b)
    return x


# --------------------------------------------------------------------------- Local GD
@dataclass(kw_only=True)
class LocalGDTrajectory(Trajectory):
    r"""A Local GD run (:func:`local_gd`): its step is a communication round.

    ``T`` is the number of rounds, ``x_final`` the last server point :math:`x_T` (d,), ``diverged_at`` the
    first round r whose server point is not finite (None when all are), ``meta`` the algorithm and H.

    Attributes
    ----------
    comms : ndarray (T+1,)
        Cumulative communications (one per round); a series.
    x : ndarray (T+1, d)
        Server points :math:`x_r` at the synchronisation points r = 0..T, one row per round (per-step rows of
        vectors: not a series).
    virtual : ndarray (H*T, d)
        Virtual iterates :math:`\hat x_t=\frac1n\sum_iy_i^{(t)}`, t = 0..HT-1 (Khaled et al.), one row per local
        step (not a series).
    grad_calls : int
        Client gradient evaluations (n H per round).
    gamma : float
    H : int
        Local steps per round.
    """

    SERIES = ("comms",)

    gamma: float
    H: int
    x: np.ndarray
    virtual: np.ndarray
    comms: np.ndarray
    grad_calls: int


def local_gd(problem, x0, *, gamma, T, H, rng=None) -> LocalGDTrajectory:
    r"""Local GD for ``T`` communication rounds: per round, :math:`y_i\leftarrow x_r`, H steps
    :math:`y_i\leftarrow y_i-\gamma\nabla f_i(y_i)`, then :math:`x_{r+1}=\frac1n\sum_iy_i` (all clients in one
    (n, d) array).  Khaled, Mishchenko, Richtárik, AISTATS 2020 (arXiv 1909.04746).

    Parameters
    ----------
    problem
        Clients with a batched ``value_and_grad(X, per_client=True)``.
    x0 : array (d,)
        Starting server point.
    gamma : float
        Local stepsize.
    T : int
        Communication rounds (the step of this method; ``H T`` local steps in all).
    H : int
        Local steps per round.
    rng : None
        Deterministic: accepted for the common signature (a Generator is validated and unused).
    """
    gamma = positive("gamma", gamma)
    H = positive_int("H", H)
    rounds = positive_int("T", T)
    generator(rng)
    x = finite_array("x0", x0, ndim=1)
    if x.shape != (problem.d,):
        raise InvalidInput(f"x0 must have shape (d,) = ({problem.d},), got {x.shape}")
    n, d = problem.n, problem.d
    xs = np.empty((rounds + 1, d))
    virt = np.empty((rounds * H, d))
    xs[0] = x
    for r in range(rounds):
        Y = np.broadcast_to(xs[r], (n, d)).copy()
        for k in range(H):
            np.divide(np.add.reduce(Y, axis=0), n, out=virt[r * H + k])  # Y.mean(axis=0), without its dispatch
            Y -= gamma * _grads(problem, Y)
        np.divide(np.add.reduce(Y, axis=0), n, out=xs[r + 1])
    return LocalGDTrajectory(
        T=rounds,
        x_final=xs[rounds].copy(),
        diverged_at=_first_nonfinite(xs),
        meta={"algorithm": "local-gd", "local_steps": H},
        gamma=gamma,
        H=H,
        x=xs,
        virtual=virt,
        comms=np.arange(rounds + 1.0),
        grad_calls=n * H * rounds,
    )


def local_gd_round_map(A, b, gamma: float, H: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Exact round map of Local GD on quadratics: :math:`x_{r+1}=Mx_r+v` with
    :math:`M=\frac1n\sum_i(I-\gamma A_i)^H`, :math:`v=\frac\gamma n\sum_iS_ib_i`,
    :math:`S_i=\sum_{k<H}(I-\gamma A_i)^k`, and its fixed point :math:`x_\infty` (solving
    :math:`\sum_iS_i\nabla f_i(x_\infty)=0`).  Returns ``(M, v, x_inf)``."""
    A = finite_array("A", A, ndim=3)
    b = finite_array("b", b, ndim=2)
    n, d, _ = A.shape
    w, U = np.linalg.eigh(A)  # (n, d), (n, d, d)
    q = 1.0 - gamma * w
    powH = q**H
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(np.abs(1 - q) > 1e-300, (1 - powH) / (1 - q), float(H))  # sum_{k<H} q^k
    M = np.einsum("nij,nj,nkj->ik", U, powH, U) / n
    SA = np.einsum("nij,nj,nkj->nik", U, s, U)  # S_i
    v = gamma * np.einsum("nij,nj->i", SA, b) / n
    x_inf = np.linalg.solve(np.eye(d) - M, v)
    return M, v, x_inf


def local_gd_floors(A, b, gamma: float, Hs, x_star) -> np.ndarray:
    r""":math:`\Vert x_\infty(H)-x^\star\Vert` for each H of ``Hs``: the exact floor of Local GD (the fixed point of
    :func:`local_gd_round_map`) against the minimiser of :math:`\bar f`."""
    return np.array([np.linalg.norm(local_gd_round_map(A, b, gamma, int(h))[2] - x_star) for h in Hs])


def local_gd_rounds_to(M, v, x0, x_star, eps: float, cap: int) -> float:
    r"""Rounds r of the exact round map :math:`x_{r+1}=Mx_r+v` (:func:`local_gd_round_map`) until
    :math:`\Vert x_r-x^\star\Vert\le\varepsilon`, or inf if not within ``cap`` rounds."""
    x, k = np.array(x0, dtype=float), 0
    while np.linalg.norm(x - x_star) > eps and k < cap:  # a loop over rounds
        x = M @ x + v
        k += 1
    return float(k) if k < cap else np.inf


# --------------------------------------------------------------------------- FLIX
@dataclass(kw_only=True)
class FlixTrajectory(Trajectory):
    r"""GD on the FLIX objective (:func:`flix_gd`): one communication and n client gradients per step.

    ``T`` is the number of steps, ``x_final`` the last iterate :math:`x_T` (d,), ``diverged_at`` the first step
    whose iterate is not finite (None when all are), ``meta`` the algorithm.

    Attributes
    ----------
    comms : ndarray (T+1,)
        Cumulative communications; a series.
    x : ndarray (T+1, d)
        Iterates :math:`x_t`, one row per step t = 0..T (per-step rows of vectors: not a series).
    grad_calls : int
        Client gradient evaluations (n per step).
    gamma : float
    """

    SERIES = ("comms",)

    gamma: float
    x: np.ndarray
    comms: np.ndarray
    grad_calls: int


def flix_gd(problem, x0, *, gamma, T, tau, x_local, rng=None) -> FlixTrajectory:
    r"""GD on :math:`\tilde f(x)=\frac1n\sum_if_i(\tau_ix+(1-\tau_i)x_i^\star)`, with
    :math:`\nabla\tilde f(x)=\frac1n\sum_i\tau_i\nabla f_i(\tau_ix+(1-\tau_i)x_i^\star)` (Gasanov, Khaled, Horváth,
    Richtárik, AISTATS 2022, arXiv 2111.11556).

    Parameters
    ----------
    problem
        Clients with a batched ``local_grads``.
    x0 : array (d,)
    gamma : float
        Stepsize.
    T : int
        Steps (one communication each).
    tau : array (n,) in [0, 1]
        Personalization weights.
    x_local : array (n, d)
        The clients' local minimisers :math:`x_i^\star` (:func:`flix_quadratic`).
    rng : None
        Deterministic: accepted for the common signature (a Generator is validated and unused).
    """
    gamma = positive("gamma", gamma)
    T = positive_int("T", T)
    tau = finite_array("tau", tau, ndim=1)
    if tau.shape != (problem.n,) or np.any(tau < 0) or np.any(tau > 1):
        raise InvalidInput(f"tau must be {problem.n} numbers in [0, 1] (one per client), got {tau}")
    xl = finite_array("x_local", x_local, ndim=2)
    generator(rng)
    x = np.empty((T + 1, problem.d))
    x[0] = finite_array("x0", x0, ndim=1)
    for t in range(T):
        Y = tau[:, None] * x[t] + (1 - tau[:, None]) * xl
        x[t + 1] = x[t] - gamma * (tau[:, None] * _grads(problem, Y)).mean(axis=0)
    return FlixTrajectory(
        T=T,
        x_final=x[T].copy(),
        diverged_at=_first_nonfinite(x),
        meta={"algorithm": "flix-gd"},
        gamma=gamma,
        x=x,
        comms=np.arange(T + 1.0),
        grad_calls=problem.n * T,
    )


def flix_quadratic(A, b, tau):
    r"""Exact FLIX quantities on quadratics: the local minimisers :math:`x_i^\star=A_i^{-1}b_i`, the Hessian
    :math:`\tilde A=\frac1n\sum_i\tau_i^2A_i`, its extreme eigenvalues :math:`(\tilde L,\tilde\mu)` and
    :math:`\tilde x^\star=(\sum_i\tau_i^2A_i)^{-1}\sum_i\tau_i^2A_ix_i^\star`.

    Returns ``(x_local (n, d), A_tilde (d, d), L_tilde, mu_tilde, x_tilde_star (d,))``."""
    A = finite_array("A", A, ndim=3)
    b = finite_array("b", b, ndim=2)
    tau = finite_array("tau", tau, ndim=1)
    xl = np.linalg.solve(A, b[..., None])[..., 0]
    t2 = tau**2
    At = np.einsum("n,nij->ij", t2, A) / A.shape[0]
    ev = np.linalg.eigvalsh(At)
    rhs = np.einsum("n,nij,nj->i", t2, A, xl) / A.shape[0]
    return xl, At, float(ev[-1]), float(ev[0]), np.linalg.solve(At, rhs)


def flix_value(A, b, tau, x_local, X) -> np.ndarray:
    r""":math:`\tilde f(x)=\frac1n\sum_if_i(\tau_ix+(1-\tau_i)x_i^\star)` at the points X (k, d), for quadratic
    clients :math:`f_i=\frac12x^\top A_ix-b_i^\top x` with local minimisers ``x_local``
    (:math:`f_i(y)=f_i(x_i^\star)+\frac12(y-x_i^\star)^\top A_i(y-x_i^\star)`, :math:`f_i(x_i^\star)=-\frac12b_i^\top x_i^\star`).
    Returns (k,)."""
    fi_star = 0.5 * np.einsum("ni,ni->n", b, x_local)  # -f_i(x_i*)
    Y = tau[None, :, None] * X[:, None, :] + (1 - tau)[None, :, None] * x_local[None]
    E = Y - x_local[None]
    return np.mean(0.5 * np.einsum("kni,nij,knj->kn", E, A, E) - fi_star[None], axis=1)


def flix_local_gd_weights(a, gamma: float, H: int, rule: str) -> np.ndarray:
    r"""FLIX weights matched to Local GD on isotropic clients :math:`A_i=a_iI`: with
    :math:`\varphi_H(a)=(1-(1-\gamma a)^H)/\gamma` and :math:`\psi=\varphi_H(a)/(aH)`, ``rule`` ``"psi"`` gives
    :math:`\tau_i\propto\sqrt{\psi(a_i)}`, ``"phi"`` :math:`\tau_i\propto\sqrt{\varphi_H(a_i)}`, ``"psi-linear"``
    :math:`\tau_i\propto\psi(a_i)` (largest weight 1)."""
    phi = (1 - (1 - gamma * a) ** H) / gamma
    psi = phi / (a * H)
    if rule == "psi":
        return np.sqrt(psi / psi.max())
    if rule == "phi":
        return np.sqrt(phi / phi.max())
    return psi / psi.max()
