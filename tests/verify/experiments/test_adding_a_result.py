"""The worked example of docs/adding-a-result.md adds a toy result without editing any shared module:
its code blocks run as written (as in-memory modules), and the toy claim is validated, checked,
searched, described and caught when wrong, like a shipped result."""

import re
import sys
import types
from pathlib import Path

import pytest

import ratecheck.theorems._core as core
import ratecheck.verify.experiments as exps
from ratecheck import theorems, verify

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "adding-a-result.md"


def _blocks() -> dict:
    text = GUIDE.read_text()
    return dict(re.findall(r"```python file=(\S+)\n(.*?)```", text, re.S))


@pytest.fixture
def toy():
    """Load the guide's modules in memory; restore the registries and sys.modules afterwards."""
    saved = (dict(core._REGISTRY), {k: list(v) for k, v in core._TEETH.items()}, dict(exps._EXPERIMENTS))
    added = []
    try:
        for path, code in _blocks().items():
            if path.startswith("tests/"):
                continue
            name = "ratecheck." + path[:-3].replace("/", ".")
            mod = types.ModuleType(name)
            mod.__file__ = str(GUIDE)
            mod.__package__ = name.rpartition(".")[0]  # relative imports resolve as in the file it would be
            sys.modules[name] = mod
            added.append(name)
            exec(compile(code, f"{GUIDE}:{path}", "exec"), mod.__dict__)
        yield _blocks()
    finally:
        core._REGISTRY.clear()
        core._REGISTRY.update(saved[0])
        core._TEETH.clear()
        core._TEETH.update(saved[1])
        exps._EXPERIMENTS.clear()
        exps._EXPERIMENTS.update(saved[2])
        for name in added:
            sys.modules.pop(name, None)


def test_the_guide_names_every_file_of_a_result():
    assert set(_blocks()) == {
        "theorems/toy_gd.py",
        "solvers/toy_gd.py",
        "verify/experiments/toy_gd.py",
        "tests/verify/experiments/test_toy_gd.py",
    }


def test_the_guide_imports_as_its_layers_require():
    """Copied into the tree, the templates keep the layers (import-linter contracts in pyproject.toml, and
    tests/test_install.py): theorems/ and solvers/ import only themselves, relatively; an experiment imports
    verify relatively and the solvers as ratecheck.solvers."""
    blocks = _blocks()
    for path in ("theorems/toy_gd.py", "solvers/toy_gd.py"):
        assert not re.search(r"^\s*(from|import)\s+(ratecheck|verify|theorems|solvers)\b", blocks[path], re.M), path
    exp = blocks["verify/experiments/toy_gd.py"]
    assert not re.search(r"^\s*(from|import)\s+(ratecheck\.verify|verify|theorems|solvers)\b", exp, re.M)
    assert re.search(r"^from ratecheck\.solvers\.toy_gd import", exp, re.M)


def test_the_toy_result_works_end_to_end(toy, capsys):
    from ratecheck.verify.cli import main
    from ratecheck.verify.describe import describe
    from ratecheck.verify.searching import search

    claim = theorems.get("toy-gd.linear")
    exp = exps.get("toy_gd")
    assert exp.run.__wrapped__ is exps.Experiment._run_table  # the fixed pipeline, no hand-written run
    exp.validate_claim(claim)
    assert all(v.verdict == "holds" for v in verify.check(claim, quick=True))
    # the guide's own test
    ns = {}
    exec(compile(toy["tests/verify/experiments/test_toy_gd.py"], "test_toy_gd.py", "exec"), ns)
    ns["test_linear_rate_holds_and_its_teeth_bite"]()
    # search finds the teeth from the declared space alone, and is never weaker than check
    assert search("toy-gd.linear~cubed-rate", budget=8, defaults=[], shrink=False).verdict == "violated"
    assert search("toy-gd.linear", budget=8).verdict == "holds"
    # described and validated like a shipped experiment
    d = describe(exp)
    assert [p["name"] for p in d["parameters"]] == ["d", "cond", "T"] and d["claims"][0]["claim"] == "toy-gd.linear"
    assert main(["check", "toy-gd", "--quick", "--no-report"]) == 0
    assert main(["check", "toy-gd.linear", "--quick", "--no-report", "--param", "cnd=3"]) == 2
    assert "did you mean 'cond'" in capsys.readouterr().err
    # an instance that cannot fit in memory is refused before anything is allocated
    assert main(["check", "toy-gd.linear", "--no-report", "--param", "d=1000000000"]) == 2
    assert "experiment 'toy_gd': this instance needs about" in capsys.readouterr().err
