"""The solver contract of solvers/__init__.py: solver(problem, x0, *, gamma, T, rng, ...) -> Trajectory."""

import importlib
import inspect
import pkgutil

import numpy as np
import pytest

from ratecheck import solvers
from ratecheck.solvers import InvalidInput, Trajectory
from ratecheck.solvers import superquantile as sq
from ratecheck.solvers.adom import adom_plus, gradient_tracking
from ratecheck.solvers.compressors import RandK, TopK
from ratecheck.solvers.ef21 import ef21
from ratecheck.solvers.local_methods import flix_gd, flix_quadratic, local_gd, proxskip
from ratecheck.solvers.lsvrp import lsvrp, sgd
from ratecheck.solvers.personalization import run as personalization_run
from ratecheck.solvers.rare_features import SparseTrajectory, ef21_support, gd_sparse
from ratecheck.solvers.rcd import sketched_rcd, sketched_rcd_naive
from ratecheck.solvers.rfa import rfa
from ratecheck.solvers.superquantile import ciss_alternating, fedavg, sfl_subgradient
from ratecheck.solvers.weiszfeld import rfa_least_squares, smoothed_weiszfeld, weiszfeld
from ratecheck.verify.instances import (
    heterogeneous_least_squares,
    local_quadratic_clients,
    rare_features_problem,
    streams,
    superquantile_clients,
)

SOLVERS = [
    ef21,
    gd_sparse,
    adom_plus,
    gradient_tracking,
    lsvrp,
    sgd,
    sketched_rcd,
    sketched_rcd_naive,
    sfl_subgradient,
    ciss_alternating,
    fedavg,
    smoothed_weiszfeld,
    weiszfeld,
    rfa_least_squares,
    rfa,
    personalization_run,
    proxskip,
    local_gd,
    flix_gd,
]


@pytest.mark.parametrize("solver", SOLVERS, ids=lambda f: f.__name__)
def test_signature_is_problem_x0_then_keywords(solver):
    params = list(inspect.signature(solver).parameters.values())
    assert [p.kind for p in params[:2]] == [inspect.Parameter.POSITIONAL_OR_KEYWORD] * 2
    assert all(p.kind == inspect.Parameter.KEYWORD_ONLY for p in params[2:])
    names = {p.name for p in params[2:]}
    assert "T" in names and "rng" in names and "seed" not in names
    assert inspect.signature(solver).return_annotation != inspect.Signature.empty


def test_every_record_is_a_trajectory_with_its_series():
    P = heterogeneous_least_squares(n=6, d=4, m=3, seed=0)
    tr = ef21(P, np.ones(4), gamma=0.01, T=5, compressor=TopK(1))
    assert isinstance(tr, Trajectory) and tr.T == 5 and tr.x_final.shape == (1, 4)
    assert set(tr.series()) == {"grad_norm_sq", "f", "floats", "bits"}
    assert all(v.shape[-1] == 6 for v in tr.series().values())


def _runs():
    """One small run of each solver whose record was brought to the contract by issue 14 item 3, as
    (record, T, series lengths on the last axis, per-step row attributes and their shapes)."""
    P = local_quadratic_clients("rotated", n=3, d=2)
    x0 = P.x_star + 1.0
    ps = proxskip(P, x0, gamma=0.05, T=7, rng=np.random.default_rng(0), p=0.5, replications=4, x_star=P.x_star)
    lg = local_gd(P, x0, gamma=0.05, T=5, H=3)
    tau = np.full(P.n, 0.5)
    xl = flix_quadratic(P.A, P.b, tau)[0]
    fx = flix_gd(P, x0, gamma=0.05, T=6, tau=tau, x_local=xl)
    rng = np.random.default_rng(1)
    A = rng.standard_normal((6, 10, 3))
    rf = rfa_least_squares((A, A @ np.ones(3)), T=4, corrupted=np.zeros(6, bool), local_steps=2)
    cl = superquantile_clients(n=6, d=2, seed=5)
    sfl = sq.sfl_subgradient(cl, np.zeros(2), gamma=0.05, T=8, theta=0.3, m=3, replications=2, rng=rng)
    ciss = sq.ciss_alternating(cl, np.zeros(2), T=3, theta=0.3, nu=0.1, lam=0.1, eps0=1e-2, kappa=2.0)
    return [
        (ps, 7, {"lyapunov": 8, "comms": 8}, {"x_mean": (4, 8, 2)}),
        (lg, 5, {"comms": 6}, {"x": (6, 2), "virtual": (15, 2)}),
        (fx, 6, {"comms": 7}, {"x": (7, 2)}),
        (rf, 4, {}, {"models": (5, 3)}),
        (sfl, 8, {}, {"x_checkpoints": (9, 2, 2)}),
        (ciss, 3, {"eps": 3, "inner": 3}, {"iterates": (4, 2)}),
    ]


def test_records_put_the_step_on_the_last_axis_of_their_series():
    """Issue 14 item 3: every series of these records has the step on its last axis; per-step vectors (iterates,
    server models, client averages) are rows, documented as such and kept out of ``SERIES``."""
    for tr, T, series, rows in _runs():
        name = type(tr).__name__
        assert isinstance(tr, Trajectory) and tr.T == T, name
        assert {k: v.shape[-1] for k, v in tr.series().items()} == series, name
        assert {k: getattr(tr, k).shape for k in rows} == rows, name
        assert not set(rows) & set(tr.SERIES), name
        assert tr.diverged_at is None and tr.meta["algorithm"], name
        assert tr.x_final is not None and np.all(np.isfinite(tr.x_final)), name


def test_local_method_records_fill_the_base_fields_honestly():
    ps, lg, fx = (r[0] for r in _runs()[:3])
    np.testing.assert_array_equal(ps.x_final, ps.x_mean[:, -1])
    np.testing.assert_array_equal(lg.x_final, lg.x[-1])
    np.testing.assert_array_equal(fx.x_final, fx.x[-1])
    assert ps.meta == {"algorithm": "scaffnew", "replications": 4, "gradients": "exact"}
    assert lg.meta == {"algorithm": "local-gd", "local_steps": 3} and lg.grad_calls == 3 * 3 * 5
    assert fx.meta == {"algorithm": "flix-gd"} and fx.grad_calls == 3 * 6


def test_local_method_records_mark_the_first_overflowing_step():
    P = local_quadratic_clients("rotated", n=3, d=2)
    x0 = P.x_star + 1.0
    with np.errstate(over="ignore", invalid="ignore"):
        lg = local_gd(P, x0, gamma=50.0, T=400, H=2)
        ps = proxskip(P, x0, gamma=50.0, T=400, rng=np.random.default_rng(0), p=0.5, x_star=P.x_star)
        fx = flix_gd(P, x0, gamma=50.0, T=400, tau=np.ones(3), x_local=flix_quadratic(P.A, P.b, np.ones(3))[0])
    # Scaffnew's Lyapunov value (a sum of squares) overflows before its iterates do: the first of either counts
    for tr, rows in ((lg, lg.x), (ps, np.c_[ps.x_mean[0], ps.lyapunov[0]]), (fx, fx.x)):
        t = tr.diverged_at
        assert t is not None and 0 < t <= 400, type(tr).__name__
        assert np.all(np.isfinite(rows[:t])) and not np.all(np.isfinite(rows[t])), type(tr).__name__


def test_deterministic_local_methods_take_no_seed():
    P = local_quadratic_clients("rotated", n=3, d=2)
    with pytest.raises(InvalidInput, match="rng must be a numpy.random.Generator"):
        local_gd(P, np.zeros(2), gamma=0.05, T=2, H=2, rng=0)
    with pytest.raises(InvalidInput, match="rng must be a numpy.random.Generator: the communication coins"):
        proxskip(P, np.zeros(2), gamma=0.05, T=2, rng=None, p=0.5)


def test_record_classes_have_distinct_names():
    """No two record classes of solvers/ share a name, and none but the base is called ``Trajectory`` (issue 14:
    solvers/rfa.py's record was named like solvers/weiszfeld.py's, solvers/personalization.py's like the base)."""
    owners = {}
    for info in pkgutil.iter_modules(solvers.__path__):
        mod = importlib.import_module(f"{solvers.__name__}.{info.name}")
        for name, cls in vars(mod).items():
            if inspect.isclass(cls) and cls.__module__ == mod.__name__ and name.endswith("Trajectory"):
                owners.setdefault(name, []).append(mod.__name__)
    assert owners.pop("Trajectory") == [f"{solvers.__name__}._trajectory"]
    assert {k: v for k, v in owners.items() if len(v) > 1} == {}
    assert {"ByzantineRFATrajectory", "PersonalizationTrajectory", "RFATrajectory"} <= set(owners)


def test_solvers_never_seed_themselves():
    P = heterogeneous_least_squares(n=6, d=4, m=3, seed=0)
    with pytest.raises(InvalidInput, match="rng must be a numpy.random.Generator"):
        ef21(P, np.ones(4), gamma=0.01, T=5, compressor=TopK(1), rng=0)
    with pytest.raises(InvalidInput, match="participation draws random numbers"):
        ef21(P, np.ones(4), gamma=0.01, T=5, compressor=TopK(1), participation=0.5)
    with pytest.raises(InvalidInput, match="rng is required"):
        ef21(P, np.ones(4), gamma=0.01, T=5, compressor=RandK(1))
    a = ef21(P, np.ones(4), gamma=0.01, T=5, compressor=RandK(1), rng=np.random.default_rng(4))
    b = ef21(P, np.ones(4), gamma=0.01, T=5, compressor=RandK(1), rng=np.random.default_rng(4))
    np.testing.assert_array_equal(a.grad_norm_sq, b.grad_norm_sq)


def test_one_ef21_for_dense_and_sparse_data():
    S = rare_features_problem(n=10, d=30, m=4, c=2, seed=1)
    x0 = np.zeros(S.d)
    tr = ef21(S, x0, gamma=1e-3, T=20, compressor=TopK(2))
    ref = ef21_support(S, x0, gamma=1e-3, T=20, k=2)
    assert isinstance(tr, SparseTrajectory)
    np.testing.assert_array_equal(tr.x_final, ref.x_final)
    np.testing.assert_array_equal(tr.grad_norm_sq, ref.grad_norm_sq)
    # the same algorithm on the densified data (up to ties among zeros, none here: x0 = 0 rows differ)
    dense = ef21(S.to_dense(), x0, gamma=1e-3, T=20, compressor=TopK(2))
    np.testing.assert_allclose(dense.grad_norm_sq[0], tr.grad_norm_sq, rtol=1e-9)


@pytest.mark.parametrize(
    "kw, msg",
    [
        (dict(compressor=RandK(1)), "compressor must be TopK"),
        (dict(participation=0.5), "participation apply to dense data only"),
        (dict(replications=3), "replications apply to dense data only"),
        (dict(checkpoints=[1]), "checkpoints apply to dense data only"),
    ],
)
def test_sparse_data_refuses_dense_only_options(kw, msg):
    S = rare_features_problem(n=10, d=30, m=4, c=2, seed=1)
    args = dict(gamma=1e-3, T=5, compressor=TopK(1))
    args.update(kw)
    with pytest.raises(InvalidInput, match=msg):
        ef21(S, np.zeros(S.d), **args)


def test_dense_data_refuses_sparse_only_options():
    P = heterogeneous_least_squares(n=6, d=4, m=3, seed=0)
    with pytest.raises(InvalidInput, match="sparse data"):
        ef21(P, np.ones(4), gamma=0.01, T=5, compressor=TopK(1), stop_below=1e-3)


def test_streams_are_independent_and_keep_the_data():
    s = streams(7)
    np.testing.assert_array_equal(s.data.random(8), np.random.default_rng(7).random(8))  # instances unchanged
    d, x, a = (g.standard_normal(8) for g in streams(7))
    assert not np.allclose(d, x) and not np.allclose(d, a) and not np.allclose(x, a)
    np.testing.assert_array_equal(streams([7, 1]).start.random(3), streams([7, 1]).start.random(3))


def test_ef21_start_point_is_not_a_data_row():
    """The regression of issue 14: x0 = default_rng(seed).standard_normal(d) was client 0's first data row."""
    seed, d = 0, 6
    raw = np.random.default_rng(seed).standard_normal(d)  # what the data stream draws first
    old_x0 = np.random.default_rng(seed).standard_normal(d)
    np.testing.assert_array_equal(old_x0, raw)  # the old start point: a copy of the data's first draws
    np.testing.assert_array_equal(streams(seed).data.standard_normal(d), raw)  # the data is unchanged
    x0 = streams(seed).start.standard_normal(d)
    P = heterogeneous_least_squares(n=8, d=d, m=3, spread=2.0, seed=seed)
    rows = P.A.reshape(-1, d)
    cos = np.abs(rows @ x0) / (np.linalg.norm(rows, axis=1) * np.linalg.norm(x0))
    assert cos.max() < 1 - 1e-6  # no data row is parallel to the start point


def test_contract_is_documented():
    doc = solvers.__doc__
    assert "solver(problem, x0, *, gamma, T, rng, ...) -> Trajectory" in doc
    for f in SOLVERS:
        assert f".{f.__name__}``" in doc, f.__name__
