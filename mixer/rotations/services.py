"""Planning a Mentor Mixer's rotations: plan, re-plan, mark people gone, read the plan.

The engine (``mixer.rotations.planner``) knows nothing of the database or the web;
these functions turn registrations into its ``Participant``s, store the ``Plan`` it
returns as ``RotationSeat`` rows, and turn its ``PlanError`` into a
``RotationError`` (in one place, :func:`_engine_refusals`). Who is planned for:
the people checked in; before anybody has checked in (planning ahead of the doors
opening), everyone registered. People the organizer marked as gone are left out of
re-plans. Running the room (starting rounds, the attendees' phones) is
``mixer.rotations.running``. Services only ``flush()``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import delete, func, insert, null, select

from mixer.concurrency import lock_row
from mixer.errors import DomainError
from mixer.events.models import Event, EventStatus, Registration
from mixer.events.queries import memberships_of
from mixer.extensions import db
from mixer.orgs.models import Membership
from mixer.rotations import memory
from mixer.rotations.models import (
    DEFAULT_LOOKBACK_MONTHS,
    LOCATION_PREFERENCES,
    PLAN_MODES,
    PairingMode,
    RotationPlan,
    RotationSeat,
)
from mixer.rotations.planner import (
    GROUP_SIZES,
    Participant,
    Plan,
    PlanError,
    Round,
    Table,
    evaluate,
    plan_rotations,
    replan,
)

# The engine's names for what the organizer knows as the people present.
ENGINE_FIELDS = {"participants": "attendees", "present": "attendees"}


class RotationError(DomainError):
    """A request the rotations cannot meet: ``field`` names the input at fault and
    the message ends with what would work instead.

    400 for settings out of range, 404 before any plan exists, 409 when the event
    or the room refuses (not a mixer, cancelled, too few people, more rounds than
    the room allows, levels missing in school mode, rounds already held).
    """

    # Too many rounds: the most that can be planned (from the engine's refusal).
    maximum: int | None = None


@contextmanager
def _engine_refusals() -> Iterator[None]:
    """The engine's ``PlanError`` as a ``RotationError``: the planner is a pure
    engine that knows nothing of the web, and this is where the two meet."""
    try:
        yield
    except PlanError as exc:
        error = RotationError(
            engine_refusal_text(exc),
            field=ENGINE_FIELDS.get(exc.field, exc.field),
            status=409,
        )
        error.maximum = exc.maximum
        raise error from exc


def engine_refusal_text(exc: PlanError) -> str:
    """The engine's refusal in the current language: the ones an organizer can meet
    on the rotations pages (``PlanError.key``) are in the catalogue; the others (a
    caller's programming errors) stay the engine's English."""
    p = exc.params
    if exc.key == "rounds_range":
        return _(
            "%(rounds)s rounds can't be planned: a mixer has 1 to %(most)s rounds. "
            "Plan between 1 and %(most)s rounds (6 is typical).",
            rounds=p["rounds"],
            most=p["most"],
        )
    if exc.key == "too_few_people":
        return ngettext(
            "A mixer needs at least 2 people; %(num)d is here. Check people in (or "
            "plan from the registrations) until at least 2 are here.",
            "A mixer needs at least 2 people; %(num)d are here. Check people in (or "
            "plan from the registrations) until at least 2 are here.",
            p["count"],
        )
    if exc.key == "no_mentor":
        return _(
            "Nobody here can mentor, so no table can have a mentor. Mark someone as "
            "mentor or either, or use peer mode."
        )
    if exc.key == "no_mentee":
        return _(
            "Nobody here is a mentee, so no table can have one. Mark someone as "
            "mentee or either, or use peer mode."
        )
    if exc.key == "gap_needs_mentors":
        return _(
            "A minimum level gap only applies when mentors meet mentees. Use mode "
            "mentor_mentee, or leave min_level_gap out."
        )
    if exc.key == "levels_missing":
        return ngettext(
            "School mode compares levels, but %(ids)s has no level. Give everyone a "
            "level (year), or leave min_level_gap out.",
            "School mode compares levels, but %(ids)s have no level. Give everyone a "
            "level (year), or leave min_level_gap out.",
            len(p["ids"]),
            ids=_ids_text(p["ids"]),
        )
    if exc.key == "gap_strands":
        message = ngettext(
            "With a gap of %(num)d level, nobody can be paired with %(ids)s.",
            "With a gap of %(num)d levels, nobody can be paired with %(ids)s.",
            p["gap"],
            ids=_ids_text(p["ids"]),
        )
        hint = (
            _("A gap of %(works)s or less gives everyone a partner.", works=p["works"])
            if p["works"] >= 0
            else _("Leave min_level_gap out: the mentor side is not above the mentees.")
        )
        return f"{message} {hint}"
    if exc.key in ("at_most", "none_more", "too_many_rounds"):
        return f"{_too_many_rounds(exc.key, p)} {_ways_out(p)}".strip()
    return f"{exc.message} {exc.suggestion}".strip()


def _too_many_rounds(key: str, p: dict[str, Any]) -> str:
    if key == "at_most":
        return _("A mixer has at most %(most)s rounds.", most=p["most"])
    if key == "none_more":
        return _(
            "Not even one more round can be planned without someone meeting a "
            "person they have met already."
        )
    return ngettext(
        "%(num)d round can't be planned without someone meeting the same person "
        "twice: with these %(people)s people the most is %(maximum)s.",
        "%(num)d rounds can't be planned without someone meeting the same person "
        "twice: with these %(people)s people the most is %(maximum)s.",
        p["total"],
        people=p["people"],
        maximum=p["maximum"],
    )


def _ways_out(p: dict[str, Any]) -> str:
    """What would work instead of too many rounds: "Plan 6 rounds or fewer; or …"."""
    # TRANSLATORS: the ways out below are joined by "; or" into one sentence; each
    # starts in lower case in English (the first one gets a capital letter).
    words = {
        "fewer_rounds": lambda: ngettext(
            "plan %(num)d round or fewer", "plan %(num)d rounds or fewer", p["maximum"]
        ),
        "pairs": lambda: _("use group size 2 (pairs allow more rounds)"),
        "lower_gap": lambda: _("lower min_level_gap"),
        "smaller_side": lambda: _("add people to the smaller side"),
        "wait": lambda: _("wait for more people to arrive"),
    }
    ways = [words[w]() for w in p["hints"]]
    if not ways:
        return ""
    text = ways[0]
    for way in ways[1:]:
        # TRANSLATORS: one more way out added to the ones before.
        text = _("%(ways)s; or %(way)s", ways=text, way=way)
    return text[0].upper() + text[1:] + "."


def _ids_text(ids: list[int], limit: int = 10) -> str:
    """Registration ids as the engine names them ("3, 8 and 2 more")."""
    shown = ", ".join(str(i) for i in ids[:limit])
    more = len(ids) - limit
    if more <= 0:
        return shown
    return ngettext(
        "%(ids)s and %(num)d more", "%(ids)s and %(num)d more", more, ids=shown
    )


MAX_MINUTES = 120  # minutes per round
MAX_SEED = 2**31 - 1  # stored in an INTEGER column
MAX_LEVEL_GAP = 80  # levels run from 0 to 80


@dataclass(frozen=True)
class Settings:
    """What the organizer chose for a plan."""

    rounds: int
    minutes: int
    mode: str = PairingMode.MENTOR_MENTEE
    group_size: int = 2
    seed: int = 0
    min_level_gap: int | None = None
    # Months earlier meetings count for (0: not at all; None: any time).
    lookback_months: int | None = DEFAULT_LOOKBACK_MONTHS
    location_preference: str = "any"


# ---------------------------------------------------------------------------
# Reading


def plan_for(event: Event) -> RotationPlan | None:
    """The event's stored plan, if one was made."""
    return db.session.scalar(
        select(RotationPlan).where(RotationPlan.event_id == event.id)
    )


def rounds_of(plan: RotationPlan, only: int | None = None) -> list[Round]:
    """The stored seats as the engine's rounds (tables and byes, in order);
    ``only``: just that round."""
    tables: dict[int, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    byes: dict[int, list[int]] = defaultdict(list)
    query = select(
        RotationSeat.round_number,
        RotationSeat.table_number,
        RotationSeat.registration_id,
    ).where(RotationSeat.plan_id == plan.id)
    if only is not None:
        query = query.where(RotationSeat.round_number == only)
    rows = db.session.execute(
        query.order_by(
            RotationSeat.round_number, RotationSeat.table_number, RotationSeat.id
        )
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
        for r in (range(1, plan.rounds + 1) if only is None else [only])
    ]


def plan_data(plan: RotationPlan, only_round: int | None = None) -> dict[str, Any]:
    """The stored plan in the API's shape: settings, progress, rounds and quality
    (``only_round``: that round's tables alone, read alone)."""
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
            for r in rounds_of(plan, only_round)
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
                "earlier",
                "no_shared_language",
            )
        },
        "settings": {
            "rounds": plan.rounds,
            "minutes": plan.minutes,
            "mode": plan.mode,
            "group_size": plan.group_size,
            "seed": plan.seed,
            "min_level_gap": plan.min_level_gap,
            "lookback_months": plan.lookback_months,
            "location_preference": plan.location_preference,
        },
        "method": plan.method,
        "current_round": plan.current_round,
        "round_started_at": plan.round_started_at,
        "round_ends_at": plan.round_ends_at,
    }


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


def names(ids: set[int]) -> dict[int, Any]:
    """Name and department of these registrations by id (one query of two
    columns, not whole registrations: a 1,500-person round reads in milliseconds)."""
    if not ids:
        return {}
    rows = db.session.execute(
        select(Registration.id, Registration.name, Registration.department).where(
            Registration.id.in_(ids)
        )
    )
    return {row.id: row for row in rows}


def headcount(event: Event) -> tuple[int, bool]:
    """How many :func:`attendance` would plan for, and whether they are the
    checked-in (two counts, no rows)."""

    def count(*where: Any) -> int:
        return (
            db.session.scalar(
                select(func.count(Registration.id)).where(
                    Registration.event_id == event.id, *where
                )
            )
            or 0
        )

    checked_in = count(Registration.is_checked_in)
    return (checked_in, True) if checked_in else (count(Registration.holds_seat), False)


def find_present(event: Event, text: str) -> list[Registration]:
    """People planned for whose name or e-mail is ``text`` (any case), else whose
    name contains it: for "who left" in rooms too big for a list."""
    wanted = " ".join(text.split()).casefold()
    if not wanted:
        return []
    people = attendance(event)[0]
    exact = [
        r
        for r in people
        if wanted in (r.email.casefold(), " ".join(r.name.split()).casefold())
    ]
    return exact or [r for r in people if wanted in r.name.casefold()]


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
            _(
                "“%(title)s” is a %(kind)s, not a Mentor Mixer; only Mentor Mixers "
                "have rotations. Plan rotations for a Mentor Mixer event instead.",
                title=event.title,
                kind=event.kind_label,
            ),
            field="event",
            status=409,
        )
    if event.status == EventStatus.CANCELLED:
        raise RotationError(
            _("This event is cancelled. Plan rotations for an event that takes place."),
            field="event",
            status=409,
        )


def _check_settings(settings: Settings) -> None:
    # The engine checks rounds, mode, group size and level gap with suggestions;
    # the minutes are ours.
    if (
        isinstance(settings.minutes, bool)
        or not isinstance(settings.minutes, int)
        or not 1 <= settings.minutes <= MAX_MINUTES
    ):
        raise RotationError(
            _(
                "A round of %(minutes)s minutes is not possible. Use 1 to %(most)s "
                "minutes per round (5 to 10 is usual).",
                minutes=settings.minutes,
                most=MAX_MINUTES,
            ),
            field="minutes",
        )
    if settings.mode not in PLAN_MODES:
        raise RotationError(
            _(
                "There is no pairing mode %(mode)s. Use one of: %(choices)s.",
                mode=repr(settings.mode),
                choices=", ".join(PairingMode),
            ),
            field="mode",
        )
    if settings.group_size not in GROUP_SIZES:
        raise RotationError(
            _(
                "Tables of %(size)s are not supported. Use 2 (pairs) or 3 (small "
                "groups).",
                size=settings.group_size,
            ),
            field="group_size",
        )
    months = settings.lookback_months
    if months is not None and (
        isinstance(months, bool)
        or not isinstance(months, int)
        or not 0 <= months <= memory.MAX_LOOKBACK_MONTHS
    ):
        raise RotationError(
            _(
                "A look-back of %(months)s months is not possible. Use 0 (don't look "
                "back) to %(most)s months, or leave it empty for any time.",
                months=repr(months),
                most=memory.MAX_LOOKBACK_MONTHS,
            ),
            field="lookback_months",
        )
    if settings.location_preference not in LOCATION_PREFERENCES:
        raise RotationError(
            _(
                "There is no location preference %(choice)s. Use one of: %(choices)s.",
                choice=repr(settings.location_preference),
                choices=", ".join(LOCATION_PREFERENCES),
            ),
            field="location_preference",
        )


def participant(reg: Registration, member: Membership | None = None) -> Participant:
    """A registration as the planner sees it; the membership adds languages and
    location (guests have none)."""
    return Participant(
        id=reg.id,
        role=reg.role or "either",
        department=(reg.department or None),
        offers=frozenset(t.strip().lower() for t in reg.offers or () if t.strip()),
        seeks=frozenset(t.strip().lower() for t in reg.seeks or () if t.strip()),
        level=reg.level,
        languages=frozenset(member.languages or ()) if member else frozenset(),
        location=(member.location or None) if member else None,
    )


def participants(event: Event, regs: list[Registration]) -> list[Participant]:
    """The registrations as the planner sees them (one query for memberships)."""
    members = memberships_of(event.org_id, regs)
    return [participant(r, members.get(r.id)) for r in regs]


def attendance(
    event: Event, left: set[int] | frozenset[int] = frozenset()
) -> tuple[list[Registration], bool]:
    """Who to plan for: the checked-in, or every registered person before doors open.

    Returns the registrations (in id order) and whether they are the checked-in.
    """
    registered = list(
        db.session.scalars(
            select(Registration)
            .where(Registration.event_id == event.id, Registration.holds_seat)
            .order_by(Registration.id)
        )
    )
    checked_in = [r for r in registered if r.is_checked_in]
    people = checked_in or registered
    return [r for r in people if r.id not in left], bool(checked_in)


def _nobody(checked_in: bool) -> RotationError:
    return RotationError(
        _(
            "Nobody is checked in or registered for this mixer yet. Register or "
            "check in at least two people, then plan the rounds."
        )
        if not checked_in
        else _(
            "Everybody checked in has been marked as gone. Register or check in "
            "at least two people, then plan the rounds."
        ),
        field="attendees",
        status=409,
    )


def create_plan(event: Event, settings: Settings) -> RotationPlan:
    """Plan every round for the people present, replacing any plan not yet started."""
    _check_event(event)
    _check_settings(settings)
    _lock(event)
    existing = plan_for(event)
    if existing is not None and existing.started:
        raise RotationError(
            _(
                "Round %(round)s of this mixer has already been held, so the plan "
                "cannot be made again from scratch. Re-plan the remaining rounds "
                "instead.",
                round=existing.current_round,
            ),
            field="rounds",
            status=409,
        )
    people, checked_in = attendance(event)
    if len(people) < 2:
        raise _nobody(checked_in)
    with _engine_refusals():
        plan = plan_rotations(
            participants(event, people),
            settings.rounds,
            mode=settings.mode,
            group_size=settings.group_size,
            seed=settings.seed,
            min_level_gap=settings.min_level_gap,
            ties=memory.ties_for(event, people, settings.lookback_months),
            location_preference=settings.location_preference,
        )
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
        # null(): a plain None would take the column's default (12 months).
        lookback_months=(
            null() if settings.lookback_months is None else settings.lookback_months
        ),
        location_preference=settings.location_preference,
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
    rows: list[dict[str, int | None]] = []
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


def _engine_plan(
    event: Event, stored: RotationPlan, regs: dict[int, Registration]
) -> Plan:
    """The engine's ``Plan`` rebuilt from the stored one (for ``replan``)."""
    known = [regs[i] for i in stored.participant_ids if i in regs]
    people = tuple(participants(event, known))
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
        location_preference=stored.location_preference,
    )


def _lock(event: Event) -> None:
    """Take the event's row lock, so planning, re-planning, marking people gone and
    starting a round never interleave (each then re-reads the plan under the lock)."""
    lock_row(Event, event.id, expire_all=True)


def locked_plan(event: Event) -> RotationPlan:
    """The event's plan, read afresh under the event's lock (404 when none)."""
    _lock(event)
    _check_event(event)
    stored = plan_for(event)
    if stored is None:
        raise RotationError(
            _(
                "No rotations have been planned for this mixer yet. "
                "Plan the rounds first."
            ),
            field="rounds",
            status=404,
        )
    return stored


def replan_remaining(event: Event) -> RotationPlan:
    """Re-plan the rounds not yet held for the people present; held rounds stay."""
    stored = locked_plan(event)
    if stored.over:
        raise RotationError(
            _(
                "All %(rounds)s rounds have been held; there is nothing left to "
                "re-plan. Plan a new mixer event for more rounds.",
                rounds=stored.rounds,
            ),
            field="rounds",
            status=409,
        )
    from_round = stored.current_round + 1
    people, checked_in = attendance(event, set(stored.left_ids or ()))
    if len(people) < 2:
        raise _nobody(checked_in)
    regs = names_of(stored)
    regs.update({r.id: r for r in people})
    with _engine_refusals():
        plan = replan(
            _engine_plan(event, stored, regs),
            participants(event, people),
            from_round=from_round,
            ties=memory.ties_for(event, people, stored.lookback_months),
        )
    _store(stored, plan, from_round=from_round)
    return stored


def mark_left(event: Event, registration_ids: list[int], gone: bool = True) -> None:
    """Mark people as gone (or back): re-plans leave out those who are gone."""
    stored = locked_plan(event)
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
            _(
                "Registration %(id)s is not part of this event. "
                "Choose people registered for this mixer.",
                id=unknown[0],
            ),
            field="attendees",
        )
    left = set(stored.left_ids or ())
    left = left | known if gone else left - known
    stored.left_ids = sorted(left)
    db.session.flush()
