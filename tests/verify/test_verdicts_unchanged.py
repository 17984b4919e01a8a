"""A refactor must not change a verdict: every (claim, quick default instance, seed) record of
``ratecheck check --all --quick`` (teeth included) keeps the verdict saved in
``tests/data/verdicts_quick.json`` (``python tools/verdicts.py save ...``; update it only for a
deliberate, documented change of a verdict)."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _tool():
    spec = importlib.util.spec_from_file_location("ratecheck_verdicts_tool", ROOT / "tools" / "verdicts.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_quick_verdicts_unchanged():
    tool = _tool()
    before = tool._load(ROOT / "tests" / "data" / "verdicts_quick.json")
    lines, _ = tool.compare(before, tool.records(full=False))
    assert not lines, "\n".join(lines)


@pytest.mark.slow
def test_full_verdicts_unchanged():
    """The same on the default (full) instances of ``ratecheck check --all`` (about 75 s)."""
    tool = _tool()
    before = tool._load(ROOT / "tests" / "data" / "verdicts_full.json")
    lines, _ = tool.compare(before, tool.records(full=True))
    assert not lines, "\n".join(lines)


def test_save_with_claims_replaces_only_the_selected_records(tmp_path, capsys):
    """``save --claims PREFIX`` rewrites the selected claims' records and keeps every other record as it was;
    ``compare --claims`` compares only the selected ones."""
    tool = _tool()
    path = tmp_path / "v.json"
    other = '["zzz.other", {}, 0]'
    stale = '["rfa.margin", {"stale": 1}, 0]'
    rec = {"verdict": "holds", "expected": "holds", "tightness": 0.5}
    path.write_text(tool.json.dumps({other: rec, stale: rec}))
    assert tool.main(["save", str(path), "--claims", "rfa.margin"]) == 0
    saved = tool._load(path)
    assert saved[other] == rec and stale not in saved
    mine = {k for k in saved if k != other}
    assert mine and all(tool.json.loads(k)[0].startswith("rfa.margin") for k in mine)
    assert tool.main(["compare", str(path), "--claims", "rfa.margin"]) == 0  # zzz.other is not compared
    assert "unchanged" in capsys.readouterr().out
    assert not list(tmp_path.glob("*.tmp"))
