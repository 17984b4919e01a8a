"""Property tests: every shipped EF21 claim holds over random instance parameters."""

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ratecheck import verify
from ratecheck.verify.checking import HOLDS
from ratecheck.verify.instances import smoothness_profile

params = st.fixed_dictionaries(
    {
        "n": st.integers(2, 25),
        "d": st.integers(2, 12),
        "k_frac": st.floats(0.0, 1.0),
        "spread_frac": st.floats(0.0, 0.8),
        "profile": st.sampled_from(["outlier", "geometric"]),
        "init": st.sampled_from(["grad", "zero", "compressed"]),
        "problem": st.sampled_from(["least-squares", "logistic"]),
    }
)


def _instance(p, T):
    k = 1 + int(p["k_frac"] * (p["d"] - 1))
    cap = 0.3 if p["problem"] == "logistic" else (0.5 if p["profile"] == "geometric" else 1.0)
    spread = 1 + p["spread_frac"] * (np.sqrt(p["n"]) - 1) * cap
    inst = dict(
        n=p["n"],
        d=p["d"],
        m=max(2, p["d"] // p["n"] + 2),
        compressor=f"top-{k}",
        spread=float(spread),
        profile=p["profile"],
        init=p["init"],
        problem=p["problem"],
        T=T,
    )
    if p["problem"] == "logistic":
        inst["L_am"] = 20.0  # every L_i must exceed 2*lam: infeasible draws are discarded
        assume(smoothness_profile(p["n"], inst["spread"], p["profile"], inst["L_am"]).min() > 2 * 0.1)
    return inst


@given(p=params, seed=st.integers(0, 2**16))
@settings(max_examples=10, deadline=None)
def test_nonconvex_claims_hold(p, seed):
    inst = _instance(p, 150)
    for cid in ("ef21.nonconvex-qm", "ef21.nonconvex-am", "ef21-w.nonconvex"):
        (v,) = verify.check(cid, instances=[inst], seed=seed)
        assert v.verdict == HOLDS, (cid, inst, v.detail)


@given(p=params, seed=st.integers(0, 2**16))
@settings(max_examples=6, deadline=None)
def test_pl_claims_hold(p, seed):
    p = dict(p, problem="least-squares")
    inst = _instance(p, 300)
    inst["m"] = inst["d"]  # n*m >= d: mu > 0
    for cid in ("ef21.pl-qm", "ef21.pl-am", "ef21-w.pl"):
        (v,) = verify.check(cid, instances=[inst], seed=seed)
        assert v.verdict == HOLDS, (cid, inst, v.detail)


@given(p=params, seed=st.integers(0, 2**16))
@settings(max_examples=6, deadline=None)
def test_equivalence_holds_for_topk(p, seed):
    inst = _instance(p, 60)
    (v,) = verify.check("ef21-w.equivalence", instances=[inst], seed=seed)
    assert v.verdict == HOLDS, (inst, v.detail)
