"""Every notebook in notebooks/ executes top to bottom (nbclient, kernel python3, cwd = repo root)."""
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
#: text each notebook must print (its story ends in verdicts)
EXPECT = {
    "ef21_am.ipynb": ["violated", "holds"],
    "rcd_rpt.ipynb": ["violated", "holds"],
    "weiszfeld.ipynb": ["weiszfeld.rate"],
}


def execute(name: str, timeout: int = 600):
    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = str(ROOT) + (os.pathsep + old if old else "")
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old
    return nb


def test_every_result_has_a_notebook():
    assert {"ef21_am.ipynb", "rare_features.ipynb", "rcd_rpt.ipynb", "lsvrp.ipynb", "adom_plus.ipynb",
            "superquantile.ipynb", "weiszfeld.ipynb"} <= set(NOTEBOOKS)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_executes(name):
    nb = execute(name)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any(o.get("output_type") in ("display_data", "execute_result", "stream") for o in outputs)
    text = "".join(o.get("text", "") for o in outputs)
    for needle in EXPECT.get(name, []):
        assert needle in text, f"{name}: expected {needle!r} in the outputs"
