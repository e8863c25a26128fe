"""Organizer pages of a 5,000-registration event run a bounded number of queries."""

from __future__ import annotations

import re
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import insert

from mixer import clock
from mixer.events.models import Registration
from mixer.extensions import db

REGISTERED, WAITLISTED, CHECKED_IN = 5_000, 250, 1_234
DIETS = ["Vegan", "Vegetarian", None, None, "Halal", "Gluten-free", None]


@contextmanager
def counting_queries():
    """Count the SQL statements the app sends while the block runs."""
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    sa_event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", record)


@pytest.fixture
def big_event(app, make_org, make_user, make_event):
    org = make_org(slug="acme")
    organizer = make_user(org, role="organizer")
    event = make_event(org, capacity=REGISTERED, asks_dietary=True)
    now = clock.now()
    rows = [
        {
            "event_id": event.id,
            "email": f"person{i}@example.org",
            "name": f"Person {i:05d}",
            "status": "registered" if i < REGISTERED else "waitlisted",
            "waitlist_position": None if i < REGISTERED else i - REGISTERED + 1,
            "source": "api",
            "role": ("mentor", "mentee", "either")[i % 3],
            "department": ("Finance", "Sales", "Legal")[i % 3],
            "offers": ["excel"],
            "seeks": [],
            "dietary": DIETS[i % len(DIETS)],
            "created_at": now - timedelta(seconds=REGISTERED + WAITLISTED - i),
            "checked_in_at": now if i < CHECKED_IN else None,
        }
        for i in range(REGISTERED + WAITLISTED)
    ]
    started = time.perf_counter()
    db.session.execute(insert(Registration), rows)
    db.session.commit()
    assert time.perf_counter() - started < 20  # bulk insert, not 5,000 round trips
    return event, organizer


def test_dashboard_of_5000_registrations_runs_a_bounded_number_of_queries(
    client, auth, big_event
):
    event, organizer = big_event
    auth.login(organizer.email)
    with counting_queries() as statements:
        resp = client.get(f"/events/{event.id}/dashboard")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    # 15, and 5 for the door section (helpers, members to add, door links, the
    # latest check-ins and who made them), whatever the number of people.
    assert len(statements) <= 20, "\n".join(statements)
    assert re.search(r'data-stat="registered">5000<', html)
    assert re.search(rf'data-stat="waitlisted">{WAITLISTED}<', html)
    assert re.search(rf'data-stat="checked-in">{CHECKED_IN}<', html)
    vegan = sum(1 for i in range(REGISTERED) if DIETS[i % len(DIETS)] == "Vegan")
    assert re.search(rf'<th scope="row">Vegan</th><td>{vegan}</td>', html)


PAGES = [
    "/events/{id}/attendees",
    "/events/{id}/attendees?q=person 0004&page=2",
    "/events/{id}/attendees?status=waitlisted",
    "/events/{id}/catering",
    "/events/{id}/attendees.csv",
    "/events/{id}",
    "/o/acme/events/manage",
    "/o/acme/events/",
]


def test_other_organizer_pages_stay_bounded(client, auth, big_event):
    event, organizer = big_event
    auth.login(organizer.email)
    for path in PAGES:
        with counting_queries() as statements:
            resp = client.get(path.format(id=event.id), buffered=True)
        assert resp.status_code == 200, path
        # 16: the organizer has not read Acme's charter yet, so each page also
        # looks up their acknowledgement (one primary-key read, docs/charter.md).
        assert len(statements) <= 16, path + "\n" + "\n".join(statements)
        if path.endswith(".csv"):
            lines = resp.get_data(as_text=True).count("\n")
            assert lines == REGISTERED + WAITLISTED + 1
