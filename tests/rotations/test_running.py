"""Running the room on a real database: rounds start once, become connections,
and each attendee's phone follows."""

from __future__ import annotations

from datetime import timedelta
from itertools import combinations

import pytest
from sqlalchemy import func, select

from mixer import clock
from mixer.connections.models import Connection
from mixer.connections.services import notes_about
from mixer.extensions import db
from mixer.rotations import running, services
from mixer.rotations.services import RotationError, Settings
from tests.rotations.conftest import DEPARTMENTS


def test_next_round_makes_connections_exactly_once(mixer_event, room):
    room(12)
    plan = services.create_plan(mixer_event, Settings(rounds=3, minutes=7))
    db.session.commit()
    running.start_next_round(mixer_event, expected=0)
    db.session.commit()
    assert plan.current_round == 1
    assert plan.round_started_at is not None
    round_one = running.tables_of(plan, 1)
    pairs = {tuple(sorted(p)) for m in round_one.values() for p in combinations(m, 2)}
    made = db.session.execute(
        select(Connection.a_id, Connection.b_id, Connection.round_number)
    ).all()
    assert {(a, b) for a, b, _ in made} == pairs
    assert {r for _, _, r in made} == {1}
    # A second click on the same "next round" (the page still showed round 0)
    # changes nothing.
    running.start_next_round(mixer_event, expected=0)
    db.session.commit()
    assert plan.current_round == 1
    assert db.session.scalar(select(func.count(Connection.id))) == len(pairs)
    running.start_next_round(mixer_event, expected=1)
    running.start_next_round(mixer_event)
    db.session.commit()
    assert plan.current_round == 3
    assert db.session.scalar(select(func.count(Connection.id))) == len(pairs) * 3
    with pytest.raises(RotationError, match="All 3 rounds") as caught:
        running.start_next_round(mixer_event)
    assert caught.value.status == 409
    with pytest.raises(RotationError, match="already been held"):
        services.create_plan(mixer_event, Settings(rounds=3, minutes=7))


def test_current_view_follows_the_rounds(mixer_event, room):
    regs = room(6)
    plan = services.create_plan(mixer_event, Settings(rounds=2, minutes=7))
    db.session.commit()
    me = regs[0]
    assert running.current_view_for(me)["state"] == "not_started"
    running.start_next_round(mixer_event)
    db.session.commit()
    view = running.current_view_for(me)
    tables = running.tables_of(plan, 1)
    table = next(t for t, m in tables.items() if me.id in m)
    assert view["state"] == "seated" and view["round"] == 1 and view["table"] == table
    partners = {p["id"] for p in view["with"]}
    assert partners == set(tables[table]) - {me.id}
    partner = view["with"][0]
    assert partner["department"] in DEPARTMENTS
    assert partner["offers"] == [] or partner["offers"] == ["negotiation"]
    assert view["ends_at"] == plan.round_started_at + timedelta(minutes=7)

    running.note_for_partner(me, partner["id"], "  Talk again about pricing ")
    db.session.commit()
    assert notes_about(me, [partner["id"]]) == {
        partner["id"]: "Talk again about pricing"
    }
    stranger = next(r for r in regs if r.id not in partners and r.id != me.id)
    with pytest.raises(RotationError, match="not met"):
        running.note_for_partner(me, stranger.id, "hello")

    running.start_next_round(mixer_event)
    db.session.commit()
    assert running.current_view_for(me)["round"] == 2
    plan.round_started_at = clock.now() - timedelta(minutes=8)
    db.session.commit()
    assert running.current_view_for(me)["state"] == "finished"
