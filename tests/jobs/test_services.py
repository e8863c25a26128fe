"""Scheduling and running jobs: once, deduplicated, retried, leased, progress."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import create_engine, select, text

from mixer import clock
from mixer.extensions import db
from mixer.jobs import queue
from mixer.jobs.models import Job
from mixer.jobs.services import (
    LEASE,
    PermanentJobError,
    cancel,
    handler,
    prune_finished,
    requeue,
    reschedule,
    run_due,
    schedule,
    set_progress,
)
from mixer.mail.models import OutboxMessage
from mixer.mail.services import queue_mail

RUNS: list[dict] = []
PEEKS: list[int] = []


@handler("test.record")
def _record(payload):
    RUNS.append(payload)
    return {"seen": payload.get("n")}


@handler("test.mail_then_fail")
def _mail_then_fail(payload):
    queue_mail("ada@example.org", "Half done", "notice", {"paragraphs": ["x"]})
    RUNS.append(payload)
    if payload.get("fail", True):
        raise RuntimeError("disk full")


@handler("test.fails_for_good")
def _fails_for_good(payload):
    RUNS.append(payload)
    raise PermanentJobError("the event was deleted")


@handler("test.progress")
def _progress(payload):
    if payload.get("write_first"):
        queue_mail("ada@example.org", "Export", "notice", {"paragraphs": ["x"]})
    set_progress(payload["_job_id"], 40)
    PEEKS.append(_progress_seen_from_outside(payload["_job_id"]))
    return None


def _progress_seen_from_outside(job_id: int) -> int:
    """Read the job's progress on a connection of its own, as a page would."""
    engine = create_engine(db.engine.url)
    try:
        with engine.connect() as conn:
            return conn.execute(
                text("SELECT progress FROM job WHERE id = :id"), {"id": job_id}
            ).scalar_one()
    finally:
        engine.dispose()


@pytest.fixture(autouse=True)
def fresh(app):
    clock.freeze(clock.now())
    RUNS.clear()
    PEEKS.clear()


def job(job_id: int) -> Job:
    db.session.expire_all()
    return db.session.get(Job, job_id)


def test_handler_runs_once_with_its_payload(app):
    scheduled = schedule("test.record", {"n": 7})
    db.session.commit()
    assert run_due() == {"done": 1, "retry": 0, "failed": 0}
    assert run_due() == {"done": 0, "retry": 0, "failed": 0}
    assert RUNS == [{"n": 7, "_job_id": scheduled.id}]
    done = job(scheduled.id)
    assert (done.status, done.attempts, done.progress) == ("done", 1, 100)
    assert done.result == {"seen": 7}
    assert done.finished_at == clock.now()
    assert done.claimed_by is None and done.locked_until is None


def test_job_waits_for_its_time(app):
    later = schedule("test.record", {"n": 1}, run_at=clock.now() + timedelta(hours=2))
    db.session.commit()
    assert run_due()["done"] == 0
    clock.advance(timedelta(hours=2))
    assert run_due()["done"] == 1
    assert job(later.id).status == "done"


def test_dedupe_key_schedules_once(app):
    first = schedule("test.record", {"n": 1}, dedupe_key="reminder:event:3")
    second = schedule("test.record", {"n": 2}, dedupe_key="reminder:event:3")
    db.session.commit()
    assert first is not None and second is None
    assert db.session.scalars(select(Job.payload)).all() == [{"n": 1}]
    run_due()
    # Still once after it ran.
    assert schedule("test.record", {"n": 3}, dedupe_key="reminder:event:3") is None
    db.session.commit()
    assert run_due()["done"] == 0
    assert [r["n"] for r in RUNS] == [1]


def test_cancel_and_schedule_again_revives(app):
    when = clock.now() + timedelta(days=1)
    schedule("test.record", {"n": 1}, run_at=when, dedupe_key="reminder:event:4")
    db.session.commit()
    assert cancel("reminder:event:4") is True
    assert cancel("reminder:event:4") is False
    db.session.commit()
    clock.advance(timedelta(days=2))
    assert run_due()["done"] == 0

    revived = schedule(
        "test.record",
        {"n": 2},
        run_at=clock.now(),
        dedupe_key="reminder:event:4",
    )
    db.session.commit()
    assert revived is not None and revived.status == "pending"
    assert run_due()["done"] == 1
    assert [r["n"] for r in RUNS] == [2]


def test_reschedule_moves_a_pending_job(app):
    when = clock.now() + timedelta(days=3)
    scheduled = schedule("test.record", {"n": 1}, run_at=when, dedupe_key="r:5")
    db.session.commit()
    moved = reschedule("r:5", when + timedelta(days=1), {"n": 9})
    db.session.commit()
    assert moved.run_at == when + timedelta(days=1) and moved.payload == {"n": 9}
    clock.advance(timedelta(days=3, hours=1))
    assert run_due()["done"] == 0
    clock.advance(timedelta(days=1))
    assert run_due()["done"] == 1
    assert RUNS == [{"n": 9, "_job_id": scheduled.id}]
    # A finished job keeps its time; the caller sees that it is done.
    assert reschedule("r:5", clock.now() + timedelta(days=9)).status == "done"
    assert reschedule("nope", clock.now()) is None


def test_schedule_checks_kind_and_payload(app):
    with pytest.raises(ValueError, match="no job handler"):
        schedule("test.nobody_handles_this")
    with pytest.raises(ValueError, match="must be JSON"):
        schedule("test.record", {"when": clock.now()})


def test_failure_rolls_back_the_handlers_writes_and_retries_with_backoff(app):
    app.config["JOB_MAX_ATTEMPTS"] = 3
    scheduled = schedule("test.mail_then_fail", {"fail": True})
    db.session.commit()

    assert run_due() == {"done": 0, "retry": 1, "failed": 0}
    first = job(scheduled.id)
    assert (first.status, first.attempts) == ("pending", 1)
    assert first.last_error == "RuntimeError: disk full"
    assert first.run_at == clock.now() + timedelta(seconds=30)
    # The mail the handler queued went away with its transaction.
    assert db.session.scalars(select(OutboxMessage)).all() == []
    assert run_due()["retry"] == 0  # not due yet

    clock.advance(timedelta(seconds=30))
    assert run_due()["retry"] == 1
    assert job(scheduled.id).run_at == clock.now() + timedelta(seconds=60)

    clock.advance(timedelta(seconds=60))
    assert run_due() == {"done": 0, "retry": 0, "failed": 1}
    failed = job(scheduled.id)
    assert (failed.status, failed.attempts) == ("failed", 3)
    assert failed.finished_at == clock.now()
    assert len(RUNS) == 3
    clock.advance(timedelta(days=1))
    assert run_due()["failed"] == 0


def test_success_commits_the_handlers_writes(app):
    schedule("test.mail_then_fail", {"fail": False})
    db.session.commit()
    assert run_due()["done"] == 1
    db.session.expire_all()
    assert db.session.scalars(select(OutboxMessage.subject)).all() == ["Half done"]


def test_permanent_error_fails_at_once(app):
    scheduled = schedule("test.fails_for_good")
    db.session.commit()
    assert run_due() == {"done": 0, "retry": 0, "failed": 1}
    failed = job(scheduled.id)
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert "the event was deleted" in failed.last_error


def test_job_of_a_crashed_worker_runs_again_after_the_lease(app):
    scheduled = schedule("test.record", {"n": 1})
    db.session.commit()
    dead_token, ids = queue.claim(
        Job,
        ready="pending",
        active="running",
        due_column=Job.run_at,
        limit=5,
        lease=LEASE,
    )
    assert ids == [scheduled.id] and job(scheduled.id).status == "running"
    assert run_due()["done"] == 0  # the lease still holds

    clock.advance(LEASE - timedelta(seconds=1))
    assert run_due()["done"] == 0
    clock.advance(timedelta(seconds=2))
    assert run_due()["done"] == 1
    rerun = job(scheduled.id)
    assert (rerun.status, rerun.attempts) == ("done", 2)
    assert len(RUNS) == 1
    # The crashed worker's late update changes nothing.
    assert not queue.finish(Job, scheduled.id, dead_token, status="failed")
    db.session.commit()
    assert job(scheduled.id).status == "done"


def test_job_that_keeps_killing_workers_ends_failed(app):
    app.config["JOB_MAX_ATTEMPTS"] = 2
    scheduled = schedule("test.record", {"n": 1})
    db.session.commit()
    for _ in range(2):
        queue.claim(
            Job,
            ready="pending",
            active="running",
            due_column=Job.run_at,
            limit=5,
            lease=LEASE,
        )
        clock.advance(LEASE + timedelta(seconds=1))
    assert run_due() == {"done": 0, "retry": 0, "failed": 1}
    assert "worker stopped" in job(scheduled.id).last_error
    assert RUNS == []


@pytest.mark.parametrize("write_first", [False, True])
def test_set_progress_is_visible_while_running_and_renews_the_lease(app, write_first):
    scheduled = schedule("test.progress", {"write_first": write_first})
    db.session.commit()
    assert run_due()["done"] == 1
    # Before the job's transaction commits, other connections see the progress;
    # on SQLite, after the job wrote, its write lock keeps it inside (no deadlock).
    sqlite = db.engine.dialect.name == "sqlite"
    assert PEEKS == [0 if (sqlite and write_first) else 40]
    assert job(scheduled.id).progress == 100


def test_set_progress_extends_the_lease(app):
    scheduled = schedule("test.record", {"n": 1})
    db.session.commit()
    queue.claim(
        Job,
        ready="pending",
        active="running",
        due_column=Job.run_at,
        limit=1,
        lease=LEASE,
    )
    clock.advance(timedelta(minutes=10))
    set_progress(scheduled.id, 250)
    running = job(scheduled.id)
    assert running.progress == 100
    assert running.locked_until == clock.now() + LEASE


def test_unknown_kind_in_the_table_is_retried(app):
    db.session.add(Job(kind="test.from_a_newer_release", payload={}))
    db.session.commit()
    assert run_due()["retry"] == 1
    stored = db.session.scalar(select(Job))
    assert "no handler" in stored.last_error


def test_prune_finished_keeps_failed_and_recent_jobs(app):
    app.config["JOB_MAX_ATTEMPTS"] = 1
    schedule("test.record", {"n": 1})
    schedule("test.fails_for_good")
    db.session.commit()
    run_due()
    clock.advance(timedelta(days=31))
    schedule("test.record", {"n": 2})
    db.session.commit()
    run_due()
    assert prune_finished(timedelta(days=30)) == 1
    db.session.commit()
    assert sorted(db.session.scalars(select(Job.status))) == ["done", "failed"]


def test_requeue_runs_a_finished_job_again_but_not_a_running_one(app):
    scheduled = schedule("test.record", {"n": 1})
    db.session.commit()
    run_due()
    assert requeue(job(scheduled.id)) is True
    db.session.commit()
    again = job(scheduled.id)
    assert (again.status, again.attempts, again.finished_at) == ("pending", 0, None)
    assert run_due()["done"] == 1 and len(RUNS) == 2

    queue.claim(
        Job,
        ready="pending",
        active="running",
        due_column=Job.run_at,
        limit=1,
        lease=LEASE,
    )
    assert job(scheduled.id).status == "done"  # nothing was due
    requeue(job(scheduled.id))
    db.session.commit()
    queue.claim(
        Job,
        ready="pending",
        active="running",
        due_column=Job.run_at,
        limit=1,
        lease=LEASE,
    )
    assert requeue(job(scheduled.id)) is False
    assert job(scheduled.id).status == "running"
