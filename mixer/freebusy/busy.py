"""What other features ask of free/busy: who is busy when (``busy_for``), does a
time collide (``overlaps``), the first candidate free for everyone
(``first_free``), and a new pair's first slot (``first_slot``).

Everything is in aware UTC datetimes. A person without a feed, or whose feed was
never fetched successfully, is absent from ``busy_for``'s answer: nothing is
known about them, so callers treat them as free (and a pair's first slot falls
back to the usual lunchtime).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, select

from mixer.extensions import db
from mixer.freebusy.models import BusyInterval, FreeBusyFeed

Interval = tuple[datetime, datetime]

# A pair's candidates each weekday, in the pair's zone, most wanted first: the
# usual lunchtime, then around it, then the rest of office hours.
PAIR_TIMES = tuple(
    time(h, m)
    for h, m in (
        (12, 30),
        (13, 0),
        (12, 0),
        (11, 30),
        (13, 30),
        (11, 0),
        (14, 0),
        (10, 30),
        (14, 30),
        (10, 0),
        (15, 0),
        (15, 30),
        (9, 30),
        (16, 0),
    )
)
PAIR_DAYS = 14  # weekdays looked at before giving up (then: the usual lunchtime)


def busy_for(
    user_ids: Iterable[int], start: datetime, end: datetime
) -> dict[int, list[tuple[datetime, datetime]]]:
    """Each person's busy intervals that touch ``start``…``end``, soonest first.

    Only people with a successfully fetched feed are keys (an empty list: known
    to be free all along). One SQL statement, whatever the number of people.
    """
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        select(FreeBusyFeed.user_id, BusyInterval.starts_at, BusyInterval.ends_at)
        .outerjoin(
            BusyInterval,
            and_(
                BusyInterval.user_id == FreeBusyFeed.user_id,
                BusyInterval.starts_at < end,
                BusyInterval.ends_at > start,
            ),
        )
        .where(FreeBusyFeed.user_id.in_(ids), FreeBusyFeed.synced_at.is_not(None))
        .order_by(FreeBusyFeed.user_id, BusyInterval.starts_at)
    )
    found: dict[int, list[Interval]] = {}
    for user_id, starts_at, ends_at in rows:
        spans = found.setdefault(user_id, [])
        if starts_at is not None:
            spans.append((_utc(starts_at), _utc(ends_at)))
    return found


def _utc(value: datetime) -> datetime:
    """Aware UTC (a column read through an outer join is still ``UTCDateTime``;
    this only guards a backend that hands back a naive value)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def overlaps(busy: Iterable[Interval], start: datetime, end: datetime) -> bool:
    """Whether ``start``…``end`` collides with any busy interval (touching ends
    do not collide: a meeting may start when another ends)."""
    return any(b_start < end and start < b_end for b_start, b_end in busy)


def first_free(
    candidates: Iterable[Interval],
    busy_by_user: dict[int, list[Interval]],
    user_ids: Iterable[int],
) -> Interval | None:
    """The first candidate (start, end) free for every one of ``user_ids``; people
    absent from ``busy_by_user`` count as free. None when none is."""
    people = [busy_by_user.get(uid, []) for uid in user_ids]
    for start, end in candidates:
        if not any(overlaps(busy, start, end) for busy in people):
            return start, end
    return None


def pair_candidates(
    after: datetime, tz: str, minutes: int, lead: timedelta
) -> list[Interval]:
    """A new pair's candidate meetings: ``PAIR_DAYS`` weekdays from the first
    whose lunchtime is ``lead`` after ``after``, at ``PAIR_TIMES`` in the zone
    ``tz`` (DST-proof: the wall clock stays, the UTC instant moves)."""
    zone = ZoneInfo(tz)
    earliest = after + lead
    day: date = earliest.astimezone(zone).date()
    out: list[Interval] = []
    weekdays = 0
    while weekdays < PAIR_DAYS:
        # From the day whose lunchtime is far enough ahead: with nobody busy the
        # first candidate is the usual slot (``pairs.schedule.next_slot``).
        usual = datetime.combine(day, PAIR_TIMES[0], tzinfo=zone)
        if day.weekday() < 5 and (weekdays or usual >= earliest):
            weekdays += 1
            for at in PAIR_TIMES:
                start = datetime.combine(day, at, tzinfo=zone).astimezone(UTC)
                if start >= earliest:
                    out.append((start, start + timedelta(minutes=minutes)))
        day += timedelta(days=1)
    return out


def first_slot(
    after: datetime,
    tz: str,
    user_ids: Sequence[int],
    minutes: int,
    lead: timedelta,
) -> datetime | None:
    """The first pair candidate free for everyone, when every one of ``user_ids``
    has free/busy; None otherwise (the caller keeps its usual slot)."""
    candidates = pair_candidates(after, tz, minutes, lead)
    # By preference, not by time: a day's 09:30 comes after its 12:30.
    busy = busy_for(
        user_ids, min(c[0] for c in candidates), max(c[1] for c in candidates)
    )
    if any(uid not in busy for uid in user_ids):
        return None
    found = first_free(candidates, busy, user_ids)
    return found[0] if found is not None else None
