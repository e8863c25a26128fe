"""Guessing is throttled per client address: refused API tokens and badge links."""

from __future__ import annotations

import pytest

from tests.helpers import bearer


@pytest.fixture
def app_config(app_config):
    return {
        **app_config,
        "RATELIMIT_ENABLED": True,
        "API_AUTH_FAILURE_LIMIT": "5 per minute",
        "BADGE_LINK_RATE_LIMIT": "8 per minute",
    }


def test_invented_tokens_share_one_allowance_per_address(
    client, org, organizer, token_for
):
    good = token_for(organizer, org)
    answers = [
        client.get("/api/v1/events", headers=bearer(f"guess-{n}")).status_code
        for n in range(5)
    ]
    assert answers == [401] * 5
    resp = client.get("/api/v1/events", headers=bearer("guess-6"))
    assert resp.status_code == 429
    error = resp.get_json()["error"]
    assert error["code"] == "too_many_requests" and "Try again later" in error["message"]
    assert 0 < int(resp.headers["Retry-After"]) <= 60
    # Even a real token waits: a 200 would confirm a guess.
    assert client.get("/api/v1/events", headers=bearer(good)).status_code == 429
    # Another address has its own allowance, and valid tokens cost nothing.
    other = {"REMOTE_ADDR": "203.0.113.9"}
    for _ in range(8):
        ok = client.get("/api/v1/events", headers=bearer(good), environ_base=other)
        assert ok.status_code == 200
    refused = client.get("/api/v1/events", headers=bearer("x"), environ_base=other)
    assert refused.status_code == 401


def test_badge_links_are_throttled_per_address(client, org, make_event):
    make_event(org)
    answers = [client.get(f"/c/guess{n}").status_code for n in range(8)]
    assert 429 not in answers
    resp = client.get("/c/guess-9")
    assert resp.status_code == 429
    assert "Too many attempts in a short time" in resp.get_data(as_text=True)
    assert int(resp.headers["Retry-After"]) > 0
    other = client.get("/c/guess-9", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert other.status_code != 429
