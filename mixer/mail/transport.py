"""Where mail goes: a folder of .eml files by default, or an SMTP server.

``MAIL_URL`` forms: ``smtp://host:port`` (plain, STARTTLS when offered),
``smtps://user:pass@host:port`` (implicit TLS), ``smtp+starttls://...`` (STARTTLS
required), ``file:///path`` (a folder). Unset: ``instance/outbox/``.
"""

from __future__ import annotations

import os
import smtplib
import ssl
import tempfile
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit


class Transport(Protocol):
    """Something that can deliver raw RFC 5322 messages."""

    def send(self, sender: str, recipients: list[str], raw: bytes) -> None: ...

    def close(self) -> None: ...


class FileTransport:
    """Writes one ``.eml`` per message, atomically, into a folder."""

    def __init__(self, folder: str):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def send(self, sender: str, recipients: list[str], raw: bytes) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
        name = f"{os.path.basename(tmp)[:-4]}.eml"
        os.replace(tmp, self.folder / name)

    def close(self) -> None:
        pass


class SMTPTransport:
    """Keeps one SMTP connection open for a batch of messages."""

    def __init__(self, url: str, timeout: float = 20.0):
        parts = urlsplit(url)
        self.scheme = parts.scheme
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.scheme == "smtps" else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = timeout
        self._conn: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if self.scheme == "smtps":
            conn: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=context
            )
        else:
            conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            conn.ehlo()
            if self.scheme == "smtp+starttls" or conn.has_extn("starttls"):
                conn.starttls(context=context)
                conn.ehlo()
        if self.username:
            conn.login(self.username, self.password or "")
        return conn

    def send(self, sender: str, recipients: list[str], raw: bytes) -> None:
        if self._conn is None:
            self._conn = self._connect()
        try:
            self._conn.sendmail(sender, recipients, raw)
        except smtplib.SMTPServerDisconnected:
            self._conn = self._connect()
            self._conn.sendmail(sender, recipients, raw)

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self._conn = None


def from_config(mail_url: str | None, outbox_folder: str) -> Transport:
    """Build the transport ``MAIL_URL`` names."""
    if not mail_url:
        return FileTransport(outbox_folder)
    scheme = urlsplit(mail_url).scheme
    if scheme == "file":
        return FileTransport(unquote(urlsplit(mail_url).path))
    if scheme in ("smtp", "smtps", "smtp+starttls"):
        return SMTPTransport(mail_url)
    raise ValueError(f"MAIL_URL scheme {scheme!r} is not one of smtp, smtps, file")
