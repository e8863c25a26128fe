"""Anonymous visitors learn nothing from ids: a page of a real event (pair,
registration, ask …) and of one that does not exist give the same answer."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from werkzeug.routing import IntegerConverter

from mixer.extensions import db

MISSING_INT = 999_999


def _urls(app, real: dict[str, str]):
    """(rule, URL with real ids, URL with missing ids) for every GET page whose
    path names something by number or slug."""
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule.startswith(("/api", "/static")):
            continue
        ints = {
            name
            for name, conv in rule._converters.items()
            if isinstance(conv, IntegerConverter)
        }
        if not ints and "slug" not in rule.arguments:
            continue
        have = {a: real.get(a, "1") for a in rule.arguments}
        fake = {
            a: str(MISSING_INT) if a in ints else ("nobody" if a == "slug" else v)
            for a, v in have.items()
        }
        with app.test_request_context():
            yield rule.rule, _build(app, rule, have), _build(app, rule, fake)


def _build(app, rule, values: dict[str, str]) -> str:
    path = rule.rule
    for name, value in values.items():
        for conv in ("int:", "path:", ""):
            path = path.replace(f"<{conv}{name}>", value)
    return path


def _answer(resp) -> tuple[int, str]:
    return resp.status_code, urlsplit(resp.headers.get("Location", "")).path


@pytest.fixture
def world(app, org, organizer, make_event, make_registration, make_user):
    event = make_event(org, organizer)
    make_registration(event, email="ada@example.org", name="Ada")
    make_user(org, name="Max Member")
    db.session.commit()
    return {"slug": org.slug, "event_id": str(event.id), "month": "2026-03"}


def test_real_and_missing_ids_look_the_same_to_anonymous_visitors(app, world):
    client = app.test_client()
    differ = []
    for rule, real, missing in _urls(app, world):
        a, b = _answer(client.get(real)), _answer(client.get(missing))
        if a != b:
            differ.append(f"{rule}: {real} → {a}, {missing} → {b}")
    assert differ == [], "\n".join(differ)
