"""Fixtures for mail: real SMTP servers (aiosmtpd) and a TLS certificate."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.mail.smtp import SMTPServer


@pytest.fixture
def smtp_server():
    """Start SMTP servers: ``smtp_server(port=None, start=True, **controller_kw)``."""
    servers: list[SMTPServer] = []

    def factory(start: bool = True, **kwargs) -> SMTPServer:
        server = SMTPServer(**kwargs)
        servers.append(server)
        return server.start() if start else server

    yield factory
    for server in servers:
        server.stop()


@pytest.fixture
def smtp(app, smtp_server) -> SMTPServer:
    """A running server that the app's MAIL_URL points at."""
    server = smtp_server()
    app.config["MAIL_URL"] = server.url
    return server


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1: (cert_path, key_path)."""
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key
