"""Figure-phase benchmark: a report's figures drawn by 2 loky workers against 1 process, side by side.

Run: ``PYTHONPATH=. python -m pytest tests/benchmarks/bench_figures.py -m benchmark --benchmark-enable -s``.
Target (issue 16): the figure phase is at most a fifth of the main job (``ratecheck check --all --search``); here
the ratio of the two drawings is printed, and on an otherwise idle 2-core machine (load average below 0.5 before
the run) 2 workers must beat 1 process by 1.4x.  The tasks are the quick verdicts of three experiments (per-claim
figures and series) plus the EF21 and Weiszfeld experiment figures.
"""

from __future__ import annotations

import os
import time

import pytest

pytestmark = pytest.mark.benchmark


def _tasks():
    from ratecheck import verify
    from ratecheck.verify.experiments import get
    from ratecheck.verify.figures import ClaimFigure, experiment_figures

    tasks = []
    for prefix in ("ef21.pl-qm", "ef21.cloning", "weiszfeld.rate", "adom-plus.complexity-chi"):
        vs = verify.check(prefix, quick=True)
        tasks.append(ClaimFigure(prefix, vs, prefix))
    ef, wz = verify.check("ef21.nonconvex-am", quick=True), verify.check("weiszfeld.hull", quick=True)
    tasks.append(lambda d, vs=ef: experiment_figures(get("ef21"), vs, d, quick=True))
    tasks.append(lambda d, vs=wz: experiment_figures(get("weiszfeld"), vs, d, quick=True))
    return tasks


def test_figure_phase_two_workers_vs_one(tmp_path):
    from ratecheck.verify.figures import draw_all

    tasks = _tasks()
    idle = os.getloadavg()[0] < 0.5
    (tmp_path / "warm").mkdir()
    draw_all(tasks[:2], tmp_path / "warm", workers=2)  # the worker pool is up before timing
    times = {}
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        out.mkdir()
        t0 = time.perf_counter()
        files, extra = draw_all(tasks, out, workers=workers)
        times[workers] = time.perf_counter() - t0
        assert len(files) == 4 and len(extra) == 4  # EF21 speedup, Weiszfeld rate, complexity, RFA
    print(f"\nfigure phase: 1 process {times[1]:.1f} s, 2 workers {times[2]:.1f} s ({times[1] / times[2]:.2f}x)")
    if idle:
        assert times[1] / times[2] >= 1.4
