"""Demo events for ``mixer seed-demo``: past and upcoming events of every kind.

``seed_events`` is idempotent: an organization that already has events is left
as it is. Upcoming registrations go through the real service (seats, waitlist);
past ones are written directly, since registration for them is closed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from mixer import clock
from mixer.accounts.models import User
from mixer.events.lifecycle import create_event
from mixer.events.models import (
    Event,
    EventKind,
    EventStatus,
    MixerRole,
    Registration,
    RegistrationSource,
    RegistrationStatus,
    Visibility,
)
from mixer.events.registration import register, registration_defaults
from mixer.events.rules import parse_agenda
from mixer.extensions import db
from mixer.orgs.models import Organization

DIETS = [None, None, None, "Vegetarian", "Vegan", "Gluten-free", "Halal", None]
ROLES = [MixerRole.MENTOR, MixerRole.MENTEE, MixerRole.EITHER, MixerRole.MENTEE]


def _at(days: int, hour: int, minute: int, zone: str) -> datetime:
    """A wall-clock time ``days`` from today in ``zone`` (naive, for the services)."""
    today = clock.now().astimezone(ZoneInfo(zone)).date()
    return datetime.combine(today + timedelta(days=days), time(hour, minute))


def _answers(person: User, org: Organization, n: int) -> dict:
    defaults = registration_defaults(person, org)
    return {
        "name": person.name,
        "department": defaults["department"],
        "level": defaults["level"],
        "offers": defaults["offers"],
        "seeks": defaults["seeks"],
        "role": ROLES[n % len(ROLES)],
        "dietary": DIETS[n % len(DIETS)],
    }


def _sign_up(event: Event, people: Sequence[User], org: Organization) -> None:
    for n, person in enumerate(people):
        register(
            event,
            email=person.email,
            user=person,
            source=RegistrationSource.MEMBER,
            **_answers(person, org, n),
        )


def _past(event: Event, people: Sequence[User], org: Organization) -> None:
    """Fill a past event directly (registration for it is closed) and end it."""
    for n, person in enumerate(people[: event.capacity]):
        answers = _answers(person, org, n)
        db.session.add(
            Registration(
                event=event,
                user=person,
                email=person.email,
                status=RegistrationStatus.REGISTERED,
                source=RegistrationSource.MEMBER,
                created_at=event.starts_at - timedelta(days=7),
                confirmed_at=event.starts_at - timedelta(days=7),
                checked_in_at=event.starts_at + timedelta(minutes=n % 15)
                if n % 6
                else None,
                **answers,
            )
        )
    event.status = EventStatus.ENDED


def seed_events(
    org: Organization, organizer: User, people: Sequence[User], zone: str = "UTC"
) -> list[Event]:
    """Create the demo events of ``org`` (once); returns them."""
    if db.session.scalar(select(Event.id).where(Event.org_id == org.id).limit(1)):
        return []
    people = list(people)
    make = create_event

    def at(days: int, hour: int, minute: int) -> datetime:
        return _at(days, hour, minute, zone)

    past_mixer = make(
        org,
        organizer,
        kind=EventKind.MENTOR_MIXER,
        title="Mentor Mixer: across the hospital",
        description="Six short conversations, one new mentor or mentee each round.",
        # Nine weeks ago: its pairs are old enough for the insights' 30- and
        # 60-day figures, and still in their three-month term.
        starts_at=at(-64, 17, 30),
        ends_at=at(-64, 19, 0),
        timezone=zone,
        capacity=40,
        venue="Atrium",
        rounds=6,
        minutes_per_round=8,
        status=EventStatus.PUBLISHED,
    )
    _past(past_mixer, people[:24], org)
    past_lunch = make(
        org,
        organizer,
        kind=EventKind.LUNCH_AND_LEARN,
        title="Lunch & Learn: Saying no without burning bridges",
        starts_at=at(-12, 12, 0),
        ends_at=at(-12, 13, 0),
        timezone=zone,
        capacity=25,
        venue="Room 4.12",
        topic="Saying no without burning bridges",
        speakers="Priya Shah",
        status=EventStatus.PUBLISHED,
    )
    _past(past_lunch, people[5:25], org)
    lunch = make(
        org,
        organizer,
        kind=EventKind.LUNCH_AND_LEARN,
        title="Lunch & Learn: Negotiating your first raise",
        description="Bring your questions; lunch is on us. **Vegetarian options** "
        "are always there; tell us about other needs when you register.",
        starts_at=at(6, 12, 0),
        ends_at=at(6, 13, 0),
        timezone=zone,
        capacity=20,
        venue="Room 4.12",
        address="Main building, 4th floor",
        topic="Negotiating your first raise",
        speakers="Ana Lima, Bo Chen",
        asks_dietary=True,
        status=EventStatus.PUBLISHED,
    )
    _sign_up(lunch, people[:14], org)
    workshop = make(
        org,
        organizer,
        kind=EventKind.WORKSHOP,
        title="Workshop: Feedback that lands",
        starts_at=at(13, 9, 30),
        ends_at=at(13, 12, 30),
        timezone=zone,
        capacity=12,
        venue="Training room B",
        online_url="https://meet.example.org/feedback-that-lands",
        exercises="1. **Role play:** give feedback on a missed deadline.\n"
        "2. **Swap:** receive it, and say what you heard.",
        agenda=parse_agenda(
            "09:30 | Welcome and why feedback fails | Dee Evans\n"
            "10:00 | The SBI model | Dee Evans\n"
            "10:45 | Role play in threes\n"
            "12:00 | What we will try next week\n"
        ),
        status=EventStatus.PUBLISHED,
    )
    _sign_up(workshop, people[10:26], org)  # 12 seats: four on the waitlist
    mixer = make(
        org,
        organizer,
        kind=EventKind.MENTOR_MIXER,
        title="Mentor Mixer: new starters meet old hands",
        description="Meet six colleagues from other teams in one evening. "
        "Guests welcome: share the link.",
        starts_at=at(20, 17, 30),
        ends_at=at(20, 19, 0),
        timezone=zone,
        capacity=40,
        venue="Atrium",
        visibility=Visibility.LINK,
        rounds=6,
        minutes_per_round=8,
        status=EventStatus.PUBLISHED,
    )
    _sign_up(mixer, people[:30], org)
    draft = make(
        org,
        organizer,
        kind=EventKind.LUNCH_AND_LEARN,
        title="Lunch & Learn: Public speaking for the terrified",
        starts_at=at(34, 12, 0),
        ends_at=at(34, 13, 0),
        timezone=zone,
        capacity=20,
        topic="Public speaking for the terrified",
        asks_dietary=True,
    )
    db.session.flush()
    return [past_mixer, past_lunch, lunch, workshop, mixer, draft]
