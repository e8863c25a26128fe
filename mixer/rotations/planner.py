"""Mentor Mixer rotations: who meets whom, round by round.

A pure engine (no database): give it the people in the room and the settings, get a
``Plan`` of rounds, tables and byes with a quality report, or a ``PlanError`` that says
what would work instead. See ``docs/rotations.md`` for the algorithm and its numbers.

Hard rules: nobody meets the same person twice (counting ``history`` and rounds
already held), each person sits at one table per round, the mode's role rule holds,
and nobody sits with their own manager or direct report (``Ties.reporting``). Soft
goals, in order: people in an open pair apart, people who met at earlier events
apart (``Ties``), a shared language, different departments, the organizer's location
preference, "can help with" matching "would like help with", a level distance in a
useful band. With uneven numbers a table of three takes the extra person, or people
sit out in turn: nobody sits out twice before everyone who could sit out in their
place has sat out once.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import combinations
from typing import Any

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import maximum_flow

from mixer.rotations import constructions
from mixer.rotations.constructions import Design
from mixer.rotations.room import Room, _norm
from mixer.rotations.seating import BYES, GROUPS, Layout, Seating, greedy_rounds

MODES = ("mentor_mentee", "peer")
ROLES = ("mentor", "mentee", "either")
GROUP_SIZES = (2, 3)
LOCATION_PREFERENCES = ("any", "same", "different")
MAX_ROUNDS = 50  # 50 five-minute rounds is a four-hour mixer; also bounds the work
RETRY_LIMIT = 400  # rooms up to this size re-seed to seat fewer acquaintances
RETRIES = 8
FLOW_LIMIT = 1_500  # rooms up to this size get the flow bound of "unavoidable"
MAX_BECAUSE = 20  # people named in the report's "unavoidable because"

METHOD_OPTIMIZED = "optimized"  # per-round assignment, tables of 3 for odd numbers
METHOD_BYES = "optimized-byes"  # per-round assignment, people sit out in turn
METHOD_CONSTRUCTED = "constructed"  # repeat-free construction, people placed by search
METHOD_PATCHED = "patched"  # a re-plan: the old rounds, mended around who left


class PlanError(Exception):
    """A plan that cannot be made, with the field at fault and what would work.

    ``message`` and ``suggestion`` are English (the engine knows no languages).
    A refusal an organizer can meet on the rotations pages also carries ``key``
    and ``params``, from which ``mixer.rotations.services`` says it in the page's
    language; the others (a caller's programming errors: bad ids, roles, seeds,
    re-plan rounds) have no key and stay English.
    """

    def __init__(
        self,
        message: str,
        *,
        field: str,
        suggestion: str,
        maximum: int | None = None,
        key: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.suggestion = suggestion
        self.maximum = maximum
        self.key = key
        self.params = dict(params or {})

    def as_dict(self) -> dict[str, Any]:
        """The error as JSON-ready data (message, field, suggestion, maximum)."""
        return {
            "message": self.message,
            "field": self.field,
            "suggestion": self.suggestion,
            "maximum": self.maximum,
        }


@dataclass(frozen=True)
class Participant:
    """One person in the room, as the planner sees them."""

    id: int
    role: str = "either"  # "mentor" | "mentee" | "either"
    department: str | None = None
    offers: frozenset[str] = frozenset()  # "I can help with"
    seeks: frozenset[str] = frozenset()  # "I'd like help with"
    level: int | None = None  # years or grade, for school mode and the level band
    languages: frozenset[str] = frozenset()  # spoken; tables prefer a shared one
    location: str | None = None  # site, campus or city


@dataclass(frozen=True)
class Ties:
    """What links people in the room from outside this mixer, as pairs of ids.

    ``earlier``: met at an earlier event (avoided where possible); ``open_pairs``:
    in an open mentoring pair with each other (avoided before ``earlier``);
    ``reporting``: manager and direct report (never seated together).
    """

    earlier: frozenset[tuple[int, int]] = frozenset()
    open_pairs: frozenset[tuple[int, int]] = frozenset()
    reporting: frozenset[tuple[int, int]] = frozenset()

    @classmethod
    def of(
        cls,
        earlier: Iterable[tuple[int, int]] = (),
        open_pairs: Iterable[tuple[int, int]] = (),
        reporting: Iterable[tuple[int, int]] = (),
    ) -> Ties:
        """Checked and ordered pairs (each as (low id, high id))."""
        return cls(
            earlier=_history(earlier, "ties"),
            open_pairs=_history(open_pairs, "ties"),
            reporting=_history(reporting, "ties"),
        )

    @property
    def known(self) -> frozenset[tuple[int, int]]:
        """Pairs who know each other already: met earlier or in an open pair."""
        return self.earlier | self.open_pairs


@dataclass(frozen=True)
class Table:
    """A table in one round: its number and who sits at it."""

    number: int
    members: tuple[int, ...]


@dataclass(frozen=True)
class Round:
    """One round: its number (from 1), its tables and who sits out."""

    number: int
    tables: tuple[Table, ...]
    byes: tuple[int, ...] = ()

    def seated(self) -> set[int]:
        """Everyone at a table this round."""
        return {m for t in self.tables for m in t.members}


@dataclass(frozen=True)
class Quality:
    """How good a plan is, in the terms the issue asks for."""

    repeats: int  # meetings of a pair that had already met (history included)
    cross_department_share: float | None  # None when no department is known
    mean_interest_match: float  # matching tags per meeting, both directions
    max_byes: int
    byes: Mapping[int, int] = field(default_factory=dict)  # per person
    meetings: int = 0  # pairs seated together, counted once per round
    earlier: Mapping[str, Any] = field(default_factory=dict)  # see _earlier_report
    no_shared_language: int = 0  # meetings of people whose languages differ

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        share = self.cross_department_share
        return {
            "repeats": self.repeats,
            "cross_department_share": None if share is None else round(share, 4),
            "mean_interest_match": round(self.mean_interest_match, 4),
            "max_byes": self.max_byes,
            "byes": {str(k): v for k, v in sorted(self.byes.items())},
            "meetings": self.meetings,
            "earlier": dict(self.earlier),
            "no_shared_language": self.no_shared_language,
        }


@dataclass(frozen=True)
class Plan:
    """The rounds of a mixer, how good they are, and what made them."""

    rounds: tuple[Round, ...]
    quality: Quality
    participants: tuple[Participant, ...]  # everyone the plan knows of
    mode: str
    group_size: int
    seed: int
    min_level_gap: int | None
    history: frozenset[tuple[int, int]]
    sides: Mapping[int, str]  # "mentor" or "mentee" side, in mentor_mentee mode
    method: str
    ties: Ties = Ties()
    location_preference: str = "any"

    def as_dict(self) -> dict[str, Any]:
        """The plan in the API's shape: rounds of tables and byes, and quality."""
        return {
            "rounds": [
                {
                    "round": r.number,
                    "tables": [
                        {"table": t.number, "members": list(t.members)}
                        for t in r.tables
                    ],
                    "byes": list(r.byes),
                }
                for r in self.rounds
            ],
            "quality": self.quality.as_dict(),
            "method": self.method,
        }


def plan_rotations(
    participants: Iterable[Participant],
    rounds: int,
    *,
    mode: str = "mentor_mentee",
    group_size: int = 2,
    seed: int = 0,
    min_level_gap: int | None = None,
    history: Iterable[tuple[int, int]] = (),
    held_rounds: Sequence[Round] = (),
    ties: Ties = Ties(),
    location_preference: str = "any",
) -> Plan:
    """Plan ``rounds`` rounds in all (``held_rounds`` first, kept as they are)."""
    planner = _checked_planner(
        participants,
        rounds,
        mode,
        group_size,
        seed,
        min_level_gap,
        history,
        held_rounds,
        ties,
        location_preference,
    )
    return planner.plan(rounds)


def max_repeat_free_rounds(
    participants: Iterable[Participant],
    *,
    mode: str = "mentor_mentee",
    group_size: int = 2,
    seed: int = 0,
    min_level_gap: int | None = None,
    history: Iterable[tuple[int, int]] = (),
    held_rounds: Sequence[Round] = (),
    ties: Ties = Ties(),
) -> int:
    """The most rounds (held ones included) that ``plan_rotations`` will plan."""
    planner = _checked_planner(
        participants,
        None,
        mode,
        group_size,
        seed,
        min_level_gap,
        history,
        held_rounds,
        ties,
        "any",
    )
    return len(planner.held) + planner.maximum()[0]


def _checked_planner(
    participants: Iterable[Participant],
    rounds: int | None,
    mode: str,
    group_size: int,
    seed: int,
    min_level_gap: int | None,
    history: Iterable[tuple[int, int]],
    held_rounds: Sequence[Round],
    ties: Ties,
    location_preference: str,
) -> _Planner:
    """Validate the request (``rounds`` None: any number) and build its planner."""
    people = list(participants)
    validate(
        people,
        rounds,
        mode=mode,
        group_size=group_size,
        seed=seed,
        min_level_gap=min_level_gap,
        location_preference=location_preference,
    )
    return _Planner(
        people,
        mode=mode,
        group_size=group_size,
        seed=seed,
        min_level_gap=min_level_gap,
        history=history,
        held_rounds=held_rounds,
        ties=Ties.of(ties.earlier, ties.open_pairs, ties.reporting),
        location_preference=location_preference,
    )


def replan(
    plan: Plan,
    present: Iterable[int | Participant],
    from_round: int,
    ties: Ties | None = None,
) -> Plan:
    """Keep rounds before ``from_round``; plan the rest for the people present.

    ``present`` holds ids of people the plan knows, or ``Participant`` objects for
    late arrivals (or anyone whose details changed). ``ties`` replaces the plan's
    (a late arrival brings their own); None keeps them.
    """
    total = len(plan.rounds)
    if isinstance(from_round, bool) or not isinstance(from_round, int):
        raise PlanError(
            "The round to re-plan from must be a whole number.",
            field="from_round",
            suggestion=f"Re-plan from a round between 1 and {total}.",
        )
    if not 1 <= from_round <= total:
        raise PlanError(
            f"This plan has rounds 1 to {total}; there is no round {from_round}.",
            field="from_round",
            suggestion=f"Re-plan from a round between 1 and {total}.",
        )
    known = {p.id: p for p in plan.participants}
    people: list[Participant] = []
    for item in present:
        if isinstance(item, Participant):
            people.append(item)
        elif item in known:
            people.append(known[item])
        else:
            raise PlanError(
                f"Person {item} is not in this plan.",
                field="present",
                suggestion="Pass late arrivals as Participant objects, not bare ids.",
            )
    validate(
        people,
        total,
        mode=plan.mode,
        group_size=plan.group_size,
        seed=plan.seed,
        min_level_gap=plan.min_level_gap,
        previous_sides=plan.sides,
        location_preference=plan.location_preference,
    )
    ties = plan.ties if ties is None else ties
    planner = _Planner(
        people,
        mode=plan.mode,
        group_size=plan.group_size,
        seed=plan.seed,
        min_level_gap=plan.min_level_gap,
        history=plan.history,
        held_rounds=plan.rounds[: from_round - 1],
        previous_sides=plan.sides,
        known=plan.participants,
        former=plan.rounds[from_round - 1 :],
        ties=Ties.of(ties.earlier, ties.open_pairs, ties.reporting),
        location_preference=plan.location_preference,
    )
    return planner.plan(total)


def validate(
    participants: Sequence[Participant],
    rounds: int | None,
    *,
    mode: str = "mentor_mentee",
    group_size: int = 2,
    seed: int = 0,
    min_level_gap: int | None = None,
    previous_sides: Mapping[int, str] | None = None,
    location_preference: str = "any",
) -> None:
    """Refuse settings no plan can meet, saying what would work instead."""
    if location_preference not in LOCATION_PREFERENCES:
        raise PlanError(
            f"There is no location preference called {location_preference!r}.",
            field="location_preference",
            suggestion="Use 'any' (ignore where people work), 'same' (tables of one "
            "location) or 'different' (tables across locations).",
        )
    if mode not in MODES:
        raise PlanError(
            f"There is no pairing mode called {mode!r}.",
            field="mode",
            suggestion="Use 'mentor_mentee' (every table has a mentor and a mentee) "
            "or 'peer' (anyone with anyone).",
        )
    if not _is_int(group_size) or group_size not in GROUP_SIZES:
        raise PlanError(
            f"Tables of {group_size} are not supported.",
            field="group_size",
            suggestion="Use group size 2 (pairs) or 3 (small groups).",
        )
    if rounds is not None and (not _is_int(rounds) or not 1 <= rounds <= MAX_ROUNDS):
        raise PlanError(
            f"{rounds} rounds can't be planned: a mixer has 1 to {MAX_ROUNDS} rounds.",
            field="rounds",
            suggestion=f"Plan between 1 and {MAX_ROUNDS} rounds (6 is typical).",
            key="rounds_range",
            params={"rounds": rounds, "most": MAX_ROUNDS},
        )
    if not _is_int(seed) or seed < 0:
        raise PlanError(
            f"The seed must be a whole number of 0 or more, not {seed!r}.",
            field="seed",
            suggestion="Leave the seed out, or pass a number such as 0 or 42.",
        )
    _check_people(participants)
    if mode == "mentor_mentee":
        _check_sides(participants)
    if min_level_gap is not None:
        _check_school_mode(participants, mode, min_level_gap, previous_sides)


def evaluate(
    rounds: Sequence[Round],
    participants: Iterable[Participant],
    history: Iterable[tuple[int, int]] = (),
    ties: Ties = Ties(),
) -> Quality:
    """The quality report of any schedule (the planner's, or a baseline's).

    ``earlier`` holds only ``repeated`` (meetings of people who knew each other:
    ``Ties.known``) and ``open_pairs_seated``; the planner adds what it alone knows
    (avoided, unavoidable and why: ``_earlier_report``).
    """
    people = list(participants)
    profile = {
        p.id: (
            _norm(p.department),
            {t for t in map(_norm, p.offers) if t},
            {t for t in map(_norm, p.seeks) if t},
        )
        for p in people
    }
    languages = {p.id: {x for x in map(_norm, p.languages) if x} for p in people}
    before = {_pair(a, b) for a, b in history}
    seen: Counter[tuple[int, int]] = Counter()
    byes: Counter[int] = Counter(dict.fromkeys(profile, 0))
    for rnd in rounds:
        byes.update(rnd.byes)
        for table in rnd.tables:
            seen.update(_pair(a, b) for a, b in combinations(table.members, 2))
    repeats = sum(c if pair in before else c - 1 for pair, c in seen.items())
    meetings = sum(seen.values())
    known = cross = interest = no_language = 0
    for (a, b), count in seen.items():
        if a not in profile or b not in profile:
            continue
        if languages[a] and languages[b] and not languages[a] & languages[b]:
            no_language += count
        (da, offers_a, seeks_a), (db, offers_b, seeks_b) = profile[a], profile[b]
        if da and db:
            known += count
            cross += count * (da != db)
        interest += count * (len(offers_a & seeks_b) + len(offers_b & seeks_a))
    return Quality(
        repeats=repeats,
        cross_department_share=cross / known if known else None,
        mean_interest_match=interest / meetings if meetings else 0.0,
        max_byes=max(byes.values(), default=0),
        byes=dict(byes),
        meetings=meetings,
        earlier={
            "repeated": sum(c for pair, c in seen.items() if pair in ties.known),
            "open_pairs_seated": sum(
                c for pair, c in seen.items() if pair in ties.open_pairs
            ),
        },
        no_shared_language=no_language,
    )


# The ways out of a refusal of too many rounds (``_Planner._refuse``), joined by
# "; or " (``PlanError.params["hints"]`` names them for a translation).
HINTS = {
    "fewer_rounds": "plan {maximum} rounds or fewer",
    "pairs": "use group size 2 (pairs allow more rounds)",
    "lower_gap": "lower min_level_gap",
    "smaller_side": "add people to the smaller side",
    "wait": "wait for more people to arrive",
}


def _pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a <= b else (b, a)


_PAIR_LISTS = {"history": "History holds", "ties": "Ties hold"}


def _history(
    pairs: Iterable[tuple[int, int]], name: str = "history"
) -> frozenset[tuple[int, int]]:
    out = set()
    for item in pairs:
        members = tuple(item)
        if len(members) != 2 or not all(_is_int(m) for m in members):
            raise PlanError(
                f"{_PAIR_LISTS[name]} pairs of ids; {item!r} is not one.",
                field=name,
                suggestion="Pass each earlier meeting as a pair of ids, like (3, 8).",
            )
        out.add(_pair(*members))
    return frozenset(out)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_people(people: Sequence[Participant]) -> None:
    if len(people) < 2:
        raise PlanError(
            f"A mixer needs at least 2 people; {len(people)} "
            f"{'is' if len(people) == 1 else 'are'} here.",
            field="participants",
            suggestion="Check people in (or plan from the registrations) until at "
            "least 2 are here.",
            key="too_few_people",
            params={"count": len(people)},
        )
    counts = Counter(p.id for p in people)
    twice = sorted(pid for pid, c in counts.items() if c > 1)
    if twice:
        raise PlanError(
            f"Listed more than once: {_ids(twice)}.",
            field="participants",
            suggestion="List each person once.",
        )
    odd = sorted(p.id for p in people if p.role not in ROLES)
    if odd:
        raise PlanError(
            f"Unknown role for {_ids(odd)}.",
            field="participants",
            suggestion="Give each person the role mentor, mentee or either.",
        )


def _check_sides(people: Sequence[Participant]) -> None:
    roles = Counter(p.role for p in people)
    if roles["mentor"] + roles["either"] == 0:
        raise PlanError(
            "Nobody here can mentor, so no table can have a mentor.",
            field="participants",
            suggestion="Mark someone as mentor or either, or use peer mode.",
            key="no_mentor",
        )
    if roles["mentee"] + roles["either"] == 0:
        raise PlanError(
            "Nobody here is a mentee, so no table can have one.",
            field="participants",
            suggestion="Mark someone as mentee or either, or use peer mode.",
            key="no_mentee",
        )


def _check_school_mode(
    people: Sequence[Participant],
    mode: str,
    gap: int,
    previous_sides: Mapping[int, str] | None,
) -> None:
    if mode != "mentor_mentee":
        raise PlanError(
            "A minimum level gap only applies when mentors meet mentees.",
            field="min_level_gap",
            suggestion="Use mode mentor_mentee, or leave min_level_gap out.",
            key="gap_needs_mentors",
        )
    if not _is_int(gap) or gap < 0:
        raise PlanError(
            f"The minimum level gap must be a whole number of 0 or more, not {gap!r}.",
            field="min_level_gap",
            suggestion="Use a gap such as 1 or 2 (years), or leave it out.",
        )
    missing = sorted(p.id for p in people if p.level is None)
    if missing:
        raise PlanError(
            f"School mode compares levels, but {_ids(missing)} "
            f"{'has' if len(missing) == 1 else 'have'} no level.",
            field="min_level_gap",
            suggestion="Give everyone a level (year), or leave min_level_gap out.",
            key="levels_missing",
            params={"ids": missing},
        )
    level = {p.id: int(p.level or 0) for p in people}
    sides = _assign_sides(people, previous_sides, by_level=True)
    mentors = [level[pid] for pid, is_mentor in sides.items() if is_mentor]
    mentees = [level[pid] for pid, is_mentor in sides.items() if not is_mentor]
    top, bottom = max(mentors), min(mentees)
    stranded = sorted(
        pid
        for pid, is_mentor in sides.items()
        if (level[pid] < bottom + gap if is_mentor else top < level[pid] + gap)
    )
    if stranded:
        works = min([top - lv for lv in mentees] + [lv - bottom for lv in mentors])
        hint = (
            f"A gap of {works} or less gives everyone a partner."
            if works >= 0
            else "Leave min_level_gap out: the mentor side is not above the mentees."
        )
        raise PlanError(
            f"With a gap of {gap} levels, nobody can be paired with {_ids(stranded)}.",
            field="min_level_gap",
            suggestion=hint,
            key="gap_strands",
            params={"gap": gap, "ids": stranded, "works": works},
        )


def _ids(ids: Sequence[int], limit: int = 10) -> str:
    shown = ", ".join(str(i) for i in ids[:limit])
    more = len(ids) - limit
    return f"{shown} and {more} more" if more > 0 else shown


def _assign_sides(
    people: Sequence[Participant],
    previous: Mapping[int, str] | None,
    *,
    by_level: bool,
) -> dict[int, bool]:
    """Mentor side (True) or mentee side; "either" people even the sides out."""
    sides = {p.id: p.role == "mentor" for p in people}
    mentors = sum(p.role == "mentor" for p in people)
    mentees = sum(p.role == "mentee" for p in people)
    flexible = [p for p in people if p.role == "either"]
    # Put x flexible people on the mentor side so the sides differ by at most one
    # (the mentor side gets the odd one: then a mentee, not a mentor, meets two).
    x = min(max(math.ceil((mentees + len(flexible) - mentors) / 2), 0), len(flexible))
    previous = previous or {}

    def order(p: Participant) -> tuple[int, int, int]:
        # School mode: the highest levels mentor. Otherwise, and among equals, a
        # re-plan keeps people on the side they were on.
        level = -(p.level or 0) if by_level else 0
        return (level, 0 if previous.get(p.id) == "mentor" else 1, p.id)

    flexible.sort(key=order)
    for i, p in enumerate(flexible):
        sides[p.id] = i < x
    return sides


class _Planner:
    """One planning request: the room, held rounds, and the methods to try."""

    def __init__(
        self,
        participants: Sequence[Participant],
        *,
        mode: str,
        group_size: int,
        seed: int,
        min_level_gap: int | None,
        history: Iterable[tuple[int, int]],
        held_rounds: Sequence[Round],
        previous_sides: Mapping[int, str] | None = None,
        known: Sequence[Participant] = (),
        former: Sequence[Round] = (),
        ties: Ties = Ties(),
        location_preference: str = "any",
    ) -> None:
        self.former = tuple(former)  # a re-plan's old remaining rounds, to patch
        self.ties = ties
        self.location_preference = location_preference
        self.people = tuple(sorted(participants, key=lambda p: p.id))
        self.mode = mode
        self.group_size = group_size
        self.seed = seed
        self.min_level_gap = min_level_gap
        self.history = _history(history)
        self.held = tuple(held_rounds)
        everyone = {p.id: p for p in known}
        everyone.update({p.id: p for p in self.people})
        self.known = tuple(everyone[k] for k in sorted(everyone))
        met = set(self.history)
        for rnd in self.held:
            for table in rnd.tables:
                met.update(_pair(a, b) for a, b in combinations(table.members, 2))
        self.previous_sides = dict(previous_sides or {})
        sides = None
        if mode == "mentor_mentee":
            sides = _assign_sides(
                self.people, previous_sides, by_level=min_level_gap is not None
            )
        self.room = Room(
            self.people,
            mentor_side=sides,
            min_level_gap=min_level_gap,
            met_pairs=met,
            ties=ties,
            location_preference=location_preference,
        )
        index = self.room.index
        self.sat_out = np.zeros(self.room.n, dtype=np.int64)
        for rnd in self.held:  # absent or sitting out: either way not at a table
            seated = rnd.seated()
            for pid, i in index.items():
                self.sat_out[i] += pid not in seated
        self.layouts = [Layout(self.room, group_size, GROUPS)]
        alternative = Layout(self.room, group_size, BYES)
        if alternative.byes != self.layouts[0].byes:
            self.layouts.append(alternative)
        self.pool = np.zeros(self.room.n, dtype=bool)
        self.pool[self.layouts[0].pool] = True
        self.clean = (
            not self.room.met.any()
            and not self.room.has_blocks
            and not self.sat_out.any()
        )
        self.design = self._design()
        self._greedy_cache: dict[str, tuple[list[Seating], bool]] = {}
        self._place_cache: dict[int, list[Seating] | None] = {}

    # -- limits ---------------------------------------------------------------

    def upper_bound(self) -> int:
        """Rounds no plan of this shape can exceed (a counting argument), capped."""
        n, layout = self.room.n, self.layouts[0]
        if self.group_size == 2:
            if self.room.mentor_mode:
                bound = len(layout.long)  # a short-side person meets one per round
            else:
                bound = n - 1 if n % 2 == 0 else n
        elif self.room.mentor_mode and len(layout.short) < math.ceil(n / 3):
            bound = len(layout.long) // 2  # each short-side person meets two a round
        else:
            g = math.ceil(n / 3)
            pairs = 3 * (g - (3 * g - n)) + (3 * g - n)  # meetings per round
            bound = min(n - 1, (n * (n - 1) // 2) // max(pairs, 1))
        return max(0, min(bound, MAX_ROUNDS - len(self.held)))

    def _design(self) -> Design | None:
        n, layout = self.room.n, self.layouts[-1]
        if self.group_size == 2:
            if not self.room.mentor_mode:
                return constructions.circle(n)
            long_is_mentor = bool(self.room.mentor_side[layout.long[0]])
            return constructions.latin(
                len(layout.long), len(layout.short), long_is_mentor
            )
        g = constructions.modular_tables(n)
        if not self.room.mentor_mode:
            return constructions.modular(
                [[False] * g, [False] * g, [False] * (n - 2 * g)], g
            )
        a, b = len(layout.long), len(layout.short)
        if b < g:
            return None
        long_flag = bool(self.room.mentor_side[layout.long[0]])
        short_flag = not long_flag
        third = [short_flag] * (b - g) + [long_flag] * (a - g)
        return constructions.modular([[short_flag] * g, [long_flag] * g, third], g)

    # -- planning -------------------------------------------------------------

    def plan(self, total: int) -> Plan:
        """A plan of ``total`` rounds, or a PlanError with the most that works."""
        count = total - len(self.held)
        if count < 1:
            raise PlanError(
                f"{len(self.held)} rounds are held; {total} in all leaves none.",
                field="rounds",
                suggestion=f"Plan more than {len(self.held)} rounds in all.",
            )
        if count > self.upper_bound():
            self._refuse(total)
        for layout in self.layouts:
            seatings = self._greedy(layout, count)
            if len(seatings) == count:
                return self._finish(
                    self._fewest_ties(layout, seatings), _method(layout)
                )
        if len(self.former) == count:
            seatings = self._patch()
            if self._valid_prefix(seatings) == count:
                return self._finish(seatings, METHOD_PATCHED)
        design = self.design
        if design is not None and count <= design.limit:
            placed = self._place(design, count)
            if placed is not None:
                return self._finish(placed, METHOD_CONSTRUCTED)
        best, witness, method = self.maximum(witness=True)
        if count <= best:
            return self._finish(witness[:count], method)
        self._refuse(total)
        raise AssertionError("unreachable")  # pragma: no cover

    def maximum(self, witness: bool = False) -> tuple[int, list[Seating], str]:
        """The most rounds this planner can seat, a plan showing it, its method.

        Without ``witness`` the plan may be left out where arithmetic alone proves
        the number: a room with no history, no level gap and no held rounds, whose
        construction reaches the counting bound.
        """
        upper = self.upper_bound()
        design = self.design
        if self.clean and design is not None and design.limit >= upper:
            if not witness:
                return upper, [], METHOD_CONSTRUCTED
            seatings = self._place(design, upper)
            if seatings is not None:
                return upper, seatings, METHOD_CONSTRUCTED
        best, found, method = 0, [], METHOD_OPTIMIZED
        for layout in self.layouts:
            seatings = self._greedy(layout, upper)
            if len(seatings) > best:
                best, found, method = len(seatings), seatings, _method(layout)
        if design is None or min(design.limit, upper) <= best:
            return best, found, method
        low, high = best, min(design.limit, upper)
        seatings = self._place(design, high)
        if seatings is not None:
            return high, seatings, METHOD_CONSTRUCTED
        while high - low > 1:  # a coarse search: placements are not monotone
            middle = (low + high) // 2
            seatings = self._place(design, middle)
            if seatings is None:
                high = middle
            else:
                low, best, found, method = middle, middle, seatings, METHOD_CONSTRUCTED
        return best, found, method

    def _greedy(self, layout: Layout, count: int) -> list[Seating]:
        cached = self._greedy_cache.get(layout.policy)
        if cached is not None and (cached[1] or len(cached[0]) >= count):
            return cached[0][:count]
        seatings = greedy_rounds(
            layout,
            count,
            seed=self.seed,
            first_round=len(self.held) + 1,
            sat_out=self.sat_out,
        )
        seatings = seatings[: self._valid_prefix(seatings)]
        self._greedy_cache[layout.policy] = (seatings, len(seatings) < count)
        return seatings

    def _fewest_ties(self, layout: Layout, seatings: list[Seating]) -> list[Seating]:
        """The greedy plan, or a re-seeded one that seats fewer people who know
        each other (small rooms only: a round-by-round optimizer can spend a
        scarce new partner early that someone needed later)."""
        room = self.room
        if room.ties is None or room.n > RETRY_LIMIT:
            return seatings
        floor = _earlier_floor(room, seatings)  # counting only: cheap
        best, best_score = seatings, _tie_score(room, seatings)
        for variant in range(1, RETRIES + 1):
            if best_score[0] <= floor:
                break
            found = greedy_rounds(
                layout,
                len(seatings),
                seed=self.seed,
                first_round=len(self.held) + 1,
                sat_out=self.sat_out,
                variant=variant,
            )
            if len(found) < len(seatings) or self._valid_prefix(found) < len(found):
                continue
            score = _tie_score(room, found)
            if score < best_score:
                best, best_score = found, score
        return best

    def _place(self, design: Design, count: int) -> list[Seating] | None:
        if count not in self._place_cache:
            seatings = constructions.place(
                design, count, self.room, self.sat_out, self.seed
            )
            if seatings is not None and self._valid_prefix(seatings) < count:
                seatings = None
            self._place_cache[count] = seatings
        return self._place_cache[count]

    def _patch(self) -> list[Seating]:
        """The old remaining rounds, minus who left, with the rest re-seated.

        A fallback for re-plans in small, nearly exhausted rooms, where the old
        rounds are often the only repeat-free continuation: tables that lost
        people dissolve, and the loose people (and late arrivals) pair up where
        they have not met, or else sit out; the usual checks then judge the result.
        """
        room = self.room
        bad = room.bad(room.met).copy()
        side = room.mentor_side
        seatings = []
        for rnd in self.former:
            tables: list[list[int]] = []
            loose: list[int] = []
            placed: set[int] = set()
            for table in rnd.tables:
                members = [room.index[m] for m in table.members if m in room.index]
                placed.update(members)
                mixed = not room.mentor_mode or 0 < side[members].sum() < len(members)
                if len(members) >= 2 and mixed:
                    tables.append(members)
                else:
                    loose.extend(members)
            byes = [room.index[m] for m in rnd.byes if m in room.index]
            placed.update(byes)
            loose.extend(i for i in range(room.n) if i not in placed)
            for u in loose:  # pair up with someone loose and new to them, or sit out
                partner = next(
                    (
                        v
                        for v in byes
                        if not bad[u, v]
                        and (not room.mentor_mode or side[u] != side[v])
                    ),
                    None,
                )
                if partner is None:
                    byes.append(u)
                else:
                    byes.remove(partner)
                    tables.append([partner, u])
            for t in tables:
                for u, v in combinations(t, 2):
                    bad[u, v] = bad[v, u] = True
            seatings.append(
                Seating(
                    tables=tuple(tuple(sorted(t)) for t in tables),
                    byes=tuple(sorted(byes)),
                )
            )
        return seatings

    def _refuse(self, total: int) -> None:
        best = self.maximum()[0]
        maximum = len(self.held) + best
        n = self.room.n
        if total > MAX_ROUNDS and maximum >= MAX_ROUNDS:
            message = f"A mixer has at most {MAX_ROUNDS} rounds."
        elif best == 0:
            message = (
                "Not even one more round can be planned without someone meeting a "
                "person they have met already."
            )
        else:
            message = (
                f"{total} rounds can't be planned without someone meeting the same "
                f"person twice: with these {n} people the most is {maximum}."
            )
        if total > MAX_ROUNDS and maximum >= MAX_ROUNDS:
            key = "at_most"
        else:
            key = "none_more" if best == 0 else "too_many_rounds"
        # What would work, each a key of HINTS (the English words).
        ways = ["fewer_rounds"] if best else []
        if self.group_size == 3:
            ways.append("pairs")
        if self.min_level_gap is not None:
            ways.append("lower_gap")
        if self.room.mentor_mode and self.group_size == 2:
            ways.append("smaller_side")
        elif best == 0:
            ways.append("wait")
        suggestion = "; or ".join(HINTS[w].format(maximum=maximum) for w in ways) + "."
        raise PlanError(
            message,
            field="rounds",
            suggestion=suggestion[0].upper() + suggestion[1:],
            maximum=maximum,
            key=key,
            params={
                "total": total,
                "people": n,
                "maximum": maximum,
                "most": MAX_ROUNDS,
                "hints": ways,
            },
        )

    def _valid_prefix(self, seatings: list[Seating]) -> int:
        """How many leading rounds keep every hard rule and the fair bye order."""
        room = self.room
        bad = room.bad(room.met).copy()
        sat = self.sat_out.copy()
        for r, seating in enumerate(seatings):
            if any(not 2 <= len(t) <= 3 for t in seating.tables):
                return r
            seats = np.zeros(room.n, dtype=np.int64)
            np.add.at(seats, [m for t in seating.tables for m in t], 1)
            byes = np.array(seating.byes, dtype=np.int64)
            np.add.at(seats, byes, 1)
            if (seats != 1).any():
                return r
            pairs = np.array(
                [uv for t in seating.tables for uv in combinations(t, 2)],
                dtype=np.int64,
            ).reshape(-1, 2)
            u, v = pairs[:, 0], pairs[:, 1]
            if bad[u, v].any():
                return r
            if room.mentor_mode:
                side = room.mentor_side
                if any(
                    side[list(t)].all() or not side[list(t)].any()
                    for t in seating.tables
                ):
                    return r
            if len(byes):
                waiting = self.pool.copy()
                waiting[byes] = False
                if not self.pool[byes].all():
                    return r
                if waiting.any() and sat[byes].max() > sat[waiting].min():
                    return r
            bad[u, v] = bad[v, u] = True
            sat[byes] += 1
        return len(seatings)

    def _finish(self, seatings: list[Seating], method: str) -> Plan:
        ids = self.room.ids
        mentor = self.room.mentor_side
        first = len(self.held) + 1
        new_rounds = []
        for r, seating in enumerate(seatings):
            tables = sorted(
                tuple(ids[i] for i in sorted(t, key=lambda i: (not mentor[i], ids[i])))
                for t in seating.tables
            )
            new_rounds.append(
                Round(
                    number=first + r,
                    tables=tuple(
                        Table(number=k + 1, members=members)
                        for k, members in enumerate(tables)
                    ),
                    byes=tuple(sorted(ids[i] for i in seating.byes)),
                )
            )
        rounds = self.held + tuple(new_rounds)
        sides = dict(self.previous_sides)
        if self.room.mentor_mode:
            for i, pid in enumerate(ids):
                sides[pid] = "mentor" if mentor[i] else "mentee"
        quality = evaluate(rounds, self.known, self.history, self.ties)
        quality = replace(
            quality, earlier=_earlier_report(self.room, seatings, quality.earlier)
        )
        return Plan(
            rounds=rounds,
            quality=quality,
            participants=self.known,
            mode=self.mode,
            group_size=self.group_size,
            seed=self.seed,
            min_level_gap=self.min_level_gap,
            history=self.history,
            sides=sides,
            method=method,
            ties=self.ties,
            location_preference=self.location_preference,
        )


def _tie_score(room: Room, seatings: list[Seating]) -> tuple[float, float]:
    """Open pairs and earlier meetings seated, as a cost; then the whole cost."""
    ties = total = 0.0
    everyone = np.arange(room.n)
    soft = room.soft_cost(everyone, everyone) if room.n <= RETRY_LIMIT else None
    for seating in seatings:
        for table in seating.tables:
            for u, v in combinations(table, 2):
                ties += room.tie_cost(u, v)
                if soft is not None:
                    total += soft[u, v]
    return ties, total


def _partners(room: Room, seatings: Sequence[Seating]) -> np.ndarray:
    """How many people each person sits with over these rounds."""
    partners = np.zeros(room.n, dtype=np.int64)
    for seating in seatings:
        for table in seating.tables:
            partners[list(table)] += len(table) - 1
    return partners


def _earlier_floor(
    room: Room, seatings: Sequence[Seating], seated: int | None = None
) -> int:
    """The fewest meetings of people who know each other that any plan giving
    everyone as many partners as ``seatings`` must have (a proven lower bound).

    First by counting: person p meets ``partners[p]`` people of whom at most
    ``fresh[p]`` are new to them, and each meeting of two who know each other is
    counted by at most its two people (exactly one per side in mentor_mentee mode).
    Where ``seated`` (the plan's own number) is above that and the room is not
    too big, by a maximum flow, which is never weaker: the meetings of people new
    to each other form a graph in which p has at most ``partners[p]`` edges, each
    between two people who may sit together (the role rule, the level gap,
    reporting lines and this mixer's earlier rounds allow it) and do not know
    each other. A maximum flow bounds how many edges such a graph can have (in
    mentor_mentee mode exactly: the graph is bipartite, mentors to mentees; in
    peer mode through its double cover, which counts each edge twice); every
    other meeting is between people who know each other.
    """
    if not room.tie_pairs:
        return 0
    excess = _excess(room, seatings)[0]
    if room.mentor_mode:
        side = room.mentor_side
        floor = int(max(excess[side].sum(), excess[~side].sum()))
    else:
        floor = int(max(excess.max(initial=0), math.ceil(excess.sum() / 2)))
    if seated is None or seated <= floor or room.n > FLOW_LIMIT:
        return floor
    return max(floor, _flow_floor(room, seatings))


def _flow_floor(room: Room, seatings: Sequence[Seating]) -> int:
    partners = _partners(room, seatings)
    meetings = int(partners.sum()) // 2
    n = room.n
    everyone = np.arange(n)
    allowed = _may_sit(room, everyone, everyone)
    if room.mentor_mode:  # edges from the mentor side only: a bipartite graph
        allowed &= room.mentor_side[:, None]
    for u, v in room.tie_pairs:
        allowed[u, v] = allowed[v, u] = False
    left, right = np.nonzero(allowed)
    # Nodes: 0 the source, 1..n people (left), n+1..2n people (right), 2n+1 sink.
    source, sink = 0, 2 * n + 1
    people = np.arange(n)
    tails = np.concatenate([np.zeros(n, np.int64), left + 1, people + n + 1])
    heads = np.concatenate([people + 1, right + n + 1, np.full(n, sink)])
    caps = np.concatenate([partners, np.ones(len(left), np.int64), partners])
    graph = sparse.csr_matrix(
        (caps.astype(np.int32), (tails, heads)), shape=(2 * n + 2, 2 * n + 2)
    )
    flow = maximum_flow(graph, source, sink).flow_value
    new_meetings = flow if room.mentor_mode else flow // 2
    return max(meetings - int(new_meetings), 0)


def _excess(
    room: Room, seatings: Sequence[Seating]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per person: meetings beyond their new partners, partners, new partners."""
    partners = _partners(room, seatings)
    everyone = np.arange(room.n)
    fresh = np.concatenate(
        [
            _may_sit(room, rows, everyone).sum(axis=1)
            for rows in np.array_split(everyone, max(1, room.n // 512))
        ]
    )
    if room.tie_pairs:
        u, v = np.array(room.tie_pairs, dtype=np.int64).T
        known = _may_sit_pairs(room, u, v)
        np.subtract.at(fresh, u[known], 1)
        np.subtract.at(fresh, v[known], 1)
    return np.maximum(partners - fresh, 0), partners, fresh


def _may_sit(room: Room, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Who may sit with whom (rows x columns) by the hard rules: the role rule,
    the level gap, reporting lines and this mixer's meetings."""
    ok = ~(room.met[np.ix_(rows, cols)] | (rows[:, None] == cols[None, :]))
    if room.has_blocks:
        ok &= ~room.blocked(rows[:, None], cols[None, :])
    if room.mentor_mode:
        ok &= room.mentor_side[rows][:, None] != room.mentor_side[cols][None, :]
    return ok


def _may_sit_pairs(room: Room, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``_may_sit`` pair by pair (u[i] with v[i])."""
    ok = ~room.met[u, v] & (u != v)
    if room.has_blocks:
        ok &= ~room.blocked(u, v)
    if room.mentor_mode:
        ok &= room.mentor_side[u] != room.mentor_side[v]
    return ok


def _earlier_report(
    room: Room, seatings: Sequence[Seating], counted: Mapping[str, Any]
) -> dict[str, Any]:
    """People who knew each other already: kept apart, seated, and why.

    ``repeated``: meetings of people who met at an earlier event or are in an open
    pair (held rounds included); ``open_pairs_seated``: those of them in an open
    pair; ``avoided``: such pairs in the room who could have sat together in the
    rounds planned now but do not; ``unavoidable``: the part of ``repeated`` that
    no plan could avoid (``_earlier_floor`` for the rounds planned now, plus those
    in rounds already held); ``because``: the people behind that number, each with
    how many people they meet and how many of the people they may sit with are new
    to them.
    """
    report = dict(counted)
    if not room.tie_pairs:
        report.update(avoided=0, unavoidable=0, because=[], known_pairs=0)
        return report
    planned = {
        (min(u, v), max(u, v))
        for seating in seatings
        for table in seating.tables
        for u, v in combinations(table, 2)
    }
    u, v = np.array(room.tie_pairs, dtype=np.int64).T
    candidates = [
        pair
        for pair, ok in zip(room.tie_pairs, _may_sit_pairs(room, u, v), strict=True)
        if ok
    ]
    planned_repeats = sum(pair in planned for pair in candidates)
    excess, partners, fresh = _excess(room, seatings)
    held_repeats = int(report.get("repeated", 0)) - planned_repeats
    because = [
        {
            "id": room.ids[i],
            "meets": int(partners[i]),
            "new_to_them": int(fresh[i]),
        }
        for i in sorted(np.flatnonzero(excess), key=lambda i: (-excess[i], i))
    ]
    report.update(
        known_pairs=len(room.tie_pairs),
        avoided=len(candidates) - planned_repeats,
        unavoidable=max(held_repeats, 0)
        + _earlier_floor(room, seatings, planned_repeats),
        because=because[:MAX_BECAUSE],
    )
    return report


def _method(layout: Layout) -> str:
    return METHOD_OPTIMIZED if layout.policy == GROUPS else METHOD_BYES
