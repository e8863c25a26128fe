"""In a phone-sized Chromium: an attendee opens the prompt from the e-mail, picks a
mentor, rates the event and sends it; the page fits 360 px."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from mixer import clock
from mixer.extensions import db
from mixer.followup import services
from mixer.followup.models import FollowupPrompt
from tests.followup.conftest import (
    check_in,
    local,
    meet,
    pick_link,
    prompt_mails,
)

pytestmark = pytest.mark.browser


def test_attendee_on_a_phone_picks_a_mentor(app, live_server, browser, room, outbox):
    clock.reset()  # the live server runs on real time; the mixer is on now
    room.event.starts_at = clock.now() - timedelta(hours=2)
    room.event.ends_at = clock.now() - timedelta(minutes=10)
    db.session.commit()
    check_in(room, "Ana", "Ben", "Cai")
    meet(room, "Ana", "Ben", source="rotation")
    meet(room, "Ana", "Cai")
    services.close_event(room.event, room.organizer)
    services.send_prompts(
        room.event.id, clock.stamp(services.followup_for(room.event).due_at)
    )
    db.session.commit()
    ben = room.regs["Ben"].id
    mail = prompt_mails(outbox, "ana@acme.example.org")[0]
    # The one-tap "As my mentor" link next to Ben's name in the e-mail.
    link = live_server + local(pick_link(mail, ben, "mentor"))

    problems: list[str] = []
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.on(
        "console",
        lambda m: problems.append(m.text) if m.type == "error" else None,
    )
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.goto(link)
    assert page.locator("h1").inner_text() == "After Spring Mixer"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    person = page.locator(f"#person-{ben}")
    # The tap in the e-mail arrives preselected and highlighted (followup.js
    # ran under the strict CSP), with the choice focused for the keyboard.
    assert person.get_by_label("As my mentor").is_checked()
    assert "fu-picked" in (person.get_attribute("class") or "")
    assert page.evaluate("document.activeElement.value") == "mentor"
    # Changing one's mind on the page: peers, then back to mentor, by tapping.
    person.get_by_text("As peers").tap()
    assert person.get_attribute("data-chosen") == "peer"
    person.get_by_text("As my mentor").tap()
    assert person.get_by_label("As my mentor").is_checked()
    page.locator(".fu-star", has_text="4").tap()
    page.get_by_label("What small action will you take this week").fill(
        "Ask Ben for twenty minutes."
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.get_by_role("button", name="Save my answers").tap()
    page.wait_for_url("**/followup/thanks")
    heading = page.locator("h1").inner_text()
    assert heading == "Thank you — your answers are saved"
    assert "Ben Example: As my mentor" in page.locator(".fu-summary").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    context.close()
    assert not problems, problems

    db.session.expire_all()
    prompt = db.session.scalar(
        select(FollowupPrompt).where(
            FollowupPrompt.registration_id == room.regs["Ana"].id
        )
    )
    assert prompt.rating == 4 and prompt.answered_at is not None
    assert prompt.reflection == "Ask Ben for twenty minutes."
    assert {c.other_id: c.choice for c in prompt.choices} == {ben: "mentor"}


def test_organizer_confirms_closing_with_a_note_on_a_phone(
    app, live_server, browser, room
):
    from mixer.accounts.services import set_password
    from tests.browser_support import sign_in_page
    from tests.helpers import PASSWORD

    clock.reset()  # the live server runs on real time
    room.event.starts_at = clock.now() - timedelta(hours=2)
    room.event.ends_at = clock.now() - timedelta(minutes=10)
    set_password(room.organizer, PASSWORD)
    db.session.commit()
    check_in(room, "Ana", "Ben", "Cai")
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    sign_in_page(page, live_server, room.organizer.email)
    page.goto(f"{live_server}/events/{room.event.id}/dashboard")
    page.get_by_role("button", name="Close the event and send follow-up…").click()
    page.wait_for_url(f"**/events/{room.event.id}/close")
    assert "e-mails a short follow-up prompt to 3 people" in page.inner_text("main")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    note = page.get_by_label("A note from you in the e-mail (optional)")
    note.fill("Thank you all! Slides follow next week.")
    note.press("Tab")  # keyboard: the note, then the confirm button
    assert page.evaluate("document.activeElement.textContent") == (
        "Close and e-mail 3 people"
    )
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/events/{room.event.id}/followup")
    assert "on their way to 3 people" in page.inner_text("main")
    context.close()
    db.session.expire_all()
    followup = services.followup_for(room.event)
    assert followup.note == "Thank you all! Slides follow next week."
    assert followup.closed_by_id == room.organizer.id
