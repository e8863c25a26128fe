"""deploy/ as shipped: the example environment starts Mixer in production, and
the nginx site, the settings and the pages nginx answers with agree."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from mixer import create_app
from mixer.config import DEFAULTS

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
ENV_EXAMPLE = DEPLOY / "mixer.env.example"
SITE = DEPLOY / "nginx" / "mixer.conf"
# Settings that are not the operator's: the API document's names, cookie
# attributes fixed for security, and ENV_NAME (set as MIXER_ENV).
NOT_OPERATORS = {
    "ENV_NAME",
    "API_TITLE",
    "API_VERSION",
    "OPENAPI_VERSION",
    "OPENAPI_URL_PREFIX",
    "OPENAPI_JSON_PATH",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "REMEMBER_COOKIE_SAMESITE",
    "WTF_CSRF_TIME_LIMIT",
}


def env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines as systemd's EnvironmentFile= reads them (no quoting used)."""
    values = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def test_the_example_environment_names_every_setting():
    text = ENV_EXAMPLE.read_text()
    named = set(re.findall(r"^#?(?:MIXER_)?([A-Z][A-Z0-9_]*)=", text, re.M))
    missing = set(DEFAULTS) - NOT_OPERATORS - named
    assert not missing, f"add these to deploy/mixer.env.example: {sorted(missing)}"


def test_the_example_environment_starts_in_production(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith(("MIXER_", "FLASK_")) or name in (
            "DATABASE_URL",
            "SECRET_KEY",
            "BASE_URL",
            "WEB_CONCURRENCY",
        ):
            monkeypatch.delenv(name)
    for name, value in env_file(ENV_EXAMPLE).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("MIXER_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app()
    cfg = app.config
    assert cfg["ENV_NAME"] == "production"
    assert cfg["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
    assert (cfg["PROXY_HOPS"], cfg["FORCE_HTTPS"]) == (1, True)
    assert cfg["SESSION_COOKIE_SECURE"] and cfg["REMEMBER_COOKIE_SECURE"]
    assert cfg["MAIL_FROM"] == "Mixer <mixer@example.org>"
    assert not (tmp_path / "instance" / "secret_key").exists()  # the given one
    # ProxyFix believes exactly one proxy's X-Forwarded-For/-Proto/-Host.
    fix = app.wsgi_app
    assert (fix.x_for, fix.x_proto, fix.x_host) == (1, 1, 1)  # type: ignore[attr-defined]


def test_the_upload_limit_is_the_same_everywhere():
    site = SITE.read_text()
    [nginx_mb] = re.findall(r"^\s*client_max_body_size (\d+)m;", site, re.M)
    example = int(env_file(ENV_EXAMPLE)["MIXER_MAX_UPLOAD_MB"])
    assert int(nginx_mb) == example == DEFAULTS["MAX_UPLOAD_MB"]


def test_nginx_replaces_the_forwarded_headers():
    """A client's own X-Forwarded-* never reaches Mixer."""
    site = SITE.read_text()
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in site
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in site
    assert "proxy_set_header X-Forwarded-Host $host;" in site
    assert "$proxy_add_x_forwarded_for" not in site


def test_the_units_use_the_checkouts_gunicorn_conf():
    web = (DEPLOY / "systemd" / "mixer-web.service").read_text()
    assert "gunicorn -c /srv/mixer/gunicorn.conf.py wsgi:app" in web
    assert "mixer proxy-pages /var/lib/mixer/proxy-pages" in web
    assert "/var/lib/mixer/proxy-pages/" in SITE.read_text()
    worker = (DEPLOY / "systemd" / "mixer-worker@.service").read_text()
    assert "ExecStart=/srv/mixer/.venv/bin/mixer worker" in worker
    migrate = (DEPLOY / "systemd" / "mixer-migrate.service").read_text()
    assert "ExecStart=/srv/mixer/.venv/bin/mixer init-db" in migrate
    for unit in (web, worker, migrate):
        assert "EnvironmentFile=/etc/mixer/mixer.env" in unit
        assert "User=mixer" in unit and "WorkingDirectory=/srv/mixer" in unit
    assert (DEPLOY / "gunicorn.conf.py").resolve() == (
        DEPLOY.parent / "gunicorn.conf.py"
    )


@pytest.fixture
def app_config(app_config):
    return {**app_config, "MAX_UPLOAD_MB": 7}


def test_proxy_pages_follow_the_settings(app, runner, tmp_path):
    dest = tmp_path / "pages"
    result = runner.invoke(args=["proxy-pages", str(dest)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in dest.iterdir()) == [
        "413.html",
        "413.json",
        "502.html",
        "502.json",
    ]
    assert all(p.stat().st_mode & 0o777 == 0o644 for p in dest.iterdir())
    error = json.loads((dest / "413.json").read_text())["error"]
    assert error["code"] == "request_entity_too_large"
    assert "limit of 7 MB; nothing was stored" in error["message"]
    assert "The limit is 7 MB; nothing was stored." in (dest / "413.html").read_text()
    unavailable = json.loads((dest / "502.json").read_text())["error"]
    assert unavailable["code"] == "unavailable"
    page = (dest / "502.html").read_text()
    assert "Back in a moment" in page and 'href="/"' in page
