"""Running a Mentor Mixer's rotations: plan, re-plan, advance rounds, show seats.

The engine (``mixer.mixers.planner``) knows nothing of the database; these functions
turn registrations into its ``Participant``s, store the ``Plan`` it returns as
``RotationSeat`` rows, and record a *connection* for every pair a held round seated
together. Who is planned for: the people checked in; before anybody has checked in
(planning ahead of the doors opening), everyone registered. People the organizer
marked as gone are left out of re-plans. Services only ``flush()``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import combinations
from typing import Any

from sqlalchemy import delete, insert, select, update

from mixer import clock
from mixer.checkin.connections import connect, save_note
from mixer.checkin.models import Connection, ConnectionNote
from mixer.concurrency import lock_row
from mixer.events.models import Event, Registration
from mixer.extensions import db
from mixer.mixers.models import RotationPlan, RotationSeat
from mixer.mixers.planner import (
    GROUP_SIZES,
    MODES,
    Participant,
    Plan,
    PlanError,
    Round,
    Table,
    evaluate,
    plan_rotations,
    replan,
)


class RotationError(ValueError):
    """A request the rotations cannot meet: which field, and what would work."""

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        suggestion: str = "",
        maximum: int | None = None,
        status: int = 400,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.suggestion = suggestion
        self.maximum = maximum
        self.status = status

    @classmethod
    def from_plan_error(cls, exc: PlanError) -> RotationError:
        """The engine's refusal, with its field renamed to ours where they differ."""
        field = {"participants": "attendees", "present": "attendees"}.get(
            exc.field, exc.field
        )
        return cls(
            exc.message, field=field, suggestion=exc.suggestion, maximum=exc.maximum
        )

    def __str__(self) -> str:
        """The message and, when there is one, what would work instead."""
        return f"{self.message} {self.suggestion}".strip()

    def as_dict(self) -> dict[str, Any]:
        """The refusal as JSON-ready data."""
        return {
            "message": self.message,
            "field": self.field,
            "suggestion": self.suggestion,
            "maximum": self.maximum,
        }


@dataclass(frozen=True)
class Settings:
    """What the organizer chose for a plan."""

    rounds: int
    minutes: int
    mode: str = "mentor_mentee"
    group_size: int = 2
    seed: int = 0
    min_level_gap: int | None = None


# ---------------------------------------------------------------------------
# Reading


def plan_for(event: Event) -> RotationPlan | None:
    """The event's stored plan, if one was made."""
    return db.session.scalar(
        select(RotationPlan).where(RotationPlan.event_id == event.id)
    )


def rounds_of(plan: RotationPlan) -> list[Round]:
    """The stored seats as the engine's rounds (tables and byes, in order)."""
    tables: dict[int, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    byes: dict[int, list[int]] = defaultdict(list)
    rows = db.session.execute(
        select(
            RotationSeat.round_number,
            RotationSeat.table_number,
            RotationSeat.registration_id,
        )
        .where(RotationSeat.plan_id == plan.id)
        .order_by(RotationSeat.round_number, RotationSeat.table_number, RotationSeat.id)
    )
    for round_number, table_number, reg_id in rows:
        if table_number is None:
            byes[round_number].append(reg_id)
        else:
            tables[round_number][table_number].append(reg_id)
    return [
        Round(
            number=r,
            tables=tuple(
                Table(number=t, members=tuple(members))
                for t, members in sorted(tables[r].items())
            ),
            byes=tuple(byes[r]),
        )
        for r in range(1, plan.rounds + 1)
    ]


def plan_data(plan: RotationPlan) -> dict[str, Any]:
    """The stored plan in the API's shape: settings, progress, rounds and quality."""
    quality = plan.quality or {}
    return {
        "rounds": [
            {
                "round": r.number,
                "tables": [
                    {"table": t.number, "members": list(t.members)} for t in r.tables
                ],
                "byes": list(r.byes),
            }
            for r in rounds_of(plan)
        ],
        "quality": {
            key: quality.get(key)
            for key in (
                "repeats",
                "cross_department_share",
                "mean_interest_match",
                "max_byes",
                "byes",
                "meetings",
            )
        },
        "settings": {
            "rounds": plan.rounds,
            "minutes": plan.minutes,
            "mode": plan.mode,
            "group_size": plan.group_size,
            "seed": plan.seed,
            "min_level_gap": plan.min_level_gap,
        },
        "method": plan.method,
        "current_round": plan.current_round,
        "round_started_at": plan.round_started_at,
        "round_ends_at": round_ends_at(plan),
    }


def round_ends_at(plan: RotationPlan) -> datetime | None:
    """When the round being held is over (None before the first round)."""
    if plan.current_round == 0 or plan.round_started_at is None:
        return None
    return plan.round_started_at + timedelta(minutes=plan.minutes)


def names_of(plan: RotationPlan) -> dict[int, Registration]:
    """Every registration the plan seats, by id (one query)."""
    ids = set(plan.participant_ids or ())
    ids.update(
        db.session.scalars(
            select(RotationSeat.registration_id).where(RotationSeat.plan_id == plan.id)
        )
    )
    if not ids:
        return {}
    regs = db.session.scalars(select(Registration).where(Registration.id.in_(ids)))
    return {r.id: r for r in regs}


def byes_histogram(plan: RotationPlan) -> list[tuple[int, int]]:
    """(number of byes, people with that many), for the quality figure."""
    counts: dict[int, int] = defaultdict(int)
    for value in (plan.quality or {}).get("byes", {}).values():
        counts[int(value)] += 1
    return sorted(counts.items())


# ---------------------------------------------------------------------------
# Planning


def _check_event(event: Event) -> None:
    if event.kind != "mentor_mixer":
        raise RotationError(
            f"“{event.title}” is a {event.kind_label}, not a Mentor Mixer; "
            "only Mentor Mixers have rotations.",
            field="event",
            suggestion="Plan rotations for a Mentor Mixer event instead.",
        )
    if event.status == "cancelled":
        raise RotationError(
            "This event is cancelled.",
            field="event",
            suggestion="Plan rotations for an event that takes place.",
        )


def _check_settings(settings: Settings) -> None:
    # The engine checks rounds, mode, group size and level gap with suggestions;
    # the minutes are ours.
    if (
        isinstance(settings.minutes, bool)
        or not isinstance(settings.minutes, int)
        or not 1 <= settings.minutes <= 120
    ):
        raise RotationError(
            f"A round of {settings.minutes} minutes is not possible.",
            field="minutes",
            suggestion="Use 1 to 120 minutes per round (5 to 10 is usual).",
        )
    if settings.mode not in MODES:
        raise RotationError(
            f"There is no pairing mode {settings.mode!r}.",
            field="mode",
            suggestion=f"Use one of: {', '.join(MODES)}.",
        )
    if settings.group_size not in GROUP_SIZES:
        raise RotationError(
            f"Tables of {settings.group_size} are not supported.",
            field="group_size",
            suggestion="Use 2 (pairs) or 3 (small groups).",
        )


def participant(reg: Registration) -> Participant:
    """A registration as the planner sees it."""
    return Participant(
        id=reg.id,
        role=reg.role or "either",
        department=(reg.department or None),
        offers=frozenset(t.strip().lower() for t in reg.offers or () if t.strip()),
        seeks=frozenset(t.strip().lower() for t in reg.seeks or () if t.strip()),
        level=reg.level,
    )


def attendance(event: Event, left: set[int] | frozenset[int] = frozenset()):
    """Who to plan for: the checked-in, or every registered person before doors open.

    Returns the registrations (in id order) and whether they are the checked-in.
    """
    registered = list(
        db.session.scalars(
            select(Registration)
            .where(
                Registration.event_id == event.id, Registration.status == "registered"
            )
            .order_by(Registration.id)
        )
    )
    checked_in = [r for r in registered if r.checked_in_at is not None]
    people = checked_in or registered
    return [r for r in people if r.id not in left], bool(checked_in)


def _nobody(event: Event, checked_in: bool) -> RotationError:
    return RotationError(
        "Nobody is checked in or registered for this mixer yet."
        if not checked_in
        else "Everybody checked in has been marked as gone.",
        field="attendees",
        suggestion="Register or check in at least two people, then plan the rounds.",
    )


def create_plan(event: Event, settings: Settings) -> RotationPlan:
    """Plan every round for the people present, replacing any plan not yet started."""
    _check_event(event)
    _check_settings(settings)
    _serialise(event)
    existing = plan_for(event)
    if existing is not None and existing.current_round > 0:
        raise RotationError(
            f"Round {existing.current_round} of this mixer has already been held, so "
            "the plan cannot be made again from scratch.",
            field="rounds",
            suggestion="Re-plan the remaining rounds instead.",
            status=409,
        )
    people, checked_in = attendance(event)
    if len(people) < 2:
        raise _nobody(event, checked_in)
    try:
        plan = plan_rotations(
            [participant(r) for r in people],
            settings.rounds,
            mode=settings.mode,
            group_size=settings.group_size,
            seed=settings.seed,
            min_level_gap=settings.min_level_gap,
        )
    except PlanError as exc:
        raise RotationError.from_plan_error(exc) from exc
    if existing is not None:
        db.session.delete(existing)
        db.session.flush()
    stored = RotationPlan(
        event_id=event.id,
        rounds=settings.rounds,
        minutes=settings.minutes,
        mode=settings.mode,
        group_size=settings.group_size,
        seed=settings.seed,
        min_level_gap=settings.min_level_gap,
        left_ids=[],
    )
    db.session.add(stored)
    _store(stored, plan, from_round=1)
    return stored


def _store(stored: RotationPlan, plan: Plan, from_round: int) -> None:
    """Write the engine's plan from ``from_round`` on (earlier rounds stay)."""
    stored.method = plan.method
    stored.quality = plan.quality.as_dict()
    stored.participant_ids = sorted(p.id for p in plan.participants)
    stored.sides = {str(k): v for k, v in sorted(plan.sides.items())}
    db.session.flush()
    db.session.execute(
        delete(RotationSeat).where(
            RotationSeat.plan_id == stored.id,
            RotationSeat.round_number >= from_round,
        )
    )
    rows = []
    for r in plan.rounds[from_round - 1 :]:
        for t in r.tables:
            rows += [
                {
                    "plan_id": stored.id,
                    "round_number": r.number,
                    "table_number": t.number,
                    "registration_id": m,
                }
                for m in t.members
            ]
        rows += [
            {
                "plan_id": stored.id,
                "round_number": r.number,
                "table_number": None,
                "registration_id": m,
            }
            for m in r.byes
        ]
    if rows:
        db.session.execute(insert(RotationSeat), rows)
    db.session.flush()
    db.session.expire(stored, ["seats"])


def _engine_plan(stored: RotationPlan, regs: dict[int, Registration]) -> Plan:
    """The engine's ``Plan`` rebuilt from the stored one (for ``replan``)."""
    people = tuple(participant(regs[i]) for i in stored.participant_ids if i in regs)
    rounds = tuple(rounds_of(stored))
    return Plan(
        rounds=rounds,
        quality=evaluate(rounds, people),
        participants=people,
        mode=stored.mode,
        group_size=stored.group_size,
        seed=stored.seed,
        min_level_gap=stored.min_level_gap,
        history=frozenset(),
        sides={int(k): v for k, v in (stored.sides or {}).items()},
        method=stored.method,
    )


def _serialise(event: Event) -> None:
    """Take the event's row lock, so planning, re-planning, marking people gone and
    starting a round never interleave (each then re-reads the plan under the lock)."""
    lock_row(Event, event.id)
    db.session.expire_all()


def _require_plan(event: Event) -> RotationPlan:
    _check_event(event)
    stored = plan_for(event)
    if stored is None:
        raise RotationError(
            "No rotations have been planned for this mixer yet.",
            field="rounds",
            suggestion="Plan the rounds first.",
            status=404,
        )
    return stored


def replan_remaining(event: Event) -> RotationPlan:
    """Re-plan the rounds not yet held for the people present; held rounds stay."""
    _serialise(event)
    stored = _require_plan(event)
    from_round = stored.current_round + 1
    if from_round > stored.rounds:
        raise RotationError(
            f"All {stored.rounds} rounds have been held; there is nothing left to "
            "re-plan.",
            field="rounds",
            suggestion="Plan a new mixer event for more rounds.",
            status=409,
        )
    people, checked_in = attendance(event, set(stored.left_ids or ()))
    if len(people) < 2:
        raise _nobody(event, checked_in)
    regs = names_of(stored)
    regs.update({r.id: r for r in people})
    try:
        plan = replan(
            _engine_plan(stored, regs),
            [participant(r) for r in people],
            from_round=from_round,
        )
    except PlanError as exc:
        raise RotationError.from_plan_error(exc) from exc
    _store(stored, plan, from_round=from_round)
    return stored


def mark_left(event: Event, registration_ids: list[int], gone: bool = True) -> None:
    """Mark people as gone (or back): re-plans leave out those who are gone."""
    _serialise(event)
    stored = _require_plan(event)
    known = set(
        db.session.scalars(
            select(Registration.id).where(
                Registration.event_id == event.id,
                Registration.id.in_(registration_ids),
            )
        )
    )
    if unknown := sorted(set(registration_ids) - known):
        raise RotationError(
            f"Registration {unknown[0]} is not part of this event.",
            field="attendees",
            suggestion="Choose people registered for this mixer.",
        )
    left = set(stored.left_ids or ())
    left = left | known if gone else left - known
    stored.left_ids = sorted(left)
    db.session.flush()


# ---------------------------------------------------------------------------
# Running the room


def start_next_round(event: Event, expected: int | None = None) -> RotationPlan:
    """Start the next round: its tables become connections, its clock starts.

    ``expected`` is the round the caller saw as current; if another click moved on
    already, nothing happens (a double click never skips a round).
    """
    _serialise(event)
    stored = _require_plan(event)
    if expected is not None and expected != stored.current_round:
        return stored
    number = stored.current_round + 1
    if number > stored.rounds:
        raise RotationError(
            f"All {stored.rounds} rounds have been held.",
            field="rounds",
            suggestion="The mixer is over; thank everyone for coming.",
            status=409,
        )
    # Only one request moves a plan from round n to n + 1.
    moved = db.session.execute(
        update(RotationPlan)
        .where(
            RotationPlan.id == stored.id,
            RotationPlan.current_round == stored.current_round,
        )
        .values(current_round=number, round_started_at=clock.now())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(stored)
    if not moved:
        return stored
    for members in tables_of(stored, number).values():
        for a, b in combinations(members, 2):
            connect(event.id, a, b, "rotation", round_number=number)
    db.session.flush()
    return stored


def tables_of(stored: RotationPlan, round_number: int) -> dict[int, list[int]]:
    """Table number → registration ids seated there in one round."""
    tables: dict[int, list[int]] = defaultdict(list)
    rows = db.session.execute(
        select(RotationSeat.table_number, RotationSeat.registration_id)
        .where(
            RotationSeat.plan_id == stored.id,
            RotationSeat.round_number == round_number,
            RotationSeat.table_number.is_not(None),
        )
        .order_by(RotationSeat.table_number, RotationSeat.id)
    )
    for table, reg_id in rows:
        tables[table].append(reg_id)
    return dict(tables)


def _person(reg: Registration) -> dict[str, Any]:
    return {
        "id": reg.id,
        "name": reg.name,
        "department": reg.department,
        "role": reg.role,
        "offers": list(reg.offers or ()),
        "seeks": list(reg.seeks or ()),
    }


def current_view_for(registration: Registration) -> dict[str, Any]:
    """What one attendee's phone shows now: round, table, tablemates, notes.

    ``state`` is ``no_plan``, ``not_started``, ``not_seated`` (not in the plan, or
    the round was planned without them), ``bye``, ``seated`` or ``finished`` (the
    last round's time is up).
    """
    event = registration.event
    stored = plan_for(event)
    view: dict[str, Any] = {
        "state": "no_plan",
        "round": 0,
        "rounds": event.rounds,
        "table": None,
        "with": [],
        "ends_at": None,
        "next": None,
    }
    if stored is None:
        return view
    number = stored.current_round
    ends_at = round_ends_at(stored)
    view.update(rounds=stored.rounds, round=number, ends_at=ends_at)
    if number == 0:
        view["state"] = "not_started"
        view["next"] = _seat_in(stored, registration.id, 1)
        return view
    if number == stored.rounds and ends_at is not None and ends_at <= clock.now():
        view["state"] = "finished"
        return view
    table = _seat_in(stored, registration.id, number)
    if table is False:
        view["state"] = "not_seated"
        return view
    if table is None:
        view["state"] = "bye"
        return view
    others = db.session.scalars(
        select(Registration)
        .join(RotationSeat, RotationSeat.registration_id == Registration.id)
        .where(
            RotationSeat.plan_id == stored.id,
            RotationSeat.round_number == number,
            RotationSeat.table_number == table,
            Registration.id != registration.id,
        )
        .order_by(Registration.name, Registration.id)
    )
    view.update(
        {"state": "seated", "table": table, "with": [_person(r) for r in others]}
    )
    return view


def _seat_in(stored: RotationPlan, reg_id: int, number: int) -> int | None | bool:
    """The person's table in a round; None when sitting out; False when not seated."""
    row = db.session.execute(
        select(RotationSeat.table_number).where(
            RotationSeat.plan_id == stored.id,
            RotationSeat.round_number == number,
            RotationSeat.registration_id == reg_id,
        )
    ).first()
    return False if row is None else row[0]


def note_for_partner(registration: Registration, partner_id: int, body: str) -> None:
    """Save the attendee's "we talked" note about someone they met at this event."""
    a_id, b_id = sorted((registration.id, partner_id))
    connection = db.session.scalar(
        select(Connection).where(
            Connection.event_id == registration.event_id,
            Connection.a_id == a_id,
            Connection.b_id == b_id,
        )
    )
    if connection is None:
        raise RotationError(
            "You have not met this person at this event yet.",
            field="partner",
            suggestion="Write a note once your round together has started.",
        )
    save_note(connection, registration.id, body)


def notes_of(registration: Registration, partner_ids: list[int]) -> dict[int, str]:
    """The attendee's own notes about each of ``partner_ids`` (missing: none yet)."""
    if not partner_ids:
        return {}
    rows = db.session.execute(
        select(Connection.a_id, Connection.b_id, ConnectionNote.body)
        .join(ConnectionNote, ConnectionNote.connection_id == Connection.id)
        .where(
            Connection.event_id == registration.event_id,
            ConnectionNote.author_id == registration.id,
        )
    )
    notes = {}
    for a_id, b_id, body in rows:
        other = b_id if a_id == registration.id else a_id
        if other in partner_ids:
            notes[other] = body
    return notes
