"""`ratecheck worst-case`: the sandwich printed, verdicts and exit statuses."""

from __future__ import annotations

import importlib.util
import json

import pytest

from ratecheck.verify.cli import main


def test_missing_pepit_names_the_extra(monkeypatch, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "PEPit" else real(name, *a))
    assert main(["worst-case", "ef21.pl-qm", "--T", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ratecheck: error: ") and "pip install 'ratecheck[pep]'" in err


@pytest.mark.skipif(importlib.util.find_spec("PEPit") is None, reason="extra [pep] not installed")
def test_sandwich_certifies_claim(capsys):
    assert main(["worst-case", "ef21.pl-qm", "--T", "1", "--T", "2", "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["verdict"] == "certified"
    assert s["empirical"] <= s["pep"]["lower"] <= s["pep"]["upper"] <= 1 + 1e-6
    assert s["tight_rate"]["tight_rate"] < s["tight_rate"]["claim_rate"]


@pytest.mark.skipif(importlib.util.find_spec("PEPit") is None, reason="extra [pep] not installed")
def test_teeth_violated_with_counterexample_is_expected(capsys):
    assert main(["worst-case", "ef21.pl-qm~halved", "--T", "1"]) == 0  # expected to fail, and it does
    out = capsys.readouterr().out
    assert "verdict: violated" in out and "counterexample" in out and "scaled identity" in out
