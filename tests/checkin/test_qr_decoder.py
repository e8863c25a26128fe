"""The scan page's QR decoder (static/js/qr-decoder.js) and the CSP it runs under.

Headless Chromium on Linux has no native BarcodeDetector, so the browser test runs
the fallback that phones without one get: ZXing compiled to WebAssembly, fetched
from this server and compiled under the site's real Content-Security-Policy.
"""

from __future__ import annotations

import base64
import re
from io import BytesIO

import pypdfium2 as pdfium
import pytest

from mixer.badges.services import attendee_badge_pdf, badge_scan_url
from tests.helpers import PASSWORD

# The browser's QR decoder: the SQLite pass only.
pytestmark = pytest.mark.once

DECODER_ASSETS = (
    "/static/vendor/barcode-detector/ponyfill.js",
    "/static/js/qr-decoder.js",
)
WASM = "/static/vendor/zxing-wasm/zxing_reader.wasm"

# Runs before the page's own scripts: keeps every CSP violation the page reports.
WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI);
});
"""

# Draws a PNG (base64) onto a canvas, as a camera frame would be, and decodes it.
DECODE_PNG = """
async (png) => {
  const bytes = Uint8Array.from(atob(png), (c) => c.charCodeAt(0));
  const bitmap = await createImageBitmap(new Blob([bytes], {type: "image/png"}));
  const canvas = document.createElement("canvas");
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  canvas.getContext("2d").drawImage(bitmap, 0, 0);
  const engine = await window.MixerQR.ready;
  return {engine, text: await window.MixerQR.detect(canvas),
          blank: await window.MixerQR.detect(new ImageData(64, 64)),
          noFrameYet: await window.MixerQR.detect(document.createElement("video"))};
}
"""


def directives(csp: str) -> dict[str, list[str]]:
    """A Content-Security-Policy header as {directive: [sources]}."""
    parts = (part.split() for part in csp.split(";") if part.strip())
    return {words[0]: words[1:] for words in parts}


def without_nonce(csp: dict[str, list[str]]) -> dict[str, list[str]]:
    """The policy without the per-request script nonce."""
    return {k: [s for s in v if not s.startswith("'nonce-")] for k, v in csp.items()}


def badge_png(reg) -> bytes:
    """``reg``'s printed badge (the app's own PDF) rasterized at 150 dpi, as a PNG."""
    pdf = pdfium.PdfDocument(attendee_badge_pdf(reg))
    try:
        image = pdf[0].render(scale=150 / 72).to_pil()
    finally:
        pdf.close()
    out = BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_csp_allows_webassembly_and_not_eval(client, auth, door):
    auth.login(door.organizer.email)
    resp = client.get(f"/events/{door.event.id}/scan")
    csp = directives(resp.headers["Content-Security-Policy"])
    scripts = csp["script-src"]
    assert "'wasm-unsafe-eval'" in scripts
    assert "'unsafe-eval'" not in scripts and "'unsafe-inline'" not in scripts
    assert [s for s in scripts if not s.startswith("'nonce-")] == [
        "'self'",
        "'wasm-unsafe-eval'",
    ]
    assert csp["connect-src"] == ["'self'"]  # the .wasm comes from here
    assert csp["default-src"] == ["'self'"]
    # Every page has the same policy (but for the per-request nonce).
    other = directives(client.get("/login").headers["Content-Security-Policy"])
    assert without_nonce(other) == without_nonce(csp)


def test_scan_page_loads_the_vendored_decoder_and_not_jsqr(client, auth, door):
    auth.login(door.organizer.email)
    html = client.get(f"/events/{door.event.id}/scan").get_data(as_text=True)
    # Without the content version url_for adds (?v=…, mixer.web.static_version).
    sources = [s.split("?")[0] for s in re.findall(r'<script src="([^"]+)"', html)]
    decoder = [s for s in sources if s in DECODER_ASSETS]
    assert decoder == list(DECODER_ASSETS)  # the ponyfill first, then our module
    assert sources.index(DECODER_ASSETS[1]) < sources.index("/static/js/scan.js")
    assert not any("jsqr" in s.lower() for s in sources)
    assert not re.search(r"https?://(?!mixer\.test)", html.replace("http://www.w3", ""))
    for asset in (*DECODER_ASSETS, WASM):
        with client.get(asset) as served:
            assert served.status_code == 200, asset
            assert b"MixerQR" in served.data or len(served.data) > 10_000, asset
            if asset == WASM:  # what WebAssembly.instantiateStreaming insists on
                assert served.mimetype == "application/wasm"
                assert served.data[:4] == b"\0asm"


@pytest.mark.browser
def test_decoder_reads_a_printed_badge_under_the_real_csp(
    app, live_server, browser, door, make_registration
):
    reg = make_registration(door.event, name="Wasm Reader")
    png = base64.b64encode(badge_png(reg)).decode()
    expected = badge_scan_url(reg)
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.add_init_script(WATCH_CSP)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"{live_server}/login")
    page.get_by_label("E-mail").fill(door.organizer.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_load_state()
    page.goto(f"{live_server}/events/{door.event.id}/scan")

    got = page.evaluate(DECODE_PNG, png)

    assert got == {
        "engine": "zxing",
        "text": expected,
        "blank": None,
        "noFrameYet": None,
    }
    assert page.evaluate("window.__cspViolations") == []
    assert [p for p in problems if "Content Security Policy" in p] == []
    # The .wasm by its versioned URL (the page's data-wasm-url), from this server.
    assert any(url.startswith(f"{live_server}{WASM}?v=") for url in requests), requests
    assert all(url.startswith(live_server) for url in requests), requests
