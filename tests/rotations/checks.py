"""Independent checks of a rotation plan: the issue's rules, written from scratch.

These never call the planner's own validation, so a bug there cannot hide a bug in
the plans.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import combinations

from mixer.rotations.planner import Participant, Plan

DEPARTMENTS = ["Finance", "Engineering", "Sales", "People", "Legal", "Design"]
TAGS = [
    "negotiation",
    "public speaking",
    "python",
    "careers",
    "design",
    "writing",
    "finance",
    "leadership",
]


def make_room(
    n: int,
    *,
    seed: int = 0,
    departments: int = 5,
    roles: Sequence[str] = ("mentor", "mentee", "either"),
    levels: bool = True,
    first_id: int = 1,
) -> list[Participant]:
    """A random room of ``n`` people (deterministic for ``seed``)."""
    rng = random.Random(seed)
    return [
        Participant(
            id=first_id + i,
            role=rng.choice(list(roles)),
            department=rng.choice(DEPARTMENTS[:departments]) if departments else None,
            offers=frozenset(rng.sample(TAGS, rng.randint(0, 3))),
            seeks=frozenset(rng.sample(TAGS, rng.randint(0, 2))),
            level=rng.randint(1, 8) if levels else None,
        )
        for i in range(n)
    ]


def pair(a: int, b: int) -> frozenset[int]:
    """An unordered pair of ids."""
    return frozenset((a, b))


def assert_valid(
    plan: Plan,
    people: Iterable[Participant],
    *,
    history: Iterable[tuple[int, int]] = (),
    held: int = 0,
    present_from: dict[int, int] | None = None,
) -> None:
    """Every rule of the issue holds for ``plan``.

    ``held`` rounds at the start are taken as given (only their meetings count);
    ``present_from`` maps a person's id to the first round they attend (late
    arrivals), for people not present from round 1.
    """
    people = list(people)
    by_id = {p.id: p for p in people}
    met: set[frozenset[int]] = {pair(a, b) for a, b in history}
    sat_out: Counter[int] = Counter()
    present_from = present_from or {}
    for rnd in plan.rounds[:held]:
        seated = {m for t in rnd.tables for m in t.members}
        for t in rnd.tables:
            met.update(pair(a, b) for a, b in combinations(t.members, 2))
        for pid in by_id:
            sat_out[pid] += pid not in seated
    for rnd in plan.rounds[held:]:
        seated = [m for t in rnd.tables for m in t.members]
        everyone = seated + list(rnd.byes)
        # Each person is at exactly one table (or sitting out) in each round.
        assert len(everyone) == len(set(everyone)), f"round {rnd.number}: seated twice"
        assert set(everyone) == set(by_id), f"round {rnd.number}: not everyone placed"
        for table in rnd.tables:
            assert 2 <= len(table.members) <= 3, f"table of {len(table.members)}"
            for a, b in combinations(table.members, 2):
                assert pair(a, b) not in met, f"round {rnd.number}: {a} and {b} again"
                met.add(pair(a, b))
            if plan.mode == "mentor_mentee":
                _assert_roles(plan, [by_id[m] for m in table.members])
        _assert_fair_byes(plan, rnd.byes, by_id, sat_out)
        for pid in rnd.byes:
            sat_out[pid] += 1
    assert plan.quality.repeats == 0


def _assert_roles(plan: Plan, table: list[Participant]) -> None:
    for p in table:
        side = plan.sides[p.id]
        if p.role != "either":
            assert side == p.role, f"{p.id} is a {p.role} on the {side} side"
    sides = {plan.sides[p.id] for p in table}
    assert sides == {"mentor", "mentee"}, f"table without both sides: {table}"
    if plan.min_level_gap is not None:
        for mentor in (p for p in table if plan.sides[p.id] == "mentor"):
            for mentee in (p for p in table if plan.sides[p.id] == "mentee"):
                assert mentor.level >= mentee.level + plan.min_level_gap


def _assert_fair_byes(
    plan: Plan,
    byes: Sequence[int],
    by_id: dict[int, Participant],
    sat_out: Counter[int],
) -> None:
    """Nobody sits out again while someone who could sit out instead has not."""
    if not byes:
        return
    if plan.mode == "peer":
        pool = set(by_id)
        if plan.method != "patched":  # a patched re-plan may need more byes
            assert len(byes) == 1 and len(by_id) % 2, "peer byes only for odd rooms"
    else:
        sizes = Counter(plan.sides[pid] for pid in by_id)
        longer = max(sizes, key=lambda s: (sizes[s], s == "mentor"))
        pool = {pid for pid in by_id if plan.sides[pid] == longer}
        assert set(byes) <= pool, "someone from the smaller side sat out"
    waiting = pool - set(byes)
    if waiting:
        assert max(sat_out[b] for b in byes) <= min(sat_out[w] for w in waiting)


def balanced_sides(people: Sequence[Participant]) -> tuple[int, int]:
    """(larger, smaller) side sizes once "either" people even out the sides."""
    roles = Counter(p.role for p in people)
    m, e, x = roles["mentor"], roles["mentee"], roles["either"]
    if abs(m - e) >= x:
        return max(m, e), min(m, e) + x
    n = m + e + x
    return (n + 1) // 2, n // 2
