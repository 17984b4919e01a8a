"""The documentation generated from the schemas is current, and the project stays self-contained."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_generated_docs_are_current():
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_docs.py"), "--check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_no_file_points_outside_the_repository():
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    bad = []
    for name in files:
        p = ROOT / name
        if p.suffix not in (".py", ".md", ".ipynb", ".toml", ".txt", ".cfg", "") or not p.is_file():
            continue
        text = p.read_text(errors="replace")
        for needle in ("../shared", "shared/specs", "``specs/", "`specs/", "spec `specs"):
            if needle in text and name != "tests/test_docs.py":
                bad.append(f"{name}: {needle}")
    assert not bad, bad


def test_readme_documents_the_contract_commands():
    text = (ROOT / "README.md").read_text()
    for needle in ("ratecheck experiments", "ratecheck describe", "docs/experiments.md", "docs/symbols.md"):
        assert needle in text, needle
