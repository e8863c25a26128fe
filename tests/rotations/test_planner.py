"""The rotation planner on concrete rooms: quality, limits, errors, re-planning."""

from __future__ import annotations

import random
from collections import Counter
from itertools import combinations

import pytest

from mixer.rotations import constructions
from mixer.rotations.planner import (
    MAX_ROUNDS,
    Participant,
    PlanError,
    Round,
    Table,
    evaluate,
    max_repeat_free_rounds,
    plan_rotations,
    replan,
)
from tests.rotations.checks import assert_valid, make_room, pair


@pytest.mark.parametrize("mode", ["mentor_mentee", "peer"])
@pytest.mark.parametrize("group_size", [2, 3])
def test_two_hundred_people_from_five_departments(mode, group_size):
    people = make_room(200, seed=5, departments=5)
    plan = plan_rotations(people, 6, mode=mode, group_size=group_size, seed=1)
    assert_valid(plan, people)
    assert plan.quality.repeats == 0
    assert plan.quality.cross_department_share >= 0.95
    assert len(plan.rounds) == 6
    assert [r.number for r in plan.rounds] == [1, 2, 3, 4, 5, 6]


def test_interest_matches_beat_a_random_shuffle():
    people = make_room(120, seed=3)
    plan = plan_rotations(people, 6, mode="peer", seed=0)
    rng = random.Random(0)
    rounds = []
    for number in range(1, 7):
        ids = [p.id for p in people]
        rng.shuffle(ids)
        tables = tuple(
            Table(k + 1, tuple(ids[2 * k : 2 * k + 2])) for k in range(len(ids) // 2)
        )
        rounds.append(Round(number, tables))
    baseline = evaluate(rounds, people)
    assert plan.quality.mean_interest_match > 2 * baseline.mean_interest_match
    assert plan.quality.cross_department_share > baseline.cross_department_share


def test_a_pair_shares_what_one_offers_and_the_other_seeks():
    people = [
        Participant(1, "mentor", "Finance", offers=frozenset({"Negotiation"})),
        Participant(2, "mentor", "Sales", offers=frozenset({"python"})),
        Participant(3, "mentee", "Legal", seeks=frozenset({"negotiation "})),
        Participant(4, "mentee", "Design", seeks=frozenset({"Python"})),
    ]
    plan = plan_rotations(people, 1)
    assert {t.members for t in plan.rounds[0].tables} == {(1, 3), (2, 4)}
    assert plan.quality.mean_interest_match == 1.0
    assert plan.quality.cross_department_share == 1.0


def test_departments_come_before_interests():
    people = [
        Participant(1, "mentor", "Finance", offers=frozenset({"a", "b", "c"})),
        Participant(2, "mentor", "Sales"),
        Participant(3, "mentee", "Finance", seeks=frozenset({"a", "b", "c"})),
        Participant(4, "mentee", "Legal"),
    ]
    plan = plan_rotations(people, 1)
    assert {t.members for t in plan.rounds[0].tables} == {(1, 4), (2, 3)}


def test_school_mode_keeps_the_level_gap():
    rng = random.Random(2)
    people = [
        Participant(i, "either", rng.choice("ABC"), level=rng.randint(7, 12))
        for i in range(1, 41)
    ]
    plan = plan_rotations(people, 4, min_level_gap=2, seed=3)
    assert_valid(plan, people)
    for rnd in plan.rounds:
        for table in rnd.tables:
            levels = {plan.sides[m]: [] for m in table.members}
            for m in table.members:
                levels[plan.sides[m]].append(people[m - 1].level)
            assert min(levels["mentor"]) >= max(levels["mentee"]) + 2


def test_either_fills_the_shorter_side():
    people = [Participant(i, "mentor") for i in range(1, 6)]
    people += [Participant(i, "either") for i in range(6, 11)]
    plan = plan_rotations(people, 3, seed=0)
    sides = Counter(plan.sides.values())
    assert sides == {"mentor": 5, "mentee": 5}
    assert all(plan.sides[i] == "mentee" for i in range(6, 11))
    assert_valid(plan, people)


def test_odd_peer_room_gets_a_table_of_three_not_a_bye():
    people = make_room(21, seed=1)
    plan = plan_rotations(people, 6, mode="peer")
    for rnd in plan.rounds:
        assert rnd.byes == ()
        assert sorted(len(t.members) for t in rnd.tables) == [2] * 9 + [3]
    assert plan.quality.max_byes == 0


def test_tiny_odd_room_sits_out_in_turn():
    people = make_room(7, seed=4)
    assert max_repeat_free_rounds(people, mode="peer") == 7
    plan = plan_rotations(people, 7, mode="peer")
    assert_valid(plan, people)
    assert sorted(b for r in plan.rounds for b in r.byes) == [p.id for p in people]
    assert plan.quality.max_byes == 1
    assert len({pair(*t.members) for r in plan.rounds for t in r.tables}) == 21


def test_every_pair_once_in_an_even_room():
    people = make_room(10, seed=4)
    plan = plan_rotations(people, 9, mode="peer", seed=2)
    met = [pair(*t.members) for r in plan.rounds for t in r.tables]
    assert len(met) == len(set(met)) == 45


def test_surplus_mentors_share_tables_then_sit_out_evenly():
    people = [Participant(i, "mentor", "A") for i in range(1, 11)]
    people += [Participant(i, "mentee", "B") for i in range(11, 14)]
    plan = plan_rotations(people, 4)  # a mentee meets 2 of the 10 mentors a round
    assert_valid(plan, people)
    assert plan.method == "optimized"
    for rnd in plan.rounds:
        assert len(rnd.byes) == 4
        assert all(len(t.members) == 3 for t in rnd.tables)
    byes = plan.quality.byes
    assert max(byes.values()) - min(byes[i] for i in range(1, 11)) <= 1
    assert all(byes[i] == 0 for i in range(11, 14))


def test_more_mentors_than_trios_allow_uses_the_whole_latin_rectangle():
    people = [Participant(i, "mentor") for i in range(1, 8)]
    people += [Participant(i, "mentee") for i in range(8, 11)]
    assert max_repeat_free_rounds(people) == 7
    plan = plan_rotations(people, 7)
    assert_valid(plan, people)
    met = {pair(*t.members) for r in plan.rounds for t in r.tables}
    assert len(met) == 21  # every mentor met every mentee


@pytest.mark.parametrize("long", range(2, 13))
def test_latin_byes_are_evenly_spread(long):
    for short in range(1, long + 1):
        design = constructions.latin(long, short, True)
        sat = Counter()
        for tables, byes in design.rounds(design.limit):
            waiting = [i for i in range(long) if i not in byes]
            if byes and waiting:
                assert max(sat[b] for b in byes) <= min(sat[w] for w in waiting)
            sat.update(byes)
            assert len(tables) == short


@pytest.mark.parametrize("n", range(2, 40))
def test_constructions_never_repeat(n):
    designs = [constructions.circle(n)]
    g = constructions.modular_tables(n)
    designs.append(constructions.modular([[0] * g, [0] * g, [0] * (n - 2 * g)], g))
    for design in designs:
        seen = set()
        for tables, byes in design.rounds(design.limit):
            placed = [p for t in tables for p in t] + byes
            assert sorted(placed) == list(range(n))
            for table in tables:
                for a, b in combinations(table, 2):
                    assert pair(a, b) not in seen
                    seen.add(pair(a, b))


def test_same_seed_same_plan_and_order_does_not_matter():
    people = make_room(40, seed=8)
    first = plan_rotations(people, 6, mode="peer", seed=11)
    shuffled = people[:]
    random.Random(1).shuffle(shuffled)
    again = plan_rotations(shuffled, 6, mode="peer", seed=11)
    assert first.rounds == again.rounds
    other = plan_rotations(people, 6, mode="peer", seed=12)
    assert other.rounds != first.rounds
    assert_valid(other, people)


def test_history_is_never_repeated():
    people = make_room(12, seed=9)
    earlier = plan_rotations(people, 8, mode="peer", seed=1)
    history = [
        ab
        for r in earlier.rounds
        for t in r.tables
        for ab in combinations(t.members, 2)
    ]
    plan = plan_rotations(people, 3, mode="peer", seed=2, history=history)
    assert_valid(plan, people, history=history)


def test_history_that_leaves_nothing_is_refused():
    people = make_room(6, seed=1)
    history = [(a.id, b.id) for a, b in combinations(people, 2)]
    with pytest.raises(PlanError) as caught:
        plan_rotations(people, 1, mode="peer", history=history)
    assert caught.value.field == "rounds"
    assert caught.value.maximum == 0
    assert "Not even one" in caught.value.message


def test_replan_keeps_held_rounds_and_seats_late_arrivals():
    people = make_room(30, seed=12)
    plan = plan_rotations(people, 6, mode="mentor_mentee", seed=4)
    leaving = {people[0].id, people[1].id, people[2].id}
    late = make_room(4, seed=99, first_id=500)
    present = [p.id for p in people if p.id not in leaving] + late
    new = replan(plan, present, 3)
    assert new.rounds[:2] == plan.rounds[:2]
    assert [r.number for r in new.rounds] == [1, 2, 3, 4, 5, 6]
    stayed = [p for p in people if p.id not in leaving] + late
    assert_valid(new, stayed, held=2)
    for rnd in new.rounds[2:]:
        seated = {m for t in rnd.tables for m in t.members} | set(rnd.byes)
        assert not seated & leaving
        assert {p.id for p in late} <= seated
    assert new.quality.repeats == 0
    assert {p.id for p in new.participants} >= {p.id for p in people + late}


def test_replan_after_a_departure_in_a_full_room():
    people = make_room(8, seed=3)
    plan = plan_rotations(people, 7, mode="peer", seed=0)
    present = [p.id for p in people[1:]]
    new = replan(plan, present, 4)
    assert new.rounds[:3] == plan.rounds[:3]
    assert_valid(new, people[1:], held=3)


def test_late_arrivals_do_not_sit_out_first():
    people = [Participant(i, "either", "A" if i % 2 else "B") for i in range(1, 10)]
    plan = plan_rotations(people, 6, mode="peer")
    late = Participant(100, "either", "C")
    new = replan(plan, [p.id for p in people] + [late], 3)
    # 10 people now: nobody has to sit out.
    assert all(r.byes == () for r in new.rounds[2:])
    odd = replan(plan, [p.id for p in people[:-1]] + [late, Participant(101)], 3)
    assert_valid(odd, people[:-1] + [late, Participant(101)], held=2)
    assert all(100 not in r.byes and 101 not in r.byes for r in odd.rounds[2:4])


def test_plan_as_dict_has_the_api_shape():
    people = make_room(9, seed=2)
    data = plan_rotations(people, 2, mode="peer").as_dict()
    assert set(data["quality"]) >= {
        "repeats",
        "cross_department_share",
        "mean_interest_match",
        "max_byes",
    }
    first = data["rounds"][0]
    assert first["round"] == 1
    assert first["tables"][0]["table"] == 1
    assert sum(len(t["members"]) for t in first["tables"]) + len(first["byes"]) == 9


def test_max_rounds_for_pairs_is_the_counting_bound():
    assert max_repeat_free_rounds(make_room(12), mode="peer") == 11
    assert max_repeat_free_rounds(make_room(13), mode="peer") == 13
    mentors = [Participant(i, "mentor") for i in range(1, 5)]
    mentees = [Participant(i, "mentee") for i in range(5, 14)]
    assert max_repeat_free_rounds(mentors + mentees) == 9
    assert max_repeat_free_rounds(make_room(200), mode="peer") == MAX_ROUNDS


# -- bad input -------------------------------------------------------------------


def _error(**kw) -> PlanError:
    people = kw.pop("people", None) or make_room(10, seed=1)
    rounds = kw.pop("rounds", 3)
    with pytest.raises(PlanError) as caught:
        plan_rotations(people, rounds, **kw)
    return caught.value


def test_zero_rounds():
    error = _error(rounds=0)
    assert error.field == "rounds"
    assert "1 and 50" in error.suggestion


def test_more_rounds_than_a_repeat_free_plan_allows():
    error = _error(people=make_room(6, seed=1), rounds=6, mode="peer")
    assert error.field == "rounds"
    assert error.maximum == 5
    assert "the most is 5" in error.message
    assert "Plan 5 rounds or fewer" in error.suggestion
    assert plan_rotations(make_room(6, seed=1), 5, mode="peer").quality.repeats == 0


def test_groups_of_three_suggest_pairs_when_rounds_run_out():
    people = make_room(9, seed=1)
    most = max_repeat_free_rounds(people, mode="peer", group_size=3)
    error = _error(people=people, rounds=most + 1, mode="peer", group_size=3)
    assert error.maximum == most
    assert "group size 2" in error.suggestion


@pytest.mark.parametrize("size", [1, 4, 5, "2"])
def test_group_size_other_than_two_or_three(size):
    error = _error(group_size=size)
    assert error.field == "group_size"
    assert "2 (pairs) or 3" in error.suggestion


def test_unknown_mode():
    assert _error(mode="speed").field == "mode"


def test_too_many_rounds_in_any_room():
    error = _error(rounds=MAX_ROUNDS + 1)
    assert error.field == "rounds"


def test_nobody_or_one_person_here():
    for people in ([], make_room(1)):
        with pytest.raises(PlanError) as caught:
            plan_rotations(people, 3)
        assert caught.value.field == "participants"
        assert "at least 2" in caught.value.suggestion


def test_mentor_mode_without_mentees():
    people = [Participant(i, "mentor") for i in range(1, 5)]
    error = _error(people=people)
    assert "peer mode" in error.suggestion
    assert plan_rotations(people, 3, mode="peer").quality.repeats == 0


def test_duplicate_people_and_bad_roles():
    assert "once" in _error(people=[Participant(1), Participant(1)]).suggestion
    error = _error(people=[Participant(1, "boss"), Participant(2)])
    assert "mentor, mentee or either" in error.suggestion


def test_school_mode_errors():
    people = [Participant(i, "either", level=i) for i in range(1, 7)]
    assert _error(people=people, mode="peer", min_level_gap=1).field == "min_level_gap"
    error = _error(people=people, min_level_gap=4)
    assert error.field == "min_level_gap"
    assert "A gap of 3 or less" in error.suggestion
    assert plan_rotations(people, 1, min_level_gap=3).quality.repeats == 0
    missing = [*people[:-1], Participant(6, "either")]
    assert "no level" in _error(people=missing, min_level_gap=1).message
    assert _error(people=people, min_level_gap=-1).field == "min_level_gap"


def test_history_must_be_pairs():
    assert _error(history=[(1, 2, 3)]).field == "history"


def test_negative_seed():
    assert _error(seed=-1).field == "seed"


def test_replan_bad_input():
    people = make_room(8, seed=3)
    plan = plan_rotations(people, 4, mode="peer")
    for bad in (0, 5, "2"):
        with pytest.raises(PlanError) as caught:
            replan(plan, [p.id for p in people], bad)
        assert caught.value.field == "from_round"
    with pytest.raises(PlanError) as caught:
        replan(plan, [p.id for p in people] + [999], 2)
    assert caught.value.field == "present"
    with pytest.raises(PlanError) as caught:
        replan(plan, [people[0].id], 2)
    assert caught.value.field == "participants"


def test_error_as_dict():
    data = _error(rounds=0).as_dict()
    assert set(data) == {"message", "field", "suggestion", "maximum"}
