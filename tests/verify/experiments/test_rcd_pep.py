"""Optional PEPit cross-check (extra [pep]); skipped when PEPit is not installed."""

from __future__ import annotations

import pytest

pytest.importorskip("PEPit")


@pytest.mark.parametrize("d, mu", [(2, 0.1), (3, 0.3)])
def test_pep_worst_case_between_instance_and_claim(d, mu):
    from ratecheck.verify.experiments.rcd import pep_coordinate_check

    r = pep_coordinate_check(d=d, L=1.0, mu=mu)
    assert abs(r["pep"] - r["pep_theory"]) < 1e-5  # PEPit reproduces Taylor & Bach's tight value
    assert r["measured"] <= r["pep"] + 1e-6  # the instance never beats the class worst case
    assert r["pep"] <= r["claim"] + 1e-9  # the claim's rate is no faster than the worst case
