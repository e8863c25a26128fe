"""Offering, booking, moving and cancelling slots; "did it help?" and "keep
talking" afterwards. Plain functions that only ``flush()``.

Exactly once under races: ``book`` and ``move`` lock the offer's row first
(``mixer.concurrency.lock_row``), so two guests of one offer take turns and the
second sees the first's booking and the week's count for the cap; the partial
unique index on (host_id, starts_at) of live bookings is the database's own
rule behind it (two offers of one host at the same instant), written with
``INSERT … ON CONFLICT DO NOTHING`` so the loser's transaction is not aborted.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import or_, select, text
from sqlalchemy.dialects import postgresql, sqlite

from mixer import clock
from mixer.accounts.models import User
from mixer.asks.matching import normalise_topic
from mixer.concurrency import lock_row
from mixer.errors import NotFound
from mixer.extensions import db
from mixer.jobs.services import cancel as cancel_job
from mixer.jobs.services import schedule
from mixer.orgs.access import membership_for
from mixer.orgs.models import Organization
from mixer.pairs import capacity
from mixer.pairs.lifecycle import create_pair, zone_for
from mixer.pairs.models import PairKind, PairSource
from mixer.pairs.notifications import calendar_host
from mixer.slots import SlotError, notifications
from mixer.slots.availability import (
    busy_for,
    count_live,
    free_slots_of_offer,
    open_slots,
    overlaps,
)
from mixer.slots.models import (
    BookingStatus,
    Helped,
    OfferKind,
    SlotBooking,
    SlotOffer,
)

ABOUT_MAX = 140
REMIND_JOB = "slots.remind"
AFTER_JOB = "slots.after"
REMIND_MINUTES = 15  # SLOT_REMIND_MINUTES overrides
KEEP_CADENCE_DAYS = 14  # "keep talking every two weeks?"


# ---------------------------------------------------------------------------
# Offers


@dataclass
class OfferValues:
    """What a host sets on an offer (the form's or a test's values)."""

    kind: str
    weekdays: list[int]
    on_date: date | None
    start_time: time
    end_time: time
    slot_minutes: int
    timezone: str
    place: str
    weekly_cap: int | None
    topics: list[str]
    active: bool = True


def default_zone(org: Organization) -> str:
    """A new offer's zone: the organization's (that of its latest event), else UTC."""
    return zone_for(org, None, None)


def _check_values(host: User, values: OfferValues) -> dict[str, Any]:
    """The columns of a valid offer, or a refusal naming the field."""
    if not host.offers:
        raise SlotError(
            _("Add the topics you offer help on to your profile first."), "topics"
        )
    try:
        ZoneInfo(values.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise SlotError(_("Choose a time zone from the list."), "timezone") from exc
    kind = OfferKind(values.kind)
    days = sorted({d for d in values.weekdays if 1 <= d <= 7})
    if kind == OfferKind.WEEKLY and not days:
        raise SlotError(_("Choose at least one weekday."), "weekdays")
    if kind == OfferKind.ONCE and values.on_date is None:
        raise SlotError(_("Choose the date."), "on_date")
    if not 5 <= values.slot_minutes <= 60:
        raise SlotError(_("A slot lasts 5 to 60 minutes."), "slot_minutes")
    start = datetime.combine(date(2000, 1, 1), values.start_time)
    end = datetime.combine(date(2000, 1, 1), values.end_time)
    if end - start < timedelta(minutes=values.slot_minutes):
        raise SlotError(_("The end must leave room for at least one slot."), "end_time")
    if values.weekly_cap is not None and not 1 <= values.weekly_cap <= 200:
        raise SlotError(_("A weekly cap is 1 to 200 bookings."), "weekly_cap")
    topics = list(dict.fromkeys(t for t in map(normalise_topic, values.topics) if t))
    if not topics:
        topics = list(host.offers)
    return {
        "kind": kind,
        "weekdays": ",".join(map(str, days)) if kind == OfferKind.WEEKLY else "",
        "on_date": values.on_date if kind == OfferKind.ONCE else None,
        "start_time": values.start_time.replace(second=0, microsecond=0),
        "end_time": values.end_time.replace(second=0, microsecond=0),
        "slot_minutes": values.slot_minutes,
        "timezone": values.timezone,
        "place": values.place.strip()[:200],
        "weekly_cap": values.weekly_cap,
        "topics": topics[:20],
        "active": values.active,
    }


def create_offer(org: Organization, host: User, values: OfferValues) -> SlotOffer:
    """Publish open slots of ``host`` in ``org``."""
    offer = SlotOffer(org_id=org.id, host_id=host.id, **_check_values(host, values))
    db.session.add(offer)
    db.session.flush()
    return offer


def update_offer(offer: SlotOffer, values: OfferValues) -> SlotOffer:
    """Change an offer; bookings already made keep their times."""
    for key, value in _check_values(offer.host, values).items():
        setattr(offer, key, value)
    db.session.flush()
    return offer


def delete_offer(offer: SlotOffer, by: User) -> int:
    """Take an offer down: its upcoming bookings are cancelled (both told), its
    past ones kept for their answers. How many were cancelled."""
    offer = _locked_offer(offer.id)
    offer.deleted_at = clock.now()
    offer.active = False
    upcoming = db.session.scalars(
        select(SlotBooking).where(
            SlotBooking.offer_id == offer.id,
            SlotBooking.status == BookingStatus.BOOKED,
            SlotBooking.starts_at > clock.now(),
        )
    ).all()
    for booking in upcoming:
        cancel_booking(booking, by)
    db.session.flush()
    return len(upcoming)


def withdraw_member(org_id: int, user_id: int) -> int:
    """Someone leaves ``org_id``: their offers are taken down and their upcoming
    bookings there (as host or guest) cancelled. How many bookings."""
    now = clock.now()
    offers = db.session.scalars(
        select(SlotOffer).where(
            SlotOffer.org_id == org_id,
            SlotOffer.host_id == user_id,
            SlotOffer.deleted_at.is_(None),
        )
    ).all()
    for offer in offers:
        offer.deleted_at, offer.active = now, False
    upcoming = db.session.scalars(
        select(SlotBooking).where(
            SlotBooking.org_id == org_id,
            or_(SlotBooking.host_id == user_id, SlotBooking.guest_id == user_id),
            SlotBooking.status == BookingStatus.BOOKED,
            SlotBooking.starts_at > now,
        )
    ).all()
    for booking in upcoming:
        _unplan(booking)
        booking.cancel()
        db.session.flush()
        notifications.send_invites(booking, "cancelled")
    db.session.flush()
    return len(upcoming)


def offer_of(org: Organization, host: User, offer_id: int) -> SlotOffer:
    """The host's own offer (404 for anyone else)."""
    offer = db.session.get(SlotOffer, offer_id)
    if (
        offer is None
        or offer.org_id != org.id
        or offer.host_id != host.id
        or offer.deleted_at is not None
    ):
        raise NotFound(_("This slot is not there for you."))
    return offer


def has_open_offer(org_id: int, host_id: int) -> bool:
    """Whether the host has an offer open for booking in the organization now
    (weekly, or once on a date not yet past)."""
    today = clock.now().date()
    return (
        db.session.scalar(
            select(SlotOffer.id)
            .where(
                SlotOffer.org_id == org_id,
                SlotOffer.host_id == host_id,
                SlotOffer.deleted_at.is_(None),
                SlotOffer.active.is_(True),
                or_(SlotOffer.on_date.is_(None), SlotOffer.on_date >= today),
            )
            .limit(1)
        )
        is not None
    )


def offers_of(org: Organization, host: User) -> list[SlotOffer]:
    """The host's offers in ``org``, oldest first."""
    return list(
        db.session.scalars(
            select(SlotOffer)
            .where(
                SlotOffer.org_id == org.id,
                SlotOffer.host_id == host.id,
                SlotOffer.deleted_at.is_(None),
            )
            .order_by(SlotOffer.id)
        )
    )


# ---------------------------------------------------------------------------
# Booking


def _locked_offer(offer_id: int) -> SlotOffer:
    offer = lock_row(SlotOffer, offer_id)
    if offer is None:
        raise NotFound(_("This slot is not there for you."))
    return offer


def _slot_problem(
    offer: SlotOffer, starts_at: datetime, now: datetime, *, count_cap: bool = True
) -> str | None:
    """Why ``starts_at`` cannot be booked in ``offer`` now (None: it can);
    ``count_cap=False`` leaves the weekly cap out (a move inside its own week)."""
    if not offer.active or offer.deleted_at is not None:
        return _("These slots are not open at the moment.")
    end = starts_at + timedelta(minutes=offer.slot_minutes)
    slot = (starts_at, end)
    if slot not in open_slots(offer, starts_at, starts_at + timedelta(seconds=1), now):
        return _("That time is not one of the open slots.")
    taken = db.session.scalar(
        select(SlotBooking.id).where(
            SlotBooking.host_id == offer.host_id,
            SlotBooking.starts_at == starts_at,
            SlotBooking.status == BookingStatus.BOOKED,
        )
    )
    if taken is not None:
        return _("Someone else has just booked that slot.")
    if count_cap and offer.weekly_cap is not None:
        zone = ZoneInfo(offer.timezone)
        local = starts_at.astimezone(zone)
        monday = datetime.combine(
            local.date() - timedelta(days=local.isoweekday() - 1), time(), tzinfo=zone
        )
        week = (monday.astimezone(UTC), (monday + timedelta(days=7)).astimezone(UTC))
        if count_live(offer.id, *week) >= offer.weekly_cap:
            return _(
                "This week's slots of %(name)s are all booked.", name=offer.host.name
            )
    busy = busy_for({offer.host_id}, starts_at, end)
    if overlaps(slot, busy.get(offer.host_id, [])):
        return _("That time is not one of the open slots.")
    return None


class SlotTaken(SlotError):
    """The slot went to someone else (or the week filled up): 409, with the
    host's next free slots for the page and the API."""

    def __init__(self, message: str, offer: SlotOffer, next_slots: list) -> None:
        super().__init__(message, "starts_at", 409, "slot_taken")
        self.offer = offer
        self.next_slots = next_slots


def book(
    offer_id: int, guest: User, starts_at: datetime, about: str = ""
) -> SlotBooking:
    """Book one slot of an offer for ``guest``; both get the invite.

    Refuses (``SlotTaken``, 409) a slot taken meanwhile or a full week, with the
    host's next free slots; exactly one of many racing guests gets a slot.
    """
    now = clock.now()
    starts_at = starts_at.astimezone(UTC).replace(second=0, microsecond=0)
    offer = _locked_offer(offer_id)
    if membership_for(guest, offer.org_id) is None:
        raise NotFound(_("This slot is not there for you."))
    host = offer.host
    if not host.is_active or membership_for(host, offer.org_id) is None:
        raise NotFound(_("This slot is not there for you."))
    if offer.host_id == guest.id:
        raise SlotError(_("You cannot book your own slot."), "starts_at", 409)
    about = " ".join((about or "").split())
    if len(about) > ABOUT_MAX:
        raise SlotError(
            _("Say it in at most %(num)d characters.", num=ABOUT_MAX), "about"
        )
    problem = _slot_problem(offer, starts_at, now)
    if problem is not None:
        raise SlotTaken(problem, offer, free_slots_of_offer(offer, now)[:6])
    _check_guest_free(guest, starts_at, offer.slot_minutes)
    values = {
        "offer_id": offer.id,
        "org_id": offer.org_id,
        "host_id": offer.host_id,
        "guest_id": guest.id,
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(minutes=offer.slot_minutes),
        "status": BookingStatus.BOOKED,
        "about": about,
        "ics_uid": f"slot-{uuid.uuid4()}@{calendar_host()}",
        "ics_sequence": 0,
        "host_keeps": False,
        "guest_keeps": False,
        "created_at": now,
    }
    booking_id = _insert_live(values)
    if booking_id is None:  # another offer of the host took the instant
        raise SlotTaken(
            _("Someone else has just booked that slot."),
            offer,
            free_slots_of_offer(offer, now)[:6],
        )
    booking = db.session.get_one(SlotBooking, booking_id)
    _plan(booking)
    notifications.send_invites(booking, "booked")
    return booking


def _check_guest_free(guest: User, starts_at: datetime, minutes: int) -> None:
    """Refuse a second booking of the guest's at the same time (any host)."""
    clash = db.session.scalar(
        select(SlotBooking.id).where(
            SlotBooking.guest_id == guest.id,
            SlotBooking.status == BookingStatus.BOOKED,
            SlotBooking.starts_at < starts_at + timedelta(minutes=minutes),
            SlotBooking.ends_at > starts_at,
        )
    )
    if clash is not None:
        raise SlotError(
            _("You have another slot booked at that time."), "starts_at", 409
        )


def _insert_live(values: dict[str, Any]) -> int | None:
    """INSERT … ON CONFLICT DO NOTHING on the partial unique index of live
    bookings; the new id, or None when the host's instant was taken."""
    db.session.flush()
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(SlotBooking)
        .values(**values)
        .on_conflict_do_nothing(
            index_elements=["host_id", "starts_at"],
            index_where=text("status = 'booked'"),
        )
        .returning(SlotBooking.id)
    )
    return db.session.execute(stmt).scalar()


def _plan(booking: SlotBooking) -> None:
    """The reminder before the booking and the question after it, keyed by the
    booking and its start (a move plans new ones; old ones find it moved)."""
    minutes = int(current_app.config.get("SLOT_REMIND_MINUTES", REMIND_MINUTES))
    at = clock.stamp(booking.starts_at)
    payload = {"booking_id": booking.id, "starts_at": at}
    remind_at = booking.starts_at - timedelta(minutes=minutes)
    if remind_at > clock.now():
        schedule(
            REMIND_JOB,
            payload,
            run_at=remind_at,
            dedupe_key=f"{REMIND_JOB}:{booking.id}:{at}",
            org_id=booking.org_id,
        )
    schedule(
        AFTER_JOB,
        payload,
        run_at=booking.ends_at,
        dedupe_key=f"{AFTER_JOB}:{booking.id}:{at}",
        org_id=booking.org_id,
    )


def _unplan(booking: SlotBooking) -> None:
    at = clock.stamp(booking.starts_at)
    cancel_job(f"{REMIND_JOB}:{booking.id}:{at}")
    cancel_job(f"{AFTER_JOB}:{booking.id}:{at}")


def booking_for(org: Organization, user: User, booking_id: int) -> SlotBooking:
    """A booking of ``org`` that ``user`` is host or guest of (404 otherwise)."""
    booking = db.session.get(SlotBooking, booking_id)
    if booking is None or booking.org_id != org.id or booking.side_of(user.id) is None:
        raise NotFound(_("This slot is not there for you."))
    return booking


def cancel_booking(booking: SlotBooking, by: User) -> bool:
    """Either side cancels an upcoming booking; both get the cancellation.
    False when it was cancelled already."""
    booking = _locked_booking(booking)
    if not booking.is_live:
        return False
    if booking.starts_at <= clock.now():
        raise SlotError(
            _("This slot has begun; it can no longer be cancelled."), status=409
        )
    _unplan(booking)
    booking.cancel()
    db.session.flush()
    notifications.send_invites(booking, "cancelled")
    return True


def _locked_booking(booking: SlotBooking) -> SlotBooking:
    """The booking read afresh after locking its offer (the offer's turn)."""
    _locked_offer(booking.offer_id)
    db.session.refresh(booking)
    return booking


def move_booking(booking: SlotBooking, by: User, starts_at: datetime) -> SlotBooking:
    """Move a booking to another free slot of the same offer; both get the
    updated invite (same UID, SEQUENCE + 1)."""
    now = clock.now()
    starts_at = starts_at.astimezone(UTC).replace(second=0, microsecond=0)
    booking = _locked_booking(booking)
    if not booking.is_live or booking.starts_at <= now:
        raise SlotError(_("Only an upcoming booking can be moved."), status=409)
    if starts_at == booking.starts_at:
        return booking
    offer = booking.offer
    # Its own week counts the booking being moved: a full week may keep it.
    same_week = _same_week(offer, booking.starts_at, starts_at)
    problem = _slot_problem(offer, starts_at, now, count_cap=not same_week)
    if problem is not None:
        raise SlotTaken(problem, offer, free_slots_of_offer(offer, now)[:6])
    _unplan(booking)
    booking.starts_at = starts_at
    booking.ends_at = starts_at + timedelta(minutes=offer.slot_minutes)
    booking.ics_sequence += 1
    db.session.flush()
    _plan(booking)
    notifications.send_invites(booking, "moved")
    return booking


def _same_week(offer: SlotOffer, a: datetime, b: datetime) -> bool:
    zone = ZoneInfo(offer.timezone)
    return a.astimezone(zone).isocalendar()[:2] == b.astimezone(zone).isocalendar()[:2]


# ---------------------------------------------------------------------------
# Afterwards


def answer_helped(booking: SlotBooking, answer: str) -> SlotBooking:
    """The guest says whether it helped (again: the latest answer counts, in the
    month it was first given)."""
    if not booking.is_live or booking.starts_at > clock.now():
        raise SlotError(_("You can answer once the slot has begun."), status=409)
    try:
        booking.helped = Helped(answer)
    except ValueError as exc:
        raise SlotError(_("Choose yes, somewhat or no."), "helped") from exc
    if booking.helped_at is None:
        booking.helped_at = clock.now()
    db.session.flush()
    return booking


def keep_talking(booking: SlotBooking, user: User) -> SlotBooking:
    """One side says yes to "keep talking every two weeks?"; when both have, the
    pair starts (host as mentor) through the pairs' own creation, within the
    capacity rules. Refused with the reason when a pair cannot start."""
    booking = _locked_booking(booking)
    side = booking.side_of(user.id)
    if side is None:
        raise NotFound(_("This slot is not there for you."))
    if not booking.is_live or booking.starts_at > clock.now():
        raise SlotError(_("You can propose this once the slot has begun."), status=409)
    if booking.pair_id is not None:
        return booking
    org = booking.offer.org
    _check_capacity(booking, org)
    if side == "host":
        booking.host_keeps = True
    else:
        booking.guest_keeps = True
    db.session.flush()
    if not (booking.host_keeps and booking.guest_keeps):
        notifications.send_keep_proposal(booking, user)
    if booking.host_keeps and booking.guest_keeps:
        topic = booking.about or ", ".join(booking.offer.topics[:3])
        pair = create_pair(
            org,
            booking.host,
            booking.guest,
            kind=PairKind.MENTORING,
            mentor=booking.host,
            source=PairSource.ASK,
            topic=topic,
        )
        if pair is None:
            raise SlotError(
                _("You two already keep talking in an open pair."), status=409
            )
        booking.pair_id = pair.id
        db.session.flush()
    return booking


def _check_capacity(booking: SlotBooking, org: Organization) -> None:
    """Refuse when the host cannot mentor one more or either is not taking on
    new pairs (mixer.pairs.capacity)."""
    host = membership_for(booking.host, org.id)
    guest = membership_for(booking.guest, org.id)
    if host is None or guest is None:
        raise SlotError(
            _("Both of you need to be members to keep talking."), status=409
        )
    if not capacity.available(host):
        raise SlotError(
            _(
                "%(name)s is not taking on new pairs at the moment.",
                name=booking.host.name,
            ),
            status=409,
        )
    if not capacity.available(guest):
        raise SlotError(
            _(
                "%(name)s is not taking on new pairs at the moment.",
                name=booking.guest.name,
            ),
            status=409,
        )
    if capacity.is_at_capacity(host):
        raise SlotError(
            _(
                "%(name)s mentors as many people as they can already.",
                name=booking.host.name,
            ),
            status=409,
        )


# ---------------------------------------------------------------------------
# My week


@dataclass
class Week:
    """A person's bookings this week and next, and their offers."""

    start: datetime
    end: datetime
    bookings: list[SlotBooking]
    offers: list[SlotOffer]


def my_week(org: Organization, user: User, tz: str) -> Week:
    """Bookings as guest or host from Monday of this week (in ``tz``) for two
    weeks, cancelled ones included (so a cancellation is seen), and offers."""
    zone = ZoneInfo(tz)
    local = clock.now().astimezone(zone)
    monday = datetime.combine(
        local.date() - timedelta(days=local.isoweekday() - 1), time(), tzinfo=zone
    )
    start = monday.astimezone(UTC)
    end = (monday + timedelta(days=14)).astimezone(UTC)
    bookings = db.session.scalars(
        select(SlotBooking)
        .where(
            SlotBooking.org_id == org.id,
            or_(SlotBooking.host_id == user.id, SlotBooking.guest_id == user.id),
            SlotBooking.starts_at >= start,
            SlotBooking.starts_at < end,
        )
        .order_by(SlotBooking.starts_at, SlotBooking.id)
    ).all()
    return Week(start, end, list(bookings), offers_of(org, user))


def parse_start(raw: str | None) -> datetime:
    """A slot's start as the pages send it (ISO 8601 with an offset)."""
    try:
        value = datetime.fromisoformat((raw or "").strip())
    except ValueError as exc:
        raise SlotError(_("Choose one of the open slots."), "starts_at") from exc
    if value.tzinfo is None:
        raise SlotError(_("Choose one of the open slots."), "starts_at")
    return value.astimezone(UTC)
