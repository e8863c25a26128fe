"""What a mixer remembers: who in the room met before, who is in a pair, and who
reports to whom.

The planner works on registrations of one event; people are remembered by their
user account, so guests (registrations without an account) have no memory. Each
function reads the organization's own data only and answers in registration ids:

- **met at earlier events** — a ``Connection`` (seated together in a held round, a
  badge scan, a "we talked" note, an organizer's entry) at another event of the
  same organization that started before this one, within the plan's look-back;
- **in an open pair** — a ``Pair`` that is active or paused, whatever its age
  (pairs sit above rotations, so they answer ``signals.planning_ties``);
- **a reporting line** — one person's membership names the other as manager.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from dateutil.relativedelta import relativedelta
from sqlalchemy import select
from sqlalchemy.orm import aliased

from mixer import signals
from mixer.connections.models import Connection
from mixer.events.models import Event, Registration
from mixer.extensions import db
from mixer.orgs.models import Membership
from mixer.rotations.planner import Ties

# The look-back choices the plan form offers: months, 0 "don't look back",
# None "any time".
LOOKBACK_CHOICES: tuple[int | None, ...] = (0, 3, 6, 12, 24, None)
MAX_LOOKBACK_MONTHS = 120


def since(event: Event, lookback_months: int | None) -> datetime | None:
    """The earliest start of an event whose meetings count (None: any time)."""
    if lookback_months is None:
        return None
    return event.starts_at - relativedelta(months=lookback_months)


def ties_for(
    event: Event, regs: Iterable[Registration], lookback_months: int | None
) -> Ties:
    """Who in the room knows whom already, and the reporting lines, as ``Ties``."""
    people = list(regs)
    reg_of: dict[int, int] = {}  # user id -> registration id in this event
    for reg in people:
        if reg.user_id is not None:
            reg_of[reg.user_id] = reg.id
    if len(reg_of) < 2:
        return Ties()

    def as_regs(user_pairs: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
        out = set()
        for a, b in user_pairs:
            ra, rb = reg_of.get(a), reg_of.get(b)
            if ra is not None and rb is not None and ra != rb:
                out.add((min(ra, rb), max(ra, rb)))
        return out

    users = list(reg_of)
    return Ties.of(
        earlier=as_regs(_met_earlier(event, users, lookback_months)),
        open_pairs=as_regs(_open_pairs(event, users)),
        reporting=as_regs(_reporting_lines(event, users)),
    )


def _met_earlier(
    event: Event, users: list[int], lookback_months: int | None
) -> set[tuple[int, int]]:
    """User pairs of this room connected at the organization's earlier events."""
    if lookback_months == 0:
        return set()
    first, second = aliased(Registration), aliased(Registration)
    query = (
        select(first.user_id, second.user_id)
        .select_from(Connection)
        .join(Event, Event.id == Connection.event_id)
        .join(first, first.id == Connection.a_id)
        .join(second, second.id == Connection.b_id)
        .where(
            Event.org_id == event.org_id,
            Event.id != event.id,
            Event.starts_at < event.starts_at,
            first.user_id.in_(users),
            second.user_id.in_(users),
        )
    )
    start = since(event, lookback_months)
    if start is not None:
        query = query.where(Event.starts_at >= start)
    return {
        (a, b)
        for a, b in db.session.execute(query)
        if a is not None and b is not None and a != b
    }


def _open_pairs(event: Event, users: list[int]) -> set[tuple[int, int]]:
    """User pairs of this room in an open pair (``signals.planning_ties``)."""
    found: set[tuple[int, int]] = set()
    for _, pairs in signals.planning_ties.send(event.org_id, users=users):
        found |= set(pairs or ())
    return found


def _reporting_lines(event: Event, users: list[int]) -> set[tuple[int, int]]:
    """User pairs of this room where one is the other's manager."""
    report, manager = aliased(Membership), aliased(Membership)
    rows = db.session.execute(
        select(report.user_id, manager.user_id)
        .join(manager, manager.id == report.manager_id)
        .where(
            report.org_id == event.org_id,
            report.user_id.in_(users),
            manager.user_id.in_(users),
        )
    )
    return {(a, b) for a, b in rows}
