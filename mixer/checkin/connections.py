"""Recording that people met: used by rotations, badge scans and notes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from mixer.checkin.models import Connection, ConnectionNote
from mixer.extensions import db


def connect(
    event_id: int, first_id: int, second_id: int, source: str, round_number=None
) -> Connection:
    """Record that two registrations of ``event_id`` met (idempotent, race-safe)."""
    if first_id == second_id:
        raise ValueError("a person cannot meet themselves")
    a_id, b_id = sorted((first_id, second_id))
    found = _find(event_id, a_id, b_id)
    if found is not None:
        return found
    try:
        with db.session.begin_nested():
            conn = Connection(
                event_id=event_id,
                a_id=a_id,
                b_id=b_id,
                source=source,
                round_number=round_number,
            )
            db.session.add(conn)
    except IntegrityError:  # the same pair was recorded concurrently
        return _find(event_id, a_id, b_id)
    return conn


def _find(event_id: int, a_id: int, b_id: int) -> Connection | None:
    return db.session.scalar(
        select(Connection).where(
            Connection.event_id == event_id,
            Connection.a_id == a_id,
            Connection.b_id == b_id,
        )
    )


def save_note(connection: Connection, author_id: int, body: str) -> ConnectionNote:
    """Set the author's private "we talked" note on a connection (one per side)."""
    if author_id not in (connection.a_id, connection.b_id):
        raise ValueError("only the two people of a connection can note it")
    body = (body or "").strip()[:2000]
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
