"""The command line under a closed pipe and Ctrl-C: an exit status and at most one line, never a traceback."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ratecheck.verify.cli import EXIT_BROKEN_PIPE, main

ROOT = Path(__file__).resolve().parents[2]
ENV = dict(os.environ, PYTHONPATH=str(ROOT))


def test_reader_gone_exits_quietly(tmp_path):
    """`ratecheck list --teeth | head -1`: the reader closes the pipe; no BrokenPipeError traceback."""
    r, w = os.pipe()
    os.close(r)  # the reader is gone before anything is written: every write meets EPIPE
    try:
        p = subprocess.run(
            [sys.executable, "-m", "ratecheck", "list", "--teeth"],
            stdout=w,
            stderr=subprocess.PIPE,
            text=True,
            env=ENV,
            cwd=tmp_path,
            timeout=120,
        )
    finally:
        os.close(w)
    assert p.returncode == EXIT_BROKEN_PIPE == 141 and p.stderr == ""
    assert os.listdir(tmp_path) == []


def test_broken_pipe_in_process(capsys, monkeypatch):
    class Closed:
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self):
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", Closed())
    assert main(["list"]) == 141


# a finder that delivers Ctrl-C the moment the heavy imports start (deterministic, unlike a timer).  A child
# inherits its parent's signal mask and ignored signals, and libraries used by earlier tests in this process may
# leave SIGINT blocked or ignored; a user at a terminal has it deliverable, so the hook makes it so first.
HOOK = textwrap.dedent("""
    import os, signal, sys

    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    signal.signal(signal.SIGINT, signal.default_int_handler)

    class _CtrlC:
        def find_spec(self, name, path=None, target=None):
            if name == "numpy":
                sys.meta_path.remove(self)
                os.kill(os.getpid(), signal.SIGINT)
            return None

    sys.meta_path.insert(0, _CtrlC())
""")


def _interrupted(p):
    assert p.returncode == 130, p.stderr
    assert p.stderr == "ratecheck: interrupted\n" and p.stdout == ""


def test_ctrl_c_while_importing_console_script(tmp_path):
    """The console script (`ratecheck.verify.__main__:run`) handles Ctrl-C before numpy, scipy, sympy and cvxpy load."""
    script = HOOK + "import sys\nsys.argv = ['ratecheck', 'list']\nfrom ratecheck.verify.__main__ import run\nrun()\n"
    p = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=ENV, cwd=tmp_path, timeout=120
    )
    _interrupted(p)
    assert (
        "numpy"
        not in subprocess.run(
            [sys.executable, "-c", "import ratecheck.verify, sys; print(sorted(sys.modules))"],
            capture_output=True,
            text=True,
            env=ENV,
            timeout=60,
        ).stdout
    )


def test_ctrl_c_while_importing_python_m_verify(tmp_path):
    (tmp_path / "sitecustomize.py").write_text(HOOK)  # runs before `-m ratecheck` starts importing
    env = dict(ENV, PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT)]))
    work = tmp_path / "work"
    work.mkdir()
    p = subprocess.run(
        [sys.executable, "-m", "ratecheck", "list"], capture_output=True, text=True, env=env, cwd=work, timeout=120
    )
    _interrupted(p)
    assert os.listdir(work) == []


def test_console_script_entry_point_is_the_guarded_one():
    tomllib = pytest.importorskip("tomllib")
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["ratecheck"] == "ratecheck.verify.__main__:run"
