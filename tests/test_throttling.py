"""Guessing is throttled per client address: refused API tokens and badge links."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import uuid

import pytest

from mixer import create_app
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
    assert (
        error["code"] == "too_many_requests" and "Try again later" in error["message"]
    )
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


# ---------------------------------------------------------------------------
# Where the counters live

SHARED_CHECK = """
import sys
from mixer import create_app
app = create_app({
    "TESTING": True, "SECRET_KEY": "test", "DATABASE_URL": sys.argv[1],
    "INSTANCE_PATH": sys.argv[2], "RATELIMIT_STORAGE_URI": sys.argv[3],
    "RATELIMIT_KEY_PREFIX": sys.argv[4], "BADGE_LINK_RATE_LIMIT": "5 per minute",
})
client = app.test_client()
codes = [client.get(f"/c/guess{n}").status_code for n in range(int(sys.argv[5]))]
print(" ".join(map(str, codes)))
"""


def _redis_url() -> str:
    try:
        socket.create_connection(("127.0.0.1", 6379), 1).close()
    except OSError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    return "redis://127.0.0.1:6379/15"


def _process(app_config, storage: str, prefix: str, requests: int) -> list[int]:
    """Badge-link answers from an application in a process of its own."""
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            SHARED_CHECK,
            app_config["DATABASE_URL"],
            app_config["INSTANCE_PATH"],
            storage,
            prefix,
            str(requests),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return [int(code) for code in out.stdout.split()]


@pytest.mark.once  # Redis shared by two processes: the SQLite pass only
def test_two_processes_sharing_redis_share_one_limit(app, app_config):
    storage, prefix = _redis_url(), f"mixer-test-{uuid.uuid4().hex}"
    first = _process(app_config, storage, prefix, 3)
    second = _process(app_config, storage, prefix, 3)
    assert 429 not in first
    assert 429 not in second[:2] and second[2] == 429  # 3 + 2 = the 5 allowed


def test_memory_storage_is_refused_in_production(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith("MIXER_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("MIXER_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("MIXER_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-real-secret")
    with pytest.raises(RuntimeError, match="RATELIMIT_STORAGE_URI=memory://"):
        create_app()
    monkeypatch.setenv("MIXER_RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/15")
    assert create_app().config["RATELIMIT_STORAGE_URI"].startswith("redis://")


def test_memory_storage_is_a_warning_outside_production(monkeypatch, tmp_path, caplog):
    for name in list(os.environ):
        if name.startswith("MIXER_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("MIXER_INSTANCE_PATH", str(tmp_path))
    with caplog.at_level(logging.WARNING, logger="mixer.config"):
        create_app()
    [record] = [r for r in caplog.records if r.name == "mixer.config"]
    assert "multiplied" in record.getMessage()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="mixer.config"):
        create_app({"TESTING": True})
    assert [r for r in caplog.records if r.name == "mixer.config"] == []
