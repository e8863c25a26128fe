"""Events and registrations: the rules, in plain functions that only ``flush()``.

Seats and the waitlist of one event are only ever changed while that event's row
is locked (:func:`lock_event`), so concurrent registrations, cancellations and
capacity changes never oversell and never leave gaps in waitlist positions.
docs/events.md explains why this is race-free on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import re
import secrets
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from dateutil.rrule import MONTHLY, WEEKLY, rrule, weekday
from flask import current_app
from sqlalchemy import case, func, or_, select, text, update
from sqlalchemy.exc import IntegrityError

from mixer import clock, signals, tokens
from mixer.accounts.models import User
from mixer.accounts.services import AccountError, normalise_email, normalise_tags
from mixer.errors import LinkError
from mixer.events import ics
from mixer.events.models import (
    ACTIVE_STATUSES,
    KIND_LABELS,
    KINDS,
    ROLES,
    STATUSES,
    VISIBILITIES,
    CalendarFeed,
    Event,
    EventSeries,
    EventSession,
    Registration,
)
from mixer.extensions import db
from mixer.jobs import services as jobs
from mixer.mail.models import OutboxMessage
from mixer.mail.services import Attachment, queue_mail
from mixer.orgs.models import Membership, Organization
from mixer.urls import absolute_url

TITLE_MAX = 200
DESCRIPTION_MAX = 20_000
CAPACITY_MAX = 100_000
SERIES_MAX = 52
GUEST_CONFIRM_DAYS = 3
REMINDER_BEFORE = timedelta(days=1)
DIETARY_CHOICES = (
    "Vegetarian",
    "Vegan",
    "Gluten-free",
    "Dairy-free",
    "Halal",
    "Kosher",
    "Nut allergy",
)
# Changing these on a published event tells everyone registered (a new zone alone
# moves no instant, so it is no news).
TIME_FIELDS = ("starts_at", "ends_at")
PLACE_FIELDS = ("venue", "address", "online_url")
EDITABLE = (
    "title",
    "description",
    "starts_at",
    "ends_at",
    "timezone",
    "venue",
    "address",
    "online_url",
    "capacity",
    "registration_opens_at",
    "registration_closes_at",
    "visibility",
    "topic",
    "speakers",
    "asks_dietary",
    "exercises",
    "rounds",
    "minutes_per_round",
)


class EventError(ValueError):
    """A request about events that cannot be met; the message is for people.

    ``field`` names the offending input; ``status`` is 400 for bad input and 409
    when the input is fine but the state of things refuses it.
    """

    def __init__(self, message: str, field: str | None = None, status: int = 400):
        super().__init__(message)
        self.field = field
        self.status = status


# ---------------------------------------------------------------------------
# Input rules shared by the forms and the API


def zone(name: str | None) -> ZoneInfo:
    """The time zone called ``name`` (IANA), or EventError naming ``timezone``."""
    name = (name or "").strip()
    if name not in timezone_names():
        raise EventError(
            f"Unknown time zone {name[:64]!r}: use an IANA name such as "
            "Europe/London or America/New_York.",
            "timezone",
        )
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:  # pragma: no cover
        raise EventError(f"Unknown time zone {name!r}.", "timezone") from exc


_ZONES: list[str] = []


def timezone_names() -> list[str]:
    """Every IANA zone name Python knows, sorted (read once)."""
    if not _ZONES:
        _ZONES.extend(sorted(available_timezones() - {"localtime", "Factory"}))
    return _ZONES


def to_utc(value: datetime, tz: ZoneInfo, field_name: str) -> datetime:
    """An instant in UTC: aware values are converted, naive ones read in ``tz``.

    A wall-clock time that does not exist in ``tz`` (skipped by a daylight-saving
    change) is refused rather than silently moved.
    """
    if value.tzinfo is not None:
        return value.astimezone(UTC)
    placed = value.replace(tzinfo=tz)
    there_and_back = placed.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    if there_and_back != value:
        raise EventError(
            f"{value:%d %b %Y %H:%M} does not exist in {tz.key} (the clocks change "
            "that night); choose another time.",
            field_name,
        )
    return placed.astimezone(UTC)


def local(value: datetime | None, tz_name: str) -> datetime | None:
    """An instant as naive wall-clock time in the zone ``tz_name`` (for forms)."""
    if value is None:
        return None
    return value.astimezone(ZoneInfo(tz_name)).replace(tzinfo=None)


def _text(
    value: Any, field_name: str, max_len: int, label: str, required: bool = False
) -> str | None:
    text_value = " ".join(str(value or "").split()) if value is not None else ""
    if required and not text_value:
        raise EventError(f"{label} is required.", field_name)
    if len(text_value) > max_len:
        raise EventError(
            f"{label} can have at most {max_len} characters "
            f"(this one has {len(text_value)}).",
            field_name,
        )
    return text_value or None


def _int(
    value: Any, field_name: str, label: str, low: int, high: int, required: bool
) -> int | None:
    if value in (None, ""):
        if required:
            raise EventError(f"{label} is required.", field_name)
        return None
    if isinstance(value, bool):
        raise EventError(f"{label} must be a whole number.", field_name)
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise EventError(f"{label} must be a whole number.", field_name) from exc
    if not low <= number <= high:
        raise EventError(
            f"{label} must be between {low} and {high} (got {number}).", field_name
        )
    return number


def _url(value: Any) -> str | None:
    url = (str(value or "")).strip()
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 500:
        raise EventError(
            "The online link must be a full http(s) address of at most 500 "
            "characters, e.g. https://meet.example.org/abc.",
            "online_url",
        )
    return url


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise EventError(
            f"Unknown kind {str(kind)[:40]!r}: choose one of {', '.join(KINDS)}.",
            "kind",
        )
    return kind


def _apply(event: Event, values: dict[str, Any]) -> set[str]:
    """Validate ``values`` and set them on ``event``; returns the changed names."""
    unknown = set(values) - set(EDITABLE)
    if unknown:
        name = sorted(unknown)[0]
        raise EventError(f"{name} cannot be set here.", name)
    tz_name = values.get("timezone", event.timezone)
    tz = zone(tz_name)
    clean: dict[str, Any] = {"timezone": tz.key}
    if "title" in values:
        clean["title"] = _text(values["title"], "title", TITLE_MAX, "Title", True)
    if "description" in values:
        description = str(values["description"] or "")
        if len(description) > DESCRIPTION_MAX:
            raise EventError(
                f"The description can have at most {DESCRIPTION_MAX} characters.",
                "description",
            )
        clean["description"] = description.strip()
    for name in ("starts_at", "ends_at", "registration_opens_at"):
        if name in values:
            required = name != "registration_opens_at"
            clean[name] = _instant(values[name], tz, name, required)
    if "registration_closes_at" in values:
        clean["registration_closes_at"] = _instant(
            values["registration_closes_at"], tz, "registration_closes_at", False
        )
    if "venue" in values:
        clean["venue"] = _text(values["venue"], "venue", 200, "The venue")
    if "address" in values:
        clean["address"] = _text(values["address"], "address", 300, "The address")
    if "online_url" in values:
        clean["online_url"] = _url(values["online_url"])
    if "capacity" in values:
        clean["capacity"] = _int(
            values["capacity"], "capacity", "Capacity", 1, CAPACITY_MAX, True
        )
    if "visibility" in values:
        if values["visibility"] not in VISIBILITIES:
            raise EventError(
                f"Visibility must be one of {', '.join(VISIBILITIES)}.", "visibility"
            )
        clean["visibility"] = values["visibility"]
    if "topic" in values:
        clean["topic"] = _text(values["topic"], "topic", 200, "The topic")
    if "speakers" in values:
        clean["speakers"] = _text(values["speakers"], "speakers", 300, "Speakers")
    if "asks_dietary" in values:
        clean["asks_dietary"] = bool(values["asks_dietary"])
    if "exercises" in values:
        exercises = str(values["exercises"] or "").strip()
        if len(exercises) > DESCRIPTION_MAX:
            raise EventError(
                f"Exercises can have at most {DESCRIPTION_MAX} characters.",
                "exercises",
            )
        clean["exercises"] = exercises or None
    if "rounds" in values:
        clean["rounds"] = _int(values["rounds"], "rounds", "Rounds", 1, 50, False)
    if "minutes_per_round" in values:
        clean["minutes_per_round"] = _int(
            values["minutes_per_round"],
            "minutes_per_round",
            "Minutes per round",
            1,
            120,
            False,
        )
    changed = {k for k, v in clean.items() if getattr(event, k, None) != v}
    for key, value in clean.items():
        setattr(event, key, value)
    _check_event(event)
    return changed


def _instant(value: Any, tz: ZoneInfo, name: str, required: bool) -> datetime | None:
    if value in (None, ""):
        if required:
            raise EventError(
                f"{name.replace('_', ' ').capitalize()} is required.", name
            )
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError as exc:
            raise EventError(
                f"{value[:40]!r} is not a date and time (use ISO 8601, "
                "e.g. 2026-03-05T12:00:00+01:00).",
                name,
            ) from exc
    if not isinstance(value, datetime):
        raise EventError("A date and time is needed.", name)
    return to_utc(value, tz, name)


def _check_event(event: Event) -> None:
    """Rules across fields, checked after every change."""
    if event.ends_at <= event.starts_at:
        raise EventError(
            "The end must be after the start "
            f"({local(event.starts_at, event.timezone):%d %b %Y %H:%M}).",
            "ends_at",
        )
    if event.ends_at - event.starts_at > timedelta(days=14):
        raise EventError("An event can last at most 14 days.", "ends_at")
    opens, closes = event.registration_opens_at, event.registration_closes_at
    if opens and opens >= event.ends_at:
        raise EventError(
            "Registration must open before the event ends.", "registration_opens_at"
        )
    if closes and opens and closes <= opens:
        raise EventError(
            "Registration must close after it opens.", "registration_closes_at"
        )
    if closes and closes > event.ends_at:
        raise EventError(
            "Registration cannot stay open after the event ends.",
            "registration_closes_at",
        )
    if event.kind == "mentor_mixer":
        event.rounds = event.rounds or 6
        event.minutes_per_round = event.minutes_per_round or 8


# ---------------------------------------------------------------------------
# Agenda (sessions)

AGENDA_LINE = re.compile(
    r"^\s*(?:(?P<date>\d{4}-\d{2}-\d{2})\s+)?(?P<time>\d{1,2}[:.]\d{2})\s*"
    r"(?:\||-|–)\s*(?P<title>[^|]+?)\s*(?:\|\s*(?P<speaker>.*?)\s*)?$"
)


@dataclass
class AgendaItem:
    """One line of a workshop's agenda, before it is stored as a session."""

    starts_at: datetime | time  # naive local, aware instant, or a time of day
    title: str
    speaker: str | None = None


def parse_agenda(text_value: str) -> list[AgendaItem]:
    """Read "09:30 | Title | Speaker" lines (a date may lead: 2026-03-05 09:30)."""
    items = []
    for number, line in enumerate((text_value or "").splitlines(), start=1):
        if not line.strip():
            continue
        match = AGENDA_LINE.match(line)
        if not match:
            raise EventError(
                f"Agenda line {number} should look like "
                f"“09:30 | Title | Speaker”: {line.strip()[:60]!r}.",
                "agenda",
            )
        try:
            hours, minutes = (int(p) for p in re.split(r"[:.]", match["time"]))
            at: datetime | time = time(hours, minutes)
            if match["date"]:
                at = datetime.combine(date.fromisoformat(match["date"]), at)
        except ValueError as exc:
            raise EventError(
                f"Agenda line {number}: {match['time']} is not a time of day.",
                "agenda",
            ) from exc
        items.append(AgendaItem(at, match["title"], match["speaker"] or None))
    return items


def agenda_text(event: Event) -> str:
    """The sessions as editable lines (the inverse of :func:`parse_agenda`)."""
    first_day = local(event.starts_at, event.timezone).date()
    lines = []
    for session in event.sessions:
        at = local(session.starts_at, event.timezone)
        stamp = f"{at:%H:%M}" if at.date() == first_day else f"{at:%Y-%m-%d %H:%M}"
        speaker = f" | {session.speaker_name}" if session.speaker_name else ""
        lines.append(f"{stamp} | {session.title}{speaker}")
    return "\n".join(lines)


def _set_sessions(event: Event, agenda: list[AgendaItem] | None) -> None:
    """Set the programme; every event keeps at least one session.

    A workshop's sessions come from its agenda (kept when ``agenda`` is None); the
    other kinds have one session mirroring the event (topic and speakers).
    """
    if event.kind == "workshop" and agenda:
        rows = _agenda_rows(event, agenda)
    elif event.kind == "workshop" and agenda is None and event.sessions:
        return
    else:
        lunch = event.kind == "lunch_and_learn"
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


def _agenda_rows(
    event: Event, agenda: list[AgendaItem]
) -> list[tuple[datetime, str, str | None]]:
    if len(agenda) > 100:
        raise EventError("An agenda can have at most 100 sessions.", "agenda")
    tz = ZoneInfo(event.timezone)
    first_day = local(event.starts_at, event.timezone).date()
    rows = []
    for number, item in enumerate(agenda, start=1):
        at = item.starts_at
        if isinstance(at, time):
            at = datetime.combine(first_day, at)
        instant = to_utc(at, tz, "agenda")
        if not event.starts_at <= instant < event.ends_at:
            start = local(event.starts_at, event.timezone)
            end = local(event.ends_at, event.timezone)
            raise EventError(
                f"Agenda item {number} ({local(instant, event.timezone):%H:%M}) is "
                f"outside the workshop ({start:%H:%M}–{end:%H:%M}).",
                "agenda",
            )
        title = _text(item.title, "agenda", 200, f"Agenda item {number}'s title", True)
        speaker = _text(item.speaker, "agenda", 200, f"Agenda item {number}'s speaker")
        rows.append((instant, title, speaker))
    rows.sort(key=lambda row: row[0])
    return rows


# ---------------------------------------------------------------------------
# Events


def create_event(
    org: Organization,
    creator: User | None,
    *,
    kind: str,
    status: str = "draft",
    organizers: Iterable[User] | None = None,
    agenda: list[AgendaItem] | None = None,
    **values: Any,
) -> Event:
    """Create an event (a draft unless ``status="published"``) with its sessions."""
    _check_kind(kind)
    if status not in ("draft", "published"):
        raise EventError("A new event is either draft or published.", "status")
    for name in ("title", "starts_at", "ends_at", "timezone", "capacity"):
        if values.get(name) in (None, ""):
            label = name.replace("_", " ").capitalize()
            raise EventError(f"{label} is required.", name)
    event = Event(
        org_id=org.id,
        kind=kind,
        status="draft",
        visibility="members",
        asks_dietary=kind == "lunch_and_learn",
        description="",
        share_key=secrets.token_urlsafe(16),
        ical_uid=_new_uid(),
        sequence=0,
        created_by_id=creator.id if creator else None,
    )
    event.timezone = values.get("timezone") or ""
    _apply(event, values)
    organizer_list = list(organizers or [])
    if creator is not None and creator not in organizer_list:
        organizer_list.insert(0, creator)
    _check_organizers(org, organizer_list)
    event.organizers = organizer_list
    _set_sessions(event, agenda)
    db.session.add(event)
    db.session.flush()
    if status == "published":
        publish_event(event)
    return event


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
            f"Choose organizers from the members of {org.name}.", "organizers"
        )


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
    event = lock_event(event.id)
    if event.status == "cancelled" and values:
        raise EventError(
            "This event was cancelled; duplicate it to run it again.", "status", 409
        )
    old_start = event.starts_at
    changed = _apply(event, values)
    if organizers is not None:
        people = list(organizers)
        _check_organizers(event.org, people)
        if {p.id for p in people} != {p.id for p in event.organizers}:
            event.organizers = people
            changed.add("organizers")
    if agenda is not None or changed & {"starts_at", "ends_at", "topic", "speakers"}:
        if agenda is None and event.kind == "workshop" and "starts_at" in changed:
            delta = event.starts_at - old_start
            for session in event.sessions:
                session.starts_at += delta
        _set_sessions(event, agenda)
        if agenda is not None:
            changed.add("agenda")
    db.session.flush()
    if event.status == "published":
        if changed & (set(TIME_FIELDS) | set(PLACE_FIELDS)):
            event.sequence += 1
            _fan_out(event, "updated", changed)
        if changed & {"starts_at", "ends_at"}:
            _schedule_jobs(event)
        if "capacity" in changed:
            fill_from_waitlist(event)
    if status is not None and status != event.status:
        set_status(event, status)
        changed.add("status")
    db.session.flush()
    return changed


def set_status(event: Event, status: str, reason: str | None = None) -> Event:
    """Move an event along draft → published → cancelled (API ``status`` field)."""
    if status not in STATUSES:
        raise EventError(f"Status must be one of {', '.join(STATUSES)}.", "status")
    if status == event.status:
        return event
    if status == "published":
        return publish_event(event)
    if status == "cancelled":
        return cancel_event(event, reason)
    raise EventError(
        f"An event cannot go from {event.status} to {status}.", "status", 409
    )


def publish_event(event: Event) -> Event:
    """Open a draft for registration and schedule its reminder."""
    if event.status != "draft":
        raise EventError(
            f"Only a draft can be published; this event is {event.status}.",
            "status",
            409,
        )
    event.status = "published"
    event.published_at = clock.now()
    _schedule_jobs(event)
    db.session.flush()
    return event


def cancel_event(event: Event, reason: str | None = None) -> Event:
    """Cancel an event and tell everyone who signed up (with a METHOD:CANCEL .ics)."""
    event = lock_event(event.id)
    if event.status == "cancelled":
        return event
    if event.status == "ended" or (event.status == "published" and event.is_past):
        raise EventError("An event that has ended cannot be cancelled.", "status", 409)
    was_published = event.status == "published"
    event.status = "cancelled"
    event.cancelled_at = clock.now()
    event.cancel_reason = _text(reason, "reason", 500, "The reason")
    event.sequence += 1
    _cancel_jobs(event)
    db.session.flush()
    if was_published:
        _fan_out(event, "cancelled")
    return event


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

    def moved(instant: datetime | None) -> datetime | None:
        if instant is None:
            return None
        return to_utc(local(instant, event.timezone) + shift_local, tz, "starts_at")

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
        registration_opens_at=moved(event.registration_opens_at),
        registration_closes_at=moved(event.registration_closes_at),
        visibility=event.visibility,
        share_key=secrets.token_urlsafe(16),
        status="draft",
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
    _check_event(copy)
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


REPEATS = {
    "weekly": "Every week",
    "fortnightly": "Every two weeks",
    "monthly_weekday": "Monthly on the same weekday (e.g. the first Thursday)",
    "monthly_date": "Monthly on the same date",
}


def create_series(
    event: Event, actor: User | None, repeat: str, count: int
) -> list[Event]:
    """Repeat ``event`` ``count`` times in all (itself first) as drafts of a series."""
    if repeat not in REPEATS:
        raise EventError(f"Repeat must be one of {', '.join(REPEATS)}.", "repeat")
    count_value = _int(count, "count", "The number of events", 2, SERIES_MAX, True)
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
                "Monthly on the same date needs a day from 1 to 28 (not every "
                "month has a 29th, 30th or 31st); repeat by weekday instead.",
                "repeat",
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


def _ordinal(n: int) -> str:
    suffix = (
        "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    )
    return f"{n}{suffix}"


def lock_event(event_id: int) -> Event:
    """Lock one event's row until the transaction ends; returns it, freshly read.

    PostgreSQL: ``SELECT … FOR UPDATE`` holds the row lock; a second transaction
    waits there and, under READ COMMITTED, its next statements see what the first
    committed. SQLite: a write to the row takes the database's single write lock
    first thing, so the transaction's snapshot starts with that lock held.
    """
    if db.session.get_bind().dialect.name == "sqlite":
        # A no-op write to a column nothing references (no foreign-key checks).
        db.session.execute(
            text("UPDATE event SET sequence = sequence WHERE id = :id"),
            {"id": event_id},
        )
    event = db.session.scalars(
        select(Event)
        .where(Event.id == event_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if event is None:
        raise EventError("No such event.", "event", 404)
    return event


def can_manage(event: Event, user: Any) -> bool:
    """Organizers of the organization, and people named organizers of the event."""
    if not getattr(user, "is_authenticated", False):
        return False
    membership = user.membership_in(event.org)
    if membership is None:
        return False
    return membership.has_role("organizer") or any(
        o.id == user.id for o in event.organizers
    )


def visible_to(event: Event, user: Any, key: str | None = None) -> str | None:
    """How a person may see ``event``: "manager", "member", "guest" or None."""
    if can_manage(event, user):
        return "manager"
    member = getattr(user, "is_authenticated", False) and user.membership_in(event.org)
    if event.status == "draft":
        return None
    if member:
        return "member"
    if (
        event.visibility == "link"
        and key
        and secrets.compare_digest(key, event.share_key)
    ):
        return "guest"
    return None


def when_text(event: Event) -> str:
    """ "Thu 05 Mar 2026, 12:00–13:00 CET" in the event's own zone."""
    start = event.starts_at.astimezone(ZoneInfo(event.timezone))
    end = event.ends_at.astimezone(ZoneInfo(event.timezone))
    if start.date() == end.date():
        return f"{start:%a %d %b %Y, %H:%M}–{end:%H:%M} {end.tzname()}"
    first = f"{start:%a %d %b %Y, %H:%M} {start.tzname()}"
    return f"{first} – {end:%a %d %b %Y, %H:%M} {end.tzname()}"


def event_url(event: Event, guest: bool = False) -> str:
    """The absolute address of the event page (with the share key for guests)."""
    if guest and event.visibility == "link":
        return absolute_url("events.show", event_id=event.id, key=event.share_key)
    return absolute_url("events.show", event_id=event.id)


def list_events(
    org: Organization,
    *,
    when: str = "upcoming",
    kind: str | None = None,
    query: str | None = None,
    include_drafts: bool = False,
    limit: int | None = None,
) -> list[Event]:
    """An organization's events: ``when`` is upcoming, past or all."""
    now = clock.now()
    stmt = select(Event).where(Event.org_id == org.id)
    if not include_drafts:
        stmt = stmt.where(Event.status != "draft")
    if when == "upcoming":
        stmt = stmt.where(Event.ends_at > now).order_by(Event.starts_at, Event.id)
    elif when == "past":
        stmt = stmt.where(Event.ends_at <= now).order_by(
            Event.starts_at.desc(), Event.id.desc()
        )
    else:
        stmt = stmt.order_by(Event.starts_at.desc(), Event.id.desc())
    if kind in KINDS:
        stmt = stmt.where(Event.kind == kind)
    if query:
        like = f"%{query.strip().lower()[:100]}%"
        stmt = stmt.where(
            or_(
                func.lower(Event.title).like(like),
                func.lower(func.coalesce(Event.topic, "")).like(like),
            )
        )
    if limit:
        stmt = stmt.limit(limit)
    return list(db.session.scalars(stmt))


def upcoming_events(org: Organization, limit: int = 5) -> list[Event]:
    """The next published events of ``org`` (for its home page)."""
    now = clock.now()
    return list(
        db.session.scalars(
            select(Event)
            .where(
                Event.org_id == org.id,
                Event.status == "published",
                Event.ends_at > now,
            )
            .order_by(Event.starts_at)
            .limit(limit)
        )
    )


def counts_for(event_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Registrations per status for many events, in one query."""
    ids = list(event_ids)
    result: dict[int, dict[str, int]] = {
        i: dict.fromkeys(("pending", "registered", "waitlisted", "cancelled"), 0)
        for i in ids
    }
    if not ids:
        return result
    rows = db.session.execute(
        select(Registration.event_id, Registration.status, func.count())
        .where(Registration.event_id.in_(ids))
        .group_by(Registration.event_id, Registration.status)
    )
    for event_id, status, count in rows:
        result[event_id][status] = count
    return result


# ---------------------------------------------------------------------------
# Registration


def registration_defaults(user: User, org: Organization) -> dict[str, Any]:
    """What a member's registration starts with: their profile."""
    membership = user.membership_in(org)
    department = (
        membership.department.name if membership and membership.department else None
    )
    return {
        "name": user.name,
        "email": user.email,
        "department": department,
        "level": membership.level if membership else None,
        "offers": list(user.offers or []),
        "seeks": list(user.seeks or []),
        "role": "either",
    }


def _answers(event: Event, values: dict[str, Any]) -> dict[str, Any]:
    """Validate a registration's answers (name, role, tags, department, dietary)."""
    clean: dict[str, Any] = {}
    clean["name"] = _text(values.get("name"), "name", 120, "Your name", True)
    role = values.get("role") or None
    if role is not None and role not in ROLES:
        raise EventError(f"Role must be one of {', '.join(ROLES)}.", "role")
    clean["role"] = role
    clean["department"] = _text(
        values.get("department"), "department", 80, "Department"
    )
    clean["level"] = _int(values.get("level"), "level", "Level", 0, 80, False)
    for name in ("offers", "seeks"):
        raw = values.get(name)
        if raw is not None and not isinstance(raw, str | list | tuple):
            raise EventError("Give tags as a list or comma-separated text.", name)
        clean[name] = normalise_tags(raw)
    dietary = _text(values.get("dietary"), "dietary", 120, "Dietary needs")
    if dietary and dietary.lower() in ("none", "no", "-", "n/a"):
        dietary = None
    clean["dietary"] = dietary
    return clean


def check_open(event: Event, by_organizer: bool = False) -> None:
    """Refuse registration for events that are not open (409 naming ``event``)."""
    now = clock.now()
    if event.status == "cancelled":
        raise EventError(
            "This event was cancelled; registration is closed.", "event", 409
        )
    if event.status == "ended" or event.ends_at <= now:
        raise EventError("This event is over; registration is closed.", "event", 409)
    if event.status != "published":
        raise EventError(
            "This event is not published yet; registration is not open.", "event", 409
        )
    if by_organizer:
        return
    if event.starts_at <= now:
        raise EventError(
            "This event has started; registration is closed.", "event", 409
        )
    if event.registration_opens_at and now < event.registration_opens_at:
        raise EventError(
            "Registration opens "
            f"{local(event.registration_opens_at, event.timezone):%d %b %Y %H:%M}.",
            "event",
            409,
        )
    if event.registration_closes_at and now >= event.registration_closes_at:
        raise EventError("Registration has closed.", "event", 409)


def register(
    event: Event,
    *,
    email: str,
    source: str,
    user: User | None = None,
    **answers: Any,
) -> Registration:
    """Sign someone up: registered while seats last, then waitlisted.

    ``source`` is member, organizer or api (confirmed at once) or guest (pending
    until the e-mailed link is followed; see :func:`confirm_guest`).
    """
    try:
        address = normalise_email(email)
    except AccountError as exc:
        raise EventError(str(exc), "email") from exc
    clean = _answers(event, answers)
    by_organizer = source in ("organizer", "api")
    check_open(event, by_organizer)
    event = lock_event(event.id)
    check_open(event, by_organizer)  # again: it may have changed while we waited
    reg = db.session.scalar(
        select(Registration).where(
            Registration.event_id == event.id, Registration.email == address
        )
    )
    if reg is not None and reg.status != "cancelled":
        if not (reg.status == "pending" and source == "guest"):
            raise EventError(
                f"{address} is already "
                f"{'registered' if reg.status != 'pending' else 'signed up'} "
                "for this event.",
                "email",
                409,
            )
    account = user or (reg.user if reg is not None else None) or _user_for(address)
    if reg is None:
        reg = Registration(event=event, email=address)
    reg.created_at = clock.now()
    reg.user = account
    reg.source = source
    for key, value in clean.items():
        setattr(reg, key, value)
    reg.cancelled_at = None
    reg.waitlist_position = None
    reg.status = "pending"
    try:
        with db.session.begin_nested():  # the unique (event, email) is the backstop
            db.session.add(reg)
    except IntegrityError as exc:
        raise EventError(
            f"{address} is already registered for this event.", "email", 409
        ) from exc
    if source == "guest":
        db.session.flush()
        _send_guest_confirmation(reg)
        return reg
    reg.confirmed_at = clock.now()
    _seat(event, reg)
    return reg


def _user_for(address: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == address))


def _seat(event: Event, reg: Registration) -> None:
    """Give ``reg`` a seat or the next waitlist place (the event is locked)."""
    registered, waitlisted = _active_counts(event.id)
    if registered < event.capacity:
        reg.status, reg.waitlist_position = "registered", None
        db.session.flush()
        _mail(reg, "event_confirmation", f"You're registered: {event.title}", "REQUEST")
    else:
        reg.status, reg.waitlist_position = "waitlisted", waitlisted + 1
        db.session.flush()
        _mail(
            reg,
            "event_waitlisted",
            f"Waitlist #{reg.waitlist_position}: {event.title}",
        )


def _active_counts(event_id: int) -> tuple[int, int]:
    row = db.session.execute(
        select(
            func.count(case((Registration.status == "registered", 1))),
            func.count(case((Registration.status == "waitlisted", 1))),
        ).where(Registration.event_id == event_id)
    ).one()
    return int(row[0]), int(row[1])


def _send_guest_confirmation(reg: Registration) -> None:
    token = tokens.make("event-guest", {"rid": reg.id}, single_use=True)
    link = absolute_url("events.confirm_guest", event_id=reg.event_id, token=token)
    queue_mail(
        reg.email,
        f"Confirm your place: {reg.event.title}",
        "event_guest_confirm",
        {
            "org": reg.event.org,
            "event": reg.event,
            "registration": reg,
            "link": link,
            "days": GUEST_CONFIRM_DAYS,
        },
        org=reg.event.org,
        kind="auth",
    )


def read_guest_token(token: str) -> Registration:
    """The pending registration behind a guest's confirmation link."""
    data = tokens.read("event-guest", token, max_age=GUEST_CONFIRM_DAYS * 86400)
    reg = db.session.get(Registration, data.get("rid"))
    if reg is None or reg.status != "pending":
        raise LinkError("used", "This link has already been used.")
    return reg


def confirm_guest(token: str) -> Registration:
    """Turn a guest's pending registration into a seat (or waitlist place)."""
    data = tokens.read("event-guest", token, max_age=GUEST_CONFIRM_DAYS * 86400)
    reg = db.session.get(Registration, data.get("rid"))
    if reg is None:
        raise LinkError("invalid", "This link is not valid.")
    check_open(reg.event)
    event = lock_event(reg.event_id)
    check_open(event)
    db.session.refresh(reg)
    if reg.status != "pending":
        raise LinkError("used", "This link has already been used.")
    tokens.spend("event-guest", data)
    reg.confirmed_at = clock.now()
    _seat(event, reg)
    return reg


def cancel_registration(
    reg: Registration, by: User | None = None, notify: bool = True
) -> list[Registration]:
    """Cancel a place; a freed seat goes to the waitlist's first. Returns promoted."""
    event = lock_event(reg.event_id)
    db.session.refresh(reg)
    if reg.status == "cancelled":
        return []
    if event.status == "cancelled" or event.is_past:
        raise EventError(
            "This event is over or cancelled; nothing to cancel.", "event", 409
        )
    was, position = reg.status, reg.waitlist_position
    reg.status, reg.waitlist_position = "cancelled", None
    reg.cancelled_at = clock.now()
    db.session.flush()
    if was == "waitlisted" and position is not None:
        _close_gap(event.id, position)
    promoted = fill_from_waitlist(event) if was == "registered" else []
    if notify and was in ACTIVE_STATUSES:
        _mail(
            reg,
            "event_registration_cancelled",
            f"Cancelled: your place at {event.title}",
            method="CANCEL" if was == "registered" else None,
            extra={"by_organizer": by is not None and by.id != reg.user_id},
        )
    return promoted


def _close_gap(event_id: int, position: int, size: int = 1) -> None:
    db.session.execute(
        update(Registration)
        .where(
            Registration.event_id == event_id,
            Registration.status == "waitlisted",
            Registration.waitlist_position > position,
        )
        .values(waitlist_position=Registration.waitlist_position - size)
        .execution_options(synchronize_session="fetch")
    )


def fill_from_waitlist(event: Event) -> list[Registration]:
    """Promote waitlisted people, first in line first, while seats are free.

    Call with the event locked (:func:`lock_event`).
    """
    registered, _ = _active_counts(event.id)
    free = event.capacity - registered
    if free <= 0:
        return []
    promoted = list(
        db.session.scalars(
            select(Registration)
            .where(
                Registration.event_id == event.id,
                Registration.status == "waitlisted",
            )
            .order_by(Registration.waitlist_position)
            .limit(free)
        )
    )
    if not promoted:
        return []
    now = clock.now()
    for reg in promoted:
        reg.status, reg.waitlist_position, reg.promoted_at = "registered", None, now
    db.session.flush()
    _close_gap(event.id, len(promoted), len(promoted))
    for reg in promoted:
        _mail(
            reg,
            "event_promoted",
            f"A seat opened up: you're in for {event.title}",
            method="REQUEST",
        )
    return promoted


def move_registration(
    reg: Registration, to: str, position: int | None = None
) -> Registration:
    """Organizers move people: ``to`` is "registered" (even past capacity) or
    "waitlist" (at ``position``, default last)."""
    event = lock_event(reg.event_id)
    db.session.refresh(reg)
    if reg.status not in ACTIVE_STATUSES:
        raise EventError(
            "Only registered or waitlisted people can be moved.", "status", 409
        )
    _, waitlisted = _active_counts(event.id)
    if to == "registered":
        if reg.status == "registered":
            return reg
        old = reg.waitlist_position
        reg.status, reg.waitlist_position, reg.promoted_at = (
            "registered",
            None,
            clock.now(),
        )
        db.session.flush()
        _close_gap(event.id, old)
        _mail(
            reg,
            "event_promoted",
            f"A seat opened up: you're in for {event.title}",
            method="REQUEST",
        )
        return reg
    if to != "waitlist":
        raise EventError("Move to 'registered' or 'waitlist'.", "to")
    last = waitlisted + (0 if reg.status == "waitlisted" else 1)
    target = _int(position or last, "position", "Position", 1, last, True)
    was_registered = reg.status == "registered"
    if reg.status == "waitlisted":
        old = reg.waitlist_position
        # Step out of the queue (position 0 never clashes), close the gap, re-enter.
        reg.waitlist_position = 0
        db.session.flush()
        _close_gap(event.id, old)
    reg.status = "waitlisted"
    reg.waitlist_position = 0
    db.session.flush()
    db.session.execute(
        update(Registration)
        .where(
            Registration.event_id == event.id,
            Registration.status == "waitlisted",
            Registration.waitlist_position >= target,
        )
        .values(waitlist_position=Registration.waitlist_position + 1)
        .execution_options(synchronize_session="fetch")
    )
    reg.waitlist_position = target
    db.session.flush()
    if was_registered:
        _mail(reg, "event_waitlisted", f"Waitlist #{target}: {event.title}")
    return reg


def my_registrations(user: User, org: Organization | None = None) -> list[Registration]:
    """A person's registrations (by account or e-mail), soonest event first."""
    stmt = (
        select(Registration)
        .join(Event)
        .where(
            or_(Registration.user_id == user.id, Registration.email == user.email),
            Registration.status != "cancelled",
        )
        .order_by(Event.starts_at)
    )
    if org is not None:
        stmt = stmt.where(Event.org_id == org.id)
    return list(db.session.scalars(stmt))


def registration_for(event: Event, user: Any) -> Registration | None:
    """The signed-in person's registration for ``event`` (any status), if any."""
    if not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(
        select(Registration).where(
            Registration.event_id == event.id,
            or_(Registration.user_id == user.id, Registration.email == user.email),
        )
    )


def cancel_token(reg: Registration) -> str:
    """The secret in a registration's cancel link (e-mails); it does not expire.

    It names the moment of registering, so a link from an earlier sign-up does
    not cancel a later one of the same person.
    """
    return tokens.make("event-cancel", {"rid": reg.id, "at": _stamp(reg.created_at)})


def registration_from_cancel_token(token: str) -> Registration:
    """The registration a cancel link points at."""
    data = tokens.read("event-cancel", token)
    reg = db.session.get(Registration, data.get("rid"))
    if reg is None or data.get("at") != _stamp(reg.created_at):
        raise LinkError("invalid", "This link belongs to an earlier registration.")
    return reg


def badge_url(reg: Registration) -> str:
    """Where a registration's badge PDF lives (absolute, with its download key)."""
    from mixer.badges.services import badge_download_url

    return badge_download_url(reg)


# ---------------------------------------------------------------------------
# Organizer views: dashboard, attendee table, CSV


@dataclass
class Dashboard:
    """What an organizer sees first about an event."""

    capacity: int
    counts: dict[str, int]
    checked_in: int
    catering: list[tuple[str, int]]
    recent: list[Registration]
    waitlist_head: list[Registration]
    roles: dict[str, int] = field(default_factory=dict)

    @property
    def seats_left(self) -> int:
        """Seats nobody holds yet."""
        return max(0, self.capacity - self.counts["registered"])


def dashboard(event: Event) -> Dashboard:
    """Counts, catering and the latest sign-ups: a handful of queries at any size."""
    counts = counts_for([event.id])[event.id]
    checked_in = db.session.scalar(
        select(func.count()).where(
            Registration.event_id == event.id,
            Registration.status == "registered",
            Registration.checked_in_at.is_not(None),
        )
    )
    roles: dict[str, int] = {}
    for role, count in db.session.execute(
        select(Registration.role, func.count())
        .where(
            Registration.event_id == event.id,
            Registration.status == "registered",
        )
        .group_by(Registration.role)
    ):
        roles[role or "either"] = roles.get(role or "either", 0) + count
    recent = list(
        db.session.scalars(
            select(Registration)
            .where(Registration.event_id == event.id)
            .order_by(Registration.created_at.desc(), Registration.id.desc())
            .limit(10)
        )
    )
    head = list(
        db.session.scalars(
            select(Registration)
            .where(
                Registration.event_id == event.id,
                Registration.status == "waitlisted",
            )
            .order_by(Registration.waitlist_position)
            .limit(5)
        )
    )
    return Dashboard(
        counts=counts,
        checked_in=int(checked_in or 0),
        catering=catering_summary(event),
        recent=recent,
        waitlist_head=head,
        roles=roles,
        capacity=event.capacity,
    )


def catering_summary(event: Event) -> list[tuple[str, int]]:
    """Registered people per dietary need, most common first ("None" included)."""
    # No bound parameters in the grouped expression: PostgreSQL would not match it.
    need = func.lower(Registration.dietary)
    rows = db.session.execute(
        select(need, func.min(Registration.dietary), func.count())
        .where(Registration.event_id == event.id, Registration.status == "registered")
        .group_by(need)
    ).all()
    summary = [
        (label if key else "No special needs", count) for key, label, count in rows
    ]
    return sorted(summary, key=lambda row: (row[0] == "No special needs", -row[1]))


def catering_list(event: Event) -> list[tuple[str, str]]:
    """(name, dietary need) of registered people with a need, for the caterer."""
    return list(
        db.session.execute(
            select(Registration.name, Registration.dietary)
            .where(
                Registration.event_id == event.id,
                Registration.status == "registered",
                Registration.dietary.is_not(None),
            )
            .order_by(Registration.dietary, Registration.name)
        ).all()
    )


ATTENDEE_STATUSES = ("registered", "waitlisted", "pending", "cancelled")


def search_registrations(
    event: Event,
    query: str | None = None,
    status: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> tuple[list[Registration], int]:
    """One page of an event's registrations matching ``query``; and the total."""
    stmt = select(Registration).where(Registration.event_id == event.id)
    if status in ATTENDEE_STATUSES:
        stmt = stmt.where(Registration.status == status)
    else:
        stmt = stmt.where(Registration.status != "cancelled")
    if query:
        like = f"%{query.strip().lower()[:100]}%"
        stmt = stmt.where(
            or_(
                func.lower(Registration.name).like(like),
                Registration.email.like(like),
                func.lower(func.coalesce(Registration.department, "")).like(like),
            )
        )
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    order = case(
        (Registration.status == "registered", 0),
        (Registration.status == "waitlisted", 1),
        (Registration.status == "pending", 2),
        else_=3,
    )
    rows = db.session.scalars(
        stmt.order_by(
            order,
            Registration.waitlist_position,
            func.lower(Registration.name),
            Registration.id,
        )
        .limit(per_page)
        .offset((max(page, 1) - 1) * per_page)
    )
    return list(rows), int(total or 0)


CSV_HEADER = (
    "id",
    "name",
    "email",
    "status",
    "waitlist_position",
    "role",
    "department",
    "level",
    "offers",
    "seeks",
    "dietary",
    "registered_at",
    "checked_in_at",
    "source",
)


def _csv_safe(value: Any) -> str:
    """Spreadsheets run cells starting with = + - @ as formulas; quote them."""
    text_value = "" if value is None else str(value)
    if text_value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text_value
    return text_value


def registrations_csv(event: Event) -> Iterator[str]:
    """The attendee list as CSV text, streamed in chunks (any size)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    stmt = (
        select(Registration)
        .where(Registration.event_id == event.id)
        .order_by(Registration.id)
        .execution_options(yield_per=500)
    )
    for number, reg in enumerate(db.session.scalars(stmt), start=1):
        writer.writerow(
            [
                _csv_safe(v)
                for v in (
                    reg.id,
                    reg.name,
                    reg.email,
                    reg.status,
                    reg.waitlist_position,
                    reg.role,
                    reg.department,
                    reg.level,
                    ", ".join(reg.offers or []),
                    ", ".join(reg.seeks or []),
                    reg.dietary,
                    reg.created_at.isoformat(),
                    reg.checked_in_at.isoformat() if reg.checked_in_at else "",
                    reg.source,
                )
            ]
        )
        if number % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


# ---------------------------------------------------------------------------
# E-mail and jobs


def _mail(
    reg: Registration,
    template: str,
    subject: str,
    method: str | None = None,
    extra: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
) -> OutboxMessage | None:
    """E-mail one registrant, with an .ics invitation (REQUEST) or cancellation."""
    event = reg.event
    attachments = []
    if method:
        attachments.append(
            Attachment(
                "invite.ics" if method == "REQUEST" else "cancel.ics",
                ics.event_ics(event, method=method, attendee=reg),
                f"text/calendar; method={method}; charset=utf-8",
            )
        )
    user = reg.user
    # Reminders are the one kind of event mail people may turn off.
    preference = "event_reminders" if template == "event_reminder" and user else None
    guest = (
        reg.source == "guest" or user is None or user.membership_in(event.org) is None
    )
    context = {
        "org": event.org,
        "event": event,
        "registration": reg,
        "event_link": event_url(event, guest=guest),
        "cancel_link": absolute_url(
            "events.cancel_link", event_id=event.id, token=cancel_token(reg)
        ),
        "calendar_link": absolute_url("events.calendar", event_id=event.id),
        **(extra or {}),
    }
    return queue_mail(
        reg.email,
        subject,
        template,
        context,
        user=user if preference else None,
        preference=preference,
        org=event.org,
        kind=f"events.{template.removeprefix('event_')}",
        attachments=attachments,
        dedupe_key=dedupe_key,
    )


def _fan_out(event: Event, what: str, changed: Iterable[str] = ()) -> None:
    """Queue the job that tells everyone signed up that the event changed.

    A job (written in this transaction) rather than mail in the request: a big
    event's thousands of messages must not hold up the organizer's click.
    """
    what_changed = set(changed)
    kinds = []
    if what_changed & set(TIME_FIELDS):
        kinds.append("time")
    if what_changed & set(PLACE_FIELDS):
        kinds.append("place")
    jobs.schedule(
        "events.notify",
        {
            "event_id": event.id,
            "what": what,
            "sequence": event.sequence,
            "changed": kinds,
        },
        dedupe_key=f"events.notify:{event.id}:{event.sequence}",
        org_id=event.org_id,
    )


def notify_registrants(
    event_id: int, what: str, sequence: int, changed: list[str]
) -> dict[str, int]:
    """E-mail everyone signed up about a cancellation or a new time or place.

    Each message has a dedupe key, so a job that runs again sends nothing twice;
    a notice already superseded by a newer change (higher SEQUENCE) is skipped.
    """
    event = db.session.get(Event, event_id)
    if event is None or event.sequence != sequence:
        return {"sent": 0, "superseded": 1}
    if what == "cancelled":
        statuses: tuple[str, ...] = ("pending", *ACTIVE_STATUSES)
    else:
        statuses = ACTIVE_STATUSES
    people = db.session.scalars(
        select(Registration)
        .where(Registration.event_id == event.id, Registration.status.in_(statuses))
        .order_by(Registration.id)
    ).all()
    for reg in people:
        key = f"events.notify:{event.id}:{sequence}:{reg.id}"
        if what == "cancelled":
            _mail(
                reg,
                "event_cancelled",
                f"Cancelled: {event.title}",
                method="CANCEL" if reg.status == "registered" else None,
                dedupe_key=key,
            )
        else:
            _mail(
                reg,
                "event_updated",
                f"Changed {' and '.join(changed) or 'details'}: {event.title}",
                method="REQUEST" if reg.status == "registered" else None,
                extra={"changed": changed},
                dedupe_key=key,
            )
    return {"sent": len(people)}


def _stamp(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def reminder_key(event: Event) -> str:
    """The reminder job's dedupe key; it names the start, so a move makes a new one."""
    return f"events.reminder:{event.id}:{_stamp(event.starts_at)}"


def finish_key(event: Event) -> str:
    """The key of the job that marks the event ended."""
    return f"events.finish:{event.id}:{_stamp(event.ends_at)}"


def _schedule_jobs(event: Event) -> None:
    """Schedule the day-before reminder and the end-of-event job (both move with
    the event), and tell whoever schedules work of their own (follow-up)."""
    from mixer.jobs.models import Job

    prefix = f"events.reminder:{event.id}:"
    keep = {reminder_key(event), finish_key(event)}
    stale = db.session.scalars(
        select(Job.dedupe_key).where(
            or_(
                Job.dedupe_key.like(prefix + "%"),
                Job.dedupe_key.like(f"events.finish:{event.id}:%"),
            ),
            Job.status == "pending",
        )
    ).all()
    for key in stale:
        if key not in keep:
            jobs.cancel(key)
    now = clock.now()
    remind_at = event.starts_at - REMINDER_BEFORE
    if remind_at > now:
        jobs.schedule(
            "events.reminder",
            {"event_id": event.id, "starts_at": _stamp(event.starts_at)},
            run_at=remind_at,
            dedupe_key=reminder_key(event),
            org_id=event.org_id,
        )
    jobs.schedule(
        "events.finish",
        {"event_id": event.id, "ends_at": _stamp(event.ends_at)},
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


def send_reminders(event_id: int, starts_at: str) -> dict[str, int]:
    """E-mail everyone registered the day before (once each, whatever happens)."""
    event = db.session.get(Event, event_id)
    if (
        event is None
        or event.status != "published"
        or _stamp(event.starts_at) != starts_at
    ):
        return {"sent": 0, "skipped": 1}
    sent = 0
    people = db.session.scalars(
        select(Registration)
        .where(Registration.event_id == event.id, Registration.status == "registered")
        .order_by(Registration.id)
    ).all()
    for reg in people:
        queued = _mail(
            reg,
            "event_reminder",
            f"Tomorrow: {event.title}",
            dedupe_key=f"events.reminder:{event.id}:{reg.id}:{starts_at}",
        )
        sent += queued is not None
    return {"sent": sent}


def finish_event(event_id: int, ends_at: str) -> dict[str, int]:
    """Mark a published event ended once its end has passed."""
    event = db.session.get(Event, event_id)
    if (
        event is not None
        and event.status == "published"
        and _stamp(event.ends_at) == ends_at
        and event.ends_at <= clock.now()
    ):
        event.status = "ended"
        db.session.flush()
        return {"ended": 1}
    return {"ended": 0}


# ---------------------------------------------------------------------------
# Calendar feeds


def feed_for(user: User, org: Organization | None = None) -> CalendarFeed:
    """The person's feed (``org=None``) or their feed of ``org``'s events."""
    same_org = CalendarFeed.org_id == org.id if org else CalendarFeed.org_id.is_(None)
    feed = db.session.scalar(
        select(CalendarFeed).where(CalendarFeed.user_id == user.id, same_org)
    )
    if feed is None:
        feed = CalendarFeed(
            user_id=user.id,
            org_id=org.id if org else None,
            token=secrets.token_urlsafe(32),
        )
        db.session.add(feed)
        db.session.flush()
    return feed


def reset_feed(user: User, org: Organization | None = None) -> CalendarFeed:
    """Give a feed a new secret; the old URL stops working."""
    feed = feed_for(user, org)
    feed.token = secrets.token_urlsafe(32)
    db.session.flush()
    return feed


def feed_url(feed: CalendarFeed) -> str:
    """The absolute, secret, subscribable address of a feed."""
    return absolute_url("events.feed", token=feed.token)


def feed_calendar(token: str) -> bytes | None:
    """The ICS text of the feed behind ``token``, or None when it does not exist."""
    feed = db.session.scalar(select(CalendarFeed).where(CalendarFeed.token == token))
    if feed is None or not feed.user.is_active:
        return None
    horizon = clock.now() - timedelta(days=90)
    if feed.org_id is None:
        regs = db.session.scalars(
            select(Registration)
            .join(Event)
            .where(
                or_(
                    Registration.user_id == feed.user_id,
                    Registration.email == feed.user.email,
                ),
                Registration.status.in_(ACTIVE_STATUSES),
                Event.status != "draft",
                Event.ends_at > horizon,
            )
            .order_by(Event.starts_at)
        ).all()
        entries = [(reg.event, reg) for reg in regs]
        name = f"{feed.user.name} · Mixer"
    else:
        if feed.user.membership_in(feed.org) is None:
            return None  # left the organization: the feed stops
        events = db.session.scalars(
            select(Event)
            .where(
                Event.org_id == feed.org_id,
                Event.status != "draft",
                Event.ends_at > horizon,
            )
            .order_by(Event.starts_at)
        ).all()
        entries = [(event, None) for event in events]
        name = f"{feed.org.name} events · Mixer"
    return ics.feed_ics(entries, name)


def kind_choices() -> list[tuple[str, str]]:
    """(value, label) pairs for kind pickers."""
    return list(KIND_LABELS.items())
