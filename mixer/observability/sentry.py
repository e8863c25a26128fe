"""Errors to Sentry when ``SENTRY_DSN`` is set (sentry-sdk, an optional
dependency: ``pip install 'mixer[sentry]'``). Without a DSN nothing is imported."""

from __future__ import annotations

import importlib

from flask import Flask, g


def init_app(app: Flask) -> None:
    """Start the Sentry SDK with its Flask integration (unhandled errors, with the
    request id as a tag); the SDK's defaults send no personal data."""
    dsn = app.config.get("SENTRY_DSN")
    if not dsn:
        return
    try:
        sentry_sdk = importlib.import_module("sentry_sdk")
        flask_integration = importlib.import_module("sentry_sdk.integrations.flask")
    except ImportError as exc:
        raise RuntimeError(
            "SENTRY_DSN is set but sentry-sdk is not installed: "
            "pip install 'sentry-sdk[flask]' (or unset SENTRY_DSN)."
        ) from exc
    sentry_sdk.init(
        dsn=dsn,
        integrations=[flask_integration.FlaskIntegration()],
        environment=app.config["ENV_NAME"],
        traces_sample_rate=float(app.config.get("SENTRY_TRACES_SAMPLE_RATE") or 0),
    )

    @app.before_request
    def _tag_request_id() -> None:
        sentry_sdk.set_tag("request_id", g.get("request_id"))
