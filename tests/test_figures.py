"""The report figures of every experiment (:mod:`verify.figures`): written, named, non-empty."""

import pytest

import verify
from verify.experiments import get
from verify.figures import FIGURES, experiment_figures


def test_every_experiment_has_report_figures():
    from verify.experiments import all_experiments

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
