r"""Local-update methods: ProxSkip/Scaffnew, Local GD and FLIX on quadratic clients with exact constants.

Measures (``ratecheck describe local_methods``):

* ProxSkip/Scaffnew — ``proxskip_lyapunov`` (:math:`\mathbb E\Psi_t`, exact second moments over the two coin
  outcomes per step, :func:`verify.expectation.exact_linear_second_moments` on the state
  :math:`(x-x^\star,h-h^\star)\in\mathbb R^{2nd}`), ``proxskip_one_step`` (largest generalized eigenvalue of the
  exact conditional second moment against the claimed one-step form), ``proxskip_gd_gap`` (p = 1 against GD),
  ``comms_to_eps`` (expected communications to :math:`\varepsilon` against κ on the fair family Q1(κ), with GD
  alongside), ``comms_vs_p`` and ``proxskip_sgd_lyapunov`` (:math:`\mathbb E\Psi_t` with stochastic gradients
  :math:`\nabla f_i+\xi_i`, :math:`\xi_i\sim\mathcal N(0,\sigma^2I)`: the additive noise adds a constant
  covariance to the second-moment recursion, so the expectation stays exact);
* Local GD — ``lgd_dist_fixed``, ``lgd_dist_opt``, ``lgd_floor``, ``lgd_floor_vs_H``, ``lgd_rounds_to_eps``,
  ``khaled_gap`` (deterministic; the fixed point from the exact round map);
* FLIX — ``flix_constants``, ``flix_uniform_gap``, ``flix_gd_gap``, ``flix_lgd_gap`` (deterministic).

Instances (parameter ``instance``), all with exact constants (per-client :math:`L=\max_iL_i`,
:math:`\mu=\min_i\mu_i`, :math:`\mu_f=\lambda_{\min}(\bar A)`):

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

import numpy as np
import sympy as sp

from ratecheck.solvers.local_methods import (
    flix_gd,
    flix_quadratic,
    local_gd,
    local_gd_round_map,
    proxskip,
    proxskip_coordinate_operators,
    proxskip_maps,
    proxskip_noise_covs,
    proxskip_operators,
)
from ratecheck.solvers.problems import QuadraticClients

from ..errors import UsageError
from ..expectation import exact_linear_second_moments, exact_scaffnew_coordinates, mc_summary
from ..fit import loglog_fit
from ..instances import l2_logistic_clients
from ..optima import l2_logistic_optimum
from ..resources import Need
from ..schema import Choice, Constant, Custom, Float, Int, Measure, Schema, Setting, json_list
from ..verdict import Evidence
from . import Experiment, register

INSTANCES = ("q1", "rotated", "diagonal", "lg0", "lg2", "isotropic", "logistic")
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
_FLIX_MEASURES = ("flix_constants", "flix_uniform_gap", "flix_gd_gap", "flix_lgd_gap")
_RATE_RULE = "at least 3 distinct finite values"
DEFAULT_EPS = {"comms_to_eps": 1e-6, "comms_vs_p": 1e-6, "lgd_rounds_to_eps": 0.05}


def _values(low: float, integer: bool = False):
    def check(v):
        a = np.asarray(v, dtype=float) if np.ndim(v) == 1 else np.array([])
        if a.size < 3 or np.any(~np.isfinite(a)) or np.any(a < low) or np.unique(a).size < 3:
            raise ValueError
        if integer and np.any(a != np.round(a)):
            raise ValueError
        return tuple(int(x) if integer else float(x) for x in v)

    return check


def _expr_value(expr, constants: dict, what: str) -> float:
    e = sp.sympify(expr)
    missing = sorted(s.name for s in e.free_symbols if s.name not in constants)
    if missing:
        raise UsageError(f"setting {what!r} needs a value for {', '.join(missing)}")
    return float(e.subs({s: constants[s.name] for s in e.free_symbols}))


# --------------------------------------------------------------------------- instances
def _spectra(rng, n: int, d: int, mu: float, L: float, shared_floor: bool = False) -> np.ndarray:
    """Client spectra in [mu, L], log-uniform, with client 0 pinned to both ends (exact mu_min = mu, L_max = L)."""
    lam = np.exp(rng.uniform(math.log(mu), math.log(L), (n, d)))
    lam[0, 0], lam[0, -1] = mu, L
    if shared_floor:
        lam[:, 0] = mu  # every client has curvature mu along e_1 (the slowest mode is shared)
    if d == 1:
        lam[0, 0] = mu
        lam[min(1, n - 1), 0] = L
    return lam


def build_clients(p: dict, seed: int, kappa: float | None = None) -> QuadraticClients:
    """The quadratic clients described by the instance parameters (``kappa`` overrides ``p['kappa']``)."""
    kind, n, d, mu = p["instance"], p["n"], p["d"], p["mu"]
    kap = p["kappa"] if kappa is None else kappa
    L = kap * mu
    rng = np.random.default_rng([seed, 7])
    if kind == "q1":
        A = np.array([np.diag([kap, 1.0]), np.diag([kap / 2, 2.0])]) * mu
        b = np.array([[1.0, -2.0], [-1.0, 3.0]])
        return QuadraticClients(A, b)
    if kind == "lg2":
        A = np.array([np.diag([10.0, 1.0]), np.diag([1.0, 10.0]), 3 * np.eye(2)])
        b = np.array([[5.0, -1.0], [-2.0, 4.0], [0.0, -3.0]])
        return QuadraticClients(A, b)
    if kind == "isotropic":
        a = np.geomspace(mu, L, n)
        A = a[:, None, None] * np.eye(d)
        c = rng.standard_normal((n, d))
        return QuadraticClients(A, a[:, None] * c)
    lam = _spectra(rng, n, d, mu, L, shared_floor=kind == "diagonal")
    if kind == "diagonal":
        A = lam[:, :, None] * np.eye(d)
    else:
        U = np.linalg.qr(rng.standard_normal((n, d, d)))[0]
        A = np.einsum("nij,nj,nkj->nik", U, lam, U)
        if kind == "lg0":
            A = np.broadcast_to(A.mean(axis=0), (n, d, d)).copy()
    b = np.einsum("nij,nj->ni", A, rng.standard_normal((n, d)))  # x_i* = N(0, I): heterogeneous optima
    return QuadraticClients(A, b)


def identical(problem: QuadraticClients) -> QuadraticClients:
    """The same clients with every Hessian replaced by their mean (heterogeneous b_i kept)."""
    A = np.broadcast_to(problem.A_bar, problem.A.shape).copy()
    return QuadraticClients(A, problem.b)


def client_constants(P: QuadraticClients) -> dict:
    g = np.einsum("nij,j->ni", P.A, P.x_star) - P.b
    gn = np.linalg.norm(g, axis=1)
    return dict(
        L=P.L_max,
        mu=P.mu,
        mu_f=P.mu_f,
        L_f=P.L,
        kappa=P.L_max / P.mu,
        kappa_f=P.L / P.mu_f,
        sigma2=float(np.mean(gn**2)),
        sigma_bar=float(np.mean(gn)),
        n=P.n,
        d=P.d,
    )


def _unit(d: int, seed: int) -> np.ndarray:
    v = np.random.default_rng([seed, 1]).standard_normal(d)
    return v / np.linalg.norm(v)


def _x0(P, seed: int, radius: float = 1.0) -> np.ndarray:
    return P.x_star + radius * _unit(P.d, seed)


def _tau(p: dict, n: int, seed: int) -> np.ndarray:
    if p["tau_profile"] == "uniform":
        return np.full(n, p["tau"])
    return np.random.default_rng([seed, 3]).uniform(p["tau"], 1.0, n)


# --------------------------------------------------------------------------- exact ProxSkip moments
#: state dimension 2nd up to which the exact engine uses the dense maps (the structured ones pay Python calls per
#: step, which dominate on small states: dense is faster up to 2nd = 96 at least, 3.5x slower at 200)
DENSE_STATE = 128


def shared_eigenbasis(P: QuadraticClients) -> np.ndarray | None:
    """The clients' eigenvalues (d, n) when every Hessian is diagonal (a shared eigenbasis, the coordinates), else
    None."""
    lam = np.diagonal(P.A, axis1=1, axis2=2)
    return lam.T.copy() if np.array_equal(P.A, lam[:, :, None] * np.eye(P.d)) else None


def proxskip_engine(n: int, d: int, instance: str) -> str:
    """The exact ProxSkip engine a run uses: ``"dense"`` maps for small states (2nd <= ``DENSE_STATE``),
    ``"coordinates"`` (:func:`verify.expectation.exact_scaffnew_coordinates`, O(d n^2) per step) for a shared
    eigenbasis, else ``"structured"`` maps (O(n d^2) per column of the (2nd)^2 second moment)."""
    if 2 * n * d <= DENSE_STATE:
        return "dense"
    return "coordinates" if instance in ("diagonal", "isotropic") else "structured"


def proxskip_exact(P: QuadraticClients, gamma: float, prob: float, x0, T: int, h0=None, noise: float = 0.0):
    r"""Exact :math:`\mathbb E\Psi_t`, t = 0..T, of Scaffnew on quadratic clients (two outcomes per step); with
    ``noise`` = σ > 0 the gradients carry additive :math:`\mathcal N(0,\sigma^2I)` noise per client (its
    covariance enters the recursion: :func:`ratecheck.solvers.local_methods.proxskip_noise_covs`)."""
    n, d = P.n, P.d
    hs = np.einsum("nij,j->ni", P.A, P.x_star) - P.b
    h0 = np.zeros((n, d)) if h0 is None else h0
    lam = shared_eigenbasis(P) if 2 * n * d > DENSE_STATE else None
    if lam is not None:  # a shared eigenbasis: d decoupled systems, O(n^2) each per step
        e0 = np.broadcast_to((x0 - P.x_star)[:, None], (d, n))
        psi = exact_scaffnew_coordinates(lam, gamma, prob, e0, (h0 - hs).T, T, noise_var=noise**2 if noise else None)
    elif noise and 2 * n * d > DENSE_STATE:
        raise UsageError(
            f"noise > 0 needs the dense engine (2 n d <= {DENSE_STATE}, here {2 * n * d}) or a shared eigenbasis "
            "(instance 'diagonal' or 'isotropic'); choose a smaller n or d or one of those instances"
        )
    else:
        if 2 * n * d <= DENSE_STATE:  # small states: the dense maps cost less than calling the structured ones
            maps = np.stack(proxskip_maps(P.A, gamma, prob))
        else:  # the two maps applied with their structure: O(n d^2) per column
            maps = list(proxskip_operators(P.A, gamma, prob))
        z0 = np.r_[np.tile(x0 - P.x_star, n), (h0 - hs).ravel()]
        W = np.r_[np.ones(n * d), np.full(n * d, gamma**2 / prob**2)]
        covs = proxskip_noise_covs(n, d, gamma, prob, noise) if noise else None
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            psi = exact_linear_second_moments(maps, [1 - prob, prob], z0, T, {"psi": np.diag(W)}, noise_covs=covs)[
                "psi"
            ]
    bad = ~np.isfinite(psi)
    if bad.any():
        psi[np.argmax(bad) :] = np.inf
    return psi


def hitting_time(series: np.ndarray, target: float) -> int | None:
    """First index t >= 1 with series[t] <= target (None if never)."""
    hit = np.nonzero(series[1:] <= target)[0]
    return int(hit[0]) + 1 if hit.size else None


def gd_hitting_time(P: QuadraticClients, gamma: float, x0, eps: float, T_max: int) -> int | None:
    r"""First t with :math:`\Vert x_t-x^\star\Vert^2\le\varepsilon\Vert x_0-x^\star\Vert^2` for GD on
    :math:`\bar f` (closed form in the eigenbasis of :math:`\bar A`)."""
    lam, U = np.linalg.eigh(P.A_bar)
    c2 = (U.T @ (x0 - P.x_star)) ** 2
    q2 = (1 - gamma * lam) ** 2
    target = eps * c2.sum()
    t0, chunk = 1, 1024
    while t0 <= T_max:
        t = np.arange(t0, min(t0 + chunk, T_max + 1))
        vals = np.exp(np.log(np.maximum(q2, 1e-300))[None, :] * t[:, None]) @ c2
        hit = np.nonzero(vals <= target)[0]
        if hit.size:
            return int(t[hit[0]])
        t0 += chunk
        chunk *= 2
    return None


# --------------------------------------------------------------------------- the experiment
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
        if m == "proxskip_lyapunov":
            out = [dict(instance="q1", kappa=10.0, p=0.05, T=300), dict(p=0.3, T=150), dict(p=1.0, T=60)]
            if not quick:
                out += [
                    dict(instance="diagonal", n=4, d=3, p=0.1, T=400),
                    dict(kappa=10.0, p=0.5, T=200),
                    dict(instance="logistic", n=5, d=3, mu=0.1, p=0.3, T=100, replications=1000),
                ]
            return out
        if m == "proxskip_sgd_lyapunov":
            out = [dict(instance="q1", kappa=10.0, p=0.05, T=400, noise=0.1), dict(p=0.3, T=200, noise=1.0)]
            if not quick:
                out += [dict(instance="diagonal", n=10, d=50, p=0.1, T=600, noise=0.3), dict(p=1.0, T=100)]
            return out
        if m == "proxskip_one_step":
            out = [dict(p=0.3), dict(instance="q1", kappa=100.0, p=0.05)]
            if not quick:
                out += [dict(instance="diagonal", n=5, d=3, p=0.7, gamma_factor=0.5)]
            return out
        if m == "proxskip_gd_gap":
            return [dict(T=50), dict(instance="q1", kappa=100.0, T=50)]
        if m == "comms_to_eps":
            if quick:
                return [dict(instance="q1", kappas=(10.0, 100.0, 1000.0))]
            return [dict(instance="q1", kappas=(10.0, 100.0, 1000.0, 10000.0))]
        if m == "comms_vs_p":
            return [
                dict(
                    instance="q1",
                    kappa=100.0,
                    ps=(1.0, 0.5, 0.2, 0.1, 0.05) if quick else (1.0, 0.5, 0.2, 0.1, 0.05, 0.02),
                )
            ]
        if m in ("lgd_dist_fixed", "lgd_dist_opt"):
            out = [
                dict(instance="lg2", H=20, gamma_factor=0.1, rounds=60),
                dict(instance="lg2", H=5, radius=1e3, rounds=40),
                dict(H=10, rounds=40),
            ]
            if not quick:
                out += [dict(instance="diagonal", n=5, d=4, H=20, rounds=40, gamma_factor=0.5)]
            return out
        if m == "lgd_floor":
            return [dict(), dict(instance="lg2")]
        if m == "lgd_floor_vs_H":
            return [dict(instance="lg2", gamma=0.002)]
        if m == "lgd_rounds_to_eps":
            return [dict(instance="lg2", gamma_factor=0.1, radius=1e3, Hs=(1, 2, 3, 5, 9))]
        if m == "khaled_gap":
            out = [dict(instance="lg2", H=10, rounds=500 if quick else 3000)]
            if not quick:
                out += [dict(H=5, rounds=2000)]
            return out
        if m == "flix_constants":
            return [dict(tau_profile="random", tau=0.1), dict(instance="q1", kappa=100.0, tau=0.5)]
        if m == "flix_uniform_gap":
            return [dict(tau=0.3), dict(instance="q1", kappa=100.0, tau=0.7)]
        if m == "flix_gd_gap":
            out = [dict(tau=0.5, T=100), dict(instance="q1", kappa=50.0, tau=0.1, T=200)]
            if not quick:
                out += [dict(tau_profile="random", tau=0.2, T=300)]
            return out
        if m == "flix_lgd_gap":
            return [dict(instance="isotropic", n=4, d=2, kappa=50.0, gamma_factor=0.5)]
        return [dict()]

    # ------------------------------------------------------------------ helpers
    def _gamma(self, claim, p, c) -> float:
        if claim.stepsize is not None:
            return claim.max_stepsize(**c) * p["gamma_factor"]
        if p["gamma"] is not None:
            return float(p["gamma"])
        return p["gamma_factor"] / c["L"]

    def _prob(self, claim, p, c) -> float:
        s = self.settings(claim)
        return p["p"] if s.p is None else _expr_value(s.p, c, "p")

    def _eps(self, claim, p) -> float:
        return p["eps"] if p["eps"] is not None else DEFAULT_EPS[claim.measure]

    def _ev(self, grid_name, grid, measured, bound, c, p, seed, **kw):
        return Evidence(grid_name, grid, measured, bound, constants=c, instance=p, seed=seed, **kw)

    # ------------------------------------------------------------------ run
    def run(self, claim, p, seed=0):
        m = claim.measure
        if m not in self.measures:
            raise UsageError(f"experiment 'local_methods' cannot measure {m!r}; it measures {', '.join(self.measures)}")
        if m == "comms_to_eps":
            return self._comms_scaling(claim, p, seed)
        if m == "lgd_floor_vs_H":
            return self._floor_scaling(claim, p, seed)
        if m == "flix_lgd_gap":
            return self._flix_lgd(claim, p, seed)
        if p["instance"] == "logistic":
            if m != "proxskip_lyapunov":
                raise UsageError(
                    f"instance='logistic' serves measure proxskip_lyapunov only (Monte Carlo), not {m!r}; "
                    f"choose one of {', '.join(i for i in INSTANCES if i != 'logistic')}"
                )
            return self._proxskip_monte_carlo(claim, p, seed)
        P = build_clients(p, seed)
        if m in _LGD_MEASURES and self.settings(claim).hessians == "identical":
            P = identical(P)
        c = client_constants(P)
        x0 = _x0(P, seed, p["radius"])
        if m in _PS_MEASURES:
            return getattr(self, "_" + m)(claim, p, seed, P, c, x0)
        if m in _LGD_MEASURES:
            return self._local_gd(claim, p, seed, P, c, x0)
        return self._flix(claim, p, seed, P, c, x0)

    # ------------------------------------------------------------------ ProxSkip
    def _proxskip_lyapunov(self, claim, p, seed, P, c, x0):
        c["gamma"] = g = self._gamma(claim, p, c)
        c["p"] = q = self._prob(claim, p, c)
        claim.check_assumptions(**c)
        h0 = None if p["h0"] == "zero" else np.random.default_rng([seed, 2]).standard_normal((P.n, P.d))
        psi = proxskip_exact(P, g, q, x0, p["T"], h0=h0)
        c["Psi0"] = float(psi[0])
        t = np.arange(1, p["T"] + 1)
        return self._ev("T", t, psi[1:], claim.evaluate(T=t, **c), c, p, seed, method="exact-expectation")

    def _proxskip_sgd_lyapunov(self, claim, p, seed, P, c, x0):
        c["gamma"] = g = self._gamma(claim, p, c)
        c["p"] = q = self._prob(claim, p, c)
        c["C"] = P.n * P.d * p["noise"] ** 2
        claim.check_assumptions(**c)
        h0 = None if p["h0"] == "zero" else np.random.default_rng([seed, 2]).standard_normal((P.n, P.d))
        psi = proxskip_exact(P, g, q, x0, p["T"], h0=h0, noise=p["noise"])
        c["Psi0"] = float(psi[0])
        t = np.arange(1, p["T"] + 1)
        return self._ev(
            "T",
            t,
            psi[1:],
            claim.evaluate(T=t, **c),
            c,
            p,
            seed,
            method="exact-expectation",
            note="stochastic gradients grad f_i + xi_i, xi_i ~ N(0, noise^2 I): the noise covariance enters the "
            "exact second-moment recursion",
        )

    def _proxskip_monte_carlo(self, claim, p, seed):
        """E Psi_t of Scaffnew on l2-logistic clients by Monte Carlo over the coin paths (no exact moments)."""
        P = l2_logistic_clients(n=p["n"], d=p["d"], m=p["m"], lam=p["mu"], seed=seed)
        xs = l2_logistic_optimum(P).x
        c = dict(L=float(P.L_i.max()), mu=P.mu, n=P.n, d=P.d)
        c["kappa"] = c["L"] / c["mu"]
        c["gamma"] = g = self._gamma(claim, p, c)
        c["p"] = q = self._prob(claim, p, c)
        claim.check_assumptions(**c)
        x0 = xs + p["radius"] * _unit(P.d, seed)
        tr = proxskip(
            P,
            x0,
            gamma=g,
            p=q,
            T=p["T"],
            rng=np.random.default_rng([seed, 5]),
            replications=p["replications"],
            x_star=xs,
        )
        c["Psi0"] = float(tr.lyapunov[0, 0])
        grid = np.unique(np.geomspace(1, p["T"], MC_GRID_POINTS).astype(int))
        mean, se, R = mc_summary(tr.lyapunov[:, grid])
        return self._ev(
            "T",
            grid,
            mean,
            claim.evaluate(T=grid, **c),
            c,
            p,
            seed,
            method="monte-carlo",
            stderr=se,
            n_samples=R,
            note="l2-logistic clients: Monte Carlo over coin paths, L = max_i of certified upper bounds of L_i",
        )

    def _proxskip_one_step(self, claim, p, seed, P, c, x0):
        c["gamma"] = g = self._gamma(claim, p, c)
        c["p"] = q = self._prob(claim, p, c)
        claim.check_assumptions(**c)
        lam_c = shared_eigenbasis(P) if 2 * P.n * P.d > DENSE_STATE else None
        if lam_c is None:  # the full state's maps (2nd x 2nd)
            M0, M1 = proxskip_maps(P.A, g, q)
            N = P.n * P.d
        else:  # a shared eigenbasis: Q is block diagonal, one 2n x 2n block per coordinate
            skip, communicate = proxskip_coordinate_operators(lam_c.T, g, q)
            eye = np.broadcast_to(np.eye(2 * P.n), (P.d, 2 * P.n, 2 * P.n))
            M0, M1 = skip(eye), communicate(eye)
            N = P.n
        W = np.r_[np.ones(N), np.full(N, g**2 / q**2)]
        MT = np.swapaxes
        Q = (1 - q) * MT(M0, -1, -2) @ (W[:, None] * M0) + q * MT(M1, -1, -2) @ (W[:, None] * M1)
        ce = float(claim.evaluate(**dict(c, E2=1.0, G2=0.0)))
        cg = float(claim.evaluate(**dict(c, E2=0.0, G2=1.0)))
        lam = self._generalized_max_eig(Q, np.r_[np.full(N, ce), np.full(N, cg)])
        c.update(coef_e=ce, coef_g=cg)
        return self._ev(
            "state",
            [0.0],
            [lam],
            [1.0],
            c,
            p,
            seed,
            method="exact-expectation",
            note="largest eigenvalue of D^(-1/2) Q D^(-1/2), Q the exact conditional second moment of Psi",
        )

    @staticmethod
    def _generalized_max_eig(Q, D) -> float:
        r"""Largest :math:`\lambda` with :math:`z^\top Qz=\lambda z^\top Dz` for a diagonal form D >= 0: the bound
        :math:`z^\top Qz\le z^\top Dz` for every z holds iff this is <= 1.  Where D vanishes (p = 1 leaves no
        weight on h), Q must vanish too (else inf); a negative entry of D cannot dominate Q >= 0 (inf).  ``Q`` may
        be a batch (B, N, N) of blocks of a block-diagonal form (the largest over the blocks)."""
        if np.any(D < 0) or not np.all(np.isfinite(D)):
            return np.inf
        on = D > 0
        scale = max(float(np.abs(Q).max()), 1e-300)
        if np.any(np.abs(Q[..., ~on, :]) > 1e-12 * scale) or np.any(np.abs(Q[..., :, ~on]) > 1e-12 * scale):
            return np.inf
        s = 1 / np.sqrt(D[on])
        return float(np.linalg.eigvalsh(s[:, None] * Q[..., on, :][..., :, on] * s[None, :])[..., -1].max())

    def _proxskip_gd_gap(self, claim, p, seed, P, c, x0):
        c["gamma"] = g = self._gamma(claim, p, c)
        c["p"] = 1.0
        s = self.settings(claim)
        g_gd = g if s.gd_stepsize is None else _expr_value(s.gd_stepsize, c, "gd_stepsize")
        c["gd_stepsize"] = g_gd
        h0 = np.random.default_rng([seed, 2]).standard_normal((P.n, P.d))  # any h_0: p = 1 ignores it
        tr = proxskip(P, x0, gamma=g, p=1.0, T=p["T"], rng=np.random.default_rng(seed), h0=h0)
        x = np.empty((p["T"] + 1, P.d))
        x[0] = x0
        for t in range(p["T"]):
            x[t + 1] = x[t] - g_gd * (P.A_bar @ x[t] - P.b_bar)
        with np.errstate(over="ignore", invalid="ignore"):
            gap = np.linalg.norm(tr.x_mean[0, 1:] - x[1:], axis=1) / np.linalg.norm(x0 - P.x_star)
        t = np.arange(1, p["T"] + 1)
        return self._ev("T", t, np.nan_to_num(gap, nan=np.inf), np.zeros(t.size), c, p, seed, atol=1e-12)

    def _hit(self, P, g, q, x0, eps, T_max, zeta, factor=2.0):
        """Exact first t with E Psi_t <= eps Psi_0, searched up to ``factor`` times the rate's guarantee
        ceil(ln(1/eps)/zeta) (capped by T_max); None if not reached."""
        T = int(min(T_max, factor * math.ceil(math.log(1 / eps) / zeta) + 2))
        psi = proxskip_exact(P, g, q, x0, T)
        return hitting_time(psi, eps * psi[0])

    def _comms_scaling(self, claim, p, seed):
        s = self.settings(claim)
        kappas = np.asarray(p["kappas"], dtype=float)
        eps = self._eps(claim, p)
        ps_c, gd_c, bounds, c = [], [], [], {}
        for kap in kappas:
            P = build_clients(p, seed, kappa=float(kap))
            c = client_constants(P)
            x0 = _x0(P, seed)
            c["gamma"] = g = self._gamma(claim, p, c)
            c["p"] = q = self._prob(claim, p, c)
            c["eps"] = eps
            claim.check_assumptions(**c)
            t = self._hit(P, g, q, x0, eps, p["T_max"], min(g * c["mu"], q * q))
            ps_c.append(np.inf if t is None else q * t)
            tg = gd_hitting_time(P, 1 / c["L_f"], x0, eps, p["T_max"])
            gd_c.append(np.inf if tg is None else float(tg))
            bounds.append(math.sqrt(c["kappa"]) * math.log(1 / eps) + 1)
        y = np.array(ps_c if s.algorithm == "proxskip" else gd_c)
        if not np.all(np.isfinite(y)):
            raise UsageError(f"comms_to_eps: eps={eps:g} not reached within T_max={p['T_max']} iterations; raise T_max")
        fit = loglog_fit(kappas, y, confidence=float(s.confidence))
        pred = claim.predicted_exponent(**c)
        const = dict(
            scaling_mode=s.scaling_mode,
            exponent_tolerance=float(s.exponent_tolerance),
            eps=eps,
            fitted_exponent=fit.slope,
            fit_low=fit.interval[0],
            fit_high=fit.interval[1],
            r2=fit.r2,
        )
        gfit = loglog_fit(kappas, np.array(gd_c))
        pfit = loglog_fit(kappas, np.array(ps_c))
        const.update(proxskip_slope=pfit.slope, gd_slope=gfit.slope)
        return Evidence(
            "kappa",
            kappas,
            y,
            y[0] * (kappas / kappas[0]) ** pred,
            method="fit",
            fit=fit,
            predicted_exponent=pred,
            constants=const,
            instance=p,
            seed=seed,
            series={
                "proxskip": np.array(ps_c),
                "gd": np.array(gd_c),
                "proxskip_bound": np.array(bounds),
            },
            note=f"{s.algorithm} fitted; ProxSkip slope {pfit.slope:.3f}, GD slope {gfit.slope:.3f}",
        )

    def _comms_vs_p(self, claim, p, seed, P, c, x0):
        c["gamma"] = g = self._gamma(claim, p, c)
        eps = c["eps"] = self._eps(claim, p)
        ps = np.asarray(p["ps"], dtype=float)
        meas = []
        for q in ps:
            claim.check_assumptions(**dict(c, p=q))
            # up to the guarantee: a later hitting time violates the bound whatever it is (measured inf)
            t = self._hit(P, g, q, x0, eps, p["T_max"], min(g * c["mu"], q * q), factor=1.0)
            meas.append(np.inf if t is None else q * t)
        bound = claim.evaluate(p=ps, **c)
        c["p_star"] = math.sqrt(g * c["mu"])
        return self._ev("p", ps, meas, bound, c, p, seed, method="exact-expectation")

    # ------------------------------------------------------------------ Local GD
    def _local_gd(self, claim, p, seed, P, c, x0):
        m = claim.measure
        c["gamma"] = g = self._gamma(claim, p, c)
        if m == "lgd_floor":
            Hs = np.asarray(p["Hs"])
            fl = [np.linalg.norm(local_gd_round_map(P.A, P.b, g, int(h))[2] - P.x_star) for h in Hs]
            meas = np.array(fl) / (1 + np.linalg.norm(P.x_star))
            return self._ev("H", Hs, meas, np.zeros(Hs.size), c, p, seed, atol=1e-12)
        if m == "lgd_rounds_to_eps":
            return self._rounds(claim, p, seed, P, c, x0)
        c["H"] = Hh = p["H"]
        c["D0"] = float(np.linalg.norm(x0 - P.x_star))
        claim.check_assumptions(**c)
        tr = local_gd(P, x0, gamma=g, H=Hh, rounds=p["rounds"])
        r = np.arange(1, p["rounds"] + 1)
        if m == "khaled_gap":
            T = Hh * r
            avg = np.cumsum(tr.virtual, axis=0)[T - 1] / T[:, None]
            e = avg - P.x_star
            gap = 0.5 * np.einsum("ti,ij,tj->t", e, P.A_bar, e)  # f-bar(x) - f* for a quadratic
            return self._ev("T", T, gap, claim.evaluate(T=T, **c), c, p, seed)
        x_inf = local_gd_round_map(P.A, P.b, g, Hh)[2]
        c["floor"] = float(np.linalg.norm(x_inf - P.x_star))
        to_fixed = np.linalg.norm(tr.x[1:] - x_inf, axis=1)
        keep = to_fixed >= 1e-12 * (1 + np.linalg.norm(x_inf))  # beyond: converged to float resolution
        keep[0] = True
        r = r[keep]
        if m == "lgd_dist_fixed":
            c["Dinf0"] = float(np.linalg.norm(x0 - x_inf))
            meas = to_fixed[keep]
        else:
            meas = np.linalg.norm(tr.x[1:] - P.x_star, axis=1)[keep]
        return self._ev(
            "r", r, meas, claim.evaluate(r=r, **c), c, p, seed, note="r while ||x_r - x_inf|| >= 1e-12 (1 + ||x_inf||)"
        )

    def _rounds(self, claim, p, seed, P, c, x0):
        g = c["gamma"]
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
        meas = []
        for h, b in zip(Hs, bound):
            M, v, _ = local_gd_round_map(P.A, P.b, g, int(h))
            x, k, cap = x0.copy(), 0, int(4 * b + 100)
            while np.linalg.norm(x - P.x_star) > eps and k < cap:
                x = M @ x + v
                k += 1
            meas.append(float(k) if k < cap else np.inf)
        return self._ev("H", Hs, meas, bound, c, p, seed, note="only H with Delta_H < eps (where the bound is finite)")

    def _floor_scaling(self, claim, p, seed):
        s = self.settings(claim)
        P = build_clients(p, seed)
        if s.hessians == "identical":
            P = identical(P)
        c = client_constants(P)
        g = self._gamma(claim, p, c)
        Hs = np.asarray([h for h in p["Hs"] if h >= 2], dtype=float)
        if Hs.size < 3:
            raise UsageError("lgd_floor_vs_H needs at least 3 values H >= 2 in Hs")
        fl = np.array([np.linalg.norm(local_gd_round_map(P.A, P.b, g, int(h))[2] - P.x_star) for h in Hs])
        if not np.all(fl > 0):
            raise UsageError("lgd_floor_vs_H: the floor is 0 (identical Hessians): no law to fit")
        fit = loglog_fit(Hs - 1, fl, confidence=float(s.confidence))
        pred = claim.predicted_exponent(**c)
        const = dict(
            gamma=g,
            scaling_mode=s.scaling_mode,
            exponent_tolerance=float(s.exponent_tolerance),
            fitted_exponent=fit.slope,
            fit_low=fit.interval[0],
            fit_high=fit.interval[1],
        )
        return Evidence(
            "H - 1",
            Hs - 1,
            fl,
            fl[0] * ((Hs - 1) / (Hs[0] - 1)) ** pred,
            method="fit",
            fit=fit,
            predicted_exponent=pred,
            constants=const,
            instance=p,
            seed=seed,
        )

    # ------------------------------------------------------------------ FLIX
    def _flix(self, claim, p, seed, P, c, x0):
        m = claim.measure
        tau = np.full(P.n, p["tau"]) if m == "flix_uniform_gap" else _tau(p, P.n, seed)
        xl, At, Lt, mt, xt = flix_quadratic(P.A, P.b, tau)
        c.update(L_tilde=Lt, mu_tilde=mt, tau=float(tau.mean()))
        if m == "flix_constants":
            Li, mi = P.eigvals[:, -1], P.eigvals[:, 0]
            c.update(
                tau_mean=float(tau.mean()),
                tau_min=float(tau.min()),
                tau2L_mean=float(np.mean(tau**2 * Li)),
                tau2mu_mean=float(np.mean(tau**2 * mi)),
            )
            bound = claim.evaluate(u_L=np.array([1.0, 0.0]), u_mu=np.array([0.0, 1.0]), **c)
            return self._ev("entry", [0.0, 1.0], [Lt, 1 / mt], bound, c, p, seed, note="entry 0: L~, entry 1: 1/mu~")
        fi_star = 0.5 * np.einsum("ni,ni->n", P.b, xl)  # f_i(x_i*) = -b_i^T x_i*/2; f_i(y) below

        def ftilde(x):  # (k, d) -> (k,)
            Y = tau[None, :, None] * x[:, None, :] + (1 - tau)[None, :, None] * xl[None]
            E = Y - xl[None]
            return np.mean(0.5 * np.einsum("kni,nij,knj->kn", E, P.A, E) - fi_star[None], axis=1)

        ft_star = float(ftilde(xt[None])[0])
        if m == "flix_uniform_gap":
            s = self.settings(claim)
            scale = _expr_value(s.scale, c, "scale")
            X = P.x_star + np.random.default_rng([seed, 4]).standard_normal((8, P.d))
            E = X - P.x_star
            fgap = 0.5 * np.einsum("ki,ij,kj->k", E, P.A_bar, E)
            dev = np.abs(ftilde(X) - ft_star - scale * fgap) / fgap
            dist = np.linalg.norm(xt - P.x_star) / (1 + np.linalg.norm(P.x_star))
            c["scale"] = scale
            return self._ev(
                "point",
                np.arange(9.0),
                np.r_[dev, dist],
                np.zeros(9),
                c,
                p,
                seed,
                atol=1e-10,
                note="points 0..7: relative deviation of f~ - f~* from scale (f - f*); point 8: ||x~* - x*||/(1+||x*||)",
            )
        c["gamma"] = g = self._gamma(claim, p, c)
        c["delta0"] = float(ftilde(x0[None])[0] - ft_star)
        claim.check_assumptions(**c)
        tr = flix_gd(P, x0, gamma=g, T=p["T"], tau=tau, x_local=xl)
        E = tr.x[1:] - xt
        gap = 0.5 * np.einsum("ti,ij,tj->t", E, At, E)  # f~(x) - f~* exactly (quadratic), relative precision
        keep = gap >= 1e-24 * c["delta0"]  # below: rounding noise of the iterates, no evidence either way
        keep[0] = True
        t = np.arange(1, p["T"] + 1)[keep]
        return self._ev(
            "T", t, gap[keep], claim.evaluate(T=t, **c), c, p, seed, note="t while f~(x_t) - f~* >= 1e-24 delta0"
        )

    def _flix_lgd(self, claim, p, seed):
        q = dict(p, instance="isotropic")
        P = build_clients(q, seed)
        c = client_constants(P)
        c["gamma"] = g = self._gamma(claim, p, c)
        a = P.A[:, 0, 0]
        rule = self.settings(claim).tau_rule
        Hs = np.asarray(p["Hs"])
        meas = []
        for h in Hs:
            x_inf = local_gd_round_map(P.A, P.b, g, int(h))[2]
            phi = (1 - (1 - g * a) ** h) / g
            psi = phi / (a * h)
            w = {"psi": np.sqrt(psi / psi.max()), "phi": np.sqrt(phi / phi.max()), "psi-linear": psi / psi.max()}[rule]
            _, _, Lt, mt, xt = flix_quadratic(P.A, P.b, w)
            meas.append(np.linalg.norm(x_inf - xt) / (1 + np.linalg.norm(xt)))
        c.update(L_tilde=Lt, mu_tilde=mt, tau=float(w.mean()))
        return self._ev("H", Hs, meas, np.zeros(Hs.size), c, q, seed, atol=1e-12, note=f"tau_rule={rule}")


EXPERIMENT = register(LocalMethodsExperiment())
