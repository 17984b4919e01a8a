"""Start-up time of the command line (skipped by default).

Run: python -m pytest tests/benchmarks/bench_startup.py -m benchmark --benchmark-enable -s

Target (issue 17): ``ratecheck --help``, ``list`` and ``show ID`` print within 1 s on the 2-core reference
machine.  Measured side by side with the baseline ``python -c "import numpy"`` (what any numerical command
pays), as subprocess wall time from this checkout (``python -m ratecheck``), so the interpreter's start is
included exactly as a user sees it.  ``list`` and ``show`` read the catalogue index (``verify/catalogue.py``);
the rows marked "registry" run the same commands with the index switched off (``catalogue.current`` replaced
by ``catalogue.live``: what a stale index falls back to, and what every ``list``/``show`` paid before the
index), next to ``python -c "import sympy"``, the floor of that path.  Which modules those commands import is
a regular test (tests/verify/test_cli_conventions.py, tests/verify/test_catalogue.py); this file only measures.
"""

import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.benchmark

ROOT = Path(__file__).resolve().parents[2]


def _registry(*args) -> list:
    """``python -m ratecheck ARGS`` with the live registry instead of the index (the fallback path)."""
    code = (
        "from ratecheck.verify import catalogue; catalogue.current = catalogue.live; "
        f"from ratecheck.verify.__main__ import run; run({list(args)!r})"
    )
    return [sys.executable, "-c", code]


COMMANDS = {
    "baseline: python -c 'import numpy'": [sys.executable, "-c", "import numpy"],
    "ratecheck --help": [sys.executable, "-m", "ratecheck", "--help"],
    "ratecheck --version": [sys.executable, "-m", "ratecheck", "--version"],
    "ratecheck list": [sys.executable, "-m", "ratecheck", "list"],
    "ratecheck list --teeth --json": [sys.executable, "-m", "ratecheck", "list", "--teeth", "--json"],
    "ratecheck show ef21.pl-qm": [sys.executable, "-m", "ratecheck", "show", "ef21.pl-qm"],
    "ratecheck show ef21 --latex": [sys.executable, "-m", "ratecheck", "show", "ef21", "--latex"],
    "python -c 'import sympy'": [sys.executable, "-c", "import sympy"],
    "registry: list": _registry("list"),
    "registry: show ef21.pl-qm": _registry("show", "ef21.pl-qm"),
}


def _wall(cmd) -> float:
    return _run(cmd)[0]


def _run(cmd) -> tuple[float, float]:
    """(wall time, CPU time user + system) of one command; the CPU time hardly moves with the load of a
    shared machine, the wall time does."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_startup(benchmark, name):
    """Wall time of one command, a fresh interpreter per round (pytest-benchmark's table puts them side by side)."""
    benchmark.extra_info["command"] = " ".join(COMMANDS[name][1:])
    benchmark.pedantic(_wall, args=(COMMANDS[name],), rounds=5, iterations=1, warmup_rounds=1)


def test_startup_table():
    """The same, best of 5 interleaved rounds (interleaving spreads the load of a shared machine over all
    commands), printed as one table with each command's ratio to the baseline and its CPU time."""
    best = {name: float("inf") for name in COMMANDS}
    cpu = {name: float("inf") for name in COMMANDS}
    for _ in range(5):
        for name, cmd in COMMANDS.items():
            wall, used = _run(cmd)
            best[name], cpu[name] = min(best[name], wall), min(cpu[name], used)
    base = best["baseline: python -c 'import numpy'"]
    print()
    for name, t in best.items():
        print(f"{name:<32} {t:6.3f} s  ({t / base:4.1f}x numpy)  cpu {cpu[name]:6.3f} s")
