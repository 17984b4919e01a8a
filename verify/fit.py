r"""Scaling-law fits: log-log slopes with confidence intervals, offset and piecewise forms, bootstrap over seeds.

Forms (``form=``):

* ``"power"``: :math:`\log y=a+s\log x+\varepsilon`, least squares; the slope's interval from the Student t
  distribution of the residuals (at least three distinct x values);
* ``"offset"``: :math:`y=c_0+e^{a}x^{s}` with :math:`c_0\ge0` (a claim with a constant term, e.g. a noise
  floor), nonlinear least squares on :math:`\log y`; interval from the Gauss-Newton covariance and the t
  distribution with ``n-3`` degrees of freedom (at least four distinct x values);
* ``"piecewise"``: two log-log segments joined continuously at a breakpoint chosen by least squares (searched
  over the interior x values, then refined between neighbours); the reported slope is the **last** segment's (the large-x regime a rate describes),
  its interval conditional on the breakpoint (at least four distinct x values).

:func:`scaling_fit` adds the seeds: with several replicates per x it fits through the per-x geometric means,
bootstraps over the replicates (whole seeds resampled with replacement) and reports the hull of the bootstrap
percentile interval (seed-to-seed variability) and the parametric interval (misfit across x).
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.optimize
import scipy.stats

from .errors import UsageError
from .verdict import Evidence

__all__ = [
    "Fit",
    "loglog_fit",
    "fit_evidence",
    "offset_fit",
    "piecewise_fit",
    "scaling_fit",
    "windowed_decay_rate",
    "FORMS",
    "MIN_DISTINCT",
    "FIT_LINES",
    "plot_exponents",
]

FORMS = ("power", "offset", "piecewise")
MIN_DISTINCT = {"power": 3, "offset": 4, "piecewise": 4}  #: distinct x values a form needs for an interval
FIT_LINES = ("fit", "predicted", "none")  #: what :func:`fit_evidence` draws in place of a bound


@dataclass(frozen=True)
class Fit:
    """Fitted ``y ~ offset + C * x**slope``: slope, its two-sided interval, intercept log C and R^2.

    ``form`` is ``power``, ``offset`` or ``piecewise`` (then ``breakpoint`` is the x where the last
    segment starts and ``predict`` follows both segments); ``method`` says where the interval comes from
    (``t``, or ``bootstrap+t`` over seeds).
    """

    slope: float
    interval: tuple[float, float]
    intercept: float
    r2: float
    n_points: int
    confidence: float
    form: str = "power"
    method: str = "t"
    offset: float = 0.0
    breakpoint: float | None = None
    first_slope: float | None = None
    n_boot: int = 0

    def predict(self, x):
        x = np.asarray(x, dtype=float)
        if self.form == "piecewise" and self.breakpoint is not None:
            lb = np.log(self.breakpoint)
            lx = np.log(x)
            ly = self.intercept + self.first_slope * lx + (self.slope - self.first_slope) * np.maximum(lx - lb, 0)
            return np.exp(ly)
        return self.offset + np.exp(self.intercept) * x**self.slope

    def to_dict(self) -> dict:
        return {
            "slope": self.slope,
            "interval": list(self.interval),
            "intercept": self.intercept,
            "r2": self.r2,
            "n_points": self.n_points,
            "confidence": self.confidence,
            "form": self.form,
            "method": self.method,
            "offset": self.offset,
            "breakpoint": self.breakpoint,
            "first_slope": self.first_slope,
            "n_boot": self.n_boot,
        }


def _prepare(x, y, min_distinct: int, what: str) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if x.shape != y.shape:
        raise UsageError(f"x and y must have the same length, got {x.size} and {y.size}")
    if np.any(~np.isfinite(x)) or np.any(~np.isfinite(y)) or np.any(x <= 0) or np.any(y <= 0):
        raise UsageError("a log-log fit needs finite, positive x and y")
    if np.unique(x).size < min_distinct:
        raise UsageError(f"{what} with an interval needs at least {min_distinct} distinct x values")
    return x, y


def _tq(confidence: float, dof: int) -> float:
    return float(scipy.stats.t.ppf(0.5 + confidence / 2, dof)) if dof > 0 else np.inf


def _r2(ly, pred) -> float:
    ss = float(np.sum((ly - ly.mean()) ** 2))
    return 1.0 - float(np.sum((ly - pred) ** 2)) / ss if ss > 0 else 1.0


def loglog_fit(x, y, confidence: float = 0.95) -> Fit:
    """Least-squares fit of ``log y`` against ``log x`` with a ``confidence`` interval for the slope."""
    x, y = _prepare(x, y, 3, "a log-log fit")
    lx, ly = np.log(x), np.log(y)
    res = scipy.stats.linregress(lx, ly)
    half = _tq(confidence, x.size - 2) * res.stderr
    return Fit(
        float(res.slope),
        (float(res.slope - half), float(res.slope + half)),
        float(res.intercept),
        float(res.rvalue**2),
        int(x.size),
        confidence,
    )


def fit_evidence(
    claim,
    grid_name: str,
    x,
    y,
    constants: dict,
    *,
    mode: str,
    tolerance: float,
    line: str = "fit",
    exponent: float | None = None,
    **evidence,
) -> Evidence:
    """Evidence of a scaling claim from a :func:`loglog_fit` of ``y`` against ``x``: the claim's predicted exponent
    at ``constants`` (or ``exponent``, e.g. a law's; ``constants`` gain ``exponent_tolerance`` = ``tolerance`` and
    ``scaling_mode`` = ``mode``: ``"equal"`` or ``"at-most"``), and in place of a bound the ``line``: the fitted line
    (``"fit"``), the predicted slope through the first point (``"predicted"``) or none (``"none"``, NaN).
    ``evidence`` adds further :class:`Evidence` fields (``instance``, ``seed``, ``note``, ``n_samples``, ...)."""
    if line not in FIT_LINES:
        raise ValueError(f"line must be one of {', '.join(FIT_LINES)}, got {line!r}")
    fit = loglog_fit(x, y)
    constants.update(exponent_tolerance=tolerance, scaling_mode=mode)
    pred = claim.predicted_exponent(**constants) if exponent is None else exponent
    if line == "fit":
        ref = fit.predict(x)
    else:
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        ref = y[0] * (x / x[0]) ** pred if line == "predicted" else np.full_like(y, np.nan)
    return Evidence(
        grid_name, x, y, ref, method="fit", fit=fit, predicted_exponent=pred, constants=constants, **evidence
    )


def offset_fit(x, y, confidence: float = 0.95) -> Fit:
    r"""Fit ``y = c0 + C x**s`` (``c0 >= 0``) by nonlinear least squares on ``log y``."""
    x, y = _prepare(x, y, 4, "an offset fit")
    lx, ly = np.log(x), np.log(y)
    start = scipy.stats.linregress(lx, ly)

    def resid(th):
        a, s, c0 = th
        return np.log(c0 + np.exp(a + s * lx)) - ly

    c0_max = float(y.min())  # the offset cannot exceed the smallest response
    best = None
    for c0 in (0.0, 0.5 * c0_max, 0.9 * c0_max):
        th0 = np.array([start.intercept, start.slope, c0])
        if c0 > 0:  # refit the power part to y - c0
            lin = scipy.stats.linregress(lx, np.log(np.maximum(y - c0, 1e-300)))
            th0[:2] = lin.intercept, lin.slope
        r = scipy.optimize.least_squares(
            resid, th0, bounds=([-np.inf, -np.inf, 0.0], [np.inf, np.inf, c0_max]), method="trf", x_scale="jac"
        )
        if best is None or r.cost < best.cost:
            best = r
    a, s, c0 = best.x
    dof = x.size - 3
    sse = 2 * best.cost
    J = best.jac
    try:
        cov = np.linalg.pinv(J.T @ J) * (sse / dof if dof > 0 else np.inf)
        se = float(np.sqrt(max(cov[1, 1], 0.0)))
    except np.linalg.LinAlgError:  # pragma: no cover - degenerate design
        se = np.inf
    half = _tq(confidence, dof) * se
    return Fit(
        float(s),
        (float(s - half), float(s + half)),
        float(a),
        _r2(ly, ly + resid(best.x)),
        int(x.size),
        confidence,
        form="offset",
        offset=float(c0),
    )


def piecewise_fit(x, y, confidence: float = 0.95) -> Fit:
    """Two log-log segments joined at the best interior breakpoint; the slope is the last segment's."""
    x, y = _prepare(x, y, 4, "a piecewise fit")
    lx, ly = np.log(x), np.log(y)
    ux = np.unique(lx)

    def solve(lb):
        A = np.column_stack([np.ones_like(lx), lx, np.maximum(lx - lb, 0.0)])
        coef, *_ = np.linalg.lstsq(A, ly, rcond=None)
        return float(np.sum((A @ coef - ly) ** 2)), lb, coef, A

    best = min((solve(lb) for lb in ux[1:-1]), key=lambda r: r[0])  # at least two distinct x per segment
    k = int(np.searchsorted(ux, best[1]))
    lo, hi = ux[max(k - 1, 1)], ux[min(k + 1, ux.size - 2)]
    if hi > lo:  # refine the breakpoint between the neighbouring x values
        r = scipy.optimize.minimize_scalar(
            lambda b: solve(b)[0], bounds=(lo, hi), method="bounded", options={"xatol": 1e-10}
        )
        cand = solve(float(r.x))
        if cand[0] < best[0]:
            best = cand
    sse, lb, coef, A = best
    dof = x.size - 3
    cov = np.linalg.pinv(A.T @ A) * (sse / dof if dof > 0 else np.inf)
    g = np.array([0.0, 1.0, 1.0])  # last slope = s1 + (s2 - s1)
    se = float(np.sqrt(max(g @ cov @ g, 0.0)))
    s2 = float(coef[1] + coef[2])
    half = _tq(confidence, dof) * se
    return Fit(
        s2,
        (s2 - half, s2 + half),
        float(coef[0]),
        _r2(ly, A @ coef),
        int(x.size),
        confidence,
        form="piecewise",
        breakpoint=float(np.exp(lb)),
        first_slope=float(coef[1]),
    )


_FITTERS = {"power": loglog_fit, "offset": offset_fit, "piecewise": piecewise_fit}


def scaling_fit(
    x, y, replicate=None, form: str = "power", confidence: float = 0.95, n_boot: int | None = None, seed: int = 0
) -> Fit:
    """Fit ``form`` through the per-x geometric means of ``y``; with replicates, bootstrap over them.

    ``replicate`` labels the seed of every point.  Points with the same label are one replicate's curve (in a
    sweep, the seed of a scaling unit ignores x: common random numbers), so the bootstrap resamples whole
    replicates with replacement and refits the means; without labels, repeated x values are resampled within
    each x.  The interval is the hull of the bootstrap percentile interval (seed-to-seed variability) and the
    parametric interval of the fit through the means (misfit across x).
    """
    if form not in _FITTERS:
        raise UsageError(f"fit form must be one of {', '.join(FORMS)}, got {form!r}")
    fitter = _FITTERS[form]
    x, y = _prepare(x, y, 1, "a scaling fit")
    ux, xi = np.unique(x, return_inverse=True)
    ly = np.log(y)
    if replicate is None:
        counts = np.bincount(xi)
        rep = np.zeros(x.size, dtype=int)
        for k in range(ux.size):  # the j-th point at each x: only used to resample within x
            rep[xi == k] = np.arange(counts[k])
        paired = False
    else:
        _, rep = np.unique(np.asarray(replicate).ravel(), return_inverse=True)
        if rep.size != x.size:
            raise UsageError(f"replicate must label every point, got {rep.size} labels for {x.size} points")
        paired = True
    R = int(rep.max()) + 1
    Y = np.full((R, ux.size), np.nan)  # log y of replicate r at x_k
    Y[rep, xi] = ly
    means = np.nanmean(Y, axis=0)
    fit = fitter(ux, np.exp(means), confidence)
    if R < 2:
        return fit
    B = n_boot or (2000 if form == "power" else 200)
    rng = np.random.default_rng(seed)
    if paired:
        Yb = Y[rng.integers(0, R, size=(B, R))]  # (B, R, X): whole replicates
    else:
        cnt = np.sum(np.isfinite(Y), axis=0)
        rows = (rng.random((B, R, ux.size)) * cnt).astype(int)  # within each x, among its own points
        Yb = Y[rows, np.arange(ux.size)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-missing column: that sample is dropped
        mb = np.nanmean(Yb, axis=1)  # (B, X) bootstrap means
    mb = mb[np.all(np.isfinite(mb), axis=1)]
    if form == "power":
        c = np.log(ux) - np.log(ux).mean()
        slopes = (mb @ c) / (c @ c)
    else:
        slopes = np.empty(mb.shape[0])
        for b in range(mb.shape[0]):
            try:
                slopes[b] = fitter(ux, np.exp(mb[b]), confidence).slope
            except UsageError:
                slopes[b] = np.nan
        slopes = slopes[np.isfinite(slopes)]
    if slopes.size == 0:
        return fit
    lo, hi = np.quantile(slopes, [0.5 - confidence / 2, 0.5 + confidence / 2])
    interval = (float(min(lo, fit.interval[0])), float(max(hi, fit.interval[1])))
    return dataclasses.replace(
        fit, interval=interval, method="bootstrap+t", n_boot=int(slopes.size), n_points=int(x.size)
    )


def windowed_decay_rate(D, window: int, floor: float, rounding_floor: float) -> tuple[np.ndarray, np.ndarray]:
    r"""Windowed linear rate of a distance series: :math:`-\frac1w\log(E_k/E_{k-w})` at window ends
    :math:`k=w,\,w+\lceil w/2\rceil,\dots`, with :math:`E_k=\max_{j\ge k}D_j` the suffix-max envelope.

    The envelope makes the rate a lower bound on the decay over the window (a non-monotone run is measured
    by its worst later value).  It is compared while :math:`E_k\ge` ``floor`` :math:`D_0`.  Once :math:`D`
    has reached ``rounding_floor`` :math:`D_0` only rounding noise is left, which drifts back up: the
    envelope is then built on the run up to its smallest distance; a run that never gets there (e.g. one
    that diverges) is measured whole, and a run shorter than one window over its whole length.  A rate that
    is not finite (a distance that overflows or vanishes) is :math:`-\infty`, a violation of any lower bound.

    Returns ``(ends, rates)``.
    """
    D = np.asarray(D, dtype=float)
    w = int(window)
    with np.errstate(invalid="ignore"):
        kmin = int(np.nanargmin(np.where(np.isfinite(D), D, np.nan))) if np.isfinite(D).any() else len(D) - 1
    stop = kmin + 1 if D[kmin] <= rounding_floor * D[0] else len(D)
    env = np.maximum.accumulate(D[:stop][::-1])[::-1]
    keep = np.flatnonzero(env >= floor * D[0])
    last = int(keep[-1]) if keep.size else 0
    ends = np.arange(w, last + 1, max(1, w // 2))
    if ends.size == 0:
        ends = np.array([min(w, len(env) - 1)])
    starts = np.maximum(ends - w, 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = -(np.log(env[ends]) - np.log(env[starts])) / np.maximum(ends - starts, 1)
    return ends, np.where(np.isfinite(rate), rate, -np.inf)


def plot_exponents(verdicts, path, title: str = "Scaling claims: fitted vs predicted exponents") -> str:
    """One marker per scaling verdict: fitted exponent (with its interval) against the predicted one."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    pts = [
        (v.claim, v.evidence.predicted_exponent, v.evidence.fit, v.verdict)
        for v in verdicts
        if v.evidence is not None and v.evidence.fit is not None and v.evidence.predicted_exponent is not None
    ]
    fig = Figure(figsize=(5, 5))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    if pts:
        p = np.array([q[1] for q in pts])
        s = np.array([q[2].slope for q in pts])
        lo = np.array([q[2].interval[0] for q in pts])
        hi = np.array([q[2].interval[1] for q in pts])
        lim = [min(p.min(), lo.min()) - 0.2, max(p.max(), hi.max()) + 0.2]
        ax.plot(lim, lim, color="0.6", lw=1, ls="--", label="fitted = predicted")
        for (cid, pe, f, verdict), si, l, h in zip(pts, s, lo, hi):
            color = {"holds": "tab:green", "violated": "tab:red"}.get(verdict, "tab:orange")
            ax.errorbar([pe], [si], yerr=[[si - l], [h - si]], fmt="o", color=color, capsize=3)
            ax.annotate(cid, (pe, si), textcoords="offset points", xytext=(5, 5), fontsize=7)
        ax.set_xlim(lim)
        ax.set_ylim(lim)
    ax.set_xlabel("predicted exponent")
    ax.set_ylabel("fitted exponent (interval)")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return str(path)
