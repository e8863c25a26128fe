"""Fixtures of the rotations tests: an organization, a mixer and a room to fill.

``test_views.py`` and ``test_api.py`` seat their own people (their own
``mixer_event``).
"""

from __future__ import annotations

import pytest
from sqlalchemy import insert

from mixer import clock
from mixer.events.models import Registration
from mixer.extensions import db
from mixer.rotations import services
from mixer.rotations.services import Settings

DEPARTMENTS = ("Finance", "Sales", "Legal", "IT")


@pytest.fixture
def mixer_event(org, make_event):
    return make_event(
        org,
        kind="mentor_mixer",
        title="Spring mixer",
        rounds=6,
        minutes_per_round=7,
        capacity=60,
    )


@pytest.fixture
def room(mixer_event, make_registration):
    """Twelve people, six mentors and six mentees from four departments."""

    def build(n: int = 12, checked_in: int | None = None):
        regs = []
        for i in range(n):
            regs.append(
                make_registration(
                    mixer_event,
                    name=f"Person {i:02d}",
                    role="mentor" if i % 2 == 0 else "mentee",
                    department=DEPARTMENTS[i % 4],
                    offers=["negotiation"] if i % 2 == 0 else [],
                    seeks=["negotiation"] if i % 2 else [],
                )
            )
        for reg in regs[: checked_in if checked_in is not None else 0]:
            reg.checked_in_at = clock.now()
        db.session.commit()
        return regs

    return build


def planned_mixer(make_event, org, n: int, planned: int, **event: object):
    """A Mentor Mixer of ``n`` checked-in people (mentors and mentees in turn,
    three departments) with ``planned`` rounds planned, inserted in bulk."""
    created = make_event(org, kind="mentor_mixer", capacity=n, **event)
    db.session.execute(
        insert(Registration),
        [
            {
                "event_id": created.id,
                "email": f"p{i}@example.org",
                "name": f"Person {i:04d}",
                "status": "registered",
                "source": "api",
                "role": ("mentor", "mentee")[i % 2],
                "department": ("Finance", "Sales", "Legal")[i % 3],
                "offers": [],
                "seeks": [],
                "checked_in_at": clock.now(),
            }
            for i in range(n)
        ],
    )
    db.session.commit()
    services.create_plan(created, Settings(rounds=planned, minutes=7, seed=1))
    db.session.commit()
    return created
