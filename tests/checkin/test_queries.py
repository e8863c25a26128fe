"""Statement budget of a check-in, counted on the real engine (both databases):
one authenticated lookup and one conditional ``UPDATE … RETURNING``, plus the
row saying who made it (and the scan's nonce when one is sent). On PostgreSQL
the UPDATE and the record of who made it are one statement (a data-modifying
``WITH``); SQLite has none, and sends two."""

from __future__ import annotations

from sqlalchemy import select

from mixer.checkin.models import CheckinRecord
from mixer.events.models import Registration
from mixer.extensions import db
from tests.checkin.conftest import count_checked_in
from tests.events.test_dashboard_queries import counting_queries
from tests.helpers import bearer, csrf_from

BUDGET = 4


def _post(client, secret, **body):
    return client.post("/api/v1/checkins", json=body, headers=bearer(secret))


def _kinds(statements: list[str]) -> list[str]:
    """Each statement's verb and table, e.g. ``UPDATE registration``; the
    check-in's data-modifying ``WITH`` (PostgreSQL) as what it does, the UPDATE
    and the INSERT of the record, as SQLite's two statements read."""
    out = []
    for sql in statements:
        words = sql.replace('"', "").split()
        verb = words[0].upper()
        if verb == "WITH":
            assert "UPDATE registration SET" in sql and "RETURNING" in sql, sql
            assert "INSERT INTO checkin_record" in sql, sql
            out.append("UPDATE registration + INSERT checkin_record")
        elif verb == "SELECT":
            out.append(f"SELECT {words[words.index('FROM') + 1]}")
        elif verb == "UPDATE":
            out.append(f"UPDATE {words[1]}")
        else:  # INSERT INTO x / DELETE FROM x
            out.append(f"{verb} {words[2]}")
    return out


def _stamp_kinds() -> list[str]:
    """The check-in's own statements on this database."""
    if db.engine.dialect.name == "postgresql":
        return ["UPDATE registration + INSERT checkin_record"]
    return ["UPDATE registration", "INSERT checkin_record"]


def test_an_api_check_in_is_one_lookup_and_one_update_returning(
    app, client, door, make_registration
):
    regs = [make_registration(door.event, name=f"Guest {i}") for i in range(3)]
    tokens = [r.badge_token for r in regs]
    ids = [r.id for r in regs]
    _post(client, door.token, token=tokens[0])  # the token's once-a-minute "used"

    with counting_queries() as plain:
        answer = _post(client, door.token, token=tokens[1])
    with counting_queries() as with_nonce:
        nonced = _post(
            client, door.token, url=f"http://x.test/c/{tokens[2]}", nonce="scan-q-0001"
        )

    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["status"] == "checked_in" and body["name"] == "Guest 1"
    assert (body["registration_id"], body["event_id"]) == (ids[1], door.event.id)
    # The token with its owner, membership and organization, joined; the stamp.
    assert _kinds(plain) == ["SELECT api_token", *_stamp_kinds()]
    assert "JOIN membership" in plain[0] and "JOIN organization" in plain[0]
    assert "RETURNING" in plain[1]
    assert len(with_nonce) <= BUDGET, with_nonce
    assert _kinds(with_nonce)[-1] == "INSERT checkin_nonce"
    assert nonced.get_json()["status"] == "checked_in"

    # The answer, built from the UPDATE's RETURNING, is what the database holds,
    # and the token's owner is recorded as who checked the guest in.
    db.session.expire_all()
    stored = db.session.get(Registration, ids[1])
    assert body["checked_in_at"] == stored.checked_in_at.isoformat()
    assert db.session.get(CheckinRecord, ids[1]).user_id == door.organizer.id
    assert count_checked_in(door.event.id) == 3


def test_a_repeat_scan_reads_the_registration_once_and_answers_as_before(
    app, client, door, make_registration
):
    token = make_registration(door.event, name="Twice").badge_token
    first = _post(client, door.token, token=token).get_json()
    with counting_queries() as seen:
        again = _post(client, door.token, token=token)
    assert again.status_code == 200
    assert again.get_json() == first | {"status": "already_checked_in"}
    assert _kinds(seen) == [
        "SELECT api_token",
        _stamp_kinds()[0],  # changed nothing (SQLite: and so no record written)
        "SELECT registration",  # with its event: why nothing changed
    ]
    assert count_checked_in(door.event.id) == 1


def test_a_refused_badge_costs_the_same_few_statements(
    app, client, door, make_registration
):
    """Unknown badges and other events' badges are read once, to say why."""
    with counting_queries() as seen:
        unknown = _post(client, door.token, token="A" * 22)
    assert unknown.status_code == 404
    assert len(seen) <= BUDGET
    assert not db.session.scalars(select(CheckinRecord)).all()


def test_a_scan_page_check_in_shares_the_update_returning(
    app, client, auth, door, make_registration
):
    """The door's scan endpoint: the session and door rules first (the signed-in
    person, the event, their membership), then the same one UPDATE."""
    reg = make_registration(door.event, name="Door Guest")
    token = reg.badge_token
    auth.login(door.organizer.email)
    page = client.get(f"/events/{door.event.id}/scan").get_data(as_text=True)
    headers = {"X-CSRFToken": csrf_from(page)}
    with counting_queries() as seen:
        answer = client.post(
            f"/events/{door.event.id}/scan/checkins",
            json={"url": f"http://x.test/c/{token}", "nonce": "door-q-0001"},
            headers=headers,
        )
    assert answer.get_json()["status"] == "checked_in", answer.get_json()
    assert answer.get_json()["checked_in"] == 1
    kinds = _kinds(seen)
    at = kinds.index(_stamp_kinds()[0])
    # Who is at the door: the sign-in (with its person), the event (with its
    # organization), the person's memberships; the badge is not read first.
    assert kinds[:at] == ["SELECT sign_in", "SELECT event", "SELECT membership"]
    assert "RETURNING" in seen[at]
    # The check-in (UPDATE, who made it, the nonce), then the live count.
    assert len(kinds) - at <= BUDGET, kinds


def test_the_one_query_still_refuses_revoked_tokens_removed_and_stopped_owners(
    app, client, door, make_user, token_for, make_registration
):
    """The joined lookup keeps every refusal: nobody is checked in by a revoked
    token, a token whose owner left the organization or was deactivated."""
    from mixer.accounts.models import ApiToken
    from mixer.accounts.services import deactivate_user, revoke_api_token
    from mixer.orgs.services import remove_member

    token = make_registration(door.event).badge_token
    revoked = token_for(make_user(door.org, role="organizer"), door.org)
    revoke_api_token(db.session.scalars(select(ApiToken)).all()[-1])
    leaver = make_user(door.org, role="organizer")
    left = token_for(leaver, door.org)
    remove_member(leaver.membership_in(door.org))
    stopped_user = make_user(door.org, role="organizer")
    stopped = token_for(stopped_user, door.org)
    deactivate_user(stopped_user)
    db.session.commit()
    for secret in (revoked, left, stopped):
        answer = _post(client, secret, token=token)
        assert answer.status_code == 401, answer.get_json()
        assert answer.get_json()["error"]["code"] == "unauthorized"
    assert count_checked_in(door.event.id) == 0


def test_the_token_is_marked_used_once_a_minute_not_on_every_scan(
    app, client, door, frozen, make_registration
):
    from datetime import timedelta

    from mixer import clock
    from mixer.accounts.models import ApiToken

    tokens = [make_registration(door.event).badge_token for _ in range(3)]
    with counting_queries() as first:
        _post(client, door.token, token=tokens[0])
    with counting_queries() as second:
        _post(client, door.token, token=tokens[1])
    assert "UPDATE api_token" in _kinds(first)
    assert "UPDATE api_token" not in _kinds(second)
    used = db.session.scalars(select(ApiToken.last_used_at)).one()
    assert used == clock.now()
    clock.advance(timedelta(minutes=1))  # a minute on: recorded again
    with counting_queries() as later:
        assert _post(client, door.token, token=tokens[2]).status_code == 200
    assert _kinds(later).count("UPDATE api_token") == 1
    db.session.expire_all()
    assert db.session.scalars(select(ApiToken.last_used_at)).one() == clock.now()
