"""When prompts go, to whom, and that they go once: the scheduled path at the end
plus the delay, closing by an organizer (API and button), moves, cancellations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from mixer import clock
from mixer.events import lifecycle as events
from mixer.extensions import db
from mixer.followup import services
from mixer.followup.answers import Answers, save_answers
from mixer.followup.models import EventFollowup, FollowupPrompt
from mixer.jobs.models import Job
from tests.followup.conftest import END, START, check_in, count, meet, prompt_mails
from tests.helpers import bearer, csrf_from, mail_text


def _worker(runner) -> None:
    """Run ``mixer worker --once`` as the command line would."""
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output


def _pending_followup_jobs():
    """(dedupe key, run_at) of the prompt jobs still waiting."""
    db.session.expire_all()
    return db.session.execute(
        select(Job.dedupe_key, Job.run_at).where(
            Job.kind == services.JOB_KIND, Job.status == "pending"
        )
    ).all()


def test_publishing_schedules_the_prompts_at_the_end_plus_two_hours(room):
    (job,) = _pending_followup_jobs()
    assert job.run_at == END + timedelta(hours=2)
    assert job.dedupe_key == f"followup.prompts:{room.event.id}:20260305T210000Z"
    followup = services.followup_for(room.event)
    assert followup.due_at == END + timedelta(hours=2) and followup.sent_at is None


def test_scheduled_path_sends_once_after_the_end(room, runner, outbox):
    clock.advance(START - clock.now() + timedelta(minutes=10))
    check_in(room, "Ana", "Ben", "Cai", "Gus")
    meet(room, "Ana", "Ben")
    meet(room, "Ana", "Gus")
    clock.advance(END - clock.now() + timedelta(hours=1, minutes=59))
    _worker(runner)  # the event ended (events.finish) but prompts are not due
    db.session.expire_all()
    assert room.event.status == "ended"
    assert prompt_mails(outbox) == []
    clock.advance(timedelta(minutes=2))
    _worker(runner)
    mails = prompt_mails(outbox)
    assert sorted(m["To"].addresses[0].addr_spec for m in mails) == sorted(
        [
            "ana@acme.example.org",
            "ben@acme.example.org",
            "cai@acme.example.org",
            "gus@elsewhere.example.net",
        ]
    )
    followup = services.followup_for(room.event)
    assert followup.sent_at == clock.now() and followup.prompt_count == 4
    # Again: the worker, the job itself, and an organizer closing afterwards.
    _worker(runner)
    services.send_prompts(room.event.id, clock.stamp(followup.due_at))
    closing = services.close_event(room.event, room.organizer)
    db.session.commit()
    _worker(runner)
    assert closing.already_closed
    assert len(prompt_mails(outbox)) == 4
    assert count(FollowupPrompt) == 4


def test_who_gets_what(room, runner, outbox):
    """Members with a List-Unsubscribe link, the guest without; someone who met
    nobody still gets the rating part; someone who opted out gets no e-mail but
    still has the prompt in the app; people not checked in get nothing."""
    dee = room.users["Dee"]
    dee.notifications = {**dee.notifications, "followup_prompts": False}
    db.session.commit()
    clock.advance(START - clock.now() + timedelta(minutes=10))
    check_in(room, "Ana", "Ben", "Dee", "Gus")
    meet(room, "Ana", "Gus", source="rotation")
    clock.advance(END - clock.now() + timedelta(hours=3))
    _worker(runner)
    ana = prompt_mails(outbox, "ana@acme.example.org")
    gus = prompt_mails(outbox, "gus@elsewhere.example.net")
    ben = prompt_mails(outbox, "ben@acme.example.org")
    assert len(ana) == len(gus) == len(ben) == 1
    assert prompt_mails(outbox, "cai@acme.example.org") == []  # not checked in
    assert prompt_mails(outbox, dee.email) == []  # turned these off
    assert ana[0]["List-Unsubscribe"] and not gus[0]["List-Unsubscribe"]
    assert "Gus Guest" in mail_text(ana[0]) and "Ana Example" in mail_text(gus[0])
    assert "in Mixer under Follow-up" not in mail_text(gus[0])  # no account
    ben_text = mail_text(ben[0])
    assert str(ben[0]["Subject"]) == "How was Spring Mixer?"
    assert "As my mentor" not in ben_text
    assert "What small action will you take this week" in ben_text
    prompts = {p.registration_id: p for p in db.session.scalars(select(FollowupPrompt))}
    assert set(prompts) == {room.regs[n].id for n in ("Ana", "Ben", "Dee", "Gus")}
    assert prompts[room.regs["Dee"].id].user_id == dee.id
    assert prompts[room.regs["Gus"].id].user_id is None


def test_moving_the_event_moves_the_prompts_and_cancelling_cancels_them(room):
    later = START + timedelta(days=1)
    events.update_event(
        room.event, room.organizer, starts_at=later, ends_at=later + timedelta(hours=2)
    )
    db.session.commit()
    (job,) = _pending_followup_jobs()
    assert job.run_at == later + timedelta(hours=4)
    assert services.followup_for(room.event).due_at == job.run_at
    events.cancel_event(room.event, "Snow")
    db.session.commit()
    assert _pending_followup_jobs() == []
    with pytest.raises(services.FollowupError, match="cancelled"):
        services.close_event(room.event, room.organizer)


def test_an_event_recorded_after_the_fact_sends_no_surprise_prompts(
    room, make_event, runner, outbox
):
    past = make_event(
        room.org,
        room.organizer,
        title="Last month",
        starts_at=START - timedelta(days=30),
        ends_at=START - timedelta(days=30) + timedelta(hours=1),
    )
    assert count(EventFollowup, EventFollowup.event_id == past.id) == 0
    assert [k for k, _ in _pending_followup_jobs()] == [
        f"followup.prompts:{room.event.id}:20260305T210000Z"
    ]


def test_close_api_refusals(client, room, make_org, make_user, make_event, token_for):
    secret = token_for(room.organizer, room.org)
    url = f"/api/v1/events/{room.event.id}/close"
    resp = client.post(url, headers=bearer(secret))
    assert resp.status_code == 409
    assert resp.get_json()["error"]["code"] == "conflict"
    assert "has not started yet" in resp.get_json()["error"]["message"]
    draft = make_event(room.org, room.organizer, title="Draft", status="draft")
    resp = client.post(f"/api/v1/events/{draft.id}/close", headers=bearer(secret))
    assert resp.status_code == 409 and "draft" in resp.get_json()["error"]["message"]
    member = token_for(room.users["Ana"], room.org)
    assert client.post(url, headers=bearer(member)).status_code == 403
    other_org = make_org(slug="beta", name="Beta")
    stranger = make_user(other_org, role="admin", password=None)
    resp = client.post(url, headers=bearer(token_for(stranger, other_org)))
    assert resp.status_code == 404
    assert client.post(url).status_code == 401
    db.session.expire_all()
    assert room.event.status == "published"
    assert services.followup_for(room.event).closed_by_id is None


def test_close_api_twice_queues_once(client, room, runner, outbox, token_for):
    secret = token_for(room.organizer, room.org)
    clock.advance(START - clock.now() + timedelta(minutes=30))
    check_in(room, "Ana", "Ben")
    meet(room, "Ana", "Ben")
    url = f"/api/v1/events/{room.event.id}/close"
    first = client.post(url, headers=bearer(secret)).get_json()
    second = client.post(url, headers=bearer(secret)).get_json()
    assert first["already_closed"] is False and second["already_closed"] is True
    assert first["prompts_queued"] == second["prompts_queued"] == 2
    assert first["followup_due_at"] == clock.now().isoformat()
    # The end-of-mixer job at the original time is gone; one due now remains.
    assert [run_at for _, run_at in _pending_followup_jobs()] == [clock.now()]
    _worker(runner)
    _worker(runner)
    assert len(prompt_mails(outbox)) == 2
    third = client.post(url, headers=bearer(secret)).get_json()
    assert third["prompts_sent_at"] == clock.now().isoformat()
    clock.advance(END - clock.now() + timedelta(hours=3))
    _worker(runner)  # events.finish finds the event ended already: no conflict
    db.session.expire_all()
    assert room.event.status == "ended"
    assert len(prompt_mails(outbox)) == 2


def test_organizer_closes_from_the_dashboard_and_sees_results(
    client, auth, room, runner, outbox
):
    from mixer.accounts.services import set_password

    set_password(room.organizer, "correct horse battery")
    db.session.commit()
    clock.advance(START - clock.now() + timedelta(minutes=30))
    check_in(room, "Ana", "Ben", "Cai")
    meet(room, "Ana", "Ben")
    auth.login(room.organizer.email)
    dashboard = client.get(f"/events/{room.event.id}/dashboard").get_data(as_text=True)
    assert "Close the event and send follow-up" in dashboard
    assert f"/events/{room.event.id}/followup" in dashboard
    confirm = client.get(f"/events/{room.event.id}/close").get_data(as_text=True)
    assert 'data-stat="mailed">3<' in confirm and "Close and e-mail 3 people" in confirm
    resp = client.post(
        f"/events/{room.event.id}/close",
        data={"csrf_token": csrf_from(confirm), "confirm": "yes"},
    )
    assert resp.status_code == 302
    page = client.get(resp.location).get_data(as_text=True)
    assert "on their way to 3 people" in page
    dashboard = client.get(f"/events/{room.event.id}/dashboard").get_data(as_text=True)
    assert "Close the event and send follow-up" not in dashboard
    _worker(runner)
    prompts = {p.registration_id: p for p in db.session.scalars(select(FollowupPrompt))}
    answers = [("Ana", 5, "Great pace", "Call my mentee"), ("Ben", 4, None, None)]
    for name, rating, comment, reflection in answers:
        save_answers(
            prompts[room.regs[name].id],
            Answers(rating=rating, comment=comment, reflection=reflection),
        )
    db.session.commit()
    page = client.get(f"/events/{room.event.id}/followup").get_data(as_text=True)
    assert 'data-stat="sent">3<' in page and 'data-stat="answered">2<' in page
    assert 'data-stat="average">4.5<' in page and 'data-stat="pairs">0<' in page
    assert '<td data-rating="5">1</td>' in page and '<td data-rating="3">0</td>' in page
    assert "Great pace" in page and "Call my mentee" in page
    assert "Ana Example" not in page  # answers are shown without names
    # Members may not see it; the close button refuses them too.
    from mixer.accounts.services import set_password as again

    again(room.users["Ana"], "correct horse battery")
    db.session.commit()
    auth.logout()
    auth.login(room.users["Ana"].email)
    assert client.get(f"/events/{room.event.id}/followup").status_code == 403
    token = csrf_from(client.get("/followup").get_data(as_text=True))
    resp = client.post(
        f"/events/{room.event.id}/close", data={"csrf_token": token, "confirm": "yes"}
    )
    assert resp.status_code == 403
