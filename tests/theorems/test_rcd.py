"""Every RCD/RPT claim holds on its quick default instances; every teeth variant is violated."""

from __future__ import annotations

import numpy as np
import pytest

from ratecheck import theorems, verify
from ratecheck.verify.checking import HOLDS, VIOLATED, UsageError, outcome

IDS = [
    "rcd.strongly-convex",
    "rcd.nonconvex",
    "rcd.convex",
    "rcd.l-tilde",
    "rpt.strongly-convex",
    "rpt.nonconvex",
    "rpt.convex",
    "rpt.unbiased",
]
TEETH = [v.id for cid in IDS for v in theorems.teeth(cid)]


def test_all_issue_claims_registered():
    for cid in IDS:
        c = theorems.get(cid)
        assert c.experiment == "rcd" and c.paper and c.provenance
        assert theorems.teeth(cid), f"{cid} ships no teeth"


@pytest.mark.parametrize("cid", IDS)
def test_claim_holds_quick(cid):
    verdicts = verify.assert_claim_holds(cid, quick=True)
    assert outcome(verdicts) == (HOLDS, False)
    for v in verdicts:
        if v.tightness is not None:
            assert 0 < v.tightness <= 1 + 1e-9


@pytest.mark.parametrize("tid", TEETH)
def test_teeth_violated_quick(tid):
    verdicts = verify.check(tid, quick=True)
    status, unexpected = outcome(verdicts)
    assert status == VIOLATED and not unexpected, [(v.instance.get("sketch"), v.verdict, v.detail) for v in verdicts]


def test_exact_engine_used_on_quadratics_and_mc_elsewhere():
    vs = verify.check("rpt.strongly-convex", quick=True)
    methods = {v.instance.get("problem", "quadratic"): v.method for v in vs}
    assert methods["quadratic"].startswith("exact-expectation") and methods["logistic"].startswith("monte-carlo")


def test_sc_bound_attained_on_isotropic_instance():
    """A = I with the uniform single-coordinate sketch: E gap = (1 - 1/d)^T delta0 exactly = the bound."""
    v = verify.check(
        "rcd.strongly-convex",
        instances=[dict(d=10, T=50, cond=1.0, coupling=0.0, profile="flat", sketch="coordinate-uniform")],
    )[0]
    ev = v.evidence
    np.testing.assert_allclose(ev.measured, ev.bound, rtol=1e-10)


def test_user_claim_against_experiment():
    """A user-modified claim is judged as written (here: a looser bound still holds)."""
    c = theorems.get("rcd.nonconvex")
    mine = c.variant("twice", bound=2 * c.bound)
    v = verify.check(mine, experiment="rcd", instances=[dict(d=8, T=50, sketch="tau-nice", tau=2)])
    assert v[0].verdict == HOLDS and v[0].tightness < 0.5 + 1e-12


@pytest.mark.parametrize(
    "inst, match",
    [
        (dict(stepsize_factor=2.0, sketch="gd", d=6, T=5), "gamma"),
        (dict(p=[0.5, 0.6, 0.0, 0.0], sketch="rpt-prefix", d=8, T=5), "p must be a probability distribution"),
        (dict(p=[0.5, 0.5, 0.0, 0.0], sketch="rpt-prefix", d=8, T=5), "p_J"),
        (dict(zero_eigs=2, d=8, T=5), "mu"),
        (dict(method="exact", problem="logistic"), "method='exact' needs problem='quadratic'"),
        (dict(sketch="sparse"), "sketch must be one of"),
        (dict(blocks=30, d=10), "blocks must be <= d"),
        (dict(colour=1), "unknown parameter 'colour'"),
    ],
)
def test_bad_instance_parameters(inst, match):
    with pytest.raises(UsageError, match=match):
        verify.check("rpt.strongly-convex", instances=[inst])


def test_cost_to_eps_small():
    from ratecheck.verify.figures.rcd import cost_to_eps
    from ratecheck.verify.instances import block_quadratic

    prob = block_quadratic(d=8, blocks=2, profile="decreasing", cond=5.0, coupling=0.1, seed=0)
    res = cost_to_eps(prob, eps=np.array([1e-1, 1e-3]), T_max=2000)
    rows = res["rows"]
    assert rows["RPT optimised p"]["theory_cost"][1] <= rows["RPT uniform p"]["theory_cost"][1] * (1 + 1e-9)
    assert np.all(np.isfinite(rows["GD"]["measured_cost"]))


# ----------------------------------------------------------------------------- absurd sizes
@pytest.mark.parametrize(
    "params, words",
    [
        (dict(d=10**6), ("d",)),
        (dict(replications=10**9), ("replications",)),
        (dict(T=10**10), ("T",)),
        (dict(m=10**9), ("m",)),
        (dict(samples=10**12), ("samples",)),
    ],
)
def test_absurd_sizes_are_refused_before_allocating(refused_without_allocating, params, words):
    refused_without_allocating("rcd", params, *words)
