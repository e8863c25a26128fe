"""In a real browser on a phone: the profile lists where one is signed in, signs
one other browser out, then signs out everywhere."""

from __future__ import annotations

import re

import pytest

from tests.helpers import PASSWORD

pytestmark = pytest.mark.browser

WIDTH = 390


def _sign_in(browser, base: str, email: str, agent: str | None = None):
    context = browser.new_context(
        viewport={"width": WIDTH, "height": 844}, user_agent=agent
    )
    page = context.new_page()
    page.goto(f"{base}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Keep me signed in on this device").check()
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_load_state()
    assert "/login" not in page.url
    return page


def test_profile_sign_ins_on_a_phone(app, live_server, browser, org, make_user):
    member = make_user(org, email="ada@example.org", name="Ada Lovelace")
    firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
    laptop = _sign_in(browser, live_server, member.email, firefox)
    ipad = "Mozilla/5.0 (iPad; CPU OS 17_5) Safari/604"
    tablet = _sign_in(browser, live_server, member.email, ipad)
    phone = _sign_in(browser, live_server, member.email)
    problems: list[str] = []
    phone.on("pageerror", lambda exc: problems.append(str(exc)))
    phone.goto(f"{live_server}/profile#sign-ins")

    items = phone.locator("#sign-ins li.sign-in")
    assert items.count() == 3
    assert items.first.get_by_text("this browser").is_visible()
    assert phone.get_by_text("Firefox on Linux").is_visible()
    assert "last used" in items.nth(1).inner_text()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, f"page scrolls sideways: {width} > {WIDTH}"

    # Each click loads a new page: the checks wait for it (expect), never race it.
    expect = pytest.importorskip("playwright.sync_api").expect
    phone.get_by_role("button", name="Sign out Firefox on Linux").click()
    expect(phone.get_by_text("Firefox on Linux is signed out.")).to_be_visible()
    expect(items).to_have_count(2)
    laptop.goto(f"{live_server}/profile")
    expect(laptop).to_have_url(re.compile("/login"))

    phone.get_by_role("button", name="Sign out everywhere").click()
    expect(phone).to_have_url(re.compile("/login"))
    expect(phone.get_by_text("You are signed out everywhere")).to_be_visible()
    tablet.goto(f"{live_server}/profile")
    expect(tablet).to_have_url(re.compile("/login"))
    assert problems == []
