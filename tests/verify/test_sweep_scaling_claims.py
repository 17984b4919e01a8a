"""Every scaling claim in the catalogue runs through ``sweep`` (issue 9), with the verdict that
``verify.check`` gives for the same instance and seed."""

import json

import pytest

from ratecheck import theorems, verify
from ratecheck.verify.store import load
from ratecheck.verify.sweep import sweep

SCALING = [c.id for c in theorems.all() if c.kind.value == "scaling"]


def test_catalogue_has_scaling_claims():
    assert len(SCALING) >= 5


@pytest.mark.parametrize("cid", SCALING)
def test_scaling_claim_runs_through_sweep(cid, tmp_path):
    res = sweep(cid, seeds=1, quick=True, backend="serial", out=tmp_path / "s", progress=False)
    assert res.failed == [], res.failed
    rows = load(tmp_path / "s")
    assert len(rows) > 0 and set(rows["claim"]) == {cid}
    for _, r in rows.drop_duplicates("key").iterrows():
        (v,) = verify.check(cid, instances=[json.loads(r["params"])], seed=int(r["seed"]))
        assert r["verdict"] == v.verdict, (r["detail"], v.detail)
