"""Rewrite the README catalogue table from a report's verdicts.json.

ratecheck check --all --no-teeth --search --out /tmp/cat && python tools/update_readme_catalogue.py /tmp/cat/verdicts.json
"""

import json
import re
import sys
from pathlib import Path

rows = json.loads(Path(sys.argv[1]).read_text())["summary"]
lines = [
    "| claim | title | provenance | kind | verdict | tightness (default instances) | best tightness found by search |",
    "|---|---|---|---|---|---|---|",
]
for r in rows:
    if "~" in r["claim"]:
        continue
    fmt = lambda t: "–" if t is None else (f"{t:.3g}" if isinstance(t, (int, float)) else str(t))  # noqa: E731
    t = fmt(r["tightness"])
    b = fmt(r.get("best_tightness")) if r.get("search_verdict") else "not searched"
    if r.get("search_verdict") in ("inconclusive", "violated"):
        b += f" ({r['search_verdict']})"
    prov = r["provenance"] + (" *" if r["provenance_note"] else "")
    verdict = r["verdict"] + (" (expected)" if r["expected"] == "violated" and r["verdict"] == "violated" else "")
    lines.append(f"| `{r['claim']}` | {r['title']} | {prov} | {r['kind']} | {verdict} | {t} | {b} |")
readme = Path(__file__).resolve().parents[1] / "README.md"
text = readme.read_text()
new = re.sub(
    r"(<!-- catalogue:start -->\n).*?(\n<!-- catalogue:end -->)",
    lambda m: m.group(1) + "\n".join(lines) + m.group(2),
    text,
    flags=re.S,
)
readme.write_text(new)
print(f"{len(lines) - 2} claims written")
