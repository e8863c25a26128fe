"""The ``/api/v1`` API: bearer-token auth, one error shape, OpenAPI 3 from the code.

Each feature keeps its endpoints in its own ``<feature>/api.py`` as a blueprint
made with :func:`blueprint`; ``create_app`` hands them to :func:`init_api`. This
package knows no feature: bearer-token auth is ``mixer.accounts.api_auth``.
``docs/api.md`` is the guide for people calling the API and for people adding
endpoints.
"""

from __future__ import annotations

from collections.abc import Iterable

from apispec import BasePlugin
from flask import Flask
from flask_smorest import Api as SmorestApi

from mixer.api.blueprint import Blueprint, blueprint
from mixer.api.docs import docs_bp
from mixer.api.errors import api_abort
from mixer.api.pagination import LINK_HEADER
from mixer.api.schemas import ErrorSchema, Id, Schema
from mixer.extensions import csrf

API_PREFIX = "/api/v1"

DESCRIPTION = """\
Mixer's HTTP API. Every call works inside one organization: the one the token
belongs to. Objects of other organizations do not exist for it (404).

**Authentication.** Send `Authorization: Bearer <token>`. Create a token on your
profile page or with `mixer create-token EMAIL --org SLUG`; it acts with your role.

**Errors** always have the body
`{"error": {"code": "...", "message": "...", "fields": {"name": ["..."]}}}`:
400 bad input (`fields` says which), 401 missing or invalid token, 403 role too low,
404 not found, 405 method not allowed, 409 conflict, 413 body too large,
415 body is not JSON, 429 too many requests (with `Retry-After`), 503 the database
is briefly unavailable (with `Retry-After`; try again).
Unknown fields in a JSON body and unknown query parameters are refused with 400,
and so is a request that leaves out a required JSON body (`missing_body`).
No text may contain a NUL character (U+0000) or a lone surrogate, and JSON may nest
at most 32 levels: such input is refused with 400 naming the field.

**Lists** are paginated with `?page=` and `?per_page=` (at most 100). The body is
`{"items": [...], "page", "per_page", "total", "pages"}` and the `Link` header has
`first`, `prev`, `next` and `last` URLs.
"""


class SchemaExtras(BasePlugin):
    """Adds a schema class's ``OPENAPI`` dict to its component in the document,
    for rules marshmallow cannot state (``anyOf`` one of two fields)."""

    def schema_helper(self, name, definition, **kwargs):
        schema = kwargs.get("schema")
        cls = schema if isinstance(schema, type) else type(schema)
        return getattr(cls, "OPENAPI", None)


class Api(SmorestApi):
    """flask-smorest's Api documenting Mixer's error body and serving no CDN UIs.

    Errors are rendered by ``mixer.web`` for the whole app, so flask-smorest's own
    handler is not installed. The docs page is ``/api/v1/docs`` (vendored
    Swagger UI, ``mixer.api.docs``), so flask-smorest's ReDoc, Swagger UI and
    RapiDoc routes, which load scripts from CDNs, are never registered.
    """

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self) -> None:
        pass

    def _register_redoc_rule(self, blueprint) -> None:
        pass

    def _register_swagger_ui_rule(self, blueprint) -> None:
        pass

    def _register_rapidoc_rule(self, blueprint) -> None:
        pass

    def _register_responses(self) -> None:
        super()._register_responses()
        self.spec.components.header("LINK", LINK_HEADER, lazy=True)

    def _register_pagination_header(self) -> None:
        pass  # X-Pagination is not used: lists carry their counts and Link headers


def init_api(app: Flask, blueprints: Iterable[Blueprint]) -> Api:
    """Create this app's Api, declare bearer auth, register the API blueprints
    (each feature's ``api.py``; ``create_app`` lists them)."""
    # One Api per app: its spec is built from this app's routes and config.
    api = Api(
        app,
        spec_kwargs={
            "info": {"description": DESCRIPTION},
            "security": [{"bearerAuth": []}],
            "extra_plugins": [SchemaExtras()],
        },
    )
    api.spec.components.security_scheme(
        "bearerAuth",
        {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "mxr_…",
            "description": "An API token from your profile page or "
            "`mixer create-token`.",
        },
    )
    for blp in blueprints:
        csrf.exempt(blp)  # bearer tokens, never cookies, authenticate the API
        api.register_blueprint(blp, url_prefix=API_PREFIX)
    app.register_blueprint(docs_bp, url_prefix=API_PREFIX)
    app.extensions["mixer-api"] = api
    return api


__all__ = [
    "API_PREFIX",
    "Api",
    "Blueprint",
    "Id",
    "Schema",
    "api_abort",
    "blueprint",
    "init_api",
]
