"""The life of a pair, as plain functions that only ``flush()``: its start
(``create_pair``), pause, resume and close, a new rhythm, and the end of its term
(feedback, and renewal when both ask for it).

A pair starts with meeting #1 at a proposed first slot and one ``pairs.tick``
job (``mixer.pairs.schedule``), and both people are introduced. Every change of
the series raises the calendar invite's SEQUENCE and tells both.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from mixer import clock, signals, tokens
from mixer.accounts.models import User
from mixer.concurrency import insert_once
from mixer.events.models import Event, EventStatus
from mixer.extensions import db
from mixer.freebusy import busy as freebusy
from mixer.orgs.access import membership_for
from mixer.pairs import PairError, links, notifications
from mixer.pairs.models import (
    PAIR_KINDS,
    PAIR_SOURCES,
    MeetingStatus,
    Pair,
    PairFeedback,
    PairKind,
    PairMeeting,
    PairSource,
    PairStatus,
    locked,
    open_key,
)
from mixer.pairs.schedule import (
    REMIND_BEFORE,
    SLOT_LEAD,
    later,
    next_slot,
    plan,
    withdraw,
)

if TYPE_CHECKING:
    from mixer.orgs.models import Organization


# ---------------------------------------------------------------------------
# Starting a pair


def create_pair(
    org: Organization,
    first: User,
    second: User,
    *,
    kind: str,
    mentor: User | None = None,
    source: str = PairSource.EVENT,
    event: Event | None = None,
    topic: str | None = None,
    ask_id: int | None = None,
    renewed_from: Pair | None = None,
) -> Pair | None:
    """Create an open pair of two members and queue both introductions.

    kind "mentoring" needs mentor (one of the two); "peer" needs mentor=None.
    Returns None (and queues nothing) when the two already have an open pair in org.
    Race-safe: the unique ``Pair.open_key`` decides, through
    ``mixer.concurrency.insert_once`` (``INSERT … ON CONFLICT DO NOTHING``), which
    neither aborts the caller's transaction nor commits early on SQLite. It only
    flushes. A renewal (``renewed_from``) carries over the old pair's rhythm.
    """
    _check(org, first, second, kind, mentor, source, event)
    key = open_key(org.id, first.id, second.id)
    if db.session.scalar(select(Pair.id).where(Pair.open_key == key)) is not None:
        return None
    cfg = current_app.config
    now = clock.now()
    low, high = sorted((first, second), key=lambda u: u.id)
    zone = zone_for(org, event, renewed_from)
    # Free for both when both gave their calendar's free/busy (docs/freebusy.md).
    minutes = renewed_from.meeting_minutes if renewed_from else None
    first_slot = freebusy.first_slot(
        now,
        zone,
        (low.id, high.id),
        minutes or int(cfg["PAIR_CHECKIN_MINUTES"]),
        SLOT_LEAD,
    ) or next_slot(now, zone)
    values = {
        "org_id": org.id,
        "kind": PairKind(kind),
        "a_id": low.id,
        "b_id": high.id,
        "mentor_id": mentor.id if mentor is not None else None,
        "status": PairStatus.ACTIVE,
        "open_key": key,
        "source": PairSource(source),
        "event_id": event.id if event is not None else None,
        "ask_id": ask_id,
        "renewed_from_id": renewed_from.id if renewed_from is not None else None,
        "topic": (topic or "").strip()[:200] or None,
        "cadence_days": (
            renewed_from.cadence_days if renewed_from else int(cfg["PAIR_CADENCE_DAYS"])
        ),
        "meeting_minutes": (
            renewed_from.meeting_minutes
            if renewed_from
            else int(cfg["PAIR_CHECKIN_MINUTES"])
        ),
        "first_slot_at": first_slot,
        "timezone": zone,
        "started_at": now,
        "term_ends_at": now + timedelta(days=int(cfg["PAIR_TERM_DAYS"])),
        "ics_uid": f"{uuid.uuid4()}@{notifications.calendar_host()}",
        "ics_sequence": 0,
        "missed_in_row": 0,
        "created_at": now,
    }
    pair_id = insert_once(Pair, values, unique=("open_key",))
    if pair_id is None:  # the other side of a race got there first
        return None
    pair = db.session.get_one(Pair, pair_id)
    db.session.add(PairMeeting(pair=pair, number=1, due_at=first_slot))
    db.session.flush()
    plan(pair)
    for user in pair.people:
        notifications.send_intro(pair, user, first_slot)
    signals.pair_created.send(pair)
    return pair


def _check(
    org: Organization,
    first: User,
    second: User,
    kind: str,
    mentor: User | None,
    source: str,
    event: Event | None,
) -> None:
    """Refuse a pair that makes no sense (ValueError: a caller's mistake)."""
    if kind not in PAIR_KINDS:
        raise ValueError(f"kind must be one of {', '.join(PAIR_KINDS)}")
    if source not in PAIR_SOURCES:
        raise ValueError(f"source must be one of {', '.join(PAIR_SOURCES)}")
    if first.id == second.id:
        raise ValueError("a pair needs two different people")
    if kind == PairKind.MENTORING and (
        mentor is None or mentor.id not in (first.id, second.id)
    ):
        raise ValueError('kind "mentoring" needs mentor, one of the two')
    if kind == PairKind.PEER and mentor is not None:
        raise ValueError('kind "peer" takes no mentor')
    if event is not None and event.org_id != org.id:
        raise ValueError("the event belongs to another organization")
    for person in (first, second):
        if membership_for(person, org.id) is None:
            raise ValueError(f"{person.email} is not a member of {org.slug}")


def zone_for(org: Organization, event: Event | None, renewed_from: Pair | None) -> str:
    """A new pair's zone: its event's, the renewed pair's, else the zone of the
    organization's latest event (organizations have no zone of their own), else UTC."""
    if event is not None:
        return event.timezone
    if renewed_from is not None:
        return renewed_from.timezone
    latest = db.session.scalar(
        select(Event.timezone)
        .where(Event.org_id == org.id, Event.status != EventStatus.CANCELLED)
        .order_by(Event.starts_at.desc(), Event.id.desc())
        .limit(1)
    )
    return latest or "UTC"


# ---------------------------------------------------------------------------
# Pause, resume, close


def pause(pair: Pair, by: User | None) -> bool:
    """No meetings until resumed; the calendar series is withdrawn. Changed?"""
    pair = locked(pair)
    if pair.status != PairStatus.ACTIVE:
        return False
    withdraw(pair, PairStatus.PAUSED, by)
    return True


def resume(pair: Pair, by: User | None) -> bool:
    """Back to active: a new meeting at the next proposed slot. Changed?"""
    pair = locked(pair)
    if pair.status != PairStatus.PAUSED:
        return False
    if clock.now() >= pair.term_ends_at:
        raise PairError(_("The term is over; the pair ends now."), status=409)
    pair.update_state(PairStatus.ACTIVE)
    pair.ics_sequence += 1
    slot = next_slot(clock.now(), pair.timezone)
    invite = None
    if slot < pair.term_ends_at:
        db.session.add(PairMeeting(pair=pair, number=pair.next_number, due_at=slot))
        invite = notifications.invite(pair, slot)
    db.session.flush()
    notifications.notify_status(pair, by, "resumed", invite)
    plan(pair)
    return True


def close(pair: Pair, by: User | None) -> bool:
    """Stop the pair for good (before its term ends). Changed?"""
    pair = locked(pair)
    if not pair.is_open:
        return False
    withdraw(pair, PairStatus.CLOSED, by)
    return True


def close_pairs_of(org_id: int, user_id: int) -> int:
    """Close a person's open pairs in an organization they left; how many.

    The ``member_leaving`` signal calls it (``mixer.pairs.listeners``); the tick
    does the same on its own later, so a pair never outlives a membership for long.
    """
    ids = db.session.scalars(
        select(Pair.id).where(
            Pair.org_id == org_id,
            Pair.open_key.is_not(None),
            (Pair.a_id == user_id) | (Pair.b_id == user_id),
        )
    ).all()
    return sum(close(db.session.get_one(Pair, pid), None) for pid in ids)


# ---------------------------------------------------------------------------
# A new rhythm


def change_cadence(pair: Pair, by: User, days: int | None, minutes: int | None) -> bool:
    """Either member changes the rhythm; both get the updated invite. Changed?

    The next meeting, unless it is already due or its date was agreed by
    "moved", moves to one new cadence after the last settled meeting (at least a
    day's notice; the first meeting keeps its proposed slot).
    """
    if days is None or minutes is None or not (1 <= days <= 92 and 5 <= minutes <= 120):
        raise PairError(
            _("Every 1 to 92 days, 5 to 120 minutes."), field="cadence_days"
        )
    pair = locked(pair)
    if not pair.is_open:
        raise PairError(
            _("This pair is over; its rhythm cannot change."),
            field="cadence_days",
            status=409,
        )
    if (pair.cadence_days, pair.meeting_minutes) == (days, minutes):
        return False
    pair.cadence_days, pair.meeting_minutes = days, minutes
    pair.ics_sequence += 1
    meeting = pair.open_meeting if pair.status == PairStatus.ACTIVE else None
    # A meeting already due awaits its answers as asked; the next one follows
    # the new rhythm.
    if (
        meeting is not None
        and meeting.status == MeetingStatus.SCHEDULED
        and meeting.due_at > clock.now()
    ):
        settled = [m for m in pair.meetings if not m.is_open]
        if settled:
            due = later(pair, settled[-1].due_at, days)
            if due < clock.now() + REMIND_BEFORE:
                due = next_slot(clock.now(), pair.timezone)
            if due >= pair.term_ends_at:
                pair.meetings.remove(meeting)
                meeting = None
            else:
                meeting.due_at = due
    db.session.flush()
    if pair.status == PairStatus.ACTIVE:
        invite = notifications.invite(pair, meeting.due_at) if meeting else None
        notifications.notify_status(pair, by, "updated", invite)
    plan(pair)
    return True


# ---------------------------------------------------------------------------
# End of term: feedback and renewal


def feedback_of(pair: Pair, user: User) -> PairFeedback | None:
    """This person's end-of-term feedback, if given."""
    return db.session.scalar(
        select(PairFeedback).where(
            PairFeedback.pair_id == pair.id, PairFeedback.user_id == user.id
        )
    )


def submit_feedback(
    pair: Pair,
    user: User,
    *,
    rating: int | None,
    helped: str | None,
    renew: bool,
    testimonial: str | None = None,
    consent: bool = False,
    link_data: dict[str, Any] | None = None,
) -> tuple[PairFeedback, Pair | None]:
    """Record (or update) one side's feedback; the renewed pair when both said yes.

    A testimonial is passed on only with consent, to be moderated before anyone
    sees it. One-sided renewal stays private: nobody is told.
    """
    pair = locked(pair)
    if pair.status != PairStatus.ENDED or not pair.has(user.id):
        raise PairError(_("Feedback is asked for when a pair's term ends."), status=409)
    if rating is not None and not 1 <= rating <= 5:
        raise PairError(_("Rate from 1 to 5."), field="rating")
    if link_data is not None:  # from the e-mailed link: it works once
        tokens.spend(links.FEEDBACK, link_data)
    feedback = feedback_of(pair, user)
    if feedback is None:
        feedback = PairFeedback(pair_id=pair.id, user_id=user.id)
        db.session.add(feedback)
    feedback.rating = rating
    feedback.helped = (helped or "").strip()[:4000] or None
    feedback.wants_renewal = bool(renew)
    db.session.flush()
    # Recognition files consented words as a testimonial to moderate.
    signals.pair_feedback_given.send(
        pair, user=user, testimonial=(testimonial or "").strip(), consent=consent
    )
    return feedback, _renew_if_both(pair)


def _renew_if_both(pair: Pair) -> Pair | None:
    """Start the next term when both sides asked for it (once)."""
    wants = db.session.scalars(
        select(PairFeedback.user_id).where(
            PairFeedback.pair_id == pair.id, PairFeedback.wants_renewal.is_(True)
        )
    ).all()
    if set(wants) != {pair.a_id, pair.b_id}:
        return None
    if db.session.scalar(select(Pair.id).where(Pair.renewed_from_id == pair.id)):
        return None
    mentor = db.session.get(User, pair.mentor_id) if pair.mentor_id else None
    return create_pair(
        pair.org,
        pair.a,
        pair.b,
        kind=pair.kind,
        mentor=mentor,
        source=PairSource.RENEWAL,
        event=pair.event,
        topic=pair.topic,
        ask_id=pair.ask_id,
        renewed_from=pair,
    )
