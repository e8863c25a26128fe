"""Fixtures for check-in tests: an organization with an organizer and an event."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from mixer.extensions import db


@dataclass
class Door:
    org: object
    organizer: object
    event: object
    token: str  # the organizer's API token


@pytest.fixture
def door(make_org, make_user, make_event, token_for) -> Door:
    """An org ``acme``, its organizer, a published mixer with 300 seats."""
    org = make_org(slug="acme", name="Acme")
    organizer = make_user(org, role="organizer", email="olga@acme.example.org")
    event = make_event(
        org,
        organizer,
        kind="mentor_mixer",
        capacity=300,
        rounds=3,
        minutes_per_round=10,
        title="Spring Mixer",
    )
    return Door(org, organizer, event, token_for(organizer, org))


def count_checked_in(event_id: int) -> int:
    """Registrations of the event with a check-in time, read fresh."""
    from sqlalchemy import func, select

    from mixer.events.models import Registration

    db.session.expire_all()
    return db.session.scalar(
        select(func.count()).where(
            Registration.event_id == event_id, Registration.checked_in_at.is_not(None)
        )
    )
