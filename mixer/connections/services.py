"""Recording that people met, and their private "we talked" notes.

Check-in records a connection when one attendee scans another's badge, rotations
when a round seats people together; follow-up reads them. ``connect`` is
idempotent and race-safe: the pair's unique key makes the first writer win, and
everyone gets that row.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import Select, select

from mixer.concurrency import insert_once
from mixer.connections.models import Connection, ConnectionNote, ConnectionSource
from mixer.errors import DomainError
from mixer.events.models import Registration
from mixer.extensions import db

NOTE_MAX = 2000


class ConnectionsError(DomainError):
    """A connection or note that cannot be recorded (not ``ConnectionError``: that
    is Python's, for sockets)."""


def connect(
    event_id: int,
    first_id: int,
    second_id: int,
    source: ConnectionSource | str,
    round_number: int | None = None,
) -> Connection:
    """Record that two registrations of ``event_id`` met (idempotent, race-safe).

    The first source recorded stays: meeting again another way changes nothing.
    """
    if first_id == second_id:
        raise ConnectionsError(_("A person cannot meet themselves."))
    a_id, b_id = sorted((first_id, second_id))
    found = find(event_id, a_id, b_id)
    if found is not None:
        return found
    insert_once(
        Connection,
        {
            "event_id": event_id,
            "a_id": a_id,
            "b_id": b_id,
            "source": ConnectionSource(source),
            "round_number": round_number,
        },
        unique=("event_id", "a_id", "b_id"),
    )
    # Ours, or the one another transaction recorded first.
    return db.session.scalars(_pair(event_id, a_id, b_id)).one()


def find(event_id: int, first_id: int, second_id: int) -> Connection | None:
    """The connection of two registrations at an event (either order), or None."""
    return db.session.scalar(_pair(event_id, *sorted((first_id, second_id))))


def _pair(event_id: int, a_id: int, b_id: int) -> Select[Connection]:
    return select(Connection).where(
        Connection.event_id == event_id,
        Connection.a_id == a_id,
        Connection.b_id == b_id,
    )


def save_note(connection: Connection, author_id: int, body: str) -> ConnectionNote:
    """Set the author's private "we talked" note on a connection (one per side)."""
    if author_id not in (connection.a_id, connection.b_id):
        raise ConnectionsError(_("Only the two people of a connection can note it."))
    body = (body or "").strip()[:NOTE_MAX]
    note = db.session.scalar(
        select(ConnectionNote).where(
            ConnectionNote.connection_id == connection.id,
            ConnectionNote.author_id == author_id,
        )
    )
    if note is None:
        note = ConnectionNote(connection=connection, author_id=author_id, body=body)
        db.session.add(note)
    else:
        note.body = body
    db.session.flush()
    return note


def connections_of(registration_id: int) -> list[Connection]:
    """Every connection a registration is part of, oldest first."""
    return list(
        db.session.scalars(
            select(Connection)
            .where(
                (Connection.a_id == registration_id)
                | (Connection.b_id == registration_id)
            )
            .order_by(Connection.id)
        )
    )


def note_of(connection: Connection, author_id: int) -> str:
    """The author's own note on a connection ("" when none)."""
    note = db.session.scalar(
        select(ConnectionNote).where(
            ConnectionNote.connection_id == connection.id,
            ConnectionNote.author_id == author_id,
        )
    )
    return note.body if note is not None else ""


def notes_about(author: Registration, partner_ids: list[int]) -> dict[int, str]:
    """The author's own notes about each of ``partner_ids`` at the author's event
    (a partner without a note is missing)."""
    if not partner_ids:
        return {}
    rows = db.session.execute(
        select(Connection.a_id, Connection.b_id, ConnectionNote.body)
        .join(ConnectionNote, ConnectionNote.connection_id == Connection.id)
        .where(
            Connection.event_id == author.event_id,
            ConnectionNote.author_id == author.id,
        )
    )
    notes = {}
    for a_id, b_id, body in rows:
        other = b_id if a_id == author.id else a_id
        if other in partner_ids:
            notes[other] = body
    return notes
