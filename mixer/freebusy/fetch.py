"""One guarded GET of a calendar feed: public addresses only (each redirect
checked again), a timeout for every step and for the whole fetch, and a size
limit read as it streams. Never raises anything but ``FeedProblem``; its words
name no secret (never the address, only the host)."""

from __future__ import annotations

import http.client
import ssl
import time
from urllib.parse import urljoin, urlsplit

from mixer.outbound import NotPublic, PinnedHTTP, PinnedHTTPS, resolve

USER_AGENT = "Mixer-FreeBusy/1"
MAX_REDIRECTS = 3
CHUNK = 64 * 1024
# What a calendar feed is served as; a web page or JSON means a wrong address.
CALENDAR_TYPES = {
    "text/calendar",
    "text/plain",
    "application/ics",
    "application/octet-stream",
    "application/x-ical",
    "text/x-vcalendar",
    "",
}


class FeedProblem(Exception):
    """Why a fetch gave no calendar: ``code`` (a word of ``feeds.PROBLEMS``) and a
    ``detail`` without secrets."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail[:300]


def check_form(url: str, allow_local: bool) -> None:
    """Refuse an address of the wrong form (``FeedProblem("address")``)."""
    parts = urlsplit(url)
    schemes = ("https", "http") if allow_local else ("https",)
    if parts.scheme not in schemes or not parts.hostname:
        raise FeedProblem("address")
    if parts.username or parts.password:
        raise FeedProblem("address")
    try:
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as exc:
        raise FeedProblem("address") from exc


def get(url: str, *, timeout: float, max_bytes: int, allow_local: bool) -> bytes:
    """The feed's bytes, or ``FeedProblem``."""
    deadline = time.monotonic() + timeout
    for _ in range(MAX_REDIRECTS + 1):
        check_form(url, allow_local)
        status, location, body = _get_once(
            url, timeout, deadline, max_bytes, allow_local
        )
        if location is None:
            if status != 200:
                raise FeedProblem("status", str(status))
            return body
        url = urljoin(url, location)
    raise FeedProblem("redirects")


def _get_once(
    url: str, timeout: float, deadline: float, max_bytes: int, allow_local: bool
) -> tuple[int, str | None, bytes]:
    """One request: (status, a redirect's Location or None, the body)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    tls = parts.scheme == "https"
    port = parts.port or (443 if tls else 80)
    try:
        ip = str(resolve(host, port, allow_local=allow_local)[0])
    except NotPublic as exc:
        raise FeedProblem("private", host) from exc
    except OSError as exc:
        raise FeedProblem("unreachable", host) from exc
    conn = (PinnedHTTPS if tls else PinnedHTTP)(host, port, ip, timeout)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        conn.request(
            "GET",
            path,
            headers={"User-Agent": USER_AGENT, "Accept": "text/calendar, */*;q=0.5"},
        )
        response = conn.getresponse()
        if response.status in (301, 302, 303, 307, 308):
            location = response.getheader("Location")
            if not location:
                raise FeedProblem("status", str(response.status))
            return response.status, location, b""
        if response.status != 200:
            return response.status, None, b""
        kind = (response.getheader("Content-Type") or "").split(";")[0].strip().lower()
        if kind not in CALENDAR_TYPES:
            raise FeedProblem("not_calendar", kind)
        declared = response.getheader("Content-Length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            raise FeedProblem("too_large", str(max_bytes // (1024 * 1024)))
        return response.status, None, _read(response, deadline, max_bytes)
    except TimeoutError as exc:
        raise FeedProblem("timeout", f"{timeout:g}") from exc
    except ssl.SSLError as exc:
        raise FeedProblem("tls", str(exc.reason or "")) from exc
    except (OSError, http.client.HTTPException) as exc:
        raise FeedProblem("unreachable", host) from exc
    finally:
        conn.close()


def _read(response: http.client.HTTPResponse, deadline: float, limit: int) -> bytes:
    """The body in chunks: refused past ``limit`` bytes or past the deadline (a
    feed that trickles a byte at a time never times out a single read)."""
    chunks: list[bytes] = []
    size = 0
    while chunk := response.read(CHUNK):
        size += len(chunk)
        if size > limit:
            raise FeedProblem("too_large", str(limit // (1024 * 1024)))
        if time.monotonic() > deadline:
            raise TimeoutError
        chunks.append(chunk)
    return b"".join(chunks)
