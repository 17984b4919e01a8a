"""The 3PC experiment end to end: every 3PC claim holds on its quick instances, every teeth variant is reported
violated (the search side is tests/verify/test_searching_teeth.py), EF21/LAG/CLAG are exact while 3PCv2/3PCv5 are
Monte Carlo with a finite-sample bound, and a user's own mechanism, registered in a file outside the repository,
is checked from the command line (an over-optimistic (A, B) is caught by 3pc.definition)."""

import json
import textwrap

import pytest

from ratecheck import theorems, verify
from ratecheck.solvers import three_point as tp
from ratecheck.verify.checking import outcome
from ratecheck.verify.cli import main

CLAIMS = [c.id for c in theorems.all() if c.experiment == "three_point"]
TEETH = [t.id for c in CLAIMS for t in theorems.teeth(c)]


@pytest.mark.parametrize("cid", CLAIMS)
def test_claim_holds_on_its_quick_instances(cid):
    vs = verify.check(cid, quick=True)
    status, unexpected = outcome(vs)
    assert status == "holds" and not unexpected, [(v.verdict, v.detail) for v in vs]


@pytest.mark.parametrize("tid", TEETH)
def test_teeth_are_caught(tid):
    vs = verify.check(tid, quick=True)
    assert any(v.verdict == "violated" for v in vs), [(v.verdict, v.detail) for v in vs]


def test_deterministic_mechanisms_are_exact_and_randomized_ones_monte_carlo():
    vs = verify.check("3pc.definition", quick=True)
    by = {v.instance["mechanism"]: v for v in vs}
    for name in ("ef21", "lag", "clag"):
        assert by[name].method == "deterministic"
    v = by["3pcv2"]
    assert v.method == "monte-carlo" and "empirical Bernstein" in v.detail


def test_nonconvex_tightness_matches_the_reference_runs():
    """Spec reference runs: measured/bound about 0.5 for EF21, LAG and CLAG with G^0 = 0."""
    vs = verify.check("3pc.nonconvex", quick=True)
    by = {v.instance["mechanism"]: v.tightness for v in vs}
    assert 0.2 < by["ef21"] < 0.6 and 0.4 < by["lag"] < 0.6 and 0.2 < by["clag"] < 0.6


def test_lag_b0_tooth_exceeds_the_bound_by_a_large_factor():
    v = verify.check("3pc.nonconvex~lag-B0", quick=True)[0]
    assert v.verdict == "violated" and v.tightness > 10


USER_FILE = '''
    """A user's own three point compressor, outside the repository."""
    import numpy as np

    from ratecheck import theorems
    from ratecheck.solvers import three_point as tp


    class HalfStep(tp.Mechanism):
        """g_i <- h + (x - h)/2: error ||x - h||^2/4 <= (1/2)||h - y||^2 + (1/2)||x - y||^2 (Young, s = 1)."""

        def __init__(self, name, declared):
            self.name, self.declared = name, declared

        def constants(self, d):
            return self.declared

        def __call__(self, H, Y, X, rng=None, bits_per_float=32):
            d, one = X.shape[-1], np.ones(X.shape[:-1])
            return H + 0.5 * (X - H), d * one, d * bits_per_float * one


    tp.register("half-step", lambda **kw: HalfStep("half-step", (0.5, 0.5)))
    tp.register("half-step-bold", lambda **kw: HalfStep("half-step-bold", (0.9, 0.1)))  # too optimistic

    HONEST = theorems.get("3pc.definition").variant("half-step", setting={"mechanism": "half-step"})
    BOLD = theorems.get("3pc.definition").variant("half-step-bold", setting={"mechanism": "half-step-bold"})
    RATE = theorems.get("3pc.nonconvex").variant("half-step", setting={"mechanism": "half-step"})
'''


def test_user_mechanism_from_a_file_outside_the_repository(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(tp, "_FACTORIES", dict(tp._FACTORIES))  # the user's registrations end with the test
    f = tmp_path / "my_mechanism.py"
    f.write_text(textwrap.dedent(USER_FILE))
    args = ["check", "--quick", "--no-report", "--json"]
    for name in ("HONEST", "BOLD", "RATE"):
        args += ["--claim", f"{f}:{name}"]
    code = main(args)
    recs = json.loads(capsys.readouterr().out)["verdicts"]
    verdicts = {}
    for r in recs:
        verdicts.setdefault(r["claim"], set()).add(r["verdict"])
    assert verdicts["3pc.definition~half-step"] == {"holds"}
    assert verdicts["3pc.nonconvex~half-step"] == {"holds"}
    assert verdicts["3pc.definition~half-step-bold"] == {"violated"}  # (A, B) = (0.9, 0.1) is too optimistic
    assert all(r["instance"]["mechanism"].startswith("half-step") for r in recs)
    assert code == 1  # one unexpected verdict: the bold claim


def test_unknown_mechanism_is_one_line_naming_the_parameter():
    with pytest.raises(verify.UsageError, match="mechanism"):
        verify.check("3pc.nonconvex", instances=[dict(mechanism="no-such")])


@pytest.mark.slow
def test_report_figures_written_with_labelled_axes(tmp_path):
    import matplotlib.pyplot as plt

    from ratecheck.verify.experiments import get
    from ratecheck.verify.figures import experiment_figures
    from ratecheck.verify.figures.three_point import plot_skipped_vs_zeta

    figs = experiment_figures(get("three_point"), [], str(tmp_path), quick=True)
    assert [f for f, _ in figs] == [
        "three_point_grad_vs_bits.png",
        "three_point_skipped_vs_zeta.png",
        "three_point_clag_gain.png",
    ]
    for f, caption in figs:
        assert (tmp_path / f).stat().st_size > 1000 and caption
    fig = plot_skipped_vs_zeta(quick=True)
    try:
        (ax,) = fig.axes
        assert ax.get_xlabel() and ax.get_ylabel() and ax.get_xscale() == "log"
        lag = ax.get_lines()[0].get_ydata()
        assert lag[0] == 0 and lag[-1] > 0.5  # zeta -> 0: LAG is GD (never skips); large zeta: mostly skips
    finally:
        plt.close(fig)
