r"""Partial model personalization: FedAlt (alternating) vs FedSim (simultaneous) updates.

Pillutla, Malik, Mohamed, Rabbat, Sanjabi, Xiao, *Federated Learning with Partial Model Personalization*,
ICML 2022 (PMLR 162:17716-17758), arXiv:2204.03809.  Read: the authors' talk slides (assumptions, the rate
theorem, the FedAlt/FedSim comparison, the proof idea) and poster; the paper's theorem statements, stepsizes and
the constants :math:`\sigma_1^2,\sigma_2^2,\tilde\sigma_1^2,\tilde\sigma_2^2` were **not** consulted.

Symbols: ``L_u``, ``L_v``, ``L_uv`` (block smoothness), ``chi_uv`` with :math:`\chi_{uv}^2=L_{uv}^2/(L_uL_v)`,
``grad_u_sq`` :math:`g=\Vert\nabla_uF\Vert^2`, ``grad_v_sq`` :math:`\bar h=\frac1n\sum_i\Vert\nabla_vF_i\Vert^2`,
``delta0`` :math:`F(z_0)-F^{\inf}`, ``sigma_u2``, ``sigma_v2``, ``delta_div2`` (variances and gradient diversity),
``m`` of ``n`` clients per round.

Finding: slide 40's "FedAlt is better" compares the two **upper bounds**; in exact runs (expectations by
enumerating the sampled sets) with equal stepsizes FedSim's averaged stationarity was the lower one
(``personalization.fedsim-vs-fedalt-runs``; its tooth is the slide read as a statement about runs).
"""

from __future__ import annotations

import sympy as sp

from ._core import Claim, Identity, Kind, Provenance, register, register_teeth, sym

PFL = (
    "Pillutla, Malik, Mohamed, Rabbat, Sanjabi, Xiao. Federated Learning with Partial Model Personalization. "
    "ICML 2022, arXiv:2204.03809"
)

L_u, L_v, chi = sym("L_u"), sym("L_v"), sym("chi_uv")
g, h, delta0, T = sym("grad_u_sq"), sym("grad_v_sq"), sym("delta0"), sym("T")
su2, sv2, dd2 = sym("sigma_u2"), sym("sigma_v2"), sym("delta_div2")
m, n = sym("m"), sym("n")

STEPS = {
    "fedsim": (1 / ((1 + chi**2) * L_u), 1 / (2 * L_v)),
    "fedalt": (1 / L_u, 1 / ((1 + chi**2) * L_v)),
}


def _det(alg: str, bound, where: str) -> Claim:
    gu, gv = STEPS[alg]
    return register(
        Claim(
            id=f"personalization.{alg}-det",
            title=f"{'FedSim' if alg == 'fedsim' else 'FedAlt'}, m = n, one local step, exact gradients, gamma_u = "
            f"{sp.sstr(gu)}, gamma_v = {sp.sstr(gv)}: F(z) - F(z+) >= {sp.sstr(bound)}",
            paper=PFL + ", " + where,
            provenance=Provenance.DERIVED,
            provenance_note="[derived] from the slide assumptions (block smoothness, joint quadratic upper bound); "
            "the paper's own stepsizes were not consulted",
            kind=Kind.LOWER,
            measure="decrease",
            bound=bound,
            setting={"algorithm": alg, "gamma_u": gu, "gamma_v": gv},
            experiment="personalization",
            description="F(z) - F(z+) after one full-participation round at random points z, against the derived "
            "per-round decrease in g = ||grad_u F||^2 and h = mean_i ||grad_v F_i||^2 at z.",
        )
    )


fedsim_det = _det(
    "fedsim", g / (2 * (1 + chi**2) * L_u) + h / (4 * L_v), "slides 33-34 assumptions; Young's inequality"
)
fedalt_det = _det(
    "fedalt", g / (4 * L_u) + h / (2 * (1 + chi**2) * L_v), "slides 33-34 assumptions; v-step then u-step"
)

det_rate = register(
    Claim(
        id="personalization.det-rate",
        title="FedSim and FedAlt (derived steps, m = n): (1/T) sum_{t<T} M_t <= 2 max{2, 1 + chi^2} (F(z_0) - F_inf)/T",
        paper=PFL + ", stationarity measure of slide 39; summing the derived per-round decreases",
        provenance=Provenance.DERIVED,
        kind=Kind.UPPER,
        measure="avg_stationarity",
        bound=2 * sp.Max(2, 1 + chi**2, evaluate=False) * delta0 / T,
        setting={"algorithm": "both"},
        experiment="personalization",
        description="max over FedSim and FedAlt (each with its derived stepsizes) of the running mean of M_t.",
    )
)

rates = register(
    Claim(
        id="personalization.rates",
        title="Slide 39: with client sampling, (1/T) sum M_t <~ sqrt(sigma^2/T) + (sigma~^2/T)^(2/3) + O(1/T)",
        paper=PFL + ", Theorem on slide 39 (FedAlt and FedSim)",
        provenance=Provenance.PAPER,
        provenance_note="[paper] (slide 39) as a shape: slope at most -1/2 in T with stepsizes ~ 1/sqrt(T); "
        "the constants sigma_1^2, sigma_2^2, sigma~'s and the stepsizes are [not found]",
        kind=Kind.SCALING,
        in_expectation=True,
        measure="avg_stationarity_sampled",
        exponent=sp.Rational(-1, 2),
        scaling_in="T",
        setting={"algorithm": "fedalt"},
        experiment="personalization",
        description="exact E (1/T) sum_{t<T} M_t (all C(n, m) sampled sets enumerated, Gaussian gradient noise "
        "sigma_u, sigma_v in the second moments) with stepsizes (derived steps) * sqrt(T_0/T), on a geometric grid "
        "of T; fitted slope at most -1/2 (+0.1).",
    )
)

rates_fedsim = register(
    Claim(
        id="personalization.rates-fedsim",
        title="Slide 39 for FedSim: with client sampling and noise, (1/T) sum M_t <~ sqrt(sigma_2^2/T) + ... + O(1/T)",
        paper=PFL + ", Theorem on slide 39 (FedSim)",
        provenance=Provenance.PAPER,
        provenance_note="[paper] (slide 39) as a shape: slope at most -1/2 in T with stepsizes ~ 1/sqrt(T); "
        "the constants sigma_2^2, sigma~_2^2 and the stepsizes are [not found]",
        kind=Kind.SCALING,
        in_expectation=True,
        measure="avg_stationarity_sampled",
        exponent=sp.Rational(-1, 2),
        scaling_in="T",
        setting={"algorithm": "fedsim"},
        experiment="personalization",
        description="as personalization.rates, for FedSim with its derived steps.",
    )
)

# ----------------------------------------------------------------------------- slide 40 (identity)
U = (su2 + dd2 * (1 - m / n)) / (m * L_u)
SIGMA1 = U + sv2 / L_v * (m / n + chi**2 * (1 - m / n))
SIGMA2 = (1 + chi**2) * (U + sv2 / L_v * m / n)


def _pred(factor):
    return Identity(
        sp.Eq(SIGMA2 - SIGMA1, chi**2 * (U - sv2 / L_v * factor), evaluate=False),
        label=f"sigma_2^2 - sigma_1^2 = chi^2 (U - sigma_v^2/L_v {sp.sstr(factor)}): FedAlt's bound is smaller iff "
        f"sigma_v^2/L_v {sp.sstr(factor)} < (sigma_u^2 + delta^2 (1 - m/n))/(m L_u) (slide 40)",
    )


_RATIO = Identity(
    sp.Eq(SIGMA2.subs({su2: 0, sv2: 0}), (1 + chi**2) * SIGMA1.subs({su2: 0, sv2: 0}), evaluate=False),
    label="sigma_2^2 = (1 + chi^2) sigma_1^2 when delta^2 dominates (sigma_u = sigma_v = 0): 'better by (1+chi^2)^(1/2)'",
)

fedalt_vs_fedsim = register(
    Claim(
        id="personalization.fedalt-vs-fedsim",
        title="Slide 40: FedAlt's bound is better iff sigma_v^2/L_v (1 - 2m/n) < (sigma_u^2 + delta^2(1 - m/n))/(m L_u)",
        paper=PFL + ", comparison on slide 40",
        provenance=Provenance.PAPER,
        provenance_note="[paper] (slide 40) predicate; the decomposition of sigma_1^2, sigma_2^2 used to exercise it "
        "is [reconstructed] (one of many consistent with the slide; not the paper's constants). It compares UPPER "
        "BOUNDS: see personalization.fedsim-vs-fedalt-runs",
        kind=Kind.IDENTITY,
        measure="",
        identities=(_pred(1 - 2 * m / n), _RATIO),
    )
)

runs = register(
    Claim(
        id="personalization.fedsim-vs-fedalt-runs",
        title="Exact runs, equal stepsizes, inter-client (delta) regime: E avg M_t of FedSim <= that of FedAlt",
        paper=PFL + "; observation contrasting slide 40 (which compares upper bounds)",
        provenance=Provenance.DERIVED,
        provenance_note="[derived] empirical observation on the stated instances (exact expectations), not a theorem",
        kind=Kind.UPPER,
        in_expectation=True,
        measure="method_gap",
        bound=sp.Integer(0),
        setting={"order": "sim-alt"},
        experiment="personalization",
        description="exact E (1/T) sum_{t<T} M_t of FedSim minus FedAlt (all sampled sets enumerated), equal "
        "stepsizes eta/L_u, eta/L_v, sigma_u = sigma_v = 0, heterogeneous linear terms.",
    )
)

# ----------------------------------------------------------------------------- teeth
_UNCOUPLED = "the coupling ignored: gamma_u = 1/L_u, gamma_v = 1/L_v with the uncoupled decrease g/(2L_u) + h/(2L_v)"
for _c in (fedsim_det, fedalt_det):
    register_teeth(
        _c,
        _c.variant(
            "uncoupled",
            bound=g / (2 * L_u) + h / (2 * L_v),
            setting=dict(_c.setting, gamma_u=1 / L_u, gamma_v=1 / L_v),
            expected_to_fail=_UNCOUPLED,
        ),
    )
register_teeth(
    det_rate,
    det_rate.variant(
        "uncoupled",
        bound=2 * delta0 / T,
        setting={"algorithm": "both", "steps": "uncoupled"},
        expected_to_fail="steps 1/L_u, 1/L_v and the uncoupled constant 2: strong coupling slows both methods",
    ),
)
register_teeth(
    rates,
    rates.variant(
        "deterministic-rate",
        exponent=sp.Integer(-1),
        expected_to_fail="a 1/T rate under client sampling: the sampling variance (delta^2) leaves 1/sqrt(T)",
    ),
)
register_teeth(
    rates_fedsim,
    rates_fedsim.variant(
        "deterministic-rate",
        exponent=sp.Integer(-1),
        expected_to_fail="a 1/T rate under client sampling and noise: the variance terms leave 1/sqrt(T)",
    ),
)
register_teeth(
    fedalt_vs_fedsim,
    fedalt_vs_fedsim.variant(
        "one-minus-m-over-n",
        identities=(_pred(1 - m / n),),
        expected_to_fail="the factor (1 - 2m/n) replaced by (1 - m/n): disagrees with sigma_2^2 - sigma_1^2",
    ),
)
register_teeth(
    runs,
    runs.variant(
        "slide-40-for-runs",
        setting={"order": "alt-sim"},
        expected_to_fail="slide 40 read as 'FedAlt's runs are better': it compares upper bounds; FedSim was lower",
    ),
)
