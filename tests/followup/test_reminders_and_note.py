"""Closing asks for confirmation with the real number of e-mails and takes an
organizer's note; one reminder goes, once, to those who have not answered."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from mixer import clock
from mixer.extensions import db
from mixer.followup import services
from mixer.followup.answers import Answers, save_answers
from mixer.followup.models import EventFollowup, FollowupPrompt
from mixer.jobs.models import Job
from mixer.mail.models import OutboxMessage
from tests.followup.conftest import START, check_in, count, meet, prompt_mails
from tests.helpers import PASSWORD, csrf_from, mail_text


def _organizer_signed_in(client, auth, room) -> None:
    from mixer.accounts.services import set_password

    set_password(room.organizer, PASSWORD)
    db.session.commit()
    auth.login(room.organizer.email)


def _reminders(outbox, to: str | None = None):
    return [m for m in outbox(to) if str(m["Subject"]).startswith("A reminder: ")]


def _started(room, *names: str) -> None:
    clock.advance(START - clock.now() + timedelta(minutes=30))
    check_in(room, *names)


def test_closing_asks_first_and_counts_the_people_it_will_email(client, auth, room):
    _started(room, "Ana", "Ben", "Cai", "Dee", "Gus")
    dee = room.users["Dee"]
    dee.notifications = {**dee.notifications, "followup_prompts": False}
    db.session.commit()
    _organizer_signed_in(client, auth, room)
    dashboard = client.get(f"/events/{room.event.id}/dashboard").get_data(as_text=True)
    assert f'href="/events/{room.event.id}/close"' in dashboard  # a link, not a POST
    page = client.get(f"/events/{room.event.id}/close")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    # Five checked in; Dee turned prompts off: four e-mails.
    assert 'data-stat="mailed">4<' in html and "Close and e-mail 4 people" in html
    assert "5 people checked in; 1 gets no e-mail" in html
    assert services.mail_count(room.event) == 4
    assert count(EventFollowup, EventFollowup.closed_by_id.is_not(None)) == 0
    # A POST without the confirmation (an old page's button) only asks.
    asked = client.post(
        f"/events/{room.event.id}/close", data={"csrf_token": csrf_from(html)}
    )
    assert asked.status_code == 200 and "Close and e-mail 4 people" in asked.text
    assert count(EventFollowup, EventFollowup.closed_by_id.is_not(None)) == 0
    done = client.post(
        f"/events/{room.event.id}/close",
        data={"csrf_token": csrf_from(html), "confirm": "yes"},
    )
    assert done.status_code == 302
    assert "on their way to 4 people" in client.get(done.location).text


def test_the_count_is_what_the_worker_emails(client, auth, room, runner, outbox):
    _started(room, "Ana", "Ben", "Gus")
    ben = room.users["Ben"]
    ben.notifications = {**ben.notifications, "followup_prompts": False}
    db.session.commit()
    promised = services.mail_count(room.event)
    services.close_event(room.event, room.organizer)
    db.session.commit()
    assert runner.invoke(args=["worker", "--once"]).exit_code == 0
    assert promised == len(prompt_mails(outbox)) == 2


def test_the_note_is_in_the_email_and_on_the_page_escaped(
    client, auth, room, runner, outbox
):
    _started(room, "Ana", "Ben")
    meet(room, "Ana", "Ben")
    _organizer_signed_in(client, auth, room)
    html = client.get(f"/events/{room.event.id}/close").text
    note = "Thank you all!\nSlides: <b>next week</b> & <script>alert(1)</script>"
    too_long = client.post(
        f"/events/{room.event.id}/close",
        data={"csrf_token": csrf_from(html), "confirm": "yes", "note": "x" * 501},
    )
    assert too_long.status_code == 422 and "500 characters" in too_long.text
    assert count(EventFollowup, EventFollowup.closed_by_id.is_not(None)) == 0
    resp = client.post(
        f"/events/{room.event.id}/close",
        data={"csrf_token": csrf_from(html), "confirm": "yes", "note": note},
    )
    assert resp.status_code == 302
    assert runner.invoke(args=["worker", "--once"]).exit_code == 0
    (mail,) = prompt_mails(outbox, room.users["Ana"].email)
    text = mail_text(mail)
    assert "A note from Olga Organizer:" in text and "Slides: <b>next week</b>" in text
    body = mail.get_body(preferencelist=("html",)).get_content()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<script>" not in body
    auth.logout()
    link = next(
        line.split(": ", 1)[1] for line in text.splitlines() if "Answer here" in line
    )
    page = client.get("/followup/p/" + link.rsplit("/", 1)[1]).text
    assert "Thank you all!" in page
    assert "&lt;b&gt;next week&lt;/b&gt; &amp; &lt;script&gt;" in page
    assert "<script>alert" not in page


def test_one_reminder_to_those_who_have_not_answered(app, room, runner, outbox):
    _started(room, "Ana", "Ben", "Cai", "Dee")
    meet(room, "Ana", "Ben")
    cai = room.users["Cai"]
    cai.notifications = {**cai.notifications, "followup_prompts": False}
    db.session.commit()
    services.close_event(room.event, room.organizer)
    db.session.commit()
    assert runner.invoke(args=["worker", "--once"]).exit_code == 0
    prompts = {p.registration_id: p for p in db.session.scalars(select(FollowupPrompt))}
    save_answers(prompts[room.regs["Ana"].id], Answers(rating=5))
    db.session.commit()
    (job,) = db.session.scalars(select(Job).where(Job.kind == "followup.reminders"))
    sent_at = services.followup_for(room.event).sent_at
    assert job.run_at == sent_at + timedelta(days=3)

    clock.advance(timedelta(days=3) - timedelta(minutes=1))
    assert runner.invoke(args=["worker", "--once"]).exit_code == 0
    assert _reminders(outbox) == []  # not yet
    clock.advance(timedelta(minutes=2))
    assert runner.invoke(args=["worker", "--once"]).exit_code == 0
    # Ana answered; Cai turned prompts off: Ben and Dee, once each.
    reminded = sorted(m["To"].addresses[0].addr_spec for m in _reminders(outbox))
    assert reminded == [room.users["Ben"].email, room.users["Dee"].email]
    ben = _reminders(outbox, room.users["Ben"].email)[0]
    assert "A short reminder" in mail_text(ben) and "Ana Example" in mail_text(ben)
    # The job again (a second worker, a retry) reminds nobody twice.
    assert services.send_reminders(room.event.id)["reminded"] == 0
    db.session.commit()
    clock.advance(timedelta(days=30))
    assert runner.invoke(args=["worker", "--once"]).exit_code == 0
    assert len(_reminders(outbox)) == 2
    assert count(OutboxMessage, OutboxMessage.kind == "followup.reminder") == 2


def test_reminder_days_come_from_the_config_and_zero_sends_none(app, room, runner):
    _started(room, "Ana", "Ben")
    app.config["FOLLOWUP_REMINDER_DAYS"] = 5
    services.close_event(room.event, room.organizer)
    db.session.commit()
    assert runner.invoke(args=["worker", "--once"]).exit_code == 0
    (job,) = db.session.scalars(select(Job).where(Job.kind == "followup.reminders"))
    sent_at = services.followup_for(room.event).sent_at
    assert job.run_at == sent_at + timedelta(days=5)

    app.config["FOLLOWUP_REMINDER_DAYS"] = 0
    other = room.event
    db.session.execute(Job.__table__.delete().where(Job.kind == "followup.reminders"))
    db.session.commit()
    services._schedule_reminders(other, sent_at)
    db.session.commit()
    assert count(Job, Job.kind == "followup.reminders") == 0
