"""Configuration: defaults, instance file, environment, production safety."""

import os
import stat

import pytest

from mixer import create_app

PLAIN = ("DATABASE_URL", "SECRET_KEY", "BASE_URL")


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith("MIXER_") or name in (
            "DATABASE_URL",
            "SECRET_KEY",
            "BASE_URL",
        ):
            monkeypatch.delenv(name)
    monkeypatch.setenv("MIXER_INSTANCE_PATH", str(tmp_path / "inst"))
    return monkeypatch


def test_defaults_use_instance_folder(clean_env, tmp_path):
    app = create_app()
    inst = tmp_path / "inst"
    assert app.instance_path == str(inst)
    assert (
        app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{inst / 'mixer.sqlite3'}"
    )
    assert app.config["BASE_URL"] == "http://127.0.0.1:5000"
    assert app.config["MAIL_URL"] is None
    assert app.config["MAX_CONTENT_LENGTH"] == 50 * 1024 * 1024
    secret = inst / "secret_key"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert app.config["SECRET_KEY"] == secret.read_text().strip()
    # Generated once and reused by the next process.
    assert create_app().config["SECRET_KEY"] == app.config["SECRET_KEY"]


def test_environment_overrides_instance_file(clean_env, tmp_path):
    inst = tmp_path / "inst"
    inst.mkdir()
    (inst / "config.py").write_text(
        'BASE_URL = "https://from-file.example.org"\nMAX_UPLOAD_MB = 5\n'
    )
    app = create_app()
    assert app.config["BASE_URL"] == "https://from-file.example.org"
    assert app.config["MAX_CONTENT_LENGTH"] == 5 * 1024 * 1024

    clean_env.setenv("BASE_URL", "https://plain.example.org/")
    clean_env.setenv("DATABASE_URL", "postgres://u@db.example.org/mixer")
    clean_env.setenv("MIXER_MAX_UPLOAD_MB", "7")
    app = create_app()
    assert app.config["BASE_URL"] == "https://plain.example.org"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == (
        "postgresql+psycopg://u@db.example.org/mixer"
    )
    assert app.config["MAX_CONTENT_LENGTH"] == 7 * 1024 * 1024

    # The MIXER_ form wins over the plain one.
    clean_env.setenv("MIXER_BASE_URL", "https://prefixed.example.org")
    assert create_app().config["BASE_URL"] == "https://prefixed.example.org"


def test_production_refuses_to_start_without_secret(clean_env):
    clean_env.setenv("MIXER_ENV", "production")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app()
    clean_env.setenv("SECRET_KEY", "a-real-secret-from-the-environment")
    clean_env.setenv("MIXER_RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379")
    app = create_app()
    assert app.config["SECRET_KEY"] == "a-real-secret-from-the-environment"


def test_security_headers_on_pages(client):
    resp = client.get("/healthz")
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "SAMEORIGIN"
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "object-src 'none'" in csp
    assert resp.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_unknown_page_is_friendly_404(client):
    resp = client.get("/no/such/page")
    assert resp.status_code == 404
    assert "could not find that page" in resp.get_data(as_text=True)
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404
    assert api.get_json()["error"]["code"] == "not_found"


def test_server_error_page_rolls_back(app_config):
    from sqlalchemy import select

    from mixer.extensions import db
    from mixer.orgs.models import Organization
    from mixer.orgs.services import create_organization

    application = create_app({**app_config, "PROPAGATE_EXCEPTIONS": False})

    @application.get("/boom")
    def boom():
        create_organization("halfway", "Half-written Org")
        raise RuntimeError("boom")

    client = application.test_client()
    resp = client.get("/boom")
    assert resp.status_code == 500
    assert "Something went wrong on our side" in resp.get_data(as_text=True)
    with application.app_context():
        assert (
            db.session.scalar(
                select(Organization).where(Organization.slug == "halfway")
            )
            is None
        )
        db.session.remove()  # return the connection before the pool goes
        db.engine.dispose()
