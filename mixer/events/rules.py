"""The input rules of events, shared by the forms and the API, and their refusal.

Everything an organizer types goes through here before it touches an event: time
zones and wall-clock times (:func:`zone`, :func:`to_utc`), text, numbers and
links (:func:`check_text`, :func:`check_int`, :func:`check_url`), the editable
fields of an event with the rules across them (:func:`apply_values`,
:func:`check_event`), and a workshop's agenda lines (:func:`parse_agenda`). A
refusal is an :class:`EventError` naming the offending input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeAlias, overload
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from mixer.errors import DomainError, FieldProblems
from mixer.events.models import KINDS, VISIBILITIES, Event, EventKind, Visibility
from mixer.formatting import local_text

TITLE_MAX = 200
DESCRIPTION_MAX = 20_000
CAPACITY_MAX = 100_000
AGENDA_MAX = 100
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


class EventError(DomainError):
    """A request about events or registrations that cannot be met.

    ``field`` names the offending input; ``status`` is 400 for bad input (the
    default), 404 for an event that is gone, and 409 when the input is fine but
    the state of things refuses it (already registered, registration closed).
    """


# ---------------------------------------------------------------------------
# Time zones and times

_ZONES: list[str] = []


def timezone_names() -> list[str]:
    """Every IANA zone name Python knows, sorted (read once)."""
    if not _ZONES:
        _ZONES.extend(sorted(available_timezones() - {"localtime", "Factory"}))
    return _ZONES


def unknown_zone(name: str) -> str | None:
    """What is wrong with ``name`` as a time zone, or None for an IANA name."""
    if name.strip() in timezone_names():
        return None
    return _(
        "Unknown time zone %(name)s: use an IANA name such as Europe/London or "
        "America/New_York.",
        name=repr(name.strip()[:64]),
    )


def zone(name: str | None) -> ZoneInfo:
    """The time zone called ``name`` (IANA), or EventError naming ``timezone``."""
    name = (name or "").strip()
    problem = unknown_zone(name)
    if problem:
        raise EventError(problem, field="timezone")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:  # pragma: no cover
        raise EventError(
            _("Unknown time zone %(name)s.", name=repr(name)), field="timezone"
        ) from exc


def to_utc(value: datetime, tz: ZoneInfo, field_name: str) -> datetime:
    """An instant in UTC: aware values are converted, naive ones read in ``tz``.

    A wall-clock time that does not exist in ``tz`` (skipped by a daylight-saving
    change) is refused rather than silently moved.
    """
    try:
        if value.tzinfo is not None:
            return value.astimezone(UTC)
        placed = value.replace(tzinfo=tz)
        there_and_back = placed.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    except OverflowError as exc:  # 0001-01-01 east of UTC, 9999-12-31 west of it
        raise EventError(
            _(
                "%(value)s is out of range once shifted to UTC; choose a date "
                "between the years 1 and 9999.",
                value=value.isoformat(),
            ),
            field=field_name,
        ) from exc
    if there_and_back != value:
        raise EventError(
            _(
                "%(time)s does not exist in %(zone)s (the clocks change that "
                "night); choose another time.",
                time=local_text(value, "%d %b %Y %H:%M"),
                zone=tz.key,
            ),
            field=field_name,
        )
    return placed.astimezone(UTC)


@overload
def local(value: datetime, tz_name: str) -> datetime: ...
@overload
def local(value: None, tz_name: str) -> None: ...
def local(value: datetime | None, tz_name: str) -> datetime | None:
    """An instant as naive wall-clock time in the zone ``tz_name`` (for forms)."""
    if value is None:
        return None
    return value.astimezone(ZoneInfo(tz_name)).replace(tzinfo=None)


# ---------------------------------------------------------------------------
# Text, numbers, links


# A field's name in messages: a lazy string, said in the language of the refusal.
Label: TypeAlias = str | LazyString


def check_text(
    value: Any, field_name: str, max_len: int, label: Label, required: bool = False
) -> str | None:
    """``value`` with its white space collapsed, or None when empty."""
    return _text(value, field_name, max_len, label, required) or None


def required_text(value: Any, field_name: str, max_len: int, label: Label) -> str:
    """:func:`check_text` for an input that must not be empty."""
    return _text(value, field_name, max_len, label, required=True)


def _text(
    value: Any, field_name: str, max_len: int, label: Label, required: bool
) -> str:
    text_value = " ".join(str(value or "").split()) if value is not None else ""
    if required and not text_value:
        raise EventError(_("%(label)s is required.", label=label), field=field_name)
    if len(text_value) > max_len:
        raise EventError(
            _(
                "%(label)s can have at most %(most)s characters (this one has "
                "%(length)s).",
                label=label,
                most=max_len,
                length=len(text_value),
            ),
            field=field_name,
        )
    return text_value


def check_int(
    value: Any, field_name: str, label: Label, low: int, high: int, required: bool
) -> int | None:
    """A whole number from ``low`` to ``high`` (None when empty and optional)."""
    if value in (None, "") and not required:
        return None
    return required_int(value, field_name, label, low, high)


def required_int(value: Any, field_name: str, label: Label, low: int, high: int) -> int:
    """A whole number from ``low`` to ``high`` that must be given."""
    if value in (None, ""):
        raise EventError(_("%(label)s is required.", label=label), field=field_name)
    whole = _("%(label)s must be a whole number.", label=label)
    if isinstance(value, bool):
        raise EventError(whole, field=field_name)
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise EventError(whole, field=field_name) from exc
    if not low <= number <= high:
        raise EventError(
            _(
                "%(label)s must be between %(low)s and %(high)s (got %(number)s).",
                label=label,
                low=low,
                high=high,
                number=number,
            ),
            field=field_name,
        )
    return number


def check_url(value: Any) -> str | None:
    """The online link: a full http(s) address, or None."""
    url = (str(value or "")).strip()
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 500:
        raise EventError(
            _(
                "The online link must be a full http(s) address of at most 500 "
                "characters, e.g. https://meet.example.org/abc."
            ),
            field="online_url",
        )
    return url


def check_kind(kind: str) -> EventKind:
    """One of the kinds of event, or EventError naming ``kind``."""
    if kind not in KINDS:
        raise EventError(
            _(
                "Unknown kind %(kind)s: choose one of %(choices)s.",
                kind=repr(str(kind)[:40]),
                choices=", ".join(KINDS),
            ),
            field="kind",
        )
    return EventKind(kind)


# ---------------------------------------------------------------------------
# The fields of an event


def apply_values(event: Event, values: dict[str, Any]) -> set[str]:
    """Validate ``values`` and set them on ``event``; returns the changed names.

    Every field is checked before refusing, so one EventError carries the problem
    of each bad field (``others``): a form shows them all in one round trip.
    """
    problems = FieldProblems()
    unknown = set(values) - set(EDITABLE)
    if unknown:
        name = sorted(unknown)[0]
        raise EventError(_("%(name)s cannot be set here.", name=name), field=name)
    tz = ZoneInfo("UTC")  # the times are still checked when the zone is refused
    with problems.check():
        tz = zone(values.get("timezone", event.timezone))
    clean: dict[str, Any] = {"timezone": tz.key}
    with problems.check():
        if "title" in values:
            clean["title"] = check_text(
                values["title"], "title", TITLE_MAX, _l("Title"), True
            )
    with problems.check():
        if "description" in values:
            description = str(values["description"] or "")
            if len(description) > DESCRIPTION_MAX:
                raise EventError(
                    _(
                        "The description can have at most %(most)s characters.",
                        most=DESCRIPTION_MAX,
                    ),
                    field="description",
                )
            clean["description"] = description.strip()
    for name in DATETIME_FIELDS:
        with problems.check():
            if name in values:
                required = name in ("starts_at", "ends_at")
                clean[name] = _instant(values[name], tz, name, required)
    for name, max_len, label in TEXT_FIELDS:
        with problems.check():
            if name in values:
                clean[name] = check_text(values[name], name, max_len, label)
    with problems.check():
        if "online_url" in values:
            clean["online_url"] = check_url(values["online_url"])
    with problems.check():
        if "capacity" in values:
            clean["capacity"] = check_int(
                values["capacity"], "capacity", _l("Capacity"), 1, CAPACITY_MAX, True
            )
    with problems.check():
        if "visibility" in values:
            if values["visibility"] not in VISIBILITIES:
                raise EventError(
                    _(
                        "Visibility must be one of %(choices)s.",
                        choices=", ".join(VISIBILITIES),
                    ),
                    field="visibility",
                )
            clean["visibility"] = Visibility(values["visibility"])
    if "asks_dietary" in values:
        clean["asks_dietary"] = bool(values["asks_dietary"])
    with problems.check():
        if "exercises" in values:
            exercises = str(values["exercises"] or "").strip()
            if len(exercises) > DESCRIPTION_MAX:
                raise EventError(
                    _(
                        "Exercises can have at most %(most)s characters.",
                        most=DESCRIPTION_MAX,
                    ),
                    field="exercises",
                )
            clean["exercises"] = exercises or None
    with problems.check():
        if "rounds" in values:
            clean["rounds"] = check_int(
                values["rounds"], "rounds", _l("Rounds"), 1, 50, False
            )
    with problems.check():
        if "minutes_per_round" in values:
            clean["minutes_per_round"] = check_int(
                values["minutes_per_round"],
                "minutes_per_round",
                _l("Minutes per round"),
                1,
                120,
                False,
            )
    changed = {k for k, v in clean.items() if getattr(event, k, None) != v}
    for key, value in clean.items():
        setattr(event, key, value)
    if (
        event.starts_at
        and event.ends_at
        and not problems.failed("starts_at", "ends_at")
    ):
        check_event(event, problems)
    problems.raise_any()
    return changed


# The plain text fields of an event: (name, longest, label in messages).
TEXT_FIELDS = (
    ("venue", 200, _l("The venue")),
    ("address", 300, _l("The address")),
    ("topic", 200, _l("The topic")),
    ("speakers", 300, _l("Speakers")),
)
# The times' names in "… is required." (the API's field names, said in words).
DATETIME_LABELS = {
    "starts_at": _l("Starts at"),
    "ends_at": _l("Ends at"),
    "registration_opens_at": _l("Registration opens at"),
    "registration_closes_at": _l("Registration closes at"),
}
DATETIME_FIELDS = (
    "starts_at",
    "ends_at",
    "registration_opens_at",
    "registration_closes_at",
)


def _instant(value: Any, tz: ZoneInfo, name: str, required: bool) -> datetime | None:
    if value in (None, ""):
        if required:
            raise EventError(
                _("%(label)s is required.", label=DATETIME_LABELS[name]), field=name
            )
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError as exc:
            raise EventError(
                _(
                    "%(value)s is not a date and time (use ISO 8601, e.g. "
                    "2026-03-05T12:00:00+01:00).",
                    value=repr(value[:40]),
                ),
                field=name,
            ) from exc
    if not isinstance(value, datetime):
        raise EventError(_("A date and time is needed."), field=name)
    return to_utc(value, tz, name)


def check_event(event: Event, problems: FieldProblems | None = None) -> None:
    """Rules across fields, checked after every change (each field's problem is
    kept in ``problems`` for the caller to raise when given, else raised here)."""
    own = problems is None
    problems = problems or FieldProblems()
    with problems.check():
        if event.ends_at <= event.starts_at:
            raise EventError(
                _(
                    "The end must be after the start (%(start)s).",
                    start=local_text(
                        local(event.starts_at, event.timezone), "%d %b %Y %H:%M"
                    ),
                ),
                field="ends_at",
            )
        if event.ends_at - event.starts_at > timedelta(days=14):
            raise EventError(_("An event can last at most 14 days."), field="ends_at")
    opens, closes = event.registration_opens_at, event.registration_closes_at
    with problems.check():
        if opens and opens >= event.ends_at:
            raise EventError(
                _("Registration must open before the event ends."),
                field="registration_opens_at",
            )
    with problems.check():
        if closes and opens and closes <= opens:
            raise EventError(
                _("Registration must close after it opens."),
                field="registration_closes_at",
            )
        if closes and closes > event.ends_at:
            raise EventError(
                _("Registration cannot stay open after the event ends."),
                field="registration_closes_at",
            )
    if own:
        problems.raise_any()
    if event.kind == EventKind.MENTOR_MIXER:
        event.rounds = event.rounds or 6
        event.minutes_per_round = event.minutes_per_round or 8


# ---------------------------------------------------------------------------
# A workshop's agenda

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
                _(
                    "Agenda line %(number)s should look like “09:30 | Title | "
                    "Speaker”: %(line)s.",
                    number=number,
                    line=repr(line.strip()[:60]),
                ),
                field="agenda",
            )
        try:
            hours, minutes = (int(p) for p in re.split(r"[:.]", match["time"]))
            of_day = time(hours, minutes)
            at: datetime | time = of_day
            if match["date"]:
                at = datetime.combine(date.fromisoformat(match["date"]), of_day)
        except ValueError as exc:
            raise EventError(
                _(
                    "Agenda line %(number)s: %(time)s is not a time of day.",
                    number=number,
                    time=match["time"],
                ),
                field="agenda",
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


def agenda_rows(
    event: Event, agenda: list[AgendaItem]
) -> list[tuple[datetime, str, str | None]]:
    """The agenda as (instant, title, speaker) rows in time order, each checked to
    fall inside the workshop."""
    if len(agenda) > AGENDA_MAX:
        raise EventError(
            _("An agenda can have at most %(most)s sessions.", most=AGENDA_MAX),
            field="agenda",
        )
    tz = ZoneInfo(event.timezone)
    first_day = local(event.starts_at, event.timezone).date()
    rows = []
    for number, item in enumerate(agenda, start=1):
        at = item.starts_at
        if not isinstance(at, datetime):  # a time of day: on the first day
            at = datetime.combine(first_day, at)
        instant = to_utc(at, tz, "agenda")
        if not event.starts_at <= instant < event.ends_at:
            start = local(event.starts_at, event.timezone)
            end = local(event.ends_at, event.timezone)
            raise EventError(
                _(
                    "Agenda item %(number)s (%(time)s) is outside the workshop "
                    "(%(start)s–%(end)s).",
                    number=number,
                    time=local_text(local(instant, event.timezone), "%H:%M"),
                    start=local_text(start, "%H:%M"),
                    end=local_text(end, "%H:%M"),
                ),
                field="agenda",
            )
        title = required_text(
            item.title,
            "agenda",
            200,
            _("Agenda item %(number)s's title", number=number),
        )
        speaker = check_text(
            item.speaker,
            "agenda",
            200,
            _("Agenda item %(number)s's speaker", number=number),
        )
        rows.append((instant, title, speaker))
    rows.sort(key=lambda row: row[0])
    return rows
