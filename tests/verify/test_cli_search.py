"""``search`` and ``replay`` subcommands of the one command line (``verify/cli.py``), plus ``python -m ratecheck``."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ratecheck.verify.cli import main

ROOT = Path(__file__).resolve().parents[2]
USER_CLAIM = """
from ratecheck import theorems
from ratecheck.theorems import sym
base = theorems.get("ef21.nonconvex-am")
WRONG = base.variant("user-no-two", bound=sym("delta0") / (sym("gamma") * sym("T") ** 2))
"""


def run(argv, capsys):
    code = main(argv)
    return code, capsys.readouterr().out


def test_search_teeth_writes_record_and_replay_reproduces(tmp_path, capsys):
    code, out = run(["search", "ef21.pl-qm~halved", "--budget", "4", "--out", str(tmp_path)], capsys)
    assert code == 0 and "violated" in out and "counterexample:" in out  # a teeth variant caught: expected
    files = list(tmp_path.glob("*.json"))
    assert len(files) == 1
    code, out = run(["replay", str(files[0])], capsys)
    assert code == 0 and "reproduced exactly" in out
    code, out = run(["replay", str(files[0]), "--json"], capsys)
    d = json.loads(out)
    assert code == 0 and d["verdict"] == "violated" and d["reproduced"] is True


def test_user_claim_violated_is_unexpected_and_replayable(tmp_path, capsys):
    f = tmp_path / "mine.py"
    f.write_text(USER_CLAIM)
    out_dir = tmp_path / "cx"
    code, out = run(
        ["search", "--claim", f"{f}:WRONG", "--experiment", "ef21", "--budget", "3", "--out", str(out_dir), "--json"],
        capsys,
    )
    recs = json.loads(out)
    assert code == 1 and recs[0]["verdict"] == "violated" and recs[0]["unexpected"]
    cx = recs[0]["counterexample"]
    assert Path(cx).is_file()
    assert main(["replay", cx]) == 2 and "not registered" in capsys.readouterr().err
    code, out = run(["replay", cx, "--claim", f"{f}:WRONG"], capsys)
    assert code == 1 and "reproduced exactly" in out


def test_prefix_selection_skips_unsearchable_claims(tmp_path, capsys):
    code, out = run(["search", "ef21.c", "--budget", "2", "--out", str(tmp_path)], capsys)
    assert code == 0 and "ef21.cloning" in out and "holds" in out
    assert "skipped: search cannot judge ef21.constants" in out


@pytest.mark.parametrize(
    "argv, msg",
    [
        (["search", "ef21.pl-qm", "--budget", "0"], "budget must be an integer >= 1"),
        (["search", "ef21.pl-qm", "--seed", "-2"], "seed must be an integer >= 0"),
        (["search", "ef21.constants"], "without a measure"),
        (["search"], "name a claim id"),
        (["search", "nope"], "no claim id"),
        (["replay", "/nonexistent/cx.json"], "does not exist"),
    ],
)
def test_bad_input_is_a_one_line_usage_error(argv, msg, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("ratecheck: error: ") and msg in err and len(err.strip().splitlines()) == 1


def test_main_exit_codes(tmp_path, capsys):
    assert main(["search", "ef21.pl-qm", "--budget", "0"]) == 2
    assert "budget" in capsys.readouterr().err
    assert main(["search", "ef21.pl-qm~step1000", "--budget", "2", "--out", str(tmp_path)]) == 0
    assert main(["replay", str(next(tmp_path.glob("*.json")))]) == 0


def test_module_entry_point(tmp_path):
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "ratecheck",
            "search",
            "ef21.nonconvex-qm~step1000",
            "--budget",
            "2",
            "--out",
            str(tmp_path),
            "--json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)[0]["verdict"] == "violated"


@pytest.mark.parametrize(
    "patch, msg",
    [
        ({"claim": 5}, "field 'claim' must be a claim id (a non-empty string), got int 5"),
        ({"claim": ["ef21.pl-qm"]}, "field 'claim' must be a claim id"),
        ({"experiment": 3}, "field 'experiment' must be an experiment name"),
        ({"instance": [1, 2]}, "field 'instance' must be an object"),
        ({"seed": "0"}, "field 'seed' must be an integer"),
        ({"seed": -1}, "field 'seed' must be an integer"),
        ({"seed": True}, "field 'seed' must be an integer"),
        ({"verdict": 1}, "field 'verdict' must be holds, violated, inconclusive or null"),
        ({"measured": "abc"}, "field 'measured' must be a number or null"),
        ({"where": [1]}, "field 'where' must be an object"),
        ({"instance": {"d": "abc"}}, "d must be an integer >= 1, got 'abc'"),
    ],
)
def test_replay_rejects_records_with_fields_of_the_wrong_type(patch, msg, tmp_path, capsys):
    rec = {
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
    f = tmp_path / "r.json"
    f.write_text(json.dumps(dict(rec, **patch)))
    assert main(["replay", str(f)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ratecheck: error: ") and msg in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "body, msg",
    [
        ("import sys\nsys.exit(0)\n", "called sys.exit(0) while being imported"),
        ("raise SystemExit('bye')\n", "called sys.exit('bye')"),
        ("exit()\n", "called sys.exit(None)"),
        ("raise ValueError('line one\\nline two')\n", "importing"),
    ],
)
def test_claim_file_that_exits_or_fails_is_an_error(body, msg, tmp_path, capsys):
    """A claim file is run as Python code; sys.exit in it must not end the run with status 0, unchecked."""
    f = tmp_path / "mine.py"
    f.write_text(body)
    for argv in (
        ["check", "--claim", f"{f}:X", "--no-report"],
        ["search", "--claim", f"{f}:X", "--out", str(tmp_path / "o")],
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("ratecheck: error: --claim: ") and msg in err and len(err.strip().splitlines()) == 1


def test_keyboard_interrupt_in_a_claim_file_stays_an_interrupt(tmp_path, capsys):
    f = tmp_path / "mine.py"
    f.write_text("raise KeyboardInterrupt\n")
    assert main(["check", "--claim", f"{f}:X", "--no-report"]) == 130
    assert capsys.readouterr().err.strip() == "ratecheck: interrupted"
