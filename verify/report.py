"""Reports: ``index.html``, ``report.md``, ``verdicts.json``, and per claim its figure (PNG) and series (CSV), written atomically.

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
import shlex
import shutil
from pathlib import Path

import numpy as np
import sympy as sp

from ratecheck import theorems
from ratecheck.theorems import Kind

from . import experiments as _exps
from .figures import ClaimFigure, draw_all, telling
from .outputs import replace_dir
from .searching import catalogue_markdown
from .verdict import HOLDS, INCONCLUSIVE, VIOLATED, Verdict, summarize

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
    worst_case_rows: list | None = None,
    records=None,
    claims=None,
    progress=None,
    workers: int = 2,
    drawn=None,
) -> Path:
    """Write the report for ``verdicts`` into ``out`` atomically and return its path.

    Per claim with a series: its figure (``<claim>.png``, :func:`verify.figures.claim_figure`) and its series
    (``<claim>.csv``, :func:`verify.figures.series_csv`) beside it.  ``extra_figures`` is a list of writers
    ``f(tmpdir) -> [(file name, caption)]`` (an experiment's own figures).  All figures are drawn by
    :func:`verify.figures.draw_all` (``workers`` processes); ``progress(i, n)`` is called as they finish.
    ``claims`` are the claim objects checked (needed for claims that are not registered, e.g. from a
    user's file or claim file, whose statement the report shows as written).  ``drawn`` maps a claim id to
    ``(folder, {"figure": name, "series": name})`` for claims whose figure and series were drawn already
    (by ``check --jobs N`` workers, while the claims ran): those files are moved in, not drawn again.
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
            worst_case_rows=worst_case_rows,
            records=records,
            progress=progress,
            workers=workers,
            drawn=drawn or {},
        )
    finally:
        _CLAIMS.reset(token)


def safe_name(cid: str) -> str:
    """The file name stem of a claim's figure and series in a report (``~`` and ``/`` replaced)."""
    return cid.replace("~", "__").replace("/", "_")


_safe = safe_name


def _write_report(
    verdicts, out, *, extra_figures, title, command, search_rows, worst_case_rows, records, progress, workers, drawn
) -> Path:
    with replace_dir(out, "report") as tmp:
        rows = summarize(verdicts)
        by: dict[str, list] = {}
        for v in verdicts:
            by.setdefault(v.claim, []).append(v)
        tasks, moved = [], {}
        for cid, vs in by.items():
            if cid in drawn:
                src, names = drawn[cid]
                for key in ("figure", "series"):
                    if names[key] is not None:
                        shutil.move(os.path.join(src, names[key]), os.path.join(tmp, names[key]))
                moved[cid] = (names["figure"], names["series"])
            elif telling(vs) is not None:
                claim = _CLAIMS.get().get(cid)
                tasks.append(ClaimFigure(cid, vs, _safe(cid), claim))
        tasks += list(extra_figures or [])
        files, extra = draw_all(tasks, tmp, workers=workers, progress=progress)
        files.update(moved)
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        best = {r["claim"]: r for r in search_rows or []}
        for r in rows:
            if r["claim"] in best:
                r["best_tightness"] = best[r["claim"]]["best_tightness"]
                r["search_verdict"] = best[r["claim"]]["search_verdict"]
            fig, ser = files.get(r["claim"], (None, None))
            r["figure"], r["series"] = fig, ser
            r["reproduce"] = _reproduce(r["claim"], by[r["claim"]])
        payload = {
            "generated": stamp,
            "command": command,
            "summary": rows,
            "verdicts": [v.to_dict() for v in verdicts],
            "search": search_rows or [],
            "worst_case": worst_case_rows or [],
        }
        (tmp / "verdicts.json").write_text(json.dumps(payload, indent=1, default=float))
        defaults = {name: e.defaults for name, e in _exps.all_experiments().items()}
        md = _markdown(verdicts, rows, extra, defaults, stamp, title, command)
        page = _html(verdicts, rows, extra, defaults, stamp, title, command, search_rows)
        if search_rows:
            md += "\n\n## Tightness found by counterexample search\n\n" + catalogue_markdown(search_rows)
        if worst_case_rows:
            md += "\n\n" + worst_case_markdown(worst_case_rows)
            page = page.replace("</body></html>", _worst_case_html(worst_case_rows) + "</body></html>")
        (tmp / "report.md").write_text(md)
        (tmp / "index.html").write_text(page)
        if records is not None and any(Path(records).glob("*.json")):  # counterexample records of --search
            shutil.copytree(records, tmp / "counterexamples", ignore=shutil.ignore_patterns(".*"))
    return Path(out)


def _reproduce(cid: str, vs: list) -> str:
    """The command that reproduces a claim's verdicts: its default instances, or its one instance."""
    claim = _claim_meta(cid)
    try:
        registered = theorems.get(cid) is claim
    except theorems.ClaimError:
        registered = False
    target = shlex.quote(cid) if registered else f"--claim FILE:{shlex.quote(cid)}"
    seed = vs[0].seed if vs else 0
    cmd = f"ratecheck check {target} --no-teeth" + (f" --seed {seed}" if seed else "")
    if registered and claim.measure:
        try:
            exp = _exps.get(claim.experiment)
            default = [dict(exp.params(p)) for p in exp.instances(claim)]
        except Exception:  # an instance list that cannot be rebuilt here: the default command
            default = None
        if default is not None and len(vs) == 1 and [vs[0].instance] != default:
            diff = {k: x for k, x in vs[0].instance.items() if exp.defaults.get(k, object()) != x}
            cmd += "".join(f" --param {shlex.quote(f'{k}={_param_text(x)}')}" for k, x in diff.items())
    return cmd


def _param_text(x) -> str:
    return json.dumps(x) if isinstance(x, (list, tuple, dict)) else str(x)


_CLAIMS: contextvars.ContextVar = contextvars.ContextVar("ratecheck_report_claims", default={})


def _claim_meta(cid: str):
    known = _CLAIMS.get()
    if cid in known:
        return known[cid]
    try:
        return theorems.get(cid)
    except theorems.ClaimError:
        return None


_LOCATOR = re.compile(
    r",\s*(?:Thm|Theorem|Lemma|Claim|Cor\.?|Corollary|Step|Eq\.?|Prop\.?|Proposition|Section|Sec\.|spec|Appendix|slide)\b"
)


def paper_key(paper: str) -> str:
    """The paper a claim's reference names, without the locator (theorem, equation, spec item): the text up to
    its arXiv id, else up to the first locator."""
    m = re.match(r"^(.*?arXiv:\s*\d{4}\.\d{4,5})", paper or "")
    if m:
        return m.group(1)
    return _LOCATOR.split(paper or "")[0].strip() or "(no paper)"


def _groups(rows) -> dict[str, list[dict]]:
    """Claim rows by paper (papers with an unexpected claim first), unexpected claims first in each."""
    papers: dict[str, list[dict]] = {}
    for r in rows:
        papers.setdefault(paper_key(r["paper"]), []).append(r)
    order = sorted(papers, key=lambda k: (not any(r["unexpected"] for r in papers[k]), list(papers).index(k)))
    return {k: sorted(papers[k], key=lambda r: not r["unexpected"]) for k in order}


def _counts(rows) -> dict:
    """Counts of one group of claim rows: claims, holds, teeth caught, inconclusive, unexpected."""
    teeth = [r for r in rows if r["expected"] == VIOLATED]
    return {
        "claims": len(rows) - len(teeth),
        "holds": sum(r["verdict"] == HOLDS and r["expected"] != VIOLATED for r in rows),
        "teeth caught": sum(bool(r["caught"]) for r in teeth),
        "teeth": len(teeth),
        "inconclusive": sum(r["verdict"] == INCONCLUSIVE for r in rows),
        "unexpected": sum(bool(r["unexpected"]) for r in rows),
    }


def _status(r) -> str:
    """What a reader should take from a claim row: holds / violated / caught (teeth) / NOT caught / inconclusive."""
    if r["expected"] == VIOLATED:
        return "caught (teeth)" if r["caught"] else f"teeth not caught ({r['verdict']})"
    return r["verdict"]


def _markdown(verdicts, rows, extra, defaults, stamp, title, command) -> str:
    L = [f"# {_md(title)}", "", f"Generated {stamp}" + (f" by {_code(command)}" if command else "") + ".", ""]
    total = _counts(rows)
    L.append(
        f"**{total['claims']} claims ({total['holds']} hold), {total['teeth caught']} of {total['teeth']} teeth "
        f"caught, {total['inconclusive']} inconclusive, {total['unexpected']} unexpected; {len(verdicts)} verdicts.** "
        "Tightness = max over the grid of measured/bound (lower bounds: bound/measured); "
        "a teeth variant is a deliberately wrong claim that must be reported violated (caught)."
    )
    L += [
        "",
        "## Summary",
        "",
        "| paper | claims | hold | teeth caught | inconclusive | unexpected |",
        "|---|---|---|---|---|---|",
    ]
    groups = _groups(rows)
    for paper, rs in groups.items():
        c = _counts(rs)
        L.append(
            f"| {_md(paper)} | {c['claims']} | {c['holds']} | {c['teeth caught']}/{c['teeth']} | "
            f"{c['inconclusive']} | {c['unexpected']} |"
        )
    L += [
        "",
        "| claim | provenance | kind | verdict | expected | tightness | instances |",
        "|---|---|---|---|---|---|---|",
    ]
    for rs in groups.values():
        for r in rs:
            flag = " ⚠" if r["unexpected"] else ""
            L.append(
                f"| {_code(r['claim'], table=True)} | {_md(r['provenance'])} | {_md(r['kind'])} | "
                f"**{_md(_status(r))}**{flag} | {_md(r['expected'])} | {_fmt_t(r)} | {_md(r['instances'])} |"
            )
    L += ["", "## Claims", ""]
    for paper, rs in groups.items():
        L += [f"## {_md(paper)}", ""]
        for r in rs:
            c = _claim_meta(r["claim"])
            L += [
                f"### {_code(r['claim'])} — {_md(r['title'])}",
                "",
                f"- Paper: {_md(r['paper'])}",
                f"- Provenance: **[{_md(r['provenance'])}]**"
                + (f" — {_md(r['provenance_note'])}" if r["provenance_note"] else ""),
                f"- Outcome: **{_md(_status(r))}** (expected {_md(r['expected'])}), max tightness {_fmt_t(r)}",
                f"- Reproduce: {_code(r['reproduce'])}",
            ]
            if r.get("figure") or r.get("series"):
                links = [
                    f"[figure]({r['figure']})" if r.get("figure") else "",
                    f"[series (CSV)]({r['series']})" if r.get("series") else "",
                ]
                L.append("- Files: " + ", ".join(x for x in links if x))
            if c is not None:
                if c.expected_to_fail:
                    L.append(f"- Expected to fail: {_md(c.expected_to_fail)}")
                L.append(f"- Statement{' (as written)' if c.source_latex else ''}: $${c.latex(source=True)}$$")
            L += ["", "| instance | seed | verdict | tightness | method | detail |", "|---|---|---|---|---|---|"]
            for v in verdicts:
                if v.claim != r["claim"]:
                    continue
                d = defaults.get(c.experiment if c else "", {})
                L.append(
                    f"| {_md(_instance_diff(v.instance, d))} | {v.seed} | {_md(v.verdict)} | {_fmt_t(v.tightness)} | "
                    f"{_md(v.method)} | {_md(v.detail)} |"
                )
            if r.get("figure"):
                L += ["", f"![{_md(r['claim'])}]({r['figure']})"]
            L.append("")
    if extra:
        L += ["## Experiment figures", ""]
        for fname, cap in extra:
            L += [f"![{_md(cap)}]({fname})", "", f"*{_md(cap)}*", ""]
    return "\n".join(L)


# --------------------------------------------------------------------------- HTML
_CSS = (
    "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;line-height:1.45}"
    "table{border-collapse:collapse;font-size:13px;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 6px;"
    "vertical-align:top;text-align:left}code{background:#f4f4f4;padding:0 2px}img{max-width:100%}"
    ".badge{display:inline-block;padding:1px 8px;border-radius:9px;font-size:12px;font-weight:600;color:#fff}"
    ".holds{background:#1b7837}.caught{background:#4d6a8a}.violated,.unexpected{background:#b2182b}"
    ".inconclusive{background:#e08214}.un{background:#fde0dd}.prov{color:#555;font-size:13px}"
    ".claim{border-top:1px solid #ddd;padding-top:.5em;margin-top:1.5em}.cmd{font-size:12px}"
    "math{font-size:1.1em}.stmt{margin:.3em 0 .3em 1em}nav a{margin-right:.8em}"
)


def _badge(r) -> str:
    s = _status(r)
    cls = "caught" if s == "caught (teeth)" else ("unexpected" if r["unexpected"] else s.split()[0])
    text = s + (" — UNEXPECTED" if r["unexpected"] else "")
    return f"<span class='badge {html.escape(cls)}'>{html.escape(text)}</span>"


def _html(verdicts, rows, extra, defaults, stamp, title, command, search_rows=None) -> str:
    e = html.escape
    groups = _groups(rows)
    total = _counts(rows)
    H = [
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{e(title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{e(title)}</h1><p>Generated {e(stamp)}" + (f" by <code>{e(command)}</code>" if command else "") + ".</p>",
        "<section id='summary'><h2>Summary</h2>",
        f"<p><b>{total['claims']} claims ({total['holds']} hold), {total['teeth caught']} of {total['teeth']} teeth "
        f"caught, {total['inconclusive']} inconclusive, {total['unexpected']} unexpected</b>; {len(verdicts)} verdicts. "
        "A teeth variant is a deliberately wrong claim: it is <i>caught</i> when reported violated, as intended. "
        "Tightness = max over the grid of measured/bound (lower bounds: bound/measured).</p>",
    ]
    un = [r for r in rows if r["unexpected"]]
    if un:
        H.append(
            "<p><b>Unexpected:</b> "
            + ", ".join(f"<a href='#{e(r['claim'])}'><code>{e(r['claim'])}</code></a> ({e(_status(r))})" for r in un)
            + "</p>"
        )
    H.append(
        "<table><tr><th>paper</th><th>claims</th><th>hold</th><th>teeth caught</th><th>inconclusive</th>"
        "<th>unexpected</th></tr>"
    )
    for i, (paper, rs) in enumerate(groups.items()):
        c = _counts(rs)
        H.append(
            f"<tr class='{'un' if c['unexpected'] else ''}'><td><a href='#paper-{i}'>{e(paper)}</a></td>"
            f"<td>{c['claims']}</td><td>{c['holds']}</td><td>{c['teeth caught']}/{c['teeth']}</td>"
            f"<td>{c['inconclusive']}</td><td>{c['unexpected']}</td></tr>"
        )
    H.append("</table>")
    nav = ["<a href='#claims'>claims by paper</a>"]
    if search_rows:
        nav.append("<a href='#search'>search results</a>")
    if extra:
        nav.append("<a href='#experiment-figures'>experiment figures</a>")
    H.append("<nav>" + "".join(nav) + "</nav></section>")
    H.append("<section id='claims'><h2>Claims by paper</h2>")
    for i, (paper, rs) in enumerate(groups.items()):
        H.append(f"<h2 id='paper-{i}'>{e(paper)}</h2>")
        for r in rs:
            H.append(_claim_html(r, verdicts, defaults))
    H.append("</section>")
    if search_rows:
        H.append(_search_html(search_rows))
    if extra:
        H.append("<section id='experiment-figures'><h2>Experiment figures</h2>")
        for fname, cap in extra:
            H.append(f"<figure><img src='{e(fname)}' alt='{e(cap)}'><figcaption>{e(cap)}</figcaption></figure>")
        H.append("</section>")
    H.append("</body></html>")
    return "\n".join(H)


def _claim_html(r, verdicts, defaults) -> str:
    e = html.escape
    c = _claim_meta(r["claim"])
    H = [
        f"<section class='claim' id='{e(r['claim'])}'><h3><code>{e(r['claim'])}</code> — {e(r['title'])} {_badge(r)}</h3>",
        f"<p class='prov'>[{e(r['provenance'])}] {e(r['provenance_note'])}</p>",
        f"<p>Expected {e(r['expected'])}; max tightness {e(_fmt_t(r))}; {r['instances']} instance(s).",
    ]
    if c is not None and c.expected_to_fail:
        H.append(f" Expected to fail: {e(c.expected_to_fail)}.")
    H.append("</p>")
    if c is not None:
        H.append(f"<div class='stmt'>{statement_mathml(c)}</div>")
        if c.source_latex:
            H.append(f"<p class='prov'>As written: <code>{e(c.latex(source=True))}</code></p>")
    H.append(f"<p class='cmd'>Reproduce: <code>{e(r['reproduce'])}</code>")
    links = []
    if r.get("figure"):
        links.append(f"<a href='{e(r['figure'])}'>figure</a>")
    if r.get("series"):
        links.append(f"<a href='{e(r['series'])}'>series (CSV)</a>")
    if links:
        H.append(" · " + " · ".join(links))
    H.append("</p>")
    H.append(
        "<table><tr><th>instance</th><th>seed</th><th>verdict</th><th>tightness</th><th>method</th><th>detail</th></tr>"
    )
    d = defaults.get(c.experiment if c else "", {})
    for v in verdicts:
        if v.claim != r["claim"]:
            continue
        H.append(
            f"<tr><td>{e(_instance_diff(v.instance, d))}</td><td>{v.seed}</td><td>{e(v.verdict)}</td>"
            f"<td>{e(_fmt_t(v.tightness))}</td><td>{e(v.method)}</td><td>{e(v.detail)}</td></tr>"
        )
    H.append("</table>")
    if r.get("figure"):
        H.append(f"<img src='{e(r['figure'])}' alt='{e(r['claim'])}: measured against the bound'>")
    H.append("</section>")
    return "".join(H)


def _search_html(rows) -> str:
    e = html.escape
    H = [
        "<section id='search'><h2>Tightness found by counterexample search</h2>",
        "<table><tr><th>claim</th><th>default verdict</th><th>default tightness</th><th>search verdict</th>"
        "<th>best tightness</th><th>found on (instance, seed)</th><th>runs</th></tr>",
    ]
    for r in rows:
        where = "–"
        if r.get("best_point") is not None:
            inst = r["best_changes"] if r.get("best_changes") is not None else r["best_point"]
            where = ", ".join(f"{k}={_fmt_t(v) if isinstance(v, float) else v}" for k, v in inst.items()) or "defaults"
            where += f"; seed {r['best_seed']}"
        sv = e(r.get("search_verdict") or f"not searched ({r.get('note', '')})")
        cx = r.get("counterexample")
        if cx:
            sv += f" (<a href='counterexamples/{e(Path(cx).name)}'>record</a>)"
        H.append(
            f"<tr class='{'un' if r.get('unexpected') else ''}'><td><a href='#{e(r['claim'])}'><code>{e(r['claim'])}</code></a></td>"
            f"<td>{e(str(r.get('default_verdict')))}</td><td>{e(_fmt_t(r.get('default_tightness')))}</td>"
            f"<td>{sv}</td><td>{e(_fmt_t(r.get('best_tightness')))}</td>"
            f"<td>{e(where)}</td><td>{r.get('runs', '')}</td></tr>"
        )
    H.append("</table></section>")
    return "".join(H)


# --------------------------------------------------------------------------- MathML
def _mathml(expr) -> str:
    return sp.mathml(expr, printer="presentation")


def _measure_mrow(c) -> str:
    name = html.escape(c.measure or "measured")
    e = "<mi mathvariant='double-struck'>E</mi><mspace width='0.2em'/>" if c.in_expectation else ""
    return f"<mrow>{e}<mtext>{name}</mtext></mrow>"


def statement_mathml(c) -> str:
    """A claim's statement as presentation MathML (sympy's printer; no network, no script): the stepsize
    rule, the bound (or the scaling law), the identities, then the assumptions.  A part sympy cannot print
    is shown as its LaTeX in ``<code>``."""
    parts = []

    def add(build):
        try:
            parts.append(f"<math display='block'>{build()}</math>")
        except Exception:  # a user's expression sympy cannot print: its LaTeX as text
            parts.append(f"<code>{html.escape(c.latex(source=True))}</code>")

    if c.stepsize is not None:
        add(lambda: f"<mrow><mi>&#947;</mi><mo>&#x2264;</mo>{_mathml(c.stepsize)}</mrow>")
    if c.kind is Kind.SCALING and c.exponent is not None:
        law = sp.Symbol(c.scaling_in) ** c.exponent if c.scaling_in else c.exponent
        add(lambda: f"<mrow>{_measure_mrow(c)}<mo>&#x221D;</mo>{_mathml(law)}</mrow>")
    elif c.bound is not None:
        rel = "&#x2265;" if c.kind is Kind.LOWER else "&#x2264;"
        add(lambda: f"<mrow>{_measure_mrow(c)}<mo>{rel}</mo>{_mathml(c.bound)}</mrow>")
    for idt in c.identities:
        add(lambda idt=idt: _mathml(idt.relation))
    if c.assumptions:
        add(
            lambda: (
                "<mrow><mtext>assuming&#160;</mtext>" + "<mo>,</mo>".join(_mathml(a) for a in c.assumptions) + "</mrow>"
            )
        )
    return "".join(parts)


# --------------------------------------------------------------------------- worst case over the class (PEP)
_WC_INTRO = (
    "Worst case over the claim's class (performance estimation, PEP): W_pep = sup measure/bound over the class "
    "at the horizons T shown, by kind — *exact* (interpolation conditions: <= 1 certifies, > 1 refutes), *upper* "
    "(a relaxation: <= 1 certifies), *lower* (a subclass: > 1 refutes). W_emp is measured on instances **in the "
    "PEP's class** (single node, same constants); the check's tightness is over the experiment's own instances, "
    "which may lie outside it (e.g. n >= 2 clients), so it is shown for reference only. Proof looseness = 1/W_pep, "
    "search gap = W_emp/W_pep (W_pep: the lower/exact value when there is one)."
)


def _wc_fmt(v) -> str:
    return "-" if v is None or (isinstance(v, float) and v != v) else f"{v:.4g}"


def _wc_cells(r) -> list[str]:
    pep = "; ".join(f"{_wc_fmt(v)} ({k})" for k, v in r["pep"].items())
    tr = r.get("tight_rate")
    rate = (
        f"{_wc_fmt(tr['claim_rate'])} vs {_wc_fmt(tr['tight_rate'])} (x{_wc_fmt(tr['iterations_factor'])})"
        if tr
        else "-"
    )
    return [
        r["claim"],
        ", ".join(map(str, r["T"])),
        _wc_fmt(r.get("check_tightness")),
        _wc_fmt(r["empirical"]),
        pep,
        "1",
        _wc_fmt(r["proof_looseness"]),
        _wc_fmt(r["search_gap"]),
        rate,
        r["verdict"],
    ]


_WC_HEAD = [
    "claim",
    "T",
    "check tightness",
    "W_emp (in class)",
    "W_pep (kind)",
    "claim",
    "proof looseness",
    "search gap",
    "rate/step: claim vs tight (iterations x)",
    "PEP verdict",
]


def worst_case_markdown(rows) -> str:
    """The worst-case section of ``report.md``."""
    L = ["## Worst case over the class (PEP)", "", _WC_INTRO, ""]
    L.append("| " + " | ".join(_WC_HEAD) + " |")
    L.append("|" + "---|" * len(_WC_HEAD))
    for r in rows:
        L.append("| " + " | ".join(_md(c) for c in _wc_cells(r)) + " |")
    return "\n".join(L)


def _worst_case_html(rows) -> str:
    e = html.escape
    H = ["<section id='worst-case'><h2>Worst case over the class (PEP)</h2>", f"<p>{e(_WC_INTRO)}</p><table><tr>"]
    H.append("".join(f"<th>{e(h)}</th>" for h in _WC_HEAD) + "</tr>")
    for r in rows:
        H.append("<tr>" + "".join(f"<td>{e(c)}</td>" for c in _wc_cells(r)) + "</tr>")
    H.append("</table></section>")
    return "".join(H)
