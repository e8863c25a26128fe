"""Calendar files parse with ``icalendar`` and carry the right instants across DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from mixer.events import lifecycle
from mixer.extensions import db
from mixer.jobs.services import run_due


@pytest.fixture
def member(org, make_user):
    return make_user(org)


def _event_from(resp):
    assert resp.status_code == 200
    assert resp.mimetype == "text/calendar"
    cal = Calendar.from_ical(resp.data)
    [vevent] = cal.walk("VEVENT")
    return cal, vevent


def _attached(msg) -> Calendar:
    [part] = [
        p for p in msg.iter_attachments() if p.get_content_type() == "text/calendar"
    ]
    return Calendar.from_ical(part.get_payload(decode=True))


@pytest.mark.parametrize(
    ("zone", "local_start", "expected_utc"),
    [
        # Berlin springs forward on 29 March 2026: 10:00 is 09:00Z before, 08:00Z after.
        ("Europe/Berlin", datetime(2026, 3, 26, 10), datetime(2026, 3, 26, 9)),
        ("Europe/Berlin", datetime(2026, 4, 2, 10), datetime(2026, 4, 2, 8)),
        # New York falls back on 1 November 2026: 18:00 is 22:00Z before, 23:00Z after.
        ("America/New_York", datetime(2026, 10, 29, 18), datetime(2026, 10, 29, 22)),
        ("America/New_York", datetime(2026, 11, 5, 18), datetime(2026, 11, 5, 23)),
        # Sydney leaves daylight time on 5 April 2026 (southern hemisphere).
        ("Australia/Sydney", datetime(2026, 4, 2, 12), datetime(2026, 4, 2, 1)),
        ("Australia/Sydney", datetime(2026, 4, 9, 12), datetime(2026, 4, 9, 2)),
    ],
)
def test_event_ics_has_the_right_utc_instant(
    client, auth, org, member, zone, local_start, expected_utc
):
    event = lifecycle.create_event(
        org,
        None,
        kind="workshop",
        title="Feedback workshop",
        starts_at=local_start,
        ends_at=local_start + timedelta(hours=2),
        timezone=zone,
        capacity=12,
        status="published",
    )
    db.session.commit()
    auth.login(member.email)
    cal, vevent = _event_from(client.get(f"/events/{event.id}/calendar.ics"))
    assert cal["METHOD"] == "PUBLISH"
    start = vevent.decoded("DTSTART")
    assert start.tzinfo is not None
    assert start.astimezone(UTC) == expected_utc.replace(tzinfo=UTC)
    assert vevent.decoded("DTEND") - start == timedelta(hours=2)
    assert vevent["UID"] == event.ical_uid


def test_an_event_spanning_the_change_lasts_its_real_length(client, auth, org, member):
    # 01:00–04:00 in Berlin on the night the clocks skip 02:00–03:00: two real hours.
    event = lifecycle.create_event(
        org,
        None,
        kind="mentor_mixer",
        title="Night owls",
        starts_at=datetime(2026, 3, 29, 1, 0),
        ends_at=datetime(2026, 3, 29, 4, 0),
        timezone="Europe/Berlin",
        capacity=12,
        status="published",
    )
    db.session.commit()
    auth.login(member.email)
    _, vevent = _event_from(client.get(f"/events/{event.id}/calendar.ics"))
    assert vevent.decoded("DTSTART") == datetime(2026, 3, 29, 0, 0, tzinfo=UTC)
    assert vevent.decoded("DTEND") == datetime(2026, 3, 29, 2, 0, tzinfo=UTC)


def test_a_weekly_series_across_the_change_keeps_the_wall_clock(
    client, auth, org, member
):
    event = lifecycle.create_event(
        org,
        None,
        kind="lunch_and_learn",
        title="Weekly lunch",
        starts_at=datetime(2026, 3, 19, 12, 30),
        ends_at=datetime(2026, 3, 19, 13, 30),
        timezone="Europe/Berlin",
        capacity=12,
        status="published",
    )
    events = lifecycle.create_series(event, None, "weekly", 3)
    for each in events[1:]:
        lifecycle.publish_event(each)
    db.session.commit()
    auth.login(member.email)
    starts = []
    for each in events:
        _, vevent = _event_from(client.get(f"/events/{each.id}/calendar.ics"))
        starts.append(vevent.decoded("DTSTART").astimezone(UTC))
    assert starts == [
        datetime(2026, 3, 19, 11, 30, tzinfo=UTC),
        datetime(2026, 3, 26, 11, 30, tzinfo=UTC),
        datetime(2026, 4, 2, 10, 30, tzinfo=UTC),  # 12:30 CEST
    ]


def test_invitations_keep_their_uid_and_raise_the_sequence(
    make_event, make_registration, org, outbox, frozen
):
    event = make_event(org, timezone="Europe/Berlin", venue="Room 1")
    reg = make_registration(event, name="Ana Lima", email="ana@example.org")
    lifecycle.update_event(event, venue="Room 2")
    db.session.commit()
    run_due()
    lifecycle.cancel_event(event)
    db.session.commit()
    run_due()
    calendars = [_attached(m) for m in outbox(reg.email)]
    assert [c["METHOD"] for c in calendars] == ["REQUEST", "REQUEST", "CANCEL"]
    vevents = [c.walk("VEVENT")[0] for c in calendars]
    assert {str(v["UID"]) for v in vevents} == {event.ical_uid}
    assert [int(v["SEQUENCE"]) for v in vevents] == [0, 1, 2]
    assert [str(v["LOCATION"]) for v in vevents] == ["Room 1", "Room 2", "Room 2"]
    assert str(vevents[0]["ATTENDEE"]) == "mailto:ana@example.org"
    assert vevents[0]["ATTENDEE"].params["CN"] == "Ana Lima"
    assert str(vevents[0]["ORGANIZER"]).startswith("mailto:")
    assert vevents[2]["STATUS"] == "CANCELLED"


def test_the_invite_describes_the_event_in_plain_text(
    client, auth, org, member, make_event, frozen
):
    event = make_event(
        org,
        description=(
            "# Agenda\n\nBring **questions** and read [the guide]"
            "(https://docs.example.org/guide) &amp; `notes`.\n\n"
            "- one *idea*\n- two ideas\n\n1. first\n2. second\n\n"
            "<b>bold</b> tags go"
        ),
    )
    auth.login(member.email)
    _, vevent = _event_from(client.get(f"/events/{event.id}/calendar.ics"))
    text = str(vevent["DESCRIPTION"])
    assert (
        "Agenda\n\n"
        "Bring questions and read the guide (https://docs.example.org/guide)"
        " & notes.\n\n"
        "- one idea\n- two ideas\n\n1. first\n2. second\n\nbold tags go"
    ) in text
    assert not set("*#`<>[]") & set(text.split("Details and registration")[0])
