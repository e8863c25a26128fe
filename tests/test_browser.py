"""In a real browser: sign in with a password and land on the organization's home.

This is the harness later browser flows build on (fixtures in tests/browser_support.py).
Set ``MIXER_SCREENSHOT_DIR`` to keep screenshots (the README's picture comes from here).
"""

from __future__ import annotations

import os

import pytest

from tests.helpers import PASSWORD

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("viewport", [(1280, 900), (360, 740)], ids=["laptop", "phone"])
def test_sign_in_and_see_org_home(
    app, live_server, browser, make_org, make_user, viewport
):
    org = make_org(
        slug="riverside",
        name="Riverside Health",
        charter="**We give ten minutes a week** to help someone grow.",
    )
    member = make_user(org, name="Mira Member", department="Finance")
    width, height = viewport
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))

    page.goto(f"{live_server}/login")
    page.get_by_label("E-mail").fill(member.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    assert page.url.startswith(f"{live_server}/login")
    error = page.get_by_text("That e-mail and password do not match")
    assert error.is_visible()
    # The e-mail typed is kept; the password field is marked invalid.
    assert page.get_by_label("E-mail").input_value() == member.email
    assert page.get_by_label("Password").get_attribute("aria-invalid") == "true"

    problems.clear()  # the refused attempt was a 422, which Chromium logs

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(f"{live_server}/o/riverside/")
    assert page.get_by_role("heading", name="Riverside Health").is_visible()
    charter = page.locator("strong", has_text="We give ten minutes a week")
    assert charter.is_visible()
    # Nothing is wider than the screen (works at 360 px).
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"page scrolls sideways: {scroll_width} > {width}"
    # Keyboard path: the skip link is the first stop and leads to the content.
    page.keyboard.press("Tab")
    assert (
        page.evaluate("document.activeElement.textContent").strip() == "Skip to content"
    )
    assert problems == []
    if folder := os.environ.get("MIXER_SCREENSHOT_DIR"):
        page.screenshot(path=f"{folder}/home-{width}.png", full_page=True)
    context.close()
