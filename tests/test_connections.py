"""Connections: one row per pair and event, whoever records it first."""

import pytest
from sqlalchemy import func, select

from mixer.connections.models import Connection
from mixer.connections.services import (
    ConnectionsError,
    connect,
    connections_of,
    save_note,
)
from mixer.extensions import db


def test_connect_is_idempotent_and_unordered(
    make_org, make_user, make_event, make_registration
):
    org = make_org()
    event = make_event(org, make_user(org, role="organizer"))
    a, b = make_registration(event), make_registration(event)
    first = connect(event.id, b.id, a.id, "scan")
    again = connect(event.id, a.id, b.id, "rotation", round_number=2)
    db.session.commit()
    assert first.id == again.id
    assert (first.a_id, first.b_id, first.source) == (
        min(a.id, b.id),
        max(a.id, b.id),
        "scan",
    )
    assert db.session.scalar(select(func.count(Connection.id))) == 1
    assert [c.id for c in connections_of(a.id)] == [first.id]
    assert first.other(a.id) == b.id
    with pytest.raises(ConnectionsError, match="cannot meet themselves"):
        connect(event.id, a.id, a.id, "scan")


def test_notes_belong_to_one_side(make_org, make_user, make_event, make_registration):
    org = make_org()
    event = make_event(org, make_user(org, role="organizer"))
    a, b, c = (make_registration(event) for _ in range(3))
    conn = connect(event.id, a.id, b.id, "note")
    save_note(conn, a.id, "Talked about negotiation")
    save_note(conn, a.id, "Talked about negotiation and budgets")
    db.session.commit()
    assert [n.body for n in conn.notes] == ["Talked about negotiation and budgets"]
    with pytest.raises(ConnectionsError, match="Only the two people"):
        save_note(conn, c.id, "not mine")
