"""Topic gaps on a hand-built organization whose right answers are written out.

February 2026 is the period. Acme's members: Ana, Ben and Cai in Design, Dev, Eve
and Fay in Sales, Gus without a department; Kim and Lee come as guests. Tags come
from profiles, registrations at the period's two events (its first instant and
its last half hour) and asks opened in the period, spelt in several ways (case,
spaces). "kubernetes" is wanted only where it must not count: at an event a
minute before the period, in a cancelled place, in an ask a minute after it, and
in another organization.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from mixer import clock
from mixer.asks.models import Ask
from mixer.events.models import EventKind, RegistrationStatus
from mixer.extensions import db
from mixer.insights.figures import FEWER
from mixer.insights.filters import InsightFilter
from mixer.insights.topics import topic_gaps
from mixer.orgs.models import Department

FEBRUARY = InsightFilter(start=date(2026, 2, 1), end=date(2026, 2, 28))


@pytest.fixture
def clock_at() -> datetime:
    """Early January: every event of the fixture is still ahead, open to sign-ups."""
    return datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def at(day: int, month: int = 2, hour: int = 12, minute: int = 0) -> datetime:
    """An instant of 2026 (UTC)."""
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


# name: (department, profile offers, profile seeks), stored as typed (older
# profiles and imports kept people's own spelling).
PROFILES = {
    "ana": (
        "Design",
        ["Python", "Public Speaking", "Design Thinking"],
        ["negotiation"],
    ),
    "ben": (
        "Design",
        ["Python", "design thinking"],
        ["Negotiation", "  Public   Speaking "],
    ),
    "cai": (
        "Design",
        ["python", "Design thinking", "Chess"],
        ["public speaking", "sql"],
    ),
    "dev": ("Sales", ["Design Thinking"], []),
    "eve": ("Sales", ["design thinking", "chess"], ["excel"]),
    "fay": ("Sales", ["Negotiation", "DESIGN THINKING"], ["budgeting"]),
    "gus": (None, ["sql", "Figma"], ["Accessibility"]),
}


@pytest.fixture
def acme(frozen, make_org, make_user, make_event, make_registration):
    """The organization, its people's profiles, registrations and asks."""
    org = make_org(slug="acme", name="Acme")
    people = {}
    for name, (dept, offers, seeks) in PROFILES.items():
        user = make_user(org, name=name, department=dept)
        user.offers, user.seeks = offers, seeks
        people[name] = user

    def event(starts_at, kind="mentor_mixer", of=org):
        return make_event(of, starts_at=starts_at, kind=kind, capacity=20)

    def place(ev, who, offers=(), seeks=()):
        email = people[who].email if who in people else f"{who}@Example.org"
        reg = make_registration(ev, email=email, name=who)
        # Written as typed: the registration form would lower-case them.
        reg.offers, reg.seeks = list(offers), list(seeks)
        return reg

    first = event(at(1, hour=0))
    last = event(at(28, hour=23, minute=30), kind="lunch_and_learn")
    place(first, "ana", offers=["design thinking"], seeks=["negotiation"])
    place(first, "dev", seeks=["negotiation", "excel"])
    place(first, "kim", seeks=["negotiation"])  # a guest, at both events
    place(last, "kim", seeks=["Negotiation"])
    place(last, "lee", offers=["figma"], seeks=["negotiation"])
    gone = place(last, "fay", seeks=["kubernetes"])
    gone.update_state(RegistrationStatus.CANCELLED, clock.now())
    before = event(at(31, month=1, hour=23, minute=59))
    place(before, "dev", seeks=["kubernetes"])

    other = make_org(slug="other")
    oz = make_user(other, name="oz", seeks=["kubernetes"])
    elsewhere = event(at(10), of=other)
    make_registration(elsewhere, email=oz.email, seeks=["kubernetes"])

    for who, topic, when in [
        ("eve", "  Negotiation", at(1, hour=0)),  # the period's first instant
        ("gus", "Public speaking", at(14)),
        ("ben", "kubernetes", at(1, month=3, hour=0)),  # the day after it
    ]:
        db.session.add(
            Ask(
                org_id=org.id, requester_id=people[who].id, topic=topic, created_at=when
            )
        )
    oz_asks = Ask(
        org_id=other.id, requester_id=oz.id, topic="kubernetes", created_at=at(9)
    )
    db.session.add(oz_asks)
    db.session.commit()
    departments = {d.name: d.id for d in db.session.scalars(select(Department))}
    return SimpleNamespace(org=org, departments=departments)


def listed(gaps) -> list[tuple[str, int, int]]:
    """(topic, seekers, offerers) as plain numbers (tests only)."""
    return [(g.topic, g.seekers.n, g.offerers.n) for g in gaps]


def test_the_topic_gaps_of_february(acme):
    topics = topic_gaps(acme.org, FEBRUARY)

    # The widest gap first, then more seekers, then the topic. Each person once:
    # Ana (profile and place), Kim (two places); Fay offers, and seeks nothing.
    assert listed(topics.suggested) == [
        # Spellings by people: "negotiation" Ana (twice), Dev, Kim, Lee;
        # "Negotiation" Ben, Kim, Eve, Fay. Four each: alphabetical first.
        ("Negotiation", 6, 1),
        ("Public Speaking", 3, 1),  # spaces collapsed, the commonest spelling
        ("excel", 2, 0),
        ("Accessibility", 1, 0),
        ("budgeting", 1, 0),
    ]
    # sql: one seeks it, one offers it: neither list.
    assert listed(topics.unasked) == [
        ("design thinking", 0, 6),  # 3 × "design thinking" beat 2 × "Design Thinking"
        ("Python", 0, 3),
        ("Chess", 0, 2),  # "Chess" and "chess" once each: alphabetical first
        ("Figma", 0, 2),  # the guest Lee offers it at the last event
    ]
    # Counts of 1 to 4 people are "fewer than 5", everywhere.
    negotiation = topics.suggested[0]
    assert (str(negotiation.seekers), str(negotiation.offerers)) == ("6", FEWER)
    assert [g.seekers.value for g in topics.suggested] == [6, None, None, None, None]
    assert [str(g.offerers) for g in topics.unasked] == ["6", FEWER, FEWER, FEWER]

    short = topic_gaps(acme.org, FEBRUARY, limit=2)
    assert listed(short.suggested) == listed(topics.suggested)[:2]
    assert listed(short.unasked) == listed(topics.unasked)[:2]


def test_the_filters_narrow_the_topics(acme):
    # Design: its members' profiles, places and asks; guests are in no department.
    design = InsightFilter(
        FEBRUARY.start, FEBRUARY.end, department_id=acme.departments["Design"]
    )
    topics = topic_gaps(acme.org, design)
    assert listed(topics.suggested) == [
        ("Negotiation", 2, 0),
        ("Public Speaking", 2, 1),
        ("sql", 1, 0),
    ]
    assert listed(topics.unasked) == [
        ("design thinking", 0, 3),
        ("Python", 0, 3),
        ("Chess", 0, 1),
    ]

    # Mentor Mixers: places at the first event only; profiles and asks stand.
    mixers = InsightFilter(FEBRUARY.start, FEBRUARY.end, kind=EventKind.MENTOR_MIXER)
    topics = topic_gaps(acme.org, mixers)
    assert listed(topics.suggested)[0] == ("Negotiation", 5, 1)
    assert listed(topics.unasked) == [
        ("design thinking", 0, 6),
        ("Python", 0, 3),
        ("Chess", 0, 2),
        ("Figma", 0, 1),
    ]

    # The last day of January alone: Dev's place a minute before February.
    january = InsightFilter(date(2026, 1, 31), date(2026, 1, 31))
    topics = topic_gaps(acme.org, january)
    assert ("kubernetes", 1, 0) in listed(topics.suggested)
