"""The demo events: every kind, past and upcoming, seeded once."""

from __future__ import annotations

from collections import Counter

from mixer.events import queries
from mixer.events.demo import seed_events
from mixer.extensions import db


def test_seed_events_makes_every_kind_once(app, make_org, make_user):
    org = make_org(slug="demo")
    organizer = make_user(org, role="organizer", password=None)
    people = [
        make_user(org, password=None, department=("Finance", "Sales", "Legal")[n % 3])
        for n in range(30)
    ]
    events = seed_events(org, organizer, people, zone="Europe/London")
    db.session.commit()
    assert {e.kind for e in events} == {"mentor_mixer", "lunch_and_learn", "workshop"}
    assert Counter(e.display_status for e in events) == {
        "ended": 2,
        "published": 3,
        "draft": 1,
    }
    counts = queries.counts_for(e.id for e in events)
    workshop = next(e for e in events if e.kind == "workshop")
    assert counts[workshop.id]["registered"] == 12
    assert counts[workshop.id]["waitlisted"] == 4
    assert len(workshop.sessions) == 4
    assert seed_events(org, organizer, people) == []  # idempotent
