"""API root and the readable API docs page."""

from __future__ import annotations

from flask import g

from mixer.api import blueprint
from mixer.api.auth import token_required

blp = blueprint("api", __name__, "API root: who am I, which organization.")


@blp.route("/")
@blp.doc(security=[{"bearerAuth": []}])
@token_required()
def root():
    """Say which organization and person the token belongs to."""
    return {
        "version": "v1",
        "organization": {"id": g.org.id, "slug": g.org.slug, "name": g.org.name},
        "user": {"id": g.user.id, "name": g.user.name, "role": g.membership.role},
    }
