"""Queues: each job kind's queue, the claim order (mail, default, heavy) and the
``--queues`` filter, on the test database (SQLite, or PostgreSQL in CI)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from mixer import clock
from mixer.extensions import db
from mixer.jobs import queue
from mixer.jobs.models import Job
from mixer.jobs.services import QUEUE_OF, handler, schedule
from mixer.mail.models import OutboxMessage
from mixer.mail.services import queue_mail
from mixer.worker import parse_queues, run_once

SEEN: list[tuple[str, int, dict]] = []


def _snapshot() -> dict:
    """What a running handler sees of the other work (committed rows)."""
    mail = db.session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    )
    jobs = db.session.execute(
        select(Job.payload, Job.status, Job.claimed_by).order_by(Job.id)
    )
    return {
        "mail": dict(mail.all()),
        "jobs": {p["name"]: (s, c is not None) for p, s, c in jobs},
    }


@handler("test.queues.default")
def _default(payload):
    SEEN.append(("default", payload["name"], _snapshot()))


@handler("test.queues.heavy", queue="heavy")
def _heavy(payload):
    SEEN.append(("heavy", payload["name"], _snapshot()))


@handler("test.queues.mailer")
def _mailer(payload):
    queue_notice(payload["n"])
    SEEN.append(("default", payload["name"], _snapshot()))


@pytest.fixture(autouse=True)
def fresh(app):
    clock.freeze(clock.now())
    SEEN.clear()


def queue_notice(n: int = 0) -> None:
    queue_mail(f"p{n}@example.org", f"Notice {n}", "notice", {"paragraphs": ["x"]})


def job_statuses() -> dict[str, str]:
    db.session.expire_all()
    return {j.payload["name"]: j.status for j in db.session.scalars(select(Job))}


def mail_statuses() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage.status)))


def test_every_job_kind_declares_its_queue(app):
    kinds = {kind: q for kind, q in QUEUE_OF.items() if not kind.startswith("test.")}
    assert {kind for kind, q in kinds.items() if q == "heavy"} == {
        "badges.batch",
        "rotations.printout",
        "freebusy.refresh",  # up to 10 s on someone else's server: never before mail
    }
    assert set(kinds.values()) == {"default", "heavy"}
    assert len(kinds) >= 12  # every feature's jobs.py is registered


def test_a_job_carries_its_kinds_queue(app):
    heavy = schedule("test.queues.heavy", {"name": "h"}, dedupe_key="h")
    plain = schedule("test.queues.default", {"name": "d"})
    db.session.commit()
    assert (heavy.queue, plain.queue) == ("heavy", "default")


@pytest.mark.parametrize("name", ["mail", "bulk"])
def test_a_kind_cannot_be_registered_on_another_queue(app, name):
    with pytest.raises(ValueError, match="queue must be one of default, heavy"):
        handler("test.queues.nowhere", queue=name)


def test_a_worker_on_all_queues_sends_mail_then_default_then_heavy(app):
    # Due oldest first: the heavy job, then the default one, then the mail.
    schedule("test.queues.heavy", {"name": "h"}, run_at=clock.now() - timedelta(1))
    schedule("test.queues.default", {"name": "d"}, run_at=clock.now())
    queue_notice(0)
    queue_notice(1)
    db.session.commit()

    totals = run_once()

    assert (totals["mail_sent"], totals["jobs_done"]) == (2, 2)
    assert [(q, name) for q, name, _ in SEEN] == [("default", "d"), ("heavy", "h")]
    default_saw, heavy_saw = SEEN[0][2], SEEN[1][2]
    assert default_saw["mail"] == {"sent": 2}
    assert default_saw["jobs"]["h"] == ("pending", False)  # not even claimed
    assert heavy_saw["jobs"]["d"] == ("done", False)


def test_mail_a_job_queues_goes_out_before_the_next_job(app):
    app.config["JOB_BATCH_SIZE"] = 1
    for n in range(2):
        schedule("test.queues.mailer", {"name": f"m{n}", "n": n})
    db.session.commit()
    totals = run_once(queues=("mail", "default"))
    assert (totals["jobs_done"], totals["mail_sent"]) == (2, 2)
    assert SEEN[0][2]["mail"] == {"queued": 1}  # its own, not yet committed
    assert SEEN[1][2]["mail"] == {"sent": 1, "queued": 1}


def test_heavy_jobs_are_claimed_one_at_a_time(app):
    for name in ("h1", "h2", "h3"):
        schedule("test.queues.heavy", {"name": name})
    db.session.commit()
    assert run_once(queues=("heavy",))["jobs_done"] == 3
    assert [name for _, name, _ in SEEN] == ["h1", "h2", "h3"]
    # While h1 ran, the others were free for another worker to take.
    assert SEEN[0][2]["jobs"] == {
        "h1": ("running", True),
        "h2": ("pending", False),
        "h3": ("pending", False),
    }


def test_a_worker_serves_only_its_queues(app):
    schedule("test.queues.heavy", {"name": "h"})
    schedule("test.queues.default", {"name": "d"})
    queue_notice()
    db.session.commit()

    light = run_once(queues=("mail", "default"))
    assert (light["mail_sent"], light["jobs_done"]) == (1, 1)
    assert job_statuses() == {"h": "pending", "d": "done"}
    assert db.session.scalar(select(Job.attempts).where(Job.queue == "heavy")) == 0

    queue_notice(1)
    db.session.commit()
    heavy = run_once(queues=("heavy",))
    assert (heavy["mail_sent"], heavy["jobs_done"]) == (0, 1)
    assert job_statuses() == {"h": "done", "d": "done"}
    assert sorted(mail_statuses()) == ["queued", "sent"]

    assert run_once(queues=("mail",))["mail_sent"] == 1


def test_a_default_worker_takes_over_an_expired_default_claim_only(app):
    schedule("test.queues.heavy", {"name": "h"})
    schedule("test.queues.default", {"name": "d"})
    db.session.commit()
    # A worker claims both and dies: once the lease runs out, a default-only
    # worker takes over the default job and leaves the heavy one to its kind.
    queue.claim(
        Job,
        ready="pending",
        active="running",
        due_column=Job.run_at,
        limit=5,
        lease=timedelta(seconds=60),
    )
    clock.freeze(clock.now() + timedelta(minutes=2))
    assert run_once(queues=("default",))["jobs_done"] == 1
    assert job_statuses() == {"h": "running", "d": "done"}


def test_queue_names_are_read_in_priority_order():
    assert parse_queues(None) == ("mail", "default", "heavy")
    assert parse_queues("heavy, mail") == ("mail", "heavy")
    assert parse_queues("default,default") == ("default",)
    with pytest.raises(ValueError, match="unknown queue 'bulk'"):
        parse_queues("mail,bulk")
    with pytest.raises(ValueError, match="no queue named"):
        parse_queues(" , ")


def test_cli_refuses_an_unknown_queue(app, runner):
    result = runner.invoke(args=["worker", "--once", "--queues", "mail,emails"])
    assert result.exit_code == 2
    assert "Invalid value for '--queues': unknown queue 'emails'" in result.output
    assert "the queues are mail, default, heavy" in result.output


def test_cli_worker_once_on_the_heavy_queue_leaves_mail(app, runner):
    schedule("test.queues.heavy", {"name": "h"})
    queue_notice()
    db.session.commit()
    result = runner.invoke(args=["worker", "--once", "--queues", "heavy"])
    assert result.exit_code == 0, result.output
    assert "jobs: 1 done" in result.output and "mail: 0 sent" in result.output
    assert mail_statuses() == ["queued"]


def test_the_claim_can_use_the_queue_index(app):
    """The claim's lookup is answerable from ix_job_queue_due (queue, status,
    run_at); with a handful of rows a planner may still prefer a scan, so on
    PostgreSQL scans are priced out for the EXPLAIN."""
    now = clock.now()
    pick = (
        select(Job.id)
        .where(
            Job.queue.in_(("default",)),
            queue.due_clause(
                Job, ready="pending", active="running", due_column=Job.run_at, now=now
            ),
        )
        .order_by(Job.run_at, Job.id)
        .limit(5)
    )
    compiled = pick.compile(db.engine, compile_kwargs={"literal_binds": True})
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL enable_seqscan = off"))
            plan = conn.execute(text(f"EXPLAIN {compiled}")).scalars().all()
        else:
            plan = [r[-1] for r in conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))]
    assert any("ix_job_queue_due" in line for line in plan), plan


def test_migration_moves_waiting_heavy_jobs_to_the_heavy_queue(tmp_path):
    """0014_queues on a database with jobs in it (SQLite: a file of its own)."""
    from flask_migrate import downgrade, upgrade

    from mixer import create_app

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    app = create_app(
        {"TESTING": True, "INSTANCE_PATH": str(tmp_path), "DATABASE_URL": url}
        | {"SECRET_KEY": "test"}
    )
    with app.app_context():
        upgrade(revision="0013_checkin_reported")
        with db.engine.begin() as conn:
            for kind in ("badges.batch", "events.reminder"):
                conn.execute(
                    text(
                        "INSERT INTO job (kind, payload, run_at, status, attempts,"
                        " progress, created_at) VALUES (:kind, '{}', :now,"
                        " 'pending', 0, 0, :now)"
                    ),
                    {"kind": kind, "now": clock.now().isoformat()},
                )
        upgrade(revision="0014_queues")
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT kind, queue FROM job ORDER BY id"))
            assert rows.all() == [
                ("badges.batch", "heavy"),
                ("events.reminder", "default"),
            ]
        downgrade(revision="0013_checkin_reported")
        with db.engine.connect() as conn:
            columns = [r[1] for r in conn.execute(text("PRAGMA table_info(job)"))]
            assert "queue" not in columns
        db.engine.dispose()
