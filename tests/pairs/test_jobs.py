"""The pair's tick: exactly once under repeats and two workers; preferences."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import select

from mixer import clock
from mixer.extensions import db
from mixer.jobs import services as jobs
from mixer.jobs.models import Job
from mixer.pairs import schedule
from mixer.pairs.lifecycle import create_pair
from mixer.pairs.models import Pair

from .helpers import kinds, sent, tick_until

DUE = datetime(2026, 3, 4, 12, 30, tzinfo=UTC)


def test_running_a_tick_again_sends_nothing_new(world):
    pair = create_pair(world.org, world.mentor, world.mentee, kind="peer")
    db.session.commit()
    clock.freeze(DUE)
    first = schedule.tick(pair.id)
    again = schedule.tick(pair.id)
    db.session.commit()
    assert first == {"asked": 2} and again == {"asked": 0}
    assert kinds() == {"pairs.intro": 2, "pairs.checkin": 2}
    # One pending tick remains, at the end of the grace period.
    pending = db.session.scalars(
        select(Job).where(Job.kind == "pairs.tick", Job.status == "pending")
    ).all()
    assert [j.run_at for j in pending] == [datetime(2026, 3, 7, 12, 30, tzinfo=UTC)]


def test_two_workers_at_once_send_each_mail_once(app, world):
    pair = create_pair(world.org, world.mentor, world.mentee, kind="peer")
    db.session.commit()
    clock.freeze(DUE + (datetime(2026, 3, 7, 12, 31, tzinfo=UTC) - DUE))
    # Stray extra ticks for the same pair, as after a crash or a race.
    for n in range(3):
        jobs.schedule(
            schedule.TICK, {"pair_id": pair.id}, run_at=DUE, dedupe_key=f"stray:{n}"
        )
    db.session.commit()
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def work() -> None:
        """One worker: run what is due, twice."""
        try:
            with app.app_context():
                barrier.wait()
                jobs.run_due(limit=2)
                jobs.run_due()
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    db.session.expire_all()
    pair = db.session.get(Pair, pair.id)
    # Check-in #1 was missed once (not twice), #2 planned once.
    assert [(c.number, c.status) for c in pair.meetings] == [
        (1, "missed"),
        (2, "scheduled"),
    ]
    assert pair.missed_in_row == 1
    assert set(sent().values()) == {1}
    failed = db.session.scalars(select(Job).where(Job.status == "failed")).all()
    assert failed == []


def test_people_who_turned_pair_mail_off_get_none(world, outbox):
    world.mentee.notifications = {**world.mentee.notifications, "pair_checkins": False}
    db.session.commit()
    create_pair(world.org, world.mentor, world.mentee, kind="peer")
    db.session.commit()
    tick_until(DUE)
    assert outbox("bo@acme.example.org") == []
    ada = outbox("ada@acme.example.org")
    assert len(ada) == 3  # introduction, reminder, "did you meet?"
    unsubscribe = ada[0]["List-Unsubscribe"]
    assert unsubscribe.startswith("<http://mixer.test/")
    assert "unsubscribe" in unsubscribe
    assert ada[0]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
