"""In a real browser: the organizer starts a round and an attendee's phone shows
the new table without reloading."""

from __future__ import annotations

import re

import pytest

from mixer.extensions import db
from mixer.rotations import services
from mixer.rotations.services import Settings
from tests.browser_support import sign_in_page

pytestmark = pytest.mark.browser


def test_projector_advances_and_the_phone_follows(
    app, live_server, browser, make_org, make_user, make_event, make_registration
):
    org = make_org(slug="acme", name="Acme")
    organizer = make_user(org, role="organizer", name="Olga Organizer")
    member = make_user(org, name="Mia Member", department="Sales")
    event = make_event(
        org, kind="mentor_mixer", title="Spring mixer", rounds=2, minutes_per_round=5
    )
    make_registration(
        event,
        email=member.email,
        name=member.name,
        user=member,
        role="mentee",
        department="Sales",
        seeks=["negotiation"],
    )
    make_registration(
        event,
        name="Priya Shah",
        role="mentor",
        department="Finance",
        offers=["negotiation", "public speaking"],
    )
    services.create_plan(event, Settings(rounds=1, minutes=5))
    db.session.commit()
    problems: list[str] = []

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    mine = phone.new_page()
    mine.on("pageerror", lambda exc: problems.append(str(exc)))
    sign_in_page(mine, live_server, member.email)
    mine.goto(f"{live_server}/events/{event.id}/rotations/me")
    assert "Round 1 starts soon" in mine.inner_text(".me")
    mine.evaluate("window.__sameDocument = true")

    desk = browser.new_context(viewport={"width": 1280, "height": 800})
    projector = desk.new_page()
    projector.on("pageerror", lambda exc: problems.append(str(exc)))
    sign_in_page(projector, live_server, organizer.email)
    projector.goto(f"{live_server}/events/{event.id}/rotations")
    projector.get_by_role("button", name="Start round 1").click()
    projector.wait_for_load_state()
    assert "Round 1 of 1 is on" in projector.inner_text("[data-progress]")
    projector.goto(f"{live_server}/events/{event.id}/rotations/projector")
    assert projector.inner_text("[data-round-label]") == "Round 1 of 1"
    assert "Priya Shah" in projector.inner_text(".projector-tables")
    countdown = projector.locator("[data-countdown]")
    assert re.fullmatch(r"[45]:\d\d", countdown.inner_text())

    mine.wait_for_selector("[data-me-table]", timeout=10_000)
    text = mine.inner_text(".me")
    assert "Round 1 · Table 1" in text
    assert "with Priya Shah (Finance)" in text
    assert "can help with: negotiation, public speaking" in text
    assert mine.evaluate("window.__sameDocument") is True  # no reload
    width = mine.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    assert problems == []


def test_planning_with_a_memory_on_a_phone_by_keyboard(
    app, live_server, browser, make_org, make_user, make_event, make_registration
):
    """An organizer on a phone picks the look-back with the keyboard, plans, and
    reads why some repeats were unavoidable, with nothing wider than the screen."""
    from datetime import timedelta

    from mixer.rotations import running

    org = make_org(slug="acme", name="Acme")
    organizer = make_user(org, role="organizer", name="Olga Organizer")
    six = [
        make_user(org, password=None, name=f"Member {i}", department=f"D{i % 3}")
        for i in range(6)
    ]
    events = []
    for month in (1, 0):
        event = make_event(
            org, kind="mentor_mixer", title=f"Mixer {month}", rounds=3, capacity=10
        )
        for i, user in enumerate(six):
            make_registration(
                event,
                email=user.email,
                name=user.name,
                user=user,
                role="mentor" if i % 2 == 0 else "mentee",
            )
        event.starts_at -= timedelta(days=30 * month)
        event.ends_at -= timedelta(days=30 * month)
        db.session.commit()
        events.append(event)
    services.create_plan(events[0], Settings(rounds=3, minutes=5))
    db.session.commit()
    for _ in range(3):
        running.start_next_round(events[0])
    db.session.commit()

    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = phone.new_page()
    sign_in_page(page, live_server, organizer.email)
    page.goto(f"{live_server}/events/{events[1].id}/rotations")
    rounds = page.get_by_role("spinbutton", name="Rounds")
    rounds.fill("2")
    lookback = page.get_by_label("Keep apart people who")
    lookback.focus()
    lookback.select_option("any")
    page.keyboard.press("Tab")
    page.get_by_role("button", name="Plan the rounds").focus()
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    report = page.locator('[data-quality="earlier"]')
    assert "6 seated together again" in report.inner_text()
    assert "All are unavoidable" in report.inner_text()
    report.locator("summary").focus()
    page.keyboard.press("Enter")
    assert "Member 0 meets 2 people" in report.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
