"""Deliveries against a real receiver: signed, once, retried, switched off."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from mixer import clock
from mixer.audit.models import AuditEntry
from mixer.checkin.services import check_in
from mixer.config import check_production
from mixer.events.registration import cancel_registration, register
from mixer.extensions import db
from mixer.followup.services import close_event
from mixer.jobs.services import run_due
from mixer.pairs.lifecycle import close, create_pair
from mixer.webhooks.delivery import BACKOFF, SWITCH_OFF_AFTER
from mixer.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from mixer.webhooks.sending import WebhookError
from mixer.webhooks.services import create_endpoint, prune_deliveries
from tests.webhooks.conftest import verify, webhook_jobs, work, work_through

ENVELOPE = {"id", "type", "created_at", "organization", "data"}
REGISTRATION = {
    "id",
    "event_id",
    "user_id",
    "name",
    "email",
    "status",
    "source",
    "created_at",
    "cancelled_at",
    "checked_in_at",
}


def _deliveries() -> list[WebhookDelivery]:
    db.session.expire_all()
    return list(db.session.scalars(select(WebhookDelivery).order_by("id")))


def _endpoint(org, url, types, admin=None):
    endpoint, secret = create_endpoint(org, url, types, by=admin)
    db.session.commit()
    return endpoint, secret


def test_a_registration_makes_one_signed_delivery_as_documented(
    frozen, local, receiver, org, make_org, make_user, make_event
):
    admin = make_user(org, role="admin", name="Ada Admin")
    event = make_event(org, starts_at=frozen - timedelta(minutes=10))
    endpoint, secret = _endpoint(
        org, receiver.url, ["registration.created", "checkin.created"], admin
    )
    _endpoint(org, receiver.url + "/pairs", ["pair.created"])  # hears nothing here
    _endpoint(make_org(), receiver.url + "/other", ["registration.created"])

    reg = register(
        event,
        email="Rita@Example.org",
        name="Rita Receiver",
        source="organizer",
        dietary="no nuts",
        department="Sales",
    )
    db.session.commit()
    [made] = _deliveries()  # one endpoint hears it: one delivery, one job
    assert (made.endpoint_id, made.status, made.attempts) == (endpoint.id, "pending", 0)
    assert len(webhook_jobs()) == 1
    work()

    [seen] = receiver.seen
    assert seen.status == 200
    headers = seen.headers
    assert headers["content-type"] == "application/json"
    assert headers["webhook-id"] == made.message_id
    assert headers["webhook-timestamp"] == str(int(frozen.timestamp()))
    assert headers["webhook-signature"].startswith("v1,")
    assert verify(secret, headers, seen.body)
    assert not verify(
        secret.replace(secret[8], "A" if secret[8] != "A" else "B"), headers, seen.body
    )
    assert not verify(secret, headers, seen.body + b" ")  # a changed body fails
    body = seen.json
    assert set(body) == ENVELOPE
    assert body["id"] == made.message_id and body["type"] == "registration.created"
    assert body["created_at"] == frozen.isoformat()
    assert body["organization"] == {"id": org.id, "slug": "acme", "name": "Acme"}
    assert set(body["data"]) == {"registration", "event"}
    sent = body["data"]["registration"]
    assert set(sent) == REGISTRATION
    assert sent | {"created_at": None} == {
        "id": reg.id,
        "event_id": event.id,
        "user_id": None,
        "name": "Rita Receiver",
        "email": "rita@example.org",
        "status": "registered",
        "source": "organizer",
        "created_at": None,
        "cancelled_at": None,
        "checked_in_at": None,
    }
    assert body["data"]["event"]["id"] == event.id
    assert body["data"]["event"]["title"] == event.title
    # Answers and the badge are never sent.
    for private in (b"no nuts", b"Sales", reg.badge_token.encode(), b"dietary"):
        assert private not in seen.body
    db.session.expire_all()
    done = db.session.get(WebhookDelivery, made.id)
    assert (done.status, done.attempts, done.response_status) == ("delivered", 1, 200)
    assert done.delivered_at == frozen and done.last_error is None

    work()  # nothing more is due: exactly one delivery
    assert len(receiver.seen) == 1

    check_in(reg)  # the door: checkin.created, with the check-in time
    db.session.commit()
    work()
    assert [s.json["type"] for s in receiver.seen] == [
        "registration.created",
        "checkin.created",
    ]
    assert receiver.seen[1].json["data"]["registration"]["checked_in_at"] == (
        frozen.isoformat()
    )
    assert len({s.headers["webhook-id"] for s in receiver.seen}) == 2


def test_a_receiver_failing_twice_gets_three_attempts_and_one_acceptance(
    frozen,
    local,
    receiver,
    org,
    make_user,
    make_event,
    make_registration,
    auth,
    client,
):
    admin = make_user(org, role="admin")
    endpoint, secret = _endpoint(org, receiver.url, ["registration.cancelled"])
    reg = make_registration(make_event(org), name="Cathy Cancel")
    receiver.statuses = [500, 500]
    cancel_registration(reg)
    db.session.commit()

    work()
    [delivery] = _deliveries()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert delivery.response_status == 500
    assert delivery.last_error == "HTTP 500: receiver is down"
    first_wait = delivery.next_attempt_at - frozen
    assert BACKOFF[0] <= first_wait <= BACKOFF[0] * 1.1  # 5 s and jitter

    clock.advance(BACKOFF[0] - timedelta(seconds=1))
    work()  # not yet due: nothing sent
    assert len(receiver.seen) == 1

    clock.freeze(delivery.next_attempt_at)
    work()
    second = _deliveries()[0]
    assert (second.status, second.attempts) == ("pending", 2)
    assert BACKOFF[1] <= second.next_attempt_at - clock.now() <= BACKOFF[1] * 1.1

    clock.freeze(second.next_attempt_at)
    work()
    work_through()  # and nothing after it
    assert [s.status for s in receiver.seen] == [500, 500, 200]
    assert len({s.headers["webhook-id"] for s in receiver.seen}) == 1
    assert len({s.headers["webhook-timestamp"] for s in receiver.seen}) == 3
    assert all(verify(secret, s.headers, s.body) for s in receiver.seen)
    assert receiver.seen[0].json["data"]["registration"]["status"] == "cancelled"
    done = _deliveries()[0]
    assert (done.status, done.attempts, done.response_status) == ("delivered", 3, 200)
    assert done.last_error is None and done.next_attempt_at is None
    assert db.session.get(WebhookEndpoint, endpoint.id).failing_since is None

    auth.login(admin.email)
    page = client.get(f"/o/acme/settings/webhooks/{endpoint.id}").get_data(True)
    assert "registration.cancelled" in page and done.message_id in page
    assert "Delivered · 3 attempts" in page and "HTTP 200" in page

    clock.advance(timedelta(days=31))  # the worker's hourly clean-up forgets it
    assert prune_deliveries(timedelta(days=30)) == 1


def test_a_day_of_failures_switches_the_endpoint_off_and_tells_the_admins_once(
    frozen, local, receiver, org, make_user, make_event, outbox
):
    admins = [make_user(org, role="admin", name=f"Admin {n}") for n in (1, 2)]
    make_user(org, role="organizer")
    endpoint, _ = _endpoint(org, receiver.url, ["registration.created"])
    event = make_event(org, starts_at=frozen + timedelta(days=5))
    receiver.otherwise = 503
    for n in (1, 2):
        register(event, email=f"p{n}@example.org", name=f"P {n}", source="api")
    db.session.commit()

    work_through()
    db.session.expire_all()
    off = db.session.get(WebhookEndpoint, endpoint.id)
    assert off.enabled is False
    assert "every delivery failed" in off.disabled_reason
    # Whichever came to its tenth attempt first (a day on) switched it off; the
    # other found it off at its own tenth.
    first, second = sorted(_deliveries(), key=lambda d: -d.attempts)
    assert first.status == second.status == DeliveryStatus.FAILED
    assert (first.attempts, second.attempts) == (len(BACKOFF) + 1, len(BACKOFF))
    assert first.last_attempt_at - frozen >= SWITCH_OFF_AFTER
    assert first.last_error == "HTTP 503: receiver is down"
    assert second.last_error == "Not sent: the endpoint is off."
    assert len(receiver.seen) == first.attempts + second.attempts
    assert {s.status for s in receiver.seen} == {503}

    mail = [m for m in outbox() if "Webhook switched off" in m["Subject"]]
    to = sorted(m["To"].addresses[0].addr_spec for m in mail)
    assert to == sorted(a.email for a in admins)
    assert receiver.url in mail[0].get_body(("plain",)).get_content()
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.org_id == org.id)
    ).all()
    assert actions.count("webhook.endpoint_switched_off") == 1

    register(event, email="late@example.org", name="Late", source="api")
    db.session.commit()
    assert len(_deliveries()) == 2  # nothing for an endpoint that is off


def test_a_rolled_back_change_delivers_nothing(
    frozen, local, receiver, org, make_event
):
    _endpoint(org, receiver.url, ["registration.created"])
    event = make_event(org)
    register(event, email="undone@example.org", name="Undone", source="api")
    assert len(_pending_rows()) == 2  # the delivery and its job, in the transaction
    db.session.rollback()
    assert _pending_rows() == []
    work()
    assert receiver.seen == []


def _pending_rows() -> list:
    """Delivery rows and delivery jobs the session sees."""
    return [*db.session.scalars(select(WebhookDelivery)), *webhook_jobs()]


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::ffff:127.0.0.1]/hook",
        "https://localhost:8443/hook",  # a name that resolves to loopback
        "http://hooks.example.org/hook",  # not https
    ],
)
def test_private_addresses_are_refused_outside_development(app, org, url):
    with pytest.raises(WebhookError, match="non-public|https://") as refused:
        create_endpoint(org, url, ["registration.created"])
    assert refused.value.field == "url"


def test_the_address_is_checked_again_when_delivering(
    frozen, app, receiver, org, make_event
):
    """A name that resolved elsewhere when saved and to loopback now (DNS
    rebinding) is refused at delivery, before any connection."""
    port = receiver.url.split(":")[2].split("/")[0]
    endpoint, _ = _endpoint(
        org, "https://hooks.example.org/x", ["registration.created"]
    )
    endpoint.url = f"https://localhost:{port}/hooks/mixer"  # as if DNS changed
    db.session.commit()
    register(make_event(org), email="x@example.org", name="X", source="api")
    db.session.commit()
    work()
    [delivery] = _deliveries()
    assert delivery.attempts == 1 and delivery.response_status is None
    assert delivery.last_error.startswith("Refused: localhost is a private")
    assert receiver.seen == []
    with pytest.raises(RuntimeError, match="WEBHOOK_ALLOW_LOCAL is on"):
        check_production({**app.config, "WEBHOOK_ALLOW_LOCAL": True})


def test_two_workers_never_deliver_one_delivery_twice(
    frozen, local, receiver, app, org, make_event
):
    """Two workers (threads with their own sessions) work the same queue while
    the receiver is slow: each delivery is POSTed once."""
    _endpoint(org, receiver.url, ["registration.created"])
    event = make_event(org)
    for n in range(6):
        register(event, email=f"w{n}@example.org", name=f"W {n}", source="api")
    db.session.commit()
    receiver.delay = 0.2
    app.config["JOB_BATCH_SIZE"] = 2
    errors: list[BaseException] = []

    def worker() -> None:
        with app.app_context():
            try:
                while sum(run_due().values()):
                    pass
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    ids = [s.headers["webhook-id"] for s in receiver.seen]
    assert len(ids) == 6 and len(set(ids)) == 6
    assert (
        db.session.scalar(
            select(func.count()).where(WebhookDelivery.status == "delivered")
        )
        == 6
    )
    assert {
        json.loads(s.body)["data"]["registration"]["name"] for s in receiver.seen
    } == {f"W {n}" for n in range(6)}


def test_events_closed_and_pairs_made_and_ended_are_delivered(
    frozen, local, receiver, org, make_user, make_event, make_registration
):
    endpoint, secret = _endpoint(
        org, receiver.url, ["event.closed", "pair.created", "pair.ended"]
    )
    organizer = make_user(org, role="organizer")
    event = make_event(org, organizer, starts_at=frozen - timedelta(minutes=10))
    make_registration(event, name="Not heard")  # registration.created: not chosen
    close_event(event, organizer)
    mentor = make_user(org, name="Mia Mentor")
    mentee = make_user(org, name="Max Mentee")
    pair = create_pair(org, mentor, mentee, kind="mentoring", mentor=mentor)
    db.session.commit()
    close(pair, mentor)
    db.session.commit()
    work()

    assert all(verify(secret, s.headers, s.body) for s in receiver.seen)
    closed, made, ended = (s.json for s in receiver.seen)
    assert closed["type"] == "event.closed"
    assert closed["data"]["closed_by"] == "organizer"
    assert closed["data"]["event"]["id"] == event.id
    assert closed["data"]["event"]["status"] == "ended"
    assert (made["type"], ended["type"]) == ("pair.created", "pair.ended")
    people = {p["name"]: p for p in made["data"]["pair"]["people"]}
    assert people["Mia Mentor"] == {
        "user_id": mentor.id,
        "name": "Mia Mentor",
        "email": mentor.email,
        "role": "mentor",
    }
    assert people["Max Mentee"]["role"] == "mentee"
    assert made["data"]["pair"]["status"] == "active"
    assert ended["data"]["pair"]["status"] == "closed"
    assert ended["data"]["pair"]["id"] == pair.id
