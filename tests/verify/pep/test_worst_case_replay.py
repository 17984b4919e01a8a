"""Worst case back into the empirics: the extracted instance run through the package's EF21 solver."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ratecheck.solvers import InvalidInput
from ratecheck.solvers.compressors import ScaledIdentity

pytest.importorskip("PEPit")

from ratecheck.verify.pep.ef21 import ef21_setting  # noqa: E402
from ratecheck.verify.pep.replay import replay_worst_case  # noqa: E402


def test_scaled_identity_is_contractive_with_its_alpha():
    c = ScaledIdentity([1 - math.sqrt(0.5), 1.2])
    assert c.alpha(3) == pytest.approx(0.5)
    X = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(c(X), (1 - math.sqrt(0.5)) * X)
    np.testing.assert_allclose(c(X), 1.2 * X)
    np.testing.assert_allclose(c(X), 1.2 * X)  # the last factor repeats
    c.reset()
    np.testing.assert_allclose(c(X), (1 - math.sqrt(0.5)) * X)
    with pytest.raises(InvalidInput, match="in \\(0, 2\\)"):
        ScaledIdentity([2.5])


@pytest.mark.parametrize("claim, T, rtol", [("ef21.pl-qm", 1, 1e-6), ("ef21.pl-qm", 2, 1e-3), ("ef21-w.pl", 2, 1e-3)])
def test_replay_reaches_pep_value(claim, T, rtol):
    """(iv) in-class replay <= PEP <= claim, and the replay reaches the PEP value (1-D quadratic + scaling)."""
    s = ef21_setting(claim, {"L": 1.0, "mu": 0.1, "alpha": 0.5})
    r = replay_worst_case(s, T)
    assert r["replay"] <= r["pep"] * (1 + 1e-6)
    assert r["pep"] <= 1 + 1e-6
    assert r["replay"] >= r["pep"] * (1 - rtol)
    assert 0.1 <= r["h"] <= 1.0
    assert np.all(np.abs(r["lambdas"] - 1) <= math.sqrt(0.5) + 1e-12)
