"""Meetings held and missed per organization and UTC month, kept by triggers.

``pair_checkin_month`` (``PairMeetingMonth``) is written only by the database
(migration ``0016_pair_months`` says how); the organizers' overview reads it.
``recount`` counts the same figures from the check-ins themselves, ``check``
lists where the two differ, and ``rebuild`` replaces the kept rows with the
recount (``mixer pairs recount --fix``), for instance after a restore from an
old dump or if a future migration rebuilt a table and lost its triggers, which
SQLite's copy-and-move ``batch_alter_table`` does: re-create them there.
"""

from __future__ import annotations

from sqlalchemy import case, delete, func, insert, literal_column, select

from mixer.extensions import db
from mixer.pairs.models import MeetingStatus, Pair, PairMeeting, PairMeetingMonth

COUNTED = (MeetingStatus.MET, MeetingStatus.MISSED, MeetingStatus.SKIPPED)

Tally = dict[tuple[int, str], tuple[int, int]]


def _month():
    """The UTC month of a check-in's date, as the triggers compute it."""
    if db.engine.dialect.name == "sqlite":
        return func.substr(PairMeeting.due_at, 1, 7)
    return func.to_char(
        literal_column("pair_checkin.due_at AT TIME ZONE 'UTC'"), "YYYY-MM"
    )


def _recount_query(org_id: int | None = None):
    month = _month().label("month")
    held = func.sum(case((PairMeeting.status == MeetingStatus.MET, 1), else_=0))
    missed = func.sum(case((PairMeeting.status != MeetingStatus.MET, 1), else_=0))
    query = (
        select(Pair.org_id, month, held, missed)
        .join(Pair, Pair.id == PairMeeting.pair_id)
        .where(PairMeeting.status.in_(COUNTED))
        .group_by(Pair.org_id, month)
    )
    if org_id is not None:
        query = query.where(Pair.org_id == org_id)
    return query


def recount(org_id: int | None = None) -> Tally:
    """Held and missed per (organization, month), counted from the check-ins."""
    return {
        (org, month): (int(held), int(missed))
        for org, month, held, missed in db.session.execute(_recount_query(org_id))
    }


def kept(org_id: int | None = None) -> Tally:
    """The rows the triggers keep, without months that add up to nothing."""
    query = select(PairMeetingMonth)
    if org_id is not None:
        query = query.where(PairMeetingMonth.org_id == org_id)
    return {
        (row.org_id, row.month): (row.held, row.missed)
        for row in db.session.scalars(query)
        if row.held or row.missed
    }


def check(
    org_id: int | None = None,
) -> dict[tuple[int, str], tuple[tuple[int, int], tuple[int, int]]]:
    """Where the kept tallies differ from a recount: {key: (kept, counted)}."""
    have, want = kept(org_id), recount(org_id)
    return {
        key: (have.get(key, (0, 0)), want.get(key, (0, 0)))
        for key in have.keys() | want.keys()
        if have.get(key, (0, 0)) != want.get(key, (0, 0))
    }


def rebuild(org_id: int | None = None) -> int:
    """Replace the kept tallies with a recount; the number of months written."""
    gone = delete(PairMeetingMonth)
    if org_id is not None:
        gone = gone.where(PairMeetingMonth.org_id == org_id)
    db.session.execute(gone)
    db.session.execute(
        insert(PairMeetingMonth).from_select(
            ["org_id", "month", "held", "missed"], _recount_query(org_id)
        )
    )
    db.session.flush()
    return len(kept(org_id))
