"""Shared fixtures: a real database per test, app, clients, factories, outbox.

SQLite (default): the schema is built once per test session by running the real
migrations into a template file, which every test copies. PostgreSQL (when
``TEST_DATABASE_URL`` is set): each xdist worker gets its own database, migrated
once, and every test starts from truncated tables.
"""

from __future__ import annotations

import contextvars
import email
import email.policy
import os
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from mixer import clock, create_app
from mixer.accounts.services import create_api_token
from mixer.config import normalise_database_url
from mixer.extensions import db, talisman
from mixer.webhooks.services import forget_subscriptions
from tests.helpers import NOW, PASSWORD, csrf_from
from tests.templates_cache import build_app
from tests.translations_support import compile_catalogues

pytest_plugins = [
    "tests.browser_support",
    "tests.mail_support",
    "tests.storage_support",
]

PG_URL = os.environ.get("TEST_DATABASE_URL")


def pytest_collection_modifyitems(config, items) -> None:
    """On the PostgreSQL pass, leave out tests marked ``once``: what they check
    does not depend on the database (the proxy, the planner's own code, pictures,
    the import graph), and the SQLite pass has run them (``make test`` runs both).
    """
    if not PG_URL:
        return
    once = [item for item in items if item.get_closest_marker("once")]
    if once:
        config.hook.pytest_deselected(items=once)
        items[:] = [item for item in items if not item.get_closest_marker("once")]


def _worker() -> str:
    """Names this process's scratch PostgreSQL database. ``MIXER_TEST_DB_PREFIX``
    keeps runs from different checkouts on one server apart."""
    prefix = os.environ.get("MIXER_TEST_DB_PREFIX", "")
    return prefix + os.environ.get("PYTEST_XDIST_WORKER", "gw0")


@pytest.fixture(scope="session", autouse=True)
def catalogues() -> None:
    """The German and Arabic catalogues compiled (a fresh clone has only the .po
    files), before any application loads them for the rest of the process."""
    compile_catalogues()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory):
    """Migrate once per session; the URL (PostgreSQL) or template file (SQLite)."""
    if PG_URL:
        base = make_url(normalise_database_url(PG_URL))
        name = f"mixer_test_{_worker()}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = base.set(database=name).render_as_string(hide_password=False)
        _migrate(tmp_path_factory.mktemp("pg-instance"), url)
        return url
    folder = tmp_path_factory.mktemp("template")
    url = f"sqlite:///{folder / 'template.sqlite3'}"
    _migrate(folder, url)
    return folder / "template.sqlite3"


def _migrate(instance: Path, url: str) -> None:
    from flask_migrate import upgrade

    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(instance),
            "DATABASE_URL": url,
            "SECRET_KEY": "test",
        }
    )
    with app.app_context():
        upgrade(revision="heads")
        db.engine.dispose()


_ENGINES: dict[str, Engine] = {}


def _truncate(url: str) -> None:
    """Empty every table and restart every id sequence, as a fresh database.

    ``TRUNCATE`` of all 35 tables costs ~70 ms a test; most tests touch a few
    tables, so only the tables that hold rows are emptied (children first) and
    only the sequences that were used are restarted (~2 ms). One connection is
    kept per test process for this.
    """
    engine = _ENGINES.get(url) or _ENGINES.setdefault(url, create_engine(url))
    tables = [t.name for t in db.metadata.sorted_tables if t.name != "alembic_version"]
    probe = " UNION ALL ".join(
        f"SELECT '{t}' WHERE EXISTS (SELECT 1 FROM \"{t}\")" for t in tables
    )
    with engine.begin() as conn:
        used = set(conn.execute(text(probe)).scalars())
        for table in reversed(tables):
            if table in used:
                conn.execute(text(f'DELETE FROM "{table}"'))
        sequences = conn.execute(
            text(
                "SELECT schemaname || '.' || sequencename FROM pg_sequences "
                "WHERE last_value IS NOT NULL"
            )
        ).scalars()
        for sequence in list(sequences):
            conn.execute(text("SELECT setval(:s, 1, false)"), {"s": sequence})


class IsolatedClient(FlaskClient):
    """Runs every request in a fresh context, as a real server would.

    Without this, a request would reuse the test's app context (and its ``g`` and
    database session), hiding bugs that only show across requests.
    """

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture(scope="session")
def instance_folder(tmp_path_factory) -> Path:
    """This test process's instance folder, emptied before every test."""
    return tmp_path_factory.mktemp("instance")


def _empty(folder: Path) -> None:
    for child in folder.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


@pytest.fixture
def app_config(instance_folder, database_template) -> dict:
    """The test configuration; tests may change it before ``app`` is built.

    Every test starts from an empty instance folder and a fresh database: the
    migrated template copied in (SQLite) or every table truncated (PostgreSQL).
    """
    _empty(instance_folder)
    if PG_URL:
        _truncate(database_template)
        url = database_template
    else:
        shutil.copy(database_template, instance_folder / "mixer.sqlite3")
        url = f"sqlite:///{instance_folder / 'mixer.sqlite3'}"
    config = {
        "TESTING": True,
        "INSTANCE_PATH": str(instance_folder),
        "DATABASE_URL": url,
        "SECRET_KEY": "test-secret-key",
        "BASE_URL": "http://mixer.test",
        "RATELIMIT_ENABLED": False,
        "MAIL_FROM": "Mixer <mixer@mixer.test>",
    }
    STANDARD.clear()
    STANDARD.update(config)
    return config


STANDARD: dict = {}  # this test's ``app_config`` as the fixture made it


class _Reused:
    """The application of the standard test configuration, built once per test
    process (building one is ~80 ms of routing and API-document work) and given
    its configuration back before every test. A test that changes ``app_config``
    gets an application of its own, built for it alone (and the shared one is
    built again after it)."""

    def __init__(self) -> None:
        self.app: Flask | None = None
        self.config: dict = {}
        self.settings: dict = {}
        self.rules = 0

    def get(self, config: dict) -> Flask:
        if config != STANDARD:
            return self._build(config)
        # The extensions are process-wide objects that keep the settings of the
        # last application built (Talisman's HTTPS rule, the limiter's switch):
        # after another application was built, build this one again.
        if self.app is None or config != self.config or talisman.app is not self.app:
            self.app, self.config = self._build(config), dict(config)
            self.settings = dict(self.app.config)
            self.rules = len(list(self.app.url_map.iter_rules()))
        self.app.config.clear()
        self.app.config.update(self.settings)
        return self.app

    def check(self, app: Flask) -> None:
        """A test that added routes to the shared application must be marked
        ``own_app``; the application is forgotten, and the test fails."""
        if app is self.app and len(list(app.url_map.iter_rules())) != self.rules:
            self.app = None
            pytest.fail("this test adds routes to the app: mark it own_app")

    @staticmethod
    def _build(config: dict) -> Flask:
        app = build_app(config)
        app.test_client_class = IsolatedClient
        return app


_REUSED = _Reused()


@pytest.fixture
def app(app_config, request):
    """The application, with an app context pushed for direct service calls.

    Tests marked ``own_app`` (they add routes to it) get one built for them.
    """
    if request.node.get_closest_marker("own_app"):
        application = _Reused._build(app_config)
    else:
        application = _REUSED.get(app_config)
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()
    clock.reset()
    forget_subscriptions()  # who hears which webhooks: this test's database is gone
    _REUSED.check(application)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class Auth:
    """Sign in and out through the real forms."""

    def __init__(self, client):
        self.client = client

    def login(self, email: str, password: str = PASSWORD):
        page = self.client.get("/login")
        token = csrf_from(page.get_data(as_text=True))
        return self.client.post(
            "/login", data={"email": email, "password": password, "csrf_token": token}
        )

    def logout(self):
        page = self.client.get("/profile")
        token = csrf_from(page.get_data(as_text=True))
        return self.client.post("/logout", data={"csrf_token": token})


@pytest.fixture
def auth(client):
    return Auth(client)


@pytest.fixture
def clock_at() -> datetime:
    """Where ``frozen`` stops the clock; a test package overrides it to set the
    scene (a Thursday morning before a mixer, early April for last month's award)."""
    return NOW


@pytest.fixture
def frozen(app, clock_at):
    """The clock stopped at ``clock_at`` for the test; yields that instant."""
    clock.freeze(clock_at)
    yield clock_at
    clock.reset()


@pytest.fixture
def org(make_org):
    """Acme, the organization most tests happen in."""
    return make_org(slug="acme", name="Acme")


@pytest.fixture
def organizer(org, make_user):
    """Olga Organizer, an organizer of Acme (signs in with ``PASSWORD``)."""
    return make_user(org, role="organizer", name="Olga Organizer")


@pytest.fixture
def make_org(app):
    """Create an organization: ``make_org(slug="acme", name=..., kind=...)``."""
    from mixer.orgs.services import create_organization

    counter = iter(range(1, 10_000))

    def factory(**kw):
        n = next(counter)
        kw.setdefault("slug", f"org{n}")
        kw.setdefault("name", f"Organization {n}")
        kw.setdefault("charter", "We give ten minutes a week to help someone grow.")
        org = create_organization(**kw)
        db.session.commit()
        return org

    return factory


@pytest.fixture
def make_user(app):
    """Create a member: ``make_user(org, role="organizer", email=..., ...)``."""
    from mixer.orgs.services import add_member

    counter = iter(range(1, 100_000))

    def factory(org, role: str = "member", password: str | None = PASSWORD, **kw):
        n = next(counter)
        kw.setdefault("email", f"person{n}@{org.slug}.example.org")
        kw.setdefault("name", f"Person {n}")
        membership = add_member(org, role=role, password=password, **kw)
        db.session.commit()
        return membership.user

    return factory


@pytest.fixture
def outbox(app):
    """A callable returning queued/sent mail as parsed ``EmailMessage`` objects."""
    from sqlalchemy import select

    from mixer.mail.models import OutboxMessage

    def read(to: str | None = None):
        db.session.expire_all()
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if to:
            query = query.where(OutboxMessage.to_addr == to)
        return [
            email.message_from_bytes(m.raw, policy=email.policy.default)
            for m in db.session.scalars(query)
        ]

    return read


@pytest.fixture
def make_event(app):
    """``make_event(org, creator=None, **fields)``: a published lunch-and-learn
    tomorrow at noon UTC with 10 seats unless told otherwise."""
    from mixer.events.lifecycle import create_event

    def factory(org, creator=None, **kw):
        start = kw.pop(
            "starts_at", clock.now().replace(microsecond=0) + timedelta(days=1)
        )
        kw.setdefault("kind", "lunch_and_learn")
        kw.setdefault("title", "Negotiation over lunch")
        kw.setdefault("ends_at", start + timedelta(hours=1))
        kw.setdefault("timezone", "Europe/London")
        kw.setdefault("capacity", 10)
        kw.setdefault("status", "published")
        event = create_event(org, creator, starts_at=start, **kw)
        db.session.commit()
        return event

    return factory


@pytest.fixture
def make_registration(app):
    """``make_registration(event, email=..., name=..., source="organizer")``."""
    from mixer.events.registration import register

    counter = iter(range(1, 1_000_000))

    def factory(event, **kw):
        n = next(counter)
        kw.setdefault("email", f"guest{n}@example.org")
        kw.setdefault("name", f"Guest {n}")
        kw.setdefault("source", "organizer")
        reg = register(event, **kw)
        db.session.commit()
        return reg

    return factory


@pytest.fixture
def token_for(app):
    """``token_for(user, org)`` → a bearer secret (committed)."""

    def make(user, org) -> str:
        _, secret = create_api_token(user, org, "test")
        db.session.commit()
        return secret

    return make
