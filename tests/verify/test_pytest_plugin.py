"""The pytest plugin (``ratecheck_pytest``, the ``pytest11`` entry point): in a user's repository outside this
one, ``pytest`` collects ``*.claim.toml`` files, one test per claim (plus a search test with
``search_budget``); a claim with a wrong constant fails with its counterexample and the command that replays
it, the same claim fails from the command line, and nothing written in a claim file is executed."""

import importlib.metadata
from pathlib import Path

from ratecheck.verify.claimfiles import load_claim
from ratecheck.verify.cli import main
from ratecheck.verify.searching import load_counterexample, replay, reproduces

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]
#: the plugin is loaded by its pytest11 entry point once the package is installed; else name it
PLUGIN = (
    ()
    if any(ep.value == "ratecheck_pytest" for ep in importlib.metadata.entry_points(group="pytest11"))
    else ("-p", "ratecheck_pytest")
)

PAPER = r"""
# Theorem 1 of our paper
[[claim]]
id = "mypaper.thm1"
title = "EF21 with the arithmetic-mean stepsize"
paper = "Doe and Roe, 2025, Theorem 1"
provenance = "paper"
kind = "upper"
experiment = "ef21"
measure = "avg_grad_norm_sq"
in_expectation = true
stepsize = '\frac{1}{L + L_{am}\,\xi(\alpha)}'
bound = '\frac{2\delta_0}{\gamma T} + \frac{G^0}{\theta_c(\alpha) T}'
assumptions = ['0 < \alpha \le 1']
description = "__import__('os').system('touch PWNED')"
search_budget = 3

[claim.setting]
algorithm = "ef21"
lyapunov = "am"
"""

WRONG = r"""
[[claim]]
id = "mypaper.thm1-wrong"
base = "ef21.nonconvex-am"
bound = '\frac{\delta_0}{5\gamma T} + \frac{G^0}{\theta_c(\alpha) T}'
"""

EVIL = r"""
[[claim]]
id = "mypaper.evil"
base = "ef21.nonconvex-am"
bound = "__import__('os').system('touch PWNED')"
"""


def test_pytest_collects_claim_files_and_fails_a_wrong_constant(pytester, monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(ROOT))  # this checkout's ratecheck_pytest and packages
    assert not str(pytester.path).startswith(str(ROOT))
    pytester.makefile(".claim.toml", theorem=PAPER, wrong=WRONG, evil=EVIL)
    records = pytester.path / "records"
    result = pytester.runpytest(
        *PLUGIN,
        "-p",
        "no:cacheprovider",
        f"--ratecheck-out={records}",
        "--continue-on-collection-errors",
        "-rfE",
    )
    result.assert_outcomes(passed=2, failed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*mypaper.thm1-wrong: violated (expected holds)*",
            "*violated on T=300 (seed 0): measured * > bound * at T=*",
            "*counterexample: records/mypaper.thm1-wrong-*.json*",
            "*replay: ratecheck replay records/mypaper.thm1-wrong-*.json --claim wrong.claim.toml*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*ERROR collecting evil.claim.toml*",
            "*evil.claim.toml: claim 'mypaper.evil' (line *): field 'bound': unsupported character '_' at column 1*",
        ]
    )
    assert not (pytester.path / "PWNED").exists()

    # the record replays exactly, from Python and from the command line
    (rec,) = records.glob("*.json")
    claim = load_claim(str(pytester.path / "wrong.claim.toml"))
    v = replay(rec, claim=claim)
    assert v.verdict == "violated" and reproduces(load_counterexample(rec), v)
    capsys.readouterr()
    assert main(["replay", str(rec), "--claim", str(pytester.path / "wrong.claim.toml")]) == 1
    assert "record reproduced exactly" in capsys.readouterr().out

    # the command line catches the same claim
    assert main(["check", "--claim", str(pytester.path / "wrong.claim.toml"), "--quick", "--no-report"]) == 1
    assert "1 unexpected: mypaper.thm1-wrong" in capsys.readouterr().out
    assert main(["check", "--claim", str(pytester.path / "evil.claim.toml"), "--quick", "--no-report"]) == 2
    assert "field 'bound'" in capsys.readouterr().err
    assert not (pytester.path / "PWNED").exists()


def test_collection_lists_one_item_per_claim_and_a_search_item(pytester, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    pytester.makefile(".claim.toml", theorem=PAPER + WRONG)
    result = pytester.runpytest(*PLUGIN, "-p", "no:cacheprovider", "--collect-only", "-q")
    result.stdout.fnmatch_lines(
        [
            "theorem.claim.toml::mypaper.thm1",
            "theorem.claim.toml::mypaper.thm1[search]",
            "theorem.claim.toml::mypaper.thm1-wrong",
            "3 tests collected*",
        ]
    )
