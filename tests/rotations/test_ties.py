"""The planner with a memory: people who met before, open pairs, reporting lines,
languages and locations (the engine alone, no database).

The "unavoidable" figure is checked against an exhaustive search written here
from scratch: every way of seating a small room, round by round.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterable

import pytest

from mixer.rotations.planner import Participant, PlanError, Ties, plan_rotations


def _meetings(plan) -> set[tuple[int, int]]:
    return {
        (min(a, b), max(a, b))
        for r in plan.rounds
        for t in r.tables
        for a, b in itertools.combinations(t.members, 2)
    }


def _sides(k: int) -> tuple[list[int], list[int], list[Participant]]:
    mentors = list(range(1, k + 1))
    mentees = list(range(101, 101 + k))
    people = [Participant(i, role="mentor") for i in mentors] + [
        Participant(i, role="mentee") for i in mentees
    ]
    return mentors, mentees, people


def brute_force_minimum(
    mentors: list[int], mentees: list[int], rounds: int, known: Iterable
) -> int:
    """The fewest meetings of known pairs over ``rounds`` rounds of pairs in which
    every mentor meets a different mentee each round and no pair meets twice."""
    known = {(min(a, b), max(a, b)) for a, b in known}
    best = math.inf
    orders = list(itertools.permutations(mentees))

    def search(r: int, used: frozenset, cost: int) -> None:
        nonlocal best
        if cost >= best:
            return
        if r == rounds:
            best = cost
            return
        for order in orders:
            pairs = list(zip(mentors, order, strict=True))
            if any(p in used for p in pairs):
                continue
            search(r + 1, used | set(pairs), cost + sum(p in known for p in pairs))

    search(0, frozenset(), 0)
    return int(best)


def test_forty_people_two_mixers_meet_nobody_twice():
    """Mixer 2 remembers mixer 1: no pair of the 40 meets again in 6 + 6 rounds
    (20 mentors and 20 mentees allow 20 repeat-free rounds in all)."""
    _, _, people = _sides(20)
    first = plan_rotations(people, 6, seed=1)
    earlier = _meetings(first)
    assert len(earlier) == 6 * 20
    second = plan_rotations(people, 6, seed=2, ties=Ties.of(earlier=earlier))
    assert not _meetings(second) & earlier
    report = second.quality.earlier
    assert report["repeated"] == 0 and report["unavoidable"] == 0
    assert report["known_pairs"] == 120 and report["avoided"] == 120


def test_forty_peers_two_mixers_meet_nobody_twice():
    people = [Participant(i, role="either") for i in range(1, 41)]
    first = plan_rotations(people, 6, mode="peer", seed=4)
    second = plan_rotations(
        people, 6, mode="peer", seed=5, ties=Ties.of(earlier=_meetings(first))
    )
    assert not _meetings(second) & _meetings(first)
    assert second.quality.earlier["repeated"] == 0


def test_without_a_memory_the_same_people_meet_again():
    """The control: the same two mixers planned without ties repeat meetings, so
    the test above can fail."""
    _, _, people = _sides(20)
    first = _meetings(plan_rotations(people, 6, seed=1))
    assert _meetings(plan_rotations(people, 6, seed=2)) & first


def test_unavoidable_repeats_match_an_exhaustive_search_on_a_small_room():
    """Three mentors and three mentees; mentee 101 met mentors 1 and 2 last month
    and mentee 102 met mentor 1. Three rounds: everyone meets everyone on the
    other side, so all three earlier meetings happen again, and no plan does
    better."""
    mentors, mentees, people = _sides(3)
    known = {(1, 101), (2, 101), (1, 102)}
    plan = plan_rotations(people, 3, ties=Ties.of(earlier=known))
    report = plan.quality.earlier
    assert brute_force_minimum(mentors, mentees, 3, known) == 3
    assert report["repeated"] == report["unavoidable"] == 3
    assert report["avoided"] == 0
    why = {b["id"]: (b["meets"], b["new_to_them"]) for b in report["because"]}
    assert why[101] == (3, 1) and why[1] == (3, 1)

    # Two rounds of the same room: one repeat is forced (mentor 1 has met two of
    # the three mentees, mentee 101 two of the three mentors, and they cannot
    # both take mentor 3/mentee 103 in both rounds).
    plan = plan_rotations(people, 2, ties=Ties.of(earlier=known))
    minimum = brute_force_minimum(mentors, mentees, 2, known)
    assert plan.quality.earlier["repeated"] == minimum
    assert plan.quality.earlier["unavoidable"] == minimum


@pytest.mark.parametrize("case", range(40))
def test_unavoidable_is_a_proven_minimum_and_the_plan_reaches_it(case):
    """Random small rooms with random earlier meetings: the report's
    "unavoidable" never exceeds the true minimum (it is a proof), and the plan
    has no more repeats than the minimum (the planner found an optimal plan)."""
    rng = random.Random(case)
    k = rng.choice([3, 4])
    rounds = rng.randint(2, k)
    mentors, mentees, people = _sides(k)
    known = {(a, b) for a in mentors for b in mentees if rng.random() < 0.45}
    plan = plan_rotations(people, rounds, seed=case, ties=Ties.of(earlier=known))
    report = plan.quality.earlier
    minimum = brute_force_minimum(mentors, mentees, rounds, known)
    assert report["unavoidable"] <= minimum == report["repeated"]
    assert report["repeated"] == len(_meetings(plan) & known)


def test_a_manager_and_their_report_never_share_a_table():
    _, _, people = _sides(4)
    for seed in range(15):
        plan = plan_rotations(
            people, 3, seed=seed, ties=Ties.of(reporting={(1, 101), (102, 2)})
        )
        met = _meetings(plan)
        assert (1, 101) not in met and (2, 102) not in met


def test_a_reporting_line_that_leaves_no_plan_is_refused_with_the_maximum():
    _, _, people = _sides(2)
    with pytest.raises(PlanError) as caught:
        plan_rotations(people, 2, ties=Ties.of(reporting={(1, 101)}))
    assert caught.value.maximum == 1


def test_an_open_pair_is_kept_apart_before_an_earlier_meeting():
    """One round, mentors A=1, B=2 and mentees X=101, Y=102: X is in a pair with
    A and met B last month; one of the two must happen, and it is the meeting."""
    _, _, people = _sides(2)
    for seed in range(10):
        plan = plan_rotations(
            people,
            1,
            seed=seed,
            ties=Ties.of(earlier={(2, 101)}, open_pairs={(1, 101)}),
        )
        assert _meetings(plan) == {(2, 101), (1, 102)}
        assert plan.quality.earlier["open_pairs_seated"] == 0
        assert plan.quality.earlier["repeated"] == 1


def test_tables_prefer_a_shared_language():
    people = [
        Participant(1, role="mentor", languages=frozenset({"english"})),
        Participant(2, role="mentor", languages=frozenset({"german"})),
        Participant(101, role="mentee", languages=frozenset({"german", "french"})),
        Participant(102, role="mentee", languages=frozenset({"english"})),
    ]
    for seed in range(10):
        plan = plan_rotations(people, 1, seed=seed)
        assert _meetings(plan) == {(1, 102), (2, 101)}
        assert plan.quality.no_shared_language == 0
    # A second round must seat the others: the report counts them.
    assert plan_rotations(people, 2).quality.no_shared_language == 2


@pytest.mark.parametrize(
    ("preference", "expected"),
    [("same", {(1, 101), (2, 102)}), ("different", {(1, 102), (2, 101)})],
)
def test_the_organizer_chooses_same_or_different_locations(preference, expected):
    people = [
        Participant(1, role="mentor", location="Leeds"),
        Participant(2, role="mentor", location="York"),
        Participant(101, role="mentee", location="leeds"),
        Participant(102, role="mentee", location="York"),
    ]
    for seed in range(10):
        plan = plan_rotations(people, 1, seed=seed, location_preference=preference)
        assert _meetings(plan) == expected


def test_an_unknown_location_preference_is_refused():
    _, _, people = _sides(2)
    with pytest.raises(PlanError) as caught:
        plan_rotations(people, 1, location_preference="nearby")
    assert caught.value.field == "location_preference"
