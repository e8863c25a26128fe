"""Slots as services: DST-correct times, finding, booking exactly once, the
invites (parsed with icalendar), reminder and "did it help?", keep talking."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from mixer import clock
from mixer.extensions import db
from mixer.jobs.services import run_due
from mixer.orgs.models import Membership
from mixer.pairs.models import Pair
from mixer.recognition.scoring import score_month
from mixer.slots import SlotError, availability
from mixer.slots.models import BookingStatus, SlotBooking, SlotOffer
from mixer.slots.services import (
    SlotTaken,
    answer_helped,
    book,
    cancel_booking,
    create_offer,
    keep_talking,
    move_booking,
)
from tests.slots.conftest import weekly

TUE = datetime(2026, 3, 3, 11, 30, tzinfo=UTC)  # 12:30 in Berlin (CET)


def _ics(msg) -> Calendar:
    part = next(
        p for p in msg.iter_attachments() if p.get_content_type() == "text/calendar"
    )
    return Calendar.from_ical(part.get_content())


def _event(cal: Calendar):
    return next(c for c in cal.walk("VEVENT"))


@pytest.mark.once
def test_slots_stay_at_local_time_across_daylight_saving(world):
    start = datetime(2026, 3, 23, tzinfo=UTC)  # the week before DST (29 March)
    slots = availability.open_slots(
        world.offer, start, start + timedelta(days=14), start
    )
    tuesdays = [
        s for s, _ in slots if s.date() in (date(2026, 3, 24), date(2026, 3, 31))
    ]
    assert [s.strftime("%d %H:%M") for s in tuesdays] == [
        "24 11:30",
        "24 11:35",
        "24 11:40",
        "24 11:45",  # CET, UTC+1
        "31 10:30",
        "31 10:35",
        "31 10:40",
        "31 10:45",  # CEST, UTC+2
    ]
    assert len(slots) == 16  # Tue+Thu, four each, two weeks


def test_find_lists_other_departments_first_never_own_nor_taken(world, make_user):
    world.colleague.offers = ["negotiation"]
    sales_offer = create_offer(world.org, world.colleague, weekly(weekdays=[4]))
    db.session.commit()
    found = availability.find_slots(world.org, world.colleague, clock.now())
    assert [f.host.name for f in found] == ["Ada Host"]
    assert not found[0].other_department
    outsider = make_user(world.org, name="Olu Other", department="Legal")
    found = availability.find_slots(world.org, world.host, clock.now())
    assert [f.host.name for f in found] == ["Sam Same"]  # never her own
    # Fin (Finance): both are of another department, Ada's Tuesday first; an
    # Ada in Fin's own department would come after Sam.
    found = availability.find_slots(world.org, world.guest, clock.now())
    assert [(f.host.name, f.other_department) for f in found] == [
        ("Ada Host", True),
        ("Sam Same", True),
    ]
    # Fin moves to Sales and Sam to Finance: Sam first, though Ada's is earlier.
    finance = world.guest.memberships[0].department
    world.guest.memberships[0].department = world.host.memberships[0].department
    world.colleague.memberships[0].department = finance
    db.session.flush()
    found = availability.find_slots(world.org, world.guest, clock.now())
    assert [f.host.name for f in found] == ["Sam Same", "Ada Host"]
    world.guest.memberships[0].department = finance
    world.colleague.memberships[0].department = world.host.memberships[0].department
    db.session.commit()
    book(world.offer.id, world.guest, TUE)
    db.session.commit()
    found = availability.find_slots(
        world.org, outsider, clock.now(), person_id=world.host.id
    )
    assert TUE not in [s for s, _ in found[0].slots]
    assert len(found[0].slots) == 12  # the limit per offer
    assert (
        availability.find_slots(world.org, outsider, clock.now(), topic="cooking") == []
    )
    dept = db.session.scalar(
        select(Membership.department_id).where(Membership.user_id == world.guest.id)
    )
    assert (
        availability.find_slots(world.org, outsider, clock.now(), department_id=dept)
        == []
    )
    assert sales_offer.id in {
        f.offer.id
        for f in availability.find_slots(
            world.org, outsider, clock.now(), topic="Negotiations"
        )
    }


def test_a_full_week_and_busy_times_hide_slots(world, monkeypatch):
    world.offer.weekly_cap = 1
    db.session.commit()
    book(world.offer.id, world.guest, TUE)
    db.session.commit()
    found = availability.find_slots(world.org, world.colleague, clock.now())
    first_week = [s for s, _ in found[0].slots if s < datetime(2026, 3, 9, tzinfo=UTC)]
    assert first_week == []
    with pytest.raises(SlotTaken, match="all booked") as refused:
        book(world.offer.id, world.colleague, TUE + timedelta(days=2))
    assert refused.value.status == 409
    assert refused.value.next_slots[0][0] == datetime(2026, 3, 10, 11, 30, tzinfo=UTC)
    db.session.rollback()
    busy = {
        world.host.id: [
            (
                datetime(2026, 3, 10, 11, 32, tzinfo=UTC),
                datetime(2026, 3, 10, 11, 41, tzinfo=UTC),
            )
        ]
    }
    monkeypatch.setattr(availability, "busy_for", lambda ids, s, e: busy)
    slots = [
        s
        for s, _ in availability.find_slots(world.org, world.colleague, clock.now())[
            0
        ].slots
    ]
    assert slots[:2] == [
        datetime(2026, 3, 10, 11, 45, tzinfo=UTC),
        datetime(2026, 3, 12, 11, 30, tzinfo=UTC),
    ]


def test_invites_move_and_cancel_keep_one_uid(world, outbox):
    booking = book(world.offer.id, world.guest, TUE, "Pricing a first deal")
    db.session.commit()
    mails = outbox()
    assert sorted(m["To"].addresses[0].addr_spec for m in mails) == [
        "ada@acme.example.org",
        "fin@acme.example.org",
    ]
    cal = _ics(mails[0])
    event = _event(cal)
    assert str(cal["method"]) == "REQUEST"
    assert event["sequence"] == 0 and str(event["uid"]) == booking.ics_uid
    assert str(event["organizer"]) == "mailto:ada@acme.example.org"
    assert str(event["attendee"]) == "mailto:fin@acme.example.org"
    assert str(event["location"]) == "The café"
    assert event.decoded("dtstart") == TUE
    assert event["dtstart"].params["TZID"] == "Europe/Berlin"
    assert [c.name for c in cal.walk("VTIMEZONE")] == ["VTIMEZONE"]
    assert "Pricing a first deal" in mails[0].get_body(("plain",)).get_content()

    moved = move_booking(booking, world.guest, TUE + timedelta(minutes=10))
    db.session.commit()
    event = _event(_ics(outbox()[2]))
    assert str(event["uid"]) == booking.ics_uid and event["sequence"] == 1
    assert event.decoded("dtstart") == TUE + timedelta(minutes=10)
    assert moved.starts_at == TUE + timedelta(minutes=10)

    assert cancel_booking(booking, world.host)
    db.session.commit()
    cal = _ics(outbox()[4])
    event = _event(cal)
    assert str(cal["method"]) == "CANCEL" and str(event["status"]) == "CANCELLED"
    assert str(event["uid"]) == booking.ics_uid and event["sequence"] == 2
    assert len(outbox()) == 6
    again = book(world.offer.id, world.colleague, TUE + timedelta(minutes=10))
    db.session.commit()
    assert again.status == BookingStatus.BOOKED  # a cancelled one does not block


def test_reminder_once_then_did_it_help_feeds_recognition(world, outbox):
    booking = book(world.offer.id, world.guest, TUE)
    db.session.commit()
    clock.freeze(TUE - timedelta(minutes=15))
    run_due()
    run_due()
    db.session.commit()
    reminders = [m for m in outbox() if m["Subject"].startswith("Soon")]
    assert len(reminders) == 2
    clock.freeze(TUE + timedelta(minutes=6))
    run_due()
    db.session.commit()
    asked = [m for m in outbox() if m["Subject"].startswith("Did your")]
    assert [m["To"].addresses[0].addr_spec for m in asked] == ["fin@acme.example.org"]
    answer_helped(booking, "yes")
    clock.freeze(TUE - timedelta(hours=1))
    said_no = book(world.offer.id, world.colleague, TUE + timedelta(minutes=5))
    somewhat = book(world.offer.id, world.colleague, TUE + timedelta(days=2))
    clock.freeze(TUE + timedelta(days=3))
    answer_helped(said_no, "no")
    answer_helped(somewhat, "somewhat")
    db.session.commit()
    ada = next(c for c in score_month(world.org, "2026-03") if c.name == "Ada Host")
    line = ada.line("slots_helped")
    assert line.count == 2 and line.points == 2  # yes and somewhat; not no
    assert "Five-minute slots that helped: 2 × 1 = 2 points" in ada.explanation
    assert score_month(world.org, "2026-04") == []


def test_keep_talking_makes_a_pair_when_both_say_yes(world, outbox):
    booking = book(world.offer.id, world.guest, TUE)
    db.session.commit()
    with pytest.raises(SlotError, match="once the slot has begun"):
        keep_talking(booking, world.guest)
    db.session.rollback()
    clock.freeze(TUE + timedelta(minutes=10))
    keep_talking(booking, world.guest)
    db.session.commit()
    assert booking.pair_id is None
    (asked,) = [m for m in outbox(world.host.email) if "keep talking" in m["Subject"]]
    assert asked["Subject"] == "Fin Other would like to keep talking every two weeks"
    keep_talking(booking, world.host)
    db.session.commit()
    pair = db.session.get(Pair, booking.pair_id)
    assert pair.mentor_id == world.host.id and {pair.a_id, pair.b_id} == {
        world.host.id,
        world.guest.id,
    }


def test_keep_talking_respects_capacity(world):
    membership = db.session.scalar(
        select(Membership).where(Membership.user_id == world.host.id)
    )
    membership.mentoring_capacity = 0
    booking = book(world.offer.id, world.guest, TUE)
    db.session.commit()
    clock.freeze(TUE + timedelta(minutes=10))
    with pytest.raises(SlotError, match="mentors as many people as they can"):
        keep_talking(booking, world.guest)


def test_own_slot_and_unknown_times_are_refused(world):
    with pytest.raises(SlotError, match="your own slot"):
        book(world.offer.id, world.host, TUE)
    with pytest.raises(SlotTaken, match="not one of the open slots"):
        book(world.offer.id, world.guest, TUE + timedelta(minutes=2))
    with pytest.raises(SlotError, match="profile first") as refused:
        create_offer(world.org, world.guest, weekly())
    assert refused.value.field == "topics"


RACERS = 20


@pytest.mark.parametrize("capped", [False, True])
def test_twenty_guests_race_for_the_last_slot(app, world, make_user, capped):
    """Twenty threads tap at once: the same slot, or (capped at one a week)
    different slots of the same week. Exactly one booking either way."""
    if capped:
        world.offer.weekly_cap = 1
    guests = [make_user(world.org, name=f"Racer {n}").id for n in range(RACERS)]
    offer_id = world.offer.id
    now = clock.now()
    starts = [
        TUE + timedelta(days=2 * (n % 2), minutes=5 * (n % 4)) if capped else TUE
        for n in range(RACERS)
    ]
    barrier = threading.Barrier(RACERS)

    def one(n: int) -> str:
        with app.app_context():
            clock.freeze(now)
            barrier.wait()
            try:
                guest = db.session.get(type(world.guest), guests[n])
                book(offer_id, guest, starts[n])
                db.session.commit()
                return "booked"
            except SlotTaken:
                db.session.rollback()
                return "taken"
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        results = list(pool.map(one, range(RACERS)))
    assert sorted(results) == ["booked"] + ["taken"] * (RACERS - 1)
    db.session.expire_all()
    count = select(func.count()).select_from(SlotBooking)
    assert db.session.scalar(count) == 1
    assert db.session.scalar(select(func.count()).select_from(SlotOffer)) == 1


def test_a_guest_cannot_be_in_two_slots_at_once(world, make_user):
    world.colleague.offers = ["negotiation"]
    other = create_offer(world.org, world.colleague, weekly())
    book(world.offer.id, world.guest, TUE)
    db.session.commit()
    with pytest.raises(SlotError, match="another slot booked at that time") as refused:
        book(other.id, world.guest, TUE)
    assert refused.value.status == 409


def test_a_move_inside_a_full_week_keeps_the_booking(world):
    world.offer.weekly_cap = 1
    booking = book(world.offer.id, world.guest, TUE)
    db.session.commit()
    move_booking(booking, world.guest, TUE + timedelta(days=2))  # Thursday
    db.session.commit()
    assert booking.starts_at == TUE + timedelta(days=2) and booking.ics_sequence == 1
    # Another guest still finds that week full.
    with pytest.raises(SlotTaken, match="all booked"):
        book(world.offer.id, world.colleague, TUE)


def test_invites_are_in_each_persons_language_and_reminders_go_once(world, outbox):
    from mixer.slots import jobs as slot_jobs

    world.host.locale = "de"
    booking = book(world.offer.id, world.guest, TUE)
    db.session.commit()
    assert (
        outbox(world.host.email)[0]["Subject"] == "Gebucht: fünf Minuten mit Fin Other"
    )
    assert (
        outbox(world.guest.email)[0]["Subject"] == "Booked: five minutes with Ada Host"
    )
    # Each person's calendar file in their language; the same entry (UID, times).
    german, english = (
        _event(_ics(outbox(u.email)[0])) for u in (world.host, world.guest)
    )
    assert str(german["SUMMARY"]) == "Fünf Minuten: Ada Host & Fin Other"
    assert str(english["SUMMARY"]) == "Five minutes: Ada Host & Fin Other"
    for key in ("UID", "SEQUENCE", "DTSTART", "DTEND"):
        assert german[key].to_ical() == english[key].to_ical()
    payload = {"booking_id": booking.id, "starts_at": clock.stamp(TUE)}
    # Two workers running the same reminder (a crash and a retry): one mail each.
    assert slot_jobs.remind(payload) == {"sent": 2}
    assert slot_jobs.remind(payload) == {"sent": 0}
    db.session.commit()
    assert len(outbox()) == 4
    moved = {**payload, "starts_at": clock.stamp(TUE + timedelta(minutes=5))}
    assert slot_jobs.remind(moved) == {"sent": 0}  # not the booking's time


def test_a_host_who_leaves_takes_the_slots_along(world, outbox):
    from mixer.orgs.services import remove_member

    booking = book(world.offer.id, world.guest, TUE)
    db.session.commit()
    remove_member(world.host.memberships[0])
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(SlotBooking, booking.id).status == BookingStatus.CANCELLED
    assert db.session.get(SlotOffer, world.offer.id).deleted_at is not None
    cancel = _ics(outbox(world.guest.email)[-1])
    assert str(cancel["method"]) == "CANCEL"
    assert availability.find_slots(world.org, world.guest, clock.now()) == []


def test_her_data_export_lists_slots_and_erasure_clears_her_line(world):
    from mixer.privacy.erasure import erase_account
    from mixer.privacy.export import personal_data

    booking = book(world.offer.id, world.guest, TUE, "FIN-LINE")
    db.session.commit()
    data, _files = personal_data(world.guest)
    (acme,) = data["organizations"]
    assert acme["slot_bookings"][0] | {"starts_at": None} == {
        "with": "Ada Host",
        "my_role": "guest",
        "starts_at": None,
        "status": "booked",
        "my_line": "FIN-LINE",
        "helped": None,
    }
    host_data, _files = personal_data(world.host)
    assert host_data["organizations"][0]["slot_offers"][0]["place"] == "The café"
    erase_account(world.guest)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(SlotBooking, booking.id).about == ""
