"""The scale-out path end to end: gunicorn with several worker processes, two job
workers and a real SMTP server, on the test database (PostgreSQL in CI).

Twenty concurrent API registrations for ten seats go through gunicorn; the two job
workers then deliver every confirmation exactly once. Then the ten are checked in,
two organizers close the event at once, and each attendee gets exactly one
follow-up prompt.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from email.utils import parseaddr
from pathlib import Path

import pytest
from sqlalchemy import select

from mixer import clock
from mixer.events.models import Registration
from mixer.extensions import db
from mixer.mail.models import OutboxMessage
from tests.helpers import bearer
from tests.mail.smtp import SMTPServer, free_port

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := predicate():
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _healthy(base: str):
    try:
        with urllib.request.urlopen(f"{base}/healthz", timeout=2) as resp:
            return json.load(resp)
    except OSError:  # refused, reset or timed out while gunicorn starts
        return None


def _post(url: str, body: dict, headers: dict) -> tuple[int, dict]:
    data = json.dumps(body).encode()
    req = urllib.request.Request(
        url,
        data=data,
        method="POST",
        headers={**headers, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), 1).close()
    except OSError:
        return False
    return True


@pytest.fixture
def stack(app, app_config):
    """Start SMTP, gunicorn (2 processes × 4 threads) and two job workers."""
    smtp = SMTPServer().start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "MIXER_INSTANCE_PATH": app_config["INSTANCE_PATH"],
        "DATABASE_URL": app_config["DATABASE_URL"],
        "SECRET_KEY": app_config["SECRET_KEY"],
        "BASE_URL": base,
        # Production refuses SQLite behind several web processes (docs/deployment.md
        # "Production checks"); on SQLite the same stack runs as development.
        "MIXER_ENV": (
            "development"
            if app_config["DATABASE_URL"].startswith("sqlite")
            else "production"
        ),
        "MIXER_MAIL_URL": smtp.url,
        "MIXER_WORKER_POLL_SECONDS": "0.2",
        # Production refuses per-process limit counters; shared ones need Redis.
        **(
            {"MIXER_RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/15"}
            if _listening(6379)
            else {"MIXER_RATELIMIT_ENABLED": "false"}
        ),
    }
    procs = [
        subprocess.Popen(
            # The shipped gunicorn.conf.py (read from the working directory),
            # sized by its environment variables: 2 processes x 4 threads.
            [str(BIN / "gunicorn"), "wsgi:app"],
            cwd=ROOT,
            env={
                **env,
                "MIXER_BIND": f"127.0.0.1:{port}",
                "WEB_CONCURRENCY": "2",
                "MIXER_WEB_THREADS": "4",
                "MIXER_LOG_LEVEL": "warning",
            },
        )
    ]
    procs += [
        subprocess.Popen([str(BIN / "mixer"), "worker"], cwd=ROOT, env=env)
        for _ in range(2)
    ]
    try:
        health = _wait_for(lambda: _healthy(base), 60, "gunicorn to answer /healthz")
        yield base, smtp, health
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        smtp.stop()


def test_gunicorn_and_two_workers_register_and_mail_exactly_once(
    app, stack, make_org, make_user, make_event, token_for
):
    base, smtp, health = stack
    expected_backend = db.engine.dialect.name
    assert health["database"] == {"status": "ok", "backend": expected_backend}
    org = make_org()
    organizer = make_user(org, role="organizer")
    event = make_event(org, organizer, capacity=10)
    headers = bearer(token_for(organizer, org))
    url = f"{base}/api/v1/events/{event.id}/registrations"

    def register(i: int):
        body = {"name": f"Person {i}", "email": f"p{i}@example.org", "role": "mentee"}
        return _post(url, body, headers)

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(register, range(20)))
    assert [status for status, _ in answers] == [201] * 20, answers
    statuses = sorted(body["status"] for _, body in answers)
    assert statuses == ["registered"] * 10 + ["waitlisted"] * 10
    positions = sorted(
        body["waitlist_position"] for _, body in answers if body["waitlist_position"]
    )
    assert positions == list(range(1, 11))

    def all_sent():
        db.session.expire_all()
        rows = db.session.scalars(select(OutboxMessage)).all()
        return rows if rows and all(r.status == "sent" for r in rows) else None

    rows = _wait_for(all_sent, 90, "the workers to deliver every message")
    assert len(rows) >= 20  # a confirmation or waitlist notice for each person
    time.sleep(1)  # a duplicate delivery would arrive now
    received_ids = [m["Message-ID"] for m in smtp.recorder.messages()]
    assert sorted(received_ids) == sorted(r.message_id for r in rows)
    assert len(set(received_ids)) == len(received_ids)
    recipients = {m["To"] for m in smtp.recorder.messages()}
    assert {f"p{i}@example.org" for i in range(20)} <= recipients
    db.session.expire_all()
    stored = db.session.scalars(
        select(Registration).where(Registration.event_id == event.id)
    ).all()
    assert sum(r.status == "registered" for r in stored) == 10

    # Follow-up on the same stack: the ten are checked in through gunicorn, two
    # organizers close the event at the same instant, and the two job workers
    # send each attendee exactly one prompt.
    registered = [r for r in stored if r.status == "registered"]
    db.session.get(type(event), event.id).starts_at = clock.now() - timedelta(hours=1)
    db.session.commit()
    checkins = f"{base}/api/v1/checkins"
    badges = [r.badge_token for r in registered]
    emails = sorted(r.email for r in registered)
    with ThreadPoolExecutor(max_workers=10) as pool:
        scans = list(pool.map(lambda t: _post(checkins, {"token": t}, headers), badges))
    assert {body["status"] for _, body in scans} == {"checked_in"}, scans
    close = f"{base}/api/v1/events/{event.id}/close"
    with ThreadPoolExecutor(max_workers=2) as pool:
        closings = list(pool.map(lambda _: _post(close, {}, headers), range(2)))
    assert [status for status, _ in closings] == [200, 200], closings
    assert sorted(body["already_closed"] for _, body in closings) == [False, True]

    def prompts_sent():
        db.session.expire_all()
        rows = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "followup.prompt")
        ).all()
        done = len(rows) == 10 and all(r.status == "sent" for r in rows)
        return rows if done else None

    _wait_for(prompts_sent, 90, "the workers to send every prompt")
    time.sleep(1)  # a duplicate would arrive now
    prompts = [
        m for m in smtp.recorder.messages() if m["Message-ID"] not in received_ids
    ]
    assert sorted(parseaddr(m["To"])[1] for m in prompts) == emails
