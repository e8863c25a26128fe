"""The pair's clock at its edges: a worker down for weeks, a shorter rhythm while a
check-in awaits answers, pausing across a due date, a term ending while paused, a
pair closed (or a member gone) while a tick is pending, renewal answered at once.

Each step names exactly the e-mails it adds (``Ledger``); the worker runs twice
at every moment.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from mixer import clock
from mixer.accounts.models import User
from mixer.extensions import db
from mixer.jobs import services as jobs
from mixer.jobs.models import Job
from mixer.orgs.models import Membership
from mixer.orgs.services import remove_member
from mixer.pairs import PairError, lifecycle, schedule
from mixer.pairs.lifecycle import create_pair
from mixer.pairs.models import Pair
from tests.helpers import mail_text

from .helpers import Ledger, both, live_until, mails, tick_until

ADA, BO = "ada@acme.example.org", "bo@acme.example.org"


def at(day: int, month: int = 3, hour: int = 12, minute: int = 30) -> datetime:
    """A moment of 2026 in UTC (the pairs here have no event: their zone is UTC)."""
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def pair_id(world) -> int:
    """Ada and Bo, peers; check-in #1 on Wednesday 4 March 12:30, every 2 weeks."""
    pair = create_pair(world.org, world.mentor, world.mentee, kind="peer")
    db.session.commit()
    return pair.id


def _meetings(pair_id: int) -> list[tuple]:
    """Number, status and due time of each of the pair's check-ins."""
    db.session.expire_all()
    return [
        (c.number, c.status, c.due_at) for c in db.session.get(Pair, pair_id).meetings
    ]


def _pending_ticks() -> list[datetime]:
    """When the pending pair ticks will run."""
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Job.run_at).where(Job.kind == "pairs.tick", Job.status == "pending")
        )
    )


def test_a_worker_down_for_weeks_sends_nothing_stale(pair_id):
    ledger = Ledger()
    tick_until(at(4))
    ledger.added(*both("pairs.reminder", ADA, BO), *both("pairs.checkin", ADA, BO))

    # The worker stops after asking about #1 and comes back on 10 April: #1's
    # grace ran out on 7 March, and the series' 18 March and 1 April slots came
    # and went without anybody being reminded or asked.
    clock.freeze(at(10, 4, 10, 0))
    tick_until(clock.now())
    ledger.added()  # no burst: no reminders, questions, nudge or "pause or close?"
    assert _meetings(pair_id) == [(1, "missed", at(4)), (2, "scheduled", at(15, 4))]
    db.session.expire_all()
    assert db.session.get(Pair, pair_id).missed_in_row == 0  # not held against them
    assert _pending_ticks() == [at(14, 4)]  # the reminder of the next kept slot

    # From there the pair lives on as usual, each e-mail once.
    tick_until(at(15, 4))
    ledger.added(*both("pairs.reminder", ADA, BO), *both("pairs.checkin", ADA, BO))


def test_a_late_reminder_says_the_right_day(pair_id, outbox):
    ledger = Ledger()
    # The worker is down from Monday until Wednesday 08:00, the morning of #1.
    clock.freeze(at(4, 3, 8, 0))
    tick_until(clock.now())
    ledger.added(*both("pairs.reminder", ADA, BO))
    [reminder] = mails(outbox, BO, "check-in with")
    assert reminder["Subject"] == "Today: your check-in with Ada Lovelace"
    # One line since the text e-mail is translated (a paragraph is one message).
    assert "is today, Wed 04 Mar 2026, 12:30 UTC" in mail_text(reminder)
    tick_until(at(4))
    ledger.added(*both("pairs.checkin", ADA, BO))


def test_a_shorter_rhythm_settles_an_overdue_meeting_at_once(world, pair_id):
    ledger = Ledger()
    tick_until(at(4))
    ledger.added(*both("pairs.reminder", ADA, BO), *both("pairs.checkin", ADA, BO))
    # Thursday 14:00 Ada makes it daily: #1's grace is now one day, already over.
    clock.freeze(at(5, 3, 14, 0))
    changed = lifecycle.change_cadence(
        db.session.get(Pair, pair_id), world.mentor, 1, 5
    )
    db.session.commit()
    assert changed
    ledger.added(*both("pairs.status", ADA, BO))
    # The tick comes now, not at the end of the term (where it would have filled
    # the term with a missed check-in per day).
    assert _pending_ticks() == [at(5, 3, 14, 0)]
    tick_until(clock.now())
    assert _meetings(pair_id) == [(1, "missed", at(4)), (2, "scheduled", at(5))]
    ledger.added(*both("pairs.checkin", ADA, BO))  # #2 is due (5 March 12:30)
    assert _pending_ticks() == [at(6)]
    # A daily check-in is planned less than a day ahead: asked, not reminded.
    tick_until(at(6))
    ledger.added(*both("pairs.checkin", ADA, BO), *both("pairs.nudge", ADA, BO))
    assert [c[1] for c in _meetings(pair_id)] == ["missed", "missed", "scheduled"]


def test_pausing_across_a_due_date_then_resuming(world, pair_id):
    ledger = Ledger()
    tick_until(at(3))
    ledger.added(*both("pairs.reminder", ADA, BO))
    clock.freeze(at(3, 3, 13, 0))
    assert lifecycle.pause(db.session.get(Pair, pair_id), world.mentor)
    db.session.commit()
    ledger.added(*both("pairs.status", ADA, BO))
    # Wednesday's check-in is dropped: nobody is asked about it.
    tick_until(at(10, 3, 9, 0))
    ledger.added()
    assert _meetings(pair_id) == []
    assert lifecycle.resume(db.session.get(Pair, pair_id), world.mentee)
    db.session.commit()
    ledger.added(*both("pairs.status", ADA, BO))
    # Tuesday 09:00 → Thursday 12 March 12:30, reminded and asked once each.
    assert _meetings(pair_id) == [(1, "scheduled", at(12))]
    tick_until(at(12))
    ledger.added(*both("pairs.reminder", ADA, BO), *both("pairs.checkin", ADA, BO))


def test_a_term_that_ends_while_paused(world, pair_id):
    ledger = Ledger()
    assert lifecycle.pause(db.session.get(Pair, pair_id), world.mentor)
    db.session.commit()
    ledger.added(*both("pairs.status", ADA, BO))
    term_ends = db.session.get(Pair, pair_id).term_ends_at
    # Past the term, before the worker ended the pair: resuming is refused.
    clock.freeze(term_ends + timedelta(hours=1))
    with pytest.raises(PairError, match="term is over"):
        lifecycle.resume(db.session.get(Pair, pair_id), world.mentee)
    db.session.rollback()
    tick_until(at(30, 6))
    ledger.added(*both("pairs.feedback", ADA, BO))
    db.session.expire_all()
    pair = db.session.get(Pair, pair_id)
    assert (pair.status, pair.open_key, pair.meetings) == ("ended", None, [])
    assert not lifecycle.resume(pair, world.mentee)  # over: nothing to resume
    assert _pending_ticks() == []


def test_a_tick_pending_when_the_pair_closes_does_nothing(world, pair_id, runner):
    # A tick the plan does not know about (claimed by a busy worker, or left by
    # an older plan) is still pending when Bo closes the pair.
    jobs.schedule("pairs.tick", {"pair_id": pair_id}, run_at=at(3), dedupe_key="stray")
    db.session.commit()
    ledger = Ledger()
    assert lifecycle.close(db.session.get(Pair, pair_id), world.mentee)
    db.session.commit()
    ledger.added(*both("pairs.status", ADA, BO))
    live_until(runner, at(30, 6))
    ledger.added()
    stray = db.session.scalar(select(Job).where(Job.dedupe_key == "stray"))
    assert (stray.status, stray.result) == ("done", {})
    assert _pending_ticks() == []  # it did not plan itself again


def test_a_pair_closes_when_someone_leaves_the_organization(world, pair_id, outbox):
    ledger = Ledger()
    membership = db.session.scalar(
        select(Membership).where(Membership.user_id == world.mentee.id)
    )
    remove_member(membership)
    db.session.commit()
    tick_until(at(30, 3))
    ledger.added(*both("pairs.status", ADA, BO))  # told once, then quiet
    [notice] = mails(outbox, ADA, "is closed")
    assert "because one of you no longer belongs to Acme" in mail_text(notice)
    db.session.expire_all()
    pair = db.session.get(Pair, pair_id)
    assert (pair.status, pair.open_key) == ("closed", None)
    assert _pending_ticks() == []


def test_both_asking_to_renew_at_the_same_instant_start_one_term(app, world, pair_id):
    clock.freeze(at(1, 6))
    schedule.tick(pair_id)
    db.session.commit()
    assert db.session.get(Pair, pair_id).status == "ended"
    ledger = Ledger()
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def answer(user_id: int) -> None:
        """One of the two asks for another term, on the barrier's signal."""
        try:
            with app.app_context():
                pair = db.session.get(Pair, pair_id)
                user = db.session.get(User, user_id)
                barrier.wait()
                lifecycle.submit_feedback(pair, user, rating=5, helped=None, renew=True)
                db.session.commit()
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=answer, args=(uid,))
        for uid in (world.mentor.id, world.mentee.id)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    db.session.expire_all()
    renewed = db.session.scalar(
        select(func.count()).select_from(Pair).where(Pair.renewed_from_id == pair_id)
    )
    assert renewed == 1
    ledger.added(*both("pairs.intro", ADA, BO))


def test_leaving_closes_the_pairs_at_once_when_asked(world, pair_id):
    """``close_pairs_of`` (for ``remove_member``) closes now; the tick stays quiet."""
    ledger = Ledger()
    assert lifecycle.close_pairs_of(world.org.id, world.mentee.id) == 1
    assert lifecycle.close_pairs_of(world.org.id, world.mentee.id) == 0
    db.session.commit()
    ledger.added(*both("pairs.status", ADA, BO))
    tick_until(at(30, 3))
    ledger.added()
    assert db.session.get(Pair, pair_id).status == "closed"
