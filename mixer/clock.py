"""The one clock Mixer reads, so tests can travel in time.

Every service asks ``clock.now()`` instead of ``datetime.now``; tests call
``clock.freeze(when)`` / ``clock.advance(delta)`` / ``clock.reset()``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_frozen: datetime | None = None
_STAMP = re.compile(r"\d{8}T\d{6}Z?")


def now() -> datetime:
    """Return the current instant as an aware UTC datetime."""
    return _frozen if _frozen is not None else datetime.now(UTC)


def freeze(when: datetime) -> None:
    """Stop the clock at ``when`` (must be timezone-aware)."""
    global _frozen
    if when.tzinfo is None:
        raise ValueError("freeze() needs an aware datetime")
    _frozen = when.astimezone(UTC)


def advance(delta: timedelta) -> datetime:
    """Move a frozen clock forward and return the new instant."""
    global _frozen
    _frozen = now() + delta
    return _frozen


def reset() -> None:
    """Let the clock run with real time again."""
    global _frozen
    _frozen = None


def stamp(instant: datetime) -> str:
    """``instant`` as compact UTC text, ``20261205T123000Z`` (job keys, payloads).

    Two stamps compare equal exactly when the instants are the same second, in
    whatever zone they were given.
    """
    if instant.tzinfo is None:
        raise ValueError("stamp() needs an aware datetime")
    return instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def parse_stamp(text: str) -> datetime:
    """The instant of a :func:`stamp` (an aware UTC datetime); ValueError if it is none.

    Stamps made before the trailing "Z" (``20261205T123000``, as links already in
    people's inboxes carry) are UTC too and read the same.
    """
    if not isinstance(text, str) or not _STAMP.fullmatch(text):
        raise ValueError(f"not a stamp: {text!r}")
    return datetime.strptime(text[:15], "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
