"""Follow-up matching respects a mentor's capacity and a "not before" date: the
prompt says so, a mutual choice is kept, and the pair forms through the worker
when a place opens or the date comes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from sqlalchemy import select

from mixer import clock
from mixer.extensions import db
from mixer.followup import services
from mixer.followup.answers import Answers, form_held_pairs, held_prompts, save_answers
from mixer.followup.models import FollowupPrompt
from mixer.jobs.models import Job
from mixer.pairs.lifecycle import close, create_pair
from mixer.pairs.models import Pair
from tests.followup.conftest import (
    START,
    check_in,
    count,
    follow_and_submit,
    local,
    meet,
    pick_link,
    prompt_mails,
)
from tests.helpers import mail_text

BUSY = (
    "Ben Example is mentoring three people already; we'll keep your choice for "
    "when a place opens."
)


@pytest.fixture
def busy_ben(room, make_user):
    """Ben mentors three people already (his capacity, the default 3)."""
    mentees = [
        make_user(room.org, name=f"Mentee {n}", email=f"mentee{n}@acme.example.org")
        for n in range(3)
    ]
    pairs = [
        create_pair(
            room.org, room.users["Ben"], m, kind="mentoring", mentor=room.users["Ben"]
        )
        for m in mentees
    ]
    db.session.commit()
    return pairs


def _prompts_sent(room, runner, *names: str):
    clock.advance(START - clock.now() + timedelta(minutes=30))
    check_in(room, *names)
    meet(room, "Ana", "Ben")
    meet(room, "Ana", "Cai")
    services.close_event(room.event, room.organizer)
    db.session.commit()
    assert runner.invoke(args=["worker", "--once"]).exit_code == 0
    return {p.registration_id: p for p in db.session.scalars(select(FollowupPrompt))}


def _event_pairs():
    db.session.expire_all()
    return db.session.scalars(select(Pair).where(Pair.event_id.is_not(None))).all()


def test_a_choice_of_a_full_mentor_is_kept_until_a_place_opens(
    client, room, runner, outbox, busy_ben
):
    prompts = _prompts_sent(room, runner, "Ana", "Ben", "Cai")
    (mail,) = prompt_mails(outbox, room.users["Ana"].email)
    assert f"As your mentor: {BUSY}" in mail_text(mail)
    link = pick_link(mail, room.regs["Ben"].id, "mentor")
    page = unescape(client.get(local(link)).text)
    assert BUSY in page
    _, saved = follow_and_submit(client, link)
    assert saved.status_code == 302
    assert BUSY in unescape(client.get(saved.location).text)  # the thanks page too
    save_answers(
        prompts[room.regs["Ben"].id], Answers(choices={room.regs["Ana"].id: "mentee"})
    )
    db.session.commit()
    assert _event_pairs() == []  # mutual, but Ben is full: kept, not paired
    ana_prompt = prompts[room.regs["Ana"].id].id
    assert [p for p, _ in held_prompts(room.org.id)] == [ana_prompt]

    # One of Ben's pairs closes: the worker forms the one that waited.
    close(busy_ben[0], room.users["Ben"])
    db.session.commit()
    assert count(Job, Job.kind == "followup.held", Job.status == "pending") == 1
    assert runner.invoke(args=["worker", "--once"]).exit_code == 0
    (pair,) = _event_pairs()
    assert pair.mentor_id == room.users["Ben"].id and pair.event_id == room.event.id
    assert {pair.a_id, pair.b_id} == {room.users["Ana"].id, room.users["Ben"].id}
    mail = outbox(room.users["Ana"].email)
    intros = [m for m in mail if str(m["Subject"]).startswith("Meet")]
    assert len(intros) == 1
    assert held_prompts(room.org.id) == []
    assert form_held_pairs(room.org.id) == []  # idempotent


def test_capacity_does_not_hold_peers(room, runner, busy_ben):
    prompts = _prompts_sent(room, runner, "Ana", "Ben")
    save_answers(
        prompts[room.regs["Ana"].id], Answers(choices={room.regs["Ben"].id: "peer"})
    )
    save_answers(
        prompts[room.regs["Ben"].id], Answers(choices={room.regs["Ana"].id: "peer"})
    )
    db.session.commit()
    (pair,) = _event_pairs()
    assert pair.kind == "peer"


def test_not_before_a_date_the_pair_forms_when_it_comes(client, room, runner, outbox):
    ben = room.users["Ben"].membership_in(room.org)
    ben.available_from = (START + timedelta(days=7)).date()  # 12 March 2026
    db.session.commit()
    prompts = _prompts_sent(room, runner, "Ana", "Ben")
    away = (
        "Ben Example is not taking on new pairs before 12 March 2026; we'll keep "
        "your choice until then."
    )
    (mail,) = prompt_mails(outbox, room.users["Ana"].email)
    assert away in mail_text(mail)
    page = client.get(local(pick_link(mail, room.regs["Ben"].id, "peer"))).text
    assert away in unescape(page)
    save_answers(
        prompts[room.regs["Ana"].id], Answers(choices={room.regs["Ben"].id: "peer"})
    )
    save_answers(
        prompts[room.regs["Ben"].id], Answers(choices={room.regs["Ana"].id: "peer"})
    )
    db.session.commit()
    assert _event_pairs() == []
    (job,) = db.session.scalars(select(Job).where(Job.kind == "followup.held"))
    assert job.run_at == datetime(2026, 3, 12, tzinfo=UTC)
    clock.advance(datetime(2026, 3, 12, tzinfo=UTC) - clock.now() - timedelta(hours=1))
    assert runner.invoke(args=["worker", "--once"]).exit_code == 0
    assert _event_pairs() == []
    clock.advance(timedelta(hours=1))
    assert runner.invoke(args=["worker", "--once"]).exit_code == 0
    (pair,) = _event_pairs()
    assert pair.kind == "peer"


def test_a_changed_capacity_signal_forms_what_waited(room, runner, busy_ben):
    """Raising one's capacity (``update_mentoring``, what the profile page and the
    API call) sends the signal, and the worker forms the pair that waited."""
    prompts = _prompts_sent(room, runner, "Ana", "Ben")
    save_answers(
        prompts[room.regs["Ana"].id], Answers(choices={room.regs["Ben"].id: "mentor"})
    )
    save_answers(
        prompts[room.regs["Ben"].id], Answers(choices={room.regs["Ana"].id: "mentee"})
    )
    db.session.commit()
    assert _event_pairs() == []
    membership = room.users["Ben"].membership_in(room.org)
    membership.update_mentoring(4, None)
    db.session.commit()
    assert runner.invoke(args=["worker", "--once"]).exit_code == 0
    assert len(_event_pairs()) == 1
