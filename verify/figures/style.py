"""The one figure style of ratecheck: verdict colours, the measured-vs-bound drawing, saving helpers.

Moved from ``verify/plots.py``."""

from __future__ import annotations

import os

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import LogLocator, NullFormatter

from ..verdict import Verdict

__all__ = ["COLORS", "draw_evidence", "plot_verdict", "tidy_log_ticks", "MANY_COLORS"]

#: a colour cycle for figures with many series (20 distinct colours before one repeats)
MANY_COLORS = [matplotlib.colormaps["tab20"](i) for i in range(20)]

COLORS = {"holds": "#1b7837", "violated": "#b2182b", "inconclusive": "#e08214"}


def _positive(a: np.ndarray) -> bool:
    a = np.asarray(a, dtype=float)
    a = a[np.isfinite(a)]
    return a.size > 0 and bool(np.all(a > 0))


def draw_evidence(ax, v: Verdict, label_measured: str = "measured", label_bound: str = "bound") -> None:
    """Draw the measured series and the bound of one verdict on ``ax``."""
    ev = v.evidence
    g, m, b = ev.grid, ev.measured, ev.bound
    big = 1e150  # beyond this, log axes overflow while placing ticks
    m = np.where(np.abs(m) < big, m, np.nan)
    b = np.where(np.abs(b) < big, b, np.nan)
    finite = np.isfinite(m)
    if ev.method == "monte-carlo" and ev.stderr is not None:
        ax.fill_between(
            g[finite],
            (m - 2 * ev.stderr)[finite],
            (m + 2 * ev.stderr)[finite],
            alpha=0.25,
            color="C0",
            lw=0,
            label="mean ± 2 s.e.",
        )
    style = "o" if g.size <= 60 and ev.grid_name == "sample" else "-"
    ax.plot(g[finite], m[finite], style, color="C0", ms=3, label=label_measured)
    ax.plot(g, b, "--" if style == "-" else "_", color="k", label=label_bound)
    logx = ev.grid_name in ("T", "t", "k", "m", "iterations") and _positive(g)
    if logx:
        ax.set_xscale("log")
    if _positive(m[finite]) and _positive(b) and ev.grid_name != "sample":
        ax.set_yscale("log")
    ax.set_xlabel(ev.grid_name)
    ax.grid(True, which="both", alpha=0.3)


def plot_verdict(v: Verdict, path: str | os.PathLike) -> str:
    """Write a PNG of one verdict (measured vs bound) and return its path."""
    fig, ax = plt.subplots(figsize=(5.6, 3.8), dpi=80)
    ev = v.evidence
    if ev is None or ev.measured.size == 0:
        ax.text(0.5, 0.5, "symbolic claim: no series", ha="center", va="center")
        ax.set_axis_off()
    else:
        draw_evidence(ax, v)
        ax.legend(fontsize=8)
    t = f" tightness {v.tightness:.3g}" if v.tightness is not None and np.isfinite(v.tightness) else ""
    ax.set_title(f"{v.claim}: {v.verdict}{t}", fontsize=9, color=COLORS.get(v.verdict, "k"))
    fig.subplots_adjust(left=0.14, right=0.97, bottom=0.13, top=0.9)
    fig.savefig(path)
    plt.close(fig)
    return str(path)


def draw_each(makers, outdir, *, quick: bool, verdicts) -> list[tuple[str, str]]:
    """An experiment's report figures: for each ``(fn, file name, caption)``, draw ``fn(quick=, verdicts=)``,
    save it into ``outdir`` (PNG, 110 dpi, tight bounding box) and close it; return the ``(file name, caption)``
    entries."""
    out = []
    for fn, name, caption in makers:
        fig = fn(quick=quick, verdicts=verdicts)
        fig.savefig(os.path.join(outdir, name), dpi=110, bbox_inches="tight")
        plt.close(fig)
        out.append((name, caption))
    return out


def _save_labelled(fig, ax, outdir, name, xlabel, ylabel, caption):
    """Label, save and close one figure; return its (file name, caption) entry."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(outdir, name))
    plt.close(fig)
    return name, caption


def tidy_log_ticks(ax) -> None:
    """Log axes: no labels on minor ticks (they overlap); an axis spanning less than two decades gets
    major ticks at 1, 2 and 5 times the powers of ten instead."""
    for axis, lim in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
        if axis.get_scale() != "log":
            continue
        axis.set_minor_formatter(NullFormatter())
        lo, hi = sorted(lim)
        if lo > 0 and np.log10(hi / lo) < 2:
            axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
