r"""Local-update methods: ProxSkip/Scaffnew, Local GD and FLIX on quadratic clients with exact constants.

Measures (``ratecheck describe local_methods``):

* ProxSkip/Scaffnew — ``proxskip_lyapunov`` (:math:`\mathbb E\Psi_t`, exact second moments over the two coin
  outcomes per step, :func:`verify.expectation.exact_scaffnew_lyapunov` on the state
  :math:`(x-x^\star,h-h^\star)\in\mathbb R^{2nd}`), ``proxskip_one_step`` (largest generalized eigenvalue of the
  exact conditional second moment against the claimed one-step form), ``proxskip_gd_gap`` (p = 1 against GD),
  ``comms_to_eps`` (expected communications to :math:`\varepsilon` against κ on the fair family Q1(κ), with GD
  alongside), ``comms_vs_p`` and ``proxskip_sgd_lyapunov`` (:math:`\mathbb E\Psi_t` with stochastic gradients
  :math:`\nabla f_i+\xi_i`, :math:`\xi_i\sim\mathcal N(0,\sigma^2I)`: the additive noise adds a constant
  covariance to the second-moment recursion, so the expectation stays exact);
* Local GD — ``lgd_dist_fixed``, ``lgd_dist_opt``, ``lgd_floor``, ``lgd_floor_vs_H``, ``lgd_rounds_to_eps``,
  ``khaled_gap`` (deterministic; the fixed point from the exact round map);
* FLIX — ``flix_constants``, ``flix_uniform_gap``, ``flix_gd_gap``, ``flix_lgd_gap`` (deterministic).

Instances (parameter ``instance``; :func:`verify.instances.local_quadratic_clients`), all with exact constants
(per-client :math:`L=\max_iL_i`, :math:`\mu=\min_i\mu_i`, :math:`\mu_f=\lambda_{\min}(\bar A)`):

* ``q1`` — the fair family Q1(κ): n = d = 2, :math:`A_1=\mathrm{diag}(\kappa,1)`, :math:`A_2=\mathrm{diag}(\kappa/2,2)`,
  :math:`b_1=(1,-2)`, :math:`b_2=(-1,3)`; L = κ, μ = 1, :math:`\kappa_f=\kappa/2`, :math:`x^\star=(0,\frac13)`;
* ``rotated`` — :math:`A_i=U_i\mathrm{diag}(\lambda^{(i)})U_i^\top`, random rotations, spectra in [μ, κμ] with
  client 1 pinned to both ends (heterogeneous Hessians);
* ``diagonal`` — a shared eigenbasis (:math:`U_i=I`), spectra in [μ, κμ], every client at μ along :math:`e_1`;
* ``lg0`` — identical Hessians (every :math:`A_i` the mean of the ``rotated`` ones), heterogeneous :math:`b_i`;
* ``lg2`` — :math:`A=\mathrm{diag}(10,1),\mathrm{diag}(1,10),3I`, :math:`b=(5,-1),(-2,4),(0,-3)`;
* ``isotropic`` — :math:`A_i=a_iI` with :math:`a_i` geometric in [μ, κμ], random :math:`x_i^\star` (FLIX vs Local GD);
* ``logistic`` — ℓ2-regularised logistic clients (μ = λ = ``mu``, :math:`L_i` certified upper bounds), for
  ``proxskip_lyapunov`` only: Monte Carlo over coin paths (``replications``) with one-sided confidence bounds.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from ratecheck.solvers.local_methods import (
    flix_gd,
    flix_local_gd_weights,
    flix_quadratic,
    flix_value,
    gd_hitting_time,
    gd_quadratic,
    generalized_max_eig,
    hitting_time,
    local_gd,
    local_gd_floors,
    local_gd_round_map,
    local_gd_rounds_to,
    proxskip,
    proxskip_one_step_moment,
    shared_eigenbasis,
)

from ..errors import UsageError
from ..expectation import DENSE_STATE, exact_scaffnew_lyapunov, mc_summary
from ..fit import loglog_fit
from ..instances import LOCAL_QUADRATICS, identical_hessians, l2_logistic_clients, local_quadratic_clients
from ..optima import l2_logistic_optimum
from ..resources import Need
from ..schema import Choice, Constant, Custom, Float, Int, Measure, Schema, Setting, expr_value, json_list
from ..verdict import Evidence
from . import Experiment, register

INSTANCES = LOCAL_QUADRATICS + ("logistic",)
MC_GRID_POINTS = 30  #: Monte Carlo comparisons on this many t values (Bonferroni over them)
_PS_MEASURES = (
    "proxskip_lyapunov",
    "proxskip_one_step",
    "proxskip_gd_gap",
    "comms_to_eps",
    "comms_vs_p",
    "proxskip_sgd_lyapunov",
)
_LGD_RUN = ("lgd_dist_fixed", "lgd_dist_opt", "lgd_rounds_to_eps", "khaled_gap")
_LGD_MEASURES = _LGD_RUN + ("lgd_floor", "lgd_floor_vs_H")
_FLIX_RUN = ("flix_constants", "flix_uniform_gap", "flix_gd_gap")
_FLIX_MEASURES = _FLIX_RUN + ("flix_lgd_gap",)
_RATE_RULE = "at least 3 distinct finite values"
DEFAULT_EPS = {"comms_to_eps": 1e-6, "comms_vs_p": 1e-6, "lgd_rounds_to_eps": 0.05}
_LGD_DIST = (
    [
        dict(instance="lg2", H=20, gamma_factor=0.1, rounds=60),
        dict(instance="lg2", H=5, radius=1e3, rounds=40),
        dict(H=10, rounds=40),
    ],
    [dict(instance="diagonal", n=5, d=4, H=20, rounds=40, gamma_factor=0.5)],
)
#: measure -> (instances of the quick check, further instances of the full check)
DEFAULT_INSTANCES = {
    "proxskip_lyapunov": (
        [dict(instance="q1", kappa=10.0, p=0.05, T=300), dict(p=0.3, T=150), dict(p=1.0, T=60)],
        [
            dict(instance="diagonal", n=4, d=3, p=0.1, T=400),
            dict(kappa=10.0, p=0.5, T=200),
            dict(instance="logistic", n=5, d=3, mu=0.1, p=0.3, T=100, replications=1000),
        ],
    ),
    "proxskip_sgd_lyapunov": (
        [dict(instance="q1", kappa=10.0, p=0.05, T=400, noise=0.1), dict(p=0.3, T=200, noise=1.0)],
        [dict(instance="diagonal", n=10, d=50, p=0.1, T=600, noise=0.3), dict(p=1.0, T=100)],
    ),
    "proxskip_one_step": (
        [dict(p=0.3), dict(instance="q1", kappa=100.0, p=0.05)],
        [dict(instance="diagonal", n=5, d=3, p=0.7, gamma_factor=0.5)],
    ),
    "proxskip_gd_gap": ([dict(T=50), dict(instance="q1", kappa=100.0, T=50)], []),
    "lgd_dist_fixed": _LGD_DIST,
    "lgd_dist_opt": _LGD_DIST,
    "lgd_floor": ([dict(), dict(instance="lg2")], []),
    "lgd_floor_vs_H": ([dict(instance="lg2", gamma=0.002)], []),
    "lgd_rounds_to_eps": ([dict(instance="lg2", gamma_factor=0.1, radius=1e3, Hs=(1, 2, 3, 5, 9))], []),
    "flix_constants": ([dict(tau_profile="random", tau=0.1), dict(instance="q1", kappa=100.0, tau=0.5)], []),
    "flix_uniform_gap": ([dict(tau=0.3), dict(instance="q1", kappa=100.0, tau=0.7)], []),
    "flix_gd_gap": (
        [dict(tau=0.5, T=100), dict(instance="q1", kappa=50.0, tau=0.1, T=200)],
        [dict(tau_profile="random", tau=0.2, T=300)],
    ),
    "flix_lgd_gap": ([dict(instance="isotropic", n=4, d=2, kappa=50.0, gamma_factor=0.5)], []),
}
#: One random stream per purpose, ``default_rng([seed, k])``: the entropy [seed, k] seeds its own SeedSequence, so
#: these are independent streams (as ``verify.instances.streams`` gives); kept because every baseline was drawn
#: from them.  ``data`` is drawn by :func:`verify.instances.local_quadratic_clients`.
STREAM = dict(start=1, h0=2, tau=3, points=4, coins=5, data=7)


def _rng(seed: int, purpose: str) -> np.random.Generator:
    return np.random.default_rng([seed, STREAM[purpose]])


def _start(x_star, seed: int, radius: float = 1.0) -> np.ndarray:
    """x_0 = x* + radius u, u uniform on the unit sphere (the start stream)."""
    v = _rng(seed, "start").standard_normal(x_star.size)
    return x_star + radius * (v / np.linalg.norm(v))


def _values(low: float, integer: bool = False):
    def check(v):
        a = np.asarray(v, dtype=float) if np.ndim(v) == 1 else np.array([])
        if a.size < 3 or np.any(~np.isfinite(a)) or np.any(a < low) or np.unique(a).size < 3:
            raise ValueError
        if integer and np.any(a != np.round(a)):
            raise ValueError
        return tuple(int(x) if integer else float(x) for x in v)

    return check


def client_constants(P) -> dict:
    """The exact constants of quadratic clients: L = max_i L_i, mu = min_i mu_i, the extreme eigenvalues mu_f, L_f of
    A_bar, sigma_*^2 and sigma_bar of the gradients grad f_i(x*), n, d."""
    gn = np.linalg.norm(np.einsum("nij,j->ni", P.A, P.x_star) - P.b, axis=1)
    c = dict(L=P.L_max, mu=P.mu, mu_f=P.mu_f, L_f=P.L, kappa=P.L_max / P.mu, kappa_f=P.L / P.mu_f)
    return dict(c, sigma2=float(np.mean(gn**2)), sigma_bar=float(np.mean(gn)), n=P.n, d=P.d)


def proxskip_engine(n: int, d: int, instance: str) -> str:
    """The exact ProxSkip engine a run uses (:func:`verify.expectation.exact_scaffnew_lyapunov`): ``"dense"`` maps
    for small states (2nd <= ``DENSE_STATE``), ``"coordinates"`` (O(d n^2) per step) for a shared eigenbasis, else
    ``"structured"`` maps (O(n d^2) per column of the (2nd)^2 second moment)."""
    if 2 * n * d <= DENSE_STATE:
        return "dense"
    return "coordinates" if instance in ("diagonal", "isotropic") else "structured"


class Clients(NamedTuple):
    """An instance: the clients, their FLIX weights and, once a FLIX measure prepared it, ``flix_quadratic`` at
    the weights (x_local, A_tilde, L_tilde, mu_tilde, x_tilde_star)."""

    problem: Any
    tau: np.ndarray | None
    flix: tuple | None = None


class LocalMethodsExperiment(Experiment):
    name = "local_methods"
    title = "Local-update methods: ProxSkip/Scaffnew (exact expectations), Local GD and FLIX on quadratics"
    schema = Schema(
        params=(
            Choice(
                "instance",
                "rotated",
                "quadratic clients: the fair family Q1(kappa) ('q1'), random rotated spectra in [mu, kappa mu] "
                "('rotated'), the same with a shared eigenbasis ('diagonal'), identical Hessians ('lg0'), the "
                "spec's LG2 ('lg2'), isotropic A_i = a_i I ('isotropic') or l2-logistic clients ('logistic', "
                "proxskip_lyapunov only, Monte Carlo)",
                choices=INSTANCES,
                search=("q1", "rotated", "diagonal"),
            ),
            Int("n", 3, "number of clients (q1: 2, lg2: 3, fixed)", low=1, high=2000, search=(2, 6)),
            Int("d", 3, "dimension (q1, lg2: 2, fixed)", low=1, high=2000, search=(1, 4)),
            Float(
                "kappa",
                20.0,
                "per-client condition number L/mu = max_i L_i / min_i mu_i",
                low=1,
                high=1e8,
                search=(2.0, 300.0),
                log=True,
            ),
            Float("mu", 1.0, "mu = min_i mu_i", low=0, high=1e8, low_open=True),
            Float(
                "gamma",
                None,
                "stepsize of claims without a stepsize rule (None: gamma_factor / L)",
                low=0,
                low_open=True,
                optional=True,
            ),
            Float(
                "gamma_factor",
                1.0,
                "factor applied to the stepsize (the claim's rule, or 1/L)",
                low=0,
                high=1,
                low_open=True,
                search=(0.05, 1.0),
                log=True,
            ),
            Float(
                "p",
                0.2,
                "ProxSkip communication probability",
                low=0,
                high=1,
                low_open=True,
                search=(0.01, 1.0),
                log=True,
            ),
            Int("T", 200, "ProxSkip / FLIX-GD steps", low=1, high=10**7),
            Int("H", 5, "Local GD local steps per round", low=1, high=10**4, search=(1, 40)),
            Int("rounds", 60, "Local GD rounds", low=1, high=10**6),
            Custom(
                "Hs",
                (1, 2, 3, 5, 9, 17, 33),
                "grid of H (floor, rounds-to-eps and FLIX equivalence measures)",
                rule_text=_RATE_RULE + " integers >= 1",
                check=_values(1, integer=True),
                parser=json_list,
            ),
            Custom(
                "kappas",
                (10.0, 100.0, 1000.0),
                "grid of kappa of comms_to_eps",
                rule_text=_RATE_RULE + " >= 1",
                check=_values(1),
                parser=json_list,
            ),
            Custom(
                "ps",
                (1.0, 0.5, 0.2, 0.1, 0.05, 0.02),
                "grid of p of comms_vs_p",
                rule_text=_RATE_RULE + " in (0, 1]",
                check=_values(1e-9),
                parser=json_list,
            ),
            Float(
                "eps",
                None,
                "target accuracy, relative to Psi_0 (ProxSkip), ||x_0 - x*||^2 (GD) or ||x_0 - x*|| (Local GD); "
                "None: 1e-6 for ProxSkip, 0.05 for Local GD",
                low=0,
                high=1,
                low_open=True,
                high_open=True,
                optional=True,
            ),
            Float(
                "tau",
                0.5,
                "FLIX personalization weight (uniform) or its lower end (random)",
                low=0,
                high=1,
                low_open=True,
                search=(0.05, 1.0),
            ),
            Choice(
                "tau_profile",
                "uniform",
                "FLIX weights: all equal to tau, or uniform in [tau, 1] per client",
                choices=("uniform", "random"),
                search=True,
            ),
            Choice(
                "h0",
                "zero",
                "ProxSkip control variates h_0: zero, or random N(0, I) per client",
                choices=("zero", "random"),
            ),
            Float(
                "radius",
                1.0,
                "distance ||x_0 - x*|| of the random start",
                low=0,
                high=1e12,
                low_open=True,
                search=(1.0, 1e4),
                log=True,
            ),
            Float(
                "noise",
                0.5,
                "standard deviation of the additive Gaussian gradient noise per client and coordinate "
                "(proxskip_sgd_lyapunov)",
                low=0,
                high=1e6,
                search=(0.01, 10.0),
                log=True,
            ),
            Int("m", 20, "data points per client (logistic)", low=1, high=10**6),
            Int("replications", 1000, "Monte Carlo replications (logistic clients)", low=2, high=10**7),
            Int("T_max", 400000, "iteration cap of comms_to_eps / comms_vs_p", low=1),
        ),
        search_order=("instance", "n", "d", "kappa", "gamma_factor", "p", "noise", "H", "radius", "tau", "tau_profile"),
        constants=(
            Constant("L", "max_i L_i (per-client smoothness)"),
            Constant("mu", "min_i mu_i (per-client strong convexity)"),
            Constant("mu_f", "strong convexity of f-bar: lambda_min(A_bar)"),
            Constant("L_f", "smoothness of f-bar: lambda_max(A_bar)"),
            Constant("kappa", "L / mu"),
            Constant("kappa_f", "L_f / mu_f"),
            Constant("sigma2", "sigma_*^2 = (1/n) sum_i ||grad f_i(x*)||^2", latex=(r"\sigma_\star^2", r"\sigma_*^2")),
            Constant("sigma_bar", "(1/n) sum_i ||grad f_i(x*)||", latex=(r"\bar\sigma",)),
            Constant("n", "number of clients"),
            Constant("d", "dimension"),
            Constant("gamma", "the stepsize run"),
            Constant("p", "ProxSkip communication probability", _PS_MEASURES),
            Constant("Psi0", "Psi_0", ("proxskip_lyapunov", "proxskip_sgd_lyapunov"), latex=(r"\Psi_0",)),
            Constant(
                "C",
                "gradient noise variance at x*, summed over clients: E||xi||^2 = n d noise^2",
                ("proxskip_sgd_lyapunov",),
            ),
            Constant("E2", "||e_t||^2 (read off the one-step bound's form)", ("proxskip_one_step",)),
            Constant("G2", "||h_t - h*||^2 (read off the one-step bound's form)", ("proxskip_one_step",)),
            Constant(
                "eps",
                "target accuracy (absolute for Local GD: eps ||x_0 - x*||)",
                ("comms_to_eps", "comms_vs_p", "lgd_rounds_to_eps"),
            ),
            Constant("H", "local steps per round", _LGD_MEASURES),
            Constant("D0", "||x_0 - x*||", _LGD_RUN),
            Constant("Dinf0", "||x_0 - x_inf||", ("lgd_dist_fixed",)),
            Constant(
                "L_tilde", "FLIX smoothness lambda_max((1/n) sum tau_i^2 A_i)", _FLIX_MEASURES, latex=(r"\tilde L",)
            ),
            Constant(
                "mu_tilde",
                "FLIX strong convexity lambda_min((1/n) sum tau_i^2 A_i)",
                _FLIX_MEASURES,
                latex=(r"\tilde\mu",),
            ),
            Constant("delta0", "f~(x_0) - f~*", ("flix_gd_gap",)),
            Constant("tau", "the FLIX weight (uniform), else the mean weight", _FLIX_MEASURES),
            Constant("tau_mean", "(1/n) sum tau_i", ("flix_constants",)),
            Constant("tau_min", "min_i tau_i", ("flix_constants",)),
            Constant("tau2L_mean", "(1/n) sum tau_i^2 L_i", ("flix_constants",)),
            Constant("tau2mu_mean", "(1/n) sum tau_i^2 mu_i", ("flix_constants",)),
            Constant("u_L", "1 on the L~ entry, 0 on the 1/mu~ entry", ("flix_constants",)),
            Constant("u_mu", "0 on the L~ entry, 1 on the 1/mu~ entry", ("flix_constants",)),
        ),
        measures=(
            Measure("proxskip_lyapunov", "E Psi_t of Scaffnew, t = 1..T (exact over the coins)", grid="T", random=True),
            Measure(
                "proxskip_one_step",
                "largest generalized eigenvalue of E[Psi_(t+1) | state] against the claimed form (bound 1)",
                grid="state",
                random=True,
            ),
            Measure("proxskip_gd_gap", "max ||x_t(Scaffnew, p=1) - x_t(GD)|| / ||x_0 - x*||, t = 1..T", grid="T"),
            Measure(
                "comms_to_eps",
                "expected communications until E Psi_t <= eps Psi_0 (exact) against kappa (log-log fit)",
                grid="kappa",
                random=True,
            ),
            Measure("comms_vs_p", "expected communications p T_eps (exact) over the grid ps", grid="p", random=True),
            Measure(
                "proxskip_sgd_lyapunov",
                "E Psi_t of Scaffnew with stochastic gradients (additive N(0, noise^2 I) per client), t = 1..T "
                "(exact over the coins and the noise)",
                grid="T",
                random=True,
            ),
            Measure("lgd_dist_fixed", "||x_r - x_inf|| at the synchronisation points, r = 1..rounds", grid="r"),
            Measure("lgd_dist_opt", "||x_r - x*|| at the synchronisation points, r = 1..rounds", grid="r"),
            Measure("lgd_floor", "exact floor ||x_inf - x*|| / (1 + ||x*||) over the grid Hs", grid="H"),
            Measure("lgd_floor_vs_H", "exact floor ||x_inf - x*|| against H - 1 (log-log fit)", grid="H"),
            Measure("lgd_rounds_to_eps", "rounds until ||x_r - x*|| <= eps over the grid Hs", grid="H"),
            Measure("khaled_gap", "f(x-bar_T) - f* at the averaged virtual iterates, T = H..H rounds", grid="T"),
            Measure("flix_constants", "L~ then 1/mu~ (stacked; both upper-bounded)", grid="entry"),
            Measure(
                "flix_uniform_gap", "relative deviation from f~ - f~* = scale (f - f*), then ||x~* - x*||", grid="point"
            ),
            Measure("flix_gd_gap", "f~(x_t) - f~* of GD on FLIX, t = 1..T", grid="T"),
            Measure("flix_lgd_gap", "||x_inf(Local GD) - x~*(tau)|| / (1 + ||x~*||) over the grid Hs", grid="H"),
        ),
        settings=(
            Setting(
                "p",
                None,
                "communication probability as an expression in the constants (None: the parameter p)",
                kind="expr",
                measures=_PS_MEASURES,
            ),
            Setting(
                "algorithm",
                "proxskip",
                "the method whose communications comms_to_eps fits: Scaffnew or GD on f-bar (stepsize 1/L_f)",
                choices=("proxskip", "gd"),
                measures=("comms_to_eps",),
            ),
            Setting(
                "gd_stepsize",
                None,
                "stepsize of the GD run compared with Scaffnew at p = 1 (an expression; None: gamma)",
                kind="expr",
                measures=("proxskip_gd_gap",),
            ),
            Setting(
                "hessians",
                None,
                "replace every client Hessian by their mean ('identical') or keep the instance's",
                choices=("identical", "heterogeneous"),
                measures=_LGD_MEASURES,
            ),
            Setting(
                "scale",
                None,
                "the claimed ratio (f~ - f~*)/(f - f*) under uniform tau (an expression in tau)",
                kind="expr",
                measures=("flix_uniform_gap",),
            ),
            Setting(
                "tau_rule",
                "psi",
                "FLIX weights matched to Local GD: tau_i^2 ~ psi(a_i) ('psi'), tau_i^2 ~ phi_H(a_i) ('phi'), "
                "tau_i ~ psi(a_i) ('psi-linear')",
                choices=("psi", "phi", "psi-linear"),
                measures=("flix_lgd_gap",),
            ),
        ),
    )

    # ------------------------------------------------------------------ contract
    def memory_needs(self, p):
        """Upper bounds (8-byte entries): the clients (n, d, d); the exact ProxSkip maps and second moments of the
        engine that will run (:func:`proxskip_engine`: about 10 (2nd)^2 entries for the full state, 24 d n^2 for
        the decoupled coordinates of a shared eigenbasis); a trajectory (T + 1, d) and Local GD's virtual
        iterates (H rounds, d)."""
        n, d, T, R = int(p["n"]), int(p["d"]), int(p["T"]), int(p["replications"])
        if p["instance"] == "logistic":  # Monte Carlo: replicated client states and the Lyapunov series
            return [
                Need("n*m*d", n * int(p["m"]) * d, ("n", "m", "d")),
                Need(
                    "8*replications*n*d + 2*replications*(T+1)*(d+1)",
                    8 * R * n * d + 2 * R * (T + 1) * (d + 1),
                    ("replications", "n", "d", "T"),
                ),
            ]
        return [
            Need("3*n*d^2", 3 * n * d * d, ("n", "d")),
            Need("24*d*n^2", 24 * d * n * n, ("n", "d"))
            if proxskip_engine(n, d, p["instance"]) == "coordinates"
            else Need("40*(n*d)^2", 40 * (n * d) ** 2, ("n", "d")),
            Need("2*(T+1)*d + H*rounds*d", 2 * (T + 1) * d + p["H"] * p["rounds"] * d, ("T", "H", "rounds", "d")),
        ]

    def search_space_for(self, claim):
        """Per measure: only the parameters the measure reads.  The scaling claims are not searchable."""
        m = claim.measure
        full = dict(self.search_space)
        keep = {
            "proxskip_lyapunov": ("instance", "n", "d", "kappa", "gamma_factor", "p"),
            "proxskip_sgd_lyapunov": ("instance", "n", "d", "kappa", "gamma_factor", "p", "noise"),
            "proxskip_one_step": ("instance", "n", "d", "kappa", "gamma_factor", "p"),
            "proxskip_gd_gap": ("instance", "n", "d", "kappa", "gamma_factor"),
            "comms_vs_p": ("kappa", "gamma_factor"),
            "lgd_dist_fixed": ("instance", "n", "d", "kappa", "gamma_factor", "H"),
            "lgd_dist_opt": ("instance", "n", "d", "kappa", "gamma_factor", "H", "radius"),
            "lgd_floor": ("instance", "n", "d", "kappa", "gamma_factor"),
            "lgd_rounds_to_eps": ("instance", "n", "d", "kappa", "gamma_factor", "radius"),
            "khaled_gap": ("instance", "n", "d", "kappa", "gamma_factor", "H"),
            "flix_constants": ("instance", "n", "d", "kappa", "tau", "tau_profile"),
            "flix_uniform_gap": ("instance", "n", "d", "kappa", "tau"),
            "flix_gd_gap": ("instance", "n", "d", "kappa", "tau", "tau_profile"),
            "flix_lgd_gap": ("n", "d", "kappa", "gamma_factor"),
        }.get(m)
        if keep is None:
            return None
        space = {k: full[k] for k in keep}
        if m in ("lgd_dist_fixed", "lgd_dist_opt", "lgd_floor", "lgd_rounds_to_eps", "khaled_gap"):
            space["instance"] = ("choice", ["rotated", "diagonal", "lg2"])
        if m == "comms_vs_p":  # exact hitting times over ln(1/eps)/min{gamma mu, p^2} steps: keep them short
            space["kappa"] = ("logfloat", 20.0, 300.0)
            space["gamma_factor"] = ("logfloat", 0.3, 1.0)
        return space

    def from_search(self, point):
        out = dict(point)
        for k in ("n", "d", "H"):
            if k in out:
                out[k] = int(out[k])
        return out

    def instances(self, claim, quick=False):
        m = claim.measure
        if m == "comms_to_eps":
            return [dict(instance="q1", kappas=(10.0, 100.0, 1000.0) + (() if quick else (10000.0,)))]
        if m == "comms_vs_p":
            return [dict(instance="q1", kappa=100.0, ps=(1.0, 0.5, 0.2, 0.1, 0.05) + (() if quick else (0.02,)))]
        if m == "khaled_gap":
            return [dict(instance="lg2", H=10, rounds=500 if quick else 3000)] + (
                [] if quick else [dict(H=5, rounds=2000)]
            )
        first, more = DEFAULT_INSTANCES.get(m, ([{}], []))
        return [dict(q) for q in first + ([] if quick else more)]

    # ------------------------------------------------------------------ the pipeline
    MEASURES = {
        "proxskip_lyapunov": "_lyapunov",
        "proxskip_sgd_lyapunov": "_lyapunov",
        "proxskip_one_step": "_one_step",
        "proxskip_gd_gap": "_gd_gap",
        "comms_vs_p": "_comms_vs_p",
        "lgd_floor": "_lgd_floor",
        "lgd_rounds_to_eps": "_lgd_rounds",
        "lgd_dist_fixed": "_lgd_distance",
        "lgd_dist_opt": "_lgd_distance",
        "khaled_gap": "_khaled_gap",
        "flix_constants": "_flix_constants",
        "flix_uniform_gap": "_flix_uniform_gap",
        "flix_gd_gap": "_flix_gd_gap",
    }
    DIRECT_MEASURES = {
        "comms_to_eps": "_comms_scaling",
        "lgd_floor_vs_H": "_floor_scaling",
        "flix_lgd_gap": "_flix_lgd",
    }

    def instance_params(self, p):
        return {k: p[k] for k in ("instance", "n", "d", "mu", "kappa", "m", "tau", "tau_profile")}

    def instance(self, p, seed):
        """The clients (:func:`verify.instances.local_quadratic_clients`, or ℓ2-logistic ones) and their FLIX
        weights: all ``tau`` (profile 'uniform') or uniform in [tau, 1] per client ('random')."""
        if p["instance"] == "logistic":
            return Clients(l2_logistic_clients(n=p["n"], d=p["d"], m=p["m"], lam=p["mu"], seed=seed), None)
        P = local_quadratic_clients(p["instance"], p["n"], p["d"], p["mu"], p["kappa"], seed)
        random = p["tau_profile"] == "random"
        return Clients(P, _rng(seed, "tau").uniform(p["tau"], 1.0, P.n) if random else np.full(P.n, p["tau"]))

    def prepare(self, claim, inst, p):
        """Logistic clients serve proxskip_lyapunov only; Local GD under ``hessians='identical'`` gets the mean
        Hessian; FLIX gets its exact quantities at the weights (all ``tau`` for flix_uniform_gap)."""
        m, P = claim.measure, inst.problem
        if p["instance"] == "logistic" and m != "proxskip_lyapunov":
            raise UsageError(
                f"instance='logistic' serves measure proxskip_lyapunov only (Monte Carlo), not {m!r}; "
                f"choose one of {', '.join(LOCAL_QUADRATICS)}"
            )
        if m in _LGD_MEASURES and self.settings(claim).hessians == "identical":
            return Clients(identical_hessians(P), inst.tau)
        if m in _FLIX_RUN:
            tau = np.full(P.n, p["tau"]) if m == "flix_uniform_gap" else inst.tau
            return Clients(P, tau, flix_quadratic(P.A, P.b, tau))
        return inst

    def constants(self, claim, inst, p):
        """:func:`client_constants` (logistic clients: L = max_i of certified upper bounds of L_i, mu = lambda);
        FLIX: L~, mu~ and the mean weight (flix_constants: the weights' means and minimum)."""
        P, tau = inst.problem, inst.tau
        if p["instance"] == "logistic":
            c = dict(L=float(P.L_i.max()), mu=P.mu, n=P.n, d=P.d)
            return dict(c, kappa=c["L"] / c["mu"])
        c = client_constants(P)
        if inst.flix is not None:
            c.update(L_tilde=inst.flix[2], mu_tilde=inst.flix[3], tau=float(tau.mean()))
        if claim.measure == "flix_constants":
            Li, mi = P.eigvals[:, -1], P.eigvals[:, 0]
            c.update(tau_mean=float(tau.mean()), tau_min=float(tau.min()))
            c.update(tau2L_mean=float(np.mean(tau**2 * Li)), tau2mu_mean=float(np.mean(tau**2 * mi)))
        return c

    def stepsize(self, claim, c, p):
        """The claim's rule times ``gamma_factor``; without a rule ``gamma``, else ``gamma_factor / L``.  None for
        the FLIX identities (nothing runs)."""
        if claim.measure in ("flix_constants", "flix_uniform_gap"):
            return None
        if claim.stepsize is not None:
            return claim.max_stepsize(**c) * p["gamma_factor"]
        return float(p["gamma"]) if p["gamma"] is not None else p["gamma_factor"] / c["L"]

    def solve(self, claim, inst, c, p, seed):
        """The run of each family from x_0 = x* + radius u (:func:`_start`); Monte Carlo on logistic clients.  Adds
        the constants the run fixes (p, C, eps, H, D0, Psi0, delta0)."""
        P = inst.problem
        if p["instance"] == "logistic":  # Scaffnew over coin paths, started around the certified optimum
            c["p"] = q = self._prob(claim, p, c)
            claim.check_assumptions(**c)
            xs = l2_logistic_optimum(P).x
            x0, R = _start(xs, seed, p["radius"]), p["replications"]
            rng = _rng(seed, "coins")
            return proxskip(P, x0, gamma=c["gamma"], p=q, T=p["T"], rng=rng, replications=R, x_star=xs)
        m, x0 = claim.measure, _start(P.x_star, seed, p["radius"])
        run = self._run_proxskip if m in _PS_MEASURES else self._run_local_gd if m in _LGD_MEASURES else self._run_flix
        return run(claim, inst, c, p, seed, x0)

    # ------------------------------------------------------------------ helpers
    def _prob(self, claim, p, c) -> float:
        s = self.settings(claim)
        return p["p"] if s.p is None else expr_value(s.p, c, "p")

    def _eps(self, claim, p) -> float:
        return p["eps"] if p["eps"] is not None else DEFAULT_EPS[claim.measure]

    def _ev(self, run, grid_name, grid, measured, bound, **kw):
        return Evidence(grid_name, grid, measured, bound, constants=run.constants, instance=run.p, seed=run.seed, **kw)

    @staticmethod
    def _hit(P, g, q, x0, eps, T_max, mu, factor=2.0):
        """Exact first t with E Psi_t <= eps Psi_0, searched up to ``factor`` times the rate's guarantee
        ceil(ln(1/eps)/zeta), zeta = min{gamma mu, p^2} (capped by T_max); None if not reached."""
        zeta = min(g * mu, q * q)
        psi = exact_scaffnew_lyapunov(P, g, q, x0, int(min(T_max, factor * math.ceil(math.log(1 / eps) / zeta) + 2)))
        return hitting_time(psi, eps * psi[0])

    def _rounds_to_eps(self, claim, P, c, p, x0):
        """Exact rounds to ||x_r - x*|| <= eps ||x_0 - x*|| for each H of ``Hs`` whose bound is finite (Delta_H <
        eps), capped at 4 bound + 100: (Hs, bound, rounds)."""
        c["D0"] = D0 = float(np.linalg.norm(x0 - P.x_star))
        c["eps"] = eps = self._eps(claim, p) * D0
        Hs = np.asarray(p["Hs"], dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            bound = np.asarray(claim.evaluate(H=Hs, **c), dtype=float)
        ok = np.isfinite(bound) & (bound > 0)
        if not ok.any():
            raise UsageError(
                f"lgd_rounds_to_eps: Delta_H >= eps for every H in {tuple(p['Hs'])}: lower gamma_factor or raise eps"
            )
        Hs, bound = Hs[ok], bound[ok]
        claim.check_assumptions(**dict(c, H=float(Hs.min())))
        maps = [local_gd_round_map(P.A, P.b, c["gamma"], int(h))[:2] for h in Hs]
        return (
            Hs,
            bound,
            [local_gd_rounds_to(M, v, x0, P.x_star, eps, int(4 * b + 100)) for (M, v), b in zip(maps, bound)],
        )

    def _scaling(self, claim, grid_name, x, y, c, p, seed, head=(), **kw):
        """Evidence of a scaling claim: the log-log fit of y against x at the setting's confidence, and the line of
        the predicted exponent through the first point as the bound."""
        s = self.settings(claim)
        fit = loglog_fit(x, y, confidence=float(s.confidence))
        pred = claim.predicted_exponent(**c)
        const = dict(head, scaling_mode=s.scaling_mode, exponent_tolerance=float(s.exponent_tolerance))
        const.update(fitted_exponent=fit.slope, fit_low=fit.interval[0], fit_high=fit.interval[1])
        bound = y[0] * (x / x[0]) ** pred
        ev = dict(method="fit", fit=fit, predicted_exponent=pred, constants=const, instance=p, seed=seed)
        return Evidence(grid_name, x, y, bound, **ev, **kw)

    # ------------------------------------------------------------------ ProxSkip
    def _run_proxskip(self, claim, inst, c, p, seed, x0):
        """Exact E Psi_t (with gradient noise for proxskip_sgd_lyapunov), the one-step second moment, Scaffnew at
        p = 1 beside GD, or the exact expected communications over ``ps``."""
        m, P, g = claim.measure, inst.problem, c["gamma"]
        if m in ("proxskip_lyapunov", "proxskip_sgd_lyapunov", "proxskip_one_step"):
            c["p"] = q = self._prob(claim, p, c)
            noise = p["noise"] if m == "proxskip_sgd_lyapunov" else 0.0
            if m == "proxskip_sgd_lyapunov":
                c["C"] = P.n * P.d * noise**2
            claim.check_assumptions(**c)
            if m == "proxskip_one_step":
                lam = shared_eigenbasis(P.A) if 2 * P.n * P.d > DENSE_STATE else None
                return proxskip_one_step_moment(P.A, g, q, lam)
            h0 = None if p["h0"] == "zero" else _rng(seed, "h0").standard_normal((P.n, P.d))
            psi = exact_scaffnew_lyapunov(P, g, q, x0, p["T"], h0=h0, noise=noise)
            c["Psi0"] = float(psi[0])
            return psi
        if m == "proxskip_gd_gap":
            c["p"] = 1.0
            s = self.settings(claim)
            c["gd_stepsize"] = g_gd = g if s.gd_stepsize is None else expr_value(s.gd_stepsize, c, "gd_stepsize")
            h0 = _rng(seed, "h0").standard_normal((P.n, P.d))  # any h_0: p = 1 ignores it
            tr = proxskip(P, x0, gamma=g, p=1.0, T=p["T"], rng=np.random.default_rng(seed), h0=h0)
            return tr.x_mean[0], gd_quadratic(P.A_bar, P.b_bar, x0, gamma=g_gd, T=p["T"])
        c["eps"] = eps = self._eps(claim, p)  # comms_vs_p
        out = []
        for q in np.asarray(p["ps"], dtype=float):
            claim.check_assumptions(**dict(c, p=q))
            t = self._hit(P, g, q, x0, eps, p["T_max"], c["mu"], factor=1.0)  # a later hit violates the bound
            out.append(np.inf if t is None else q * t)
        return out

    def _lyapunov(self, claim, run):
        c, T = run.constants, run.p["T"]
        if run.p["instance"] == "logistic":  # Monte Carlo over the coin paths
            c["Psi0"] = float(run.result.lyapunov[0, 0])
            grid = np.unique(np.geomspace(1, T, MC_GRID_POINTS).astype(int))
            mean, se, R = mc_summary(run.result.lyapunov[:, grid])
            note = "l2-logistic clients: Monte Carlo over coin paths, L = max_i of certified upper bounds of L_i"
            bound = claim.evaluate(T=grid, **c)
            return self._ev(run, "T", grid, mean, bound, method="monte-carlo", stderr=se, n_samples=R, note=note)
        t = np.arange(1, T + 1)
        kw = {}
        if claim.measure == "proxskip_sgd_lyapunov":
            kw["note"] = (
                "stochastic gradients grad f_i + xi_i, xi_i ~ N(0, noise^2 I): the noise covariance enters the "
                "exact second-moment recursion"
            )
        return self._ev(run, "T", t, run.result[1:], claim.evaluate(T=t, **c), method="exact-expectation", **kw)

    def _one_step(self, claim, run):
        """The largest generalized eigenvalue of the exact conditional second moment Q against the claimed form."""
        c, (Q, N) = run.constants, run.result
        ce = float(claim.evaluate(**dict(c, E2=1.0, G2=0.0)))
        cg = float(claim.evaluate(**dict(c, E2=0.0, G2=1.0)))
        lam = generalized_max_eig(Q, np.r_[np.full(N, ce), np.full(N, cg)])
        c.update(coef_e=ce, coef_g=cg)
        note = "largest eigenvalue of D^(-1/2) Q D^(-1/2), Q the exact conditional second moment of Psi"
        return self._ev(run, "state", [0.0], [lam], [1.0], method="exact-expectation", note=note)

    def _gd_gap(self, claim, run):
        (xm, x), t = run.result, np.arange(1, run.p["T"] + 1)
        with np.errstate(over="ignore", invalid="ignore"):
            gap = np.linalg.norm(xm[1:] - x[1:], axis=1) / np.linalg.norm(x[0] - run.instance.problem.x_star)
        return self._ev(run, "T", t, np.nan_to_num(gap, nan=np.inf), np.zeros(t.size), atol=1e-12)

    def _comms_scaling(self, claim, p, seed):
        """Expected communications q T_eps of Scaffnew (exact) and GD's T_eps (1/L_f) over ``kappas``; the setting
        ``algorithm`` names the one fitted."""
        kappas, eps = np.asarray(p["kappas"], dtype=float), self._eps(claim, p)
        ps_c, gd_c, bounds, c = [], [], [], {}
        for kap in kappas:
            q = dict(p, kappa=float(kap))
            inst = self.prepare(claim, self.cached_instance(q, seed), q)
            P, c = inst.problem, self.constants(claim, inst, q)
            x0 = _start(P.x_star, seed)
            c["gamma"] = g = self.stepsize(claim, c, q)
            c["p"] = pr = self._prob(claim, p, c)
            c["eps"] = eps
            claim.check_assumptions(**c)
            t = self._hit(P, g, pr, x0, eps, p["T_max"], c["mu"])
            ps_c.append(np.inf if t is None else pr * t)
            tg = gd_hitting_time(P.A_bar, x0 - P.x_star, 1 / c["L_f"], eps, p["T_max"])
            gd_c.append(np.inf if tg is None else float(tg))
            bounds.append(math.sqrt(c["kappa"]) * math.log(1 / eps) + 1)
        ps_c, gd_c = np.array(ps_c), np.array(gd_c)
        y = ps_c if self.settings(claim).algorithm == "proxskip" else gd_c
        if not np.all(np.isfinite(y)):
            raise UsageError(f"comms_to_eps: eps={eps:g} not reached within T_max={p['T_max']} iterations; raise T_max")
        pslope, gslope = loglog_fit(kappas, ps_c).slope, loglog_fit(kappas, gd_c).slope
        note = f"{self.settings(claim).algorithm} fitted; ProxSkip slope {pslope:.3f}, GD slope {gslope:.3f}"
        series = {"proxskip": ps_c, "gd": gd_c, "proxskip_bound": np.array(bounds)}
        ev = self._scaling(claim, "kappa", kappas, y, c, p, seed, series=series, note=note)
        ev.constants.update(eps=eps, r2=ev.fit.r2, proxskip_slope=pslope, gd_slope=gslope)
        return ev

    def _comms_vs_p(self, claim, run):
        c, ps = run.constants, np.asarray(run.p["ps"], dtype=float)
        bound = claim.evaluate(p=ps, **c)
        c["p_star"] = math.sqrt(c["gamma"] * c["mu"])
        return self._ev(run, "p", ps, run.result, bound, method="exact-expectation")

    # ------------------------------------------------------------------ Local GD
    def _run_local_gd(self, claim, inst, c, p, seed, x0):
        """The exact floors over ``Hs``, the exact rounds to eps over ``Hs``, or a Local GD run."""
        m, P, g = claim.measure, inst.problem, c["gamma"]
        if m == "lgd_floor":
            return local_gd_floors(P.A, P.b, g, np.asarray(p["Hs"]), P.x_star)
        if m == "lgd_rounds_to_eps":
            return self._rounds_to_eps(claim, P, c, p, x0)
        c["H"], c["D0"] = p["H"], float(np.linalg.norm(x0 - P.x_star))
        claim.check_assumptions(**c)
        return local_gd(P, x0, gamma=g, T=p["rounds"], H=p["H"])

    def _lgd_floor(self, claim, run):
        Hs, xs = np.asarray(run.p["Hs"]), run.instance.problem.x_star
        return self._ev(run, "H", Hs, run.result / (1 + np.linalg.norm(xs)), np.zeros(Hs.size), atol=1e-12)

    def _lgd_rounds(self, claim, run):
        Hs, bound, rounds = run.result
        return self._ev(run, "H", Hs, rounds, bound, note="only H with Delta_H < eps (where the bound is finite)")

    def _lgd_distance(self, claim, run):
        """||x_r - x_inf|| (lgd_dist_fixed) or ||x_r - x*|| at the rounds before x_r reaches x_inf to float
        resolution."""
        c, P, x = run.constants, run.instance.problem, run.result.x
        x_inf = local_gd_round_map(P.A, P.b, c["gamma"], c["H"])[2]
        c["floor"] = float(np.linalg.norm(x_inf - P.x_star))
        to_fixed = np.linalg.norm(x[1:] - x_inf, axis=1)
        keep = to_fixed >= 1e-12 * (1 + np.linalg.norm(x_inf))  # beyond: converged to float resolution
        keep[0] = True
        r = np.arange(1, run.p["rounds"] + 1)[keep]
        if claim.measure == "lgd_dist_fixed":
            c["Dinf0"] = float(np.linalg.norm(x[0] - x_inf))
            meas = to_fixed[keep]
        else:
            meas = np.linalg.norm(x[1:] - P.x_star, axis=1)[keep]
        note = "r while ||x_r - x_inf|| >= 1e-12 (1 + ||x_inf||)"
        return self._ev(run, "r", r, meas, claim.evaluate(r=r, **c), note=note)

    def _khaled_gap(self, claim, run):
        """f-bar - f* at the running averages of the virtual iterates, at the synchronisation points T = H r."""
        c, P = run.constants, run.instance.problem
        T = c["H"] * np.arange(1, run.p["rounds"] + 1)
        e = np.cumsum(run.result.virtual, axis=0)[T - 1] / T[:, None] - P.x_star
        gap = 0.5 * np.einsum("ti,ij,tj->t", e, P.A_bar, e)  # f-bar(x) - f* for a quadratic
        return self._ev(run, "T", T, gap, claim.evaluate(T=T, **c))

    def _floor_scaling(self, claim, p, seed):
        """Exact floor ||x_inf - x*|| against H - 1 over the H >= 2 of ``Hs`` (log-log fit)."""
        inst = self.prepare(claim, self.cached_instance(p, seed), p)
        P = inst.problem
        c = self.constants(claim, inst, p)
        g = self.stepsize(claim, c, p)
        Hs = np.asarray([h for h in p["Hs"] if h >= 2], dtype=float)
        if Hs.size < 3:
            raise UsageError("lgd_floor_vs_H needs at least 3 values H >= 2 in Hs")
        fl = local_gd_floors(P.A, P.b, g, Hs, P.x_star)
        if not np.all(fl > 0):
            raise UsageError("lgd_floor_vs_H: the floor is 0 (identical Hessians): no law to fit")
        return self._scaling(claim, "H - 1", Hs - 1, fl, c, p, seed, head=dict(gamma=g))

    # ------------------------------------------------------------------ FLIX
    def _run_flix(self, claim, inst, c, p, seed, x0):
        """GD on FLIX (flix_gd_gap), or f~ - f~* at 8 random points x* + N(0, I) (flix_uniform_gap)."""
        m, P, tau = claim.measure, inst.problem, inst.tau
        if m == "flix_constants":
            return None  # the constants are the measure
        xl, _, _, _, xt = inst.flix
        ft_star = float(flix_value(P.A, P.b, tau, xl, xt[None])[0])
        if m == "flix_gd_gap":
            c["delta0"] = float(flix_value(P.A, P.b, tau, xl, x0[None])[0] - ft_star)
            claim.check_assumptions(**c)
            return flix_gd(P, x0, gamma=c["gamma"], T=p["T"], tau=tau, x_local=xl)
        X = P.x_star + _rng(seed, "points").standard_normal((8, P.d))  # flix_uniform_gap
        return X, flix_value(P.A, P.b, tau, xl, X) - ft_star

    def _flix_constants(self, claim, run):
        c, Lt, mt = run.constants, run.constants["L_tilde"], run.constants["mu_tilde"]
        bound = claim.evaluate(u_L=np.array([1.0, 0.0]), u_mu=np.array([0.0, 1.0]), **c)
        return self._ev(run, "entry", [0.0, 1.0], [Lt, 1 / mt], bound, note="entry 0: L~, entry 1: 1/mu~")

    def _flix_uniform_gap(self, claim, run):
        """Relative deviation of f~ - f~* from scale (f - f*) at 8 random points, then ||x~* - x*|| / (1 + ||x*||)."""
        c, P, (X, ftilde_gap) = run.constants, run.instance.problem, run.result
        scale = expr_value(self.settings(claim).scale, c, "scale")
        E = X - P.x_star
        fgap = 0.5 * np.einsum("ki,ij,kj->k", E, P.A_bar, E)
        dev = np.abs(ftilde_gap - scale * fgap) / fgap
        dist = np.linalg.norm(run.instance.flix[4] - P.x_star) / (1 + np.linalg.norm(P.x_star))
        c["scale"] = scale
        note = "points 0..7: relative deviation of f~ - f~* from scale (f - f*); point 8: ||x~* - x*||/(1+||x*||)"
        return self._ev(run, "point", np.arange(9.0), np.r_[dev, dist], np.zeros(9), atol=1e-10, note=note)

    def _flix_gd_gap(self, claim, run):
        c, (_, At, _, _, xt) = run.constants, run.instance.flix
        E = run.result.x[1:] - xt
        gap = 0.5 * np.einsum("ti,ij,tj->t", E, At, E)  # f~(x) - f~* exactly (quadratic), relative precision
        keep = gap >= 1e-24 * c["delta0"]  # below: rounding noise of the iterates, no evidence either way
        keep[0] = True
        t = np.arange(1, run.p["T"] + 1)[keep]
        note = "t while f~(x_t) - f~* >= 1e-24 delta0"
        return self._ev(run, "T", t, gap[keep], claim.evaluate(T=t, **c), note=note)

    def _flix_lgd(self, claim, p, seed):
        """||x_inf(Local GD) - x~*(w)|| / (1 + ||x~*||) over ``Hs`` on isotropic clients, w the weights of the
        setting ``tau_rule``."""
        q = dict(p, instance="isotropic")
        P = self.cached_instance(q, seed).problem
        c = client_constants(P)
        c["gamma"] = g = self.stepsize(claim, c, p)
        rule, Hs, meas = self.settings(claim).tau_rule, np.asarray(p["Hs"]), []
        for h in Hs:
            x_inf = local_gd_round_map(P.A, P.b, g, int(h))[2]
            w = flix_local_gd_weights(P.A[:, 0, 0], g, h, rule)
            _, _, Lt, mt, xt = flix_quadratic(P.A, P.b, w)
            meas.append(np.linalg.norm(x_inf - xt) / (1 + np.linalg.norm(xt)))
        c.update(L_tilde=Lt, mu_tilde=mt, tau=float(w.mean()))
        ev = dict(constants=c, instance=q, seed=seed, atol=1e-12, note=f"tau_rule={rule}")
        return Evidence("H", Hs, meas, np.zeros(Hs.size), **ev)


EXPERIMENT = register(LocalMethodsExperiment())
