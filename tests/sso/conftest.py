"""A real OpenID provider for the SSO tests: oidc-provider (npm) run by Node from
``tests/sso/provider.mjs`` on a free loopback port, once per test session.

Its one client ("mixer") may redirect to ``http://127.0.0.1/o/acme/sso/callback``
on any port (a native client's loopback rule, RFC 8252): the test client's
``BASE_URL`` is ``http://127.0.0.1`` here, and a live server's is its own port.
"""

from __future__ import annotations

import json
import re
import select
import shutil
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from mixer import ROOT
from mixer.extensions import db
from mixer.sso import services

NODE = shutil.which("node")
SCRIPT = Path(__file__).with_name("provider.mjs")
CLIENT_ID = "mixer"
CLIENT_SECRET = "test-client-secret-9f2c"  # noqa: S105 (the test provider's)
BASE = "http://127.0.0.1"
CALLBACK = f"{BASE}/o/acme/sso/callback"
ACCOUNT_PASSWORD = "secret"  # noqa: S105 (the test provider's accounts)
ALICE = {
    "email": "alice@corp.example.com",
    "email_verified": True,
    "name": "Alice Example",
    "department": "Research",
    "level": 7,
}


@dataclass
class OidcServer:
    """A running test provider."""

    issuer: str
    process: subprocess.Popen

    def set_claims(self, account: str, claims: dict) -> None:
        """Replace (or add) an account's claims at the provider."""
        resp = requests.put(
            f"{self.issuer}/test/accounts/{account}", data=json.dumps(claims), timeout=5
        )
        assert resp.status_code == 204, resp.text

    def sign_in(self, authorize_url: str, account: str) -> str:
        """Go through the provider's sign-in as ``account`` without a browser;
        returns the callback URL (with code and state) it sends back to Mixer."""
        with requests.Session() as http:
            resp = self._follow(http, http.get(authorize_url, allow_redirects=False))
            action = re.search(r'<form method="post" action="([^"]+)"', resp.text)
            assert action, resp.text[:500]
            resp = http.post(
                urljoin(resp.url, action.group(1)),
                data={"login": account, "password": ACCOUNT_PASSWORD},
                allow_redirects=False,
            )
            resp = self._follow(http, resp)
            assert resp.is_redirect and resp.headers["Location"].startswith(BASE + "/")
            return resp.headers["Location"]

    def _follow(self, http: requests.Session, resp: requests.Response):
        """Follow the provider's own redirects, stopping at one back to Mixer."""
        while resp.is_redirect:
            target = urljoin(resp.url, resp.headers["Location"])
            if not target.startswith(self.issuer):
                break
            resp = http.get(target, allow_redirects=False)
        return resp


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(log: Path) -> Iterator[OidcServer]:
    """Start provider.mjs and wait for its "listening" line."""
    if NODE is None:
        pytest.skip("node is not installed: the SSO tests need it for oidc-provider")
    port = _free_port()
    with log.open("w") as errors:
        process = subprocess.Popen(
            [NODE, str(SCRIPT), str(port), CLIENT_ID, CLIENT_SECRET, CALLBACK],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
        try:
            ready, _, _ = select.select([process.stdout], [], [], 30)
            line = process.stdout.readline() if ready else ""
            assert line.startswith("listening "), log.read_text()
            yield OidcServer(line.split()[1], process)
        finally:
            process.terminate()
            process.wait(timeout=10)
            process.stdout.close()


@pytest.fixture(scope="session")
def oidc(tmp_path_factory) -> Iterator[OidcServer]:
    """The test OpenID provider (alice and bob), once per session."""
    yield from _start(tmp_path_factory.mktemp("oidc") / "provider.log")


@pytest.fixture(scope="session")
def other_oidc(tmp_path_factory) -> Iterator[OidcServer]:
    """A second provider, same client: its tokens carry another issuer."""
    yield from _start(tmp_path_factory.mktemp("oidc2") / "provider.log")


@pytest.fixture
def app_config(app_config):
    """Links Mixer makes (the redirect URI among them) start http://127.0.0.1."""
    return {**app_config, "BASE_URL": BASE}


@pytest.fixture
def acme_sso(org, oidc):
    """Acme signing its members in through the test provider (alice's claims as
    they start), department and level mapped."""
    oidc.set_claims("alice", ALICE)
    provider = services.save_settings(
        org,
        issuer=oidc.issuer,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        enabled=True,
        passwords_off=False,
        claim_department="department",
        claim_level="level",
        email_domains="corp.example.com",
    )
    db.session.commit()
    return provider


def path_of(url: str) -> str:
    """The path and query of a URL, for the test client."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
