r"""Worst case over a function class (performance estimation, PEP): the third witness beside the claim and the
empirics (extra ``[pep]``; PEPit is imported on first use, so this package imports without it).

For a claim "measure_T ≤ bound_T" over a class :math:`\mathcal C`, :func:`worst_case` computes
:math:`W_{\rm pep}(T)=\sup_{\mathcal C}\text{measure}_T/\text{bound}_T` (one SDP per horizon, "max measure
subject to bound ≤ 1") and tags it with its **kind** relative to the claim's class:

* ``exact``: interpolation conditions of the claim's class — ≤ 1 certifies the claim up to T, > 1 refutes it;
* ``upper``: necessary conditions only (a relaxation) — ≤ 1 certifies, > 1 is inconclusive;
* ``lower``: a subclass (e.g. :math:`\mathcal F_{\mu,L}` inside PŁ) — > 1 refutes (a counterexample from the
  subclass), ≤ 1 is a lower bound on the claim's worst case.

References: Drori & Teboulle 2014; Taylor, Hendrickx & Glineur 2017 (PEP); Goujaud et al., PEPit (2024);
Thomsen, Taylor & Dieuleveut 2025, arXiv:2506.05271 (EF21 compressor model, tight rates).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from ratecheck import theorems

from ..errors import UsageError, did_you_mean
from ._pepit import GAP_RTOL, PEP_EXTRA, PepUnavailable, available, pepit
from .ef21 import NONCONVEX_CLAIMS, PL_CLAIMS, ef21_pep, ef21_setting
from .randomized import lsvrp_measured, lsvrp_pep, rcd_measured, rcd_pep, sgd_measured, sgd_pep, taylor_bach_check
from .replay import empirical_tightness, empirical_tightness_nonconvex, replay_worst_case
from .tight import complexity_looseness, lyapunov_rate

__all__ = [
    "Record",
    "worst_case",
    "expressible",
    "verdict_of",
    "PEP_EXTRA",
    "PepUnavailable",
    "available",
    "pepit",
    "DEFAULT_PARAMS",
    "DEFAULT_T",
    "sandwich",
    "sandwich_lines",
    "FAMILIES",
    "taylor_bach_check",
]

DEFAULT_T = (1, 2, 5, 10)


@dataclass
class Record:
    """One worst-case value: ``pep_value`` = sup measure_T/bound_T over the class ``cls`` (kind: see module).

    ``pep_value`` is the dual value (a certificate: the supremum is at most it) for upper and exact kinds, and
    the primal value (attained by a feasible worst case: the supremum is at least it) for the lower kind;
    both are kept (``primal``, ``dual``); NaN when the solve was not accepted.
    """

    claim: str
    T: int
    pep_value: float
    primal: float
    dual: float
    kind: str
    cls: str
    init: str
    params: dict
    solver: str
    status: str
    duality_gap: float
    accepted: bool
    seconds: float
    gram_dim: int

    def to_dict(self) -> dict:
        return asdict(self)


# ----------------------------------------------------------------------------- the families
def _ef21(claim_id, p, T, cls, init):
    s = ef21_setting(claim_id, p)
    return ef21_pep(s, T, cls=cls, init=init), s.gamma, s.n


def _rcd(claim_id, p, T, cls, init):
    probs, d = p.get("p"), int(p["d"])
    if probs is not None and (np.ndim(probs) != 1 or len(probs) != d):
        raise UsageError(
            f"worst case: p of {claim_id} must be the d = {d} block probabilities of the RPT sketch (e.g. "
            f"p={','.join([f'{1 / d:.3g}'] * d)}), got {probs!r}"
        )
    r, g = rcd_pep(claim_id, d, float(p["L"]), p.get("mu"), T, p=probs)
    return r, g, 1


def _sgd_Ls(p):
    return list(p["Ls"]) if p.get("Ls") is not None else [float(p["L"])] * int(p["n"])


def _sgd(claim_id, p, T, cls, init):
    Ls = _sgd_Ls(p)
    r, g = sgd_pep(claim_id, Ls, float(p["mu"]), T, cls)
    return r, g, len(Ls)


def _lsvrp(claim_id, p, T, cls, init):
    if p.get("p") is not None and np.ndim(p["p"]) != 0:
        raise UsageError(
            f"worst case: p of {claim_id} is the refresh probability, one number in (0, 1]; got {p['p']!r}"
        )
    if T != 1:
        raise UsageError(f"worst case: {claim_id} is a one-step (Lyapunov factor) PEP; T must be 1 (got {T})")
    r, g = lsvrp_pep(claim_id, int(p["n"]), float(p["mu"]), float(p["delta"]), p.get("p"))
    return r, g, int(p["n"])


@dataclass(frozen=True)
class Family:
    """A claim family with a PEP builder: default constants, classes with their kind, allowed parameters."""

    defaults: dict
    classes: dict
    params: tuple
    run: object
    default_T: tuple = DEFAULT_T


_EF21_P = ("L", "Ls", "alpha", "gamma", "mu", "n")
FAMILIES: dict[str, Family] = {
    **{
        c: Family({"L": 1.0, "mu": 0.1, "alpha": 0.5, "n": 1}, {"sc": "lower", "pl": "upper"}, _EF21_P, _ef21)
        for c in PL_CLAIMS
    },
    **{c: Family({"L": 1.0, "alpha": 0.5, "n": 1}, {"smooth": "upper"}, _EF21_P, _ef21) for c in NONCONVEX_CLAIMS},
    "rcd.strongly-convex": Family({"d": 2, "L": 1.0, "mu": 0.1}, {"sc": "exact"}, ("d", "L", "mu"), _rcd, (1, 2, 3)),
    "rcd.convex": Family({"d": 2, "L": 1.0}, {"convex": "exact"}, ("d", "L"), _rcd, (1, 2, 3)),
    "rcd.nonconvex": Family({"d": 2, "L": 1.0}, {"smooth": "upper"}, ("d", "L"), _rcd, (1, 2, 3)),
    "rpt.strongly-convex": Family(
        {"d": 2, "L": 1.0, "mu": 0.1}, {"sc": "exact"}, ("d", "L", "mu", "p"), _rcd, (1, 2, 3)
    ),
    "rpt.convex": Family({"d": 2, "L": 1.0}, {"convex": "exact"}, ("d", "L", "p"), _rcd, (1, 2, 3)),
    "rpt.nonconvex": Family({"d": 2, "L": 1.0}, {"smooth": "upper"}, ("d", "L", "p"), _rcd, (1, 2, 3)),
    "sgd.neighborhood": Family(
        {"n": 2, "L": 1.0, "mu": 0.1}, {"sc": "lower", "convex": "upper"}, ("L", "Ls", "mu", "n"), _sgd, (1, 2)
    ),
    "lsvrp.lyapunov": Family(
        {"n": 3, "mu": 1.0, "delta": 4.0}, {"sc": "upper"}, ("delta", "mu", "n", "p"), _lsvrp, (1,)
    ),
}
DEFAULT_PARAMS = {k: f.defaults for k, f in FAMILIES.items()}


def _base(claim_id: str) -> str:
    return claim_id.split("~", 1)[0]


def expressible() -> tuple[str, ...]:
    """Claim ids with a worst-case builder (teeth variants of these are expressible too)."""
    return tuple(sorted(FAMILIES))


def family(claim_id: str) -> Family:
    base = _base(claim_id)
    if base not in FAMILIES:
        raise UsageError(
            f"worst case: no PEP builder for claim {claim_id!r}{did_you_mean(claim_id, expressible(), 'expressible')}"
        )
    return FAMILIES[base]


def classes(claim_id: str) -> dict[str, str]:
    """``{class: kind}`` available for this claim."""
    return dict(family(claim_id).classes)


def worst_case(claim_id: str, params: dict | None = None, T=None, cls: str | None = None, init: str = "free"):
    r"""Worst-case tightness records of ``claim_id`` for each horizon in ``T`` and each class.

    Parameters
    ----------
    claim_id : str
        A shipped claim (or one of its teeth variants, ``id~name``) with a builder (:func:`expressible`).
    params : dict, optional
        Constants of the family (see :data:`FAMILIES`): EF21 ``L`` (or ``Ls``, one per node, n ≤ 4), ``mu``,
        ``alpha``, ``gamma`` (default: the claim's largest stepsize); RCD ``d``, ``L``, ``mu``; SGD ``Ls``
        (or ``n``, ``L``), ``mu``; L-SVRP ``n``, ``mu``, ``delta``, ``p``.  Missing ones take the defaults.
    T : int or iterable of int, optional
        Horizons (one SDP each; default: the family's).
    cls : str, optional
        One class (see :func:`classes`); default all of them.
    init : {"free", "grad"}
        EF21 only: free initial estimates :math:`d^0` (any :math:`G^0`) or :math:`d^0=\nabla f(x^0)`.
    """
    pepit()
    claim = theorems.get(claim_id)
    fam = family(claim.id)
    p = {**fam.defaults, **(params or {})}
    unknown = sorted(set(p) - set(fam.params))
    if unknown:
        raise UsageError(
            f"worst case: parameter {unknown[0]!r} does not apply to {claim.id}; its parameters: {', '.join(fam.params)}"
        )
    if p.get("Ls") is not None:  # one constant per node: n and L follow from them
        p.pop("n", None)
        p.pop("L", None)
    n = len(p["Ls"]) if p.get("Ls") is not None else int(p.get("n", 1))
    if not 1 <= n <= 4 and fam.run is not _lsvrp:
        raise UsageError(f"worst case: n must be in 1..4 (the PEP grows with n; got {n})")
    T = fam.default_T if T is None else T
    Ts = [int(T)] if isinstance(T, (int, float)) else [int(t) for t in T]
    kinds = fam.classes
    if cls is not None and cls not in kinds:
        raise UsageError(
            f"worst case: class {cls!r} is not available for {claim.id}{did_you_mean(cls, kinds, 'classes')}"
        )
    out = []
    for c in [cls] if cls else list(kinds):
        for t in Ts:
            r, gamma, n = fam.run(claim.id, p, t, c, init)
            out.append(
                Record(
                    claim=claim.id,
                    T=t,
                    pep_value=(r.primal if kinds[c] == "lower" else r.dual) if r.accepted else math.nan,
                    primal=r.primal,
                    dual=r.dual,
                    kind=kinds[c],
                    cls=c,
                    init=init,
                    params={**{k: v for k, v in p.items() if k != "Ls"}, "gamma": gamma, "n": n},
                    solver=r.solver,
                    status=r.status if r.accepted else "inconclusive",
                    duality_gap=r.duality_gap,
                    accepted=r.accepted,
                    seconds=r.seconds,
                    gram_dim=r.gram_dim,
                )
            )
    return out


def verdict_of(value: float, kind: str, tol: float = GAP_RTOL) -> str:
    """``certified`` / ``violated`` / ``inconclusive`` / ``lower-bound`` from one PEP value and its kind."""
    if not math.isfinite(value):
        return "inconclusive"
    if value <= 1 + tol:
        return "lower-bound" if kind == "lower" else "certified"
    return "inconclusive" if kind == "upper" else "violated"


def sandwich(claim_id: str, params: dict | None = None, T=DEFAULT_T) -> dict:
    r"""The three witnesses of one claim: empirical ≤ worst case over the class (by kind) ≤ 1 (the claim).

    * ``empirical``: in-class measured tightness (EF21 single node: :func:`.replay.empirical_tightness`, for the
      nonconvex claims :func:`.replay.empirical_tightness_nonconvex`;
      ``rcd.*``: exact expectation, :func:`.randomized.rcd_measured`; ``sgd.neighborhood``:
      :func:`.randomized.sgd_measured`; ``lsvrp.lyapunov``: :func:`.randomized.lsvrp_measured`), else None;
    * ``pep``: ``{kind: max over T of W_pep(T)}`` and the records;
    * ``proof_looseness`` = 1/W_pep and ``search_gap`` = W_emp/W_pep, with W_pep the **lower** (subclass, exact
      on :math:`\mathcal F_{\mu,L}`) value where the empirical instances live, else the upper one;
    * ``verdict``: ``inconsistent`` (an in-class empirical value above the lower/exact worst case: a bug in the
      constants, the solver or the PEP — never reported as holding), ``violated`` (a lower/exact value > 1, or an in-class empirical value > 1; for EF21 with ``counterexample`` = the extracted instance
      replayed through the package's solver), ``certified`` (every upper/exact value ≤ 1), else
      ``inconclusive``;
    * ``tight_rate`` (PŁ claims, n = 1): the Lyapunov-SDP rate at the claim's stepsize against the claim's
      :math:`1-\gamma\mu`, and the iteration-complexity factor ``log(claim)/log(tight)``.
    """
    records = worst_case(claim_id, params, T)
    Ts = sorted({r.T for r in records})
    claim = theorems.get(claim_id)
    fam = family(claim.id)
    p = {**fam.defaults, **(params or {})}
    setting = ef21_setting(claim.id, p) if fam.run is _ef21 else None
    best: dict[str, float] = {}
    for r in records:
        best[r.kind] = max(best.get(r.kind, -math.inf), r.pep_value) if math.isfinite(r.pep_value) else math.nan
    ref = best.get("lower", best.get("exact", best.get("upper")))
    emp = None
    if setting is not None and setting.n == 1 and setting.pl:
        emp = empirical_tightness(setting, max(Ts))
    elif setting is not None and setting.n == 1 and setting.measure_claim.measure == "avg_grad_norm_sq":
        emp = empirical_tightness_nonconvex(setting, max(Ts))
    elif _base(claim.id).split(".")[0] in ("rcd", "rpt"):
        mu = p.get("mu")
        emp = rcd_measured(
            int(p["d"]), float(p["L"]), None if mu is None else float(mu), max(Ts), claim_id=claim.id, p=p.get("p")
        )
    elif _base(claim.id) == "sgd.neighborhood":
        emp = sgd_measured(claim.id, _sgd_Ls(p), float(p["mu"]), max(Ts))
    elif _base(claim.id) == "lsvrp.lyapunov":
        emp = lsvrp_measured(claim.id, int(p["n"]), float(p["mu"]), float(p["delta"]), p.get("p"))
    tol = GAP_RTOL
    refuting = [r for r in records if r.kind in ("lower", "exact") and r.pep_value > 1 + tol]
    certifying = [r for r in records if r.kind in ("upper", "exact")]
    exact_ref = best.get("lower", best.get("exact"))
    # every PEP value bounds the class supremum from above where the empirical instances live (lower: the exact
    # value on the subclass F_(mu,L) they are drawn from; exact and upper: on the whole class)
    ceilings = [v for v in (exact_ref, best.get("upper")) if v is not None and math.isfinite(v)]
    if emp is not None and ceilings and emp > min(ceilings) * (1 + 1e-6) + tol:
        verdict = "inconsistent"  # an in-class instance beats the class supremum: a bug (constants, solver or PEP)
    elif refuting or (emp is not None and emp > 1 + tol):  # the class's worst case, or an instance of it
        verdict = "violated"
    elif any(not math.isfinite(r.pep_value) for r in records):
        verdict = "inconclusive"
    elif certifying and all(r.pep_value <= 1 + tol for r in certifying):
        verdict = "certified"
    else:
        verdict = "inconclusive"
    out = {
        "claim": claim.id,
        "params": records[0].params if records else p,
        "T": Ts,
        "empirical": emp,
        "pep": best,
        "claim_value": 1.0,
        "proof_looseness": (1 / ref) if ref and math.isfinite(ref) and ref > 0 else None,
        "search_gap": (emp / ref) if emp is not None and ref and math.isfinite(ref) else None,
        "verdict": verdict,
        "records": [r.to_dict() for r in records],
    }
    if refuting and setting is not None and setting.n == 1 and setting.pl:
        t = max(refuting, key=lambda r: r.pep_value).T
        cx = replay_worst_case(setting, t)
        out["counterexample"] = {
            "T": t,
            "function": f"f(x) = {cx['h']:.6g}/2 x^2 (1-D quadratic in F_(mu,L))",
            "compressor": "scaled identity, lambda_t = " + ", ".join(f"{v:.6g}" for v in cx["lambdas"]),
            "init": "grad",
            "ratio": cx["replay"],
        }
    if setting is not None and setting.n == 1 and setting.pl and not claim.expected_to_fail:
        mu, gamma = setting.mu, setting.gamma
        tight = lyapunov_rate(float(setting.Ls[0]), mu, setting.alpha, gamma, tol=1e-6)
        rate = 1 - gamma * mu
        out["tight_rate"] = {
            "gamma": gamma,
            "claim_rate": rate,
            "tight_rate": tight,
            "iterations_factor": complexity_looseness(rate, tight) if 0 < tight < 1 else None,
        }
    return out


def _f(v) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.4g}"


def sandwich_lines(s: dict) -> list[str]:
    """Human-readable lines of :func:`sandwich`."""
    prm = ", ".join(f"{k}={_f(v) if isinstance(v, float) else v}" for k, v in s["params"].items())
    lines = [f"{s['claim']}  ({prm}; T = {', '.join(map(str, s['T']))})"]
    lines.append(f"  empirical tightness (in class)   {_f(s['empirical'])}")
    for kind, v in s["pep"].items():
        cls = next(r["cls"] for r in s["records"] if r["kind"] == kind)
        lines.append(f"  worst case (PEP, {kind:5s}, {cls:6s}) {_f(v)}")
    lines.append("  claim                            1")
    lines.append(f"  proof looseness 1/W_pep          {_f(s['proof_looseness'])}")
    lines.append(f"  search gap W_emp/W_pep           {_f(s['search_gap'])}")
    if "tight_rate" in s:
        t = s["tight_rate"]
        lines.append(
            f"  rate per step: claim {_f(t['claim_rate'])}, tight (Lyapunov SDP) {_f(t['tight_rate'])}; "
            f"the claim's rate costs x{_f(t['iterations_factor'])} iterations"
        )
    lines.append(f"  verdict: {s['verdict']}")
    if "counterexample" in s:
        c = s["counterexample"]
        lines.append(f"  counterexample (T = {c['T']}): {c['function']}; {c['compressor']}; ratio {_f(c['ratio'])}")
    return lines
