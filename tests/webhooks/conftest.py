"""A real HTTP receiver on a loopback port, and how a receiver checks a signature."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from mixer import clock
from mixer.extensions import db
from mixer.jobs.models import Job, JobStatus
from mixer.jobs.services import run_due


@dataclass
class Seen:
    """One request the receiver got."""

    headers: dict[str, str]
    body: bytes
    status: int  # what the receiver answered

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers each POST with the next of ``statuses`` (then ``otherwise``)."""

    url: str = ""
    statuses: list[int] = field(default_factory=list)
    otherwise: int = 200
    delay: float = 0.0  # seconds before answering (the two-workers test)
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def receiver():
    """A threaded ``http.server`` on 127.0.0.1 that records every request."""
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            time.sleep(state.delay)
            with state.lock:
                status = state.statuses.pop(0) if state.statuses else state.otherwise
                headers = {k.lower(): v for k, v in self.headers.items()}
                state.seen.append(Seen(headers, body, status))
            answer = b"thanks" if status < 300 else b"receiver is down"
            self.send_response(status)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/mixer"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def local(app):
    """Webhooks may go to loopback over http (as in development)."""
    app.config["WEBHOOK_ALLOW_LOCAL"] = True


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What docs/webhooks.md tells a receiver to do (written apart from Mixer's
    signing code on purpose)."""
    key = base64.b64decode(secret.split("_", 1)[1])
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = (
        "v1,"
        + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    )
    return any(
        hmac.compare_digest(expected, given)
        for given in headers["webhook-signature"].split()
    )


def webhook_jobs(status: JobStatus = JobStatus.PENDING) -> list[Job]:
    """The delivery jobs in ``status``, soonest first."""
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Job)
            .where(Job.kind == "webhooks.deliver", Job.status == status)
            .order_by(Job.run_at)
        )
    )


def work() -> None:
    """Run every job due now, as ``mixer worker --once`` would."""
    while sum(run_due().values()):
        pass


def work_through(limit: timedelta = timedelta(days=3)) -> int:
    """Move the clock to each delivery attempt in turn and run it; rounds run."""
    end = clock.now() + limit
    rounds = 0
    while (pending := webhook_jobs()) and pending[0].run_at <= end:
        clock.freeze(max(pending[0].run_at, clock.now()))
        work()
        rounds += 1
    return rounds
