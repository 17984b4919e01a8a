"""The report people read (verify/report.py): summary first, claims grouped by paper, mathematics as MathML,
teeth shown as caught, search results as a table, and every figure and series link resolving to a file."""

import html.parser
import json
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from ratecheck.verify.cli import main


class _Page(html.parser.HTMLParser):
    """Tags in document order, ids, local links and the classes of badges."""

    def __init__(self):
        super().__init__()
        self.order, self.ids, self.links, self.badges, self.maths = [], [], [], [], 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.order.append((tag, a.get("id"), a.get("class")))
        if a.get("id"):
            self.ids.append(a["id"])
        for key in ("href", "src"):
            if a.get(key) and not a[key].startswith(("#", "http")):
                self.links.append(a[key])
        if tag == "span" and "badge" in (a.get("class") or ""):
            self.badges.append(a["class"])
        self.maths += tag == "math"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("rep") / "report"
    code = main(
        ["check", "ef21.cloning", "ef21.pl-qm", "weiszfeld.hull", "--quick", "--search", "3", "--out", str(out)]
    )
    assert code == 0
    page = _Page()
    page.feed((out / "index.html").read_text())
    return out, page


def test_summary_comes_before_the_claims(report):
    _, page = report
    ids = page.ids
    assert ids.index("summary") < ids.index("claims") < ids.index("ef21.cloning")


def test_claims_are_grouped_by_paper(report):
    out, page = report
    text = (out / "index.html").read_text()
    papers = [i for i in page.ids if i.startswith("paper-")]
    assert len(papers) == 3  # EF21, EF21 reloaded (cloning) and RFA (Weiszfeld)
    assert text.index("id='paper-0'") < text.index("id='ef21.cloning'") < text.index("id='paper-1'")
    assert text.index("id='paper-1'") < text.index("id='ef21.pl-qm'") < text.index("id='paper-2'")


def test_paper_key_drops_the_locator():
    from ratecheck.verify.report import paper_key

    assert paper_key("A, B. Title. NeurIPS 2021, arXiv:2106.05203, Theorem 2; spec EF-6") == (
        "A, B. Title. NeurIPS 2021, arXiv:2106.05203"
    )
    assert paper_key("C. Title. CISS 2021, Theorem 3") == "C. Title. CISS 2021"


def test_statements_are_mathml(report):
    out, page = report
    assert page.maths >= 6
    assert "<math display='block'>" in (out / "index.html").read_text()


def test_teeth_are_shown_as_caught_not_as_failures(report):
    out, page = report
    assert "badge caught" in page.badges
    assert "badge violated" not in page.badges and "badge unexpected" not in page.badges
    md = (out / "report.md").read_text()
    assert "**caught (teeth)**" in md


def test_search_results_are_a_table(report):
    out, _ = report
    text = (out / "index.html").read_text()
    start = text.index("id='search'")
    assert "<table>" in text[start:] and "<pre>" not in text


def test_every_link_resolves_and_every_figure_has_its_series(report):
    out, page = report
    assert page.links
    for link in page.links:
        assert (out / link).is_file(), link
    summary = {r["claim"]: r for r in json.loads((out / "verdicts.json").read_text())["summary"]}
    for cid, r in summary.items():
        if r["figure"]:
            assert (out / r["figure"]).is_file() and (out / r["series"]).is_file(), cid
            assert Path(r["series"]).stem == Path(r["figure"]).stem
        assert r["reproduce"].startswith(f"ratecheck check {shlex.quote(cid)} ")


def test_provenance_notes_and_reproduce_commands_are_visible(report):
    out, _ = report
    text = (out / "index.html").read_text()
    assert "class='prov'" in text and "Reproduce: <code>ratecheck check ef21.pl-qm --no-teeth</code>" in text


def _browser():
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome", "chromium-headless-shell"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.mark.slow
def test_report_renders_in_a_headless_browser(report, tmp_path):
    """Opens index.html in headless Chromium (skipped without one): the screenshot is not blank and the
    browser's DOM has the MathML elements."""
    browser = _browser()
    if browser is None:
        pytest.skip("no headless browser (chromium) on PATH")
    out, _ = report
    shot = tmp_path / "shot.png"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1200,1600"]
    url = (out / "index.html").resolve().as_uri()
    subprocess.run([browser, *flags, f"--screenshot={shot}", url], capture_output=True, timeout=120, check=True)
    import matplotlib.image

    img = matplotlib.image.imread(shot)
    assert img.std() > 0.02  # not a blank page
    dom = subprocess.run([browser, *flags, "--dump-dom", url], capture_output=True, text=True, timeout=120).stdout
    assert "<math" in dom and 'id="summary"' in dom
