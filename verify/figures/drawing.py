"""Drawing a report's figures: one task per claim (figure and series) and per experiment, in parallel.

:func:`draw_all` runs the tasks in ``workers`` processes (the package's reusable loky pool, each worker's
BLAS pinned to one thread so that two workers use two cores, not four) and calls ``progress(i, n)`` at the start (i = 0)
and as each task finishes; with one worker, without joblib, or for a claim that cannot be sent to another
process (a user's own claim object), tasks run in this process.  Results come back in task order,
whatever order the workers finish in, so a report is the same however it was drawn.
"""

from __future__ import annotations

import concurrent.futures
import functools
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg

try:  # comes with joblib (the dask extra); without it every task runs in this process
    import cloudpickle
except ImportError:  # pragma: no cover - depends on the installation
    cloudpickle = None

from ..sweep import loky_executor
from .publication import claim_figure, save_drawn_png, series_csv, telling, text_fits

__all__ = ["ClaimFigure", "draw_all", "draw_report_png", "REPORT_DPI"]

#: resolution of the report's PNG figures (5.5 x 3.6 in: 715 x 468 px)
REPORT_DPI = 130


@dataclass
class ClaimFigure:
    """Task: the figure (``<name>.png``) and the series (``<name>.csv``) of one claim's verdicts."""

    cid: str
    verdicts: list
    name: str
    claim: Any = field(default=None, repr=False)

    def __call__(self, outdir) -> dict:
        outdir = Path(outdir)
        fig_name = csv_name = None
        if telling(self.verdicts) is not None:
            fig_name = f"{self.name}.png"
            draw_report_png(claim_figure(self.verdicts, self.claim, layout="fixed"), outdir / fig_name)
        text = series_csv(self.verdicts)
        if text:
            csv_name = f"{self.name}.csv"
            (outdir / csv_name).write_text(text)
        return {"claim": self.cid, "figure": fig_name, "series": csv_name}


#: entries of the mathtext parse cache shared by the report's figures (matplotlib keeps 50 per parser)
MATHTEXT_CACHE = 1024

_PARSERS: dict = {}  # output type ("raster", "vector") -> the first parser seen of that type


def _widen_mathtext_cache() -> None:
    """Let every figure reuse the mathtext parsed by the ones before it.

    A report draws hundreds of figures whose log-axis tick labels, axis names and bound formulas repeat.
    matplotlib caches a parse per parser object, in 50 entries, and every new canvas gets a renderer with a
    parser of its own, so each figure parsed its strings again (a quarter of its drawing time).  The cache
    installed here is keyed by what the parse depends on -- the parser's output type, the string, dpi,
    font, antialiasing and glyph-loading flags -- and shared by all parsers, so what is drawn does not
    change.  Left alone when matplotlib's internals differ from what this expects."""
    from matplotlib.mathtext import MathTextParser

    f = MathTextParser.__dict__.get("_parse_cached")
    if getattr(f, "_ratecheck_shared", False):
        return
    wrapped = getattr(f, "__wrapped__", None)
    if wrapped is None or getattr(f, "cache_info", None) is None:
        return

    @functools.lru_cache(MATHTEXT_CACHE)
    def shared(output_type, s, dpi, prop, antialiased, load_glyph_flags):
        return wrapped(_PARSERS[output_type], s, dpi, prop, antialiased, load_glyph_flags)

    def _parse_cached(self, s, dpi, prop, antialiased, load_glyph_flags):
        _PARSERS.setdefault(self._output_type, self)
        return shared(self._output_type, s, dpi, prop, antialiased, load_glyph_flags)

    _parse_cached._ratecheck_shared = True
    _parse_cached.cache_info, _parse_cached.cache_clear = shared.cache_info, shared.cache_clear
    _parse_cached.__wrapped__ = wrapped
    MathTextParser._parse_cached = _parse_cached


def draw_report_png(fig, out) -> Path:
    """Draw a report figure once at :data:`REPORT_DPI` and write it: in fixed layout the axes sit at
    :data:`~verify.figures.publication.FIXED_MARGINS`; a figure whose texts do not fit the canvas there
    (:func:`~verify.figures.publication.text_fits`) is laid out again by the constrained layout engine."""
    _widen_mathtext_cache()
    with matplotlib.rc_context(getattr(fig, "_ratecheck_rc", {})):
        fig.set_dpi(REPORT_DPI)
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        if fig.get_layout_engine() is None and not text_fits(fig, canvas.get_renderer()):
            fig.set_layout_engine("constrained")
            canvas.draw()
    return save_drawn_png(canvas, out)


def _portable(task) -> bool:
    """Whether a task can run in another process (registered claims, picklable writers)."""
    if isinstance(task, ClaimFigure):
        return task.claim is None
    if cloudpickle is None:
        return False
    try:
        cloudpickle.dumps(task)
    except (pickle.PicklingError, TypeError, AttributeError):
        return False
    return True


def _run(task, outdir):
    return task(outdir)


def draw_all(
    tasks: list[Callable], outdir, workers: int = 2, progress: Callable[[int, int], None] | None = None
) -> tuple[dict, list]:
    """Run every task into ``outdir``; return ``({claim: (figure, series)}, [(file name, caption), ...])``.

    A task is a :class:`ClaimFigure` or a writer ``f(outdir) -> [(file name, caption), ...]`` (an experiment's
    figures).  An error in any task propagates (the caller's report is then not written)."""
    n = len(tasks)
    results: list = [None] * n
    done = 0

    def finished(i, res):
        nonlocal done
        results[i] = res
        done += 1
        if progress is not None:
            progress(done, n)

    if progress is not None:
        progress(0, n)
    remote = [i for i, t in enumerate(tasks) if workers > 1 and cloudpickle is not None and _portable(t)]
    # the experiments' figures (long: they run their own comparisons) start first, the claims' fill in after
    remote.sort(key=lambda i: isinstance(tasks[i], ClaimFigure))
    if len(remote) > 1:
        # the one reusable loky pool of the package (sweeps, check --jobs): one BLAS thread per worker
        ex = loky_executor(min(workers, len(remote)))
        futures = {ex.submit(_run, tasks[i], outdir): i for i in remote}
        remote_set = set(remote)
        for i in range(n):  # meanwhile, this process draws what cannot travel
            if i not in remote_set:
                finished(i, _run(tasks[i], outdir))
        for f in concurrent.futures.as_completed(futures):
            finished(futures[f], f.result())
    else:
        for i in range(n):
            finished(i, _run(tasks[i], outdir))
    files, extra = {}, []
    for res in results:
        if isinstance(res, dict):
            files[res["claim"]] = (res["figure"], res["series"])
        else:
            extra.extend(res or [])
    return files, extra
