"""Two people accept the same ask at the same instant: one pair, one winner."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from mixer.asks import services
from mixer.asks.models import MentorRequest
from mixer.asks.services import AskError
from mixer.extensions import db
from mixer.pairs.models import Pair
from tests.helpers import link_in

ROUNDS = 3


def _accept(app, token: str, barrier: threading.Barrier) -> str:
    """In its own app context (own session and connection): accept at the barrier."""
    with app.app_context():
        try:
            services.read_answer_token(token)  # both have read before either writes
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
        request = services.create_request(world.org, world.rita, topic)
        services.ask(request, world.rita, [world.ada.id, world.gus.id])
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
        pairs = db.session.scalars(select(Pair).where(Pair.request_id == request.id))
        (pair,) = pairs
        assert won[0] == f"won:{pair.id}"
        assert pair.source == "request" and pair.kind == "mentoring"
        assert pair.mentor_id in (world.ada.id, world.gus.id)
        assert pair.mentee_id == world.rita.id and pair.topic == topic
        assert db.session.get(MentorRequest, request.id).status == "matched"
        statuses = sorted(s.status for s in request.suggestions if s.asked_at)
        assert statuses == ["accepted", "withdrawn"]
        # The winner's pair ends before the next round, so both can win again.
        pair.status, pair.open_key = "closed", None
        db.session.commit()
    assert (
        db.session.scalar(select(func.count(Pair.id)).where(Pair.source == "request"))
        == ROUNDS
    )
