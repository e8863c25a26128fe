"""The issue's end-to-end story on a real mixer: rotations → check-ins → close →
``mixer worker --once`` → prompts in the outbox → both sides choose each other
through the e-mailed links → one pair, both introduced with a recurring invite;
a one-sided choice creates nothing and tells no one."""

from __future__ import annotations

from datetime import timedelta
from itertools import combinations

from dateutil.rrule import rrulestr
from icalendar import Calendar
from sqlalchemy import select

from mixer import clock
from mixer.connections.models import Connection
from mixer.extensions import db
from mixer.followup.models import FollowupChoice, FollowupPrompt
from mixer.pairs.models import Pair
from mixer.rotations import running
from mixer.rotations import services as rotations
from mixer.rotations.services import Settings
from tests.followup.conftest import (
    START,
    answer_link,
    count,
    follow_and_submit,
    pick_link,
    prompt_mails,
)
from tests.helpers import bearer, mail_text


def _check_in_at_the_door(client, room, secret, *names):
    """Scan each person's badge through the check-in API."""
    for name in names:
        resp = client.post(
            "/api/v1/checkins",
            json={"token": room.regs[name].badge_token, "event_id": room.event.id},
            headers=bearer(secret),
        )
        assert resp.status_code == 200, resp.get_json()
        assert resp.get_json()["status"] == "checked_in"


def _run_the_rounds(room, rounds: int = 3) -> set[frozenset[int]]:
    """Plan peer rotations and hold every round; the pairs of people who met."""
    plan = rotations.create_plan(
        room.event, Settings(rounds=rounds, minutes=8, mode="peer", seed=1)
    )
    db.session.commit()
    for number in range(rounds):
        running.start_next_round(room.event, expected=number)
        db.session.commit()
        clock.advance(timedelta(minutes=8))
    assert plan.current_round == rounds
    return {
        frozenset((a, b))
        for a, b in db.session.execute(
            select(Connection.a_id, Connection.b_id).where(
                Connection.event_id == room.event.id
            )
        )
    }


def _intro(outbox, address):
    """The pair introductions (with their invite.ics) sent to ``address``."""
    intros = [
        m
        for m in outbox(address)
        if str(m["Subject"]).startswith("Meet ")
        and any(p.get_filename() == "invite.ics" for p in m.iter_attachments())
    ]
    return intros


def test_mutual_choice_through_emailed_links_forms_one_pair(
    app, client, runner, outbox, room, token_for
):
    secret = token_for(room.organizer, room.org)
    clock.advance(START - clock.now() + timedelta(minutes=5))
    _check_in_at_the_door(client, room, secret, "Ana", "Ben", "Cai", "Dee")
    met = _run_the_rounds(room)
    ids = {name: room.regs[name].id for name in ("Ana", "Ben", "Cai", "Dee")}
    # Four people, three peer rounds: everyone met everyone once.
    assert met == {frozenset(p) for p in combinations(ids.values(), 2)}

    resp = client.post(f"/api/v1/events/{room.event.id}/close", headers=bearer(secret))
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["event_id"] == room.event.id
    assert body["status"] == "ended"
    assert body["prompts_queued"] == 4
    assert body["already_closed"] is False and body["prompts_sent_at"] is None

    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    prompts = prompt_mails(outbox)
    assert sorted(str(m["To"]) for m in prompts) == sorted(
        f"{u.name} <{u.email}>" for u in room.users.values()
    )  # the guest was not checked in: no prompt
    mail = {name: prompt_mails(outbox, room.users[name].email)[0] for name in ids}
    for name, msg in mail.items():
        assert msg.get_content_type() == "multipart/alternative"
        assert msg["List-Unsubscribe"] and msg["List-Unsubscribe-Post"]
        text = mail_text(msg)
        for other in set(ids) - {name}:
            assert f"{other} Example" in text
            assert room.users[other].email not in text  # no addresses before a pair
        assert "Rotation partner, round" in text
        assert "What small action will you take this week" in text
        html = msg.get_body(preferencelist=("html",)).get_content()
        assert "As my mentor" in html and "Not now" in html

    # Ana taps "as my mentor" for Ben; the page preselects it; she rates it 5.
    page, saved = follow_and_submit(
        client, pick_link(mail["Ana"], ids["Ben"], "mentor"), rating="5"
    )
    assert 'value="mentor"' in page.get_data(as_text=True)
    assert saved.status_code == 302 and saved.location.endswith("/followup/thanks")
    thanks = client.get(saved.location).get_data(as_text=True)
    assert "your answers are saved" in thanks and "Ben Example" in thanks
    assert count(Pair) == 0  # one side so far: nothing happens, nobody is told
    ben_mail_before = len(outbox(room.users["Ben"].email))

    # Ben taps "as my mentee" for Ana: now it is mutual.
    _, saved = follow_and_submit(
        client,
        pick_link(mail["Ben"], ids["Ana"], "mentee"),
        reflection="Ask Dee how her project is going.",
    )
    assert saved.status_code == 302
    thanks = client.get(saved.location).get_data(as_text=True)
    assert "You and Ana Example chose each other" in thanks

    pairs = db.session.scalars(select(Pair)).all()
    assert len(pairs) == 1
    pair = pairs[0]
    assert pair.kind == "mentoring" and pair.source == "event"
    assert pair.event_id == room.event.id
    assert pair.mentor_id == room.users["Ben"].id
    assert {pair.a_id, pair.b_id} == {room.users["Ana"].id, room.users["Ben"].id}
    assert len(outbox(room.users["Ben"].email)) == ben_mail_before + 1

    for name, other in (("Ana", "Ben"), ("Ben", "Ana")):
        intros = _intro(outbox, room.users[name].email)
        assert len(intros) == 1, name
        assert room.users[other].email in mail_text(intros[0])  # now shared
        ics = next(
            p for p in intros[0].iter_attachments() if p.get_filename() == "invite.ics"
        )
        cal = Calendar.from_ical(ics.get_content())
        (vevent,) = list(cal.walk("VEVENT"))
        rule = vevent["RRULE"].to_ical().decode()
        assert "FREQ=" in rule
        start = vevent.decoded("DTSTART")
        occurrences = list(rrulestr(rule, dtstart=start))[:3]
        assert len(occurrences) == 3 and occurrences[0] == start
        assert occurrences[1] - occurrences[0] == timedelta(days=pair.cadence_days)


def test_one_sided_choice_creates_nothing_and_tells_no_one(
    app, client, runner, outbox, room, token_for
):
    secret = token_for(room.organizer, room.org)
    clock.advance(START - clock.now() + timedelta(minutes=5))
    _check_in_at_the_door(client, room, secret, "Ana", "Ben", "Cai", "Dee")
    _run_the_rounds(room)
    client.post(f"/api/v1/events/{room.event.id}/close", headers=bearer(secret))
    runner.invoke(args=["worker", "--once"])
    cai, dee = room.users["Cai"], room.users["Dee"]
    cai_mail = prompt_mails(outbox, cai.email)[0]
    dee_mail = prompt_mails(outbox, dee.email)[0]
    before = {u.email: len(outbox(u.email)) for u in room.users.values()}

    # Cai would like Dee as a peer; Dee says "not now" to Cai.
    _, saved = follow_and_submit(
        client, pick_link(cai_mail, room.regs["Dee"].id, "peer"), rating="4"
    )
    assert saved.status_code == 302
    _, saved = follow_and_submit(
        client, pick_link(dee_mail, room.regs["Cai"].id, "not_now")
    )
    assert saved.status_code == 302
    thanks = client.get(saved.location).get_data(as_text=True)
    assert "chose each other" not in thanks and "Cai" in thanks  # her own answer

    runner.invoke(args=["worker", "--once"])
    assert count(Pair) == 0
    after = {u.email: len(outbox(u.email)) for u in room.users.values()}
    assert after == before  # nobody heard anything
    rows = db.session.execute(
        select(
            FollowupPrompt.registration_id,
            FollowupChoice.other_id,
            FollowupChoice.choice,
        )
        .join(FollowupChoice)
        .order_by(FollowupPrompt.registration_id)
    ).all()
    assert sorted(rows) == sorted(
        [
            (room.regs["Cai"].id, room.regs["Dee"].id, "peer"),
            (room.regs["Dee"].id, room.regs["Cai"].id, "not_now"),
        ]
    )
    # The whole-form link of a person who has not answered still works.
    assert (
        client.get(
            answer_link(prompt_mails(outbox, room.users["Ana"].email)[0])
        ).status_code
        == 200
    )
