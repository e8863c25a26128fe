"""Demo data: the past demo mixer's rotations, planned and every round held."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from mixer import clock
from mixer.events.models import Event, EventStatus
from mixer.extensions import db
from mixer.orgs.models import Organization
from mixer.rotations import running, services
from mixer.rotations.services import RotationError, Settings


def seed_rotations(org: Organization) -> None:
    """Plan and hold every round of ``org``'s past mixers that lack a plan."""
    past = db.session.scalars(
        select(Event).where(
            Event.org_id == org.id,
            Event.kind == "mentor_mixer",
            Event.status != EventStatus.CANCELLED,
            Event.ends_at <= clock.now(),
        )
    )
    for event in past:
        if services.plan_for(event) is not None:
            continue
        rounds = event.rounds or 6
        settings = Settings(rounds=rounds, minutes=event.minutes_per_round or 8)
        try:
            plan = services.create_plan(event, settings)
        except RotationError as exc:
            if not exc.maximum:
                continue
            settings = Settings(rounds=exc.maximum, minutes=settings.minutes)
            plan = services.create_plan(event, settings)
        for _ in range(plan.rounds):
            running.start_next_round(event)
        plan.round_started_at = event.starts_at + timedelta(
            minutes=plan.minutes * (plan.rounds - 1)
        )
    db.session.flush()
