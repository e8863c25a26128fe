"""/metrics: who may read it, and what it counts (parsed as Prometheus does)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from mixer import clock
from mixer.checkin.services import check_in
from mixer.extensions import db
from mixer.jobs.services import handler, schedule
from mixer.mail.services import queue_mail
from mixer.observability.workers import record_seen
from tests.events.test_dashboard_queries import counting_queries
from tests.helpers import bearer
from tests.observability.conftest import TOKEN, scrape, value


@handler("test.observability.noop")
def _noop(payload):
    return None


@handler("test.observability.heavy", queue="heavy")
def _heavy(payload):
    return None


def test_metrics_are_off_unless_a_token_or_addresses_are_set(client):
    resp = client.get("/metrics")
    assert resp.status_code == 404
    assert b"mixer_" not in resp.data


def test_the_token_is_required_when_set(app_config, metrics_app, client):
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers=bearer("not-it"))
    assert wrong.status_code == 401
    assert wrong.headers["WWW-Authenticate"] == "Bearer"
    assert b"mixer_" not in wrong.data
    assert value(scrape(client), "mixer_database_up") == 1


@pytest.fixture
def allow(app_config):
    """/metrics for 10.0.0.0/8 and one address only."""
    app_config["METRICS_ALLOW"] = "10.0.0.0/8, 192.168.1.7"


def test_only_allowed_addresses_may_read_when_a_list_is_set(allow, client):
    assert client.get("/metrics").status_code == 403  # the client is 127.0.0.1
    for allowed in ("10.20.30.40", "192.168.1.7"):
        resp = client.get("/metrics", environ_base={"REMOTE_ADDR": allowed})
        assert resp.status_code == 200
        assert b"mixer_database_up 1.0" in resp.data
    other = client.get("/metrics", environ_base={"REMOTE_ADDR": "192.168.1.8"})
    assert other.status_code == 403


def test_with_both_set_both_must_hold(allow, metrics_app, client):
    assert client.get("/metrics", headers=bearer(TOKEN)).status_code == 403
    inside = {"REMOTE_ADDR": "10.0.0.5"}
    assert client.get("/metrics", environ_base=inside).status_code == 401
    both = client.get("/metrics", headers=bearer(TOKEN), environ_base=inside)
    assert both.status_code == 200


def test_a_bad_allow_list_stops_the_start(app_config):
    from mixer import create_app

    with pytest.raises(RuntimeError, match="METRICS_ALLOW"):
        create_app({**app_config, "METRICS_ALLOW": "10.0.0.0/33"})


def test_requests_are_counted_by_endpoint_method_and_status_class(metrics_app, client):
    before = scrape(client)
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    assert client.get("/no/such/page").status_code == 404
    after = scrape(client)
    ok = {"endpoint": "main.healthz", "method": "GET", "status": "2xx"}
    lost = {"endpoint": "none", "method": "GET", "status": "4xx"}
    assert (
        value(after, "mixer_http_requests_total", **ok)
        - value(before, "mixer_http_requests_total", **ok)
        == 3
    )
    assert (
        value(after, "mixer_http_requests_total", **lost)
        - value(before, "mixer_http_requests_total", **lost)
        == 1
    )
    timed = {"endpoint": "main.healthz", "method": "GET"}
    count = "mixer_http_request_duration_seconds_count"
    assert value(after, count, **timed) - value(before, count, **timed) == 3
    # The URL itself is never a label: the 404's path appears nowhere.
    assert not any("/no/such" in str(key) for key in after)


def test_check_ins_are_counted_after_real_api_check_ins(
    metrics_app,
    client,
    door,
    make_registration,
):
    regs = [make_registration(door.event) for _ in range(3)]
    before = value(scrape(client), "mixer_checkins_total")
    for reg in regs:
        resp = client.post(
            "/api/v1/checkins",
            json={"token": reg.badge_token},
            headers=bearer(door.token),
        )
        assert resp.get_json()["status"] == "checked_in"
    again = client.post(
        "/api/v1/checkins",
        json={"token": regs[0].badge_token},
        headers=bearer(door.token),
    )
    assert again.get_json()["status"] == "already_checked_in"  # not counted
    assert value(scrape(client), "mixer_checkins_total") - before == 3


def test_a_check_in_rolled_back_is_not_counted(
    metrics_app,
    client,
    door,
    make_registration,
):
    reg = make_registration(door.event)
    before = value(scrape(client), "mixer_checkins_total")
    assert check_in(reg).status.value == "checked_in"
    db.session.rollback()
    assert value(scrape(client), "mixer_checkins_total") == before
    assert check_in(db.session.get(type(reg), reg.id)).status.value == "checked_in"
    db.session.commit()
    assert value(scrape(client), "mixer_checkins_total") == before + 1


def test_registrations_are_counted_by_source_and_status(
    metrics_app,
    client,
    door,
):
    small = door.event
    small.capacity = 1
    db.session.commit()
    url = f"/api/v1/events/{small.id}/registrations"
    labels = {"source": "api"}
    before = scrape(client)
    for n in range(3):
        resp = client.post(
            url,
            json={"name": f"P{n}", "email": f"p{n}@example.org"},
            headers=bearer(door.token),
        )
        assert resp.status_code == 201, resp.get_json()
    after = scrape(client)
    name = "mixer_registrations_total"
    registered = value(after, name, status="registered", **labels) - value(
        before, name, status="registered", **labels
    )
    waitlisted = value(after, name, status="waitlisted", **labels) - value(
        before, name, status="waitlisted", **labels
    )
    assert (registered, waitlisted) == (1, 2)


def test_backlogs_and_worker_heartbeats_are_read_from_the_database(
    metrics_app, client, frozen
):
    for n in range(4):
        queue_mail(f"p{n}@example.org", "Hello", "notice", {"paragraphs": ["x"]})
    schedule("test.observability.noop")
    schedule("test.observability.noop")
    schedule("test.observability.noop", run_at=clock.now() + timedelta(days=1))
    clock.advance(timedelta(minutes=2))
    schedule("test.observability.heavy")
    db.session.commit()
    now = clock.advance(timedelta(minutes=3))
    record_seen("web-a:11", now - timedelta(seconds=20))
    record_seen("web-b:22", now - timedelta(minutes=30))
    with counting_queries() as statements:
        samples = scrape(client)
    assert value(samples, "mixer_outbox_backlog", status="queued") == 4
    assert value(samples, "mixer_outbox_backlog", status="sending") == 0
    assert value(samples, "mixer_outbox_oldest_age_seconds") == 300
    due = {"queue": "default", "kind": "test.observability.noop", "state": "due"}
    assert value(samples, "mixer_jobs_backlog", **due) == 2  # not tomorrow's
    heavy = {"queue": "heavy", "kind": "test.observability.heavy", "state": "due"}
    assert value(samples, "mixer_jobs_backlog", **heavy) == 1
    oldest = "mixer_jobs_oldest_due_age_seconds"
    assert value(samples, oldest, queue="default") == 300
    assert value(samples, oldest, queue="heavy") == 180
    seen = "mixer_worker_last_seen_timestamp_seconds"
    assert (
        value(samples, seen, worker="web-a:11")
        == (now - timedelta(seconds=20)).timestamp()
    )
    assert value(samples, seen, worker="web-b:22") > 0
    assert value(samples, "mixer_workers_alive") == 1
    assert value(samples, "mixer_database_up") == 1
    assert len(statements) == 3  # outbox, jobs, workers: nothing per row


def test_every_process_counts_into_one_answer_in_multiprocess_mode(
    app, metrics_app, tmp_path
):
    """Two processes (as two gunicorn workers) answer requests; a third scrape
    adds both up (PROMETHEUS_MULTIPROC_DIR)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIXER_")}
    env.update(
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path),
        DATABASE_URL=app.config["DATABASE_URL"],
        MIXER_INSTANCE_PATH=app.instance_path,
        SECRET_KEY="test-secret-key",
        METRICS_TOKEN=TOKEN,
    )
    script = textwrap.dedent(
        """
        import os, sys
        from mixer import create_app
        client = create_app().test_client()
        for _ in range(int(sys.argv[1])):
            assert client.get("/healthz").status_code == 200
        if sys.argv[2] == "scrape":
            token = os.environ["METRICS_TOKEN"]
            resp = client.get("/metrics", headers={"Authorization": "Bearer " + token})
            sys.stdout.write(resp.get_data(as_text=True))
        """
    )
    run = [sys.executable, "-c", script]
    for count in ("2", "3"):
        subprocess.run([*run, count, "-"], env=env, check=True, timeout=120)
    out = subprocess.run(
        [*run, "0", "scrape"], env=env, check=True, timeout=120, capture_output=True
    ).stdout.decode()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(out)
        for s in family.samples
    }
    ok = {"endpoint": "main.healthz", "method": "GET", "status": "2xx"}
    assert value(samples, "mixer_http_requests_total", **ok) == 5
    assert value(samples, "mixer_database_up") == 1
