"""Speakers of sessions, their profiles and invitations, and session material."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql import ColumnElement

from mixer import clock
from mixer.db_types import StrEnumType, UTCDateTime
from mixer.extensions import Model

if TYPE_CHECKING:
    from mixer.accounts.models import User
    from mixer.events.models import Event, EventSession


class MaterialKind(StrEnum):
    """An uploaded file (stored by us) or a link to elsewhere."""

    FILE = "file"
    LINK = "link"


class Visibility(StrEnum):
    """Who may see an item (besides the event's speakers and organizers); the
    first is the default."""

    ATTENDEES = "attendees"
    MEMBERS = "members"
    PUBLIC = "public"


class Availability(StrEnum):
    """From when an item can be seen; the first is the default."""

    ANYTIME = "anytime"
    AFTER = "after"  # once its session is over


MATERIAL_KINDS = tuple(k.value for k in MaterialKind)
VISIBILITIES = tuple(v.value for v in Visibility)
VISIBILITY_LABELS = {
    Visibility.ATTENDEES: _l("The event's attendees"),
    Visibility.MEMBERS: _l("All members of the organization"),
    Visibility.PUBLIC: _l("Anyone with the link"),
}
AVAILABILITIES = tuple(a.value for a in Availability)
AVAILABILITY_LABELS = {
    Availability.ANYTIME: _l("Before and after the session"),
    Availability.AFTER: _l("Only after the session"),
}


class SpeakerProfile(Model):
    """How a speaker is presented: one profile per person, used at every event."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), unique=True
    )
    title: Mapped[str | None] = mapped_column(String(120))  # "Head of Data, Acme"
    bio: Mapped[str | None] = mapped_column(Text)  # Markdown, short
    photo_key: Mapped[str | None] = mapped_column(String(80))
    links: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=clock.now, onupdate=clock.now
    )

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<SpeakerProfile user={self.user_id}>"


class SessionSpeaker(Model):
    """A person speaking in one session of an event."""

    session_id: Mapped[int] = mapped_column(
        ForeignKey("event_session.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    session: Mapped[EventSession] = relationship()
    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<SessionSpeaker session={self.session_id} user={self.user_id}>"


class SessionDetail(Model):
    """What the events feature does not keep about a session: its abstract."""

    session_id: Mapped[int] = mapped_column(
        ForeignKey("event_session.id", ondelete="CASCADE"), primary_key=True
    )
    abstract: Mapped[str] = mapped_column(Text, default="")  # Markdown

    def __repr__(self) -> str:
        return f"<SessionDetail session={self.session_id}>"


class SpeakerInvitation(Model):
    """An e-mailed invitation to speak at an event (in one of its sessions)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("event.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[int] = mapped_column(
        ForeignKey("event_session.id", ondelete="CASCADE")
    )
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(120))
    invited_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    event: Mapped[Event] = relationship()
    session: Mapped[EventSession] = relationship()

    @hybrid_property
    def is_pending(self) -> bool:
        """Sent and not accepted yet (Python and SQL)."""
        return self.accepted_at is None

    @is_pending.inplace.expression
    @classmethod
    def _is_pending_expression(cls) -> ColumnElement[bool]:
        return cls.accepted_at.is_(None)

    def accept(self) -> None:
        """Mark the invitation accepted (the first acceptance is the one kept)."""
        if self.accepted_at is None:
            self.accepted_at = clock.now()

    def __repr__(self) -> str:
        return f"<SpeakerInvitation {self.email} event={self.event_id}>"


class Material(Model):
    """A file or link for one session; re-uploads of a title are new versions."""

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("event.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[int] = mapped_column(
        ForeignKey("event_session.id", ondelete="CASCADE"), index=True
    )
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL")
    )
    kind: Mapped[MaterialKind] = mapped_column(StrEnumType(MaterialKind, 4))
    title: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(default=1)
    # Files: sanitized original name, sniffed type, size, hash, storage key.
    filename: Mapped[str | None] = mapped_column(String(150))
    content_type: Mapped[str | None] = mapped_column(String(120))
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    storage_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    # Links
    url: Mapped[str | None] = mapped_column(String(500))
    visibility: Mapped[Visibility] = mapped_column(
        StrEnumType(Visibility, 10), default=Visibility.ATTENDEES
    )
    available: Mapped[Availability] = mapped_column(
        StrEnumType(Availability, 10), default=Availability.ANYTIME
    )
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    event: Mapped[Event] = relationship()
    session: Mapped[EventSession] = relationship()
    uploaded_by: Mapped[User | None] = relationship(foreign_keys=[uploaded_by_id])

    __table_args__ = (
        UniqueConstraint("session_id", "title", "version"),
        CheckConstraint(f"kind IN {MATERIAL_KINDS!r}", name="kind"),
        CheckConstraint(f"visibility IN {VISIBILITIES!r}", name="visibility"),
        CheckConstraint(f"available IN {AVAILABILITIES!r}", name="available"),
        CheckConstraint(
            "(kind = 'file') = (storage_key IS NOT NULL AND sha256 IS NOT NULL)",
            name="file_fields",
        ),
        CheckConstraint("(kind = 'link') = (url IS NOT NULL)", name="link_fields"),
        CheckConstraint("version > 0", name="version"),
        Index("ix_material_event_title", "event_id", "title"),
    )

    @property
    def hidden(self) -> bool:
        """Hidden by an organizer from everyone but speakers and organizers."""
        return self.hidden_at is not None

    def __repr__(self) -> str:
        return f"<Material {self.id} {self.kind} {self.title!r} v{self.version}>"
