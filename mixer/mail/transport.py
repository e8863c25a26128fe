"""Where mail goes: a folder of .eml files by default, or an SMTP server.

``MAIL_URL`` forms:

- unset: one ``.eml`` file per message in ``instance/outbox/``;
- ``file:///path/to/folder``: the same, in another folder;
- ``smtp://host:port``: plain SMTP, upgraded with STARTTLS when the server offers it;
- ``smtp+starttls://user:pass@host:587``: STARTTLS required;
- ``smtps://user:pass@host:465``: TLS from the first byte.

User name and password are optional and URL-encoded (``p%40ss`` for ``p@ss``).
Certificates are verified against the system's CAs (``SSL_CERT_FILE`` points
OpenSSL at another bundle, e.g. a company CA).
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import smtplib
import ssl
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from mixer import clock

SMTP_SCHEMES = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


class DeliveryError(Exception):
    """A message could not be handed over.

    ``permanent``: retrying cannot help (the server refused the recipient or the
    message with a 5xx reply). ``whole_batch``: the server itself is unreachable
    or refused us, so the rest of the batch need not be tried now.
    """

    def __init__(
        self, message: str, *, permanent: bool = False, whole_batch: bool = False
    ):
        super().__init__(message)
        self.permanent = permanent
        self.whole_batch = whole_batch


class Transport(Protocol):
    """Something that can deliver raw RFC 5322 messages."""

    def send(self, sender: str, recipients: list[str], raw: bytes) -> None: ...

    def close(self) -> None: ...


class FileTransport:
    """Writes one ``.eml`` per message, atomically, into a folder."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def send(self, sender: str, recipients: list[str], raw: bytes) -> None:
        """Write the message as ``<UTC time>-<random>.eml`` (sorts by time)."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            name = f"{clock.now():%Y%m%dT%H%M%S}-{secrets.token_hex(6)}"
            tmp = self.folder / f".{name}.tmp"
            with open(tmp, "wb") as fh:
                fh.write(raw)
            os.replace(tmp, self.folder / f"{name}.eml")
        except OSError as exc:
            raise DeliveryError(
                f"cannot write to {self.folder}: {exc}", whole_batch=True
            ) from exc

    def close(self) -> None:
        """Nothing to close."""


class SMTPTransport:
    """Keeps one SMTP connection open for a batch of messages."""

    def __init__(
        self,
        url: str,
        *,
        helo: str | None = None,
        timeout: float = 20.0,
        context: ssl.SSLContext | None = None,
    ):
        parts = urlsplit(url)
        if parts.scheme not in SMTP_SCHEMES:
            raise ValueError(f"not an SMTP URL: {parts.scheme}://")
        self.scheme = parts.scheme
        self.host = parts.hostname or "localhost"
        self.port = parts.port or SMTP_SCHEMES[self.scheme]
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        # Without a name smtplib asks DNS for ours, which can hang in containers.
        self.helo = helo or "localhost"
        self.timeout = timeout
        self.context = context
        self._conn: smtplib.SMTP | None = None

    @property
    def where(self) -> str:
        """host:port, for messages (never the password)."""
        return f"{self.host}:{self.port}"

    def _tls(self) -> ssl.SSLContext:
        # Made on first use: loading the CA bundle takes a noticeable moment.
        if self.context is None:
            self.context = ssl.create_default_context()
        return self.context

    def _connect(self) -> smtplib.SMTP:
        if self.scheme == "smtps":
            conn: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host,
                self.port,
                local_hostname=self.helo,
                timeout=self.timeout,
                context=self._tls(),
            )
        else:
            conn = smtplib.SMTP(
                self.host, self.port, local_hostname=self.helo, timeout=self.timeout
            )
        try:
            conn.ehlo()
            if self.scheme == "smtp+starttls" or (
                self.scheme == "smtp" and conn.has_extn("starttls")
            ):
                conn.starttls(context=self._tls())
                conn.ehlo()
            if self.username:
                conn.login(self.username, self.password or "")
        except BaseException:
            conn.close()
            raise
        return conn

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def send(self, sender: str, recipients: list[str], raw: bytes) -> None:
        """Hand one message to the server; raises DeliveryError on failure.

        An internationalised address (not ASCII) is sent with the SMTPUTF8
        extension (RFC 6531); a server without it refuses the message for good.
        """
        ascii_only = sender.isascii() and all(r.isascii() for r in recipients)
        options = [] if ascii_only else ["SMTPUTF8"]
        try:
            reused = self._conn is not None
            if self._conn is None:
                self._conn = self._connect()
            if options and not self._conn.has_extn("smtputf8"):
                raise DeliveryError(
                    f"{self.where} does not offer SMTPUTF8, needed for the "
                    f"internationalised address in {recipients}",
                    permanent=True,
                )
            try:
                self._conn.sendmail(sender, recipients, raw, mail_options=options)
            except smtplib.SMTPServerDisconnected:
                if not reused:
                    raise
                # The server closed the connection between two messages: one
                # fresh try.
                self._drop()
                self._conn = self._connect()
                self._conn.sendmail(sender, recipients, raw, mail_options=options)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            detail = "; ".join(
                _reply(code, text) for code, text in exc.recipients.values()
            )
            if 421 in codes:  # "service not available, closing channel"
                self._drop()
            raise DeliveryError(
                f"recipient refused by {self.where}: {detail}",
                permanent=all(500 <= c < 600 for c in codes),
                whole_batch=421 in codes,
            ) from exc
        except smtplib.SMTPSenderRefused as exc:
            # Our own address refused: every message would fail the same way.
            self._drop()
            raise DeliveryError(
                f"sender {exc.sender!r} refused by {self.where}: "
                f"{_reply(exc.smtp_code, exc.smtp_error)}",
                whole_batch=True,
            ) from exc
        except smtplib.SMTPAuthenticationError as exc:
            self._drop()
            raise DeliveryError(
                f"sign-in to {self.where} failed: "
                f"{_reply(exc.smtp_code, exc.smtp_error)}",
                whole_batch=True,
            ) from exc
        except smtplib.SMTPResponseException as exc:
            code = exc.smtp_code
            if code == 421 or code < 400:
                self._drop()
            raise DeliveryError(
                f"message refused by {self.where}: {_reply(code, exc.smtp_error)}",
                permanent=500 <= code < 600,
                whole_batch=code == 421 or code < 400,
            ) from exc
        except UnicodeEncodeError as exc:
            raise DeliveryError(
                f"{self.where} cannot take a non-ASCII address: {exc}", permanent=True
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:  # OSError covers ssl errors
            self._drop()
            raise DeliveryError(
                f"cannot deliver through {self.where}: {type(exc).__name__}: {exc}",
                whole_batch=True,
            ) from exc

    def close(self) -> None:
        """Say goodbye to the server, if connected."""
        if self._conn is not None:
            try:
                self._conn.quit()
            except (smtplib.SMTPException, OSError):
                self._conn.close()
            self._conn = None


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {text}".strip()


def helo_name(base_url: str) -> str:
    """The name we greet SMTP servers with: BASE_URL's host (IPs in brackets)."""
    host = urlsplit(base_url).hostname or "localhost"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host
    return f"[{host}]"


def from_config(
    mail_url: str | None, outbox_folder: str, base_url: str = ""
) -> Transport:
    """Build the transport ``MAIL_URL`` names; ValueError for a malformed URL."""
    if not mail_url:
        return FileTransport(outbox_folder)
    parts = urlsplit(mail_url)
    if parts.scheme == "file":
        if not parts.path:
            raise ValueError("MAIL_URL file:/// needs a folder path")
        return FileTransport(unquote(parts.path))
    if parts.scheme in SMTP_SCHEMES:
        try:
            parts.port  # noqa: B018 - raises ValueError for a bad port
        except ValueError as exc:
            raise ValueError(f"MAIL_URL has a bad port: {exc}") from exc
        if not parts.hostname:
            raise ValueError("MAIL_URL needs a host name, e.g. smtp://mail:25")
        return SMTPTransport(mail_url, helo=helo_name(base_url))
    raise ValueError(
        f"MAIL_URL scheme {parts.scheme!r} is not one of "
        "smtp, smtp+starttls, smtps, file"
    )
