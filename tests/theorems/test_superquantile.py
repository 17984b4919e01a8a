"""Every superquantile / Simplicial-FL claim gets its expected verdict on its quick default instances,
every teeth variant is caught, and the experiment rejects bad parameters with a clear message."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from ratecheck import theorems, verify
from ratecheck.verify.checking import UsageError, outcome

CLAIMS = [c for c in theorems.all() if c.id.startswith(("superquantile.", "simplicial-fl."))]
TEETH = [t for c in CLAIMS for t in theorems.teeth(c.id)]

ISSUE_IDS = {
    "superquantile.bias-sign",
    "superquantile.bias-levy",
    "superquantile.bias-exact",
    "superquantile.bias-density",
    "superquantile.variance",
    "superquantile.bias-sharp",
    "superquantile.bias-rate",
    "superquantile.l2-smoothing-gap",
    "superquantile.entropic-gap",
    "superquantile.slide-bias",
    "superquantile.slide-variance",
    "superquantile.slide-bias-abs",
    "simplicial-fl.convex",
}


def test_issue_ids_are_registered_with_teeth():
    ids = {c.id for c in CLAIMS}
    assert ISSUE_IDS <= ids
    for c in CLAIMS:
        assert theorems.teeth(c.id), f"{c.id} has no teeth"
        assert c.experiment == "superquantile"
        assert c.paper and c.measure


def test_slide_claims_are_encoded_as_printed():
    th, m, B = theorems.sym("theta"), theorems.sym("m"), theorems.sym("B")
    for cid in ("superquantile.slide-bias", "superquantile.slide-bias-abs"):
        assert sp.simplify(theorems.get(cid).bound - B / (th * m)) == 0
    assert sp.simplify(theorems.get("superquantile.slide-variance").bound - B**2 / (th * m)) == 0
    assert theorems.get("superquantile.slide-bias").provenance.value == "reconstructed"
    assert theorems.get("superquantile.slide-variance").expected_to_fail
    assert theorems.get("superquantile.slide-bias-abs").expected_to_fail
    assert not theorems.get("superquantile.slide-bias").expected_to_fail


@pytest.mark.parametrize("claim", CLAIMS + TEETH, ids=lambda c: c.id)
def test_expected_outcome_quick(claim):
    verdicts = verify.check(claim, quick=True)
    status, unexpected = outcome(verdicts)
    assert not unexpected, "\n".join(f"{v.claim}: {v.verdict} on {v.instance}: {v.detail}" for v in verdicts)
    if "~" not in claim.id:  # the conformance contract of verdict records (teeth excluded)
        for v in verdicts:
            d = v.to_dict()
            assert d["claim"] == claim.id and d["paper"] and "seed" in d and "instance" in d
            if v.tightness is not None:
                assert np.isfinite(v.tightness) and v.tightness >= 0


def test_bias_exact_is_attained_for_bernoulli():
    v = verify.check("superquantile.bias-exact", quick=True)[0]
    assert v.tightness == pytest.approx(1.0, abs=1e-9)
    np.testing.assert_allclose(v.evidence.measured, v.evidence.bound, rtol=1e-9)


def test_l2_gap_bound_is_attained():
    v = verify.check("superquantile.l2-smoothing-gap", quick=True)[0]
    assert v.tightness == pytest.approx(1.0, abs=1e-9)


def test_user_claim_against_the_experiment():
    # a user's own (correct) variant: T6 with the constant 1 instead of 1/2
    th, m, B = theorems.sym("theta"), theorems.sym("m"), theorems.sym("B")
    mine = theorems.Claim(
        id="user.sq",
        title="mine",
        paper="me",
        provenance="derived",
        kind="upper",
        measure="bias",
        in_expectation=True,
        bound=B * sp.sqrt((1 - th) / (th * m)),
        setting={"B": "range"},
        experiment="superquantile",
    )
    verify.assert_claim_holds(mine, instances=[dict(law="bernoulli", theta=0.2, m_max=500)])


@pytest.mark.parametrize(
    "params,match",
    [
        (dict(theta=0.0), "theta"),
        (dict(theta=1.5), "theta"),
        (dict(law="cauchy"), "law"),
        (dict(low=1.0, high=0.0), "high"),
        (dict(m_min=0), "m_min"),
        (dict(replications=1), "replications"),
        (dict(p=2.0), "p must"),
        (dict(sample_m=20, clients=8), "sample_m"),
        (dict(bogus=1), "bogus"),
        (dict(nu=-1.0), "nu"),
        (dict(tail="best"), "tail"),
    ],
)
def test_bad_parameters(params, match):
    with pytest.raises(UsageError, match=match):
        verify.check("superquantile.bias-levy", instances=[params])


def test_density_claim_refuses_laws_without_lipschitz_inverse_cdf():
    with pytest.raises(UsageError, match="G_icdf|inverse cdf"):
        verify.check("superquantile.bias-density", instances=[dict(law="bernoulli")])


def test_reproducible_monte_carlo():
    inst = [dict(law="beta", theta=0.3, m_min=10, m_max=20, m_points=2, integer_tm=False, replications=2000)]
    a = verify.check("superquantile.bias-sign", instances=inst, seed=3)[0].evidence.measured
    b = verify.check("superquantile.bias-sign", instances=inst, seed=3)[0].evidence.measured
    np.testing.assert_array_equal(a, b)


def test_true_claims_hold_on_random_search_points():
    """Property test over (law, theta, p, shift, m range) and (n, theta, nu): the valid claims hold."""
    from ratecheck.verify.experiments import get

    exp = get("superquantile")
    rng = np.random.default_rng(0)
    for c in CLAIMS:
        space = exp.search_space_for(c)
        if space is None:
            continue
        for _ in range(2):
            point = {}
            for k, spec in space.items():
                if spec[0] == "choice":
                    point[k] = spec[1][int(rng.integers(len(spec[1])))]
                elif spec[0] == "int":
                    point[k] = int(rng.integers(spec[1], spec[2] + 1))
                elif spec[0] == "logfloat":
                    point[k] = float(np.exp(rng.uniform(np.log(spec[1]), np.log(spec[2]))))
                else:
                    point[k] = float(rng.uniform(spec[1], spec[2]))
            vs = verify.check(c, instances=[exp.from_search(point)], seed=int(rng.integers(1000)))
            if not c.expected_to_fail and c.kind.value != "scaling":
                assert vs[0].verdict == "holds", f"{c.id} on {point}: {vs[0].detail}"


SMOOTHING_IDS = ["superquantile.l2-smoothing-gap", "superquantile.entropic-gap", "superquantile.entropic-gap-lower"]


@pytest.mark.parametrize("nu", [1e-6, 1e-14])
@pytest.mark.parametrize("cid", SMOOTHING_IDS)
def test_smoothing_gaps_at_small_nu_are_evidence_not_tolerance(cid, nu):
    """The gap used to be a difference of two values of size max|x| (about 150) judged with
    atol = 64 eps max|x| max(1, max|x|/nu), larger than the bound at small nu (5e-4 against 3e-6 at
    nu = 1e-6): 'holds' on evidence that could not tell, 'tightness inf' on negative gaps of the lower
    bound.  The gap is now computed relative to the quantile: its error bound is far below the bound,
    every gap is positive and inside the derived interval, and the teeth are still caught."""
    vs = verify.check(cid, quick=True)
    small = verify.check(cid, instances=[dict(v.instance, nu=nu) for v in vs])
    for v in small:
        ev = v.evidence
        assert v.verdict == "holds", v.detail
        assert ev.atol < 1e-9 * ev.bound.min()
        assert np.all(ev.measured > 0) and np.isfinite(v.tightness) and v.tightness <= 1 + 1e-9
    for t in theorems.teeth(cid):
        assert all(w.verdict == "violated" for w in verify.check(t, instances=[dict(v.instance, nu=nu) for v in vs]))


@pytest.mark.parametrize("cid", SMOOTHING_IDS)
def test_smoothing_gaps_beyond_the_resolution_of_the_losses_are_no_evidence(cid):
    """At nu = 1e-300 the weight solve cannot normalise: those rows are NaN (no evidence), never 'holds'."""
    vs = verify.check(cid, quick=True)
    for v in verify.check(cid, instances=[dict(v.instance, nu=1e-300) for v in vs]):
        assert v.verdict == "inconclusive" and "measured value is nan" in v.detail
        assert v.evidence.constants["unsolved_rows"] > 0


# ----------------------------------------------------------------------------- strongly convex rate at a kink
SC = "simplicial-fl.strongly-convex"


def test_strongly_convex_kinked_optimum_seed6_is_inconclusive_not_violated():
    """Regression for the sweep finding: seed 6 gave a fitted slope -0.71 ([-0.76, -0.66]) on T in [256, 8192].

    Cause: the regularised surrogate's optimum lies on a kink, the tie of clients 4 and 6 in the tail
    selection (10 of the 70 subsets), whose flat one-sided slope c_g = 0.029 is small against the
    subgradient noise across it (sd 2.0; steep side 0.362).  The (t + 1)-weighted average keeps a bias
    toward the flat side that reaches its 1/T regime only past T_x = s1^2 mu^2/c_g^2 = 8.4e3: T gap climbs
    from 0.87 (T = 256) to 3.54 (T = 2^20), local slopes -0.6 to -0.9 in between, -0.98 at 2^20 (measured).
    Not the exp(-T/kappa^1.5) transient (kappa = L/lambda = 1.12), not the stepsize (the realised local
    strong convexity 2.76 in place of lambda = 2 gives -0.75), not Monte Carlo noise, not the optimum
    (certified, duality gap 1.6e-13).  The exponent is judged on T >= 256 T_x only: inconclusive here."""
    (v,) = verify.check(SC, seed=6)
    assert v.verdict == "inconclusive", v.detail
    c = v.constants
    assert c["kinks"] == 1 and c["kink_clients"] == "4,6"
    assert c["kink_flat_slope"] == pytest.approx(0.0291, rel=0.01)
    assert c["kink_steep_slope"] == pytest.approx(0.362, rel=0.01)
    assert c["T_cross"] == pytest.approx(8.37e3, rel=0.02)
    assert c["T_onset"] == pytest.approx(256 * c["T_cross"])
    assert "kink" in v.detail and "not judged" in v.detail
    assert -0.8 < v.evidence.fit.slope < -0.6  # the departure is still recorded


def test_strongly_convex_kinked_optimum_teeth_are_not_judged_either():
    """On seed 6 the wrong exponents are not judged either (no verdict is drawn from the crossover window)."""
    for t in theorems.teeth(SC):
        (v,) = verify.check(t, seed=6, quick=True)
        assert v.verdict == "inconclusive", (t.id, v.detail)
    assert {t.id for t in theorems.teeth(SC)} >= {SC + "~exponent-2", SC + "~exponent-half"}


def test_strongly_convex_judges_only_the_tail_past_the_onset(monkeypatch):
    """Where the grid reaches T >= KINK_ONSET_FACTOR T_x the fit uses those horizons only (mechanics: the factor
    is lowered here so that the seed-6 grid reaches it; the verdict itself is not the point)."""
    import ratecheck.verify.experiments.superquantile as sqe

    monkeypatch.setattr(sqe, "KINK_ONSET_FACTOR", 1000 / 8367.0)
    (v,) = verify.check(SC, seed=6, quick=True)
    ev = v.evidence
    assert ev.premise_unmet == "" and v.verdict in ("holds", "violated")
    assert ev.grid.min() >= v.constants["T_onset"] and ev.grid.size >= 3
    assert v.constants["fit_T_min"] == ev.grid.min() and ev.series["T"].min() == 256


def test_kink_onset_range():
    """Onset 256 T_x inside the mapped range of the reduced model, none (inf) outside it, 0 without kinks."""
    from ratecheck.solvers.superquantile import SurrogateKink
    from ratecheck.verify.experiments.superquantile import SuperquantileExperiment

    def kink(flat, steep, curvature=2.95, noise=2.0):
        return SurrogateKink(
            clients=(0, 1),
            distance=0.0,
            normal=np.array([1.0, 0.0]),
            flat_slope=flat,
            steep_slope=steep,
            flat_side=1,
            curvature=curvature,
            noise=noise,
        )

    onset, c = SuperquantileExperiment.kink_onset([kink(0.0291, 0.362)], lam=2.0)
    s1sq = 2.0**2 / (2 * 2.95 - 1)
    assert c["T_cross"] == pytest.approx(s1sq / (0.0291 / 2.95) ** 2) and onset == pytest.approx(256 * c["T_cross"])
    assert np.isinf(SuperquantileExperiment.kink_onset([kink(0.1, 0.12)], lam=2.0)[0])  # nearly symmetric kink
    assert np.isinf(SuperquantileExperiment.kink_onset([kink(0.1, 1.0, curvature=8.0)], lam=2.0)[0])  # a mu = 8
    assert SuperquantileExperiment.kink_onset([], lam=2.0) == (0.0, {"kinks": 0, "T_cross": 0.0, "T_onset": 0.0})


# ----------------------------------------------------------------------------- absurd sizes
@pytest.mark.parametrize(
    "params, words",
    [
        (dict(m_max=10**10), ("m_max",)),
        (dict(m_points=10**9), ("m_points",)),
        (dict(replications=10**10), ("replications",)),
        (dict(rows=10**9), ("rows",)),
        (dict(runs=10**9), ("runs",)),
        (dict(T_max=10**10), ("T_max",)),
    ],
)
def test_absurd_sizes_are_refused_before_allocating(refused_without_allocating, params, words):
    refused_without_allocating("superquantile", params, *words)


# ----------------------------------------------------------------------------- extreme finite values
@pytest.mark.parametrize(
    "claim, params, msg",
    [
        (
            "superquantile.variance",
            dict(high=1e300),
            r"high must be a finite number in \[-1e\+100, 1e\+100\], got 1e\+300",
        ),
        ("superquantile.bias-sign", dict(low=-1e160), r"low must be a finite number in \[-1e\+100, 1e\+100\]"),
        ("simplicial-fl.strongly-convex", dict(theta=1e-10), r"theta must be a finite number in \[1e-06, 1\]"),
        ("simplicial-fl.strongly-convex", dict(lam=1e8), r"lam must be a finite number in \[0, 1e\+06\]"),
        (
            "simplicial-fl.strongly-convex",
            dict(separation=1e4),
            r"separation must be a finite number in \[-1000, 1000\]",
        ),
    ],
)
def test_extreme_values_are_refused_by_the_declared_ranges(claim, params, msg):
    """high=1e300 gave an OverflowError ((high - low)^2), theta=1e-10 a SolverError, lam=1e8 and separation=1e4
    an uncertified optimum."""
    with pytest.raises(UsageError, match=msg):
        verify.check(claim, instances=[params])


def test_widest_support_runs():
    vs = verify.check("superquantile.variance", instances=[dict(low=-1e100, high=1e100, m_max=200)])
    assert vs[0].verdict == "holds"
