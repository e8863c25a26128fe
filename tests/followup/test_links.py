"""E-mailed prompt links: GET changes nothing; every link saves, in any order, as
often as wanted, until it expires; expired, tampered and other people's links
get a clear page, a 4xx status, and nothing changes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from mixer import clock, tokens
from mixer.extensions import db
from mixer.followup import services
from mixer.followup.models import FollowupChoice, FollowupPrompt
from mixer.followup.prompts import PURPOSE
from mixer.tokens.models import UsedToken
from tests.followup.conftest import (
    answer_link,
    check_in,
    count,
    follow_and_submit,
    local,
    meet,
    pick_link,
    prompt_mails,
    read_form,
)
from tests.helpers import PASSWORD, csrf_from


@pytest.fixture
def sent(room, outbox):
    """Ana, Ben and Cai checked in; Ana met Ben and Cai; the prompts went."""
    clock.freeze(room.event.starts_at + timedelta(minutes=5))
    check_in(room, "Ana", "Ben", "Cai")
    meet(room, "Ana", "Ben")
    meet(room, "Ana", "Cai", source="note")
    services.close_event(room.event, room.organizer)
    followup = services.followup_for(room.event)
    services.send_prompts(room.event.id, clock.stamp(followup.due_at))
    db.session.commit()
    return {
        name: prompt_mails(outbox, room.users[name].email)[0]
        for name in ("Ana", "Ben", "Cai")
    }


def _state():
    """Everything an answer could change, read fresh."""
    db.session.expire_all()
    prompts = db.session.execute(
        select(
            FollowupPrompt.id,
            FollowupPrompt.rating,
            FollowupPrompt.comment,
            FollowupPrompt.answered_at,
        ).order_by(FollowupPrompt.id)
    ).all()
    choices = db.session.execute(
        select(FollowupChoice.prompt_id, FollowupChoice.other_id, FollowupChoice.choice)
    ).all()
    return prompts, sorted(choices), count(UsedToken)


def test_get_shows_the_prompt_and_changes_nothing(client, room, sent):
    before = _state()
    link = pick_link(sent["Ana"], room.regs["Ben"].id, "mentor")
    for _ in range(2):  # a mail scanner, then the person
        page = client.get(local(link))
        assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Ben Example" in html and "Cai Example" in html
    assert "Rotation partner" not in html and "scanning a badge" in html
    assert "“we talked” note" in html
    _, fields = read_form(html)
    assert fields[f"with_{room.regs['Ben'].id}"] == "mentor"  # preselected
    assert f"with_{room.regs['Cai'].id}" not in fields
    assert "ben@acme.example.org" not in html  # no addresses on the prompt
    assert _state() == before


def test_a_bad_pick_is_ignored(client, room, sent):
    link = answer_link(sent["Ana"])
    for pick in ("999:mentor", f"{room.regs['Ben'].id}:boss", "x", ":"):
        page = client.get(local(link) + f"?pick={pick}")
        assert page.status_code == 200
        _, fields = read_form(page.get_data(as_text=True))
        assert not [k for k in fields if k.startswith("with_")]


def test_expired_link_is_refused_and_nothing_changes(client, room, sent):
    link = local(pick_link(sent["Ana"], room.regs["Ben"].id, "mentor"))
    page = client.get(link)
    _, fields = read_form(page.get_data(as_text=True))
    before = _state()
    clock.advance(timedelta(days=14, minutes=1))
    for resp in (client.get(link), client.post(link.split("?")[0], data=fields)):
        assert resp.status_code == 410
        html = resp.get_data(as_text=True)
        assert "This link has expired" in html and "Nothing was changed" in html
        assert "change my answers" in html
    assert _state() == before


def test_every_link_of_the_email_saves_in_any_order_until_it_expires(
    client, room, sent
):
    ben, cai = room.regs["Ben"].id, room.regs["Cai"].id
    # Ana taps "as my mentor" for Ben and saves.
    page, saved = follow_and_submit(
        client, pick_link(sent["Ana"], ben, "mentor"), rating="4"
    )
    assert saved.status_code == 302
    # Two days later, "as peers" for Cai from the same e-mail: it opens with
    # her earlier answers and the new choice, and saves.
    clock.advance(timedelta(days=2))
    page, saved = follow_and_submit(client, pick_link(sent["Ana"], cai, "peer"))
    assert saved.status_code == 302, saved.get_data(as_text=True)[:300]
    _, fields = read_form(page.get_data(as_text=True))
    assert fields[f"with_{ben}"] == "mentor" and fields[f"with_{cai}"] == "peer"
    prompts, choices, used = _state()
    ana = prompts[0]
    assert ana[1] == 4
    assert choices == sorted([(ana[0], ben, "mentor"), (ana[0], cai, "peer")])
    assert used == 0  # nothing is spent
    # Ben's link again, changing her mind, on the last day the link works.
    clock.advance(timedelta(days=11, hours=23))
    _, saved = follow_and_submit(client, pick_link(sent["Ana"], ben, "peer"))
    assert saved.status_code == 302
    assert sorted(c[1:] for c in _state()[1]) == sorted([(ben, "peer"), (cai, "peer")])


def test_a_double_click_saves_once(client, room, sent):
    link = pick_link(sent["Ana"], room.regs["Ben"].id, "mentor")
    page = client.get(local(link))
    action, fields = read_form(page.get_data(as_text=True))
    fields["rating"] = "5"
    first = client.post(action, data=fields)
    second = client.post(action, data=fields)
    assert (first.status_code, second.status_code) == (302, 302)
    prompts, choices, _ = _state()
    assert choices == [(prompts[0][0], room.regs["Ben"].id, "mentor")]
    assert [p[1] for p in prompts] == [5, None, None]


def test_a_link_spent_under_the_old_rule_works_again(client, room, sent):
    """E-mails sent before links became reusable carry a ``jti``; a spent one
    opens and saves like the others (until it expires)."""
    prompt = db.session.scalar(
        select(FollowupPrompt).where(
            FollowupPrompt.registration_id == room.regs["Ana"].id
        )
    )
    old = tokens.make(
        PURPOSE, {"p": prompt.id, "r": prompt.registration_id}, single_use=True
    )
    tokens.spend(PURPOSE, tokens.read(PURPOSE, old))
    db.session.commit()
    page = client.get(f"/followup/p/{old}?pick={room.regs['Cai'].id}:mentee")
    assert page.status_code == 200
    action, fields = read_form(page.get_data(as_text=True))
    assert client.post(action, data=fields).status_code == 302
    assert _state()[1] == [(prompt.id, room.regs["Cai"].id, "mentee")]


def test_tampered_link_is_refused(client, room, sent):
    link = local(answer_link(sent["Ana"]))
    before = _state()
    token = link.rsplit("/", 1)[1]
    broken = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    for bad in (broken, token[:40], "not-a-token"):
        page = client.get(f"/followup/p/{bad}")
        assert page.status_code == 400
        assert "This link is not valid" in page.get_data(as_text=True)
    assert _state() == before


def test_a_signed_link_for_another_purpose_or_person_is_refused(client, room, sent):
    prompts = {p.registration_id: p for p in db.session.scalars(select(FollowupPrompt))}
    ana = prompts[room.regs["Ana"].id]
    # Validly signed, but the data do not fit together (prompt A, person B) or
    # the token was made for another purpose.
    mixed = tokens.make(
        PURPOSE, {"p": ana.id, "r": room.regs["Ben"].id}, single_use=True
    )
    other_purpose = tokens.make(
        "event-guest", {"p": ana.id, "r": ana.registration_id}, single_use=True
    )
    before = _state()
    for bad in (mixed, other_purpose):
        page = client.get(f"/followup/p/{bad}")
        assert page.status_code == 400
        assert "not valid" in page.get_data(as_text=True)
    assert _state() == before


def test_signed_in_member_cannot_use_someone_elses_link(client, auth, room, sent):
    from mixer.accounts.services import set_password

    set_password(room.users["Cai"], PASSWORD)
    db.session.commit()
    link = local(pick_link(sent["Ana"], room.regs["Ben"].id, "mentor"))
    # Read the form as Ana would have it, then sign in as Cai.
    _, fields = read_form(client.get(link).get_data(as_text=True))
    auth.login(room.users["Cai"].email)
    before = _state()
    for resp in (client.get(link), client.post(link.split("?")[0], data=fields)):
        assert resp.status_code == 403
        html = resp.get_data(as_text=True)
        assert "sent to someone else" in html
        assert "Ben Example" not in html  # nothing of Ana's prompt is shown
    assert _state() == before
    # Cai's own link still works for Cai.
    assert client.get(local(answer_link(sent["Cai"]))).status_code == 200


def test_in_app_prompt_is_for_its_owner_only(client, auth, room, sent):
    from mixer.accounts.services import set_password

    for name in ("Ana", "Cai"):
        set_password(room.users[name], PASSWORD)
    db.session.commit()
    prompts = {p.registration_id: p for p in db.session.scalars(select(FollowupPrompt))}
    ana_prompt = prompts[room.regs["Ana"].id]
    url = f"/followup/prompts/{ana_prompt.id}"
    assert client.get(url).status_code == 302  # anonymous: sign in first
    auth.login(room.users["Cai"].email)
    assert client.get(url).status_code == 404
    before = _state()
    token = csrf_from(client.get("/followup").get_data(as_text=True))
    refused = client.post(url, data={"csrf_token": token, "rating": "1"})
    assert refused.status_code == 404
    assert _state() == before
    auth.logout()
    auth.login(room.users["Ana"].email)
    listing = client.get("/followup").get_data(as_text=True)
    assert "Spring Mixer" in listing and "1 event waits" in listing
    page = client.get(url)
    action, fields = read_form(page.get_data(as_text=True))
    fields.update({f"with_{room.regs['Cai'].id}": "peer", "comment": "More rounds!"})
    saved = client.post(action, data=fields)
    assert saved.status_code == 302 and saved.location.endswith("/followup")
    db.session.expire_all()
    assert ana_prompt.comment == "More rounds!"
    assert {c.other_id: c.choice for c in ana_prompt.choices} == {
        room.regs["Cai"].id: "peer"
    }
    assert "Answered" in client.get("/followup").get_data(as_text=True)
    # Answering in the app leaves the e-mailed link alone: it still works once.
    assert client.get(local(answer_link(sent["Ana"]))).status_code == 200


def test_prompt_form_errors_are_inline_and_change_nothing(client, room, sent):
    link = pick_link(sent["Ana"], room.regs["Ben"].id, "peer")
    before = _state()
    page, resp = follow_and_submit(
        client, link, testimonial="A lovely evening.", rating="9"
    )
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "Choose a rating from 1 to 5." in html
    assert "Tick this to let us publish your words" in html
    assert "A lovely evening." in html  # kept for the next try
    assert _state() == before
    # Fixed, the same (unspent) link saves.
    _, fields = read_form(html)
    fields.update({"rating": "5", "consent": "y"})
    action, _ = read_form(page.get_data(as_text=True))
    assert client.post(action, data=fields).status_code == 302
    from mixer.recognition.models import Testimonial

    (words,) = db.session.scalars(select(Testimonial)).all()
    assert (words.body, words.status, words.author_name) == (
        "A lovely evening.",
        "pending",
        "Ana Example",
    )
    assert words.event_id == room.event.id and words.author_id == room.users["Ana"].id


def test_the_thanks_page_shows_private_choices_only_once(client, room, sent):
    link = pick_link(sent["Ana"], room.regs["Ben"].id, "mentor")
    _, saved = follow_and_submit(client, link)
    assert saved.status_code == 302
    thanks = client.get(saved.location)
    assert "Ben Example" in thanks.get_data(as_text=True)
    # The next person at the same (shared) browser learns nothing of Ana's choice.
    again = client.get(saved.location)
    assert again.status_code == 302 and "/followup" in again.location
    assert "Ben Example" not in client.get(again.location).get_data(as_text=True)
