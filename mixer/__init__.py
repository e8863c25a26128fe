"""Mixer: micro-mentoring events and the pairs that keep talking afterwards."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the application: config, extensions, blueprints, CLI."""
    instance_path = os.environ.get("MIXER_INSTANCE_PATH") or str(ROOT / "instance")
    if test_config and test_config.get("INSTANCE_PATH"):
        instance_path = test_config["INSTANCE_PATH"]
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(Path(instance_path).resolve()),
        instance_relative_config=True,
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    from mixer.urls import IdConverter

    # Before any route is added: every ``<int:...>`` is an id within the
    # databases' range (a larger one is a 404, not a database error).
    app.url_map.converters["int"] = IdConverter

    from mixer import config

    config.load(app, test_config)
    if hops := int(app.config["PROXY_HOPS"]):
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )

    from sqlalchemy.orm import configure_mappers

    from mixer import models  # noqa: F401  (every feature's tables on the metadata)

    # Relationships are resolved here, once, not by the first request that uses
    # the ORM (about 0.13 s; with concurrent first requests, ten times that).
    configure_mappers()
    from mixer.extensions import csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    _sqlite_pragmas(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    from mixer import storage

    storage.init_app(app)
    login_manager.init_app(app)
    from mixer import i18n

    i18n.init_app(app)  # Flask-Babel: the locale of each page and e-mail

    # Each feature's pages, API, job handlers and signal listeners: imported here
    # (and only here), so that no feature needs to import another to be complete.
    from mixer.accounts import api as accounts_api
    from mixer.accounts.views import bp as accounts_bp
    from mixer.api import init_api
    from mixer.asks import jobs as asks_jobs  # noqa: F401
    from mixer.asks.views import bp as asks_bp
    from mixer.audit.views import bp as audit_bp
    from mixer.badges import jobs as badges_jobs  # noqa: F401
    from mixer.badges.views import bp as badges_bp
    from mixer.charter.views import bp as charter_bp
    from mixer.checkin import api as checkin_api
    from mixer.checkin.views import bp as checkin_bp
    from mixer.events import api as events_api
    from mixer.events import jobs as events_jobs  # noqa: F401
    from mixer.events import listeners as events_listeners  # noqa: F401
    from mixer.events.views import bp as events_bp
    from mixer.followup import api as followup_api
    from mixer.followup import jobs as followup_jobs  # noqa: F401
    from mixer.followup import listeners as followup_listeners  # noqa: F401
    from mixer.followup.views import bp as followup_bp
    from mixer.freebusy import jobs as freebusy_jobs  # noqa: F401
    from mixer.freebusy.views import bp as freebusy_bp
    from mixer.insights import api as insights_api
    from mixer.insights import listeners as insights_listeners  # noqa: F401
    from mixer.insights.views import bp as insights_bp
    from mixer.main.views import bp as main_bp
    from mixer.orgs import api as orgs_api
    from mixer.orgs.views import bp as orgs_bp
    from mixer.outbox.views import bp as outbox_bp
    from mixer.pairs import api as pairs_api
    from mixer.pairs import jobs as pairs_jobs  # noqa: F401
    from mixer.pairs import listeners as pairs_listeners  # noqa: F401
    from mixer.pairs.views import bp as pairs_bp
    from mixer.privacy import jobs as privacy_jobs  # noqa: F401
    from mixer.privacy.views import bp as privacy_bp
    from mixer.recognition import jobs as recognition_jobs  # noqa: F401
    from mixer.recognition import listeners as recognition_listeners  # noqa: F401
    from mixer.recognition.views import bp as recognition_bp
    from mixer.roster import jobs as roster_jobs  # noqa: F401
    from mixer.roster.views import bp as roster_bp
    from mixer.rotations import api as rotations_api
    from mixer.rotations import jobs as rotations_jobs  # noqa: F401
    from mixer.rotations.views import bp as rotations_bp
    from mixer.slots import jobs as slots_jobs  # noqa: F401
    from mixer.slots import listeners as slots_listeners  # noqa: F401
    from mixer.slots.views import bp as slots_bp
    from mixer.speakers import api as speakers_api
    from mixer.speakers import jobs as speakers_jobs  # noqa: F401
    from mixer.speakers.views import bp as speakers_bp
    from mixer.sso import listeners as sso_listeners  # noqa: F401
    from mixer.sso.views import bp as sso_bp
    from mixer.webhooks import jobs as webhooks_jobs  # noqa: F401
    from mixer.webhooks import listeners as webhooks_listeners  # noqa: F401
    from mixer.webhooks.views import bp as webhooks_bp

    for blueprint in (
        main_bp,
        accounts_bp,
        orgs_bp,
        events_bp,
        outbox_bp,
        badges_bp,
        checkin_bp,
        speakers_bp,
        rotations_bp,
        followup_bp,
        pairs_bp,
        recognition_bp,
        asks_bp,
        slots_bp,
        insights_bp,
        webhooks_bp,
        privacy_bp,
        sso_bp,
        audit_bp,
        charter_bp,
        roster_bp,
        freebusy_bp,
    ):
        app.register_blueprint(blueprint)
    init_api(
        app,
        (
            accounts_api.root_blp,
            orgs_api.blp,
            accounts_api.blp,
            events_api.blp,
            checkin_api.blp,
            speakers_api.blp,
            rotations_api.blp,
            followup_api.blp,
            pairs_api.blp,
            insights_api.blp,
        ),
    )

    from mixer import web

    web.init_app(app)  # after the API, so our error pages win over flask-smorest's

    from mixer.accounts import browser

    browser.init_app(app)  # sign-in records checked; no-store for signed-in answers

    from mixer import observability

    observability.init_app(app)  # request ids and logs, /metrics, /readyz, Sentry

    from mixer.cli import register_commands

    register_commands(app)
    return app


def _sqlite_pragmas(app: Flask) -> None:
    """WAL lets readers and one writer work at once; foreign keys are enforced."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    from sqlalchemy import event

    from mixer.extensions import db

    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")  # safe with WAL; no sync per commit
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "savepoint")
    def _begin_before_savepoint(conn, _name) -> None:
        # The sqlite3 module opens a transaction only before INSERT/UPDATE/DELETE,
        # so a SAVEPOINT as a transaction's first write would start its own
        # transaction, and its RELEASE would commit it for good: a later rollback
        # could no longer undo the work of ``begin_nested()``. Open one first.
        dbapi_conn = conn.connection.dbapi_connection
        if not dbapi_conn.in_transaction:
            dbapi_conn.execute("BEGIN")
