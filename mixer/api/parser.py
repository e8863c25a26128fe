"""Reading request input for the API (webargs), with Mixer's answers to bad input."""

from __future__ import annotations

import json
from typing import Any, NoReturn

import flask
from webargs import core
from webargs.flaskparser import FlaskParser

from mixer.api.errors import api_abort


class Parser(FlaskParser):
    """webargs parser: bad input is 400 (not 422), a non-JSON body is 415."""

    DEFAULT_VALIDATION_STATUS = 400

    def _raw_load_json(self, req: flask.Request) -> Any:
        # webargs would quietly treat a form-encoded body as "no body" and report
        # missing fields; saying what is wrong saves the client a puzzle. A request
        # with no body at all is an empty JSON object (optional bodies stay optional).
        if not core.is_json(req.mimetype):
            if not req.mimetype and not req.get_data(cache=True):
                return core.missing
            sent = req.mimetype or "no Content-Type"
            api_abort(
                415,
                f"Send the request body as JSON with 'Content-Type: "
                f"application/json' (got {sent}).",
            )
        return core.parse_json(req.get_data(cache=True))

    def _handle_invalid_json_error(
        self,
        error: json.JSONDecodeError | UnicodeDecodeError,
        req: flask.Request,
        *args: Any,
        **kwargs: Any,
    ) -> NoReturn:
        detail = (
            f"{error.msg} at line {error.lineno} column {error.colno}"
            if isinstance(error, json.JSONDecodeError)
            else "it is not UTF-8 text"
        )
        api_abort(
            400, f"The request body is not valid JSON: {detail}.", code="invalid_json"
        )


parser = Parser()
