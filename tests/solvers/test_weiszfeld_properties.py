"""Property tests (hypothesis) of the Weiszfeld claims over m, d, weights, outlier fraction, nu and seed."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ratecheck import theorems
from ratecheck.solvers.weiszfeld import diameter, smoothed_weiszfeld
from ratecheck.verify.instances import point_cloud
from ratecheck.verify.optima import geometric_median_optimum

SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
cases = st.fixed_dictionaries(
    {
        "m": st.integers(3, 60),
        "d": st.integers(1, 12),
        "outlier_frac": st.sampled_from([0.0, 0.1, 0.25, 0.4, 0.45]),
        "shift": st.sampled_from([3.0, 30.0, 300.0]),
        "nu": st.sampled_from([1e-8, 1e-4, 1e-2, 0.3]),
        "weighted": st.booleans(),
        "seed": st.integers(0, 2**16),
    }
)


def _instance(c):
    W, w, info = point_cloud(
        "gaussian", m=c["m"], d=c["d"], outlier_frac=c["outlier_frac"], shift=c["shift"], seed=c["seed"]
    )
    if c["weighted"]:
        w = np.random.default_rng(c["seed"] + 1).uniform(0.2, 1.0, c["m"])
        w /= w.sum()
    return W, w, info


@SETTINGS
@given(cases)
def test_descent_hull_and_local_smoothness(c):
    W, w, _ = _instance(c)
    nu = c["nu"]
    res = smoothed_weiszfeld(W, weights=w, nu=nu, T=25, store_iterates=True)
    scale = max(1.0, float(res.g_nu[0]))
    assert np.all(np.diff(res.g_nu) <= 64 * np.finfo(float).eps * scale)  # Lemma 19
    R = diameter(W)
    eta = np.maximum(nu, np.linalg.norm(res.iterates[1:, None, :] - W[None], axis=2))
    assert np.all(eta <= max(R, nu) * (1 + 1e-12))  # Claim 18
    assert np.all(res.L <= 1 / nu * (1 + 1e-12))
    lo, hi = W.min(0), W.max(0)  # hull => bounding box
    assert np.all(res.iterates >= lo - 1e-9 * (1 + R)) and np.all(res.iterates <= hi + 1e-9 * (1 + R))


@SETTINGS
@given(cases)
def test_theorem21_and_robustness(c):
    W, w, info = _instance(c)
    nu = c["nu"]
    opt = geometric_median_optimum(W, w)
    R = diameter(W)
    if not nu < R:
        return  # the analysis assumes nu < R
    T = 30
    res = smoothed_weiszfeld(W, weights=w, nu=nu, T=T, store_iterates=True)
    t = np.arange(1, T + 1)
    nu_hat = np.minimum.accumulate(res.eta_min)
    claim = theorems.get("weiszfeld.rate")
    bound = claim.evaluate(T=t, nu_hat=nu_hat, r0=np.linalg.norm(w @ W - opt.x), nu=nu)
    gap = res.g[1:] - opt.lower
    assert np.all(gap <= bound * (1 + 1e-9) + 1e-12 * max(1.0, opt.value))
    rob = theorems.get("weiszfeld.robustness")
    out = info["outliers"]
    vartheta = float(w[out].sum())
    if vartheta < 0.5:
        rho = float(np.max(np.linalg.norm(W[~out], axis=1)))
        eps = np.maximum(res.g - opt.lower, 0)
        b = rob.evaluate(vartheta=vartheta, rho_in=rho, eps=eps)
        y = info["inlier_centre"]  # the origin for Gaussian inliers
        assert np.all(np.linalg.norm(res.iterates - y, axis=1) <= b * (1 + 1e-9))


@SETTINGS
@given(cases)
def test_contraction_towards_the_median(c):
    W, w, _ = _instance(c)
    opt = geometric_median_optimum(W, w)
    nu_tilde = float(np.min(np.linalg.norm(opt.x - W, axis=1)))
    nu = min(c["nu"], nu_tilde)
    if nu <= 0:
        return
    res = smoothed_weiszfeld(W, weights=w, nu=nu, T=25, store_iterates=True)
    dist = np.linalg.norm(res.iterates - opt.x, axis=1)  # z*_nu = z* here (Lemma 24)
    floor = 1e-7 * max(diameter(W), 1e-300)
    keep = dist[:-1] > floor
    assert np.all(dist[1:][keep] <= dist[:-1][keep] * (1 + 1e-9))
