"""``g.defer``: a value left as a loader is loaded once, on first use, and is
then an ordinary attribute of ``g`` (mixer.web.RequestGlobals)."""

from __future__ import annotations

import pytest
from flask import g


def test_a_deferred_value_loads_once_on_first_use(app):
    calls: list[str] = []

    def load() -> str:
        calls.append("org")
        return "the org"

    with app.test_request_context("/"):
        g.defer(org=load)
        assert calls == []
        assert "org" in g
        assert g.org == "the org"
        assert g.get("org") == "the org"
        assert calls == ["org"]  # loaded once
        g.org = "replaced"  # set like any other attribute
        assert g.org == "replaced" and calls == ["org"]


def test_get_loads_and_unknown_names_stay_missing(app):
    with app.test_request_context("/"):
        g.defer(user=lambda: "someone")
        assert g.get("user") == "someone"
        assert g.get("nothing", 3) == 3
        assert "nothing" not in g
        with pytest.raises(AttributeError):
            _ = g.nothing


def test_an_api_view_reading_the_org_loads_it_by_primary_key(
    app, client, make_org, make_user, token_for
):
    """Authentication reads ids (one joined query); a view that reads the
    organization, the person or the membership loads each once by key."""
    from tests.events.test_dashboard_queries import counting_queries
    from tests.helpers import bearer

    org = make_org(slug="acme", name="Acme")
    olga = make_user(org, role="organizer", email="olga@acme.example.org")
    secret = token_for(olga, org)
    client.get("/api/v1/", headers=bearer(secret))  # marks the token used
    with counting_queries() as seen:
        answer = client.get("/api/v1/", headers=bearer(secret))
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["organization"]["slug"] == "acme"
    assert body["user"]["email"] == "olga@acme.example.org"
    assert body["user"]["role"] == "organizer"
    assert "FROM api_token" in seen[0] and "JOIN organization" in seen[0]
    loaded = sorted(s.split("FROM")[1].split()[0].strip('"') for s in seen[1:])
    assert loaded == ["api_token", "membership", "organization", "user"], seen
