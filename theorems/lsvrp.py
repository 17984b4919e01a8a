r"""L-SVRP under Hessian dissimilarity (Gasanov & Richtárik, arXiv 2412.13619) with the Khaled–Jin
baseline and the SGD comparison.

Notes: ``notes/lsvrp.md``.  The paper's own improved high-dissimilarity theorem could not be
consulted (spec section 4, [not found]) and is **not** encoded; what is encoded is the derived
one-step analysis of the spec (section 3):

.. math::
    a=(1+\gamma\mu)^{-2},\qquad s=a\gamma^2\delta^2,\qquad
    \begin{pmatrix}X_{k+1}\\W_{k+1}\end{pmatrix}\le M\begin{pmatrix}X_k\\W_k\end{pmatrix},

with :math:`X_k=\mathbb E\Vert x^k-x^\star\Vert^2`, :math:`W_k=\mathbb E\Vert w^k-x^\star\Vert^2`
and, writing :math:`\vartheta\in\{0,1\}` (``refresh_old``) for the refresh convention
(:math:`w\leftarrow x^{k+1}`: :math:`\vartheta=0`, matrix M; :math:`w\leftarrow x^k`:
:math:`\vartheta=1`, matrix M'),

.. math::
    M_\vartheta=\begin{pmatrix}a&s\\p\,(a(1-\vartheta)+\vartheta)&ps(1-\vartheta)+1-p\end{pmatrix}.

:math:`M_\vartheta^T v` is encoded in closed form (Sylvester's formula with the two real eigenvalues
:math:`\lambda_\pm` of the 2×2 matrix); the claim ``lsvrp.recursion`` carries the identity that
this closed form equals the matrix power.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ._core import Claim, Identity, Kind, Provenance, ge, gt, le, register, register_teeth, sym

PAPER = (
    "Gasanov, Richtárik. Speeding up Stochastic Proximal Optimization in the High Hessian Dissimilarity Setting. "
    "arXiv:2412.13619 (2024)"
)
KJ = "Khaled, Jin. Faster federated optimization under second-order similarity. ICLR 2023"
GOWER = "Gower, Loizou, Qian, Sailanbayev, Shulgin, Richtárik. SGD: General Analysis and Improved Rates. ICML 2019, arXiv:1901.09401, Theorem 3.1"

gamma, mu, delta, p, T, n = sym("gamma"), sym("mu"), sym("delta"), sym("p"), sym("T"), sym("n")
X0 = sym("X0", nonnegative=True, real=True)  # ||x^0 - x*||^2            (file-local)
W0 = sym("W0", nonnegative=True, real=True)  # ||w^0 - x*||^2            (file-local)
u_X = sym("u_X", nonnegative=True, real=True)  # component selector weights (file-local)
u_W = sym("u_W", nonnegative=True, real=True)
refresh_old = sym("refresh_old", nonnegative=True, real=True)  # 0: w <- x^{k+1}; 1: w <- x^k
L_max = sym("L_max")  # max_i L_i (SGD comparison; file-local)
sigma2 = sym("sigma2")  # sigma_*^2 = (1/n) sum_i ||grad f_i(x*)||^2 here


def contraction(g=gamma, m=mu) -> sp.Expr:
    r""":math:`a=(1+\gamma\mu)^{-2}`: squared Lipschitz constant of :math:`\mathrm{prox}_{\gamma f_i}`."""
    return 1 / (1 + g * m) ** 2


def noise_factor(g=gamma, m=mu, dl=delta) -> sp.Expr:
    r""":math:`s=a\gamma^2\delta^2`."""
    return contraction(g, m) * g**2 * dl**2


def recursion_matrix(g=gamma, m=mu, dl=delta, q=p, theta=refresh_old) -> sp.Matrix:
    r"""The 2×2 matrix :math:`M_\vartheta` of the spec's Theorem 2-D (:math:`\vartheta=0`: M, 1: M')."""
    a, s = contraction(g, m), noise_factor(g, m, dl)
    return sp.Matrix([[a, s], [q * (a * (1 - theta) + theta), q * s * (1 - theta) + 1 - q]])


def eigenvalues(Mx: sp.Matrix) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    r"""(:math:`\lambda_+`, :math:`\lambda_-`, :math:`\sqrt{\mathrm{disc}}`) of a 2×2 matrix."""
    tr = Mx[0, 0] + Mx[1, 1]
    root = sp.sqrt((Mx[0, 0] - Mx[1, 1]) ** 2 + 4 * Mx[0, 1] * Mx[1, 0])
    return (tr + root) / 2, (tr - root) / 2, root


def power_apply(Mx: sp.Matrix, v: tuple, k=T) -> tuple[sp.Expr, sp.Expr]:
    r"""Closed form of :math:`M^kv` for a 2×2 matrix with distinct eigenvalues (Sylvester):

    .. math::
        M^kv=\frac{\lambda_+^k(Mv-\lambda_-v)-\lambda_-^k(Mv-\lambda_+v)}{\lambda_+-\lambda_-}.
    """
    lp, lm, root = eigenvalues(Mx)
    Mv = Mx * sp.Matrix(v)
    return tuple((lp**k * (Mv[j] - lm * v[j]) - lm**k * (Mv[j] - lp * v[j])) / root for j in range(2))


_M = recursion_matrix()
_RX, _RW = power_apply(_M, (X0, W0))
_BASE = (gt(gamma, 0), gt(mu, 0), ge(delta, 0), gt(p, 0), le(p, 1))


# ----------------------------------------------------------------------------- recursion (LS-3)
def _closed_form_identity(theta_val, k: int, j: int) -> sp.Basic:
    """``[closed form of M^k v]_j == [M^k v]_j``, unevaluated (undecidable by sympy: sampled)."""
    Mn = recursion_matrix(theta=theta_val)
    # the product written out: ``Mn**k`` simplifies every entry (sympy's dotprodsimp), about a second
    # at import for a value the identity only samples
    direct = sp.Matrix([X0, W0])
    for _ in range(k):
        direct = Mn * direct
    cf = power_apply(Mn, (X0, W0), k)
    return sp.Eq(cf[j], direct[j], evaluate=False)


def _closed_form_identities(theta_val):
    # each relation is built on first use (Identity accepts a callable): `list` and `show` read only the labels
    return [
        Identity(
            lambda j=j, k=k: _closed_form_identity(theta_val, k, j),
            proof=_no_symbolic_proof,
            sampler=_recursion_sampler,
            label=f"closed form of [M^{k} v]_{nm} equals the matrix power (refresh_old={theta_val})",
        )
        for k in (3,)
        for j, nm in ((0, "X"), (1, "W"))
    ]


def _no_symbolic_proof() -> None:
    """Skip sympy.simplify (slow on nested square roots): these identities are checked by sampling."""
    return None


def _recursion_sampler(rng: np.random.Generator, size: int) -> dict:
    return {
        "gamma": 10 ** rng.uniform(-2, 0.5, size),
        "mu": 10 ** rng.uniform(-1, 0.5, size),
        "delta": 10 ** rng.uniform(-1, 1, size),
        "p": rng.uniform(0.05, 1, size),
        "X0": rng.uniform(0.1, 2, size),
        "W0": rng.uniform(0.1, 2, size),
    }


recursion = register(
    Claim(
        id="lsvrp.recursion",
        title="L-SVRP: componentwise (X_k, W_k) <= M^k (X_0, W_0) for both refresh conventions",
        paper=PAPER + "; spec LS-3 (Theorem 2-D, derived one-step analysis; the paper's own theorem [not found])",
        provenance=Provenance.DERIVED,
        provenance_note="[derived] from the prox contraction and the dissimilarity bound (spec section 3); "
        "not the paper's printed theorem",
        kind=Kind.UPPER,
        measure="moments_xw",
        in_expectation=True,
        bound=u_X * _RX + u_W * _RW,
        assumptions=_BASE + (ge(refresh_old, 0), le(refresh_old, 1)),
        identities=tuple(_closed_form_identities(0) + _closed_form_identities(1)),
        setting={"algorithm": "lsvrp"},
        experiment="lsvrp",
        description="X_k = E||x^k - x*||^2 (u_X = 1, u_W = 0) and W_k = E||w^k - x*||^2 (u_X = 0, u_W = 1) against "
        "[M^k (X_0, W_0)]; refresh_old = 1 for the refresh w <- x^k (M'), 0 for w <- x^(k+1) (M). "
        "Holds for every gamma > 0 (also outside the convergence region).",
    )
)

# ----------------------------------------------------------------------------- Lyapunov (LS-5)
_a, _s = contraction(), noise_factor()
_PSI_W = 2 * _s / p
lyapunov = register(
    Claim(
        id="lsvrp.lyapunov",
        title="L-SVRP closed-form Lyapunov rate max{(1+2s)a, 1-p/2+ps} when s <= 1/4",
        paper=PAPER + "; spec LS-5 (derived)",
        provenance=Provenance.DERIVED,
        kind=Kind.UPPER,
        measure="lyapunov_psi",
        in_expectation=True,
        stepsize=1 / (2 * delta - mu),
        bound=sp.Max((1 + 2 * _s) * _a, 1 - p / 2 + p * _s, evaluate=False) ** T * (X0 + _PSI_W * W0),
        assumptions=_BASE + (gt(2 * delta, mu), le(_s, sp.Rational(1, 4))),
        setting={"algorithm": "lsvrp", "refresh": "new", "psi_weight": _PSI_W},
        experiment="lsvrp",
        description="Psi_k = ||x^k - x*||^2 + (2s/p) ||w^k - x*||^2 (weight from setting['psi_weight']); "
        "gamma <= 1/(2 delta - mu) is exactly s <= 1/4.",
    )
)

# ----------------------------------------------------------------------------- region (LS-4)
_I2 = sp.eye(2)
_gap = 1 - _a - _s
_M1 = recursion_matrix(theta=1)
_region_sampler = lambda rng, size: {  # noqa: E731
    "gamma": 10 ** rng.uniform(-3, 1, size),
    "mu": 10 ** rng.uniform(-1, 1, size),
    "delta": 10 ** rng.uniform(-1, 1.5, size),
    "p": rng.uniform(0.01, 1, size),
}


# the spectral radii are built on first use of the identities that read them (about 0.1 s at import otherwise,
# for values that `list` and `show` never read)
def _rho_M() -> sp.Expr:
    r""":math:`\rho(M)=\lambda_+` (M is entrywise nonnegative)."""
    return eigenvalues(recursion_matrix(theta=0))[0]


def _rho_M1() -> sp.Expr:
    r""":math:`\rho(M')=\max(|\lambda_+|,|\lambda_-|)`."""
    return sp.Max(sp.Abs(eigenvalues(_M1)[0]), sp.Abs(eigenvalues(_M1)[1]), evaluate=False)


_cond = 2 * mu - gamma * (delta**2 - mu**2)
region = register(
    Claim(
        id="lsvrp.region",
        title="Convergence region: rho(M) < 1 iff s < 1 - a iff gamma (delta^2 - mu^2) < 2 mu (same for M')",
        paper=PAPER + "; spec LS-4 (derived)",
        provenance=Provenance.DERIVED,
        kind=Kind.IDENTITY,
        measure="",
        identities=(
            Identity(
                lambda: sp.Eq((_I2 - recursion_matrix(theta=0)).det(), p * _gap),
                label="det(I - M) = p (1 - a - s)  [M >= 0 entrywise, so rho(M) < 1 iff I - M is a nonsingular M-matrix]",
            ),
            Identity(lambda: sp.Eq((_I2 - _M1).det(), p * _gap), label="det(I - M') = p (1 - a - s)"),
            Identity(
                sp.Eq(_gap * (1 + gamma * mu) ** 2, gamma * _cond),
                label="(1 - a - s)(1 + gamma mu)^2 = gamma (2 mu - gamma (delta^2 - mu^2)): s < 1 - a iff gamma (delta^2 - mu^2) < 2 mu",
            ),
            Identity(
                lambda: sp.Eq(sp.sign(1 - _rho_M()), sp.sign(_cond)),
                proof=_no_symbolic_proof,
                sampler=_region_sampler,
                label="sign(1 - rho(M)) = sign(2 mu - gamma (delta^2 - mu^2)) (sampled)",
            ),
            Identity(
                lambda: sp.Eq(sp.sign(1 - _rho_M1()), sp.sign(_cond)),
                proof=_no_symbolic_proof,
                sampler=_region_sampler,
                label="sign(1 - rho(M')) = sign(2 mu - gamma (delta^2 - mu^2)) (sampled)",
            ),
        ),
        setting={"gamma_boundary": 2 * mu / (delta**2 - mu**2)},
        experiment="lsvrp",
        description="Any gamma > 0 converges when delta <= mu; for delta > mu one needs gamma < 2 mu/(delta^2 - mu^2).",
    )
)

# ----------------------------------------------------------------------------- complexity (LS-6, LS-7)
_gKJ = mu / (2 * delta**2)
_kj_sampler = lambda rng, size: {  # noqa: E731
    "mu": (m := 10 ** rng.uniform(-1, 1, size)),
    "delta": m * 10 ** rng.uniform(0, 2.5, size),
    "p": 10 ** rng.uniform(-3, 0, size),
}
complexity = register(
    Claim(
        id="lsvrp.complexity",
        title="L-SVRP with gamma = mu/(2 delta^2), p = 1/n: communications O((n + delta^2/mu^2) log 1/eps), scaling in delta/mu",
        paper=PAPER + "; spec LS-6/LS-7 (derived); matches " + KJ + " (spec LS-8)",
        provenance=Provenance.DERIVED,
        provenance_note="[derived]; matches the Khaled–Jin complexity [reconstructed, abstract-level]",
        kind=Kind.SCALING,
        measure="comms_to_eps",
        in_expectation=True,
        stepsize=_gKJ,
        exponent=sp.Integer(2),
        scaling_in="kappa",
        assumptions=(gt(mu, 0), ge(delta, mu)),
        identities=(
            Identity(
                le(noise_factor(_gKJ), sp.Rational(1, 9)),
                proof=_no_symbolic_proof,
                sampler=_kj_sampler,
                label="s <= 1/9 at gamma = mu/(2 delta^2) when delta >= mu",
            ),
            Identity(
                lambda: le(
                    _rho_M().subs(gamma, _gKJ),
                    sp.Max(1 - mu**2 / (4 * delta**2), 1 - sp.Rational(7, 18) * p, evaluate=False),
                ),
                proof=_no_symbolic_proof,
                sampler=_kj_sampler,
                label="rho(M) <= max{1 - mu^2/(4 delta^2), 1 - 7p/18} at gamma = mu/(2 delta^2), delta >= mu",
            ),
        ),
        setting={"algorithm": "lsvrp", "refresh": "new", "p": 1 / n, "eps": sp.Rational(1, 1000)},
        experiment="lsvrp",
        description="Expected communications (1 per iteration + n per refresh + n initially) until "
        "E||x^k - x*||^2 <= eps ||x^0 - x*||^2, exact expectation, against kappa = delta/mu at fixed n; "
        "big-O upper statement: the fitted log-log slope must be at most 2.",
    )
)

# ----------------------------------------------------------------------------- tuned probe
tuned_probe = register(
    Claim(
        id="lsvrp.tuned-probe",
        title="Empirical probe: communications to eps with the best stepsize on a grid, against delta/mu",
        paper=PAPER + "; spec section 4 (suggested empirical probe). The paper's improved theorem is [not found]: "
        "no formula of it is encoded",
        provenance=Provenance.DERIVED,
        provenance_note="an empirical probe, not a paper bound: the grid contains the Khaled–Jin stepsize, so the tuned "
        "cost is at most the Khaled–Jin cost (slope at most 2); the fitted exponent is reported for "
        "comparison with the paper's improved rate once it is available",
        kind=Kind.SCALING,
        measure="tuned_comms_to_eps",
        in_expectation=True,
        stepsize=_gKJ,
        exponent=sp.Integer(2),
        scaling_in="kappa",
        assumptions=(gt(mu, 0), ge(delta, mu)),
        setting={
            "algorithm": "lsvrp",
            "refresh": "new",
            "p": 1 / n,
            "eps": sp.Rational(1, 1000),
            "stepsize_factors": tuple(sp.Integer(2) ** j for j in range(-2, 11)),
        },
        experiment="lsvrp",
        description="min over gamma = factor * mu/(2 delta^2) of the expected communications to eps (exact expectation).",
    )
)

# ----------------------------------------------------------------------------- SGD (LS-9)
sgd_neighborhood = register(
    Claim(
        id="sgd.neighborhood",
        title="SGD: E||x^T - x*||^2 <= (1 - gamma mu)^T ||x^0 - x*||^2 + 2 gamma sigma_*^2/mu for gamma <= 1/(2 L_max)",
        paper=GOWER + "; spec LS-9 (standard result, not from arXiv:2412.13619)",
        provenance=Provenance.RECONSTRUCTED,
        kind=Kind.UPPER,
        measure="sgd_dist_sq",
        in_expectation=True,
        stepsize=1 / (2 * L_max),
        bound=(1 - gamma * mu) ** T * X0 + 2 * gamma * sigma2 / mu,
        assumptions=(gt(gamma, 0), gt(mu, 0), le(mu, L_max), ge(sigma2, 0)),
        setting={"algorithm": "sgd", "mu": "f"},
        experiment="lsvrp",
        description="mu is the strong-convexity constant of f (setting mu='f'); sigma2 = (1/n) sum_i ||grad f_i(x*)||^2; "
        "L_max = max_i L_i; uniform client sampling.",
    )
)

# ----------------------------------------------------------------------------- teeth
_half = {delta: delta / 2}
register_teeth(
    recursion,
    recursion.variant(
        "delta-half",
        bound=recursion.bound.subs(_half),
        identities=(),
        expected_to_fail="delta replaced by delta/2 in M (variance term 4x too small)",
    ),
    recursion.variant(
        "refresh-swapped",
        bound=recursion.bound.subs(refresh_old, 1 - refresh_old),
        identities=(),
        expected_to_fail="refresh convention swapped (M' for w <- x^(k+1), M for w <- x^k)",
    ),
)
register_teeth(
    lyapunov,
    lyapunov.variant(
        "no-refresh-term",
        bound=((1 + 2 * _s) * _a) ** T * (X0 + _PSI_W * W0),
        expected_to_fail="rate (1+2s)a only: the refresh term 1 - p/2 + ps of the max dropped",
    ),
)
register_teeth(
    region,
    region.variant(
        "mu2-dropped",
        identities=(
            Identity(
                lambda: sp.Eq(sp.sign(1 - _rho_M()), sp.sign(2 * mu - gamma * delta**2)),
                proof=_no_symbolic_proof,
                sampler=_region_sampler,
                label="sign(1 - rho(M)) = sign(2 mu - gamma delta^2) (mu^2 dropped)",
            ),
        ),
        expected_to_fail="region gamma delta^2 < 2 mu (the mu^2 term dropped)",
    ),
)
register_teeth(
    complexity,
    complexity.variant(
        "linear",
        exponent=sp.Integer(1),
        identities=(),
        expected_to_fail="communications linear in delta/mu (exponent 1 instead of 2)",
    ),
)
register_teeth(
    tuned_probe,
    tuned_probe.variant(
        "flat",
        exponent=sp.Integer(0),
        expected_to_fail="tuned communications claimed not to grow with delta/mu at all (exponent 0)",
    ),
)
register_teeth(
    sgd_neighborhood,
    sgd_neighborhood.variant(
        "no-neighbourhood",
        bound=(1 - gamma * mu) ** T * X0,
        expected_to_fail="neighbourhood term 2 gamma sigma_*^2/mu dropped (SGD does not converge to x*)",
    ),
)
