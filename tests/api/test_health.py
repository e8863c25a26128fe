"""GET /healthz: JSON database status for load balancers, 200 or 503."""

from __future__ import annotations

from mixer import create_app
from mixer.extensions import db


def test_healthy(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.mimetype == "application/json"
    body = resp.get_json()
    assert body["status"] == "ok"
    assert body["database"]["status"] == "ok"
    assert body["database"]["backend"] in ("sqlite", "postgresql")


def test_needs_no_sign_in_or_token(client):
    assert (
        client.get("/healthz", headers={"Authorization": "Bearer nope"}).status_code
        == 200
    )


def _broken_app(app_config, url):
    return create_app({**app_config, "DATABASE_URL": url})


def test_unreachable_database_is_503_json(app_config, tmp_path):
    missing = tmp_path / "no-such-folder" / "db.sqlite3"
    app = _broken_app(app_config, f"sqlite:///{missing}")
    with app.app_context():
        resp = app.test_client().get("/healthz")
        assert resp.status_code == 503
        assert resp.mimetype == "application/json"
        body = resp.get_json()
        assert body["status"] == "error"
        assert body["database"]["status"] == "error"
        assert "no-such-folder" not in resp.get_data(as_text=True)  # no internals
        db.engine.dispose()


def test_refused_postgres_connection_is_503_json(app_config):
    # Port 1 on localhost refuses at once: no server, no waiting.
    app = _broken_app(app_config, "postgresql://postgres@127.0.0.1:1/nowhere")
    with app.app_context():
        resp = app.test_client().get("/healthz")
        assert resp.status_code == 503
        assert resp.get_json()["database"]["status"] == "error"
        db.engine.dispose()
