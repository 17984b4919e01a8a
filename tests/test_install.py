"""The distribution installs under one namespace: ``import ratecheck`` works from a wheel in a fresh
environment, and a user's own ``theorems.py``, ``solvers.py`` or ``verify.py`` cannot shadow it."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_folder_is_mapped_into_the_namespace():
    """Each folder with an ``__init__.py`` under theorems/, solvers/, verify/ is listed in pyproject's
    ``packages`` and ``package-dir``: a new subpackage would otherwise be missing from the wheel."""
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    on_disk = {"ratecheck"}
    for top in ("theorems", "solvers", "verify"):
        for init in (ROOT / top).rglob("__init__.py"):
            on_disk.add("ratecheck." + ".".join(init.parent.relative_to(ROOT).parts))
    assert set(cfg["packages"]) == on_disk
    assert {k: v for k, v in cfg["package-dir"].items()} == {
        p: ("ratecheck" if p == "ratecheck" else "/".join(p.split(".")[1:])) for p in on_disk
    }


def test_no_module_imports_the_top_level_folders_by_their_bare_names():
    """Inside the packages, tests, tools and notebooks, the code imports ``ratecheck.*`` (or relatively): a
    bare ``import verify`` would load a second copy of a module (two registries) in a source checkout and
    fail in an installed one.  Inside verify/, its own modules are imported relatively (the layers)."""
    import re

    bare = re.compile(r"^\s*(from|import)\s+(theorems|solvers|verify)\b", re.M)
    self_abs = re.compile(r"^\s*(from|import)\s+ratecheck\.verify\b", re.M)
    offenders = []
    for folder in ("theorems", "solvers", "verify", "tests", "tools", "notebooks", "ratecheck"):
        for p in (ROOT / folder).rglob("*.py"):
            text = p.read_text()
            if bare.search(text):
                offenders.append(str(p.relative_to(ROOT)))
            if folder == "verify" and p.name != "__main__.py" and self_abs.search(text):
                offenders.append(f"{p.relative_to(ROOT)} (absolute import of ratecheck.verify inside verify/)")
    assert not offenders, offenders


def test_the_catalogue_index_is_package_data():
    """``list`` and ``show`` read theorems/catalogue_index.json (verify/catalogue.py): it must be in the wheel."""
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "catalogue_index.json" in cfg["package-data"]["ratecheck.theorems"]
    assert (ROOT / "theorems" / "catalogue_index.json").is_file()


@pytest.mark.slow
def test_wheel_installs_and_runs_beside_a_users_theorems_solvers_and_verify(tmp_path):
    """Build the wheel, install it (without dependencies: they come from this environment) in a fresh
    virtual environment, and use it from a folder holding ``theorems.py``, ``solvers.py`` and
    ``verify.py`` that would break any import of those names."""
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (wheel,) = wheels.glob("ratecheck-*.whl")
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(py),
            "install",
            "--no-deps",
            "--ignore-installed",
            "-q",
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    work = tmp_path / "work"
    work.mkdir()
    for name in ("theorems", "solvers", "verify"):
        (work / f"{name}.py").write_text(f"raise ImportError('the user\\'s own {name}.py was imported')\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"MPLBACKEND": "Agg"}
    script = (
        "import ratecheck, sys\n"
        "assert ratecheck.__file__.startswith(sys.prefix), ratecheck.__file__\n"
        "assert ratecheck.theorems.__file__.startswith(sys.prefix), ratecheck.theorems.__file__\n"
        "(v,) = ratecheck.check('ef21.means', quick=True)\n"
        "print(v.verdict)\n"
    )
    r = subprocess.run([str(py), "-c", script], cwd=work, capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.strip() == "holds"
    r = subprocess.run(
        [str(env_dir / "bin" / "ratecheck"), "show", "ef21.means"], cwd=work, capture_output=True, text=True, env=env
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert "ef21.means" in r.stdout
    # the wheel ships the catalogue index, current for the installed files: `list` and `show` without sympy
    for args in (["list"], ["show", "ef21.means"]):
        r = subprocess.run(
            [str(py), "-X", "importtime", "-m", "ratecheck", *args], cwd=work, capture_output=True, text=True, env=env
        )
        assert r.returncode == 0 and "ef21.means" in r.stdout, r.stderr[-3000:]
        assert "sympy" not in {line.rsplit("|", 1)[-1].strip() for line in r.stderr.splitlines()}
