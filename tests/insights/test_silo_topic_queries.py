"""Query budgets: the silo map and the topic gaps cost the same number of SQL
statements for a handful of people as for many more (the database groups the
meetings; each source of tags is read in one statement)."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from mixer.asks.models import Ask
from mixer.connections.models import Connection
from mixer.extensions import db
from mixer.insights.filters import InsightFilter
from mixer.insights.silos import silo_map
from mixer.insights.topics import topic_gaps
from mixer.orgs.models import Department
from mixer.pairs.models import Pair, open_key
from tests.events.test_dashboard_queries import counting_queries as statements

FEBRUARY = InsightFilter(start=date(2026, 2, 1), end=date(2026, 2, 28))
TAGS = ["Python", "excel", "Public speaking", "negotiation", "sql", "chess"]


@pytest.fixture
def clock_at() -> datetime:
    """Early January: the fixture's February events are still open to sign-ups."""
    return datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _grow(org, make_user, make_event, make_registration, people: int, step: int):
    """``people`` more members in new departments, an event where each meets the
    next two and a guest, tags on profiles and places, asks and ask pairs."""
    users = [
        make_user(
            org,
            department=f"Department {step}-{i % 3}" if i % 4 else None,
            offers=TAGS[i % 6 : i % 6 + 2],
            seeks=TAGS[(i + 3) % 6 : (i + 3) % 6 + 1],
        )
        for i in range(people)
    ]
    event = make_event(
        org, starts_at=datetime(2026, 2, 1 + step, 12, tzinfo=UTC), capacity=100
    )
    places = [
        make_registration(event, email=u.email, seeks=["Excel "]) for u in users
    ] + [make_registration(event, email=f"guest{step}@example.org", offers=["sql"])]
    for first, second in itertools.combinations(places, 2):
        if abs(places.index(first) - places.index(second)) <= 2:
            low, high = sorted((first.id, second.id))
            db.session.add(
                Connection(event_id=event.id, a_id=low, b_id=high, source="rotation")
            )
    for first, second in itertools.pairwise(users[::2]):
        low, high = sorted((first.id, second.id))
        started = datetime(2026, 2, 10, tzinfo=UTC)
        db.session.add(
            Pair(
                org_id=org.id,
                kind="peer",
                a_id=low,
                b_id=high,
                open_key=open_key(org.id, low, high),
                source="request",
                ics_uid=f"{uuid.uuid4()}@mixer.test",
                started_at=started,
                term_ends_at=started + timedelta(days=90),
            )
        )
        db.session.add(
            Ask(org_id=org.id, requester_id=low, topic="Chess", created_at=started)
        )
    db.session.commit()


def test_silo_map_and_topics_cost_the_same_for_few_or_many(
    frozen, make_org, make_user, make_event, make_registration
):
    org = make_org(slug="acme")

    def costs() -> dict[str, int]:
        """Statements per figure, unfiltered and narrowed to one department."""
        dept_id = db.session.scalar(select(Department.id).order_by(Department.id))
        narrowed = InsightFilter(FEBRUARY.start, FEBRUARY.end, department_id=dept_id)
        counts = {}
        for name, figure in [("silos", silo_map), ("topics", topic_gaps)]:
            for label, flt in [("all", FEBRUARY), ("department", narrowed)]:
                db.session.expire_all()
                assert org.slug == "acme"  # loaded again, as a view has it
                with statements() as seen:
                    result = figure(org, flt)
                assert result is not None
                counts[f"{name} {label}"] = len(seen)
        return counts

    _grow(org, make_user, make_event, make_registration, people=4, step=0)
    few = costs()
    _grow(org, make_user, make_event, make_registration, people=20, step=1)
    many = costs()
    assert many == few
    # Departments, members per department, the meetings grouped; profiles,
    # places and asks.
    assert few == {
        "silos all": 3,
        "silos department": 3,
        "topics all": 3,
        "topics department": 3,
    }
    # The second size really is bigger.
    assert silo_map(org, FEBRUARY).total.n > 40
