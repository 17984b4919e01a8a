r"""Error Feedback Shines when Features are Rare (Richtárik, Gasanov, Burlachenko 2023).

Notes: ``notes/rare_features.md``.  The setting: client :math:`i` owns the
features :math:`Z_i\subseteq[d]` its function depends on (:math:`[\nabla f_i(x)]_j=0` for
:math:`j\notin Z_i`), :math:`\mathcal O_j=\{i: j\in Z_i\}` are the owners of feature :math:`j`,

.. math::
    c=\max_j|\mathcal O_j|,\qquad r=\max_i|Z_i|,\qquad
    L_{plus}^2=\sup_{x\ne y}\frac{\frac1n\sum_i\Vert\nabla f_i(x)-\nabla f_i(y)\Vert^2}{\Vert x-y\Vert^2}.

EF21 with Top-k (the paper's "GD + TopK + EF") then runs with the stepsize

.. math::
    \gamma\le\Big(L+\sqrt{c/n}\;L_{plus}\;\xi(\alpha)\Big)^{-1},\qquad \alpha=\min(1,k/r),

and the running mean of :math:`\Vert\nabla f(x^t)\Vert^2` is at most
:math:`\frac{2\delta_0}{\gamma T}+\frac cn\frac{G^0}{\theta_c(\alpha)T}`.  The compressor
constants :math:`\theta_c,\xi` are those of :mod:`theorems.ef21`.

Symbols beyond the project table (file-local, see the spec): ``L_max`` = :math:`\max_iL_i`,
``L_O`` = :math:`\frac1n\max_j\sum_{i\in\mathcal O_j}L_i` (the owners' constant of section 6),
``eps`` the target accuracy, and the sampled quantities of the identities.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ._core import Claim, Identity, Kind, Provenance, ge, gt, le, register, register_teeth, sym
from .ef21 import theta_c, xi

RARE = (
    "Richtárik, Gasanov, Burlachenko. Error Feedback Shines when Features are Rare. "
    "arXiv:2305.15264 (ICLR 2024 submission)"
)
RELOADED = (
    "Richtárik, Gasanov, Burlachenko. Error Feedback Reloaded: From Quadratic to Arithmetic Mean of "
    "Smoothness Constants. ICLR 2024, arXiv:2402.10774"
)

L, L_plus, L_qm, L_max = sym("L"), sym("L_plus"), sym("L_qm"), sym("L_max")
L_O = sym("L_O")
gamma, T, delta0, G0 = sym("gamma"), sym("T"), sym("delta0"), sym("G0")
n, d, c, r, k = sym("n"), sym("d"), sym("c"), sym("r"), sym("k")
eps = sym("eps")

#: Top-k on vectors supported on at most r coordinates is contractive with this alpha (RF-4).
ALPHA_KR = sp.Min(1, k / r, evaluate=False)
#: The authors' code uses the generic Top-k constant k/d (valid, smaller stepsize).
ALPHA_KD = k / d

_SPARSITY = (ge(c, 1), le(c, n), ge(r, 1), le(r, d), ge(k, 1), le(k, d), gt(L, 0), gt(L_plus, 0), gt(gamma, 0))


def rare_rate(a: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    r"""Stepsize rule and bound of the rare-features theorem for a compressor constant ``a``.

    .. math::
        \gamma\le\frac1{L+\sqrt{c/n}\,L_{plus}\,\xi(a)},\qquad
        \frac1T\sum_{t<T}\Vert\nabla f(x^t)\Vert^2\le\frac{2\delta_0}{\gamma T}+\frac cn\,\frac{G^0}{\theta_c(a)\,T},

    with :math:`G^0=\frac1n\sum_i\Vert g_i^0-\nabla f_i(x^0)\Vert^2` (spec section 4).
    """
    return 1 / (L + sp.sqrt(c / n) * L_plus * xi(a)), 2 * delta0 / (gamma * T) + (c / n) * G0 / (theta_c(a) * T)


# ----------------------------------------------------------------------------- the theorem
def _rate_claim(
    id_: str,
    title: str,
    paper: str,
    note: str,
    stepsize,
    bound,
    setting: dict,
    description: str,
    assumptions=_SPARSITY,
    identities=(),
) -> Claim:
    """Register an EF21 + Top-k rate claim measured by ``avg_grad_norm_sq`` in the rare-features experiment."""
    return register(
        Claim(
            id=id_,
            title=title,
            paper=paper,
            provenance=Provenance.DERIVED,
            provenance_note=note,
            kind=Kind.UPPER,
            measure="avg_grad_norm_sq",
            in_expectation=False,
            stepsize=stepsize,
            bound=bound,
            assumptions=assumptions,
            identities=identities,
            setting=dict(setting, algorithm="ef21", compressor="top-k"),
            experiment="rare_features",
            description=description,
        )
    )


nonconvex = _rate_claim(
    "rare-features.nonconvex",
    "EF21 + Top-k with the rare-features stepsize 1/(L + sqrt(c/n) L_plus xi(k/r)): rate with (c/n) G0",
    RARE + ", main theorem (stepsize: authors' code algorithms.py l.1478); spec RF-5/RF-6",
    "stepsize [paper: authors' code]; rate form with (c/n) G0 [derived]; the theorem's wording "
    "(c/n G0 or G0; alpha = k/r or k/d) [reconstructed]",
    *rare_rate(ALPHA_KR),
    {"lyapunov": "uniform"},
    "Running mean over t < T of ||grad f(x^t)||^2 (the expectation over the uniformly random output "
    "x_hat^T, exact: Top-k runs are deterministic), for every T; G0 = (1/n) sum_i ||g_i^0 - grad f_i(x^0)||^2.",
)

nonconvex_kd = _rate_claim(
    "rare-features.nonconvex-kd",
    "As rare-features.nonconvex with alpha = k/d, as the authors' code runs it",
    RARE + ", experiments (compressors.py l.148: alpha = k/d); spec RF-5/RF-6 and section 9",
    "stepsize with alpha = k/d [paper: authors' code]; rate form [derived]; wording [reconstructed]",
    *rare_rate(ALPHA_KD),
    {"lyapunov": "uniform"},
    "As rare-features.nonconvex; alpha = k/d <= k/r gives a smaller, still valid stepsize.",
)


# ----------------------------------------------------------------------------- constants (RF-1..RF-4)
def _sparse_quadratics(rng: np.random.Generator, size: int, n_: int = 4, m_: int = 3, d_: int = 6):
    """Random sparse least-squares instances: per-client data A_i with random column supports."""
    A = rng.standard_normal((size, n_, m_, d_))
    own = rng.random((size, n_, d_)) < rng.uniform(0.15, 0.9, (size, 1, 1))
    own[..., 0] |= ~own.any(axis=-1)  # every client owns at least one feature
    A = A * own[:, :, None, :]
    H = 2.0 / m_ * np.einsum("snmd,snme->snde", A, A)
    return own, H


def _sample_L_Lplus(rng: np.random.Generator, size: int) -> dict:
    """(L, L_plus) of random sparse least-squares instances (exact, by eigenvalues)."""
    _, H = _sparse_quadratics(rng, size)
    L_ = np.linalg.eigvalsh(H.mean(axis=1))[:, -1]
    Lp = np.sqrt(np.linalg.eigvalsh(np.einsum("snde,snef->sndf", H, H).mean(axis=1))[:, -1])
    return {"L": L_, "L_plus": Lp}


def _sample_L_sparse(rng: np.random.Generator, size: int) -> dict:
    """(L, L_plus, c, n) of random sparse least-squares instances."""
    own, H = _sparse_quadratics(rng, size)
    L_ = np.linalg.eigvalsh(H.mean(axis=1))[:, -1]
    Lp = np.sqrt(np.linalg.eigvalsh(np.einsum("snde,snef->sndf", H, H).mean(axis=1))[:, -1])
    return {"L": L_, "L_plus": Lp, "c": own.sum(axis=1).max(axis=1), "n": np.full(size, H.shape[1])}


def _sample_Lplus_branches(rng: np.random.Generator, size: int) -> dict:
    """(L_plus, L_qm, L_max, c, n) of random sparse least-squares instances."""
    own, H = _sparse_quadratics(rng, size)
    n_ = H.shape[1]
    Li = np.linalg.eigvalsh(H)[..., -1]
    Lp = np.sqrt(np.linalg.eigvalsh(np.einsum("snde,snef->sndf", H, H).mean(axis=1))[:, -1])
    cc = own.sum(axis=1).max(axis=1)
    return {"L_plus": Lp, "L_qm": np.sqrt((Li**2).mean(1)), "L_max": Li.max(1), "c": cc, "n": np.full(size, n_)}


def _sample_average(rng: np.random.Generator, size: int, n_: int = 5, d_: int = 8) -> dict:
    r"""Vectors :math:`v_i` supported on random :math:`Z_i`: both sides of the sparse averaging inequality."""
    own = rng.random((size, n_, d_)) < rng.uniform(0.1, 0.9, (size, 1, 1))
    v = rng.standard_normal((size, n_, d_)) * own
    same = rng.random(size) < 0.3  # aligned signs make the inequality tight
    v[same] = np.abs(v[same])
    avg = v.mean(axis=1)
    cc = np.maximum(own.sum(axis=1).max(axis=1), 1)
    return {"sq_norm_avg": (avg**2).sum(-1), "avg_sq_norm": (v**2).sum(-1).mean(-1), "c": cc, "n": np.full(size, n_)}


def _sample_topk(rng: np.random.Generator, size: int, d_: int = 10) -> dict:
    r"""Top-k errors on vectors with at most r nonzeros: :math:`\Vert\mathrm{Top}_k(x)-x\Vert^2` and :math:`\Vert x\Vert^2`."""
    r_ = rng.integers(1, d_ + 1, size)
    k_ = rng.integers(1, d_ + 1, size)
    keys = rng.random((size, d_))
    supp = np.argsort(keys, axis=1) < r_[:, None]
    x = rng.standard_normal((size, d_)) * supp
    same = rng.random(size) < 0.3  # equal magnitudes make the bound tight
    x[same] = np.sign(x[same])
    order = np.argsort(-np.abs(x), axis=1, kind="stable")
    rank = np.argsort(order, axis=1)
    err = np.where(rank >= k_[:, None], x, 0.0)
    return {"topk_err_sq": (err**2).sum(1), "x_sq": (x**2).sum(1), "k": k_, "r": r_}


_branches = sp.Min(L_qm, sp.sqrt(c / n) * L_max, evaluate=False)
_Sq_avg, _Sq_mean = sym("sq_norm_avg"), sym("avg_sq_norm")
_TopErr, _Xsq = sym("topk_err_sq"), sym("x_sq")


_IDENT_CONSTANTS = (
    Identity(
        le(L, L_plus),
        sampler=_sample_L_Lplus,
        label="L <= L_plus (Jensen: ||grad f(x) - grad f(y)||^2 <= (1/n) sum_i ||grad f_i(x) - grad f_i(y)||^2)",
    ),
    Identity(
        le(L, sp.sqrt(c / n) * L_plus),
        sampler=_sample_L_sparse,
        label="L <= sqrt(c/n) L_plus (sharper than L <= L_plus: RF-3 applied to grad f_i(x) - grad f_i(y); derived here)",
    ),
    Identity(
        le(L_plus, _branches),
        sampler=_sample_Lplus_branches,
        label="L_plus <= min(L_qm, sqrt(c/n) max_i L_i) on random sparse quadratics (RF-1)",
    ),
    Identity(
        sp.Eq(sp.Min(c / n * L_max**2, L_qm**2, evaluate=False), _branches**2),
        label="min{(c/n) max_i L_i^2, (1/n) sum_i L_i^2} = min(L_qm, sqrt(c/n) max_i L_i)^2 (RF-2, the abstract's form)",
    ),
    Identity(
        le(_Sq_avg, c / n * _Sq_mean),
        sampler=_sample_average,
        label="||(1/n) sum_i v_i||^2 <= (c/n) (1/n) sum_i ||v_i||^2 for v_i supported on Z_i (RF-3)",
    ),
    Identity(
        le(_TopErr, (1 - ALPHA_KR) * _Xsq),
        sampler=_sample_topk,
        label="||Top_k(x) - x||^2 <= (1 - min(1, k/r)) ||x||^2 when x has at most r nonzeros (RF-4)",
    ),
)

constants = register(
    Claim(
        id="rare-features.constants",
        title="L <= L_plus <= min(L_qm, sqrt(c/n) max_i L_i), the abstract's min form, sparse averaging and Top-k on supports",
        paper=RARE
        + "; spec RF-1 ... RF-4 (L_plus and c/n from the authors' code, artificial_dataset_rotated.py ll.281-296)",
        provenance=Provenance.DERIVED,
        provenance_note="inequalities [derived]; the min form of the abstract and the code's L_plus_two [paper]",
        kind=Kind.IDENTITY,
        measure="L_plus",
        bound=_branches,
        identities=_IDENT_CONSTANTS,
        setting={},
        experiment="rare_features",
        description="Numeric part: the exact L_plus of the instance and of sampled sparse least-squares instances against "
        "min(L_qm, sqrt(c/n) max_i L_i); symbolic part: sympy / sampling of RF-1 ... RF-4.",
    )
)

# ----------------------------------------------------------------------------- complexity (RF-8, RF-9)
#: Bits per worker of vanilla GD: r floats per round, O(L / eps) rounds (abstract).
GD_BITS = r * L / eps
complexity = register(
    Claim(
        id="rare-features.complexity",
        title="Bits per worker of EF21 + Top-1 to reach eps grow at most linearly in c at fixed n, r, L_i",
        paper=RARE + ", abstract (communication complexity of GD + Top1 + EF vs GD); spec RF-8/RF-9",
        provenance=Provenance.PAPER,
        provenance_note="the O(.) formula [paper: abstract]; its reading at fixed n, r and L_i (exponent <= 1 in c, "
        "since L <= L_plus <= sqrt(c/n) max_i L_i) and the crossover with GD [derived]; the gain condition "
        "sqrt(c/n) L_plus <~ L [reconstructed: reviewer]",
        kind=Kind.SCALING,
        measure="bits_to_eps",
        in_expectation=True,
        stepsize=nonconvex.stepsize,
        bound=(L + r * sp.sqrt(c / n * sp.Min(c / n * L_max**2, L_qm**2, evaluate=False))) / eps,
        exponent=sp.Integer(1),
        scaling_in="c",
        assumptions=_SPARSITY,
        setting={"algorithm": "ef21", "compressor": "top-k", "baseline": GD_BITS, "scaling_mode": "at-most"},
        experiment="rare_features",
        description="Bits sent by each worker until the running mean of ||grad f(x^t)||^2 (= E||grad f(x_hat)||^2) "
        "drops below eps = eps_rel * max_i L_i * delta0, with the rare-features stepsize (alpha = min(1, k/r)), "
        "on a family with fixed n, r, m and spectra and growing c; GD (gamma = 1/L, charged its true nonzeros) "
        "is run alongside for the crossover.",
    )
)

# ----------------------------------------------------------------------------- Reloaded candidate (RF-11)


def _sample_owners(rng: np.random.Generator, size: int, n_: int = 6, d_: int = 9) -> dict:
    r"""Random ownership matrices and :math:`L_i`: :math:`L_O=\frac1n\max_j\sum_{i\in\mathcal O_j}L_i`, c, max L_i."""
    own = rng.random((size, n_, d_)) < rng.uniform(0.1, 0.9, (size, 1, 1))
    Li = np.exp(rng.normal(0, 1.5, (size, n_)))
    LO = np.einsum("sn,snd->sd", Li, own.astype(float)).max(1) / n_
    cc = np.maximum(own.sum(1).max(1), 1)
    return {"L_O": LO, "c": cc, "n": np.full(size, n_), "L_max": Li.max(1)}


reloaded = _rate_claim(
    "rare-features.reloaded",
    "Candidate of Reloaded's rare-features improvement: stepsize 1/(L + L_O xi(k/r)), L_O = (1/n) max_j sum_(i owns j) L_i",
    RELOADED
    + ", abstract ('improves the best-known theory of EF21 in the rare features regime'); spec section 6, RF-11",
    "candidate [derived: Lyapunov weights 1/L_i and a coordinate-wise Cauchy-Schwarz]; Reloaded's actual statement [not found]",
    1 / (L + L_O * xi(ALPHA_KR)),
    2 * delta0 / (gamma * T) + G0 / (theta_c(ALPHA_KR) * T),
    {"lyapunov": "owners"},
    "EF21 + Top-k (equivalently EF21-W for any weights: Top-k is positively homogeneous); "
    "G0 = L_O (1/n) sum_i ||g_i^0 - grad f_i(x^0)||^2 / L_i, from the Lyapunov function "
    "f - f_inf + (gamma L_O / (2 theta_c)) (1/n) sum_i ||g_i - grad f_i||^2 / L_i.",
    assumptions=_SPARSITY[:-3] + (gt(L, 0), gt(L_O, 0), gt(gamma, 0)),
    identities=(
        Identity(
            le(L_O, c / n * L_max),
            sampler=_sample_owners,
            label="L_O = (1/n) max_j sum_(i in O_j) L_i <= (c/n) max_i L_i (RF-11)",
        ),
    ),
)

# ----------------------------------------------------------------------------- teeth
_STEP = "stepsize 1000x past the theorem's rule (the bound evaluated at that stepsize)"
_T2 = "rate 1/T^2 instead of 1/T (a faster rate than the theorem gives)"
for _c in (nonconvex, nonconvex_kd, reloaded):
    register_teeth(
        _c,
        _c.variant("step1000", stepsize=1000 * _c.stepsize, expected_to_fail=_STEP),
        _c.variant("rate-T2", bound=_c.bound / T, expected_to_fail=_T2),
    )
register_teeth(
    constants,
    constants.variant(
        "c-over-n",
        bound=sp.Min(L_qm, c / n * L_max, evaluate=False),
        identities=(),
        expected_to_fail="sqrt dropped: L_plus <= min(L_qm, (c/n) max_i L_i) fails for disjoint supports",
    ),
    constants.variant(
        "averaging-1/n",
        identities=(
            Identity(
                le(_Sq_avg, _Sq_mean / n),
                sampler=_sample_average,
                label="||(1/n) sum_i v_i||^2 <= (1/n)(1/n) sum_i ||v_i||^2 (c replaced by 1)",
            ),
        ),
        expected_to_fail="sparse averaging with 1/n instead of c/n fails as soon as two clients share a feature",
    ),
)
register_teeth(
    complexity,
    complexity.variant(
        "flat", exponent=sp.Integer(0), expected_to_fail="bits independent of c: the cost grows with the multiplicity c"
    ),
)
