"""create_pair: one open pair of two people, both introduced, a valid invite."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from dateutil.rrule import rrulestr
from icalendar import Calendar
from sqlalchemy import func, select

from mixer.extensions import db
from mixer.jobs.models import Job
from mixer.pairs.lifecycle import create_pair
from mixer.pairs.models import Pair, PairMeeting
from tests.helpers import mail_text

from .conftest import MONDAY


def _invite(msg) -> Calendar:
    """The invite.ics attachment of a message, parsed."""
    parts = [p for p in msg.iter_attachments() if p.get_filename() == "invite.ics"]
    assert len(parts) == 1
    assert parts[0].get_content_type() == "text/calendar"
    return Calendar.from_ical(parts[0].get_payload(decode=True))


def test_create_pair_introduces_both_once_with_a_recurring_invite(world, outbox):
    pair = create_pair(
        world.org,
        world.mentee,  # order does not matter
        world.mentor,
        kind="mentoring",
        mentor=world.mentor,
        topic="Giving feedback",
    )
    db.session.commit()

    assert pair.a_id < pair.b_id
    assert pair.status == "active"
    assert pair.open_key == f"{world.org.id}:{pair.a_id}:{pair.b_id}"
    assert (pair.cadence_days, pair.meeting_minutes) == (14, 5)
    assert pair.term_ends_at == MONDAY + timedelta(days=90)
    # Monday 09:00 UTC + 2 days → Wednesday 12:30 (no event: UTC).
    assert pair.first_slot_at == datetime(2026, 3, 4, 12, 30, tzinfo=UTC)
    assert pair.ics_uid.endswith("@mixer.test")
    [meeting] = pair.meetings
    assert (meeting.number, meeting.due_at, meeting.status) == (
        1,
        pair.first_slot_at,
        "scheduled",
    )
    # One pending tick, a day before the first check-in (the reminder).
    ticks = db.session.scalars(select(Job).where(Job.kind == "pairs.tick")).all()
    assert [(t.status, t.run_at) for t in ticks] == [
        ("pending", pair.first_slot_at - timedelta(days=1))
    ]

    mails = outbox()
    assert sorted(m["To"].addresses[0].addr_spec for m in mails) == [
        "ada@acme.example.org",
        "bo@acme.example.org",
    ]
    to_bo = outbox("bo@acme.example.org")[0]
    text = mail_text(to_bo)
    assert to_bo["Subject"] == "Meet Ada Lovelace: your new mentoring pair"
    assert "ada@acme.example.org" in text  # addresses shared: both agreed
    assert "You and Ada Lovelace both chose to keep in touch." in text
    assert "Ada Lovelace is your mentor." in text
    assert "Topic: Giving feedback" in text
    assert "a 5-minute check-in every 2 weeks" in text
    assert "Wed 04 Mar 2026, 12:30 UTC" in text
    assert to_bo["List-Unsubscribe"]
    to_ada = outbox("ada@acme.example.org")[0]
    assert "You mentor Bo Chen." in mail_text(to_ada)
    assert "bo@acme.example.org" in mail_text(to_ada)

    cal = _invite(to_bo)
    assert cal["method"] == "REQUEST"
    [vevent] = cal.walk("VEVENT")
    assert str(vevent["uid"]) == pair.ics_uid
    assert vevent["sequence"] == 0
    assert vevent.decoded("dtstart") == pair.first_slot_at
    assert vevent.decoded("duration") == timedelta(minutes=5)
    attendees = sorted(str(a) for a in vevent["attendee"])
    assert attendees == ["mailto:ada@acme.example.org", "mailto:bo@acme.example.org"]
    rule = vevent["rrule"].to_ical().decode()
    assert "FREQ=WEEKLY" in rule and "INTERVAL=2" in rule
    dates = list(rrulestr(rule, dtstart=vevent.decoded("dtstart")))
    assert dates[:3] == [pair.first_slot_at + timedelta(days=14 * i) for i in range(3)]
    assert dates[-1] <= pair.term_ends_at
    assert len(dates) == 7  # Mar 4 … May 27, within the 90-day term

    # Asking again for the same two (either order, any kind) changes nothing.
    assert create_pair(world.org, world.mentor, world.mentee, kind="peer") is None
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Pair)) == 1
    assert len(outbox()) == 2


def test_event_pairs_propose_a_weekday_lunchtime_in_the_events_zone(
    world, make_event, outbox
):
    # Thursday 09:00 UTC → the first weekday two days on is Monday (Sat/Sun skipped).
    from mixer import clock

    clock.freeze(datetime(2026, 3, 5, 9, 0, tzinfo=UTC))
    event = make_event(world.org, timezone="America/New_York")
    pair = create_pair(world.org, world.mentor, world.mentee, kind="peer", event=event)
    db.session.commit()
    assert pair.first_slot_at == datetime(2026, 3, 9, 16, 30, tzinfo=UTC)  # EDT
    text = mail_text(outbox("bo@acme.example.org")[0])
    assert f"both chose to keep in touch after {event.title}." in text
    assert f"Where you met: {event.title}" in text
    assert "Mon 09 Mar 2026, 12:30 EDT" in text
    assert "peers" in text


def test_create_pair_refuses_nonsense(world, make_org, make_user):
    with pytest.raises(ValueError, match='kind "mentoring" needs mentor'):
        create_pair(world.org, world.mentor, world.mentee, kind="mentoring")
    with pytest.raises(ValueError, match='kind "peer" takes no mentor'):
        create_pair(
            world.org, world.mentor, world.mentee, kind="peer", mentor=world.mentor
        )
    with pytest.raises(ValueError, match="a pair needs two different people"):
        create_pair(world.org, world.mentor, world.mentor, kind="peer")
    stranger = make_user(make_org())
    with pytest.raises(ValueError, match="is not a member of acme"):
        create_pair(world.org, world.mentor, stranger, kind="peer")


def test_create_pair_inside_a_callers_transaction_only_flushes(world, outbox):
    pair = create_pair(world.org, world.mentor, world.mentee, kind="peer")
    assert pair.id is not None
    db.session.rollback()  # the caller changes its mind: nothing stays
    assert db.session.scalar(select(func.count()).select_from(Pair)) == 0
    assert db.session.scalar(select(func.count()).select_from(PairMeeting)) == 0
    assert outbox() == []


def test_two_sessions_racing_leave_one_open_pair(app, world, outbox):
    """Two transactions create the same pair at once: the unique open_key decides."""
    org_id, ids = world.org.id, (world.mentor.id, world.mentee.id)
    inserted = threading.Event()
    results: dict[str, object] = {}

    def first() -> None:
        """Create the pair and hold the transaction open a moment."""
        with app.app_context():
            from mixer.accounts.models import User
            from mixer.orgs.models import Organization

            org = db.session.get(Organization, org_id)
            a, b = (db.session.get(User, i) for i in ids)
            results["first"] = create_pair(org, a, b, kind="peer").id
            inserted.set()
            # Hold the transaction open while the second one tries.
            threading.Event().wait(0.5)
            db.session.commit()
            db.session.remove()

    def second() -> None:
        """Create the same pair while the first has not committed."""
        inserted.wait(10)
        with app.app_context():
            from mixer.accounts.models import User
            from mixer.orgs.models import Organization

            org = db.session.get(Organization, org_id)
            a, b = (db.session.get(User, i) for i in ids)
            results["second"] = create_pair(org, b, a, kind="peer")
            db.session.commit()
            db.session.remove()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results["second"] is None
    assert db.session.scalar(select(func.count()).select_from(Pair)) == 1
    assert len(outbox()) == 2


def test_meetings_keep_their_local_time_across_daylight_saving(
    world, make_event, outbox
):
    from zoneinfo import ZoneInfo

    from mixer import clock
    from mixer.pairs import answers

    london = ZoneInfo("Europe/London")
    event = make_event(world.org, timezone="Europe/London")
    pair = create_pair(world.org, world.mentor, world.mentee, kind="peer", event=event)
    db.session.commit()
    assert pair.first_slot_at == datetime(2026, 3, 4, 12, 30, tzinfo=UTC)  # GMT
    clock.freeze(datetime(2026, 3, 4, 13, 0, tzinfo=UTC))
    answers.log_meeting(pair, world.mentor, "met")
    clock.freeze(datetime(2026, 3, 18, 13, 0, tzinfo=UTC))
    answers.log_meeting(pair, world.mentor, "met")
    # Summer time began on 29 March: #3 is at 12:30 BST, which is 11:30 UTC.
    assert pair.meetings[2].due_at == datetime(2026, 4, 1, 11, 30, tzinfo=UTC)

    cal = _invite(outbox("bo@acme.example.org")[0])
    [vevent] = cal.walk("VEVENT")
    assert vevent["dtstart"].params["TZID"] == "Europe/London"
    assert [tz["tzid"] for tz in cal.walk("VTIMEZONE")] == ["Europe/London"]
    rule = vevent["rrule"].to_ical().decode()
    assert "UNTIL=20260531T090000Z" in rule  # UNTIL in UTC with a zoned start
    start = vevent.decoded("dtstart")
    dates = list(rrulestr(rule, dtstart=start))
    assert [d.astimezone(london).strftime("%d %b %H:%M %Z") for d in dates[:3]] == [
        "04 Mar 12:30 GMT",
        "18 Mar 12:30 GMT",
        "01 Apr 12:30 BST",
    ]


def test_a_pair_from_a_mentor_request_says_so(world, outbox):
    create_pair(
        world.org,
        world.mentor,
        world.mentee,
        kind="mentoring",
        mentor=world.mentor,
        source="request",
        topic="Negotiation",
    )
    db.session.commit()
    to_bo = mail_text(outbox("bo@acme.example.org")[0])
    to_ada = mail_text(outbox("ada@acme.example.org")[0])
    assert "You asked for a micro-mentor on Negotiation, and Ada Lovelace said" in to_bo
    assert "You said yes when Bo Chen asked for a micro-mentor on Negotiation." in (
        to_ada
    )


def test_a_pair_without_an_event_uses_the_zone_of_the_orgs_events(
    world, make_event, outbox
):
    # Organizations have no zone of their own: their latest event's zone stands in,
    # so an ask's pair in a London organization meets at 12:30 London time.
    from mixer import clock

    clock.freeze(datetime(2026, 6, 1, 9, 0, tzinfo=UTC))  # a Monday in summer time
    make_event(world.org, timezone="America/New_York", starts_at=clock.now())
    make_event(
        world.org, timezone="Europe/London", starts_at=clock.now() + timedelta(days=3)
    )
    pair = create_pair(
        world.org, world.mentor, world.mentee, kind="peer", source="request"
    )
    db.session.commit()
    assert pair.timezone == "Europe/London"
    assert pair.first_slot_at == datetime(2026, 6, 3, 11, 30, tzinfo=UTC)  # BST
    assert "Wed 03 Jun 2026, 12:30 BST" in mail_text(outbox("bo@acme.example.org")[0])


def test_a_pair_in_an_org_without_events_uses_utc(world):
    pair = create_pair(world.org, world.mentor, world.mentee, kind="peer")
    db.session.commit()
    assert pair.timezone == "UTC"
