"""GET /api/v1/insights: the dashboard's figures as JSON, hidden counts as null.

The serializers are checked on a hand-built ``Dashboard`` whose JSON is written
out; the endpoint on a small organization against ``dashboard()`` for the same
filter. February 2026 is the period: Acme's Design (5 people) and Sales (3) meet
at a Mentor Mixer; three come to a lunch-and-learn; Other is a second
organization with a department and an event of its own.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from mixer import clock
from mixer.connections.models import Connection
from mixer.events.models import KINDS, EventKind
from mixer.extensions import db
from mixer.insights.api import count_json, dashboard_json
from mixer.insights.dashboard import dashboard
from mixer.insights.figures import (
    Count,
    Dashboard,
    EventFigures,
    EventMonth,
    Funnel,
    FunnelMonth,
    MentorLoad,
    PeopleFigures,
    Quote,
    SiloMap,
    Stage,
    TopicGap,
    Topics,
)
from mixer.insights.filters import InsightFilter
from mixer.orgs.models import Department
from tests.helpers import bearer

FEBRUARY = InsightFilter(start=date(2026, 2, 1), end=date(2026, 2, 28))
PERIOD = "from=2026-02-01&to=2026-02-28"
HIDDEN = {"value": None, "hidden": True}


def shown(n: int) -> dict:
    """A count the API shows."""
    return {"value": n, "hidden": False}


def test_the_serializers_write_every_section_and_hide_small_counts():
    board = Dashboard(
        funnel=Funnel(
            stages=[
                Stage("registered", "Registered", Count(40), "Held a place."),
                Stage("chose", "Chose someone", Count(3), "Chose one."),
            ],
            months=[
                FunnelMonth("2026-02", {"registered": Count(40), "chose": Count(3)})
            ],
            active={
                90: (Count(2), Count(4)),
                30: (Count(6), Count(10)),
                60: (Count(0), Count(10)),
            },
        ),
        silos=SiloMap(
            departments=["Design", "No department"],
            cells=[[Count(7), Count(1)], [Count(1), Count(0)]],
            total=Count(8),
            across=Count(1),
            never_meet=[("No department", "No department")],
        ),
        topics=Topics(
            suggested=[TopicGap("Negotiation", Count(9), Count(2))],
            unasked=[TopicGap("Excel", Count(0), Count(5))],
        ),
        events=EventFigures(
            held=2,
            registered=Count(40),
            attended=Count(30),
            ratings=Count(4),
            rating=None,
            months=[EventMonth("2026-02", 2, Count(40), Count(30), None)],
            testimonials=[Quote("Ada", "It helped.", None, date(2026, 2, 3))],
        ),
        people=PeopleFigures(
            top_mentors=[MentorLoad("Ada", "Design", 3, 3)],
            at_capacity=[MentorLoad("Ada", "Design", 3, 3)],
            departments_without_mentor=["Sales"],
        ),
    )
    flt = InsightFilter(
        date(2026, 2, 1), date(2026, 2, 28), department_id=4, kind=EventKind.WORKSHOP
    )

    assert count_json(Count(0)) == shown(0)
    assert count_json(Count(4)) == HIDDEN
    assert count_json(Count(5)) == shown(5)
    ada = {"name": "Ada", "department": "Design", "active_pairs": 3, "capacity": 3}
    computed = datetime(2026, 3, 1, 14, 5, tzinfo=UTC)
    assert dashboard_json(board, flt, computed) == {
        "filter": {
            "from": "2026-02-01",
            "to": "2026-02-28",
            "department": 4,
            "kind": "workshop",
            "event": None,
        },
        "computed_at": "2026-03-01T14:05:00+00:00",
        "funnel": {
            "stages": [
                {
                    "key": "registered",
                    "label": "Registered",
                    "count": shown(40),
                    "definition": "Held a place.",
                },
                {
                    "key": "chose",
                    "label": "Chose someone",
                    "count": HIDDEN,
                    "definition": "Chose one.",
                },
            ],
            "months": [
                {
                    "month": "2026-02",
                    "counts": {"registered": shown(40), "chose": HIDDEN},
                }
            ],
            "active": [  # by age; a rate of a hidden count is hidden
                {"days": 30, "active": shown(6), "old_enough": shown(10), "rate": 0.6},
                {"days": 60, "active": shown(0), "old_enough": shown(10), "rate": 0.0},
                {"days": 90, "active": HIDDEN, "old_enough": HIDDEN, "rate": None},
            ],
        },
        "silos": {
            "departments": ["Design", "No department"],
            "cells": [[shown(7), HIDDEN], [HIDDEN, shown(0)]],
            "total": shown(8),
            "across": HIDDEN,
            "across_share": None,
            "never_meet": [["No department", "No department"]],
        },
        "topics": {
            "suggested": [
                {"topic": "Negotiation", "seekers": shown(9), "offerers": HIDDEN}
            ],
            "unasked": [{"topic": "Excel", "seekers": shown(0), "offerers": shown(5)}],
        },
        "events": {
            "held": 2,
            "registered": shown(40),
            "attended": shown(30),
            "attendance_rate": 0.75,
            "no_show_rate": 0.25,
            "ratings": HIDDEN,
            "rating": None,
            "months": [
                {
                    "month": "2026-02",
                    "held": 2,
                    "registered": shown(40),
                    "attended": shown(30),
                    "rating": None,
                }
            ],
            "testimonials": [
                {
                    "author_name": "Ada",
                    "body": "It helped.",
                    "event_title": None,
                    "on": "2026-02-03",
                }
            ],
        },
        "people": {
            "top_mentors": [ada],
            "at_capacity": [ada],
            "departments_without_mentor": ["Sales"],
        },
    }


@pytest.fixture
def clock_at() -> datetime:
    """Early January: the fixture's February events are still ahead."""
    return datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def at(day: int, hour: int = 12) -> datetime:
    """An instant of February 2026 (UTC)."""
    return datetime(2026, 2, day, hour, tzinfo=UTC)


@pytest.fixture
def acme(frozen, make_org, make_user, make_event, make_registration, token_for):
    """Acme's people, a mixer where Design meets Sales, a small lunch, and Other."""
    org = make_org(slug="acme", name="Acme")
    organizer = make_user(org, role="organizer", name="Olga Organizer")
    design = [
        make_user(org, name=f"Designer {i}", department="Design", seeks=["Excel"])
        for i in range(5)
    ]
    sales = [
        make_user(org, name=f"Seller {i}", department="Sales", offers=["Excel"])
        for i in range(3)
    ]
    mixer = make_event(org, starts_at=at(10), kind="mentor_mixer", capacity=20)
    regs = [make_registration(mixer, email=p.email) for p in design + sales]
    for reg in regs[:7]:
        reg.checked_in_at = at(10, hour=12)
    # Each designer met a seller (5 across), two designers met each other.
    for d, s in [(0, 5), (1, 6), (2, 7), (3, 5), (4, 6), (0, 1)]:
        low, high = sorted((regs[d].id, regs[s].id))
        db.session.add(
            Connection(event_id=mixer.id, a_id=low, b_id=high, source="scan")
        )
    lunch = make_event(org, starts_at=at(20), kind="lunch_and_learn")
    for person in sales:
        make_registration(lunch, email=person.email)

    other = make_org(slug="other", name="Other")
    other_organizer = make_user(other, role="organizer", department="Elsewhere")
    elsewhere = make_event(other, starts_at=at(12))
    db.session.commit()
    clock.freeze(datetime(2026, 3, 15, 9, 0, tzinfo=UTC))  # February is over
    departments = {
        (d.org_id, d.name): d.id for d in db.session.scalars(select(Department))
    }
    return SimpleNamespace(
        org=org,
        mixer=mixer,
        design=departments[(org.id, "Design")],
        elsewhere_department=departments[(other.id, "Elsewhere")],
        elsewhere_event=elsewhere,
        organizer=bearer(token_for(organizer, org)),
        member=bearer(token_for(design[0], org)),
        other=bearer(token_for(other_organizer, other)),
    )


def stage(body: dict, key: str) -> dict:
    """The count of one funnel stage in an API answer."""
    return next(s["count"] for s in body["funnel"]["stages"] if s["key"] == key)


def test_the_api_gives_the_dashboards_figures(acme, client):
    flt = FEBRUARY
    for query, narrowed in [
        ("", flt),
        (f"&department={acme.design}", InsightFilter(flt.start, flt.end, acme.design)),
        (
            "&kind=lunch_and_learn",
            InsightFilter(flt.start, flt.end, kind=EventKind.LUNCH_AND_LEARN),
        ),
        (
            f"&event={acme.mixer.id}",
            InsightFilter(flt.start, flt.end, event_id=acme.mixer.id),
        ),
    ]:
        got = client.get(f"/api/v1/insights?{PERIOD}{query}", headers=acme.organizer)
        assert got.status_code == 200, (query, got.get_json())
        assert got.get_json() == dashboard_json(dashboard(acme.org, narrowed), narrowed)

    body = client.get(f"/api/v1/insights?{PERIOD}", headers=acme.organizer).get_json()
    assert body["filter"] == {
        "from": "2026-02-01",
        "to": "2026-02-28",
        "department": None,
        "kind": None,
        "event": None,
    }
    # 8 places at the mixer and 3 at the lunch; 7 checked in.
    assert (stage(body, "registered"), stage(body, "checked_in")) == (
        shown(11),
        shown(7),
    )
    # Design–Sales: 5 meetings shown; Design–Design: 1, hidden; never the number.
    silos = body["silos"]
    design, sales = (
        silos["departments"].index("Design"),
        silos["departments"].index("Sales"),
    )
    assert silos["cells"][design][sales] == shown(5)
    assert silos["cells"][design][design] == HIDDEN
    assert (silos["total"], silos["across"]) == (shown(6), shown(5))
    # Excel: sought by the 5 designers, offered by the 3 sellers (hidden).
    excel = next(
        t for t in body["topics"]["suggested"] if t["topic"].lower() == "excel"
    )
    assert (excel["seekers"], excel["offerers"]) == (shown(5), HIDDEN)
    # The lunch alone: 3 places, hidden.
    lunch = client.get(
        f"/api/v1/insights?{PERIOD}&kind=lunch_and_learn", headers=acme.organizer
    )
    assert stage(lunch.get_json(), "registered") == HIDDEN


def test_the_api_refuses_bad_filters_and_callers(acme, client):
    def error(query: str, headers: dict | None = None) -> tuple[int, dict]:
        got = client.get(f"/api/v1/insights?{query}", headers=headers or acme.organizer)
        return got.status_code, got.get_json()["error"]

    for query, field, words in [
        ("from=2026-02-30", "from", "YYYY-MM-DD"),
        ("to=yesterday", "to", "YYYY-MM-DD"),
        ("from=2026-03-01&to=2026-02-01", "from", "on or before"),
        ("kind=hackathon", "kind", "lunch_and_learn"),
        (f"department={acme.elsewhere_department}", "department", "not one of Acme's"),
        ("department=abc", "department", "not one of Acme's"),
        (f"event={acme.elsewhere_event.id}", "event", "not one of Acme's"),
        ("period=2026", "period", "Unknown query parameter"),
    ]:
        status, err = error(query)
        assert (status, err["code"]) == (400, "invalid_input"), query
        assert list(err["fields"]) == [field], query
        assert words in err["message"], (query, err["message"])

    # Two bad values are refused together.
    status, err = error("from=nope&kind=nope")
    assert (status, set(err["fields"])) == (400, {"from", "kind"})

    assert client.get("/api/v1/insights").status_code == 401
    status, err = error(PERIOD, acme.member)
    assert (status, err["code"]) == (403, "forbidden")
    # Another organization's token reads its own (empty) figures, never Acme's,
    # and cannot name Acme's department.
    body = client.get(f"/api/v1/insights?{PERIOD}", headers=acme.other).get_json()
    assert stage(body, "registered") == shown(0)
    assert body["silos"]["total"] == shown(0)
    status, err = error(f"department={acme.design}", acme.other)
    assert (status, list(err["fields"])) == (400, ["department"])


def test_the_openapi_document_describes_insights(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    get = spec["paths"]["/api/v1/insights"]["get"]
    params = {p["name"]: p for p in get["parameters"]}
    assert set(params) == {"from", "to", "department", "kind", "event"}
    assert all(p["in"] == "query" and not p.get("required") for p in params.values())
    assert params["from"]["schema"]["format"] == "date"
    assert params["kind"]["schema"]["enum"] == list(KINDS)
    assert {"200", "400", "401", "403"} <= set(get["responses"])
    assert get["security"] == [{"bearerAuth": []}]
    schemas = spec["components"]["schemas"]
    assert set(schemas["Count"]["properties"]) == {"value", "hidden"}
    assert schemas["Count"]["properties"]["value"]["nullable"] is True
    seekers = schemas["TopicGap"]["properties"]["seekers"]
    assert "never the number" in seekers["description"]
    assert schemas["Insights"]["properties"]["computed_at"]["format"] == "date-time"
    assert "429" in get["responses"]
    assert set(schemas["Insights"]["properties"]) == {
        "filter",
        "computed_at",
        "funnel",
        "silos",
        "topics",
        "events",
        "people",
    }
