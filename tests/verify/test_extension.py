"""The extension point from Python/pytest: users check their own claims with the assertion helper."""

import pytest

from ratecheck import theorems, verify
from ratecheck.theorems import sym


def test_assert_helper_passes_for_a_valid_claim():
    mine = theorems.get("ef21.nonconvex-qm").variant("user-copy")
    verdicts = verify.assert_claim_holds(mine, experiment="ef21")
    assert all(v.verdict == "holds" for v in verdicts)


def test_assert_helper_catches_a_plausible_wrong_claim():
    base = theorems.get("ef21.nonconvex-am")
    wrong = base.variant("no-two", bound=sym("delta0") / (sym("gamma") * sym("T") ** 2))
    with pytest.raises(AssertionError, match="violated"):
        verify.assert_claim_holds(wrong, experiment="ef21")


def test_changed_constant_regression():
    """Changing a constant in the theorem: a stepsize rule twice as large but the same bound."""
    base = theorems.get("ef21.nonconvex-qm")
    bolder = base.variant("bold", stepsize=200 * base.stepsize)
    with pytest.raises(AssertionError):
        verify.assert_claim_holds(bolder, experiment="ef21")
