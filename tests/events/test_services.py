"""Event and registration rules, called directly on a real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from mixer import clock
from mixer.errors import LinkError
from mixer.events import services
from mixer.events.models import Event, EventSession, Registration
from mixer.events.services import EventError
from mixer.extensions import db
from mixer.jobs.models import Job
from mixer.jobs.services import run_due
from tests.helpers import link_in, mail_text

from .conftest import NOW


def _count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def _ics(msg) -> Calendar:
    [part] = [
        p for p in msg.iter_attachments() if p.get_content_type() == "text/calendar"
    ]
    return Calendar.from_ical(part.get_payload(decode=True))


def _statuses(event) -> list[tuple[str, str, int | None]]:
    db.session.expire_all()
    rows = db.session.execute(
        select(Registration.email, Registration.status, Registration.waitlist_position)
        .where(Registration.event_id == event.id)
        .order_by(Registration.id)
    )
    return [tuple(r) for r in rows]


@pytest.fixture
def org(make_org):
    return make_org(slug="acme", name="Acme")


@pytest.fixture
def organizer(org, make_user):
    return make_user(org, role="organizer", password=None, name="Olga Organizer")


# ---------------------------------------------------------------------------
# Creating events

GOOD = {
    "kind": "lunch_and_learn",
    "title": "Negotiation over lunch",
    "starts_at": datetime(2026, 3, 5, 12, 0),
    "ends_at": datetime(2026, 3, 5, 13, 0),
    "timezone": "Europe/Paris",
    "capacity": 20,
}


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"ends_at": datetime(2026, 3, 5, 11, 0)}, "ends_at", "after the start"),
        ({"ends_at": datetime(2026, 3, 5, 12, 0)}, "ends_at", "after the start"),
        ({"capacity": 0}, "capacity", "between 1"),
        ({"capacity": -5}, "capacity", "between 1"),
        ({"kind": "rave"}, "kind", "Unknown kind"),
        ({"timezone": "Mars/Olympus"}, "timezone", "Unknown time zone"),
        ({"title": "x" * 10_000}, "title", "at most 200"),
        ({"title": "   "}, "title", "required"),
        ({"online_url": "javascript:alert(1)"}, "online_url", "http"),
        # 02:30 does not exist in Paris on the night the clocks go forward.
        (
            {
                "starts_at": datetime(2026, 3, 29, 2, 30),
                "ends_at": datetime(2026, 3, 29, 4, 0),
            },
            "starts_at",
            "does not exist",
        ),
    ],
)
def test_bad_event_input_is_refused_naming_the_field(
    org, organizer, frozen, change, field, words
):
    with pytest.raises(EventError) as info:
        services.create_event(org, organizer, **{**GOOD, **change})
    db.session.rollback()
    assert info.value.field == field
    assert words in str(info.value)
    assert info.value.status == 400
    assert _count(Event) == 0


def test_times_are_read_in_the_event_zone_and_stored_in_utc(org, organizer, frozen):
    event = services.create_event(org, organizer, **GOOD)
    db.session.commit()
    db.session.expire_all()
    event = db.session.get(Event, event.id)
    assert event.starts_at == datetime(2026, 3, 5, 11, 0, tzinfo=UTC)  # CET = UTC+1
    assert event.ends_at == datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
    assert event.status == "draft"
    assert event.organizers == [organizer]
    assert services.when_text(event) == "Thu 05 Mar 2026, 12:00–13:00 CET"


def test_each_kind_has_at_least_one_session(org, organizer, frozen):
    lunch = services.create_event(
        org, organizer, **GOOD, topic="Asking for a raise", speakers="Ana, Bo"
    )
    mixer = services.create_event(org, organizer, **{**GOOD, "kind": "mentor_mixer"})
    workshop = services.create_event(
        org,
        organizer,
        **{**GOOD, "kind": "workshop", "ends_at": datetime(2026, 3, 5, 17, 0)},
        agenda=services.parse_agenda(
            "14:00 | Role play: the hard conversation | Chen\n"
            "12:00 | Welcome\n"
            "13:15 - Feedback that lands | Dee\n"
        ),
    )
    db.session.commit()
    assert [(s.title, s.speaker_name) for s in lunch.sessions] == [
        ("Asking for a raise", "Ana, Bo")
    ]
    assert [s.title for s in mixer.sessions] == [GOOD["title"]]
    assert (mixer.rounds, mixer.minutes_per_round) == (6, 8)
    assert [(s.title, s.speaker_name) for s in workshop.sessions] == [
        ("Welcome", None),
        ("Feedback that lands", "Dee"),
        ("Role play: the hard conversation", "Chen"),
    ]
    assert workshop.sessions[1].starts_at == datetime(2026, 3, 5, 12, 15, tzinfo=UTC)
    assert services.agenda_text(workshop).splitlines()[0] == "12:00 | Welcome"


def test_agenda_outside_the_workshop_or_malformed_is_refused(org, organizer, frozen):
    for text, words in [
        ("18:00 | Too late", "outside the workshop"),
        ("half past nine | Title", "should look like"),
        ("25:00 | Title", "not a time"),
    ]:
        with pytest.raises(EventError) as info:
            services.create_event(
                org,
                organizer,
                **{**GOOD, "kind": "workshop"},
                agenda=services.parse_agenda(text),
            )
        db.session.rollback()
        assert info.value.field == "agenda"
        assert words in str(info.value)
    assert _count(EventSession) == 0


# ---------------------------------------------------------------------------
# Registration, waitlist, cancellation


def test_seats_then_waitlist_then_promotion(make_event, make_registration, org, outbox):
    event = make_event(org, capacity=2)
    regs = [make_registration(event) for _ in range(4)]
    assert [(r.status, r.waitlist_position) for r in regs] == [
        ("registered", None),
        ("registered", None),
        ("waitlisted", 1),
        ("waitlisted", 2),
    ]
    confirmation = outbox(regs[0].email)[0]
    assert "You're registered" in confirmation["Subject"]
    ics = _ics(confirmation)
    assert ics["METHOD"] == "REQUEST"
    assert "position 2" in mail_text(outbox(regs[3].email)[0])

    promoted = services.cancel_registration(regs[0])
    db.session.commit()
    assert [p.email for p in promoted] == [regs[2].email]
    assert _statuses(event) == [
        (regs[0].email, "cancelled", None),
        (regs[1].email, "registered", None),
        (regs[2].email, "registered", None),
        (regs[3].email, "waitlisted", 1),
    ]
    [_, promotion] = outbox(regs[2].email)
    assert promotion["Subject"].startswith("A seat opened up")
    assert _ics(promotion)["METHOD"] == "REQUEST"
    [_, cancelled] = outbox(regs[0].email)
    assert _ics(cancelled)["METHOD"] == "CANCEL"
    # Cancelling again is harmless.
    assert services.cancel_registration(regs[0]) == []


def test_leaving_the_waitlist_closes_the_gap(make_event, make_registration, org):
    event = make_event(org, capacity=1)
    regs = [make_registration(event) for _ in range(4)]
    services.cancel_registration(regs[2])  # waitlist #2
    db.session.commit()
    assert [s[1:] for s in _statuses(event)] == [
        ("registered", None),
        ("waitlisted", 1),
        ("cancelled", None),
        ("waitlisted", 2),
    ]


def test_registering_twice_or_when_closed_is_a_conflict(
    make_event, make_registration, org, organizer
):
    event = make_event(org)
    make_registration(event, email="ana@example.org")
    with pytest.raises(EventError) as info:
        make_registration(event, email="Ana@Example.org")
    db.session.rollback()
    assert (info.value.field, info.value.status) == ("email", 409)
    assert "already registered" in str(info.value)

    cancelled = make_event(org)
    services.cancel_event(cancelled)
    db.session.commit()
    past = make_event(
        org,
        starts_at=clock.now() - timedelta(days=2),
        ends_at=clock.now() - timedelta(days=2, hours=-1),
    )
    draft = make_event(org, status="draft")
    for closed, words in [(cancelled, "cancelled"), (past, "over"), (draft, "not")]:
        with pytest.raises(EventError) as info:
            make_registration(closed, email="bo@example.org")
        db.session.rollback()
        assert (info.value.field, info.value.status) == ("event", 409)
        assert words in str(info.value)
    assert _count(Registration) == 1


def test_a_cancelled_registration_can_register_again(
    make_event, make_registration, org
):
    event = make_event(org, capacity=1)
    first = make_registration(event, email="ana@example.org")
    services.cancel_registration(first)
    db.session.commit()
    again = make_registration(event, email="ana@example.org")
    assert again.id == first.id and again.status == "registered"


def test_registration_window_and_start(make_event, make_registration, org, frozen):
    event = make_event(
        org,
        registration_opens_at=NOW + timedelta(hours=2),
        registration_closes_at=NOW + timedelta(hours=5),
    )
    with pytest.raises(EventError, match="Registration opens"):
        make_registration(event, source="member")
    db.session.rollback()
    clock.advance(timedelta(hours=3))
    assert make_registration(event, source="member").status == "registered"
    clock.advance(timedelta(hours=3))
    with pytest.raises(EventError, match="Registration has closed"):
        make_registration(event, source="member")
    db.session.rollback()
    # Organizers may still add people at the door.
    assert make_registration(event, source="organizer").status == "registered"


def test_raising_capacity_promotes_as_many_as_fit(
    make_event, make_registration, org, outbox
):
    event = make_event(org, capacity=2)
    regs = [make_registration(event) for _ in range(6)]
    changed = services.update_event(event, capacity=5)
    db.session.commit()
    assert changed == {"capacity"}
    assert [s[1:] for s in _statuses(event)] == [
        ("registered", None),
        ("registered", None),
        ("registered", None),
        ("registered", None),
        ("registered", None),
        ("waitlisted", 1),
    ]
    for reg in regs[2:5]:
        assert outbox(reg.email)[-1]["Subject"].startswith("A seat opened up")
    assert len(outbox(regs[5].email)) == 1


def test_organizers_move_people(make_event, make_registration, org, outbox):
    event = make_event(org, capacity=1)
    a, b, c, d = (make_registration(event) for _ in range(4))
    services.move_registration(d, "waitlist", 1)
    db.session.commit()
    assert [s[1:] for s in _statuses(event)] == [
        ("registered", None),
        ("waitlisted", 2),
        ("waitlisted", 3),
        ("waitlisted", 1),
    ]
    services.move_registration(c, "registered")  # past capacity, on purpose
    db.session.commit()
    assert [s[1:] for s in _statuses(event)] == [
        ("registered", None),
        ("waitlisted", 2),
        ("registered", None),
        ("waitlisted", 1),
    ]
    services.move_registration(a, "waitlist")  # to the end
    db.session.commit()
    assert _statuses(event)[0][1:] == ("waitlisted", 3)
    assert "position 3" in mail_text(outbox(a.email)[-1])
    with pytest.raises(EventError) as info:
        services.move_registration(b, "waitlist", 9)
    assert info.value.field == "position"


def test_guest_confirms_by_email_link_once(make_event, org, outbox, app):
    event = make_event(org, visibility="link", capacity=1)
    reg = services.register(
        event, email="guest@example.org", name="Gil Guest", source="guest"
    )
    db.session.commit()
    assert reg.status == "pending"
    assert services.counts_for([event.id])[event.id]["registered"] == 0
    [msg] = outbox("guest@example.org")
    link = link_in(msg, f"/events/{event.id}/confirm/")
    token = link.rsplit("/", 1)[1]
    reg = services.confirm_guest(token)
    db.session.commit()
    assert reg.status == "registered"
    with pytest.raises(LinkError):
        services.confirm_guest(token)
    db.session.rollback()
    assert outbox("guest@example.org")[-1]["Subject"].startswith("You're registered")


# ---------------------------------------------------------------------------
# Changes, cancellation, reminders


def test_moving_an_event_tells_everyone_with_a_new_sequence(
    make_event, make_registration, org, outbox, frozen
):
    event = make_event(org, capacity=1, timezone="Europe/Paris")
    seated, waiting = make_registration(event), make_registration(event)
    changed = services.update_event(
        event,
        starts_at=event.starts_at + timedelta(hours=2),
        ends_at=event.ends_at + timedelta(hours=2),
        venue="Room 4.12",
    )
    db.session.commit()
    assert {"starts_at", "ends_at", "venue"} <= changed
    assert event.sequence == 1
    assert run_due()["done"] >= 1
    update = outbox(seated.email)[-1]
    assert update["Subject"] == f"Changed time and place: {event.title}"
    vevent = _ics(update).walk("VEVENT")[0]
    assert vevent["SEQUENCE"] == 1
    assert vevent.decoded("DTSTART") == event.starts_at
    assert vevent["UID"] == event.ical_uid
    assert "Room 4.12" in mail_text(update)
    note = outbox(waiting.email)[-1]
    assert note["Subject"].startswith("Changed time and place")
    assert not list(note.iter_attachments())
    # Running the worker again sends nothing twice.
    before = len(outbox())
    run_due()
    assert len(outbox()) == before


def test_cancelling_an_event_sends_calendar_cancellations(
    make_event, make_registration, org, outbox, frozen
):
    event = make_event(org, capacity=1, starts_at=NOW + timedelta(days=3))
    seated, waiting = make_registration(event), make_registration(event)
    services.cancel_event(event, "The speaker is ill.")
    db.session.commit()
    run_due()
    for reg, method in [(seated, "CANCEL"), (waiting, None)]:
        msg = outbox(reg.email)[-1]
        assert msg["Subject"] == f"Cancelled: {event.title}"
        assert "The speaker is ill." in mail_text(msg)
        if method:
            cal = _ics(msg)
            assert cal["METHOD"] == "CANCEL"
            assert cal.walk("VEVENT")[0]["STATUS"] == "CANCELLED"
            assert cal.walk("VEVENT")[0]["SEQUENCE"] == 1
    reminder = db.session.scalar(select(Job).where(Job.kind == "events.reminder"))
    assert reminder.status == "cancelled"


def test_reminder_goes_out_once_the_day_before(
    make_event, make_registration, org, outbox, frozen, make_user
):
    event = make_event(org, starts_at=NOW + timedelta(days=3))
    reg = make_registration(event)
    quiet = make_user(org, password=None)
    quiet.notifications = {**quiet.notifications, "event_reminders": False}
    db.session.commit()
    make_registration(event, email=quiet.email, name=quiet.name, user=quiet)
    run_due()
    assert not [m for m in outbox() if m["Subject"].startswith("Tomorrow")]
    clock.freeze(event.starts_at - timedelta(hours=23))
    run_due()
    reminders = [m for m in outbox() if m["Subject"].startswith("Tomorrow")]
    assert [m["To"] for m in reminders] == [reg.email]
    run_due()
    assert len([m for m in outbox() if m["Subject"].startswith("Tomorrow")]) == 1


def test_moving_an_event_moves_its_reminder(make_event, org, frozen):
    event = make_event(org, starts_at=NOW + timedelta(days=3))
    services.update_event(
        event,
        starts_at=event.starts_at + timedelta(days=7),
        ends_at=event.ends_at + timedelta(days=7),
    )
    db.session.commit()
    jobs = db.session.scalars(
        select(Job).where(Job.kind == "events.reminder").order_by(Job.id)
    ).all()
    assert [j.status for j in jobs] == ["cancelled", "pending"]
    assert jobs[1].run_at == event.starts_at - timedelta(days=1)


def test_a_finished_event_is_marked_ended(make_event, org, frozen):
    event = make_event(org)
    clock.freeze(event.ends_at + timedelta(minutes=1))
    run_due()
    db.session.expire_all()
    assert db.session.get(Event, event.id).status == "ended"


# ---------------------------------------------------------------------------
# Duplicates and series


def test_duplicate_runs_it_again_next_month_at_the_same_wall_clock(
    org, organizer, frozen
):
    # The first Thursday of March 2026, noon in London (GMT, UTC+0) …
    event = services.create_event(
        org,
        organizer,
        **{**GOOD, "timezone": "Europe/London"},
    )
    db.session.commit()
    copy = services.duplicate_event(event, organizer)
    db.session.commit()
    # … becomes the first Thursday of April, noon BST (UTC+1).
    assert copy.starts_at == datetime(2026, 4, 2, 11, 0, tzinfo=UTC)
    assert copy.ends_at == datetime(2026, 4, 2, 12, 0, tzinfo=UTC)
    assert copy.status == "draft" and copy.ical_uid != event.ical_uid
    assert copy.title == event.title and copy.organizers == [organizer]


def test_series_on_the_first_thursday_of_each_month(org, organizer, frozen):
    event = services.create_event(
        org, organizer, **{**GOOD, "timezone": "Europe/London"}
    )
    events = services.create_series(event, organizer, "monthly_weekday", 4)
    db.session.commit()
    assert [e.starts_at for e in events] == [
        datetime(2026, 3, 5, 12, tzinfo=UTC),
        datetime(2026, 4, 2, 11, tzinfo=UTC),
        datetime(2026, 5, 7, 11, tzinfo=UTC),
        datetime(2026, 6, 4, 11, tzinfo=UTC),
    ]
    assert {e.series_id for e in events} == {event.series_id}
    assert event.series.description == "The first Thursday of every month"
    with pytest.raises(EventError) as info:
        services.create_series(event, organizer, "monthly_weekday", 500)
    assert info.value.field == "count"


# ---------------------------------------------------------------------------
# Organizer views and feeds


def test_catering_summary_and_csv(make_event, make_registration, org):
    event = make_event(org, capacity=4)
    for dietary in ["Vegan", "vegan", None, "Halal", "=HYPERLINK(1)"]:
        make_registration(event, dietary=dietary)
    summary = dict(services.catering_summary(event))
    assert summary == {"Vegan": 2, "Halal": 1, "No special needs": 1}  # 5th waits
    csv_text = "".join(services.registrations_csv(event))
    assert csv_text.splitlines()[0].startswith("id,name,email,status")
    assert "'=HYPERLINK(1)" in csv_text and ",=HYPERLINK" not in csv_text


def test_calendar_feeds(make_event, make_registration, org, make_user, make_org):
    member = make_user(org, password=None)
    mine = make_event(org, title="Mine")
    make_event(org, title="Someone else's")
    make_registration(mine, email=member.email, name=member.name, user=member)
    personal = services.feed_for(member)
    org_feed = services.feed_for(member, org)
    db.session.commit()
    titles = [
        str(e["SUMMARY"])
        for e in Calendar.from_ical(services.feed_calendar(personal.token)).walk(
            "VEVENT"
        )
    ]
    assert titles == ["Mine"]
    org_titles = {
        str(e["SUMMARY"])
        for e in Calendar.from_ical(services.feed_calendar(org_feed.token)).walk(
            "VEVENT"
        )
    }
    assert org_titles == {"Mine", "Someone else's"}
    old = org_feed.token
    services.reset_feed(member, org)
    db.session.commit()
    assert services.feed_calendar(old) is None
    assert services.feed_calendar("not-a-token") is None


def test_an_old_cancel_link_does_not_cancel_a_new_registration(
    make_event, make_registration, org, frozen
):
    event = make_event(org)
    first = make_registration(event, email="ana@example.org")
    old_token = services.cancel_token(first)
    services.cancel_registration(first)
    db.session.commit()
    clock.advance(timedelta(minutes=5))
    again = make_registration(event, email="ana@example.org")
    with pytest.raises(LinkError, match="earlier registration"):
        services.registration_from_cancel_token(old_token)
    assert (
        services.registration_from_cancel_token(services.cancel_token(again)) == again
    )


def test_an_outsider_as_organizer_is_refused_without_naming_them(
    org, organizer, make_org, make_user, frozen
):
    other = make_org(slug="elsewhere", name="Elsewhere")
    stranger = make_user(other, name="Zelda Stranger")
    with pytest.raises(services.EventError) as refused:
        services.create_event(org, organizer, organizers=[stranger], **GOOD)
    assert refused.value.field == "organizers"
    assert "Zelda" not in str(refused.value)
    assert "members of Acme" in str(refused.value)
    db.session.rollback()
    assert _count(Event) == 0
