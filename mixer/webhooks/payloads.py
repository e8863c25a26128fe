"""What a delivery says about each kind of thing: ids and plain facts only.

Never notes, answers to the registration form (role, department, level, offers,
seeks, dietary needs), badge tokens or anything a person wrote. A registrant's
and a pair member's name and e-mail address *are* included: the receivers an
admin points Mixer at (a CRM, an HR system, a chat bot) need to know who it is,
and only an organization's admin can add an endpoint (docs/webhooks.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mixer.accounts.models import User
from mixer.events.models import Event, Registration
from mixer.orgs.models import Organization
from mixer.pairs.models import Pair, PairSource


def when(instant: datetime | None) -> str | None:
    """An instant as ISO 8601 in UTC (``2026-12-05T12:30:00+00:00``)."""
    return instant.isoformat() if instant is not None else None


def organization(org: Organization) -> dict[str, Any]:
    """The envelope's ``organization``."""
    return {"id": org.id, "slug": org.slug, "name": org.name}


def event(ev: Event) -> dict[str, Any]:
    """An event's public facts."""
    return {
        "id": ev.id,
        "title": ev.title,
        "kind": str(ev.kind),
        "status": str(ev.status),
        "starts_at": when(ev.starts_at),
        "ends_at": when(ev.ends_at),
        "timezone": ev.timezone,
    }


def registration(reg: Registration) -> dict[str, Any]:
    """A registration: who, for what, where it stands (no answers, no badge)."""
    return {
        "id": reg.id,
        "event_id": reg.event_id,
        "user_id": reg.user_id,
        "name": reg.name,
        "email": reg.email,
        "status": str(reg.status),
        "source": str(reg.source),
        "created_at": when(reg.created_at),
        "cancelled_at": when(reg.cancelled_at),
        "checked_in_at": when(reg.checked_in_at),
    }


def _person(user: User, pair: Pair) -> dict[str, Any]:
    """One side of a pair."""
    role = "peer"
    if pair.mentor_id is not None:
        role = "mentor" if user.id == pair.mentor_id else "mentee"
    return {"user_id": user.id, "name": user.name, "email": user.email, "role": role}


def pair(p: Pair) -> dict[str, Any]:
    """A pair: the two people, how it began, its term (no meetings, no feedback)."""
    return {
        "id": p.id,
        "kind": str(p.kind),
        "status": str(p.status),
        # "ask", as people say; the column keeps the first word, "request"
        "source": "ask" if p.source == PairSource.ASK else str(p.source),
        "event_id": p.event_id,
        "renewed_from_id": p.renewed_from_id,
        "people": [_person(user, p) for user in p.people],
        "started_at": when(p.started_at),
        "term_ends_at": when(p.term_ends_at),
        "ended_at": when(p.ended_at),
    }
