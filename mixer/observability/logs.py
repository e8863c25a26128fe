"""Request ids, one log line per request, and JSON lines (``LOG_FORMAT=json``).

Every request gets an id: a sane ``X-Request-Id`` from the proxy in front (1 to
128 letters, digits and ``-_.:``), else a new random one. It is sent back as
``X-Request-Id`` and put on every log line written while the request runs.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import traceback
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, has_request_context, request
from flask.logging import default_handler

from mixer.observability.metrics import observe_request

REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._:-]{1,128}")
SECRET_ARGS = frozenset({"token"})  # /c/<token>, /login/magic/<token>, …

request_log = logging.getLogger("mixer.request")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the request id
    when there is a request, the record's ``extra`` fields, and the traceback
    of an error."""

    RESERVED = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message"}

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context() and "request_id" in g.__dict__:
            line["request_id"] = g.__dict__["request_id"]
        for key, value in vars(record).items():
            if key not in self.RESERVED and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["error"] = repr(record.exc_info[1])
            line["traceback"] = "".join(traceback.format_exception(*record.exc_info))
        return json.dumps(line, default=str, ensure_ascii=False)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is now (a test's capture, gunicorn's)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def configure(app: Flask) -> None:
    """With ``LOG_FORMAT=json``, the root logger writes JSON lines to stderr at
    INFO (once per process, whatever number of applications is built)."""
    if str(app.config.get("LOG_FORMAT") or "text").lower() != "json":
        return
    root = logging.getLogger()
    if not any(isinstance(h, _StderrHandler) for h in root.handlers):
        handler = _StderrHandler()
        handler.setFormatter(JsonFormatter())
        # Flask's own handler (and any plain one) would write the lines twice.
        for old in list(root.handlers):
            if type(old) is logging.StreamHandler:
                root.removeHandler(old)
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    app.logger.removeHandler(default_handler)  # Flask's: it would write text lines


def init_app(app: Flask) -> None:
    """Time every request, give it an id, count it and log it."""
    configure(app)
    # First of all the request hooks: a refusal by an earlier hook is timed too.
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request(_finish)


def _start() -> None:
    g.request_started = time.perf_counter()
    given = request.headers.get("X-Request-Id", "")
    g.request_id = given if REQUEST_ID_RE.fullmatch(given) else uuid.uuid4().hex


def _finish(response: Response) -> Response:
    started = g.__dict__.get("request_started")
    if started is None:  # the request never reached the hooks
        return response
    seconds = time.perf_counter() - started
    endpoint = request.url_rule.endpoint if request.url_rule else None
    observe_request(endpoint, request.method, response.status_code, seconds)
    response.headers["X-Request-Id"] = g.request_id
    if request_log.isEnabledFor(logging.INFO):
        request_log.info(
            "%s %s %s",
            request.method,
            _path(),
            response.status_code,
            extra={
                "method": request.method,
                "path": _path(),
                "endpoint": endpoint,
                "status": response.status_code,
                "duration_ms": round(seconds * 1000, 2),
                "user_id": _user_id(),
                "client": request.remote_addr,
            },
        )
    return response


def _path() -> str:
    """The path without its secrets (tokens in the URL): never logged."""
    path = request.path
    for name, value in (request.view_args or {}).items():
        if name in SECRET_ARGS and value:
            path = path.replace(str(value), "[token]")
    return path


def _user_id() -> int | None:
    """The signed-in person's or API caller's id, if the request already knew it
    (never loaded just for the log line)."""
    user_id = g.__dict__.get("user_id")  # the API's caller
    if user_id is not None:
        return int(user_id)
    user = g.__dict__.get("_login_user")  # Flask-Login, once a view asked
    if user is not None and getattr(user, "is_authenticated", False):
        return int(user.id)
    return None
