"""Errors to Sentry when SENTRY_DSN is set; nothing of Sentry without it."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


class _Envelopes(BaseHTTPRequestHandler):
    received: list[bytes]

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        encoding = self.headers.get("Content-Encoding")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "br":
            import brotli

            body = brotli.decompress(body)
        self.server.received.append((self.path, body))  # type: ignore[attr-defined]
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def sentry_server():
    """A local HTTP server standing in for Sentry's ingestion: what it got."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Envelopes)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def sentry_app(app_config, sentry_server):
    pytest.importorskip("sentry_sdk")
    port = sentry_server.server_address[1]
    app_config["SENTRY_DSN"] = f"http://publickey@127.0.0.1:{port}/42"
    yield app_config
    import sentry_sdk

    sentry_sdk.get_client().close()
    sentry_sdk.init()  # no DSN: a client that sends nothing


@pytest.mark.own_app
def test_an_unhandled_error_reaches_sentry_with_the_request_id(
    sentry_app, sentry_server, app, client
):
    import sentry_sdk

    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom")
    def boom():
        raise LookupError("the boom page broke")

    resp = client.get("/boom", headers={"X-Request-Id": "req-sentry-1"})
    assert resp.status_code == 500
    sentry_sdk.flush(timeout=10)
    events = []
    for path, body in sentry_server.received:
        assert path == "/api/42/envelope/"
        for line in body.splitlines():
            try:
                item = json.loads(line)
            except ValueError:
                continue
            if isinstance(item, dict) and "exception" in item:
                events.append(item)
    (event,) = events
    (error,) = event["exception"]["values"]
    assert (error["type"], error["value"]) == ("LookupError", "the boom page broke")
    assert event["tags"]["request_id"] == "req-sentry-1"
    assert event["environment"] == "development"
    assert "Cookie" not in json.dumps(event.get("request", {}))


def test_without_a_dsn_sentry_is_never_imported(app):
    """The app starts and serves with sentry-sdk absent from the process."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("MIXER_", "SENTRY"))
    }
    env.update(
        DATABASE_URL=app.config["DATABASE_URL"],
        MIXER_INSTANCE_PATH=app.instance_path,
        SECRET_KEY="test-secret-key",
    )
    script = (
        "import sys; from mixer import create_app\n"
        "assert create_app().test_client().get('/healthz').status_code == 200\n"
        "print(sorted(m for m in sys.modules if m.startswith('sentry')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert out.strip() == "[]"
