r"""Differentially private federated quantiles with the distributed discrete Gaussian mechanism.

Sources: the authors' poster *Differentially Private Federated Quantiles with the Distributed Discrete Gaussian
Mechanism* (Pillutla*, Laguel*, Malick, Harchaoui; Simplicial-FL line, arXiv:2112.09429), read for the
mechanism and its flat/hierarchical error rates only: the paper's proposition (privacy notion, modulus,
constants) was not consulted.  Background (not consulted, [reconstructed]): Kairouz, Liu, Steinke, arXiv:2102.06387;
Canonne, Kamath, Steinke, arXiv:2004.00010 (a discrete Gaussian :math:`\mathcal N_{\mathbb Z}(0,\sigma^2)` is
:math:`\sigma`-sub-Gaussian).

Symbols: ``m`` clients, ``n_bins`` b, ``eps_dp`` :math:`\varepsilon_{\rm dp}`, ``alpha_fail``
:math:`\alpha_{\rm fail}`, ``s_agg`` the sub-Gaussian scale of the aggregate per-bin noise (counts, here
:math:`\sqrt m\sigma_{\rm int}/s_f`), ``s_f`` the integer scaling, ``z_mod`` the noise allowance of the modulus,
``M_ring`` the secure-aggregation modulus, ``cdf_noise`` :math:`N=\max_j|\hat C_j-C_j|` of a run.

Finding (the issue's brief): the level error scales like :math:`\sqrt{b\log(1/\alpha)}/(\varepsilon m)` (poster, and
derived here with explicit constants), **not** like :math:`b\sigma^2/m`; the brief's form is a tooth of
``dp-quantile.poster`` (wrong exponent in b and in m).
"""

from __future__ import annotations

import sympy as sp

from ._core import Claim, Kind, Provenance, gt, lt, register, register_teeth, sym

POSTER = (
    "Pillutla, Laguel, Malick, Harchaoui. Differentially Private Federated Quantiles with the Distributed Discrete "
    "Gaussian Mechanism (poster; Simplicial-FL line, arXiv:2112.09429)"
)

m, b, eps_dp, alpha = sym("m"), sym("n_bins"), sym("eps_dp"), sym("alpha_fail")
s_agg, s_f, z_mod, M_ring, N = sym("s_agg"), sym("s_f"), sym("z_mod"), sym("M_ring"), sym("cdf_noise")

_ALPHA = (gt(alpha, 0), lt(alpha, 1))

CDF_THRESHOLD = s_agg * sp.sqrt(2 * b * sp.log(4 / alpha))

cdf_uniform = register(
    Claim(
        id="dp-quantile.cdf-uniform",
        title="P(max_j |C_hat_j - C_j| > s_agg sqrt(2 b log(4/alpha))) <= alpha (noisy cumulative histogram)",
        paper=POSTER + "; explicit constants derived (Levy's maximal inequality + sub-Gaussian tail)",
        provenance=Provenance.DERIVED,
        provenance_note="[derived]; the sub-Gaussianity of the discrete Gaussian is [reconstructed] from "
        "Canonne-Kamath-Steinke (arXiv:2004.00010)",
        kind=Kind.UPPER,
        in_expectation=True,
        measure="cdf_exceed_prob",
        bound=alpha,
        assumptions=_ALPHA,
        setting={"threshold": CDF_THRESHOLD},
        experiment="dp_quantile",
        description="Monte Carlo rate of runs with max_j |C_hat_j - C_j| above the setting 'threshold' (aggregate "
        "noise drawn from its exact law), judged with a finite-sample bound on the Bernoulli mean; the "
        "Clopper-Pearson interval is in the evidence note.",
    )
)

accuracy = register(
    Claim(
        id="dp-quantile.accuracy",
        title="Level error of the returned edge <= max_j |C_hat_j - C_j| / m (binned data; every run)",
        paper=POSTER + "; deterministic given the noise, derived",
        provenance=Provenance.DERIVED,
        provenance_note="[derived]; with dp-quantile.cdf-uniform it gives level error <= s_agg sqrt(2 b log(4/alpha))/m "
        "w.p. >= 1 - alpha, the poster's flat rate sqrt(b log(1/alpha))/(eps m) with explicit constants",
        kind=Kind.UPPER,
        measure="level_error",
        bound=N / m,
        setting={"level_on": "binned"},
        experiment="dp_quantile",
        description="|theta' - theta| of each run (full modular protocol) against that run's N/m; theta' is any level "
        "at which the returned edge is a quantile of the binned data.",
    )
)

modulus = register(
    Claim(
        id="dp-quantile.modulus",
        title="Centered decoding mod M is exact when M > 2(m s_f + z) (no wrap-around)",
        paper=POSTER + "; derived (the modulus of the paper was not consulted)",
        provenance=Provenance.DERIVED,
        provenance_note="[derived] given |aggregate noise| <= z on every bin; with s_f ~ eps sqrt(m) sigma_int this is "
        "M >~ 2 eps sigma_int m^(3/2): the statement 'M >~ m^(3/2)' of the brief is [reconstructed]",
        kind=Kind.UPPER,
        measure="decode_error",
        bound=sp.Integer(0),
        assumptions=(gt(M_ring, 2 * (m * s_f + z_mod)),),
        setting={"modulus": 2 * (m * s_f + z_mod) + 2},
        experiment="dp_quantile",
        description="max over bins and runs of |decoded sum - true integer sum| (full modular protocol with masking), "
        "over the runs whose aggregate noise stays within z on every bin.",
    )
)

poster = register(
    Claim(
        id="dp-quantile.poster",
        title="Flat mechanism: quantile error ~ sqrt(b log(1/alpha))/(eps m) w.p. >= 1 - alpha (slope -1 in m)",
        paper=POSTER + ", theorem box (flat; the hierarchical rate is dp-quantile.poster-hierarchical)",
        provenance=Provenance.PAPER,
        provenance_note="[paper] (poster) as a shape only: constants [not found]; measured on the (1 - alpha) quantile "
        "of max_j |C_hat_j - C_j|/m, which bounds the level error (dp-quantile.accuracy)",
        kind=Kind.SCALING,
        in_expectation=True,
        measure="cdf_error_quantile",
        exponent=sp.Integer(-1),
        scaling_in="m",
        experiment="dp_quantile",
        description="(1 - alpha) empirical quantile of N/m over a grid of the scaling variable (m, eps_dp or n_bins), "
        "log-log slope against the predicted one (tolerance 0.1).",
    )
)

poster_hierarchical = register(
    Claim(
        id="dp-quantile.poster-hierarchical",
        title="Hierarchical mechanism: quantile error ~ sqrt(log2^3 b log(b/alpha))/(eps m) w.p. >= 1 - alpha "
        "(slope -1 in m)",
        paper=POSTER + ", theorem box (hierarchical: per-client sigma = log2(b)/(eps sqrt(n)))",
        provenance=Provenance.PAPER,
        provenance_note="[paper] (poster) as a shape only: constants [not found]; the dyadic tiling of the prefixes "
        "is [reconstructed] (the poster: 'a binary tree of log2 b levels, noise at every level'); measured on the "
        "(1 - alpha) quantile of max_j |C_hat_j - C_j|/m",
        kind=Kind.SCALING,
        in_expectation=True,
        measure="cdf_error_quantile",
        exponent=sp.Integer(-1),
        scaling_in="m",
        setting={"mechanism": "hierarchical"},
        experiment="dp_quantile",
        description="(1 - alpha) empirical quantile of N/m (N from the tree's node noises, exact aggregate law) over a "
        "grid of m or eps_dp, log-log slope against the predicted one (tolerance 0.1).",
    )
)

# ----------------------------------------------------------------------------- teeth
register_teeth(
    cdf_uniform,
    cdf_uniform.variant(
        "no-sqrt-b",
        setting={"threshold": s_agg * sp.sqrt(2 * sp.log(4 / alpha))},
        expected_to_fail="the union over b bins dropped: the prefix sums of b noises grow like sqrt(b)",
    ),
)
register_teeth(
    accuracy,
    accuracy.variant(
        "raw-data",
        setting={"level_on": "raw"},
        expected_to_fail="on the raw data the returned edge misses by up to one bin's mass c_j/m besides the noise",
    ),
)
register_teeth(
    modulus,
    modulus.variant(
        "M-2m",
        assumptions=(),
        setting={"modulus": 2 * m},
        expected_to_fail="M = 2m ignores the scaling s_f: the scaled sums wrap and the decoded counts are wrong",
    ),
)
register_teeth(
    poster,
    poster.variant(
        "brief-b-sigma2-in-b",
        exponent=sp.Integer(1),
        scaling_in="n_bins",
        expected_to_fail="the brief's b sigma^2/m grows linearly in b; the error grows like sqrt(b)",
    ),
    poster.variant(
        "brief-b-sigma2-in-m",
        exponent=sp.Integer(-3),
        expected_to_fail="the brief's b sigma^2/m with sigma = 1/(eps m) decays like m^-3; the error decays like 1/m",
    ),
    poster.variant(
        "eps-squared",
        exponent=sp.Integer(-2),
        scaling_in="eps_dp",
        expected_to_fail="an error in 1/eps^2 (variance instead of standard deviation); it scales like 1/eps",
    ),
)

register_teeth(
    poster_hierarchical,
    poster_hierarchical.variant(
        "eps-squared",
        exponent=sp.Integer(-2),
        scaling_in="eps_dp",
        expected_to_fail="an error in 1/eps^2 (variance instead of standard deviation); it scales like 1/eps",
    ),
    poster_hierarchical.variant(
        "per-client-sigma-in-m",
        exponent=sp.Rational(-3, 2),
        expected_to_fail="per-client sigma = log2(b)/(eps m) (1/m instead of 1/sqrt(m)) would make the error decay "
        "like m^-3/2; with the poster's sigma it decays like 1/m",
    ),
)

__all__ = ["cdf_uniform", "accuracy", "modulus", "poster", "poster_hierarchical", "CDF_THRESHOLD"]
