"""Sweeps: grids, seeding, up-front validation, resume after interruption, failures, backends, scaling claims, CLI."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from ratecheck import theorems
from ratecheck.theorems import Claim, sym
from ratecheck.verify import UsageError
from ratecheck.verify.checking import Evidence
from ratecheck.verify.experiments import Experiment
from ratecheck.verify.schema import Constant, Float, Int, Measure, Schema
from ratecheck.verify.store import Store, load
from ratecheck.verify.sweep import cell_seed, grid, parse_grid, plan, run_grid, sweep, zipped

pytest.importorskip("pyarrow")
ROOT = Path(__file__).resolve().parents[2]
AM = "ef21.nonconvex-am"
SMALL = dict(n=8, d=8, m=5)  # tiny least-squares instances: a unit takes a few milliseconds
CELLS = grid(T=[60, 90], spread=[1.5, 2.0])
VOLATILE = ["wall_time", "finished_at", "host", "git_rev"]


def _rows(df):
    """Rows in a canonical order without the columns that legitimately differ between runs."""
    df = df.drop(columns=VOLATILE).sort_values(["key", "grid"]).reset_index(drop=True)
    return df.astype({c: object for c in df.columns if str(df[c].dtype) == "category"})


# --------------------------------------------------------------------------- grids and seeds
def test_grid_and_zip_expansion():
    assert grid(a=[1, 2], b=["x", "y"]) == [
        {"a": 1, "b": "x"},
        {"a": 1, "b": "y"},
        {"a": 2, "b": "x"},
        {"a": 2, "b": "y"},
    ]
    assert zipped(a=[1, 2], b=[3, 4]) == [{"a": 1, "b": 3}, {"a": 2, "b": 4}]
    with pytest.raises(UsageError, match="empty"):
        grid(a=[])
    with pytest.raises(UsageError, match="equal length"):
        zipped(a=[1, 2], b=[3])


def test_parse_grid_types_and_errors():
    cells = parse_grid(["n=10,20", "spread=1.5,2", "profile=outlier,geometric", "flag=true"])
    assert len(cells) == 8 and cells[0] == {"n": 10, "spread": 1.5, "profile": "outlier", "flag": True}
    assert isinstance(cells[0]["n"], int) and isinstance(cells[-1]["spread"], int)
    assert parse_grid(["a=1,2", "b=3,4"], zip_axes=True) == [{"a": 1, "b": 3}, {"a": 2, "b": 4}]
    assert parse_grid([]) is None
    for bad, msg in ((["n="], "empty"), (["n"], "name=v1"), (["n=1", "n=2"], "twice")):
        with pytest.raises(UsageError, match=msg):
            parse_grid(bad)


def test_seeds_depend_on_content_not_order():
    assert cell_seed({"a": 1, "b": 2}) == cell_seed({"b": 2, "a": 1})
    assert cell_seed({"a": 1}, 0) != cell_seed({"a": 1}, 1) != cell_seed({"a": 2}, 1)
    fwd = {(u.key, u.seed) for u in plan(AM, [dict(SMALL, **c) for c in CELLS], seeds=2, validate="none")}
    rev = {(u.key, u.seed) for u in plan(AM, [dict(SMALL, **c) for c in CELLS[::-1]], seeds=2, validate="none")}
    assert fwd == rev and len(fwd) == 8
    assert [r[1] for r in run_grid(lambda **kw: kw["seed"], [{"a": 1}], seeds=2)] == [
        cell_seed({"a": 1}, r) for r in (0, 1)
    ]


def test_rows_do_not_depend_on_cell_order(tmp_path):
    cells = [dict(SMALL, **c) for c in CELLS]
    a = sweep(AM, cells, out=tmp_path / "a", backend="serial", quick=True)
    b = sweep(AM, cells[::-1], out=tmp_path / "b", backend="serial", quick=True)
    assert sorted(a.keys) == sorted(b.keys)
    assert _rows(a.frame()).equals(_rows(b.frame()))


# --------------------------------------------------------------------------- validation up front
@pytest.mark.parametrize(
    "cells, msg",
    [
        ([{"nn": 3}], "unknown parameter 'nn'"),
        ([], "grid is empty"),
        ([{"n": 0}], "n must be an integer >= 1"),
        ([{"T": 50}, {"stepsize_factor": 3.0}], "^cell stepsize_factor=3.0: .*violates the assumption gamma <="),
    ],
)
def test_bad_grids_rejected_before_anything_runs(tmp_path, cells, msg):
    out = tmp_path / "s"
    with pytest.raises(UsageError, match=msg):
        sweep(AM, cells, out=out, backend="serial", quick=True)
    assert not out.exists()  # nothing ran, nothing was written


def test_cell_values_checked_against_claim_assumptions():
    exp = _Toy()
    claim = _toy_claim(assumptions=(theorems.le(sym("a"), 2),))
    with pytest.raises(UsageError, match="parameter a violates the assumption a <= 2"):
        plan((claim, exp), [{"a": 1.0}, {"a": 3.0}], validate="params")


def test_unknown_target_and_bad_options(tmp_path):
    with pytest.raises(UsageError, match="neither a claim id"):
        sweep("nope", [{}], out=tmp_path / "x", backend="serial")
    with pytest.raises(UsageError, match="seeds"):
        sweep(AM, [{}], seeds=0, out=tmp_path / "x", backend="serial")
    with pytest.raises(UsageError, match="backend"):
        sweep(AM, [SMALL], out=tmp_path / "x", backend="mpi", quick=True)
    with pytest.raises(UsageError, match="--scheduler needs --backend dask"):
        sweep(AM, [SMALL], out=tmp_path / "y", backend="loky", scheduler="tcp://127.0.0.1:1", quick=True)


def test_experiment_name_selects_its_claims():
    units = plan("ef21", [SMALL], validate="none", quick=True)
    claims = {u.claim for u in units}
    assert AM in claims and "ef21.pl-am" in claims and "ef21.constants" not in claims


# --------------------------------------------------------------------------- resume and failures
class _Stop(Exception):
    pass


def test_interrupted_sweep_resumes_without_loss_or_duplicates(tmp_path):
    cells = [dict(SMALL, **c) for c in CELLS]
    out = tmp_path / "s"
    seen = []

    def stop_after_three(key, failed):
        seen.append(key)
        if len(seen) == 3:
            raise _Stop  # the sweep dies here, like a Ctrl-C

    with pytest.raises(_Stop):
        sweep(AM, cells, seeds=2, out=out, backend="serial", quick=True, on_unit=stop_after_three)
    assert Store(out).done_keys() == set(seen)
    before = load(out)
    res = sweep(AM, cells, seeds=2, out=out, backend="serial", quick=True)
    assert (res.ran, res.skipped) == (5, 3)
    after = load(out)
    assert after.key.nunique() == 8 and not after.duplicated(["key", "grid"]).any()
    kept = after[after.key.isin(seen)]
    assert _rows(kept).equals(_rows(before))  # nothing already written was lost or rewritten
    again = sweep(AM, cells, seeds=2, out=out, backend="serial", quick=True)
    assert (again.ran, again.skipped) == (0, 8)


@pytest.mark.slow
def test_killed_sweep_process_resumes(tmp_path):
    """SIGKILL a running sweep (loky, 2 workers) mid-run: finished cells survive whole, the rest resumes."""
    out = tmp_path / "s"
    cells = [dict(n=8, d=8, m=5, T=t) for t in range(100, 2100, 100)]  # 20 cells
    script = textwrap.dedent(f"""
        from ratecheck.verify.sweep import sweep
        sweep({AM!r}, {cells!r}, out={str(out)!r}, backend="loky", workers=2, progress=False)
    """)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", script], env=env, start_new_session=True)
    try:
        deadline = time.time() + 60
        while time.time() < deadline and (not (out / "parts").is_dir() or len(Store(out).done_keys()) < 3):
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its workers, mid-run
        proc.wait()
    done = Store(out).done_keys()
    assert 3 <= len(done) < 20
    for f in (out / "parts").iterdir():  # every part on disk is whole
        if not f.name.startswith("."):
            assert len(load(out, keys=[f.name.split(".")[0]])) > 0
    res = sweep(AM, cells, out=out, backend="serial")
    assert res.skipped == len(done) and res.ran == 20 - len(done) and not res.failed
    df = load(out)
    assert df.key.nunique() == 20 and not df.duplicated(["key", "grid"]).any()


class _Toy(Experiment):
    """y_T = a / T exactly; raises for fail=1 (a cell that breaks)."""

    name = "toy-sweep"
    schema = Schema(
        params=(
            Float("a", 1.0, "scale"),
            Int("fail", 0, "1: the run raises", low=0, high=1),
            Int("T", 8, "horizon", low=1),
        ),
        constants=(Constant("a", "the scale"),),
        measures=(Measure("toy", "a / T", grid="T"),),
    )

    def instances(self, claim, quick=False):
        return [{"a": 1.0}, {"a": 2.0}]

    def run(self, claim, p, seed=0):
        if p["fail"]:
            raise RuntimeError("this cell breaks")
        T = np.arange(1, p["T"] + 1)
        c = {"a": p["a"]}
        return Evidence(
            "T",
            T,
            p["a"] / T,
            claim.evaluate(T=T, **c) if claim.bound is not None else np.nan,
            constants=c,
            instance=p,
            seed=seed,
        )


def _toy_claim(**kw):
    base = dict(
        id="test.toy",
        title="toy",
        paper="none",
        provenance="derived",
        kind="upper",
        measure="toy",
        bound=sym("a") / sym("T"),
    )
    base.update(kw)
    return Claim(**base)


def test_failing_cell_is_recorded_and_retried(tmp_path):
    exp, claim = _Toy(), _toy_claim()
    cells = [{"a": 1.0}, {"a": 2.0, "fail": 1}, {"a": 3.0}]
    res = sweep((claim, exp), cells, out=tmp_path / "s", backend="serial")
    assert res.ran == 3 and len(res.failed) == 1 and "RuntimeError: this cell breaks" in res.failed[0]["error"]
    assert res.unexpected and res.summary[0]["verdict"] == "holds" and res.summary[0]["failed"] == 1
    df = res.frame()
    assert set(df.verdict) == {"holds", "error"} and (df.verdict == "holds").sum() == 16
    again = sweep((claim, exp), cells, out=tmp_path / "s", backend="serial")
    assert again.ran == 1 and again.skipped == 2 and len(again.failed) == 1  # only the failed unit re-ran


def test_defaults_and_base_cells(tmp_path):
    exp, claim = _Toy(), _toy_claim()
    res = sweep((claim, exp), None, out=tmp_path / "s", backend="serial")  # no grid: the default instances
    assert res.ran == 2 and sorted(res.frame().param_a.unique()) == [1.0, 2.0]
    res = sweep((claim, exp), grid(T=[4]), base={"a": 5.0}, out=tmp_path / "t", backend="serial")
    assert list(res.frame().param_a.unique()) == [5.0]


# --------------------------------------------------------------------------- scaling claims
def _scaling_claim(exponent, **setting):
    base = theorems.get(AM)
    return Claim(
        id=f"test.am-vs-T{exponent}",
        title="final running mean of ||grad f||^2 ~ 1/T (PL instance)",
        paper="test",
        provenance="derived",
        kind="scaling",
        measure="avg_grad_norm_sq",
        bound=base.bound,
        stepsize=base.stepsize,
        assumptions=base.assumptions,
        exponent=exponent,
        scaling_in="T",
        experiment="ef21",
        setting=setting,
    )


def test_scaling_claim_fitted_and_judged(tmp_path):
    cells = [dict(SMALL, T=t) for t in (200, 400, 800, 1600)]
    good = sweep(_scaling_claim(-1, exponent_tolerance=0.02), cells, seeds=3, out=tmp_path / "s", backend="serial")
    (s,) = good.summary
    assert s["kind"] == "scaling" and s["verdict"] == "holds", s
    assert abs(s["fit"]["fitted_exponent"] + 1) < 0.03 and s["fit"]["fit_method"] == "bootstrap+t"
    assert s["fit"]["interval_high"] - s["fit"]["interval_low"] < 0.1  # common random numbers along T
    (v,) = good.verdicts
    assert v.evidence.fit.interval[0] <= v.evidence.fit.slope <= v.evidence.fit.interval[1]
    assert set(good.frame().verdict) == {"pending"}
    bad = sweep(_scaling_claim(-2), cells[:3], seeds=2, out=tmp_path / "s", backend="serial")
    assert bad.skipped == 0 and bad.summary[0]["verdict"] == "violated" and bad.unexpected


def test_scaling_sweep_warnings_go_into_the_detail(tmp_path, monkeypatch, capsys):
    """As in check: a warning met by a scaling claim's run (in the unit's detail) or by the sweep's fit of its
    law (in the claim's verdict) is counted in the detail, never printed raw."""
    import warnings

    import ratecheck.verify.fit as fit_mod
    import ratecheck.verify.sweep as sweep_mod

    run, fit = sweep_mod._run_experiment, fit_mod.scaling_fit

    def noisy_run(*a, **k):
        warnings.warn_explicit("overflow encountered in exp", RuntimeWarning, "solver.py", 3)
        return run(*a, **k)

    def noisy_fit(*a, **k):
        warnings.warn_explicit("divide by zero encountered in log", RuntimeWarning, "fit.py", 5)
        return fit(*a, **k)

    monkeypatch.setattr(sweep_mod, "_run_experiment", noisy_run)
    monkeypatch.setattr(fit_mod, "scaling_fit", noisy_fit)
    cells = [dict(SMALL, T=t) for t in (200, 400, 800)]
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        res = sweep(_scaling_claim(-1, exponent_tolerance=0.05), cells, out=tmp_path / "s", backend="serial")
    assert res.failed == []
    details = res.frame().detail
    assert details.str.contains("RuntimeWarning at solver.py:3 'overflow encountered in exp'").all(), details
    (v,) = res.verdicts
    assert v.verdict == "holds" and "RuntimeWarning at fit.py:5 'divide by zero encountered in log'" in v.detail
    assert "RuntimeWarning" not in capsys.readouterr().err


def test_scaling_fit_per_group_of_other_parameters(tmp_path):
    cells = grid(T=[200, 400, 800], spread=[1.5, 2.0])
    res = sweep(
        _scaling_claim(-1, exponent_tolerance=0.05),
        [dict(SMALL, **c) for c in cells],
        out=tmp_path / "s",
        backend="serial",
    )
    assert [s["instance"]["spread"] for s in res.summary] == [1.5, 2.0]
    assert all(s["verdict"] == "holds" for s in res.summary)


# --------------------------------------------------------------------------- backends
@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    cells = [dict(SMALL, **c) for c in CELLS]
    out = tmp_path_factory.mktemp("ref")
    return cells, _rows(sweep(AM, cells, seeds=2, out=out, backend="serial", quick=True).frame())


@pytest.fixture(scope="module")
def loky_rows(tmp_path_factory, reference):
    pytest.importorskip("joblib")
    cells, _ = reference
    res = sweep(AM, cells, seeds=2, out=tmp_path_factory.mktemp("loky"), backend="loky", workers=2, quick=True)
    return _rows(res.frame())


def test_loky_equals_serial_row_for_row(reference, loky_rows):
    assert loky_rows.equals(reference[1])


def test_killed_worker_process_is_replaced(tmp_path):
    """Kill a loky worker mid-sweep: its unit is resubmitted; nothing lost, nothing duplicated."""
    pytest.importorskip("joblib")
    from ratecheck.verify.sweep import loky_executor

    cells = [dict(n=8, d=8, m=5, T=t) for t in range(200, 1400, 200)]  # 6 cells
    killed = []

    def kill_a_worker(key, failed):
        if not killed:
            ex = loky_executor(2)  # the sweep's own executor (same arguments: reused, not replaced)
            pid = next(iter(ex._processes))
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
            deadline = time.time() + 10  # let loky notice, so that the sweep's next submit meets a broken pool
            while time.time() < deadline and not getattr(getattr(ex, "_flags", None), "broken", True):
                time.sleep(0.02)

    res = sweep(AM, cells, out=tmp_path / "s", backend="loky", workers=2, on_unit=kill_a_worker)
    assert killed and not res.failed and res.ran == 6 and res.resubmitted >= 1
    df = res.frame()
    assert df.key.nunique() == 6 and not df.duplicated(["key", "grid"]).any()
    assert set(df.verdict) == {"holds"}


def test_dask_local_cluster_equals_local_backend_row_for_row(tmp_path, reference, loky_rows):
    distributed = pytest.importorskip("distributed")
    from ratecheck.verify.sweep import BLAS_ENV

    cells, ref = reference
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        env=dict(BLAS_ENV, PYTHONPATH=str(ROOT)),
    ) as cluster:
        res = sweep(
            AM, cells, seeds=2, out=tmp_path / "s", backend="dask", scheduler=cluster.scheduler_address, quick=True
        )
        hosts_workers = len(cluster.workers)
    assert hosts_workers == 2 and res.ran == 8 and not res.failed
    rows = _rows(res.frame())
    assert rows.equals(loky_rows) and rows.equals(ref)


# --------------------------------------------------------------------------- CLI
def _cli(argv):
    from ratecheck.verify.cli import main

    return main(argv)


def test_cli_sweep_json_resume_and_merge(tmp_path, capsys):
    base = [
        "sweep",
        AM,
        "--grid",
        "T=60,90",
        "--grid",
        "n=8",
        "--grid",
        "d=8",
        "--backend",
        "serial",
        "--quick",
        "--json",
    ]
    assert _cli(base + ["--out", str(tmp_path / "a")]) == 0
    rec = json.loads(capsys.readouterr().out)
    c = rec["claims"][0]
    assert rec["ran"] == 2 and c["verdict"] == "holds" and c["tightness"] > 0 and c["violations"] == 0
    assert c["instance"]["T"] in (60, 90) and isinstance(c["seed"], int) and c["provenance"] and c["paper"]
    assert _cli(base + ["--out", str(tmp_path / "a"), "--seeds", "2"]) == 0
    assert json.loads(capsys.readouterr().out)["skipped"] == 2
    assert _cli(base + ["--out", str(tmp_path / "b"), "--grid", "spread=1.5"]) == 0
    capsys.readouterr()
    assert _cli(["merge", str(tmp_path / "m"), str(tmp_path / "a"), str(tmp_path / "b"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["copied"] == 6
    assert load(tmp_path / "m").key.nunique() == 6
    assert (
        _cli(["sweep", AM, "--grid", "n=8", "--grid", "T=60", "--backend", "serial", "--out", str(tmp_path / "c")]) == 0
    )
    assert "holds" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv,msg",
    [(["--grid", "bogus=1"], "unknown parameter 'bogus'"), (["--grid", "n="], "empty"), (["--zip"], "--zip needs")],
)
def test_cli_rejects_bad_grids(argv, msg, tmp_path, capsys):
    assert _cli(["sweep", AM, *argv, "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ratecheck: error: ") and msg in err and not (tmp_path / "x").exists()


def test_progress_bar_on_a_terminal_only():
    import io

    from ratecheck.verify.sweep import Progress

    class Tty(io.StringIO):
        def isatty(self):
            return True

    out = Tty()
    p = Progress(3, stream=out)
    if not p.enabled:  # CI set in the environment: quiet by design
        assert os.environ.get("CI")
        p.enabled = True
    p.update()
    p.update(failed=True)
    p.close()
    text = out.getvalue()
    assert "2/3 cells, 1 failed, ETA" in text and text.endswith("\n")
    quiet = io.StringIO()
    q = Progress(3, stream=quiet)
    q.update()
    q.close()
    assert not q.enabled and quiet.getvalue() == ""


def test_check_scaling_in_memory_matches_the_sweep(tmp_path):
    from ratecheck.verify.sweep import check_scaling

    claim = _scaling_claim(-1, exponent_tolerance=0.02)
    cells = [dict(SMALL, T=t) for t in (200, 400, 800, 1600)]
    (v,) = check_scaling(claim, instances=cells, seeds=2)
    res = sweep(claim, cells, seeds=2, out=tmp_path / "s", backend="serial")
    assert v.verdict == res.verdicts[0].verdict == "holds"
    assert v.evidence.fit.slope == pytest.approx(res.verdicts[0].evidence.fit.slope, abs=1e-12)
    with pytest.raises(UsageError, match="not a scaling claim"):
        check_scaling(AM, instances=cells)


@pytest.mark.slow
def test_cli_dask_backend_starts_its_own_local_cluster(tmp_path, capsys):
    pytest.importorskip("distributed")
    argv = [
        "sweep",
        AM,
        "--grid",
        "T=60,90",
        "--grid",
        "n=8",
        "--grid",
        "d=8",
        "--backend",
        "dask",
        "--workers",
        "2",
        "--quick",
        "--json",
        "--out",
        str(tmp_path / "d"),
    ]
    assert _cli(argv) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["ran"] == 2 and rec["claims"][0]["verdict"] == "holds"


def test_teeth_variant_is_violated_as_expected(tmp_path):
    res = sweep("ef21.nonconvex-am~rate-T2", [dict(SMALL, T=t) for t in (60, 90)], out=tmp_path / "s", backend="serial")
    (s,) = res.summary
    assert s["verdict"] == s["expected"] == "violated" and not s["unexpected"] and not res.unexpected
    assert s["violations"] == 2 and s["tightness"] > 1 and "measured" in s["detail"]


def test_scaling_grid_needs_enough_x_values_and_positive_responses(tmp_path):
    with pytest.raises(UsageError, match="at least 3 distinct values of 'T', the grid has 2"):
        sweep(_scaling_claim(-1), [dict(SMALL, T=t) for t in (100, 200)], out=tmp_path / "s", backend="serial")
    with pytest.raises(UsageError, match="at least 4 distinct"):
        plan(_scaling_claim(-1, fit="offset"), [dict(SMALL, T=t) for t in (100, 200, 400)], validate="params")
    with pytest.raises(UsageError, match="setting 'fit'"):
        plan(_scaling_claim(-1, fit="cubic"), [dict(SMALL, T=t) for t in (100, 200, 400)], validate="params")
    claim = _toy_claim(kind="scaling", exponent=-1, scaling_in="T", bound=None)
    res = sweep((claim, _Toy()), [{"T": t, "a": 0.0} for t in (4, 8, 16)], out=tmp_path / "t", backend="serial")
    (s,) = res.summary
    assert s["verdict"] == "inconclusive" and s["unexpected"] and "positive" in s["detail"]


def test_truncated_part_is_recomputed_on_resume(tmp_path, capsys):
    """A part cut short (a crash, a full disk) neither breaks the next sweep nor counts as finished."""
    out = tmp_path / "s"
    argv = [
        "sweep",
        AM,
        "--grid",
        "T=60,90",
        "--grid",
        "n=8",
        "--grid",
        "d=8",
        "--backend",
        "serial",
        "--quick",
        "--json",
        "--out",
        str(out),
    ]
    assert _cli(argv) == 0
    capsys.readouterr()
    before = load(out)
    part = sorted((out / "parts").glob("*.parquet"))[0]
    part.write_bytes(part.read_bytes()[:64])
    assert _cli(argv) == 0
    cap = capsys.readouterr()
    rec = json.loads(cap.out)
    assert (rec["ran"], rec["skipped"]) == (1, 1) and not rec["failed"]
    lines = cap.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ratecheck: warning: ") and part.name in lines[0]
    assert "Traceback" not in cap.err and (out / "quarantine" / part.name).is_file()
    assert _rows(load(out)).equals(_rows(before))  # the unit ran again and gave the same rows


def _children(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (Linux /proc)."""
    kids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = Path(f"/proc/{d}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(d))
    return kids


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_killed_sweep_leaves_no_worker_processes(tmp_path):
    """SIGKILL the sweep process alone (not its process group): its loky workers and resource trackers exit
    within seconds instead of living on until their idle timeout with the caller's stdout open."""
    pytest.importorskip("joblib")
    out = tmp_path / "s"
    cells = [dict(n=8, d=8, m=5, T=t) for t in range(1000, 41000, 1000)]  # 40 cells: busy well past the kill
    script = (
        f"from ratecheck.verify.sweep import sweep; sweep({AM!r}, {cells!r}, out={str(out)!r}, backend='loky', "
        f"workers=2, progress=False, validate='params')"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    kids = []
    try:
        deadline = time.time() + 60
        while time.time() < deadline and proc.poll() is None:
            kids = _children(proc.pid)
            if len(kids) >= 3:  # the resource tracker and the two workers
                break
            time.sleep(0.05)
        assert proc.poll() is None and len(kids) >= 3, "the sweep did not start its workers"
        time.sleep(0.5)
        kids = sorted(set(kids) | set(_children(proc.pid)))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.time() + 10
        while time.time() < deadline and any(map(_running, kids)):
            time.sleep(0.1)
        survivors = [k for k in kids if _running(k)]
        assert not survivors, f"processes of the killed sweep still alive: {survivors}"
        proc.stdout.read()  # nobody holds the pipe open any more: EOF, not a hang
    finally:
        for k in kids:  # only the processes this test started
            with contextlib.suppress(ProcessLookupError):
                os.kill(k, signal.SIGKILL)
        proc.stdout.close()


def test_local_dask_cluster_listens_on_loopback_only(monkeypatch):
    """The cluster a sweep starts for itself has no authentication: scheduler, workers and dashboard must
    not listen beyond this machine (checked on the arguments, without starting a cluster)."""
    distributed = pytest.importorskip("distributed")
    from ratecheck.verify import sweep as sweep_mod

    made = {}

    class FakeCluster:
        def __init__(self, **kw):
            made.update(kw)

        def close(self):
            pass

    class FakeClient:
        def __init__(self, cluster, **kw):
            self.cluster = cluster

        def scheduler_info(self):
            return {"workers": {"a": {}, "b": {}}}

        def close(self):
            pass

    monkeypatch.setattr(distributed, "LocalCluster", FakeCluster)
    monkeypatch.setattr(distributed, "Client", FakeClient)
    sweep_mod._Dask(2).close()
    assert made["host"] == "127.0.0.1" and made["dashboard_address"] is None and made["n_workers"] == 2
    assert "worker_dashboard_address" not in made and not made.get("worker_kwargs")


def test_local_dask_cluster_addresses_are_loopback():
    pytest.importorskip("distributed")
    from ratecheck.verify.sweep import _Dask

    d = _Dask(1)
    try:
        d.client.wait_for_workers(1, timeout=60)
        info = d.client.scheduler_info()
        addresses = [info["address"], *info["workers"]]
        assert len(addresses) == 2 and all(a.startswith("tcp://127.0.0.1:") for a in addresses), addresses
    finally:
        d.close()


def test_two_sweeps_into_one_store_at_once(tmp_path):
    """Two processes sweep overlapping grids into one store at the same time: both finish, every unit is there
    once, both runs are logged, and no temporary file is left."""
    out = tmp_path / "s"
    script = (
        "import sys\nfrom ratecheck.verify.sweep import sweep\n"
        "T = [int(t) for t in sys.argv[1].split(',')]\n"
        f"r = sweep({AM!r}, [dict(n=8, d=8, m=5, T=t) for t in T], out={str(out)!r}, backend='serial', "
        "progress=False)\nassert not r.failed\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    grids = (",".join(str(t) for t in range(50, 850, 50)), ",".join(str(t) for t in range(450, 1250, 50)))
    procs = [
        subprocess.Popen([sys.executable, "-c", script, g], env=env, stderr=subprocess.PIPE, text=True) for g in grids
    ]
    errs = [p.communicate(timeout=300)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errs
    df = load(out)
    assert df.key.nunique() == 24 and not df.duplicated(["key", "grid"]).any()
    assert sorted(df.drop_duplicates("key").param_T) == list(range(50, 1250, 50))
    assert len(json.loads((out / "sweep.json").read_text())["runs"]) == 2  # no lost update of the run log
    assert not [f for f in (out / "parts").iterdir() if f.name.startswith(".")]
    assert not [f for f in out.iterdir() if f.name.startswith(".tmp-")]
