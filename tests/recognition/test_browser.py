"""In a real browser on a phone-sized screen: an organizer awards the Micro-Mentor
of the Month and moderates testimonials; every page fits 360 px, without CSP errors."""

from __future__ import annotations

import os

import pytest

from mixer.extensions import db
from mixer.recognition import awards
from mixer.recognition.testimonials import submit_testimonial
from tests.helpers import PASSWORD
from tests.recognition.conftest import MARCH

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("RECOGNITION_SHOTS")  # a folder: keep screenshots to look at


def test_organizer_awards_and_moderates_on_a_phone(
    app, live_server, browser, month_data, outbox
):
    org, cy = month_data["org"], month_data["cy"]
    submit_testimonial(
        org.id,
        body="Five minutes every fortnight changed how I plan my week.",
        author_name="Bo Chen",
        source_key="prompt:bo",
    )
    db.session.commit()
    problems: list[str] = []
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.on(
        "console",
        lambda msg: problems.append(msg.text) if msg.type == "error" else None,
    )
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", month_data["organizer"].email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_load_state()

    def fits(name: str) -> None:
        width = page.evaluate("document.documentElement.scrollWidth")
        if SHOTS:
            page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)
        assert width <= 360, f"{page.url} is {width}px wide"

    page.goto(f"{live_server}/o/riverside/")
    fits("home")
    page.get_by_role("link", name="Choose the Micro-Mentor of the Month").click()
    page.wait_for_load_state()
    fits("recognition")
    # Keyboard: the radio of the second candidate, then the citation.
    page.get_by_label("Cy Young").focus()
    page.keyboard.press("Space")
    assert page.get_by_label("Cy Young").is_checked()
    page.get_by_label("Citation").fill("Three steady check-ins, every week.")
    page.get_by_role("button", name="Save draft and review").click()
    page.wait_for_load_state()
    assert page.url.endswith("#review")
    fits("review")
    page.get_by_role("button", name="Publish and notify Cy Young").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/o/riverside/awards/{MARCH}")
    assert "Three steady check-ins, every week." in page.content()
    fits("award")
    assert awards.published_award(org, MARCH).user_id == cy.id
    assert len(outbox(cy.email)) == 1

    page.goto(f"{live_server}/o/riverside/testimonials")
    fits("testimonials")
    page.get_by_role("button", name="Approve the testimonial by Bo Chen").click()
    page.wait_for_load_state()
    assert "is approved" in page.content()
    page.goto(f"{live_server}/o/riverside/")
    assert "Five minutes every fortnight" in page.content()
    fits("home-after")
    context.close()
    assert problems == []


def test_a_big_month_on_a_phone_find_someone_and_draft(
    app, live_server, browser, month_data, make_user, pairs
):
    """74 candidates: the page fits 360 px, the search works from the keyboard,
    and someone far down the ranking is drafted from the results."""
    from tests.recognition.test_queries import _more_candidates

    _more_candidates(month_data["org"], 70, make_user, pairs)
    problems: list[str] = []
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.on(
        "console",
        lambda msg: problems.append(msg.text) if msg.type == "error" else None,
    )
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", month_data["organizer"].email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_load_state()
    page.goto(f"{live_server}/o/riverside/recognition")

    def fits(name: str) -> None:
        width = page.evaluate("document.documentElement.scrollWidth")
        if SHOTS:
            page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)
        assert width <= 360, f"{page.url} is {width}px wide"

    fits("big-month")
    assert page.get_by_role("radio").count() == 60
    search = page.get_by_label("Find a candidate by name or e-mail")
    search.focus()
    page.keyboard.type("Mentor 070")  # not among the 70 made: only 000–069
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "in their name or e-mail" in page.content()
    search = page.get_by_label("Find a candidate by name or e-mail")
    search.fill("mentor000@")
    with page.expect_navigation():
        search.press("Enter")
    fits("big-month-found")
    found = page.get_by_label("Mentor 000")
    found.focus()
    page.keyboard.press("Space")
    assert found.is_checked()
    page.get_by_label("Citation").fill("One check-in, and it mattered.")
    page.get_by_role("button", name="Save draft and review").click()
    page.wait_for_load_state()
    assert page.url.endswith("#review")
    assert "Mentor 000" in page.locator("#review").inner_text()
    assert page.get_by_label("Mentor 000").is_checked()  # shown, chosen, on page 1
    fits("big-month-review")
    context.close()
    assert problems == []
