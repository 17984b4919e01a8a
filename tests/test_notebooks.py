"""The notebooks: one source of truth and figures that show.

``notebooks/<name>.py`` (jupytext percent) is the source; ``notebooks/<name>.ipynb`` is generated and
executed from it by ``python tools/build_notebooks.py``. The default run checks that every committed
notebook matches its script (cells, not outputs) and carries its executed outputs: no error, its
``image/png`` figures (:data:`FIGURES` per notebook), the expected verdicts. The slow tests (``-m slow``) execute every script
afresh (nbclient, kernel python3, cwd = repository root) and assert the same of the fresh outputs.
"""

import importlib.util
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("build_notebooks", ROOT / "tools" / "build_notebooks.py")
bn = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bn)

NAMES = bn.names()
#: text each notebook must print (its story ends in verdicts)
EXPECT = {
    "ef21_am": ["violated", "holds"],
    "rcd_rpt": ["violated", "holds"],
    "three_point": ["3pc.nonconvex~lag-B0", "half-step-bold  violated"],
    "weiszfeld": ["weiszfeld.rate"],
    "worst_case": ["certified", "violated", "counterexample"],
}


#: figures each notebook must show (image/png outputs): one per figure cell of its script
FIGURES = {
    "adom_plus": 4,
    "ef21_am": 3,
    "local_methods": 7,
    "lsvrp": 4,
    "rare_features": 3,
    "rcd_rpt": 3,
    "rfa_personalization": 3,
    "superquantile": 3,
    "three_point": 3,
    "weiszfeld": 2,
    "worst_case": 2,
}


def code_outputs(nb):
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def assert_shows_its_story(name: str, nb) -> None:
    """No error output, at least one PNG figure, the expected text."""
    outputs = code_outputs(nb)
    errors = [o for o in outputs if o.get("output_type") == "error"]
    assert not errors, f"{name}: error output {errors[0].get('ename')}: {errors[0].get('evalue')}"
    pngs = [
        o
        for o in outputs
        if o.get("output_type") in ("display_data", "execute_result") and "image/png" in o.get("data", {})
    ]
    want = FIGURES.get(name, 1)
    assert len(pngs) >= want, (
        f"{name}: {len(pngs)} image/png outputs, expected {want} (a figure that does not display?)"
    )
    text = "".join(o.get("text", "") for o in outputs)
    for needle in EXPECT.get(name, []):
        assert needle in text, f"{name}: expected {needle!r} in the outputs"


def test_every_notebook_states_how_many_figures_it_shows():
    assert set(NAMES) <= set(FIGURES)


def test_every_result_has_a_notebook_and_a_script():
    want = {"ef21_am", "rare_features", "rcd_rpt", "lsvrp", "adom_plus", "superquantile", "weiszfeld"}
    assert want <= {p.stem for p in (ROOT / "notebooks").glob("*.py")}
    assert want <= {p.stem for p in (ROOT / "notebooks").glob("*.ipynb")}


@pytest.mark.parametrize("name", NAMES)
def test_notebook_matches_its_script(name):
    assert bn.differences(name) == [], "rebuild it: python tools/build_notebooks.py " + name


@pytest.mark.parametrize("name", NAMES)
def test_committed_notebook_is_executed_and_shows_its_figures(name):
    nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    unrun = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.get("execution_count") is None]
    assert not unrun, f"{name}: code cells {unrun} carry no execution (run python tools/build_notebooks.py {name})"
    assert_shows_its_story(name, nb)


@pytest.mark.parametrize("name", NAMES)
def test_no_notebook_selects_a_matplotlib_backend(name):
    source = (ROOT / "notebooks" / f"{name}.py").read_text()
    assert "matplotlib.use(" not in source and "MPLBACKEND" not in source


def test_check_fails_on_a_notebook_that_drifted_from_its_script(tmp_path, monkeypatch, capsys):
    (tmp_path / "demo.py").write_text("# %% [markdown]\n# # Demo\n\n# %%\nx = 1\n")
    monkeypatch.setattr(bn, "NOTEBOOKS", tmp_path)
    nb = bn.notebook_from_script("demo")
    nbformat.write(nb, tmp_path / "demo.ipynb")
    assert bn.main(["--check"]) == 0
    nb.cells[1].source = "x = 2"
    nbformat.write(nb, tmp_path / "demo.ipynb")
    assert bn.main(["--check"]) == 1
    (tmp_path / "orphan.ipynb").write_text((tmp_path / "demo.ipynb").read_text())
    assert bn.differences("orphan") == ["orphan.ipynb has no source script orphan.py"]
    capsys.readouterr()


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_notebook_executes_from_its_script(name):
    nb = bn.execute(bn.notebook_from_script(name), timeout=900)
    assert_shows_its_story(name, nb)
