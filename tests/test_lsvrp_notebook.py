"""notebooks/lsvrp.ipynb executes (nbclient, kernel python3, cwd = repository root)."""
import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_lsvrp_notebook_executes():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(ROOT / "notebooks" / "lsvrp.ipynb", as_version=4)
    env_pp = os.environ.get("PYTHONPATH", "")
    os.environ["PYTHONPATH"] = str(ROOT) + (os.pathsep + env_pp if env_pp else "")
    try:
        nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    finally:
        os.environ["PYTHONPATH"] = env_pp
    assert any(o.get("output_type") == "display_data" for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
