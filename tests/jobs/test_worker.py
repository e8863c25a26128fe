"""The worker: one pass, the CLI, SIGTERM, and two real worker processes racing."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from mixer.extensions import db
from mixer.jobs.services import handler, schedule
from mixer.mail.models import OutboxMessage
from mixer.mail.services import queue_mail
from mixer.worker import run_once
from tests.conftest import PG_URL
from tests.helpers import mail_text

MIXER = str(Path(sys.executable).parent / "mixer")


@handler("test.worker.welcome")
def _welcome(payload):
    queue_mail(payload["to"], "Welcome", "notice", {"paragraphs": ["Hello!"]})


@handler("test.worker.again")
def _again(payload):
    schedule("test.worker.again", {"n": payload["n"] + 1})


def queue_many(count: int) -> None:
    for n in range(count):
        queue_mail(
            f"person{n}@example.org",
            f"Message {n}",
            "notice",
            {"paragraphs": [f"This is message {n}."]},
        )
    db.session.commit()


def statuses() -> Counter:
    db.session.expire_all()
    return Counter(db.session.scalars(select(OutboxMessage.status)))


def worker_env(app, mail_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIXER_")}
    env.update(
        DATABASE_URL=app.config["DATABASE_URL"],
        MIXER_INSTANCE_PATH=app.instance_path,
        MIXER_MAIL_URL=mail_url,
        SECRET_KEY="test-secret-key",
        **extra,
    )
    return env


def test_run_once_runs_jobs_then_delivers_their_mail(app, smtp):
    schedule("test.worker.welcome", {"to": "ada@example.org"})
    db.session.commit()
    totals = run_once()
    assert totals["jobs_done"] == 1 and totals["mail_sent"] == 1
    assert mail_text(smtp.recorder.messages()[0]).count("Hello!") == 1


def test_run_once_stops_a_job_that_keeps_rescheduling_itself(app):
    schedule("test.worker.again", {"n": 0})
    db.session.commit()
    assert run_once(max_rounds=5)["jobs_done"] == 5


def test_cli_worker_once_prints_counts(app, runner):
    schedule("test.worker.welcome", {"to": "ada@example.org"})
    queue_mail("bo@example.org", "Hi", "notice", {"paragraphs": ["Hi."]})
    db.session.commit()
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert (
        "jobs: 1 done, 0 to retry, 0 failed; mail: 2 sent, 0 to retry, 0 failed"
        in result.output
    )
    assert len(list((Path(app.instance_path) / "outbox").glob("*.eml"))) == 2
    again = runner.invoke(args=["worker", "--once"])
    assert "jobs: 0 done" in again.output and "mail: 0 sent" in again.output


def test_cli_worker_refuses_a_malformed_mail_url(app, runner):
    app.config["MAIL_URL"] = "smtp://mail.example.org:notaport"
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 1
    assert "MAIL_URL has a bad port" in result.output


class WorkerProcess:
    """``mixer worker`` in a process of its own, its log lines collected."""

    def __init__(self, env: dict[str, str], command: list[str] | None = None):
        self.proc = subprocess.Popen(
            command or [MIXER, "worker"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.log: list[str] = []
        self.terminated = False
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.log.append(line)

    def wait_for(self, text: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.log):
            assert self.proc.poll() is None, "".join(self.log)
            assert time.monotonic() < deadline, "".join(self.log)
            time.sleep(0.05)

    def terminate(self) -> None:
        """One SIGTERM (a second one would mean "stop at once")."""
        if not self.terminated and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.terminated = True

    def stop(self) -> int | None:
        """SIGTERM, then the exit status (None if it had to be killed)."""
        self.terminate()
        try:
            return self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            return None
        finally:
            self.proc.kill()  # never leave a worker behind on the test database
            self.proc.wait()
            self._reader.join(timeout=5)
            self.proc.stderr.close()

    def sent(self) -> int:
        return sum(int(n) for n in re.findall(r"mail: (\d+) sent", "".join(self.log)))


def wait_until(condition, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_worker_stops_cleanly_on_sigterm(app, smtp):
    queue_many(3)
    worker = WorkerProcess(worker_env(app, smtp.url, MIXER_WORKER_POLL_SECONDS="0.2"))
    try:
        wait_until(lambda: len(smtp.recorder.received) == 3)
        assert len(smtp.recorder.received) == 3
        # Mail queued while it runs goes out on a later poll.
        queue_mail("late@example.org", "Late", "notice", {"paragraphs": ["x"]})
        db.session.commit()
        wait_until(lambda: len(smtp.recorder.received) == 4)
    finally:
        code = worker.stop()
    assert code == 0, "".join(worker.log)
    assert "worker stopped" in "".join(worker.log)
    assert worker.sent() == 4
    assert statuses() == {"sent": 4}


def race(app, smtp, count: int = 200) -> None:
    """Two worker processes deliver ``count`` messages: each exactly once."""
    # The first message waits until a second connection arrives, so both workers
    # are surely sending from the queue at the same time.
    smtp.recorder.hold_until_sessions = 2
    env = worker_env(
        app, smtp.url, MIXER_MAIL_BATCH_SIZE="7", MIXER_WORKER_POLL_SECONDS="0.1"
    )
    workers = [WorkerProcess(env) for _ in range(2)]
    try:
        for worker in workers:
            worker.wait_for("worker started")
        queue_many(count)  # one commit: both workers find all of it at once
        wait_until(lambda: len(smtp.recorder.received) >= count)
        wait_until(lambda: statuses() == {"sent": count}, timeout=30)
        time.sleep(0.5)  # room for a duplicate to show up, if there were one
    finally:
        for worker in workers:
            worker.terminate()
        codes = [worker.stop() for worker in workers]
    logs = ["".join(worker.log) for worker in workers]
    assert codes == [0, 0], logs
    sent = [worker.sent() for worker in workers]
    assert sum(sent) == count and all(n > 0 for n in sent), (sent, logs)

    ids = Counter(m["Message-ID"] for m in smtp.recorder.messages())
    assert len(smtp.recorder.received) == count
    assert set(ids.values()) == {1}
    db.session.expire_all()
    rows = db.session.scalars(select(OutboxMessage)).all()
    assert set(ids) == {r.message_id for r in rows}
    assert {(r.status, r.attempts) for r in rows} == {("sent", 1)}


@pytest.mark.skipif(PG_URL is not None, reason="the suite runs on PostgreSQL")
def test_two_worker_processes_on_sqlite_never_send_twice(app, smtp):
    race(app, smtp)


@pytest.mark.postgres
@pytest.mark.skipif(PG_URL is None, reason="needs TEST_DATABASE_URL")
def test_two_worker_processes_on_postgresql_never_send_twice(app, smtp):
    race(app, smtp)
