r"""Differentially private federated quantiles: distributed discrete Gaussian histogram with modular secure
summation, and the quantile read-out (numerics only).

Protocol (Pillutla, Laguel, Malick, Harchaoui, *Differentially Private Federated Quantiles with the
Distributed Discrete Gaussian Mechanism*, poster, Simplicial-FL line arXiv:2112.09429; distributed discrete
Gaussian: Kairouz, Liu, Steinke, arXiv:2102.06387).  Client :math:`i` holds :math:`s_i\in[0,B]`; bins are
:math:`(e_{j-1},e_j]` (the first one closed).  Each client sends, modulo :math:`M`,

.. math::
    x_i = s_f\,\mathbf 1[s_i\in\text{bin }j]_{j\le b}+\zeta_i \bmod M,\qquad
    \zeta_{i,j}\sim\mathcal N_{\mathbb Z}(0,\sigma_{\rm int}^2)\ \text{i.i.d.},

masked by shares that sum to zero modulo :math:`M` (secure summation); the server adds the masked vectors
modulo :math:`M`, decodes centrally (:math:`y\mapsto y-M` when :math:`y\ge M/2`) and divides by
:math:`s_f`: noisy counts :math:`\hat c_j`, with aggregate per-bin noise of sub-Gaussian scale
:math:`s_{\rm agg}=\sqrt m\sigma_{\rm int}/s_f` counts.  The read-out returns :math:`e_{\hat j}`,
:math:`\hat j=\min\{j:\hat C_j\ge(1-\theta)m\}` (:math:`b` if none), :math:`\hat C_j=\sum_{k\le j}\hat c_k`.

Hierarchical variant (the poster's "hierarchical" algorithm: a binary tree of :math:`\log_2b` levels, noise at
every level, prefix counts from :math:`O(\log b)` nodes): level :math:`\ell=0..\log_2b-1` has the
:math:`b/2^\ell` dyadic nodes :math:`[k2^\ell,(k+1)2^\ell)` of bins; every client one-hot encodes its node at
every level, each level runs the same noisy modular secure summation, and :math:`\hat C_j` is the sum of the
noisy counts of the dyadic nodes that tile the first j bins (at most :math:`\log_2b+1` of them).  The poster
gives the noise scale (per client :math:`\sigma=\log_2b/(\varepsilon\sqrt n)`, counts) and the error's order,
not the node allocation: the dyadic tiling here is the standard one [reconstructed].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import fftconvolve

from ._validate import InvalidInput, positive, positive_int

__all__ = [
    "discrete_gaussian_table",
    "discrete_gaussian",
    "aggregate_noise_pmf",
    "aggregate_noise",
    "histogram_counts",
    "secure_histogram",
    "secure_histogram_runs",
    "max_prefix_noise",
    "quantile_readout",
    "level_error",
    "SecureHistogram",
    "dyadic_prefix_nodes",
    "tree_prefix_noise",
    "hierarchical_secure_histogram",
    "HierarchicalHistogram",
]


def discrete_gaussian_table(sigma: float) -> tuple[np.ndarray, np.ndarray]:
    r"""Support :math:`\{-K..K\}`, :math:`K=\lceil12\sigma\rceil+2`, and probabilities
    :math:`\propto e^{-k^2/(2\sigma^2)}` of the discrete Gaussian :math:`\mathcal N_{\mathbb Z}(0,\sigma^2)`
    (Canonne, Kamath, Steinke, arXiv:2004.00010); the mass beyond K is below :math:`e^{-72}`."""
    sigma = positive("sigma", sigma)
    K = int(np.ceil(12 * sigma)) + 2
    k = np.arange(-K, K + 1)
    w = np.exp(-(k.astype(float) ** 2) / (2 * sigma**2))
    return k, w / w.sum()


_GUIDE_MAX = 1 << 16  #: largest guide table of :func:`inverse_cdf_index` (entries)


def inverse_cdf_index(cdf: np.ndarray, u: np.ndarray) -> np.ndarray:
    r"""``np.searchsorted(cdf, u, side="right")`` for uniforms ``u`` in [0, 1) and an increasing ``cdf``, by a
    guide table: exactly the same indices, about 3 times faster for large ``u``.

    With :math:`L=2^p` buckets, :math:`u\in[j/L,(j+1)/L)` (``j = floor(u L)``, exact since L is a power of two)
    has :math:`\#\{c\le u\}` between :math:`\#\{c\le j/L\}` and :math:`\#\{c<(j+1)/L\}`; where the two agree (all
    buckets but those holding a cdf value) that is the index, and the few others are searched.
    """
    u = np.asarray(u, dtype=float)
    L = min(_GUIDE_MAX, 1 << max(6, int(64 * cdf.size - 1).bit_length()))
    if u.size < 4 * L:  # the table would cost more than it saves
        return np.searchsorted(cdf, u, side="right")
    grid = np.arange(L + 1) / L
    lo = np.searchsorted(cdf, grid[:-1], side="right")
    unsure = np.searchsorted(cdf, grid[1:], side="left") != lo
    j = (u * L).astype(np.intp)
    out = lo[j]
    fix = np.flatnonzero(unsure[j])
    if fix.size:
        out.flat[fix] = np.searchsorted(cdf, u.flat[fix], side="right")
    return out


def discrete_gaussian(rng: np.random.Generator, sigma: float, size) -> np.ndarray:
    """Draws of :math:`\\mathcal N_{\\mathbb Z}(0,\\sigma^2)` (int64) by inverse CDF on the table (vectorized)."""
    k, p = discrete_gaussian_table(sigma)
    cdf = np.cumsum(p)
    cdf[-1] = 1.0  # uniforms lie in [0, 1): the index is at most 2K
    return inverse_cdf_index(cdf, rng.random(size)) + int(k[0])  # k = -K..K: value = index - K


def aggregate_noise_pmf(sigma: float, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact law of the sum of ``m`` i.i.d. table draws (repeated squaring of FFT convolutions): support, pmf.

    The sum of discrete Gaussians is not a discrete Gaussian; this is its law on the table (what the server
    decodes when nothing wraps)."""
    m = positive_int("m", m)
    k, p = discrete_gaussian_table(sigma)
    K = int(k[-1])
    out, base, e, acc = np.array([1.0]), p, m, 0  # acc: half-width of out's support
    half = K
    while e:
        if e & 1:
            out = np.clip(fftconvolve(out, base), 0.0, None)
            acc += half
        e >>= 1
        if e:
            base = np.clip(fftconvolve(base, base), 0.0, None)
            half *= 2
    out /= out.sum()
    return np.arange(-acc, acc + 1), out


def aggregate_noise(rng: np.random.Generator, sigma: float, m: int, size) -> np.ndarray:
    """Draws of the aggregate integer noise :math:`\\sum_{i\\le m}\\zeta_i` from its exact law (int64)."""
    support, pmf = aggregate_noise_pmf(sigma, m)
    cdf = np.cumsum(pmf)
    cdf[-1] = 1.0
    idx = inverse_cdf_index(cdf, rng.random(size))
    return support[np.minimum(idx, support.size - 1)]


def _bins(scores: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin index 0..b-1 of each score for the bins (e_{j-1}, e_j] (the first closed)."""
    b = edges.size - 1
    return np.clip(np.searchsorted(edges, scores, side="left") - 1, 0, b - 1)


def histogram_counts(scores, edges) -> np.ndarray:
    """Exact counts ``c_j`` of the scores in the bins (e_{j-1}, e_j]."""
    scores, edges = np.asarray(scores, float), np.asarray(edges, float)
    return np.bincount(_bins(scores, edges), minlength=edges.size - 1)


@dataclass
class SecureHistogram:
    """Result of :func:`secure_histogram`: decoded noisy counts and what the protocol saw."""

    counts: np.ndarray  #: decoded noisy counts c_hat_j (float, in counts)
    decoded: np.ndarray  #: decoded integer sums (scaled counts + noise)
    true_sum: np.ndarray  #: the integer sums without reduction modulo M (what decoding must recover)
    modulus: int
    scale: int


def secure_histogram(scores, edges, *, scale: int, sigma_int: float, modulus: int, rng, mask: bool = True):
    r"""One run of the protocol for all clients at once (arrays (m, b) of int64; no loop over clients).

    Parameters
    ----------
    scores : array (m,)
        Client scalars.
    edges : array (b + 1,)
        Increasing bin edges.
    scale : int
        Integer scaling :math:`s_f` of the one-hot counts.
    sigma_int : float
        Per-client integer noise scale :math:`\sigma_{\rm int}`.
    modulus : int
        Secure-aggregation modulus :math:`M` (>= 2; products m*M must fit int64).
    rng : numpy Generator
    mask : bool
        Add secret shares of zero modulo M (the server sees uniformly random vectors); the sum is unchanged.
    """
    scores, edges = np.asarray(scores, float), np.asarray(edges, float)
    scale, modulus = positive_int("scale", scale), positive_int("modulus", modulus)
    if modulus < 2:
        raise InvalidInput(f"modulus must be an integer >= 2, got {modulus}")
    m, b = scores.size, edges.size - 1
    if m * (modulus + scale + 1) >= 2**62:
        raise InvalidInput(f"modulus must satisfy m*modulus < 2^62 for exact int64 sums, got m={m}, modulus={modulus}")
    noise = discrete_gaussian(rng, sigma_int, (m, b))
    msg = noise
    msg[np.arange(m), _bins(scores, edges)] += scale
    true_sum = msg.sum(axis=0)
    # what each client encodes, in [0, M): entries lie in [-K, s_f + K], so reduction is one conditional add
    # (the same residues as msg % M, without a division per entry; wider entries fall back to %)
    if msg.min() >= -modulus and msg.max() < modulus:
        msg += modulus * (msg < 0)
    else:
        msg %= modulus
    if mask:
        shares = rng.integers(0, modulus, size=(m, b))
        shares[-1] = (-shares[:-1].sum(axis=0)) % modulus
        msg += shares  # both in [0, M): the sum is below 2M
        msg -= modulus * (msg >= modulus)
    y = msg.sum(axis=0) % modulus  # the server's modular sum
    decoded = np.where(y >= (modulus + 1) // 2, y - modulus, y)
    return SecureHistogram(decoded / scale, decoded, true_sum, modulus, scale)


def secure_histogram_runs(scores, edges, *, runs: int, scale: int, sigma_int: float, modulus: int, rng, mask=True):
    """``runs`` independent runs of :func:`secure_histogram` (each vectorized over clients and bins; a loop over
    the runs only, drawing from ``rng`` in turn), stacked: a :class:`SecureHistogram` whose arrays are (runs, b)."""
    runs = positive_int("runs", runs)
    kw = dict(scale=scale, sigma_int=sigma_int, modulus=modulus, rng=rng, mask=mask)
    hs = [secure_histogram(scores, edges, **kw) for _ in range(runs)]
    stack = {f: np.stack([getattr(h, f) for h in hs]) for f in ("counts", "decoded", "true_sum")}
    return SecureHistogram(**stack, modulus=hs[0].modulus, scale=hs[0].scale)


def max_prefix_noise(rng, sigma_int: float, m: int, n_bins: int, reps: int, *, hierarchical: bool = False):
    r"""``reps`` draws of :math:`\max_j|\sum_{k\le j}Z_k|` (int64), the largest error of the noisy prefix counts
    in scaled units (divide by :math:`s_f` for counts), with the aggregate noise of m clients drawn from its exact
    law (:func:`aggregate_noise`): prefix sums of b per-bin noises (flat), or, ``hierarchical``, sums of the
    per-node noises over each prefix's dyadic tiling (:func:`tree_prefix_noise`)."""
    reps = positive_int("reps", reps)
    if hierarchical:
        z = aggregate_noise(rng, sigma_int, m, (reps, int(dyadic_prefix_nodes(n_bins).max())))
        return np.max(np.abs(tree_prefix_noise(z, n_bins)), axis=1)
    z = aggregate_noise(rng, sigma_int, m, (reps, n_bins))
    return np.max(np.abs(np.cumsum(z, axis=1)), axis=1)


def quantile_readout(counts, m: int, theta: float) -> np.ndarray:
    r"""Index :math:`\hat j` (1-based) of :math:`\min\{j:\hat C_j\ge(1-\theta)m\}`, :math:`b` if none;
    ``counts`` of shape (..., b) are read out along the last axis."""
    C = np.cumsum(np.asarray(counts, float), axis=-1)
    hit = C >= (1 - theta) * m
    b = C.shape[-1]
    return np.where(hit.any(axis=-1), np.argmax(hit, axis=-1) + 1, b)


def level_error(true_counts, jhat, m: int, theta: float, *, binned: bool = True) -> np.ndarray:
    r"""Level error :math:`|\theta'-\theta|` of the returned edge :math:`e_{\hat j}`.

    Binned data (every point at its bin's right edge): :math:`e_{\hat j}` is a p-quantile for
    :math:`p\in[C_{\hat j-1}/m,C_{\hat j}/m]`, the error is the distance of :math:`1-\theta` to that interval.
    Raw data: :math:`e_{\hat j}` is the :math:`C_{\hat j}/m`-quantile only (no point sits on the edge),
    error :math:`|C_{\hat j}/m-(1-\theta)|`."""
    C = np.concatenate([[0], np.cumsum(true_counts)]) / m
    j = np.asarray(jhat)
    hi, lo = C[j], C[j - 1]
    target = 1 - theta
    if not binned:
        return np.abs(hi - target)
    return np.maximum(np.maximum(lo - target, target - hi), 0.0)


def _levels(n_bins: int) -> int:
    b = positive_int("n_bins", n_bins)
    L = b.bit_length() - 1
    if b < 2 or (1 << L) != b:
        raise InvalidInput(f"n_bins must be a power of 2 >= 2 for the hierarchical mechanism, got {b}")
    return L


def dyadic_prefix_nodes(n_bins: int) -> np.ndarray:
    r"""Node indices (b, L + 1) tiling each prefix :math:`[0,j)`, j = 1..b, L = log2 b; padded with the index
    ``n_nodes`` (a zero node).  Nodes are numbered level by level: level :math:`\ell` (size :math:`2^\ell`) holds
    nodes ``offset[l] + k``, ``offset[l]`` = :math:`\sum_{\ell'<\ell}b/2^{\ell'}`.  Greedy from the top level
    (at most two nodes there, for j = b; one per lower level)."""
    L = _levels(n_bins)
    b = n_bins
    offset = np.concatenate([[0], np.cumsum([b >> lv for lv in range(L)])])
    n_nodes = int(offset[-1])
    out = np.full((b, L + 1), n_nodes, dtype=np.int64)
    j = np.arange(1, b + 1)
    start = np.zeros(b, dtype=np.int64)
    col = 0
    for lv in range(L - 1, -1, -1):  # log2 b levels (the top one may take two nodes)
        for _ in range(2 if lv == L - 1 else 1):
            take = j - start >= (1 << lv)
            out[take, col] = offset[lv] + (start[take] >> lv)
            start = start + take * (1 << lv)
            col += 1 if lv == L - 1 else 0
        col += 0 if lv == L - 1 else 1
    return out


def tree_prefix_noise(node_noise, n_bins: int) -> np.ndarray:
    """Prefix noises (..., b) from node noises (..., n_nodes): the sum over each prefix's dyadic tiling."""
    idx = dyadic_prefix_nodes(n_bins)
    z = np.asarray(node_noise)
    z = np.concatenate([z, np.zeros(z.shape[:-1] + (1,), z.dtype)], axis=-1)  # the padding node
    return z[..., idx].sum(axis=-1)


@dataclass
class HierarchicalHistogram:
    """Result of :func:`hierarchical_secure_histogram`."""

    prefix: np.ndarray  #: noisy prefix counts C_hat_j, j = 1..b (float, counts)
    counts: np.ndarray  #: per-bin counts implied by the prefixes (C_hat_j - C_hat_{j-1})
    levels: list  #: one SecureHistogram per level (level l: bins of size 2^l)


def hierarchical_secure_histogram(scores, edges, *, scale: int, sigma_int: float, modulus: int, rng, mask=True):
    """One run of the hierarchical protocol: a :func:`secure_histogram` per level of the dyadic tree (each level
    vectorized over clients and nodes; a loop over the log2 b levels only), prefix counts from the tiling."""
    edges = np.asarray(edges, float)
    b = edges.size - 1
    L = _levels(b)
    levels = [
        secure_histogram(
            scores, edges[:: 1 << lv], scale=scale, sigma_int=sigma_int, modulus=modulus, rng=rng, mask=mask
        )
        for lv in range(L)
    ]
    nodes = np.concatenate([h.counts for h in levels])
    prefix = tree_prefix_noise(nodes, b)  # the same gather on the noisy counts
    return HierarchicalHistogram(prefix, np.diff(prefix, prepend=0.0), levels)
