"""The audit trail page: newest first, filtered, paged at a fixed cost, read only;
and ``entries`` / ``actors`` behind it."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from mixer import clock
from mixer.audit import services
from mixer.extensions import db
from tests.events.test_dashboard_queries import counting_queries


@pytest.fixture
def trail(frozen, org, make_org, make_user):
    """Acme's trail over four days (2 to 5 March 2026): Ada (admin) changed
    roles, Olga (organizer) published events, Mixer deactivated an account; and
    an entry of Globex, which Acme never sees."""
    ada = make_user(org, role="admin", name="Ada Admin")
    olga = make_user(org, role="organizer", name="Olga Organizer")
    globex = make_org(slug="globex", name="Globex")
    services.record(globex.id, "member.removed", "Globex secret", actor=ada)
    for day in range(3):
        services.record(
            org.id,
            "member.role_changed",
            f"Changed Mira's role on day {day}",
            subject=("membership", 40 + day),
            details={"changes": {"role": ["member", "organizer"]}},
            actor=ada,
        )
        services.record(
            org.id,
            "event.published",
            f"Published event {day}",
            subject=("event", day + 1),
            actor=olga,
        )
        clock.advance(timedelta(days=1))
    services.record(org.id, "account.deactivated", "Deactivated Zed")
    db.session.commit()
    return org, ada, olga


def _rows(html: str) -> list[str]:
    """The summaries of the entries a page lists, in order."""
    return re.findall(r'<th scope="row">([^<]+)<br>', html)


def test_admins_read_the_trail_newest_first_and_filter_it(client, auth, trail):
    org, ada, olga = trail
    auth.login(ada.email)
    page = client.get("/o/acme/audit")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert _rows(html) == [
        "Deactivated Zed",
        "Published event 2",
        "Changed Mira&#39;s role on day 2",
        "Published event 1",
        "Changed Mira&#39;s role on day 1",
        "Published event 0",
        "Changed Mira&#39;s role on day 0",
    ]
    assert "Globex" not in html
    # Who, when (UTC, said so), what in words, on what, before → after.
    assert '<td data-label="Who">Mixer</td>' in html
    assert "04 Mar 2026, 09:00 UTC" in html
    assert "Changed a member&#39;s role" in html
    assert "Member #42" in html and "Event #3" in html
    assert "role: member → organizer" in html
    # Read only: no form that posts, and the route takes nothing but GET.
    assert 'method="post"' not in html.split("<h1>Audit trail</h1>")[1]
    (rule,) = [
        r
        for r in client.application.url_map.iter_rules()
        if r.endpoint == "audit.index"
    ]
    assert rule.methods == {"GET", "HEAD", "OPTIONS"}
    # The admin menu links here.
    assert 'href="/o/acme/audit" aria-current="page">Audit trail</a>' in html

    # By action, by person (Olga and Ada are offered, Mixer is not a person),
    # by days (both inclusive).
    html = client.get("/o/acme/audit?action=event.published").get_data(as_text=True)
    assert _rows(html) == [
        "Published event 2",
        "Published event 1",
        "Published event 0",
    ]
    assert f'<option value="{olga.id}">Olga Organizer</option>' in html
    assert ">Ada Admin</option>" in html
    html = client.get(f"/o/acme/audit?actor={ada.id}&since=2026-03-03&until=2026-03-03")
    assert _rows(html.get_data(as_text=True)) == ["Changed Mira&#39;s role on day 1"]
    html = client.get("/o/acme/audit?since=2026-03-06").get_data(as_text=True)
    assert "Nothing matches this filter." in html

    # Mistakes are shown under their fields, with what was typed.
    wrong = client.get("/o/acme/audit?since=2026-03-04&until=2026-03-02&action=x")
    html = wrong.get_data(as_text=True)
    assert wrong.status_code == 400
    assert "This day is before the first day." in html
    assert "Not a valid choice." in html
    assert 'value="2026-03-02"' in html
    assert _rows(html) == []
    typo = client.get("/o/acme/audit?since=yesterday")
    assert typo.status_code == 400
    assert 'value="yesterday"' in typo.get_data(as_text=True)


def test_the_trail_pages_by_fifty_at_the_same_cost(client, auth, trail):
    org, ada, _olga = trail
    auth.login(ada.email)
    url = "/o/acme/audit?action=member.role_changed"
    with counting_queries() as few:
        assert client.get(url).status_code == 200
    for n in range(117):
        services.record(org.id, "member.role_changed", f"Bulk {n:03d}", actor=ada)
    db.session.commit()
    with counting_queries() as many:
        html = client.get(url).get_data(as_text=True)
    assert len(many) == len(few)
    rows = _rows(html)
    assert (len(rows), rows[0], rows[-1]) == (50, "Bulk 116", "Bulk 067")
    assert "Page 1 of 3" in html
    # The next page's link keeps the filter.
    assert (
        'href="/o/acme/audit?page=2&amp;action=member.role_changed" rel="next"' in html
    )
    last = client.get(url + "&page=3").get_data(as_text=True)
    assert _rows(last)[-1] == "Changed Mira&#39;s role on day 0"
    assert len(_rows(last)) == 20


def test_entries_and_actors_read_one_organization(trail):
    org, ada, olga = trail
    assert services.actors(org.id) == [
        (ada.id, "Ada Admin"),
        (olga.id, "Olga Organizer"),
    ]
    page = services.entries(org.id, since=date(2026, 3, 4), per_page=2)
    assert [e.summary for e in page.items] == ["Deactivated Zed", "Published event 2"]
    assert (page.total, page.pages) == (3, 2)
    assert services.entries(org.id, until=date(2026, 3, 1)).total == 0
    assert services.label("member.role_changed") == "Changed a member's role"
    assert services.label("unknown.action") == "unknown.action"
