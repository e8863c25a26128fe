"""Capacity holds under concurrent registrations against a real threaded server.

Runs on SQLite by default and on PostgreSQL when ``TEST_DATABASE_URL`` is set
(``make test`` does both).
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from mixer.events.models import Registration
from mixer.extensions import db

from .conftest import bearer

THREADS = 30


def _call(method: str, url: str, headers: dict, body: dict | None = None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url,
        data=data,
        method=method,
        headers={**headers, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:  # noqa: S310
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _storm(url: str, headers: dict, bodies: list[dict]) -> list[tuple[int, dict]]:
    """POST every body at once (the threads start together at a barrier)."""
    barrier = threading.Barrier(len(bodies))

    def one(body):
        barrier.wait()
        return _call("POST", url, headers, body)

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(one, bodies))


@pytest.fixture
def setup(app, make_org, make_user, make_event, token_for):
    org = make_org(slug="acme")
    organizer = make_user(org, role="organizer", password=None)
    event = make_event(org, capacity=10)
    return event, bearer(token_for(organizer, org))


def test_thirty_concurrent_registrations_for_ten_seats(app, live_server, setup, outbox):
    event, headers = setup
    url = f"{live_server}/api/v1/events/{event.id}/registrations"
    bodies = [
        {"name": f"Person {i}", "email": f"person{i}@example.org"}
        for i in range(THREADS)
    ]
    answers = _storm(url, headers, bodies)
    assert [code for code, _ in answers] == [201] * THREADS, answers

    registered = [b for _, b in answers if b["status"] == "registered"]
    waitlisted = [b for _, b in answers if b["status"] == "waitlisted"]
    assert len(registered) == 10
    assert all(b["waitlist_position"] is None for b in registered)
    assert sorted(b["waitlist_position"] for b in waitlisted) == list(range(1, 21))

    db.session.expire_all()
    rows = db.session.scalars(
        select(Registration).where(Registration.event_id == event.id)
    ).all()
    assert len(rows) == THREADS
    assert len({r.email for r in rows}) == THREADS  # no duplicates
    assert sum(r.status == "registered" for r in rows) == 10
    assert sorted(
        r.waitlist_position for r in rows if r.status == "waitlisted"
    ) == list(range(1, 21))
    # What the API answered is what the database holds.
    assert {b["id"]: b["waitlist_position"] for _, b in answers} == {
        r.id: r.waitlist_position for r in rows
    }

    first_in_line = next(r for r in rows if r.waitlist_position == 1)
    leaving = next(r for r in rows if r.status == "registered")
    code, body = _call(
        "DELETE", f"{live_server}/api/v1/registrations/{leaving.id}", headers
    )
    assert code == 200, body
    assert [p["id"] for p in body["promoted"]] == [first_in_line.id]

    db.session.expire_all()
    rows = db.session.scalars(
        select(Registration).where(Registration.event_id == event.id)
    ).all()
    by_id = {r.id: r for r in rows}
    assert by_id[leaving.id].status == "cancelled"
    assert by_id[first_in_line.id].status == "registered"
    assert sum(r.status == "registered" for r in rows) == 10
    assert sorted(
        r.waitlist_position for r in rows if r.status == "waitlisted"
    ) == list(range(1, 20))
    promoted_mail = outbox(first_in_line.email)[-1]
    assert promoted_mail["Subject"].startswith("A seat opened up")
    assert (
        live_server in promoted_mail.get_body(preferencelist=("plain",)).get_content()
    )


def test_the_same_email_twenty_times_at_once_registers_once(app, live_server, setup):
    event, headers = setup
    url = f"{live_server}/api/v1/events/{event.id}/registrations"
    answers = _storm(url, headers, [{"name": "Ana", "email": "ana@example.org"}] * 20)
    codes = sorted(code for code, _ in answers)
    assert codes == [201] + [409] * 19, answers
    assert all(
        "email" in body["error"]["fields"] for code, body in answers if code == 409
    )
    db.session.expire_all()
    rows = db.session.scalars(
        select(Registration).where(Registration.event_id == event.id)
    ).all()
    assert [(r.email, r.status) for r in rows] == [("ana@example.org", "registered")]
