"""Rotation services on a real database: plan, re-plan, advance rounds, views."""

from __future__ import annotations

from itertools import combinations

import pytest
from sqlalchemy import func, select

from mixer import clock
from mixer.connections.models import Connection
from mixer.extensions import db
from mixer.rotations import running, services
from mixer.rotations.models import RotationPlan, RotationSeat
from mixer.rotations.services import RotationError, Settings
from tests.rotations.conftest import DEPARTMENTS


def _seated(plan: RotationPlan) -> set[int]:
    return set(
        db.session.scalars(
            select(RotationSeat.registration_id).where(RotationSeat.plan_id == plan.id)
        )
    )


def test_plan_before_doors_open_uses_everyone_registered(mixer_event, room):
    regs = room(12)
    plan = services.create_plan(mixer_event, Settings(rounds=6, minutes=7, seed=3))
    db.session.commit()
    assert plan.current_round == 0 and plan.round_started_at is None
    assert _seated(plan) == {r.id for r in regs}
    data = services.plan_data(plan)
    assert len(data["rounds"]) == 6
    assert data["quality"]["repeats"] == 0
    assert data["quality"]["cross_department_share"] == 1.0
    for r in data["rounds"]:
        members = [m for t in r["tables"] for m in t["members"]] + r["byes"]
        assert sorted(members) == sorted(x.id for x in regs)


def test_plan_uses_the_checked_in_once_anyone_is_checked_in(mixer_event, room):
    regs = room(12, checked_in=8)
    plan = services.create_plan(mixer_event, Settings(rounds=3, minutes=7))
    db.session.commit()
    assert _seated(plan) == {r.id for r in regs[:8]}
    assert sorted(plan.participant_ids) == sorted(r.id for r in regs[:8])


def test_same_seed_same_plan_and_a_new_plan_replaces_one_not_started(mixer_event, room):
    room(12)
    first = services.plan_data(
        services.create_plan(mixer_event, Settings(rounds=4, minutes=7, seed=9))
    )["rounds"]
    second_plan = services.create_plan(
        mixer_event, Settings(rounds=4, minutes=7, seed=9)
    )
    db.session.commit()
    assert services.plan_data(second_plan)["rounds"] == first
    assert db.session.scalar(select(func.count(RotationPlan.id))) == 1


@pytest.mark.parametrize(
    ("settings", "field", "words", "suggestion"),
    [
        (Settings(rounds=0, minutes=7), "rounds", "round", "Plan between 1 and 50"),
        (Settings(rounds=40, minutes=7), "rounds", "6", "Plan 6 rounds or fewer"),
        (
            Settings(rounds=3, minutes=7, group_size=5),
            "group_size",
            "2",
            r"Use 2 \(pairs\) or 3",
        ),
        (Settings(rounds=3, minutes=0), "minutes", "5 to 10", "Use 1 to 120 minutes"),
        (
            Settings(rounds=3, minutes=7, mode="speed"),
            "mode",
            "peer",
            "Use one of: mentor_mentee, peer",
        ),
    ],
)
def test_bad_settings_say_what_would_work_and_change_nothing(
    mixer_event, room, settings, field, words, suggestion
):
    room(12)
    # The refusal says what is wrong, then what would work.
    with pytest.raises(RotationError, match=rf"\. {suggestion}") as caught:
        services.create_plan(mixer_event, settings)
    db.session.rollback()
    assert caught.value.field == field
    assert words in str(caught.value)
    assert db.session.scalar(select(func.count(RotationPlan.id))) == 0


def test_too_many_rounds_names_the_maximum(mixer_event, room):
    room(12)  # six mentors, six mentees: each mentee can meet six mentors
    with pytest.raises(RotationError, match="Plan 6 rounds or fewer") as caught:
        services.create_plan(mixer_event, Settings(rounds=7, minutes=7))
    assert caught.value.maximum == 6


def test_not_a_mixer_and_nobody_there_are_refused(org, make_event, mixer_event):
    lunch = make_event(org)
    with pytest.raises(RotationError, match="not a Mentor Mixer") as caught:
        services.create_plan(lunch, Settings(rounds=3, minutes=7))
    assert caught.value.field == "event"
    with pytest.raises(
        RotationError,
        match="Nobody is checked in.* Register or check in at least two people",
    ) as caught:
        services.create_plan(mixer_event, Settings(rounds=3, minutes=7))
    assert caught.value.field == "attendees"


def test_replan_keeps_held_rounds_and_seats_late_arrivals(
    mixer_event, room, make_registration
):
    regs = room(12, checked_in=10)
    plan = services.create_plan(mixer_event, Settings(rounds=5, minutes=7, seed=1))
    running.start_next_round(mixer_event)
    running.start_next_round(mixer_event)
    db.session.commit()
    held = services.plan_data(plan)["rounds"][:2]
    gone = regs[0]
    services.mark_left(mixer_event, [gone.id])
    late = regs[10]
    late.checked_in_at = clock.now()
    db.session.commit()

    services.replan_remaining(mixer_event)
    db.session.commit()
    data = services.plan_data(plan)
    assert data["rounds"][:2] == held
    assert plan.current_round == 2
    met = {
        tuple(sorted(p))
        for r in data["rounds"]
        for t in r["tables"]
        for p in combinations(t["members"], 2)
    }
    assert data["quality"]["repeats"] == 0
    total_meetings = sum(
        len(list(combinations(t["members"], 2)))
        for r in data["rounds"]
        for t in r["tables"]
    )
    assert total_meetings == len(met)  # nobody met twice across held and new
    for r in data["rounds"][2:]:
        seated = [m for t in r["tables"] for m in t["members"]] + r["byes"]
        assert gone.id not in seated
        assert late.id in seated
        assert regs[11].id not in seated  # never checked in


def test_replan_after_the_last_round_is_refused(mixer_event, room):
    room(4)
    services.create_plan(mixer_event, Settings(rounds=1, minutes=7))
    running.start_next_round(mixer_event)
    with pytest.raises(RotationError, match="nothing left to re-plan"):
        services.replan_remaining(mixer_event)


def test_demo_rotations_plan_and_hold_the_past_mixer(org, make_user, app):
    from mixer.events.demo import seed_events
    from mixer.rotations.demo import seed_rotations

    organizer = make_user(org, role="organizer")
    people = [
        make_user(org, department=DEPARTMENTS[i % 4], name=f"Demo {i}")
        for i in range(30)
    ]
    seed_events(org, organizer, people)
    db.session.commit()
    seed_rotations(org)
    seed_rotations(org)  # idempotent
    db.session.commit()
    plans = db.session.scalars(select(RotationPlan)).all()
    assert len(plans) == 1
    plan = plans[0]
    assert plan.current_round == plan.rounds > 0
    assert plan.event.title == "Mentor Mixer: across the hospital"
    assert db.session.scalar(select(func.count(Connection.id))) > 0
