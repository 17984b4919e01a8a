r"""Publication figures of one claim: measured against the bound, in a venue's style, as a vector file.

:func:`plot` checks a claim (``verify.check``) and returns a :class:`matplotlib.figure.Figure`;
:func:`claim_figure` draws one from verdicts already computed (the report does).  What is drawn:

* axes labelled with the measure's mathematical name (:mod:`verify.figures.labels`) and the grid variable;
* the bound as a dashed line named by its formula (the claim's LaTeX, typeset by mathtext);
* rates whose bound decays geometrically in the grid variable (:math:`(1-\gamma\mu)^T`) on semilog-y axes,
  other rates on log-log axes; values :math:`\le 0` (or beyond :math:`10^{150}`) are never drawn on a log
  axis but masked, and the figure says how many;
* for Monte Carlo evidence the band of the confidence interval the verdict was decided on
  (:func:`verify.verdict.confidence_interval`: same level, same inequality);
* the worst point marked (largest measured/bound); for a violated claim, and in particular a teeth
  variant caught as intended, the point where it breaks;
* for a scaling claim the measured points, the fitted slope with its confidence interval (a shaded fan)
  and the predicted slope through the same centre;
* samples (grids ``sample``, ``row``) as points, never joined by a line.

Styles: ``plain`` (matplotlib defaults, 5.5 x 3.6 in) or a venue's column width, fonts and sizes from
`tueplots <https://github.com/pnkraemer/tueplots>`_ (``icml``, ``neurips``, ``iclr``, ``jmlr``), with
mathtext instead of a TeX installation.  No backend is selected here.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import shutil
import tempfile
from pathlib import Path

import matplotlib
import numpy as np
import sympy as sp
from matplotlib.figure import Figure

from ratecheck import theorems
from ratecheck.theorems import Kind

from .. import experiments as _exps
from ..checking import check
from ..errors import UsageError, close_match
from ..outputs import writable
from ..verdict import CONFIDENCE, VIOLATED, Verdict, confidence_interval, evidence_series
from .labels import grid_label, mathtext_ok, measure_label
from .style import COLORS, tidy_log_ticks

try:  # the venue styles (a dependency; without it only the plain style is available)
    from tueplots import bundles
except ImportError:  # pragma: no cover - depends on the installation
    bundles = None

__all__ = [
    "STYLES",
    "FORMATS",
    "plot",
    "claim_figure",
    "style_rc",
    "save_figure",
    "save_drawn_png",
    "series_csv",
    "text_fits",
    "telling",
    "resolve_claim",
]

STYLES = ("plain", "icml", "neurips", "iclr", "jmlr")
FORMATS = ("pdf", "svg", "pgf", "png")
#: beyond this magnitude log axes overflow while placing ticks: such values are masked (and counted)
BIG = 1e150
#: a log axis shows at most this many decades below its largest value (values below are counted as clipped)
DECADES = 16
#: text every file written by ``ratecheck plot`` carries (how a later run knows it may replace the file)
SIGNATURE = "ratecheck plot"
_SAMPLE_GRIDS = ("sample", "row")


def style_rc(style: str = "plain") -> dict:
    """rcParams of a style: ``plain`` or a venue (tueplots bundle, half-column width, mathtext)."""
    if style not in STYLES:
        raise UsageError(f"--style must be one of {', '.join(STYLES)}; got {style!r}")
    base = {"figure.figsize": (5.5, 3.6), "figure.dpi": 100, "savefig.dpi": 200, "axes.grid": True, "grid.alpha": 0.3}
    if style == "plain":
        return base
    if bundles is None:
        raise UsageError(
            f"--style {style} needs the tueplots package (python3 -m pip install tueplots); --style plain works without"
        )
    rc = {
        "icml": lambda: bundles.icml2024(column="half", usetex=False),
        "neurips": lambda: bundles.neurips2024(usetex=False),
        "iclr": lambda: bundles.iclr2024(usetex=False),
        "jmlr": lambda: bundles.jmlr2001(),
    }[style]()
    rc = dict(rc, **{"text.usetex": False, "axes.grid": True, "grid.alpha": 0.3, "savefig.dpi": 300})
    # the venue's serif font when installed, else a serif that ships with matplotlib (no font warning)
    rc["font.serif"] = list(rc.get("font.serif", [])) + ["DejaVu Serif"]
    rc["mathtext.fontset"] = "stix" if rc.get("font.family") in ("serif", ["serif"]) else "dejavusans"
    return rc


def resolve_claim(claim_id: str) -> theorems.Claim:
    """The registered claim or teeth variant ``claim_id``; unknown ids raise a one-line error with a suggestion."""
    if isinstance(claim_id, theorems.Claim):
        return claim_id
    known = [c.id for c in theorems.all()] + [t.id for c in theorems.all() for t in theorems.teeth(c.id)]
    if claim_id in known:
        return theorems.get(claim_id)
    raise UsageError(
        f"unknown claim {claim_id!r}{close_match(str(claim_id), known)}; the claims: `ratecheck list --teeth`"
    )


def telling(verdicts: list[Verdict]) -> Verdict | None:
    """The most telling verdict of a claim: a violated one first, else the tightest (the one to draw)."""
    vs = [v for v in verdicts if v.evidence is not None and v.evidence.measured.size]
    if not vs:
        return None
    return max(
        vs,
        key=lambda v: (
            v.verdict == VIOLATED,
            -math.inf if v.tightness is None or not math.isfinite(v.tightness) else v.tightness,
        ),
    )


def plot(
    claim_id,
    params: dict | None = None,
    *,
    seed: int = 0,
    style: str = "plain",
    quick: bool = False,
    experiment=None,
) -> Figure:
    """Check ``claim_id`` (on one instance ``params``, else its default instances) and draw it.

    Returns a :class:`matplotlib.figure.Figure` in ``style`` (:data:`STYLES`); save it with
    :func:`save_figure` (or ``fig.savefig``).  Example: ``verify.plot("ef21.pl-qm", style="icml")``.
    """
    claim = resolve_claim(claim_id)
    rc = style_rc(style)
    instances = None
    if params:
        exp = _exps.get(experiment or claim.experiment)
        exp.params(dict(params))
        instances = [dict(params)]
    verdicts = check(claim, experiment=experiment, instances=instances, seed=seed, quick=quick)
    return claim_figure(verdicts, claim, style=style, rc=rc, experiment=experiment)


#: the axes' box of a report figure in fixed layout (figure fractions): fits the labels of nearly every
#: claim's figure; :func:`text_fits` tells when it does not (the report then lays that figure out again)
FIXED_MARGINS = {"left": 0.15, "right": 0.97, "bottom": 0.14, "top": 0.925}


def claim_figure(
    verdicts: list[Verdict],
    claim=None,
    *,
    style: str = "plain",
    rc: dict | None = None,
    experiment=None,
    layout: str = "constrained",
):
    """Draw the most telling of a claim's ``verdicts`` (:func:`telling`) as a publication figure.

    ``layout="constrained"`` (publication figures) fits the axes to the labels when the figure is drawn;
    ``"fixed"`` (the report's many figures: a third cheaper) puts the axes at :data:`FIXED_MARGINS`
    unless a legend sits outside the axes, and the caller checks the result with :func:`text_fits`."""
    if layout not in ("constrained", "fixed"):
        raise UsageError(f"layout must be 'constrained' or 'fixed', got {layout!r}")
    v = telling(verdicts) or (verdicts[0] if verdicts else None)
    if v is None:
        raise UsageError("nothing to draw: no verdict")
    claim = claim if claim is not None else _claim_or_none(v.claim)
    rc = style_rc(style) if rc is None else rc
    exp = None
    name = experiment or (claim.experiment if claim is not None else None)
    if name:
        with contextlib.suppress(UsageError):
            exp = name if isinstance(name, _exps.Experiment) else _exps.get(name)
    with matplotlib.rc_context(rc):
        fig = Figure(layout="constrained" if layout == "constrained" else None)
        ax = fig.add_subplot()
        notes = draw_claim(ax, v, claim, exp)
        title = f"{v.claim}: {_verdict_word(v)}"
        ax.set_title(title, color=COLORS.get(v.verdict, "k") if v.expected != VIOLATED else "k", fontsize="medium")
        if notes:
            ax.text(0.01, 0.01, "\n".join(notes), transform=ax.transAxes, fontsize="x-small", va="bottom", color="0.35")
        if layout == "fixed":
            if fig.legends:  # a legend outside the axes: only the layout engine makes room for it
                fig.set_layout_engine("constrained")
            else:
                fig.subplots_adjust(**FIXED_MARGINS)
    fig._ratecheck_rc = rc  # saved with the same rcParams it was drawn with
    return fig


def text_fits(fig: Figure, renderer, slack: float = 0.5) -> bool:
    """Whether every text of a figure just drawn with ``renderer`` lies inside the canvas: titles, axis
    labels, the tick labels drawn (those inside the view), offset texts, notes and legends (pixels,
    ``slack`` allowed).  Cheap: it measures the texts of the last draw, it does not place ticks again."""
    W, H = fig.bbox.width, fig.bbox.height
    artists = list(fig.texts) + list(fig.legends)
    for ax in fig.axes:
        artists += [ax.title, ax._left_title, ax._right_title, *ax.texts]
        if ax.get_legend() is not None:
            artists.append(ax.get_legend())
        for axis in (ax.xaxis, ax.yaxis):
            artists += [axis.label, axis.offsetText]
            lo, hi = sorted(axis.get_view_interval())
            tol = 1e-9 * max(abs(lo), abs(hi), 1e-300)
            for tick in axis.majorTicks + axis.minorTicks:
                if lo - tol <= tick.get_loc() <= hi + tol:
                    artists += [tick.label1, tick.label2]
    for a in artists:
        if not a.get_visible() or (hasattr(a, "get_text") and not a.get_text()):
            continue
        bb = a.get_window_extent(renderer)
        if bb.x0 < -slack or bb.y0 < -slack or bb.x1 > W + slack or bb.y1 > H + slack:
            return False
    return True


def _claim_or_none(cid):
    try:
        return theorems.get(cid)
    except theorems.ClaimError:
        return None


def _verdict_word(v: Verdict) -> str:
    if v.expected == VIOLATED:
        return "caught (teeth)" if v.verdict == VIOLATED else f"teeth NOT caught ({v.verdict})"
    return v.verdict


def _bound_label(claim, what: str = "bound") -> str:
    """``bound $<formula>$`` from the claim's LaTeX (mathtext), else its sympy text."""
    if claim is None or claim.bound is None:
        return what
    try:
        tex = claim.latex_parts()["bound"]
    except Exception:  # a user's claim whose LaTeX cannot be produced: its sympy text
        tex = None
    if tex:
        tex = tex.replace(r"\left", "").replace(r"\right", "").replace(r"\operatorname", r"\mathrm")
        label = f"{what} ${tex}$"
        if len(tex) <= 160 and mathtext_ok(label):
            return label
    text = sp.sstr(claim.bound)
    return f"{what} {text if len(text) <= 80 else text[:77] + '...'}"


def _linear_rate(claim, grid_name: str) -> bool:
    """Whether the bound decays geometrically in the grid variable (the grid symbol in an exponent)."""
    if claim is None or claim.bound is None:
        return False
    b = claim.bound
    for p in b.atoms(sp.Pow):
        if any(s.name == grid_name for s in p.exp.free_symbols):
            return True
    return any(any(s.name == grid_name for s in e.free_symbols) for e in b.atoms(sp.exp))


def _log_mask(*arrays) -> tuple[list[np.ndarray], int, int]:
    """Arrays with the values a log axis cannot show set to NaN; (arrays, count <= 0, count too large)."""
    out, nonpos, big = [], 0, 0
    for a in arrays:
        a = np.asarray(a, dtype=float)
        with np.errstate(invalid="ignore"):
            neg = np.isfinite(a) & (a <= 0)
            huge = np.isfinite(a) & (np.abs(a) >= BIG)
        nonpos += int(neg.sum())
        big += int(huge.sum())
        out.append(np.where(neg | huge, np.nan, a))
    return out, nonpos, big


def draw_claim(ax, v: Verdict, claim=None, exp=None) -> list[str]:
    """Draw one verdict on ``ax`` (see the module docstring); return notes about what is not shown."""
    ev = v.evidence
    if ev is None or ev.measured.size == 0:
        ax.text(0.5, 0.5, "symbolic claim: no series", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return []
    in_exp = bool(claim is not None and claim.in_expectation)
    ylabel = measure_label(exp, claim.measure if claim is not None else "", in_exp) if exp is not None else "measured"
    kind = claim.kind if claim is not None else Kind(v.kind)
    if kind is Kind.SCALING and ev.fit is not None:
        notes = _draw_scaling(ax, v)
    else:
        notes = _draw_rate(ax, v, claim)
    ax.set_xlabel(grid_label(ev.grid_name))
    ax.set_ylabel(ylabel)
    tidy_log_ticks(ax)
    if ev.measured.size > 60 and ev.grid_name in _SAMPLE_GRIDS:  # a cloud of points: the legend goes outside
        ax.figure.legend(fontsize="x-small", loc="outside lower center", ncols=3, frameon=False)
    else:
        ax.legend(fontsize="x-small", loc="best", framealpha=0.85)
    return notes


def _draw_rate(ax, v: Verdict, claim) -> list[str]:
    ev = v.evidence
    g = ev.grid
    samples = ev.grid_name in _SAMPLE_GRIDS
    m, b = ev.measured.astype(float), ev.bound.astype(float)
    lo = hi = None
    if ev.method == "monte-carlo" and ev.stderr is not None:
        lo, hi, _ = confidence_interval(ev)
    finite_pos = lambda a: a[np.isfinite(a) & (a > 0)]  # noqa: E731
    linear = _linear_rate(claim, ev.grid_name)
    # a log axis needs something positive on both sides (a bound of 0 is drawn on a linear axis)
    logy = finite_pos(m).size > 0 and (finite_pos(b).size > 0 or not np.isfinite(b).any())
    logx = not samples and not linear and np.all(g > 0) and g.size > 1 and g.max() / g.min() >= 10
    notes = []
    if logy:
        arrays, nonpos, big = _log_mask(m, b, *(x for x in (lo, hi) if x is not None))
        m, b = arrays[0], arrays[1]
        if lo is not None:
            lo, hi = arrays[2], arrays[3]
        both = np.r_[m, b]
        both = both[np.isfinite(both)]
        top = both.max() if both.size else 1.0
        floor = top * 10.0**-DECADES
        clipped = int(np.sum(np.isfinite(m) & (m < floor)))
        n_nonpos_m = int(np.sum(np.isfinite(ev.measured) & (ev.measured <= 0)))
        if n_nonpos_m:
            notes.append(f"{n_nonpos_m} measured values <= 0 not drawn (log axis)")
        if nonpos - n_nonpos_m > 0:
            notes.append(f"{nonpos - n_nonpos_m} bound/interval values <= 0 not drawn (log axis)")
        if big:
            notes.append(f"{big} values beyond 1e150 not drawn")
        if clipped:
            notes.append(f"{clipped} values below {floor:.0e} clipped")
        ax.set_yscale("log")
    if lo is not None:
        ok = np.isfinite(lo) & np.isfinite(hi)
        if logy:
            fin = np.r_[m, b][np.isfinite(np.r_[m, b])]
            lo = np.where(np.isfinite(lo) | ~np.isfinite(hi) | (fin.size == 0), lo, fin.min() if fin.size else 1.0)
            ok = np.isfinite(lo) & np.isfinite(hi)
        ax.fill_between(
            g[ok], lo[ok], hi[ok], alpha=0.25, color="C0", lw=0, label=f"{100 * CONFIDENCE:g}% interval (judged)"
        )
    if samples:
        ax.plot(g, m, "o", color="C0", ms=3, label="measured")
        ax.plot(g, b, "_", color="k", ms=8, mew=1.5, label=_bound_label(claim))
    else:
        ax.plot(g, m, "-", color="C0", lw=1.2, label="measured" + (" (mean)" if lo is not None else ""))
        ax.plot(g, b, "--", color="k", lw=1.0, label=_bound_label(claim))
    if logx:
        ax.set_xscale("log")
    if logy:
        both = np.r_[m, b]
        both = both[np.isfinite(both)]
        if both.size:
            ax.set_ylim(bottom=max(both.min() / 2, both.max() * 10.0**-DECADES))
    _mark_worst(ax, v, logy)
    return notes


def _mark_worst(ax, v: Verdict, logy: bool) -> None:
    w = v.worst_at or {}
    ev = v.evidence
    if ev.grid_name not in w:
        return
    x, y = w[ev.grid_name], w.get("measured")
    if y is None or not np.isfinite(y) or (logy and y <= 0):
        return
    if v.verdict == VIOLATED:
        word = "caught here" if v.expected == VIOLATED else "breaks here"
        rel = "<" if v.kind == "lower" else ">"
        label = f"{word}: measured {rel} bound at {ev.grid_name}={x:g}"
        ax.plot([x], [y], "X", color=COLORS["violated"], ms=8, zorder=5, label=label)
    elif v.tightness is not None and np.isfinite(v.tightness):
        what = "bound/measured" if v.kind == "lower" else "measured/bound"
        ax.plot(
            [x], [y], "o", mfc="none", mec="C3", ms=8, mew=1.5, zorder=5, label=f"worst: {what} = {v.tightness:.3g}"
        )


def _draw_scaling(ax, v: Verdict) -> list[str]:
    ev = v.evidence
    fit = ev.fit
    x, y = ev.grid.astype(float), ev.measured.astype(float)
    ok = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    notes = []
    if (~ok).any():
        notes.append(f"{int((~ok).sum())} points <= 0 or not finite not drawn (log axes)")
    x, y = x[ok], y[ok]
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.plot(x, y, "o", color="C0", ms=4, label="measured", zorder=3)
    if x.size == 0:
        return notes
    xx = np.geomspace(x.min(), x.max(), 60)
    lo, hi = fit.interval
    cx, cy = np.exp(np.mean(np.log(x))), np.exp(np.mean(np.log(y)))
    with np.errstate(over="ignore", invalid="ignore"):
        fan_lo, fan_hi = cy * (xx / cx) ** lo, cy * (xx / cx) ** hi
        ax.fill_between(
            xx,
            np.minimum(fan_lo, fan_hi),
            np.maximum(fan_lo, fan_hi),
            color="C0",
            alpha=0.15,
            lw=0,
            label=f"slope interval [{lo:.2f}, {hi:.2f}] ({100 * fit.confidence:g}%)",
        )
        ax.plot(xx, fit.predict(xx), "-", color="C0", lw=1.2, label=f"fitted slope {fit.slope:.2f}")
    pred = ev.predicted_exponent
    if pred is not None:
        mode = ev.constants.get("scaling_mode", "equal")
        rel = r"\leq" if mode == "at-most" else "="
        ax.plot(xx, cy * (xx / cx) ** pred, "--", color="k", lw=1.0, label=f"predicted slope ${rel}{pred:g}$")
    if v.verdict == VIOLATED:
        ax.plot([], [], " ", label="caught: predicted slope outside the interval" if v.expected == VIOLATED else "")
    return notes


# --------------------------------------------------------------------------- files
def _ours(path: Path) -> bool:
    """Whether an existing file was written by ``ratecheck plot`` (it carries :data:`SIGNATURE`)."""
    try:
        with open(path, "rb") as f:
            data = f.read(64 << 20)
    except OSError:
        return False
    return SIGNATURE.encode() in data


def check_file_out(out, fmt: str, option: str = "--out") -> Path:
    """The rules of an output file (as :func:`verify.outputs.claim_dir` for folders): refused with one line,
    nothing touched, when it is a folder, its parent does not exist or is not writable, its suffix is not
    ``.FMT``, or it exists and ``ratecheck plot`` did not write it."""
    p = Path(out)
    if str(out).strip() == "":
        raise UsageError(f"{option} must name a file, got an empty path")
    if p.suffix.lower() != f".{fmt}":
        raise UsageError(f"{option} {str(p)!r} must end in .{fmt} for --format {fmt}")
    if p.is_dir():
        raise UsageError(f"{option} {str(p)!r} is a folder; name a file")
    parent = p.resolve().parent
    if not parent.is_dir():
        raise UsageError(f"{option}: parent folder {str(parent)!r} does not exist")
    writable(parent, option)
    for q in (p, p.with_suffix(".csv")):
        if q.exists() and not _ours(q):
            raise UsageError(f"{option}: {str(q)!r} exists and ratecheck did not write it; name a new file")
    return p


def format_of(out, fmt: str | None) -> str:
    """The output format: ``fmt`` when given, else the suffix of ``out``; one-line error listing the valid ones."""
    if fmt is None:
        fmt = Path(out).suffix.lower().lstrip(".") or "pdf"
    if fmt not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}; got {fmt!r}")
    if fmt == "pgf":
        tex = matplotlib.rcParams["pgf.texsystem"]
        if shutil.which(tex) is None:
            raise UsageError(
                f"--format pgf needs a TeX installation ({tex} on PATH, matplotlib measures text with it) and none "
                "was found; use --format pdf or svg"
            )
    return fmt


def _atomic_write(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.resolve().parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def save_drawn_png(canvas, out) -> Path:
    """Write what an Agg ``canvas`` has just drawn as a PNG at the figure's dpi, atomically and signed (the bytes
    ``savefig`` would write, without drawing the figure again)."""
    import matplotlib.image

    out = Path(out)

    def write(tmp):
        matplotlib.image.imsave(
            tmp,
            canvas.buffer_rgba(),
            format="png",
            origin="upper",
            dpi=canvas.figure.dpi,
            metadata={"Software": SIGNATURE},
        )

    _atomic_write(out, write)
    return out


def save_figure(fig: Figure, out, fmt: str | None = None) -> Path:
    """Write ``fig`` to ``out`` atomically (scratch file, then one rename), in the rcParams it was drawn with,
    signed as written by ratecheck (metadata, or a comment in a PGF file)."""
    out = Path(out)
    fmt = fmt or out.suffix.lstrip(".").lower()
    meta = {"pdf": {"Creator": SIGNATURE}, "svg": {"Creator": SIGNATURE}, "png": {"Software": SIGNATURE}}.get(fmt)

    def write(tmp):
        with matplotlib.rc_context(getattr(fig, "_ratecheck_rc", {})):
            fig.savefig(tmp, format=fmt, metadata=meta)
        if fmt == "pgf":
            with open(tmp, "a") as f:
                f.write(f"%% written by {SIGNATURE}\n")

    _atomic_write(out, write)
    return out


def series_csv(verdicts: list[Verdict]) -> str:
    """CSV of every series of a claim's verdicts: ``#`` comment lines (claim, per instance its parameters,
    seed, verdict, method, the interval's guarantee and the fit), then one row per grid point:
    ``instance, <grid name>, measured, bound, ci_low, ci_high``.  Read with ``pandas.read_csv(f, comment="#")``
    or pgfplots' ``comment chars={\\#}``."""
    buf = io.StringIO()
    vs = [v for v in verdicts if v.evidence is not None and v.evidence.measured.size]
    if not vs:
        return ""
    buf.write(f"# {SIGNATURE}: series of claim {vs[0].claim}\n")
    grid_names = {v.evidence.grid_name for v in vs}
    gname = vs[0].evidence.grid_name if len(grid_names) == 1 else "grid"
    for i, v in enumerate(vs):
        s = evidence_series(v.evidence)
        meta = {"instance": s["instance"], "seed": s["seed"], "verdict": v.verdict, "method": s["method"]}
        if len(grid_names) > 1:
            meta["grid_name"] = s["grid_name"]
        if "ci_guarantee" in s:
            meta["interval"] = s["ci_guarantee"]
        if "fit" in s:
            meta["fit"] = s["fit"]
        buf.write(f"# instance {i}: {json.dumps(meta, sort_keys=True)}\n")
    csv.writer(buf, lineterminator="\n").writerow(["instance", gname, "measured", "bound", "ci_low", "ci_high"])
    for i, v in enumerate(vs):  # whole columns at a time: repr of each float, the shortest exact decimal
        ev = v.evidence
        n = ev.measured.size
        lo = hi = None
        if ev.method == "monte-carlo" and ev.stderr is not None:
            lo, hi, _ = confidence_interval(ev)
        cols = [[str(i)] * n] + [_reprs(a, n) for a in (ev.grid, ev.measured, ev.bound, lo, hi)]
        buf.writelines(",".join(row) + "\n" for row in zip(*cols))
    return buf.getvalue()


def _reprs(a, n: int) -> list[str]:
    """``repr(float(x))`` of the first ``n`` entries of ``a``; ``n`` empty fields when ``a`` is None."""
    return [""] * n if a is None else list(map(repr, np.asarray(a, dtype=float).ravel()[:n].tolist()))


def write_series(verdicts: list[Verdict], path) -> Path | None:
    """Write :func:`series_csv` to ``path`` atomically; ``None`` (nothing written) when there is no series."""
    text = series_csv(verdicts)
    if not text:
        return None
    path = Path(path)
    _atomic_write(path, lambda tmp: Path(tmp).write_text(text))
    return path
