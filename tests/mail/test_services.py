"""Queueing and delivering mail through a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import email
import email.policy
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from mixer import clock
from mixer.extensions import db
from mixer.jobs import queue
from mixer.mail.models import OutboxMessage
from mixer.mail.services import (
    LEASE,
    Attachment,
    deliver_due,
    prune_sent,
    queue_mail,
)
from tests.helpers import mail_text


def notice(to: str, subject: str = "Hello from Mixer", **kw) -> OutboxMessage | None:
    context = kw.pop("context", {"paragraphs": ["Your event starts soon."]})
    return queue_mail(to, subject, "notice", context, **kw)


def rows() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


@pytest.fixture
def clock_at() -> datetime:
    """``frozen`` stops the clock where it is: retries are timed from it."""
    return clock.now()


pytestmark = pytest.mark.usefixtures("frozen")


def test_delivers_html_text_headers_and_attachment(app, smtp):
    ics = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
    notice(
        "ada@example.org",
        "Your Mixer on Thursday",
        context={
            "paragraphs": ["Bring a question you care about."],
            "action_url": "https://mixer.example.org/e/1",
            "action_label": "See the event",
        },
        attachments=[Attachment("mixer.ics", ics, "text/calendar")],
        unsubscribe_url="http://mixer.test/unsubscribe/abc",
        reply_to="organizer@example.org",
    )
    db.session.commit()

    assert deliver_due() == {"sent": 1, "retry": 0, "failed": 0}

    [got] = smtp.recorder.received
    assert got.mail_from == "mixer@mixer.test"
    assert got.rcpt_tos == ["ada@example.org"]
    assert b"\r\n" in got.raw and b"\n" not in got.raw.replace(b"\r\n", b"")
    msg = got.message
    assert msg["Subject"] == "Your Mixer on Thursday"
    assert msg["To"] == "ada@example.org"
    assert msg["From"] == "Mixer <mixer@mixer.test>"
    assert msg["Reply-To"] == "organizer@example.org"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["Message-ID"].endswith("@mixer.test>")
    assert msg["Date"]
    assert msg["List-Unsubscribe"] == "<http://mixer.test/unsubscribe/abc>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg.get_content_type() == "multipart/mixed"
    text = mail_text(msg)
    html = msg.get_body(preferencelist=("html",)).get_content()
    assert "Bring a question you care about." in text
    assert "See the event: https://mixer.example.org/e/1" in text
    assert "Unsubscribe from these e-mails: http://mixer.test/unsubscribe/abc" in text
    assert "<p" in html and "Bring a question you care about." in html
    assert 'href="https://mixer.example.org/e/1"' in html
    [att] = list(msg.iter_attachments())
    assert att.get_content_type() == "text/calendar"
    assert att.get_filename() == "mixer.ics"
    assert att.get_payload(decode=True) == ics

    [row] = rows()
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, None)
    assert row.sent_at == clock.now()
    assert row.claimed_by is None and row.locked_until is None
    assert row.message_id == msg["Message-ID"]


def test_no_list_unsubscribe_without_a_link(app, smtp):
    notice("bo@example.org")
    db.session.commit()
    deliver_due()
    msg = smtp.recorder.messages()[0]
    assert msg["List-Unsubscribe"] is None and msg["List-Unsubscribe-Post"] is None
    assert "Unsubscribe" not in mail_text(msg)


def test_html_escapes_context(app, smtp):
    notice("bo@example.org", context={"paragraphs": ["<script>alert(1)</script>"]})
    db.session.commit()
    deliver_due()
    html = smtp.recorder.messages()[0].get_body(preferencelist=("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html


@pytest.mark.parametrize(
    "subject",
    [
        # The follow-up prompt's subject for titles that made Python's header
        # folder break the line straight after "Subject:" (a leading space).
        "How was a " + "x" * 60 + "(?",
        "How was Q1:" + "x" * 62 + "?",
        "Who would you like to keep in touch with from Mentor Mixer — Finance & Ops?",
        "Who would you like to keep in touch with from " + "Ü" * 3 + "x" * 70 + "?",
        "  \t  Spaces around  ",
    ],
)
@pytest.mark.parametrize("to", ["bo@example.org", "bø@exämple.org"])
def test_subjects_never_begin_or_end_with_whitespace(app, subject, to):
    notice(to, subject)
    db.session.commit()
    [row] = rows()
    expected = " ".join(subject.split())
    assert row.subject == expected
    sent = email.message_from_bytes(row.raw, policy=email.policy.default)
    assert str(sent["Subject"]) == expected
    for line in row.raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        assert len(line) <= 998


def test_subject_cannot_inject_headers(app, smtp):
    notice("bo@example.org", "Hi\r\nBcc: everyone@example.org")
    db.session.commit()
    deliver_due()
    msg = smtp.recorder.messages()[0]
    assert msg["Bcc"] is None
    assert msg["Subject"] == "Hi Bcc: everyone@example.org"
    assert smtp.recorder.received[0].rcpt_tos == ["bo@example.org"]


def test_mail_is_part_of_the_callers_transaction(app):
    notice("bo@example.org")
    db.session.rollback()
    assert rows() == []


def test_dedupe_key_queues_once(app):
    first = notice("bo@example.org", dedupe_key="reminder:event:1:user:1")
    second = notice("bo@example.org", dedupe_key="reminder:event:1:user:1")
    db.session.commit()
    assert first is not None and second is None
    assert [r.dedupe_key for r in rows()] == ["reminder:event:1:user:1"]


def test_preference_turned_off_queues_nothing(app, make_org, make_user):
    user = make_user(make_org())
    user.notifications = {**user.notifications, "event_reminders": False}
    db.session.commit()
    got = notice(user.email, user=user, preference="event_reminders")
    assert got is None
    assert rows() == []
    # Other kinds still go out.
    assert notice(user.email, user=user, preference="digest") is not None


def test_preference_adds_a_working_one_click_unsubscribe(
    app, client, make_org, make_user, outbox
):
    user = make_user(make_org(), name="Ada Lovelace")
    row = notice(user.email, user=user, preference="followup_prompts")
    db.session.commit()
    assert row.kind == "followup_prompts"
    [msg] = outbox()
    assert msg["To"] == f"Ada Lovelace <{user.email}>"
    link = msg["List-Unsubscribe"].strip("<>")
    assert link.startswith("http://mixer.test/unsubscribe/")
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link in mail_text(msg)

    # What a mail client does for RFC 8058 one-click: POST, no cookies, no CSRF.
    path = link.removeprefix("http://mixer.test")
    resp = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert resp.status_code == 200
    db.session.expire_all()
    assert user.wants("followup_prompts") is False
    assert notice(user.email, user=user, preference="followup_prompts") is None


def test_preference_checks_its_arguments(app, make_org, make_user):
    user = make_user(make_org())
    with pytest.raises(ValueError, match="unknown notification kind"):
        notice(user.email, user=user, preference="spam")
    with pytest.raises(ValueError, match="needs the user"):
        notice(user.email, preference="digest")


def test_deactivated_account_gets_no_notifications(app, make_org, make_user):
    user = make_user(make_org())
    user.is_active_account = False
    db.session.commit()
    assert notice(user.email, user=user, preference="digest") is None


def test_file_outbox_is_the_default(app):
    assert not app.config.get("MAIL_URL")
    notice("ada@example.org", "First")
    notice("bo@example.org", "Second")
    db.session.commit()

    assert deliver_due()["sent"] == 2

    folder = Path(app.instance_path) / "outbox"
    files = sorted(folder.glob("*.eml"))
    assert len(files) == 2
    assert not list(folder.glob("*.tmp")) and not list(folder.glob(".*"))
    parsed = [
        email.message_from_bytes(f.read_bytes(), policy=email.policy.default)
        for f in files
    ]
    assert sorted(m["Subject"] for m in parsed) == ["First", "Second"]
    for m in parsed:
        assert "Your event starts soon." in mail_text(m)
        assert m.get_body(preferencelist=("html",)) is not None
    assert {r.status for r in rows()} == {"sent"}


def test_temporary_refusal_is_retried_with_backoff(app, smtp):
    smtp.recorder.defer = 2  # "451 try again" twice
    notice("ada@example.org")
    db.session.commit()

    assert deliver_due() == {"sent": 0, "retry": 1, "failed": 0}
    [row] = rows()
    assert (row.status, row.attempts) == ("queued", 1)
    assert "451" in row.last_error
    assert row.next_attempt_at == clock.now() + timedelta(seconds=30)
    assert deliver_due() == {"sent": 0, "retry": 0, "failed": 0}  # not due yet

    clock.advance(timedelta(seconds=30))
    assert deliver_due()["retry"] == 1
    [row] = rows()
    assert row.attempts == 2
    assert row.next_attempt_at == clock.now() + timedelta(seconds=60)

    clock.advance(timedelta(seconds=60))
    assert deliver_due()["sent"] == 1
    [row] = rows()
    assert (row.status, row.attempts) == ("sent", 3)
    assert len(smtp.recorder.received) == 1 and smtp.recorder.deferred == 2


def test_server_down_then_up(app, smtp_server):
    server = smtp_server(start=False)  # the port is known; nobody listens yet
    app.config["MAIL_URL"] = server.url
    for n in range(3):
        notice(f"person{n}@example.org")
    db.session.commit()

    assert deliver_due() == {"sent": 0, "retry": 3, "failed": 0}
    first, *rest = rows()
    assert (first.status, first.attempts) == ("queued", 1)
    assert "cannot deliver through 127.0.0.1" in first.last_error
    # The others were not tried while the server was down: no attempt counted.
    assert [(r.status, r.attempts, r.last_error) for r in rest] == [
        ("queued", 0, None),
        ("queued", 0, None),
    ]
    assert all(r.next_attempt_at == clock.now() + timedelta(seconds=30) for r in rows())

    server.start()
    clock.advance(timedelta(seconds=30))
    assert deliver_due() == {"sent": 3, "retry": 0, "failed": 0}
    assert sorted(m["To"] for m in server.recorder.messages()) == [
        f"person{n}@example.org" for n in range(3)
    ]
    assert {r.status for r in rows()} == {"sent"}


def test_refused_recipient_fails_at_once(app, smtp):
    smtp.recorder.refuse.add("gone@example.org")
    notice("gone@example.org")
    notice("here@example.org")
    db.session.commit()

    assert deliver_due() == {"sent": 1, "retry": 0, "failed": 1}
    gone, here = rows()
    assert (gone.status, gone.attempts) == ("failed", 1)
    assert "550" in gone.last_error and "no such user" in gone.last_error
    assert here.status == "sent"
    clock.advance(timedelta(days=1))
    assert deliver_due() == {"sent": 0, "retry": 0, "failed": 0}


def test_gives_up_after_max_attempts(app, smtp):
    app.config["MAIL_MAX_ATTEMPTS"] = 3
    smtp.recorder.defer = 1000
    notice("ada@example.org")
    db.session.commit()

    outcomes = []
    for _ in range(3):
        outcomes.append(deliver_due())
        clock.advance(timedelta(hours=1))
    assert [o["retry"] for o in outcomes] == [1, 1, 0]
    assert outcomes[-1]["failed"] == 1
    [row] = rows()
    assert (row.status, row.attempts) == ("failed", 3)
    assert "451" in row.last_error
    assert smtp.recorder.deferred == 3 and smtp.recorder.received == []
    assert deliver_due() == {"sent": 0, "retry": 0, "failed": 0}


def test_crashed_workers_claim_is_retried_after_the_lease(app, smtp):
    notice("ada@example.org")
    db.session.commit()
    # A worker claims the message and dies before sending it.
    dead_token, ids = queue.claim(
        OutboxMessage,
        ready="queued",
        active="sending",
        due_column=OutboxMessage.next_attempt_at,
        limit=10,
        lease=LEASE,
    )
    assert len(ids) == 1 and rows()[0].status == "sending"
    assert deliver_due()["sent"] == 0  # the lease still holds

    clock.advance(LEASE + timedelta(seconds=1))
    assert deliver_due()["sent"] == 1
    [row] = rows()
    assert (row.status, row.attempts) == ("sent", 2)
    assert len(smtp.recorder.received) == 1
    # The dead worker's late update cannot overwrite the result.
    assert not queue.finish(OutboxMessage, row.id, dead_token, status="failed")
    db.session.commit()
    assert rows()[0].status == "sent"


def test_message_that_keeps_killing_workers_ends_failed(app, smtp):
    app.config["MAIL_MAX_ATTEMPTS"] = 2
    notice("ada@example.org")
    db.session.commit()
    for _ in range(2):  # two workers die while sending it
        queue.claim(
            OutboxMessage,
            ready="queued",
            active="sending",
            due_column=OutboxMessage.next_attempt_at,
            limit=10,
            lease=LEASE,
        )
        clock.advance(LEASE + timedelta(seconds=1))
    assert deliver_due() == {"sent": 0, "retry": 0, "failed": 1}
    [row] = rows()
    assert (row.status, row.attempts) == ("failed", 2)
    assert "worker stopped" in row.last_error
    assert smtp.recorder.received == []


def test_prune_sent_forgets_old_sent_mail_only(app, smtp):
    smtp.recorder.refuse.add("gone@example.org")
    notice("old@example.org")
    notice("gone@example.org")
    db.session.commit()
    deliver_due()
    clock.advance(timedelta(days=31))
    notice("new@example.org")
    db.session.commit()
    deliver_due()
    assert prune_sent(timedelta(days=30)) == 1
    db.session.commit()
    assert [r.to_addr for r in rows()] == ["gone@example.org", "new@example.org"]
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 2


def test_a_claim_takes_no_more_than_its_limit(app):
    for n in range(30):
        notice(f"person{n}@example.org")
    db.session.commit()
    token, ids = queue.claim(
        OutboxMessage,
        ready="queued",
        active="sending",
        due_column=OutboxMessage.next_attempt_at,
        limit=7,
        lease=LEASE,
    )
    assert len(ids) == 7
    assert [r.id for r in rows() if r.status == "sending"] == ids
    assert {r.claimed_by for r in rows() if r.status == "sending"} == {token}


def claim_one(lease: timedelta = LEASE) -> tuple[str, list[int]]:
    return queue.claim(
        OutboxMessage,
        ready="queued",
        active="sending",
        due_column=OutboxMessage.next_attempt_at,
        limit=1,
        lease=lease,
    )


def test_a_heartbeat_renews_only_its_own_claim(app):
    notice("ada@example.org")
    notice("bo@example.org")
    db.session.commit()
    mine, [my_id] = claim_one()
    other, [other_id] = claim_one()
    clock.advance(timedelta(seconds=40))
    beat = queue.Heartbeat(OutboxMessage, mine, LEASE)
    assert beat.renew() == 1
    by_id = {r.id: r for r in rows()}
    assert by_id[my_id].locked_until == clock.now() + LEASE
    assert by_id[other_id].locked_until == clock.now() - timedelta(seconds=40) + LEASE


def test_a_live_workers_claim_outlasts_its_lease_a_dead_ones_does_not(app):
    notice("ada@example.org")
    db.session.commit()
    token, [mid] = claim_one()
    with queue.Heartbeat(OutboxMessage, token, timedelta(seconds=0.2)):
        clock.advance(LEASE + timedelta(seconds=1))  # the claim's lease ran out
        for _ in range(600):  # the heartbeat thread renews every 0.05 s
            if rows()[0].locked_until > clock.now():
                break
            time.sleep(0.05)
        assert rows()[0].locked_until == clock.now() + timedelta(seconds=0.2)
        assert claim_one()[1] == []  # another worker cannot take it over
    # The worker died: nobody renews, and the row is due once the lease is out.
    clock.advance(timedelta(seconds=1))
    assert claim_one()[1] == [mid]


def test_a_retried_message_keeps_the_message_id_it_was_queued_with(app, smtp):
    notice("ada@example.org")
    db.session.commit()
    [row] = rows()
    queued_id = row.message_id
    claim_one()  # a worker claims it and dies (it may have sent it)
    clock.advance(LEASE + timedelta(seconds=1))
    assert deliver_due()["sent"] == 1
    [received] = smtp.recorder.messages()
    assert received["Message-ID"] == queued_id == rows()[0].message_id
