""" "Pause or close?" and feedback links: expired, reused, tampered, shown under
another pair's address, or opened by someone else are refused with a clear page,
on GET and POST alike, and nothing in the database changes.

(The "did you meet?" links get the same treatment in ``test_links.py``.)
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from mixer import clock
from mixer.extensions import db
from mixer.mail.models import OutboxMessage
from mixer.pairs import links, schedule
from mixer.pairs.lifecycle import create_pair
from mixer.pairs.models import Pair, PairFeedback
from mixer.recognition import models as recognition
from mixer.tokens.models import UsedToken
from tests.helpers import csrf_from, mail_text

from .helpers import answer_link, mails, path

BO = "bo@acme.example.org"
# Per kind: the e-mail, how to find its link, a valid answer, the link's life.
KINDS = {
    "standing": ("Pause or", "Close the pair", {"choice": "close"}),
    "feedback": ("how did it go", None, {"rating": "2", "renew": "y"}),
}
AGES = {"standing": links.STANDING_LINK_AGE, "feedback": links.FEEDBACK_LINK_AGE}


@pytest.fixture(params=sorted(KINDS))
def kind(request) -> str:
    """Which link is tried: "pause or close?" or the end-of-term feedback."""
    return request.param


@pytest.fixture
def link(kind, world, outbox) -> tuple[int, str]:
    """The pair and Bo's link of that kind, fresh from the e-mail."""
    pair = create_pair(world.org, world.mentor, world.mentee, kind="peer")
    db.session.commit()
    pair_id = pair.id
    if kind == "standing":  # three misses in a row: 4, 18 March, 1 April
        # Each is settled as the grace period ends, nobody having answered.
        for month, day in ((3, 7), (3, 21), (4, 4)):
            clock.freeze(datetime(2026, month, day, 12, 30, tzinfo=UTC))
            assert schedule.tick(pair_id) == {"missed": 1}
    else:  # the term is over (a worker catching up ends the pair in one go)
        clock.freeze(pair.term_ends_at + timedelta(days=3))
        assert schedule.tick(pair_id) == {"missed": 1, "ended": 1}
    db.session.commit()
    subject, label, _ = KINDS[kind]
    [mail] = mails(outbox, BO, subject)
    if label:
        return pair_id, answer_link(mail, label)
    return pair_id, re.search(r"https?://\S+/feedback/\S+", mail_text(mail)).group(0)


def _state(pair_id: int) -> tuple:
    """Everything an answer could change."""
    db.session.expire_all()
    pair = db.session.get(Pair, pair_id)

    def count(model) -> int:
        """Rows of a table."""
        return db.session.scalar(select(func.count()).select_from(model))

    return (
        pair.status,
        pair.open_key,
        pair.missed_in_row,
        pair.ics_sequence,
        [(c.number, c.status, c.due_at) for c in pair.meetings],
        [
            (f.user_id, f.rating, f.wants_renewal)
            for f in db.session.scalars(select(PairFeedback))
        ],
        count(Pair),
        count(recognition.Testimonial),
        count(UsedToken),
        count(OutboxMessage),
    )


def _post(client, url: str, data: dict):
    """POST to a link with a CSRF token from a page that has a form."""
    for source in ("/login", "/profile"):  # a page with a form, signed in or not
        page = client.get(source)
        if page.status_code == 200:
            break
    token = csrf_from(page.get_data(as_text=True))
    return client.post(path(url), data={"csrf_token": token, **data})


def _refused(client, url: str, data: dict, status: int, words: str) -> None:
    """GET and POST are both refused with the clear page."""
    for response in (client.get(path(url)), _post(client, url, data)):
        assert response.status_code == status
        body = response.get_data(as_text=True)
        assert "This link cannot be used" in body and words in body
        assert "Nothing was changed" in body


def test_expired(kind, link, client):
    pair_id, url = link
    before = _state(pair_id)
    clock.advance(AGES[kind] + timedelta(minutes=1))
    _refused(client, url, KINDS[kind][2], 410, "This link has expired")
    # The page of the pairs' links, offering the pair of the address.
    body = client.get(path(url)).get_data(as_text=True)
    assert "Links in check-in e-mails work for a limited time" in body
    assert f'href="/pairs/{pair_id}"' in body
    assert _state(pair_id) == before


def test_reused(kind, link, client):
    pair_id, url = link
    assert _post(client, url, KINDS[kind][2]).status_code == 200
    after = _state(pair_id)
    assert after[0] == ("closed" if kind == "standing" else "ended")
    _refused(client, url, KINDS[kind][2], 410, "already been used")
    assert _state(pair_id) == after


def test_tampered(kind, link, client):
    pair_id, url = link
    before = _state(pair_id)
    head, _, tail = url.rpartition(".")
    forged = f"{head}.{'A' if tail[0] != 'A' else 'B'}{tail[1:]}"
    _refused(client, forged, KINDS[kind][2], 400, "not valid")
    # The same data signed for another purpose does not open this door either.
    other = url.replace(f"/{kind}/", "/checkin/")
    assert client.get(path(other)).status_code == 400
    assert _state(pair_id) == before


def test_under_another_pairs_address(kind, link, world, client, make_user):
    pair_id, url = link
    carol = make_user(world.org, email="carol@acme.example.org")
    other = create_pair(world.org, world.mentee, carol, kind="peer")
    db.session.commit()
    before = _state(pair_id)
    moved = url.replace(f"/pairs/{pair_id}/", f"/pairs/{other.id}/")
    _refused(client, moved, KINDS[kind][2], 400, "another pair")
    assert _state(pair_id) == before


@pytest.mark.parametrize("who", ["ada@acme.example.org", "olu@acme.example.org"])
def test_opened_by_someone_else(kind, link, who, client, auth):
    """The other member of the pair, or an organizer, signed in: not answered."""
    pair_id, url = link
    before = _state(pair_id)
    auth.login(who)
    _refused(client, url, KINDS[kind][2], 400, "sent to someone else")
    assert _state(pair_id) == before
