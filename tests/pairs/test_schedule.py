"""The pair's clock, called directly with a frozen clock: when the next moment is
(``next_moment``), that exactly one tick waits for it (``plan``), and the rules
of a pair's state (``Pair.update_state``). No worker, no e-mail read here: the
lived walk through a term is ``test_life.py``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from mixer import clock
from mixer.extensions import db
from mixer.jobs.models import Job
from mixer.mail.models import OutboxMessage
from mixer.pairs import lifecycle, schedule
from mixer.pairs.lifecycle import create_pair
from mixer.pairs.models import MeetingStatus, Pair, PairStatus

FIRST = datetime(2026, 3, 4, 12, 30, tzinfo=UTC)  # meeting #1 (Wednesday)


@pytest.fixture
def pair(world) -> Pair:
    """Ada and Bo, peers; meeting #1 on Wednesday 4 March 12:30, every 2 weeks."""
    made = create_pair(world.org, world.mentor, world.mentee, kind="peer")
    db.session.commit()
    return made


def _ticks() -> list[tuple[str, datetime]]:
    """Every pair tick's status and time, oldest first."""
    db.session.expire_all()
    return [
        (job.status, job.run_at)
        for job in db.session.scalars(
            select(Job).where(Job.kind == schedule.TICK).order_by(Job.id)
        )
    ]


def test_the_next_moment_walks_reminder_question_grace_and_term(pair):
    # Monday: the reminder is next (a day before), then the question, then the
    # end of the grace period; paused, only the end of the term is left.
    assert schedule.next_moment(pair) == FIRST - timedelta(days=1)
    clock.freeze(FIRST - timedelta(hours=1))
    assert schedule.next_moment(pair) == FIRST
    clock.freeze(FIRST + timedelta(hours=1))
    assert schedule.next_moment(pair) == FIRST + timedelta(days=3)
    clock.freeze(FIRST + timedelta(days=4))  # overdue: settle it now
    assert schedule.next_moment(pair) == clock.now()
    pair.status = PairStatus.PAUSED
    assert schedule.next_moment(pair) == pair.term_ends_at
    pair.status = PairStatus.CLOSED
    assert schedule.next_moment(pair) is None
    db.session.rollback()


def test_grace_is_never_longer_than_the_cadence(pair):
    assert schedule.grace(pair) == timedelta(days=3)
    pair.cadence_days = 1
    assert schedule.grace(pair) == timedelta(days=1)
    db.session.rollback()


def test_plan_keeps_exactly_one_pending_tick_at_the_next_moment(pair):
    reminder = FIRST - timedelta(days=1)
    assert _ticks() == [("pending", reminder)]
    # Planning again for the same moment changes nothing.
    schedule.plan(pair)
    db.session.commit()
    assert _ticks() == [("pending", reminder)]
    # The tick at the reminder sends it and plans the question.
    clock.freeze(reminder)
    assert schedule.tick(pair.id) == {"reminded": 2}
    db.session.commit()
    assert _ticks() == [("cancelled", reminder), ("pending", FIRST)]
    # Closed: no tick is left.
    assert lifecycle.close(pair, None)
    db.session.commit()
    assert [status for status, _ in _ticks()] == ["cancelled", "cancelled"]


def test_a_tick_settles_and_plans_the_next_meeting_one_cadence_on(pair):
    clock.freeze(FIRST + timedelta(days=3))
    assert schedule.tick(pair.id) == {"missed": 1}
    db.session.commit()
    db.session.expire_all()
    pair = db.session.get(Pair, pair.id)
    assert [(m.number, m.status, m.due_at) for m in pair.meetings] == [
        (1, MeetingStatus.MISSED, FIRST),
        (2, MeetingStatus.SCHEDULED, FIRST + timedelta(days=14)),
    ]
    assert pair.missed_in_row == 1
    assert _ticks()[-1] == ("pending", FIRST + timedelta(days=13))
    # Nobody reported the miss: no reporter, no time, no notes.
    missed = pair.meetings[0]
    assert (missed.reported_by_id, missed.reported_at, missed.notes) == (
        None,
        None,
        {},
    )


def test_reminder_and_question_keys_keep_their_first_spelling(pair):
    """Their dedupe keys have no trailing Z (as stored since the first release),
    so a tick run again across an upgrade finds them and sends nothing twice."""
    clock.freeze(FIRST - timedelta(days=1))
    schedule.tick(pair.id)
    clock.freeze(FIRST)
    schedule.tick(pair.id)
    db.session.commit()
    keys = sorted(
        db.session.scalars(
            select(OutboxMessage.dedupe_key).where(
                OutboxMessage.dedupe_key.like("pairs.reminder:%")
                | OutboxMessage.dedupe_key.like("pairs.ask:%")
            )
        )
    )
    people = sorted((pair.a_id, pair.b_id))
    assert keys == sorted(
        f"{kind}:{pair.id}:1:20260304T123000:{uid}"
        for kind in ("pairs.ask", "pairs.reminder")
        for uid in people
    )


def test_a_tick_of_a_pair_that_is_gone_or_over_does_nothing(pair):
    assert schedule.tick(999_999) == {}
    assert lifecycle.close(pair, None)
    db.session.commit()
    clock.freeze(FIRST)
    assert schedule.tick(pair.id) == {}


def test_slots_are_weekdays_at_lunchtime_in_the_pairs_zone():
    friday = datetime(2026, 3, 6, 9, 0, tzinfo=UTC)
    # Two days on is Sunday: Monday 12:30 in London (GMT) …
    assert schedule.next_slot(friday, "Europe/London") == datetime(
        2026, 3, 9, 12, 30, tzinfo=UTC
    )
    # … and 12:30 in New York, on summer time (EDT) since Sunday: 16:30 UTC.
    assert schedule.next_slot(friday, "America/New_York") == datetime(
        2026, 3, 9, 16, 30, tzinfo=UTC
    )


def test_state_changes_go_through_update_state(pair):
    clock.freeze(FIRST)
    pair.missed_in_row = 2
    pair.update_state(PairStatus.PAUSED)
    assert (pair.status, pair.missed_in_row, pair.open_key) == (
        PairStatus.PAUSED,
        0,
        pair.open_key,
    )
    assert pair.open_key is not None and pair.is_open
    pair.update_state(PairStatus.ACTIVE)
    pair.update_state(PairStatus.ENDED)
    assert (pair.open_key, pair.ended_at, pair.is_open) == (None, FIRST, False)
    # An ended or closed pair goes nowhere (a caller's mistake).
    with pytest.raises(ValueError, match="a pair cannot go from ended to active"):
        pair.update_state(PairStatus.ACTIVE)
    with pytest.raises(ValueError, match="'over' is not a valid PairStatus"):
        pair.update_state("over")  # type: ignore[arg-type]
    db.session.rollback()


def test_is_open_reads_the_same_in_python_and_in_sql(pair, world):
    db.session.expire_all()
    assert db.session.scalars(select(Pair.id).where(Pair.is_open)).all() == [pair.id]
    lifecycle.close(db.session.get(Pair, pair.id), world.mentor)
    db.session.commit()
    assert db.session.scalars(select(Pair.id).where(Pair.is_open)).all() == []
    assert not db.session.get(Pair, pair.id).is_open
