r"""Sketched randomized coordinate descent (RCD) and Randomized Progressive Training (RPT).

Szlendak, Gasanov, Richtárik, *Understanding Progressive Training Through the Framework of
Randomized Coordinate Descent*, AISTATS 2024, arXiv:2306.03626.  Notes: ``notes/rcd.md``.

The method is :math:`x^{k+1}=x^k-\gamma C^k\nabla f(x^k)` with i.i.d. sketches,
:math:`\mathbb E[C]=I`, under matrix smoothness
:math:`f(x+h)\le f(x)+\langle\nabla f(x),h\rangle+\frac12h^\top\mathbf Lh`.  The constants are

.. math::
    \tilde L=\lambda_{\max}\big(\mathbb E[C\mathbf LC]\big),\qquad
    \Omega=\lambda_{\max}\big(\mathbb E[C^2]\big).

The three rates (spec section 3, all **[derived]**: provably valid for the algorithm as stated;
the paper's own theorem statements could not be consulted, and its strongly convex statement is
only *believed* to have this form [reconstructed]) follow from the expected descent lemma
:math:`\mathbb E[f(x^{k+1})\mid x^k]\le f(x^k)-\gamma(1-\frac{\gamma\tilde L}2)\Vert\nabla f(x^k)\Vert^2`:

.. math::
    \text{SC: }\ \mathbb E[f(x^T)-f^\star]\le\Big(1-2\gamma\mu\big(1-\tfrac{\gamma\tilde L}2\big)\Big)^T\delta_0,\qquad
    \text{NC: }\ \frac1T\sum_{k<T}\mathbb E\Vert\nabla f(x^k)\Vert^2\le\frac{\delta_0}{\gamma(1-\gamma\tilde L/2)T},

.. math::
    \text{C: }\ \mathbb E[f(x^T)]-f^\star\le\frac{R^2+2\gamma\Omega\delta_0}{2\gamma T},
    \qquad 0<\gamma\le1/\tilde L.

``rcd.*`` claims run them with the classical sketches (GD, single coordinate with uniform or
importance probabilities, :math:`\tau`-nice); ``rpt.*`` with the RPT prefix/suffix sketches.
"""

from __future__ import annotations

import functools

import sympy as sp

from ._core import Claim, Identity, Kind, Provenance, ge, gt, le, register, register_teeth, sym

PAPER = (
    "Szlendak, Gasanov, Richtárik. Understanding Progressive Training Through the Framework of Randomized "
    "Coordinate Descent. AISTATS 2024, arXiv:2306.03626"
)

gamma, mu, L_tilde, L = sym("gamma"), sym("mu"), sym("L_tilde"), sym("L")
Omega, T, delta0, R = sym("Omega"), sym("T"), sym("delta0"), sym("R")

#: the classical sketches of ``rcd.*`` and the progressive-training sketches of ``rpt.*``
RCD_SKETCHES = ("gd", "coordinate-uniform", "coordinate-importance", "tau-nice")
RPT_SKETCHES = ("rpt-prefix", "rpt-suffix")

_BASE = (gt(L_tilde, 0), gt(gamma, 0))


def sc_rate(g: sp.Expr = gamma, Lt: sp.Expr = L_tilde) -> sp.Expr:
    r"""Theorem 1-SC bound :math:`\big(1-2\gamma\mu(1-\gamma\tilde L/2)\big)^T\delta_0`."""
    return (1 - 2 * g * mu * (1 - g * Lt / 2)) ** T * delta0


def nc_rate(g: sp.Expr = gamma, Lt: sp.Expr = L_tilde) -> sp.Expr:
    r"""Theorem 1-NC bound :math:`\delta_0/(\gamma(1-\gamma\tilde L/2)T)`."""
    return delta0 / (g * (1 - g * Lt / 2) * T)


def c_rate(g: sp.Expr = gamma) -> sp.Expr:
    r"""Theorem 1-C bound :math:`(R^2+2\gamma\Omega\delta_0)/(2\gamma T)`."""
    return (R**2 + 2 * g * Omega * delta0) / (2 * g * T)


#: iteration complexity of Theorem 1-SC at :math:`\gamma=1/\tilde L` (spec RCD-6), used by the cost trade-off
eps = sym("eps")
SC_COMPLEXITY = L_tilde / mu * sp.log(delta0 / eps)


def _sc_factor_identity() -> Identity:
    u = sp.Symbol("u", positive=True)  # u = gamma * L_tilde in (0, 1]
    r = sp.Symbol("r", positive=True)  # r = mu / L_tilde in (0, 1]
    tight = 1 - 2 * u * r * (1 - u / 2)
    loose = 1 - u * r

    def proof():
        diff = sp.factor(sp.expand(loose - tight))
        if sp.simplify(diff - u * r * (1 - u)) == 0:
            return "(1 - gamma mu) - (1 - 2 gamma mu (1 - gamma L_tilde/2)) = gamma mu (1 - gamma L_tilde) >= 0 for gamma <= 1/L_tilde (sympy.factor)"
        return None

    return Identity(
        le(tight, loose),
        proof=proof,
        sampler=lambda rng, size: {"u": 1 - rng.uniform(0, 1, size), "r": 1 - rng.uniform(0, 1, size)},
        label="1 - 2 gamma mu (1 - gamma L_tilde/2) <= 1 - gamma mu when gamma L_tilde <= 1 (u = gamma L_tilde, r = mu/L_tilde)",
    )


def _rate_claims(family: str, sketches: tuple, what: str) -> tuple[Claim, Claim, Claim]:
    setting = {"family": family, "sketches": sketches}
    note = (
        "valid bound [derived] (spec Theorem 1-SC); believed to match the form of the paper's strongly convex theorem "
        "[reconstructed]; the sketch"
        + (
            " form of RPT (prefix, 1/q_j scaling) [reconstructed, secondary source]"
            if family == "rpt"
            else "d-RCD framework [reconstructed]"
        )
    )
    sc = register(
        Claim(
            id=f"{family}.strongly-convex",
            title=f"{what}: linear rate of the expected gap under strong convexity, gamma <= 1/L_tilde",
            paper=PAPER + ", strongly convex RCD theorem; spec rcd_rpt.md Theorem 1-SC (RCD-4)",
            provenance=Provenance.DERIVED,
            provenance_note=note,
            kind=Kind.UPPER,
            measure="expected_gap",
            in_expectation=True,
            stepsize=1 / L_tilde,
            bound=sc_rate(),
            assumptions=_BASE + (gt(mu, 0), le(mu, L_tilde)),
            identities=(_sc_factor_identity(),),
            setting=dict(setting, regime="strongly-convex"),
            experiment="rcd",
            description="E[f(x^T)] - f* for every T against (1 - 2 gamma mu (1 - gamma L_tilde/2))^T delta0; exact "
            "second-moment propagation on quadratics, Monte Carlo on l2-logistic regression.",
        )
    )
    nc = register(
        Claim(
            id=f"{family}.nonconvex",
            title=f"{what}: O(1/T) average expected squared gradient norm, gamma <= 1/L_tilde",
            paper=PAPER + ", nonconvex RCD theorem; spec rcd_rpt.md Theorem 1-NC (RCD-7)",
            provenance=Provenance.DERIVED,
            provenance_note="valid bound [derived]; the paper's nonconvex statement [not found]",
            kind=Kind.UPPER,
            measure="avg_grad_norm_sq",
            in_expectation=True,
            stepsize=1 / L_tilde,
            bound=nc_rate(),
            assumptions=_BASE,
            setting=dict(setting, regime="nonconvex"),
            experiment="rcd",
            description="(1/T) sum_{k<T} E||grad f(x^k)||^2 for every T; exact on convex quadratics (bounded below), "
            "Monte Carlo on the nonconvex quadratic-plus-cosine with exact f_inf.",
        )
    )
    cv = register(
        Claim(
            id=f"{family}.convex",
            title=f"{what}: O(1/T) expected gap of the last iterate for convex f, gamma <= 1/L_tilde",
            paper=PAPER + ", convex RCD theorem; spec rcd_rpt.md Theorem 1-C (RCD-8)",
            provenance=Provenance.DERIVED,
            provenance_note="valid bound [derived] by a self-contained Lyapunov proof; the paper's convex statement [not found] "
            "may use other quantities (e.g. a level-set radius)",
            kind=Kind.UPPER,
            measure="expected_gap",
            in_expectation=True,
            stepsize=1 / L_tilde,
            bound=c_rate(),
            assumptions=_BASE + (ge(Omega, 1),),
            setting=dict(setting, regime="convex"),
            experiment="rcd",
            description="E[f(x^T)] - f* for T >= 1 against (R^2 + 2 gamma Omega delta0)/(2 gamma T), R = ||x^0 - x*||; "
            "exact on singular (convex, not strongly convex) quadratics, Monte Carlo on l2-logistic.",
        )
    )
    return sc, nc, cv


rcd_sc, rcd_nc, rcd_c = _rate_claims("rcd", RCD_SKETCHES, "Sketched RCD")
rpt_sc, rpt_nc, rpt_c = _rate_claims("rpt", RPT_SKETCHES, "RPT (random prefix/suffix of blocks, 1/q_j scaling)")

# ----------------------------------------------------------------------------- sketch identities
_P = sp.symbols("p_1:5", positive=True)  # block probabilities of a J = 4 RPT sketch


def _q_prefix(j: int, ps=_P):
    return sum(ps[j:])  # P(s >= j+1), 0-based block j


def _q_suffix(j: int, ps=_P):
    return sum(ps[: j + 1])  # P(s <= j+1)


def _prefix_moment(i: int, j: int, scaled: bool = True, ps=_P) -> sp.Expr:
    r""":math:`\mathbb E[u_iu_j]=\sum_sp_s\mathbf 1\{i,j\le s\}u_iu_j` summed outcome by outcome (prefix)."""
    J = len(ps)
    tot = 0
    for s in range(J):
        if i <= s and j <= s:
            tot += ps[s] * ((1 / (_q_prefix(i, ps) * _q_prefix(j, ps))) if scaled else 1)
    return tot


def _suffix_moment(i: int, j: int, ps=_P) -> sp.Expr:
    J = len(ps)
    tot = 0
    for s in range(J):
        if i >= s and j >= s:
            tot += ps[s] / (_q_suffix(i, ps) * _q_suffix(j, ps))
    return tot


def _prefix_mean(j: int, scaled: bool = True, ps=_P) -> sp.Expr:
    return sum(ps[s] * ((1 / _q_prefix(j, ps)) if scaled else 1) for s in range(len(ps)) if j <= s)


def _suffix_mean(j: int, ps=_P) -> sp.Expr:
    return sum(ps[s] / _q_suffix(j, ps) for s in range(len(ps)) if j >= s)


def _eq_proof(lhs: sp.Expr, rhs: sp.Expr, text: str):
    """Proof by ``sympy.simplify`` of a scalar or matrix equation (entrywise)."""

    def proof():
        diff = sp.simplify(lhs - rhs)
        zero = diff.is_zero_matrix if isinstance(diff, sp.MatrixBase) else diff == 0
        return f"{text} (sympy.simplify, p_1..p_4 > 0 symbolic)" if zero else None

    return proof


def _p_sampler(rng, size):
    import numpy as np

    w = rng.dirichlet(np.ones(4), size)
    return {f"p_{i + 1}": w[:, i] for i in range(4)}


@functools.cache
def _rpt_moment_tables() -> tuple[sp.Matrix, sp.Matrix, sp.Matrix, sp.Matrix]:
    """(prefix E[u u^T], its table 1/q_min(i,j), suffix E[u u^T], its table 1/q'_max(i,j)), J = 4."""
    pre = sp.Matrix(4, 4, lambda i, j: _prefix_moment(i, j))
    pre_tab = sp.Matrix(4, 4, lambda i, j: 1 / _q_prefix(min(i, j)))
    suf = sp.Matrix(4, 4, lambda i, j: _suffix_moment(i, j))
    suf_tab = sp.Matrix(4, 4, lambda i, j: 1 / _q_suffix(max(i, j)))
    return pre, pre_tab, suf, suf_tab


def _rpt_moment_identities() -> tuple[Identity, ...]:
    # the 4x4 moment tables are built on first use of an identity (about 0.03 s at import otherwise);
    # `list` and `show` read only the labels
    pre_text = "prefix: E[u_i u_j] = P(s >= max(i,j))/(q_i q_j) = 1/q_min(i,j), J = 4"
    suf_text = "suffix: E[u_i u_j] = P(s <= min(i,j))/(q'_i q'_j) = 1/q'_max(i,j), J = 4"
    return (
        Identity(
            lambda: sp.Eq(*_rpt_moment_tables()[:2]),
            proof=lambda: _eq_proof(*_rpt_moment_tables()[:2], pre_text)(),
            sampler=_p_sampler,
            label="RPT prefix: E[u_i u_j] = 1/q_min(i,j) (J = 4, outcome by outcome)",
        ),
        Identity(
            lambda: sp.Eq(*_rpt_moment_tables()[2:]),
            proof=lambda: _eq_proof(*_rpt_moment_tables()[2:], suf_text)(),
            sampler=_p_sampler,
            label="RPT suffix: E[u_i u_j] = 1/q'_max(i,j) (J = 4, outcome by outcome)",
        ),
    )


def _tau_nice_identity() -> Identity:
    dd, tt = sp.Symbol("d", positive=True), sp.Symbol("tau", positive=True)
    pair = (dd / tt) ** 2 * (tt * (tt - 1)) / (dd * (dd - 1))  # (d/tau)^2 P(i, j in S)
    table = dd / tt * (tt - 1) / (dd - 1)  # (d/tau) beta, beta = (tau-1)/(d-1)
    return Identity(
        sp.Eq(pair, table),
        proof=lambda: (
            "(d/tau)^2 tau(tau-1)/(d(d-1)) = (d/tau)(tau-1)/(d-1) (sympy.simplify)"
            if sp.simplify(pair - table) == 0
            else None
        ),
        label="tau-nice: E[c_i c_j] = (d/tau)^2 P(i,j in S) = (d/tau) beta, beta = (tau-1)/(d-1)",
    )


l_tilde = register(
    Claim(
        id="rcd.l-tilde",
        title="Sketch table: closed forms of E[C L C], L_tilde and Omega equal the enumerated expectations",
        paper=PAPER + "; spec rcd_rpt.md section 3.1 (sketch table, RCD-2)",
        provenance=Provenance.DERIVED,
        provenance_note="closed forms [derived]; the RPT row's scaling [reconstructed, secondary source]",
        kind=Kind.IDENTITY,
        measure="sketch_table_error",
        bound=sp.Integer(0),
        identities=(_tau_nice_identity(),) + _rpt_moment_identities(),
        setting={"sketches": RCD_SKETCHES + RPT_SKETCHES, "table": "spec"},
        experiment="rcd",
        description="Max over sketches and sampled smoothness matrices of the relative differences between the table's "
        "E[C L C], L_tilde, Omega and sum_w pi_w C_w L C_w, lambda_max of it, max_i sum_w pi_w c_wi^2.",
    )
)

_ONES = sp.ones(1, 4)


@functools.cache
def _rpt_means() -> tuple[sp.Matrix, sp.Matrix]:
    """(prefix E[u], suffix E[u]) as 1x4 rows, built on first use of the `rpt.unbiased` identities."""
    return sp.Matrix([[_prefix_mean(j) for j in range(4)]]), sp.Matrix([[_suffix_mean(j) for j in range(4)]])


unbiased = register(
    Claim(
        id="rpt.unbiased",
        title="The RPT prefix and suffix sketches with the 1/q_j scaling are unbiased: E[C] = I",
        paper=PAPER + ", RPT sketch; spec rcd_rpt.md section 2.2 (RCD-1)",
        provenance=Provenance.DERIVED,
        provenance_note="E[C] = I [derived]; the prefix form with 1/q_j scaling [reconstructed, secondary source]",
        kind=Kind.IDENTITY,
        measure="sketch_mean_error",
        bound=sp.Integer(0),
        identities=(
            Identity(
                lambda: sp.Eq(_rpt_means()[0], _ONES),
                proof=lambda: _eq_proof(_rpt_means()[0], _ONES, "prefix: E[u_j] = P(s >= j)/q_j = 1, J = 4")(),
                sampler=_p_sampler,
                label="RPT prefix: E[u_j] = sum_{s >= j} p_s / q_j = 1 (J = 4)",
            ),
            Identity(
                lambda: sp.Eq(_rpt_means()[1], _ONES),
                proof=lambda: _eq_proof(_rpt_means()[1], _ONES, "suffix: E[u_j] = P(s <= j)/q'_j = 1, J = 4")(),
                sampler=_p_sampler,
                label="RPT suffix: E[u_j] = sum_{s <= j} p_s / q'_j = 1 (J = 4)",
            ),
        ),
        setting={"sketches": RPT_SKETCHES, "scaled": True},
        experiment="rcd",
        description="max_i |E[c_i] - 1| enumerated over the J outcomes of prefix and suffix sketches on sampled block "
        "structures and probabilities (zero up to rounding).",
    )
)

# ----------------------------------------------------------------------------- teeth
_L_FOR_LT = (
    "L_tilde replaced by lambda_max(L) (the GD constant) in the stepsize and the bound: too large a step "
    "for a sparse sketch"
)
for _c, _rate in ((rcd_sc, sc_rate), (rpt_sc, sc_rate)):
    register_teeth(
        _c,
        _c.variant(
            "L-for-L_tilde",
            stepsize=1 / L,
            bound=_rate(gamma, L),
            assumptions=_BASE + (gt(mu, 0), le(mu, L)),
            expected_to_fail=_L_FOR_LT,
        ),
        _c.variant(
            "no-descent-factor",
            bound=(1 - 2 * gamma * mu) ** T * delta0,
            expected_to_fail="the factor (1 - gamma L_tilde/2) dropped: rate (1 - 2 gamma mu)^T, faster than the truth",
        ),
    )
for _c in (rcd_nc, rpt_nc):
    register_teeth(
        _c,
        _c.variant("L-for-L_tilde", stepsize=1 / L, bound=nc_rate(gamma, L), expected_to_fail=_L_FOR_LT),
        _c.variant("rate-T2", bound=_c.bound / T, expected_to_fail="rate 1/T^2 instead of 1/T"),
    )
for _c in (rcd_c, rpt_c):
    register_teeth(
        _c,
        _c.variant("L-for-L_tilde", stepsize=1 / L, expected_to_fail=_L_FOR_LT),
        _c.variant("rate-T2", bound=_c.bound / T, expected_to_fail="rate 1/T^2 instead of 1/T"),
    )
for _c in (rpt_sc, rpt_nc, rpt_c):
    register_teeth(
        _c,
        _c.variant(
            "unscaled",
            setting=dict(_c.setting, scaled=False),
            expected_to_fail="the 1/q_j rescaling dropped: E[C] = Diag(q) != I, so the theorem does not apply",
        ),
    )
register_teeth(
    unbiased,
    unbiased.variant(
        "unscaled",
        setting=dict(unbiased.setting, scaled=False),
        identities=(
            Identity(
                sp.Eq(_prefix_mean(1, scaled=False), 1),
                sampler=_p_sampler,
                label="RPT prefix without 1/q_j: E[1{2 <= s}] = 1 (false: it is q_2)",
            ),
        ),
        expected_to_fail="the 1/q_j rescaling dropped: E[C] = Diag(q) != I",
    ),
)
register_teeth(
    l_tilde,
    l_tilde.variant(
        "no-hadamard",
        setting=dict(l_tilde.setting, table="no-hadamard"),
        identities=(),
        expected_to_fail="RPT table row replaced by lambda_max(L)/q_J, i.e. L/min_j q_j instead of the "
        "Hadamard product L o Q (spec pitfall)",
    ),
    l_tilde.variant(
        "uniform-without-d",
        setting=dict(l_tilde.setting, table="uniform-without-d"),
        identities=(),
        expected_to_fail="uniform single-coordinate L_tilde given as max_i L_ii instead of d max_i L_ii",
    ),
)
