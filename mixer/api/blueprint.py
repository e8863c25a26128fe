"""The API blueprint class every feature's ``api.py`` uses."""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from functools import wraps
from typing import Any, NoReturn

import marshmallow as ma
from flask import request
from flask_smorest import Blueprint as SmorestBlueprint

from mixer.api.errors import api_abort
from mixer.api.pagination import paginated
from mixer.api.parser import parser


class Blueprint(SmorestBlueprint):
    """A flask-smorest blueprint speaking Mixer's dialect: 400/415 for bad input,
    one error shape, page-number pagination with ``Link`` headers."""

    ARGUMENTS_PARSER = parser
    PAGINATION_ARGUMENTS_PARSER = parser
    PAGINATION_HEADER_NAME = None  # we send RFC 8288 Link headers instead

    def arguments(self, schema, *, location: str = "json", **kwargs: Any) -> Callable:
        """flask-smorest's ``arguments``; a JSON body also documents 413 and 415,
        and a body the document calls required (the default) is refused with 400
        when it is left out (``required=False`` for a body that may be).

        A schema class is made an instance here, once: webargs would otherwise
        build one for every request (a fifth of a check-in's parsing).
        """
        if isinstance(schema, type):
            schema = schema()
        parse = super().arguments(schema, location=location, **kwargs)
        if location != "json":
            return parse
        required = kwargs.get("required", True)

        def decorator(func: Callable) -> Callable:
            wrapper = parse(func)
            if required:
                wrapper = _body_required(wrapper)
            wrapper._apidoc = deepcopy(wrapper._apidoc)  # not the inner one's dict
            responses = wrapper._apidoc.setdefault("response", {}).setdefault(
                "responses", {}
            )
            responses.setdefault(413, []).append("REQUEST_ENTITY_TOO_LARGE")
            responses.setdefault(415, []).append("UNSUPPORTED_MEDIA_TYPE")
            return wrapper

        return decorator

    def add_url_rule(self, rule, endpoint=None, view_func=None, *args, **kwargs):
        """Register the view; query parameters it does not document are refused."""
        if view_func is not None:
            view_func = _known_query(view_func)
        return super().add_url_rule(rule, endpoint, view_func, *args, **kwargs)

    def paginated(self, item_schema: type[ma.Schema]) -> Callable:
        """Serve the view's ``Select`` (or list) page by page; see ``pagination``."""
        return paginated(self, item_schema)

    def paginate(self, *args: Any, **kwargs: Any) -> NoReturn:
        """Not used in Mixer: ``paginated`` gives the body and headers we document."""
        raise NotImplementedError("Use blp.paginated(ItemSchema) in Mixer's API.")

    def _document_pagination_metadata(self, spec, resp_doc) -> None:
        resp_doc.setdefault("headers", {})["Link"] = "LINK"


def blueprint(name: str, import_name: str, description: str) -> Blueprint:
    """Make a feature's API blueprint (its URL prefix is given at registration)."""
    return Blueprint(name, import_name, description=description)


def _body_required(view: Callable) -> Callable:
    """Refuse a request without the JSON body the view requires (webargs would
    read no body as ``{}``, which a schema of optional fields accepts)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        # A form body has been parsed (and its stream read) by mixer.hostile by
        # now: its length still says a body came, and the parser answers 415.
        if not (request.content_length or request.form or request.get_data(cache=True)):
            api_abort(
                400,
                f"{request.method} {request.path} needs a JSON body "
                "(Content-Type: application/json); none was sent.",
                code="missing_body",
            )
        return view(*args, **kwargs)

    return wrapper


def _query_names(view: Callable) -> set[str]:
    """The query parameters ``view`` documents (its query schemas, pagination)."""
    doc = getattr(view, "_apidoc", {})
    schemas = [
        p["schema"]
        for p in doc.get("arguments", {}).get("parameters", [])
        if p.get("in") == "query"
    ]
    if "pagination" in doc:
        schemas.append(doc["pagination"]["parameters"]["schema"])
    names: set[str] = set()
    for schema in schemas:
        fields = (schema() if isinstance(schema, type) else schema).fields
        names.update(f.data_key or name for name, f in fields.items())
    return names


def _known_query(view: Callable) -> Callable:
    """Refuse query parameters the view does not document (400 naming them), as
    unknown JSON fields are: a misspelt filter must not silently list everything."""
    known = _query_names(view)

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        unknown = sorted(set(request.args) - known)
        if unknown:
            api_abort(
                400,
                "Unknown query parameter(s): "
                + ", ".join(repr(name) for name in unknown)
                + (f"; this URL takes {', '.join(sorted(known))}." if known else "."),
                code="invalid_input",
                fields={name: ["Unknown parameter."] for name in unknown},
            )
        return view(*args, **kwargs)

    return wrapper
