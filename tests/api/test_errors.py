"""Every API error has one shape: {"error": {"code", "message", "fields"}}."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from mixer import create_app
from mixer.accounts.models import ApiToken
from mixer.extensions import db
from tests.api.conftest import assert_error


@pytest.fixture
def organizer_api(make_org, make_user, api_as):
    org = make_org()
    return api_as(make_user(org, role="organizer"), org)


def test_validation_error_names_each_field(organizer_api, probe):
    resp = organizer_api.post(
        "/api/v1/probe/things", json={"title": "x" * 21, "capacity": 0}
    )
    error = assert_error(resp, 400, "invalid_input")
    assert set(error["fields"]) == {"title", "capacity"}
    assert error["fields"]["title"] == ["Longer than maximum length 20."]
    assert "title" in error["message"] and "capacity" in error["message"]


def test_missing_required_field(organizer_api, probe):
    error = assert_error(organizer_api.post("/api/v1/probe/things", json={}), 400)
    assert error["fields"] == {"title": ["Missing data for required field."]}


def test_nested_fields_get_dotted_names(organizer_api, probe):
    resp = organizer_api.post(
        "/api/v1/probe/things",
        json={"title": "ok", "venue": {"room": 5}, "tags": ["a", 7]},
    )
    error = assert_error(resp, 400, "invalid_input")
    assert error["fields"] == {
        "venue.room": ["Not a valid string."],
        "tags.1": ["Not a valid string."],
    }


def test_unknown_fields_are_refused_by_name(organizer_api, probe):
    resp = organizer_api.post(
        "/api/v1/probe/things", json={"title": "ok", "titel": "typo", "colour": 1}
    )
    error = assert_error(resp, 400, "invalid_input")
    assert error["fields"] == {
        "titel": ["Unknown field."],
        "colour": ["Unknown field."],
    }
    assert "titel" in error["message"]


def test_unknown_field_on_a_real_endpoint_changes_nothing(
    client, make_org, make_user, token_for
):
    org = make_org()
    secret = token_for(make_user(org), org, name="before")
    token_id = db.session.scalar(select(ApiToken.id))
    resp = client.patch(
        f"/api/v1/tokens/{token_id}",
        json={"name": "after", "revoked_at": None},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert assert_error(resp, 400)["fields"] == {"revoked_at": ["Unknown field."]}
    db.session.expire_all()
    assert db.session.scalar(select(ApiToken.name)) == "before"


def test_body_that_is_not_an_object(organizer_api, probe):
    error = assert_error(organizer_api.post("/api/v1/probe/things", json=[1, 2]), 400)
    assert error["fields"] == {}
    assert "Invalid input type" in error["message"]


def test_invalid_json_body(organizer_api, probe):
    resp = organizer_api.post(
        "/api/v1/probe/things",
        data='{"title": "x",}',
        headers={"Content-Type": "application/json"},
    )
    error = assert_error(resp, 400, "invalid_json")
    assert "not valid JSON" in error["message"]
    assert "line 1" in error["message"]


def test_non_json_body_is_415(organizer_api, probe):
    resp = organizer_api.post("/api/v1/probe/things", data={"title": "x"})
    error = assert_error(resp, 415, "unsupported_media_type")
    assert "application/json" in error["message"]
    assert "application/x-www-form-urlencoded" in error["message"]
    no_type = organizer_api.post("/api/v1/probe/things", data='{"title": "x"}')
    assert_error(no_type, 415)


def test_no_body_where_one_is_required_is_a_400_saying_so(organizer_api, probe):
    """A required body left out is refused before any field is read; an empty
    object is a body, whose missing fields are then named."""
    error = assert_error(
        organizer_api.post("/api/v1/probe/things"), 400, "missing_body"
    )
    assert error["message"] == (
        "POST /api/v1/probe/things needs a JSON body "
        "(Content-Type: application/json); none was sent."
    )
    error = assert_error(
        organizer_api.post("/api/v1/probe/things", json={}), 400, "invalid_input"
    )
    assert error["fields"] == {"title": ["Missing data for required field."]}


def test_json_with_charset_is_accepted(organizer_api, probe):
    resp = organizer_api.post(
        "/api/v1/probe/things",
        data=json.dumps({"title": "ok"}),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert resp.status_code == 201
    assert resp.get_json() == {"title": "ok"}


def test_unknown_path_is_404_json(organizer_api):
    error = assert_error(organizer_api.get("/api/v1/no-such-thing"), 404, "not_found")
    assert error["fields"] == {}


def test_unknown_object_is_404_json(organizer_api):
    error = assert_error(organizer_api.get("/api/v1/members/424242"), 404, "not_found")
    assert "424242" in error["message"]


def test_wrong_method_is_405_with_allow(organizer_api):
    resp = organizer_api.post("/api/v1/members")
    error = assert_error(resp, 405, "method_not_allowed")
    assert "POST is not allowed here; use GET" in error["message"]
    assert "GET" in resp.headers["Allow"]


def test_conflict_is_409_with_fields(organizer_api, probe):
    error = assert_error(organizer_api.post("/api/v1/probe/conflict"), 409, "conflict")
    assert error["fields"] == {"email": ["Taken."]}
    assert error["message"] == "That e-mail is already registered."


def test_plain_abort_keeps_its_description(organizer_api, probe):
    error = assert_error(organizer_api.get("/api/v1/probe/teapot"), 418)
    assert error["code"] == "i'm_a_teapot"
    assert error["message"] == "I'm a teapot."


def test_body_too_large_is_413(app, organizer_api, probe):
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    resp = organizer_api.post("/api/v1/probe/things", json={"title": "x" * 2_000_000})
    error = assert_error(resp, 413, "request_entity_too_large")
    assert "1 MB" in error["message"]


def test_unexpected_exception_is_500_json(app, organizer_api, probe):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    error = assert_error(organizer_api.get("/api/v1/probe/boom"), 500, "internal_error")
    assert "kaboom" not in error["message"]


def test_rate_limit_is_429_json(app_config, make_org, make_user):
    app = create_app(
        {**app_config, "RATELIMIT_ENABLED": True, "API_RATE_LIMIT": "3/minute"}
    )
    with app.app_context():
        from mixer.accounts.services import create_api_token
        from mixer.orgs.services import add_member, create_organization

        org = create_organization("ratelimited", "Rate Limited")
        user = add_member(org, "rl@example.org", "Rita").user
        _, secret = create_api_token(user, org, "t")
        db.session.commit()
        client = app.test_client()
        headers = {"Authorization": f"Bearer {secret}"}
        codes = [client.get("/api/v1/", headers=headers).status_code for _ in range(3)]
        assert codes == [200, 200, 200]
        # the limit is shared across endpoints, per token
        resp = client.get("/api/v1/org", headers=headers)
        error = assert_error(resp, 429, "too_many_requests")
        assert "3 per 1 minute" in error["message"]
        assert int(resp.headers["Retry-After"]) > 0
        # another token has its own allowance
        _, other = create_api_token(user, org, "t2")
        db.session.commit()
        assert (
            client.get(
                "/api/v1/", headers={"Authorization": f"Bearer {other}"}
            ).status_code
            == 200
        )
        db.session.remove()
        db.engine.dispose()


def test_html_pages_keep_html_errors(client):
    resp = client.get("/no-such-page")
    assert resp.status_code == 404
    assert resp.mimetype == "text/html"


def test_json_clients_get_json_errors_outside_the_api(client):
    resp = client.get("/no-such-page", headers={"Accept": "application/json"})
    assert_error(resp, 404, "not_found")
