"""Lists of pairs and the organizers' overview, each a fixed number of queries.

``pairs_of`` (a person's pairs), ``org_pairs_query`` (an organization's, for the
API and lists) and ``org_overview`` (counts by status, meetings held and missed
per month, one page of pairs with their numbers), aggregated in the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from babel import dates
from sqlalchemy import Select, case, func, select, type_coerce
from sqlalchemy.orm import selectinload

from mixer import clock
from mixer.db_types import UTCDateTime
from mixer.extensions import db
from mixer.i18n import current_locale
from mixer.pairs.models import (
    OPEN_MEETING,
    MeetingStatus,
    Pair,
    PairMeeting,
    PairMeetingMonth,
    PairStatus,
)

if TYPE_CHECKING:
    from mixer.accounts.models import User
    from mixer.orgs.models import Organization

HELD = case((PairMeeting.status == MeetingStatus.MET, 1), else_=0)
MISSED = case(
    (PairMeeting.status.in_((MeetingStatus.MISSED, MeetingStatus.SKIPPED)), 1),
    else_=0,
)


def pairs_of(user: User, org_id: int | None = None) -> list[Pair]:
    """A person's pairs (in one organization, or all): open first, newest first.

    Loaded with what the lists show (people, organization, event, meetings), so
    a list costs a fixed number of queries however many pairs it has.
    """
    query = (
        select(Pair)
        .where((Pair.a_id == user.id) | (Pair.b_id == user.id))
        .options(
            selectinload(Pair.a),
            selectinload(Pair.b),
            selectinload(Pair.org),
            selectinload(Pair.event),
            selectinload(Pair.meetings),
        )
        .order_by(Pair.created_at.desc(), Pair.id.desc())
    )
    if org_id is not None:
        query = query.where(Pair.org_id == org_id)
    return sorted(db.session.scalars(query), key=lambda p: not p.is_open)


def org_pairs_query(org: Organization) -> Select[Pair]:
    """The organization's pairs, newest first (for lists and the API)."""
    return (
        select(Pair)
        .where(Pair.org_id == org.id)
        .order_by(Pair.created_at.desc(), Pair.id.desc())
    )


@dataclass
class PairRow:
    """One line of the organizers' list: a pair and its numbers."""

    pair: Pair
    held: int
    missed: int
    next_at: datetime | None


@dataclass
class OrgOverview:
    """What organizers see about their organization's pairs."""

    rows: list[PairRow]
    status_counts: dict[str, int]
    total: int = 0
    months: list[dict[str, Any]] = field(default_factory=list)
    held: int = 0
    missed: int = 0
    peak: int = 1  # the largest monthly bar, to scale the picture


def meeting_numbers(pair_ids: list[int]) -> dict[int, tuple[int, int, datetime | None]]:
    """Held, missed and the next open meeting's date of each pair, in one query."""
    if not pair_ids:
        return {}
    next_due = type_coerce(
        func.min(case((PairMeeting.status.in_(OPEN_MEETING), PairMeeting.due_at))),
        UTCDateTime,
    )
    rows = db.session.execute(
        select(PairMeeting.pair_id, func.sum(HELD), func.sum(MISSED), next_due)
        .where(PairMeeting.pair_id.in_(pair_ids))
        .group_by(PairMeeting.pair_id)
    )
    return {pid: (int(h or 0), int(m or 0), due) for pid, h, m, due in rows}


def org_overview(
    org: Organization, page: int = 1, per_page: int = 100, months: int = 6
) -> OrgOverview:
    """One page of pairs with their numbers, status counts, held/missed per month.

    A fixed number of queries whatever the size of the organization: the counts
    are aggregated in the database and only one page of pairs is loaded.
    """
    counts: dict[str, int] = dict.fromkeys(PairStatus, 0)
    counts.update(
        db.session.execute(
            select(Pair.status, func.count())
            .where(Pair.org_id == org.id)
            .group_by(Pair.status)
        ).all()
    )
    pairs = db.session.scalars(
        org_pairs_query(org)
        .options(selectinload(Pair.a), selectinload(Pair.b), selectinload(Pair.event))
        .limit(per_page)
        .offset((max(page, 1) - 1) * per_page)
    ).all()
    numbers = meeting_numbers([p.id for p in pairs])
    rows = []
    for pair in pairs:
        held, missed, next_at = numbers.get(pair.id, (0, 0, None))
        active = pair.status == PairStatus.ACTIVE
        rows.append(PairRow(pair, held, missed, next_at if active else None))
    held_total, missed_total, series = _settled(org, months)
    peak = max([1] + [r["held"] + r["missed"] for r in series])
    return OrgOverview(
        rows,
        counts,
        sum(counts.values()),
        series,
        int(held_total or 0),
        int(missed_total or 0),
        peak,
    )


def month_starts(months: int) -> list[datetime]:
    """The first instants (UTC) of the last ``months`` months, oldest first, and
    of the month after the current one (so ``months + 1`` bounds)."""
    now = clock.now()
    year, month = now.year, now.month
    starts = [datetime(*_next(year, month), 1, tzinfo=UTC)]
    for _ in range(months):
        starts.append(datetime(year, month, 1, tzinfo=UTC))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


def month_label(start: datetime) -> str:
    """ "Dec 2026" in the language in force (the chart shows its first word)."""
    language = current_locale()
    if language == "en":
        return start.strftime("%b %Y")
    return dates.format_skeleton("yMMM", start, locale=language)


def _next(year: int, month: int) -> tuple[int, int]:
    """The (year, month) after ``(year, month)``."""
    return (year, month + 1) if month < 12 else (year + 1, 1)


def _settled(org: Organization, months: int) -> tuple[int, int, list[dict[str, Any]]]:
    """Meetings held and missed, in all and in each of the last ``months`` months
    (UTC), from the monthly tallies the database keeps (``mixer.pairs.tallies``):
    one short row per month the organization has had pairs, whatever their number.
    """
    bounds = month_starts(months)
    per = {
        month: (held, missed)
        for month, held, missed in db.session.execute(
            select(
                PairMeetingMonth.month, PairMeetingMonth.held, PairMeetingMonth.missed
            ).where(PairMeetingMonth.org_id == org.id)
        )
    }
    series = [
        {
            "label": month_label(start),
            "held": per.get(start.strftime("%Y-%m"), (0, 0))[0],
            "missed": per.get(start.strftime("%Y-%m"), (0, 0))[1],
        }
        for start in bounds[:-1]
    ]
    held = sum(h for h, _ in per.values())
    missed = sum(m for _, m in per.values())
    return held, missed, series


def open_pairs_among(org_id: int, users: list[int]) -> set[tuple[int, int]]:
    """Pairs of these accounts in an open (active or paused) pair of the org."""
    rows = db.session.execute(
        select(Pair.a_id, Pair.b_id).where(
            Pair.org_id == org_id,
            Pair.is_open,
            Pair.a_id.in_(users),
            Pair.b_id.in_(users),
        )
    )
    return {(a, b) for a, b in rows}
