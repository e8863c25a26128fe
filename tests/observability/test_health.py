"""/healthz stays cheap; /readyz (and /healthz?deep=1) checks every dependency."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from mixer import clock, storage
from mixer.observability.workers import record_seen
from mixer.storage import LocalStore
from tests.events.test_dashboard_queries import counting_queries
from tests.jobs.test_worker import WorkerProcess, wait_until, worker_env
from tests.storage_support import s3_client

ROOT = Path(__file__).resolve().parents[2]


class ThisCheckoutsWorker(WorkerProcess):
    """``mixer worker`` from this checkout's source (the shared virtualenv's
    ``mixer`` script may be installed from another one)."""

    def __init__(self, env: dict[str, str]):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from mixer.cli import main; main()", "worker"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.log = []
        self.terminated = False
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()


def free_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_healthz_checks_only_the_database(client):
    with counting_queries() as statements:
        resp = client.get("/healthz")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["status"] == "ok" and set(body) == {"status", "database"}
    assert statements == ["SELECT 1"]


def test_not_ready_until_a_worker_has_been_seen(client, frozen):
    resp = client.get("/readyz")
    assert resp.status_code == 503
    body = resp.get_json()
    assert body["failing"] == ["worker"]
    assert body["checks"]["worker"]["error"] == "no job worker has ever been seen"
    assert body["checks"]["database"] == {"status": "ok"}
    assert body["checks"]["storage"] == {"status": "ok"}
    assert body["checks"]["redis"] == {"status": "ok"}  # memory://: nothing to ask

    record_seen("host:1")
    resp = client.get("/readyz")
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json() == client.get("/healthz?deep=1").get_json()

    clock.advance(timedelta(seconds=121))  # READY_WORKER_SECONDS is 120
    late = client.get("/healthz?deep=1")
    assert late.status_code == 503
    assert late.get_json()["failing"] == ["worker"]
    assert (
        "no job worker seen for 120 s" in late.get_json()["checks"]["worker"]["error"]
    )


@pytest.fixture
def redis_up(app_config):
    app_config["RATELIMIT_STORAGE_URI"] = "redis://127.0.0.1:6379/0"


def test_a_real_redis_answers(redis_up, client):
    record_seen("host:1")
    resp = client.get("/readyz")
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["checks"]["redis"] == {"status": "ok"}


@pytest.fixture
def redis_down(app_config):
    app_config["RATELIMIT_STORAGE_URI"] = f"redis://127.0.0.1:{free_port()}/0"


def test_an_unreachable_redis_is_named(redis_down, client):
    record_seen("host:1")
    resp = client.get("/readyz")
    assert resp.status_code == 503
    body = resp.get_json()
    assert body["status"] == "error"
    assert body["failing"] == ["redis"]
    assert body["checks"]["redis"]["error"].startswith("ConnectionError")
    assert client.get("/healthz").status_code == 200  # the cheap check stays up


def test_a_storage_folder_that_cannot_be_written_is_named(app, client, tmp_path):
    record_seen("host:1")
    folder = tmp_path / "gone"  # not there: nothing can be written in it
    app.extensions["mixer.storage"] = LocalStore(folder)
    try:
        resp = client.get("/readyz")
    finally:
        app.extensions["mixer.storage"] = storage.from_config(app)
    assert resp.status_code == 503
    assert resp.get_json()["failing"] == ["storage"]
    error = resp.get_json()["checks"]["storage"]["error"]
    assert error == f"OSError: {folder} is not writable"


@pytest.fixture
def bucket(app_config, s3_settings):
    """Files kept in a bucket of the suite's S3 server (moto)."""
    app_config.update(s3_settings)
    return s3_settings


def test_the_object_store_is_asked(bucket, client, s3_server):
    record_seen("host:1")
    resp = client.get("/readyz")
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["checks"]["storage"] == {"status": "ok"}
    name = bucket["STORAGE_URL"].removeprefix("s3://").partition("/")[0]
    s3_client(s3_server).delete_bucket(Bucket=name)  # the bucket is gone
    gone = client.get("/readyz")
    assert gone.status_code == 503
    assert gone.get_json()["failing"] == ["storage"]
    assert gone.get_json()["checks"]["storage"]["error"].startswith("ClientError")


def test_a_running_worker_makes_the_app_ready(app, client, smtp):
    assert client.get("/readyz").status_code == 503
    worker = ThisCheckoutsWorker(
        worker_env(app, smtp.url, MIXER_WORKER_BEAT_SECONDS="0.5")
    )
    try:
        worker.wait_for("worker started")
        wait_until(lambda: client.get("/readyz").status_code == 200, timeout=30)
        assert client.get("/readyz").get_json()["failing"] == [], (
            client.get("/readyz").get_json(),
            "".join(worker.log),
        )
    finally:
        assert worker.stop() == 0, "".join(worker.log)
