"""A real HTTP server for tests that need one (browsers, concurrent clients).

The root ``conftest.py`` loads this module as a plugin, so every test can use
the fixtures ``live_server``, ``live_app`` and ``browser``.

``live_server`` serves the app built from the test's ``app_config`` (the same
database the ``app`` fixture uses) with a threaded werkzeug server on a free
port, and yields its base URL (``BASE_URL`` points there, so links in e-mails
work). ``live_app`` is that application object.

When a test ends, every request the server is still answering finishes and its
thread is joined before ``live_app``'s engine is disposed: a request thread left
running would keep a pooled database connection that the garbage collector
closes later, with a ResourceWarning in some unrelated test.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from flask import Flask
from werkzeug.serving import ThreadedWSGIServer

from mixer.extensions import db
from tests.templates_cache import build_app

BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
CHROMIUM = "/usr/bin/chromium"
# How long a request still being answered at the end of a test may take to finish
# before its connection is cut.
FINISH_GRACE = 10.0


class LiveServer(ThreadedWSGIServer):
    """werkzeug's threaded server that can end and join its request threads.

    werkzeug runs each connection in a daemon thread that nobody joins, and as it
    speaks HTTP/1.1 a keep-alive connection (Chromium keeps several) holds its
    thread until the client hangs up. ``finish_requests`` ends them all instead.
    """

    daemon_threads = False

    def __init__(self, *args, **kwargs) -> None:
        """Bind like ``ThreadedWSGIServer``; start with no open connections."""
        super().__init__(*args, **kwargs)
        self._lock = threading.Lock()
        self._connections: dict[socket.socket, threading.Thread] = {}

    def process_request(self, request, client_address) -> None:
        """Answer the connection in a thread that ``finish_requests`` can find."""
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name=f"live-server request {client_address}",
            daemon=self.daemon_threads,
        )
        with self._lock:
            self._connections[request] = thread
        thread.start()

    def shutdown_request(self, request) -> None:
        """Forget the connection, then close it (its thread is ending)."""
        with self._lock:
            self._connections.pop(request, None)
        super().shutdown_request(request)

    def finish_requests(self, grace: float = FINISH_GRACE) -> None:
        """End every open connection and join its thread; call after ``shutdown``.

        Closing the reading side lets a request being answered write its
        response, while an idle keep-alive connection reads end-of-file and its
        thread returns. A request still running after ``grace`` seconds has its
        connection cut; a thread that survives even that fails the test rather
        than hanging it.
        """
        self._cut(socket.SHUT_RD)
        if self._join(grace):
            return
        self._cut(socket.SHUT_RDWR)
        if not self._join(5.0):
            with self._lock:
                names = [thread.name for thread in self._connections.values()]
            raise RuntimeError(f"live server requests did not finish: {names}")

    def _cut(self, how: int) -> None:
        """Shut down one or both directions of every open connection."""
        with self._lock:
            for request in self._connections:
                try:
                    request.shutdown(how)
                except OSError:
                    pass  # the client hung up or the thread is closing it itself

    def _join(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the request threads; all done?"""
        deadline = time.monotonic() + timeout
        with self._lock:
            threads = list(self._connections.values())
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in threads)


class Buffered:
    """WSGI middleware: the whole body in memory, the app's iterable closed at once.

    werkzeug's server closes the iterable in a ``finally`` that first drains the
    socket; when ``finish_requests`` has cut a connection that draining raises,
    ``close()`` is skipped, and a static file's handle is left for the garbage
    collector (a ResourceWarning, an error under ``filterwarnings = error``, in
    whichever test runs then). Test pages and downloads are small.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app

    def __call__(self, environ, start_response):
        body = self.app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()


@pytest.fixture
def live_app(app_config) -> Iterator[Flask]:
    """The application a live server runs (separate from the ``app`` fixture's)."""
    application = build_app(dict(app_config))
    yield application
    with application.app_context():
        # Every request has ended (``live_server`` joined them) and its session
        # was removed at teardown_appcontext, so no connection may be out now.
        checked_out = getattr(db.engine.pool, "checkedout", lambda: 0)()
        db.engine.dispose()
    assert checked_out == 0, f"{checked_out} database connection(s) still in use"


@pytest.fixture
def live_server(live_app: Flask) -> Iterator[str]:
    """Serve ``live_app`` on 127.0.0.1 in a thread; yields the base URL."""
    server = LiveServer("127.0.0.1", 0, Buffered(live_app))
    url = f"http://127.0.0.1:{server.server_port}"
    live_app.config["BASE_URL"] = url
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    # A short poll interval: ``shutdown`` waits up to one interval at every teardown.
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="live-server",
        daemon=True,
    )
    thread.start()
    try:
        yield url
    finally:
        # Stop accepting (serve_forever closes the listening socket on its way
        # out), then let the requests in progress finish.
        server.shutdown()
        thread.join(timeout=10)
        server.finish_requests()


@pytest.fixture(scope="session")
def playwright():
    """Playwright, started once per test process (it allows one at a time). A test
    that needs Chromium with other arguments launches it from here."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as started:
        yield started


@pytest.fixture(scope="session")
def _chromium(playwright):
    """One headless Debian Chromium per test process."""
    chromium = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS
    )
    try:
        yield chromium
    finally:
        chromium.close()


@pytest.fixture
def browser(request: pytest.FixtureRequest, _chromium):
    """The headless Chromium for this test. Every page a test opens lives in a
    browser context of its own (``new_page`` and ``new_context`` make one), with
    its own cookies and storage; all are closed when the test ends."""
    if "live_server" in request.fixturenames:
        # Start the server first so that it stops last: the contexts, closed
        # first, hang up their keep-alive connections and stop polling the pages.
        request.getfixturevalue("live_server")
    try:
        yield _chromium
    finally:
        for context in list(_chromium.contexts):
            context.close()
