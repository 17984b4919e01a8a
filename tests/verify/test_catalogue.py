"""``ratecheck list`` and ``show`` print the same from the shipped catalogue index as from the live registry, for
every claim and teeth variant; the index is current and is used only while it is; and then the commands import
no sympy (``verify/catalogue.py``)."""

import contextlib
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ratecheck import theorems
from ratecheck.verify import catalogue
from ratecheck.verify.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def index():
    idx = catalogue.read_index()
    assert idx is not None, "theorems/catalogue_index.json is stale or missing: run python3 tools/gen_docs.py"
    return idx


def _outputs(source, argvs, monkeypatch) -> list:
    """(exit status, stdout, stderr) of each command line, with ``source`` as the catalogue."""
    out = []
    with monkeypatch.context() as m:
        m.setattr(catalogue, "current", lambda: source)
        for argv in argvs:
            o, e = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(o), contextlib.redirect_stderr(e):
                code = main(list(argv))
            out.append((code, o.getvalue(), e.getvalue()))
    return out


def _same_from_both(argvs, index, monkeypatch) -> None:
    from_index = _outputs(catalogue.from_index(index), argvs, monkeypatch)
    live = _outputs(catalogue.live(), argvs, monkeypatch)
    diffs = [argv for argv, a, b in zip(argvs, from_index, live) if a != b]
    assert not diffs, f"{len(diffs)} command lines differ, e.g. {diffs[:5]}"
    assert all(out or err for _, out, err in live)


def test_the_index_is_current_and_describes_the_registry(index):
    """gen_docs --check (tests/test_docs.py) compares the file's text; this says what is wrong in one line."""
    assert index == catalogue.build_index()
    assert [d["summary"]["claim"] for d in index["claims"]] == [c.id for c in theorems.all()]
    assert [d["summary"]["claim"] for d in index["teeth"]] == [c.id for c in theorems.teeth()]
    assert catalogue.current().source == "index"


def test_list_is_the_same_from_the_index_and_the_registry(index, monkeypatch):
    argvs = [["list"], ["list", "--teeth"], ["list", "--json"], ["list", "--json", "--teeth"]]
    _same_from_both(argvs, index, monkeypatch)


@pytest.mark.parametrize("form", [[], ["--json"], ["--latex"]])
def test_show_of_every_claim_and_teeth_variant_is_the_same_from_both(form, index, monkeypatch):
    ids = [c.id for c in theorems.all() + theorems.teeth()]
    _same_from_both([["show", i, *form] for i in ids], index, monkeypatch)


@pytest.mark.parametrize("form", [[], ["--json"], ["--latex"]])
def test_show_of_prefixes_and_several_patterns_is_the_same_from_both(form, index, monkeypatch):
    ids = [c.id for c in theorems.all()]
    families = sorted({i.split(".", 1)[0] for i in ids})
    prefixes = families + sorted({i[: len(i) - 3] for i in ids}) + ["e", "ef21.", "ef21.pl"]
    several = [["ef21.pl-qm", "ef21"], ["ef21.pl-qm~halved", "3pc", "ef21.pl-qm"], [ids[0], ids[-1], ids[0]]]
    _same_from_both([["show", p, *form] for p in prefixes] + [["show", *s, *form] for s in several], index, monkeypatch)


def test_unknown_ids_are_the_same_error_and_suggestion_from_both(index, monkeypatch):
    ids = [c.id for c in theorems.all() + theorems.teeth()]
    wrong = [i[:-1] + "z" for i in ids[::7]] + [i + "x" for i in ids[::11]]  # close to a known id
    wrong += ["zzz", "", " ", "ef21.pl-qm~", "ef21.pl-qm~halfed", "ef21.nonconvx-am", "EF21", "nope.x"]
    argvs = [["show", w] for w in wrong] + [["show", "ef21.pl-qm", "nope.x", "--json"]]
    from_index = _outputs(catalogue.from_index(index), argvs, monkeypatch)
    assert all(code == 2 and not out and err.startswith("ratecheck: error: ") for code, out, err in from_index)
    assert any("did you mean" in err for _, _, err in from_index)
    _same_from_both(argvs, index, monkeypatch)


def test_a_stale_digest_falls_back_to_the_registry(index, monkeypatch):
    monkeypatch.setattr(catalogue, "source_digest", lambda folder=None: "0" * 64)
    assert catalogue.read_index() is None
    assert catalogue.current().source == "live"
    o = io.StringIO()
    with contextlib.redirect_stdout(o):
        assert main(["show", "ef21.pl-qm"]) == 0
    monkeypatch.undo()
    assert o.getvalue() == _outputs(catalogue.from_index(index), [["show", "ef21.pl-qm"]], monkeypatch)[0][1]


def test_an_edited_added_or_removed_claim_file_retires_the_index(tmp_path):
    """The digest covers every source file of the theorems package (an editable install's edits included)."""
    folder = tmp_path / "theorems"
    shutil.copytree(ROOT / "theorems", folder, ignore=shutil.ignore_patterns("__pycache__"))
    path = folder / catalogue.INDEX_NAME
    assert catalogue.read_index(path) is not None  # a copy of the files is the same source
    ef21 = folder / "ef21.py"
    text = ef21.read_text()
    ef21.write_text(text.replace("ef21.pl-qm", "ef21.pl-qm2", 1))
    assert catalogue.read_index(path) is None
    ef21.write_text(text)
    assert catalogue.read_index(path) is not None
    (folder / "mine.py").write_text("")
    assert catalogue.read_index(path) is None
    (folder / "mine.py").unlink()
    ef21.unlink()
    assert catalogue.read_index(path) is None


def test_a_missing_unreadable_or_other_layout_index_is_not_used(tmp_path):
    folder = tmp_path / "theorems"
    shutil.copytree(ROOT / "theorems", folder, ignore=shutil.ignore_patterns("__pycache__"))
    path = folder / catalogue.INDEX_NAME
    index = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(dict(index, format=catalogue.FORMAT + 1)), encoding="utf-8")
    assert catalogue.read_index(path) is None
    path.write_text(path.read_text()[:1000], encoding="utf-8")  # half-written
    assert catalogue.read_index(path) is None
    path.unlink()
    assert catalogue.read_index(path) is None


def test_a_damaged_index_of_the_current_digest_falls_back_to_the_registry(index, monkeypatch):
    damaged = {k: v for k, v in index.items() if k != "teeth"}
    monkeypatch.setattr(catalogue, "read_index", lambda path=None: damaged)
    assert catalogue.current().source == "live"


def test_entries_print_the_claims_fields():
    c = theorems.get("ef21.pl-qm")
    e = catalogue.Entry.of(c)
    assert e.summary() == c.summary() and e.latex() == c.latex()
    assert (e.id, e.title, e.kind, e.provenance, e.measure) == (
        c.id,
        c.title,
        c.kind.value,
        c.provenance.value,
        c.measure,
    )
    assert e.teeth == tuple(t.id for t in theorems.teeth(c.id)) and e.teeth
    assert catalogue.Entry.from_json(json.loads(json.dumps(e.to_json()))) == e
    e.summary()["title"] = "changed"  # a copy: the entry is not changed through it
    assert e.title == c.title


@pytest.mark.parametrize(
    "args", [["list"], ["list", "--json", "--teeth"], ["show", "ef21.pl-qm"], ["show", "ef21", "--latex"]]
)
def test_python_m_ratecheck_list_and_show_import_no_sympy(args):
    """A fresh interpreter, as a user runs it: ``-X importtime`` names every module imported."""
    p = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "ratecheck", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 0, p.stderr[-2000:]
    assert p.stdout.strip()
    imported = {line.rsplit("|", 1)[-1].strip() for line in p.stderr.splitlines() if line.startswith("import time:")}
    assert "numpy" in imported  # the probe sees the imports
    assert not {m for m in imported if m.split(".")[0] == "sympy" or m == "ratecheck.theorems"}
