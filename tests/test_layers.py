"""verify/ is in layers with no import cycle, and theorems/solvers stay independent (import-linter
contracts in pyproject.toml)."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept():
    exe = shutil.which("lint-imports")
    if exe is None:
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    r = subprocess.run(
        [exe, "--config", str(ROOT / "pyproject.toml")], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]


def test_pyarrow_requirement_excludes_unsafe_14_0_0():
    """pyarrow 14.0.0 and older deserialize untrusted IPC/Parquet files unsafely (CVE-2023-47248): the
    results-store extra must require 14.0.1 or newer."""
    import re

    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    reqs = [r for deps in extras.values() for r in deps if re.match(r"pyarrow\b", r)]
    assert reqs, "no extra requires pyarrow"
    for r in reqs:
        m = re.fullmatch(r"pyarrow\s*>=\s*([0-9.]+)", r)
        assert m, r
        assert tuple(int(x) for x in m.group(1).split(".")) >= (14, 0, 1), r
