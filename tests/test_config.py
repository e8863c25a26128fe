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


# --- MIXER_ENV=production refuses unsafe settings ---------------------------------

SAFE_PRODUCTION = {
    "MIXER_ENV": "production",
    "SECRET_KEY": "a-real-secret-from-the-environment",
    "MIXER_RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379",
}


@pytest.fixture
def production(clean_env):
    clean_env.delenv("WEB_CONCURRENCY", raising=False)
    for name, value in SAFE_PRODUCTION.items():
        clean_env.setenv(name, value)
    return clean_env


def _refusal() -> str:
    with pytest.raises(RuntimeError) as info:
        create_app()
    return str(info.value)


def test_safe_production_settings_start(production):
    # SQLite with one web process on one host is a supported small deployment.
    app = create_app()
    assert app.config["ENV_NAME"] == "production"
    production.setenv("DATABASE_URL", "postgresql://mixer@db.example.org/mixer")
    production.setenv("WEB_CONCURRENCY", "4")
    production.setenv("MIXER_HOSTS", "2")
    production.setenv("MIXER_STORAGE_URL", "s3://mixer-files/prod")
    assert create_app().config["HOSTS"] == 2


def test_production_refuses_debug(production):
    production.setenv("FLASK_DEBUG", "1")
    message = _refusal()
    assert "DEBUG is on" in message and "FLASK_DEBUG" in message
    production.delenv("FLASK_DEBUG")
    production.setenv("MIXER_DEBUG", "true")
    assert "DEBUG is on" in _refusal()


def test_production_refuses_sqlite_with_several_web_processes(production):
    production.setenv("WEB_CONCURRENCY", "3")
    message = _refusal()
    assert "SQLite with 3 web processes (WEB_CONCURRENCY=3)" in message
    assert "DATABASE_URL=postgresql://" in message
    # What gunicorn.conf.py publishes (the real count, --workers included) wins.
    production.setenv("WEB_CONCURRENCY", "1")
    production.setenv("MIXER_WEB_PROCESSES", "2")
    assert "SQLite with 2 web processes (gunicorn's workers" in _refusal()
    production.setenv("MIXER_WEB_PROCESSES", "1")
    assert create_app().config["ENV_NAME"] == "production"


def test_production_refuses_sqlite_on_several_hosts(production):
    production.setenv("MIXER_HOSTS", "2")
    production.setenv("MIXER_STORAGE_URL", "s3://mixer-files/prod")
    message = _refusal()
    assert "SQLite with MIXER_HOSTS=2" in message


@pytest.mark.parametrize("storage", [None, "local"])
def test_production_refuses_local_storage_on_several_hosts(production, storage):
    production.setenv("DATABASE_URL", "postgresql://mixer@db.example.org/mixer")
    production.setenv("MIXER_HOSTS", "3")
    if storage:
        production.setenv("MIXER_STORAGE_URL", storage)
    message = _refusal()
    assert f"STORAGE_URL={storage or 'local'} with MIXER_HOSTS=3" in message
    assert "STORAGE_URL=s3://" in message


def test_production_refuses_memory_rate_limits(production):
    production.setenv("MIXER_RATELIMIT_STORAGE_URI", "memory://")
    assert "RATELIMIT_STORAGE_URI=memory://" in _refusal()
    production.setenv("MIXER_RATELIMIT_ENABLED", "false")  # no counters, no problem
    assert create_app().config["ENV_NAME"] == "production"


def test_production_names_every_problem_at_once(production):
    production.delenv("SECRET_KEY")
    production.setenv("MIXER_DEBUG", "true")
    production.setenv("WEB_CONCURRENCY", "2")
    production.setenv("MIXER_HOSTS", "2")
    production.setenv("MIXER_RATELIMIT_STORAGE_URI", "memory://")
    message = _refusal()
    lines = message.splitlines()
    assert lines[0] == "MIXER_ENV=production refuses to start:"
    named = ["SECRET_KEY", "DEBUG", "SQLite", "STORAGE_URL", "RATELIMIT_STORAGE_URI"]
    assert [line[2:].split()[0].split("=")[0] for line in lines[1:]] == named
    # Nothing was written: no secret was generated into the instance folder.
    instance = os.environ["MIXER_INSTANCE_PATH"]
    assert not os.path.exists(os.path.join(instance, "secret_key"))
