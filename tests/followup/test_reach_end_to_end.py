"""Issue 14's acceptance story, from the e-mails the SMTP server received: one
attendee taps two people's links from the same e-mail on two days and both
choices are saved; with two worker processes running, the reminder reaches only
the person who did not answer, once."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from mixer import clock
from mixer.extensions import db
from mixer.followup import services
from mixer.followup.models import FollowupChoice, FollowupPrompt
from mixer.jobs.models import Job
from mixer.mail.models import OutboxMessage
from mixer.worker import run_once
from tests.followup.conftest import (
    START,
    check_in,
    count,
    follow_and_submit,
    meet,
    pick_link,
)
from tests.helpers import mail_text
from tests.jobs import test_worker as workers

REMINDER = "A reminder: "
ROOT = Path(__file__).resolve().parents[2]


def _to(msg) -> str:
    return msg["To"].addresses[0].addr_spec


def _delivered(smtp, prefix: str) -> list:
    return [m for m in smtp.recorder.messages() if str(m["Subject"]).startswith(prefix)]


def test_two_links_from_one_email_then_one_reminder_with_two_workers(
    app, client, room, smtp
):
    clock.advance(START - clock.now() + timedelta(minutes=5))
    dee = room.users["Dee"]
    dee.notifications = {**dee.notifications, "followup_prompts": False}
    db.session.commit()
    check_in(room, "Ana", "Ben", "Cai", "Dee")
    meet(room, "Ana", "Ben")
    meet(room, "Ana", "Cai", source="rotation")
    meet(room, "Ben", "Cai")
    meet(room, "Cai", "Dee")
    services.close_event(room.event, room.organizer)
    db.session.commit()
    run_once()  # Dee turned prompts off: no prompt for her
    prompts = {_to(m): m for m in _delivered(smtp, "Who would you like")}
    assert sorted(prompts) == sorted(room.users[n].email for n in ("Ana", "Ben", "Cai"))
    ana_mail = prompts[room.users["Ana"].email]
    ben, cai, ana = (room.regs[n].id for n in ("Ben", "Cai", "Ana"))

    # The next day Ana taps "As my mentor" for Ben; the day after, "As peers"
    # for Cai, from the same e-mail.
    clock.advance(timedelta(days=1))
    _, saved = follow_and_submit(client, pick_link(ana_mail, ben, "mentor"))
    assert saved.status_code == 302
    clock.advance(timedelta(days=1))
    _, saved = follow_and_submit(client, pick_link(ana_mail, cai, "peer"))
    assert saved.status_code == 302, saved.text[:300]
    db.session.expire_all()
    saved_choices = db.session.execute(
        select(FollowupChoice.other_id, FollowupChoice.choice)
        .join(FollowupPrompt)
        .where(FollowupPrompt.registration_id == ana)
        .order_by(FollowupChoice.other_id)
    ).all()
    assert sorted(saved_choices) == sorted([(ben, "mentor"), (cai, "peer")])
    # Ben answers too (from his e-mail); Cai does not.
    _, saved = follow_and_submit(
        client, pick_link(prompts[room.users["Ben"].email], cai, "not_now")
    )
    assert saved.status_code == 302

    (job,) = db.session.scalars(select(Job).where(Job.kind == "followup.reminders"))
    assert job.status == "pending"
    # Two `mixer worker` processes (on the real clock, long after the due day).
    env = workers.worker_env(
        app,
        smtp.url,
        MIXER_WORKER_POLL_SECONDS="0.1",
        PYTHONPATH=str(ROOT),  # this checkout's code, whichever one is installed
    )
    running = [workers.WorkerProcess(env) for _ in range(2)]
    try:
        for worker in running:
            worker.wait_for("worker started")
        workers.wait_until(lambda: _delivered(smtp, REMINDER), timeout=60)
        workers.wait_until(lambda: _job_done(job.id), timeout=30)
        time.sleep(1.0)  # room for a second reminder to show up, if there were one
    finally:
        codes = [worker.stop() for worker in running]
    assert codes == [0, 0], ["".join(w.log) for w in running]
    reminders = _delivered(smtp, REMINDER)
    assert [_to(m) for m in reminders] == [room.users["Cai"].email]
    text = mail_text(reminders[0])
    assert "A short reminder" in text and "Ana Example" in text
    assert count(OutboxMessage, OutboxMessage.kind == "followup.reminder") == 1


def _job_done(job_id: int) -> bool:
    db.session.expire_all()
    return db.session.get(Job, job_id).status == "done"


def test_two_reminder_runs_at_the_same_instant_remind_each_once(app, room, outbox):
    clock.advance(START - clock.now() + timedelta(minutes=5))
    check_in(room, "Ana", "Ben", "Cai")
    meet(room, "Ana", "Ben")
    services.close_event(room.event, room.organizer)
    services.send_prompts(
        room.event.id, clock.stamp(services.followup_for(room.event).due_at)
    )
    db.session.commit()
    clock.advance(timedelta(days=3))
    barrier = threading.Barrier(2)
    event_id = room.event.id  # read here: the test's own session stays here

    def run(_):
        with app.app_context():
            barrier.wait()
            result = services.send_reminders(event_id)
            db.session.commit()
            db.session.remove()
            return result["reminded"]

    with ThreadPoolExecutor(max_workers=2) as pool:
        reminded = sorted(pool.map(run, range(2)))
    assert reminded == [0, 3]
    reminders = [m for m in outbox() if str(m["Subject"]).startswith(REMINDER)]
    assert sorted(_to(m) for m in reminders) == sorted(
        room.users[n].email for n in ("Ana", "Ben", "Cai")
    )
