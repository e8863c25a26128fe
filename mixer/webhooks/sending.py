"""The wire: checking an endpoint's address, signing, and one POST.

Outbound requests are a way into the network Mixer runs in (SSRF), so an
address must be ``https`` and every address its name resolves to must be a
public one, checked when the endpoint is saved and again at every attempt; the
connection then goes to the very address that was checked (no second lookup a
DNS rebinding could change), with the name kept for TLS and ``Host``. Redirects
are not followed. ``WEBHOOK_ALLOW_LOCAL`` (development and tests only; production
refuses to start with it) lets ``http`` and loopback or private addresses through.
The checks and pinned connections live in ``mixer.outbound`` (calendar feeds use
them too).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _

from mixer.errors import DomainError
from mixer.outbound import (
    IPAddress,
    NotPublic,
    PinnedHTTP,
    PinnedHTTPS,
    resolve,
)

MAX_READ = 64 * 1024  # of a receiver's answer; the rest is never read
ERROR_TEXT = 300  # characters of the answer kept in the log
USER_AGENT = "Mixer-Webhooks/1"


class WebhookError(DomainError):
    """An endpoint address or a webhook action that Mixer refuses."""


@dataclass(frozen=True)
class Answer:
    """What one attempt came to: the HTTP status (None when there was no answer)
    and, unless it was a 2xx, why it failed."""

    status: int | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """The receiver accepted it (any 2xx)."""
        return self.status is not None and 200 <= self.status < 300


def allow_local() -> bool:
    """Whether ``http`` and non-public addresses are allowed (development, tests)."""
    return bool(current_app.config.get("WEBHOOK_ALLOW_LOCAL"))


def check_url(url: str) -> str:
    """The address, trimmed, if its form is acceptable; WebhookError otherwise.

    A name is resolved here too: one that resolves to a non-public address is
    refused; one that does not resolve (yet) is accepted and checked again at
    every delivery.
    """
    url = (url or "").strip()
    parts = urlsplit(url)
    schemes = ("https", "http") if allow_local() else ("https",)
    if parts.scheme not in schemes:
        raise WebhookError(
            _("The address must start with https:// (deliveries are encrypted)."),
            field="url",
        )
    if not parts.hostname or parts.username or parts.password:
        raise WebhookError(
            _(
                "Give a full address with a host name and no user name or "
                "password, like https://hooks.example.org/mixer."
            ),
            field="url",
        )
    try:
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as exc:
        raise WebhookError(_("That port number is not valid."), field="url") from exc
    if len(url) > 500:
        raise WebhookError(_("Keep the address to 500 characters."), field="url")
    try:
        addresses(parts.hostname, parts.port or 443)
    except socket.gaierror:
        pass  # not resolvable from here (yet): checked at every attempt
    return url


def addresses(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to; WebhookError if any is not public."""
    try:
        return resolve(host, port, allow_local=allow_local())
    except NotPublic as exc:
        raise WebhookError(
            _(
                "%(host)s is a private, loopback or otherwise non-public "
                "address (%(ip)s); Mixer only calls public addresses.",
                host=host,
                ip=str(exc.ip),
            ),
            field="url",
        ) from exc


def sign(secret: str, message_id: str, timestamp: int, body: str) -> str:
    """The ``webhook-signature`` value: ``v1,`` and the base64 HMAC-SHA256 of
    ``id.timestamp.body`` keyed with the secret's base64-decoded part."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.{body}".encode()
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def post(url: str, body: str, headers: dict[str, str]) -> Answer:
    """POST ``body`` to ``url`` once: never raises, says what happened."""
    timeout = float(current_app.config.get("WEBHOOK_TIMEOUT_SECONDS", 10))
    parts = urlsplit(url)
    host = parts.hostname or ""
    tls = parts.scheme == "https"
    port = parts.port or (443 if tls else 80)
    if not tls and not allow_local():
        return Answer(None, "Refused: the address is not https.")
    try:
        ip = str(addresses(host, port)[0])
    except WebhookError as exc:
        return Answer(None, f"Refused: {exc}")
    except OSError as exc:
        return Answer(None, f"Could not resolve {host}: {exc}")
    conn_class = PinnedHTTPS if tls else PinnedHTTP
    conn = conn_class(host, port, ip, timeout)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    started = time.monotonic()
    try:
        conn.request(
            "POST",
            path,
            body=body.encode(),
            headers={
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                **headers,
            },
        )
        response = conn.getresponse()
        text = response.read(MAX_READ)  # at most this much, whatever it sends
    except TimeoutError:
        return Answer(None, f"No answer within {timeout:g} s.")
    except ssl.SSLError as exc:
        return Answer(None, f"TLS failed: {exc.reason or exc}")
    except (OSError, http.client.HTTPException) as exc:
        took = time.monotonic() - started
        return Answer(
            None, f"Could not deliver ({type(exc).__name__}: {exc}) after {took:.1f} s."
        )
    finally:
        conn.close()
    if 200 <= response.status < 300:
        return Answer(response.status)
    said = text.decode("utf-8", "replace").strip()[:ERROR_TEXT]
    return Answer(response.status, f"HTTP {response.status}: {said}".rstrip(": "))
