r"""RFA convergence with heterogeneous least squares, and its derived deterministic pieces.

Pillutla, Kakade, Harchaoui, *Robust Aggregation for Federated Learning*, IEEE TSP 70:1142-1154 (2022),
arXiv:1912.13445.  The TSP-era theorem was read on the authors' poster only ("Theory (Least Squares)"): its
constants and the definitions of the heterogeneity widths are [not found]; only its shape is encoded.

Symbols: ``H_X`` :math:`=\max_j\Vert H^{-1}H_j\Vert_2`, ``H_Y`` :math:`=\max_{i,j}\Vert w_i^\star-w_j^\star\Vert`
(the poster's :math:`\Omega_X,\Omega_Y`), ``q_K`` :math:`=\max_j\Vert(I-\gamma H_j)^K\Vert_2`, ``vartheta`` the
corrupted fraction among the selected, ``e_prev`` :math:`e_t=\Vert w_t-w^\star\Vert`, ``eps`` the normalized
GM accuracy of the round, ``upsilon`` the honest-majority margin, ``sel_slack`` :math:`\ge0`.

The poster's bound, :math:`\mathbb E[\Vert w_t-w^\star\Vert^2\mid\mathcal E]\lesssim\Vert w_0-w^\star\Vert^2/2^t+
\upsilon^{-2}(d\sigma^2t/2^t+\varepsilon^2/m^2+H_X^2H_Y^2)`, is encoded as four slopes, one claim each (a claim
carries one exponent): in the rounds (``rfa.convergence-rounds``: :math:`2^{-t}` once the local steps grow like
:math:`2^t`), in the heterogeneity (``rfa.convergence``: :math:`H_Y^2`), in the corruption margin
(``rfa.convergence-margin``: at most :math:`\upsilon^{-2}`) and in the median's accuracy (``rfa.convergence-eps``:
:math:`\varepsilon^2`).  The statistical term :math:`d\sigma^2t/2^t` needs noisy local least-squares steps, which
the exact-step clients here do not take (:math:`\sigma=0`).

Finding: :math:`H_Y` (the poster's :math:`\Omega_Y`) must be a **distance**.  The brief's
:math:`\Omega_Y=\max\Vert w_i^\star-w_j^\star\Vert^2` makes the squared-error floor a fourth power of the spread;
``rfa.het-radius~omega-y-squared`` and ``rfa.convergence~omega-y-squared`` are refuted by scaling the optima.
"""

from __future__ import annotations

import sympy as sp

from ._core import Claim, Identity, Kind, Provenance, ge, register, register_teeth, sym

RFA_TSP = "Pillutla, Kakade, Harchaoui. Robust Aggregation for Federated Learning. IEEE TSP 70 (2022), arXiv:1912.13445"

H_X, H_Y, q_K, vt, e_prev, eps = sym("H_X"), sym("H_Y"), sym("q_K"), sym("vartheta"), sym("e_prev"), sym("eps")
ups, slack = sym("upsilon"), sym("sel_slack")

KAPPA = 2 * (1 - vt) / (1 - 2 * vt)

het_radius = register(
    Claim(
        id="rfa.het-radius",
        title="||w_i* - w*|| <= H_X H_Y with H_X = max_j ||H^-1 H_j||_2, H_Y = max_ij ||w_i* - w_j*||",
        paper=RFA_TSP + "; heterogeneity term of the poster's theorem, made explicit",
        provenance=Provenance.DERIVED,
        provenance_note="[derived]; the poster's Omega_X, Omega_Y are undefined there [not found]",
        kind=Kind.UPPER,
        measure="het_radius",
        bound=H_X * H_Y,
        experiment="rfa",
        description="||w_i* - w*|| for every good client i against H_X H_Y (exact constants).",
    )
)

one_round = register(
    Claim(
        id="rfa.one-round",
        title="e_{t+1} <= kappa (q_K e_t + (1 + q_K) H_X H_Y) + eps/(1 - 2 vartheta), kappa = 2(1-vartheta)/(1-2vartheta)",
        paper=RFA_TSP + "; from the robustness of the geometric median (Prop. 2 / the weiszfeld.robustness invariant)",
        provenance=Provenance.DERIVED,
        kind=Kind.UPPER,
        measure="one_round_error",
        bound=KAPPA * (q_K * e_prev + (1 + q_K) * H_X * H_Y) + eps / (1 - 2 * vt),
        setting={"aggregator": "gm"},
        experiment="rfa",
        description="e_{t+1} against the bound at e_t, per round, with eps the round's normalized GM gap (against a "
        "polished reference: never overstated); any adversary.",
    )
)


def _margin_sampler(rng, size):
    u = rng.uniform(1e-3, 1.0, size)
    return {"upsilon": u, "sel_slack": rng.uniform(0, 1, size) * (1 - u) / 2}


_THETA = sp.Rational(1, 2) - ups / 2 - slack  # the corrupted fraction on E (sel_slack >= 0)
margin = register(
    Claim(
        id="rfa.margin",
        title="At least 1/2 + upsilon/2 good among the selected => 1 - 2 vartheta >= upsilon and kappa <= 2/upsilon",
        paper=RFA_TSP + "; explains the poster's 1/c^2 (c = upsilon)",
        provenance=Provenance.DERIVED,
        kind=Kind.IDENTITY,
        measure="",
        identities=(
            Identity(
                ge(1 - 2 * _THETA, ups), label="1 - 2 vartheta >= upsilon when vartheta = 1/2 - upsilon/2 - s, s >= 0"
            ),
            Identity(
                sp.LessThan(KAPPA.subs(vt, _THETA), 2 / ups, evaluate=False),
                sampler=_margin_sampler,
                label="kappa_vartheta <= 2/upsilon on the event (0 <= vartheta <= 1/2 - upsilon/2)",
            ),
        ),
    )
)

convergence = register(
    Claim(
        id="rfa.convergence",
        title="Poster: E[||w_t - w*||^2 | E] <~ ||w_0 - w*||^2/2^t + (d sigma^2 t/2^t + eps^2/m^2 + H_X^2 H_Y^2)/upsilon^2",
        paper=RFA_TSP + ", poster 'Theory (Least Squares)'",
        provenance=Provenance.PAPER,
        provenance_note="[paper] (poster) as a shape only: the heterogeneity floor of the squared error scales like "
        "H_Y^2 (slope 2 in the spread of the optima); constants and the definitions of Omega_X, Omega_Y [not found]",
        kind=Kind.SCALING,
        measure="floor_sq",
        exponent=sp.Integer(2),
        scaling_in="spread",
        experiment="rfa",
        description="||w_T - w*||^2 after T rounds with 2^t local steps (sigma = 0, no corruption), on a geometric "
        "grid of the spread s of the optima around their centre; log-log slope (tolerance 0.1).",
    )
)

_POSTER_NOTE = "[paper] (poster) as a shape only; constants and the definitions of Omega_X, Omega_Y [not found]"

convergence_rounds = register(
    Claim(
        id="rfa.convergence-rounds",
        title="Poster, optimization term: ||w_t - w*||^2 <~ ||w_0 - w*||^2 / 2^t with 2^t local steps in round t",
        paper=RFA_TSP + ", poster 'Theory (Least Squares)', optimization error",
        provenance=Provenance.PAPER,
        provenance_note=_POSTER_NOTE + "; measured with sigma = 0, no corruption, common optima (H_Y = 0), where the "
        "other terms vanish",
        kind=Kind.SCALING,
        measure="error_sq_rounds",
        exponent=sp.Integer(-1),
        scaling_in="K_t",
        setting={"optima": "common"},
        experiment="rfa",
        description="||w_t - w*||^2 against K_t = 2^t (the local steps of round t) over the second half of the rounds; "
        "fitted log-log slope at most -1 (+0.1): the error decays at least like 2^-t.",
    )
)

convergence_margin = register(
    Claim(
        id="rfa.convergence-margin",
        title="Poster, corruption margin: the squared-error floor grows at most like 1/upsilon^2",
        paper=RFA_TSP + ", poster 'Theory (Least Squares)', the 1/c^2 factor (c = upsilon)",
        provenance=Provenance.PAPER,
        provenance_note=_POSTER_NOTE + "; rfa.margin and rfa.one-round explain the factor (kappa <= 2/upsilon)",
        kind=Kind.SCALING,
        measure="floor_sq_margin",
        exponent=sp.Integer(2),
        scaling_in="inv_upsilon",
        experiment="rfa",
        description="||w_T - w*||^2 after T rounds with 2^t local steps, corrupted clients from 10% to 90% of the good "
        "ones (1/upsilon = n / (n_good - n_bad)); fitted log-log slope in 1/upsilon at most 2 (+0.1).",
    )
)

convergence_eps = register(
    Claim(
        id="rfa.convergence-eps",
        title="Poster, GM-approximation term: the squared-error floor scales like eps^2 (eps the median's accuracy)",
        paper=RFA_TSP + ", poster 'Theory (Least Squares)', the eps^2/m^2 term",
        provenance=Provenance.PAPER,
        provenance_note=_POSTER_NOTE + "; eps here is the accuracy in the normalized objective (the poster's "
        "eps/m if its eps is for the unnormalized sum [derived; unconfirmed])",
        kind=Kind.SCALING,
        measure="floor_sq_eps",
        exponent=sp.Integer(2),
        scaling_in="eps",
        experiment="rfa",
        description="||w_T - w*||^2 with the aggregate an eps-approximate median (displaced by eps), common optima, "
        "no corruption, 2^t local steps, over a geometric grid of eps; log-log slope 2 (tolerance 0.1).",
    )
)

# ----------------------------------------------------------------------------- teeth
register_teeth(
    het_radius,
    het_radius.variant(
        "omega-y-squared",
        bound=H_X * H_Y**2,
        expected_to_fail="the brief's Omega_Y = max ||w_i* - w_j*||^2 is not a distance: false once the spread is small",
    ),
)
register_teeth(
    one_round,
    one_round.variant(
        "fedavg",
        setting={"aggregator": "mean"},
        expected_to_fail="the mean (FedAvg) instead of the geometric median: one corrupted update drags it arbitrarily",
    ),
)
register_teeth(
    margin,
    margin.variant(
        "kappa-one-over-upsilon",
        identities=(
            Identity(
                sp.LessThan(KAPPA.subs(vt, _THETA), 1 / ups, evaluate=False),
                sampler=_margin_sampler,
                label="kappa_vartheta <= 1/upsilon (the factor 2 dropped)",
            ),
        ),
        expected_to_fail="kappa = 2(1 - vartheta)/(1 - 2 vartheta) = (1 + upsilon)/upsilon > 1/upsilon at the margin",
    ),
)
register_teeth(
    convergence,
    convergence.variant(
        "omega-y-squared",
        exponent=sp.Integer(4),
        expected_to_fail="with Omega_Y a squared distance the floor Omega_Y^2 would scale like s^4; it scales like s^2",
    ),
)
register_teeth(
    convergence_rounds,
    convergence_rounds.variant(
        "no-heterogeneity-term",
        setting={"optima": "spread"},
        expected_to_fail="the poster's heterogeneity error dropped: with heterogeneous optima the error stalls at a "
        "floor (H_X H_Y) instead of decaying like 2^-t",
    ),
)
register_teeth(
    convergence_margin,
    convergence_margin.variant(
        "no-margin",
        exponent=sp.Integer(0),
        expected_to_fail="a floor independent of the corruption margin: it grows as upsilon -> 0",
    ),
)
register_teeth(
    convergence_eps,
    convergence_eps.variant(
        "eps-not-squared",
        exponent=sp.Integer(1),
        expected_to_fail="the GM-approximation term as eps (not eps^2) in the squared error: the floor of the error "
        "itself is proportional to eps",
    ),
)
