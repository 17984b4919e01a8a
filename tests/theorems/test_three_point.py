"""The 3PC claims as mathematics: ids and provenance as in the spec, every identity proved (sympy) or unrefuted
(sampled), EF21 the special case of the shipped ef21 claim objects, and the constants teeth refuted."""

import sympy as sp

from ratecheck import theorems
from ratecheck.theorems import ef21
from ratecheck.theorems import three_point as tpc

IDS = [
    "3pc.definition",
    "3pc.constants",
    "3pc.nonconvex",
    "3pc.lyapunov-step",
    "3pc.complexity",
    "3pc.pl",
    "3pc.ef21-reduction",
    "3pc.lag-constants",
    "3pc.clag",
    "3pc.lag-vs-chen",
    "adacgd.constants",
]


def test_every_spec_id_is_encoded_with_teeth():
    have = {c.id for c in theorems.all() if c.id.startswith(("3pc.", "adacgd."))}
    assert have == set(IDS)
    for cid in IDS:
        assert theorems.teeth(cid), cid


def test_provenance_never_presents_a_derived_or_missing_result_as_the_papers():
    tag = {cid: theorems.get(cid) for cid in IDS}
    assert tag["3pc.nonconvex"].provenance.value == "paper"
    assert tag["3pc.pl"].provenance.value == "derived" and "[not found]" in tag["3pc.pl"].provenance_note
    assert tag["3pc.lyapunov-step"].provenance.value == "derived"
    assert tag["adacgd.constants"].provenance.value == "derived"
    assert "[not found]" in tag["adacgd.constants"].provenance_note
    assert "[derived]" in tag["3pc.constants"].provenance_note  # the GD entry (poster misprint)
    assert "[not found]" in tag["3pc.lag-vs-chen"].provenance_note
    assert "[reconstructed]" in tag["3pc.lag-vs-chen"].provenance_note


def test_every_identity_holds():
    for cid in ("3pc.constants", "3pc.ef21-reduction", "3pc.lag-constants", "3pc.clag", "adacgd.constants"):
        for proof in theorems.get(cid).prove(n_samples=1000):
            assert proof.holds, (cid, proof.statement, proof.detail)
    for proof in theorems.get("3pc.lag-vs-chen").prove():
        assert proof.holds and proof.method == "sympy", proof.statement


def test_ef21_reduction_is_proved_by_sympy_against_the_shipped_claim_objects():
    proofs = theorems.get("3pc.ef21-reduction").prove()
    assert all(p.holds and p.method == "sympy" for p in proofs)
    # the reduction substitutes into the 3PC expressions and compares with the imported ef21 objects
    at = {tpc.A3: ef21.theta_c(ef21.alpha), tpc.B3: ef21.beta_c(ef21.alpha), tpc.L_plus: ef21.L_qm}
    u = sp.Symbol("u", positive=True)
    diff = (tpc.nonconvex.bound.subs(at) - theorems.get("ef21.nonconvex-qm").bound).subs(ef21.alpha, 1 - u**2)
    assert sp.simplify(diff) == 0


def test_identity_teeth_are_refuted():
    for t in theorems.teeth("3pc.constants") + theorems.teeth("3pc.ef21-reduction") + theorems.teeth("3pc.lag-vs-chen"):
        assert not all(p.holds for p in t.prove(n_samples=500)), t.id


def test_pl_stepsize_has_the_cap_and_the_nonconvex_one_is_one_over_M1():
    vals = dict(L=2.0, L_plus=3.0, A_3pc=0.25, B_3pc=4.0, mu=1.0)
    assert abs(theorems.get("3pc.nonconvex").max_stepsize(**vals) - 1 / (2 + 3 * 4)) < 1e-15
    assert abs(theorems.get("3pc.pl").max_stepsize(**vals) - min(1 / (2 + 3 * 32**0.5), 0.125)) < 1e-15
