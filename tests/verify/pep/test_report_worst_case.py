"""The worst-case column of the report (`check --worst-case`): rendered in report.md, index.html and the JSON."""

from __future__ import annotations

import importlib.util
import json

import pytest

from ratecheck.verify.cli import main
from ratecheck.verify.report import worst_case_markdown

ROW = {
    "claim": "ef21.pl-qm",
    "params": {"L": 1.0, "mu": 0.1, "alpha": 0.5, "n": 1, "gamma": 0.2265},
    "T": [1, 2],
    "empirical": 0.808,
    "pep": {"lower": 0.9837, "upper": 0.9917},
    "claim_value": 1.0,
    "proof_looseness": 1 / 0.9837,
    "search_gap": 0.808 / 0.9837,
    "verdict": "certified",
    "tight_rate": {"gamma": 0.2265, "claim_rate": 0.9773, "tight_rate": 0.9556, "iterations_factor": 1.98},
    "check_tightness": 0.9882,
}


def test_html_section_has_the_table():
    from ratecheck.verify.report import _worst_case_html

    page = _worst_case_html([ROW])
    assert page.startswith("<section id='worst-case'>") and "0.9917 (upper)" in page


def test_markdown_has_every_witness_and_the_kinds():
    md = worst_case_markdown([ROW])
    assert "## Worst case over the class (PEP)" in md
    line = next(x for x in md.splitlines() if x.startswith("| ef21.pl-qm"))
    for text in ("0.808", "0.9837 (lower)", "0.9917 (upper)", "1.017", "0.8214", "x1.98", "certified", "0.9882"):
        assert text in line


@pytest.mark.slow  # a check with its figures (about 10 s)
@pytest.mark.skipif(importlib.util.find_spec("PEPit") is None, reason="extra [pep] not installed")
def test_check_worst_case_json_and_report(tmp_path, capsys):
    out = tmp_path / "rep"
    code = main(
        ["check", "rcd.strongly-convex", "--quick", "--no-teeth", "--json", "--worst-case", "--report", str(out)]
    )
    assert code == 0
    (row,) = json.loads(capsys.readouterr().out)["worst_case"]
    assert row["claim"] == "rcd.strongly-convex" and row["verdict"] == "certified"
    assert 0 < row["pep"]["exact"] <= 1 + 1e-6
    assert "Worst case over the class (PEP)" in (out / "report.md").read_text()
    assert "id='worst-case'" in (out / "index.html").read_text()
    assert json.loads((out / "verdicts.json").read_text())["worst_case"][0]["claim"] == "rcd.strongly-convex"


def test_worst_case_option_without_pepit_names_the_extra(monkeypatch, capsys, tmp_path):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "PEPit" else real(name, *a))
    assert main(["check", "rcd.strongly-convex", "--worst-case", "--report", str(tmp_path / "r")]) == 2
    assert "pip install 'ratecheck[pep]'" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


@pytest.mark.skipif(importlib.util.find_spec("PEPit") is None, reason="extra [pep] not installed")
def test_worst_case_column_solved_by_the_workers_is_the_serial_one(capsys):
    """With --jobs 2 the column's PEP solves run in the work units beside the claims; the rows are those of
    --jobs 1, in the claims' order, each with the check's tightness."""
    rows = {}
    for jobs in ("1", "2"):
        args = ["check", "rcd.convex", "sgd", "--quick", "--no-teeth", "--no-report", "--json", "--worst-case"]
        assert main([*args, "--jobs", jobs]) == 0
        rows[jobs] = json.loads(capsys.readouterr().out)["worst_case"]
    assert rows["1"] == rows["2"]
    assert [r["claim"] for r in rows["1"]] == ["rcd.convex", "sgd.neighborhood"]
    assert all(r["check_tightness"] is not None and r["verdict"] == "certified" for r in rows["1"])
