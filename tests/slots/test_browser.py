"""On a 390 px touch phone: find a slot by topic, book it with one tap, see it on
"my week" (axe-core audits every page the browser opens)."""

from __future__ import annotations

import pytest

from mixer.extensions import db
from tests.helpers import PASSWORD

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 800}


def test_phone_find_book_and_see_my_week(app, live_server, browser, world, outbox):
    # A long video link: a link to tap, wrapped inside a 360 px screen.
    world.offer.place = "https://video.example.org/j/81234567890?pwd=" + "x" * 40
    db.session.commit()
    ctx = browser.new_context(viewport=PHONE, has_touch=True)
    page = ctx.new_page()
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", world.guest.email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_load_state()
    page.goto(f"{live_server}/o/acme/slots")
    page.get_by_label("Topic").fill("Negotiation")
    page.get_by_role("button", name="Find slots").tap()
    page.wait_for_load_state()
    page.get_by_role("heading", name="Ada Host").wait_for()
    page.get_by_label("What I'd like to talk about (optional)").fill("A first pitch")
    page.get_by_role("button", name="03 Mar, 12:30").tap()
    page.get_by_role("heading", name="My week of slots").wait_for()
    item = page.locator("li", has_text="With Ada Host")
    # The week opens at the new booking, which stands out.
    assert page.evaluate("location.hash") == f"#{item.get_attribute('id')}"
    assert item.evaluate("e => e.matches(':target')")
    assert "Tue 03 Mar 2026, 12:30 CET" in item.inner_text()
    assert "A first pitch" in item.inner_text()
    assert item.locator(f'a[href="{world.offer.place}"]').count() == 1
    for phone_width in (PHONE["width"], 360):
        page.set_viewport_size({"width": phone_width, "height": 800})
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= phone_width, f"page is {width}px wide"
    # Keyboard: Tab reaches "Move" and Enter opens it.
    page.get_by_role("button", name="Move").focus()
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Move a booking").wait_for()
    assert len(outbox()) == 2
    ctx.close()


def test_phone_in_arabic_reads_right_to_left(app, live_server, browser, world):
    world.colleague.locale = "ar"
    world.org.charter = "We **listen** first.\n\n- Five minutes.\n- Every two weeks."
    db.session.commit()
    ctx = browser.new_context(viewport={"width": 360, "height": 800}, has_touch=True)
    page = ctx.new_page()
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", world.colleague.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_load_state()
    page.goto(f"{live_server}/o/acme/slots")
    assert page.locator("html").get_attribute("dir") == "rtl"
    page.get_by_role("heading", name="مواعيد الدقائق الخمس").wait_for()
    # The charter prompt (an <aside>) keeps its list markers, and the English
    # charter reads left to right inside the Arabic page.
    rule = page.locator(".charter-prompt .charter li").first
    assert rule.evaluate("e => getComputedStyle(e).display") == "list-item"
    assert rule.evaluate("e => getComputedStyle(e).direction") == "ltr"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"page is {width}px wide"
    ctx.close()
