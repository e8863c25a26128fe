"""Fixtures of the slots tests: a host in Sales who offers slots, guests in
Sales and in Finance, and the clock on a Monday morning (2 March 2026)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from types import SimpleNamespace

import pytest

from mixer import clock
from mixer.extensions import db
from mixer.slots.services import OfferValues, create_offer

MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BERLIN = "Europe/Berlin"


def weekly(**kw) -> OfferValues:
    """Tuesdays and Thursdays 12:30–12:50 in Berlin: four 5-minute slots a day."""
    values = {
        "kind": "weekly",
        "weekdays": [2, 4],
        "on_date": None,
        "start_time": time(12, 30),
        "end_time": time(12, 50),
        "slot_minutes": 5,
        "timezone": BERLIN,
        "place": "The café",
        "weekly_cap": None,
        "topics": ["negotiation"],
        **kw,
    }
    return OfferValues(**values)


@pytest.fixture
def world(app, make_org, make_user):
    clock.freeze(MONDAY)
    org = make_org(slug="acme", name="Acme")
    host = make_user(
        org,
        email="ada@acme.example.org",
        name="Ada Host",
        offers=["negotiation", "public speaking"],
        department="Sales",
    )
    colleague = make_user(
        org, email="sam@acme.example.org", name="Sam Same", department="Sales"
    )
    guest = make_user(
        org, email="fin@acme.example.org", name="Fin Other", department="Finance"
    )
    offer = create_offer(org, host, weekly())
    db.session.commit()
    yield SimpleNamespace(
        org=org, host=host, guest=guest, colleague=colleague, offer=offer
    )
    clock.reset()
