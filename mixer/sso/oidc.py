"""The OpenID Connect protocol, with Authlib: discovery, the authorization
request (code flow with PKCE, ``state`` and ``nonce``), the code exchange, and the
ID token's checks (signature by the provider's JWKS, ``iss``, ``aud``, ``nonce``,
expiry). Plain functions of their inputs: nothing here reads the database or
the request. Every failure is an ``SsoError`` with a message for people."""

from __future__ import annotations

import ipaddress
import json
from typing import Any
from urllib.parse import urlsplit

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import ClaimError, ExpiredTokenError, JoseError
from joserfc.jwk import KeySet
from urllib3.exceptions import HTTPError as Urllib3Error

from mixer.errors import DomainError, LinkError

# Seconds to wait for the provider on each call (the person is waiting too).
TIMEOUT = 5
# Larger answers are refused: a discovery document or key set is a few kB.
MAX_BYTES = 512 * 1024
# Signature algorithms an ID token may use: asymmetric ones only (never "none",
# never HS256 keyed with the client secret).
SIGNING_ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)
# Seconds of clock difference with the provider that are forgiven.
LEEWAY = 60
REQUIRED_METADATA = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
TITLE = "Single sign-on did not work"


class SsoError(DomainError):
    """A provider or its answer that will not do; the message is for people
    (on the settings form's field it names, else a page)."""


class SignInFailed(LinkError):
    """A sign-in through the provider that cannot go on: the SSO problem page
    (400, or 403 for an account that may not sign in). Nothing was changed."""

    def __init__(self, message: str, status: int = 400) -> None:
        reason = "invalid" if status == 400 else "other"
        super().__init__(reason, message, title=TITLE, status=status)


def check_url(url: str, field: str = "issuer", loopback_http: bool = False) -> str:
    """``url`` when it is an absolute https URL (with ``loopback_http``, plain
    http on this machine's loopback too: development and the tests); else
    ``SsoError``."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SsoError("Enter the provider's full address, https://…", field)
    if parts.scheme == "http" and not (loopback_http and _loopback(parts.hostname)):
        raise SsoError(
            "The provider's address must start with https://.",
            field,
        )
    return url


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _get_json(
    url: str, what: str, field: str | None = None, bearer: str | None = None
) -> Any:
    """GET ``url`` and read its JSON, or ``SsoError`` naming ``what`` went wrong."""
    headers = {"Accept": "application/json"}
    if bearer:
        headers["Authorization"] = f"Bearer {bearer}"
    try:
        resp = requests.get(url, timeout=TIMEOUT, headers=headers, stream=True)
    except requests.RequestException as exc:
        raise SsoError(
            f"Could not reach the provider for its {what} ({url}): "
            f"{type(exc).__name__}.",
            field,
        ) from exc
    with resp:
        if resp.status_code != 200:
            raise SsoError(
                f"The provider answered HTTP {resp.status_code} for its {what} "
                f"({url}).",
                field,
            )
        try:
            body = resp.raw.read(MAX_BYTES + 1, decode_content=True)
        except (requests.RequestException, OSError, Urllib3Error) as exc:
            raise SsoError(f"The provider's {what} could not be read.", field) from exc
        if len(body) > MAX_BYTES:
            raise SsoError(f"The provider's {what} is too large.", field)
        try:
            return json.loads(body)
        except ValueError as exc:
            raise SsoError(
                f"The provider's {what} at {url} is not JSON.", field
            ) from exc


def discover(issuer: str, loopback_http: bool = False) -> dict[str, Any]:
    """Read ``<issuer>/.well-known/openid-configuration`` and check it: its
    ``issuer`` must be the one given (a trailing slash aside: the document's own
    spelling is kept), and it must name the endpoints the code flow needs."""
    issuer = check_url(issuer, "issuer", loopback_http)
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    metadata = _get_json(url, "discovery document", "issuer")
    if not isinstance(metadata, dict):
        raise SsoError(f"The discovery document at {url} is not an object.", "issuer")
    missing = [key for key in REQUIRED_METADATA if not metadata.get(key)]
    if missing:
        raise SsoError(
            f"The discovery document at {url} lacks {', '.join(missing)}.",
            "issuer",
        )
    if str(metadata["issuer"]).rstrip("/") != issuer.rstrip("/"):
        raise SsoError(
            f"The discovery document names the issuer {metadata['issuer']}, not "
            f"{issuer}: enter the issuer exactly as the provider names it.",
            "issuer",
        )
    for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        check_url(str(metadata[key]), "issuer", loopback_http)
    return metadata


def new_secrets() -> dict[str, str]:
    """A fresh ``state``, ``nonce`` and PKCE code verifier for one sign-in."""
    return {
        "state": generate_token(32),
        "nonce": generate_token(32),
        "verifier": generate_token(64),
    }


def _session(
    client_id: str, client_secret: str, redirect_uri: str, scopes: str
) -> OAuth2Session:
    return OAuth2Session(
        client_id,
        client_secret,
        scope=scopes,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",  # noqa: S106 (a method)
        default_timeout=TIMEOUT,
    )


def authorization_url(
    metadata: dict[str, Any],
    *,
    client_id: str,
    redirect_uri: str,
    scopes: str,
    state: str,
    nonce: str,
    verifier: str,
) -> str:
    """Where to send the browser: the provider's authorization endpoint with the
    code flow's parameters, the S256 code challenge and the nonce."""
    with _session(client_id, "", redirect_uri, scopes) as client:
        url, _ = client.create_authorization_url(
            metadata["authorization_endpoint"],
            state=state,
            nonce=nonce,
            code_verifier=verifier,
        )
    return str(url)


def exchange_code(
    metadata: dict[str, Any],
    *,
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    scopes: str,
    code: str,
    verifier: str,
) -> dict[str, Any]:
    """Trade the authorization code (and the PKCE verifier) for tokens."""
    try:
        with _session(client_id, client_secret, redirect_uri, scopes) as client:
            token = client.fetch_token(
                metadata["token_endpoint"], code=code, code_verifier=verifier
            )
    except (AuthlibBaseError, requests.RequestException, ValueError) as exc:
        raise SsoError(
            f"The provider did not accept the sign-in ({_reason(exc)}). Try again."
        ) from exc
    if not token.get("id_token"):
        raise SsoError("The provider sent no ID token: is the openid scope asked for?")
    return dict(token)


def _reason(exc: Exception) -> str:
    """A short reason from an exception, without anything secret in it."""
    if isinstance(exc, AuthlibBaseError):
        return exc.error or type(exc).__name__
    return type(exc).__name__


def validate_id_token(
    id_token: str,
    metadata: dict[str, Any],
    *,
    issuer: str,
    client_id: str,
    nonce: str,
    access_token: str | None = None,
) -> dict[str, Any]:
    """The ID token's claims, once its signature (by a key of the provider's
    JWKS), issuer, audience, nonce and times are checked; else ``SsoError``."""
    jwks = _get_json(str(metadata["jwks_uri"]), "signing keys")
    offered = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = [alg for alg in offered if alg in SIGNING_ALGORITHMS]
    try:
        keys = KeySet.import_key_set(jwks)
        token = jwt.decode(id_token, keys, algorithms=algorithms)
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise SsoError(
            "The provider's ID token could not be verified with its signing keys."
        ) from exc
    claims = CodeIDToken(
        token.claims,
        token.header,
        {
            "iss": {"essential": True, "value": issuer},
            "aud": {"essential": True, "value": client_id},
        },
        {"nonce": nonce, "client_id": client_id, "access_token": access_token},
    )
    try:
        claims.validate(leeway=LEEWAY)
    except ExpiredTokenError as exc:
        raise SsoError("The provider's ID token has expired. Try again.") from exc
    except ClaimError as exc:
        raise SsoError(_claim_problem(exc.claim, token.claims, issuer)) from exc
    except JoseError as exc:
        raise SsoError(f"The provider's ID token is not valid ({exc.error}).") from exc
    return dict(claims)


def _claim_problem(claim: str, claims: dict[str, Any], issuer: str) -> str:
    """What a refused claim of the ID token means, for people."""
    if claim == "iss":
        return (
            f"The ID token was issued by {claims.get('iss')!s}, not by this "
            f"organization's provider ({issuer}). Nothing was changed."
        )
    if claim == "aud":
        return "The ID token was meant for another application."
    if claim == "nonce":
        return (
            "The ID token does not belong to this sign-in (its nonce differs): "
            "start again from the sign-in page."
        )
    return f"The provider's ID token is not valid (its {claim} claim)."


def userinfo(metadata: dict[str, Any], access_token: str) -> dict[str, Any]:
    """The provider's user-info claims (many providers put profile claims there
    rather than in the ID token); empty when it has no such endpoint."""
    url = metadata.get("userinfo_endpoint")
    if not url:
        return {}
    found = _get_json(str(url), "user information", bearer=access_token)
    return found if isinstance(found, dict) else {}
