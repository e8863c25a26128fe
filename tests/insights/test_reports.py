"""The report PDFs for leadership, read back as text from the real PDFs, on the
hand-built organization of ``test_funnel`` (its docstring tells the story)."""

from __future__ import annotations

from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from mixer.accounts.services import set_password
from mixer.events.models import Event
from mixer.extensions import db
from mixer.insights import reports
from mixer.insights.figures import FEWER
from tests.helpers import PASSWORD
from tests.insights.test_funnel import Acme


@pytest.fixture
def acme(app, make_org, make_user, make_event, make_registration) -> Acme:
    """Acme, its organizer able to sign in with the test password."""
    world = Acme(make_org, make_user, make_event, make_registration)
    set_password(world.organizer, PASSWORD)
    db.session.commit()
    return world


def pages(response) -> list[str]:
    """The PDF's pages as text, spaces collapsed."""
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    reader = PdfReader(BytesIO(response.data))
    return [" ".join(page.extract_text().split()) for page in reader.pages]


def test_the_event_report_is_one_page_of_the_events_figures(acme, client, auth):
    auth.login(acme.organizer.email, PASSWORD)
    jan = acme.events["jan"]
    # The event's dashboard links it once the event is over, not before.
    url = f"/o/acme/insights/events/{jan.id}/report.pdf"
    assert url in client.get(f"/events/{jan.id}/dashboard").get_data(as_text=True)
    later = acme.events["jun"].id
    assert "report.pdf" not in client.get(f"/events/{later}/dashboard").get_data(
        as_text=True
    )
    response = client.get(f"/o/acme/insights/events/{jan.id}/report.pdf")
    assert (
        f'filename="acme-event-{jan.id}-report.pdf"'
        in response.headers["Content-Disposition"]
    )
    (text,) = pages(response)  # one page
    # (The header is set in capitals.)
    assert "ACME · EVENT REPORT" in text and "January Mixer" in text
    assert "Mentor Mixer · Thu 15 Jan 2026, 17:00" in text
    # 16 registered, 15 checked in (1 no-show of 16: 6 %), six pairs formed,
    # ten ratings averaging 4.0.
    assert "16 registered 15 checked in 6 % no-shows" in text
    assert "0 meetings none recorded 6 pairs formed" in text  # no connections
    assert "4.0 average rating of 5 10 ratings" in text
    # The funnel of this event alone, in stage order.
    assert "Registered 16 Checked in 15 Prompted 15 Answered 14" in text
    assert "Chose someone 13 Paired 12" in text
    # Day 90: J1, J2 and J5 of six: three pairs, "fewer than 5", no share.
    assert f"90 {FEWER} 6 —" in text
    assert "30 5 6 83 %" in text
    # Another event's testimonial is not this event's.
    assert "Words of L5" not in text

    apr = acme.events["apr"]
    (text,) = pages(client.get(f"/o/acme/insights/events/{apr.id}/report.pdf"))
    assert "Feedback workshop" in text
    assert f"{FEWER} pairs formed" in text  # one pair: A1
    # Three ratings: too few to average, and their number is hidden too.
    assert f"— average rating of 5 {FEWER} ratings" in text
    assert "“Words of L5 about apr.” — L5, Feedback workshop" in text
    assert "90 not yet 0 —" in text  # A1 is too young for day 90


def test_the_programme_report_says_the_period_and_its_figures(acme, client, auth):
    auth.login(acme.organizer.email, PASSWORD)
    response = client.get("/o/acme/insights/report.pdf?from=2026-01-01&to=2026-06-30")
    assert (
        'filename="acme-programme-2026-01-01-2026-06-30.pdf"'
        in (response.headers["Content-Disposition"])
    )
    text = " ".join(pages(response))
    assert "Is the mentoring programme working?" in text
    assert "Events from 2026-01-01 to 2026-06-30 · All departments" in text
    assert "4 events held 27 people checked in 13 % no-shows" in text
    assert f"— of pairs still meeting at 90 days {FEWER} of 6" in text
    assert "Registered 38 Checked in 27" in text
    assert "Mentors carrying the most pairs" in text and "S1" in text
    # Another organization's mixer of March is nowhere.
    assert "Elsewhere" not in text

    legal = acme.department["Legal"]
    text = " ".join(
        pages(
            client.get(f"/o/acme/insights/report.pdf?department={legal}&kind=workshop")
        )
    )
    assert "Department: Legal · Workshop events" in text


def test_reports_refuse_what_they_cannot_tell_and_whom_they_should(acme, client, auth):
    auth.login(acme.organizer.email, PASSWORD)
    for key in ("mar", "jun"):  # cancelled; later today
        response = client.get(
            f"/o/acme/insights/events/{acme.events[key].id}/report.pdf"
        )
        assert response.status_code == 409
        assert "A report exists once the event has taken place." in response.get_data(
            as_text=True
        )
    theirs = db.session.scalar(select(Event.id).where(Event.org_id == acme.other.id))
    assert client.get(f"/o/acme/insights/events/{theirs}/report.pdf").status_code == 404
    bad = client.get("/o/acme/insights/report.pdf?from=2026-07-01&to=2026-01-01")
    assert bad.status_code == 400
    assert "From" in bad.get_data(as_text=True)
    assert client.get("/o/elsewhere/insights/report.pdf").status_code == 404

    member = acme.people["S1"]
    set_password(member, PASSWORD)
    db.session.commit()
    auth.logout()
    auth.login(member.email, PASSWORD)
    jan = acme.events["jan"].id
    assert client.get(f"/o/acme/insights/events/{jan}/report.pdf").status_code == 403
    assert client.get("/o/acme/insights/report.pdf").status_code == 403


def test_percent_says_a_dash_for_what_is_hidden():
    assert reports.percent(None) == "—"
    assert reports.percent(0.8333) == "83 %"
