import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ratecheck.verify.cli import main

ROOT = Path(__file__).resolve().parents[2]


def run(args, capsys):
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_list_and_show(capsys):
    code, out, _ = run(["list"], capsys)
    assert code == 0 and "ef21.nonconvex-qm" in out and "[paper]" in out
    code, out, _ = run(["list", "--json"], capsys)
    data = json.loads(out)
    assert any(d["claim"] == "ef21-w.nonconvex" and d["provenance"] == "derived" for d in data)
    code, out, _ = run(["show", "ef21.nonconvex-am"], capsys)
    assert code == 0 and "L_am" in out and "teeth" in out and "reconstructed" in out
    code, out, _ = run(["show", "ef21.pl-qm", "--latex"], capsys)
    assert code == 0 and r"\gamma \le" in out


def test_check_json_and_report(tmp_path, capsys):
    out_dir = tmp_path / "rep"
    code, out, _ = run(["check", "ef21.nonconvex-am", "--quick", "--json", "--out", str(out_dir)], capsys)
    assert code == 0
    data = json.loads(out)
    recs = data["verdicts"]
    assert {r["claim"] for r in recs} >= {"ef21.nonconvex-am", "ef21.nonconvex-am~rate-T2"}
    for r in recs:
        for key in ("claim", "paper", "provenance", "kind", "verdict", "tightness", "instance", "seed"):
            assert key in r
        assert r["tightness"] is None or isinstance(r["tightness"], float)  # numbers are numbers
        assert not r["unexpected"]  # exit status 0: no record is unexpected
    claims = {c["claim"]: c for c in data["claims"]}
    assert claims["ef21.nonconvex-am"]["verdict"] == "holds" and claims["ef21.nonconvex-am"]["caught"] is None
    assert claims["ef21.nonconvex-am~rate-T2"]["caught"] is True
    assert set(claims["ef21.nonconvex-am"]["worst_instance"]) >= {"n", "d", "T"}
    assert {"index.html", "report.md", "verdicts.json"} <= {p.name for p in out_dir.iterdir()}
    assert any(p.suffix == ".png" for p in out_dir.iterdir())
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".rep")]  # no temporary leftovers
    md = (out_dir / "report.md").read_text()
    assert "derived" in md and "tightness" in md


@pytest.mark.parametrize(
    "args,msg",
    [
        (["check", "nope"], "no claim id is or starts with 'nope'"),
        (["show", "nope.x"], "unknown claim id"),
        (["check"], "name claim ids"),
        (["check", "ef21.nonconvex-am", "--param", "T=0"], "T must be an integer >= 1"),
        (["check", "ef21.nonconvex-am", "--param", "compressor=top-50"], "k must satisfy 1 <= k <= d, got k=50 > d=20"),
        (["check", "ef21.nonconvex-am", "--param", "spread=-1"], "spread must be a finite number > 0"),
        (["check", "ef21.nonconvex-am", "--param", "bogus=1"], "unknown parameter 'bogus'"),
        (["check", "ef21.nonconvex-am", "--param", "noise=nan"], r"noise must be a finite number in \[0, 1e\+08\]"),
        (
            ["check", "ef21.nonconvex-am", "--param", "n=4", "--param", "spread=3"],
            r"spread must lie in \[1, sqrt\(n\)\)",
        ),
        (["check", "--claim", "/nonexistent/file.py:X"], "does not exist"),
        (["check", "ef21.nonconvex-am", "--param", "stepsize_factor=2"], "violates the assumption gamma <="),
        (["check", "ef21.pl-qm", "--param", "problem=logistic"], "needs a PL instance"),
        (["bogus"], "invalid choice"),
        (["check", "ef21.nonconvex-am", "--clients", "5"], "--clients needs --data"),
        (
            ["check", "ef21.nonconvex-am", "--param", "n=1000000000"],
            r"experiment 'ef21': this instance needs about \S+ \S+ \(mostly .* floats\), more than the \S+ \S+ available; "
            r"reduce replications, n",
        ),
        (["check", "adom.lower-bound-comm", "--param", "n=10000000"], r"experiment 'adom': this instance needs about"),
        (["check", "ef21.nonconvex-qm", "--param", "L_am=1e60"], r"L_am must be a finite number in \[1e-08, 1e\+08\]"),
        (
            ["check", "superquantile.variance", "--param", "high=1e300"],
            r"high must be a finite number in \[-1e\+100, 1e\+100\]",
        ),
        (
            ["check", "weiszfeld.contraction", "--param", "shift=1e160", "--param", "outlier_frac=0.2"],
            r"shift must be a finite number in \(0, 1e\+06\]",
        ),
    ],
)
def test_bad_input_one_line_exit_2_no_report(args, msg, tmp_path, capsys):
    out_dir = tmp_path / "r"
    code, out, err = run(args + (["--out", str(out_dir)] if args[0] == "check" else []), capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    import re

    assert re.search(msg, err), err
    assert not out_dir.exists() and list(tmp_path.iterdir()) == []


def test_alpha_outside_range_and_negative_L(capsys):
    from ratecheck import theorems
    from ratecheck.theorems import AssumptionError

    c = theorems.get("ef21.nonconvex-qm")
    with pytest.raises(AssumptionError, match="alpha"):
        c.check_assumptions(alpha=1.5, L=1, L_am=1, L_qm=1)
    with pytest.raises(AssumptionError, match="parameter L_qm"):
        c.check_assumptions(alpha=0.5, L=1, L_am=1, L_qm=-2)


def test_claim_file_without_the_name(tmp_path, capsys):
    f = tmp_path / "mine.py"
    f.write_text("X = 1\n")
    code, _, err = run(["check", "--claim", f"{f}:CLAIM", "--no-report"], capsys)
    assert code == 2 and "defines no name 'CLAIM'" in err
    code, _, err = run(["check", "--claim", f"{f}:X", "--no-report"], capsys)
    assert code == 2 and "not a theorems.Claim" in err


USER_CLAIM = textwrap.dedent("""
    from ratecheck import theorems
    base = theorems.get("ef21.nonconvex-am")
    # Plausible but wrong: "error feedback repairs the compression error, so EF21 runs at
    # gradient descent's stepsize 1/L with the same guarantee."
    WRONG = base.variant("gd-step", stepsize=1 / theorems.sym("L"))
    RIGHT = base.variant("copy")
""")


def test_user_claim_outside_the_repo_via_cli(tmp_path, capsys):
    f = tmp_path / "my_claims.py"
    f.write_text(USER_CLAIM)
    code, out, _ = run(["check", "--claim", f"{f}:WRONG", "--experiment", "ef21", "--quick", "--no-report"], capsys)
    assert code == 1 and "violated" in out and "UNEXPECTED" in out
    code, out, _ = run(["check", "--claim", f"{f}:RIGHT", "--experiment", "ef21", "--quick", "--no-report"], capsys)
    assert code == 0 and "holds" in out


def test_python_m_verify_entry_point(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    r = subprocess.run(
        [sys.executable, "-m", "ratecheck", "show", "ef21.means"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert r.returncode == 0 and "L_am" in r.stdout


def test_report_is_atomic_on_failure(tmp_path, monkeypatch):
    import ratecheck.verify.report as rep
    from ratecheck.verify import check

    vs = check("ef21.means", quick=True)
    out = tmp_path / "r"
    rep.write_report(vs, out)
    before = sorted(p.name for p in out.iterdir())

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(rep, "_html", boom)
    with pytest.raises(RuntimeError):
        rep.write_report(vs, out)
    assert sorted(p.name for p in out.iterdir()) == before  # old report intact
    assert [p.name for p in tmp_path.iterdir()] == ["r"]  # no temporary directory left


def test_check_with_search_reports_best_tightness(tmp_path, capsys):
    out_dir = tmp_path / "rep"
    code, out, _ = run(["check", "ef21.pl-qm", "--quick", "--no-teeth", "--search", "6", "--out", str(out_dir)], capsys)
    assert code == 0 and "search ef21.pl-qm" in out
    data = json.loads((out_dir / "verdicts.json").read_text())
    assert data["search"][0]["claim"] == "ef21.pl-qm" and data["search"][0]["best_tightness"] > 0
    assert "Tightness found by counterexample search" in (out_dir / "report.md").read_text()


def test_check_search_json_carries_best_tightness_and_counterexample(tmp_path, capsys):
    """A teeth variant searched with --search: the JSON names its best tightness and the record file,
    which lives in the report folder."""
    f = tmp_path / "mine.py"
    f.write_text(
        "from ratecheck import theorems\nWRONG = theorems.get('ef21.pl-qm').variant('halved', bound=theorems.get("
        "'ef21.pl-qm').bound / 2)\n"
    )
    out_dir = tmp_path / "rep"
    code, out, _ = run(
        ["check", "--claim", f"{f}:WRONG", "--quick", "--search", "4", "--json", "--out", str(out_dir)], capsys
    )
    data = json.loads(out)
    row = data["claims"][0]
    assert code == 1 and row["unexpected"] and row["search_verdict"] == "violated"
    assert isinstance(row["best_tightness"], float) and row["best_tightness"] > 1
    assert Path(row["counterexample"]).is_file() and Path(row["counterexample"]).parent == out_dir / "counterexamples"
    assert data["search"][0]["counterexample"] == row["counterexample"]
    assert any(r["unexpected"] for r in data["verdicts"])  # records agree with the exit status


def test_search_and_replay_through_the_cli(tmp_path, capsys):
    code, out, _ = run(["search", "ef21.nonconvex-am~rate-T2", "--budget", "8", "--out", str(tmp_path)], capsys)
    assert code == 0 and "violated" in out
    files = list(tmp_path.glob("*.json"))
    assert files
    code, out, _ = run(["replay", str(files[0])], capsys)
    assert code == 0 and "violated" in out
    code, _, err = run(["search", "ef21.nonconvex-am", "--budget", "0"], capsys)
    assert code == 2 and "budget" in err


def test_report_md_escapes_titles_and_text(tmp_path, capsys):
    """A claim's title, paper and notes reach report.md as text: nothing Markdown renders as HTML, and table
    pipes do not open new cells."""
    f = tmp_path / "mine.py"
    f.write_text(
        textwrap.dedent("""
        from ratecheck import theorems
        base = theorems.get("ef21.means")
        C = base.variant("esc", title="Bound <script>alert(1)</script> & a|b <img src=x onerror=y>",
                         paper="Doe <doe@example.org> | 2024", provenance_note="see <b>note</b> | here")
    """)
    )
    out_dir = tmp_path / "rep"
    code, _, _ = run(["check", "--claim", f"{f}:C", "--quick", "--out", str(out_dir)], capsys)
    assert code == 0
    md = (out_dir / "report.md").read_text()
    assert "<script>" not in md and "<img" not in md and "<b>" not in md and "<doe@" not in md
    assert "Bound &lt;script&gt;alert(1)&lt;/script&gt; &amp; a\\|b &lt;img src=x onerror=y&gt;" in md
    assert "Doe &lt;doe@example.org&gt; \\| 2024" in md and "see &lt;b&gt;note&lt;/b&gt; \\| here" in md
    import re

    for line in md.splitlines():  # every table row keeps its 7 (summary) or 6 (instances) cells
        if line.startswith("| ") and not line.startswith("|---"):
            assert len(re.split(r"(?<!\\)\|", line)) - 2 in (6, 7), line
    html_page = (out_dir / "index.html").read_text()
    assert "<script>" not in html_page and "&lt;script&gt;" in html_page


def test_replayed_record_of_an_absurd_size_is_refused_in_one_line(tmp_path, capsys):
    rec = {
        "format": "ratecheck-counterexample/1",
        "claim": "ef21.nonconvex-am",
        "experiment": "ef21",
        "instance": {"n": 1000000000},
        "seed": 0,
    }
    f = tmp_path / "cx.json"
    f.write_text(json.dumps(rec))
    code, out, err = run(["replay", str(f)], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert "experiment 'ef21': this instance needs about" in err and "reduce replications, n" in err


@pytest.mark.parametrize(
    "args, msg",
    [
        (["rcd.convex", "--param", "x0_scale=1e160"], "parameter R must be finite"),  # fails in the run
        (["rcd.nonconvex", "--param", "scale_ratio=1e160"], "the bound is not finite"),  # fails judging the bound
    ],
)
def test_no_raw_warning_before_a_usage_error(args, msg, tmp_path):
    """The overflow warnings met on the way to a usage error are not printed (a separate process: pytest itself
    captures warnings)."""
    r = subprocess.run(
        [sys.executable, "-m", "ratecheck", "check", *args, "--no-teeth", "--no-report"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Warning" not in r.stderr, r.stderr
    assert r.stderr.startswith("ratecheck: error: ") and msg in r.stderr
