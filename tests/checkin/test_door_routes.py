"""Every event-scoped route, asked as a door helper and as a door-link session.

The door opens exactly the scan page and its endpoints (``DOOR_ROUTES``). A door
helper is a member of the organization: anywhere else they get no more than a
plain member does, and every refusal is 403/404 (401 from the API, which takes
tokens, not sessions). A door-link session (a phone without an account) gets
401/403/404 or the sign-in page everywhere else. A new
route with an ``event_id`` is asked here as soon as it exists (and needs its
entry in ``tests/test_authorization.py``'s ``EXPECTED``).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from mixer.checkin.door import link_token
from mixer.checkin.models import CheckinRecord, DoorLink
from mixer.extensions import db
from tests.helpers import PASSWORD
from tests.test_authorization import (
    EXPECTED,
    PUBLIC,
    _body,
    _let_in,
    _restore,
    _routes,
    _signs_in,
    _snapshot,
    _url,
    _world,
)

DOOR_ROUTES = {
    "checkin.scan",
    "checkin.scan_search",
    "checkin.scan_check_in",
    "checkin.scan_undo",
    "checkin.scan_walk_in",
    "checkin.scan_roster",
    "checkin.live_count",
}
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture
def app_config(app_config):
    """CSRF checks off: the bodies are the matrix's."""
    return {**app_config, "WTF_CSRF_ENABLED": False}


def _event_routes(app):
    return [
        (rule, method) for rule, method in _routes(app) if "event_id" in rule.arguments
    ]


def test_the_door_routes_are_the_matrix_door_entries():
    door_only = {
        endpoint
        for endpoint, access in EXPECTED.items()
        if "door" in access.allowed and "member" not in access.allowed
    }
    assert door_only == DOOR_ROUTES


def test_every_event_route_as_a_door_helper_and_a_door_link(
    app, make_org, make_user, make_event, make_registration, token_for
):
    world = _world(make_org, make_user, make_event, make_registration, token_for)
    clients = {who: app.test_client() for who in ("member", "door", "link")}
    for who in ("member", "door"):
        resp = clients[who].post(
            "/login", data={"email": world.emails[who], "password": PASSWORD}
        )
        assert resp.status_code == 302 and not _signs_in(resp)
    link = db.session.scalar(select(DoorLink))
    opened = clients["link"].get(f"/door/{link_token(link)}")
    assert opened.status_code == 302 and "/scan" in opened.headers["Location"]
    routes = _event_routes(app)
    assert len(routes) >= 40
    assert DOOR_ROUTES <= {rule.endpoint for rule, _ in routes}
    wrong: list[str] = []

    def ask(who: str, rule, method: str, snapshot: dict):
        url = _url(rule, world)
        resp = clients[who].open(
            url, method=method, buffered=True, **_body(rule.endpoint, world)
        )
        if method in WRITES and _let_in(resp):
            _restore(snapshot)
        return url, resp

    snapshot = _snapshot(app)
    for rule, method in routes:  # the door helper, beside a plain member
        url, door = ask("door", rule, method, snapshot)
        _, member = ask("member", rule, method, snapshot)
        status = door.status_code
        if rule.endpoint in DOOR_ROUTES:
            if not 200 <= status < 300:
                wrong.append(f"{method} {url} as door helper: {status}, not 2xx")
        elif _let_in(door) and not _let_in(member):
            wrong.append(f"{method} {url} as door helper: {status}, more than a member")
        elif not _let_in(door) and status not in (401, 403, 404):
            wrong.append(f"{method} {url} as door helper: {status}, not 401/403/404")

    # The world's checked-in member was checked in by the door link, this time.
    record = db.session.get(CheckinRecord, world.values["registration_id"])
    record.user_id, record.door_link_id = None, link.id
    db.session.commit()
    snapshot = _snapshot(app)
    for rule, method in routes:  # the phone that opened the door link
        url, resp = ask("link", rule, method, snapshot)
        status = resp.status_code
        if rule.endpoint in DOOR_ROUTES:
            if not 200 <= status < 300:
                wrong.append(f"{method} {url} as door link: {status}, not 2xx")
        elif EXPECTED[rule.endpoint] is PUBLIC:  # the scan page's service worker
            if status >= 400:
                wrong.append(f"{method} {url} as door link: {status}")
        elif EXPECTED[rule.endpoint].link:  # an e-mailed link, here a false one
            if status < 400 or status >= 500:
                wrong.append(f"{method} {url} as door link: {status}")
        elif status not in (401, 403, 404) and not _signs_in(resp):
            wrong.append(f"{method} {url} as door link: {status}, let in")
    assert not wrong, "\n".join(wrong)
