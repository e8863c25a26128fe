"""Registering, the waitlist and its promotions, guests' confirmation and
organizers' moves (``mixer.events.registration``), on a real database."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mixer import clock
from mixer.errors import LinkError
from mixer.events import lifecycle, queries, registration
from mixer.events.models import Event, Registration
from mixer.events.rules import EventError
from mixer.extensions import db
from tests.helpers import link_in, mail_text

from .conftest import NOW, calendar_in, count_rows, statuses


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
    ics = calendar_in(confirmation)
    assert ics["METHOD"] == "REQUEST"
    assert "position 2" in mail_text(outbox(regs[3].email)[0])

    promoted = registration.cancel_registration(regs[0])
    db.session.commit()
    assert [p.email for p in promoted] == [regs[2].email]
    assert statuses(event) == [
        (regs[0].email, "cancelled", None),
        (regs[1].email, "registered", None),
        (regs[2].email, "registered", None),
        (regs[3].email, "waitlisted", 1),
    ]
    [_, promotion] = outbox(regs[2].email)
    assert promotion["Subject"].startswith("A seat opened up")
    assert calendar_in(promotion)["METHOD"] == "REQUEST"
    [_, cancelled] = outbox(regs[0].email)
    assert calendar_in(cancelled)["METHOD"] == "CANCEL"
    # Cancelling again is harmless.
    assert registration.cancel_registration(regs[0]) == []


def test_leaving_the_waitlist_closes_the_gap(make_event, make_registration, org):
    event = make_event(org, capacity=1)
    regs = [make_registration(event) for _ in range(4)]
    registration.cancel_registration(regs[2])  # waitlist #2
    db.session.commit()
    assert [s[1:] for s in statuses(event)] == [
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
    lifecycle.cancel_event(cancelled)
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
    assert count_rows(Registration) == 1


def test_a_cancelled_registration_can_register_again(
    make_event, make_registration, org
):
    event = make_event(org, capacity=1)
    first = make_registration(event, email="ana@example.org")
    registration.cancel_registration(first)
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
    changed = lifecycle.update_event(event, capacity=5)
    db.session.commit()
    assert changed == {"capacity"}
    assert [s[1:] for s in statuses(event)] == [
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
    registration.move_registration(d, "waitlist", 1)
    db.session.commit()
    assert [s[1:] for s in statuses(event)] == [
        ("registered", None),
        ("waitlisted", 2),
        ("waitlisted", 3),
        ("waitlisted", 1),
    ]
    registration.move_registration(c, "registered")  # past capacity, on purpose
    db.session.commit()
    assert [s[1:] for s in statuses(event)] == [
        ("registered", None),
        ("waitlisted", 2),
        ("registered", None),
        ("waitlisted", 1),
    ]
    registration.move_registration(a, "waitlist")  # to the end
    db.session.commit()
    assert statuses(event)[0][1:] == ("waitlisted", 3)
    assert "position 3" in mail_text(outbox(a.email)[-1])
    with pytest.raises(EventError) as info:
        registration.move_registration(b, "waitlist", 9)
    assert info.value.field == "position"


def test_guest_confirms_by_email_link_once(make_event, org, outbox, app):
    event = make_event(org, visibility="link", capacity=1)
    reg = registration.register(
        event, email="guest@example.org", name="Gil Guest", source="guest"
    )
    db.session.commit()
    assert reg.status == "pending"
    assert queries.counts_for([event.id])[event.id]["registered"] == 0
    [msg] = outbox("guest@example.org")
    link = link_in(msg, f"/events/{event.id}/confirm/")
    token = link.rsplit("/", 1)[1]
    reg = registration.confirm_guest(token)
    db.session.commit()
    assert reg.status == "registered"
    with pytest.raises(LinkError, match="already been used"):
        registration.confirm_guest(token)
    db.session.rollback()
    assert outbox("guest@example.org")[-1]["Subject"].startswith("You're registered")


def test_taking_the_event_lock_is_no_change_to_the_event(
    make_event, make_registration, org, frozen
):
    event = make_event(org, capacity=1)
    before = (event.updated_at, event.sequence)
    clock.advance(timedelta(hours=1))
    first = make_registration(event)
    make_registration(event)
    registration.cancel_registration(first)
    db.session.commit()
    db.session.expire_all()
    event = db.session.get(Event, event.id)
    assert (event.updated_at, event.sequence) == before
