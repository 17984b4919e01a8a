"""Bad input to every subcommand: exit status 2, one stderr line ``ratecheck: error: ...``, no traceback, and
nothing created or changed in the working directory.

Each case runs in a fresh temporary working directory holding a few fixture files (a foreign folder, a
plain file, a claim file, records, stores); after the run the directory must hold exactly the same files
with the same bytes.  Most cases call ``verify.cli.main`` in-process; a few go through ``python -m ratecheck``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ratecheck.verify.cli import main

ROOT = Path(__file__).resolve().parents[2]
RECORD = {
    "format": "ratecheck-counterexample/1",
    "claim": "ef21.pl-qm~halved",
    "experiment": "ef21",
    "instance": {"d": 10, "T": 20},
    "seed": 0,
    "verdict": "violated",
    "measured": 1.0,
    "bound": 0.5,
    "where": {"T": 1.0},
    "tightness": 2.0,
}
CLAIMS = """\
from ratecheck import theorems
OK = theorems.get("ef21.means").variant("mine")
NOT_A_CLAIM = 42
"""
AM = "ef21.nonconvex-am"
SWEEP = ["sweep", AM, "--backend", "serial", "--quick"]


def _record(**changes):
    return json.dumps(dict(RECORD, **changes))


def _make_store(path: Path, part: bytes | None = None, log: str | None = None) -> None:
    """A minimal results store (marker, parts/, sweep.json) with one part file of the given bytes."""
    (path / "parts").mkdir(parents=True)
    (path / ".ratecheck").write_text("written by ratecheck: results store\n")
    (path / "sweep.json").write_text(log if log is not None else '{"runs": []}')
    if part is not None:
        (path / "parts" / ("0" * 24 + ".parquet")).write_bytes(part)


@pytest.fixture
def cwd(tmp_path, monkeypatch):
    """A fresh working directory with the fixtures the cases refer to."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("mine\n")
    (tmp_path / "paper").mkdir()
    (tmp_path / "paper" / "thesis.tex").write_text("\\documentclass{article}\n")
    (tmp_path / "claims.py").write_text(CLAIMS)
    (tmp_path / "exits.py").write_text("import sys\nsys.exit(0)\n")
    (tmp_path / "broken.py").write_text("def (:\n")
    (tmp_path / "notes.txt").write_text("not python\n")
    recs = {
        "cx-num-claim.json": _record(claim=5),
        "cx-str-seed.json": _record(seed="3"),
        "cx-neg-seed.json": _record(seed=-2),
        "cx-list-instance.json": _record(instance=[1, 2]),
        "cx-unknown-claim.json": _record(claim="no.such-claim"),
        "cx-unknown-exp.json": _record(experiment="nope"),
        "cx-bad-param.json": _record(instance={"d": "abc"}),
        "cx-unknown-param.json": _record(instance={"zz": 1}),
        "cx-format.json": _record(format="something-else/9"),
        "cx-array.json": "[1, 2, 3]",
        "cx-invalid.json": "{not json",
        "cx-empty.json": "",
        "cx-verdict.json": _record(verdict=7),
        "cx-deep.json": "[" * 100000 + "]" * 100000,
        "cx-missing.json": json.dumps({"format": RECORD["format"]}),
    }
    for name, text in recs.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "cx-binary.json").write_bytes(b"\xff\xfe\x00garbage")
    _make_store(tmp_path / "st-truncated", part=b"PAR1" + b"\x00" * 20)
    _make_store(tmp_path / "st-badlog", log="{torn")
    return tmp_path


def _snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None) for p in sorted(folder.rglob("*"))}


# (subcommand arguments, a fragment of the error message)
CASES = [
    # ---- list, show, experiments, describe
    (["list", "--bogus"], "unrecognized arguments: --bogus"),
    (["list", "extra"], "unrecognized arguments: extra"),
    (["list", "--json=yes"], "ignored explicit argument"),
    (["show"], "the following arguments are required: id"),
    (["show", "nope.x"], "no claim id is or starts with 'nope.x'"),
    (["show", ""], "a claim id or prefix must be a non-empty string"),
    (["show", AM, "extra"], "no claim id is or starts with 'extra'"),  # show takes several ids or prefixes
    (["show", AM, "--latex", "--json"], "argument --json: not allowed with argument --latex"),  # one output form
    (["show", AM, "--toml", "--json"], "argument --json: not allowed with argument --toml"),
    (["experiments", "extra"], "unrecognized arguments"),
    (["experiments", "--bogus"], "unrecognized arguments"),
    (["describe"], "the following arguments are required: experiment"),
    (["describe", "nope"], "unknown experiment 'nope'"),
    (["describe", "ef2"], "did you mean 'ef21'"),
    (["bogus"], "invalid choice"),
    # ---- check
    (["check"], "name claim ids"),
    (["check", "nope"], "no claim id is or starts with 'nope'"),
    (["check", AM, "--param", "T=0"], "T must be an integer >= 1"),
    (["check", AM, "--param", "bogus=1"], "unknown parameter 'bogus'"),
    (["check", AM, "--param", "T"], "--param"),
    (["check", AM, "--param", "n=abc"], "n must be an integer"),
    (["check", AM, "--param", "spread=inf"], "spread must be a finite number"),
    (["check", AM, "--param", "compressor=top-50"], "k must satisfy 1 <= k <= d"),
    (["check", AM, "--param", "n=1000000000000000", "--no-report"], "this instance needs about"),
    (["check", AM, "--seed", "-1"], "--seed must be >= 0"),
    (["check", AM, "--seed", "abc"], "invalid int value: 'abc'"),
    (["check", AM, "--search", "-1"], "--search budget must be a positive integer"),
    (["check", AM, "--clients", "5"], "--clients needs --data"),
    (["check", AM, "--data", "nowhere.svm"], "data"),
    (["check", AM, "--experiment", "nope"], "unknown experiment 'nope'"),
    (["check", AM, "--out", "afile"], "exists and is not a folder"),
    (["check", AM, "--out", "."], "current directory or one of its parents"),
    (["check", AM, "--out", "paper"], "did not write"),
    (["check", AM, "--out", "afile/rep"], "is a file, not a folder"),
    (["check", AM, "--out", "no/such/parent/rep"], "does not exist"),
    (["check", AM, "--out", ""], "empty path"),
    (["check", "--claim", "claims.py"], "--claim must look like path/to/file.py:NAME"),
    (["check", "--claim", ":OK"], "(no file)"),
    (["check", "--claim", "claims.py:"], "(no name)"),
    (["check", "--claim", "nowhere.py:X"], "does not exist"),
    (["check", "--claim", "paper:X"], "is not a file"),
    (["check", "--claim", "claims.py:MISSING"], "defines no name 'MISSING'"),
    (["check", "--claim", "claims.py:NOT_A_CLAIM"], "not a theorems.Claim"),
    (["check", "--claim", "exits.py:X"], "called sys.exit(0)"),
    (["check", "--claim", "broken.py:X"], "SyntaxError"),
    (["check", "--claim", "notes.txt:X"], "not a Python file"),
    (["check", AM, "--param", "stepsize_factor=2"], "violates the assumption gamma <="),
    # ---- search
    (["search"], "name a claim id"),
    (["search", "nope"], "no claim id is or starts with 'nope'"),
    (["search", AM, "--budget", "0"], "budget"),
    (["search", AM, "--budget", "x"], "invalid int value"),
    (["search", AM, "--seed", "-1"], "seed"),
    (["search", AM, "--out", "afile"], "exists and is not a folder"),
    (["search", AM, "--out", "paper"], "did not write"),
    (["search", AM, "--out", "afile/cx"], "is a file, not a folder"),
    (["search", AM, "--out", "."], "current directory"),
    (["search", "--claim", "exits.py:X"], "called sys.exit(0)"),
    (["search", "adom-plus.complexity-chi"], "scaling claim"),
    (["search", AM, "--experiment", "nope"], "unknown experiment"),
    # ---- replay
    (["replay"], "the following arguments are required: file"),
    (["replay", "nowhere.json"], "does not exist"),
    (["replay", ""], "empty path"),
    (["replay", "paper"], "is not a file"),
    (["replay", "cx-invalid.json"], "invalid JSON"),
    (["replay", "cx-empty.json"], "invalid JSON"),
    (["replay", "cx-binary.json"], "invalid JSON"),
    (["replay", "cx-deep.json"], "invalid JSON"),
    (["replay", "cx-array.json"], "not a counterexample record"),
    (["replay", "cx-format.json"], "format must be"),
    (["replay", "cx-missing.json"], "lacks claim, experiment, instance, seed"),
    (["replay", "cx-num-claim.json"], "field 'claim' must be a claim id"),
    (["replay", "cx-str-seed.json"], "field 'seed' must be an integer"),
    (["replay", "cx-neg-seed.json"], "field 'seed' must be an integer"),
    (["replay", "cx-list-instance.json"], "field 'instance' must be an object"),
    (["replay", "cx-verdict.json"], "field 'verdict'"),
    (["replay", "cx-unknown-claim.json"], "is not registered"),
    (["replay", "cx-unknown-exp.json"], "unknown experiment 'nope'"),
    (["replay", "cx-bad-param.json"], "d must be an integer >= 1"),
    (["replay", "cx-unknown-param.json"], "unknown parameter 'zz'"),
    (["replay", "cx-num-claim.json", "--claim", "claims.py:OK"], "field 'claim'"),
    (["replay", "cx-bad-param.json", "--claim", "claims.py:OK"], "records claim 'ef21.pl-qm~halved'"),
    # ---- sweep
    (["sweep"], "the following arguments are required: CLAIM_OR_EXPERIMENT"),
    (["sweep", "nope"], "neither a claim id"),
    ([*SWEEP, "--grid", "bogus=1"], "unknown parameter 'bogus'"),
    ([*SWEEP, "--grid", "n="], "empty"),
    ([*SWEEP, "--grid", "n"], "--grid expects name=v1"),
    ([*SWEEP, "--grid", "n=8", "--grid", "n=9"], "given twice"),
    ([*SWEEP, "--grid", "n=0"], "n must be an integer >= 1"),
    ([*SWEEP, "--zip"], "--zip needs --grid"),
    ([*SWEEP, "--zip", "--grid", "n=8,9", "--grid", "d=8"], "equal length"),
    ([*SWEEP, "--seeds", "0"], "seeds must be an integer in [1, "),
    ([*SWEEP, "--seeds", "99999999999999999999"], "seeds must be an integer in [1, "),
    ([*SWEEP, "--seeds", "x"], "invalid int value"),
    (["sweep", AM, "--workers", "0"], "workers must be an integer in [1, 1024]"),
    (["sweep", AM, "--workers", "99999999999999999999"], "workers must be an integer in [1, 1024]"),
    ([*SWEEP] + [f"--grid=x{i}={','.join(map(str, range(10)))}" for i in range(8)], "more than a sweep plans"),
    (["sweep", AM, "--backend", "mpi"], "invalid choice: 'mpi'"),
    (["sweep", AM, "--scheduler", "tcp://127.0.0.1:1"], "--scheduler needs --backend dask"),
    ([*SWEEP, "--workers", "3"], "--workers 3 has no effect: --backend serial runs in this process"),
    (
        ["sweep", AM, "--backend", "dask", "--scheduler", "tcp://127.0.0.1:1", "--workers", "3"],
        "--workers 3 has no effect: --scheduler's cluster has its own",
    ),
    ([*SWEEP, "--out", "afile"], "not a folder"),
    ([*SWEEP, "--out", "paper"], "did not write"),
    ([*SWEEP, "--out", "afile/st"], "is a file, not a folder"),
    ([*SWEEP, "--out", "."], "current directory"),
    (["sweep", "ef21.constants", "--backend", "serial"], "no measure"),
    ([*SWEEP, "--grid", "stepsize_factor=3"], "violates the assumption"),
    # ---- merge
    (["merge"], "the following arguments are required: DEST, SOURCE"),
    (["merge", "dest"], "the following arguments are required: SOURCE"),
    (["merge", "dest", "nowhere"], "not a results store"),
    (["merge", "dest", "afile"], "not a directory"),
    (["merge", "dest", "paper"], "not a results store"),
    (["merge", "st-badlog", "st-badlog"], "into itself"),
    (["merge", "dest", "st-truncated"], "unreadable part parts/"),
    (["merge", "dest", "st-badlog"], "sweep.json"),
    (["merge", "paper", "st-badlog"], "sweep.json"),
    (["merge", "afile", "st-truncated"], "unreadable part"),
    # ---- worst-case (the checks before any PEP is built: they need no PEPit)
    (["worst-case"], "the following arguments are required: CLAIM"),
    (["worst-case", "nosuch"], "no claim id is or starts with 'nosuch'"),
    (["worst-case", "ef21.constants"], "names no claim with a PEP builder; expressible:"),
    (["worst-case", "rpt.strongly-convex", "--param", "p=0.5,0.6"], "d block probabilities in [0, 1] summing to 1"),
    (["worst-case", "rpt.strongly-convex", "--param", "p=0.2,0.3,0.5"], "must be the d = 2 block probabilities"),
    (["worst-case", "rpt.strongly-convex", "--param", "p=1,0"], "p_J, the probability of training every block"),
    (["worst-case", "lsvrp.lyapunov", "--param", "p=0.5,0.5"], "is the refresh probability, one number in (0, 1]"),
    (["worst-case", "rcd.convex", "--param", "p=0.5,0.5"], "parameter 'p' does not apply to rcd.convex"),
    (["worst-case", "ef21"], "names 6 claims"),
    (["worst-case", "ef21.pl-qm", "--param", "foo=1"], "unknown parameter 'foo'"),
    (["worst-case", "ef21.pl-qm", "--param", "alpah=0.5"], "did you mean 'alpha'"),
    (["worst-case", "ef21.pl-qm", "--param", "mu"], "NAME=VALUE"),
    (["worst-case", "ef21.pl-qm", "--param", "mu=-1"], "--param mu: must be finite and > 0"),
    (["worst-case", "ef21.pl-qm", "--param", "mu=x"], "is not a number"),
    (["worst-case", "ef21.pl-qm", "--param", "n=11"], "--param n: must be an integer in 1..10"),
    (["worst-case", "lsvrp.lyapunov", "--param", "p=1.5"], "--param p: must be in (0, 1]"),
    (["worst-case", "ef21.pl-qm", "--T", "50"], "--T must be an integer in 1..20"),
    (["worst-case", "ef21.pl-qm", "--T", "x"], "invalid int value"),
]
# through `python -m ratecheck` (the console entry, a real process): a few representatives
SUBPROCESS = {("show", "nope.x"), ("replay", "cx-num-claim.json"), ("merge", "dest", "st-truncated")}


def _id(case):
    return " ".join(a if a else "''" for a in case[0])[:60]


@pytest.mark.parametrize("argv, msg", CASES, ids=[_id(c) for c in CASES])
def test_bad_input_is_one_line_exit_2_and_leaves_nothing(argv, msg, cwd, capsys):
    before = _snapshot(cwd)
    if tuple(argv) in SUBPROCESS:
        p = subprocess.run(
            [sys.executable, "-m", "ratecheck", *argv],
            capture_output=True,
            text=True,
            timeout=120,
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
        )
        code, err = p.returncode, p.stderr
    else:
        code = main(argv)
        err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("ratecheck: error: "), err
    assert msg in lines[0], lines[0]
    assert _snapshot(cwd) == before  # nothing created, removed or changed


def test_the_table_covers_every_subcommand():
    assert len(CASES) >= 60
    assert {c[0][0] for c in CASES} >= {
        "list",
        "show",
        "experiments",
        "describe",
        "check",
        "search",
        "replay",
        "sweep",
        "merge",
        "worst-case",
    }
