r"""Claim files (``verify.claimfiles``): claims in TOML with their mathematics in LaTeX.

They load into the project's symbols, refuse bad input with one line naming the field and the column,
never execute anything, work from the command line like Python claims, and ``ratecheck show ID --toml``
writes every shipped claim as a file that loads back to an equal claim.
"""

import builtins
import json
import re
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
import sympy.parsing.sympy_parser  # noqa: F401 - loaded, so that its parse_expr can be guarded

from ratecheck import theorems, verify
from ratecheck.verify.claimfiles import (
    claim_to_toml,
    is_claim_file,
    load_claim,
    load_claims,
    read_claim_file,
)
from ratecheck.verify.cli import main
from ratecheck.verify.errors import UsageError
from ratecheck.verify.latex import SymbolTable, parse_relations

GOOD = r"""
[[claim]]
id = "mypaper.thm1"
title = "EF21 with the arithmetic-mean stepsize, as our Theorem 1 prints it"
paper = "Doe and Roe, 2025, Theorem 1"
provenance = "paper"
kind = "upper"
experiment = "ef21"
measure = "avg_grad_norm_sq"
in_expectation = true
stepsize = '\frac{1}{L + L_{am}\,\xi(\alpha)}'
bound = '\frac{2\delta_0}{\gamma T} + \frac{G^0}{\theta_c(\alpha) T}'
assumptions = ['0 < \alpha \le 1', 'L > 0']
search_budget = 8

[claim.setting]
algorithm = "ef21"
lyapunov = "am"
"""

#: a wrong constant: the 2 of 2 delta_0 / (gamma T) became 1/5 (caught on the quick default instance)
WRONG = r"""
[[claim]]
id = "mypaper.thm1-wrong"
base = "ef21.nonconvex-am"
bound = '\frac{\delta_0}{5\gamma T} + \frac{G^0}{\theta_c(\alpha) T}'
"""


def write(tmp_path, text, name="claims.claim.toml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


# --------------------------------------------------------------------------- loading
def test_a_claim_file_loads_into_the_project_symbols(tmp_path):
    (c,) = load_claims(write(tmp_path, GOOD))
    L, L_am, xi, delta0, gamma, T, G0, theta_c, alpha, mu = map(
        theorems.sym, ["L", "L_am", "xi", "delta0", "gamma", "T", "G0", "theta_c", "alpha", "mu"]
    )
    assert c.stepsize == 1 / (L + L_am * xi)
    assert c.bound == 2 * delta0 / (gamma * T) + G0 / (theta_c * T)  # G^0 is G0, not G**0 = 1
    assert all(s is theorems.sym(s.name) for s in c.symbols)  # project-wide, with their assumptions
    assert T.is_integer and delta0.is_nonnegative
    assert c.assumptions == (theorems.lt(0, alpha), theorems.le(alpha, 1), theorems.gt(L, 0))  # unevaluated
    table = SymbolTable.build(["mu", "L"])
    assert parse_relations(r"\mu \in (0, L]", table).value == [theorems.lt(0, mu), theorems.le(mu, L)]
    assert parse_relations(r"0 < \mu < L \leq 2", table).value == [
        theorems.lt(0, mu),
        theorems.lt(mu, L),
        theorems.le(L, 2),
    ]
    assert c.kind is theorems.Kind.UPPER and c.setting == {"algorithm": "ef21", "lyapunov": "am"}
    assert c.source_latex["bound"] == r"\frac{2\delta_0}{\gamma T} + \frac{G^0}{\theta_c(\alpha) T}"
    assert c.latex(source=True).endswith(r"\frac{2\delta_0}{\gamma T} + \frac{G^0}{\theta_c(\alpha) T}")
    (e,) = read_claim_file(tmp_path / "claims.claim.toml")
    assert (e.search_budget, e.seed, e.quick, e.line) == (8, 0, True, 2)
    assert verify.load_claims is load_claims


def test_base_starts_from_a_shipped_claim(tmp_path):
    (c,) = load_claims(write(tmp_path, WRONG))
    base = theorems.get("ef21.nonconvex-am")
    assert c.id == "mypaper.thm1-wrong" and c.stepsize == base.stepsize and c.assumptions == base.assumptions
    assert (
        c.bound != base.bound
        and c.expected_to_fail is None
        and c.source_latex == {"bound": r"\frac{\delta_0}{5\gamma T} + \frac{G^0}{\theta_c(\alpha) T}"}
    )


def test_settings_in_latex_and_spec_forms(tmp_path):
    p = write(
        tmp_path,
        r"""
        [[claim]]
        id = "my.lyapunov"
        base = "lsvrp.lyapunov"
        [claim.setting]
        psi_weight = '\frac{2\delta^2\gamma^2}{p\,(1 + \gamma\mu)^2}'
        [[claim]]
        id = "my.other"
        base = "lsvrp.tuned-probe"
        [claim.setting]
        eps = '10^{-3}'
        stepsize_factors = ['\frac{1}{2}', 1, 2]
        """,
    )
    a, b = load_claims(p)
    d, g, pp, mu = map(theorems.sym, ["delta", "gamma", "p", "mu"])
    assert sp.simplify(a.setting["psi_weight"] - 2 * d**2 * g**2 / (pp * (1 + g * mu) ** 2)) == 0
    assert b.setting["eps"] == sp.Rational(1, 1000) and b.setting["stepsize_factors"] == (sp.Rational(1, 2), 1, 2)
    assert load_claim(f"{p}:my.other") == b and is_claim_file(f"{p}:my.other") and is_claim_file(str(p))
    with pytest.raises(UsageError, match="holds 2 claims"):
        load_claim(str(p))


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "field, latex, message",
    [
        ("bound", r"\frac{2\delta_0}{\gamma T", r"field 'bound': '\{' is never closed at column 17"),
        (
            "bound",
            r"\frac{2\delta_1}{\gamma T}",
            r"field 'bound', column 8: \\delta_1 \(symbol 'delta1'\) is not supplied "
            r"by experiment 'ef21' for measure 'avg_grad_norm_sq'; did you mean "
            r"'delta0'\?; supplied: G0, L, L_am",
        ),
        ("bound", r"2 \delta_0 + * T", r"field 'bound': cannot read the LaTeX \(unexpected '\*'\) at column 14"),
        ("bound", r"\mathbb{E} \delta_0", r"field 'bound': unsupported command '\\\\mathbb' at column 1"),
        (
            "bound",
            r"\delta_0 \le T",
            r"field 'bound': a relation \(\\le\) where an expression is expected at column 10",
        ),
        (
            "stepsize",
            r"\frac{1}{L + L_{am}\xi(\alpha p_{\min})}",
            r"field 'stepsize': \\xi\(\\alpha p_\{\\min\}\) is not a "
            r"declared symbol \(this experiment supplies \\xi\(\\alpha\)\)"
            r"; for a product write \\xi \\cdot \(...\) at column 20",
        ),
        ("stepsize", r"\frac{1}{L f(\alpha)}", r"f\(\\alpha\) reads as a function applied to an argument"),
        ("assumptions", r"\alpha", r"field 'assumptions\[0\]': not a relation"),
    ],
)
def test_errors_name_the_field_and_the_column(tmp_path, field, latex, message):
    value = f"['{latex}']" if field == "assumptions" else f"'{latex}'"
    p = write(tmp_path, f'[[claim]]\nid = "my.c"\nbase = "ef21.nonconvex-am"\n{field} = {value}\n')
    with pytest.raises(UsageError, match=message):
        load_claims(p)


@pytest.mark.parametrize(
    "text, message",
    [
        (
            '[[claim]]\nid = "x"\nbase = "ef21.nonconvex-am"\nbuond = "T"\n',
            r"unknown field 'buond'; did you mean 'bound'",
        ),
        (
            '[[claim]]\nid = "x"\nbase = "ef21.nonconvex-am"\nkind = "uper"\n',
            r"field 'kind' must be one of upper, lower, "
            r"scaling, identity, got 'uper'",
        ),
        ('[[claim]]\nid = "x"\nbase = "ef21.nonconvex-amm"\n', r"field 'base': unknown claim id 'ef21.nonconvex-amm'"),
        ('[[claim]]\nid = "x"\ntitle = "t"\n', r"field\(s\) 'provenance', 'kind', 'paper' required"),
        ('[[claim]]\nid = "x"\nbase = "ef21.nonconvex-am"\nmeasure = "avg_grad"\n', r"has no measure 'avg_grad'"),
        (
            '[[claim]]\nid = "x"\nbase = "ef21.nonconvex-am"\n[claim.setting]\nlyapunov_weights = "am"\n',
            r"unknown setting 'lyapunov_weights'",
        ),
        (
            '[[claim]]\nid = "x"\nbase = "ef21.nonconvex-am"\n[claim.setting]\nlyapunov = "amm"\n',
            r"setting 'lyapunov' must be",
        ),
        (
            '[[claim]]\nid = "x"\nbase = "ef21.nonconvex-am"\nsearch_budget = 0\n',
            r"'search_budget' must be an integer >= 1",
        ),
        ('[[claims]]\nid = "x"\n', r"unknown top-level key 'claims'"),
        ('[[claim]]\nid = "x"\nbound = \n', r"invalid TOML"),
        ('[[claim]]\nid = "x"\nbase = "ef21.pl-qm"\n[[claim]]\nid = "x"\nbase = "ef21.pl-qm"\n', r"appears twice"),
    ],
)
def test_malformed_files_are_refused_in_one_line(tmp_path, text, message):
    with pytest.raises(UsageError, match=message) as e:
        load_claims(write(tmp_path, text))
    assert "\n" not in str(e.value)


# --------------------------------------------------------------------------- nothing is executed
def test_loading_never_evaluates_code(tmp_path, monkeypatch):
    """No eval/exec, no sympify or parse_expr of a string, while a claim file loads -- and Python in the LaTeX
    is refused, not run."""
    marker = tmp_path / "PWNED"
    evil = f"__import__('os').system('touch {marker}')"
    p = write(
        tmp_path,
        GOOD
        + f"""
[[claim]]
id = "mypaper.evil-text"
base = "lsvrp.lyapunov"
description = "{evil}"
[claim.setting]
psi_weight = '\\frac{{2\\delta^2\\gamma^2}}{{p}}'
""",
    )
    load_claims(p)  # warm caches (the parser module, lark's grammar) before the guards go up

    def refuse(name, real):
        def guarded(*args, **kwargs):
            if args and isinstance(args[0], str):
                raise AssertionError(f"{name} called on a string while loading a claim file: {args[0]!r}")
            return real(*args, **kwargs)

        return guarded

    monkeypatch.setattr(builtins, "eval", refuse("eval", builtins.eval))
    monkeypatch.setattr(builtins, "exec", refuse("exec", builtins.exec))
    monkeypatch.setattr(sp, "sympify", refuse("sympify", sp.sympify))
    core, parser = sys.modules["sympy.core.sympify"], sys.modules["sympy.parsing.sympy_parser"]
    monkeypatch.setattr(core, "sympify", refuse("sympify", core.sympify))
    monkeypatch.setattr(parser, "parse_expr", refuse("parse_expr", parser.parse_expr))
    _, evil_text = load_claims(p)
    assert evil_text.description == evil
    for field in ("bound", "stepsize", "assumptions"):
        bad = write(
            tmp_path,
            f'[[claim]]\nid = "x"\nbase = "ef21.pl-qm"\n{field} = {json.dumps(evil if field != "assumptions" else [evil])}\n',
            name=f"evil-{field}.claim.toml",
        )
        with pytest.raises(UsageError):
            load_claims(bad)
    monkeypatch.undo()
    assert not marker.exists()


# --------------------------------------------------------------------------- command line
def test_the_cli_checks_a_claim_file_and_catches_a_wrong_constant(tmp_path, capsys):
    p = write(tmp_path, GOOD + WRONG)
    code = main(["check", "--claim", str(p), "--quick", "--out", str(tmp_path / "report")])
    out = capsys.readouterr().out
    assert code == 1
    assert "mypaper.thm1 " in out and "mypaper.thm1-wrong" in out and "1 unexpected: mypaper.thm1-wrong" in out
    report = (tmp_path / "report" / "report.md").read_text()
    assert r"Statement (as written): $$\gamma \le \frac{1}{L + L_{am}\,\xi(\alpha)}" in report
    assert main(["check", "--claim", f"{p}:mypaper.thm1", "--quick", "--no-report"]) == 0
    capsys.readouterr()
    assert main(["check", "--claim", f"{p}:nope", "--quick", "--no-report"]) == 2
    assert "no claim 'nope'" in capsys.readouterr().err


def test_search_and_replay_a_claim_file(tmp_path, capsys):
    p = write(tmp_path, WRONG)
    assert main(["search", "--claim", str(p), "--budget", "2", "--out", str(tmp_path / "cx")]) == 1
    (rec,) = (tmp_path / "cx").glob("*.json")
    capsys.readouterr()
    assert main(["replay", str(rec), "--claim", str(p)]) == 1
    assert "record reproduced exactly" in capsys.readouterr().out


# --------------------------------------------------------------------------- show --toml
def _round_trip(cid, tmp_path):
    c = theorems.get(cid)
    p = tmp_path / "c.claim.toml"
    p.write_text(claim_to_toml(c))
    (back,) = load_claims(p)
    assert back == c, cid  # every field equal (expressions as sympy objects), identities included


@pytest.mark.parametrize(
    "cid",
    [
        "ef21.pl-qm",
        "ef21.cloning",
        "adom-plus.multi-consensus",
        "rcd.convex",
        "superquantile.bias-exact",
        "superquantile.bias-rate",
        "ef21.nonconvex-am~rate-T2",
        "lsvrp.tuned-probe",
        "ef21.constants",
    ],
)
def test_show_toml_loads_back_to_an_equal_claim(cid, tmp_path):
    _round_trip(cid, tmp_path)


@pytest.mark.slow
def test_show_toml_round_trips_the_whole_catalogue(tmp_path):
    for c in list(theorems.all()) + list(theorems.teeth()):
        _round_trip(c.id, tmp_path)


def test_show_toml_command(capsys):
    assert main(["show", "ef21.cloning", "--toml"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# ratecheck claim file") and "base = 'ef21.cloning'" in out
    assert "# from the shipped claim, which LaTeX cannot carry: its identities" in out
    assert "\nstepsize" not in out and "bound = '\\sqrt{2} L_{am}'" in out


# --------------------------------------------------------------------------- the documented examples
ROOT = Path(__file__).resolve().parents[2]


def _toml_blocks(path, start=None, end=None):
    text = path.read_text()
    if start:
        text = text[text.index(start) : text.index(end)]
    return re.findall(r"```toml\n(.*?)```", text, re.DOTALL)


def test_the_readme_example_loads_and_states_the_shipped_theorem(tmp_path):
    (block,) = _toml_blocks(ROOT / "README.md", "## Write your claim in LaTeX", "## EF21 and Error")
    thm1, wrong = load_claims(write(tmp_path, block, "theorems.claim.toml"))
    shipped = theorems.get("ef21.nonconvex-am")
    # the experiment's constants theta_c and xi are the compressor functions of alpha: same theorem
    from ratecheck.theorems.ef21 import theta_c, xi

    a = theorems.sym("alpha")
    as_functions = {theorems.sym("theta_c"): theta_c(a), theorems.sym("xi"): xi(a)}
    assert sp.simplify(thm1.stepsize.xreplace(as_functions) - shipped.stepsize) == 0
    assert sp.simplify(thm1.bound.xreplace(as_functions) - shipped.bound) == 0
    assert wrong.stepsize == shipped.stepsize and wrong.bound != shipped.bound


def test_the_worked_example_of_docs_claim_files(tmp_path):
    (toml,) = _toml_blocks(ROOT / "docs" / "claim-files.md")[:1]
    p = write(tmp_path, toml, "theorems.claim.toml")
    with pytest.raises(
        UsageError,
        match=r"theorems.claim.toml: claim 'my-paper.cor2' \(line 21\): field 'stepsize', "
        r"column 37: \\beta_c \(symbol 'beta_c'\) is not supplied",
    ):
        load_claims(p)
    p.write_text(toml.replace(r"\sqrt{2\beta_c/\theta_c}", r"\xi(\alpha)\sqrt{2}"))
    _, cor2 = load_claims(p)
    from ratecheck.theorems.ef21 import theta_c, xi

    a = theorems.sym("alpha")
    as_functions = {theorems.sym("theta_c"): theta_c(a), theorems.sym("xi"): xi(a)}
    pl_am = theorems.get("ef21.pl-am")
    assert sp.simplify(cor2.bound.xreplace(as_functions) - pl_am.bound) == 0
    # sqrt((1 - alpha)(1 + sqrt(1 - alpha))^2) = sqrt(1 - alpha)(1 + sqrt(1 - alpha)) needs alpha <= 1: compare
    # on the assumptions' domain
    rng = np.random.default_rng(0)
    values = dict(
        alpha=rng.uniform(1e-3, 1, 200),
        L=rng.uniform(1, 10, 200),
        L_am=rng.uniform(0.1, 1, 200),
        mu=rng.uniform(1e-3, 1, 200),
    )
    f = sp.lambdify(
        [theorems.sym(k) for k in values],
        [cor2.stepsize.xreplace(as_functions), pl_am.stepsize],
        modules=["numpy", {"Min": np.minimum}],
    )
    mine, shipped = f(*values.values())
    assert np.allclose(mine, shipped, rtol=1e-12)
