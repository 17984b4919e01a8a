"""Rare features (arXiv:2305.15264): sparse solvers against dense references, constants against brute
force, the claims and their teeth, LIBSVM end to end, and clear errors on bad input."""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sps
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ratecheck import theorems, verify
from ratecheck.solvers import InvalidInput
from ratecheck.solvers.compressors import TopK
from ratecheck.solvers.ef21 import ef21
from ratecheck.solvers.rare_features import Accounting, SparseFederated, gd_sparse, read_svmlight, segment_topk
from ratecheck.verify.checking import UsageError
from ratecheck.verify.instances import libsvm_problem, rare_features_problem, rare_ownership, split_rows

RARE_IDS = [c.id for c in theorems.all() if c.id.startswith("rare-features.")]
TEETH = [t.id for cid in RARE_IDS for t in theorems.teeth(cid)]


def random_sparse(n, m, d, density, seed, loss="squares", reg=0.0):
    rng = np.random.default_rng(seed)
    own = rng.random((n, d)) < density
    own[np.arange(n), rng.integers(0, d, n)] = True
    A = rng.standard_normal((n, m, d)) * own[:, None, :]
    y = rng.standard_normal(n * m)
    if loss == "logistic":
        y = np.where(y > 0, 1.0, -1.0)
    return (
        SparseFederated(sps.csr_matrix(A.reshape(n * m, d)), y, np.arange(0, n * m + 1, m), loss=loss, reg=reg),
        A,
        own,
    )


# ----------------------------------------------------------------------------- solvers vs dense references
@pytest.mark.parametrize("init", ["grad", "zero", "compressed"])
@pytest.mark.parametrize("k", [1, 2, 4])
def test_ef21_sparse_matches_dense_ef21(init, k):
    P, A, _ = random_sparse(7, 5, 12, 0.3, seed=k)
    D = P.to_dense()
    x0 = np.random.default_rng(1).standard_normal(P.d)
    gamma = 1.0 / (P.L + P.L_qm * 2 * 12 / k)
    w = {"u": np.full(P.n, 1 / P.n)}
    a = ef21(P, x0, gamma=gamma, compressor=TopK(k), T=150, init=init, lyapunov=w)
    b = ef21(D, x0, gamma=gamma, compressor=TopK(k), T=150, init=init, lyapunov=w)
    scale = b.grad_norm_sq[0].max()
    assert np.max(np.abs(a.grad_norm_sq - b.grad_norm_sq[0])) <= 1e-12 * scale
    assert np.max(np.abs(a.f - b.f[0])) <= 1e-12 * max(1.0, abs(b.f[0]).max())
    assert np.max(np.abs(a.G["u"] - b.G["u"][0])) <= 1e-12 * max(1.0, b.G["u"][0].max())
    assert np.max(np.abs(a.x_final - b.x_final[0])) <= 1e-12 * max(1.0, np.abs(b.x_final).max())


def test_block_layout_matches_csr_layout():
    """The padded batched-matmul path and the CSR path give the same gradients and runs."""
    P = rare_features_problem(n=12, d=40, m=5, c=3, seed=2)
    Q = SparseFederated(P.A, P.y, P.row_ptr, constants=False, block=False)
    assert P._Apad is not None and Q._Apad is None
    x = np.random.default_rng(0).standard_normal(P.d)
    for a, b in zip(P.flat_value_and_grad(x), Q.flat_value_and_grad(x)):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13)
    g = np.abs(np.random.default_rng(1).standard_normal(P.S))
    np.testing.assert_array_equal(P.top1(g), segment_topk(g, P.zptr, P.slot_client, 1))
    t1, t2 = ef21(P, x, gamma=1e-2, compressor=TopK(1), T=50), ef21(Q, x, gamma=1e-2, compressor=TopK(1), T=50)
    np.testing.assert_allclose(t1.x_final, t2.x_final, rtol=1e-12, atol=1e-12)
    with pytest.raises(InvalidInput, match="block=True"):
        SparseFederated(sps.csr_matrix(np.array([[1.0, 0.0], [0.0, 1.0]])), np.zeros(2), np.array([0, 2]), block=True)


def test_gd_sparse_matches_naive_loop():
    P, A, own = random_sparse(5, 4, 9, 0.4, seed=3)
    x = np.random.default_rng(0).standard_normal(P.d)
    gamma = 1.0 / P.L
    tr = gd_sparse(P, x, gamma=gamma, T=30, accounting=Accounting(gd_charge="support"))
    D = P.to_dense()
    xs = x.copy()
    for t in range(31):
        g = D.grad(xs)
        assert abs(tr.grad_norm_sq[t] - g @ g) <= 1e-12 * max(1.0, tr.grad_norm_sq[0])
        xs = xs - gamma * g
    assert tr.floats[-1] == 30 * own.sum(axis=1).max()


def test_flat_gradients_logistic_and_regulariser_match_finite_differences():
    P, A, own = random_sparse(4, 6, 8, 0.5, seed=5, loss="logistic", reg=0.3)
    x = np.random.default_rng(2).standard_normal(P.d)
    vals, gflat = P.flat_value_and_grad(x)
    h = 1e-6
    for i in range(P.n):
        seg = slice(P.zptr[i], P.zptr[i + 1])
        for pos, j in zip(range(seg.start, seg.stop), P.zidx[seg]):
            e = np.zeros(P.d)
            e[j] = h
            fd = (P.flat_value_and_grad(x + e)[0][i] - P.flat_value_and_grad(x - e)[0][i]) / (2 * h)
            assert abs(fd - gflat[pos]) < 1e-6
        # no dependence outside Z_i
        out = np.setdiff1d(np.arange(P.d), P.zidx[seg])
        if out.size:
            e = np.zeros(P.d)
            e[out] = 1.0
            assert P.flat_value_and_grad(x + e)[0][i] == pytest.approx(vals[i], abs=1e-14)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 7), min_size=1, max_size=6), st.integers(1, 5), st.integers(0, 2**31 - 1))
def test_segment_topk_matches_brute_force(lens, k, seed):
    rng = np.random.default_rng(seed)
    zptr = np.r_[0, np.cumsum(lens)]
    a = np.abs(rng.standard_normal(zptr[-1]))
    a[rng.random(a.size) < 0.2] = 0.0
    sc = np.repeat(np.arange(len(lens)), lens)
    sel = segment_topk(a, zptr, sc, k)
    for i in range(len(lens)):
        seg = a[zptr[i] : zptr[i + 1]]
        mine = np.sort(a[sel[(sel >= zptr[i]) & (sel < zptr[i + 1])]])[::-1]
        assert mine.size == min(k, lens[i])
        np.testing.assert_array_equal(mine, np.sort(seg)[::-1][: min(k, lens[i])])


# ----------------------------------------------------------------------------- constants vs brute force
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(2, 6), st.integers(3, 10), st.integers(1, 5), st.floats(0.1, 0.9), st.integers(0, 2**31 - 1))
def test_constants_match_brute_force(n, d, m, density, seed):
    P, A, own = random_sparse(n, m, d, density, seed)
    H = np.stack([2.0 / m * A[i].T @ A[i] for i in range(n)])
    assert P.c == own.sum(axis=0).max()
    assert P.r == own.sum(axis=1).max()
    for i in range(n):
        assert set(P.zidx[P.zptr[i] : P.zptr[i + 1]]) == set(np.flatnonzero(own[i]))
    np.testing.assert_allclose(P.L_i, [np.linalg.eigvalsh(h)[-1] for h in H], rtol=1e-10, atol=1e-12)
    assert P.L == pytest.approx(np.linalg.eigvalsh(H.mean(0))[-1], rel=1e-10, abs=1e-12)
    assert P.L_plus == pytest.approx(math.sqrt(np.linalg.eigvalsh((H @ H).mean(0))[-1]), rel=1e-10, abs=1e-12)
    ev = np.linalg.eigvalsh(H.mean(0))
    assert P.mu == pytest.approx(ev[ev > 1e-10 * ev[-1]][0], rel=1e-8)
    LO = max(sum(P.L_i[i] for i in range(n) if own[i, j]) for j in range(d)) / n
    assert P.L_O == pytest.approx(LO, rel=1e-12)
    # RF-1 with the sharper lower side
    assert P.L <= math.sqrt(P.c / n) * P.L_plus * (1 + 1e-10)
    assert P.L_plus <= P.L_plus_bound * (1 + 1e-10)


def test_ownership_ignores_values_not_structure():
    """c and r come from the functions' support: tiny entries count, explicit zeros do not."""
    A = sps.csr_matrix(np.array([[1e-300, 0.0, 1.0], [0.0, 2.0, 0.0]]))
    A.data[A.data == 2.0] = 2.0
    B = sps.csr_matrix(
        (np.array([1e-300, 0.0, 1.0, 2.0]), (np.array([0, 0, 0, 1]), np.array([0, 1, 2, 1]))), shape=(2, 3)
    )
    P = SparseFederated(B, np.zeros(2), np.array([0, 1, 2]), constants=False)
    assert list(P.zidx[P.zptr[0] : P.zptr[1]]) == [0, 2] and P.c == 1 and P.r == 2


def test_authors_generator_structure():
    P = rare_features_problem(n=20, d=50, m=12, c=5, seed=3)
    assert P.c == 5 and np.all(P.owners == 5)  # every feature has multiplicity exactly c
    assert P.A.shape == (240, 50) and P.n == 20
    # H_i = (2/m) A_i^T A_i has eigenvalues s_k^2 with the authors' singular values
    i = 1
    z = P.support_sizes[i]
    q = min(12, z)
    s = 0.9 * np.sqrt(19 * np.arange(q) / (z - 1) + 1)
    assert P.L_i[i] == pytest.approx(s.max() ** 2, rel=1e-10)
    assert P.L_i[0] == pytest.approx(
        (0.9 * np.sqrt(19 * (min(12, P.support_sizes[0]) - 1) / (P.support_sizes[0] - 1) + 1) + 1.0) ** 2, rel=1e-10
    )
    R = rare_features_problem(n=8, d=16, m=3, c=2, design="regular", seed=0)
    assert R.c == 2 and np.all(R.support_sizes == 4)


def test_nonconvex_regulariser_is_restricted_and_constants_are_upper_bounds():
    P = rare_features_problem(n=10, d=30, m=6, c=2, reg=3.0, seed=1)
    Q = rare_features_problem(n=10, d=30, m=6, c=2, seed=1)
    assert P.c == Q.c == 2 and P.r == Q.r  # the regulariser keeps the supports
    lam = 3.0 * Q.L_i.max()
    np.testing.assert_allclose(P.L_i, Q.L_i + 2 * lam)
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((200, 30)) * 2, rng.standard_normal((200, 30)) * 2
    for x, y in zip(X, Y):
        gx, gy = P.flat_value_and_grad(x)[1], P.flat_value_and_grad(y)[1]
        assert np.linalg.norm(P.aggregate(gx - gy)) <= P.L * np.linalg.norm(x - y) * (1 + 1e-12)
        assert np.sum((gx - gy) ** 2) / P.n <= P.L_plus**2 * np.sum((x - y) ** 2) * (1 + 1e-12)


# ----------------------------------------------------------------------------- accounting
def test_accounting_conventions():
    P = rare_features_problem(n=6, d=24, m=4, c=2, design="regular", seed=0)
    x0 = np.ones(P.d)
    r = P.r
    a = ef21(P, x0, gamma=1e-3, compressor=TopK(1), T=10, accounting=Accounting(count_first_round=False))
    assert a.floats[0] == 0 and a.floats[-1] == 10 and a.bits[-1] == 320
    b = ef21(P, x0, gamma=1e-3, compressor=TopK(2), T=10, accounting=Accounting(count_indices=True, bits_per_float=16))
    assert b.floats[0] == r and b.floats[-1] == r + 20
    assert b.bits[-1] == (r + 20) * (16 + math.ceil(math.log2(P.d)))
    g = gd_sparse(P, x0, gamma=1e-3, T=5, accounting=Accounting(gd_charge="dense"))
    assert g.floats[-1] == 5 * P.d
    g2 = gd_sparse(P, x0, gamma=1e-3, T=5)
    assert g2.floats[-1] == 5 * r
    with pytest.raises(InvalidInput, match="gd_charge"):
        Accounting(gd_charge="free")


# ----------------------------------------------------------------------------- claims and teeth
@pytest.mark.parametrize("cid", RARE_IDS)
def test_claim_holds_quick(cid):
    verify.assert_claim_holds(cid, quick=True)


@pytest.mark.parametrize("tid", TEETH)
def test_teeth_caught(tid):
    vs = verify.check(tid, quick=True)
    status, unexpected = verify.outcome(vs)
    assert status == "violated" and not unexpected, [v.detail for v in vs]


def test_claim_metadata():
    for cid in RARE_IDS:
        c = theorems.get(cid)
        assert c.experiment == "rare_features" and c.paper and c.provenance_note
        assert theorems.teeth(cid), f"{cid} ships no teeth"
    assert theorems.get("rare-features.reloaded").provenance.value == "derived"
    assert "not found" in theorems.get("rare-features.reloaded").provenance_note


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(4, 16),
    st.integers(1, 4),
    st.integers(1, 3),
    st.integers(0, 1000),
    st.sampled_from(["rare-features.nonconvex", "rare-features.nonconvex-kd", "rare-features.reloaded"]),
    st.sampled_from(["grad", "zero"]),
)
def test_rate_claims_hold_property(n, cfac, k, seed, cid, init):
    c = max(1, min(n, cfac * n // 4))
    d = 6 * n // c + 4
    vs = verify.check(cid, instances=[dict(n=n, d=d, c=c, k=k, m=4, T=150, init=init)], seed=seed)
    assert vs[0].verdict == "holds", vs[0].detail


def test_user_claim_and_ef21_claims_run_on_this_experiment():
    import sympy as sp

    base = theorems.get("rare-features.nonconvex")
    mine = base.variant("mine", bound=base.bound * 2)
    assert verify.check(mine, quick=True)[0].verdict == "holds"
    vs = verify.check("ef21.nonconvex-am", experiment="rare_features", instances=[dict(T=100)])
    assert vs[0].verdict == "holds"
    bad = base.variant("tight", bound=base.bound * sp.Rational(1, 100), expected_to_fail="too tight")
    assert verify.outcome(verify.check(bad, quick=True))[0] == "violated"


# ----------------------------------------------------------------------------- LIBSVM end to end
def write_libsvm(path, N=60, d=30, seed=0, zero_based=False, blocks=None):
    """A small LIBSVM file; with ``blocks``, each sample uses the features of one random block (rows shuffled)."""
    rng = np.random.default_rng(seed)
    X = (rng.random((N, d)) < 0.15) * rng.integers(1, 4, (N, d)).astype(float)
    if blocks:
        blk = rng.integers(0, blocks, N)
        X *= (np.arange(d)[None, :] * blocks // d) == blk[:, None]
        X[np.arange(N), blk * (d // blocks)] = 1.0
    X[np.arange(N), rng.integers(0, d, N) if not blocks else blk * (d // blocks) + 1] = 1.0
    w = rng.standard_normal(d)
    y = np.where(X @ w > 0, 1, -1)
    off = 0 if zero_based else 1
    with open(path, "w") as fh:
        for i in range(N):
            idx = np.flatnonzero(X[i])
            fh.write(
                f"{'+1' if y[i] > 0 else '-1'} " + " ".join(f"{j + off}:{X[i, j]:g}" for j in idx) + "  # sample\n"
            )
    return X, y


def test_read_svmlight(tmp_path):
    p = tmp_path / "tiny.svm"
    X, y = write_libsvm(p)
    A, yy = read_svmlight(p, n_features=X.shape[1])
    np.testing.assert_array_equal(A.toarray(), X)
    np.testing.assert_array_equal(yy, y)
    p0 = tmp_path / "zero.svm"
    X0, _ = write_libsvm(p0, zero_based=True, seed=1)
    assert np.array_equal(read_svmlight(p0, n_features=X0.shape[1])[0].toarray(), X0)
    bad = tmp_path / "bad.svm"
    bad.write_text("+1 3:abc\n")
    with pytest.raises(InvalidInput, match="idx:value"):
        read_svmlight(bad)
    with pytest.raises(InvalidInput, match="cannot read"):
        read_svmlight(tmp_path / "missing.svm")


@pytest.mark.parametrize("split", ["contiguous", "shuffled", "multiplicity"])
def test_split_and_constants(tmp_path, split):
    p = tmp_path / "tiny.svm"
    X, y = write_libsvm(p, N=120, d=40, blocks=10 if split == "multiplicity" else None)
    A, yy = read_svmlight(p)
    Xs, ys, row_ptr, c = split_rows(A, yy, 10, split=split, c=6 if split == "multiplicity" else None, seed=0)
    assert Xs.shape[0] == 120 and np.all(np.diff(row_ptr) == 12)
    own = np.array([np.asarray(abs(Xs[row_ptr[i] : row_ptr[i + 1]]).sum(axis=0)).ravel() > 0 for i in range(10)])
    assert c == own.sum(axis=0).max()
    if split == "multiplicity":
        assert c <= 6
    P = libsvm_problem(p, 10, split=split, c=6 if split == "multiplicity" else None, loss="squares")
    assert P.n == 10 and P.c <= 10


def test_libsvm_end_to_end(tmp_path):
    p = tmp_path / "tiny.svm"
    write_libsvm(p, N=90, d=30)
    for problem in ("logistic", "least-squares"):
        vs = verify.check("rare-features.nonconvex", instances=[dict(data=str(p), clients=6, problem=problem, T=200)])
        assert vs[0].verdict == "holds", vs[0].detail
        assert vs[0].instance["data"] == str(p)
    vs = verify.check("ef21.nonconvex-qm", experiment="rare_features", instances=[dict(data=str(p), clients=6, T=100)])
    assert vs[0].verdict == "holds"
    vs = verify.check("rare-features.constants", instances=[dict(data=str(p), clients=6, samples=2)])
    assert vs[0].verdict == "holds"
    with pytest.raises(UsageError, match="not reachable"):
        verify.check("rare-features.nonconvex", instances=[dict(data=str(p), clients=6, split="multiplicity", c=1)])


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "inst, msg",
    [
        (dict(bogus=1), "unknown parameter 'bogus'"),
        (dict(c=50), "c must satisfy"),
        (dict(split="random"), "split must be"),
        (dict(data="/nonexistent/file.svm"), "data must be a path to an existing LIBSVM/svmlight file"),
        (dict(clients=0), "clients must be"),
        (dict(k=0), "k must be an integer"),
        (dict(k=100), "k must satisfy"),
        (dict(gd_charge="free"), "gd_charge"),
        (dict(problem="lasso"), "problem must be"),
        (dict(c_values=(1, 2)), "c_values"),
        (dict(eps_rel=-1.0), "eps_rel"),
        (dict(count_indices="yes"), "count_indices"),
    ],
)
def test_bad_parameters_are_named(inst, msg):
    with pytest.raises(UsageError, match=msg):
        verify.check("rare-features.nonconvex", instances=[inst])


def test_solver_input_errors():
    P = rare_features_problem(n=6, d=24, m=4, c=2, design="regular", seed=0)
    with pytest.raises(InvalidInput, match="x0 must have shape"):
        ef21(P, np.zeros(3), gamma=0.1, compressor=TopK(1), T=5)
    with pytest.raises(InvalidInput, match="gamma must be > 0"):
        ef21(P, np.zeros(24), gamma=-1.0, compressor=TopK(1), T=5)
    with pytest.raises(InvalidInput, match="init must be"):
        ef21(P, np.zeros(24), gamma=0.1, compressor=TopK(1), T=5, init="ones")
    with pytest.raises(InvalidInput, match="row_ptr"):
        SparseFederated(sps.eye(3, format="csr"), np.zeros(3), np.array([0, 3, 3]))
    with pytest.raises(InvalidInput, match="client 1 has no nonzero data"):
        SparseFederated(sps.csr_matrix(np.array([[1.0, 0], [0, 0]])), np.zeros(2), np.array([0, 1, 2]))
    with pytest.raises(InvalidInput, match="labels"):
        SparseFederated(sps.eye(2, format="csr"), np.array([0.5, 1.0]), np.array([0, 1, 2]), loss="logistic")
    with pytest.raises(UsageError, match="c must satisfy"):
        rare_ownership(4, 10, 5, np.random.default_rng(0))
    with pytest.raises(UsageError, match="n to divide"):
        rare_ownership(4, 3, 1, np.random.default_rng(0), design="regular")


# ----------------------------------------------------------------------------- memory: no densification
def test_one_round_does_not_densify():
    n, d, c = 2000, 40000, 2
    P = rare_features_problem(n=n, d=d, m=2, c=c, design="regular", seed=0, constants=False)
    x0 = np.zeros(d)
    tracemalloc.start()
    ef21(P, x0, gamma=1e-3, compressor=TopK(1), T=1)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 0.05 * n * d * 8, f"peak {peak / 1e6:.1f} MB vs dense (n, d) {n * d * 8 / 1e6:.0f} MB"


def test_sparse_logistic_lower_bound_certificate():
    from ratecheck.verify.optima import sparse_logistic_lower_bound

    P = rare_features_problem(n=40, d=60, m=12, c=8, loss="logistic", seed=3)
    opt = sparse_logistic_lower_bound(P)
    assert opt.certificate["dual_feasible"]
    assert 0 < opt.lower <= opt.value + 1e-12 and opt.value - opt.lower < 1e-7
    assert P.value(opt.x) == pytest.approx(opt.value, rel=1e-12)
    rng = np.random.default_rng(0)
    for _ in range(20):  # no point beats the certified lower bound
        assert P.value(opt.x + 0.1 * rng.standard_normal(P.d)) >= opt.lower


# ----------------------------------------------------------------------------- absurd sizes
@pytest.mark.parametrize(
    "params, words",
    [
        (dict(n=10**9, c=1), ("n",)),
        (dict(d=10**9), ("d",)),
        (dict(m=10**9), ("m",)),
        (dict(T=10**10), ("T",)),
        (dict(T_max=10**10), ("T_max",)),
        (dict(r=10**9), ("r",)),
        (dict(samples=10**9), ("samples",)),
    ],
)
def test_absurd_sizes_are_refused_before_allocating(refused_without_allocating, params, words):
    refused_without_allocating("rare_features", params, *words)


@pytest.mark.parametrize(
    "token, line",
    [
        ("1e400", 3),
        ("4e9", 3),
        ("1000000000000000000", 3),
        ("4294967296", 3),
        ("-2", 3),
        ("2.0", 3),
        ("1_0", 3),
        ("9" * 5000, 3),
    ],
)
def test_svmlight_feature_index_outside_the_rule_names_file_line_and_rule(tmp_path, token, line):
    p = tmp_path / "bad.svm"
    p.write_text(f"+1 1:1 2:0.5\n# a comment line\n-1 {token}:1\n+1 3:1\n")
    tracemalloc.start()
    try:
        with pytest.raises(InvalidInput) as info:
            read_svmlight(p)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    msg = str(info.value)
    assert "\n" not in msg and str(p) in msg and f"line {line}:" in msg, msg
    assert "feature index" in msg and "decimal integer in [0, 2147483647]" in msg, msg
    assert peak < 5_000_000


def test_svmlight_bad_values_and_labels_name_the_line(tmp_path):
    p = tmp_path / "bad.svm"
    for text, words in [
        ("+1 1:1\n-1 2:1e400\n", ("line 2", "feature value '1e400' must be a finite number")),
        ("+1 1:1\n-1 2:nan\n", ("line 2", "finite number")),
        ("+1 1:1\n\ninf 2:1\n", ("line 3", "label 'inf' must be a finite number")),
        ("+1 1:1\n-1 2:1:3\n", ("line 2", "malformed feature token '2:1:3'")),
    ]:
        p.write_text(text)
        with pytest.raises(InvalidInput) as info:
            read_svmlight(p)
        assert all(w in str(info.value) for w in words), str(info.value)
    p.write_text("+1 0000000000003:1 1:2\n-1 2147483647:1\n")  # leading zeros, the largest index
    X, y = read_svmlight(p)
    assert X.shape == (2, 2147483647) and X.nnz == 3 and X[0, 2] == 1.0 and X[1, 2147483646] == 1.0


def test_libsvm_file_with_a_huge_feature_index_is_refused_before_its_problem(tmp_path):
    p = tmp_path / "wide.svm"
    p.write_text("+1 1:1 2:1\n-1 2147483647:1\n+1 3:1\n-1 2:1\n")
    with pytest.raises(
        UsageError,
        match=r"needs about .* floats\), more than the .* available; reduce the number of "
        r"features of the data file",
    ):
        verify.check("rare-features.nonconvex", instances=[dict(data=str(p), clients=2)])
    bad = tmp_path / "bad.svm"
    bad.write_text("+1 1:1 2:1\n-1 1e400:1\n")
    with pytest.raises(UsageError, match=r"line 2: feature index '1e400' must be a decimal integer"):
        verify.check("rare-features.nonconvex", instances=[dict(data=str(bad), clients=2)])


# --------------------------------------------------------------------------- the experiment's numerics (moved out of it)
def test_lyapunov_weights_named_by_the_setting():
    from ratecheck.solvers.rare_features import lyapunov_weights

    P = rare_features_problem(n=6, d=18, m=3, c=2, seed=0)
    for name in ("uniform", "qm", "rare"):
        assert np.array_equal(lyapunov_weights(name, P), np.full(6, 1 / 6))
    for name in ("am", "w"):
        assert np.allclose(lyapunov_weights(name, P) * P.L_i, P.L_am / 6)
    assert np.allclose(lyapunov_weights("owners", P) * P.L_i, P.L_O / 6)
    with pytest.raises(InvalidInput, match="setting lyapunov must be one of"):
        lyapunov_weights("typo", P)


@pytest.mark.parametrize("loss,reg", [("squares", 0.0), ("squares", 3.0), ("logistic", 0.0)])
def test_rare_features_lower_bound_is_below_the_loss(loss, reg):
    from ratecheck.verify.optima import rare_features_lower_bound

    P = rare_features_problem(n=5, d=20, m=4, c=2, loss=loss, reg=reg, seed=1)
    f_low, cert = rare_features_lower_bound(P)
    rng = np.random.default_rng(0)
    assert all(P.value(x) >= f_low - 1e-10 for x in rng.standard_normal((20, 20)))
    assert isinstance(cert["f_low_method"], str)
    if loss == "squares" and reg == 0 and P.mu:
        assert "PL-certified" in cert["f_low_method"] and cert["pl_gap"] >= 0


def test_rare_features_instance_start_and_constants():
    from ratecheck.verify.instances import (
        rare_features_constants,
        rare_features_instance,
        rare_features_start,
        sampled_rare_features_problems,
        theta_c,
        xi,
    )

    kw = dict(data=None, clients=None, split="shuffled", bias=False, n=6, d=18, m=3, c=2, design="random")
    P = rare_features_instance(**kw, loss="squares", reg=0.0, seed=4)
    Q = rare_features_problem(n=6, d=18, m=3, c=2, seed=4)
    assert (P.A != Q.A).nnz == 0 and np.array_equal(P.y, Q.y)
    x0 = rare_features_start("uniform", 18, seed=4)
    assert np.all(np.abs(x0) <= 1 / np.sqrt(18)) and not np.array_equal(x0, rare_features_start("uniform", 18, 5))
    assert not np.any(rare_features_start("zero", 18, 4))
    c = rare_features_constants(P, 2)
    assert c["alpha"] == 2 / 18 and c["alpha_kr"] == min(1.0, 2 / P.r)
    assert c["theta_c_kr"] == theta_c(c["alpha_kr"]) and c["xi_kd"] == xi(2 / 18)
    probs = sampled_rare_features_problems(np.random.default_rng(0), 9)
    assert len(probs) == 9 and all(q.c == 1 for q in probs[::4])
    assert all(q.L <= q.L_plus * (1 + 1e-12) for q in probs)
