"""Asks respect how many people someone mentors at most and their "not before"
date: such people are not suggested, and cannot accept while either holds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from mixer import clock
from mixer.asks import matching, services
from mixer.asks.models import AskSuggestion
from mixer.asks.services import AskError
from mixer.extensions import db
from mixer.pairs import capacity
from mixer.pairs.lifecycle import close, create_pair, pause


def _ask(world, topic="public speaking"):
    ask = services.create_ask(world.org, world.rita, topic, None)
    db.session.commit()
    return ask


def _names(ask) -> list[str]:
    return [r.name for r in matching.rank(ask, limit=None)]


def test_someone_at_capacity_is_not_suggested_until_a_place_opens(world):
    dee = world.dee.membership_in(world.org)
    assert capacity.mentoring_load(dee) == 2 and not capacity.is_at_capacity(dee)
    dee.mentoring_capacity = 2
    db.session.commit()
    assert capacity.is_at_capacity(dee)
    ask = _ask(world)
    assert "Dee Dunn" not in _names(ask)
    assert "Dee Dunn" not in [s.candidate.name for s in ask.suggested]
    # A paused pair still counts; a closed one frees the place.
    pair = db.session.scalars(
        select(matching.Pair).where(matching.Pair.mentor_id == world.dee.id)
    ).first()
    pause(pair, None)
    db.session.commit()
    assert "Dee Dunn" not in _names(ask)
    close(pair, None)
    db.session.commit()
    assert capacity.mentoring_load(dee) == 1
    assert "Dee Dunn" in _names(ask)


def test_only_pairs_they_mentor_count(world):
    ada = world.ada.membership_in(world.org)
    ada.mentoring_capacity = 1
    db.session.commit()
    # A peer pair, and a pair in which Ada is the mentee: no load.
    create_pair(world.org, world.ada, world.cy, kind="peer", source="event")
    create_pair(world.org, world.ada, world.gus, kind="mentoring", mentor=world.gus)
    db.session.commit()
    assert capacity.mentoring_load(ada) == 0
    assert "Ada Archer" in _names(_ask(world))
    create_pair(world.org, world.ada, world.fay, kind="mentoring", mentor=world.ada)
    db.session.commit()
    assert capacity.mentoring_load(ada) == 1
    assert capacity.mentoring_loads(world.org.id, [world.ada.id, world.cy.id]) == {
        world.ada.id: 1
    }
    assert "Ada Archer" not in _names(_ask(world, "negotiation"))


def test_not_before_a_date_nobody_suggests_them(world):
    ada = world.ada.membership_in(world.org)
    ada.available_from = clock.now().date() + timedelta(days=10)
    db.session.commit()
    ask = _ask(world)
    assert "Ada Archer" not in _names(ask)
    clock.freeze(clock.now() + timedelta(days=10))
    try:
        assert capacity.available(ada)
        assert "Ada Archer" in _names(ask)
    finally:
        clock.reset()


@pytest.mark.parametrize("change", ["capacity", "not_before"])
def test_accepting_is_refused_once_full_or_away(world, change):
    ask = _ask(world)
    services.ask_people(ask, world.rita, [world.ada.id])
    db.session.commit()
    ada = world.ada.membership_in(world.org)
    if change == "capacity":
        ada.mentoring_capacity = 0
        expected = "You are not taking on mentees at the moment"
    else:
        ada.available_from = clock.now().date() + timedelta(days=30)
        expected = "You are not taking on new pairs before"
    db.session.commit()
    row = db.session.scalar(
        select(AskSuggestion).where(
            AskSuggestion.ask_id == ask.id, AskSuggestion.candidate_id == world.ada.id
        )
    )
    with pytest.raises(AskError) as refused:
        services.answer(row.id, world.ada, "accept")
    assert expected in refused.value.message and refused.value.status == 409
    assert "Rita Requester" in refused.value.message
    db.session.rollback()
    assert ask.status == "open" and services.pair_of(ask) is None
    # Saying no still works.
    outcome = services.answer(row.id, world.ada, "decline")
    db.session.commit()
    assert outcome.choice == "decline" and services.pair_of(ask) is None
