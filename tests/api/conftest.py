"""API test helpers: tokens for people, bearer clients, a probe blueprint."""

from __future__ import annotations

import marshmallow as ma
import pytest
from flask import abort

from mixer.accounts.services import create_api_token
from mixer.extensions import db


@pytest.fixture
def make_user(make_user):
    """The shared factory, without a password unless asked (argon2 is slow)."""

    def factory(org, role: str = "member", password: str | None = None, **kw):
        return make_user(org, role=role, password=password, **kw)

    return factory


@pytest.fixture
def token_for(app):
    """``token_for(user, org, name=...)`` → a fresh bearer secret (committed)."""

    def make(user, org, name: str = "test token") -> str:
        _, secret = create_api_token(user, org, name)
        db.session.commit()
        return secret

    return make


class BearerClient:
    """The test client with ``Authorization: Bearer <secret>`` on every request."""

    def __init__(self, client, secret: str):
        self.client, self.secret = client, secret

    def _headers(self, kw):
        return {"Authorization": f"Bearer {self.secret}", **kw.pop("headers", {})}

    def get(self, url, **kw):
        return self.client.get(url, headers=self._headers(kw), **kw)

    def post(self, url, **kw):
        return self.client.post(url, headers=self._headers(kw), **kw)

    def patch(self, url, **kw):
        return self.client.patch(url, headers=self._headers(kw), **kw)

    def put(self, url, **kw):
        return self.client.put(url, headers=self._headers(kw), **kw)

    def delete(self, url, **kw):
        return self.client.delete(url, headers=self._headers(kw), **kw)


@pytest.fixture
def api_as(client, token_for):
    """``api_as(user, org)`` → a client sending that person's new token."""

    def make(user, org) -> BearerClient:
        return BearerClient(client, token_for(user, org))

    return make


def assert_error(resp, status: int, code: str | None = None) -> dict:
    """The response is a JSON error of exactly Mixer's shape; returns its body."""
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == "application/json"
    body = resp.get_json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "fields"}
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["fields"], dict)
    for name, messages in error["fields"].items():
        assert isinstance(name, str)
        assert messages and all(isinstance(m, str) for m in messages)
    if code is not None:
        assert error["code"] == code
    return error


class VenueSchema(ma.Schema):
    room = ma.fields.String(required=True)


def pytest_collection_modifyitems(items):
    """The probe adds routes: its tests get an application of their own."""
    for item in items:
        if "probe" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.own_app)


@pytest.fixture
def probe(app):
    """A throwaway API blueprint exercising the base: roles, nested input, 409, 500."""
    from mixer.accounts.api_auth import token_required
    from mixer.api import Schema, api_abort, blueprint
    from mixer.extensions import csrf

    class ThingSchema(Schema):
        title = ma.fields.String(required=True, validate=ma.validate.Length(max=20))
        capacity = ma.fields.Integer(validate=ma.validate.Range(min=1))
        venue = ma.fields.Nested(VenueSchema)
        tags = ma.fields.List(ma.fields.String())

    blp = blueprint("probe_api", __name__, "Test probe.")

    @blp.route("/things", methods=["POST"])
    @token_required("organizer")
    @blp.arguments(ThingSchema)
    @blp.response(201, ThingSchema)
    def create_thing(data):
        """Echo a thing."""
        return data

    @blp.route("/admin-only")
    @token_required("admin")
    def admin_only():
        """Admins only."""
        return {"ok": True}

    @blp.route("/conflict", methods=["POST"])
    @token_required()
    def conflict():
        """Always a conflict."""
        api_abort(
            409, "That e-mail is already registered.", fields={"email": ["Taken."]}
        )

    @blp.route("/boom")
    @token_required()
    def boom():
        """Always fails."""
        raise RuntimeError("kaboom")

    @blp.route("/teapot")
    @token_required()
    def teapot():
        """A plain abort with a description."""
        abort(418, description="I'm a teapot.")

    csrf.exempt(blp)
    app.extensions["mixer-api"].register_blueprint(blp, url_prefix="/api/v1/probe")
    return blp
