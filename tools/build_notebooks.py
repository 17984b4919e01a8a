"""Build the notebooks from their single source of truth, the jupytext "percent" scripts.

Every ``notebooks/<name>.py`` (``# %%`` code cells, ``# %% [markdown]`` prose cells) is turned into
``notebooks/<name>.ipynb`` and executed (nbclient, kernel ``python3``, cwd = repository root,
``PYTHONPATH`` = repository root), so the committed notebooks carry their outputs and figures.
Edit the ``.py``, never the ``.ipynb``.

    python tools/build_notebooks.py                # rebuild and execute every notebook
    python tools/build_notebooks.py lsvrp weiszfeld
    python tools/build_notebooks.py --check        # exit 1 if a notebook's cells differ from its script

``--check`` compares cell types and sources only (outputs, execution counts and metadata are ignored),
and also fails on a notebook without a script or a script without a notebook.

The kernel runs without ``MPLBACKEND`` so that ipykernel selects its inline backend and the figures
are stored as ``image/png`` outputs (a shell or CI that exports ``MPLBACKEND=Agg`` would otherwise
silently drop them).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def names() -> list[str]:
    """Every notebook name that has a script or a notebook in ``notebooks/``."""
    return sorted({p.stem for p in NOTEBOOKS.glob("*.py")} | {p.stem for p in NOTEBOOKS.glob("*.ipynb")})


def notebook_from_script(name: str) -> nbformat.NotebookNode:
    """The unexecuted notebook of ``notebooks/<name>.py`` (deterministic cell ids, clean metadata)."""
    nb = jupytext.read(NOTEBOOKS / f"{name}.py", fmt="py:percent")
    nb.nbformat, nb.nbformat_minor = 4, 5
    nb.metadata = nbformat.from_dict({"kernelspec": dict(KERNELSPEC)})
    for i, cell in enumerate(nb.cells):
        cell.id = f"{name[:50]}-{i:02d}".replace("_", "-")
        cell.metadata = nbformat.from_dict({})
    return nb


def kernel_env() -> dict[str, str]:
    """The kernel's environment: repository root on PYTHONPATH, no MPLBACKEND (ipykernel then uses inline)."""
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)
    old = env.get("PYTHONPATH")
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + old if old else "")
    return env


def execute(nb: nbformat.NotebookNode, timeout: int = 1200) -> nbformat.NotebookNode:
    """Execute ``nb`` in place (raises ``nbclient.exceptions.CellExecutionError`` on the first error)."""
    from nbclient import NotebookClient

    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,
        coalesce_streams=True,
        resources={"metadata": {"path": str(ROOT)}},
    )
    client.execute(env=kernel_env())
    nb.metadata = nbformat.from_dict({"kernelspec": dict(KERNELSPEC)})  # no interpreter version churn
    return nb


def cells(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    """What the check compares: (cell type, source) of every cell."""
    return [(c.cell_type, c.source) for c in nb.cells]


def differences(name: str) -> list[str]:
    """Why ``notebooks/<name>.ipynb`` does not match ``notebooks/<name>.py`` (empty when it does)."""
    script, notebook = NOTEBOOKS / f"{name}.py", NOTEBOOKS / f"{name}.ipynb"
    if not script.exists():
        return [f"{notebook.name} has no source script {script.name}"]
    if not notebook.exists():
        return [f"{script.name} has no notebook {notebook.name}: run python tools/build_notebooks.py {name}"]
    want, have = cells(notebook_from_script(name)), cells(nbformat.read(notebook, as_version=4))
    out = []
    if len(want) != len(have):
        out.append(f"{notebook.name}: {len(have)} cells, {script.name} has {len(want)}")
    for i, (w, h) in enumerate(zip(want, have)):
        if w != h:
            out.append(f"{notebook.name}: cell {i} ({h[0]}) differs from {script.name} ({w[0]}): {h[1][:60]!r}")
    return out


def build(name: str, timeout: int = 1200) -> float:
    """Regenerate and execute ``notebooks/<name>.ipynb`` from its script; return the seconds it took."""
    t0 = time.perf_counter()
    nb = execute(notebook_from_script(name), timeout=timeout)
    nbformat.validate(nb)
    nbformat.write(nb, NOTEBOOKS / f"{name}.ipynb")
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*", help="notebook names (default: every notebooks/*.py)")
    ap.add_argument("--check", action="store_true", help="only compare every .ipynb with its .py (cells, not outputs)")
    ap.add_argument("--timeout", type=int, default=1200, help="seconds per cell (default 1200)")
    args = ap.parse_args(argv)
    todo = [n.removesuffix(".py").removesuffix(".ipynb") for n in args.names] or names()
    if args.check:
        bad = 0
        for n in todo:
            msgs = differences(n)
            bad += bool(msgs)
            for msg in msgs:
                print(msg, file=sys.stderr)
        print(f"{len(todo) - bad}/{len(todo)} notebooks match their scripts")
        return 1 if bad else 0
    missing = [n for n in todo if not (NOTEBOOKS / f"{n}.py").exists()]
    if missing:
        print("no script notebooks/<name>.py for: " + ", ".join(missing), file=sys.stderr)
        return 1
    for n in todo:
        print(f"notebooks/{n}.ipynb ...", end=" ", flush=True)
        print(f"{build(n, args.timeout):.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
