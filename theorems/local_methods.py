r"""Local-update methods: ProxSkip/Scaffnew, Local GD and FLIX.

* **ProxSkip / Scaffnew** (Mishchenko, Malinovsky, Stich, Richtárik, ICML 2022, arXiv 2202.09357).  Only the
  abstract of the paper could be read: the iteration and communication complexities
  :math:`\mathcal O(\kappa\log\frac1\varepsilon)` and :math:`\mathcal O(\sqrt\kappa\log\frac1\varepsilon)` are
  [paper]; the theorem itself is encoded as restated by co-authors (Malinovsky, Yi, Richtárik, *Variance
  Reduced ProxSkip*, NeurIPS 2022, Theorem 6 with the GD estimator) and is therefore [reconstructed]: with
  :math:`\Psi=\Vert x-x^\star\Vert^2+\frac{\gamma^2}{p^2}\Vert h-h^\star\Vert^2`, :math:`0<\gamma\le1/L`,
  :math:`p\in(0,1]`,

  .. math:: \mathbb E\Psi_T\le(1-\zeta)^T\Psi_0,\qquad\zeta=\min\{\gamma\mu,p^2\}.

  On Scaffnew, L = max L_i and μ = min μ_i (the smooth part is a *sum* over clients).  The one-step bound,
  the GD special case, the communication constants and the p trade-off are [derived] here.
* **Local GD** on quadratics: the fixed point of a round, the neighbourhood radius
  :math:`\Delta_H` and the identical-Hessian case are [derived]; the convex bound attributed to Khaled,
  Mishchenko, Richtárik (AISTATS 2020, arXiv 1909.04746) is [reconstructed] (its printed constants could not
  be read) and only checked for numerical consistency.
* **FLIX** (Gasanov, Khaled, Horváth, Richtárik, AISTATS 2022, arXiv 2111.11556): the formulation and
  "standard methods apply" are from the abstract; the constants, the uniform-τ identity, the GD bound and
  the relation to Local GD are [derived] (the paper's printed statements [not found]).  The paper's
  personalization weight α is called τ here (α is the compressor constant).

Symbols supplied by the experiment ``local_methods`` (``ratecheck describe local_methods``).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ._core import Claim, Identity, Kind, Provenance, ge, gt, le, register, register_teeth, sym

PROXSKIP = (
    "Mishchenko, Malinovsky, Stich, Richtárik. ProxSkip: Yes! Local Gradient Steps Provably Lead to "
    "Communication Acceleration! Finally! ICML 2022 (PMLR 162:15750-15769), arXiv:2202.09357"
)
VR_PROXSKIP = (
    "as restated in Malinovsky, Yi, Richtárik. Variance Reduced ProxSkip. NeurIPS 2022, Theorem 6 (GD estimator)"
)
KHALED = (
    "Khaled, Mishchenko, Richtárik. Tighter Theory for Local SGD on Identical and Heterogeneous Data. "
    "AISTATS 2020, arXiv:1909.04746"
)
FLIX = (
    "Gasanov, Khaled, Horváth, Richtárik. FLIX: A Simple and Communication-Efficient Alternative to Local "
    "Methods in Federated Learning. AISTATS 2022, arXiv:2111.11556"
)

gamma, mu, L, p, T, n, kappa, eps = (sym(s) for s in ("gamma", "mu", "L", "p", "T", "n", "kappa", "eps"))
Psi0 = sym("Psi0", nonnegative=True, real=True)  # Psi_0 (file-local)
E2 = sym("E2", nonnegative=True, real=True)  # ||e_t||^2 in the one-step bound (file-local)
G2 = sym("G2", nonnegative=True, real=True)  # ||g_t||^2 = ||h_t - h*||^2 (file-local)
H = sym("H")  # local steps per round
r = sym("r")  # round index
mu_f = sym("mu_f")  # strong convexity of f-bar
sigma_bar = sym("sigma_bar", nonnegative=True, real=True)  # (1/n) sum_i ||grad f_i(x*)||
sigma2 = sym("sigma2")
D0 = sym("D0", nonnegative=True, real=True)  # ||x_0 - x*|| (file-local)
Dinf0 = sym("Dinf0", nonnegative=True, real=True)  # ||x_0 - x_inf|| (file-local)
L_tilde, mu_tilde, delta0, tau = sym("L_tilde"), sym("mu_tilde"), sym("delta0"), sym("tau")
tau2L, tau2mu = sym("tau2L_mean"), sym("tau2mu_mean")  # (1/n) sum tau_i^2 L_i, (1/n) sum tau_i^2 mu_i
tau_mean, tau_min = sym("tau_mean"), sym("tau_min", nonnegative=True, real=True)
u_L = sym("u_L", nonnegative=True, real=True)  # selectors of the stacked FLIX constants measure (file-local)
u_mu = sym("u_mu", nonnegative=True, real=True)
C_noise = sym("C", nonnegative=True, real=True)  # gradient noise variance at x*, summed over clients

_P = (gt(p, 0), le(p, 1))


def _no_symbolic_proof() -> None:
    """Checked by sampling (sympy cannot decide piecewise minima)."""
    return None


# ============================================================================ ProxSkip
def zeta(g=gamma, m=mu, q=p) -> sp.Expr:
    r""":math:`\zeta=\min\{\gamma\mu,p^2\}`."""
    return sp.Min(g * m, q**2, evaluate=False)


linear_rate = register(
    Claim(
        id="proxskip.linear-rate",
        title="ProxSkip/Scaffnew: E Psi_T <= (1 - min{gamma mu, p^2})^T Psi_0 for gamma <= 1/L, p in (0, 1]",
        paper=PROXSKIP + "; theorem " + VR_PROXSKIP + " (the ProxSkip paper's theorem number [not found])",
        provenance=Provenance.RECONSTRUCTED,
        provenance_note="[reconstructed] from the co-author restatement; validity on quadratics [derived] "
        "(exact expectations)",
        kind=Kind.UPPER,
        measure="proxskip_lyapunov",
        in_expectation=True,
        stepsize=1 / L,
        bound=(1 - zeta()) ** T * Psi0,
        assumptions=(gt(mu, 0), le(mu, L)) + _P,
        experiment="local_methods",
        description="Scaffnew with L = max_i L_i and mu = min_i mu_i; Psi sums over clients, "
        "Psi = sum_i ||x_i - x*||^2 + (gamma^2/p^2) sum_i ||h_i - grad f_i(x*)||^2, h_0 = 0; exact expectation "
        "over the coins on quadratics.",
    )
)

SPROXSKIP = "SProxSkip as restated in Malinovsky, Yi, Richtárik. Variance Reduced ProxSkip. NeurIPS 2022, Theorem 8"

stochastic = register(
    Claim(
        id="proxskip.stochastic",
        title="ProxSkip/Scaffnew with stochastic gradients: E Psi_T <= (1 - min{gamma mu, p^2})^T Psi_0 + gamma^2 C / "
        "min{gamma mu, p^2}",
        paper=PROXSKIP + "; stochastic-gradient theorem " + SPROXSKIP + " (the ProxSkip paper's statement [not found])",
        provenance=Provenance.RECONSTRUCTED,
        provenance_note="[reconstructed] from the co-author restatement (an unbiased estimator with expected-"
        "smoothness constant A'' and variance C at x*, gamma <= min{1/mu, 1/A''}); its constants for additive "
        "noise (A'' = L, C = n d noise^2) [derived]",
        kind=Kind.UPPER,
        measure="proxskip_sgd_lyapunov",
        in_expectation=True,
        stepsize=1 / L,
        bound=(1 - zeta()) ** T * Psi0 + gamma**2 * C_noise / zeta(),
        assumptions=(gt(mu, 0), le(mu, L), ge(C_noise, 0)) + _P,
        experiment="local_methods",
        description="Scaffnew as in proxskip.linear-rate, every client using grad f_i(x_i) + xi_i with xi_i ~ "
        "N(0, noise^2 I_d) independent over clients and steps: unbiased, expected smoothness A'' = L, and "
        "C = E||xi||^2 = n d noise^2 (summed over clients like Psi); exact expectation over the coins and the "
        "noise (its covariance adds a constant term to the second-moment recursion).",
    )
)

_ONE_STEP = (1 - gamma * mu) * E2 + (1 - p**2) * gamma**2 / p**2 * G2
one_step = register(
    Claim(
        id="proxskip.one-step",
        title="ProxSkip one-step bound: E[Psi_(t+1) given F_t] <= (1 - gamma mu)‖e_t‖^2 + (1 - p^2)(gamma^2/p^2)‖g_t‖^2",
        paper=PROXSKIP + "; one-step bound derived here (spec section 2.3)",
        provenance=Provenance.DERIVED,
        kind=Kind.UPPER,
        measure="proxskip_one_step",
        in_expectation=True,
        stepsize=1 / L,
        bound=_ONE_STEP,
        assumptions=(gt(mu, 0), le(mu, L)) + _P,
        experiment="local_methods",
        description="For EVERY state (e, g) = (x - x*, h - h*): the largest generalized eigenvalue of the exact "
        "conditional second moment Q against the bound's diagonal form D (coefficients of E2 = ||e||^2 and "
        "G2 = ||g||^2 read off the bound) must be <= 1; it is attained (= 1).",
    )
)

gd_special_case = register(
    Claim(
        id="proxskip.gd-special-case",
        title="ProxSkip with p = 1 is (prox-)GD whatever h_t; Scaffnew is GD on f-bar with stepsize gamma",
        paper=PROXSKIP + "; derived (spec section 2.5)",
        provenance=Provenance.DERIVED,
        kind=Kind.UPPER,
        measure="proxskip_gd_gap",
        bound=sp.Integer(0),
        setting={"gd_stepsize": gamma},
        experiment="local_methods",
        description="max_t ||x_t(Scaffnew, p = 1, random h_0) - x_t(GD on f-bar with setting gd_stepsize)|| / "
        "||x_0 - x*|| = 0 (to 1e-12).",
    )
)

comm_complexity = register(
    Claim(
        id="proxskip.comm-complexity",
        title="Scaffnew with gamma = 1/L, p = kappa^(-1/2): E N_comm(eps) <= sqrt(kappa) ln(1/eps) + 1, slope 1/2 in kappa",
        paper=PROXSKIP + " (abstract: O(sqrt(kappa) log 1/eps) communications); constants derived",
        provenance=Provenance.PAPER,
        provenance_note="O(sqrt(kappa)) scaling: [paper] (abstract); the constant sqrt(kappa) ln(1/eps) + 1: [derived] "
        "from the [reconstructed] rate",
        kind=Kind.SCALING,
        measure="comms_to_eps",
        in_expectation=True,
        stepsize=1 / L,
        exponent=sp.Rational(1, 2),
        scaling_in="kappa",
        assumptions=(gt(mu, 0), le(mu, L)),
        setting={"p": kappa ** sp.Rational(-1, 2), "algorithm": "proxskip", "scaling_mode": "at-most"},
        experiment="local_methods",
        description="Expected communications until E Psi_t <= eps Psi_0 (exact), on the family Q1(kappa) where "
        "GD's condition number kappa_f = kappa/2 is comparable (fair comparison), against kappa; GD (stepsize "
        "1/L_f, one communication per step, ||x - x*||^2 <= eps ||x_0 - x*||^2) is reported alongside "
        "(slope 1).",
    )
)

_LN = sp.log(1 / eps)


def comm_bound(q=p) -> sp.Expr:
    r""":math:`B(p)=p\lceil\ln(1/\varepsilon)/\min\{\gamma\mu,p^2\}\rceil` (expected communications bound)."""
    return q * sp.ceiling(_LN / sp.Min(gamma * mu, q**2, evaluate=False))


def _relaxed(q) -> sp.Expr:
    return q * _LN / sp.Min(gamma * mu, q**2, evaluate=False)


def _ptradeoff_sampler(rng, size):
    gm = 10 ** rng.uniform(-4, 0, size)
    return {
        "gamma": gm,
        "mu": np.ones(size),
        "p": 1.0 - rng.uniform(0, 1, size),
        "eps": 10 ** rng.uniform(-9, -0.5, size),
    }


p_tradeoff = register(
    Claim(
        id="proxskip.p-tradeoff",
        title="ProxSkip: expected communications <= p ceil(ln(1/eps)/min{gamma mu, p^2}), minimised at p = sqrt(gamma mu)",
        paper=PROXSKIP + "; derived (spec section 2.3)",
        provenance=Provenance.DERIVED,
        kind=Kind.IDENTITY,
        measure="comms_vs_p",
        in_expectation=True,
        stepsize=1 / L,
        bound=comm_bound(),
        assumptions=(gt(mu, 0), le(mu, L)) + _P,
        identities=(
            Identity(
                lambda: le(_relaxed(sp.sqrt(gamma * mu)), _relaxed(p)),  # built on first use
                proof=_no_symbolic_proof,
                sampler=_ptradeoff_sampler,
                label="p ln(1/eps)/min{gamma mu, p^2} is minimised over p in (0, 1] at p = sqrt(gamma mu)",
            ),
        ),
        experiment="local_methods",
        description="Expected communications p T_eps (exact T_eps: first t with E Psi_t <= eps Psi_0) over a "
        "grid of p, against the bound; the minimiser statement is for the bound without the ceiling "
        "(with it the minimiser can move by one ceiling step).",
    )
)

# ============================================================================ Local GD
gmu = gamma * mu


def phi_H(a) -> sp.Expr:
    r""":math:`\varphi_H(a)=\frac{1-(1-\gamma a)^H}{\gamma}`."""
    return (1 - (1 - gamma * a) ** H) / gamma


def delta_H(hh=H * (H - 1)) -> sp.Expr:
    r""":math:`\Delta_H=\frac{\gamma LH(H-1)\bar\sigma}{2D_H}`, :math:`D_H=\max\{\varphi_H(\mu_{\min}),q_H\mu_f\}`,
    :math:`q_H=\frac{1-(1-\gamma L)^H}{\gamma L}`."""
    qH = (1 - (1 - gamma * L) ** H) / (gamma * L)
    DH = sp.Max(phi_H(mu), qH * mu_f, evaluate=False)
    return gamma * L * hh * sigma_bar / (2 * DH)


_LGD = (gt(mu, 0), le(mu, mu_f), le(mu_f, L), ge(H, 1))

fixed_point = register(
    Claim(
        id="local-gd.fixed-point",
        title="Local GD on quadratics: ‖x_r - x_inf‖ <= (1 - gamma mu_min)^(H r) ‖x_0 - x_inf‖, "
        "sum_i S_i grad f_i(x_inf) = 0",
        paper=KHALED + " (Local GD); round map derived here (spec section 3.2)",
        provenance=Provenance.DERIVED,
        kind=Kind.UPPER,
        measure="lgd_dist_fixed",
        stepsize=1 / L,
        bound=(1 - gmu) ** (H * r) * Dinf0,
        assumptions=_LGD,
        experiment="local_methods",
        description="Server points x_r at the synchronisation points; x_inf is the exact fixed point of the "
        "round map (solves sum_i S_i grad f_i(x_inf) = 0, S_i = sum_{k<H} (I - gamma A_i)^k); L = max L_i.",
    )
)

_NB = (1 - gmu) ** (H * r) * (D0 + delta_H()) + delta_H()
neighbourhood = register(
    Claim(
        id="local-gd.neighbourhood",
        title="Local GD on quadratics: ‖x_r - x*‖ <= (1 - gamma mu_min)^(H r)(‖x_0 - x*‖ + Delta_H) + Delta_H",
        paper=KHALED + " (Local GD); bound derived here (spec section 3.2)",
        provenance=Provenance.DERIVED,
        kind=Kind.UPPER,
        measure="lgd_dist_opt",
        stepsize=1 / L,
        bound=_NB,
        assumptions=_LGD,
        experiment="local_methods",
        description="Delta_H = gamma L H (H-1) sigma_bar / (2 D_H), D_H = max{phi_H(mu_min), q_H mu_f}, "
        "phi_H(a) = (1 - (1 - gamma a)^H)/gamma, q_H = (1 - (1 - gamma L)^H)/(gamma L), "
        "sigma_bar = (1/n) sum_i ||grad f_i(x*)||, L = max L_i.",
    )
)

identical_hessians = register(
    Claim(
        id="local-gd.identical-hessians",
        title="Local GD with identical client Hessians: x_inf = x* for every H, even with sigma_* > 0",
        paper=KHALED + " (identical vs heterogeneous regimes); derived here (spec section 3.2)",
        provenance=Provenance.DERIVED,
        kind=Kind.UPPER,
        measure="lgd_floor",
        bound=sp.Integer(0),
        setting={"hessians": "identical"},
        experiment="local_methods",
        description="Exact floor ||x_inf - x*|| / ||x*|| over H = 1..H_max on quadratics with A_i = A and "
        "heterogeneous b_i (sigma_* > 0): drift comes from Hessian heterogeneity only.",
    )
)

floor_vs_H = register(
    Claim(
        id="local-gd.floor-vs-H",
        title="Local GD floor ‖x_inf - x*‖ ~ ((H-1) gamma/2) ‖A_bar^-1 (1/n) sum_i A_i grad f_i(x*)‖: slope 1 in H - 1",
        paper=KHALED + "; first-order expansion derived here (spec section 3.2)",
        provenance=Provenance.DERIVED,
        kind=Kind.SCALING,
        measure="lgd_floor_vs_H",
        exponent=sp.Integer(1),
        scaling_in="H",
        setting={"exponent_tolerance": sp.Rational(1, 20)},
        experiment="local_methods",
        description="Exact floor against H - 1 on quadratics with heterogeneous Hessians at small gamma "
        "(H gamma L << 1); tolerance 0.05 on the slope for the (1 + O(H gamma L)) correction.",
    )
)

_LN_EPS = sp.log((D0 + delta_H()) / (eps - delta_H()))
comm_vs_H = register(
    Claim(
        id="local-gd.comm-vs-H",
        title="Local GD: rounds to ‖x_r - x*‖ <= eps are <= ceil(ln((‖x_0 - x*‖ + Delta_H)/(eps - Delta_H)) / "
        "(-H ln(1 - gamma mu_min))) when Delta_H < eps",
        paper=KHALED + "; derived here from local-gd.neighbourhood (spec section 3.2)",
        provenance=Provenance.DERIVED,
        kind=Kind.UPPER,
        measure="lgd_rounds_to_eps",
        stepsize=1 / L,
        bound=sp.ceiling(_LN_EPS / (-H * sp.log(1 - gmu))),
        assumptions=_LGD,
        experiment="local_methods",
        description="Exact rounds to eps over a grid of H (only H with Delta_H < eps, where the bound is finite); "
        "rounds fall like 1/H while Delta_H << eps.",
    )
)

khaled_convex = register(
    Claim(
        id="local-gd.khaled-convex",
        title="Local GD (convex, heterogeneous): f(x-bar_T) - f* <= 4‖x_0 - x*‖^2/(gamma T) + 20 gamma^2 L sigma_*^2 (H-1)^2",
        paper=KHALED + " (form reconstructed from memory; theorem number and any extra stepsize cap [not found])",
        provenance=Provenance.RECONSTRUCTED,
        provenance_note="[reconstructed], not the printed theorem; numerically consistent on quadratics [derived]",
        kind=Kind.UPPER,
        measure="khaled_gap",
        stepsize=1 / (4 * L),
        bound=4 * D0**2 / (gamma * T) + 20 * gamma**2 * L * sigma2 * (H - 1) ** 2,
        assumptions=(ge(H, 1), ge(sigma2, 0)),
        experiment="local_methods",
        description="f-bar at the average of the virtual iterates x-hat_t = (1/n) sum_i y_i^(t), t < T (T local "
        "steps = H x rounds); L = max L_i, sigma2 = (1/n) sum_i ||grad f_i(x*)||^2.",
    )
)

# ============================================================================ FLIX
flix_constants = register(
    Claim(
        id="flix.constants",
        title="FLIX constants: L~ <= (1/n) sum tau_i^2 L_i and mu~ >= (1/n) sum tau_i^2 mu_i",
        paper=FLIX + "; derived here (spec section 4.2; the paper's printed constants [not found])",
        provenance=Provenance.DERIVED,
        provenance_note="[derived]; the paper's printed form [not found]",
        kind=Kind.UPPER,
        measure="flix_constants",
        bound=u_L * tau2L + u_mu / tau2mu,
        experiment="local_methods",
        description="Stacked measure: L~ (u_L = 1, u_mu = 0) then 1/mu~ (u_L = 0, u_mu = 1), so both halves are "
        "upper bounds; exact on quadratics (extreme eigenvalues of (1/n) sum tau_i^2 A_i).",
    )
)

quadratic_uniform = register(
    Claim(
        id="flix.quadratic-uniform",
        title="FLIX with uniform tau on quadratics: x~* = x* and f~ - f~* = tau^2 (f - f*)",
        paper=FLIX + "; derived here (spec section 4.3)",
        provenance=Provenance.DERIVED,
        kind=Kind.UPPER,
        measure="flix_uniform_gap",
        bound=sp.Integer(0),
        setting={"scale": tau**2},
        experiment="local_methods",
        description="Relative deviation |f~(x) - f~* - scale (f(x) - f*)| / (f(x) - f*) at random points, then "
        "||x~* - x*|| / (1 + ||x*||); scale from the setting (tau^2).",
    )
)

flix_complexity = register(
    Claim(
        id="flix.complexity",
        title="GD on FLIX with gamma = 1/L~: f~(x_T) - f~* <= (1 - mu~/L~)^T (f~(x_0) - f~*)",
        paper=FLIX + " (abstract: standard methods apply to the FLIX objective); bound derived (spec section 4.4)",
        provenance=Provenance.PAPER,
        provenance_note='"standard methods apply": [paper] (abstract); the bound: [derived]',
        kind=Kind.UPPER,
        measure="flix_gd_gap",
        stepsize=1 / L_tilde,
        bound=(1 - mu_tilde / L_tilde) ** T * delta0,
        assumptions=(gt(mu_tilde, 0), le(mu_tilde, L_tilde)),
        experiment="local_methods",
        description="One communication per GD step; tau = the personalization weights (uniform: f~ = tau^2 f "
        "up to a constant, so no speed-up).",
    )
)

local_gd_equivalence = register(
    Claim(
        id="flix.local-gd-equivalence",
        title="For A_i = a_i I, Local GD's fixed point is FLIX's optimum iff tau_i^2 ~ (1 - (1 - gamma a_i)^H)/(gamma a_i H)",
        paper=FLIX + "; relation derived here (spec section 4.5; the paper's statement [not found])",
        provenance=Provenance.DERIVED,
        provenance_note="[derived]; the paper's statement [not found]",
        kind=Kind.UPPER,
        measure="flix_lgd_gap",
        bound=sp.Integer(0),
        setting={"tau_rule": "psi"},
        experiment="local_methods",
        description="||x_inf(Local GD, H) - x~*(tau)|| / (1 + ||x~*||) over a grid of H, with tau from the "
        "setting tau_rule: 'psi' (tau_i^2 proportional to psi(a_i), normalised by its maximum).",
    )
)

# ============================================================================ teeth
register_teeth(
    linear_rate,
    linear_rate.variant(
        "zeta-p",
        bound=(1 - sp.Min(gmu, p, evaluate=False)) ** T * Psi0,
        expected_to_fail="zeta = min{gamma mu, p} instead of min{gamma mu, p^2} (too fast when p^2 < gamma mu)",
    ),
    linear_rate.variant(
        "zeta-gamma-mu",
        bound=(1 - gmu) ** T * Psi0,
        expected_to_fail="zeta = gamma mu: the communication term p^2 of the rate dropped",
    ),
)
register_teeth(
    stochastic,
    stochastic.variant(
        "no-noise-term",
        bound=(1 - zeta()) ** T * Psi0,
        expected_to_fail="the noise term gamma^2 C / zeta dropped: the deterministic rate claimed with noisy gradients",
    ),
    stochastic.variant(
        "floor-gamma2-C",
        bound=(1 - zeta()) ** T * Psi0 + gamma**2 * C_noise,
        expected_to_fail="noise floor gamma^2 C instead of gamma^2 C / zeta (the one-step variance not summed over "
        "the geometric series)",
    ),
)
register_teeth(
    one_step,
    one_step.variant(
        "one-minus-p",
        bound=(1 - gmu) * E2 + (1 - p) * gamma**2 / p**2 * G2,
        expected_to_fail="(1 - p) instead of (1 - p^2) on the control-variate part",
    ),
)
register_teeth(
    gd_special_case,
    gd_special_case.variant(
        "sum-form",
        setting={"gd_stepsize": n * gamma},
        expected_to_fail="Scaffnew with p = 1 claimed to be GD on the SUM of the f_i (stepsize n gamma on f-bar)",
    ),
)
register_teeth(
    comm_complexity,
    comm_complexity.variant(
        "quarter",
        exponent=sp.Rational(1, 4),
        expected_to_fail="communications growing like kappa^(1/4)",
    ),
    comm_complexity.variant(
        "flat",
        exponent=sp.Integer(0),
        expected_to_fail="communications independent of kappa",
    ),
    comm_complexity.variant(
        "gd-sqrt-kappa",
        setting=dict(comm_complexity.setting, algorithm="gd"),
        expected_to_fail="GD (no local steps) also needs only O(sqrt(kappa)) communications",
    ),
)
register_teeth(
    p_tradeoff,
    p_tradeoff.variant(
        "optimal-p-gamma-mu",
        identities=(
            Identity(
                lambda: le(_relaxed(gamma * mu), _relaxed(p)),  # built on first use
                proof=_no_symbolic_proof,
                sampler=_ptradeoff_sampler,
                label="the bound is minimised at p = gamma mu",
            ),
        ),
        expected_to_fail="optimal p = gamma mu instead of sqrt(gamma mu)",
    ),
)
register_teeth(
    fixed_point,
    fixed_point.variant(
        "mu-f",
        bound=(1 - gamma * mu_f) ** (H * r) * Dinf0,
        expected_to_fail="contraction (1 - gamma mu_f)^H with mu_f of f-bar instead of min_i mu_i",
    ),
)
register_teeth(
    neighbourhood,
    neighbourhood.variant(
        "no-floor",
        bound=(1 - gmu) ** (H * r) * D0,
        expected_to_fail="Delta_H = 0: Local GD claimed to converge to x* (fails when H >= 2 and the Hessians differ)",
    ),
    neighbourhood.variant(
        "linear-H",
        bound=(1 - gmu) ** (H * r) * (D0 + delta_H(H - 1)) + delta_H(H - 1),
        expected_to_fail="H (H - 1) replaced by H - 1 in Delta_H",
    ),
    neighbourhood.variant(
        "mu-f",
        bound=(1 - gamma * mu_f) ** (H * r) * (D0 + delta_H()) + delta_H(),
        expected_to_fail="contraction with mu_f of f-bar instead of min_i mu_i",
    ),
)
register_teeth(
    identical_hessians,
    identical_hessians.variant(
        "heterogeneous",
        setting={"hessians": "heterogeneous"},
        expected_to_fail="no floor claimed for heterogeneous Hessians too",
    ),
)
register_teeth(
    floor_vs_H,
    floor_vs_H.variant("flat", exponent=sp.Integer(0), expected_to_fail="floor independent of H"),
    floor_vs_H.variant("sqrt", exponent=sp.Rational(1, 2), expected_to_fail="floor growing like sqrt(H - 1)"),
)
register_teeth(
    comm_vs_H,
    comm_vs_H.variant(
        "H-squared",
        bound=sp.ceiling(_LN_EPS / (-(H**2) * sp.log(1 - gmu))),
        expected_to_fail="rounds falling like 1/H^2",
    ),
)
register_teeth(
    khaled_convex,
    khaled_convex.variant(
        "no-floor",
        bound=4 * D0**2 / (gamma * T),
        expected_to_fail="the heterogeneity term 20 gamma^2 L sigma_*^2 (H-1)^2 dropped",
    ),
)
register_teeth(
    flix_constants,
    flix_constants.variant(
        "mu-tau-mean",
        bound=u_L * tau2L + u_mu / (tau_mean * mu),
        expected_to_fail="mu~ >= tau_mean mu_min (tau instead of tau^2)",
    ),
    flix_constants.variant(
        "L-tau-min",
        bound=u_L * tau_min**2 * L + u_mu / tau2mu,
        expected_to_fail="L~ <= min_i tau_i^2 L",
    ),
)
register_teeth(
    quadratic_uniform,
    quadratic_uniform.variant(
        "tau-linear",
        setting={"scale": tau},
        expected_to_fail="f~ - f~* = tau (f - f*) (tau instead of tau^2)",
    ),
)
register_teeth(
    flix_complexity,
    flix_complexity.variant(
        "tau-kappa",
        bound=(1 - mu_tilde / (tau**2 * L_tilde)) ** T * delta0,
        expected_to_fail="rate (1 - 1/(tau^2 kappa~))^T: uniform tau claimed to speed GD up",
    ),
)
register_teeth(
    local_gd_equivalence,
    local_gd_equivalence.variant(
        "phi",
        setting={"tau_rule": "phi"},
        expected_to_fail="tau_i^2 proportional to phi_H(a_i) (the weight S_i A_i instead of S_i)",
    ),
    local_gd_equivalence.variant(
        "psi-linear",
        setting={"tau_rule": "psi-linear"},
        expected_to_fail="tau_i (not tau_i^2) proportional to psi(a_i)",
    ),
)
