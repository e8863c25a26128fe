"""Guards around pairs: CSRF on every POST, what stays private (notes, feedback,
one-sided renewal), and names that try to be HTML."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from mixer import clock
from mixer.extensions import db
from mixer.mail.models import OutboxMessage
from mixer.pairs import answers, lifecycle, links, schedule
from mixer.pairs.lifecycle import create_pair
from mixer.pairs.models import Pair, PairFeedback
from tests.helpers import bearer

from .helpers import invite_of, path


def _everything() -> tuple:
    """Pairs, their check-ins, feedback and the outbox, as plain values."""
    db.session.expire_all()
    pairs = db.session.scalars(select(Pair).order_by(Pair.id)).all()
    return (
        [(p.status, p.cadence_days, p.meeting_minutes, p.missed_in_row) for p in pairs],
        [[(c.number, c.status, c.due_at) for c in p.meetings] for p in pairs],
        db.session.scalar(select(func.count()).select_from(PairFeedback)),
        db.session.scalar(select(func.count()).select_from(OutboxMessage)),
    )


def test_every_post_needs_its_csrf_token(world, client, auth, make_user):
    carol = make_user(world.org, email="carol@acme.example.org", name="Carol Diaz")
    ended = create_pair(world.org, world.mentee, carol, kind="peer")
    db.session.commit()
    clock.freeze(ended.term_ends_at + timedelta(days=4))
    schedule.tick(ended.id)
    active = create_pair(world.org, world.mentor, world.mentee, kind="peer")
    db.session.commit()
    meeting = active.meetings[0]
    e_mailed = [
        links.meeting_links(active, meeting, world.mentee)["met"],
        links.standing_links(active, meeting, world.mentee)["close"],
        links.feedback_link(ended, world.mentee),
    ]
    before = _everything()
    # The e-mailed links, signed out.
    for url in e_mailed:
        response = client.post(path(url), data={"answer": "met", "choice": "close"})
        assert response.status_code == 400, url
        assert "could not be accepted" in response.get_data(as_text=True)
    # The pair page's forms, signed in as a member of both pairs.
    auth.login("bo@acme.example.org")
    posts = {
        f"/pairs/{active.id}/cadence": {"cadence_days": "7", "meeting_minutes": "9"},
        f"/pairs/{active.id}/log": {"status": "met"},
        f"/pairs/{active.id}/pause": {},
        f"/pairs/{active.id}/close": {},
        f"/pairs/{ended.id}/feedback": {"rating": "5", "renew": "y"},
    }
    for url, data in posts.items():
        for token in (None, "forged"):
            sent = {**data, "csrf_token": token} if token else data
            response = client.post(url, data=sent)
            assert response.status_code == 400, url
            assert "could not be accepted" in response.get_data(as_text=True)
    assert _everything() == before


def test_notes_feedback_and_one_sided_renewal_stay_private(
    world, client, auth, token_for
):
    pair = create_pair(world.org, world.mentor, world.mentee, kind="peer")
    db.session.commit()
    clock.freeze(pair.first_slot_at + timedelta(hours=1))
    answers.log_meeting(pair, world.mentor, "met", note="Private: my promotion plan")
    clock.freeze(pair.term_ends_at + timedelta(days=4))
    schedule.tick(pair.id)
    lifecycle.submit_feedback(
        pair, world.mentor, rating=2, helped="Private: too shy", renew=True
    )
    db.session.commit()

    # Bo sees the shared check-in notes, but not Ada's feedback nor her wish to
    # renew: his own form is blank and nothing hints at hers.
    auth.login("bo@acme.example.org")
    body = client.get(f"/pairs/{pair.id}").get_data(as_text=True)
    assert "Private: my promotion plan" in body
    assert "too shy" not in body and "another term" in body  # the field's label
    assert 'name="renew" type="checkbox" value="y">' in body
    assert "checked" not in body.split('name="renew"')[1].split(">")[0]
    assert "You sent your feedback" not in body
    auth.logout()

    # Organizers: neither notes nor feedback, on the page or in the API.
    auth.login("olu@acme.example.org")
    overview = client.get("/o/acme/pairs").get_data(as_text=True)
    api = client.get(
        f"/api/v1/pairs/{pair.id}",
        headers=bearer(token_for(world.organizer, world.org)),
    ).get_data(as_text=True)
    for text in (overview, api):
        assert "Ada Lovelace" in text
        assert "Private" not in text and "ada@acme.example.org" not in text
        assert "wants_renewal" not in text and "rating" not in text


def test_names_are_escaped_in_pages_mail_and_calendars(
    world, client, auth, make_user, outbox
):
    name = '<img src=x onerror=alert(1)> "Eve"; Jr, Esq'
    eve = make_user(world.org, email="eve@acme.example.org", name=name)
    pair = create_pair(world.org, world.mentor, eve, kind="peer", topic="<b>SQL</b>")
    db.session.commit()
    auth.login("ada@acme.example.org")
    for url in (f"/pairs/{pair.id}", "/pairs"):
        body = client.get(url).get_data(as_text=True)
        assert "<img src=x" not in body and "<b>SQL" not in body
        assert "&lt;img src=x onerror=alert(1)&gt;" in body
    [intro] = outbox("ada@acme.example.org")
    html = intro.get_body(("html",)).get_content()
    assert "<img src=x" not in html and "&lt;img src=x" in html
    [vevent] = invite_of(intro).walk("VEVENT")
    names = sorted(str(a.params["CN"]) for a in vevent["attendee"])
    assert names == sorted(["Ada Lovelace", name])
