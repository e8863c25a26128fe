"""Queues with real processes: a sign-in link is not held up by a heavy job.

Two ``mixer worker`` processes and a real SMTP server (aiosmtpd), on the test
database (SQLite file, or PostgreSQL with TEST_DATABASE_URL). The heavy job is
``test.queues.sleep`` (tests/jobs/slow_worker.py), which holds its worker for a
set time as a big badge sheet would.
"""

from __future__ import annotations

import sys
import time
from email.utils import parseaddr
from pathlib import Path

from sqlalchemy import select

from mixer.extensions import db
from mixer.jobs.models import Job
from mixer.jobs.services import schedule
from tests.helpers import csrf_from, link_in
from tests.jobs.slow_worker import SLEEP_JOB
from tests.jobs.test_worker import MIXER, WorkerProcess, wait_until, worker_env

ROOT = Path(__file__).resolve().parents[2]
HEAVY_SECONDS = 15  # long enough to outlast the second worker's start on a busy box


def ask_for_link(client, email: str) -> None:
    page = client.get("/login")
    resp = client.post(
        "/login",
        data={
            "csrf_token": csrf_from(page.get_data(as_text=True)),
            "email": email,
            "action": "link",
        },
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)


def job_status(job_id: int) -> str:
    db.session.expire_all()
    return db.session.scalar(select(Job.status).where(Job.id == job_id))


def test_a_mail_worker_sends_a_sign_in_link_while_a_heavy_job_runs(
    app, smtp, client, make_org, make_user
):
    org = make_org()
    make_user(org, email="ada@example.org")
    make_user(org, email="bo@example.org")
    job = schedule(SLEEP_JOB, {"seconds": HEAVY_SECONDS})
    db.session.commit()
    env = worker_env(
        app, smtp.url, MIXER_WORKER_POLL_SECONDS="0.2", PYTHONPATH=str(ROOT)
    )
    # A worker on every queue (no --queues) takes the heavy job...
    busy = WorkerProcess(
        env, [sys.executable, "-m", "tests.jobs.slow_worker", "worker"]
    )
    light = None
    try:
        busy.wait_for("worker started on queues mail,default,heavy")
        wait_until(lambda: job_status(job.id) == "running", timeout=30)
        assert job_status(job.id) == "running", "".join(busy.log)

        # ...and, busy with it, sends no mail meanwhile.
        ask_for_link(client, "ada@example.org")
        time.sleep(1.5)
        assert smtp.recorder.received == []

        # A second worker for mail and ordinary jobs sends it, and the next
        # link within seconds of the request, while the heavy job still runs.
        light = WorkerProcess(env, [MIXER, "worker", "--queues", "mail,default"])
        light.wait_for("worker started on queues mail,default;")
        wait_until(lambda: len(smtp.recorder.received) == 1, timeout=10)
        asked = time.monotonic()
        ask_for_link(client, "bo@example.org")
        wait_until(lambda: len(smtp.recorder.received) == 2, timeout=10)
        waited = time.monotonic() - asked
        assert len(smtp.recorder.received) == 2, "".join(light.log)
        print(f"sign-in link delivered {waited:.2f} s after it was asked for")
        assert waited < 5, waited
        assert job_status(job.id) == "running", "the heavy job ended too soon"

        messages = smtp.recorder.messages()
        assert sorted(parseaddr(m["To"])[1] for m in messages) == [
            "ada@example.org",
            "bo@example.org",
        ]
        for message in messages:
            assert message["Subject"] == "Your Mixer sign-in link"
            assert "/login/magic/" in link_in(message, "/login/magic/")

        # The heavy job finishes on the first worker, which then goes on.
        wait_until(lambda: job_status(job.id) == "done", timeout=HEAVY_SECONDS + 30)
        assert job_status(job.id) == "done", "".join(busy.log)
    finally:
        codes = [w.stop() for w in (busy, light) if w is not None]
    assert codes == [0, 0], "".join(busy.log) + "".join(light.log if light else [])
    assert light.sent() == 2 and busy.sent() == 0
