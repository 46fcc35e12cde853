"""The review report in a real browser: Debian's Chromium, headless, driven by Playwright
(pointed at the system browser; nothing is downloaded). Every test fails when the page
throws a JavaScript error, logs a console error or asks for anything but its own file.

Set GUIDEPROOF_SCREENSHOTS=DIR to keep the screenshots for looking at them.
"""
from __future__ import annotations

import os
import shutil
import struct
from pathlib import Path

import pytest
from click.testing import CliRunner
from playwright.sync_api import sync_playwright

from guideproof.cli import cli
from guideproof.guideline import EXAMPLES, SHIPPED

#: every test here renders the review report (and most drive a browser): the slow tier
pytestmark = pytest.mark.slow


ROOT = SHIPPED.parent.parent
WIDTH, HEIGHT = 1440, 900  # a reviewer's laptop screen


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("Chromium is not installed: run 'make install-test' (as root it installs the Debian package "
                    "'chromium')", pytrace=False)
    return path


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """The shipped guideline's report, and one with a patient's path."""
    d = tmp_path_factory.mktemp("reports")
    out = {"plain": d / "review.html", "patient": d / "patient.html"}
    run = CliRunner().invoke
    r = run(cli, ["report", "--traceability", str(ROOT / "docs" / "traceability.md"), "-o", str(out["plain"])])
    assert r.exit_code == 0, r.output
    r = run(cli, ["report", "-p", str(EXAMPLES / "on_anticoagulant.yaml"), "-o", str(out["patient"])])
    assert r.exit_code == 0, r.output
    return out


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        yield b
        b.close()


class Page:
    """A page of the report, recording errors and requests."""

    def __init__(self, browser, path: Path):
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.page.on("console", lambda m: self.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.url = path.resolve().as_uri()
        self.page.goto(self.url)
        self.page.locator("#charts").scroll_into_view_if_needed()

    def active_ref(self) -> str | None:
        return self.page.evaluate("document.activeElement && document.activeElement.getAttribute('data-ref')")

    def viewbox(self) -> list[float]:
        return [float(x) for x in self.page.locator(".chart:not([hidden]) svg").get_attribute("viewBox").split()]

    def panel_title(self) -> str:
        return self.page.locator("#panel-body h3").inner_text()

    def inside_viewport(self, selector: str) -> bool:
        return self.page.evaluate("""(sel) => {
            const r = document.querySelector(sel).getBoundingClientRect();
            const v = document.getElementById('viewport').getBoundingClientRect();
            return r.width > 0 && r.left >= v.left && r.right <= v.right && r.top >= v.top && r.bottom <= v.bottom; }""",
                                  selector)

    def close(self) -> None:
        self.context.close()
        assert self.errors == [], self.errors
        assert self.requests == [self.url], f"the report asked for more than itself: {self.requests}"


@pytest.fixture
def page(browser, reports):
    p = Page(browser, reports["plain"])
    yield p
    p.close()


def test_opens_with_no_error_and_fetches_nothing(page):
    pg = page.page
    assert pg.title().startswith("Review: Adults with lumbar L1-L2 compression fractures (version 1.0)")
    assert pg.locator("#chart-overview").is_visible() and pg.locator(".chart[hidden]").count() == 8
    assert pg.locator("#chart-overview [data-ref]").count() > 40
    assert "PROVED: all" in pg.locator(".verdict-line").inner_text()


def test_clicking_a_recommendation_opens_its_panel(page):
    pg = page.page
    pg.locator('#chart-overview [data-ref="rec-paracetamol_first"]').click()
    assert page.panel_title() == "SAFETY addition Regular paracetamol first"
    body = pg.locator("#panel-body").inner_text()
    for text in ("Start with regular paracetamol, at most 4 g in 24 hours", "Initial Pain Management (First 4 Weeks)",
                 "S39: Paracetamol 500 mg tablets SmPC", "SAFE-PARA-01", "paracetamol_first_for_pain"):
        assert text in body, text
    assert pg.locator("#chart-overview .ring.selected").count() == 1  # the chosen box stays marked
    assert page.active_ref() is None and pg.evaluate("document.activeElement.id") == "panel-rec-paracetamol_first-h"


def test_clicking_a_decision_shows_its_branches_in_order(page, shipped):
    pg = page.page
    pg.locator('#chart-overview [data-ref="step-disposition"]').click(position={"x": 20, "y": 12})
    step = shipped.steps["disposition"]
    assert page.panel_title() == step.title
    branches = pg.locator("#panel-body ol.branches > li").all_inner_texts()
    expected = [f"{i}. {b.label}" for i, b in enumerate(step.branches, 1)] + [step.otherwise_label]
    assert len(branches) == len(expected) and all(b.startswith(e) for b, e in zip(branches, expected, strict=True))
    assert "D1" in pg.locator("#panel-body").inner_text()  # the recorded decision behind the priority order


def test_search_highlights_centres_and_focuses_a_recommendation(page):
    pg = page.page
    pg.fill("#search", "laxative")
    assert pg.locator("#search-status").inner_text() == "1 of 1: Regular laxative with any opioid"
    target = '#chart-overview [data-ref="rec-laxative_with_opioid"]'
    assert pg.locator(target).get_attribute("class") == "match"
    assert pg.locator("#chart-overview .ring.match").count() == 1 and pg.locator("#chart-overview .ring.current").count() == 1
    assert page.inside_viewport(target)
    pg.press("#search", "Enter")
    assert page.active_ref() == "rec-laxative_with_opioid"
    assert pg.locator("#chart-overview .ring.focus").count() == 1
    pg.keyboard.press("Enter")  # on the focused box: open it
    assert page.panel_title() == "SAFETY addition Regular laxative with any opioid"
    # Boxes named by the words come before those whose text only mentions them.
    pg.fill("#search", "surgical referral")
    assert "surgical referral" in pg.locator("#search-status").inner_text().split(": ", 1)[1].lower()
    # Several matches: Enter walks through them; the result buttons name them.
    pg.fill("#search", "mri")
    n = pg.locator("#results button").count()
    assert n >= 3 and pg.locator("#search-status").inner_text().startswith(f"1 of {n}: ")
    pg.press("#search", "Enter")
    first = page.active_ref()
    pg.focus("#search")
    pg.press("#search", "Enter")
    assert page.active_ref() != first and pg.locator("#search-status").inner_text().startswith(f"2 of {n}: ")


def test_search_names_the_charts_that_have_the_match(page):
    pg = page.page
    pg.select_option("#chart-select", "phase-follow_up")
    pg.fill("#search", "paracetamol")
    status = pg.locator("#search-status").inner_text()
    assert status.startswith("no match in this chart; found in: ") and "Phase: Pain management" in status
    pg.fill("#search", "zzzz-nothing")
    assert pg.locator("#search-status").inner_text() == "no match in this chart"


def test_keyboard_alone_reaches_opens_and_closes_a_box(page):
    pg = page.page
    pg.focus("#search")
    for _ in range(10):
        pg.keyboard.press("Tab")
        if page.active_ref():
            break
    first = page.active_ref()
    assert first == pg.evaluate("document.querySelector('#chart-overview [data-ref]').dataset.ref")  # the first box
    ring = pg.locator("#chart-overview .ring.focus")
    assert ring.count() == 1 and ring.bounding_box()["width"] > 20  # a visible focus mark
    pg.keyboard.press("Tab")
    second = page.active_ref()
    assert second and second != first
    # Recommendations inside a box are reached by Tab too, in the order they are drawn.
    order = pg.evaluate("Array.from(document.querySelectorAll('#chart-overview [data-ref]'), e => e.dataset.ref)")
    assert [first, second] == order[:2] and order[1].startswith("rec-")
    pg.keyboard.press("Enter")
    assert page.panel_title() and pg.evaluate("document.activeElement.closest('#panel') !== null")
    pg.keyboard.press("Escape")
    assert pg.locator("#panel-body h3").count() == 0 and page.active_ref() == second
    before = page.viewbox()
    pg.keyboard.press("+")
    assert page.viewbox()[2] < before[2]
    pg.keyboard.press("0")
    assert page.viewbox() == pytest.approx(before, abs=0.01) or page.viewbox()[2] > before[2] / 1.3


def test_zoom_pan_and_fit(page):
    pg = page.page
    home = page.viewbox()
    pg.click('[data-zoom="in"]')
    zoomed = page.viewbox()
    assert zoomed[2] == pytest.approx(home[2] / 1.4, rel=1e-3)
    box = pg.locator("#viewport").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    pg.mouse.move(x, y)
    pg.mouse.down()
    pg.mouse.move(x - 150, y - 80, steps=5)
    pg.mouse.up()
    panned = page.viewbox()
    assert panned[0] > zoomed[0] and panned[1] > zoomed[1] and panned[2] == pytest.approx(zoomed[2])
    assert pg.locator("#panel-body h3").count() == 0  # a drag is not a click
    pg.mouse.wheel(0, -300)
    assert page.viewbox()[2] < panned[2]
    pg.click('[data-zoom="fit"]')
    assert page.viewbox() == pytest.approx(home, abs=0.01)


def test_other_charts_and_links_inside_the_panel(page):
    pg = page.page
    pg.select_option("#chart-select", "whole")
    assert pg.locator("#chart-whole").is_visible() and not pg.locator("#chart-overview").is_visible()
    assert page.viewbox()[2] > 4000  # the whole guideline, fitted: zoom in on a box through the search
    pg.fill("#search", "calcium_vitamin_d")
    assert page.viewbox()[2] < 2000 and page.inside_viewport('#chart-whole [data-ref="rec-calcium_vitamin_d"]')
    pg.locator('#chart-whole [data-ref="rec-calcium_vitamin_d"]').click()
    assert page.panel_title().startswith("Calcium >= 1000 mg")
    link = pg.locator("#panel-body dd a[data-open^='step-']").first  # "Recommended at": its step
    ref = link.get_attribute("data-open")
    link.click()
    assert pg.locator("#panel-body article.step").count() == 1 and page.panel_title() == link_text(pg, ref)
    # The step's box is shown and marked in the chart; focus stays in the panel, where the reader is.
    assert page.inside_viewport(f'#chart-whole [data-ref="{ref}"]') and pg.locator("#chart-whole .ring.selected").count() == 1
    assert pg.evaluate("document.activeElement.closest('#panel') !== null")


def link_text(pg, ref):
    return pg.evaluate("(r) => document.getElementById(r).querySelector('h3').textContent", ref)


def test_patient_path_in_the_panel(browser, reports):
    p = Page(browser, reports["patient"])
    try:
        pg = p.page
        assert "Path of on_anticoagulant.yaml" in pg.locator("#patient-h").inner_text()
        assert "Opioid as needed (no NSAID)" in pg.locator("#patient pre.answer").inner_text()
        pg.locator('#chart-overview [data-ref="rec-opioid_breakthrough_no_nsaid"]').click()
        assert "This patient: applies to this patient" in pg.locator("#panel-body").inner_text()
        pg.locator('#chart-overview [data-ref="rec-breakthrough_analgesia"]').click()
        assert "This patient: does not apply to this patient" in pg.locator("#panel-body").inner_text()
    finally:
        p.close()


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_screenshots(page, tmp_path):
    """What a reviewer sees: the chart with a search and an open panel, and the zoomed-in whole
    chart. Kept in $GUIDEPROOF_SCREENSHOTS when set."""
    keep = Path(os.environ["GUIDEPROOF_SCREENSHOTS"]) if os.environ.get("GUIDEPROOF_SCREENSHOTS") else tmp_path
    pg = page.page
    pg.fill("#search", "bisphosphonate")
    pg.locator("#results button", has_text="Start an oral bisphosphonate now").click()
    assert page.panel_title() == "SAFETY addition Start an oral bisphosphonate now"
    shots = {"report-overview.png": pg.screenshot()}
    pg.select_option("#chart-select", "whole")
    pg.fill("#search", "surgical referral")
    pg.press("#search", "Enter")
    pg.keyboard.press("Enter")
    shots["report-whole-search.png"] = pg.screenshot()
    pg.evaluate("window.scrollTo(0, 0)")
    shots["report-top.png"] = pg.screenshot()
    for name, data in shots.items():
        assert _png_size(data) == (WIDTH, HEIGHT) and len(data) > 50_000, name  # a full, busy picture
        (keep / name).write_bytes(data)
