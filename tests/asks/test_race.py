"""Two people accept the same ask at the same instant: one pair, one winner."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from mixer.asks import links, services
from mixer.asks.models import Ask
from mixer.asks.services import AskError
from mixer.extensions import db
from mixer.pairs.models import Pair
from tests.helpers import link_in

ROUNDS = 3


def _accept(app, token: str, barrier: threading.Barrier) -> str:
    """In its own app context (own session and connection): accept at the barrier."""
    with app.app_context():
        try:
            links.read_answer_token(token)  # both have read before either writes
            barrier.wait(timeout=30)
            outcome = services.answer_by_token(token, "accept")
            db.session.commit()
            return f"won:{outcome.pair.id}"
        except AskError as exc:
            db.session.rollback()
            return f"lost:{exc}"
        finally:
            db.session.remove()


def test_first_acceptance_wins_a_real_race(app, world, outbox):
    """Two threads accept at a barrier, three times: one pair each time."""
    for n in range(ROUNDS):  # a few rounds, so a lucky ordering proves nothing
        topic = ["public speaking", "speaking", "public speaking skills"][n]
        ask = services.create_ask(world.org, world.rita, topic)
        services.ask_people(ask, world.rita, [world.ada.id, world.gus.id])
        db.session.commit()
        tokens = [
            link_in(outbox(p.email)[-1], "/asks/answer/").split("/asks/answer/")[1]
            for p in (world.ada, world.gus)
        ]
        tokens = [t.split("?")[0] for t in tokens]
        barrier = threading.Barrier(2)
        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(_accept, [app, app], tokens, [barrier] * 2))
        won = [r for r in results if r.startswith("won:")]
        lost = [r for r in results if r.startswith("lost:")]
        assert len(won) == 1 and len(lost) == 1, results
        assert "Someone else" in lost[0]
        db.session.expire_all()
        pairs = db.session.scalars(select(Pair).where(Pair.ask_id == ask.id))
        (pair,) = pairs
        assert won[0] == f"won:{pair.id}"
        assert pair.source == "request" and pair.kind == "mentoring"
        assert pair.mentor_id in (world.ada.id, world.gus.id)
        assert pair.mentee_id == world.rita.id and pair.topic == topic
        assert db.session.get(Ask, ask.id).status == "matched"
        statuses = sorted(s.status for s in ask.suggestions if s.asked_at)
        assert statuses == ["accepted", "withdrawn"]
        # The winner's pair ends before the next round, so both can win again.
        pair.status, pair.open_key = "closed", None
        db.session.commit()
    assert (
        db.session.scalar(select(func.count(Pair.id)).where(Pair.source == "request"))
        == ROUNDS
    )


def _in_thread(app, barrier: threading.Barrier, work) -> str:
    """Run ``work`` in its own app context (own session and connection): its
    reads first, then (at the barrier, once both threads have read) its writes.
    ``work`` is a generator function: it yields once, between the two.
    Returns "ok" or the AskError's status."""
    with app.app_context():
        try:
            steps = work()
            next(steps)  # read
            barrier.wait(timeout=30)
            next(steps, None)  # write
            db.session.commit()
            return "ok"
        except AskError as exc:
            db.session.rollback()
            return str(exc.status)
        finally:
            db.session.remove()


def _race(app, *works) -> list[str]:
    """Run the ``works`` at the same instant, each in its own thread."""
    barrier = threading.Barrier(len(works))
    with ThreadPoolExecutor(len(works)) as pool:
        return list(pool.map(lambda w: _in_thread(app, barrier, w), works))


def test_withdrawing_while_someone_accepts_never_leaves_a_pair_behind(
    app, world, outbox
):
    """Rita withdraws as Ada accepts: either a match (and the withdrawal is
    refused) or a withdrawal (and the acceptance is refused), never both."""
    for n in range(ROUNDS):
        topic = ["public speaking", "speaking", "public speaking skills"][n]
        ask = services.create_ask(world.org, world.rita, topic)
        services.ask_people(ask, world.rita, [world.ada.id])
        db.session.commit()
        token = link_in(outbox(world.ada.email)[-1], "/asks/answer/")
        token = token.split("/asks/answer/")[1].split("?")[0]
        ask_id, rita_id = ask.id, world.rita.id

        def accept(token=token):
            """Ada's acceptance through her link."""
            links.read_answer_token(token)
            yield
            services.answer_by_token(token, "accept")

        def withdraw(ask_id=ask_id, rita_id=rita_id):
            """Rita's withdrawal, with the ask read before the other commits."""
            ask = db.session.get(Ask, ask_id)
            rita = db.session.get(type(world.rita), rita_id)
            assert ask.status == "open" and len(ask.suggestions) > 0
            yield
            services.withdraw(ask, rita)

        results = _race(app, accept, withdraw)
        assert sorted(results) == ["409", "ok"], results
        db.session.expire_all()
        ask = db.session.get(Ask, ask_id)
        pairs = db.session.scalars(select(Pair).where(Pair.ask_id == ask.id))
        (row,) = [s for s in ask.suggestions if s.candidate_id == world.ada.id]
        if results[0] == "ok":  # the acceptance won
            (pair,) = pairs
            assert (ask.status, row.status) == ("matched", "accepted")
            pair.status, pair.open_key = "closed", None
        else:
            assert list(pairs) == []
            assert (ask.status, row.status) == ("closed", "withdrawn")
        db.session.commit()


def test_two_tabs_asking_at_once_make_one_round(app, world, outbox):
    """The same ask picked from two tabs at once: one round of at most three,
    never two rounds out together."""
    ask = services.create_ask(world.org, world.rita, "public speaking")
    db.session.commit()
    ask_id, rita_id = ask.id, world.rita.id
    first, second = [world.ada.id, world.cy.id], [world.gus.id, world.dee.id]

    def pick(people):
        """One tab's pick, with the ask read before the other commits."""

        def work():
            ask = db.session.get(Ask, ask_id)
            rita = db.session.get(type(world.rita), rita_id)
            assert not ask.is_waiting
            yield
            services.ask_people(ask, rita, people)

        return work

    results = _race(app, pick(first), pick(second))
    assert sorted(results) == ["409", "ok"], results
    db.session.expire_all()
    asked = {
        s.candidate_id for s in db.session.get(Ask, ask_id).suggestions if s.asked_at
    }
    assert asked in (set(first), set(second))
    assert {m["To"].addresses[0].addr_spec for m in outbox()} == {
        db.session.get(type(world.rita), uid).email for uid in asked
    }


def test_a_double_click_opens_one_ask(app, world):
    """Two identical "find people" posts at once: one ask, one refusal."""
    org_id, rita_id = world.org.id, world.rita.id

    def create():
        """One click."""
        from mixer.orgs.models import Organization

        org = db.session.get(Organization, org_id)
        rita = db.session.get(type(world.rita), rita_id)
        assert services.open_asks(rita, org) == []
        yield
        services.create_ask(org, rita, "public speaking")

    results = _race(app, create, create)
    assert sorted(results) == ["422", "ok"], results
    db.session.expire_all()
    assert (
        db.session.scalar(select(func.count(Ask.id)).where(Ask.requester_id == rita_id))
        == 1
    )
