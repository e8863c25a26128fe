"""Property tests over random rooms: the planner's promises hold for any room.

Rooms of 2 to 300 people (biased to small ones, where rounds run out), any mix of
departments and roles, odd counts, both modes, groups of 2 and 3, random seeds.
The promise: whatever ``max_repeat_free_rounds`` says works does work, with no
repeat, nobody seated twice, the role rule kept, and nobody sitting out a second
time while someone else who could has not; one round more is refused with that
maximum.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mixer.rotations.planner import (
    MAX_ROUNDS,
    Participant,
    PlanError,
    max_repeat_free_rounds,
    plan_rotations,
    replan,
)
from tests.rotations.checks import assert_valid, balanced_sides, make_room

# The planner's own code: the SQLite pass only.
pytestmark = pytest.mark.once

ROLE_MIXES = [
    ("mentor", "mentee", "either"),
    ("mentor", "mentee"),
    ("mentor", "either"),
    ("either",),
    ("mentor", "mentor", "mentee"),
    ("mentee", "mentee", "mentee", "mentor"),
]
SIZES = st.one_of(
    st.integers(2, 12),
    st.integers(2, 12),
    st.integers(13, 60),
    st.integers(61, 300),
    st.sampled_from([299, 300]),
)
QUICK = settings(
    max_examples=60,
    deadline=None,
    database=None,
    derandomize=True,  # the same examples every run, so CI is reproducible
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def rooms(draw, sizes=SIZES):
    """(people, settings) for a random room."""
    n = draw(sizes)
    mode = draw(st.sampled_from(["mentor_mentee", "peer"]))
    people = make_room(
        n,
        seed=draw(st.integers(0, 10**6)),
        departments=draw(st.integers(0, 6)),
        roles=draw(st.sampled_from(ROLE_MIXES)),
        levels=draw(st.booleans()),
    )
    options = {
        "mode": mode,
        "group_size": draw(st.sampled_from([2, 3])),
        "seed": draw(st.integers(0, 2**32)),
    }
    if mode == "mentor_mentee" and draw(st.integers(0, 4)) == 0:
        people = [_with_level(p) for p in people]
        options["min_level_gap"] = draw(st.integers(0, 3))
    return people, options


def _with_level(p: Participant) -> Participant:
    level = p.level if p.level is not None else random.Random(p.id).randint(1, 8)
    return Participant(p.id, p.role, p.department, p.offers, p.seeks, level)


def _sides_possible(people, options) -> bool:
    if options["mode"] == "peer":
        return True
    roles = {p.role for p in people}
    return bool(roles - {"mentee"}) and bool(roles - {"mentor"})


@QUICK
@given(room=rooms(), data=st.data())
def test_what_is_promised_is_kept(room, data):
    people, options = room
    try:
        most = max_repeat_free_rounds(people, **options)
    except PlanError as error:
        # Only a room that cannot hold a table at all is refused outright.
        assert error.field in ("participants", "min_level_gap")
        if error.field == "participants":
            assert not _sides_possible(people, options)
        return
    if "min_level_gap" not in options:
        assert most >= 1
        if options["group_size"] == 2:
            assert most == min(_counting_bound(people, options), MAX_ROUNDS)
    if most == 0:
        return
    # Every round up to the maximum in small rooms (where rounds run out); a few
    # in big ones, where the full 50 would only slow the suite down.
    full = st.just(most) if len(people) <= 60 else st.integers(1, min(most, 8))
    rounds = data.draw(st.one_of(st.integers(1, min(most, 8)), full))
    plan = plan_rotations(people, rounds, **options)
    assert len(plan.rounds) == rounds
    assert_valid(plan, people)
    if most < MAX_ROUNDS:
        try:
            plan_rotations(people, most + 1, **options)
        except PlanError as error:
            assert error.field == "rounds"
            assert error.maximum == most
            assert str(most) in error.message
        else:
            raise AssertionError("one round more than the maximum was planned")


def _counting_bound(people, options) -> int:
    """The most rounds any repeat-free plan of pairs can have (no history)."""
    n = len(people)
    if options["mode"] == "peer":
        return n - 1 if n % 2 == 0 else n
    return balanced_sides(people)[0]


@settings(
    max_examples=40,
    deadline=None,
    database=None,
    derandomize=True,  # the same examples every run, so CI is reproducible
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    room=rooms(st.one_of(st.integers(3, 14), st.integers(15, 80))),
    data=st.data(),
)
def test_history_and_replans_never_repeat(room, data):
    people, options = room
    rng = random.Random(data.draw(st.integers(0, 10**6)))
    ids = [p.id for p in people]
    history = [tuple(rng.sample(ids, 2)) for _ in range(rng.randint(0, len(ids)))]
    try:
        most = max_repeat_free_rounds(people, history=history, **options)
    except PlanError:
        return
    if most == 0:
        return
    rounds = data.draw(st.integers(1, min(most, 8)))
    plan = plan_rotations(people, rounds, history=history, **options)
    assert_valid(plan, people, history=history)

    start = data.draw(st.integers(1, rounds))
    staying = [p for p in people if rng.random() < 0.85]
    late = make_room(rng.randint(0, 3), seed=rng.randint(0, 999), first_id=10_000)
    late = [_with_level(p) for p in late] if "min_level_gap" in options else late
    try:
        new = replan(plan, [p.id for p in staying] + late, start)
    except PlanError as error:
        assert error.field in ("rounds", "participants", "min_level_gap")
        return
    assert new.rounds[: start - 1] == plan.rounds[: start - 1]
    assert len(new.rounds) == rounds
    assert_valid(new, staying + late, history=history, held=start - 1)
