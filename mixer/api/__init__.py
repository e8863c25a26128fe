"""The ``/api/v1`` API: bearer-token auth, one error shape, OpenAPI 3 from the code.

Each feature keeps its endpoints in its own ``<feature>/api.py`` as a flask-smorest
``Blueprint`` (made with ``mixer.api.blueprint``); ``init_api`` registers them all.
"""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api
from flask_smorest import Blueprint as SmorestBlueprint
from webargs.flaskparser import FlaskParser

from mixer.extensions import api, csrf


class Parser(FlaskParser):
    """webargs parser that answers bad input with 400 (not 422)."""

    DEFAULT_VALIDATION_STATUS = 400


class Blueprint(SmorestBlueprint):
    """An API blueprint whose validation errors are 400s in Mixer's error shape."""

    ARGUMENTS_PARSER = Parser()


def blueprint(name: str, import_name: str, description: str) -> Blueprint:
    """Make a feature's API blueprint (its URL prefix is given at registration)."""
    return Blueprint(name, import_name, description=description)


def _blueprints() -> list[tuple[Blueprint, str]]:
    from mixer.accounts.api import blp as accounts_blp
    from mixer.api.views import blp as base_blp
    from mixer.events.api import blp as events_blp
    from mixer.orgs.api import blp as orgs_blp

    return [
        (base_blp, "/api/v1"),
        (accounts_blp, "/api/v1"),
        (orgs_blp, "/api/v1"),
        (events_blp, "/api/v1"),
    ]


def init_api(app: Flask) -> None:
    """Bind flask-smorest, declare bearer auth, register every API blueprint."""
    api.init_app(
        app,
        spec_kwargs={
            "info": {
                "description": "Mixer's HTTP API. Authenticate with "
                "`Authorization: Bearer <token>`; create tokens on your profile page "
                "or with `mixer create-token`. Errors always look like "
                '`{"error": {"code", "message", "fields"}}`.'
            }
        },
    )
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "mxr_…"}
    )
    api.spec.options["security"] = [{"bearerAuth": []}]
    for blp, prefix in _blueprints():
        csrf.exempt(blp)  # bearer tokens, never cookies, authenticate the API
        api.register_blueprint(blp, url_prefix=prefix)


__all__ = ["Api", "Blueprint", "blueprint", "init_api"]
