"""Demo data: a few members of the demo organization offer five-minute slots,
and Mira Member has booked one, so "Slots" has something to show."""

from __future__ import annotations

from datetime import time

from sqlalchemy import select

from mixer import clock
from mixer.accounts.models import User
from mixer.extensions import db
from mixer.orgs.models import Organization
from mixer.slots import availability
from mixer.slots.models import SlotBooking, SlotOffer
from mixer.slots.services import OfferValues, book, create_offer

# (weekdays, start, end, place) of the first hosts who offer something.
RULES = [
    ([2, 4], time(12, 30), time(12, 50), "The café, ground floor"),
    ([1, 3], time(9, 0), time(9, 20), "https://meet.example.org/riverside-5"),
    ([5], time(16, 0), time(16, 30), "Room 2.14"),
]


def seed_slots(org: Organization, zone: str, guest_email: str) -> None:
    """Offers of three members who offer topics (once each), and one booking by
    ``guest_email`` (once). Idempotent."""
    hosts = [
        m.user
        for m in sorted(org.memberships, key=lambda m: m.user_id)
        if m.user.offers and m.user.email != guest_email
    ][: len(RULES)]
    offered = set(
        db.session.scalars(select(SlotOffer.host_id).where(SlotOffer.org_id == org.id))
    )
    for host, (days, start, end, place) in zip(hosts, RULES, strict=False):
        if host.id in offered:
            continue
        create_offer(
            org,
            host,
            OfferValues(
                kind="weekly",
                weekdays=days,
                on_date=None,
                start_time=start,
                end_time=end,
                slot_minutes=5,
                timezone=zone,
                place=place,
                weekly_cap=6,
                topics=list(host.offers),
            ),
        )
    db.session.flush()
    guest = db.session.scalar(select(User).where(User.email == guest_email))
    if guest is None or db.session.scalar(
        select(SlotBooking.id).where(SlotBooking.guest_id == guest.id)
    ):
        return
    offer = db.session.scalar(
        select(SlotOffer).where(SlotOffer.org_id == org.id).order_by(SlotOffer.id)
    )
    if offer is None:
        return
    free = availability.free_slots_of_offer(offer, clock.now())
    if free:
        book(offer.id, guest, free[0][0], "How do you run a five-minute stand-up?")
