r"""EF21 (Richtárik, Sokolov, Fatkhullin 2021) and Error Feedback Reloaded (Richtárik, Gasanov,
Burlachenko 2024): the arithmetic-mean rate, EF21-W, cloning, and the PŁ, SGD and PP variants.

The compressor constants are

.. math::
    \theta_c(\alpha) = 1-\sqrt{1-\alpha} = \frac{\alpha}{1+\sqrt{1-\alpha}},\qquad
    \beta_c(\alpha) = \frac{1-\alpha}{1-\sqrt{1-\alpha}},\qquad
    \xi(\alpha) = \sqrt{\beta_c/\theta_c} = \frac{\sqrt{1-\alpha}\,(1+\sqrt{1-\alpha})}{\alpha}.

They are encoded in the rationalised form (no cancellation as :math:`\alpha\to0`); the claim
``ef21.constants`` proves that it equals the printed form.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ._core import Claim, Identity, Kind, Provenance, gt, le, lt, register, register_teeth, sym

EF21 = "Richtárik, Sokolov, Fatkhullin. EF21: A New, Simpler, Theoretically Better, and Practically Faster Error Feedback. NeurIPS 2021, arXiv:2106.05203"
RELOADED = "Richtárik, Gasanov, Burlachenko. Error Feedback Reloaded: From Quadratic to Arithmetic Mean of Smoothness Constants. ICLR 2024, arXiv:2402.10774"

L, L_am, L_qm = sym("L"), sym("L_am"), sym("L_qm")
alpha, gamma, mu = sym("alpha"), sym("gamma"), sym("mu")
T, delta0, G0 = sym("T"), sym("delta0"), sym("G0")
p_min, sigma2 = sym("p_min"), sym("sigma2")


def theta_c(a: sp.Expr) -> sp.Expr:
    r""":math:`\theta_c(\alpha)=1-\sqrt{1-\alpha}` in the stable form :math:`\alpha/(1+\sqrt{1-\alpha})`."""
    return a / (1 + sp.sqrt(1 - a))


def beta_c(a: sp.Expr) -> sp.Expr:
    r""":math:`\beta_c(\alpha)=(1-\alpha)/(1-\sqrt{1-\alpha})=(1-\alpha)(1+\sqrt{1-\alpha})/\alpha`."""
    return (1 - a) * (1 + sp.sqrt(1 - a)) / a


def xi(a: sp.Expr) -> sp.Expr:
    r""":math:`\xi(\alpha)=\sqrt{\beta_c/\theta_c}=\sqrt{1-\alpha}\,(1+\sqrt{1-\alpha})/\alpha`."""
    return sp.sqrt(1 - a) * (1 + sp.sqrt(1 - a)) / a


_COMPRESSOR = (gt(alpha, 0), le(alpha, 1))
_SMOOTH = (gt(L, 0), gt(L_am, 0), gt(L_qm, 0), gt(gamma, 0))


def nonconvex_rate(L_mean: sp.Expr, a: sp.Expr = alpha) -> tuple[sp.Expr, sp.Expr]:
    r"""Stepsize rule and bound of the nonconvex EF21-type theorem with smoothness mean ``L_mean``.

    .. math::
        \gamma \le \frac{1}{L + L_{\rm mean}\,\xi(\alpha)},\qquad
        \frac1T\sum_{t<T}\mathbb E\Vert\nabla f(x^t)\Vert^2 \le \frac{2\delta_0}{\gamma T}
        + \frac{\mathbb E\,G^0}{\theta_c(\alpha)\,T}.
    """
    return 1 / (L + L_mean * xi(a)), 2 * delta0 / (gamma * T) + G0 / (theta_c(a) * T)


def pl_rate(L_mean: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    r"""Stepsize rule and bound of the PŁ theorem with smoothness mean ``L_mean``.

    .. math::
        \gamma \le \min\Big\{\big(L + L_{\rm mean}\sqrt{2\beta_c/\theta_c}\big)^{-1},
        \frac{\theta_c}{2\mu}\Big\},\qquad
        \mathbb E\,\Psi^T \le (1-\gamma\mu)^T\Big(\delta_0 + \frac{\gamma}{\theta_c}G^0\Big),
        \quad \Psi^t = f(x^t)-f^\star+\frac{\gamma}{\theta_c}G^t.
    """
    rule = sp.Min(
        1 / (L + L_mean * sp.sqrt(2 * beta_c(alpha) / theta_c(alpha))), theta_c(alpha) / (2 * mu), evaluate=False
    )
    return rule, (1 - gamma * mu) ** T * (delta0 + gamma / theta_c(alpha) * G0)


# ----------------------------------------------------------------------------- nonconvex
_g, _b = nonconvex_rate(L_qm)
nonconvex_qm = register(
    Claim(
        id="ef21.nonconvex-qm",
        title="EF21 nonconvex rate with the quadratic-mean stepsize",
        paper=EF21 + ", Theorem 1 (poster 'EF21 for general non-convex functions'); spec EF-4",
        provenance=Provenance.PAPER,
        kind=Kind.UPPER,
        measure="avg_grad_norm_sq",
        in_expectation=True,
        stepsize=_g,
        bound=_b,
        assumptions=_COMPRESSOR + _SMOOTH,
        setting={"algorithm": "ef21", "lyapunov": "qm"},
        experiment="ef21",
        description="Running mean over t < T of ||grad f(x^t)||^2, for every T, with G^0 = (1/n) sum_i ||g_i^0 - grad f_i(x^0)||^2.",
    )
)

_g, _b = nonconvex_rate(L_am)
nonconvex_am = register(
    Claim(
        id="ef21.nonconvex-am",
        title="Plain EF21 with the larger arithmetic-mean stepsize (improved analysis)",
        paper=RELOADED + ", 'Theorem 3' (improved analysis of EF21); spec EF-11",
        provenance=Provenance.DERIVED,
        provenance_note="valid bound [derived]; as the paper's Theorem 3 [reconstructed]",
        kind=Kind.UPPER,
        measure="avg_grad_norm_sq",
        in_expectation=True,
        stepsize=_g,
        bound=_b,
        assumptions=_COMPRESSOR + _SMOOTH,
        setting={"algorithm": "ef21", "lyapunov": "am"},
        experiment="ef21",
        description="As ef21.nonconvex-qm with gamma <= 1/(L + L_am xi) and G^0_AM = (1/n) sum_i (L_am/L_i) ||g_i^0 - grad f_i(x^0)||^2.",
    )
)

w_nonconvex = register(
    Claim(
        id="ef21-w.nonconvex",
        title="EF21-W (weighted EF21) nonconvex rate with the arithmetic-mean stepsize",
        paper=RELOADED + ", EF21-W theorem; spec EF-9",
        provenance=Provenance.DERIVED,
        provenance_note="valid bound [derived]; as the paper's statement [reconstructed]",
        kind=Kind.UPPER,
        measure="avg_grad_norm_sq",
        in_expectation=True,
        stepsize=_g,
        bound=_b,
        assumptions=_COMPRESSOR + _SMOOTH,
        setting={"algorithm": "ef21-w", "lyapunov": "w"},
        experiment="ef21",
        description="EF21-W with w_i = L_i / sum_j L_j and G_W^0 = sum_i w_i ||g_i^0 - grad f_i(x^0)/(n w_i)||^2.",
    )
)

# ----------------------------------------------------------------------------- PL
_PL = _COMPRESSOR + _SMOOTH + (gt(mu, 0), le(mu, L))
_g, _b = pl_rate(L_qm)
pl_qm = register(
    Claim(
        id="ef21.pl-qm",
        title="EF21 linear rate under PŁ with the quadratic-mean stepsize",
        paper=EF21 + ", Theorem 2 (poster 'EF21 for PL functions'); spec EF-6",
        provenance=Provenance.PAPER,
        kind=Kind.UPPER,
        measure="pl_lyapunov",
        in_expectation=True,
        stepsize=_g,
        bound=_b,
        assumptions=_PL,
        setting={"algorithm": "ef21", "lyapunov": "qm"},
        experiment="ef21",
        description="Psi^T = f(x^T) - f* + (gamma/theta_c) G^T against (1 - gamma mu)^T Psi^0.",
    )
)
_g, _b = pl_rate(L_am)
pl_am = register(
    Claim(
        id="ef21.pl-am",
        title="Plain EF21 linear rate under PŁ with the arithmetic-mean stepsize",
        paper=RELOADED + ", PŁ version of the improved EF21 analysis; spec EF-12",
        provenance=Provenance.DERIVED,
        provenance_note="valid bound [derived]; paper form [reconstructed]",
        kind=Kind.UPPER,
        measure="pl_lyapunov",
        in_expectation=True,
        stepsize=_g,
        bound=_b,
        assumptions=_PL,
        setting={"algorithm": "ef21", "lyapunov": "am"},
        experiment="ef21",
        description="As ef21.pl-qm with L_am in the stepsize and G_AM in Psi.",
    )
)
w_pl = register(
    Claim(
        id="ef21-w.pl",
        title="EF21-W linear rate under PŁ",
        paper=RELOADED + ", EF21-W under Assumption 4 (PŁ); spec EF-10",
        provenance=Provenance.DERIVED,
        provenance_note="valid bound [derived]; paper form [reconstructed]",
        kind=Kind.UPPER,
        measure="pl_lyapunov",
        in_expectation=True,
        stepsize=_g,
        bound=_b,
        assumptions=_PL,
        setting={"algorithm": "ef21-w", "lyapunov": "w"},
        experiment="ef21",
        description="Psi_W^T = f(x^T) - f* + (gamma/theta_c) G_W^T against (1 - gamma mu)^T Psi_W^0.",
    )
)

# ----------------------------------------------------------------------------- SGD and PP
_q = (1 - alpha) ** sp.Rational(1, 4)  # Young parameters s_1 = s_2 = (1-alpha)^(-1/4) - 1
THETA_SGD = 1 - _q**2
BETA_1 = _q**3 / (1 - _q)
BETA_2 = _q**3 + 1 / (1 - _q)
w_sgd = register(
    Claim(
        id="ef21-w.sgd",
        title="EF21-W-SGD with bounded-variance stochastic gradients (derived bound with neighbourhood)",
        paper=RELOADED + ", EF21-W-SGD; spec EF-14 (section 3.6, derived bounded-variance bound)",
        provenance=Provenance.DERIVED,
        provenance_note="valid bound [derived] with Young parameters s_1 = s_2 = (1-alpha)^(-1/4) - 1 "
        "(so theta_SGD = theta_c); the paper's ABC-form constants [reconstructed, not encoded]",
        kind=Kind.UPPER,
        measure="avg_grad_norm_sq",
        in_expectation=True,
        stepsize=1 / (L + L_am * sp.sqrt(BETA_1 / THETA_SGD)),
        bound=2 * delta0 / (gamma * T) + G0 / (THETA_SGD * T) + BETA_2 / THETA_SGD * sigma2,
        assumptions=_COMPRESSOR + _SMOOTH + (lt(alpha, 1),),
        setting={"algorithm": "ef21-w", "lyapunov": "w", "noise": True},
        experiment="ef21",
        description="sigma2 = (1/n) sum_i (L_am/L_i) sigma_i^2 / m_i; unbiased stochastic gradients, fresh noise each round.",
    )
)

_g, _b = nonconvex_rate(L_am, p_min * alpha)
w_pp = register(
    Claim(
        id="ef21-w.pp",
        title="EF21-W-PP (partial participation): EF21-W with alpha replaced by p_min * alpha",
        paper=RELOADED + ", EF21-W-PP; spec EF-15/EF-16 (section 3.7, derived)",
        provenance=Provenance.DERIVED,
        provenance_note="valid bound [derived]; the paper's theta_PP/B_PP constants [reconstructed, not encoded]",
        kind=Kind.UPPER,
        measure="avg_grad_norm_sq",
        in_expectation=True,
        stepsize=_g,
        bound=_b,
        assumptions=_COMPRESSOR + _SMOOTH + (gt(p_min, 0), le(p_min, 1)),
        setting={"algorithm": "ef21-w", "lyapunov": "w", "participation": True},
        experiment="ef21",
        description="Clients participate independently with probability p_i; non-participants keep g_i.",
    )
)

# ----------------------------------------------------------------------------- identities
equivalence = register(
    Claim(
        id="ef21-w.equivalence",
        title="EF21-W and EF21 iterates coincide for positively homogeneous compressors",
        paper=RELOADED + ", section 2.4 (attribution [reconstructed]); spec EF-13",
        provenance=Provenance.DERIVED,
        provenance_note="proof [derived]; attribution to the paper [reconstructed]",
        kind=Kind.IDENTITY,
        measure="ef21w_ef21_gap",
        bound=sp.Integer(0),
        setting={"algorithm": "both"},
        experiment="ef21",
        description="max_t ||x_W^t - x^t|| / max(1, ||x^t||) with g_W,i^0 = g_i^0 / (n w_i); zero up to rounding.",
    )
)

_Ls = sp.symbols("L_1:7", positive=True)


def _lagrange_proof(n: int):
    def proof() -> str | None:
        Ls = _Ls[:n]
        am = sum(Ls) / n
        qm2 = sum(x**2 for x in Ls) / n
        sos = sum((Ls[i] - Ls[j]) ** 2 for i in range(n) for j in range(i + 1, n)) / n**2
        if sp.expand(qm2 - am**2 - sos) == 0:
            return (
                f"Lagrange identity L_qm^2 - L_am^2 = sum_(i<j) (L_i - L_j)^2 / n^2 >= 0 (expanded by sympy, n = {n})"
            )
        return None

    return proof


def _am_le_qm(n: int) -> sp.Basic:
    """``L_am <= L_qm`` for n clients."""
    Ls = _Ls[:n]
    am = sum(Ls) / n
    qm = sp.sqrt(sum(x**2 for x in Ls) / n)
    return am <= qm


def _means_identities():
    # the relations are built on first use (Identity accepts a callable): `list` and `show` read only the labels
    out = [
        Identity(lambda n=n: _am_le_qm(n), proof=_lagrange_proof(n), label=f"L_am <= L_qm for n = {n}")
        for n in (2, 3, 6)
    ]
    s, X = sp.Symbol("s", nonnegative=True), sp.Symbol("xi", nonnegative=True)
    gam = 1 / (L + L_am * X) - 1 / (L + (L_am + s) * X)
    out.append(
        Identity(gam >= 0, label="1/(L + L_am xi) >= 1/(L + L_qm xi) for every xi >= 0 when L_qm = L_am + s, s >= 0")
    )
    return tuple(out)


means = register(
    Claim(
        id="ef21.means",
        title="L <= L_am <= L_qm, hence the L_am stepsize is never smaller",
        paper=RELOADED + "; spec EF-2",
        provenance=Provenance.DERIVED,
        kind=Kind.IDENTITY,
        measure="smoothness_L",
        bound=L_am,
        identities=_means_identities(),
        setting={},
        experiment="ef21",
        description="Symbolic: power-mean inequality and stepsize monotonicity; numeric: the exact L of f is at most L_am on sampled instances.",
    )
)

_x = sp.Symbol("x", positive=True)  # L_i / L_am for one client
cloning = register(
    Claim(
        id="ef21.cloning",
        title="Cloning with N_i = ceil(L_i/L_am) gives M_qm <= sqrt(2) L_am",
        paper=RELOADED + ", Step 1 (cloning reformulation); spec EF-8",
        provenance=Provenance.DERIVED,
        provenance_note="[derived]; the sqrt(2) factor corroborated by a secondary review [reconstructed]",
        kind=Kind.IDENTITY,
        measure="clone_qm",
        bound=sp.sqrt(2) * L_am,
        identities=(
            Identity(sp.ceiling(_x) <= _x + 1, label="N_i = ceil(L_i/L_am) <= L_i/L_am + 1, hence N <= 2n"),
            Identity(_x**2 / sp.ceiling(_x) <= _x, label="L_i^2/N_i <= L_i L_am, hence sum_i L_i^2/N_i <= n L_am^2"),
        ),
        setting={},
        experiment="ef21",
        description="M_qm^2 = (N/n^2) sum_i L_i^2/N_i measured on sampled L vectors and on the instance.",
    )
)

_u = sp.Symbol("u", positive=True)  # alpha = 1 - u^2, 0 < u < 1


def _sub_u(expr: sp.Expr) -> sp.Expr:
    return sp.simplify(expr.subs(alpha, 1 - _u**2))


def _eq_after_u(a: sp.Expr, b: sp.Expr, what: str):
    def proof() -> str | None:
        return (
            f"{what}: equal after alpha = 1 - u^2 (u > 0), sympy.simplify"
            if sp.simplify(_sub_u(a) - _sub_u(b)) == 0
            else None
        )

    return proof


_sY = 1 / sp.sqrt(1 - alpha) - 1
_unit = lambda rng, size: {"alpha": 1 - rng.uniform(0, 1, size) * 0.999999}  # noqa: E731
constants = register(
    Claim(
        id="ef21.constants",
        title="Closed forms and limits of theta_c, beta_c and xi",
        paper=EF21 + " (theta, beta); " + RELOADED + " (xi); spec EF-1 and EF-17",
        provenance=Provenance.DERIVED,
        provenance_note="theta_c, beta_c [paper]; closed forms of xi and limits [derived]",
        kind=Kind.IDENTITY,
        measure="",
        identities=(
            Identity(
                lambda: sp.Eq(theta_c(alpha), 1 - sp.sqrt(1 - alpha)),
                proof=_eq_after_u(theta_c(alpha), 1 - sp.sqrt(1 - alpha), "theta_c"),
                sampler=_unit,
                label="theta_c = 1 - sqrt(1 - alpha) (stable form)",
            ),
            Identity(
                lambda: sp.Eq(beta_c(alpha), (1 - alpha) / (1 - sp.sqrt(1 - alpha))),
                proof=_eq_after_u(beta_c(alpha), (1 - alpha) / (1 - sp.sqrt(1 - alpha)), "beta_c"),
                sampler=_unit,
                label="beta_c = (1 - alpha)/(1 - sqrt(1 - alpha)) (stable form)",
            ),
            Identity(
                lambda: sp.Eq(xi(alpha), sp.sqrt(beta_c(alpha) / theta_c(alpha))),
                proof=_eq_after_u(xi(alpha), sp.sqrt(beta_c(alpha) / theta_c(alpha)), "xi"),
                sampler=_unit,
                label="xi = sqrt(beta_c/theta_c)",
            ),
            Identity(
                lambda: sp.Eq(xi(alpha), (1 + sp.sqrt(1 - alpha)) / alpha - 1),
                proof=_eq_after_u(xi(alpha), (1 + sp.sqrt(1 - alpha)) / alpha - 1, "xi"),
                sampler=_unit,
                label="xi = (1 + sqrt(1 - alpha))/alpha - 1",
            ),
            Identity(
                lambda: sp.Eq(theta_c(alpha), 1 - (1 - alpha) * (1 + _sY)),
                proof=_eq_after_u(theta_c(alpha), 1 - (1 - alpha) * (1 + _sY), "theta_c"),
                sampler=_unit,
                label="theta_c = 1 - (1 - alpha)(1 + s_Y), s_Y = (1 - alpha)^(-1/2) - 1 (authors' code)",
            ),
            Identity(
                lambda: sp.Eq(beta_c(alpha), (1 - alpha) * (1 + 1 / _sY)),
                proof=_eq_after_u(beta_c(alpha), (1 - alpha) * (1 + 1 / _sY), "beta_c"),
                sampler=_unit,
                label="beta_c = (1 - alpha)(1 + 1/s_Y) (authors' code)",
            ),
            Identity(
                lambda: sp.Eq(
                    sp.Matrix([theta_c(sp.Integer(1)), beta_c(sp.Integer(1)), xi(sp.Integer(1))]).T,
                    sp.Matrix([[1, 0, 0]]),
                ),
                proof=lambda: (
                    "alpha = 1: theta_c = 1, beta_c = 0, xi = 0 (so every EF21 stepsize is the GD stepsize 1/L), sympy substitution"
                    if (theta_c(sp.Integer(1)), beta_c(sp.Integer(1)), xi(sp.Integer(1))) == (1, 0, 0)
                    else None
                ),
                label="alpha = 1 gives theta_c = 1, beta_c = 0, xi = 0",
            ),
            Identity(
                lambda: sp.Eq(sp.limit(alpha * xi(alpha), alpha, 0, "+"), 2),
                proof=lambda: (
                    "sympy.limit(alpha * xi(alpha), alpha -> 0+) = 2"
                    if sp.limit(alpha * xi(alpha), alpha, 0, "+") == 2
                    else None
                ),
                label="xi(alpha) ~ 2/alpha as alpha -> 0",
            ),
        ),
        description="The constants of section 1.5 of the spec, proved with sympy.",
    )
)

# ----------------------------------------------------------------------------- teeth
_STEP50 = "stepsize 1000x past the theorem's rule (the bound evaluated at that stepsize)"
_T2 = "rate 1/T^2 instead of 1/T (a faster rate than the theorem gives)"
for _c in (nonconvex_qm, nonconvex_am, w_nonconvex, w_pp):
    register_teeth(
        _c,
        _c.variant("step1000", stepsize=1000 * _c.stepsize, expected_to_fail=_STEP50),
        _c.variant("rate-T2", bound=_c.bound / T, expected_to_fail=_T2),
    )
for _c in (pl_qm, pl_am, w_pl):
    register_teeth(
        _c,
        _c.variant("step1000", stepsize=1000 * _c.stepsize, expected_to_fail=_STEP50),
        _c.variant("halved", bound=_c.bound / 2, expected_to_fail="bound halved (tighter than the truth)"),
    )
register_teeth(
    w_sgd,
    w_sgd.variant(
        "no-neighbourhood",
        bound=2 * delta0 / (gamma * T) + G0 / (THETA_SGD * T),
        expected_to_fail="neighbourhood term beta_2/theta sigma^2 dropped",
    ),
)
register_teeth(
    equivalence,
    equivalence.variant(
        "natural",
        setting={"algorithm": "both", "compressor": "natural"},
        expected_to_fail="claimed for natural rounding, which is not positively homogeneous",
    ),
)
register_teeth(
    cloning, cloning.variant("no-sqrt2", bound=L_am, expected_to_fail="sqrt(2) factor dropped: M_qm <= L_am")
)
register_teeth(
    means,
    means.variant(
        "reversed",
        identities=(
            Identity(
                L_qm <= L_am, label="L_qm <= L_am (reversed)", sampler=lambda rng, size: _reversed_sampler(rng, size)
            ),
        ),
        expected_to_fail="power-mean inequality reversed",
    ),
)
register_teeth(
    constants,
    constants.variant(
        "xi-minus-one-dropped",
        identities=(
            Identity(
                sp.Eq(xi(alpha), (1 + sp.sqrt(1 - alpha)) / alpha),
                proof=_eq_after_u(xi(alpha), (1 + sp.sqrt(1 - alpha)) / alpha, "xi"),
                sampler=_unit,
                label="xi = (1 + sqrt(1 - alpha))/alpha (the -1 dropped)",
            ),
        ),
        expected_to_fail="closed form of xi with its '-1' dropped",
    ),
)


def _reversed_sampler(rng: np.random.Generator, size: int) -> dict:
    """Draw (L_am, L_qm) pairs that come from actual vectors of smoothness constants."""
    Ls = 10 ** rng.uniform(-2, 2, (size, 5))
    return {"L_am": Ls.mean(1), "L_qm": np.sqrt((Ls**2).mean(1))}
