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

Every page a test opens in Chromium (through ``browser`` or a Chromium the test
launches from ``playwright``) is audited by axe-core (npm, pinned in
package-lock.json, read from ``node_modules/``) after each load (a navigation away
waits for it), and once more at the end of the test for the pages still open; a
serious or critical violation fails the test at teardown, naming the rule, its
impact, the elements and the page.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
import time
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import ThreadedWSGIServer

from mixer import ROOT
from mixer.extensions import db
from tests.helpers import PASSWORD
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

AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.0/2.1 A and AA and axe's best practices; only these impacts fail a test.
AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
    },
    "resultTypes": ["violations"],
    "iframes": False,  # our frames are downloads and previews, audited on their own
}
AXE_FAILING_IMPACTS = ("serious", "critical")
# Pages left out of the audit (URL patterns), each with the reason; keep it empty:
# fix the page, not the audit.
# Documents that are not Mixer's pages: a PDF opened in the tab is shown by
# Chromium's own viewer (an <embed> in a document of Chromium's, with no title or
# language of ours); what the PDF holds is checked by the tests that parse it.
AXE_SKIP: list[str] = [r"\.pdf(\?|#|$)"]
# In the page: the violations of one axe run, in the shape the audit keeps.
AXE_SUMMARY = """(result) => result.violations.map((v) => ({
  id: v.id, impact: v.impact, help: v.help,
  targets: v.nodes.map((n) => n.target.join(" ")),
}))"""
# Added to every document of an audited context, after axe's own source: on load, the
# top document names itself to the test (``__mixerAxeStarted``), runs axe and
# reports (``__mixerAxeReport``), so no round trip is needed to start an audit.
AXE_ON_LOAD = """
if (window.top === window) {
  const doc = Math.random().toString(36).slice(2) + Date.now().toString(36);
  const summary = %(summary)s;
  // A popup's first document is an empty about:blank whose window (listeners and
  // this copy of axe included) the page it then opens takes over: each document
  // audits only itself, with its own axe.
  const own = document;
  window.addEventListener("load", () => {
    if (document !== own || location.protocol === "about:") return;
    window.__mixerAxeStarted(doc);
    const t0 = performance.now();
    const report = (found, error) =>
      window.__mixerAxeReport(doc, location.href, found, error, performance.now() - t0);
    window.__mixerAxe = window.axe.run(document, %(options)s).then(summary);
    window.__mixerAxe.then(
      (found) => report(found, null), (error) => report([], String(error)));
  });
}
"""
# The end-of-test sweep: axe once more on what the page shows by then, after any
# audit still running (axe runs one audit at a time).
AXE_AGAIN = """
async (options) => {
  if (window.__mixerAxe) await window.__mixerAxe.catch(() => null);
  window.__mixerAxe = window.axe.run(document, options).then(%(summary)s);
  return await window.__mixerAxe;
}
"""
# Requests that may be a navigation: not static files nor data/blob URLs.
NOT_STATIC = re.compile(r"^https?://[^/]+/(?!static/)")
# How long a navigation waits for the audit of the page it leaves.
AXE_WAIT = 15.0


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


@cache
def _axe_source() -> str:
    return AXE_SCRIPT.read_text(encoding="utf-8")


@cache
def _axe_init_script() -> str:
    """axe-core's source and the on-load runner, for ``add_init_script``."""
    options = json.dumps(AXE_OPTIONS)
    runner = AXE_ON_LOAD % {"summary": AXE_SUMMARY, "options": options}
    # Not in a popup's first, empty about:blank document: its window (and with it
    # this copy of axe, which would keep reading that empty document) passes to
    # the page the popup then opens, whose own init script must load axe afresh.
    return (
        'if (location.protocol !== "about:") {\n'
        + _axe_source()
        + "\n;"
        + runner
        + "\n}"
    )


class AxeAudit:
    """axe-core's verdicts on the pages one test opened.

    Each document runs axe itself when it has loaded (an init script) and reports
    through a binding; a top-level navigation waits, at Playwright's request
    routing, until the page it leaves has reported, so a test that clicks on at once
    still has every page it saw audited. ``sweep`` audits the open pages once more
    at the end of the test.
    """

    def __init__(self) -> None:
        self.violations: dict[tuple[str, str], dict[str, Any]] = {}
        self.pages = 0  # audits finished (a page's load, the end-of-test sweep)
        self.seconds = 0.0  # navigations and the sweep held up by audits
        self.axe_seconds = 0.0  # axe running in the pages after their load
        self.errors: list[str] = []  # pages axe could not read (said in the summary)
        self._started: dict[Any, str] = {}  # page → its current document's id
        self._reported: set[str] = set()  # documents whose audit has reported

    def watch_context(self, context) -> None:
        """Audit every document of ``context`` from now on."""
        context.expose_binding("__mixerAxeStarted", self._on_started)
        context.expose_binding("__mixerAxeReport", self._on_report)
        context.add_init_script(script=_axe_init_script())
        # Only what could be a page comes to Python (the pattern is matched in the
        # browser); routing turns the HTTP cache off, and the server is local. Routed
        # per page, once Playwright announces it: routing at the context holds a
        # popup's first request before its page exists, and the popup never opens.
        for page in context.pages:
            page.route(NOT_STATIC, self._before_navigation)
        context.on("page", lambda page: page.route(NOT_STATIC, self._before_navigation))

    def _on_started(self, source: dict[str, Any], doc: str) -> None:
        self._started[source["page"]] = doc

    def _on_report(
        self,
        source: dict[str, Any],
        doc: str,
        url: str,
        found: list,
        error: str | None,
        ms: float,
    ) -> None:
        self._reported.add(doc)
        self.axe_seconds += ms / 1000
        if error is not None:
            self.errors.append(f"{url}: {error}")
        self._keep(url, found)

    def _keep(self, url: str, found: list[dict[str, Any]]) -> None:
        if not url.startswith("http") or any(
            re.search(pattern, url) for pattern in AXE_SKIP
        ):
            return
        self.pages += 1
        for violation in found:
            if violation["impact"] in AXE_FAILING_IMPACTS:
                self.violations[(url, violation["id"])] = violation

    def _before_navigation(self, route, request) -> None:
        """Hold a top-level navigation until the page it leaves has been audited."""
        try:
            # The page is found among those already audited, not asked of the frame:
            # a popup's first request comes before Playwright announces its page,
            # and ``request.frame.page`` would wait for that very announcement.
            page = next(
                (p for p in list(self._started) if p.main_frame == request.frame),
                None,
            )
            if page is not None and request.is_navigation_request():
                doc = self._started.get(page)
                started = time.perf_counter()
                while (
                    doc is not None
                    and doc not in self._reported
                    and not page.is_closed()
                    and time.perf_counter() - started < AXE_WAIT
                ):
                    # Lets Playwright deliver the report (page.evaluate would wait
                    # for this very navigation).
                    page.wait_for_timeout(20)
                self.seconds += time.perf_counter() - started
                if doc is not None and doc not in self._reported:
                    self.errors.append(f"{page.url}: no audit within {AXE_WAIT:.0f} s")
        finally:
            route.fallback()

    def sweep(self, contexts) -> None:
        """Audit the pages still open as they are now (scripts may have changed
        them since they loaded)."""
        for context in contexts:
            for page in context.pages:
                if page.is_closed() or not page.url.startswith("http"):
                    continue
                started = time.perf_counter()
                try:
                    if page.evaluate("typeof window.axe !== 'object'"):
                        page.evaluate(_axe_source())  # a page from before watching
                    found = page.evaluate(
                        AXE_AGAIN % {"summary": AXE_SUMMARY}, AXE_OPTIONS
                    )
                except Exception as exc:  # closed meanwhile, or axe failed
                    self.errors.append(f"{page.url}: {exc}")
                    continue
                finally:
                    self.seconds += time.perf_counter() - started
                self._keep(page.url, found)

    def report(self) -> str:
        """The serious and critical violations, one paragraph each."""
        lines = [
            f"axe-core found {len(self.violations)} serious or critical violation(s):"
        ]
        for (url, rule), v in sorted(self.violations.items()):
            lines.append(f"- {rule} ({v['impact']}) on {url}: {v['help']}")
            lines.extend(f"    {target}" for target in v["targets"][:10])
            if len(v["targets"]) > 10:
                lines.append(f"    … and {len(v['targets']) - 10} more")
        return "\n".join(lines)


_audit: AxeAudit | None = None  # the running test's, while it uses Playwright
_axe_totals = {"tests": 0, "pages": 0, "seconds": 0.0, "axe": 0.0, "errors": 0}


@pytest.fixture(autouse=True)
def _axe_audit(request: pytest.FixtureRequest) -> Iterator[AxeAudit | None]:
    """Collect axe's verdicts for a test that drives Chromium; fail on serious ones."""
    global _audit
    if "playwright" not in request.fixturenames:
        yield None
        return
    _audit = audit = AxeAudit()
    try:
        yield audit
    finally:
        _audit = None
        _axe_totals["tests"] += 1
        _axe_totals["pages"] += audit.pages
        _axe_totals["seconds"] += audit.seconds
        _axe_totals["errors"] += len(audit.errors)
        _axe_totals["axe"] += audit.axe_seconds
    assert not audit.violations, audit.report()


def _audited(make: Any) -> Any:
    """Wrap ``Browser.new_context`` / ``new_page`` so that what they open is audited."""

    def wrapped(self, *args: Any, **kwargs: Any) -> Any:
        made = make(self, *args, **kwargs)
        if _audit is not None:
            # new_page makes a context of its own; its first document is about:blank
            context = getattr(made, "context", made)
            _audit.watch_context(context)
        return made

    return wrapped


def pytest_terminal_summary(terminalreporter) -> None:
    """Say what the accessibility audits cost (in this process)."""
    if _axe_totals["tests"]:
        totals = _axe_totals
        terminalreporter.write_line(
            f"axe-core: {totals['pages']} audit(s) over {totals['tests']} browser"
            f" test(s), {totals['errors']} failed; axe ran {totals['axe']:.1f} s in"
            f" the pages after load and held navigations and the end-of-test sweeps"
            f" {totals['seconds']:.1f} s"
        )


@pytest.fixture(scope="session")
def playwright():
    """Playwright, started once per test process (it allows one at a time). A test
    that needs Chromium with other arguments launches it from here. Every browser
    context and page made from it is audited by axe-core (``AxeAudit``)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with pytest.MonkeyPatch.context() as patch:
        for name in ("new_context", "new_page"):
            patch.setattr(
                sync_api.Browser, name, _audited(getattr(sync_api.Browser, name))
            )
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
        if _audit is not None:
            _audit.sweep(list(_chromium.contexts))
        for context in list(_chromium.contexts):
            context.close()


def sign_in_page(page, base: str, email: str) -> None:
    """Sign ``page`` in as ``email`` through the real form (tests.helpers.PASSWORD)."""
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_load_state()
    assert "/login" not in page.url, page.content()[:2000]
