"""LOG_FORMAT=json: one JSON line per request, request ids, errors with traceback."""

from __future__ import annotations

import json
import logging

import pytest

from mixer.observability.logs import _StderrHandler


@pytest.fixture
def json_logs(app_config):
    """An application logging JSON lines; the handler taken away afterwards."""
    app_config["LOG_FORMAT"] = "json"
    root = logging.getLogger()
    level = root.level
    yield app_config
    for handler in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(handler)
    root.setLevel(level)


def lines(capsys) -> list[dict]:
    """Every line written to stderr, parsed (each must be JSON)."""
    return [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]


def request_lines(capsys) -> list[dict]:
    return [line for line in lines(capsys) if line["logger"] == "mixer.request"]


def test_each_request_is_one_json_line_with_its_id(json_logs, client, capsys):
    capsys.readouterr()
    resp = client.get("/healthz", headers={"X-Request-Id": "edge-42.a:b"})
    assert resp.headers["X-Request-Id"] == "edge-42.a:b"  # the proxy's id kept
    (line,) = request_lines(capsys)
    assert line["request_id"] == "edge-42.a:b"
    assert line["method"] == "GET"
    assert line["path"] == "/healthz"
    assert line["endpoint"] == "main.healthz"
    assert line["status"] == 200
    assert line["client"] == "127.0.0.1"
    assert line["user_id"] is None
    assert line["level"] == "info"
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["time"].endswith("+00:00")


@pytest.mark.parametrize("given", ["", "has spaces", "x" * 129, "a\u00e9b", "<b>"])
def test_an_odd_incoming_id_is_replaced_by_a_new_one(json_logs, client, capsys, given):
    capsys.readouterr()
    resp = client.get("/healthz", headers={"X-Request-Id": given})
    new = resp.headers["X-Request-Id"]
    assert new != given and len(new) == 32 and int(new, 16) >= 0
    (line,) = request_lines(capsys)
    assert line["request_id"] == new


def test_ids_differ_and_are_sent_without_json_logs(client):
    first = client.get("/healthz").headers["X-Request-Id"]
    second = client.get("/healthz").headers["X-Request-Id"]
    assert first != second and len(first) == len(second) == 32


def test_tokens_in_paths_are_not_logged(json_logs, client, capsys):
    capsys.readouterr()
    client.get("/login/magic/s3cr3t-magic-link-token")
    out = capsys.readouterr().err
    assert "s3cr3t-magic-link-token" not in out
    lines_ = [json.loads(x) for x in out.splitlines() if x]
    (line,) = [x for x in lines_ if x["logger"] == "mixer.request"]
    assert line["path"] == "/login/magic/[token]"


def test_the_signed_in_person_is_named(json_logs, client, auth, capsys, org, make_user):
    user = make_user(org, email="mira@example.org")
    auth.login("mira@example.org")
    capsys.readouterr()
    page = client.get(f"/o/{org.slug}/")
    assert page.status_code == 200
    (line,) = request_lines(capsys)
    assert line["user_id"] == user.id
    assert line["endpoint"] == "orgs.home"


@pytest.mark.own_app
def test_an_error_is_logged_with_its_traceback_and_request_id(
    json_logs, app, client, capsys
):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer 500, as in production

    @app.get("/boom")
    def boom():
        return 1 / 0

    capsys.readouterr()
    resp = client.get("/boom")
    assert resp.status_code == 500
    rid = resp.headers["X-Request-Id"]
    found = lines(capsys)
    (error,) = [x for x in found if x["level"] == "error"]
    assert error["request_id"] == rid
    assert error["error"].startswith("ZeroDivisionError")
    assert "return 1 / 0" in error["traceback"]
    (line,) = [x for x in found if x["logger"] == "mixer.request"]
    assert (line["status"], line["request_id"], line["endpoint"]) == (500, rid, "boom")
