"""A real HTTP server for tests that need one (browsers, concurrent clients).

The root ``conftest.py`` loads this module as a plugin, so every test can use
the fixtures ``live_server``, ``live_app`` and ``browser``.

``live_server`` serves the app built from the test's ``app_config`` (the same
database the ``app`` fixture uses) with a threaded werkzeug server on a free
port, and yields its base URL (``BASE_URL`` points there, so links in e-mails
work). ``live_app`` is that application object.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from werkzeug.serving import make_server

from mixer import create_app
from mixer.extensions import db

BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def live_app(app_config) -> Iterator[Flask]:
    """The application a live server runs (separate from the ``app`` fixture's)."""
    application = create_app(dict(app_config))
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def live_server(live_app: Flask) -> Iterator[str]:
    """Serve ``live_app`` on 127.0.0.1 in a thread; yields the base URL."""
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    live_app.config["BASE_URL"] = url
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def browser():
    """A headless Debian Chromium driven by Playwright (closed after the test)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()
