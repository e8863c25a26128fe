"""The life of a mentoring pair, as plain functions that only ``flush()``.

A pair starts with ``create_pair`` (from the follow-up prompt, a mentor request or
a renewal), gets check-in #1 at a proposed first slot and one ``pairs.tick`` job.
The tick (``tick``) is the pair's clock: it sends the reminder the day before a
check-in, the "did you meet?" question when it is due, marks it missed when nobody
answered within the grace period, plans the next check-in, and ends the pair at
the end of its term. After each run it schedules itself again at the pair's next
moment (``plan``). Every e-mail carries a dedupe key, so running a tick twice, or
on two workers, never sends anything twice. ``docs/pairs.md`` tells the story.
"""

from __future__ import annotations

import secrets
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import case, func, select, type_coerce, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload, selectinload

from mixer import clock, signals, tokens
from mixer.accounts.models import User
from mixer.db_types import UTCDateTime
from mixer.errors import LinkError
from mixer.extensions import db
from mixer.formatting import localtime
from mixer.jobs import services as jobs
from mixer.jobs.models import Job
from mixer.mail.services import Attachment, queue_mail
from mixer.orgs.access import membership_for
from mixer.orgs.models import Membership
from mixer.pairs import ics
from mixer.pairs.models import (
    PAIR_KINDS,
    PAIR_SOURCES,
    Pair,
    PairCheckin,
    PairFeedback,
    open_key,
)
from mixer.urls import absolute_url

if TYPE_CHECKING:
    from mixer.events.models import Event
    from mixer.orgs.models import Organization

TICK = "pairs.tick"
PREFERENCE = "pair_checkins"
REMIND_BEFORE = timedelta(days=1)  # the reminder goes a day before a check-in
GRACE = timedelta(days=3)  # unanswered this long after it was due: missed
LATE = timedelta(days=1)  # a miss settled this long after its grace: worker was down
MOVE_BY = timedelta(days=3)  # "moved" proposes this much later by default
SLOT_LEAD = timedelta(days=2)  # a proposed slot is at least this far ahead
SLOT_TIME = time(12, 30)  # …on a weekday at lunchtime, in the pair's zone
NUDGE_AT = 2  # missed in a row → a gentle nudge
ASK_STANDING_AT = 3  # missed in a row → "pause or close?"
CHECKIN_LINK_AGE = timedelta(days=14)
STANDING_LINK_AGE = timedelta(days=21)
FEEDBACK_LINK_AGE = timedelta(days=30)
# Open check-ins wait for their date or an answer; the others are history.
OPEN_CHECKIN = ("scheduled", "moved")
ANSWERS = ("met", "moved", "skipped")
ANSWER_LABELS = {
    "met": "Yes, we met",
    "moved": "We moved it",
    "skipped": "We skipped this one",
}
CHECKIN_LABELS = {
    "scheduled": "Planned",
    "met": "Met",
    "moved": "Moved",
    "skipped": "Skipped",
    "missed": "Missed",
}
STANDING_CHOICES = ("keep", "pause", "close")
STANDING_LABELS = {
    "keep": "Keep going",
    "pause": "Pause for now",
    "close": "Close the pair",
}
ACTION_DONE = {
    "pause": "The pair is paused; no check-ins until one of you resumes it.",
    "resume": "Welcome back! The next check-in is planned and the invite is sent.",
    "close": "The pair is closed. Thank you for the time you gave each other.",
}
STATUS_SUBJECTS = {
    "paused": "Check-ins with {other} are paused",
    "resumed": "Check-ins with {other} start again",
    "closed": "Your pair with {other} is closed",
    "updated": "New rhythm for your check-ins with {other}",
    "moved": "Check-in with {other} moved to {day}",
}
# The first line of a status e-mail: (to the one who did it, to the other one).
STATUS_LINES = {
    "paused": (
        "You paused the check-ins with {other}.",
        "{by} paused your check-ins.",
    ),
    "resumed": (
        "You resumed the check-ins with {other}: {cadence}.",
        "{by} resumed your check-ins: {cadence}.",
    ),
    "closed": ("You closed the pair with {other}.", "{by} closed your pair."),
    "updated": (
        "You changed the rhythm of the check-ins with {other}: {cadence}.",
        "{by} changed the rhythm of your check-ins: {cadence}.",
    ),
    "moved": (
        "You moved the check-in with {other} to {when}.",
        "{by} moved your check-in to {when}.",
    ),
}
STATUS_LABELS = {
    "active": "Active",
    "paused": "Paused",
    "ended": "Term ended",
    "closed": "Closed",
}


class PairError(ValueError):
    """A request about a pair that cannot be honoured; the message is for people."""


# ---------------------------------------------------------------------------
# Small helpers


def stamp(when: datetime) -> str:
    """A compact UTC timestamp for dedupe keys and links."""
    return when.astimezone(UTC).strftime("%Y%m%dT%H%M%S")


def pair_timezone(pair: Pair) -> str:
    """The zone a pair's times are proposed and shown in (chosen at its start)."""
    return pair.timezone


def zone_for(org: Organization, event: Event | None, renewed_from: Pair | None) -> str:
    """A new pair's zone: its event's, the renewed pair's, else the zone of the
    organization's latest event (organizations have no zone of their own), else UTC."""
    if event is not None:
        return event.timezone
    if renewed_from is not None:
        return renewed_from.timezone
    from mixer.events.models import Event

    latest = db.session.scalar(
        select(Event.timezone)
        .where(Event.org_id == org.id, Event.status != "cancelled")
        .order_by(Event.starts_at.desc(), Event.id.desc())
        .limit(1)
    )
    return latest or "UTC"


def grace(pair: Pair) -> timedelta:
    """How long an unanswered check-in waits before it counts as missed.

    Never longer than the cadence, so a check-in is settled before the next is due.
    """
    return min(GRACE, timedelta(days=pair.cadence_days))


def later(pair: Pair, when: datetime, days: int) -> datetime:
    """``days`` later at the same wall-clock time in the pair's zone (DST-proof)."""
    local = when.astimezone(ZoneInfo(pair_timezone(pair)))
    return (local + timedelta(days=days)).astimezone(UTC)


def next_slot(after: datetime, tz: str) -> datetime:
    """The first weekday at least ``SLOT_LEAD`` after ``after``, at 12:30 in ``tz``."""
    zone = ZoneInfo(tz)
    day: date = (after + SLOT_LEAD).astimezone(zone).date()
    while True:
        slot = datetime.combine(day, SLOT_TIME, tzinfo=zone)
        if slot.weekday() < 5 and slot >= after + SLOT_LEAD:
            return slot.astimezone(UTC)
        day += timedelta(days=1)


def people(pair: Pair) -> tuple[User, User]:
    """The two people of a pair."""
    return pair.a, pair.b


def open_checkin(pair: Pair) -> PairCheckin | None:
    """The check-in that is planned or awaits an answer (at most one)."""
    for checkin in pair.checkins:
        if checkin.status in OPEN_CHECKIN:
            return checkin
    return None


def next_checkin_at(pair: Pair) -> datetime | None:
    """When the next check-in is due (None when paused, ended or none is left)."""
    if pair.status != "active":
        return None
    checkin = open_checkin(pair)
    return checkin.due_at if checkin else None


def streak(pair: Pair) -> int:
    """Check-ins held in a row, counting back from the latest settled one."""
    count = 0
    for checkin in reversed(pair.checkins):
        if checkin.status in OPEN_CHECKIN:
            continue
        if checkin.status != "met":
            break
        count += 1
    return count


def streak_text(pair: Pair) -> str:
    """ "3 held in a row", "2 missed in a row" or "—"."""
    if pair.missed_in_row:
        return f"{pair.missed_in_row} missed in a row"
    held = streak(pair)
    return f"{held} held in a row" if held else "—"


def held_count(pair: Pair) -> int:
    """Check-ins the pair held."""
    return sum(c.status == "met" for c in pair.checkins)


def missed_count(pair: Pair) -> int:
    """Check-ins missed or skipped (both count as missed)."""
    return sum(c.status in ("missed", "skipped") for c in pair.checkins)


def cadence_text(days: int, minutes: int) -> str:
    """ "a 5-minute check-in every 2 weeks"."""
    if days % 7 == 0:
        weeks = days // 7
        every = "week" if weeks == 1 else f"{weeks} weeks"
    else:
        every = "day" if days == 1 else f"{days} days"
    return f"a {minutes}-minute check-in every {every}"


def role_line(pair: Pair, user_id: int, other: User) -> str:
    """How the two relate, said to ``user_id``."""
    role = pair.role_of(user_id)
    if role == "mentor":
        return f"You mentor {other.name}."
    if role == "mentee":
        return f"{other.name} is your mentor."
    return f"You and {other.name} are peers who learn from each other."


def _lock(pair_id: int) -> Pair | None:
    """Load a pair afresh, locking its row on PostgreSQL for the transaction.

    Concurrent ticks and answers of one pair then take turns instead of both
    settling the same check-in. SQLite has one writer at a time anyway. The two
    people, the organization, the event and the check-ins come in the same
    round trip or one more, as every caller needs them (mail, pages).
    """
    return db.session.scalar(
        select(Pair)
        .where(Pair.id == pair_id)
        .options(
            joinedload(Pair.a),
            joinedload(Pair.b),
            joinedload(Pair.org),
            joinedload(Pair.event),
            selectinload(Pair.checkins),
        )
        .with_for_update(of=Pair)
        .execution_options(populate_existing=True)
    )


# ---------------------------------------------------------------------------
# Starting a pair


def create_pair(
    org: Organization,
    first: User,
    second: User,
    *,
    kind: str,
    mentor: User | None = None,
    source: str = "event",
    event: Event | None = None,
    topic: str | None = None,
    request_id: int | None = None,
    renewed_from: Pair | None = None,
) -> Pair | None:
    """Create an open pair of two members and queue both introductions.

    kind "mentoring" needs mentor (one of the two); "peer" needs mentor=None.
    Returns None (and queues nothing) when the two already have an open pair in org.
    Race-safe: the unique ``Pair.open_key`` decides, through ``INSERT … ON
    CONFLICT (open_key) DO NOTHING`` (see ``_insert_open``), which neither aborts
    the caller's transaction nor commits early on SQLite. It only flushes.
    A renewal (``renewed_from``) carries over the old pair's rhythm.
    """
    _check(org, first, second, kind, mentor, source, event)
    key = open_key(org.id, first.id, second.id)
    if db.session.scalar(select(Pair.id).where(Pair.open_key == key)) is not None:
        return None
    cfg = current_app.config
    now = clock.now()
    low, high = sorted((first, second), key=lambda u: u.id)
    zone = zone_for(org, event, renewed_from)
    first_slot = next_slot(now, zone)
    values = {
        "org_id": org.id,
        "kind": kind,
        "a_id": low.id,
        "b_id": high.id,
        "mentor_id": mentor.id if mentor is not None else None,
        "status": "active",
        "open_key": key,
        "source": source,
        "event_id": event.id if event is not None else None,
        "request_id": request_id,
        "renewed_from_id": renewed_from.id if renewed_from is not None else None,
        "topic": (topic or "").strip()[:200] or None,
        "cadence_days": (
            renewed_from.cadence_days if renewed_from else int(cfg["PAIR_CADENCE_DAYS"])
        ),
        "checkin_minutes": (
            renewed_from.checkin_minutes
            if renewed_from
            else int(cfg["PAIR_CHECKIN_MINUTES"])
        ),
        "first_slot_at": first_slot,
        "timezone": zone,
        "started_at": now,
        "term_ends_at": now + timedelta(days=int(cfg["PAIR_TERM_DAYS"])),
        "ics_uid": f"{uuid.uuid4()}@{_host()}",
        "ics_sequence": 0,
        "missed_in_row": 0,
        "created_at": now,
    }
    pair_id = _insert_open(values)
    if pair_id is None:  # the other side of a race got there first
        return None
    pair = db.session.get(Pair, pair_id)
    db.session.add(PairCheckin(pair=pair, number=1, due_at=first_slot))
    db.session.flush()
    plan(pair)
    for user in people(pair):
        _send_intro(pair, user)
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
    if kind == "mentoring" and (
        mentor is None or mentor.id not in (first.id, second.id)
    ):
        raise ValueError('kind "mentoring" needs mentor, one of the two')
    if kind == "peer" and mentor is not None:
        raise ValueError('kind "peer" takes no mentor')
    if event is not None and event.org_id != org.id:
        raise ValueError("the event belongs to another organization")
    for person in (first, second):
        if membership_for(person, org.id) is None:
            raise ValueError(f"{person.email} is not a member of {org.slug}")


def _insert_open(values: dict[str, Any]) -> int | None:
    """Insert a pair unless its ``open_key`` is taken; the new id or None.

    ``ON CONFLICT DO NOTHING`` waits for a concurrent insert of the same key and
    then yields, without aborting the caller's transaction (PostgreSQL) and
    without the pysqlite savepoint quirk that commits early (SQLite).
    """
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(Pair)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["open_key"])
        .returning(Pair.id)
    )
    return db.session.execute(stmt).scalar()


def _host() -> str:
    """The host of ``BASE_URL``, for calendar UIDs."""
    return urlsplit(current_app.config["BASE_URL"]).hostname or "mixer.invalid"


def _invite(pair: Pair, starts_at: datetime, method: str = "REQUEST") -> Attachment:
    """The pair's series as an .ics attachment (REQUEST or CANCEL)."""
    return Attachment(
        "invite.ics" if method == "REQUEST" else "cancel.ics",
        ics.pair_ics(pair, starts_at, method, pair_timezone(pair)),
        f"text/calendar; method={method}; charset=utf-8",
    )


def _context(pair: Pair, user: User) -> dict[str, Any]:
    """What every pair e-mail to ``user`` may use."""
    other = _other(pair, user)
    return {
        "org": pair.org,
        "pair": pair,
        "me": user,
        "other": other,
        "role_line": role_line(pair, user.id, other),
        "tz": pair_timezone(pair),
        "cadence": cadence_text(pair.cadence_days, pair.checkin_minutes),
        "pair_link": absolute_url("pairs.show", pair_id=pair.id),
    }


def _mail(
    pair: Pair,
    user: User,
    template: str,
    subject: str,
    key: str,
    extra: dict[str, Any] | None = None,
    attachments: tuple[Attachment, ...] = (),
) -> bool:
    """One pair e-mail to one of the two, once ever per ``key``; whether queued."""
    return (
        queue_mail(
            user.email,
            subject,
            template,
            {**_context(pair, user), **(extra or {})},
            user=user,
            preference=PREFERENCE,
            org=pair.org,
            kind=f"pairs.{template.removeprefix('pair_')}",
            dedupe_key=key,
            attachments=attachments,
        )
        is not None
    )


def intro_line(pair: Pair, user: User, other: User) -> str:
    """How the two came together, said to ``user``."""
    if pair.source == "request" and pair.mentor_id is not None:
        topic = f" on {pair.topic}" if pair.topic else ""
        if pair.mentor_id == user.id:
            return f"You said yes when {other.name} asked for a micro-mentor{topic}."
        return f"You asked for a micro-mentor{topic}, and {other.name} said yes."
    if pair.source == "renewal":
        return f"You and {other.name} both asked for another term together."
    where = f" after {pair.event.title}" if pair.event is not None else ""
    return f"You and {other.name} both chose to keep in touch{where}."


def _send_intro(pair: Pair, user: User) -> bool:
    """The introduction to one of the two, with the calendar invite."""
    other = _other(pair, user)
    return _mail(
        pair,
        user,
        "pair_intro",
        f"Meet {other.name}: your new mentoring pair",
        f"pairs.intro:{pair.id}:{user.id}",
        {"first_slot": pair.first_slot_at, "intro": intro_line(pair, user, other)},
        (_invite(pair, pair.first_slot_at),),
    )


# ---------------------------------------------------------------------------
# The pair's clock


def next_moment(pair: Pair) -> datetime | None:
    """When the pair's tick should run next (None: the pair is over)."""
    if not pair.is_open:
        return None
    now = clock.now()
    moments = [pair.term_ends_at] if pair.term_ends_at > now else []
    checkin = open_checkin(pair) if pair.status == "active" else None
    if checkin is not None:
        due = checkin.due_at
        ahead = [m for m in (due - REMIND_BEFORE, due, due + grace(pair)) if m > now]
        # Nothing ahead: the check-in is overdue (a shorter rhythm shortened its
        # grace period), so settle it now rather than at the end of the term.
        moments.append(ahead[0] if ahead else now)
    return min(moments) if moments else now


def plan(pair: Pair) -> Job | None:
    """Keep exactly one pending tick for the pair, at its next moment."""
    at = next_moment(pair)
    prefix = f"{TICK}:{pair.id}:"
    key = f"{prefix}{stamp(at)}" if at is not None else None
    # Ticks planned for an earlier state are superseded (a running one is left).
    db.session.execute(
        update(Job)
        .where(
            Job.dedupe_key.like(f"{prefix}%"),
            Job.status == "pending",
            Job.dedupe_key != (key or ""),
        )
        .values(status="cancelled", finished_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    if at is None:
        db.session.flush()
        return None
    return jobs.schedule(
        TICK, {"pair_id": pair.id}, run_at=at, dedupe_key=key, org_id=pair.org_id
    )


def tick(pair_id: int) -> dict[str, int]:
    """Do whatever is due for one pair now, then plan its next moment.

    A closed or ended pair (or one already gone) is left alone and gets no new
    tick, so a tick that was pending when the pair closed simply ends.
    """
    counts: Counter[str] = Counter()
    pair = _lock(pair_id)
    if pair is None or not pair.is_open:
        return {}
    if not _both_members(pair):
        close(pair, None)
        return {"closed": 1}
    now = clock.now()
    if pair.status == "active":
        checkin = open_checkin(pair)
        while checkin is not None and checkin.due_at + grace(pair) <= now:
            counts["missed"] += 1
            late = now - (checkin.due_at + grace(pair)) > LATE
            checkin = _settle(pair, checkin, "missed", None, late=late)
        if checkin is not None:
            if now >= checkin.due_at:
                counts["asked"] += _ask(pair, checkin)
            elif now >= checkin.due_at - REMIND_BEFORE:
                counts["reminded"] += _remind(pair, checkin)
    if now >= pair.term_ends_at and (
        pair.status == "paused" or open_checkin(pair) is None
    ):
        counts["ended"] += _end_term(pair)
    plan(pair)
    db.session.flush()
    return dict(counts)


def _both_members(pair: Pair) -> bool:
    """Whether both people still belong to the pair's organization."""
    members = db.session.scalar(
        select(func.count(Membership.id)).where(
            Membership.org_id == pair.org_id,
            Membership.user_id.in_((pair.a_id, pair.b_id)),
        )
    )
    return members == 2


def day_word(pair: Pair, when: datetime) -> str:
    """ "today", "tomorrow" or "on Friday": when ``when`` is, in the pair's zone."""
    zone = ZoneInfo(pair_timezone(pair))
    local = when.astimezone(zone)
    days = (local.date() - clock.now().astimezone(zone).date()).days
    return {0: "today", 1: "tomorrow"}.get(days, f"on {local:%A}")


def _remind(pair: Pair, checkin: PairCheckin) -> int:
    """The reminder before a check-in to both; how many were queued.

    It normally goes a day before; a late one (the worker was down) still says
    the right day.
    """
    when = day_word(pair, checkin.due_at)
    headline = when[0].upper() + when[1:]
    sent = 0
    for user in people(pair):
        sent += _mail(
            pair,
            user,
            "pair_reminder",
            f"{headline}: your check-in with {_other(pair, user).name}",
            f"pairs.reminder:{pair.id}:{checkin.number}:{stamp(checkin.due_at)}:{user.id}",
            {"checkin": checkin, "when": when, "headline": headline},
        )
    return sent


def _other(pair: Pair, user: User) -> User:
    """The other person of the pair."""
    return pair.b if user.id == pair.a_id else pair.a


def checkin_links(pair: Pair, checkin: PairCheckin, user: User) -> dict[str, str]:
    """One-tap answer links for one person; they share one single-use ``jti``."""
    jti = secrets.token_urlsafe(16)
    links = {}
    for answer in ANSWERS:
        token = tokens.make(
            "pairs.checkin",
            {
                "p": pair.id,
                "n": checkin.number,
                "d": stamp(checkin.due_at),
                "u": user.id,
                "a": answer,
                "jti": jti,
            },
        )
        links[answer] = absolute_url("pairs.checkin_link", pair_id=pair.id, token=token)
    return links


def _ask(pair: Pair, checkin: PairCheckin) -> int:
    """ "Did you meet?" with one-tap links to both; how many were queued."""
    sent = 0
    for user in people(pair):
        sent += _mail(
            pair,
            user,
            "pair_checkin",
            f"Did you meet {_other(pair, user).name}?",
            f"pairs.ask:{pair.id}:{checkin.number}:{stamp(checkin.due_at)}:{user.id}",
            {"checkin": checkin, "links": checkin_links(pair, checkin, user)},
        )
    return sent


def _settle(
    pair: Pair,
    checkin: PairCheckin,
    status: str,
    by: User | None,
    note: str | None = None,
    *,
    late: bool = False,
) -> PairCheckin | None:
    """Close a check-in as met, skipped or missed; the next one (or None).

    "skipped" counts as missed for the streak: a streak of NUDGE_AT brings a
    nudge, ASK_STANDING_AT a "pause or close?" question; "met" resets it. A
    ``late`` miss (settled long after its grace period because the worker was
    down) is history only: it neither lengthens the streak nor sends anything,
    as nobody may have been asked about it.
    """
    now = clock.now()
    checkin.status = status
    if by is not None:
        checkin.reported_by_id = by.id
        checkin.reported_at = now
        if note:
            checkin.notes = {**(checkin.notes or {}), str(by.id): note}
    if status == "met":
        pair.missed_in_row = 0
    elif not late:
        pair.missed_in_row += 1
        # Past the term the pair ends now: feedback, not a nudge, is the next mail.
        if now < pair.term_ends_at:
            if pair.missed_in_row == NUDGE_AT:
                _nudge(pair, checkin)
            elif pair.missed_in_row == ASK_STANDING_AT:
                _ask_standing(pair, checkin)
    db.session.flush()
    return _next_checkin(pair, checkin.due_at)


def _next_checkin(pair: Pair, after: datetime) -> PairCheckin | None:
    """Plan the series' next check-in after ``after``, if the term allows one.

    Normally one cadence later. Slots whose grace period is already over (the
    worker was down for a while) are skipped, not planned only to be settled as
    missed in a burst: the pair carries on at the next slot it can still keep.
    """
    if pair.status != "active":
        return None
    now = clock.now()
    steps = 1
    while True:
        due = later(pair, after, pair.cadence_days * steps)
        if due >= pair.term_ends_at:
            return None
        if due + grace(pair) > now:
            break
        steps += 1
    number = max((c.number for c in pair.checkins), default=0) + 1
    checkin = PairCheckin(pair=pair, number=number, due_at=due)
    db.session.add(checkin)
    db.session.flush()
    return checkin


def _nudge(pair: Pair, checkin: PairCheckin) -> None:
    """A gentle nudge to both after two misses in a row."""
    for user in people(pair):
        _mail(
            pair,
            user,
            "pair_nudge",
            f"Five minutes with {_other(pair, user).name}?",
            f"pairs.nudge:{pair.id}:{checkin.number}:{user.id}",
            {"checkin": checkin},
        )


def standing_links(pair: Pair, checkin: PairCheckin, user: User) -> dict[str, str]:
    """Keep / pause / close links for one person, sharing one single-use ``jti``."""
    jti = secrets.token_urlsafe(16)
    links = {}
    for choice in STANDING_CHOICES:
        token = tokens.make(
            "pairs.standing",
            {"p": pair.id, "n": checkin.number, "u": user.id, "a": choice, "jti": jti},
        )
        links[choice] = absolute_url(
            "pairs.standing_link", pair_id=pair.id, token=token
        )
    return links


def _ask_standing(pair: Pair, checkin: PairCheckin) -> None:
    """ "Pause or close?" to both after three misses in a row."""
    for user in people(pair):
        _mail(
            pair,
            user,
            "pair_standing",
            f"Pause or close your pair with {_other(pair, user).name}?",
            f"pairs.standing:{pair.id}:{checkin.number}:{user.id}",
            {"checkin": checkin, "links": standing_links(pair, checkin, user)},
        )


def _end_term(pair: Pair) -> int:
    """The term is over: the pair ends and both are asked for feedback."""
    now = clock.now()
    for checkin in list(pair.checkins):
        if checkin.status in OPEN_CHECKIN and checkin.due_at > now:
            pair.checkins.remove(checkin)  # planned, never happened
    pair.status = "ended"
    pair.open_key = None
    pair.ended_at = now
    db.session.flush()
    sent = 0
    for user in people(pair):
        sent += _mail(
            pair,
            user,
            "pair_feedback",
            f"Your mentoring term with {_other(pair, user).name}: how did it go?",
            f"pairs.feedback:{pair.id}:{user.id}",
            {"feedback_link": feedback_link(pair, user)},
        )
    return 1


def feedback_link(pair: Pair, user: User) -> str:
    """The e-mailed end-of-term feedback link of one person."""
    token = tokens.make("pairs.feedback", {"p": pair.id, "u": user.id}, single_use=True)
    return absolute_url("pairs.feedback_link", pair_id=pair.id, token=token)


# ---------------------------------------------------------------------------
# Answers: check-ins, moves, notes


def log_checkin(
    pair: Pair, by: User, status: str, note: str | None = None
) -> PairCheckin:
    """A member logs from the pair page that they met (or skipped) just now.

    It settles the open check-in, whatever its date; with none left in the term
    it records an extra one, due now.
    """
    if status not in ("met", "skipped"):
        raise PairError("Say whether you met or skipped.")
    pair = _lock(pair.id)
    if pair.status != "active":
        raise PairError("Resume the pair first: it is not active.")
    note = _clean(note)
    checkin = open_checkin(pair)
    if checkin is None:
        checkin = PairCheckin(
            pair=pair,
            number=max((c.number for c in pair.checkins), default=0) + 1,
            due_at=clock.now(),
        )
        db.session.add(checkin)
        db.session.flush()
        checkin.status = status
        checkin.reported_by_id, checkin.reported_at = by.id, clock.now()
        checkin.notes = {str(by.id): note} if note else {}
        pair.missed_in_row = 0 if status == "met" else pair.missed_in_row + 1
    else:
        _settle(pair, checkin, status, by, note)
    plan(pair)
    db.session.flush()
    return checkin


def _clean(text: str | None, limit: int = 1000) -> str:
    """A note on one line, trimmed to ``limit`` characters."""
    return " ".join((text or "").split())[:limit] if text else ""


def default_move(pair: Pair, checkin: PairCheckin) -> datetime:
    """Where "moved" proposes the check-in: a few days on, same time of day."""
    return max(checkin.due_at, clock.now()) + MOVE_BY


def move_time(pair: Pair, checkin: PairCheckin, day: date, at: time | None) -> datetime:
    """A date (and time, default the check-in's) in the pair's zone, as UTC."""
    zone = ZoneInfo(pair_timezone(pair))
    when = at or checkin.due_at.astimezone(zone).time().replace(tzinfo=None)
    return datetime.combine(day, when, tzinfo=zone).astimezone(UTC)


def _move(
    pair: Pair, checkin: PairCheckin, by: User, when: datetime, note: str
) -> None:
    """The check-in keeps its number and gets a new date; it is asked again then.

    The rhythm follows the new date (the next check-in is one cadence after it),
    so both get the series again from there (SEQUENCE + 1): their calendars and
    Mixer's reminders stay in step, and the other person learns of the move.
    """
    if when <= clock.now():
        raise PairError("Pick a moment in the future.")
    if when >= pair.term_ends_at:
        raise PairError(
            "Pick a moment before the term ends "
            f"({pair.term_ends_at.astimezone(ZoneInfo(pair_timezone(pair))):%d %b %Y})."
        )
    checkin.status = "moved"
    checkin.due_at = when
    checkin.reported_by_id, checkin.reported_at = by.id, clock.now()
    if note:
        checkin.notes = {**(checkin.notes or {}), str(by.id): note}
    pair.ics_sequence += 1
    db.session.flush()
    _notify_status(pair, by, "moved", _invite(pair, when))


@dataclass
class CheckinLink:
    """A valid "did you meet?" link: whose, which check-in, what it proposes."""

    pair: Pair
    checkin: PairCheckin
    user: User
    answer: str
    data: dict[str, Any]

    @property
    def answerable(self) -> bool:
        """Nobody answered yet, and the check-in is still at the date asked about."""
        return (
            self.pair.status == "active"
            and self.checkin.status in OPEN_CHECKIN
            and stamp(self.checkin.due_at) == self.data.get("d")
        )

    @property
    def notable(self) -> bool:
        """Whether this person can still add their own note."""
        return self.checkin.status in ("met", "skipped", "moved")


def _subject(
    purpose: str, pair_id: int, token: str, max_age: timedelta, viewer: Any
) -> tuple[Pair, User, dict[str, Any]]:
    """Read a pair link and check it belongs to this pair and its holder."""
    data = tokens.read(purpose, token, max_age=int(max_age.total_seconds()))
    if data.get("p") != pair_id:
        raise LinkError("invalid", "This link belongs to another pair.")
    pair = db.session.get(Pair, pair_id)
    uid = data.get("u")
    if pair is None or not isinstance(uid, int) or not pair.has(uid):
        raise LinkError("invalid", "This link is not valid.")
    if getattr(viewer, "is_authenticated", False) and viewer.id != uid:
        raise LinkError(
            "invalid",
            "This link was sent to someone else. Use the link in your own e-mail, "
            "or sign out first.",
        )
    return pair, db.session.get(User, uid), data


def read_checkin_link(pair_id: int, token: str, viewer: Any = None) -> CheckinLink:
    """The check-in a "did you meet?" link is about (LinkError if unusable)."""
    pair, user, data = _subject(
        "pairs.checkin", pair_id, token, CHECKIN_LINK_AGE, viewer
    )
    if data.get("a") not in ANSWERS:
        raise LinkError("invalid", "This link is not valid.")
    if pair.status == "closed":
        raise LinkError("expired", "This pair was closed, so there is nothing to add.")
    checkin = next((c for c in pair.checkins if c.number == data.get("n")), None)
    if checkin is None:  # planned, then dropped by a pause or a new rhythm
        raise LinkError(
            "expired", "This check-in is no longer planned, so there is nothing to add."
        )
    return CheckinLink(pair, checkin, user, data["a"], data)


def answer_checkin(
    link: CheckinLink,
    answer: str,
    note: str | None = None,
    moved_on: date | None = None,
    moved_at: time | None = None,
) -> str:
    """Record an answer from a link and spend it: "answered" or "noted".

    "moved" needs the new day (``moved_on``; the time defaults to the check-in's,
    both in the pair's zone). The first answer sets the check-in's status. When
    someone else answered in the meantime, only this person's own "what helped"
    note is kept ("noted").
    """
    if answer not in ANSWERS:
        raise PairError("Choose one of the answers.")
    pair = _lock(link.pair.id)
    db.session.refresh(link.checkin)
    if not link.answerable:
        return add_checkin_note(link, note)
    note = _clean(note)
    if answer == "moved":
        if moved_on is None:
            raise PairError("Say when you will meet instead.")
        when = move_time(pair, link.checkin, moved_on, moved_at)
        _move(pair, link.checkin, link.user, when, note)
    else:
        _settle(pair, link.checkin, answer, link.user, note)
    tokens.spend("pairs.checkin", link.data)
    plan(pair)
    db.session.flush()
    return "answered"


def add_checkin_note(link: CheckinLink, note: str | None) -> str:
    """The holder of a link adds their own note to an answered check-in; "noted".

    The answer itself stays as the first person gave it.
    """
    _lock(link.pair.id)
    db.session.refresh(link.checkin)
    if not link.notable:
        raise PairError("This check-in is closed; there is nothing to add.")
    note = _clean(note)
    if note:
        link.checkin.notes = {**(link.checkin.notes or {}), str(link.user.id): note}
    tokens.spend("pairs.checkin", link.data)
    db.session.flush()
    return "noted"


# ---------------------------------------------------------------------------
# Pause, resume, close, cadence


def _notify_status(
    pair: Pair, by: User | None, what: str, invite: Attachment | None
) -> None:
    """Tell both about a pause, resumption, closing, move or new rhythm."""
    next_at = next_checkin_at(pair)
    day = (
        f"{next_at.astimezone(ZoneInfo(pair_timezone(pair))):%a %d %b}"
        if next_at
        else ""
    )
    for user in people(pair):
        _mail(
            pair,
            user,
            "pair_status",
            STATUS_SUBJECTS[what].format(other=_other(pair, user).name, day=day),
            f"pairs.{what}:{pair.id}:{pair.ics_sequence}:{user.id}",
            {
                "what": what,
                "line": status_line(pair, what, by, user),
                "next_at": next_at,
            },
            (invite,) if invite else (),
        )


def status_line(pair: Pair, what: str, by: User | None, user: User) -> str:
    """What happened to the pair, said to ``user`` (who may be the one who did it)."""
    if by is None and what == "closed":  # Mixer closes a pair when one leaves
        return (
            f"Your pair with {_other(pair, user).name} is closed, because one of "
            f"you no longer belongs to {pair.org.name}."
        )
    next_at = next_checkin_at(pair)
    mine, theirs = STATUS_LINES[what]
    return (mine if by is not None and by.id == user.id else theirs).format(
        other=_other(pair, user).name,
        by=by.name if by is not None else "Mixer",
        cadence=cadence_text(pair.cadence_days, pair.checkin_minutes),
        when=localtime(next_at, pair_timezone(pair)) if next_at else "a new date",
    )


def _drop_open_checkins(pair: Pair) -> None:
    """Forget check-ins that were planned and never happened."""
    for checkin in list(pair.checkins):
        if checkin.status in OPEN_CHECKIN:
            pair.checkins.remove(checkin)
    db.session.flush()


def pause(pair: Pair, by: User | None) -> bool:
    """No check-ins until resumed; the calendar series is withdrawn. Changed?"""
    pair = _lock(pair.id)
    if pair.status != "active":
        return False
    start = next_checkin_at(pair) or clock.now()
    _drop_open_checkins(pair)
    pair.status = "paused"
    pair.missed_in_row = 0  # a fresh start when they resume
    pair.ics_sequence += 1
    db.session.flush()
    _notify_status(pair, by, "paused", _invite(pair, start, "CANCEL"))
    plan(pair)
    return True


def resume(pair: Pair, by: User | None) -> bool:
    """Back to active: a new check-in at the next proposed slot. Changed?"""
    pair = _lock(pair.id)
    if pair.status != "paused":
        return False
    if clock.now() >= pair.term_ends_at:
        raise PairError("The term is over; the pair ends now.")
    pair.status = "active"
    pair.missed_in_row = 0
    pair.ics_sequence += 1
    slot = next_slot(clock.now(), pair_timezone(pair))
    invite = None
    if slot < pair.term_ends_at:
        number = max((c.number for c in pair.checkins), default=0) + 1
        db.session.add(PairCheckin(pair=pair, number=number, due_at=slot))
        invite = _invite(pair, slot)
    db.session.flush()
    _notify_status(pair, by, "resumed", invite)
    plan(pair)
    return True


def close(pair: Pair, by: User | None) -> bool:
    """Stop the pair for good (before its term ends). Changed?"""
    pair = _lock(pair.id)
    if not pair.is_open:
        return False
    start = next_checkin_at(pair) or pair.first_slot_at or clock.now()
    _drop_open_checkins(pair)
    pair.status = "closed"
    pair.open_key = None
    pair.ended_at = clock.now()
    pair.ics_sequence += 1
    db.session.flush()
    _notify_status(pair, by, "closed", _invite(pair, start, "CANCEL"))
    plan(pair)
    return True


def close_pairs_of(org_id: int, user_id: int) -> int:
    """Close a person's open pairs in an organization they left; how many.

    For ``remove_member`` to call; the tick does the same on its own later
    (``_both_members``), so a pair never outlives a membership for long.
    """
    ids = db.session.scalars(
        select(Pair.id).where(
            Pair.org_id == org_id,
            Pair.open_key.is_not(None),
            (Pair.a_id == user_id) | (Pair.b_id == user_id),
        )
    ).all()
    return sum(close(db.session.get(Pair, pid), None) for pid in ids)


def change_cadence(pair: Pair, by: User, days: int, minutes: int) -> bool:
    """Either member changes the rhythm; both get the updated invite. Changed?

    The next check-in, unless it is already due or its date was agreed by
    "moved", moves to one new cadence after the last settled check-in (at least a
    day's notice; the first check-in keeps its proposed slot).
    """
    if not 1 <= days <= 92 or not 5 <= minutes <= 120:
        raise PairError("Every 1 to 92 days, 5 to 120 minutes.")
    pair = _lock(pair.id)
    if not pair.is_open:
        raise PairError("This pair is over; its rhythm cannot change.")
    if (pair.cadence_days, pair.checkin_minutes) == (days, minutes):
        return False
    pair.cadence_days, pair.checkin_minutes = days, minutes
    pair.ics_sequence += 1
    checkin = open_checkin(pair) if pair.status == "active" else None
    # A check-in already due awaits its answers as asked; the next one follows
    # the new rhythm.
    if (
        checkin is not None
        and checkin.status == "scheduled"
        and checkin.due_at > clock.now()
    ):
        settled = [c for c in pair.checkins if c.status not in OPEN_CHECKIN]
        if settled:
            due = later(pair, settled[-1].due_at, days)
            if due < clock.now() + REMIND_BEFORE:
                due = next_slot(clock.now(), pair_timezone(pair))
            if due >= pair.term_ends_at:
                pair.checkins.remove(checkin)
                checkin = None
            else:
                checkin.due_at = due
    db.session.flush()
    if pair.status == "active":
        start = checkin.due_at if checkin is not None else None
        _notify_status(pair, by, "updated", _invite(pair, start) if start else None)
    plan(pair)
    return True


# ---------------------------------------------------------------------------
# "Pause or close?" after three misses


@dataclass
class StandingLink:
    """A valid keep / pause / close link."""

    pair: Pair
    user: User
    choice: str
    data: dict[str, Any]

    @property
    def answerable(self) -> bool:
        """Nobody has answered the question, nor met since it was asked."""
        return (
            self.pair.status == "active" and self.pair.missed_in_row >= ASK_STANDING_AT
        )


def read_standing_link(pair_id: int, token: str, viewer: Any = None) -> StandingLink:
    """The pair a "pause or close?" link is about (LinkError if unusable)."""
    pair, user, data = _subject(
        "pairs.standing", pair_id, token, STANDING_LINK_AGE, viewer
    )
    if data.get("a") not in STANDING_CHOICES:
        raise LinkError("invalid", "This link is not valid.")
    return StandingLink(pair, user, data["a"], data)


def answer_standing(link: StandingLink, choice: str) -> bool:
    """Keep going, pause or close, and spend the link; whether anything changed."""
    if choice not in STANDING_CHOICES:
        raise PairError("Choose one of the answers.")
    pair = _lock(link.pair.id)
    if not link.answerable:
        raise PairError("This question was answered already.")
    tokens.spend("pairs.standing", link.data)
    if choice == "pause":
        return pause(pair, link.user)
    if choice == "close":
        return close(pair, link.user)
    pair.missed_in_row = 0  # keep going: a fresh start for the streak
    db.session.flush()
    return True


# ---------------------------------------------------------------------------
# End of term: feedback and renewal


def read_feedback_link(
    pair_id: int, token: str, viewer: Any = None
) -> tuple[Pair, User, dict[str, Any]]:
    """The ended pair, the person and the data of a feedback link (or LinkError)."""
    pair, user, data = _subject(
        "pairs.feedback", pair_id, token, FEEDBACK_LINK_AGE, viewer
    )
    if pair.status != "ended":
        raise LinkError("invalid", "This link is not valid.")
    return pair, user, data


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
    pair = _lock(pair.id)
    if pair.status != "ended" or not pair.has(user.id):
        raise PairError("Feedback is asked for when a pair's term ends.")
    if rating is not None and not 1 <= rating <= 5:
        raise PairError("Rate from 1 to 5.")
    if link_data is not None:  # from the e-mailed link: it works once
        tokens.spend("pairs.feedback", link_data)
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
        source="renewal",
        event=pair.event,
        topic=pair.topic,
        request_id=pair.request_id,
        renewed_from=pair,
    )


# ---------------------------------------------------------------------------
# Lists and dashboards


def pairs_of(user: User, org_id: int | None = None) -> list[Pair]:
    """A person's pairs (in one organization, or all): open first, newest first.

    Loaded with what the lists show (people, organization, event, check-ins), so
    a list costs a fixed number of queries however many pairs it has.
    """
    query = (
        select(Pair)
        .where((Pair.a_id == user.id) | (Pair.b_id == user.id))
        .options(
            selectinload(Pair.a),
            selectinload(Pair.b),
            selectinload(Pair.org),
            selectinload(Pair.event),
            selectinload(Pair.checkins),
        )
        .order_by(Pair.created_at.desc(), Pair.id.desc())
    )
    if org_id is not None:
        query = query.where(Pair.org_id == org_id)
    return sorted(db.session.scalars(query), key=lambda p: not p.is_open)


def org_pairs_query(org: Organization):
    """The organization's pairs, newest first (for lists and the API)."""
    return (
        select(Pair)
        .where(Pair.org_id == org.id)
        .order_by(Pair.created_at.desc(), Pair.id.desc())
    )


@dataclass
class PairRow:
    """One line of the organizers' list: a pair and its numbers."""

    pair: Pair
    held: int
    missed: int
    next_at: datetime | None


@dataclass
class OrgOverview:
    """What organizers see about their organization's pairs."""

    rows: list[PairRow]
    status_counts: dict[str, int]
    total: int = 0
    months: list[dict[str, Any]] = field(default_factory=list)
    held: int = 0
    missed: int = 0
    peak: int = 1  # the largest monthly bar, to scale the picture


HELD = case((PairCheckin.status == "met", 1), else_=0)
MISSED = case((PairCheckin.status.in_(("missed", "skipped")), 1), else_=0)


def checkin_numbers(pair_ids: list[int]) -> dict[int, tuple[int, int, datetime | None]]:
    """Held, missed and the next open check-in's date of each pair, in one query."""
    if not pair_ids:
        return {}
    next_due = type_coerce(
        func.min(case((PairCheckin.status.in_(OPEN_CHECKIN), PairCheckin.due_at))),
        UTCDateTime,
    )
    rows = db.session.execute(
        select(PairCheckin.pair_id, func.sum(HELD), func.sum(MISSED), next_due)
        .where(PairCheckin.pair_id.in_(pair_ids))
        .group_by(PairCheckin.pair_id)
    )
    return {pid: (int(h or 0), int(m or 0), due) for pid, h, m, due in rows}


def org_overview(
    org: Organization, page: int = 1, per_page: int = 100, months: int = 6
) -> OrgOverview:
    """One page of pairs with their numbers, status counts, held/missed per month.

    A fixed number of queries whatever the size of the organization: the counts
    are aggregated in the database and only one page of pairs is loaded.
    """
    counts = dict.fromkeys(STATUS_LABELS, 0)
    counts.update(
        db.session.execute(
            select(Pair.status, func.count())
            .where(Pair.org_id == org.id)
            .group_by(Pair.status)
        ).all()
    )
    pairs = db.session.scalars(
        org_pairs_query(org)
        .options(selectinload(Pair.a), selectinload(Pair.b), selectinload(Pair.event))
        .limit(per_page)
        .offset((max(page, 1) - 1) * per_page)
    ).all()
    numbers = checkin_numbers([p.id for p in pairs])
    rows = []
    for pair in pairs:
        held, missed, next_at = numbers.get(pair.id, (0, 0, None))
        rows.append(
            PairRow(pair, held, missed, next_at if pair.status == "active" else None)
        )
    held, missed = db.session.execute(
        select(func.sum(HELD), func.sum(MISSED)).join(Pair).where(Pair.org_id == org.id)
    ).one()
    series = _monthly(org, months)
    peak = max([1] + [r["held"] + r["missed"] for r in series])
    return OrgOverview(
        rows,
        counts,
        sum(counts.values()),
        series,
        int(held or 0),
        int(missed or 0),
        peak,
    )


def _monthly(org: Organization, months: int) -> list[dict[str, Any]]:
    """Check-ins held and missed in each of the last ``months`` months (UTC)."""
    now = clock.now()
    labels = []
    year, month = now.year, now.month
    for _ in range(months):
        labels.append((year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    labels.reverse()
    since = datetime(*labels[0], 1, tzinfo=UTC)
    per = {key: Counter() for key in labels}
    for due, status in db.session.execute(
        select(PairCheckin.due_at, PairCheckin.status)
        .join(Pair)
        .where(
            Pair.org_id == org.id,
            PairCheckin.status.in_(("met", "missed", "skipped")),
            PairCheckin.due_at >= since,
        )
    ):
        key = (due.year, due.month)
        if key in per:
            per[key]["held" if status == "met" else "missed"] += 1
    return [
        {
            "label": date(y, m, 1).strftime("%b %Y"),
            "held": per[(y, m)]["held"],
            "missed": per[(y, m)]["missed"],
        }
        for y, m in labels
    ]


def as_dict(pair: Pair) -> dict[str, Any]:
    """A pair as the API shows it."""
    return {
        "id": pair.id,
        "kind": pair.kind,
        "status": pair.status,
        "source": pair.source,
        "topic": pair.topic,
        "event_id": pair.event_id,
        "people": [
            {"id": u.id, "name": u.name, "role": pair.role_of(u.id)}
            for u in people(pair)
        ],
        "cadence_days": pair.cadence_days,
        "checkin_minutes": pair.checkin_minutes,
        "started_at": pair.started_at,
        "term_ends_at": pair.term_ends_at,
        "ended_at": pair.ended_at,
        "next_checkin_at": next_checkin_at(pair),
        "checkins_held": held_count(pair),
        "checkins_missed": missed_count(pair),
        "renewed_from_id": pair.renewed_from_id,
    }


def as_detail(pair: Pair) -> dict[str, Any]:
    """A pair with its check-in history (notes stay private to the two)."""
    return {
        **as_dict(pair),
        "checkins": [
            {
                "number": c.number,
                "due_at": c.due_at,
                "status": c.status,
                "reported_at": c.reported_at,
            }
            for c in pair.checkins
        ],
    }
