r"""Three point compressors (3PC): EF21, LAG and CLAG under one theorem, and adaptive compression.

Richtárik, Sokolov, Fatkhullin, Gasanov, Li, Gorbunov, *3PC: Three Point Compressors for
Communication-Efficient Distributed Training and a Better Theory for Lazy Aggregation*, ICML 2022
(PMLR 162:18596-18648), arXiv:2202.00998.  Only the authors' poster and code could be read (tag
[paper] below means: read there); the numbered theorems of the full paper and its PŁ statement were
[not found].

A (possibly randomized) map :math:`\mathcal C_{h,y}` is a *three point compressor* with constants
:math:`0<A\le1`, :math:`B\ge0` if

.. math:: \mathbb E\Vert\mathcal C_{h,y}(x)-x\Vert^2\le(1-A)\Vert h-y\Vert^2+B\Vert x-y\Vert^2
   \qquad\forall x,y,h,

used as :math:`g_i^{t+1}=\mathcal C_{g_i^t,\nabla f_i(x^t)}(\nabla f_i(x^{t+1}))`.  With
:math:`M_1=L+L_{plus}\sqrt{B/A}` and :math:`\gamma\le1/M_1` (poster Theorem 1),

.. math:: \frac1T\sum_{t<T}\mathbb E\Vert\nabla f(x^t)\Vert^2\le\frac{2\delta_0}{\gamma T}
   +\frac{\mathbb E\,G^0}{AT},\qquad G^t=\frac1n\sum_i\Vert g_i^t-\nabla f_i(x^t)\Vert^2.

EF21 is the special case :math:`A=\theta_c(\alpha)`, :math:`B=\beta_c(\alpha)`: claim ``3pc.ef21-reduction``
proves it against the shipped ``ef21.*`` claim objects (imported, not restated).  LAG (trigger ζ) has
:math:`A=1`, :math:`B=\zeta`; CLAG :math:`A=\theta_c`, :math:`B=\max\{\beta_c,\zeta\}`.  The PŁ theorem, the
explicit complexity, the one-step Lyapunov inequality and the AdaCGD-type adaptive rule are [derived] here
(AdaCGD: Makarenko, Gasanov, Islamov, Sadiev, Richtárik, TMLR 2023, arXiv:2211.00188 -- only its abstract
was read; its own rule and constants [not found]).  Two misprints of the poster are corrected and tagged
[derived]: GD is listed with "B = 1 and A = 0" (the identity map has A = 1, B = 0), and the PŁ constant
:math:`M_2` contains :math:`A/(2\mu)` where :math:`2\mu/A` is meant.

Symbols supplied by the experiment ``three_point`` (``ratecheck describe three_point``); ``A_3pc``,
``B_3pc`` are the mechanism's declared constants.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ._core import Claim, Identity, Kind, Provenance, ge, gt, le, register, register_teeth, sym
from .ef21 import beta_c, nonconvex_qm, pl_qm, theta_c, xi

PAPER = (
    "Richtárik, Sokolov, Fatkhullin, Gasanov, Li, Gorbunov. 3PC: Three Point Compressors for "
    "Communication-Efficient Distributed Training and a Better Theory for Lazy Aggregation. ICML 2022, "
    "arXiv:2202.00998"
)
POSTER = PAPER + " (authors' poster and code)"
ADACGD = (
    "Makarenko, Gasanov, Islamov, Sadiev, Richtárik. Adaptive Compression for Communication-Efficient "
    "Distributed Training. TMLR 2023, arXiv:2211.00188"
)
CHEN = "Chen, Giannakis, Sun, Yin. LAG: Lazily Aggregated Gradient for Communication-Efficient Distributed Learning. NeurIPS 2018, arXiv:1805.09965"

L, L_plus, L_qm, gamma, mu = sym("L"), sym("L_plus"), sym("L_qm"), sym("gamma"), sym("mu")
T, delta0, G0, alpha, eps = sym("T"), sym("delta0"), sym("G0"), sym("alpha"), sym("eps")
A3 = sym("A_3pc")
B3 = sym("B_3pc", nonnegative=True, real=True)
zeta = sym("zeta", nonnegative=True, real=True)
# per-client, per-round quantities of the 3PC inequality (measured; file-local names)
D_hy = sym("D_hy", nonnegative=True, real=True)  # ||h - y||^2 = ||g_i^t - grad f_i(x^t)||^2
D_xy = sym("D_xy", nonnegative=True, real=True)  # ||x - y||^2 = ||grad f_i(x^(t+1)) - grad f_i(x^t)||^2
# one step of the Lyapunov function (file-local names)
gap_t = sym("gap_t", nonnegative=True, real=True)  # f(x^t) - f_low
G_t = sym("G_t", nonnegative=True, real=True)  # G^t
gn2_t = sym("gn2_t", nonnegative=True, real=True)  # ||grad f(x^t)||^2

_AB = (gt(A3, 0), le(A3, 1), ge(B3, 0))
_SMOOTH = (gt(L, 0), le(L, L_plus), gt(gamma, 0))


def m1(a: sp.Expr = A3, b: sp.Expr = B3) -> sp.Expr:
    r""":math:`M_1=L+L_{plus}\sqrt{B/A}` (poster Theorem 1)."""
    return L + L_plus * sp.sqrt(b / a)


def nonconvex_rate(a: sp.Expr = A3, b: sp.Expr = B3) -> tuple[sp.Expr, sp.Expr]:
    r"""Stepsize rule :math:`1/M_1` and bound :math:`2\delta_0/(\gamma T)+G^0/(AT)` of the nonconvex theorem."""
    return 1 / m1(a, b), 2 * delta0 / (gamma * T) + G0 / (a * T)


def pl_rate(a: sp.Expr = A3, b: sp.Expr = B3) -> tuple[sp.Expr, sp.Expr]:
    r"""Stepsize rule :math:`\min\{(L+L_{plus}\sqrt{2B/A})^{-1},A/(2\mu)\}` and bound
    :math:`(1-\gamma\mu)^T(\delta_0+\frac\gamma AG^0)` of the [derived] PŁ theorem."""
    rule = sp.Min(1 / (L + L_plus * sp.sqrt(2 * b / a)), a / (2 * mu))
    return rule, (1 - gamma * mu) ** T * (delta0 + gamma / a * G0)


def three_point_rhs(a: sp.Expr = A3, b: sp.Expr = B3) -> sp.Expr:
    r"""Right-hand side :math:`(1-A)\Vert h-y\Vert^2+B\Vert x-y\Vert^2` of the 3PC inequality."""
    return (1 - a) * D_hy + b * D_xy


def clag_constants(a: sp.Expr = alpha, z: sp.Expr = zeta) -> tuple[sp.Expr, sp.Expr]:
    r"""CLAG (and the AdaCGD-type rule with fallback contraction ``a``): :math:`(\theta_c(a),\max\{\beta_c(a),\zeta\})`."""
    return theta_c(a), sp.Max(beta_c(a), z)


# ----------------------------------------------------------------------------- helpers of the identities
_u = sp.Symbol("u", positive=True)  # alpha = 1 - u^2 (0 < u < 1)
_v = sp.Symbol("v", positive=True)  # p = 1 - v^2


def _simplify_eq(a: sp.Expr, b: sp.Expr, subs: dict, what: str):
    def proof() -> str | None:
        d = sp.simplify(sp.sympify(a - b).subs(subs))
        return (
            f"{what}: sympy.simplify(lhs - rhs) = 0 after {', '.join(f'{k} = {v}' for k, v in subs.items())}"
            if d == 0
            else None
        )

    return proof


def _eq(a, b) -> sp.Basic:
    """Unevaluated ``a == b`` (kept even when sympy could decide it at once)."""
    return sp.Eq(sp.sympify(a), sp.sympify(b), evaluate=False)


def _no_symbolic_proof() -> None:
    """Checked by sampling (sympy cannot decide the piecewise max/min)."""
    return None


_s = sp.Symbol("s", positive=True)  # Young parameter
p = sym("p")
omega = sym("omega")
n_ = sym("n")
a1, a2 = sp.Symbol("alpha_1", positive=True), sp.Symbol("alpha_2", positive=True)
_S_OPT = 1 / sp.sqrt(1 - alpha) - 1
_A_EF21 = 1 - (1 - alpha) * (1 + _s)
_B_EF21 = (1 - alpha) * (1 + 1 / _s)
_S5 = 1 / sp.sqrt(1 - p) - 1
_A5, _B5 = 1 - sp.sqrt(1 - p), (1 - p) * (1 - alpha) / (1 - sp.sqrt(1 - p))


def _young_sampler(rng, size):
    """(alpha, s) with (1 - alpha)(1 + s) < 1: s uniform on (0, s_max)."""
    a = rng.uniform(0.01, 0.99, size)
    smax = 1 / (1 - a) - 1
    return {"alpha": a, "s": smax * rng.uniform(0.001, 0.999, size)}


def _pair_sampler(rng, size):
    return {"alpha_1": rng.uniform(0.001, 1, size), "alpha_2": rng.uniform(0.001, 1, size)}


def _unit(rng, size):
    return {"alpha": rng.uniform(0.001, 0.999, size), "p": rng.uniform(0.001, 0.999, size)}


# ============================================================================ the definition
definition = register(
    Claim(
        id="3pc.definition",
        title="3PC inequality: E||C_{h,y}(x) - x||^2 <= (1 - A)||h - y||^2 + B||x - y||^2 for the mechanism's declared (A, B)",
        paper=POSTER + ", definition (poster eq. (1)); per-mechanism proofs derived here",
        provenance=Provenance.PAPER,
        provenance_note="definition [paper]; the per-mechanism proofs of (A, B) [derived]",
        kind=Kind.UPPER,
        measure="3pc_error",
        in_expectation=True,
        bound=three_point_rhs(),
        assumptions=_AB,
        experiment="three_point",
        description="Per client and per round of a run, with the actual h = g_i^t, y = grad f_i(x^t), "
        "x = grad f_i(x^(t+1)): LHS ||g_i^(t+1) - grad f_i(x^(t+1))||^2 against the RHS with the mechanism's "
        "declared (A, B) (exact for deterministic mechanisms; Monte Carlo over fresh draws of the mechanism at "
        "the same (h, y, x) otherwise).",
    )
)

# ============================================================================ the constants table
_CONSTANT_IDS = (
    Identity(
        lambda: _eq(_A_EF21.subs(_s, _S_OPT), theta_c(alpha)),
        proof=_simplify_eq(_A_EF21.subs(_s, _S_OPT), theta_c(alpha), {alpha: 1 - _u**2}, "A(s*)"),
        label="EF21 with the optimal Young parameter s* = (1 - alpha)^(-1/2) - 1: A = 1 - (1 - alpha)(1 + s*) = theta_c",
    ),
    Identity(
        lambda: _eq(_B_EF21.subs(_s, _S_OPT), beta_c(alpha)),
        proof=_simplify_eq(_B_EF21.subs(_s, _S_OPT), beta_c(alpha), {alpha: 1 - _u**2}, "B(s*)"),
        label="EF21 with s*: B = (1 - alpha)(1 + 1/s*) = beta_c",
    ),
    Identity(
        lambda: ge(_B_EF21 / _A_EF21, xi(alpha) ** 2),
        proof=_no_symbolic_proof,
        sampler=_young_sampler,
        label="EF21: B(s)/A(s) >= xi^2 = beta_c/theta_c for every admissible s (s* is optimal; sampled)",
    ),
    Identity(
        lambda: _eq(clag_constants(sp.Integer(1), sp.Integer(0))[0], 1),
        label="GD (identity map) = CLAG with alpha = 1, zeta = 0: A = theta_c(1) = 1 (the poster prints A = 0)",
    ),
    Identity(
        lambda: _eq(clag_constants(sp.Integer(1), sp.Integer(0))[1], 0),
        label="GD: B = max{beta_c(1), 0} = 0 (the poster prints B = 1)",
    ),
    Identity(
        lambda: _eq(1 - (1 - p) * (1 + _S5), _A5),
        proof=_simplify_eq(1 - (1 - p) * (1 + _S5), _A5, {p: 1 - _v**2}, "3PCv5 A"),
        label="3PCv5 with s = (1 - p)^(-1/2) - 1: A = 1 - (1 - p)(1 + s) = 1 - sqrt(1 - p)",
    ),
    Identity(
        lambda: _eq((1 - p) * (1 - alpha) * (1 + 1 / _S5), _B5),
        proof=_simplify_eq((1 - p) * (1 - alpha) * (1 + 1 / _S5), _B5, {p: 1 - _v**2}, "3PCv5 B"),
        label="3PCv5 with that s: B = (1 - p)(1 - alpha)(1 + 1/s) = (1 - p)(1 - alpha)/(1 - sqrt(1 - p))",
    ),
    Identity(
        ge(1 - (1 - a1) * (1 - a2), sp.Max(a1, a2)),
        proof=_no_symbolic_proof,
        sampler=_pair_sampler,
        label="3PCv4: alpha_bar = 1 - (1 - alpha_1)(1 - alpha_2) >= max(alpha_1, alpha_2), so theta_c(alpha_bar) >= theta_c of each",
    ),
    Identity(
        lambda: _eq(((1 - p) * omega / n_).subs(p, 1), 0),
        label="MARINA (A, B) = (p, (1 - p) omega/n): p = 1 gives GD's (1, 0)",
    ),
)
constants = register(
    Claim(
        id="3pc.constants",
        title="3PC constants: EF21 (theta_c, beta_c), LAG (1, zeta), CLAG, 3PCv1-v5, MARINA; GD (1, 0)",
        paper=POSTER + ", Table 1 and the code's stepsize formulas",
        provenance=Provenance.PAPER,
        provenance_note="constants [paper] (poster Table 1, code); GD's entry [derived] (the poster prints "
        "'B = 1 and A = 0', which violates A > 0); the Young-parameter identities [derived]",
        kind=Kind.IDENTITY,
        measure="",
        identities=_CONSTANT_IDS,
        description="The constants table proved with sympy (Young parameters, the GD and MARINA limits) or sampled "
        "(optimality of s*, 3PCv4's combined alpha).",
    )
)

# ============================================================================ nonconvex theorem
_g, _b = nonconvex_rate()
nonconvex = register(
    Claim(
        id="3pc.nonconvex",
        title="3PC nonconvex rate: gamma <= 1/(L + L_plus sqrt(B/A)) => mean_t E||grad f(x^t)||^2 <= 2 delta0/(gamma T) + E G^0/(A T)",
        paper=POSTER + ", Theorem 1",
        provenance=Provenance.PAPER,
        kind=Kind.UPPER,
        measure="avg_grad_norm_sq",
        in_expectation=True,
        stepsize=_g,
        bound=_b,
        assumptions=_AB + _SMOOTH,
        experiment="three_point",
        description="Running mean over t < T of ||grad f(x^t)||^2 for every T, with the mechanism's declared "
        "(A, B) and the exact L_plus = sqrt(lambda_max((1/n) sum_i H_i^2)) of least squares.",
    )
)

lyapunov_step = register(
    Claim(
        id="3pc.lyapunov-step",
        title="3PC Lyapunov step: Phi^(t+1) <= Phi^t - (gamma/2)||grad f(x^t)||^2, Phi = f - f_inf + gamma/(2A) G",
        paper=POSTER + " (Theorem 1); the one-step inequality derived here",
        provenance=Provenance.DERIVED,
        kind=Kind.UPPER,
        measure="lyapunov_step",
        in_expectation=True,
        stepsize=_g,
        bound=gap_t + gamma / (2 * A3) * G_t - gamma / 2 * gn2_t,
        assumptions=_AB + _SMOOTH,
        experiment="three_point",
        description="At every step t: Phi^(t+1) = f(x^(t+1)) - f_low + gamma/(2A) G^(t+1) against "
        "gap_t + gamma/(2A) G_t - (gamma/2) gn2_t at step t (pointwise for deterministic mechanisms; "
        "Monte Carlo means otherwise).",
    )
)

_M1 = m1()
_TEPS = (2 * delta0 * _M1 + G0 / A3) / eps**2
complexity = register(
    Claim(
        id="3pc.complexity",
        title="3PC complexity: gamma = 1/M_1 and T >= ceil((2 delta0 M_1 + G^0/A)/eps^2) give mean_t E||grad f||^2 <= eps^2",
        paper=POSTER + ", Corollary 1 (O form); the explicit T derived here",
        provenance=Provenance.PAPER,
        provenance_note="O(delta0 M_1/eps^2 + G^0/(A eps^2)) [paper] (poster Corollary 1); the explicit T [derived]",
        kind=Kind.UPPER,
        measure="rounds_to_eps",
        in_expectation=True,
        stepsize=_g,
        bound=sp.ceiling(_TEPS),
        assumptions=_AB + _SMOOTH,
        identities=(
            Identity(
                lambda: _eq(nonconvex_rate()[1].subs({gamma: 1 / _M1, T: _TEPS}), eps**2),
                label="the nonconvex bound at gamma = 1/M_1 and T = (2 delta0 M_1 + G0/A)/eps^2 equals eps^2",
            ),
        ),
        experiment="three_point",
        description="Smallest T0 such that the running mean of ||grad f(x^t)||^2 is <= eps^2 for every T >= T0 "
        "(within the run; the goal is in eps^2, poster Corollary 1), on a grid of eps, at gamma = 1/M_1; rounds are "
        "integers, hence the ceiling.",
    )
)

_g_pl, _b_pl = pl_rate()
pl = register(
    Claim(
        id="3pc.pl",
        title="3PC under PŁ: gamma <= min{1/(L + L_plus sqrt(2B/A)), A/(2 mu)} => E Psi^T <= (1 - gamma mu)^T Psi^0",
        paper=POSTER + " (Table 2: a PŁ rate with M_2 exists); statement derived here",
        provenance=Provenance.DERIVED,
        provenance_note="[derived]; existence of a PŁ theorem with M_2 [paper] (poster Table 2); its printed "
        "statement [not found]; the poster's M_2 = max{L + L_plus sqrt(2B/A), A/(2 mu)} read as 2 mu/A (misprint, [derived])",
        kind=Kind.UPPER,
        measure="pl_lyapunov",
        in_expectation=True,
        stepsize=_g_pl,
        bound=_b_pl,
        assumptions=_AB + _SMOOTH + (gt(mu, 0), le(mu, L)),
        experiment="three_point",
        description="Psi^T = f(x^T) - f* + (gamma/A) G^T against (1 - gamma mu)^T (delta0 + (gamma/A) G^0) (least squares).",
    )
)


# ============================================================================ EF21 as the special case
def _reduce(expr: sp.Expr) -> sp.Expr:
    """A 3PC expression at EF21's constants A = theta_c, B = beta_c and L_plus -> L_qm."""
    return expr.subs({A3: theta_c(alpha), B3: beta_c(alpha), L_plus: L_qm})


def _reduction_proof(mine: sp.Expr, theirs: sp.Expr, what: str):
    def proof() -> str | None:
        d = sp.simplify((_reduce(mine) - theirs).subs(alpha, 1 - _u**2))
        return (
            f"{what}: 3PC at (theta_c, beta_c, L_plus -> L_qm) minus the shipped EF21 claim simplifies to 0"
            if d == 0
            else None
        )

    return proof


def _reduction_identity(mine, theirs, what: str, label: str) -> Identity:
    """The identity "this 3PC expression at EF21's (A, B), L_plus -> L_qm, is the shipped EF21 expression"."""
    return Identity(lambda: _eq(_reduce(mine), theirs), proof=_reduction_proof(mine, theirs, what), label=label)


_Xs = sp.Symbol("X", nonnegative=True)
_ds = sp.Symbol("s", nonnegative=True)
ef21_reduction = register(
    Claim(
        id="3pc.ef21-reduction",
        title="EF21 is the 3PC with A = theta_c, B = beta_c (B/A = xi^2): 3pc.nonconvex and 3pc.pl become ef21.nonconvex-qm and ef21.pl-qm with L_qm -> L_plus <= L_qm",
        paper=POSTER + " (EF21's constants, Table 1); " + nonconvex_qm.paper.split(";")[0],
        provenance=Provenance.DERIVED,
        provenance_note="EF21's constants [paper]; the equivalence and L_plus <= L_qm [derived]",
        kind=Kind.IDENTITY,
        measure="",
        identities=(
            Identity(
                lambda: _eq(beta_c(alpha) / theta_c(alpha), xi(alpha) ** 2),
                proof=_simplify_eq(beta_c(alpha) / theta_c(alpha), xi(alpha) ** 2, {alpha: 1 - _u**2}, "B/A"),
                label="B/A = beta_c/theta_c = xi^2",
            ),
            *(
                _reduction_identity(mine, theirs, what, label)
                for mine, theirs, what, label in (
                    (
                        nonconvex.stepsize,
                        nonconvex_qm.stepsize,
                        "stepsize",
                        "3pc.nonconvex stepsize at EF21's (A, B) = ef21.nonconvex-qm stepsize (L_plus -> L_qm)",
                    ),
                    (
                        nonconvex.bound,
                        nonconvex_qm.bound,
                        "bound",
                        "3pc.nonconvex bound at EF21's (A, B) = ef21.nonconvex-qm bound",
                    ),
                    (
                        pl.stepsize,
                        pl_qm.stepsize,
                        "PL stepsize",
                        "3pc.pl stepsize at EF21's (A, B) = ef21.pl-qm stepsize (L_plus -> L_qm)",
                    ),
                    (pl.bound, pl_qm.bound, "PL bound", "3pc.pl bound at EF21's (A, B) = ef21.pl-qm bound"),
                )
            ),
            Identity(
                ge(1 / (L + L_plus * _Xs), 1 / (L + (L_plus + _ds) * _Xs)),
                label="1/(L + L_plus X) >= 1/(L + L_qm X) for every X >= 0 when L_qm = L_plus + s, s >= 0: the 3PC "
                "stepsize with L_plus is never smaller than EF21's with L_qm",
            ),
        ),
        setting={},
        description="Symbolic, against the shipped claim objects ef21.nonconvex-qm and ef21.pl-qm; numerically "
        "L_plus <= L_qm is a constant of every three_point run (the experiment records both).",
    )
)

# ============================================================================ LAG, CLAG, AdaCGD
lag_constants = register(
    Claim(
        id="3pc.lag-constants",
        title="LAG with trigger zeta is a 3PC with A = 1, B = zeta (pointwise); stepsize 1/(L + L_plus sqrt(zeta)); zeta = 0 gives GD",
        paper=POSTER + ", Table 1 and 'Lazy aggregation'; per-round check derived here",
        provenance=Provenance.PAPER,
        provenance_note="constants [paper]; the pointwise check and the limits [derived]",
        kind=Kind.UPPER,
        measure="3pc_error",
        bound=three_point_rhs(sp.Integer(1), zeta),
        assumptions=(ge(zeta, 0),),
        identities=(
            Identity(
                lambda: _eq(nonconvex.stepsize.subs({A3: 1, B3: zeta}), 1 / (L + L_plus * sp.sqrt(zeta))),
                label="3pc.nonconvex stepsize at (A, B) = (1, zeta) is 1/(L + L_plus sqrt(zeta))",
            ),
            Identity(
                lambda: _eq(nonconvex.stepsize.subs({A3: 1, B3: 0}), 1 / L),
                label="zeta = 0 (LAG = GD): stepsize 1/L",
            ),
        ),
        setting={"mechanism": "lag"},
        experiment="three_point",
        description="Per client and per round of a LAG run: ||g_i^(t+1) - grad f_i(x^(t+1))||^2 <= zeta "
        "||grad f_i(x^(t+1)) - grad f_i(x^t)||^2 (0 when the trigger fires).",
    )
)

_A_clag, _B_clag = clag_constants()


def _clag_sampler(rng, size):
    a = rng.uniform(0.01, 1, size)
    bc = (1 - a) * (1 + np.sqrt(1 - a)) / a
    return {"alpha": a, "zeta": bc * rng.uniform(0, 1, size)}


clag = register(
    Claim(
        id="3pc.clag",
        title="CLAG is a 3PC with A = theta_c, B = max{beta_c, zeta}; for zeta <= beta_c it has EF21's stepsize while skipping rounds",
        paper=POSTER + ", Table 1; corollary derived here",
        provenance=Provenance.PAPER,
        provenance_note="constants [paper]; the corollary (zeta <= beta_c gives EF21's stepsize) and alpha = 1 giving LAG [derived]",
        kind=Kind.UPPER,
        measure="3pc_error",
        bound=three_point_rhs(_A_clag, _B_clag),
        assumptions=(gt(alpha, 0), le(alpha, 1), ge(zeta, 0)),
        identities=(
            Identity(
                lambda: _eq(
                    nonconvex.stepsize.subs({A3: _A_clag, B3: _B_clag}), nonconvex_qm.stepsize.subs(L_qm, L_plus)
                ),
                proof=_no_symbolic_proof,
                sampler=lambda rng, size: dict(
                    _clag_sampler(rng, size), L=rng.uniform(0.1, 10, size), L_plus=rng.uniform(10, 20, size)
                ),
                label="zeta <= beta_c: CLAG's 3PC stepsize equals EF21's 1/(L + L_plus xi) (sampled on zeta <= beta_c)",
            ),
            Identity(
                lambda: _eq(_A_clag.subs(alpha, 1) + _B_clag.subs(alpha, 1), 1 + zeta),
                label="alpha = 1 (C = identity): CLAG = LAG, A = theta_c(1) = 1 and B = max{beta_c(1), zeta} = zeta",
            ),
        ),
        setting={"mechanism": "clag"},
        experiment="three_point",
        description="Per client and per round of a CLAG run, against (1 - theta_c)||h - y||^2 + max{beta_c, zeta}||x - y||^2.",
    )
)

adacgd = register(
    Claim(
        id="adacgd.constants",
        title="Adaptive choice among C_1..C_K (first passing a LAG-type test, else C_K) is a 3PC with A = theta_c(alpha_K), B = max{beta_c(alpha_K), zeta}",
        paper=ADACGD
        + " (abstract: adaptive choice among contractive compressors); the rule and constants derived here",
        provenance=Provenance.DERIVED,
        provenance_note="[derived] for the rule stated here; AdaCGD's actual rule and constants [not found]",
        kind=Kind.UPPER,
        measure="3pc_error",
        bound=three_point_rhs(_A_clag, _B_clag),
        assumptions=(gt(alpha, 0), le(alpha, 1), ge(zeta, 0)),
        identities=(
            Identity(
                lambda: _eq(_A_clag.subs(alpha, 1) + _B_clag.subs(alpha, 1), 1 + zeta),
                label="C_K = identity: A = 1 and B = max{0, zeta} = zeta",
            ),
        ),
        setting={"mechanism": "adacgd"},
        experiment="three_point",
        description="alpha is the contraction of the fallback C_K (the least aggressive compressor); output "
        "h + C_j(x - h) for the smallest j with ||h + C_j(x - h) - x||^2 <= zeta ||x - y||^2, else h + C_K(x - h).",
    )
)

# ============================================================================ documentation row
G_b = sp.Symbol("G_bnd", positive=True)  # LENA's bounded-gradient constant (file-local)
_Tv = sp.Symbol("T", positive=True)
lag_vs_chen = register(
    Claim(
        id="3pc.lag-vs-chen",
        title="Lazy aggregation rates (poster Table 2): LAG/LAQ linear only (strongly convex), LENA O(G^(4/3)/T^(2/3)) "
        "needs bounded gradients (1/eps^3 rounds), 3PC LAG/CLAG O(M_1/T) nonconvex (1/eps^2 rounds)",
        paper=POSTER + ", 'Lazy aggregation' box and Table 2; " + CHEN + " (not consulted)",
        provenance=Provenance.PAPER,
        provenance_note="documentation only: Table 2 [paper] (poster); Chen et al.'s own theorems [not found]; the rule "
        "analysed is ||g_i^t - grad f_i(x^(t+1))||^2 > zeta ||grad f_i(x^(t+1)) - grad f_i(x^t)||^2, not Chen et al.'s "
        "2018 trigger (weighted past iterate differences) [reconstructed]: the 3PC rate is not attributed to the 2018 rule",
        kind=Kind.IDENTITY,
        measure="",
        identities=(
            Identity(
                lambda: _eq(
                    sp.solve(_eq(G_b ** sp.Rational(4, 3) / _Tv ** sp.Rational(2, 3), eps**2), _Tv)[0], G_b**2 / eps**3
                ),
                label="LENA: G^(4/3)/T^(2/3) = eps^2 at T = G^2/eps^3 (the O(1/eps^3) of the poster)",
            ),
            Identity(
                lambda: _eq(
                    sp.solve(_eq(2 * delta0 * m1(1, zeta) / _Tv, eps**2), _Tv)[0], 2 * delta0 * m1(1, zeta) / eps**2
                ),
                label="3PC LAG with g^0 = grad f_i(x^0): 2 delta0 M_1/T = eps^2 at T = 2 delta0 M_1/eps^2 (O(1/eps^2))",
            ),
        ),
        description="A documentation row: which rates exist for lazy aggregation (poster Table 2), with the two "
        "complexity conversions it rests on proved by sympy.  No experiment.",
    )
)

# ============================================================================ teeth
register_teeth(
    definition,
    definition.variant(
        "lag-B0",
        bound=three_point_rhs(A3, sp.Integer(0)),
        setting={"mechanism": "lag"},
        expected_to_fail="LAG declared with B = 0: a skipped client keeps an error up to zeta ||x - y||^2",
    ),
    definition.variant(
        "A-one",
        bound=three_point_rhs(sp.Integer(1), B3),
        expected_to_fail="A = 1 declared for every mechanism: the memory term (1 - A)||h - y||^2 dropped",
    ),
)
register_teeth(
    constants,
    constants.variant(
        "poster-gd",
        identities=(
            Identity(
                lambda: _eq(clag_constants(sp.Integer(1), sp.Integer(0))[0], 0),
                label="GD: A = 0 as printed on the poster",
            ),
        ),
        expected_to_fail="the poster's misprint for GD (A = 0), which violates 0 < A",
    ),
    constants.variant(
        "v5-no-sqrt",
        identities=(
            Identity(
                lambda: _eq(1 - (1 - p) * (1 + _S5), p),
                proof=_simplify_eq(1 - (1 - p) * (1 + _S5), p, {p: 1 - _v**2}, "3PCv5 A"),
                sampler=_unit,
                label="3PCv5: A = p (the square root dropped)",
            ),
        ),
        expected_to_fail="3PCv5's A = 1 - sqrt(1 - p) replaced by p",
    ),
)
register_teeth(
    nonconvex,
    nonconvex.variant(
        "sqrt-A-over-B",
        stepsize=1 / (L + L_plus * sp.sqrt(A3 / B3)),
        expected_to_fail="stepsize with sqrt(A/B) instead of sqrt(B/A)",
    ),
    nonconvex.variant(
        "lag-B0",
        stepsize=1 / L,
        setting={"mechanism": "lag"},
        expected_to_fail="LAG run at GD's stepsize 1/L (its B = zeta taken as 0)",
    ),
    nonconvex.variant(
        "rate-T2",
        bound=nonconvex.bound / T,
        expected_to_fail="rate 1/T^2 instead of 1/T",
    ),
)
register_teeth(
    lyapunov_step,
    lyapunov_step.variant(
        "full-decrease",
        bound=gap_t + gamma / (2 * A3) * G_t - gamma * gn2_t,
        expected_to_fail="decrease gamma ||grad f||^2 instead of (gamma/2) ||grad f||^2",
    ),
)
register_teeth(
    complexity,
    complexity.variant(
        "tenth",
        bound=sp.ceiling(_TEPS / 10),
        expected_to_fail="ten times fewer rounds than the explicit complexity",
    ),
)
register_teeth(
    pl,
    pl.variant(
        "no-cap",
        stepsize=1 / (L + L_plus * sp.sqrt(2 * B3 / A3)),
        setting={"mechanism": "3pcv5"},
        expected_to_fail="PŁ stepsize without the cap A/(2 mu) (what M_2 as printed allows): false for 3PCv5 with "
        "C = identity (B = 0, A = 1 - sqrt(1 - p)), whose G decays only like (1 - p)^T",
    ),
    pl.variant("halved", bound=pl.bound / 2, expected_to_fail="bound halved"),
)
register_teeth(
    lag_constants,
    lag_constants.variant(
        "B0",
        bound=three_point_rhs(sp.Integer(1), sp.Integer(0)),
        expected_to_fail="LAG with B = 0 (so gamma = 1/L): skipped clients keep an error",
    ),
)
register_teeth(
    clag,
    clag.variant(
        "zeta-dropped",
        bound=three_point_rhs(_A_clag, beta_c(alpha)),
        expected_to_fail="CLAG with B = beta_c whatever zeta (false for zeta > beta_c)",
    ),
)
register_teeth(
    adacgd,
    adacgd.variant(
        "A-one",
        bound=three_point_rhs(sp.Integer(1), sp.Max(beta_c(alpha), zeta)),
        expected_to_fail="A = 1 (no memory term) for the adaptive rule: its fallback keeps (1 - alpha_K)||x - h||^2",
    ),
)
register_teeth(
    ef21_reduction,
    ef21_reduction.variant(
        "swapped",
        identities=(
            Identity(
                lambda: _eq(
                    nonconvex.stepsize.subs({A3: beta_c(alpha), B3: theta_c(alpha), L_plus: L_qm}),
                    nonconvex_qm.stepsize,
                ),
                proof=_no_symbolic_proof,
                label="EF21 as the 3PC with A = beta_c, B = theta_c (swapped): same stepsize as ef21.nonconvex-qm",
            ),
        ),
        expected_to_fail="EF21's constants swapped (A = beta_c, B = theta_c): the stepsize factor becomes 1/xi",
    ),
)
register_teeth(
    lag_vs_chen,
    lag_vs_chen.variant(
        "lena-eps2",
        identities=(
            Identity(
                lambda: _eq(
                    sp.solve(sp.Eq(G_b ** sp.Rational(4, 3) / _Tv ** sp.Rational(2, 3), eps**2), _Tv)[0],
                    G_b**2 / eps**2,
                ),
                label="LENA: G^(4/3)/T^(2/3) = eps^2 at T = G^2/eps^2 (as fast as 3PC)",
            ),
        ),
        expected_to_fail="LENA's O(G^(4/3)/T^(2/3)) read as O(1/eps^2) rounds (it is 1/eps^3)",
    ),
)
