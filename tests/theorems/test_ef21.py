import numpy as np
import pytest
import sympy as sp

from ratecheck import theorems
from ratecheck.theorems.ef21 import beta_c, theta_c, xi


@pytest.mark.parametrize(
    "a,th,be,x",
    [
        (0.5, 0.292893, 1.707107, 2.414214),
        (0.1, 0.0513167, 17.53815, 18.48683),
        (0.01, 0.00501256, 197.50376, 198.49874),
    ],
)
def test_constants_table_of_the_spec(a, th, be, x):
    a = sp.Float(a)
    assert float(theta_c(a)) == pytest.approx(th, rel=1e-5)
    assert float(beta_c(a)) == pytest.approx(be, rel=1e-5)
    assert float(xi(a)) == pytest.approx(x, rel=1e-5)


def test_constants_claim_is_proved_symbolically():
    proofs = theorems.get("ef21.constants").prove()
    assert proofs and all(p.holds and p.method == "sympy" for p in proofs)


def test_alpha_one_gives_gd_stepsize():
    for cid in ("ef21.nonconvex-qm", "ef21.nonconvex-am", "ef21-w.nonconvex"):
        assert theorems.get(cid).max_stepsize(L=3.0, L_am=5.0, L_qm=7.0, alpha=1.0) == pytest.approx(1 / 3.0)


def test_am_stepsize_never_smaller_and_spec_ratio():
    L_i = np.array([1.0, 1, 1, 100])  # spec section 1.6
    am, qm = L_i.mean(), np.sqrt((L_i**2).mean())
    assert am == pytest.approx(25.75) and qm == pytest.approx(50.0075, rel=1e-6)
    vals = dict(L=am, L_am=am, L_qm=qm, alpha=0.05)
    g_qm = theorems.get("ef21.nonconvex-qm").max_stepsize(**vals)
    g_am = theorems.get("ef21.nonconvex-am").max_stepsize(**vals)
    assert g_am >= g_qm and g_am / g_qm == pytest.approx(1.9, abs=0.05)


def test_means_identities_proved():
    proofs = theorems.get("ef21.means").prove()
    assert all(p.holds for p in proofs)
    assert sum(p.method == "sympy" for p in proofs) >= 3


def test_pl_rule_has_factor_two_and_cap():
    c = theorems.get("ef21.pl-qm")
    vals = dict(L=1.0, L_qm=1.0, alpha=0.5, mu=1e-6)
    b, t = 1.707107, 0.292893
    assert c.max_stepsize(**vals) == pytest.approx(1 / (1 + np.sqrt(2 * b / t)), rel=1e-5)
    vals["mu"] = 1.0
    assert c.max_stepsize(**vals) == pytest.approx(t / 2, rel=1e-5)
