"""Answers nginx gives in Mixer's words when the request never reaches Mixer.

nginx refuses an upload above ``client_max_body_size`` itself, and answers 502 or
504 itself while gunicorn restarts. ``mixer proxy-pages DEST`` writes those
answers, rendered by the application with its own templates, error shape and
current settings (``MAX_UPLOAD_MB``), as static files that the site in
``deploy/nginx/mixer.conf`` serves with ``error_page``: ``413.html`` and
``413.json``, ``502.html`` and ``502.json`` (JSON for ``/api`` and for clients
that send or ask for JSON, as ``mixer.web.wants_json`` decides for the app's own
errors). docs/deployment.md "Behind nginx".
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app, render_template
from flask.cli import with_appcontext
from werkzeug.exceptions import RequestEntityTooLarge

from mixer import web

UNAVAILABLE = "Mixer is restarting or busy. Please try again in a moment."


def render_proxy_pages(app: Flask) -> dict[str, bytes]:
    """The static answers, by file name, as the application would give them."""
    pages: dict[str, bytes] = {}
    with app.test_request_context("/"):
        body, _status = web._http_error(RequestEntityTooLarge())
        pages["413.html"] = body.encode()
        page = render_template("errors/503.html", message=UNAVAILABLE)
        pages["502.html"] = page.replace('href="/?"', 'href="/"').encode()
    with app.test_request_context("/api/v1/"):
        response, _status, _headers = web._http_error(RequestEntityTooLarge())
        pages["413.json"] = response.get_data()
        response, _status, _headers = web.json_error(502, "unavailable", UNAVAILABLE)
        pages["502.json"] = response.get_data()
    return pages


@click.command("proxy-pages")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def proxy_pages(dest: Path) -> None:
    """Write the pages nginx answers with itself (too large, restarting) to DEST."""
    dest.mkdir(parents=True, exist_ok=True)
    for name, content in render_proxy_pages(current_app).items():
        (dest / name).write_bytes(content)
        (dest / name).chmod(0o644)  # read by nginx's own user
    click.echo(f"Wrote the proxy's error pages to {dest}.")
