"""Small helpers that tests import: CSRF tokens from pages, links from mail."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from mixer import clock
from mixer.events.models import Registration
from mixer.extensions import db

PASSWORD = "correct horse battery"
# Tests travel in time from this instant (a Monday), so dates are predictable.
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def csrf_from(html: str) -> str:
    """The CSRF token from a rendered form."""
    match = re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', html
    ) or re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def mail_text(msg) -> str:
    """The plain-text body of a parsed message."""
    return msg.get_body(preferencelist=("plain",)).get_content()


def link_in(msg, pattern: str) -> str:
    """The first link in a message's text body whose path matches ``pattern``."""
    match = re.search(r"https?://\S*" + pattern + r"\S*", mail_text(msg))
    assert match, f"no link matching {pattern!r} in {mail_text(msg)!r}"
    return match.group(0).rstrip(".,)>")


def bearer(secret: str) -> dict[str, str]:
    """Request headers carrying an API token."""
    return {"Authorization": f"Bearer {secret}"}


def fill_event(event, n: int, start: int = 0) -> list[Registration]:
    """``n`` registered people, inserted directly (fast for big batches)."""
    regs = [
        Registration(
            event_id=event.id,
            email=f"p{i}@example.org",
            name=f"Person {i:04d}",
            status="registered",
            source="organizer",
            role=("mentor", "mentee", "either")[i % 3],
            department="Platform",
            offers=["python"],
            confirmed_at=clock.now(),
        )
        for i in range(start, start + n)
    ]
    db.session.add_all(regs)
    db.session.commit()
    return regs
