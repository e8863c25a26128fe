"""``/metrics`` and ``/readyz``: for Prometheus and for the load balancer."""

from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify

from mixer.extensions import csrf, limiter
from mixer.observability import health, metrics

bp = Blueprint("observability", __name__)


@bp.get("/metrics")
@limiter.exempt
def metrics_text():
    """Prometheus text exposition, for a token or an allowed address only."""
    refused = metrics.refusal()
    if refused is not None:
        code, reason = refused
        if code == 404:
            abort(404)
        headers = {"WWW-Authenticate": "Bearer"} if code == 401 else {}
        return Response(reason + "\n", code, headers, mimetype="text/plain")
    body, content_type = metrics.exposition()
    return Response(body, 200, content_type=content_type)


@bp.get("/readyz")
@limiter.exempt
def readyz():
    """Every dependency checked: 200, or 503 naming the failing parts."""
    answer, code = health.readiness()
    return jsonify(answer), code


csrf.exempt(bp)
