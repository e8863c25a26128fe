"""When a host is free: the slots an offer's rule makes, and which of them are
still open (not taken, host under the weekly cap, nobody busy).

Slot times are computed in the host's zone, so 12:30 stays 12:30 local across a
daylight-saving change; everything returned is in UTC. A local time that does
not exist (the hour skipped in spring) makes no slot.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from mixer.accounts.models import User
from mixer.asks.matching import normalise_topic, topic_match
from mixer.extensions import db
from mixer.freebusy.busy import busy_for
from mixer.orgs.models import Department, Membership, Organization
from mixer.slots.models import BookingStatus, OfferKind, SlotBooking, SlotOffer

FIND_DAYS = 14  # how far ahead the finding page looks
Interval = tuple[datetime, datetime]


def open_slots(
    offer: SlotOffer, start: datetime, end: datetime, now: datetime
) -> list[Interval]:
    """The slots of ``offer``'s rule that start in [start, end) and after ``now``
    (UTC), whether booked or not, in order."""
    zone = ZoneInfo(offer.timezone)
    length = timedelta(minutes=offer.slot_minutes)
    first = start.astimezone(zone).date()
    last = end.astimezone(zone).date()
    slots: list[Interval] = []
    day = first
    while day <= last:
        if _offered_on(offer, day):
            slots.extend(_day_slots(offer, day, zone, length))
        day += timedelta(days=1)
    return [(s, e) for s, e in slots if start <= s < end and s >= now]


def _offered_on(offer: SlotOffer, day: date) -> bool:
    if offer.kind == OfferKind.ONCE:
        return offer.on_date == day
    return day.isoweekday() in offer.days


def _day_slots(
    offer: SlotOffer, day: date, zone: ZoneInfo, length: timedelta
) -> list[Interval]:
    """One day's slots, local wall-clock steps turned into UTC instants."""
    out = []
    local = datetime.combine(day, offer.start_time)
    close = datetime.combine(day, offer.end_time)
    while local + length <= close:
        aware = local.replace(tzinfo=zone)
        utc = aware.astimezone(UTC)
        # A wall-clock time skipped by a daylight-saving jump does not round-trip.
        if utc.astimezone(zone).replace(tzinfo=None) == local:
            out.append((utc, utc + length))
        local += length
    return out


def week_of(instant: datetime, tz: str) -> tuple[int, int]:
    """The ISO (year, week) ``instant`` falls in, in zone ``tz``."""
    year, week, _ = instant.astimezone(ZoneInfo(tz)).isocalendar()
    return year, week


def overlaps(slot: Interval, busy: Iterable[Interval]) -> bool:
    """Whether the slot overlaps any busy interval."""
    return any(b_start < slot[1] and slot[0] < b_end for b_start, b_end in busy)


def free_of(
    offer: SlotOffer,
    slots: list[Interval],
    taken: set[datetime],
    per_week: Counter[tuple[int, int]],
    busy: list[Interval],
) -> list[Interval]:
    """The slots nobody booked, in weeks under the offer's cap, clear of ``busy``."""
    out = []
    for slot in slots:
        if slot[0] in taken or overlaps(slot, busy):
            continue
        if offer.weekly_cap is not None:
            if per_week[week_of(slot[0], offer.timezone)] >= offer.weekly_cap:
                continue
        out.append(slot)
    return out


def live_bookings(
    host_ids: Iterable[int], start: datetime, end: datetime
) -> list[tuple[int, int, datetime]]:
    """(host id, offer id, start) of the hosts' live bookings in [start, end)."""
    ids = set(host_ids)
    if not ids:
        return []
    rows = db.session.execute(
        select(SlotBooking.host_id, SlotBooking.offer_id, SlotBooking.starts_at).where(
            SlotBooking.host_id.in_(ids),
            SlotBooking.status == BookingStatus.BOOKED,
            SlotBooking.starts_at >= start,
            SlotBooking.starts_at < end,
        )
    ).all()
    return [(h, o, s) for h, o, s in rows]


@dataclass
class OfferSlots:
    """One offer as the finding page shows it: its host and free slots."""

    offer: SlotOffer
    host: User
    department: str | None
    other_department: bool
    slots: list[Interval] = field(default_factory=list)


def find_slots(
    org: Organization,
    viewer: User,
    now: datetime,
    *,
    topic: str | None = None,
    department_id: int | None = None,
    person_id: int | None = None,
    days: int = FIND_DAYS,
    limit_per_offer: int = 12,
) -> list[OfferSlots]:
    """Free slots of the next ``days`` days, per offer: hosts in other
    departments than the viewer's first, then by the earliest slot.

    Never the viewer's own offers. Four statements whatever the number of
    offers (offers with hosts, the viewer's department, the bookings, the
    department names), plus what ``busy_for`` costs.
    """
    end = now + timedelta(days=days)
    query = (
        select(SlotOffer, User, Membership.department_id)
        .join(User, User.id == SlotOffer.host_id)
        .join(
            Membership,
            (Membership.user_id == SlotOffer.host_id)
            & (Membership.org_id == SlotOffer.org_id),
        )
        .where(
            SlotOffer.org_id == org.id,
            SlotOffer.active.is_(True),
            SlotOffer.deleted_at.is_(None),
            SlotOffer.host_id != viewer.id,
            User.is_active_account.is_(True),
        )
        .order_by(SlotOffer.id)
    )
    if department_id is not None:
        query = query.where(Membership.department_id == department_id)
    if person_id is not None:
        query = query.where(SlotOffer.host_id == person_id)
    rows = db.session.execute(query).all()
    wanted = normalise_topic(topic)
    if wanted:
        rows = [r for r in rows if any(topic_match(wanted, t) for t in r[0].topics)]
    if not rows:
        return []
    mine = db.session.scalar(
        select(Membership.department_id).where(
            Membership.org_id == org.id, Membership.user_id == viewer.id
        )
    )
    # The cap counts whole ISO weeks: read a week either side of the window.
    booked = live_bookings(
        {r[0].host_id for r in rows}, now - timedelta(days=8), end + timedelta(days=8)
    )
    taken: dict[int, set[datetime]] = defaultdict(set)
    per_week: dict[int, Counter[tuple[int, int]]] = defaultdict(Counter)
    zones = {r[0].id: r[0].timezone for r in rows}
    for host_id, offer_id, starts_at in booked:
        taken[host_id].add(starts_at)
        if offer_id in zones:
            per_week[offer_id][week_of(starts_at, zones[offer_id])] += 1
    busy = busy_for({r[0].host_id for r in rows} | {viewer.id}, now, end)
    names = _department_names({r[2] for r in rows if r[2] is not None})
    found = []
    for offer, host, dept_id in rows:
        slots = free_of(
            offer,
            open_slots(offer, now, end, now),
            taken[host.id],
            per_week[offer.id],
            busy.get(host.id, []) + busy.get(viewer.id, []),
        )
        if not slots:
            continue
        found.append(
            OfferSlots(
                offer,
                host,
                names.get(dept_id) if dept_id is not None else None,
                # Unknown departments count as "other", as asks do.
                not (mine is not None and dept_id == mine),
                slots[:limit_per_offer],
            )
        )
    found.sort(key=lambda o: (not o.other_department, o.slots[0][0], o.offer.id))
    return found


def _department_names(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(
        db.session.execute(
            select(Department.id, Department.name).where(Department.id.in_(ids))
        ).all()
    )


def free_slots_of_offer(
    offer: SlotOffer, now: datetime, days: int = FIND_DAYS, viewer_id: int | None = None
) -> list[Interval]:
    """The free slots of one offer in the next ``days`` days (moving a booking,
    the next slots shown to someone who lost a race)."""
    end = now + timedelta(days=days)
    taken: set[datetime] = set()
    per_week: Counter[tuple[int, int]] = Counter()
    for _host, offer_id, starts_at in live_bookings(
        [offer.host_id], now - timedelta(days=8), end + timedelta(days=8)
    ):
        taken.add(starts_at)
        if offer_id == offer.id:
            per_week[week_of(starts_at, offer.timezone)] += 1
    ids = {offer.host_id} | ({viewer_id} if viewer_id else set())
    busy = busy_for(ids, now, end)
    blocked = [i for uid in ids for i in busy.get(uid, [])]
    return free_of(offer, open_slots(offer, now, end, now), taken, per_week, blocked)


def offered_topics(org_id: int) -> list[str]:
    """Topics of the organization's active offers, most offered first."""
    counts: Counter[str] = Counter()
    for topics in db.session.scalars(
        select(SlotOffer.topics).where(
            SlotOffer.org_id == org_id,
            SlotOffer.active.is_(True),
            SlotOffer.deleted_at.is_(None),
        )
    ):
        counts.update(set(topics or ()))
    return [t for t, _ in counts.most_common(50)]


def count_live(offer_id: int, start: datetime, end: datetime) -> int:
    """Live bookings of an offer starting in [start, end)."""
    return (
        db.session.scalar(
            select(func.count(SlotBooking.id)).where(
                SlotBooking.offer_id == offer_id,
                SlotBooking.status == BookingStatus.BOOKED,
                SlotBooking.starts_at >= start,
                SlotBooking.starts_at < end,
            )
        )
        or 0
    )
