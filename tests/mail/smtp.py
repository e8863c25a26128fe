"""A real SMTP server for tests (aiosmtpd) that records what it receives and can
refuse, defer or hold messages on demand."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Received:
    """One message as the server saw it."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    session: int

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=email.policy.default)


class Recorder:
    """An aiosmtpd handler: keeps every message; misbehaves when told to."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.refuse: set[str] = set()  # recipients answered "550"
        self.defer = 0  # the next N messages answered "451"
        self.deferred = 0
        self.hold_until_sessions = 0  # hold DATA until this many connections
        self.delay = 0.0  # seconds per message
        self.sessions: set[int] = set()
        self.logins: list[tuple[bytes, bytes]] = []
        self.tls_sessions: set[int] = set()
        self._lock = threading.Lock()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        with self._lock:
            self.sessions.add(id(session))
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        deadline = time.monotonic() + 15  # below the client's 20 s timeout
        while (
            len(self.sessions) < self.hold_until_sessions
            and time.monotonic() < deadline
        ):
            await asyncio.sleep(0.01)
        if self.delay:
            await asyncio.sleep(self.delay)
        with self._lock:
            if self.defer > 0:
                self.defer -= 1
                self.deferred += 1
                return "451 4.3.0 Try again later"
            if session.ssl is not None:
                self.tls_sessions.add(id(session))
            self.received.append(
                Received(
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    envelope.original_content,
                    id(session),
                )
            )
        return "250 2.0.0 Message accepted"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            self.logins.append((auth_data.login, auth_data.password))
            ok = auth_data.login == b"mixer" and auth_data.password == b"p@ss:word"
            return AuthResult(success=ok, handled=False)
        return AuthResult(success=False, handled=False)

    # A method, not a property: aiosmtpd inspects every attribute of its handler
    # for each connection, and a property would parse all mail each time.
    def messages(self) -> list[EmailMessage]:
        return [r.message for r in self.received]


class SMTPServer:
    """A started aiosmtpd server on 127.0.0.1."""

    def __init__(self, port: int | None = None, **kwargs) -> None:
        self.recorder = Recorder()
        self.port = port or free_port()
        self.kwargs = kwargs
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> SMTPServer:
        kwargs = dict(self.kwargs)
        if kwargs.pop("with_auth", False):
            kwargs.update(
                authenticator=self.recorder.authenticate, auth_require_tls=False
            )
        # A fixed server name: aiosmtpd would otherwise ask DNS for one per session.
        kwargs.setdefault("server_hostname", "smtp.example.org")
        # Like the servers people run (Postfix, Exim): internationalised addresses.
        kwargs.setdefault("enable_SMTPUTF8", True)
        self.controller = Controller(
            self.recorder, hostname="127.0.0.1", port=self.port, **kwargs
        )
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
