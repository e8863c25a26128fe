"""In a real browser: an organizer publishes a lunch-and-learn; a member on a phone
registers and finds it under "My events"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from mixer import clock
from mixer.events.models import Event, Registration
from mixer.extensions import db
from tests.browser_support import sign_in_page

pytestmark = pytest.mark.browser


def _watch(page, problems: list[str]) -> None:
    """Collect console errors (CSP violations, script failures) and failed requests."""
    page.on(
        "console",
        lambda msg: (
            problems.append(f"console: {msg.text}") if msg.type == "error" else None
        ),
    )
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))


def test_organizer_publishes_member_registers_on_a_phone(
    app, live_server, browser, make_org, make_user
):
    org = make_org(slug="acme", name="Acme")
    organizer = make_user(org, role="organizer", name="Olga Organizer")
    member = make_user(org, name="Mia Member", department="Finance")
    day = (clock.now() + timedelta(days=7)).date()
    problems: list[str] = []

    desk = browser.new_context(viewport={"width": 1280, "height": 900})
    page = desk.new_page()
    _watch(page, problems)
    sign_in_page(page, live_server, organizer.email)
    page.goto(f"{live_server}/o/acme/events/manage")
    page.get_by_role("button", name="New Lunch & Learn").click()
    page.fill("input[name=title]", "Negotiation over lunch")
    page.fill("input[name=starts_at]", f"{day}T12:00")
    page.fill("input[name=ends_at]", f"{day}T13:00")
    page.select_option("select[name=timezone]", "Europe/Paris")
    page.fill("input[name=venue]", "Room 4.12")
    page.fill("input[name=capacity]", "12")
    page.fill("input[name=topic]", "Asking for a raise")
    page.fill("input[name=speakers]", "Ana Lima")
    # Only the lunch-and-learn part of the form shows (events-form.js).
    assert page.locator("fieldset[data-kind=workshop]").is_hidden()
    assert page.locator("fieldset[data-kind=lunch_and_learn]").is_visible()
    page.get_by_role("button", name="Save and publish").click()
    page.wait_for_load_state()
    assert "Published: people can register now." in page.content()
    desk.close()

    event = db.session.scalar(select(Event))
    assert event.status == "published"

    phone = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=3,
        is_mobile=True,
        has_touch=True,
    )
    page = phone.new_page()
    _watch(page, problems)
    sign_in_page(page, live_server, member.email)
    page.goto(f"{live_server}/o/acme/events/")
    page.get_by_role("link", name="Negotiation over lunch").first.click()
    page.wait_for_load_state()
    assert page.get_by_text("Asking for a raise").first.is_visible()
    page.get_by_role("button", name="Register").click()
    page.wait_for_load_state()
    assert page.get_by_text("You're registered.", exact=True).is_visible()
    # Nothing sticks out sideways on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.goto(f"{live_server}/o/acme/events/")
    page.get_by_role("link", name="My events").click()
    page.wait_for_load_state()
    coming_up = page.locator(
        "section", has=page.get_by_role("heading", name="Coming up")
    )
    assert coming_up.get_by_role("link", name="Negotiation over lunch").is_visible()
    assert coming_up.get_by_text("Registered").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    phone.close()

    db.session.expire_all()
    reg = db.session.scalar(select(Registration))
    assert (reg.user_id, reg.status, reg.department) == (
        member.id,
        "registered",
        "Finance",
    )
    assert problems == []


@pytest.mark.once  # layout on a phone: the SQLite pass only
def test_event_pages_fit_a_360px_screen_without_errors(
    app, live_server, browser, make_org, make_user, make_event, make_registration
):
    org = make_org(slug="acme", name="Acme")
    organizer = make_user(org, role="organizer")
    event = make_event(
        org,
        organizer,
        kind="workshop",
        title="A workshop with a rather long title about giving feedback",
        asks_dietary=True,
        venue="Room 4.12, Main building",
        address="1 Long Street Name, Some City",
    )
    for n in range(12):
        make_registration(
            event,
            name=f"Person with a long name {n}",
            email=f"long.address.{n}@example.org",
            dietary="Vegan",
        )
    problems: list[str] = []
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    _watch(page, problems)
    sign_in_page(page, live_server, organizer.email)
    for path in (
        f"/events/{event.id}",
        f"/events/{event.id}/dashboard",
        f"/events/{event.id}/attendees",
        f"/events/{event.id}/catering",
        f"/events/{event.id}/edit",
        f"/events/{event.id}/repeat",
        "/o/acme/events/",
        "/o/acme/events/manage",
        "/o/acme/events/mine",
        "/o/acme/events/new?kind=mentor_mixer",
    ):
        response = page.goto(live_server + path)
        assert response.status == 200, path
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"{path} is {width}px wide"
    context.close()
    assert problems == []
