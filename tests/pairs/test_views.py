"""Pair pages: who may see them, the rhythm form, logging, the organizers' view."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from dateutil.rrule import rrulestr
from icalendar import Calendar
from sqlalchemy import select

from mixer import clock
from mixer.extensions import db
from mixer.jobs.models import Job
from mixer.pairs import answers, lifecycle, schedule
from mixer.pairs.lifecycle import create_pair
from mixer.pairs.models import Pair
from tests.helpers import csrf_from, mail_text

from .helpers import kinds, mails, tick_until


@pytest.fixture
def pair(world):
    """Ada mentors Bo; check-in #1 is on Wednesday 4 March 12:30 UTC."""
    made = create_pair(
        world.org,
        world.mentor,
        world.mentee,
        kind="mentoring",
        mentor=world.mentor,
        topic="Public speaking",
    )
    db.session.commit()
    return made


def _form_post(client, page_url: str, url: str, **data):
    """POST a form with the CSRF token of the page it lives on."""
    page = client.get(page_url)
    token = csrf_from(page.get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def test_only_the_two_see_the_pair_page(pair, world, client, auth, make_org, make_user):
    assert client.get(f"/pairs/{pair.id}").status_code == 302  # sign in first
    make_user(world.org, email="carol@acme.example.org")
    outsider_org = make_org(slug="elsewhere")
    make_user(outsider_org, email="dan@elsewhere.example.org")
    for email in (
        "carol@acme.example.org",
        "olu@acme.example.org",
        "dan@elsewhere.example.org",
    ):
        auth.login(email)
        assert client.get(f"/pairs/{pair.id}").status_code == 404
        assert client.post(f"/pairs/{pair.id}/close").status_code in (400, 404)
        assert client.get("/pairs/999999").status_code == 404
        auth.logout()
    db.session.expire_all()
    assert db.session.get(Pair, pair.id).status == "active"

    auth.login("bo@acme.example.org")
    page = client.get(f"/pairs/{pair.id}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "You &amp; Ada Lovelace" in body
    assert "Ada Lovelace is your mentor." in body
    assert "ada@acme.example.org" in body
    assert "Wed 04 Mar 2026, 12:30 UTC" in body  # the next check-in
    assert 'for="cadence_days"' in body and 'for="meeting_minutes"' in body
    mine = client.get("/pairs").get_data(as_text=True)
    assert "Ada Lovelace" in mine and "Your mentor" in mine
    assert "Public speaking" in mine


def test_cadence_change_resends_the_invite_and_replans(
    pair, world, client, auth, outbox
):
    # Check-in #1 is held (logged on the page), so #2 is planned on 18 March.
    clock.freeze(datetime(2026, 3, 4, 13, 0, tzinfo=UTC))
    auth.login("ada@acme.example.org")
    response = _form_post(
        client,
        f"/pairs/{pair.id}",
        f"/pairs/{pair.id}/log",
        status="met",
        note="We drafted her talk.",
    )
    assert response.status_code == 302
    db.session.expire_all()
    pair = db.session.get(Pair, pair.id)
    assert [(c.status, c.due_at.day) for c in pair.meetings] == [
        ("met", 4),
        ("scheduled", 18),
    ]
    assert pair.meetings[0].notes == {str(world.mentor.id): "We drafted her talk."}

    # An invalid rhythm is explained inline, and nothing changes.
    response = _form_post(
        client,
        f"/pairs/{pair.id}",
        f"/pairs/{pair.id}/cadence",
        cadence_days="0",
        meeting_minutes="500",
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "From 1 to 92 days." in body and "From 5 to 120 minutes." in body

    # Every week, 15 minutes: #2 moves to 11 March; both get invite SEQUENCE 1.
    response = _form_post(
        client,
        f"/pairs/{pair.id}",
        f"/pairs/{pair.id}/cadence",
        cadence_days="7",
        meeting_minutes="15",
    )
    assert response.status_code == 302
    db.session.expire_all()
    pair = db.session.get(Pair, pair.id)
    assert (pair.cadence_days, pair.meeting_minutes, pair.ics_sequence) == (7, 15, 1)
    assert pair.meetings[1].due_at == datetime(2026, 3, 11, 12, 30, tzinfo=UTC)
    for to in ("ada@acme.example.org", "bo@acme.example.org"):
        [msg] = mails(outbox, to, "New rhythm")
        assert "a 15-minute check-in every week" in mail_text(msg)
        [part] = list(msg.iter_attachments())
        cal = Calendar.from_ical(part.get_payload(decode=True))
        vevent = cal.walk("VEVENT")[0]
        assert cal["method"] == "REQUEST"
        assert str(vevent["uid"]) == pair.ics_uid and vevent["sequence"] == 1
        assert vevent.decoded("duration") == timedelta(minutes=15)
        rule = vevent["rrule"].to_ical().decode()
        assert "FREQ=WEEKLY" in rule and "INTERVAL=1" in rule
        starts = list(rrulestr(rule, dtstart=vevent.decoded("dtstart")))
        assert starts[0] == datetime(2026, 3, 11, 12, 30, tzinfo=UTC)
        assert starts[1] - starts[0] == timedelta(days=7)
    # The reminder follows the new date: due the day before, 10 March.
    [tick] = db.session.scalars(
        select(Job).where(Job.kind == "pairs.tick", Job.status == "pending")
    ).all()
    assert tick.run_at == datetime(2026, 3, 10, 12, 30, tzinfo=UTC)
    tick_until(datetime(2026, 3, 10, 12, 30, tzinfo=UTC))
    assert kinds()["pairs.reminder"] == 2
    # Six days without use end a sign-in without "remember me" (SIGN_IN_IDLE_HOURS).
    auth.login("ada@acme.example.org")

    # Saving the same rhythm again sends nothing.
    before = kinds()
    _form_post(
        client,
        f"/pairs/{pair.id}",
        f"/pairs/{pair.id}/cadence",
        cadence_days="7",
        meeting_minutes="15",
    )
    assert kinds() == before

    # Every 10 days: not whole weeks, so the rule is daily.
    _form_post(
        client,
        f"/pairs/{pair.id}",
        f"/pairs/{pair.id}/cadence",
        cadence_days="10",
        meeting_minutes="15",
    )
    msg = mails(outbox, "bo@acme.example.org", "New rhythm")[-1]
    vevent = Calendar.from_ical(
        next(msg.iter_attachments()).get_payload(decode=True)
    ).walk("VEVENT")[0]
    assert vevent["sequence"] == 2
    assert vevent["rrule"]["FREQ"] == ["DAILY"] and vevent["rrule"]["INTERVAL"] == [10]


def test_pause_and_close_from_the_page(pair, client, auth, outbox):
    auth.login("bo@acme.example.org")
    response = _form_post(client, f"/pairs/{pair.id}", f"/pairs/{pair.id}/pause")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Pair, pair.id).status == "paused"
    [msg] = mails(outbox, "ada@acme.example.org", "paused")
    assert "Bo Chen paused your check-ins." in mail_text(msg)
    page = client.get(f"/pairs/{pair.id}").get_data(as_text=True)
    assert "Resume" in page and "Log a check-in now" not in page
    # Logging while paused is refused, kindly.
    response = _form_post(
        client, f"/pairs/{pair.id}", f"/pairs/{pair.id}/log", status="met"
    )
    assert response.status_code == 422
    assert "Resume the pair first" in response.get_data(as_text=True)
    # Closing ends it for good; the page stays readable, without the buttons.
    _form_post(client, f"/pairs/{pair.id}", f"/pairs/{pair.id}/close")
    db.session.expire_all()
    assert db.session.get(Pair, pair.id).status == "closed"
    page = client.get(f"/pairs/{pair.id}").get_data(as_text=True)
    assert "Closed" in page and "Save the rhythm" not in page
    tick_until(datetime(2026, 7, 1, tzinfo=UTC))
    assert "pairs.reminder" not in kinds()


def test_ended_pair_page_takes_feedback(pair, world, client, auth):
    clock.freeze(pair.term_ends_at + timedelta(days=5))
    schedule.tick(pair.id)
    db.session.commit()
    auth.login("ada@acme.example.org")
    page = client.get(f"/pairs/{pair.id}")
    assert "End of term: your feedback" in page.get_data(as_text=True)
    response = _form_post(
        client,
        f"/pairs/{pair.id}",
        f"/pairs/{pair.id}/feedback",
        rating="5",
        helped="Her questions.",
    )
    assert response.status_code == 200
    feedback = lifecycle.feedback_of(db.session.get(Pair, pair.id), world.mentor)
    assert (feedback.rating, feedback.helped, feedback.wants_renewal) == (
        5,
        "Her questions.",
        False,
    )


def test_organizer_overview(pair, world, client, auth, make_org, make_user):
    # One check-in held, one missed, in March.
    clock.freeze(datetime(2026, 3, 4, 13, 0, tzinfo=UTC))
    answers.log_meeting(pair, world.mentor, "met")
    clock.freeze(datetime(2026, 3, 21, 13, 0, tzinfo=UTC))
    schedule.tick(pair.id)
    db.session.commit()
    other_org = make_org(slug="other")
    make_user(other_org, role="organizer", email="zoe@other.example.org")

    auth.login("olu@acme.example.org")
    page = client.get("/o/acme/pairs")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Ada Lovelace" in body and "Bo Chen" in body
    assert "5 min / 14 d" in body
    # March is the busiest month: its bar is full height, half held, half missed.
    assert 'class="bar bar-held share-10"' in body
    assert 'class="bar bar-missed share-10"' in body
    assert '<th scope="row">Mar 2026</th><td>1</td><td>1</td>' in body
    auth.logout()
    auth.login("bo@acme.example.org")  # a member, not an organizer
    assert client.get("/o/acme/pairs").status_code == 403
    auth.logout()
    auth.login("zoe@other.example.org")  # another organization's organizer
    assert client.get("/o/acme/pairs").status_code == 404
    assert "Ada" not in client.get("/o/other/pairs").get_data(as_text=True)
