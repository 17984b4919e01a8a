r"""Expectations of randomized runs: Monte Carlo summaries with confidence bounds.

Exact expectations for linear stochastic recursions on quadratics (RCD/RPT, L-SVRP) belong here
too: they propagate second moments over the finitely many random outcomes, so a violation found
by them is a violation, not noise.
"""
from __future__ import annotations

import numpy as np

__all__ = ["mc_summary"]


def mc_summary(samples: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray, int]:
    """Mean, standard error of the mean and sample count along ``axis`` (replications).

    Non-finite samples (diverged runs) make the mean infinite, which any finite bound rejects.
    """
    s = np.asarray(samples, dtype=float)
    R = s.shape[axis]
    if R < 2:
        raise ValueError("Monte Carlo needs at least 2 replications")
    with np.errstate(invalid="ignore", over="ignore"):
        mean = s.mean(axis=axis)
        se = s.std(axis=axis, ddof=1) / np.sqrt(R)
    bad = ~np.all(np.isfinite(s), axis=axis)
    mean = np.where(bad, np.inf, mean)
    se = np.where(bad, 0.0, se)
    return mean, se, R



# --------------------------------------------------------------------------- exact second moments (L-SVRP)
class LsvrpExactMoments:
    r"""Exact second moments of a random affine recursion over finitely many outcomes.

    The state :math:`z\in\mathbb R^D` evolves by :math:`z^{k+1}=G_oz^k+h_o`, the outcome
    :math:`o` drawn independently at every step with probability ``probs[o]``.  With the
    augmented state :math:`\tilde z=(z,1)` and
    :math:`\tilde G_o=\begin{pmatrix}G_o&h_o\\0&1\end{pmatrix}`, the second moment
    :math:`S_k=\mathbb E[\tilde z^k\tilde z^{k\top}]` obeys the exact linear recursion

    .. math::
        S_{k+1}=\sum_o p_o\,\tilde G_oS_k\tilde G_o^\top,

    evaluated as two matrix products per step (the outcomes stacked into one
    :math:`O(D+1)\times(D+1)` matrix).  No sampling: a violation found with these moments is
    a violation, not noise.  Written for any finite-outcome affine recursion (L-SVRP and SGD on
    quadratics here, spec ``lsvrp.md`` section 5; RCD/RPT sketches fit the same form).

    Parameters
    ----------
    probs : array (O,)
        Outcome probabilities (nonnegative, summing to one).
    G : array (O, D, D)
    h : array (O, D) or None
        Offsets (None: linear maps).
    z0 : array (D,)
        Deterministic initial state.
    """

    def __init__(self, probs, G, h, z0):
        probs = np.asarray(probs, dtype=float)
        G = np.asarray(G, dtype=float)
        if G.ndim != 3 or G.shape[1] != G.shape[2]:
            raise ValueError(f"G must have shape (O, D, D), got {G.shape}")
        O, D, _ = G.shape
        if probs.shape != (O,) or np.any(probs < 0) or abs(probs.sum() - 1) > 1e-12 * max(O, 1):
            raise ValueError(f"probs must be {O} nonnegative numbers summing to 1")
        h = np.zeros((O, D)) if h is None else np.asarray(h, dtype=float)
        if h.shape != (O, D):
            raise ValueError(f"h must have shape {(O, D)}, got {h.shape}")
        z0 = np.asarray(z0, dtype=float)
        if z0.shape != (D,):
            raise ValueError(f"z0 must have shape ({D},), got {z0.shape}")
        Ga = np.zeros((O, D + 1, D + 1))
        Ga[:, :D, :D] = G
        Ga[:, :D, D] = h
        Ga[:, D, D] = 1.0
        H = np.sqrt(probs)[:, None, None] * Ga       # S+ = sum_o H_o S H_o^T
        self._Hs = H.reshape(O * (D + 1), D + 1)
        self._HsT = np.ascontiguousarray(H.transpose(0, 2, 1).reshape(O * (D + 1), D + 1))
        self.O, self.D = O, D
        z = np.r_[z0, 1.0]
        self.S = np.outer(z, z)
        self.k = 0

    def step(self, steps: int = 1) -> None:
        """Advance the second moment by ``steps`` iterations."""
        O, D1 = self.O, self.D + 1
        S = self.S
        with np.errstate(over="ignore", invalid="ignore"):
            for _ in range(steps):
                Y = (self._Hs @ S).reshape(O, D1, D1).transpose(1, 0, 2).reshape(D1, O * D1)
                S = Y @ self._HsT
        self.S = S
        self.k += steps

    def block_sq(self, start: int, stop: int) -> float:
        r""":math:`\mathbb E\Vert z^k_{[start:stop]}\Vert^2` at the current step (inf if overflowed)."""
        v = float(np.trace(self.S[start:stop, start:stop]))
        return v if np.isfinite(v) else np.inf

    def mean(self) -> np.ndarray:
        r""":math:`\mathbb E z^k`."""
        return self.S[:-1, -1].copy()


def exact_lsvrp_moments(probs, G, h, z0, T: int, blocks) -> np.ndarray:
    r"""Exact :math:`\mathbb E\Vert z^k_{[a:b]}\Vert^2`, k = 0..T, for every block ``(a, b)``.

    See :class:`LsvrpExactMoments`.  Returns an array of shape ``(len(blocks), T+1)``; entries
    from the first overflow on are ``inf``.
    """
    eng = LsvrpExactMoments(probs, G, h, z0)
    out = np.full((len(blocks), T + 1), np.inf)
    for k in range(T + 1):
        if k:
            eng.step()
        vals = [eng.block_sq(a, b) for a, b in blocks]
        if not np.all(np.isfinite(vals)):
            break
        out[:, k] = vals
    return out


def exact_lsvrp_hitting_time(probs, G, h, z0, block, eps: float, T_max: int) -> int | None:
    r"""First k <= ``T_max`` with :math:`\mathbb E\Vert z^k_{[block]}\Vert^2\le\varepsilon\,
    \Vert z^0_{[block]}\Vert^2` under the exact recursion (``None`` if never, or on overflow)."""
    eng = LsvrpExactMoments(probs, G, h, z0)
    a, b = block
    target = eps * eng.block_sq(a, b)
    for k in range(1, T_max + 1):
        eng.step()
        v = eng.block_sq(a, b)
        if v <= target:
            return k
        if not np.isfinite(v):
            return None
    return None


__all__ += ["LsvrpExactMoments", "exact_lsvrp_moments", "exact_lsvrp_hitting_time"]
