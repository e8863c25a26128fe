"""The silo map on a hand-built organization whose right answers are written out.

February 2026 is the period. Acme has Design (3 people), Empty (nobody), Finance
(2), Legal (1), Sales (2) and Nell, a member without a department; Gil comes as a
guest. Meetings are connections at two events inside the period (on its very
first and last days), pairs from an ask or without an event, and things that
must not count: events just outside the period, another organization's event, a
pair formed at an event (already a meeting there) and a renewal.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from mixer.connections.models import Connection
from mixer.events.models import EventKind
from mixer.extensions import db
from mixer.insights.figures import FEWER
from mixer.insights.filters import InsightFilter
from mixer.insights.silos import silo_map
from mixer.orgs.models import Department
from mixer.orgs.services import add_department
from mixer.pairs.models import Pair, open_key

FEBRUARY = InsightFilter(start=date(2026, 2, 1), end=date(2026, 2, 28))
DEPARTMENTS = ["Design", "Empty", "Finance", "Legal", "Sales", "No department"]


@pytest.fixture
def clock_at() -> datetime:
    """Early January: every event of the fixture is still ahead, open to sign-ups."""
    return datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def at(day: int, month: int = 2, hour: int = 12, minute: int = 0) -> datetime:
    """An instant of 2026 (UTC)."""
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def meet(event, first, second, source: str = "rotation") -> None:
    """A connection of two registrations at ``event`` (stored once, a < b)."""
    low, high = sorted((first.id, second.id))
    db.session.add(Connection(event_id=event.id, a_id=low, b_id=high, source=source))


def pair(org, first, second, started_at, **kw) -> Pair:
    """A peer pair of two members, built as the pairs feature leaves it."""
    low, high = sorted((first.id, second.id))
    status = kw.pop("status", "active")
    row = Pair(
        org_id=org.id,
        kind="peer",
        a_id=low,
        b_id=high,
        status=status,
        open_key=open_key(org.id, low, high) if status == "active" else None,
        ics_uid=f"{uuid.uuid4()}@mixer.test",
        started_at=started_at,
        term_ends_at=started_at + timedelta(days=90),
        **kw,
    )
    db.session.add(row)
    db.session.flush()
    return row


@pytest.fixture
def acme(frozen, make_org, make_user, make_event, make_registration):
    """The organization, its people, events, connections and pairs."""
    org = make_org(slug="acme", name="Acme")
    add_department(org, "Empty")
    people = {}
    for name, dept in [
        ("d1", "Design"),
        ("d2", "Design"),
        ("d3", "Design"),
        ("f1", "Finance"),
        ("f2", "Finance"),
        ("l1", "Legal"),
        ("s1", "Sales"),
        ("s2", "Sales"),
        ("nell", None),
    ]:
        people[name] = make_user(org, name=name, department=dept)

    def event(starts_at, kind="mentor_mixer", of=org):
        return make_event(of, starts_at=starts_at, kind=kind, capacity=20)

    def places(ev, *names, guest=False):
        regs = {n: make_registration(ev, email=people[n].email) for n in names}
        if guest:
            regs["gil"] = make_registration(ev, email="gil@example.org", name="Gil")
        return regs

    # The period's first instant and its last half hour: both inside.
    first = event(at(1, hour=0))
    last = event(at(28, hour=23, minute=30), kind="lunch_and_learn")
    r = places(first, "d1", "d2", "d3", "f1", "l1", "s1", "s2", "nell", guest=True)
    meet(first, r["d1"], r["s1"])
    meet(first, r["d1"], r["s2"], "scan")
    meet(first, r["d2"], r["s1"], "note")
    meet(first, r["d2"], r["s2"], "manual")
    meet(first, r["d3"], r["s1"])
    meet(first, r["d1"], r["d2"])
    meet(first, r["f1"], r["l1"])
    meet(first, r["d1"], r["gil"], "scan")  # a guest has no department
    meet(first, r["nell"], r["gil"])
    r = places(last, "d1", "d3", "f1", "f2", "s1", "s2")
    meet(last, r["d1"], r["s1"])  # the same two again: a second meeting
    meet(last, r["f1"], r["d3"])
    meet(last, r["f2"], r["s2"])
    meet(last, r["s1"], r["s2"])

    # Just outside the period, and another organization's event inside it.
    before = event(at(31, month=1, hour=23, minute=59))
    r = places(before, "d1", "f1")
    meet(before, r["d1"], r["f1"])
    after = event(at(1, month=3, hour=0))
    r = places(after, "d1", "l1")
    meet(after, r["d1"], r["l1"])
    other = make_org(slug="other")
    elsewhere = event(at(10), of=other)
    meet(
        elsewhere,
        make_registration(elsewhere, email=people["d1"].email),
        make_registration(elsewhere, email=people["s1"].email),
    )

    p = people
    pair(org, p["l1"], p["s1"], at(10), source="request")  # from an ask: counts
    pair(org, p["d3"], p["l1"], at(2, month=3), source="request")  # too late
    pair(org, p["d2"], p["s2"], at(3), source="event", event_id=first.id)  # met
    # Without an event (its event deleted): counts; its renewal does not.
    ended = pair(org, p["f1"], p["f2"], at(20), source="event", status="ended")
    pair(org, p["f1"], p["f2"], at(25), source="renewal", renewed_from_id=ended.id)
    db.session.commit()
    departments = {d.name: d.id for d in db.session.scalars(select(Department))}
    return SimpleNamespace(org=org, first=first, last=last, departments=departments)


def within(**kw) -> InsightFilter:
    """February, narrowed further."""
    return InsightFilter(FEBRUARY.start, FEBRUARY.end, **kw)


def numbers(m) -> list[list[int]]:
    """The matrix as plain numbers (tests only: pages never show ``Count.n``)."""
    return [[c.n for c in row] for row in m.cells]


def test_the_silo_map_of_february(acme):
    m = silo_map(acme.org, FEBRUARY)

    assert m.departments == DEPARTMENTS
    assert numbers(m) == [
        # Des Emp Fin Leg Sal  No
        [1, 0, 1, 0, 6, 1],  # Design
        [0, 0, 0, 0, 0, 0],  # Empty
        [1, 0, 1, 1, 1, 0],  # Finance
        [0, 0, 1, 0, 1, 0],  # Legal
        [6, 0, 1, 1, 1, 0],  # Sales
        [1, 0, 0, 0, 0, 1],  # No department
    ]
    assert (m.total.n, m.across.n) == (15, 11)
    assert m.across_share == pytest.approx(11 / 15)
    # Empty has no members; Legal–Legal (within) is never listed.
    assert m.never_meet == [
        ("Design", "Legal"),
        ("Finance", "No department"),
        ("Legal", "No department"),
        ("Sales", "No department"),
    ]
    # 1 to 4 meetings show as "fewer than 5"; 0 and 5 or more as numbers.
    design, finance = m.cells[0], m.cells[2]
    assert [str(c) for c in design] == [FEWER, "0", FEWER, "0", "6", FEWER]
    assert [c.value for c in finance] == [None, 0, None, None, None, 0]
    assert (str(m.total), m.across.value) == ("15", 11)


def test_the_filters_narrow_the_meetings(acme):
    # Mentor Mixers only: the first event; pairs belong to no kind.
    m = silo_map(acme.org, within(kind=EventKind.MENTOR_MIXER))
    assert numbers(m) == [
        [1, 0, 0, 0, 5, 1],
        [0, 0, 0, 0, 0, 0],
        [0, 0, 0, 1, 0, 0],
        [0, 0, 1, 0, 0, 0],
        [5, 0, 0, 0, 0, 0],
        [1, 0, 0, 0, 0, 1],
    ]
    assert (m.total.n, m.across.n) == (9, 7)

    # Finance: a meeting counts when either side is in it; only its own pairs of
    # departments are said never to meet. Four meetings: every figure hidden.
    m = silo_map(acme.org, within(department_id=acme.departments["Finance"]))
    assert m.departments == DEPARTMENTS
    assert numbers(m) == [
        [0, 0, 1, 0, 0, 0],
        [0, 0, 0, 0, 0, 0],
        [1, 0, 1, 1, 1, 0],
        [0, 0, 1, 0, 0, 0],
        [0, 0, 1, 0, 0, 0],
        [0, 0, 0, 0, 0, 0],
    ]
    assert (m.total.n, m.across.n) == (4, 3)
    assert (str(m.total), m.across_share) == (FEWER, None)
    assert m.never_meet == [("Finance", "No department")]

    # One event: the last one.
    m = silo_map(acme.org, within(event_id=acme.last.id))
    assert numbers(m) == [
        [0, 0, 1, 0, 1, 0],
        [0, 0, 0, 0, 0, 0],
        [1, 0, 0, 0, 1, 0],
        [0, 0, 0, 0, 0, 0],
        [1, 0, 1, 0, 1, 0],
        [0, 0, 0, 0, 0, 0],
    ]
    assert (m.total.n, m.across.n) == (4, 3)

    # The day before the period alone: the event a minute before it.
    m = silo_map(acme.org, InsightFilter(date(2026, 1, 31), date(2026, 1, 31)))
    assert (m.total.n, m.cells[0][2].n, m.cells[2][0].n) == (1, 1, 1)
