"""Internationalised e-mail addresses (RFC 6530) are delivered with SMTPUTF8, end
to end: queued by a page, sent by the worker to a real SMTP server, parsed there."""

from __future__ import annotations

import email
import email.policy

import pytest
from sqlalchemy import func, select

from mixer.events.models import Registration
from mixer.extensions import db
from mixer.mail import transport
from mixer.mail.models import OutboxMessage
from mixer.worker import run_once
from tests.helpers import csrf_from

IDN = "用户@例子.广告"


def _received_by(smtp, to: str):
    return [r for r in smtp.recorder.received if to in r.rcpt_tos]


def _parse(raw: bytes):
    """A received message with UTF-8 headers (RFC 6532) read as text."""
    return email.message_from_string(raw.decode("utf-8"), policy=email.policy.default)


def test_a_guest_with_an_internationalised_address_gets_the_confirmation(
    client, org, make_event, smtp
):
    event = make_event(org, visibility="link")
    page = client.get(f"/events/{event.id}?key={event.share_key}")
    resp = client.post(
        f"/events/{event.id}/guest?key={event.share_key}",
        data={
            "csrf_token": csrf_from(page.get_data(as_text=True)),
            "name": "Zoë Gast",
            "email": IDN,
        },
    )
    assert "Check your e-mail" in resp.get_data(as_text=True)
    assert db.session.scalar(select(Registration.email)) == IDN
    assert run_once()["mail_sent"] == 1
    [got] = _received_by(smtp, IDN)
    assert got.mail_from == "mixer@mixer.test"
    msg = _parse(got.raw)
    assert msg["To"].addresses[0].addr_spec == IDN
    text = msg.get_body(preferencelist=("plain",)).get_content()
    assert "/confirm/" in text and event.title in msg["Subject"] + text


def test_a_member_with_an_internationalised_address_is_mailed_on_registering(
    client, auth, org, make_user, make_event, smtp
):
    member = make_user(org, email="zoë@exämple.org", name="Zoë Müller")
    event = make_event(org)
    auth.login(member.email)
    page = client.get(f"/events/{event.id}")
    resp = client.post(
        f"/events/{event.id}/register",
        data={"csrf_token": csrf_from(page.get_data(as_text=True))},
    )
    assert resp.status_code == 302
    assert run_once()["mail_sent"] == 1
    [got] = _received_by(smtp, "zoë@exämple.org")
    msg = _parse(got.raw)
    assert msg["To"].addresses[0].addr_spec == "zoë@exämple.org"
    assert not got.raw.split(b"\r\n\r\n", 1)[0].isascii()  # RFC 6532 headers
    # An ASCII recipient's message keeps 7-bit headers (plain SMTP, no SMTPUTF8).
    other = make_user(org, email="plain@example.org", name="Zoë Plain")
    auth.logout()
    auth.login(other.email)
    page = client.get(f"/events/{event.id}")
    client.post(
        f"/events/{event.id}/register",
        data={"csrf_token": csrf_from(page.get_data(as_text=True))},
    )
    run_once()
    [plain] = _received_by(smtp, "plain@example.org")
    headers = plain.raw.split(b"\r\n\r\n", 1)[0]
    assert headers.isascii() and b"To: plain@example.org" in headers


def test_the_file_outbox_writes_internationalised_addresses(app, tmp_path):
    from mixer.mail.services import queue_mail

    app.config["MAIL_URL"] = f"file://{tmp_path}"
    queue_mail(IDN, "A notice", "notice", {"body": "Hello"})
    db.session.commit()
    assert run_once()["mail_sent"] == 1
    [written] = list(tmp_path.glob("*.eml"))
    msg = _parse(written.read_bytes())
    assert msg["To"].addresses[0].addr_spec == IDN


def test_a_server_without_smtputf8_refuses_for_good(app, smtp_server):
    server = smtp_server(enable_SMTPUTF8=False)
    conn = transport.SMTPTransport(server.url)
    with pytest.raises(transport.DeliveryError, match="does not offer SMTPUTF8") as exc:
        conn.send("mixer@mixer.test", [IDN], b"Subject: x\r\n\r\nhi\r\n")
    conn.close()
    assert exc.value.permanent
    assert server.recorder.received == []
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0
