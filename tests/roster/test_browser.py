"""A teacher on a phone taps "Checked in" without the page reloading."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from mixer.extensions import db
from mixer.roster import services
from mixer.roster.models import RosterCheckin
from tests.browser_support import sign_in_page

WIDTH = 390


@pytest.mark.browser
def test_one_tap_on_a_phone_records_without_a_reload(
    live_server, browser, make_org, make_user
):
    org = make_org(slug="school", name="Hill School", kind="school")
    teacher = make_user(org, role="organizer", email="t@hill.example.org")
    ana = make_user(org, name="Ana Student", department="7b")
    make_user(org, name="Ben Student", department="7b")
    keeper = teacher.membership_in(org)
    roster_list = services.create_list(keeper, "Form 7b", "daily")
    services.add_department(roster_list, org.department_named("7b").id)
    db.session.commit()
    entry = next(e for e in roster_list.entries if e.student.user_id == ana.id)

    page = browser.new_context(viewport={"width": WIDTH, "height": 800}).new_page()
    page.set_default_timeout(10_000)
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    sign_in_page(page, live_server, "t@hill.example.org")
    page.goto(f"{live_server}/o/school/roster")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, f"the list scrolls sideways: {width} > {WIDTH}"
    page.evaluate("window.notReloaded = true")
    row = page.locator(f"#entry-{entry.id}")
    row.get_by_text("Add a private note").click()
    row.get_by_label("Private note (only you will see it)").fill("Asked about the trip")
    row.get_by_role("button", name="Checked in with Ana Student").click()
    status = page.locator("[data-roster-status]")
    status.filter(has_text="Checked in with Ana Student.").wait_for(state="attached")
    assert row.locator("[data-state]").inner_text() == "Checked in today"
    assert page.evaluate("window.notReloaded") is True
    db.session.expire_all()
    notes = db.session.scalars(select(RosterCheckin.note)).all()
    assert notes == ["Asked about the trip"]
    # Keyboard: Enter on the next row's button keeps the focus there (it is
    # disabled while saving, which would otherwise drop focus to the page top).
    ben = page.get_by_role("button", name="Checked in with Ben Student")
    ben.focus()
    page.keyboard.press("Enter")
    status.filter(has_text="Checked in with Ben Student.").wait_for(state="attached")
    page.wait_for_function(
        "() => document.activeElement?.getAttribute('aria-label')"
        " === 'Checked in with Ben Student'",
        timeout=3_000,
    )
    assert problems == []
