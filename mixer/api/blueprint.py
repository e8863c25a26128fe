"""The API blueprint class every feature's ``api.py`` uses."""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from typing import Any, NoReturn

import marshmallow as ma
from flask_smorest import Blueprint as SmorestBlueprint

from mixer.api.pagination import paginated
from mixer.api.parser import parser


class Blueprint(SmorestBlueprint):
    """A flask-smorest blueprint speaking Mixer's dialect: 400/415 for bad input,
    one error shape, page-number pagination with ``Link`` headers."""

    ARGUMENTS_PARSER = parser
    PAGINATION_ARGUMENTS_PARSER = parser
    PAGINATION_HEADER_NAME = None  # we send RFC 8288 Link headers instead

    def arguments(self, schema, *, location: str = "json", **kwargs: Any) -> Callable:
        """flask-smorest's ``arguments``; a JSON body also documents 413 and 415."""
        parse = super().arguments(schema, location=location, **kwargs)
        if location != "json":
            return parse

        def decorator(func: Callable) -> Callable:
            wrapper = parse(func)
            wrapper._apidoc = deepcopy(wrapper._apidoc)  # not the inner one's dict
            responses = wrapper._apidoc.setdefault("response", {}).setdefault(
                "responses", {}
            )
            responses.setdefault(413, []).append("REQUEST_ENTITY_TOO_LARGE")
            responses.setdefault(415, []).append("UNSUPPORTED_MEDIA_TYPE")
            return wrapper

        return decorator

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
