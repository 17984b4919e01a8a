r"""Evidence and verdicts (the core of :mod:`verify`): compare what an experiment measured with what a claim states.

This module knows no experiment; :mod:`verify.check` runs experiments and judges their evidence here.

Semantics (``ARCHITECTURE.md`` section 2):

* deterministic upper bound: *violated* iff ``measured > bound*(1+rtol) + atol`` somewhere on the
  grid (``rtol``/``atol`` cover floating point only and are recorded in the verdict);
* in expectation, exact expectation available: as deterministic;
* in expectation, Monte Carlo: *violated* iff the one-sided lower confidence bound of the mean
  exceeds the bound somewhere; *inconclusive* iff only the upper confidence bound does;
  the confidence level is Bonferroni-corrected over the grid points;
* lower bound: *violated* iff ``measured < bound*(1-rtol) - atol`` somewhere;
* scaling: the fitted exponent's confidence interval against the predicted exponent; *inconclusive*
  when the experiment reports that its grid does not reach the regime the law describes
  (``Evidence.premise_unmet``: the fit is recorded, not judged);
* identity: every identity proved (sympy) or unrefuted on sampled points, and the numeric part
  (if any) holds as an upper bound.

``tightness`` is the maximum over the grid of measured/bound (lower bounds: bound/measured, over the
points with a positive measured value only; the detail says when points were left out).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import scipy.stats

from ratecheck.theorems import Claim, Kind

from .errors import UsageError

__all__ = [
    "Evidence",
    "Verdict",
    "judge",
    "outcome",
    "summarize",
    "claim_tightness",
    "HOLDS",
    "VIOLATED",
    "INCONCLUSIVE",
    "RTOL",
    "ATOL",
    "CONFIDENCE",
    "SLACK_FRACTION",
    "confidence_interval",
    "evidence_series",
]

HOLDS, VIOLATED, INCONCLUSIVE = "holds", "violated", "inconclusive"
RTOL = 1e-9  #: relative floating-point slack of deterministic comparisons
ATOL = 1e-13  #: absolute floating-point slack (relative to the scale of the bound series)
CONFIDENCE = 0.99  #: family-wise confidence of Monte Carlo verdicts


@dataclass
class Evidence:
    """Measured series and bound series on the same grid, with everything needed to recompute.

    ``method`` is ``"deterministic"``, ``"exact-expectation"`` or ``"monte-carlo"`` (then
    ``stderr`` and ``n_samples`` are set) or ``"fit"`` for scaling claims (then ``fit`` is set).
    For Monte Carlo evidence, ``sample_range`` (scalar or per grid point) is the width of an interval
    known to contain every sample; it buys a finite-sample (empirical Bernstein) confidence bound
    instead of the asymptotic Student-t interval.  ``premise_unmet`` (scaling claims) says why the grid
    lies outside the regime the claimed law describes (e.g. a horizon below the instance's asymptotic
    onset); the verdict is then *inconclusive* whatever the fit says.
    """

    grid_name: str
    grid: np.ndarray
    measured: np.ndarray
    bound: np.ndarray
    method: str = "deterministic"
    stderr: np.ndarray | None = None
    n_samples: int = 1
    sample_range: Any = None
    constants: dict = field(default_factory=dict)
    instance: dict = field(default_factory=dict)
    seed: int = 0
    rtol: float = RTOL
    atol: float = ATOL
    series: dict = field(default_factory=dict)
    proofs: list = field(default_factory=list)
    fit: Any = None
    predicted_exponent: float | None = None
    note: str = ""
    premise_unmet: str = ""

    def __post_init__(self):
        self.grid = np.asarray(self.grid, dtype=float)
        self.measured = np.asarray(self.measured, dtype=float)
        self.bound = np.broadcast_to(np.asarray(self.bound, dtype=float), self.measured.shape).copy()
        if self.stderr is not None:
            self.stderr = np.asarray(self.stderr, dtype=float)


@dataclass
class Verdict:
    """One record per (claim, instance)."""

    claim: str
    title: str
    paper: str
    provenance: str
    provenance_note: str
    kind: str
    verdict: str
    expected: str
    tightness: float | None
    worst_at: dict
    instance: dict
    seed: int
    method: str
    detail: str
    constants: dict
    seconds: float = 0.0
    evidence: Evidence | None = field(default=None, repr=False)
    #: the claim's outcome over all its instances (:func:`outcome`), set by :func:`check`
    claim_verdict: str | None = None

    @property
    def unexpected(self) -> bool:
        """Whether this record counts against the exit status (inconclusive never passes silently).

        A claim expected to hold is let down by each instance that does not hold.  A teeth variant
        (expected ``violated``) is judged as a claim: one violating instance catches it, so once the
        claim-level outcome is known every one of its records says whether the variant was caught.
        """
        if self.expected == VIOLATED and self.claim_verdict is not None:
            return self.claim_verdict != VIOLATED
        return self.verdict != self.expected

    def to_dict(self) -> dict:
        d = {k: v for k, v in dataclasses.asdict(self).items() if k != "evidence"}
        d["unexpected"] = self.unexpected
        d.update(_tightness_fields(self.tightness))
        return _jsonable(d)


def _tightness_fields(t) -> dict:
    """Tightness as a JSON number, or null with the reason when it is unbounded or undefined."""
    if t is None:
        return {"tightness": None, "tightness_note": "no ratio (no finite grid point, or a bound equal to zero)"}
    if not math.isfinite(t):
        return {
            "tightness": None,
            "tightness_note": "unbounded: the measured value is positive (or diverged) where "
            "the bound is zero or smaller",
        }
    return {"tightness": float(t), "tightness_note": ""}


def claim_tightness(verdicts: Sequence[Verdict]) -> float | None:
    """The claim-level tightness: the largest over its instances (``inf`` when some instance is unbounded)."""
    t = [v.tightness for v in verdicts if v.tightness is not None and not math.isnan(v.tightness)]
    return max(t) if t else None


def summarize(verdicts: Sequence[Verdict]) -> list[dict]:
    """Claim-level records, one per claim in order of appearance: the outcome over its instances, for
    teeth whether the variant was caught, the tightness (as in :func:`claim_tightness`) and the worst
    instance (the first violating one, else the tightest)."""
    groups: dict[str, list[Verdict]] = {}
    for v in verdicts:
        groups.setdefault(v.claim, []).append(v)
    rows = []
    for cid, vs in groups.items():
        status, unexpected = outcome(vs)
        bad = [v for v in vs if v.verdict == VIOLATED]
        worst = (
            bad[0]
            if bad
            else max(vs, key=lambda v: -math.inf if v.tightness is None or math.isnan(v.tightness) else v.tightness)
        )
        row = {
            "claim": cid,
            "title": vs[0].title,
            "paper": vs[0].paper,
            "provenance": vs[0].provenance,
            "provenance_note": vs[0].provenance_note,
            "kind": vs[0].kind,
            "verdict": status,
            "expected": vs[0].expected,
            "unexpected": unexpected,
            "caught": (status == VIOLATED) if vs[0].expected == VIOLATED else None,
            **_tightness_fields(claim_tightness(vs)),
            "instances": len(vs),
            "worst_instance": worst.instance,
            "worst_seed": worst.seed,
            "worst_detail": worst.detail,
            "seconds": float(sum(v.seconds for v in vs)),
        }
        rows.append(_jsonable(row))
    return rows


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (np.floating, float)):
        v = float(x)
        return v if math.isfinite(v) else str(v)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, (str, int, bool)) or x is None:
        return x
    return str(x)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        r = np.where(den > 0, num / den, np.where(num > 0, np.inf, 0.0))
    return np.where(np.isnan(r), np.inf, r)


#: A point whose measured value passes the bound only thanks to more slack than this fraction of the
#: bound is no evidence that the bound holds (the tolerance would be swallowing the bound).
SLACK_FRACTION = 0.01


def _undecided(ev: Evidence) -> np.ndarray:
    """Grid points that are no evidence either way: a non-finite bound, or a NaN measured value.  An
    infinite measured value is evidence: +inf against a finite upper bound is a divergence (violated),
    +inf against a lower bound a cost never reached (consistent with it)."""
    return ~np.isfinite(ev.bound) | np.isnan(ev.measured)


def _tight(ratio: np.ndarray, ok: np.ndarray) -> tuple[float | None, int]:
    if not ok.any():
        return None, 0
    r = np.where(ok, ratio, -np.inf)
    i = int(np.argmax(r))
    return float(r[i]), i


def _slack(ev: Evidence, b: np.ndarray) -> np.ndarray:
    fin = np.isfinite(b)
    scale = max(1.0, float(np.max(np.abs(b[fin])))) if fin.any() else 1.0
    return np.abs(np.where(fin, b, 0.0)) * ev.rtol + ev.atol * scale


def _undecided_detail(ev: Evidence, und: np.ndarray) -> str:
    i = int(np.argmax(und))
    what = (
        f"the bound is {ev.bound[i]:g}" if not np.isfinite(ev.bound[i]) else f"the measured value is {ev.measured[i]:g}"
    )
    return (
        f"{int(und.sum())} of {und.size} grid points are no evidence ({what} at {ev.grid_name}={ev.grid[i]:g}); "
        "non-finite numbers are never evidence"
    )


def _swallowed(m, b, ok) -> np.ndarray:
    """Points where the measured value exceeds a nonzero bound by more than SLACK_FRACTION of it and
    passes only because of the slack (the tolerance would be swallowing the bound)."""
    with np.errstate(invalid="ignore", over="ignore"):
        return ok & (b != 0) & (m - b > SLACK_FRACTION * np.abs(b))


def _mc_half_width(ev: Evidence, se: np.ndarray) -> tuple[np.ndarray, str]:
    r"""Half-width of the one-sided confidence bounds of a Monte Carlo mean, and what guarantees it.

    The level is :data:`CONFIDENCE` family-wise over the grid (Bonferroni: :math:`\delta=(1-C)/k` per
    point and side).  With ``ev.sample_range`` :math:`R` (every sample lies in an interval of width
    :math:`R`) the bound is the empirical Bernstein inequality of Maurer & Pontil (2009, Thm. 4), valid
    for any law and any sample size :math:`n`:
    :math:`\sqrt{2V\ln(2/\delta)/n}+7R\ln(2/\delta)/(3(n-1))`, :math:`V` the sample variance.  Without
    a known range the Student-t interval is used, and the detail says it is asymptotic (it can be
    confidently wrong when an outcome of small probability is never drawn).
    """
    n = max(int(ev.n_samples), 2)
    k = max(1, ev.measured.size)
    delta = (1 - CONFIDENCE) / k
    if ev.sample_range is not None:
        R = np.broadcast_to(np.asarray(ev.sample_range, dtype=float), ev.measured.shape)
        V = se**2 * n
        L = np.log(2 / delta)
        half = np.sqrt(2 * V * L / n) + 7 * R * L / (3 * (n - 1))
        return half, (
            f"{n} samples; finite-sample {100 * CONFIDENCE:g}% family-wise bound (empirical Bernstein, "
            "samples in a known range)"
        )
    q = scipy.stats.t.ppf(1 - delta, df=n - 1)
    return q * se, (
        f"{n} samples; asymptotic {100 * CONFIDENCE:g}% family-wise interval (Student t: no finite-sample "
        "guarantee, the samples have no known range)"
    )


def confidence_interval(ev: Evidence) -> tuple[np.ndarray, np.ndarray, str]:
    """The confidence interval that decides a Monte Carlo verdict, per grid point: ``(lower, upper,
    guarantee)`` (:func:`_mc_half_width`, the same level and inequality the judgement uses); points without a
    finite standard error get a NaN interval.  Figures draw this band, so what is shown is what was judged."""
    if ev.method != "monte-carlo" or ev.stderr is None:
        raise ValueError(f"a confidence interval needs Monte Carlo evidence, got method {ev.method!r}")
    se_ok = np.isfinite(ev.stderr)
    half, guarantee = _mc_half_width(ev, np.where(se_ok, ev.stderr, 0.0))
    half = np.where(se_ok, half, np.nan)
    return ev.measured - half, ev.measured + half, guarantee


def evidence_series(ev: Evidence | None) -> dict | None:
    """The series of one piece of evidence as JSON-ready lists (what a figure draws): the grid (its name
    and values), measured, bound, the deciding confidence interval of a Monte Carlo mean (``ci_low``,
    ``ci_high``, ``ci_guarantee``), the instance, the seed, and for a scaling claim its fit (slope, interval,
    predicted exponent).  ``None`` when the evidence has no series (a symbolic claim).  Non-finite numbers are
    written as strings (``"inf"``, ``"nan"``), as everywhere in the records."""
    if ev is None or ev.measured.size == 0:
        return None
    out = {
        "grid_name": ev.grid_name,
        "grid": ev.grid,
        "measured": ev.measured,
        "bound": ev.bound,
        "method": ev.method,
        "instance": dict(ev.instance),
        "seed": ev.seed,
    }
    if ev.method == "monte-carlo" and ev.stderr is not None:
        lo, hi, guarantee = confidence_interval(ev)
        out.update(ci_low=lo, ci_high=hi, ci_guarantee=guarantee, n_samples=int(ev.n_samples))
    if ev.fit is not None:
        out["fit"] = {
            "slope": float(ev.fit.slope),
            "interval_low": float(ev.fit.interval[0]),
            "interval_high": float(ev.fit.interval[1]),
            "confidence": float(ev.fit.confidence),
            "form": ev.fit.form,
            "predicted_exponent": None if ev.predicted_exponent is None else float(ev.predicted_exponent),
        }
    return _jsonable(out)


def _upper(ev: Evidence) -> tuple[str, float | None, int, str]:
    m, b = ev.measured, ev.bound
    und = _undecided(ev)
    ok = ~und
    slack = _slack(ev, b)
    tight, worst = _tight(_ratio(m, b), ok)
    if ev.method == "monte-carlo":
        se_ok = np.isfinite(ev.stderr)
        # an infinite sample mean says only that some sample overflowed, i.e. mean >= MAX/n: no evidence
        # against a bound at least that large (a true bound that grows past 1e304 is not "diverged")
        with np.errstate(invalid="ignore"):
            censored = np.isposinf(m) & ~(b + slack < np.finfo(float).max / max(int(ev.n_samples), 1))
        und = und | ~se_ok | censored
        ok = ~und
        half, guarantee = _mc_half_width(ev, np.where(se_ok, ev.stderr, 0.0))
        lcb, ucb = m - half, m + half
        with np.errstate(invalid="ignore"):
            bad = ok & ~(lcb <= b + slack)
        if bad.any():
            i = int(np.argmax(bad))
            return (
                VIOLATED,
                tight,
                i,
                (
                    f"lower {100 * CONFIDENCE:g}% confidence bound of the mean ({lcb[i]:.6g}) exceeds "
                    f"the bound ({b[i]:.6g}) at {ev.grid_name}={ev.grid[i]:g}; {guarantee}"
                ),
            )
        if not ok.any():
            return INCONCLUSIVE, None, 0, _undecided_detail(ev, und)
        with np.errstate(invalid="ignore"):
            over = ok & ~(ucb <= b + slack)
        if over.any():
            i = int(np.argmax(over))
            return (
                INCONCLUSIVE,
                tight,
                i,
                (
                    f"confidence interval [{lcb[i]:.6g}, {ucb[i]:.6g}] straddles the bound "
                    f"{b[i]:.6g} at {ev.grid_name}={ev.grid[i]:g}; more samples needed; {guarantee}"
                ),
            )
        if und.any():
            return INCONCLUSIVE, tight, worst, _undecided_detail(ev, und)
        return HOLDS, tight, worst, f"upper confidence bound below the bound at every point; {guarantee}"
    with np.errstate(invalid="ignore"):
        bad = ok & ~(m <= b + slack)
    if bad.any():
        i = int(np.argmax(bad))
        grows = " (the measured value diverged)" if np.isposinf(m[i]) else ""
        return VIOLATED, tight, i, f"measured {m[i]:.6g} > bound {b[i]:.6g} at {ev.grid_name}={ev.grid[i]:g}{grows}"
    if not ok.any():
        return INCONCLUSIVE, None, 0, _undecided_detail(ev, und)
    sw = _swallowed(m, b, ok)
    if sw.any():
        i = int(np.argmax(sw))
        return (
            INCONCLUSIVE,
            tight,
            i,
            (
                f"measured {m[i]:.6g} exceeds the bound {b[i]:.6g} at {ev.grid_name}={ev.grid[i]:g} "
                f"by more than {100 * SLACK_FRACTION:g}% of it and passes only by the tolerance "
                f"({slack[i]:.3g}): no evidence either way"
            ),
        )
    if und.any():
        return INCONCLUSIVE, tight, worst, _undecided_detail(ev, und)
    return HOLDS, tight, worst, f"measured <= bound at all {m.size} grid points (rtol={ev.rtol:g})"


def _lower(ev: Evidence) -> tuple[str, float | None, int, str]:
    m, b = ev.measured, ev.bound
    und = _undecided(ev)
    ok = ~und
    slack = np.abs(np.where(np.isfinite(b), b, 0.0)) * ev.rtol + ev.atol
    # bound/measured means nothing where the measured value is <= 0: tightness over the other points, said so
    with np.errstate(invalid="ignore"):
        pos = ok & (m > 0)
    tight, worst = _tight(_ratio(b, m), pos)
    nonpos = int((ok & ~pos).sum())
    note = (
        f"; tightness (bound/measured) over the {int(pos.sum())} points with a positive measured value only "
        f"({nonpos} have measured <= 0, e.g. {m[int(np.argmax(ok & ~pos))]:.6g})"
        if nonpos
        else ""
    )
    with np.errstate(invalid="ignore"):
        bad = ok & ~(m >= b - slack)
    if bad.any():
        i = int(np.argmax(bad))
        return (
            VIOLATED,
            tight,
            i,
            f"measured {m[i]:.6g} < lower bound {b[i]:.6g} at {ev.grid_name}={ev.grid[i]:g}" + note,
        )
    if not ok.any():
        return INCONCLUSIVE, None, 0, _undecided_detail(ev, und)
    sw = _swallowed(-m, -b, ok)
    if sw.any():
        i = int(np.argmax(sw))
        return (
            INCONCLUSIVE,
            tight,
            i,
            (
                f"measured {m[i]:.6g} is below the lower bound {b[i]:.6g} at "
                f"{ev.grid_name}={ev.grid[i]:g} by more than {100 * SLACK_FRACTION:g}% of it and "
                f"passes only by the tolerance ({slack[i]:.3g})" + note
            ),
        )
    if und.any():
        return INCONCLUSIVE, tight, worst, _undecided_detail(ev, und) + note
    return HOLDS, tight, worst, f"measured >= bound at all {m.size} grid points" + note


def _scaling(ev: Evidence) -> tuple[str, float | None, int, str]:
    fit = ev.fit
    if fit is None or ev.predicted_exponent is None:
        return (
            INCONCLUSIVE,
            None,
            0,
            (
                "no fitted exponent in this evidence: a scaling law is judged across instances "
                "(run it through `ratecheck sweep` / verify.sweep.check_scaling)"
            ),
        )
    pred = ev.predicted_exponent
    lo, hi = fit.interval
    tight = float(fit.slope / pred) if pred else None
    mode = ev.constants.get("scaling_mode", "equal")
    tol = ev.constants.get("exponent_tolerance", 0.0)
    if ev.premise_unmet:
        return (
            INCONCLUSIVE,
            tight,
            0,
            (
                f"not judged: {ev.premise_unmet} (fitted exponent {fit.slope:.3f} "
                f"[{lo:.3f}, {hi:.3f}] vs predicted {pred:.3f}, recorded only)"
            ),
        )
    if mode == "at-most":
        txt = f"fitted exponent {fit.slope:.3f} [{lo:.3f}, {hi:.3f}] vs predicted <= {pred:.3f}" + (
            f" (tolerance {tol:g})" if tol else ""
        )
        if lo > pred + tol:
            return VIOLATED, tight, 0, txt
        return (HOLDS if fit.slope <= pred + tol else INCONCLUSIVE), tight, 0, txt
    if lo - tol <= pred <= hi + tol:
        return (
            HOLDS,
            tight,
            0,
            f"predicted exponent {pred:.3f} inside the fitted interval [{lo:.3f}, {hi:.3f}] (slope {fit.slope:.3f})",
        )
    return (
        VIOLATED,
        tight,
        0,
        f"predicted exponent {pred:.3f} outside the fitted interval [{lo:.3f}, {hi:.3f}] (slope {fit.slope:.3f})",
    )


def judge(claim: Claim, ev: Evidence, seconds: float = 0.0) -> Verdict:
    """Turn evidence into a :class:`Verdict` following the semantics of the module docstring."""
    details = []
    if claim.kind in (Kind.UPPER, Kind.LOWER) and ev.measured.size and not np.isfinite(ev.bound).any():
        raise UsageError(
            f"claim {claim.id}: the bound is not finite at any grid point (at {ev.grid_name}="
            f"{ev.grid[0]:g} it is {ev.bound[0]:g}); check its formula and the constants it uses"
        )
    if claim.kind is Kind.SCALING:
        verdict, tight, i, detail = _scaling(ev)
    elif claim.kind is Kind.LOWER:
        verdict, tight, i, detail = _lower(ev)
    else:
        verdict, tight, i, detail = (HOLDS, None, 0, "") if ev.measured.size == 0 else _upper(ev)
    if detail:
        details.append(detail)
    if claim.kind is Kind.IDENTITY:
        for p in ev.proofs:
            details.append(
                f"{p.statement}: {'proved' if p.method == 'sympy' and p.holds else ('holds' if p.holds else 'REFUTED')} ({p.method}: {p.detail})"
            )
            if not p.holds:
                verdict = VIOLATED
    if ev.measured.size and np.all(ev.bound == 0):
        tight = None  # an equality "measured == 0": no ratio to report
    worst_at = {}
    if ev.grid.size:
        worst_at = {ev.grid_name: float(ev.grid[i]), "measured": float(ev.measured[i]), "bound": float(ev.bound[i])}
    methods = [ev.method] if ev.measured.size else []
    methods += sorted({p.method for p in ev.proofs})
    return Verdict(
        claim=claim.id,
        title=claim.title,
        paper=claim.paper,
        provenance=claim.provenance.value,
        provenance_note=claim.provenance_note,
        kind=claim.kind.value,
        verdict=verdict,
        expected=VIOLATED if claim.expected_to_fail else HOLDS,
        tightness=tight,
        worst_at=worst_at,
        instance=dict(ev.instance),
        seed=ev.seed,
        method="+".join(methods) or "none",
        detail="; ".join(details),
        constants={k: v for k, v in ev.constants.items() if np.ndim(v) == 0},
        seconds=seconds,
        evidence=ev,
    )


def outcome(verdicts: Sequence[Verdict]) -> tuple[str, bool]:
    """Claim-level outcome of one claim's verdicts over its instances: ``(status, unexpected)``.

    A claim holds when it holds on every instance; one violating instance refutes it (a
    counterexample).  For a claim marked ``expected_to_fail`` the outcome is unexpected unless some
    instance reports ``violated``; otherwise it is unexpected unless every instance ``holds``.
    """
    if not verdicts:
        return INCONCLUSIVE, True
    states = {v.verdict for v in verdicts}
    status = VIOLATED if VIOLATED in states else (INCONCLUSIVE if INCONCLUSIVE in states else HOLDS)
    return status, status != verdicts[0].expected
