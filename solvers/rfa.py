r"""Robust federated aggregation (RFA) rounds on heterogeneous quadratic clients (numerics only).

Pillutla, Kakade, Harchaoui, *Robust Aggregation for Federated Learning*, IEEE TSP 70 (2022), arXiv:1912.13445.
Good client j has :math:`F_j(w)=\frac12(w-w_j^\star)^\top H_j(w-w_j^\star)` with diagonal :math:`H_j` (the
population limit of least squares with independent features), stored as rows of ``H`` (n, d).  A round: every
selected client runs K exact gradient steps from the server model,
:math:`w_j^+=w_j^\star+(I-\gamma H_j)^K(w-w_j^\star)` (all clients at once, closed form); corrupted clients
send what the adversary chooses; the server aggregates with the mean (FedAvg) or an approximate geometric
median by the batched smoothed Weiszfeld solver (:func:`solvers.weiszfeld.smoothed_weiszfeld`, reused).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._trajectory import Trajectory
from ._validate import InvalidInput, positive, positive_int
from .weiszfeld import omniscient_corruption, smoothed_weiszfeld

__all__ = [
    "ADVERSARIES",
    "local_updates",
    "corrupt",
    "rfa",
    "ByzantineRFATrajectory",
    "global_optimum",
    "select_clients",
]

ADVERSARIES = ("scaled-mean", "sign-flip", "omniscient")


def global_optimum(H, wstar) -> np.ndarray:
    r""":math:`w^\star=H^{-1}\frac1n\sum_jH_jw_j^\star` over the good clients (diagonal H_j: per coordinate)."""
    H, wstar = np.asarray(H, float), np.asarray(wstar, float)
    return (H * wstar).sum(0) / H.sum(0)


def local_updates(H, wstar, w, *, gamma: float, K: int) -> np.ndarray:
    """Models after K exact local GD steps from the server model w (shape (n, d)), closed form, all clients."""
    return wstar + (1.0 - gamma * H) ** K * (w - wstar)


def corrupt(U, corrupted, adversary: str, rng, reference=None) -> np.ndarray:
    r"""Replace the corrupted rows of the updates ``U`` (n, d): ``'scaled-mean'`` sends
    :math:`-3\bar X+10\,\mathcal N(0,I)`, ``'sign-flip'`` :math:`-100\bar X` (:math:`\bar X` the mean of the
    good updates), ``'omniscient'`` RFA's omniscient adversary (:func:`solvers.weiszfeld.omniscient_corruption`).

    When every row is corrupted there is no good update to imitate; :math:`\bar X` is then ``reference``
    (the server model the round started from, which every client knows; [reconstructed]: the papers' adversaries
    always see a good update), or zero when it is not given -- never the NaN of an empty mean."""
    c = np.asarray(corrupted, bool)
    if adversary not in ADVERSARIES:
        raise InvalidInput(f"adversary must be one of {ADVERSARIES}, got {adversary!r}")
    if not c.any():
        return U
    if adversary == "omniscient":
        return omniscient_corruption(U, c)
    U = U.copy()
    if c.all():
        good_mean = np.zeros(U.shape[1]) if reference is None else np.asarray(reference, dtype=float)
    else:
        good_mean = U[~c].mean(0)
    if adversary == "sign-flip":
        U[c] = -100.0 * good_mean
    else:
        U[c] = -3.0 * good_mean + 10.0 * rng.standard_normal((int(c.sum()), U.shape[1]))
    return U


@dataclass(kw_only=True)
class ByzantineRFATrajectory(Trajectory):
    r"""What a run of RFA / FedAvg with client sampling under corruption (:func:`rfa`) records.

    ``T`` is the number of rounds, ``x_final`` the last server model :math:`w_T` (d,), ``diverged_at`` the first
    round t whose model :math:`w_t` is not finite (None when all are), ``meta`` the algorithm and its discrete
    options.

    Attributes
    ----------
    eps : ndarray (T,)
        Per round t = 0..T-1, the normalized geometric-median objective gap of the aggregate against a polished
        reference, :math:`g(w_{t+1})-g(\mathrm{ref})\ge0` (0 for the mean); a series.
    vartheta : ndarray (T,)
        Per round, the corrupted fraction among the selected clients; a series.
    w : ndarray (T + 1, d)
        The server models :math:`w_0..w_T`, one row per round (the round is the first axis, as for the rows of
        the problem; not a series).
    selected : ndarray of bool (T, n)
        The selection masks, one row per round (not a series).
    """

    SERIES = ("eps", "vartheta")

    w: np.ndarray
    eps: np.ndarray
    vartheta: np.ndarray
    selected: np.ndarray


def select_clients(rng, n: int, m: int, T: int) -> np.ndarray:
    """T independent uniform selections of m of n clients without replacement, as boolean masks (T, n) drawn in
    one call (the m smallest of n uniform keys per round)."""
    if m >= n:
        return np.ones((T, n), bool)
    keys = rng.random((T, n))
    return keys <= np.partition(keys, m - 1, axis=1)[:, m - 1 : m]


def rfa(
    problem,
    x0,
    *,
    gamma,
    T,
    rng,
    K=3,
    corrupted=None,
    adversary="scaled-mean",
    aggregator="gm",
    budget=10,
    nu=1e-6,
    polish=200,
    K_schedule=None,
    m=None,
    eps_gm=0.0,
) -> ByzantineRFATrajectory:
    r"""T rounds of RFA (``aggregator='gm'``) or FedAvg (``'mean'``), with client sampling.

    Round t: the server selects m of the n clients uniformly without replacement (all when ``m`` is None);
    every selected good client runs K exact local GD steps from :math:`w_t` (closed form, all at once); the
    selected corrupted clients send what the adversary chooses (it sees the selected good updates); the server
    aggregates the m updates.  ``eps_gm > 0`` models an :math:`\varepsilon`-approximate geometric median: the
    aggregate is moved by ``eps_gm`` along a fixed unit direction (drawn once from ``rng``); the normalized
    objective :math:`g(z)=\frac1m\sum_k\Vert z-u_k\Vert` is 1-Lipschitz, so this adds at most ``eps_gm`` to the gap.

    Parameters
    ----------
    problem : tuple (H, wstar)
        Diagonal curvatures (n, d) and local optima (n, d) of all clients (rows of corrupted clients are ignored
        except through what the adversary sends).
    x0 : array (d,)
    gamma : float
        Local stepsize.
    T : int
        Rounds.
    rng : numpy Generator
        Client selection, the adversary's noise and the direction of ``eps_gm``.
    K : int
        Local steps per round (``K_schedule(t)`` overrides it, e.g. ``lambda t: 2**t``).
    corrupted : bool array (n,), optional
    adversary : str
        See :func:`corrupt`.
    aggregator : {'gm', 'mean'}
    budget : int
        Smoothed Weiszfeld iterations of the aggregate (from the mean).
    nu : float
        Smoothing of the Weiszfeld solver.
    polish : int
        Iterations of the reference median used to report ``eps`` (a reference above g* makes eps smaller:
        the bound it enters is then harder, never easier, to meet).
    m : int, optional
        Clients selected per round (at most n; None: all).
    eps_gm : float
        Displacement of the aggregate (an ``eps_gm``-approximate median; 0: none).

    Returns
    -------
    ByzantineRFATrajectory
        ``T`` rounds; the models :math:`w_0..w_T`, per round the median gap ``eps`` and the corrupted fraction
        ``vartheta`` of the selected, the selection masks.

    References
    ----------
    Pillutla, Kakade, Harchaoui, *Robust Aggregation for Federated Learning*, IEEE TSP 70 (2022), Algorithm 2
    (RFA with client sampling and local steps).
    """
    H, wstar = (np.asarray(a, float) for a in problem)
    if H.shape != wstar.shape or H.ndim != 2:
        raise InvalidInput(f"problem must be (H, wstar) of equal shapes (n, d), got {H.shape} and {wstar.shape}")
    gamma, T, budget = positive("gamma", gamma), positive_int("T", T), positive_int("budget", budget)
    if aggregator not in ("gm", "mean"):
        raise InvalidInput(f"aggregator must be 'gm' or 'mean', got {aggregator!r}")
    n, d = H.shape
    m = n if m is None else positive_int("m", m)
    if m > n:
        raise InvalidInput(f"m must be at most the number of clients n = {n}, got {m}")
    if not (np.isfinite(eps_gm) and eps_gm >= 0):
        raise InvalidInput(f"eps_gm must be a finite number >= 0, got {eps_gm!r}")
    c = np.zeros(n, bool) if corrupted is None else np.asarray(corrupted, bool)
    sel = select_clients(rng, n, m, T)
    direction = np.zeros(d)
    if eps_gm > 0:
        direction = rng.standard_normal(d)
        direction /= np.linalg.norm(direction)
    w = np.array(x0, float)
    ws, eps = np.empty((T + 1, d)), np.zeros(T)
    ws[0] = w
    for t in range(T):  # a loop over rounds only
        k = K if K_schedule is None else int(K_schedule(t))
        s = sel[t]
        U = corrupt(local_updates(H[s], wstar[s], w, gamma=gamma, K=k), c[s], adversary, rng, reference=w)
        if aggregator == "mean":
            w = U.mean(0)
        else:
            w = smoothed_weiszfeld(U, nu=nu, T=budget).z + eps_gm * direction
            ref = smoothed_weiszfeld(U, nu=nu, T=polish).z
            g = np.linalg.norm(U - w, axis=1).mean() - np.linalg.norm(U - ref, axis=1).mean()
            eps[t] = max(g, 0.0)
        ws[t + 1] = w
    blown = ~np.isfinite(ws).all(1)
    return ByzantineRFATrajectory(
        T=T,
        x_final=w,
        diverged_at=int(np.argmax(blown)) if blown.any() else None,
        meta={
            "algorithm": "rfa" if aggregator == "gm" else "fedavg",
            "adversary": adversary,
            "local_steps": K if K_schedule is None else "schedule",
            "clients_per_round": m,
        },
        w=ws,
        eps=eps,
        vartheta=(sel & c).sum(1) / m,
        selected=sel,
    )
