"""On a 360 px phone: answer "did you meet?" from the e-mail, moving the check-in."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mixer import clock
from mixer.extensions import db
from mixer.pairs import answers, schedule
from mixer.pairs.lifecycle import create_pair
from mixer.pairs.models import Pair
from tests.browser_support import sign_in_page

from .helpers import answer_link, mails, path

pytestmark = pytest.mark.browser

DUE = datetime(2026, 3, 4, 12, 30, tzinfo=UTC)


def test_phone_moves_a_meeting_from_the_email(world, live_server, browser, outbox):
    pair = create_pair(world.org, world.mentor, world.mentee, kind="peer")
    db.session.commit()
    clock.freeze(DUE)
    schedule.tick(pair.id)
    db.session.commit()
    [ask] = mails(outbox, "bo@acme.example.org", "Did you meet")
    url = live_server + path(answer_link(ask, "We moved it"))

    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.goto(url)
    # "Moved" is preselected, so its date fields show; "yes" hides them.
    assert page.get_by_label("We moved it").is_checked()
    assert page.get_by_label("New date").is_visible()
    page.get_by_label("Yes, we met").check()
    assert not page.get_by_label("New date").is_visible()
    page.get_by_label("We moved it").check()
    page.get_by_label("New date").fill("2026-03-09")
    page.get_by_label("What helped?").fill("Rescheduled, all good.")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"page scrolls sideways: {width} > 360"
    page.get_by_role("button", name="Confirm").click()
    page.get_by_role("heading", name="Thank you").wait_for()
    assert page.get_by_text("Moved. We will remind you").is_visible()
    assert problems == []
    context.close()

    db.session.expire_all()
    meeting = db.session.get(Pair, pair.id).meetings[0]
    assert (meeting.status, meeting.due_at) == (
        "moved",
        datetime(2026, 3, 9, 12, 30, tzinfo=UTC),
    )
    assert meeting.notes == {str(world.mentee.id): "Rescheduled, all good."}


@pytest.mark.once  # layout on a phone: the SQLite pass only
def test_pair_page_and_overview_fit_a_phone(world, live_server, browser):
    """At 360 px: no sideways scroll; every form field has a name a reader says."""
    pair = create_pair(
        world.org,
        world.mentor,
        world.mentee,
        kind="mentoring",
        mentor=world.mentor,
        topic="Negotiating a salary in a new role, with examples",
    )
    clock.freeze(DUE)
    answers.log_meeting(pair, world.mentor, "met", note="A long note " * 20)
    db.session.commit()
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    for email, url in (
        ("bo@acme.example.org", f"/pairs/{pair.id}"),
        ("olu@acme.example.org", "/o/acme/pairs"),
    ):
        sign_in_page(page, live_server, email)
        page.goto(live_server + url)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"{url} scrolls sideways: {width} > 360"
        unnamed = page.evaluate(
            """[...document.querySelectorAll('main input:not([type=hidden]),'
                + 'main select, main textarea')]
               .filter(el => !(el.labels && el.labels.length) &&
                             !el.getAttribute('aria-label'))
               .map(el => el.name)"""
        )
        assert unnamed == [], f"{url}: inputs without a label: {unnamed}"
        context.clear_cookies()
    # The rhythm form works from the keyboard: Tab into it, type, Enter saves.
    sign_in_page(page, live_server, "bo@acme.example.org")
    page.goto(f"{live_server}/pairs/{pair.id}")
    page.get_by_label("Days between check-ins").focus()
    page.keyboard.press("Control+a")
    page.keyboard.type("7")
    page.keyboard.press("Enter")
    page.get_by_text("The new rhythm is saved").wait_for()
    assert problems == []
    context.close()
    db.session.expire_all()
    assert db.session.get(Pair, pair.id).cadence_days == 7
