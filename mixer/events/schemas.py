"""API schemas of events and registrations (unknown input fields are refused).

What an event's serialisation needs to know about the reader comes in through
:data:`EventSchemaContext` (``mixer.events.api`` sets it per request), never from
the request globals.
"""

from __future__ import annotations

import re
from typing import TypedDict

import marshmallow as ma
from marshmallow.experimental.context import Context

from mixer.api import Schema
from mixer.api.schemas import NONBLANK
from mixer.events.links import badge_download_url, event_url
from mixer.events.models import (
    KINDS,
    REGISTRATION_STATUSES,
    ROLES,
    STATUSES,
    VISIBILITIES,
    Event,
    EventStatus,
    Registration,
    Visibility,
)
from mixer.events.rules import (
    AGENDA_MAX,
    CAPACITY_MAX,
    DESCRIPTION_MAX,
    TITLE_MAX,
    timezone_names,
    unknown_zone,
    zone,
)
from mixer.urls import absolute_url

V = ma.validate
# What the API takes as an online link (the document states it as its pattern).
ONLINE_URL = r"^(https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?([/?#][^\s]*)?)?$"


class EventReader(TypedDict):
    """Who the events are written for: ``organizer`` sees share links."""

    organizer: bool


EventSchemaContext = Context[EventReader]
NOBODY_IN_PARTICULAR: EventReader = {"organizer": False}


def _known_zone(name: str) -> None:
    if name not in timezone_names():  # exactly a name of the document's list
        raise ma.ValidationError(unknown_zone(name) or f"Write {name.strip()!r}.")


def _nonblank(value: str) -> None:
    if not re.search(NONBLANK, value):
        raise ma.ValidationError("Must not be blank.")


class AgendaItemSchema(Schema):
    """One session of a workshop's agenda."""

    starts_at = ma.fields.AwareDateTime(
        required=True,
        metadata={
            "description": "Within the event's start and end.",
            "example": "2026-03-05T12:15:00+01:00",
        },
    )
    title = ma.fields.String(
        required=True,
        validate=[V.Length(1, 200), _nonblank],
        metadata={"pattern": NONBLANK, "example": "Anchoring and first offers"},
    )
    speaker = ma.fields.String(
        allow_none=True, validate=V.Length(max=200), metadata={"example": "Priya Shah"}
    )


class EventInputSchema(Schema):
    """A new event. Times carry their UTC offset; ``timezone`` is where it happens."""

    kind = ma.fields.String(
        required=True, validate=V.OneOf(KINDS), metadata={"example": "workshop"}
    )
    title = ma.fields.String(
        required=True,
        validate=[V.Length(1, TITLE_MAX), _nonblank],
        metadata={"pattern": NONBLANK, "example": "Negotiation basics"},
    )
    starts_at = ma.fields.AwareDateTime(
        required=True,
        metadata={
            "description": "ISO 8601 with offset.",
            "example": "2026-03-05T12:00:00+01:00",
        },
    )
    ends_at = ma.fields.AwareDateTime(
        required=True, metadata={"example": "2026-03-05T13:00:00+01:00"}
    )
    timezone = ma.fields.String(
        required=True,
        validate=_known_zone,
        metadata={
            "description": "IANA time zone name.",
            "example": "Europe/Paris",
            "enum": timezone_names(),
        },
    )
    capacity = ma.fields.Integer(
        required=True,
        strict=True,
        validate=V.Range(min=1, max=CAPACITY_MAX),
        metadata={"example": 30},
    )
    status = ma.fields.String(
        load_default=EventStatus.DRAFT.value,
        validate=V.OneOf((EventStatus.DRAFT, EventStatus.PUBLISHED)),
        metadata={"description": "`draft` (default) or `published`."},
    )
    description = ma.fields.String(
        validate=V.Length(max=DESCRIPTION_MAX),
        metadata={"description": "Markdown."},
    )
    venue = ma.fields.String(
        allow_none=True,
        validate=V.Length(max=200),
        metadata={"description": "Room and building.", "example": "Room 4.12"},
    )
    address = ma.fields.String(allow_none=True, validate=V.Length(max=300))
    online_url = ma.fields.String(
        allow_none=True,
        validate=[V.Length(max=500), V.Regexp(ONLINE_URL)],
        metadata={
            "format": "uri",
            "description": "A full http(s) address; empty or null for none.",
            "example": "https://meet.example.org/negotiation",
        },
    )
    visibility = ma.fields.String(
        validate=V.OneOf(VISIBILITIES),
        metadata={
            "description": "`members` (default): the organization's members; "
            "`link`: anyone with the link, guests confirm by e-mail."
        },
    )
    registration_opens_at = ma.fields.AwareDateTime(allow_none=True)
    registration_closes_at = ma.fields.AwareDateTime(allow_none=True)
    topic = ma.fields.String(allow_none=True, validate=V.Length(max=200))
    speakers = ma.fields.String(allow_none=True, validate=V.Length(max=300))
    asks_dietary = ma.fields.Boolean(
        metadata={"description": "Ask registrants about dietary needs."}
    )
    exercises = ma.fields.String(
        allow_none=True, validate=V.Length(max=DESCRIPTION_MAX)
    )
    rounds = ma.fields.Integer(strict=True, allow_none=True, validate=V.Range(1, 50))
    minutes_per_round = ma.fields.Integer(
        strict=True, allow_none=True, validate=V.Range(1, 120)
    )
    agenda = ma.fields.List(
        ma.fields.Nested(AgendaItemSchema),
        validate=V.Length(max=AGENDA_MAX),
        metadata={"description": "Workshops: the sessions, in any order."},
    )

    @ma.validates_schema
    def _times(self, data: dict, **_kwargs) -> None:
        start, end = data.get("starts_at"), data.get("ends_at")
        if start and end and end <= start:
            raise ma.ValidationError("Must be after starts_at.", "ends_at")


class EventPatchSchema(EventInputSchema):
    """Changes to an event: any field of a new event but ``kind``.

    ``status`` may move a draft to ``published`` or an event to ``cancelled``.
    """

    class Meta:
        exclude = ("kind",)

    status = ma.fields.String(
        validate=V.OneOf(
            (EventStatus.DRAFT, EventStatus.PUBLISHED, EventStatus.CANCELLED)
        )
    )
    cancel_reason = ma.fields.String(allow_none=True, validate=V.Length(max=500))


class EventQuerySchema(Schema):
    """Filters for the event list."""

    when = ma.fields.String(
        load_default="all",
        validate=V.OneOf(("upcoming", "past", "all")),
        metadata={"description": "`upcoming`, `past` or `all` (default)."},
    )
    kind = ma.fields.String(validate=V.OneOf(KINDS))
    status = ma.fields.String(validate=V.OneOf(STATUSES))


class SessionSchema(Schema):
    """A part of the programme."""

    id = ma.fields.Integer(required=True)
    starts_at = ma.fields.AwareDateTime(required=True)
    title = ma.fields.String(required=True)
    speaker = ma.fields.String(allow_none=True, attribute="speaker_name")


class PersonSchema(Schema):
    """A person, briefly."""

    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)


class EventSchema(Schema):
    """An event as the API shows it."""

    id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True, metadata={"enum": list(KINDS)})
    title = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata={"enum": list(STATUSES)})
    starts_at = ma.fields.AwareDateTime(required=True)
    ends_at = ma.fields.AwareDateTime(required=True)
    timezone = ma.fields.String(required=True)
    local_starts_at = ma.fields.Method(
        "get_local_start",
        metadata={
            "type": "string",
            "description": "The start in the event's own zone, with its offset.",
        },
    )
    venue = ma.fields.String(allow_none=True)
    address = ma.fields.String(allow_none=True)
    online_url = ma.fields.String(allow_none=True)
    capacity = ma.fields.Integer(required=True)
    registered = ma.fields.Integer(attribute="registered_count")
    waitlisted = ma.fields.Integer(attribute="waitlisted_count")
    visibility = ma.fields.String(required=True)
    registration_opens_at = ma.fields.AwareDateTime(allow_none=True)
    registration_closes_at = ma.fields.AwareDateTime(allow_none=True)
    topic = ma.fields.String(allow_none=True)
    speakers = ma.fields.String(allow_none=True)
    asks_dietary = ma.fields.Boolean()
    exercises = ma.fields.String(allow_none=True)
    rounds = ma.fields.Integer(allow_none=True)
    minutes_per_round = ma.fields.Integer(allow_none=True)
    sessions = ma.fields.List(ma.fields.Nested(SessionSchema))
    organizers = ma.fields.List(ma.fields.Nested(PersonSchema))
    series_id = ma.fields.Integer(allow_none=True)
    sequence = ma.fields.Integer(
        metadata={"description": "Calendar SEQUENCE, raised on every change."}
    )
    url = ma.fields.Method("get_url", metadata={"type": "string", "format": "uri"})
    calendar_url = ma.fields.Method(
        "get_calendar_url", metadata={"type": "string", "format": "uri"}
    )
    share_url = ma.fields.Method(
        "get_share_url",
        allow_none=True,
        metadata={
            "type": "string",
            "description": "For visibility=link: the page guests may open "
            "(organizers only).",
        },
    )
    created_at = ma.fields.AwareDateTime(required=True)
    updated_at = ma.fields.AwareDateTime(required=True)

    def get_local_start(self, event: Event) -> str:
        return event.starts_at.astimezone(zone(event.timezone)).isoformat()

    def get_url(self, event: Event) -> str:
        return absolute_url("events.show", event_id=event.id)

    def get_calendar_url(self, event: Event) -> str:
        return absolute_url("events.calendar", event_id=event.id)

    def get_share_url(self, event: Event) -> str | None:
        reader = EventSchemaContext.get(NOBODY_IN_PARTICULAR)
        if event.visibility != Visibility.LINK or not reader["organizer"]:
            return None
        return event_url(event, guest=True)


class RegistrationInputSchema(Schema):
    """Someone to sign up. An organizer's token registers them at once."""

    name = ma.fields.String(
        required=True,
        validate=[V.Length(1, 120), _nonblank],
        metadata={"pattern": NONBLANK, "example": "Priya Shah"},
    )
    email = ma.fields.Email(
        required=True,
        validate=V.Length(max=254),
        metadata={
            "description": "An e-mail address of at most 254 characters, checked for "
            "its form (no lookup of the domain) and stored in lower case; one "
            "registration per address and event.",
            "example": "priya@example.org",
        },
    )
    department = ma.fields.String(allow_none=True, validate=V.Length(max=80))
    role = ma.fields.String(allow_none=True, validate=V.OneOf(ROLES))
    offers = ma.fields.List(
        ma.fields.String(validate=V.Length(max=40)),
        validate=V.Length(max=20),
        metadata={"description": '"I can help with" tags.'},
    )
    seeks = ma.fields.List(
        ma.fields.String(validate=V.Length(max=40)),
        validate=V.Length(max=20),
        metadata={"description": '"I\'d like help with" tags.'},
    )
    dietary = ma.fields.String(allow_none=True, validate=V.Length(max=120))
    level = ma.fields.Integer(strict=True, allow_none=True, validate=V.Range(0, 80))


class RegistrationQuerySchema(Schema):
    """Filters for an event's registrations."""

    status = ma.fields.String(validate=V.OneOf(REGISTRATION_STATUSES))


class RegistrationSchema(Schema):
    """A registration as the API shows it."""

    id = ma.fields.Integer(required=True)
    event_id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    email = ma.fields.String(required=True)
    status = ma.fields.String(
        required=True, metadata={"enum": list(REGISTRATION_STATUSES)}
    )
    waitlist_position = ma.fields.Integer(
        allow_none=True, metadata={"description": "1, 2, 3…; null unless waitlisted."}
    )
    role = ma.fields.String(allow_none=True)
    department = ma.fields.String(allow_none=True)
    level = ma.fields.Integer(allow_none=True)
    offers = ma.fields.List(ma.fields.String())
    seeks = ma.fields.List(ma.fields.String())
    dietary = ma.fields.String(allow_none=True)
    source = ma.fields.String()
    created_at = ma.fields.AwareDateTime(required=True)
    checked_in_at = ma.fields.AwareDateTime(allow_none=True)
    badge_url = ma.fields.Method(
        "get_badge_url", metadata={"type": "string", "format": "uri"}
    )

    def get_badge_url(self, reg: Registration) -> str:
        return badge_download_url(reg)


class CancellationSchema(RegistrationSchema):
    """A cancelled registration and the people its seat went to."""

    promoted = ma.fields.List(
        ma.fields.Nested(RegistrationSchema),
        metadata={"description": "Waitlisted people who got the freed seat."},
    )
