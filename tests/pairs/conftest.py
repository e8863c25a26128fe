"""Fixtures of the pairs tests: an organization with two members who pair up."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from mixer import clock

# A Monday morning: the first slot is then Wednesday 12:30 in the pair's zone.
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def world(app, make_org, make_user):
    """Frozen clock, an org, a mentor, a mentee and an organizer."""
    clock.freeze(MONDAY)
    org = make_org(slug="acme", name="Acme")
    mentor = make_user(org, email="ada@acme.example.org", name="Ada Lovelace")
    mentee = make_user(org, email="bo@acme.example.org", name="Bo Chen")
    organizer = make_user(org, role="organizer", email="olu@acme.example.org")
    return SimpleNamespace(org=org, mentor=mentor, mentee=mentee, organizer=organizer)
