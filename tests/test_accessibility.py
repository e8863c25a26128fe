"""The axe-core audit that every browser test gets (tests/browser_support.py).

These tests serve pages with known violations at the live server's address (through
Playwright's request routing), look at what the audit kept, then clear it so that
their own teardown passes (after closing the page: the teardown audits the pages
still open once more).
"""

from __future__ import annotations

import pytest

from tests import browser_support
from tests.browser_support import AxeAudit

pytestmark = pytest.mark.browser

BAD_PAGE = """<!doctype html><html lang="en"><head><title>Probe</title></head>
<body><main><h1>Probe</h1><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<p style="color:#bbb;background:#fff">Pale words on white</p></main></body></html>"""
GOOD_PAGE = """<!doctype html><html lang="en"><head><title>Probe</title></head>
<body><main><h1>Probe</h1><p>Nothing wrong here.</p></main></body></html>"""


def serve(page, url: str, html: str) -> None:
    page.route(url, lambda route: route.fulfill(body=html, content_type="text/html"))


def test_a_serious_violation_is_reported_with_rule_page_and_element(
    live_server, browser, _axe_audit: AxeAudit
):
    page = browser.new_page()
    url = f"{live_server}/axe-probe"
    serve(page, url, BAD_PAGE)
    page.goto(url)
    _axe_audit.sweep(browser.contexts)  # what the teardown does first

    assert set(_axe_audit.violations) == {(url, "image-alt"), (url, "color-contrast")}
    report = _axe_audit.report()
    assert (
        f"- image-alt (critical) on {url}: Images must have alternative text" in report
    )
    assert f"- color-contrast (serious) on {url}" in report
    assert "    img" in report and "    p" in report
    page.close()  # else the teardown's sweep finds it all again
    _axe_audit.violations.clear()


def test_the_end_of_test_sweep_sees_what_scripts_added_after_load(
    live_server, browser, _axe_audit: AxeAudit
):
    page = browser.new_page()
    url = f"{live_server}/axe-probe"
    serve(page, url, GOOD_PAGE)
    page.goto(url)
    page.wait_for_function("window.__mixerAxe !== undefined")
    page.evaluate("window.__mixerAxe")  # the load-time audit has finished
    assert _axe_audit.violations == {}
    page.evaluate(
        "document.querySelector('main').insertAdjacentHTML('beforeend',"
        " '<button><svg width=10 height=10></svg></button>')"
    )
    _axe_audit.sweep(browser.contexts)

    assert list(_axe_audit.violations) == [(url, "button-name")]
    page.close()  # else the teardown's sweep finds it all again
    _axe_audit.violations.clear()


def test_pages_on_the_skip_list_are_not_audited(
    live_server, browser, _axe_audit: AxeAudit, monkeypatch
):
    monkeypatch.setattr(browser_support, "AXE_SKIP", [r"/skipped-probe$"])
    page = browser.new_page()
    url = f"{live_server}/skipped-probe"
    serve(page, url, BAD_PAGE)
    page.goto(url)
    _axe_audit.sweep(browser.contexts)

    assert _axe_audit.violations == {}
    assert _axe_audit.pages == 0
    page.close()  # the list is back to normal by the teardown's sweep
