"""Running the room: starting rounds, the projector's tables, each attendee's phone.

Starting a round turns its tables into *connections* (``mixer.connections``): the
people seated together met. The plan itself is made in
``mixer.rotations.services``. Services only ``flush()``.
"""

from __future__ import annotations

from collections import defaultdict
from enum import StrEnum
from itertools import combinations
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select, update

from mixer import clock
from mixer.concurrency import changed_rows
from mixer.connections.models import ConnectionSource
from mixer.connections.services import connect, find, save_note
from mixer.events.models import Event, Registration
from mixer.extensions import db
from mixer.rotations.models import RotationPlan, RotationSeat
from mixer.rotations.services import RotationError, locked_plan, plan_for


class SeatState(StrEnum):
    """Where an attendee is in the room right now (their phone's view)."""

    NO_PLAN = "no_plan"
    NOT_STARTED = "not_started"  # shows the table of round 1
    NOT_SEATED = "not_seated"  # not in the plan, or this round was planned without them
    BYE = "bye"  # sitting this round out
    SEATED = "seated"
    FINISHED = "finished"  # the last round's time is up


def start_next_round(event: Event, expected: int | None = None) -> RotationPlan:
    """Start the next round: its tables become connections, its clock starts.

    ``expected`` is the round the caller saw as current; if another click moved on
    already, nothing happens (a double click never skips a round).
    """
    stored = locked_plan(event)
    if expected is not None and expected != stored.current_round:
        return stored
    if stored.over:
        raise RotationError(
            _(
                "All %(rounds)s rounds have been held. "
                "The mixer is over; thank everyone for coming.",
                rounds=stored.rounds,
            ),
            field="rounds",
            status=409,
        )
    number = stored.current_round + 1
    # Only one request moves a plan from round n to n + 1.
    moved = changed_rows(
        update(RotationPlan)
        .where(
            RotationPlan.id == stored.id,
            RotationPlan.current_round == stored.current_round,
        )
        .values(current_round=number, round_started_at=clock.now(), paused_at=None)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(stored)
    if not moved:
        return stored
    for members in tables_of(stored, number).values():
        for a, b in combinations(members, 2):
            connect(event.id, a, b, ConnectionSource.ROTATION, round_number=number)
    db.session.flush()
    return stored


def pause_round(event: Event) -> RotationPlan:
    """Stop the clock of the round being held (pausing twice changes nothing)."""
    stored = locked_plan(event)
    if stored.paused:
        return stored
    left = stored.seconds_left(clock.now())
    if not left:
        raise RotationError(
            _(
                "No round is running, so there is no clock to pause. "
                "Start round 1 first."
            )
            if left is None
            else _(
                "No round is running, so there is no clock to pause. "
                "Start the next round."
            ),
            field="round",
            status=409,
        )
    stored.paused_at = clock.now()
    db.session.flush()
    return stored


def resume_round(event: Event) -> RotationPlan:
    """Restart a paused round's clock where it stopped (a running one stays)."""
    stored = locked_plan(event)
    if stored.paused_at is not None and stored.round_started_at is not None:
        stored.round_started_at += clock.now() - stored.paused_at
        stored.paused_at = None
        db.session.flush()
    return stored


def room_state(stored: RotationPlan) -> dict[str, Any]:
    """Where the room is, for the projector and the organizer's controls.

    ``key`` changes whenever the projector must redraw its tables.
    """
    number = stored.current_round
    left = stored.seconds_left(clock.now())
    if not stored.started:
        phase = "not_started"
    elif stored.over and left == 0:
        phase = "finished"
    else:
        phase = "paused" if stored.paused else "running"
    if phase == "not_started":
        label = _("Round 1 starts soon")
    elif phase == "finished":
        label = _("That was the last round. Thank you!")
    else:
        label = _("Round %(round)s of %(rounds)s", round=number, rounds=stored.rounds)
    return {
        "key": f"{number}:{phase if phase == 'finished' else 'on'}",
        "label": label,
        "state": phase,
        "round": number,
        "rounds": stored.rounds,
        "minutes": stored.minutes,
        "paused": stored.paused,
        "seconds_left": left,
    }


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
        if table is not None:  # filtered out above; said again for the type checker
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

    ``state`` is a :class:`SeatState`.
    """
    event = registration.event
    stored = plan_for(event)
    view: dict[str, Any] = {
        "state": SeatState.NO_PLAN,
        "round": 0,
        "rounds": event.rounds,
        "table": None,
        "with": [],
        "ends_at": None,
        "paused": False,
        "seconds_left": None,
        "next": None,
    }
    if stored is None:
        return view
    number = stored.current_round
    ends_at = stored.round_ends_at
    view.update(
        rounds=stored.rounds,
        round=number,
        ends_at=ends_at,
        paused=stored.paused,
        seconds_left=stored.seconds_left(clock.now()),
    )
    if not stored.started:
        view["state"] = SeatState.NOT_STARTED
        view["next"] = _seat_in(stored, registration.id, 1)
        return view
    if number == stored.rounds and view["seconds_left"] == 0:
        view["state"] = SeatState.FINISHED
        return view
    table = _seat_in(stored, registration.id, number)
    if table is False:
        view["state"] = SeatState.NOT_SEATED
        return view
    if table is None:
        view["state"] = SeatState.BYE
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
        {
            "state": SeatState.SEATED,
            "table": table,
            "with": [_person(r) for r in others],
        }
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
    connection = find(registration.event_id, registration.id, partner_id)
    if connection is None:
        raise RotationError(
            _(
                "You have not met this person at this event yet. "
                "Write a note once your round together has started."
            ),
            field="partner",
        )
    save_note(connection, registration.id, body)
