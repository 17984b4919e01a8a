"""Outputs never destroy anything the package did not write (verify.outputs): reports, counterexample
records and sweep stores refuse foreign folders, the current directory and its parents, and files,
with one line and exit status 2, touching nothing."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ratecheck.verify.cli import main
from ratecheck.verify.errors import UsageError
from ratecheck.verify.outputs import MARKER, claim_dir, replace_dir


def _run(args, capsys):
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def _snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def paper(tmp_path):
    d = tmp_path / "paper"
    d.mkdir()
    (d / "thesis.tex").write_text("\\documentclass{article}\n")
    return d


CHECK = ["check", "ef21.means", "--quick", "--no-teeth"]


def test_check_refuses_a_foreign_folder_and_leaves_it_intact(paper, capsys, monkeypatch):
    monkeypatch.chdir(paper.parent)
    before = sorted(os.listdir(paper.parent))
    code, _, err = _run([*CHECK, "--out", "paper"], capsys)
    assert code == 2 and err.startswith("ratecheck: error: --out 'paper' is a folder that ratecheck did not write")
    assert len(err.strip().splitlines()) == 1
    assert _snapshot(paper) == {"thesis.tex": b"\\documentclass{article}\n"}
    assert sorted(os.listdir(paper.parent)) == before  # no scratch folder left behind


@pytest.mark.parametrize("out", [".", "..", "/"])
def test_check_refuses_the_current_directory_and_its_parents(out, tmp_path, capsys, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    code, _, err = _run([*CHECK, "--out", out], capsys)
    assert code == 2 and "current directory or one of its parents" in err
    assert os.listdir(work) == [] and sorted(os.listdir(tmp_path)) == ["work"]


def test_check_refuses_a_file(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("mine")
    code, _, err = _run([*CHECK, "--out", "notes.txt"], capsys)
    assert code == 2 and "exists and is not a folder" in err and (tmp_path / "notes.txt").read_text() == "mine"


def test_report_folder_is_marked_and_replaced_atomically(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert _run([*CHECK, "--out", "rep"], capsys)[0] == 0
    assert (tmp_path / "rep" / MARKER).is_file() and (tmp_path / "rep" / "verdicts.json").is_file()
    assert _run([*CHECK, "--out", "rep"], capsys)[0] == 0  # ours: replaced
    assert sorted(os.listdir(tmp_path)) == ["rep"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _run([*CHECK, "--out", "empty"], capsys)[0] == 0  # an empty folder may be used


def test_interrupted_write_leaves_nothing_and_stale_scratch_is_cleaned(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        with replace_dir("rep", "report") as tmp:
            (tmp / "x").write_text("half")
            raise KeyboardInterrupt
    assert os.listdir(tmp_path) == []
    # a scratch folder of a killed run (a process id that is not alive) is removed by the next write
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".rep.tmp-{dead.stdout.strip()}-abc"
    stale.mkdir()
    (stale / "x").write_text("half")
    with replace_dir("rep", "report") as tmp:
        (tmp / "index.html").write_text("ok")
    assert sorted(os.listdir(tmp_path)) == ["rep"]


def test_claim_dir_rules(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert claim_dir("new") == Path("new") and not (tmp_path / "new").exists()  # checked, not created
    with pytest.raises(UsageError, match="parent folder"):
        claim_dir("no/such/parent/out")
    with pytest.raises(UsageError, match="empty path"):
        claim_dir("")


def test_search_refuses_a_foreign_folder_before_searching(paper, capsys, monkeypatch):
    monkeypatch.chdir(paper.parent)
    code, _, err = _run(["search", "ef21.pl-qm~halved", "--budget", "2", "--out", "paper"], capsys)
    assert code == 2 and "did not write" in err and _snapshot(paper) == {"thesis.tex": b"\\documentclass{article}\n"}


def test_sweep_and_merge_refuse_foreign_folders(paper, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = _run(["sweep", "ef21.means", "--backend", "serial", "--out", "paper"], capsys)
    assert code == 2 and "did not write" in err
    code, _, err = _run(["merge", "paper", "nosuchsrc"], capsys)
    assert code == 2 and "not a results store" in err
    code, _, err = _run(["merge", "newdest", "nosuchsrc"], capsys)
    assert code == 2 and not (tmp_path / "newdest").exists()  # nothing created on bad input
    assert _snapshot(paper) == {"thesis.tex": b"\\documentclass{article}\n"}


# --------------------------------------------------------------------------- unwritable outputs
def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ratecheck: error: ") and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize(
    "argv",
    [
        ["search", "ef21.pl-qm~halved", "--budget", "2"],
        ["sweep", "ef21.means", "--backend", "serial"],
        [*CHECK],
    ],
)
def test_out_under_a_file_refused_before_any_work(argv, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("mine")
    code, out, err = _run([*argv, "--out", "afile/out"], capsys)
    assert code == 2 and "is a file, not a folder" in _one_error_line(err) and out == ""
    assert os.listdir(tmp_path) == ["afile"] and (tmp_path / "afile").read_text() == "mine"


class _NoWrite:
    """``tempfile`` for verify.outputs, where nothing can be created in one folder (as on a read-only
    mount, which root cannot write either: tests run as root, so permission bits prove nothing)."""

    def __init__(self, folder):
        import tempfile

        self.folder, self.real = Path(folder).resolve(), tempfile

    def mkstemp(self, *args, dir=None, **kw):
        if dir is not None and Path(dir).resolve() == self.folder:
            raise OSError(30, "Read-only file system")
        return self.real.mkstemp(*args, dir=dir, **kw)

    def __getattr__(self, name):
        return getattr(self.real, name)


@pytest.mark.parametrize(
    "argv",
    [
        ["search", "ef21.pl-qm~halved", "--budget", "2"],
        ["sweep", "ef21.means", "--backend", "serial"],
    ],
)
def test_read_only_outputs_refused_before_any_work(argv, tmp_path, capsys, monkeypatch):
    import ratecheck.verify.outputs as outputs

    monkeypatch.chdir(tmp_path)
    ro = tmp_path / "ro"
    ro.mkdir()
    monkeypatch.setattr(outputs, "tempfile", _NoWrite(ro))
    code, _, err = _run([*argv, "--out", "ro/out"], capsys)  # a new folder in a read-only one
    assert code == 2 and "cannot write in" in _one_error_line(err) and "Read-only file system" in err
    assert os.listdir(ro) == []


def test_read_only_existing_store_and_records_refused(tmp_path, capsys, monkeypatch):
    """An existing store (or records folder) that cannot be written: refused before anything runs."""
    import ratecheck.verify.outputs as outputs

    monkeypatch.chdir(tmp_path)
    assert _run(["sweep", "ef21.means", "--backend", "serial", "--out", "st"], capsys)[0] in (0, 1)
    (tmp_path / "cx").mkdir()
    (tmp_path / "cx" / MARKER).write_text("written by ratecheck: counterexample records\n")
    before = _snapshot(tmp_path)
    for folder, argv in (
        ("st/parts", ["sweep", "ef21.means", "--backend", "serial", "--seeds", "2", "--out", "st"]),
        ("cx", ["search", "ef21.pl-qm~halved", "--budget", "2", "--out", "cx"]),
    ):
        monkeypatch.setattr(outputs, "tempfile", _NoWrite(folder))
        code, out, err = _run(argv, capsys)
        assert code == 2 and "cannot write in" in _one_error_line(err) and out == ""
    assert _snapshot(tmp_path) == before


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes through permission bits")
def test_permission_denied_outputs_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        for argv in (["search", "ef21.pl-qm~halved", "--budget", "2"], ["sweep", "ef21.means", "--backend", "serial"]):
            code, _, err = _run([*argv, "--out", "ro/out"], capsys)
            assert code == 2 and "cannot write in" in _one_error_line(err)
    finally:
        ro.chmod(0o755)


def test_legacy_scratch_folders_never_block_and_are_cleaned_when_old(tmp_path, monkeypatch):
    """Scratch folders of older versions have no process id in their name (``.rep.tmp-XXXXXXXX``): a recent one
    may belong to a running old version and is kept, an old one is removed; neither blocks a write."""
    import time

    from ratecheck.verify.outputs import LEGACY_SCRATCH_AGE

    monkeypatch.chdir(tmp_path)
    recent, old, digits = (tmp_path / n for n in (".rep.tmp-k2j4h5gq", ".rep.old-a8b7c6d5", ".rep.tmp-12345678"))
    for d in (recent, old, digits):  # an all-digit random suffix is not a process id (no dash after it)
        d.mkdir()
        (d / "index.html").write_text("half")
    t = time.time() - LEGACY_SCRATCH_AGE - 60
    os.utime(old, (t, t))
    with replace_dir("rep", "report") as tmp:
        (tmp / "index.html").write_text("ok")
    assert (tmp_path / "rep" / "index.html").read_text() == "ok"
    assert recent.is_dir() and digits.is_dir() and not old.exists()
    for d in (recent, digits):
        os.utime(d, (t, t))
    with replace_dir("rep", "report") as tmp:
        (tmp / "index.html").write_text("again")
    assert sorted(os.listdir(tmp_path)) == ["rep"]


def test_killed_report_write_is_cleaned_by_the_next_run(tmp_path, monkeypatch):
    """SIGKILL during a report write leaves ``.rep.tmp-PID-*``; the next run removes it (the pid is dead)."""
    script = (
        "import os, signal\nfrom ratecheck.verify.outputs import replace_dir\n"
        "with replace_dir('rep', 'report') as tmp:\n"
        "    (tmp / 'index.html').write_text('half')\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    p = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        timeout=60,
        env=dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2])),
    )
    assert p.returncode == -9
    (left,) = os.listdir(tmp_path)
    assert left.startswith(".rep.tmp-") and left.split("-")[1].isdigit()  # named with the killed pid
    monkeypatch.chdir(tmp_path)
    with replace_dir("rep", "report") as tmp:
        (tmp / "index.html").write_text("ok")
    assert os.listdir(tmp_path) == ["rep"]
