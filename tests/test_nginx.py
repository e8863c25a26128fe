"""deploy/nginx/mixer.conf, for real: nginx (TLS on a loopback port, a test
certificate) in front of gunicorn started with the shipped gunicorn.conf.py and
the production settings of deploy/mixer.env.example.

Static files come from nginx alone; a 60 MB upload is refused by nginx in
Mixer's words; the scheme and the client's address reach Mixer through
``X-Forwarded-*`` (secure cookies, no HTTPS redirect, rate limits per client and
not spoofable); QR codes and e-mail links carry the public BASE_URL.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import pwd
import re
import ssl
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.mail.smtp import free_port

NGINX = Path("/usr/sbin/nginx")
ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "deploy" / "nginx" / "mixer.conf"
BIN = Path(sys.executable).parent
PUBLIC = "https://mixer.example.org"

# The proxy's behaviour does not depend on the database: the SQLite pass only.
pytestmark = [
    pytest.mark.once,
    pytest.mark.skipif(
        not NGINX.exists(),
        reason="nginx is not installed (/usr/sbin/nginx): `make test` installs it "
        "(apt-get install nginx)",
    ),
]


def _listening(port: int) -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", port), 1).close()
    except OSError:
        return False
    return True


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for mixer.example.org, valid for a day."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mixer.example.org")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def site_config(folder: Path, *, tls_port: int, http_port: int, web_port: int) -> str:
    """The shipped site with its placeholders swapped for this test's: loopback
    ports, a test certificate, the checkout's static/ and temporary paths.
    Every placeholder must be found, so the test follows the file."""
    cert, key = _certificate(folder)
    swaps = {
        "listen 443 ssl http2;": f"listen 127.0.0.1:{tls_port} ssl http2;",
        "listen [::]:443 ssl http2;": "",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen [::]:80;": "",
        "/etc/letsencrypt/live/mixer.example.org/fullchain.pem": str(cert),
        "/etc/letsencrypt/live/mixer.example.org/privkey.pem": str(key),
        "/var/log/nginx/mixer.access.log": str(folder / "nginx-access.log"),
        "/var/log/nginx/mixer.error.log": str(folder / "nginx-error.log"),
        "/var/lib/mixer/proxy-pages/": f"{folder / 'proxy-pages'}/",
        "/srv/mixer/static/": f"{ROOT / 'static'}/",
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{web_port};",
    }
    text = SITE.read_text()
    for old, new in swaps.items():
        assert old in text, f"{SITE.name} no longer has {old!r}"
        text = text.replace(old, new)
    return text


def main_config(folder: Path, site: Path) -> str:
    """nginx.conf for an unprivileged, foreground nginx with its files in folder."""
    user = ""
    if os.geteuid() == 0:  # workers would switch to nobody, who cannot read tmp
        user = f"user {pwd.getpwuid(0).pw_name};"
    temp = "\n".join(
        f"    {kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""
{user}
daemon off;
worker_processes 1;
pid {folder / "nginx.pid"};
error_log {folder / "nginx-error.log"} info;
events {{ worker_connections 128; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
{temp}
    include {site};
}}
"""


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := predicate():
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


class Stack:
    """nginx on ``tls_port`` in front of gunicorn on ``web_port``."""

    def __init__(self, folder: Path, tls_port: int, web_port: int) -> None:
        self.folder, self.tls_port, self.web_port = folder, tls_port, web_port
        self.tls = ssl.create_default_context()
        self.tls.check_hostname = False
        self.tls.verify_mode = ssl.CERT_NONE

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        source: str = "127.0.0.1",
        direct: bool = False,
    ) -> tuple[int, dict[str, str], bytes, list[str]]:
        """One request through nginx (or straight to gunicorn): status, headers
        (last of each name), body and every Set-Cookie."""
        if direct:
            conn: http.client.HTTPConnection = http.client.HTTPConnection(
                "127.0.0.1", self.web_port, timeout=60
            )
        else:
            conn = http.client.HTTPSConnection(
                "127.0.0.1",
                self.tls_port,
                timeout=60,
                context=self.tls,
                source_address=(source, 0),
            )
        try:
            try:
                conn.request(method, path, body=body, headers=headers or {})
            except (BrokenPipeError, ConnectionResetError):
                # A refusal (413) may come, and the connection close, before the
                # whole body is sent: the answer is still there to read.
                pass
            resp = conn.getresponse()
            data = resp.read()
            cookies = resp.headers.get_all("Set-Cookie") or []
            return resp.status, dict(resp.headers.items()), data, cookies
        finally:
            conn.close()

    def gunicorn_saw(self) -> str:
        path = self.folder / "gunicorn-access.log"
        return path.read_text() if path.exists() else ""


@pytest.fixture
def stack(app, app_config, tmp_path):
    """gunicorn (production settings, one process: SQLite on the SQLite run)
    and nginx in front, both on free loopback ports."""
    from mixer.proxy_pages import render_proxy_pages

    tls_port, http_port, web_port = free_port(), free_port(), free_port()
    pages = tmp_path / "proxy-pages"
    pages.mkdir()
    for name, content in render_proxy_pages(app).items():
        (pages / name).write_bytes(content)
    site = tmp_path / "site.conf"
    site.write_text(
        site_config(tmp_path, tls_port=tls_port, http_port=http_port, web_port=web_port)
    )
    conf = tmp_path / "nginx.conf"
    conf.write_text(main_config(tmp_path, site))

    redis = _listening(6379)
    env = {
        **os.environ,
        "MIXER_INSTANCE_PATH": app_config["INSTANCE_PATH"],
        "DATABASE_URL": app_config["DATABASE_URL"],
        "SECRET_KEY": app_config["SECRET_KEY"],
        "BASE_URL": PUBLIC,
        "MIXER_PROXY_HOPS": "1",
        "MIXER_FORCE_HTTPS": "true",
        "MIXER_BADGE_LINK_RATE_LIMIT": "5 per minute",
        "MIXER_BIND": f"127.0.0.1:{web_port}",
        "WEB_CONCURRENCY": "1",
        "MIXER_WEB_THREADS": "4",
        "MIXER_ACCESS_LOG": str(tmp_path / "gunicorn-access.log"),
        "MIXER_LOG_LEVEL": "warning",
        # Production refuses per-process limit counters: Redis when it runs.
        **(
            {
                "MIXER_ENV": "production",
                "MIXER_RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/15",
                "MIXER_RATELIMIT_KEY_PREFIX": f"nginx-test-{uuid.uuid4().hex}",
            }
            if redis
            else {"MIXER_ENV": "development"}
        ),
    }
    for name in ("FLASK_DEBUG", "MIXER_DEBUG", "MIXER_WEB_PROCESSES"):
        env.pop(name, None)
    gunicorn = subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py")]
        + ["wsgi:app"],
        cwd=ROOT,
        env=env,
    )
    nginx_log = tmp_path / "nginx-error.log"
    nginx = subprocess.Popen(
        [str(NGINX), "-p", str(tmp_path), "-c", str(conf), "-e", str(nginx_log)]
    )
    stack = Stack(tmp_path, tls_port, web_port)

    def ready():
        if nginx.poll() is not None:
            raise AssertionError(f"nginx stopped: {nginx_log.read_text()}")
        try:
            status, _, body, _ = stack.request("GET", "/healthz")
        except OSError:
            return None
        return status == 200 and json.loads(body)

    try:
        _wait_for(ready, 60, "nginx and gunicorn to answer /healthz")
        yield stack
    finally:
        for proc in (nginx, gunicorn):
            proc.terminate()
        for proc in (nginx, gunicorn):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_static_files_come_from_nginx_alone(stack):
    # The URL a page links (with its content version) is cached for a year.
    status, page_headers, page, _ = stack.request("GET", "/login")
    linked = re.search(r'href="(/static/css/mixer\.css\?v=[0-9a-f]+)"', page.decode())
    assert linked, "the page links its stylesheet with a content version"
    status, versioned, body, _ = stack.request("GET", linked.group(1))
    assert status == 200
    assert body == (ROOT / "static" / "css" / "mixer.css").read_bytes()
    assert versioned["Cache-Control"] == "public, max-age=31536000, immutable"
    # Without a version (a module a script imports): an hour, then revalidated.
    status, headers, body, _ = stack.request("GET", "/static/css/mixer.css")
    assert status == 200
    assert body == (ROOT / "static" / "css" / "mixer.css").read_bytes()
    assert headers["Cache-Control"] == "public, max-age=3600"
    assert headers["Content-Type"].startswith("text/css")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "ETag" in headers and "Last-Modified" in headers  # cheap 304s after
    # The application's own answers carry its security headers; this one did not
    # pass through it, and gunicorn's access log never saw it.
    status, app_headers, _, _ = stack.request("GET", "/healthz")
    assert "Content-Security-Policy" in app_headers
    assert "Content-Security-Policy" not in headers
    log = stack.gunicorn_saw()
    assert "/healthz" in log and "/static/" not in log


SIXTY_MB = 60 * 1024 * 1024


def test_a_60_mb_upload_is_refused_by_nginx_in_mixers_words(stack):
    body = b"x" * SIXTY_MB
    multipart = {"Content-Type": "multipart/form-data; boundary=b"}
    status, headers, answer, _ = stack.request(
        "POST", "/api/v1/events/1/materials", body=body, headers=multipart
    )
    assert status == 413
    assert headers["Content-Type"] == "application/json"
    assert json.loads(answer) == {
        "error": {
            "code": "request_entity_too_large",
            "message": "The request body is larger than the limit of 50 MB; "
            "nothing was stored.",
            "fields": {},
        }
    }
    status, headers, page, _ = stack.request(
        "POST",
        "/events/1/materials",
        body=body,
        headers={**multipart, "Accept": "text/html"},
    )
    assert status == 413
    assert headers["Content-Type"].startswith("text/html")
    html = page.decode()
    assert "The limit is 50 MB; nothing was stored." in html
    assert 'href="/static/css/mixer.css?v=' in html  # Mixer's page, Mixer's style
    # The speaker page's drop zone (static/js/upload.js) asks for JSON and shows
    # error.message: it gets the JSON answer on the page's own URL too.
    status, headers, answer, _ = stack.request(
        "POST",
        "/events/1/materials",
        body=body,
        headers={**multipart, "Accept": "application/json"},
    )
    assert status == 413 and headers["Content-Type"] == "application/json"
    assert "limit of 50 MB" in json.loads(answer)["error"]["message"]
    assert "/materials" not in stack.gunicorn_saw()  # refused before gunicorn


def test_the_scheme_comes_from_nginx(stack):
    status, headers, _, cookies = stack.request("GET", "/login")
    assert status == 200  # HTTPS already: no redirect
    assert "max-age" in headers["Strict-Transport-Security"]
    session = [c for c in cookies if c.startswith("session=")]
    assert session and all("; Secure" in c for c in session)
    # Straight to gunicorn, plain HTTP: FORCE_HTTPS redirects. Only nginx's
    # X-Forwarded-Proto made the request above HTTPS.
    status, headers, _, _ = stack.request("GET", "/login", direct=True)
    assert status in (301, 302) and headers["Location"].startswith("https://")


def test_qr_codes_and_mail_links_carry_the_public_base_url(
    stack, org, organizer, make_event, token_for, outbox
):
    from tests.badges.pdfcheck import decode_pages

    event = make_event(org, organizer)
    status, _, body, _ = stack.request(
        "POST",
        f"/api/v1/events/{event.id}/registrations",
        body=json.dumps(
            {"name": "Ada", "email": "ada@example.org", "role": "mentee"}
        ).encode(),
        headers={
            "Authorization": f"Bearer {token_for(organizer, org)}",
            "Content-Type": "application/json",
        },
    )
    assert status == 201, body
    registration = json.loads(body)
    badge_url = registration["badge_url"]
    assert badge_url.startswith(f"{PUBLIC}/events/{event.id}/badge/")
    # The badge PDF, fetched through nginx: its QR code is the public link.
    status, headers, pdf, _ = stack.request("GET", badge_url[len(PUBLIC) :])
    assert status == 200 and headers["Content-Type"] == "application/pdf"
    [[code]] = decode_pages(pdf)
    assert re.fullmatch(re.escape(PUBLIC) + r"/c/[A-Za-z0-9_-]+", code.text)
    # The confirmation e-mail's links are the public ones too, never the
    # address nginx used to reach gunicorn.
    [mail] = outbox(to="ada@example.org")
    text = mail.as_string()
    links = re.findall(r"https?://[^\s\"'<>]+", mail.get_body(("plain",)).get_content())
    assert links and all(link.startswith(PUBLIC + "/") for link in links), links
    assert f"127.0.0.1:{stack.web_port}" not in text


def test_rate_limits_count_per_client_address(stack):
    """/c/<token> allows 5 a minute per address (this stack's setting). The
    address is nginx's $remote_addr: a client's own X-Forwarded-For is ignored."""
    if not _listening(6379):
        pytest.skip("Redis is not running on 127.0.0.1:6379")

    def guesses(source: str, count: int, spoof: bool = False) -> list[int]:
        return [
            stack.request(
                "GET",
                f"/c/guess-{uuid.uuid4().hex[:8]}",
                source=source,
                headers={"X-Forwarded-For": f"198.51.100.{n}"} if spoof else {},
            )[0]
            for n in range(count)
        ]

    first = guesses("127.0.0.2", 5, spoof=True)
    assert 429 not in first
    # Another made-up X-Forwarded-For per request changes nothing: still 127.0.0.2.
    assert guesses("127.0.0.2", 2, spoof=True) == [429, 429]
    # Another client has its own allowance.
    assert 429 not in guesses("127.0.0.3", 5)


def test_nginx_accepts_the_shipped_site(tmp_path):
    """`nginx -t` on the site as shipped, but for its placeholders."""
    site = tmp_path / "site.conf"
    site.write_text(
        site_config(tmp_path, tls_port=free_port(), http_port=free_port(), web_port=1)
    )
    conf = tmp_path / "nginx.conf"
    conf.write_text(main_config(tmp_path, site))
    done = subprocess.run(
        [str(NGINX), "-t", "-p", str(tmp_path), "-c", str(conf), "-e", "stderr"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr
