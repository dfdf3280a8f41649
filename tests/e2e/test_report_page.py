"""The report as João opens it (issue 20): reports/H003.md of a persona lab with recorded answers, rendered
from Markdown to HTML and looked at in a real headless Chromium (Debian's, driven by Playwright)."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest

from conftest import WEAK_ANSWERS, keep_screenshots, need, run_hyp

CHROMIUM = "/usr/bin/chromium"


STYLE = """body { font-family: sans-serif; max-width: 1100px; margin: 2em auto; line-height: 1.4; }
table { border-collapse: collapse; margin: 1em 0; } th, td { border: 1px solid #ccc; padding: 3px 8px; }
th { background: #f3f3f3; } img { max-width: 100%; } code { background: #f6f6f6; }"""

# What a reader sees, read from the rendered page: the text, each table (headings of the section it is
# under, header cells, rows), and every image with whether it loaded.
PAGE_FACTS = """() => {
  const section = el => { let e = el; while (e && !/^H[1-3]$/.test(e.tagName)) e = e.previousElementSibling;
                          return e ? e.textContent.trim() : ''; };
  return {
    text: document.body.innerText,
    h1: document.querySelector('h1') ? document.querySelector('h1').textContent : '',
    tables: [...document.querySelectorAll('table')].map(t => ({
      section: section(t),
      head: [...t.querySelectorAll('thead th')].map(c => c.textContent.trim()),
      rows: [...t.querySelectorAll('tbody tr')].map(r => [...r.cells].map(c => c.textContent.trim())),
    })),
    images: [...document.images].map(i => ({src: i.getAttribute('src'), alt: i.alt, complete: i.complete,
                                           width: i.naturalWidth, height: i.naturalHeight})),
  };
}"""


def to_html(markdown_text: str, title: str) -> str:
    """Markdown to HTML with headings, GFM tables, paragraphs, lists and images: the `markdown` package
    when it is installed, else markdown-it-py (CommonMark with tables; rich depends on it)."""
    if importlib.util.find_spec("markdown") is not None:
        import markdown

        body = markdown.markdown(markdown_text, extensions=["tables"])
    else:
        from markdown_it import MarkdownIt

        body = MarkdownIt("commonmark").enable("table").render(markdown_text)
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>"
            f"<style>{STYLE}</style></head><body>{body}</body></html>")


@pytest.fixture(scope="module")
def reported_lab(tmp_path_factory) -> Path:
    """The persona example with H002's historical number and H003's answers recorded, H003 reported."""
    root = tmp_path_factory.mktemp("report-page")
    assert run_hyp("init", str(root / "lab"), "--example", "persona").code == 0
    lab = root / "lab"
    (lab / "answers.json").write_text(json.dumps([{"question": q, "response": a} for q, a in WEAK_ANSWERS.items()]),
                                      encoding="utf-8")
    for args in (["record", "H002", "--metric", "score=8.2"],
                 ["record", "H003", "--responses", str(lab / "answers.json")], ["report", "H003"]):
        result = run_hyp(*args, lab=lab)
        assert result.code == 0, (args, result.out, result.err)
    return lab


def look(lab: Path, shot: Path) -> dict:
    """Render reports/H003.md beside it (so its plots load by their relative paths), open it in Chromium,
    return what the page shows and save a full-page screenshot."""
    need(Path(CHROMIUM).is_file() or bool(shutil.which("chromium")),
         "needs Debian's chromium: apt-get install -y --no-install-recommends chromium")
    need(importlib.util.find_spec("playwright") is not None, "needs Playwright for Python: the `dev` extra")
    from playwright.sync_api import sync_playwright

    report = lab / "reports" / "H003.md"
    page_file = report.with_suffix(".html")
    page_file.write_text(to_html(report.read_text(encoding="utf-8"), "H003"), encoding="utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM if Path(CHROMIUM).is_file() else shutil.which("chromium"),
                                    headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(page_file.as_uri(), wait_until="load")
            facts = page.evaluate(PAGE_FACTS)
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    return facts


@pytest.mark.browser
def test_the_rendered_report_shows_verdict_summary_answers_and_its_plots(reported_lab, tmp_path):
    verdict = run_hyp("verdict", "H003", "--json", lab=reported_lab).json["verdict"]
    shot = tmp_path / "report-H003.png"
    facts = look(reported_lab, shot)
    keep_screenshots([shot])

    assert verdict == "REJECTED", verdict  # these answers miss the goal clearly; the page must say so
    assert "H003" in facts["h1"]
    assert f"Verdict: {verdict}" in facts["text"], facts["text"][:500]

    summary = [t for t in facts["tables"] if t["section"] == "Executive summary"]
    assert summary, [t["section"] for t in facts["tables"]]
    cells = {row[0]: row[1] for row in summary[0]["rows"] if len(row) >= 2}
    assert {"Goal", "Result"} <= set(cells), cells
    assert verdict in cells["Result"] and "score" in cells["Result"], cells
    assert any(k.startswith("Recommended") for k in cells), cells  # one next step, with its reason

    answers = [t for t in facts["tables"] if "answer" in t["head"]]
    assert answers, [t["head"] for t in facts["tables"]]
    shown = {row[answers[0]["head"].index("question")]: row[answers[0]["head"].index("answer")]
             for row in answers[0]["rows"]}
    assert set(shown) == set(WEAK_ANSWERS), shown
    for q, answer in WEAK_ANSWERS.items():
        assert shown[q] == answer, (q, shown[q])  # short answers are shown whole

    plots = sorted(p.name for p in (reported_lab / "reports").glob("H003*.png"))
    assert len(facts["images"]) >= 2, facts["images"]
    for image in facts["images"]:
        assert image["src"] in plots, (image, plots)  # the PNGs next to the report, by relative path
        assert image["complete"] and image["width"] > 0 and image["height"] > 0, image
    assert shot.stat().st_size > 20_000
