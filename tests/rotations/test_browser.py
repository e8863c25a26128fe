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
