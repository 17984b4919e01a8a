r"""EF21 and EF21-W, with partial participation and stochastic gradients, all clients at once.

EF21 (Richtárik, Sokolov, Fatkhullin 2021, Algorithm 1) and its weighted form EF21-W (Error
Feedback Reloaded, 2024):

.. math::
    x^{t+1}=x^t-\gamma g^t,\qquad
    c_i^t=\mathcal C\Big(\tfrac{1}{nw_i}\nabla f_i(x^{t+1})-g_i^t\Big),\qquad
    g_i^{t+1}=g_i^t+c_i^t,\qquad g^{t+1}=g^t+\sum_iw_ic_i^t,

with :math:`w_i=1/n` for EF21 and :math:`w_i=L_i/\sum_jL_j` for EF21-W.  Per-client state lives
in arrays of shape ``(R, n, d)`` where ``R`` counts independent Monte Carlo replications, so one
call runs every client of every replication with a handful of array operations per round.

One function serves dense and sparse data: given a :class:`solvers.rare_features.SparseFederated`
problem, :func:`ef21` runs the support-restricted kernel of :mod:`solvers.rare_features` (state on
the clients' feature supports, Top-k within each support), which is a different data layout, not a
different algorithm; merging the two kernels would make the dense one pay the segment bookkeeping
(and the sparse one densify), so they stay two kernels behind this one entry point.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._trajectory import Trajectory
from ._validate import InvalidInput, finite_array, generator, positive, positive_int
from .compressors import Compressor, TopK
from .problems import Problem
from .rare_features import Accounting, SparseFederated, SparseTrajectory, ef21_support

__all__ = [
    "EF21Trajectory",
    "ef21",
    "lyapunov_weights",
    "rounds_to",
    "clone_counts",
    "sampled_clone_qm",
    "clone_qm_samples",
]


@dataclass(kw_only=True)
class EF21Trajectory(Trajectory):
    """What a dense EF21 run records.

    Attributes
    ----------
    grad_norm_sq, f : ndarray, shape (R, T+1)
        :math:`\\Vert\\nabla f(x^t)\\Vert^2` and :math:`f(x^t)` for t = 0..T (exact, full gradient).
    G : dict of name -> ndarray (R, T+1)
        Weighted gradient-estimate errors :math:`\\sum_ic_i\\Vert g_i^t-u_i(x^t)\\Vert^2` for each
        requested weighting ``c`` (``u_i`` is the client's exact target).
    floats, bits : ndarray, shape (T+1,)
        Cumulative uplink floats / bits per client (averaged over clients and replications).
    x_checkpoints : ndarray (R, K, d) at the iterations ``checkpoints``.
    diverged_at : int or None
        First iteration whose values overflowed; later entries are ``inf``.
    """

    SERIES = ("grad_norm_sq", "f", "floats", "bits")

    gamma: float
    grad_norm_sq: np.ndarray
    f: np.ndarray
    G: dict
    floats: np.ndarray
    bits: np.ndarray
    checkpoints: np.ndarray
    x_checkpoints: np.ndarray

    def running_mean(self, T: int | None = None) -> np.ndarray:
        r"""Running means :math:`\frac1{T'}\sum_{t<T'}\Vert\nabla f(x^t)\Vert^2` for :math:`T'=1..T`
        (default: all rounds), shape (R, T): the left side of the nonconvex theorems (EF21, Theorem 1)."""
        T = self.T if T is None else T
        return np.cumsum(self.grad_norm_sq[:, :T], axis=1) / np.arange(1, T + 1)

    def lyapunov(self, f_low: float, weight: float, name: str) -> np.ndarray:
        r""":math:`\Psi^t=f(x^t)-f_{low}+w\,G^t` with the recorded weighting ``name`` of :math:`G`, shape
        (R, T+1): the PŁ Lyapunov function with :math:`w=\gamma/\theta` (inf past a divergence)."""
        with np.errstate(over="ignore", invalid="ignore"):
            return self.f - f_low + weight * self.G[name]


def ef21(
    problem: Problem | SparseFederated,
    x0,
    *,
    gamma: float,
    T: int,
    compressor: Compressor,
    rng: np.random.Generator | None = None,
    weights=None,
    init: str = "grad",
    participation=None,
    noise=None,
    replications: int = 1,
    lyapunov: dict | None = None,
    checkpoints=(),
    bits_per_float: int = 32,
    count_indices: bool = True,
    accounting: Accounting | None = None,
    stop_below: float | None = None,
) -> EF21Trajectory | SparseTrajectory:
    r"""Run EF21 (``weights=None``) or EF21-W (``weights`` = array :math:`w`, e.g. ``L_i/sum L``).

    Parameters
    ----------
    problem : Problem or SparseFederated
        Dense data run the ``(R, n, d)`` kernel below; a :class:`~solvers.rare_features.SparseFederated`
        runs the support-restricted kernel (:func:`solvers.rare_features.ef21_support`, one
        deterministic run, ``compressor`` must be :class:`~solvers.compressors.TopK`, uplink
        accounting by ``accounting``, optional ``stop_below``; returns a
        :class:`~solvers.rare_features.SparseTrajectory`).
    x0 : array (d,)
    gamma : float
        Stepsize (> 0).
    T : int
        Number of rounds (>= 1).
    compressor : Compressor
    rng : numpy.random.Generator, optional
        Source of all randomness (compressor, participation, noise); required when the run draws
        random numbers.
    weights : array (n,), optional
        EF21-W weights, positive and summing to one; client targets become
        :math:`\nabla f_i/(nw_i)`.
    init : {"grad", "zero", "compressed"}
        :math:`g_i^0` = exact target (so :math:`G^0=0`, one uncompressed round), zero, or its
        compression.
    participation : float or array (n,), optional
        Independent participation probabilities :math:`p_i\in(0,1]` (EF21-PP): non-participants
        keep :math:`g_i` and send nothing.
    noise : array (n,), optional
        Stochastic gradients: client i adds fresh Gaussian noise with
        :math:`\mathbb E\Vert\xi_i\Vert^2=` ``noise[i]`` each round (unbiased, bounded variance).
    replications : int
        Independent runs carried together (Monte Carlo); randomness differs per replication.
    lyapunov : dict name -> array (n,), optional
        Weightings :math:`c` for which :math:`\sum_ic_i\Vert g_i^t-u_i(x^t)\Vert^2` is recorded.
    checkpoints : iterable of int
        Iterations at which the iterate is stored.
    bits_per_float, count_indices :
        Communication accounting (see :meth:`Compressor.bits`); the initial round of
        ``init="grad"`` costs d floats per client and is counted (dense data).
    accounting, stop_below :
        Sparse data only (see :func:`solvers.rare_features.ef21_support`).
    """
    reset = getattr(compressor, "reset", None)
    if reset is not None:  # a stateful compressor (ScaledIdentity's schedule) starts every run at its first step
        reset()
    if isinstance(problem, SparseFederated):
        generator(rng)  # the sparse kernel is deterministic (Top-k); a wrong rng is still refused
        dense_only = dict(
            weights=weights is not None,
            participation=participation is not None,
            noise=noise is not None,
            replications=replications != 1,
            checkpoints=bool(len(checkpoints)),
            bits_per_float=bits_per_float != 32,
            count_indices=count_indices is not True,
        )
        used = [name for name, given in dense_only.items() if given]
        if used:
            raise InvalidInput(
                f"{', '.join(used)} apply to dense data only; sparse data run one deterministic EF21 "
                "(uplink accounting via accounting=Accounting(...))"
            )
        if not isinstance(compressor, TopK):
            raise InvalidInput(f"compressor must be TopK(k) on sparse data, got {compressor!r}")
        return ef21_support(
            problem,
            x0,
            gamma=gamma,
            T=T,
            k=compressor.k,
            init=init,
            lyapunov=lyapunov,
            accounting=accounting,
            stop_below=stop_below,
        )
    if accounting is not None or stop_below is not None:
        raise InvalidInput("accounting and stop_below apply to sparse data (a SparseFederated problem) only")
    gamma = positive("gamma", gamma)
    T = positive_int("T", T)
    R = positive_int("replications", replications)
    n, d = problem.n, problem.d
    x0 = finite_array("x0", x0, ndim=1)
    if x0.shape != (d,):
        raise InvalidInput(f"x0 must have shape ({d},), got {x0.shape}")
    if not isinstance(compressor, Compressor):
        raise InvalidInput(f"compressor must be a solvers.compressors.Compressor, got {type(compressor).__name__}")
    compressor.alpha(d)  # validates k <= d
    if init not in ("grad", "zero", "compressed"):
        raise InvalidInput(f"init must be 'grad', 'zero' or 'compressed', got {init!r}")
    if weights is None:
        w = np.full(n, 1.0 / n)
    else:
        w = finite_array("weights", weights, ndim=1)
        if w.shape != (n,) or np.any(w <= 0) or abs(w.sum() - 1) > 1e-12 * n:
            raise InvalidInput(f"weights must be {n} positive numbers summing to 1")
    scale = 1.0 / (n * w)  # target u_i = scale_i * grad f_i
    unweighted = weights is None
    p = None
    if participation is not None:
        p = np.broadcast_to(finite_array("participation", participation), (n,)).copy()
        if np.any(p <= 0) or np.any(p > 1):
            raise InvalidInput("participation probabilities must lie in (0, 1]")
    sig = None
    if noise is not None:
        sig = np.broadcast_to(finite_array("noise", noise), (n,)).copy()
        if np.any(sig < 0):
            raise InvalidInput("noise variances must be >= 0")
        sig = np.sqrt(sig / d)  # per-coordinate standard deviation
    lyap = {k: finite_array(f"lyapunov[{k!r}]", v, ndim=1) for k, v in (lyapunov or {}).items()}
    for k, v in lyap.items():
        if v.shape != (n,):
            raise InvalidInput(f"lyapunov[{k!r}] must have shape ({n},), got {v.shape}")
    cps = np.array(sorted(set(int(c) for c in checkpoints)), dtype=int)
    if cps.size and (cps[0] < 0 or cps[-1] > T):
        raise InvalidInput(f"checkpoints must lie in [0, T={T}]")
    rng = generator(rng, "participation" if p is not None else ("noise" if sig is not None else None))

    gns = np.full((R, T + 1), np.inf)
    fs = np.full((R, T + 1), np.inf)
    Gs = {k: np.full((R, T + 1), np.inf) for k in lyap}
    floats = np.zeros(T + 1)
    bits = np.zeros(T + 1)
    xcp = np.zeros((R, cps.size, d))
    msg_floats = compressor.floats(d)
    msg_bits = compressor.bits(d, bits_per_float, count_indices)

    X = np.broadcast_to(x0, (R, d)).copy()
    vals, grads = problem.value_and_grad(X)
    U = grads if unweighted else grads * scale[:, None]
    if init == "grad":
        Gi = U.copy()
        floats[0], bits[0] = d, d * bits_per_float
    elif init == "zero":
        Gi = np.zeros_like(U)
    else:
        Gi = compressor(U, rng)
        floats[0], bits[0] = msg_floats, msg_bits
    g = np.einsum("n,rnd->rd", w, Gi)

    def record(t: int) -> bool:
        full = np.einsum("rnd->rd", grads) / n
        gn = np.einsum("rd,rd->r", full, full)
        if not np.isfinite(gn).all():
            return False
        gns[:, t] = gn
        np.divide(np.add.reduce(vals, axis=1), n, out=fs[:, t])  # vals.mean(axis=1), without its dispatch
        if lyap:
            E = Gi - U
            e = np.einsum("rnd,rnd->rn", E, E)
            for k, c in lyap.items():
                Gs[k][:, t] = e @ c
        return True

    cp_pos = {int(c): j for j, c in enumerate(cps)}
    diverged = None
    with np.errstate(over="ignore", invalid="ignore"):
        record(0)
        if 0 in cp_pos:
            xcp[:, cp_pos[0]] = X
        rows = (np.arange(R) * d)[:, None, None]
        # flat offsets of each client's row: a sparsifier's (R, n, k) indices become positions in the raveled state
        # (plain fancy indexing: the same elements as take/put_along_axis, without their per-call index building)
        base = (np.arange(R * n) * d).reshape(R, n, 1)
        Gi = np.ascontiguousarray(Gi)
        G_flat = Gi.reshape(-1)  # a view: updates through it are updates of Gi
        D, scratch = np.empty_like(Gi), np.empty_like(Gi)  # reused every round: no allocation in the loop
        D_flat = D.reshape(-1)
        for t in range(T):
            X -= gamma * g
            vals, grads = problem.value_and_grad(X)
            U = grads if unweighted else grads * scale[:, None]
            np.subtract(U, Gi, out=D)
            if sig is not None:
                D += rng.standard_normal(U.shape) * (sig * scale)[:, None]
            mask = rng.random((R, n)) < p if p is not None else None
            sent = float(mask.mean()) if mask is not None else 1.0
            idx = compressor.select(D, rng, scratch)
            if idx is not None:  # sparsifier: O(n k) state updates
                flat = (base + idx).reshape(-1)
                v = D_flat[flat].reshape(idx.shape)
                if mask is not None:
                    v *= mask[:, :, None]
                G_flat[flat] += v.reshape(-1)  # a row's k indices are distinct: no repeated position
                g += np.bincount((rows + idx).ravel(), weights=(v * w[None, :, None]).ravel(), minlength=R * d).reshape(
                    R, d
                )
            else:
                C = compressor(D, rng)
                if mask is not None:
                    C *= mask[:, :, None]
                Gi += C
                g += np.einsum("n,rnd->rd", w, C)
            floats[t + 1] = floats[t] + sent * msg_floats
            bits[t + 1] = bits[t] + sent * msg_bits
            if t + 1 in cp_pos:
                xcp[:, cp_pos[t + 1]] = X
            if not record(t + 1):
                diverged = t + 1
                floats[t + 2 :] = floats[t + 1] + np.arange(1, T - t) * msg_floats
                bits[t + 2 :] = bits[t + 1] + np.arange(1, T - t) * msg_bits
                break
    return EF21Trajectory(
        gamma=gamma,
        T=T,
        grad_norm_sq=gns,
        f=fs,
        G=Gs,
        floats=floats,
        bits=bits,
        x_final=X,
        checkpoints=cps,
        x_checkpoints=xcp,
        diverged_at=diverged,
        meta={
            "compressor": compressor.name,
            "algorithm": "ef21" if weights is None else "ef21-w",
            "init": init,
            "replications": R,
        },
    )


def lyapunov_weights(L_i, L_am: float) -> dict:
    r"""The weightings :math:`c` of :math:`G^t=\sum_ic_i\Vert g_i^t-u_i(x^t)\Vert^2` in the EF21 analyses:
    ``qm`` :math:`1/n` (Richtárik et al. 2021), ``am`` :math:`L_{am}/(nL_i)` and ``w`` :math:`L_i/\sum_jL_j`
    (EF21-W, Error Feedback Reloaded 2024); ``w`` is also EF21-W's aggregation weight."""
    L_i = np.asarray(L_i, dtype=float)
    n = L_i.size
    return {"qm": np.full(n, 1.0 / n), "am": L_am / (n * L_i), "w": L_i / L_i.sum()}


def rounds_to(grad_norm_sq: np.ndarray, target: float) -> float:
    """First iteration t with ||grad f(x^t)||^2 <= target (inf if never)."""
    hit = np.flatnonzero(grad_norm_sq <= target)
    return float(hit[0]) if hit.size else float("inf")


def clone_counts(L_i, L_am: float) -> np.ndarray:
    r"""Clone counts :math:`N_i=\lceil L_i/L_{am}\rceil` (Error Feedback Reloaded, the cloning argument), with a
    :math:`10^{-12}` guard so that an :math:`L_i` equal to :math:`L_{am}` up to rounding is not cloned twice."""
    return np.ceil(np.asarray(L_i) / L_am - 1e-12).astype(int)


def sampled_clone_qm(rng: np.random.Generator, K: int = 300, n_max: int = 50) -> tuple[np.ndarray, np.ndarray]:
    r"""The quadratic mean :math:`M_{qm}=\sqrt{\frac{\sum_iN_i}{n^2}\sum_iL_i^2/N_i}` of the cloned problem
    (:math:`N_i=\lceil L_i/L_{am}\rceil`) for ``K`` random constant vectors, and their :math:`L_{am}`.

    Vector j has :math:`n_j\sim U\{1..n_{max}\}` log-normal entries with a random spread; the vectors are
    padded to ``(K, n_max)`` and masked (no loop over vectors).  Returns ``(M, L_am)``, each of shape (K,)."""
    n = rng.integers(1, n_max + 1, K)
    mask = np.arange(n_max) < n[:, None]
    L = np.exp(rng.normal(0, 1, (K, n_max)) * rng.uniform(0.1, 3, (K, 1)))
    am = np.where(mask, L, 0).sum(1) / n
    N_i = np.where(mask, np.ceil(L / am[:, None] - 1e-12), 1.0)
    M = np.sqrt(np.where(mask, N_i, 0).sum(1) / n**2 * np.where(mask, L**2 / N_i, 0).sum(1))
    return M, am


def clone_qm_samples(problem: Problem, rng: np.random.Generator, K: int = 300, n_max: int = 50):
    r""":math:`M_{qm}` and :math:`L_{am}` of ``problem`` cloned explicitly (:math:`N_i=\lceil L_i/L_{am}\rceil`
    copies of client i with :math:`f_i/N_i`, :meth:`Problem.clone`) followed by ``K`` sampled constant vectors
    (:func:`sampled_clone_qm`).  Returns ``(M, L_am, info)`` with ``M``, ``L_am`` of shape (K+1,) and ``info`` the
    cloned instance's constants (``instance_M_qm``, ``instance_L_am``, ``instance_L_qm``, ``N``, ``n``)."""
    counts = clone_counts(problem.L_i, problem.L_am)
    clones = problem.clone(counts)
    M, am = sampled_clone_qm(rng, K=K, n_max=n_max)
    info = dict(
        instance_M_qm=float(clones.L_qm),
        instance_L_am=problem.L_am,
        instance_L_qm=problem.L_qm,
        N=int(counts.sum()),
        n=problem.n,
    )
    return np.r_[clones.L_qm, M], np.r_[problem.L_am, am], info
