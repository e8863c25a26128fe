"""No 5xx for any input, and nothing written on refusal.

The HTML forms are found by rendering every page an organizer can open and
reading its ``<form method="post">`` elements, and the API bodies come from the
OpenAPI document, so a new form or endpoint is fuzzed without touching this file.
Hypothesis puts one hostile value (NUL, lone surrogate, 5,000-digit integer,
10,000-deep JSON, dates that overflow in UTC, huge strings, internationalised
e-mail addresses, negative and huge numbers) into one field of one form or body.

API path ids are drawn from a real one and two beyond every database's range
(``2**31`` and 20 digits), which the integer URL converter turns into 404s
(``mixer.urls.IdConverter``; tests/test_ids.py checks each route).
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from werkzeug.routing import IntegerConverter

from mixer.extensions import csrf, db
from mixer.hostile import MAX_INT_DIGITS, MAX_JSON_DEPTH
from mixer.orgs.models import Department
from tests.helpers import bearer, csrf_from

# Values no field may turn into a 500. Surrogates cannot travel in a form body
# (they are not UTF-8); the JSON bodies get them.
TEXT_VALUES = [
    "a\x00b",
    "\x00",
    "9" * 5000,
    "-" + "9" * 5000,
    "2147483648",
    "-2147483649",
    "99999999999999999999",
    "-1",
    "0",
    "1e400",
    "NaN",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00",
    "9999-12-31T23:59",
    "0001-01-01",
    "9999-12-31",
    "x" * 100_000,
    "用户@例子.广告",
    "zoë@exämple.org",
    "<script>alert(1)</script>",
]
JSON_VALUES: list[Any] = [
    *TEXT_VALUES,
    "\ud800",
    "ok\udfffok",
    10**30,
    -(10**30),
    2**31,
    2**63,
    -1,
    1e308,
    [],
    {},
    None,
    True,
]
# Bodies that are hostile as a whole (raw bytes, not a dict to fill).
RAW_BODIES = [
    b"[" * 10_000 + b"]" * 10_000,
    b'{"a":' * 5_000 + b"1" + b"}" * 5_000,
    b'{"title": ' + b"9" * 5000 + b"}",
    b'{"title": "\\ud800"}',
    b'{"title": "a\\u0000b"}',
    b'{"capacity": NaN}',
    b'{"capacity": 1e999}',
    b"\xff\xfe not json",
]
SKIP_ACTIONS = ("/logout",)  # signing out would end the organizer's session


class _Forms(HTMLParser):
    """The POST forms of a page: action, field names and their current values."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self._form: dict[str, Any] | None = None
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "option":
            return self._option(a)
        if tag == "form" and a.get("method", "get").lower() == "post":
            self._form = {"action": a.get("action", ""), "fields": {}, "files": []}
            self.forms.append(self._form)
        if self._form is None or not a.get("name"):
            return
        fields, name = self._form["fields"], a["name"]
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind == "file":
                self._form["files"].append(name)
            elif kind in ("checkbox", "radio"):
                if "checked" in a or name not in fields:
                    fields[name] = a.get("value", "on")
            elif kind not in ("submit", "button", "image", "reset"):
                fields[name] = a.get("value", "")
        elif tag == "textarea":
            fields[name], self._textarea = "", name
        elif tag == "select":
            fields.setdefault(name, "")
            self._select = name
        elif tag == "button" and a.get("value"):
            fields.setdefault(name, a["value"])

    def _option(self, a: dict[str, str]) -> None:
        """The selected option, else the first one with a value."""
        fields = self._form["fields"] if self._form else {}
        if self._select and ("selected" in a or not fields.get(self._select)):
            fields[self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._form is not None and self._textarea:
            self._form["fields"][self._textarea] += data


def row_counts() -> dict[str, int]:
    """Rows in every table: what a refused request must leave as it was."""
    db.session.rollback()
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


@pytest.fixture
def world(app, org, organizer, make_user, make_event, make_registration):
    """An organizer with an event of each kind, registrations and a member."""
    member = make_user(org, name="Max Member")
    admin = make_user(org, role="admin", name="Ada Admin")
    events = [
        make_event(org, organizer, kind=kind, title=f"A {kind}")
        for kind in ("lunch_and_learn", "workshop", "mentor_mixer")
    ]
    for event in events:
        make_registration(event, email=member.email, name=member.name)
    db.session.commit()
    return {
        "slug": org.slug,
        "event_id": str(events[0].id),
        "registration_id": "1",
        "membership_id": str(member.membership_in(org).id),
        "organizer": organizer,
        "admin": admin,
        "org": org,
        "events": events,
    }


def _pages(app, world) -> list[str]:
    """Every GET page whose path arguments a world can fill (ids, the slug)."""
    pages = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule.startswith(("/api", "/static")):
            continue
        if re.search(r"\.(pdf|csv|ics|json)$|/download$|/progress$", rule.rule):
            continue
        values = {}
        for name, conv in rule._converters.items():
            if name in world:
                values[name] = world[name]
            elif isinstance(conv, IntegerConverter):
                values[name] = "1"
            else:
                break
        else:
            path = rule.rule
            for name, value in values.items():
                path = re.sub(rf"<(\w+:)?{name}>", value, path)
            for event in world["events"]:
                pages.append(path.replace(world["event_id"], str(event.id)))
    return sorted(set(pages))


@pytest.fixture
def forms(app, world, client, auth) -> list[dict[str, Any]]:
    """The POST forms an admin is shown, each once (by action and fields)."""
    auth.login(world["admin"].email)
    seen: dict[tuple, dict[str, Any]] = {}
    for page in _pages(app, world):
        resp = client.get(page)
        if resp.status_code != 200 or "html" not in resp.content_type:
            continue
        parser = _Forms()
        parser.feed(resp.get_data(as_text=True))
        for form in parser.forms:
            action = form["action"] or page
            if action.startswith(SKIP_ACTIONS) or "csrf_token" not in form["fields"]:
                continue
            form["action"] = action
            key = (re.sub(r"\d+", "N", action), tuple(sorted(form["fields"])))
            seen.setdefault(key, form)
    assert len(seen) >= 30, f"only {len(seen)} forms found: is the admin in?"
    return list(seen.values())


def _post_form(client, form: dict[str, Any], field: str, value: str):
    data = dict(form["fields"])
    data[field] = value
    return client.post(form["action"], data=data)


def test_the_guard_answers_each_kind_of_hostile_input(
    client, org, organizer, token_for
):
    """The plain cases, one by one, with the message people see."""
    secret = token_for(organizer, org)
    before = row_counts()
    nul = client.get("/api/v1/events?kind=a%00b", headers=bearer(secret))
    assert nul.status_code == 400
    assert "NUL character" in nul.get_json()["error"]["message"]
    assert nul.get_json()["error"]["fields"] == {
        "kind": [nul.get_json()["error"]["message"]]
    }
    for body, words in [
        (b'{"title": "\\ud800"}', "lone surrogate"),
        (b"[" * 10_000 + b"]" * 10_000, f"at most {MAX_JSON_DEPTH} levels"),
        (b"[" * 100 + b"]" * 100, f"at most {MAX_JSON_DEPTH} levels"),
        (b'{"capacity": ' + b"9" * 5000 + b"}", "not valid JSON"),
        (b'{"capacity": NaN}', "not valid JSON"),
        (b'{"capacity": 1e999}', "not valid JSON"),
    ]:
        resp = client.post(
            "/api/v1/events",
            data=body,
            content_type="application/json",
            headers=bearer(secret),
        )
        assert resp.status_code == 400, body[:40]
        assert words in resp.get_json()["error"]["message"]
    page = client.get("/login?next=" + "9" * (MAX_INT_DIGITS + 1))
    assert page.status_code == 400
    assert f"more than {MAX_INT_DIGITS} digits" in page.get_data(as_text=True)
    assert row_counts() == before


@pytest.mark.parametrize(
    ("starts", "ends"),
    [
        ("0001-01-01T00:00:00+14:00", "0001-01-01T01:00:00+14:00"),
        ("9999-12-31T22:59:59-14:00", "9999-12-31T23:59:59-14:00"),
    ],
)
def test_dates_that_overflow_in_utc_are_field_errors(
    client, org, organizer, token_for, starts, ends
):
    headers = bearer(token_for(organizer, org))
    before = row_counts()
    resp = client.post(
        "/api/v1/events",
        json={
            "kind": "lunch_and_learn",
            "title": "Out of range",
            "starts_at": starts,
            "ends_at": ends,
            "timezone": "Pacific/Kiritimati",
            "capacity": 10,
        },
        headers=headers,
    )
    assert resp.status_code == 400
    error = resp.get_json()["error"]
    assert "starts_at" in error["fields"] or "ends_at" in error["fields"]
    assert "out of range" in error["message"]
    assert row_counts() == before


def test_a_form_date_that_overflows_in_utc_is_shown_on_its_field(
    client, auth, org, organizer
):
    auth.login(organizer.email)
    page = client.get(f"/o/{org.slug}/events/new").get_data(as_text=True)
    before = row_counts()
    resp = client.post(
        f"/o/{org.slug}/events/new",
        data={
            "csrf_token": csrf_from(page),
            "kind": "lunch_and_learn",
            "title": "Out of range",
            "starts_at": "0001-01-01T00:00",
            "ends_at": "0001-01-01T01:00",
            "timezone": "Asia/Tokyo",  # +09:18:59 (local mean time) in year 1
            "capacity": "10",
        },
    )
    assert resp.status_code == 400
    assert "out of range once shifted to UTC" in resp.get_data(as_text=True)
    assert row_counts() == before


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,  # the same examples on every run: a failure reproduces
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    form_at=st.integers(0, 999),
    field_at=st.integers(0, 99),
    value_at=st.integers(0, len(TEXT_VALUES) - 1),
)
def test_no_form_answers_5xx_to_hostile_values(
    client, forms, form_at, field_at, value_at
):
    # Indexes, not values: a failure's report stays short (one value is 100 kB).
    form_at, value = form_at % len(forms), TEXT_VALUES[value_at]
    form = forms[form_at]
    names = sorted(n for n in form["fields"] if n != "csrf_token") or ["csrf_token"]
    field = names[field_at % len(names)]
    before = row_counts()
    resp = _post_form(client, form, field, value)
    assert resp.status_code < 500, (form["action"], field, value[:40])
    if resp.status_code >= 400:
        assert row_counts() == before, (form["action"], field, value[:40])


def test_every_form_survives_a_nul_in_every_field(client, forms):
    """Deterministic: each form, each field, the NUL (the commonest 500)."""
    for form in forms:
        for field in form["fields"]:
            if field == "csrf_token":
                continue
            before = row_counts()
            resp = _post_form(client, form, field, "a\x00b")
            assert resp.status_code == 400, (form["action"], field)
            assert row_counts() == before


# ---------------------------------------------------------------------------
# The API, from its own document


def _operations(client) -> tuple[list[tuple[str, str, dict[str, Any]]], dict]:
    """(method, path template, operation) for every JSON body or query the API
    documents."""
    doc = client.get("/api/v1/openapi.json").get_json()
    found = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method not in ("get", "post", "patch", "put", "delete"):
                continue
            body = op.get("requestBody", {}).get("content", {})
            query = [p for p in op.get("parameters", []) if p.get("in") == "query"]
            if "application/json" in body or query:
                found.append((method, path, op))
    return found, doc


def _schema(doc: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _base_body(doc: dict, op: dict) -> dict[str, Any]:
    content = op["requestBody"]["content"]["application/json"]
    schema = _schema(doc, content.get("schema", {}))
    body = dict(content.get("example") or schema.get("example") or {})
    for name, prop in schema.get("properties", {}).items():
        if name not in body and "example" in prop:
            body[name] = prop["example"]
    return body


@pytest.fixture
def api(client, world, token_for):
    secret = token_for(world["admin"], world["org"])
    operations, doc = _operations(client)
    assert len(operations) >= 8, "the API document lost its operations"
    return {"headers": bearer(secret), "operations": operations, "doc": doc}


PATH_IDS = ("1", str(2**31), "99999999999999999999")


def _path(template: str, world, path_id: str = "1") -> str:
    path = template.replace("{event_id}", world["event_id"])
    return re.sub(r"\{\w+\}", path_id, path)


@settings(
    max_examples=80,
    deadline=None,
    derandomize=True,  # the same examples on every run: a failure reproduces
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    op_at=st.integers(0, 999),
    raw_body=st.booleans(),
    field_at=st.integers(0, 99),
    value_at=st.integers(0, len(JSON_VALUES) - 1),
    raw_at=st.integers(0, len(RAW_BODIES) - 1),
    path_id=st.sampled_from(PATH_IDS),
)
def test_no_api_body_or_query_answers_5xx(
    client, world, api, op_at, raw_body, field_at, value_at, raw_at, path_id
):
    op_at, raw = op_at % len(api["operations"]), RAW_BODIES[raw_at]
    method, template, op = api["operations"][op_at]
    path = _path(template, world, path_id)
    before = row_counts()
    content = op.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        body = _base_body(api["doc"], op)
        schema = _schema(api["doc"], content["application/json"].get("schema", {}))
        fields = sorted(set(body) | set(schema.get("properties", {})))
        if fields and not raw_body:
            body[fields[field_at % len(fields)]] = JSON_VALUES[value_at]
            raw = json.dumps(body).encode()
        resp = client.open(
            path,
            method=method.upper(),
            data=raw,
            content_type="application/json",
            headers=api["headers"],
        )
    else:
        params = [p["name"] for p in op["parameters"] if p.get("in") == "query"]
        resp = client.open(
            path,
            method=method.upper(),
            query_string={
                params[field_at % len(params)]: TEXT_VALUES[value_at % len(TEXT_VALUES)]
            },
            headers=api["headers"],
        )
    assert resp.status_code < 500, (method, path, resp.get_data(as_text=True)[:300])
    if resp.status_code >= 400:
        assert row_counts() == before, (method, path)


def test_an_id_beyond_the_databases_range_in_a_form_is_a_field_error(
    client, auth, world
):
    """A select of members bounded like every id: 2**31 (PostgreSQL's limit) and
    2**64 (SQLite's) are shown on the field, and nothing is stored."""
    auth.login(world["admin"].email)
    event_id = world["event_id"]
    page = client.get(f"/events/{event_id}/speakers").get_data(as_text=True)
    session_id = str(world["events"][0].sessions[0].id)
    before = row_counts()
    for number in (2**31, 2**64):
        resp = client.post(
            f"/events/{event_id}/speakers/add",
            data={
                "csrf_token": csrf_from(page),
                "member": str(number),
                "session_id": session_id,
            },
        )
        assert resp.status_code == 422, number
        assert 'aria-invalid="true"' in resp.get_data(as_text=True)
    assert row_counts() == before


@pytest.mark.own_app
def test_a_value_the_database_refuses_is_a_400_and_rolled_back(app, client, org):
    """The net under the forms' bounds: the database's own refusal of a value
    (PostgreSQL: integer out of range; SQLite: beyond 64 bits) after a write in
    the same request is a 400 with the usual message, and the write is undone."""

    @app.post("/test-unstorable")
    @csrf.exempt
    def unstorable():
        db.session.add(Department(org_id=org.id, name="Written before the refusal"))
        db.session.flush()
        db.session.execute(text("SELECT CAST(:n AS INTEGER)"), {"n": 2**64})
        return "stored"

    before = row_counts()
    resp = client.post("/test-unstorable", headers={"Accept": "application/json"})
    assert resp.status_code == 400
    assert "too large (or too long) to be stored" in resp.get_json()["error"]["message"]
    assert row_counts() == before
