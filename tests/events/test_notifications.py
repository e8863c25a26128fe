"""What people hear about an event and the jobs at its times
(``mixer.events.notifications``): updates, cancellations, reminders, the end."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from mixer import clock
from mixer.events import lifecycle
from mixer.events.models import Event
from mixer.extensions import db
from mixer.jobs.models import Job
from mixer.jobs.services import run_due
from tests.helpers import mail_text

from .conftest import NOW, calendar_in


def test_moving_an_event_tells_everyone_with_a_new_sequence(
    make_event, make_registration, org, outbox, frozen
):
    event = make_event(org, capacity=1, timezone="Europe/Paris")
    seated, waiting = make_registration(event), make_registration(event)
    changed = lifecycle.update_event(
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
    vevent = calendar_in(update).walk("VEVENT")[0]
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
    lifecycle.cancel_event(event, "The speaker is ill.")
    db.session.commit()
    run_due()
    for reg, method in [(seated, "CANCEL"), (waiting, None)]:
        msg = outbox(reg.email)[-1]
        assert msg["Subject"] == f"Cancelled: {event.title}"
        assert "The speaker is ill." in mail_text(msg)
        if method:
            cal = calendar_in(msg)
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


def test_a_finished_event_is_marked_ended(make_event, org, frozen):
    event = make_event(org)
    clock.freeze(event.ends_at + timedelta(minutes=1))
    run_due()
    db.session.expire_all()
    assert db.session.get(Event, event.id).status == "ended"
