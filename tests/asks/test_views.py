"""The asks pages through real HTTP, with mail read from the outbox."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import select

from mixer import clock
from mixer.asks.models import Ask, AskSuggestion
from mixer.extensions import db
from mixer.pairs.models import Pair
from tests.helpers import csrf_from, link_in, mail_text


def _path(url: str) -> str:
    """The path and query of an absolute link from an e-mail."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _subject(msg) -> str:
    """The subject as a mail client shows it (long ones are folded on the wire)."""
    return " ".join(str(msg["Subject"]).split())


def _ask(client, auth, world, topic="public speaking", note="I freeze in meetings."):
    """Rita signs in and asks; returns the ask's page path."""
    auth.login(world.rita.email)
    page = client.get("/o/acme/asks/new")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<datalist id="offered-topics">' in html
    assert '<option value="public speaking">' in html
    assert (
        'list="offered-topics"' in html and '<label for="topic">Topic</label>' in html
    )
    response = client.post(
        "/o/acme/asks/new",
        data={"topic": topic, "note": note, "csrf_token": csrf_from(html)},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def _pick(client, path: str, *people) -> None:
    """The signed-in requester asks ``people`` through the page's form."""
    html = client.get(path).get_data(as_text=True)
    response = client.post(
        f"{path}/ask",
        data={"people": [p.id for p in people], "csrf_token": csrf_from(html)},
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def _answer(client, msg, choice: str):
    """Follow an e-mailed link: GET (confirm page), then POST the choice."""
    url = _path(link_in(msg, f"/asks/answer/[^ ]*choice={choice}"))
    page = client.get(url)
    assert page.status_code == 200, page.get_data(as_text=True)
    html = page.get_data(as_text=True)
    return page, client.post(
        url, data={"choice": choice, "csrf_token": csrf_from(html)}
    )


def _status(user, ask_id) -> str:
    """The current status of ``user``'s suggestion for the ask, freshly read."""
    db.session.expire_all()
    return db.session.scalar(
        select(AskSuggestion.status).where(
            AskSuggestion.ask_id == ask_id,
            AskSuggestion.candidate_id == user.id,
        )
    )


def test_ask_pick_decline_accept_through_mail(app, client, auth, world, outbox):
    """The whole flow over HTTP: ask, pick, one declines, one accepts."""
    path = _ask(client, auth, world)
    ask_id = int(path.rsplit("/", 1)[1])
    html = client.get(path).get_data(as_text=True)
    assert "A micro-mentor on public speaking" in html
    names = re.findall(r'<span class="who">([^<]+)</span>', html)
    assert names == ["Ada Archer", "Cy Cole", "Gus Gray", "Dee Dunn", "Ben Baker"]
    assert "offers public speaking · Sales" in html
    _pick(client, path, world.ada, world.cy, world.dee)
    html = client.get(path).get_data(as_text=True)
    assert "Waiting for an answer" in html and 'class="pick-form"' not in html

    # One e-mail each, nothing to anyone else.
    for person in (world.ada, world.cy, world.dee):
        (msg,) = outbox(person.email)
        assert _subject(msg) == (
            "Would you be Rita Requester's micro-mentor on public speaking?"
        )
        assert "List-Unsubscribe" in msg
        text = mail_text(msg)
        assert "Rita Requester (Finance)" in text and "> I freeze in meetings." in text
        assert "rita@acme.example.org" not in text  # addresses only after a match
    assert outbox(world.gus.email) == [] and outbox(world.ben.email) == []
    ada_mail = outbox(world.ada.email)[0]
    assert "because you offer public speaking" in mail_text(ada_mail)
    assert "because you offer speaking" in mail_text(outbox(world.cy.email)[0])

    # A stranger's browser (a mail scanner) fetching the link changes nothing.
    client.post("/logout", data={"csrf_token": csrf_from(html)})
    page, done = _answer(client, ada_mail, "decline")
    assert "Confirm: not this time" in page.get_data(as_text=True)
    assert done.status_code == 200
    assert "is not told who declined" in done.get_data(as_text=True)
    assert _status(world.ada, ask_id) == "declined"
    assert outbox(world.rita.email) == []  # a decline is never reported on its own

    page, done = _answer(client, outbox(world.cy.email)[0], "accept")
    assert "Confirm: I'll help" in page.get_data(as_text=True)
    assert "You are Rita Requester's micro-mentor" in done.get_data(as_text=True)
    pair = db.session.scalar(select(Pair).where(Pair.ask_id == ask_id))
    assert (pair.mentor_id, pair.mentee_id) == (world.cy.id, world.rita.id)
    assert (pair.source, pair.topic) == ("request", "public speaking")
    assert db.session.get(Ask, ask_id).status == "matched"
    assert _status(world.dee, ask_id) == "withdrawn"

    # Dee is thanked once; her link now explains, and changes nothing.
    dee_mails = outbox(world.dee.email)
    assert [_subject(m) for m in dee_mails][1:] == [
        "Thank you — the ask on public speaking is already matched"
    ]
    url = _path(link_in(dee_mails[0], "/asks/answer/[^ ]*choice=accept"))
    late = client.get(url)
    assert late.status_code == 409
    assert "Someone else has already taken this on" in late.get_data(as_text=True)
    assert outbox(world.ada.email)[1:] == []  # who declined hears nothing more

    # Rita: an introduction to Cy (from pairs), a matched page, no decliner named.
    rita_mails = outbox(world.rita.email)
    assert rita_mails and all("Cy Cole" in mail_text(m) for m in rita_mails)
    auth.login(world.rita.email)
    html = client.get(path).get_data(as_text=True)
    assert "<strong>Cy Cole</strong> is your micro-mentor" in html
    pages = html + client.get("/asks").get_data(as_text=True)
    texts = pages + "".join(mail_text(m) for m in rita_mails)
    assert "declined" not in texts.replace("who declined", "")


def test_nobody_could_take_it_on(app, client, auth, world, outbox):
    """Everyone asked declines: one e-mail, no names, fresh suggestions."""
    path = _ask(client, auth, world)
    _pick(client, path, world.ada, world.cy)
    # Cy declines from his signed-in inbox, Ada through her link.
    auth.logout()
    auth.login(world.cy.email)
    inbox = client.get("/asks").get_data(as_text=True)
    assert "<strong>Rita Requester</strong> would like a micro-mentor" in inbox
    form_action = re.search(r'action="(/asks/answers/\d+)"', inbox).group(1)
    client.post(form_action, data={"choice": "decline", "csrf_token": csrf_from(inbox)})
    assert "Nobody is waiting for your answer" in client.get("/asks").get_data(
        as_text=True
    )
    auth.logout()
    _answer(client, outbox(world.ada.email)[0], "decline")

    (msg,) = outbox(world.rita.email)
    assert _subject(msg) == (
        "Your ask on public speaking: nobody asked could take it on right now"
    )
    text = mail_text(msg)
    assert "Ada" not in text and "Cy" not in text
    assert f"http://mixer.test{path}" in text
    auth.login(world.rita.email)
    html = client.get(path).get_data(as_text=True)
    assert "Nobody asked could take it on right now" in html
    assert re.findall(r'<span class="who">([^<]+)</span>', html) == [
        "Gus Gray",
        "Dee Dunn",
        "Ben Baker",
    ]
    # The page names whom she asked (she chose them) but never who declined.
    assert "You asked: Ada Archer, Cy Cole." in html
    assert "declined" not in html.replace("You never learn who declined.", "")


def test_refused_tokens_change_nothing(app, client, auth, world, outbox):
    """Tampered, other-person, reused and expired links are refused."""
    clock.freeze(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    path = _ask(client, auth, world)
    ask_id = int(path.rsplit("/", 1)[1])
    _pick(client, path, world.ada, world.cy)
    auth.logout()
    ada_url = _path(link_in(outbox(world.ada.email)[0], "/asks/answer/"))
    cy_url = _path(link_in(outbox(world.cy.email)[0], "/asks/answer/"))

    # Tampered: a changed character breaks the signature.
    token = ada_url.split("/asks/answer/")[1].split("?")[0]
    broken = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    page = client.get(f"/asks/answer/{broken}?choice=accept")
    assert page.status_code == 400
    assert "This answer link cannot be used" in page.get_data(as_text=True)

    # Someone else signed in (a forwarded mail) cannot answer for Ada.
    auth.login(world.cy.email)
    page = client.get(ada_url)
    assert page.status_code == 400
    assert "sent to someone else" in page.get_data(as_text=True)
    html = client.get(cy_url).get_data(as_text=True)
    refused = client.post(
        ada_url, data={"choice": "accept", "csrf_token": csrf_from(html)}
    )
    assert refused.status_code == 400
    assert _status(world.ada, ask_id) == "asked"
    auth.logout()

    # Reused: Ada declines, then the same link (either choice) is spent.
    _answer(client, outbox(world.ada.email)[0], "decline")
    again = client.get(ada_url.replace("choice=decline", "choice=accept"))
    assert again.status_code == 410
    assert "already been used" in again.get_data(as_text=True)
    assert _status(world.ada, ask_id) == "declined"

    # Expired: after 14 days Cy's link is refused and makes no pair.
    clock.advance(timedelta(days=14, seconds=1))
    page = client.get(cy_url)
    assert page.status_code == 410
    assert "This link has expired" in page.get_data(as_text=True)
    assert _status(world.cy, ask_id) == "asked"  # until the job lets it lapse
    assert db.session.scalar(select(Pair).where(Pair.ask_id == ask_id)) is None


def test_only_the_requester_sees_an_ask(app, client, auth, world, outbox):
    """Other members and other organizations get 404 everywhere."""
    path = _ask(client, auth, world)
    ask_id = int(path.rsplit("/", 1)[1])
    _pick(client, path, world.ada)
    auth.logout()
    assert client.get(path).status_code == 302  # anonymous: to the sign-in page

    # Another member of Acme, even one who was asked: 404 on every route.
    auth.login(world.ada.email)
    assert client.get(path).status_code == 404
    token = csrf_from(client.get("/asks").get_data(as_text=True))
    for action in ("withdraw", "refresh", "organizers", "ask", "topic"):
        response = client.post(f"{path}/{action}", data={"csrf_token": token})
        assert response.status_code == 404, action
    auth.logout()

    # Someone of another organization: 404 for the org's form and the ask.
    auth.login(world.outsider.email)
    assert client.get("/o/acme/asks/new").status_code == 404
    assert client.get(path).status_code == 404
    token = csrf_from(client.get("/asks").get_data(as_text=True))
    row = db.session.scalar(select(AskSuggestion).where(AskSuggestion.ask_id == ask_id))
    response = client.post(
        f"/asks/answers/{row.id}", data={"choice": "accept", "csrf_token": token}
    )
    assert response.status_code == 404
    assert _status(world.ada, ask_id) == "asked"
    assert db.session.get(Ask, ask_id).status == "open"


def test_form_errors_and_withdrawing(app, client, auth, world, outbox):
    """Inline 422 errors; withdrawing stops the ask without mail."""
    auth.login(world.rita.email)
    html = client.get("/o/acme/asks/new").get_data(as_text=True)
    bad = client.post(
        "/o/acme/asks/new", data={"topic": " ", "csrf_token": csrf_from(html)}
    )
    assert bad.status_code == 422
    body = bad.get_data(as_text=True)
    assert 'aria-invalid="true"' in body and "Name the topic in a word or two." in body
    for topic in ("negotiation", "excel", "writing"):
        client.post(
            "/o/acme/asks/new", data={"topic": topic, "csrf_token": csrf_from(html)}
        )
    fourth = client.post(
        "/o/acme/asks/new", data={"topic": "python", "csrf_token": csrf_from(html)}
    )
    assert fourth.status_code == 422
    assert "You have 3 open asks, the most at once." in fourth.get_data(as_text=True)

    # Picking too many is refused inline; withdrawing stops everything quietly.
    ask_id = db.session.scalar(select(Ask.id).where(Ask.topic == "negotiation"))
    path = f"/asks/{ask_id}"
    page = client.get(path).get_data(as_text=True)
    too_many = client.post(
        f"{path}/ask",
        data={
            "people": [world.ada.id, world.fay.id, world.dee.id, world.cy.id],
            "csrf_token": csrf_from(page),
        },
    )
    assert too_many.status_code == 422
    assert "Pick at most 3 people at once." in too_many.get_data(as_text=True)
    _pick(client, path, world.ada)
    sent = len(outbox())
    client.post(f"{path}/withdraw", data={"csrf_token": csrf_from(page)})
    assert "You withdrew this ask" in client.get(path).get_data(as_text=True)
    assert len(outbox()) == sent
    assert _status(world.ada, ask_id) == "withdrawn"
    auth.logout()
    late = client.get(_path(link_in(outbox(world.ada.email)[0], "/asks/answer/")))
    assert late.status_code == 409
    assert "Rita Requester withdrew this ask" in late.get_data(as_text=True)


def test_nobody_offers_it_is_no_dead_end(app, client, auth, world, outbox):
    """No match: nearby topics to switch to and the organizers to tell."""
    path = _ask(client, auth, world, topic="negotiating skills", note="")
    html = client.get(path).get_data(as_text=True)
    assert "Nobody offers “negotiating skills” yet" in html
    assert '<button type="submit" class="tag tag-button">negotiation</button>' in html
    response = client.post(f"{path}/organizers", data={"csrf_token": csrf_from(html)})
    assert response.status_code == 302
    html = client.get(path).get_data(as_text=True)
    assert "The organizers have your ask" in html
    (msg,) = outbox(world.organizer.email)[-1:]
    assert _subject(msg) == (
        "Rita Requester is looking for a micro-mentor on negotiating skills"
    )
    client.post(
        f"{path}/topic", data={"topic": "negotiation", "csrf_token": csrf_from(html)}
    )
    html = client.get(path).get_data(as_text=True)
    assert "A micro-mentor on negotiation" in html
    assert re.findall(r'<span class="who">([^<]+)</span>', html) == [
        "Ada Archer",
        "Fay Field",
    ]


def test_an_answer_without_a_choice_is_refused_inline(app, client, auth, world, outbox):
    """A POST to the link without a valid choice: 422, the buttons again, and
    the link is not spent."""
    path = _ask(client, auth, world)
    ask_id = int(path.rsplit("/", 1)[1])
    _pick(client, path, world.ada)
    auth.logout()
    url = _path(link_in(outbox(world.ada.email)[0], "/asks/answer/[^ ]*choice=accept"))
    html = client.get(url).get_data(as_text=True)
    for bad in ({}, {"choice": "maybe"}):
        refused = client.post(url, data={"csrf_token": csrf_from(html), **bad})
        assert refused.status_code == 422
        body = refused.get_data(as_text=True)
        assert "Choose accept or decline." in body and 'role="alert"' in body
        assert 'name="choice" value="accept"' in body
    assert _status(world.ada, ask_id) == "asked"
    _, done = _answer(client, outbox(world.ada.email)[0], "accept")
    assert done.status_code == 200 and _status(world.ada, ask_id) == "accepted"
