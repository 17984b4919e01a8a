"""Conformance suite run over every registered claim and every teeth variant (all results).

* every claim gets its expected outcome on its default quick instances, with a verdict record
  that carries the contract fields;
* every teeth variant (a deliberately wrong claim) is reported violated on at least one of its
  default quick instances.
"""

import numpy as np
import pytest

from ratecheck import theorems, verify
from ratecheck.verify.checking import VIOLATED, outcome

CLAIMS = [c.id for c in theorems.all()]
TEETH = [t.id for t in theorems.teeth()]


@pytest.mark.parametrize("cid", CLAIMS)
def test_claim_has_expected_outcome(cid):
    c = theorems.get(cid)
    vs = verify.check(c, quick=True)
    status, unexpected = outcome(vs)
    assert not unexpected, "\n".join(f"{v.verdict}: {v.detail} on {v.instance}" for v in vs)
    for v in vs:
        d = v.to_dict()
        assert d["claim"] == cid and d["provenance"] == c.provenance.value and d["kind"] == c.kind.value
        assert d["paper"] and "seed" in d and "instance" in d
        if v.tightness is not None:
            assert np.isfinite(v.tightness) and v.tightness >= 0


@pytest.mark.parametrize("tid", TEETH)
def test_teeth_variant_is_caught(tid):
    vs = verify.check(tid, quick=True)
    assert any(v.verdict == VIOLATED for v in vs), f"{tid} not caught: " + "; ".join(v.detail for v in vs)
