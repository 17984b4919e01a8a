r"""Partial model personalization: FedAlt and FedSim on quadratic clients (numerics only).

Pillutla, Malik, Mohamed, Rabbat, Sanjabi, Xiao, *Federated Learning with Partial Model Personalization*,
ICML 2022, arXiv:2204.03809.  Client i has :math:`F_i(u,v_i)=\tfrac12 z_i^\top Q_iz_i+c_i^\top z_i`,
:math:`z_i=(u,v_i)`; :math:`F=\frac1n\sum_iF_i`.  One round, selected set S (|S| = m), one local step:

* FedSim: :math:`v_i^+=v_i-\gamma_v\nabla_vF_i(u,v_i)`, :math:`u^+=u-\frac{\gamma_u}m\sum_{i\in S}\nabla_uF_i(u,v_i)`;
* FedAlt: :math:`v_i^+` as above, then :math:`u^+=u-\frac{\gamma_u}m\sum_{i\in S}\nabla_uF_i(u,v_i^+)`
  (the gradient at the *updated* personal parameters); unselected clients keep :math:`v_i`.

Stochastic gradients: ``xi_u`` (..., n, d_u) and ``xi_v`` (..., n, d_v) are added to the exact per-client
gradients of a round (zero-mean noise; :func:`run` draws them Gaussian and isotropic with
:math:`\mathbb E\Vert\xi_u\Vert^2=\sigma_u^2`, :math:`\mathbb E\Vert\xi_v\Vert^2=\sigma_v^2`, the variances of
the slides' assumption 2); FedAlt's u-gradient at :math:`v_i^+` carries the v-noise through :math:`v_i^+`.

Everything is batched: a point is ``u`` of shape (..., d_u) and ``V`` of shape (..., n, d_v), the selection a
boolean mask (..., n); any leading batch shape (points, sampled sets, basis vectors) runs in one call.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from ._trajectory import Trajectory
from ._validate import InvalidInput, positive, positive_int

__all__ = [
    "QuadraticClients",
    "round_step",
    "run",
    "affine_round",
    "noise_round",
    "sampled_round_system",
    "subsets",
    "stationarity",
    "stationarity_form",
    "PersonalizationTrajectory",
]


@dataclass(frozen=True)
class QuadraticClients:
    """Quadratic clients with exact constants: ``Q`` (n, p, p) symmetric PSD, ``c`` (n, p), p = d_u + d_v."""

    Q: np.ndarray
    c: np.ndarray
    d_u: int

    @property
    def n(self) -> int:
        return self.Q.shape[0]

    @property
    def d_v(self) -> int:
        return self.Q.shape[1] - self.d_u

    def split(self, z):
        """The pair (u, V), shapes (..., d_u) and (..., n, d_v), of flat points z (..., d_u + n d_v)."""
        z = np.asarray(z, float)
        return z[..., : self.d_u], z[..., self.d_u :].reshape(z.shape[:-1] + (self.n, self.d_v))

    def join(self, u, V):
        """The flat points z = (u, v_1, ..., v_n) (..., d_u + n d_v) of the pair (u, V) (inverse of :meth:`split`)."""
        return np.concatenate([u, V.reshape(V.shape[:-2] + (-1,))], -1)

    def blocks(self):
        k = self.d_u
        return self.Q[:, :k, :k], self.Q[:, :k, k:], self.Q[:, k:, k:], self.c[:, :k], self.c[:, k:]

    def grads(self, u, V):
        r"""Per-client :math:`\nabla_uF_i` (..., n, d_u) and :math:`\nabla_vF_i` (..., n, d_v) at (u, v_i)."""
        Quu, Quv, Qvv, cu, cv = self.blocks()
        gu = np.einsum("iab,...b->...ia", Quu, u) + np.einsum("iab,...ib->...ia", Quv, V) + cu
        gv = np.einsum("iba,...b->...ia", Quv, u) + np.einsum("iab,...ib->...ia", Qvv, V) + cv
        return gu, gv

    def value(self, u, V):
        """F(u, V) = mean_i F_i(u, v_i), batched over leading axes."""
        z = np.concatenate([np.broadcast_to(u[..., None, :], V.shape[:-1] + u.shape[-1:]), V], axis=-1)
        return np.mean(
            0.5 * np.einsum("...ia,iab,...ib->...i", z, self.Q, z) + np.einsum("...ia,ia->...i", z, self.c), -1
        )

    def constants(self) -> dict:
        """L_u, L_v, L_uv (largest block spectral norms over clients), chi_uv^2 = L_uv^2/(L_u L_v), F_inf."""
        Quu, Quv, Qvv, cu, cv = self.blocks()
        L_u = float(np.max(np.linalg.norm(Quu, 2, axis=(1, 2))))
        L_v = float(np.max(np.linalg.norm(Qvv, 2, axis=(1, 2))))
        L_uv = float(np.max(np.linalg.norm(Quv, 2, axis=(1, 2))))
        u, V = self.minimizer()
        return dict(L_u=L_u, L_v=L_v, L_uv=L_uv, chi_uv=L_uv / np.sqrt(L_u * L_v), F_inf=float(self.value(u, V)))

    def minimizer(self):
        """The joint minimizer (u*, V*) of F (the joint Hessian must be positive definite)."""
        Quu, Quv, Qvv, cu, cv = self.blocks()
        n, du, dv = self.n, self.d_u, self.d_v
        P = du + n * dv
        H = np.zeros((P, P))
        H[:du, :du] = Quu.mean(0)
        for i in range(n):  # assembling the (small) joint Hessian, once per instance
            s = slice(du + i * dv, du + (i + 1) * dv)
            H[:du, s] = Quv[i] / n
            H[s, :du] = Quv[i].T / n
            H[s, s] = Qvv[i] / n
        g = np.concatenate([cu.mean(0), (cv / n).ravel()])
        z = np.linalg.solve(H, -g)
        return z[:du], z[du:].reshape(n, dv)


def round_step(
    prob: QuadraticClients, u, V, mask, *, gamma_u: float, gamma_v: float, algorithm: str, xi_u=None, xi_v=None
):
    """One round of FedSim or FedAlt for every leading batch entry at once; returns (u+, V+).  ``xi_u``, ``xi_v``:
    optional gradient noise per client (shapes (..., n, d_u), (..., n, d_v)); only the selected clients' count."""
    if algorithm not in ("fedsim", "fedalt"):
        raise InvalidInput(f"algorithm must be 'fedsim' or 'fedalt', got {algorithm!r}")
    mask = np.asarray(mask, bool)
    w = mask / mask.sum(-1, keepdims=True)
    gu, gv = prob.grads(u, V)
    if xi_v is not None:
        gv = gv + xi_v
    Vn = np.where(mask[..., None], V - gamma_v * gv, V)
    if algorithm == "fedalt":
        gu, _ = prob.grads(u, Vn)
    if xi_u is not None:
        gu = gu + xi_u
    return u - gamma_u * np.einsum("...i,...ia->...a", w, gu), Vn


def stationarity(prob: QuadraticClients, u, V, L_u: float, L_v: float):
    r""":math:`\mathcal M=\Vert\nabla_uF\Vert^2/L_u+\frac1{nL_v}\sum_i\Vert\nabla_vF_i\Vert^2` (note
    :math:`\nabla_vF_i=n\nabla_{v_i}F`)."""
    gu, gv = prob.grads(u, V)
    return np.sum(gu.mean(-2) ** 2, -1) / L_u + np.sum(gv**2, (-2, -1)) / (prob.n * L_v)


@dataclass(kw_only=True)
class PersonalizationTrajectory(Trajectory):
    r"""What a FedSim / FedAlt run (:func:`run`) records, per round t = 0..T (the last axis; leading axes: the
    replications).

    ``T`` is the number of rounds, ``x_final`` the last point :math:`z_T=(u_T,v_{1,T},\dots,v_{n,T})` flattened
    ((..., d_u + n d_v); :meth:`QuadraticClients.split` gives (u, V)), ``diverged_at`` the first round whose
    stationarity or value is not finite in some replication (None when all are), ``meta`` the algorithm and the
    clients per round.

    Attributes
    ----------
    stationarity : ndarray (..., T + 1)
        :math:`\mathcal M_t` (:func:`stationarity`) of the iterates.
    values : ndarray (..., T + 1)
        :math:`F(z_t)`.
    """

    SERIES = ("stationarity", "values")

    stationarity: np.ndarray
    values: np.ndarray


def run(
    problem,
    x0,
    *,
    gamma_u,
    gamma_v,
    T,
    rng,
    m=None,
    algorithm="fedsim",
    L_u=1.0,
    L_v=1.0,
    sigma_u=0.0,
    sigma_v=0.0,
    replications=None,
) -> PersonalizationTrajectory:
    r"""T rounds of FedSim or FedAlt with m clients sampled uniformly without replacement per round (m = n: full
    participation) and Gaussian gradient noise of total variances ``sigma_u**2``, ``sigma_v**2`` per client
    gradient.

    Parameters
    ----------
    problem : QuadraticClients
    x0 : pair (u0, V0) or array (d_u + n d_v,)
        The start point: shared parameters (d_u,) and personal ones (n, d_v), or both flattened
        (:meth:`QuadraticClients.join`).
    gamma_u, gamma_v : float
        The stepsizes of the shared and the personal parameters (the method has two).
    T : int
        Rounds.
    rng : numpy Generator
        Client selection and gradient noise.
    m : int, optional
        Clients selected per round (at most n; None: all).
    algorithm : {'fedsim', 'fedalt'}
    L_u, L_v : float
        The constants of the stationarity measure :math:`\mathcal M` that is recorded.
    sigma_u, sigma_v : float
        Gradient noise (>= 0).
    replications : int, optional
        ``R`` independent copies at once (a leading batch axis on every array: states (R, ...), masks (R, n));
        the trajectory's arrays are then (R, T + 1).  Monte Carlo estimates of the exact expectations of
        :func:`affine_round` / :func:`noise_round`.

    Returns
    -------
    PersonalizationTrajectory

    References
    ----------
    Pillutla, Malik, Mohamed, Rabbat, Sanjabi, Xiao, *Federated Learning with Partial Model Personalization*,
    ICML 2022, Algorithms 1 (FedAlt) and 2 (FedSim).
    """
    T = positive_int("T", T)
    positive("gamma_u", gamma_u), positive("gamma_v", gamma_v)
    n, du, dv = problem.n, problem.d_u, problem.d_v
    m = n if m is None else positive_int("m", m)
    if m > n:
        raise InvalidInput(f"m must be at most n = {n}, got {m}")
    for name, val in (("sigma_u", sigma_u), ("sigma_v", sigma_v)):
        if not (np.isfinite(val) and val >= 0):
            raise InvalidInput(f"{name} must be a finite number >= 0, got {val!r}")
    if isinstance(x0, tuple | list) and len(x0) == 2:
        u0, V0 = x0
    elif np.shape(x0) == (du + n * dv,):
        u0, V0 = problem.split(x0)
    else:
        u0 = V0 = None
    if np.shape(u0) != (du,) or np.shape(V0) != (n, dv):
        raise InvalidInput(
            f"x0 must be a pair (u0, V0) of shapes ({du},) and ({n}, {dv}) or a flat array of shape "
            f"({du + n * dv},), got {x0!r:.80}"
        )
    R = () if replications is None else (positive_int("replications", replications),)
    u = np.broadcast_to(np.array(u0, float), R + (du,)).copy()
    V = np.broadcast_to(np.array(V0, float), R + (n, dv)).copy()
    Ms, Fs = np.empty(R + (T + 1,)), np.empty(R + (T + 1,))
    for t in range(T + 1):  # a loop over rounds only
        Ms[..., t], Fs[..., t] = stationarity(problem, u, V, L_u, L_v), problem.value(u, V)
        if t < T:
            if m == n:
                mask = np.ones(R + (n,), bool)
            else:
                keys = rng.random(R + (n,))
                mask = keys <= np.partition(keys, m - 1, axis=-1)[..., m - 1 : m]
            xi_u = sigma_u / np.sqrt(du) * rng.standard_normal(R + (n, du)) if sigma_u > 0 else None
            xi_v = sigma_v / np.sqrt(dv) * rng.standard_normal(R + (n, dv)) if sigma_v > 0 else None
            u, V = round_step(
                problem, u, V, mask, gamma_u=gamma_u, gamma_v=gamma_v, algorithm=algorithm, xi_u=xi_u, xi_v=xi_v
            )
    blown = ~(np.isfinite(Ms) & np.isfinite(Fs)).reshape(-1, T + 1).all(0)
    return PersonalizationTrajectory(
        T=T,
        x_final=problem.join(u, V),
        diverged_at=int(np.argmax(blown)) if blown.any() else None,
        meta={"algorithm": algorithm, "clients_per_round": m},
        stationarity=Ms,
        values=Fs,
    )


def subsets(n: int, m: int) -> np.ndarray:
    """All C(n, m) selections as boolean masks (K, n), each of probability 1/K."""
    out = np.zeros((len(list(itertools.combinations(range(n), m))), n), bool)
    for k, s in enumerate(itertools.combinations(range(n), m)):
        out[k, list(s)] = True
    return out


def affine_round(prob: QuadraticClients, masks, *, gamma_u, gamma_v, algorithm):
    r"""The round as affine maps of the augmented state :math:`\tilde z=(u,v_1..v_n,1)`: array (K, P+1, P+1),
    P = d_u + n d_v, one per mask (computed by applying the round to the basis, all masks at once)."""
    du, n, dv = prob.d_u, prob.n, prob.d_v
    P = du + n * dv
    K = masks.shape[0]
    E = np.eye(P + 1)  # columns: basis states; the last entry is the constant 1
    lin = E[:, :P]
    u = np.broadcast_to(lin[:, :du], (K, P + 1, du))
    V = np.broadcast_to(lin[:, du:].reshape(P + 1, n, dv), (K, P + 1, n, dv))
    scaled = QuadraticClients(prob.Q, prob.c * 0.0, du)
    un, Vn = round_step(scaled, u, V, masks[:, None, :], gamma_u=gamma_u, gamma_v=gamma_v, algorithm=algorithm)
    zero_u, zero_V = np.zeros((K, du)), np.zeros((K, n, dv))
    ou, oV = round_step(prob, zero_u, zero_V, masks, gamma_u=gamma_u, gamma_v=gamma_v, algorithm=algorithm)
    A = np.zeros((K, P + 1, P + 1))
    A[:, :P, :P] = np.concatenate([un, Vn.reshape(K, P + 1, n * dv)], -1)[:, :P].transpose(0, 2, 1)
    A[:, :P, P] = np.concatenate([ou, oV.reshape(K, n * dv)], -1)
    A[:, P, P] = 1.0
    return A


def noise_round(prob: QuadraticClients, masks, *, gamma_u, gamma_v, algorithm, sigma_u, sigma_v):
    r"""Covariances (K, P+1, P+1) of the noise a round adds to the augmented state, one per mask.

    The round is affine in the gradient noise :math:`\xi=(\xi_{u,i},\xi_{v,i})_i` (isotropic, total variances
    ``sigma_u**2``, ``sigma_v**2`` per client), :math:`\tilde z^+=A_S\tilde z+N_S\xi`; the columns of
    :math:`N_S` are the round applied to each basis noise at the zero state of the clients without linear terms
    (all masks and basis vectors in one batched call), and the covariance is :math:`N_SDN_S^\top`."""
    du, n, dv = prob.d_u, prob.n, prob.d_v
    P, Nu, Nv = du + n * dv, n * du, n * dv
    K = masks.shape[0]
    E = np.eye(Nu + Nv)
    xi_u = np.broadcast_to(E[:, :Nu].reshape(Nu + Nv, n, du), (K, Nu + Nv, n, du))
    xi_v = np.broadcast_to(E[:, Nu:].reshape(Nu + Nv, n, dv), (K, Nu + Nv, n, dv))
    zero = QuadraticClients(prob.Q, prob.c * 0.0, du)
    un, Vn = round_step(
        zero,
        np.zeros((K, Nu + Nv, du)),
        np.zeros((K, Nu + Nv, n, dv)),
        masks[:, None, :],
        gamma_u=gamma_u,
        gamma_v=gamma_v,
        algorithm=algorithm,
        xi_u=xi_u,
        xi_v=xi_v,
    )
    N = np.zeros((K, P + 1, Nu + Nv))
    N[:, :P] = np.concatenate([un, Vn.reshape(K, Nu + Nv, Nv)], -1).transpose(0, 2, 1)
    D = np.concatenate([np.full(Nu, sigma_u**2 / du), np.full(Nv, sigma_v**2 / dv)])
    return np.einsum("kab,b,kcb->kac", N, D, N)


def sampled_round_system(prob: QuadraticClients, m: int, *, gamma_u, gamma_v, algorithm, sigma_u=0.0, sigma_v=0.0):
    r"""One round with m of the n clients sampled uniformly without replacement, as the random affine recursion
    :math:`\tilde z^+=A_S\tilde z+N_S\xi` of the augmented state :math:`\tilde z=(u,v_1..v_n,1)`.

    Returns the maps :math:`A_S` (K, P+1, P+1) of the K = C(n, m) sets (:func:`affine_round`), their
    probabilities (1/K each) and the covariances of the gradient noise (:func:`noise_round`; None when
    ``sigma_u = sigma_v = 0``): what an exact second-moment engine propagates (no Monte Carlo)."""
    S = subsets(prob.n, m)
    A = affine_round(prob, S, gamma_u=gamma_u, gamma_v=gamma_v, algorithm=algorithm)
    C = None
    if sigma_u > 0 or sigma_v > 0:
        C = noise_round(
            prob, S, gamma_u=gamma_u, gamma_v=gamma_v, algorithm=algorithm, sigma_u=sigma_u, sigma_v=sigma_v
        )
    return A, np.full(len(S), 1 / len(S)), C


def stationarity_form(prob: QuadraticClients, L_u: float, L_v: float) -> np.ndarray:
    r"""Matrix W with :math:`\mathcal M=\tilde z^\top W\tilde z` on the augmented state (gradients are affine)."""
    du, n, dv = prob.d_u, prob.n, prob.d_v
    P = du + n * dv
    E = np.eye(P + 1)
    u, V = E[:, :du], E[:, du:P].reshape(P + 1, n, dv)
    zero = QuadraticClients(prob.Q, prob.c * 0.0, du)
    gu, gv = zero.grads(u, V)  # linear parts, rows = basis states
    gu0, gv0 = prob.grads(np.zeros(du), np.zeros((n, dv)))
    G = np.concatenate([gu.mean(-2), gv.reshape(P + 1, n * dv)], -1)  # (P+1, du + n dv)
    G[P] = np.concatenate([gu0.mean(0), gv0.ravel()])  # the constant column
    D = np.concatenate([np.full(du, 1 / L_u), np.full(n * dv, 1 / (n * L_v))])
    return (G * D) @ G.T
