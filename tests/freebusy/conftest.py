"""Calendar feeds served by a real HTTP server on a loopback port, and helpers."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from mixer.extensions import db
from mixer.jobs.models import Job, JobStatus
from mixer.jobs.services import run_due


@dataclass
class Route:
    """What the server answers on one path."""

    body: bytes = b""
    status: int = 200
    content_type: str = "text/calendar; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering
    length: bool = True  # send Content-Length (else the body streams, unsized)


@dataclass
class FeedServer:
    """``serve(path, Route(...))``; ``url(path)``; ``hits`` counts GETs."""

    base: str = ""
    routes: dict[str, Route] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)

    def serve(self, path: str, route: Route) -> str:
        self.routes[path] = route
        return self.url(path)

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture
def feeds_server():
    """A threaded ``http.server`` on 127.0.0.1 that serves calendar feeds."""
    state = FeedServer()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):  # noqa: N802 - http.server's name
            state.hits.append(self.path)
            route = state.routes.get(self.path.split("?")[0])
            if route is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            time.sleep(route.delay)
            self.send_response(route.status)
            self.send_header("Content-Type", route.content_type)
            for name, value in route.headers.items():
                self.send_header(name, value)
            if route.length:
                self.send_header("Content-Length", str(len(route.body)))
            else:
                self.send_header("Connection", "close")
            self.end_headers()
            try:
                for start in range(0, len(route.body), 64 * 1024):
                    self.wfile.write(route.body[start : start + 64 * 1024])
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client stopped reading: what a size limit does
            if not route.length:
                self.close_connection = True

        def log_message(self, *args):  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def local(app):
    """Feeds may come from loopback over http (as in development and tests)."""
    app.config["FREEBUSY_ALLOW_LOCAL"] = True


def work() -> None:
    """Run every job due now, as ``mixer worker --once`` would."""
    while sum(run_due().values()):
        pass


def refresh_jobs(status: JobStatus = JobStatus.PENDING) -> list[Job]:
    """The calendar refresh jobs in ``status``, soonest first."""
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Job)
            .where(Job.kind == "freebusy.refresh", Job.status == status)
            .order_by(Job.run_at)
        )
    )


def ics(*events: str, zone: str = "Europe/Berlin") -> bytes:
    """A calendar with ``events`` (VEVENT bodies) and X-WR-TIMEZONE ``zone``."""
    body = "".join(f"BEGIN:VEVENT\r\n{e.strip()}\r\nEND:VEVENT\r\n" for e in events)
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Mixer tests//EN\r\n"
        f"X-WR-TIMEZONE:{zone}\r\n{body}END:VCALENDAR\r\n"
    ).encode()
