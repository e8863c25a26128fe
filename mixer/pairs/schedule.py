"""The pair's clock: one pending ``pairs.tick`` job per open pair.

The tick (``tick``) sends the reminder the day before a meeting and the "did you
meet?" question when it is due, settles it as missed when nobody answered within
the grace period, plans the next meeting, and ends the pair at the end of its
term. After each run it schedules itself again at the pair's next moment
(``plan``). Every e-mail carries a dedupe key, so running a tick twice, or on two
workers, never sends anything twice. Pausing or closing takes the pair off the
clock (``withdraw``). ``docs/pairs.md`` has the table of what happens when.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from mixer import clock, signals
from mixer.extensions import db
from mixer.jobs import services as jobs
from mixer.jobs.models import Job, JobStatus
from mixer.orgs.models import Membership
from mixer.pairs import notifications
from mixer.pairs.models import (
    ASK_STANDING_AT,
    NUDGE_AT,
    MeetingStatus,
    Pair,
    PairMeeting,
    PairStatus,
    lock_pair,
)

if TYPE_CHECKING:
    from mixer.accounts.models import User

TICK = "pairs.tick"
REMIND_BEFORE = timedelta(days=1)  # the reminder goes a day before a meeting
GRACE = timedelta(days=3)  # unanswered this long after it was due: missed
LATE = timedelta(days=1)  # a miss settled this long after its grace: worker was down
SLOT_LEAD = timedelta(days=2)  # a proposed slot is at least this far ahead
SLOT_TIME = time(12, 30)  # …on a weekday at lunchtime, in the pair's zone


# ---------------------------------------------------------------------------
# Time rules


def grace(pair: Pair) -> timedelta:
    """How long an unanswered meeting waits before it counts as missed.

    Never longer than the cadence, so a meeting is settled before the next is due.
    """
    return min(GRACE, timedelta(days=pair.cadence_days))


def later(pair: Pair, when: datetime, days: int) -> datetime:
    """``days`` later at the same wall-clock time in the pair's zone (DST-proof)."""
    local = when.astimezone(ZoneInfo(pair.timezone))
    return (local + timedelta(days=days)).astimezone(UTC)


def next_slot(after: datetime, tz: str) -> datetime:
    """The first weekday at least ``SLOT_LEAD`` after ``after``, at 12:30 in ``tz``."""
    zone = ZoneInfo(tz)
    day: date = (after + SLOT_LEAD).astimezone(zone).date()
    while True:
        slot = datetime.combine(day, SLOT_TIME, tzinfo=zone)
        if slot.weekday() < 5 and slot >= after + SLOT_LEAD:
            return slot.astimezone(UTC)
        day += timedelta(days=1)


# ---------------------------------------------------------------------------
# Planning the tick


def next_moment(pair: Pair) -> datetime | None:
    """When the pair's tick should run next (None: the pair is over)."""
    if not pair.is_open:
        return None
    now = clock.now()
    moments = [pair.term_ends_at] if pair.term_ends_at > now else []
    meeting = pair.open_meeting if pair.status == PairStatus.ACTIVE else None
    if meeting is not None:
        due = meeting.due_at
        ahead = [m for m in (due - REMIND_BEFORE, due, due + grace(pair)) if m > now]
        # Nothing ahead: the meeting is overdue (a shorter rhythm shortened its
        # grace period), so settle it now rather than at the end of the term.
        moments.append(ahead[0] if ahead else now)
    return min(moments) if moments else now


def plan(pair: Pair) -> Job | None:
    """Keep exactly one pending tick for the pair, at its next moment."""
    at = next_moment(pair)
    prefix = f"{TICK}:{pair.id}:"
    key = f"{prefix}{clock.stamp(at)}" if at is not None else None
    # Ticks planned for an earlier state are superseded (a running one is left).
    db.session.execute(
        update(Job)
        .where(
            Job.dedupe_key.like(f"{prefix}%"),
            Job.status == JobStatus.PENDING,
            Job.dedupe_key != (key or ""),
        )
        .values(status=JobStatus.CANCELLED, finished_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    if at is None:
        db.session.flush()
        return None
    return jobs.schedule(
        TICK, {"pair_id": pair.id}, run_at=at, dedupe_key=key, org_id=pair.org_id
    )


# ---------------------------------------------------------------------------
# The tick


def tick(pair_id: int) -> dict[str, int]:
    """Do whatever is due for one pair now, then plan its next moment.

    A closed or ended pair (or one already gone) is left alone and gets no new
    tick, so a tick that was pending when the pair closed simply ends. A pair one
    of whose people left the organization is closed (both are told).
    """
    counts: Counter[str] = Counter()
    pair = lock_pair(pair_id)
    if pair is None or not pair.is_open:
        return {}
    if not _both_members(pair):
        withdraw(pair, PairStatus.CLOSED, None)
        return {"closed": 1}
    now = clock.now()
    if pair.status == PairStatus.ACTIVE:
        meeting = pair.open_meeting
        while meeting is not None and meeting.due_at + grace(pair) <= now:
            counts["missed"] += 1
            late = now - (meeting.due_at + grace(pair)) > LATE
            meeting = settle(pair, meeting, MeetingStatus.MISSED, None, late=late)
        if meeting is not None:
            if now >= meeting.due_at:
                counts["asked"] += notifications.ask(pair, meeting)
            elif now >= meeting.due_at - REMIND_BEFORE:
                counts["reminded"] += notifications.remind(pair, meeting)
    if now >= pair.term_ends_at and (
        pair.status == PairStatus.PAUSED or pair.open_meeting is None
    ):
        counts["ended"] += _end_term(pair)
    plan(pair)
    db.session.flush()
    return dict(counts)


def _both_members(pair: Pair) -> bool:
    """Whether both people still belong to the pair's organization."""
    members = db.session.scalar(
        select(func.count(Membership.id)).where(
            Membership.org_id == pair.org_id,
            Membership.user_id.in_((pair.a_id, pair.b_id)),
        )
    )
    return members == 2


def settle(
    pair: Pair,
    meeting: PairMeeting,
    status: MeetingStatus,
    by: User | None,
    note: str | None = None,
    *,
    late: bool = False,
) -> PairMeeting | None:
    """Close a meeting as met, skipped or missed; the next one (or None).

    "skipped" counts as missed for the streak: a streak of NUDGE_AT brings a
    nudge, ASK_STANDING_AT a "pause or close?" question; "met" resets it. A
    ``late`` miss (settled long after its grace period because the worker was
    down) is history only: it neither lengthens the streak nor sends anything,
    as nobody may have been asked about it.
    """
    now = clock.now()
    meeting.record(status, by, note, now)
    if status == MeetingStatus.MET:
        pair.missed_in_row = 0
    elif not late:
        pair.missed_in_row += 1
        # Past the term the pair ends now: feedback, not a nudge, is the next mail.
        if now < pair.term_ends_at:
            if pair.missed_in_row == NUDGE_AT:
                notifications.nudge(pair, meeting)
            elif pair.missed_in_row == ASK_STANDING_AT:
                notifications.ask_standing(pair, meeting)
    db.session.flush()
    return _next_meeting(pair, meeting.due_at)


def _next_meeting(pair: Pair, after: datetime) -> PairMeeting | None:
    """Plan the series' next meeting after ``after``, if the term allows one.

    Normally one cadence later. Slots whose grace period is already over (the
    worker was down for a while) are skipped, not planned only to be settled as
    missed in a burst: the pair carries on at the next slot it can still keep.
    """
    if pair.status != PairStatus.ACTIVE:
        return None
    now = clock.now()
    steps = 1
    while True:
        due = later(pair, after, pair.cadence_days * steps)
        if due >= pair.term_ends_at:
            return None
        if due + grace(pair) > now:
            break
        steps += 1
    meeting = PairMeeting(pair=pair, number=pair.next_number, due_at=due)
    db.session.add(meeting)
    db.session.flush()
    return meeting


def _end_term(pair: Pair) -> int:
    """The term is over: the pair ends and both are asked for feedback."""
    now = clock.now()
    for meeting in list(pair.meetings):
        if meeting.is_open and meeting.due_at > now:
            pair.meetings.remove(meeting)  # planned, never happened
    pair.update_state(PairStatus.ENDED, now)
    db.session.flush()
    notifications.ask_feedback(pair)
    signals.pair_ended.send(pair)
    return 1


# ---------------------------------------------------------------------------
# Off the clock


def withdraw(pair: Pair, status: PairStatus, by: User | None) -> None:
    """Pause or close a (locked, active or open) pair: its planned meetings are
    dropped, the calendar series withdrawn (CANCEL, SEQUENCE + 1), both told, and
    the tick re-planned (a paused pair keeps only the end of its term)."""
    start = (
        pair.next_meeting_at
        or (pair.first_slot_at if status == PairStatus.CLOSED else None)
        or clock.now()
    )
    _drop_open_meetings(pair)
    pair.update_state(status)
    pair.ics_sequence += 1
    db.session.flush()
    notifications.notify_status(
        pair, by, status.value, notifications.invite(pair, start, "CANCEL")
    )
    plan(pair)
    if status == PairStatus.CLOSED:
        signals.pair_ended.send(pair)


def _drop_open_meetings(pair: Pair) -> None:
    """Forget meetings that were planned and never happened."""
    for meeting in list(pair.meetings):
        if meeting.is_open:
            pair.meetings.remove(meeting)
    db.session.flush()
