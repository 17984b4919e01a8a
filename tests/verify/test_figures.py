"""The report figures of every experiment (:mod:`verify.figures`): written, named, non-empty."""

import pytest

from ratecheck import verify
from ratecheck.verify.experiments import get
from ratecheck.verify.figures import FIGURES, experiment_figures


def test_every_experiment_has_report_figures():
    from ratecheck.verify.experiments import all_experiments

    assert set(FIGURES) == set(all_experiments())


@pytest.mark.slow
def test_adom_figures_written(tmp_path):
    vs = verify.check("adom-plus.complexity-chi", quick=True) + verify.check("adom.lower-bound-comm", quick=True)
    figs = experiment_figures(get("adom"), vs, str(tmp_path), quick=True)
    assert [f for f, _ in figs] == ["adom_distance_vs_rounds.png", "adom_scaling.png", "adom_lower_bound.png"]
    assert all((tmp_path / f).stat().st_size > 1000 for f, _ in figs)


def test_weiszfeld_figures_written(tmp_path):
    vs = verify.check("weiszfeld.rate", quick=True)
    figs = experiment_figures(get("weiszfeld"), vs, tmp_path, quick=True)
    assert [f for f, _ in figs] == ["weiszfeld_rate.png", "weiszfeld_complexity.png", "weiszfeld_rfa.png"]
    for f, cap in figs:
        assert (tmp_path / f).stat().st_size > 1000 and cap


@pytest.mark.slow
def test_rare_features_figures_written(tmp_path):
    exp = get("rare_features")
    vs = verify.check("rare-features.complexity", quick=True)
    out = experiment_figures(exp, vs, tmp_path, quick=True)
    assert len(out) == 2
    for name, caption in out:
        assert (tmp_path / name).stat().st_size > 1000 and caption


@pytest.mark.slow
def test_rcd_figures_written(tmp_path):
    verdicts = verify.check("rpt.strongly-convex", quick=True) + verify.check("rcd.convex", quick=True)
    figs = experiment_figures(get("rcd"), verdicts, tmp_path, quick=True)
    names = [f for f, _ in figs]
    assert {
        "rpt_strongly-convex_curves.png",
        "rcd_convex_curves.png",
        "rpt_l_tilde_vs_p.png",
        "rpt_vs_gd_cost.png",
    } <= set(names)
    for f in names:
        assert (tmp_path / f).stat().st_size > 1000


@pytest.mark.slow
def test_lsvrp_figures_written(tmp_path):
    figs = experiment_figures(get("lsvrp"), [], str(tmp_path), quick=True)
    assert [f for f, _ in figs] == ["lsvrp_vs_sgd.png", "lsvrp_comms_scaling.png", "lsvrp_region.png"]
    for f, caption in figs:
        assert (tmp_path / f).stat().st_size > 1000 and caption


@pytest.mark.parametrize(
    "name, files",
    [
        (
            "local_methods",
            [
                "local_methods_comms_vs_kappa.png",
                "local_methods_lyapunov.png",
                "local_methods_p_tradeoff.png",
                "local_methods_floor_vs_H.png",
                "local_methods_rounds_vs_H.png",
                "local_methods_flix_iterations.png",
            ],
        ),
        ("rfa", ["rfa_rounds.png"]),
        ("personalization", ["personalization_fedsim_vs_fedalt.png"]),
        ("dp_quantile", ["dp_quantile_level_error.png"]),
    ],
)
def test_new_results_figures_written(tmp_path, name, files):
    figs = experiment_figures(get(name), [], str(tmp_path), quick=True)
    assert [f for f, _ in figs] == files
    for f, caption in figs:
        assert (tmp_path / f).stat().st_size > 1000 and caption


@pytest.mark.parametrize(
    "module, function, scales",
    [
        ("local_methods", "plot_comms_vs_kappa", ("log", "log")),
        ("local_methods", "plot_lyapunov", ("linear", "log")),
        ("local_methods", "plot_p_tradeoff", ("log", "log")),
        ("local_methods", "plot_floor_vs_H", ("log", "log")),
        ("local_methods", "plot_rounds_vs_H", ("log", "log")),
        ("local_methods", "plot_flix_iterations", ("log", "linear")),
        ("rfa", "fig_rfa_rounds", ("linear", "log")),
        ("personalization", "fig_personalization", ("log", "log")),
        ("dp_quantile", "fig_dp_quantile", ("log", "log")),
    ],
)
def test_new_results_figures_label_every_axis_and_power_laws_are_log_log(module, function, scales):
    import importlib

    import matplotlib.pyplot as plt

    fig = getattr(importlib.import_module(f"ratecheck.verify.figures.{module}"), function)(quick=True)
    try:
        for ax in fig.axes:
            assert ax.get_xlabel() and ax.get_ylabel()
            assert (ax.get_xscale(), ax.get_yscale()) == scales
    finally:
        plt.close(fig)


def test_new_results_figures_show_fitted_and_predicted_slopes():
    from ratecheck.verify.figures.dp_quantile import fig_dp_quantile
    from ratecheck.verify.figures.local_methods import plot_comms_vs_kappa, plot_floor_vs_H

    for fig in (plot_comms_vs_kappa(quick=True), plot_floor_vs_H(quick=True), fig_dp_quantile(quick=True)):
        labels = " ".join(_lines(fig))
        assert "fitted slope " in labels and ("predicted" in labels or "slope 1/2" in labels), labels


# --------------------------------------------------------------------------- publication figures
def _lines(fig):
    return {ln.get_label(): ln for ax in fig.axes for ln in ax.get_lines()}


def _mc_verdict(measured, stderr, bound):
    import numpy as np

    from ratecheck import theorems
    from ratecheck.verify.verdict import Evidence, judge

    claim = theorems.get("rcd.strongly-convex")
    grid = np.arange(1.0, len(measured) + 1)
    ev = Evidence("T", grid, measured, bound, method="monte-carlo", stderr=np.asarray(stderr), n_samples=50)
    return claim, judge(claim, ev)


def test_plot_linear_rate_is_semilog_y_with_labelled_axes_and_the_bound_formula():
    fig = verify.plot("ef21.pl-qm", quick=True)
    (ax,) = fig.axes
    assert ax.get_yscale() == "log" and ax.get_xscale() == "linear"
    assert ax.get_xlabel() == "iteration $T$" and ax.get_ylabel().startswith(r"$\Psi^T")
    bound = [lab for lab in _lines(fig) if lab.startswith("bound")]
    assert bound and "$" in bound[0] and r"\gamma" in bound[0]
    assert any(lab.startswith("worst: measured/bound = ") for lab in _lines(fig))


def test_plot_of_a_caught_teeth_variant_marks_where_it_breaks():
    fig = verify.plot("ef21.pl-qm~halved", quick=True, style="icml")
    caught = [lab for lab in _lines(fig) if lab.startswith("caught here: measured > bound at T=")]
    assert caught
    assert "caught (teeth)" in fig.axes[0].get_title()


def test_plot_of_a_scaling_claim_shows_points_fit_interval_and_predicted_slope():
    fig = verify.plot("adom-plus.complexity-chi", quick=True)
    (ax,) = fig.axes
    assert ax.get_xscale() == ax.get_yscale() == "log"
    labels = list(_lines(fig)) + [c.get_label() for c in ax.collections]
    assert "measured" in labels
    assert any(lab.startswith("fitted slope ") for lab in labels)
    assert any(lab.startswith("slope interval [") for lab in labels)
    assert any(lab.startswith("predicted slope") for lab in labels)


def test_samples_are_points_never_joined_by_a_line():
    fig = verify.plot("ef21.cloning", quick=True)
    measured = _lines(fig)["measured"]
    assert measured.get_linestyle() == "None" and measured.get_marker() == "o"


def test_monte_carlo_band_is_the_interval_the_verdict_was_judged_on():
    import numpy as np

    from ratecheck.verify.figures import claim_figure
    from ratecheck.verify.verdict import confidence_interval

    claim, v = _mc_verdict([1.0, 0.5, 0.25, 0.12], [0.05, 0.02, 0.01, 0.01], [2.0, 1.0, 0.5, 0.25])
    fig = claim_figure([v], claim)
    (band,) = [c for c in fig.axes[0].collections if "interval (judged)" in c.get_label()]
    lo, hi, _ = confidence_interval(v.evidence)
    ys = np.concatenate([p.vertices[:, 1] for p in band.get_paths()])
    assert np.isclose(ys.min(), lo.min()) and np.isclose(ys.max(), hi.max())


def test_values_at_or_below_zero_are_masked_on_a_log_axis_and_said_so():
    import numpy as np

    from ratecheck.verify.figures import claim_figure

    measured = np.array([1.0, 1e-3, -2e-17, -2e-17, 1e-9])
    claim, v = _mc_verdict(measured, np.full(5, 1e-20), np.full(5, 2.0))
    fig = claim_figure([v], claim)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    notes = [t.get_text() for t in ax.texts]
    assert any("2 measured values <= 0 not drawn (log axis)" in t for t in notes)
    y = _lines(fig)["measured (mean)"].get_ydata()
    assert np.isnan(y[2]) and np.isnan(y[3]) and y[4] == 1e-9


def test_every_measure_has_a_mathematical_name_that_typesets():
    from ratecheck.verify.experiments import all_experiments
    from ratecheck.verify.figures.labels import GRID_MATH, MEASURE_MATH, mathtext_ok

    for name, exp in all_experiments().items():
        for m in exp.schema.measures:
            assert (name, m.name) in MEASURE_MATH, (name, m.name)
    for text in list(MEASURE_MATH.values()) + list(GRID_MATH.values()):
        assert mathtext_ok(text), text


@pytest.mark.parametrize("style", ["plain", "icml", "neurips", "iclr", "jmlr"])
def test_every_style_draws(style):
    from ratecheck.verify.figures import claim_figure

    claim, v = _mc_verdict([1.0, 0.5], [0.01, 0.01], [2.0, 1.0])
    fig = claim_figure([v], claim, style=style)
    assert fig.axes[0].get_xlabel()


# --------------------------------------------------------------------------- ratecheck plot
class _Run:
    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


@pytest.fixture
def _plot(capsys):
    """``ratecheck plot ARGS`` in this process: (exit status, stdout, stderr)."""
    from ratecheck.verify.cli import main

    def run(*args):
        capsys.readouterr()
        code = main(["plot", *args])
        out, err = capsys.readouterr()
        return _Run(code, out, err)

    return run


def test_plot_command_writes_a_vector_figure_and_its_series(tmp_path, _plot):
    out = tmp_path / "fig.pdf"
    r = _plot("ef21.pl-qm~halved", "--quick", "--style", "neurips", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert out.read_bytes().startswith(b"%PDF") and b"ratecheck plot" in out.read_bytes()
    csv = (tmp_path / "fig.csv").read_text().splitlines()
    assert csv[0].startswith("# ratecheck plot: series of claim ef21.pl-qm~halved")
    header = next(line for line in csv if not line.startswith("#"))
    assert header == "instance,T,measured,bound,ci_low,ci_high"
    assert not list(tmp_path.glob(".*tmp*"))  # no scratch file left
    r = _plot("ef21.pl-qm~halved", "--quick", "--out", str(out))  # its own file: replaced
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["ef21.pl-q", "--out", "{d}/f.pdf"], "unknown claim 'ef21.pl-q'; did you mean 'ef21.pl-qm'"),
        (["ef21.pl-qm", "--style", "acm", "--out", "{d}/f.pdf"], "--style must be one of plain, icml, neurips"),
        (["ef21.pl-qm", "--out", "{d}/f.eps"], "--format must be one of pdf, svg, pgf, png; got 'eps'"),
        (["ef21.pl-qm", "--format", "svg", "--out", "{d}/f.pdf"], "must end in .svg for --format svg"),
        (["ef21.pl-qm", "--out", "{d}/missing/f.pdf"], "parent folder"),
        (["ef21.pl-qm", "--out", "{d}/foreign.pdf"], "exists and ratecheck did not write it"),
        (["ef21.pl-qm", "--param", "n=-3", "--out", "{d}/f.pdf"], "n must be an integer >= 1"),
    ],
)
def test_plot_command_bad_input_is_one_line_and_touches_nothing(tmp_path, _plot, args, message):
    (tmp_path / "foreign.pdf").write_text("not ours")
    r = _plot(*[a.format(d=tmp_path) for a in args])
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and message in r.stderr, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["foreign.pdf"]
    assert (tmp_path / "foreign.pdf").read_text() == "not ours"


def test_pgf_needs_tex_and_says_so_or_writes_pgf(tmp_path, _plot):
    import shutil

    import matplotlib

    r = _plot("ef21.cloning", "--quick", "--out", str(tmp_path / "f.pgf"))
    if shutil.which(matplotlib.rcParams["pgf.texsystem"]) is None:
        assert r.returncode == 2 and "--format pgf needs a TeX installation" in r.stderr
    else:
        assert r.returncode == 0 and "ratecheck plot" in (tmp_path / "f.pgf").read_text()


def test_the_command_line_names_the_formats_and_styles_of_the_figures_package():
    from ratecheck.verify import cli
    from ratecheck.verify.figures import FORMATS, STYLES

    assert cli.PLOT_FORMATS == FORMATS and cli.PLOT_STYLES == STYLES


def test_report_figures_in_fixed_layout_keep_every_text_on_the_canvas(tmp_path):
    """The report draws each claim's figure once with the axes at fixed margins; a figure whose texts would
    leave the canvas there (a wide y label) is laid out again, so no text is ever cut off."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    from ratecheck.verify.figures import claim_figure
    from ratecheck.verify.figures.drawing import REPORT_DPI, draw_report_png
    from ratecheck.verify.figures.publication import text_fits

    claim, v = _mc_verdict([1.0, 0.5, 0.25, 0.12], [0.05, 0.02, 0.01, 0.01], [2.0, 1.0, 0.5, 0.25])
    fig = claim_figure([v], claim, layout="fixed")
    assert fig.get_layout_engine() is None
    draw_report_png(fig, tmp_path / "a.png")
    assert fig.get_layout_engine() is None  # it fitted: drawn once, no layout engine
    assert Image.open(tmp_path / "a.png").size == (round(5.5 * REPORT_DPI), round(3.6 * REPORT_DPI))

    wide = claim_figure([v], claim, layout="fixed")
    wide.axes[0].set_ylabel("a y label\nover\nthree lines " + "x" * 30)
    wide.axes[0].yaxis.labelpad = 60
    wide.set_dpi(REPORT_DPI)
    canvas = FigureCanvasAgg(wide)
    canvas.draw()
    assert not text_fits(wide, canvas.get_renderer())  # the check sees the cut-off label
    draw_report_png(wide, tmp_path / "b.png")
    assert wide.get_layout_engine() is not None  # ... and the figure was laid out again
    canvas.draw()
    assert text_fits(wide, canvas.get_renderer())
    assert np.asarray(Image.open(tmp_path / "b.png")).shape[:2] == (round(3.6 * REPORT_DPI), round(5.5 * REPORT_DPI))


def test_claim_figure_layout_is_validated():
    from ratecheck.verify.figures import claim_figure

    claim, v = _mc_verdict([1.0, 0.5], [0.05, 0.02], [2.0, 1.0])
    with pytest.raises(verify.UsageError, match="layout must be 'constrained' or 'fixed'"):
        claim_figure([v], claim, layout="tight")


def test_report_figures_share_parsed_mathtext_and_draw_the_same_pixels(tmp_path):
    """Each figure's canvas has its own mathtext parser; the report's figures share one parse cache (keyed by
    everything a parse depends on), so a second figure parses nothing again and its pixels are those of a
    figure drawn with an empty cache."""
    import numpy as np
    from matplotlib.mathtext import MathTextParser
    from PIL import Image

    from ratecheck.verify.figures import claim_figure
    from ratecheck.verify.figures.drawing import draw_report_png

    claim, v = _mc_verdict([1.0, 0.5, 0.25, 0.12], [0.05, 0.02, 0.01, 0.01], [2.0, 1.0, 0.5, 0.25])
    draw_report_png(claim_figure([v], claim, layout="fixed"), tmp_path / "warm.png")
    cache = MathTextParser._parse_cached
    cache.cache_clear()
    draw_report_png(claim_figure([v], claim, layout="fixed"), tmp_path / "cold.png")
    misses = cache.cache_info().misses
    assert misses > 0  # the figure has mathtext (log-axis ticks, the bound's formula)
    draw_report_png(claim_figure([v], claim, layout="fixed"), tmp_path / "hit.png")
    assert cache.cache_info().misses == misses  # a new canvas and parser: nothing parsed again
    cold, hit = (np.asarray(Image.open(tmp_path / f"{n}.png")) for n in ("cold", "hit"))
    assert np.array_equal(cold, hit)
