"""MAIL_URL forms against real servers: credentials, STARTTLS, implicit TLS."""

from __future__ import annotations

import ssl

import pytest
from sqlalchemy import select

from mixer.extensions import db
from mixer.mail.models import OutboxMessage
from mixer.mail.services import deliver_due, queue_mail
from mixer.mail.transport import (
    FileTransport,
    SMTPTransport,
    from_config,
    helo_name,
)


def queue_one(to: str = "ada@example.org") -> None:
    queue_mail(to, "Hello", "notice", {"paragraphs": ["Hi."]})
    db.session.commit()


def statuses() -> list[tuple[str, str | None]]:
    db.session.expire_all()
    return [(m.status, m.last_error) for m in db.session.scalars(select(OutboxMessage))]


def server_tls_context(tls_cert) -> ssl.SSLContext:
    cert, key = tls_cert
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(cert), str(key))
    return ctx


def test_credentials_are_url_decoded(app, smtp_server):
    server = smtp_server(with_auth=True)
    app.config["MAIL_URL"] = f"smtp://mixer:p%40ss%3Aword@127.0.0.1:{server.port}"
    queue_one()
    assert deliver_due()["sent"] == 1
    assert server.recorder.logins == [(b"mixer", b"p@ss:word")]


def test_wrong_password_is_a_retry_not_a_bounce(app, smtp_server):
    server = smtp_server(with_auth=True)
    app.config["MAIL_URL"] = f"smtp://mixer:nope@127.0.0.1:{server.port}"
    queue_one()
    assert deliver_due() == {"sent": 0, "retry": 1, "failed": 0}
    [(status, error)] = statuses()
    assert status == "queued"
    assert "sign-in to 127.0.0.1" in error and "535" in error
    assert "nope" not in error


def test_starttls_is_used_when_offered(app, smtp_server, tls_cert, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_cert[0]))  # trust our test CA
    server = smtp_server(tls_context=server_tls_context(tls_cert))
    app.config["MAIL_URL"] = server.url
    queue_one()
    assert deliver_due()["sent"] == 1
    [got] = server.recorder.received
    assert got.session in server.recorder.tls_sessions


def test_starttls_with_an_untrusted_certificate_is_refused(app, smtp_server, tls_cert):
    server = smtp_server(tls_context=server_tls_context(tls_cert))
    app.config["MAIL_URL"] = server.url
    queue_one()
    assert deliver_due() == {"sent": 0, "retry": 1, "failed": 0}
    [(status, error)] = statuses()
    assert "CERTIFICATE_VERIFY_FAILED" in error
    assert server.recorder.received == []


def test_required_starttls_refuses_a_plain_server(app, smtp_server):
    server = smtp_server()
    app.config["MAIL_URL"] = f"smtp+starttls://127.0.0.1:{server.port}"
    queue_one()
    assert deliver_due()["retry"] == 1
    assert "STARTTLS" in statuses()[0][1]
    assert server.recorder.received == []


def test_smtps_speaks_tls_from_the_start(app, smtp_server, tls_cert, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_cert[0]))
    server = smtp_server(ssl_context=server_tls_context(tls_cert))
    app.config["MAIL_URL"] = f"smtps://127.0.0.1:{server.port}"
    queue_one()
    assert deliver_due()["sent"] == 1
    assert server.recorder.messages()[0]["Subject"] == "Hello"


def test_mail_url_forms(tmp_path):
    assert isinstance(from_config(None, str(tmp_path)), FileTransport)
    file_transport = from_config(f"file://{tmp_path}/mail", "unused")
    assert file_transport.folder == tmp_path / "mail"
    plain = from_config("smtp://mail.example.org", "x", "https://mixer.example.org")
    assert (plain.host, plain.port, plain.username, plain.helo) == (
        "mail.example.org",
        25,
        None,
        "mixer.example.org",
    )
    secure = from_config("smtps://me%40example.org:s%2Fcret@mail.example.org", "x")
    assert (secure.port, secure.username, secure.password) == (
        465,
        "me@example.org",
        "s/cret",
    )
    assert from_config("smtp+starttls://mail.example.org", "x").port == 587
    assert isinstance(secure, SMTPTransport) and "s/cret" not in secure.where
    assert helo_name("http://127.0.0.1:5000") == "[127.0.0.1]"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://mail.example.org", "not one of"),
        ("smtp://mail.example.org:port", "bad port"),
        ("smtp://", "needs a host"),
        ("file://", "needs a folder"),
    ],
)
def test_bad_mail_urls_are_refused(url, message):
    with pytest.raises(ValueError, match=message):
        from_config(url, "unused")
