"""Write docs/experiments.md and docs/symbols.md from the experiments' declared schemas, and the catalogue
index theorems/catalogue_index.json from the claims (what ``ratecheck list`` and ``show`` print without
importing sympy while the index is current: ``verify/catalogue.py``).

``python tools/gen_docs.py`` rewrites the three files; ``python tools/gen_docs.py --check`` exits 1 when
one is stale (tests/test_docs.py runs the same comparison).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's packages, not an installed copy


def generated() -> dict[Path, str]:
    """``{path: content}`` of every generated documentation file."""
    from ratecheck.verify.catalogue import INDEX_NAME, index_text
    from ratecheck.verify.describe import experiments_markdown, symbols_markdown

    return {
        ROOT / "docs" / "experiments.md": experiments_markdown(),
        ROOT / "docs" / "symbols.md": symbols_markdown(),
        ROOT / "theorems" / INDEX_NAME: index_text(),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only report stale files (exit 1)")
    a = ap.parse_args(argv)
    files = generated()
    stale = [p for p, text in files.items() if not p.is_file() or p.read_text(encoding="utf-8") != text]
    if a.check:
        for p in stale:
            print(f"stale: {p.relative_to(ROOT)} (run python tools/gen_docs.py)")
        return 1 if stale else 0
    for p in stale:  # the others are left untouched
        text = files[p]
        tmp = p.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(p)
        print(f"wrote {p.relative_to(ROOT)}")
    if not stale:
        print("every generated file is current")
    return 0


if __name__ == "__main__":
    sys.exit(main())
