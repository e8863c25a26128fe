"""An event's life: created as a draft, changed, published, cancelled, run again.

Publishing and moving an event (re)schedule its jobs (the day-before reminder and
the end) and send ``signals.event_scheduled``; cancelling cancels them and sends
``signals.event_cancelled`` (follow-up listens to both, see ``mixer.signals``).
Changes to the time or place of a published event, and its cancellation, are
told to everyone signed up by a job (``mixer.events.notifications``).
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from babel.dates import get_day_names
from dateutil.rrule import MONTHLY, WEEKLY, rrule, weekday
from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from mixer import clock, signals
from mixer.accounts.models import User
from mixer.audit.services import record
from mixer.errors import FieldProblems
from mixer.events.models import (
    KINDS,
    STATUSES,
    Event,
    EventKind,
    EventSeries,
    EventSession,
    EventStatus,
    Visibility,
)
from mixer.events.notifications import queue_notice
from mixer.events.registration import fill_from_waitlist, lock_seats
from mixer.events.rules import (
    EDITABLE,
    PLACE_FIELDS,
    TIME_FIELDS,
    AgendaItem,
    EventError,
    agenda_rows,
    apply_values,
    check_event,
    check_kind,
    check_text,
    local,
    required_int,
    to_utc,
)
from mixer.extensions import db
from mixer.jobs import services as jobs
from mixer.jobs.models import Job, JobStatus
from mixer.orgs.models import Membership, Organization

SERIES_MAX = 52
REMINDER_BEFORE = timedelta(days=1)
REPEATS = {
    "weekly": _l("Every week"),
    "fortnightly": _l("Every two weeks"),
    "monthly_weekday": _l("Monthly on the same weekday (e.g. the first Thursday)"),
    "monthly_date": _l("Monthly on the same date"),
}
# The fields a new event needs, named in "… is required." (API field names in words).
REQUIRED_LABELS = {
    "title": _l("Title"),
    "starts_at": _l("Starts at"),
    "ends_at": _l("Ends at"),
    "timezone": _l("Timezone"),
    "capacity": _l("Capacity"),
}


# ---------------------------------------------------------------------------
# Creating and changing


def create_event(
    org: Organization,
    creator: User | None,
    *,
    kind: str,
    status: str = EventStatus.DRAFT,
    organizers: Iterable[User] | None = None,
    agenda: list[AgendaItem] | None = None,
    **values: Any,
) -> Event:
    """Create an event (a draft unless ``status="published"``) with its sessions.

    Refuses every bad field at once (one EventError carrying the others)."""
    if status not in (EventStatus.DRAFT, EventStatus.PUBLISHED):
        raise EventError(_("A new event is either draft or published."), field="status")
    problems = FieldProblems()
    event_kind = None
    with problems.check():
        event_kind = check_kind(kind)
    for name in ("title", "starts_at", "ends_at", "timezone", "capacity"):
        with problems.check():
            if values.get(name) in (None, ""):
                raise EventError(
                    _("%(label)s is required.", label=REQUIRED_LABELS[name]),
                    field=name,
                )
    event = Event(
        org_id=org.id,
        kind=event_kind,
        status=EventStatus.DRAFT,
        visibility=Visibility.MEMBERS,
        asks_dietary=event_kind == EventKind.LUNCH_AND_LEARN,
        description="",
        share_key=secrets.token_urlsafe(16),
        ical_uid=_new_uid(),
        sequence=0,
        created_by_id=creator.id if creator else None,
    )
    event.timezone = values.get("timezone") or ""
    with problems.check():
        apply_values(event, values)
    problems.raise_any()
    organizer_list = list(organizers or [])
    if creator is not None and creator not in organizer_list:
        organizer_list.insert(0, creator)
    _check_organizers(org, organizer_list)
    event.organizers = organizer_list
    _set_sessions(event, agenda)
    db.session.add(event)
    db.session.flush()
    if status == EventStatus.PUBLISHED:
        publish_event(event)
    return event


def check_event_values(
    kind: str, values: dict[str, Any], like: Event | None = None
) -> None:
    """Refuse every bad field of ``values`` at once, saving and changing nothing.

    For a form that already refused some fields itself: the rules then speak
    about the others in the same round trip. ``like`` is the event being edited
    (its current values fill in what ``values`` lacks)."""
    current = {name: getattr(like, name) for name in EDITABLE} if like else {}
    draft = Event(kind=EventKind(kind) if kind in KINDS else None, **current)
    apply_values(draft, values)


def _new_uid() -> str:
    host = urlsplit(current_app.config["BASE_URL"]).hostname or "mixer"
    return f"{uuid.uuid4()}@{host}"


def _check_organizers(org: Organization, people: list[User]) -> None:
    if not people:
        return
    ids = {p.id for p in people}
    members = set(
        db.session.scalars(
            select(Membership.user_id).where(
                Membership.org_id == org.id, Membership.user_id.in_(ids)
            )
        )
    )
    if any(p.id not in members for p in people):
        # Never name the person: ids of other tenants' users must reveal nothing.
        raise EventError(
            _("Choose organizers from the members of %(org)s.", org=org.name),
            field="organizers",
        )


def _set_sessions(event: Event, agenda: list[AgendaItem] | None) -> None:
    """Set the programme; every event keeps at least one session.

    A workshop's sessions come from its agenda (kept when ``agenda`` is None); the
    other kinds have one session mirroring the event (topic and speakers).
    """
    workshop = event.kind == EventKind.WORKSHOP
    if workshop and agenda:
        rows = agenda_rows(event, agenda)
    elif workshop and agenda is None and event.sessions:
        return
    else:
        lunch = event.kind == EventKind.LUNCH_AND_LEARN
        title = (event.topic or event.title) if lunch else event.title
        rows = [(event.starts_at, title, event.speakers if lunch else None)]
    # Update in place so sessions keep their ids (speakers' material hangs on them).
    existing = list(event.sessions)
    for position, (at, title, speaker) in enumerate(rows):
        if position < len(existing):
            session = existing[position]
        else:
            session = EventSession()
            event.sessions.append(session)
        session.position, session.starts_at = position, at
        session.title, session.speaker_name = title, speaker
    for session in existing[len(rows) :]:
        event.sessions.remove(session)


def update_event(
    event: Event,
    actor: User | None = None,
    *,
    organizers: Iterable[User] | None = None,
    agenda: list[AgendaItem] | None = None,
    status: str | None = None,
    **values: Any,
) -> set[str]:
    """Change an event; people registered hear about new times or places.

    Returns the names of the fields that changed. Raising the capacity promotes
    as many waitlisted people as now fit.
    """
    event = lock_seats(event.id)
    if event.status == EventStatus.CANCELLED and values:
        raise EventError(
            _("This event was cancelled; duplicate it to run it again."),
            field="status",
            status=409,
        )
    old_start = event.starts_at
    changed = apply_values(event, values)
    if organizers is not None:
        people = list(organizers)
        _check_organizers(event.org, people)
        if {p.id for p in people} != {p.id for p in event.organizers}:
            event.organizers = people
            changed.add("organizers")
    if agenda is not None or changed & {"starts_at", "ends_at", "topic", "speakers"}:
        if (
            agenda is None
            and event.kind == EventKind.WORKSHOP
            and "starts_at" in changed
        ):
            delta = event.starts_at - old_start
            for session in event.sessions:
                session.starts_at += delta
        _set_sessions(event, agenda)
        if agenda is not None:
            changed.add("agenda")
    db.session.flush()
    if event.status == EventStatus.PUBLISHED:
        if changed & (set(TIME_FIELDS) | set(PLACE_FIELDS)):
            event.sequence += 1
            queue_notice(event, "updated", changed)
        if changed & {"starts_at", "ends_at"}:
            _schedule_jobs(event)
        if "capacity" in changed:
            fill_from_waitlist(event)
    if status is not None and status != event.status:
        set_status(event, status)
        changed.add("status")
    db.session.flush()
    return changed


# ---------------------------------------------------------------------------
# Publishing and cancelling


def set_status(event: Event, status: str, reason: str | None = None) -> Event:
    """Move an event along draft → published → cancelled (API ``status`` field)."""
    if status not in STATUSES:
        raise EventError(
            _("Status must be one of %(choices)s.", choices=", ".join(STATUSES)),
            field="status",
        )
    if status == event.status:
        return event
    if status == EventStatus.PUBLISHED:
        return publish_event(event)
    if status == EventStatus.CANCELLED:
        return cancel_event(event, reason)
    raise EventError(
        _(
            "An event cannot go from %(old)s to %(new)s.",
            old=event.status,
            new=status,
        ),
        field="status",
        status=409,
    )


def publish_event(event: Event) -> Event:
    """Open a draft for registration and schedule its reminder."""
    if event.status != EventStatus.DRAFT:
        raise EventError(
            _(
                "Only a draft can be published; this event is %(status)s.",
                status=event.status,
            ),
            field="status",
            status=409,
        )
    event.status = EventStatus.PUBLISHED
    event.published_at = clock.now()
    _schedule_jobs(event)
    db.session.flush()
    record(
        event.org_id,
        "event.published",
        f"Published the event “{event.title}”",
        subject=("event", event.id),
    )
    return event


def cancel_event(event: Event, reason: str | None = None) -> Event:
    """Cancel an event and tell everyone who signed up (with a METHOD:CANCEL .ics)."""
    event = lock_seats(event.id)
    if event.status == EventStatus.CANCELLED:
        return event
    if event.status == EventStatus.ENDED or (
        event.status == EventStatus.PUBLISHED and event.is_past
    ):
        raise EventError(
            _("An event that has ended cannot be cancelled."),
            field="status",
            status=409,
        )
    was_published = event.status == EventStatus.PUBLISHED
    event.status = EventStatus.CANCELLED
    event.cancelled_at = clock.now()
    event.cancel_reason = check_text(reason, "reason", 500, _l("The reason"))
    event.sequence += 1
    _cancel_jobs(event)
    db.session.flush()
    if was_published:
        queue_notice(event, "cancelled")
    record(
        event.org_id,
        "event.cancelled",
        f"Cancelled the event “{event.title}”",
        subject=("event", event.id),
        details={"was": "published" if was_published else "draft"},
    )
    return event


# ---------------------------------------------------------------------------
# The event's jobs


def reminder_key(event: Event) -> str:
    """The reminder job's dedupe key; it names the start, so a move makes a new one."""
    return f"events.reminder:{event.id}:{clock.stamp(event.starts_at)}"


def finish_key(event: Event) -> str:
    """The key of the job that marks the event ended."""
    return f"events.finish:{event.id}:{clock.stamp(event.ends_at)}"


def _schedule_jobs(event: Event) -> None:
    """Schedule the day-before reminder and the end-of-event job (both move with
    the event), and tell whoever schedules work of their own (follow-up)."""
    keep = {reminder_key(event), finish_key(event)}
    stale = db.session.scalars(
        select(Job.dedupe_key).where(
            or_(
                Job.dedupe_key.like(f"events.reminder:{event.id}:%"),
                Job.dedupe_key.like(f"events.finish:{event.id}:%"),
            ),
            Job.status == JobStatus.PENDING,
        )
    ).all()
    for key in stale:
        if key is not None and key not in keep:
            jobs.cancel(key)
    now = clock.now()
    remind_at = event.starts_at - REMINDER_BEFORE
    if remind_at > now:
        jobs.schedule(
            "events.reminder",
            {"event_id": event.id, "starts_at": clock.stamp(event.starts_at)},
            run_at=remind_at,
            dedupe_key=reminder_key(event),
            org_id=event.org_id,
        )
    jobs.schedule(
        "events.finish",
        {"event_id": event.id, "ends_at": clock.stamp(event.ends_at)},
        run_at=max(event.ends_at, now),
        dedupe_key=finish_key(event),
        org_id=event.org_id,
    )
    signals.event_scheduled.send(event)  # e.g. follow-up moves its prompts


def _cancel_jobs(event: Event) -> None:
    """Cancel the reminder and end-of-event jobs of a cancelled event (and tell
    whoever scheduled work for it, e.g. follow-up)."""
    jobs.cancel(reminder_key(event))
    jobs.cancel(finish_key(event))
    signals.event_cancelled.send(event)


# ---------------------------------------------------------------------------
# Running it again: duplicates and series


def duplicate_event(
    event: Event, actor: User | None, starts_at: datetime | None = None
) -> Event:
    """Copy an event as a new draft ("run it again"), by default a month later.

    "A month later" keeps the weekday: the first Thursday becomes next month's
    first Thursday, at the same wall-clock time in the event's zone.
    """
    if starts_at is None:
        starts_at = _next_month_same_weekday(event)
    return _copy(event, actor, starts_at)


def _copy(
    event: Event,
    actor: User | None,
    starts_at: datetime,
    series: EventSeries | None = None,
) -> Event:
    tz = ZoneInfo(event.timezone)
    new_start = to_utc(starts_at, tz, "starts_at")
    duration = event.ends_at - event.starts_at
    # Shift in wall-clock time so a 12:00 lunch stays at 12:00 across DST changes.
    shift_local = local(new_start, event.timezone) - local(
        event.starts_at, event.timezone
    )

    def moved(instant: datetime) -> datetime:
        return to_utc(local(instant, event.timezone) + shift_local, tz, "starts_at")

    def maybe_moved(instant: datetime | None) -> datetime | None:
        return None if instant is None else moved(instant)

    copy = Event(
        org_id=event.org_id,
        kind=event.kind,
        title=event.title,
        description=event.description,
        starts_at=new_start,
        ends_at=to_utc(local(new_start, event.timezone) + duration, tz, "ends_at"),
        timezone=event.timezone,
        venue=event.venue,
        address=event.address,
        online_url=event.online_url,
        capacity=event.capacity,
        registration_opens_at=maybe_moved(event.registration_opens_at),
        registration_closes_at=maybe_moved(event.registration_closes_at),
        visibility=event.visibility,
        share_key=secrets.token_urlsafe(16),
        status=EventStatus.DRAFT,
        ical_uid=_new_uid(),
        sequence=0,
        topic=event.topic,
        speakers=event.speakers,
        asks_dietary=event.asks_dietary,
        exercises=event.exercises,
        rounds=event.rounds,
        minutes_per_round=event.minutes_per_round,
        series=series,
        created_by_id=actor.id if actor else event.created_by_id,
    )
    copy.organizers = list(event.organizers)
    copy.sessions = [
        EventSession(
            position=s.position,
            starts_at=moved(s.starts_at),
            title=s.title,
            speaker_name=s.speaker_name,
        )
        for s in event.sessions
    ]
    check_event(copy)
    db.session.add(copy)
    db.session.flush()
    return copy


def _nth_weekday(day: date) -> int:
    """1 for the first Monday of a month, …, -1 when it is the last (5th) one."""
    n = (day.day - 1) // 7 + 1
    return -1 if n == 5 else n


def _next_month_same_weekday(event: Event) -> datetime:
    start = local(event.starts_at, event.timezone)
    rule = rrule(
        MONTHLY,
        count=2,
        dtstart=start,
        byweekday=weekday(start.weekday(), _nth_weekday(start.date())),
    )
    return [d for d in rule if d > start][0]


def create_series(
    event: Event, actor: User | None, repeat: str, count: int | None
) -> list[Event]:
    """Repeat ``event`` ``count`` times in all (itself first) as drafts of a series."""
    if repeat not in REPEATS:
        raise EventError(
            _("Repeat must be one of %(choices)s.", choices=", ".join(REPEATS)),
            field="repeat",
        )
    count_value = required_int(
        count, "count", _l("The number of events"), 2, SERIES_MAX
    )
    start = local(event.starts_at, event.timezone)
    if repeat == "weekly":
        rule = rrule(WEEKLY, count=count_value, dtstart=start)
        label = f"Every {start:%A}"
    elif repeat == "fortnightly":
        rule = rrule(WEEKLY, interval=2, count=count_value, dtstart=start)
        label = f"Every other {start:%A}"
    elif repeat == "monthly_weekday":
        nth = _nth_weekday(start.date())
        rule = rrule(
            MONTHLY,
            count=count_value,
            dtstart=start,
            byweekday=weekday(start.weekday(), nth),
        )
        ordinal = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}[nth]
        label = f"The {ordinal} {start:%A} of every month"
    else:
        if start.day > 28:
            raise EventError(
                _(
                    "Monthly on the same date needs a day from 1 to 28 (not every "
                    "month has a 29th, 30th or 31st); repeat by weekday instead."
                ),
                field="repeat",
            )
        rule = rrule(MONTHLY, count=count_value, dtstart=start)
        label = f"The {_ordinal(start.day)} of every month"
    series = event.series
    if series is None:
        series = EventSeries(org_id=event.org_id, rule=str(rule).split("\n")[-1][:200])
        series.description = label[:200]
        db.session.add(series)
        event.series = series
    occurrences = list(rule)[1:]
    copies = [_copy(event, actor, when, series) for when in occurrences]
    db.session.flush()
    return [event, *copies]


# A series' stored rule label (English, a record: ``create_series``) said in the
# page's language by ``series_label``.
WEEKDAYS = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
)
NTH_WEEKDAY_LABELS = {
    "first": _l("The first %(weekday)s of every month"),
    "second": _l("The second %(weekday)s of every month"),
    "third": _l("The third %(weekday)s of every month"),
    "fourth": _l("The fourth %(weekday)s of every month"),
    "last": _l("The last %(weekday)s of every month"),
}
_DAY = "(" + "|".join(WEEKDAYS) + ")"
_SERIES_LABELS = (
    (re.compile(f"Every {_DAY}"), _l("Every %(weekday)s")),
    (re.compile(f"Every other {_DAY}"), _l("Every other %(weekday)s")),
    (re.compile(r"The (\w+) " + _DAY + " of every month"), NTH_WEEKDAY_LABELS),
    (
        re.compile(r"The (\d+)(?:st|nd|rd|th) of every month"),
        _l("Day %(day)s of every month"),
    ),
)


def series_label(description: str) -> str:
    """A series' stored rule label ("Every Monday") in the page's language; English
    and a label not made by ``create_series`` are shown as stored."""
    locale = get_locale()
    if locale is None or locale.language == "en":
        return description
    days = get_day_names("wide", locale=locale)
    for pattern, label in _SERIES_LABELS:
        match = pattern.fullmatch(description)
        if match is None:
            continue
        *nth, last = match.groups()
        if isinstance(label, dict):
            label = label.get(nth[0])
            if label is None:
                return description
        if last.isdigit():
            return str(label) % {"day": last}
        return str(label) % {"weekday": days[WEEKDAYS.index(last)]}
    return description


def _ordinal(n: int) -> str:
    suffix = (
        "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    )
    return f"{n}{suffix}"
