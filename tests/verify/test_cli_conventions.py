"""The command line follows the conventions of issue 17: fast start (which modules ``--help``, ``list`` and
``show`` import), ``--version``, ``-q``/``-v``, colour and a progress display only on a terminal, the detail of an
unexpected verdict inline, "did you mean" for every name, prefixes wherever ids are, help for every option,
``--jobs`` with results identical to a serial run, and no raw warning on the console."""

import io
import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from ratecheck.verify import cli
from ratecheck.verify.cli import main

ROOT = Path(__file__).resolve().parents[2]

HEAVY = ("cvxpy", "matplotlib", "scipy.stats", "scipy.optimize", "verify.experiments", "verify.optima", "joblib")


def run(args, capsys):
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


# --------------------------------------------------------------------------- fast start
@pytest.mark.parametrize(
    "args", [["--help"], ["--version"], ["list"], ["list", "--teeth"], ["show", "ef21.pl-qm"], ["show", "ef21.pl"]]
)
def test_quick_commands_import_no_heavy_module(args):
    """What makes a command slow to start is what it imports: these commands never load cvxpy, matplotlib,
    scipy.stats or the experiments, nor the claims' registry (sympy: ``list`` and ``show`` read the catalogue
    index, tests/verify/test_catalogue.py); a fresh interpreter, as a user runs them."""
    heavy = HEAVY + ("sympy", "ratecheck.theorems")
    code = textwrap.dedent(
        f"""
        import sys
        from ratecheck.verify.cli import main
        try:
            code = main({args!r})
        except SystemExit as e:  # --help and --version exit from argparse
            code = e.code
        heavy = [m for m in {heavy!r} if m in sys.modules]
        print("HEAVY", heavy, code, file=sys.stderr)
        """
    )
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert "HEAVY [] 0" in p.stderr, p.stderr
    assert p.stdout.strip()


def test_help_constants_match_the_modules_they_describe():
    from ratecheck.verify.searching import DEFAULT_BUDGET, MC_BUDGET
    from ratecheck.verify.sweep import BACKENDS, MAX_WORKERS

    assert (cli._HELP_BUDGET, cli._HELP_MC_BUDGET) == (DEFAULT_BUDGET, MC_BUDGET)
    assert tuple(cli._HELP_BACKENDS) == tuple(BACKENDS)
    assert cli.MAX_JOBS == MAX_WORKERS


def test_lazy_module_loads_on_first_attribute():
    from ratecheck.verify._lazy import lazy_module

    m = lazy_module("._lazy_probe_never_imported", "verify")
    assert "lazy module" in repr(m) and not m.loaded  # creating it imports nothing
    m = lazy_module(".errors", "ratecheck.verify")
    from ratecheck.verify.errors import UsageError

    assert m.loaded and m.UsageError is UsageError


# --------------------------------------------------------------------------- conventions
def test_version(capsys):
    from ratecheck.verify import __version__

    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out.strip() == f"ratecheck {__version__}"


def _actions(parser, path=()):
    import argparse

    for act in parser._actions:
        if isinstance(act, argparse._SubParsersAction):
            for name, sub in act.choices.items():
                yield from _actions(sub, path + (name,))
        elif not isinstance(act, (argparse._HelpAction,)):
            yield path, act


def test_every_option_and_positional_has_help():
    missing = [
        f"{' '.join(path) or 'ratecheck'} {act.option_strings or act.dest}"
        for path, act in _actions(cli._parser())
        if not (act.help or "").strip()
    ]
    assert not missing, missing


@pytest.mark.parametrize("cmd", ["list", "show", "check", "search", "replay", "sweep", "merge", "describe"])
def test_every_command_takes_quiet_and_verbose(cmd):
    opts = {o for path, act in _actions(cli._parser()) if path == (cmd,) for o in act.option_strings}
    assert {"-q", "--quiet", "-v", "--verbose"} <= opts


def test_out_keeps_working_beside_the_distinct_names():
    p = cli._parser()
    for args, name in (
        (["check", "--report", "R"], "R"),
        (["check", "--out", "R"], "R"),
        (["search", "x", "--records", "C"], "C"),
        (["search", "x", "--out", "C"], "C"),
        (["sweep", "x", "--store", "S"], "S"),
        (["sweep", "x", "--out", "S"], "S"),
    ):
        assert p.parse_args(args).out == name


@pytest.mark.parametrize(
    "args,msg",
    [
        (["check", "ef21.nonconvx-am"], "did you mean 'ef21.nonconvex-am'"),
        (["search", "ef21.nonconvx-am"], "did you mean 'ef21.nonconvex-am'"),
        (["show", "ef21.nonconvx-am"], "did you mean 'ef21.nonconvex-am'"),
        (["show", "ef21.pl-qm~halfed"], "did you mean 'ef21.pl-qm~halved'"),
        (["sweep", "ef21.nonconvx-am", "--store", "never-written"], "did you mean 'ef21.nonconvex-am'"),
        (["describe", "ef22"], "did you mean 'ef21'"),
        (["check", "ef21.pl-qm", "--param", "spred=3"], "did you mean 'spread'"),
        (["chek", "ef21"], "did you mean 'check'"),
        (["show", ""], "must be a non-empty string"),
    ],
)
def test_did_you_mean_for_every_name(args, msg, capsys):
    code, out, err = run(args, capsys)
    assert code == 2 and msg in err and err.count("\n") == 1, err


def test_ids_and_prefixes_have_one_wording(capsys):
    errs = {cmd: run([cmd, "nope"], capsys)[2] for cmd in ("show", "check", "search")}
    assert all("no claim id is or starts with 'nope'" in e for e in errs.values()), errs


def test_show_accepts_prefixes(capsys):
    code, out, _ = run(["show", "ef21.pl"], capsys)
    assert code == 0 and "ef21.pl-am:" in out and "ef21.pl-qm:" in out
    code, out, _ = run(["show", "ef21.pl", "--json"], capsys)
    assert {d["claim"] for d in json.loads(out)} == {"ef21.pl-am", "ef21.pl-qm"}
    code, out, _ = run(["show", "ef21.pl-qm", "--json"], capsys)
    assert json.loads(out)["claim"] == "ef21.pl-qm"  # one claim: one object, as before


def test_quiet_and_verbose_contradict(capsys):
    code, _, err = run(["check", "ef21.pl-qm", "-q", "-v"], capsys)
    assert code == 2 and "contradict" in err


class _TTY(io.StringIO):
    def isatty(self):
        return True


WRONG = """
from ratecheck import theorems
WRONG = theorems.get("ef21.pl-qm").variant("halved-untagged", bound=theorems.get("ef21.pl-qm").bound / 2)
"""


@pytest.fixture
def wrong_claim(tmp_path):
    f = tmp_path / "wrong.py"
    f.write_text(WRONG)
    return f"{f}:WRONG"


def test_unexpected_verdict_prints_its_counterexample_inline(wrong_claim, capsys):
    code, out, err = run(["check", "--claim", wrong_claim, "--quick", "--no-report"], capsys)
    assert code == 1 and "UNEXPECTED" in out
    inline = [ln for ln in out.splitlines() if ln.startswith("    violated on ")]
    assert inline and "measured" in inline[0] and "> bound" in inline[0] and "(seed 0)" in inline[0], out
    assert "\x1b[" not in out and not err  # not a terminal: no colour, no progress
    code, q, _ = run(["check", "--claim", wrong_claim, "--quick", "--no-report", "-q"], capsys)
    assert code == 1 and q == out  # -q keeps what is unexpected (here: everything) and the summary


def test_quiet_keeps_only_the_summary_when_all_is_expected(capsys):
    code, out, _ = run(["check", "ef21.pl-qm", "--quick", "--no-report", "-q"], capsys)
    assert code == 0 and out.splitlines() == [ln for ln in out.splitlines() if "nothing unexpected" in ln] and out
    code, out, _ = run(["check", "ef21.pl-qm", "--quick", "--no-report"], capsys)
    assert "ef21.pl-qm~halved" in out and not [ln for ln in out.splitlines() if ln.startswith(" ")]  # no instances
    code, out, _ = run(["check", "ef21.pl-qm", "--quick", "--no-report", "-v"], capsys)
    assert "    holds on " in out and "    violated on " in out  # every instance with its detail


def test_colour_and_progress_only_on_a_terminal(monkeypatch, capsys):
    out, err = _TTY(), _TTY()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("TERM", raising=False)
    assert main(["check", "ef21.pl-qm", "--quick", "--no-report"]) == 0
    assert "\x1b[32mholds\x1b[0m" in out.getvalue() and "\x1b[31mviolated\x1b[0m" in out.getvalue()
    progress = err.getvalue()
    assert "[1/3 claims]" in progress and "[3/3 claims]" in progress and "ETA" in progress
    assert progress.endswith("\r\x1b[K")  # the progress line is wiped at the end

    for env, args in ((("NO_COLOR", "1"),), ["--json"]), ((), ["--json"]), ((("NO_COLOR", "1"),), []):
        out.seek(0), out.truncate(), err.seek(0), err.truncate()
        for k, v in env:
            monkeypatch.setenv(k, v)
        assert main(["check", "ef21.pl-qm", "--quick", "--no-report", *args]) == 0
        assert "\x1b[3" not in out.getvalue()
        assert ("ETA" in err.getvalue()) == (not args)  # --json: silent stderr
        monkeypatch.delenv("NO_COLOR", raising=False)


# --------------------------------------------------------------------------- --jobs
def _records(out: str) -> dict:
    """The JSON of ``check --json`` without its timing fields."""
    data = json.loads(out)

    def strip(x):
        if isinstance(x, dict):
            return {k: strip(v) for k, v in x.items() if k not in ("seconds", "cpu_seconds", "wall_seconds")}
        if isinstance(x, list):
            return [strip(v) for v in x]
        return x

    return strip(data)


@pytest.mark.parametrize("cmd", ["check", "search"])
def test_jobs_give_the_serial_results_exactly(cmd, tmp_path, capsys):
    """``--jobs 2`` (loky workers, BLAS pinned) gives the records of ``--jobs 1``, in the same order."""
    if cmd == "check":
        args = ["check", "ef21.pl-qm", "superquantile.bias-levy", "weiszfeld.hull", "--quick"]
        args += ["--no-report", "--json", "--search", "2"]
    else:
        args = ["search", "ef21.pl-qm~halved", "superquantile.bias-levy", "lsvrp.lyapunov", "--budget", "4", "--json"]
    outs = {}
    for jobs in ("1", "2"):
        extra = [] if cmd == "check" else ["--records", str(tmp_path / f"cx{jobs}")]
        code, out, err = run([*args, *extra, "--jobs", jobs], capsys)
        assert not err, err
        outs[jobs] = (code, _records(out.replace(str(tmp_path / f"cx{jobs}"), "CX")))
    assert outs["1"] == outs["2"]
    if cmd == "search":  # the same counterexample records, byte for byte
        files = {j: {p.name: p.read_text() for p in (tmp_path / f"cx{j}").glob("*.json")} for j in "12"}
        assert files["1"] == files["2"] and files["1"]


def test_jobs_report_is_the_serial_report(tmp_path, capsys, monkeypatch):
    """With a report, ``--jobs 2`` draws every figure in the workers while the claims run (each claim's in its
    unit, an experiment's as soon as its last claim is checked); the report's files are those of ``--jobs 1``,
    byte for byte (the pages aside: they carry the date and the command)."""
    user = tmp_path / "mine.py"
    user.write_text(
        "from ratecheck import theorems\n"
        "MINE = theorems.get('weiszfeld.hull').variant('user-copy')\n"  # a claim that travels by value
    )
    scratch = tmp_path / "scratch"  # where the scratch folders of the figures go (and must be gone from)
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    reports = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"report{jobs}"
        args = ["check", "weiszfeld.hull", "superquantile.bias-levy", "--quick", "--jobs", jobs, "--report", str(out)]
        code, _, err = run([*args, "--claim", f"{user}:MINE"], capsys)
        assert code == 0, err
        reports[jobs] = {
            p.relative_to(out).as_posix(): p.read_bytes()
            for p in out.rglob("*")
            if p.is_file() and p.suffix in (".png", ".csv")
        }
    assert reports["1"] == reports["2"]
    assert any(name.startswith("weiszfeld.hull__user-copy") for name in reports["1"])  # the user's claim drawn too
    assert sum(name.endswith(".png") for name in reports["1"]) >= 4  # claims' figures and experiments' figures
    assert not list(scratch.iterdir())


def test_jobs_is_validated(capsys):
    for bad in ("0", "-1", "100000"):
        code, _, err = run(["check", "ef21.pl-qm", "--jobs", bad, "--no-report"], capsys)
        assert code == 2 and "--jobs must be an integer in [1," in err


# --------------------------------------------------------------------------- warnings
def test_warnings_of_a_run_go_into_the_verdict_detail(monkeypatch, capsys):
    """A solver's or an optimizer's warning met while a verdict is computed is part of its detail (counted),
    never a raw line on the console."""
    import warnings

    import ratecheck.verify.checking as check_mod

    judge = check_mod.judge

    def noisy_judge(*a, **k):
        for _ in range(2):
            warnings.warn_explicit("overflow encountered in accumulate", RuntimeWarning, "fromnumeric.py", 54)
        warnings.warn_explicit("Solution may be inaccurate.", UserWarning, "problem.py", 1)
        return judge(*a, **k)

    monkeypatch.setattr(check_mod, "judge", noisy_judge)
    code, out, err = run(["check", "ef21.pl-qm", "--quick", "--no-report", "--no-teeth", "--json"], capsys)
    assert code == 0 and not err
    detail = json.loads(out)["verdicts"][0]["detail"]
    assert "3 warnings while running: RuntimeWarning at fromnumeric.py:54 'overflow encountered" in detail
    assert "(x2)" in detail and "UserWarning at problem.py:1 'Solution may be inaccurate.'" in detail


def test_warnings_outside_verdicts_are_one_counted_note(monkeypatch, capsys):
    import warnings

    def noisy(a):
        warnings.warn_explicit("overflow encountered in exp", RuntimeWarning, "plots.py", 7)
        return 0

    monkeypatch.setattr(cli, "_cmd_list", noisy)
    code, out, err = run(["list"], capsys)
    assert code == 0 and err == (
        "ratecheck: note: 1 warning of the numerical libraries outside the verdicts (RuntimeWarning); -vv shows them\n"
    )
    code, out, err = run(["list", "-vv"], capsys)
    assert err == "ratecheck: note: RuntimeWarning at plots.py:7: overflow encountered in exp\n"


def test_warning_note():
    import warnings

    from ratecheck.verify.errors import warning_note, warnings_after_success

    held = []
    with warnings_after_success(into=held):
        warnings.warn("a" * 300, RuntimeWarning)
    assert len(held) == 1
    note = warning_note(held)
    assert note.startswith("; 1 warning while running: RuntimeWarning at ") and note.endswith("...'")
    assert warning_note([]) == ""


# a representative quick subset of the main job: claims of every experiment, teeth, a search, a report
SUBSET = [
    "ef21.pl-qm",
    "ef21.means",
    "superquantile.bias-levy",
    "weiszfeld.hull",
    "lsvrp.recursion",
    "rcd.convex",
    "rare-features.constants",
    "adom-plus.linear-rate",
    "sgd.neighborhood",
    "simplicial-fl.convex",
]
WARNINGS_AS_ERRORS = """
import sys, warnings
warnings.filterwarnings("error", module=r"(verify|solvers|theorems)(\\.|$)")  # the package's own modules
from ratecheck.verify.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _no_raw_warnings(args, tmp_path):
    p = subprocess.run(
        [sys.executable, "-c", WARNINGS_AS_ERRORS, *args],
        cwd=tmp_path,
        env={**__import__("os").environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    assert p.stderr == "", p.stderr[-3000:]
    return p


def test_main_job_subset_warns_nothing_raw(tmp_path):
    """A quick subset of ``check --all --search`` with the package's own warnings as errors: nothing on stderr."""
    p = _no_raw_warnings(["check", *SUBSET, "--quick", "--search", "2", "--no-report"], tmp_path)
    assert "25 claims checked, nothing unexpected" in p.stdout  # teeth included, whose runs overflow on purpose


@pytest.mark.slow
def test_main_job_quick_warns_nothing_raw(tmp_path):
    """``check --all --quick --search`` and its report (figures included) with the package's own warnings as
    errors: nothing on stderr."""
    _no_raw_warnings(
        ["check", "--all", "--quick", "--search", "--jobs", "2", "--report", str(tmp_path / "r")], tmp_path
    )


def test_cvxpy_inaccuracy_is_passed_on_as_cvxpy_s_warning():
    """cvxpy names our line as the origin of its "Solution may be inaccurate"; the optima pass it on as cvxpy's
    (the certificate after the solve decides), so it lands in a verdict's detail even when the package's own
    warnings are errors, while a warning of our own still is one."""
    import warnings

    from ratecheck.verify import optima
    from ratecheck.verify.errors import warning_note, warnings_after_success

    @optima._certified
    def solve(text):
        warnings.warn_explicit(text, UserWarning, optima.__file__, 133, module="verify.optima")
        return "certified"

    held = []
    with warnings.catch_warnings():
        warnings.filterwarnings("error", module=r"(verify|solvers|theorems)(\.|$)")
        with warnings_after_success(into=held):
            assert solve("Solution may be inaccurate. Try another solver.") == "certified"
        with pytest.raises(UserWarning, match="ours"):
            solve("ours")
    assert "UserWarning at optima.py:133 'Solution may be inaccurate." in warning_note(held)
