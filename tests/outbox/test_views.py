"""The outbox admin page: counts, failures of the own organization only, retries."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from mixer import clock
from mixer.extensions import db
from mixer.jobs.models import Job
from mixer.jobs.services import handler, run_due, schedule
from mixer.mail.models import OutboxMessage
from mixer.mail.services import deliver_due, queue_mail
from tests.helpers import csrf_from


@handler("test.views.always_fails")
def _always_fails(payload):
    raise RuntimeError(f"the printer is on fire ({payload['printer']})")


def queue(to: str, org=None, subject: str = "Your Mixer") -> OutboxMessage:
    msg = queue_mail(
        to,
        subject,
        "notice",
        {"paragraphs": ["See you there."]},
        org=org,
    )
    db.session.commit()
    return msg


def message(to: str) -> OutboxMessage:
    db.session.expire_all()
    return db.session.scalar(select(OutboxMessage).where(OutboxMessage.to_addr == to))


@pytest.fixture
def world(app, smtp, make_org, make_user, auth):
    """Org A with an admin signed in; A and B each have sent, failed and retrying
    mail; one sign-in link belongs to no organization."""
    clock.freeze(clock.now())
    a, b = make_org(slug="acme", name="Acme"), make_org(slug="bolt", name="Bolt")
    admin = make_user(a, role="admin")
    smtp.recorder.refuse |= {"gone@acme.example.org", "gone@bolt.example.org"}
    queue("ok@acme.example.org", a, "Welcome aboard")
    queue("gone@acme.example.org", a, "Your badge")
    queue("gone@bolt.example.org", b, "Bolt secret subject")
    queue("nobody@example.org", None, "Your Mixer sign-in link")
    smtp.recorder.refuse.add("nobody@example.org")
    deliver_due()
    # Then a temporary problem for one more message of each organization.
    smtp.recorder.defer = 2
    queue("later@acme.example.org", a, "Reminder: Thursday")
    queue("later@bolt.example.org", b, "Bolt reminder")
    deliver_due()
    auth.login(admin.email)
    return {"a": a, "b": b, "admin": admin, "smtp": smtp}


def test_admin_sees_counts_and_own_failures_only(client, world):
    page = client.get("/o/acme/admin/outbox")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    counts = dict(re.findall(r'id="count-(\w+)">(\d+)<', html))
    assert counts == {
        "queued": "0",
        "retrying": "1",
        "sending": "0",
        "sent": "1",
        "failed": "1",
    }
    assert "gone@acme.example.org" in html and "Your badge" in html
    assert "550" in html and "no such user here" in html
    assert "later@acme.example.org" in html and "451" in html
    # Another organization's mail and mail of no organization stay hidden.
    for hidden in (
        "bolt.example.org",
        "Bolt secret subject",
        "nobody@example.org",
        "sign-in link",
    ):
        assert hidden not in html
    assert "Retry all 1 failed now" in html


def test_retry_now_queues_a_failed_message_again(client, world):
    html = client.get("/o/acme/admin/outbox").get_data(as_text=True)
    failed = message("gone@acme.example.org")
    assert (failed.status, failed.attempts) == ("failed", 1)

    resp = client.post(
        f"/o/acme/admin/outbox/{failed.id}/retry", data={"csrf_token": csrf_from(html)}
    )
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith("/o/acme/admin/outbox")
    again = message("gone@acme.example.org")
    assert (again.status, again.attempts) == ("queued", 0)
    assert again.next_attempt_at == clock.now()
    assert "Retrying gone@acme.example.org now" in client.get(
        resp.headers["Location"]
    ).get_data(as_text=True)

    # The address works again: the next worker round delivers it.
    world["smtp"].recorder.refuse.discard("gone@acme.example.org")
    assert deliver_due()["sent"] == 1
    assert message("gone@acme.example.org").status == "sent"


def test_retry_now_hurries_a_retrying_message(client, world):
    html = client.get("/o/acme/admin/outbox").get_data(as_text=True)
    later = message("later@acme.example.org")
    assert later.next_attempt_at > clock.now()
    client.post(
        f"/o/acme/admin/outbox/{later.id}/retry", data={"csrf_token": csrf_from(html)}
    )
    hurried = message("later@acme.example.org")
    assert (hurried.status, hurried.attempts) == ("queued", 1)
    assert hurried.next_attempt_at == clock.now()


def test_retry_all_failed(client, world):
    html = client.get("/o/acme/admin/outbox").get_data(as_text=True)
    resp = client.post(
        "/o/acme/admin/outbox/retry-failed", data={"csrf_token": csrf_from(html)}
    )
    assert resp.status_code == 302
    assert message("gone@acme.example.org").status == "queued"
    assert message("gone@bolt.example.org").status == "failed"  # not ours
    assert message("nobody@example.org").status == "failed"


def test_retry_needs_csrf_and_changes_nothing_without(client, world):
    failed = message("gone@acme.example.org")
    resp = client.post(f"/o/acme/admin/outbox/{failed.id}/retry")
    assert resp.status_code == 400
    assert message("gone@acme.example.org").status == "failed"


def test_other_organizations_messages_cannot_be_retried(client, world):
    html = client.get("/o/acme/admin/outbox").get_data(as_text=True)
    token = csrf_from(html)
    for to in ("gone@bolt.example.org", "nobody@example.org"):
        theirs = message(to)
        resp = client.post(
            f"/o/acme/admin/outbox/{theirs.id}/retry", data={"csrf_token": token}
        )
        assert resp.status_code == 404
        assert message(to).status == "failed"


def test_sent_message_is_not_sent_again(client, world):
    html = client.get("/o/acme/admin/outbox").get_data(as_text=True)
    sent = message("ok@acme.example.org")
    resp = client.post(
        f"/o/acme/admin/outbox/{sent.id}/retry", data={"csrf_token": csrf_from(html)}
    )
    assert resp.status_code == 302
    assert message("ok@acme.example.org").status == "sent"
    follow = client.get("/o/acme/admin/outbox").get_data(as_text=True)
    assert "That message is sent already." in follow


def test_members_and_outsiders_are_kept_out(client, world, make_user, auth):
    member = make_user(world["a"], role="organizer")
    outsider = make_user(world["b"], role="admin")
    auth.logout()
    auth.login(member.email)
    assert client.get("/o/acme/admin/outbox").status_code == 403
    auth.logout()
    auth.login(outsider.email)
    assert client.get("/o/acme/admin/outbox").status_code == 404
    html = client.get("/o/bolt/admin/outbox").get_data(as_text=True)
    assert "gone@bolt.example.org" in html and "acme.example.org" not in html


def test_failed_jobs_are_listed_and_can_run_again(app, client, world):
    app.config["JOB_MAX_ATTEMPTS"] = 1
    schedule("test.views.always_fails", {"printer": "P1"}, org_id=world["a"].id)
    schedule("test.views.always_fails", {"printer": "P2"}, org_id=world["b"].id)
    db.session.commit()
    assert run_due()["failed"] == 2

    html = client.get("/o/acme/admin/outbox").get_data(as_text=True)
    assert "test.views.always_fails" in html
    assert "the printer is on fire (P1)" in html
    assert "(P2)" not in html
    ours = db.session.scalar(select(Job).where(Job.org_id == world["a"].id))
    theirs = db.session.scalar(select(Job).where(Job.org_id == world["b"].id))

    token = csrf_from(html)
    resp = client.post(
        f"/o/acme/admin/jobs/{theirs.id}/retry", data={"csrf_token": token}
    )
    assert resp.status_code == 404
    resp = client.post(
        f"/o/acme/admin/jobs/{ours.id}/retry", data={"csrf_token": token}
    )
    assert resp.status_code == 302
    db.session.expire_all()
    assert (ours.status, ours.attempts, ours.finished_at) == ("pending", 0, None)
    assert theirs.status == "failed"


def test_stalled_queue_warns_that_the_worker_may_not_run(client, world):
    queue("waiting@acme.example.org", world["a"])
    html = client.get("/o/acme/admin/outbox").get_data(as_text=True)
    assert "Is the worker running?" not in html
    clock.advance(timedelta(minutes=10))
    html = client.get("/o/acme/admin/outbox").get_data(as_text=True)
    assert "Is the worker running?" in html


def test_empty_outbox_page(app, client, make_org, make_user, auth):
    org = make_org()
    admin = make_user(org, role="admin")
    auth.login(admin.email)
    html = client.get(f"/o/{org.slug}/admin/outbox").get_data(as_text=True)
    assert "Nothing has failed" in html and "No failed jobs." in html
