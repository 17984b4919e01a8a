"""The local-method claims (ProxSkip/Scaffnew, Local GD, FLIX): each holds on its quick instances with the
expected tightness, each teeth variant is reported violated by the plain check (the search side is
tests/verify/test_searching_teeth.py), and the provenance tags are those of the spec."""

import numpy as np
import pytest

from ratecheck import theorems, verify
from ratecheck.solvers.local_methods import generalized_max_eig, proxskip_maps
from ratecheck.verify.checking import outcome
from ratecheck.verify.cli import main
from ratecheck.verify.experiments import get
from ratecheck.verify.experiments.local_methods import (
    DENSE_STATE,
    proxskip_engine,
)
from ratecheck.verify.instances import local_quadratic_clients

CLAIMS = [c.id for c in theorems.all() if c.experiment == "local_methods"]
SLOW = {"proxskip.comm-complexity", "proxskip.p-tradeoff"}  # exact hitting times over thousands of steps
TEETH = [t.id for c in CLAIMS for t in theorems.teeth(c)]


def _maybe_slow(ids):
    return [pytest.param(i, marks=pytest.mark.slow) if i.split("~")[0] in SLOW else i for i in ids]


def test_all_sixteen_spec_ids_are_encoded():
    assert sorted(CLAIMS) == sorted(
        [
            "proxskip.linear-rate",
            "proxskip.stochastic",
            "proxskip.one-step",
            "proxskip.gd-special-case",
            "proxskip.comm-complexity",
            "proxskip.p-tradeoff",
            "local-gd.fixed-point",
            "local-gd.neighbourhood",
            "local-gd.identical-hessians",
            "local-gd.floor-vs-H",
            "local-gd.comm-vs-H",
            "local-gd.khaled-convex",
            "flix.constants",
            "flix.quadratic-uniform",
            "flix.complexity",
            "flix.local-gd-equivalence",
        ]
    )
    assert all(theorems.teeth(c) for c in CLAIMS)


def test_provenance_tags_follow_the_spec():
    tag = {c: theorems.get(c).provenance.value for c in CLAIMS}
    assert tag["proxskip.linear-rate"] == "reconstructed"
    assert tag["proxskip.stochastic"] == "reconstructed"
    assert tag["local-gd.khaled-convex"] == "reconstructed"
    assert (
        tag["proxskip.comm-complexity"] == "paper"
        and "[derived]" in theorems.get("proxskip.comm-complexity").provenance_note
    )
    assert tag["flix.complexity"] == "paper" and "[derived]" in theorems.get("flix.complexity").provenance_note
    assert "[not found]" in theorems.get("flix.constants").provenance_note
    derived = set(CLAIMS) - {
        "proxskip.linear-rate",
        "proxskip.stochastic",
        "local-gd.khaled-convex",
        "proxskip.comm-complexity",
        "flix.complexity",
    }
    assert all(tag[c] == "derived" for c in derived)


@pytest.mark.parametrize("cid", _maybe_slow(CLAIMS))
def test_claim_holds_on_its_quick_instances(cid):
    vs = verify.check(cid, quick=True)
    assert outcome(vs) == ("holds", False), [(v.instance, v.detail) for v in vs]


@pytest.mark.parametrize("tid", _maybe_slow(TEETH))
def test_teeth_caught_by_check(tid):
    assert outcome(verify.check(tid, quick=True))[0] == "violated"


@pytest.mark.parametrize(
    "cid, low",
    [
        ("proxskip.one-step", 1 - 1e-9),  # attained: the constants cannot be improved
        ("proxskip.linear-rate", 0.9),
        ("proxskip.stochastic", 0.9),
        ("flix.constants", 1 - 1e-9),  # exact on quadratics with uniform tau
        ("local-gd.fixed-point", 0.4),
        ("local-gd.neighbourhood", 0.3),
        ("flix.complexity", 0.5),
    ],
)
def test_tightness(cid, low):
    t = max(v.tightness for v in verify.check(cid, quick=True) if v.tightness is not None)
    assert low <= t <= 1 + 1e-9


def test_sqrt_kappa_against_gd_on_the_fair_family():
    """The ProxSkip slope is at most 1/2 and GD's is about 1 on Q1(kappa) (kappa_f = kappa/2)."""
    v = verify.check("proxskip.comm-complexity", instances=[dict(instance="q1", kappas=(10.0, 40.0, 160.0), eps=1e-4)])[
        0
    ]
    assert v.verdict == "holds"
    c = v.evidence.constants
    assert 0.35 < c["proxskip_slope"] <= 0.5 and 0.95 < c["gd_slope"] < 1.05
    assert all(v.evidence.series["proxskip"] <= v.evidence.series["proxskip_bound"])


def test_memory_estimate_follows_the_engine_that_runs():
    """A shared eigenbasis at n = 10, d = 1,000 runs d systems of size 2n (tens of MB), not the 2nd = 20,000
    state (32 GB): the guard accepts it; a rotated instance of the same size keeps the full-state estimate."""
    exp = get("local_methods")
    big = dict(n=10, d=1000, T=50)
    diag = exp.params(dict(big, instance="diagonal"))  # refused before (the dense estimate)
    assert proxskip_engine(10, 1000, "diagonal") == "coordinates"
    assert exp.memory_bytes(diag) < 1e9
    rotated = exp.schema.validate_params(dict(big, instance="rotated"))
    assert proxskip_engine(10, 1000, "rotated") == "structured" and exp.memory_bytes(rotated) > 3e10
    small = exp.schema.validate_params(dict(instance="diagonal", n=4, d=3))
    assert proxskip_engine(4, 3, "diagonal") == "dense"
    assert exp.memory_bytes(small) >= 40 * (4 * 3) ** 2 * 8
    # and the accepted instance runs through the command line (exit 0, the claim holds)
    args = ["check", "proxskip.linear-rate", "--no-teeth", "--no-report", "--param", "instance=diagonal"]
    assert main(args + ["--param", "n=10", "--param", "d=1000", "--param", "T=50"]) == 0


def test_one_step_bound_by_coordinate_blocks_equals_the_full_state():
    """Above the dense threshold a shared eigenbasis checks the one-step bound block by block (d blocks of
    2n x 2n): the largest generalized eigenvalue equals the full state's."""
    exp = get("local_methods")
    claim = theorems.get("proxskip.one-step")
    p = exp.params(dict(instance="diagonal", n=8, d=9, p=0.3, gamma_factor=0.7))
    assert 2 * 8 * 9 > DENSE_STATE
    ev = exp.run(claim, p, seed=0)
    c = ev.constants
    P = local_quadratic_clients("diagonal", n=8, d=9)
    M0, M1 = proxskip_maps(P.A, c["gamma"], c["p"])
    N = P.n * P.d
    W = np.r_[np.ones(N), np.full(N, (c["gamma"] / c["p"]) ** 2)]
    Q = (1 - c["p"]) * M0.T @ (W[:, None] * M0) + c["p"] * M1.T @ (W[:, None] * M1)
    full = generalized_max_eig(Q, np.r_[np.full(N, c["coef_e"]), np.full(N, c["coef_g"])])
    assert abs(float(ev.measured[0]) - full) <= 1e-10 * abs(full)


def test_stochastic_gradients_reach_a_noise_floor_that_the_bound_covers():
    """With additive gradient noise E Psi_t no longer decays to 0: it settles at a floor above the deterministic
    rate's value (so the no-noise-term tooth must fail) and below gamma^2 C / zeta (the claim)."""
    v = verify.check("proxskip.stochastic", instances=[dict(p=0.3, T=600, noise=0.5)])[0]
    assert v.verdict == "holds"
    c, psi = v.evidence.constants, np.asarray(v.evidence.measured)
    zeta = min(c["gamma"] * c["mu"], c["p"] ** 2)
    floor = c["gamma"] ** 2 * c["C"] / zeta
    assert c["C"] == pytest.approx(c["n"] * c["d"] * 0.25)
    assert abs(psi[-1] - psi[-50]) <= 1e-6 * psi[-1]  # stationary
    assert (1 - zeta) ** 600 * c["Psi0"] < 1e-3 * psi[-1] and psi[-1] <= floor


def test_stochastic_measure_refuses_noise_on_the_structured_engine_in_one_line(capsys):
    """Noise needs the dense maps or the coordinates (the structured operators carry no noise covariance): a
    large rotated instance is refused by a one-line error naming the rule and the choices (exit 2)."""
    args = ["check", "proxskip.stochastic", "--no-teeth", "--no-report", "--param", "instance=rotated"]
    assert main(args + ["--param", "n=10", "--param", "d=10", "--param", "T=5"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "noise > 0 needs the dense engine" in err[0] and "'diagonal'" in err[0]


def test_measures_share_the_cached_clients_and_logistic_is_refused_outside_its_measure(capsys):
    """Two measures on the same instance and seed build the clients once (the shared run cache); the pipeline's
    FLIX and identical-Hessian steps derive new clients without touching the cached ones.  Logistic clients serve
    proxskip_lyapunov only: any other measure, the kappa sweep included, is a one-line error (exit 2)."""
    from ratecheck.verify.experiments import CACHE

    exp = get("local_methods")
    CACHE.clear()
    p = exp.params(dict(n=4, d=3))
    a = exp.pipeline(theorems.get("local-gd.fixed-point"), p, 0)
    b = exp.pipeline(theorems.get("flix.complexity"), p, 0)
    c = exp.pipeline(theorems.get("local-gd.identical-hessians"), p, 0)
    assert a.instance.problem is b.instance.problem and b.instance.flix is not None
    assert c.instance.problem is not a.instance.problem
    np.testing.assert_array_equal(c.instance.problem.A, np.broadcast_to(a.instance.problem.A_bar, (4, 3, 3)))
    for cid in ("local-gd.fixed-point", "proxskip.comm-complexity"):
        assert main(["check", cid, "--no-teeth", "--no-report", "--param", "instance=logistic"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "serves measure proxskip_lyapunov only" in err[0], err
