"""Schemathesis against ``/api/v1/openapi.json``: the server keeps what the API
document says, for generated valid and invalid input, with every check on.

Each operation is one test on the shared test app (SQLite, or PostgreSQL with
``TEST_DATABASE_URL``), with an organization whose events, registrations, pairs
and departments the generated ids can hit, and an admin's API token.
"""

from __future__ import annotations

import contextvars
import tempfile
from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from mixer import clock, create_app
from mixer.checkin.services import check_in
from mixer.extensions import db
from mixer.pairs.lifecycle import create_pair

MAX_EXAMPLES = 25
# Where a schema-valid request may still be refused, and with what:
# - a file's bytes decide whether its type is accepted (no schema can say "a real
#   PDF"): the documented 415;
# - an event's times must fit together (ends after it starts, sessions within
#   it, registration closing before the end), which JSON Schema cannot state: a
#   400 naming one of those fields, and only those (``cross_field_only``);
# - a member's manager must be another member of the organization and close no
#   loop in the reporting lines: a 400 naming ``manager_id``.
REFUSED_VALID = {
    "POST /api/v1/events/{event_id}/materials": "415",
    "POST /api/v1/events": "400",
    "PATCH /api/v1/events/{event_id}": "400",
    "PATCH /api/v1/members/{member_id}": "400",
}
CROSS_FIELD = {
    "starts_at",
    "ends_at",
    "registration_opens_at",
    "registration_closes_at",
    "manager_id",
}


class Isolated:
    """The app as a real server runs it: every request in a fresh context, not
    in the test's app context (as ``tests.conftest.IsolatedClient`` does)."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        return contextvars.Context().run(self.app, environ, start_response)


@pytest.fixture
def api_world(app, make_org, make_user, make_event, make_registration, token_for):
    """Acme with events of every kind, registrations (some checked in), a pair and
    departments; another organization beside it; an admin's token."""
    org = make_org(slug="acme", name="Acme")
    admin = make_user(org, role="admin", department="Sales")
    mentor = make_user(org, department="Finance", offers=["excel"])
    mentee = make_user(org, department="Sales", seeks=["excel"])
    make_user(org, role="speaker")
    start = clock.now().replace(microsecond=0)
    make_event(org, admin, title="Lunch")
    mixer = make_event(
        org,
        admin,
        kind="mentor_mixer",
        rounds=3,
        minutes_per_round=7,
        starts_at=start - timedelta(minutes=30),
        capacity=40,
    )
    make_event(org, admin, kind="workshop", status="draft", capacity=2)
    for n in range(6):
        reg = make_registration(
            mixer, role="mentor" if n % 2 else "mentee", department=f"D{n % 3}"
        )
        if n < 4:
            check_in(reg)
    create_pair(org, mentor, mentee, kind="mentoring", mentor=mentor)
    other = make_org(slug="other")
    make_event(other, make_user(other, role="organizer"), title="Not Acme's")
    db.session.commit()
    return token_for(admin, org)


def _document() -> dict:
    """The API document, read from an application built for it alone (the
    operations must be known when the tests are collected)."""
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "TESTING": True,
                "INSTANCE_PATH": folder,
                "DATABASE_URL": f"sqlite:///{folder}/unused.sqlite3",
                "SECRET_KEY": "unused",
            }
        )
        return app.test_client().get("/api/v1/openapi.json").get_json()


schema = schemathesis.openapi.from_dict(_document())
# No text may hold a NUL (PostgreSQL cannot store one; the document's description
# and docs/hardening.md say so, and tests/test_hostile_input.py checks the refusal).
schema.config.generation.update(allow_x00=False)
TOKEN: dict[str, str] = {}  # this test's API token


@schema.auth(refresh_interval=None)
class BearerToken:
    """The test's token, sent as documented (``bearerAuth``)."""

    def get(self, case, context):
        return TOKEN.get("secret", "not-yet")  # asked once at collection

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
    derandomize=True,  # the same cases every run: a failure is never a fluke
)
def test_api_keeps_its_document(case, app, api_world):
    # This test's application (also for the checks' own requests) and token.
    case.operation.schema.app = case.operation.app = Isolated(app)
    TOKEN["secret"] = api_world
    status = REFUSED_VALID.get(case.operation.label)
    if status:
        checks = case.operation.schema.config.checks_config_for(
            operation=case.operation
        )
        accepted = checks.positive_data_acceptance
        if status not in accepted.expected_statuses:
            accepted.expected_statuses = [*accepted.expected_statuses, status]
    case.call_and_validate(additional_checks=[cross_field_only])


def cross_field_only(ctx, response, case) -> bool | None:
    """A schema-valid event refused with 400 names only fields whose values must
    fit together (or the agenda's items), nothing the document could have said."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return None
    if response.status_code != 400 or case.operation.method.upper() == "GET":
        return None
    fields = set(response.json()["error"]["fields"])
    if case.operation.label not in REFUSED_VALID:
        return None
    wrong = {f for f in fields if f not in CROSS_FIELD and not f.startswith("agenda")}
    if wrong or not fields:
        raise AssertionError(f"schema-valid input refused for {wrong or fields}")
    return None
