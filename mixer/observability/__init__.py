"""Watching Mixer run: metrics, request logs, readiness and error reports.

``init_app`` wires it all; ``docs/operations.md`` says what an operator gets.
The parts: ``metrics`` (Prometheus), ``logs`` (request ids, JSON lines),
``health`` (readiness checks), ``workers`` (job worker heartbeats), ``sentry``.
"""

from __future__ import annotations

from flask import Flask

from mixer.observability import logs, metrics, sentry
from mixer.observability.views import bp


def init_app(app: Flask) -> None:
    """Request ids and logs, metrics, ``/metrics`` and ``/readyz``, Sentry."""
    metrics.init_access(app)
    logs.init_app(app)
    app.register_blueprint(bp)
    sentry.init_app(app)
