"""Figures: every figure ratecheck draws, in one layer above the engines (check, search, sweep).

:mod:`verify.figures.style` holds the shared style (verdict colours, the measured-vs-bound drawing);
one module per experiment draws that experiment's report figures.  :data:`FIGURES` maps an experiment
name to its report-figure writer ``f(exp, verdicts, outdir, quick) -> [(file name, caption), ...]``.
No module here selects a matplotlib backend: the command line does (Agg), a notebook keeps its own.
"""

from __future__ import annotations

from .adom import adom_figures
from .dp_quantile import dp_quantile_figures
from .drawing import ClaimFigure, draw_all
from .ef21 import ef21_figures, speedup_table
from .local_methods import local_methods_figures
from .lsvrp import lsvrp_figures
from .personalization import personalization_figures
from .publication import FORMATS, STYLES, claim_figure, plot, save_figure, series_csv, telling, write_series
from .rare_features import rare_features_figures
from .rcd import rcd_figures
from .rfa import rfa_figures
from .style import COLORS, draw_evidence, plot_verdict
from .superquantile import superquantile_figures
from .three_point import three_point_figures
from .weiszfeld import weiszfeld_figures

__all__ = [
    "plot",
    "ClaimFigure",
    "draw_all",
    "telling",
    "claim_figure",
    "save_figure",
    "series_csv",
    "write_series",
    "STYLES",
    "FORMATS",
    "plot_verdict",
    "draw_evidence",
    "ef21_figures",
    "speedup_table",
    "experiment_figures",
    "FIGURES",
    "COLORS",
]

#: Report figures of an experiment (name -> ``f(exp, verdicts, outdir, quick)``).
FIGURES = {
    "adom": adom_figures,
    "dp_quantile": dp_quantile_figures,
    "ef21": ef21_figures,
    "local_methods": local_methods_figures,
    "lsvrp": lsvrp_figures,
    "personalization": personalization_figures,
    "rare_features": rare_features_figures,
    "rcd": rcd_figures,
    "rfa": rfa_figures,
    "superquantile": superquantile_figures,
    "three_point": three_point_figures,
    "weiszfeld": weiszfeld_figures,
}


def experiment_figures(exp, verdicts: list, outdir, quick: bool = False) -> list[tuple[str, str]]:
    """The report figures of one experiment: ``[(file name, caption), ...]`` written into ``outdir``
    (none for an experiment without figures, e.g. a user's own)."""
    draw = FIGURES.get(exp.name)
    return draw(exp, verdicts, outdir, quick=quick) if draw is not None else []
