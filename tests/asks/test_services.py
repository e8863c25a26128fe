"""The asks services: matching, ranking, exclusions, limits, lapses, organizers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from mixer import clock
from mixer.asks import matching, services
from mixer.asks.models import ANSWER_DAYS, Ask, AskSuggestion
from mixer.asks.services import AskError
from mixer.extensions import db
from mixer.jobs.models import Job
from mixer.jobs.services import run_due
from mixer.pairs.lifecycle import create_pair
from tests.helpers import mail_text


def _ask(world, topic="public speaking", who=None, note=None) -> Ask:
    """Rita (or ``who``) opens an ask, committed."""
    ask = services.create_ask(world.org, who or world.rita, topic, note)
    db.session.commit()
    return ask


@pytest.mark.parametrize(
    ("topic", "tag", "fit"),
    [
        ("public speaking", "public speaking", "exact"),
        ("Public  Speaking", "public-speaking", "exact"),
        ("negotiations", "negotiation", "exact"),
        ("speaking", "public speaking", "partial"),
        ("public speaking skills", "speaking", "partial"),
        ("excel", "excellence", None),
        ("speaking in public", "public speaking", None),
        ("business skills", "business skill", "exact"),  # "ss" is no plural
        ("class", "clas", None),
    ],
)
def test_topic_match(topic, tag, fit):
    """Case, punctuation and plurals do not matter; whole words do."""
    assert matching.topic_match(topic, tag) == fit


def test_ranking_other_departments_first_then_load_then_exact(world):
    """Other departments, then fewer open pairs, then exact tags, then names."""
    ask = _ask(world)
    ranked = matching.rank(ask, limit=None)
    assert [r.name for r in ranked] == [
        "Ada Archer",  # Sales, no open pair, exact
        "Cy Cole",  # Engineering, no open pair, partial ("speaking")
        "Gus Gray",  # no department counts as another one; partial
        "Dee Dunn",  # Sales and exact, but already in two open pairs
        "Ben Baker",  # Rita's own department: last, though exact and free
    ]
    assert [r.reason for r in ranked] == [
        "offers public speaking · Sales",
        "offers speaking · Engineering",
        "offers public speaking skills",
        "offers public-speaking · Sales",
        "offers public speaking · Finance (your department)",
    ]
    rows = ask.suggested
    assert [(s.rank, s.candidate.name) for s in rows] == [
        (1, "Ada Archer"),
        (2, "Cy Cole"),
        (3, "Gus Gray"),
        (4, "Dee Dunn"),
        (5, "Ben Baker"),
    ]


def test_load_spreads_as_pairs_open(world):
    """A new open pair moves a person down the list."""
    ask = _ask(world)
    create_pair(world.org, world.ada, world.fay, kind="mentoring", mentor=world.ada)
    db.session.commit()
    names = [r.name for r in matching.rank(ask, limit=3)]
    assert names == ["Cy Cole", "Gus Gray", "Ada Archer"]  # Ada has one pair now


def test_excluded_people(world):
    # An open pair with the requester, an inactive account, another
    # organization, the requester herself: none is ever suggested.
    """Who is never suggested, whatever they offer."""
    create_pair(world.org, world.rita, world.cy, kind="peer")
    db.session.commit()
    ask = _ask(world, topic="speaking")
    names = {r.name for r in matching.rank(ask, limit=None)}
    assert names == {"Ada Archer", "Ben Baker", "Dee Dunn", "Gus Gray"}
    assert "Cy Cole" not in names and "Eve Evans" not in names
    assert "Otto Outsider" not in names and "Rita Requester" not in names

    # Someone who declined is not suggested again, nor in a later ask on the
    # same topic; an unanswered ask is not repeated within the ask either.
    services.ask_people(ask, world.rita, [world.ada.id, world.ben.id])
    db.session.commit()
    services.answer(_row(ask, world.ada).id, world.ada, "decline")
    db.session.commit()
    names = {r.name for r in matching.rank(ask, limit=None)}
    assert names == {"Dee Dunn", "Gus Gray"}
    services.withdraw(ask, world.rita)
    db.session.commit()
    # Ben never answered, Ada declined: the later ask leaves out both alike, or
    # Ben's return would tell Rita that it was Ada who said no.
    again = _ask(world, topic="Speaking")
    names = {r.name for r in matching.rank(again, limit=None)}
    assert names == {"Dee Dunn", "Gus Gray"}
    # Another topic is a fresh start for everyone.
    other = _ask(world, topic="public speaking")
    names = {r.name for r in matching.rank(other, limit=None)}
    assert {"Ada Archer", "Ben Baker"} <= names


def test_a_decline_and_a_lapse_look_alike_in_a_later_ask(world):
    """Two asks of one person each: one declines, one lets it lapse. A later ask
    on the same topic cannot tell them apart (neither is suggested again)."""
    first = _ask(world, topic="public speaking")
    services.ask_people(first, world.rita, [world.ada.id])
    db.session.commit()
    services.answer(_row(first, world.ada).id, world.ada, "decline")
    db.session.commit()
    services.ask_people(first, world.rita, [world.ben.id])
    db.session.commit()
    clock.advance(timedelta(days=ANSWER_DAYS, seconds=1))
    assert services.expire(_row(first, world.ben).id) is True
    services.withdraw(first, world.rita)
    db.session.commit()
    later = _ask(world, topic="public speaking")
    names = {r.name for r in matching.rank(later, limit=None)}
    assert "Ada Archer" not in names and "Ben Baker" not in names
    assert {"Dee Dunn", "Gus Gray"} <= names


def _row(ask, user) -> AskSuggestion:
    """The suggestion of ``user`` for ``ask``."""
    return db.session.scalar(
        select(AskSuggestion).where(
            AskSuggestion.ask_id == ask.id,
            AskSuggestion.candidate_id == user.id,
        )
    )


def test_limits_on_asks(world):
    """Topic length, open asks, duplicates, picks per round."""
    with pytest.raises(AskError, match="word or two") as exc:
        services.create_ask(world.org, world.rita, " x ")
    assert exc.value.field == "topic"
    with pytest.raises(AskError, match="under 80"):
        services.create_ask(world.org, world.rita, "speaking " * 10)
    with pytest.raises(AskError, match="under 1000"):
        services.create_ask(world.org, world.rita, "writing", "n" * 1001)
    first = _ask(world, "Public Speaking", note="  I freeze in meetings.  ")
    assert (first.topic, first.note) == ("public speaking", "I freeze in meetings.")
    with pytest.raises(AskError, match="already have an open ask"):
        services.create_ask(world.org, world.rita, "public  SPEAKING")
    _ask(world, "negotiation")
    _ask(world, "excel")
    with pytest.raises(AskError, match="3 open asks"):
        services.create_ask(world.org, world.rita, "writing")
    # Picking: at most three at once, only suggested people, one round at a time.
    with pytest.raises(AskError, match="at most 3"):
        services.ask_people(
            first, world.rita, [world.ada.id, world.cy.id, world.gus.id, 99]
        )
    with pytest.raises(AskError, match="no longer be asked"):
        services.ask_people(first, world.rita, [world.fay.id])
    with pytest.raises(AskError, match="Only the person asking"):
        services.ask_people(first, world.ada, [world.cy.id])
    services.ask_people(first, world.rita, [world.ada.id])
    with pytest.raises(AskError, match="still waiting"):
        services.ask_people(first, world.rita, [world.cy.id])


def test_an_unanswered_ask_lapses_and_the_requester_hears_once(world, outbox):
    """After 14 days the job lets the ask lapse; one e-mail, naming nobody."""
    clock.freeze(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    ask = _ask(world)
    services.ask_people(ask, world.rita, [world.ada.id, world.cy.id])
    db.session.commit()
    services.answer(_row(ask, world.cy).id, world.cy, "decline")
    db.session.commit()
    assert outbox(world.rita.email) == []  # Ada may still answer
    clock.advance(timedelta(days=13, hours=23))
    assert run_due() == {"done": 0, "retry": 0, "failed": 0}
    clock.advance(timedelta(hours=1))
    assert run_due()["done"] == 1
    run_due()
    mails = outbox(world.rita.email)
    assert [" ".join(m["Subject"].split()) for m in mails] == [
        "Your ask on public speaking: nobody asked could take it on right now"
    ]
    body = mail_text(mails[0])
    assert "Ada" not in body and "Cy" not in body
    assert "3 other people offer it" in body  # Gus, Dee, Ben
    assert _row(ask, world.ada).status == "withdrawn"
    assert [s.candidate.name for s in ask.suggested] == [
        "Gus Gray",
        "Dee Dunn",
        "Ben Baker",
    ]
    # Ada's late answer finds the ask lapsed; nothing changes.
    with pytest.raises(AskError, match="lapsed") as exc:
        services.answer(_row(ask, world.ada).id, world.ada, "accept")
    assert exc.value.status == 409
    db.session.rollback()
    assert db.session.get(Ask, ask.id).status == "open"


def test_withdrawing_releases_everyone_quietly(world, outbox):
    """Withdrawn: pending asks end, jobs cancelled, no mail."""
    ask = _ask(world)
    services.ask_people(ask, world.rita, [world.ada.id, world.cy.id])
    db.session.commit()
    before = len(outbox())
    services.withdraw(ask, world.rita)
    db.session.commit()
    assert len(outbox()) == before  # no further mail
    assert {s.status for s in ask.suggestions} == {"withdrawn"}
    assert ask.status == "closed" and ask.closed_at is not None
    jobs = db.session.scalars(select(Job).where(Job.kind == services.EXPIRE_JOB))
    assert {j.status for j in jobs} == {"cancelled"}
    with pytest.raises(AskError, match="withdrew this ask"):
        services.answer(_row(ask, world.ada).id, world.ada, "accept")
    with pytest.raises(AskError, match="withdrawn"):
        services.withdraw(ask, world.rita)


def test_nobody_offers_it_nearby_topics_and_organizers(world, outbox):
    """No match: nearby topics, the organizers told once, a topic switch."""
    ask = _ask(world, topic="negotiating skills")
    assert ask.suggested == []
    assert matching.nearby_topics(world.org, ask.topic) == [
        "negotiation",  # a similar spelling
        "public speaking skills",  # a shared word
    ]
    assert services.tell_organizers(ask, world.rita) == 1
    db.session.commit()
    assert ask.organizers_told_at is not None
    with pytest.raises(AskError, match="already have this ask"):
        services.tell_organizers(ask, world.rita)
    (mail,) = outbox(world.organizer.email)[-1:]
    assert mail["Reply-To"] == world.rita.email
    text = mail_text(mail)
    assert (
        "Rita Requester (Finance) is looking for a micro-mentor on negotiating" in text
    )
    assert "Nearby topics people offer: negotiation, public speaking skills." in text
    # Switching to a nearby topic brings suggestions, before anyone is asked.
    services.change_topic(ask, world.rita, "negotiation")
    db.session.commit()
    assert [s.reason for s in ask.suggested] == [
        "offers negotiation · Sales",  # Ada
        "offers negotiation · Engineering",  # Fay
    ]


def test_accepting_when_already_paired_makes_no_second_pair(world, outbox):
    """Paired meanwhile (at an event): the ask is matched, both hear it once."""
    ask = _ask(world)
    services.ask_people(ask, world.rita, [world.ada.id])
    db.session.commit()
    create_pair(world.org, world.ada, world.rita, kind="peer", source="event")
    db.session.commit()
    outcome = services.answer(_row(ask, world.ada).id, world.ada, "accept")
    db.session.commit()
    assert outcome.pair is None and ask.status == "matched"
    assert "already have a pair" in services.answer_message(outcome)
    for person in (world.rita, world.ada):
        subjects = [" ".join(m["Subject"].split()) for m in outbox(person.email)]
        assert subjects.count("Ada Archer will help with public speaking") == 1
    assert services.pair_of(ask) is None
