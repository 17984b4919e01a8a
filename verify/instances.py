r"""Seeded instance generators with controlled constants.

Each generator takes target constants and a seed and returns a ``solvers`` problem whose exact
constants are then *recomputed* by the problem itself (never assumed from the targets).
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import brentq

from solvers.problems import LeastSquares, NonconvexLogistic

from .check import UsageError

__all__ = ["smoothness_profile", "heterogeneous_least_squares", "heterogeneous_logistic"]


def _spread(L: np.ndarray) -> float:
    return float(np.sqrt(np.mean(L ** 2)) / np.mean(L))


def smoothness_profile(n: int, spread: float, profile: str = "outlier", L_am: float = 1.0) -> np.ndarray:
    r"""Per-client constants :math:`L_i` with mean ``L_am`` and :math:`L_{qm}/L_{am}` = ``spread``.

    ``profile="outlier"``: ``n-1`` equal clients and one large one (like (1,1,1,100));
    ``profile="geometric"``: :math:`L_i\propto q^{i/(n-1)}`.  Any ``spread`` in
    :math:`[1,\sqrt n)` is reachable (``sqrt(n)`` is the limit of one client carrying everything).
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise UsageError(f"n must be an integer >= 1, got {n!r}")
    if not (np.isfinite(spread) and 1.0 <= spread < np.sqrt(n)) and not (n == 1 and spread == 1.0):
        raise UsageError(f"spread must lie in [1, sqrt(n)) = [1, {np.sqrt(n):.4g}) for n={n}, got {spread!r}")
    if not (np.isfinite(L_am) and L_am > 0):
        raise UsageError(f"L_am must be > 0, got {L_am!r}")
    if spread == 1.0 or n == 1:
        return np.full(n, float(L_am))
    if profile == "outlier":
        def shape(a):
            return np.r_[np.ones(n - 1), a]
    elif profile == "geometric":
        def shape(a):
            return a ** (np.arange(n) / (n - 1))
    else:
        raise UsageError(f"profile must be 'outlier' or 'geometric', got {profile!r}")
    hi = 1e15
    if _spread(shape(hi)) < spread:
        raise UsageError(f"spread={spread!r} is not reachable with profile={profile!r} and n={n} "
                         f"(at most about {_spread(shape(hi)):.4g})")
    a = brentq(lambda a: _spread(shape(a)) - spread, 1.0, hi, xtol=1e-14, rtol=1e-14, maxiter=500)
    L = shape(a)
    return L * (L_am / L.mean())


def _rescale_clients(A: np.ndarray, target: np.ndarray, raw: np.ndarray) -> np.ndarray:
    return np.sqrt(target / raw)


def heterogeneous_least_squares(n: int = 20, d: int = 30, m: int = 10, spread: float = 2.0,
                                profile: str = "outlier", L_am: float = 1.0, noise: float = 0.5,
                                seed: int = 0) -> LeastSquares:
    r"""Least squares :math:`f_i=\frac1m\Vert A_ix-b_i\Vert^2` with prescribed :math:`L_i`.

    Gaussian client data are rescaled per client, :math:`A_i\leftarrow s_iA_i`, which scales the
    least-squares :math:`L_i` by :math:`s_i^2` (Error Feedback Reloaded, spec section 3.9); targets
    are :math:`b_i=A_ix^\sharp+` ``noise`` :math:`\cdot\,\mathcal N(0,I)` (rescaled alike), so
    :math:`f^\star>0`.
    """
    for name, v in (("n", n), ("d", d), ("m", m)):
        if not isinstance(v, (int, np.integer)) or v < 1:
            raise UsageError(f"{name} must be an integer >= 1, got {v!r}")
    target = smoothness_profile(n, spread, profile, L_am)
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, m, d))
    xs = rng.standard_normal(d) / np.sqrt(d)
    b = A @ xs + noise * rng.standard_normal((n, m))
    raw = LeastSquares(A, b).L_i
    s = np.sqrt(target / raw)
    return LeastSquares(A * s[:, None, None], b * s[:, None])


def heterogeneous_logistic(n: int = 20, d: int = 20, m: int = 20, spread: float = 2.0,
                           profile: str = "outlier", L_am: float = 1.0, lam: float = 0.1,
                           seed: int = 0) -> NonconvexLogistic:
    r"""Logistic regression with the nonconvex regulariser and prescribed certified :math:`L_i`.

    The loss part of client i is rescaled so that
    :math:`\lambda_{\max}(A_i^\top A_i)/(4m)+2\lambda` equals the target; this needs every target
    above :math:`2\lambda`.  Labels come from a random linear model with 10% flipped.
    """
    target = smoothness_profile(n, spread, profile, L_am)
    if np.min(target) <= 2 * lam:
        raise UsageError(f"L_am={L_am} is too small for lam={lam} at spread={spread}: every L_i must exceed 2*lam")
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, m, d))
    w = rng.standard_normal(d)
    y = np.sign(A @ w + 1e-12)
    y[rng.random((n, m)) < 0.1] *= -1
    raw = NonconvexLogistic(A, y, lam=0.0).L_i
    s = np.sqrt((target - 2 * lam) / raw)
    return NonconvexLogistic(A * s[:, None, None], y, lam=lam)


# --------------------------------------------------------------------------- rare features
# (appended for the rare-features result, specs/rare_features.md sections 7 and 8)
def rare_ownership(n: int, d: int, c: int, rng: np.random.Generator, design: str = "random",
                   attempts: int = 5) -> tuple[np.ndarray, np.ndarray]:
    r"""Feature ownership with every feature owned by exactly ``c`` clients, as flat pairs.

    ``design="random"``: the authors' generator (``artificial_dataset_rotated.py`` l.84, l.110):
    each feature picks ``c`` distinct clients uniformly; redrawn (up to ``attempts`` times) while a
    client owns nothing.  ``design="regular"``: feature j is owned by clients
    :math:`(jc+t)\bmod n`, :math:`t<c`, so every client owns exactly :math:`r=dc/n` features
    (needs n | dc).  Returns ``(client, feature)`` index arrays sorted by client then feature.
    """
    for name, v in (("n", n), ("d", d), ("c", c)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise UsageError(f"{name} must be an integer >= 1, got {v!r}")
    if c > n:
        raise UsageError(f"c must satisfy 1 <= c <= n, got c={c} > n={n}")
    if design == "regular":
        if (d * c) % n:
            raise UsageError(f"design='regular' needs n to divide d*c, got n={n}, d={d}, c={c}")
        feat = np.repeat(np.arange(d), c)
        cli = (np.arange(d * c)) % n
    elif design == "random":
        for _ in range(attempts):
            keys = rng.random((d, n))
            cli_m = np.argpartition(keys, c - 1, axis=1)[:, :c]  # c distinct clients per feature
            feat = np.repeat(np.arange(d), c)
            cli = cli_m.ravel()
            if np.unique(cli).size == n:
                break
        else:
            raise UsageError(f"some client owns no feature after {attempts} draws (n={n}, d={d}, c={c}); increase d*c/n")
    else:
        raise UsageError(f"design must be 'random' or 'regular', got {design!r}")
    order = np.lexsort((feat, cli))
    return cli[order], feat[order]


def rare_features_problem(n: int = 100, d: int = 500, m: int = 12, c: int = 5, design: str = "random",
                          loss: str = "squares", reg: float = 0.0, L_hi: float = 20.0, boost: float = 10.0,
                          noise: float = 2.0, seed: int = 0, constants: bool = True):
    r"""The authors' synthetic rare-features generator (spec section 8.1), sparse end to end.

    Steps, as in ``data_preprocess/artificial_dataset_rotated.py``: ownership with multiplicity
    exactly ``c`` (:func:`rare_ownership`); per client :math:`\tilde A_i\sim U[0,1)^{m\times|Z_i|}`
    with SVD :math:`USV^\top` and singular values replaced by
    :math:`0.9\sqrt{(L_{hi}-1)k/(|Z_i|-1)+1}+0.1v_i` (:math:`v_0=` ``boost``, else 0; a single
    singular value becomes :math:`\sqrt{L_{hi}}`); :math:`b_i=A_ix_{sol}+` ``noise``
    :math:`\cdot U[-1,1]^m` with :math:`x_{sol}=0.5\cdot\mathbf 1`; both scaled by :math:`\sqrt{m/2}`,
    so :math:`H_i=\frac2mA_i^\top A_i` has eigenvalues :math:`s_k^2`.  Defaults are the authors'
    (n = 100, d = 500, m = 12, "l" = 20, ``b_perturbation`` = 2, ``l_plus_min_selector`` = 0.1).

    ``loss="logistic"`` keeps the same matrices with labels :math:`\mathrm{sign}(a_j^\top(x_{sol}-\bar x)+\text{noise})`,
    10% of them flipped
    (sparse logistic regression); ``reg`` > 0 adds the restricted nonconvex regulariser
    :math:`\lambda'\sum_{k\in Z_i}x_k^2/(1+x_k^2)` with :math:`\lambda'=` ``reg`` :math:`\cdot\max_jL_j`
    (the authors use 3).  Constants are recomputed exactly by the returned problem
    (``constants=False`` skips them, for gradient-only benchmarks on huge instances).
    """
    import scipy.sparse as sps

    from solvers.rare_features import SparseFederated

    if not isinstance(m, (int, np.integer)) or isinstance(m, bool) or m < 1:
        raise UsageError(f"m must be an integer >= 1, got {m!r}")
    rng = np.random.default_rng(seed)
    cli, feat = rare_ownership(n, d, c, rng, design=design)
    sizes = np.bincount(cli, minlength=n)
    zptr = np.r_[0, np.cumsum(sizes)]
    blocks = []
    for i in range(n):  # instance construction: one small SVD per client (not a hot path)
        z = sizes[i]
        At = rng.random((m, z))
        U, s, Vt = np.linalg.svd(At, full_matrices=False)
        q = s.size
        if q == 1:
            s = np.array([np.sqrt(L_hi)])
        else:
            kk = np.arange(q)
            s = 0.9 * np.sqrt((L_hi - 1) * kk / (z - 1) + 1) + 0.1 * (boost if i == 0 else 0.0)
        blocks.append((U * s) @ Vt)
    vals = np.concatenate([B.ravel() for B in blocks])
    rows = np.concatenate([i * m + np.repeat(np.arange(m), sizes[i]) for i in range(n)])
    cols = np.concatenate([np.tile(feat[zptr[i]:zptr[i + 1]], m) for i in range(n)])
    scale = np.sqrt(m / 2.0)
    A = sps.csr_matrix((vals * scale, (rows, cols)), shape=(n * m, d))
    x_sol = np.full(d, 0.5)
    pert = noise * rng.uniform(-1, 1, n * m)
    if loss == "squares":
        y = A @ x_sol + pert * scale
    elif loss == "logistic":
        y = np.sign(A @ (x_sol - 0.5 * rng.random(d)) + 0.1 * pert)
        y[y == 0] = 1.0
        y[rng.random(n * m) < 0.1] *= -1  # 10% flipped labels: not separable, f* > 0
    else:
        raise UsageError(f"loss must be 'squares' or 'logistic', got {loss!r}")
    row_ptr = np.arange(0, n * m + 1, m)
    prob = SparseFederated(A, y, row_ptr, loss=loss, constants=constants or reg > 0)
    if reg > 0:
        prob = SparseFederated(A, y, row_ptr, loss=loss, reg=reg * float(prob.L_i.max()), constants=constants)
    return prob


def split_rows(X, y, clients: int, split: str = "shuffled", c: int | None = None, seed: int = 1234):
    r"""Split a data set (rows of sparse ``X``) across ``clients`` workers in equal contiguous chunks.

    ``split="contiguous"``: file order; ``"shuffled"``: permuted with ``seed`` first (the authors'
    LIBSVM loader, seed 1234); ``"multiplicity"``: rows ordered to make features rare (sorted by
    the frequency ranks of their features, so rows sharing a common feature sit together), then a
    random fraction of rows is re-shuffled, the fraction found by bisection so that the resulting
    multiplicity is the largest one <= the target ``c``.  The remainder ``N mod clients`` is
    dropped.  Returns ``(X', y', row_ptr, achieved_c)``.
    """
    import scipy.sparse as sps

    N = X.shape[0]
    if isinstance(clients, bool) or not isinstance(clients, (int, np.integer)) or not 1 <= clients <= N:
        raise UsageError(f"clients must be an integer in [1, N={N}] (one sample at least per client), got {clients!r}")
    m = N // clients
    rng = np.random.default_rng(seed)
    X = sps.csr_matrix(X)
    X.eliminate_zeros()

    def multiplicity(order):
        Xo = X[order[: m * clients]]
        cl = np.repeat(np.arange(clients), m)[Xo.tocoo().row]
        key = np.unique(cl.astype(np.int64) * X.shape[1] + Xo.tocoo().col)
        return int(np.bincount(key % X.shape[1], minlength=X.shape[1]).max()) if key.size else 0

    if split == "contiguous":
        order = np.arange(N)
    elif split == "shuffled":
        order = rng.permutation(N)
    elif split == "multiplicity":
        if c is None or isinstance(c, bool) or not isinstance(c, (int, np.integer)) or not 1 <= c <= clients:
            raise UsageError(f"split='multiplicity' needs a target c, an integer in [1, clients={clients}], got {c!r}")
        freq = np.bincount(X.tocoo().col, minlength=X.shape[1])
        rank = np.empty(X.shape[1], dtype=np.int64)
        rank[np.argsort(-freq, kind="stable")] = np.arange(X.shape[1])
        K = 4  # sort rows by the ranks of their 4 most frequent features
        coo = X.tocoo()
        rk = rank[coo.col]
        o = np.lexsort((rk, coo.row))
        rows_s, rk_s = coo.row[o], rk[o]
        start = np.searchsorted(rows_s, np.arange(N))
        keys = np.full((K, N), X.shape[1], dtype=np.int64)
        pos_in_row = np.arange(rows_s.size) - start[rows_s]
        keep = pos_in_row < K
        keys[pos_in_row[keep], rows_s[keep]] = rk_s[keep]
        sorted_order = np.lexsort(keys[::-1])
        perm = rng.permutation(N)

        def mixed(q):
            order = sorted_order.copy()
            sel = perm[: int(round(q * N))]
            order[np.sort(sel)] = sorted_order[sel][rng.permutation(sel.size)] if sel.size else order[sel]
            return order

        best = sorted_order
        c0 = multiplicity(best)
        if c0 > c:
            raise UsageError(f"split='multiplicity': c={c} is not reachable for this data with {clients} clients "
                             f"(sorting the rows gives at best c={c0})")
        lo, hi = 0.0, 1.0
        for _ in range(14):
            mid = (lo + hi) / 2
            o2 = mixed(mid)
            if multiplicity(o2) <= c:
                lo, best = mid, o2
            else:
                hi = mid
        order = best
    else:
        raise UsageError(f"split must be 'contiguous', 'shuffled' or 'multiplicity', got {split!r}")
    order = order[: m * clients]
    return X[order], np.asarray(y)[order], np.arange(0, m * clients + 1, m), multiplicity(order)


def libsvm_problem(path, clients: int, split: str = "shuffled", c: int | None = None, loss: str = "logistic",
                   reg: float = 0.0, bias: bool = False, seed: int = 1234):
    r"""A LIBSVM / svmlight file as a sparse federated problem (spec section 8.3).

    Labels are mapped to {-1, +1} (two classes: the larger label is +1) for the logistic loss and
    used as targets for least squares.  ``bias=True`` appends a constant feature, as the authors
    do; it is owned by every client, so it forces c = n.  ``reg`` > 0 adds the restricted
    nonconvex regulariser with :math:`\lambda'=` ``reg`` :math:`\cdot\max_jL_j`.
    """
    import scipy.sparse as sps

    from solvers.rare_features import SparseFederated, read_svmlight

    X, y = read_svmlight(path)
    if bias:
        X = sps.hstack([X, np.ones((X.shape[0], 1))], format="csr")
    if loss == "logistic":
        labels = np.unique(y)
        if labels.size != 2:
            raise UsageError(f"data: loss='logistic' needs exactly two label values, {path!r} has {labels.size}")
        y = np.where(y == labels[1], 1.0, -1.0)
    elif loss != "squares":
        raise UsageError(f"loss must be 'squares' or 'logistic', got {loss!r}")
    Xs, ys, row_ptr, _ = split_rows(X, y, clients, split=split, c=c, seed=seed)
    prob = SparseFederated(Xs, ys, row_ptr, loss=loss)
    if reg > 0:
        prob = SparseFederated(Xs, ys, row_ptr, loss=loss, reg=reg * float(prob.L_i.max()))
    return prob
