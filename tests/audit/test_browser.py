"""The audit trail on a 360 px phone, by keyboard: cards, a filter, no sideways
scroll (axe-core audits the page too)."""

from __future__ import annotations

import pytest

from mixer.audit import services
from mixer.extensions import db
from tests.helpers import PASSWORD

pytestmark = pytest.mark.browser
PHONE = {"width": 360, "height": 740}


@pytest.mark.once  # layout on a phone: the SQLite pass only
def test_an_admin_filters_the_trail_on_a_phone_by_keyboard(
    live_server, browser, org, make_user
):
    ada = make_user(org, role="admin", name="Ada Admin")
    for n in range(3):
        services.record(
            org.id,
            "member.role_changed",
            f"Changed Person {n}'s role from member to organizer, a long line",
            subject=("membership", n + 1),
            details={"changes": {"role": ["member", "organizer"]}},
            actor=ada,
        )
    services.record(org.id, "event.published", "Published the event “Lunch”")
    db.session.commit()
    ctx = browser.new_context(viewport=PHONE)
    page = ctx.new_page()
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", ada.email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_load_state()
    page.goto(f"{live_server}/o/{org.slug}/audit")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # A card per entry, newest first: its labels show on the phone.
    newest = page.locator("tbody tr").first
    assert newest.locator("td[data-label=Who]").inner_text() == "Mixer"

    page.get_by_label("Action").focus()
    page.keyboard.type("Published an e")  # a select picks the option typed
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "actor"
    page.get_by_role("button", name="Show").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**action=event.published**")
    assert page.locator("tbody tr").count() == 1
    assert "Published the event “Lunch”" in page.locator("tbody").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    ctx.close()
