"""Reports: ``index.html``, ``report.md``, ``verdicts.json`` and one PNG per plot, written atomically.

Everything is first written into a temporary sibling directory of ``--out``; only when every
file is complete is the directory moved into place (an existing report is replaced whole), so an
interrupted or failing run never leaves a half-written report behind.
"""

from __future__ import annotations

import contextvars
import datetime as _dt
import html
import json
import os
import re
import shutil
from pathlib import Path

import numpy as np

from ratecheck import theorems

from .outputs import replace_dir
from .verdict import Verdict, summarize

__all__ = ["write_report", "summarize"]


def _fmt_t(t) -> str:
    """Tightness as text: a number, ``∞`` (unbounded), or ``–`` (no ratio)."""
    if isinstance(t, dict):  # a claim-level row: tightness is null with a note when unbounded
        return "∞" if t["tightness_note"].startswith("unbounded") else _fmt_t(t["tightness"])
    if t is None:
        return "–"
    if not np.isfinite(t):
        return "∞"
    return f"{t:.3g}"


def _md(text) -> str:
    """Text for report.md: one line, with what Markdown would render as HTML (``<``, ``>``, ``&``) written as
    entities and table pipes escaped (a title like ``a <b> | c`` shows as written and keeps its table cell)."""
    t = " ".join(str(text).split())
    return t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")


def _code(text, table: bool = False) -> str:
    """A Markdown code span showing ``text`` literally (fenced by more backticks than it contains)."""
    t = " ".join(str(text).split())
    if table:
        t = t.replace("|", "\\|")  # GFM splits table cells at a pipe even inside a code span
    fence = "`" * (max((len(run) for run in re.findall("`+", t)), default=0) + 1)
    pad = " " if t.startswith("`") or t.endswith("`") or not t else ""
    return f"{fence}{pad}{t}{pad}{fence}"


def _instance_diff(inst: dict, defaults: dict) -> str:
    diff = {k: v for k, v in inst.items() if defaults.get(k, object()) != v}
    return ", ".join(f"{k}={v}" for k, v in diff.items()) or "defaults"


def write_report(
    verdicts: list[Verdict],
    out: str | os.PathLike,
    *,
    extra_figures=None,
    title: str = "ratecheck report",
    command: str = "",
    search_rows: list | None = None,
    records=None,
    claims=None,
) -> Path:
    """Write the report for ``verdicts`` into ``out`` atomically and return its path.

    ``extra_figures`` is a list of ``(png path written in a scratch dir or None, caption, writer)``;
    a writer ``f(tmpdir) -> [(file name, caption)]`` lets experiments draw into the report.
    ``claims`` are the claim objects checked (needed for claims that are not registered, e.g. from a
    user's file or claim file, whose statement the report shows as written).
    """
    token = _CLAIMS.set({c.id: c for c in claims or ()})
    try:
        return _write_report(
            verdicts,
            out,
            extra_figures=extra_figures,
            title=title,
            command=command,
            search_rows=search_rows,
            records=records,
        )
    finally:
        _CLAIMS.reset(token)


def _write_report(verdicts, out, *, extra_figures, title, command, search_rows, records) -> Path:
    from . import experiments as _exps
    from .plots import plot_verdict

    with replace_dir(out, "report") as tmp:
        rows = summarize(verdicts)
        figs: dict[int, str] = {}
        for cid in dict.fromkeys(v.claim for v in verdicts):  # one plot per claim: its most telling instance
            idx = [
                i
                for i, v in enumerate(verdicts)
                if v.claim == cid and v.evidence is not None and v.evidence.measured.size
            ]
            if not idx:
                continue
            i = max(idx, key=lambda j: (verdicts[j].verdict == "violated", verdicts[j].tightness or 0.0))
            name = f"{cid.replace('~', '__').replace('/', '_')}.png"
            plot_verdict(verdicts[i], tmp / name)
            figs[i] = name
        extra = []
        for writer in extra_figures or []:
            extra.extend(writer(tmp))
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        best = {r["claim"]: r for r in search_rows or []}
        for r in rows:
            if r["claim"] in best:
                r["best_tightness"] = best[r["claim"]]["best_tightness"]
                r["search_verdict"] = best[r["claim"]]["search_verdict"]
        payload = {
            "generated": stamp,
            "command": command,
            "summary": rows,
            "verdicts": [v.to_dict() for v in verdicts],
            "search": search_rows or [],
        }
        (tmp / "verdicts.json").write_text(json.dumps(payload, indent=1))
        defaults = {name: e.defaults for name, e in _exps.all_experiments().items()}
        md = _markdown(verdicts, rows, figs, extra, defaults, stamp, title, command)
        page = _html(verdicts, rows, figs, extra, defaults, stamp, title, command)
        if search_rows:
            from .searching import catalogue_markdown

            cat = catalogue_markdown(search_rows)
            md += "\n\n## Tightness found by counterexample search\n\n" + cat
            page = page.replace(
                "</body></html>",
                "<h2>Tightness found by counterexample search</h2><pre>" + html.escape(cat) + "</pre></body></html>",
            )
        (tmp / "report.md").write_text(md)
        (tmp / "index.html").write_text(page)
        if records is not None and any(Path(records).glob("*.json")):  # counterexample records of --search
            shutil.copytree(records, tmp / "counterexamples", ignore=shutil.ignore_patterns(".*"))
    return Path(out)


_CLAIMS: contextvars.ContextVar = contextvars.ContextVar("ratecheck_report_claims", default={})


def _claim_meta(cid: str):
    known = _CLAIMS.get()
    if cid in known:
        return known[cid]
    try:
        return theorems.get(cid)
    except theorems.ClaimError:
        return None


def _markdown(verdicts, rows, figs, extra, defaults, stamp, title, command) -> str:
    L = [f"# {_md(title)}", "", f"Generated {stamp}" + (f" by {_code(command)}" if command else "") + ".", ""]
    n_un = sum(r["unexpected"] for r in rows)
    L.append(
        f"**{len(rows)} claims, {len(verdicts)} verdicts, {n_un} unexpected.** "
        "Tightness = max over the grid of measured/bound (lower bounds: bound/measured); "
        "a teeth variant is a deliberately wrong claim that must be reported violated."
    )
    L += [
        "",
        "| claim | provenance | kind | verdict | expected | tightness | instances |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        flag = " ⚠" if r["unexpected"] else ""
        L.append(
            f"| {_code(r['claim'], table=True)} | {_md(r['provenance'])} | {_md(r['kind'])} | "
            f"**{_md(r['verdict'])}**{flag} | {_md(r['expected'])} | {_fmt_t(r)} | {_md(r['instances'])} |"
        )
    for fname, cap in extra:
        L += ["", f"![{_md(cap)}]({fname})", "", f"*{_md(cap)}*"]
    L += ["", "## Claims", ""]
    for r in rows:
        c = _claim_meta(r["claim"])
        L += [
            f"### {_code(r['claim'])} — {_md(r['title'])}",
            "",
            f"- Paper: {_md(r['paper'])}",
            f"- Provenance: **[{_md(r['provenance'])}]**"
            + (f" — {_md(r['provenance_note'])}" if r["provenance_note"] else ""),
            f"- Outcome: **{_md(r['verdict'])}** (expected {_md(r['expected'])}), max tightness {_fmt_t(r)}",
        ]
        if c is not None:
            if c.expected_to_fail:
                L.append(f"- Expected to fail: {_md(c.expected_to_fail)}")
            L.append(f"- Statement{' (as written)' if c.source_latex else ''}: $${c.latex(source=True)}$$")
        L += ["", "| instance | seed | verdict | tightness | method | detail |", "|---|---|---|---|---|---|"]
        for i, v in enumerate(verdicts):
            if v.claim != r["claim"]:
                continue
            d = defaults.get(_claim_meta(v.claim).experiment if _claim_meta(v.claim) else "", {})
            L.append(
                f"| {_md(_instance_diff(v.instance, d))} | {v.seed} | {_md(v.verdict)} | {_fmt_t(v.tightness)} | "
                f"{_md(v.method)} | {_md(v.detail)} |"
            )
        for i, v in enumerate(verdicts):
            if v.claim == r["claim"] and i in figs:
                L += ["", f"![{_md(v.claim)}]({figs[i]})"]
                break
        L.append("")
    return "\n".join(L)


def _html(verdicts, rows, figs, extra, defaults, stamp, title, command) -> str:
    e = html.escape
    color = {"holds": "#1b7837", "violated": "#b2182b", "inconclusive": "#e08214"}
    H = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{e(title)}</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
        "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;vertical-align:top}"
        "code{background:#f4f4f4}.un{background:#fde0dd}img{max-width:100%}</style></head><body>",
        f"<h1>{e(title)}</h1><p>Generated {e(stamp)}" + (f" by <code>{e(command)}</code>" if command else "") + ".</p>",
        f"<p><b>{len(rows)} claims, {len(verdicts)} verdicts, {sum(r['unexpected'] for r in rows)} unexpected.</b> "
        "Tightness = max over the grid of measured/bound (lower bounds: bound/measured).</p>",
        "<table><tr><th>claim</th><th>provenance</th><th>kind</th><th>verdict</th><th>expected</th><th>tightness</th><th>instances</th></tr>",
    ]
    for r in rows:
        H.append(
            f"<tr class='{'un' if r['unexpected'] else ''}'><td><a href='#{e(r['claim'])}'><code>{e(r['claim'])}</code></a></td>"
            f"<td>{e(r['provenance'])}</td><td>{e(r['kind'])}</td>"
            f"<td style='color:{color.get(r['verdict'], '#000')}'><b>{e(r['verdict'])}</b></td><td>{e(r['expected'])}</td>"
            f"<td>{e(_fmt_t(r))}</td><td>{r['instances']}</td></tr>"
        )
    H.append("</table>")
    for fname, cap in extra:
        H.append(f"<figure><img src='{e(fname)}'><figcaption>{e(cap)}</figcaption></figure>")
    for r in rows:
        c = _claim_meta(r["claim"])
        H.append(
            f"<h3 id='{e(r['claim'])}'><code>{e(r['claim'])}</code> — {e(r['title'])}</h3><ul>"
            f"<li>Paper: {e(r['paper'])}</li><li>Provenance: <b>[{e(r['provenance'])}]</b> {e(r['provenance_note'])}</li>"
            f"<li>Outcome: <b>{e(r['verdict'])}</b> (expected {e(r['expected'])}), max tightness {e(_fmt_t(r))}</li>"
        )
        if c is not None:
            if c.expected_to_fail:
                H.append(f"<li>Expected to fail: {e(c.expected_to_fail)}</li>")
            H.append(
                f"<li>Statement{' (as written)' if c.source_latex else ''}: <code>{e(c.latex(source=True))}</code></li>"
            )
        H.append(
            "</ul><table><tr><th>instance</th><th>seed</th><th>verdict</th><th>tightness</th><th>method</th><th>detail</th></tr>"
        )
        first_fig = None
        for i, v in enumerate(verdicts):
            if v.claim != r["claim"]:
                continue
            d = defaults.get(c.experiment if c else "", {})
            H.append(
                f"<tr><td>{e(_instance_diff(v.instance, d))}</td><td>{v.seed}</td><td>{e(v.verdict)}</td>"
                f"<td>{e(_fmt_t(v.tightness))}</td><td>{e(v.method)}</td><td>{e(v.detail)}</td></tr>"
            )
            if first_fig is None and i in figs:
                first_fig = figs[i]
        H.append("</table>")
        if first_fig:
            H.append(f"<img src='{e(first_fig)}'>")
    H.append("</body></html>")
    return "\n".join(H)
