"""Who may see which session material, and where it is downloaded.

Speakers and organizers of the event see everything; others see an item by its
``visibility`` (the event's attendees, the organization's members, anyone), once it
is ``available`` (anytime, or after its session) and unless an organizer hid it.
Nobody but insiders sees anything of a draft event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from mixer import clock
from mixer.events.models import Event, EventSession, EventStatus, Registration
from mixer.extensions import db
from mixer.speakers import sniff
from mixer.speakers.models import Availability, Material, MaterialKind, Visibility
from mixer.speakers.services import can_upload
from mixer.urls import absolute_url

# PDFs and images open in the browser; everything else is saved as a file.
INLINE_TYPES = frozenset(k.mimetype for k in sniff.ACCEPTED if k.inline)


def session_end(session: EventSession) -> datetime:
    """When a session is over: the next session's start, or the event's end."""
    event = session.event
    later = [s.starts_at for s in event.sessions if s.starts_at > session.starts_at]
    return min(later) if later else event.ends_at


def is_attendee(event: Event, user: Any) -> bool:
    """Whether ``user`` holds a seat at ``event``."""
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(
        db.session.scalar(
            select(Registration.id).where(
                Registration.event_id == event.id,
                Registration.holds_seat,
                (Registration.user_id == user.id) | (Registration.email == user.email),
            )
        )
    )


class Viewer:
    """What one person may see of one event's material, worked out once."""

    def __init__(self, event: Event, user: Any):
        self.event = event
        self.user = user
        self.insider = can_upload(event, user)  # organizers and speakers
        self.member = bool(
            getattr(user, "is_authenticated", False) and user.membership_in(event.org)
        )
        self.attendee = is_attendee(event, user)

    def can_see(self, material: Material) -> bool:
        """Insiders see all; others by visibility, timing, and not hidden."""
        if self.insider:
            return True
        if material.hidden or self.event.status == EventStatus.DRAFT:
            return False
        if material.available == Availability.AFTER and clock.now() < session_end(
            material.session
        ):
            return False
        if material.visibility == Visibility.PUBLIC:
            return True
        if material.visibility == Visibility.MEMBERS:
            return self.member
        return self.attendee


def materials(event: Event, viewer: Viewer) -> list[Material]:
    """Items ``viewer`` may see, by session then title, newest version first."""
    rows = db.session.scalars(
        select(Material)
        .where(Material.event_id == event.id)
        .order_by(Material.session_id, Material.title, Material.version.desc())
    )
    return [m for m in rows if viewer.can_see(m)]


def grouped(items: list[Material]) -> list[tuple[Material, list[Material]]]:
    """(latest version, older versions) per session and title."""
    groups: dict[tuple[int, str], list[Material]] = {}
    for m in items:
        groups.setdefault((m.session_id, m.title), []).append(m)
    return [(versions[0], versions[1:]) for versions in groups.values()]


def visible_material(material_id: int, user: Any) -> Material | None:
    """An item ``user`` may download, or None (whether it exists is not said)."""
    material = db.session.get(Material, material_id)
    if material is not None and Viewer(material.event, user).can_see(material):
        return material
    return None


def download_url(material: Material) -> str:
    """The absolute download (files) or target (links) address of an item."""
    if material.kind == MaterialKind.LINK:
        return material.url or ""
    return absolute_url("speakers.download", material_id=material.id)
