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
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
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
TITLE = _l("Single sign-on did not work")
# What ``_get_json`` fetched, named in its refusals.
WHAT = {
    "discovery document": _l("discovery document"),
    "signing keys": _l("signing keys"),
    "user information": _l("user information"),
}


class SsoError(DomainError):
    """A provider or its answer that will not do; the message is for people
    (on the settings form's field it names, else a page)."""


class SignInFailed(LinkError):
    """A sign-in through the provider that cannot go on: the SSO problem page
    (400, or 403 for an account that may not sign in). Nothing was changed."""

    def __init__(self, message: str, status: int = 400) -> None:
        reason = "invalid" if status == 400 else "other"
        super().__init__(reason, message, title=str(TITLE), status=status)


def check_url(url: str, field: str = "issuer", loopback_http: bool = False) -> str:
    """``url`` when it is an absolute https URL (with ``loopback_http``, plain
    http on this machine's loopback too: development and the tests); else
    ``SsoError``."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SsoError(_("Enter the provider's full address, https://…"), field)
    if parts.scheme == "http" and not (loopback_http and _loopback(parts.hostname)):
        raise SsoError(
            _("The provider's address must start with https://."),
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
    what = str(WHAT.get(what, what))
    headers = {"Accept": "application/json"}
    if bearer:
        headers["Authorization"] = f"Bearer {bearer}"
    try:
        resp = requests.get(url, timeout=TIMEOUT, headers=headers, stream=True)
    except requests.RequestException as exc:
        raise SsoError(
            _(
                "Could not reach the provider for its %(what)s (%(url)s): %(error)s.",
                what=what,
                url=url,
                error=type(exc).__name__,
            ),
            field,
        ) from exc
    with resp:
        if resp.status_code != 200:
            raise SsoError(
                _(
                    "The provider answered HTTP %(status)s for its %(what)s (%(url)s).",
                    status=resp.status_code,
                    what=what,
                    url=url,
                ),
                field,
            )
        try:
            body = resp.raw.read(MAX_BYTES + 1, decode_content=True)
        except (requests.RequestException, OSError, Urllib3Error) as exc:
            raise SsoError(
                _("The provider's %(what)s could not be read.", what=what), field
            ) from exc
        if len(body) > MAX_BYTES:
            raise SsoError(_("The provider's %(what)s is too large.", what=what), field)
        try:
            return json.loads(body)
        except ValueError as exc:
            raise SsoError(
                _(
                    "The provider's %(what)s at %(url)s is not JSON.",
                    what=what,
                    url=url,
                ),
                field,
            ) from exc


def discover(issuer: str, loopback_http: bool = False) -> dict[str, Any]:
    """Read ``<issuer>/.well-known/openid-configuration`` and check it: its
    ``issuer`` must be the one given (a trailing slash aside: the document's own
    spelling is kept), and it must name the endpoints the code flow needs."""
    issuer = check_url(issuer, "issuer", loopback_http)
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    metadata = _get_json(url, "discovery document", "issuer")
    if not isinstance(metadata, dict):
        raise SsoError(
            _("The discovery document at %(url)s is not an object.", url=url), "issuer"
        )
    missing = [key for key in REQUIRED_METADATA if not metadata.get(key)]
    if missing:
        raise SsoError(
            _(
                "The discovery document at %(url)s lacks %(missing)s.",
                url=url,
                missing=", ".join(missing),
            ),
            "issuer",
        )
    if str(metadata["issuer"]).rstrip("/") != issuer.rstrip("/"):
        raise SsoError(
            _(
                "The discovery document names the issuer %(named)s, not %(issuer)s: "
                "enter the issuer exactly as the provider names it.",
                named=metadata["issuer"],
                issuer=issuer,
            ),
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
        url, _state = client.create_authorization_url(
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
            _(
                "The provider did not accept the sign-in (%(reason)s). Try again.",
                reason=_reason(exc),
            )
        ) from exc
    if not token.get("id_token"):
        raise SsoError(
            _("The provider sent no ID token: is the openid scope asked for?")
        )
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
            _("The provider's ID token could not be verified with its signing keys.")
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
        raise SsoError(_("The provider's ID token has expired. Try again.")) from exc
    except ClaimError as exc:
        raise SsoError(_claim_problem(exc.claim, token.claims, issuer)) from exc
    except JoseError as exc:
        raise SsoError(
            _("The provider's ID token is not valid (%(error)s).", error=exc.error)
        ) from exc
    return dict(claims)


def _claim_problem(claim: str, claims: dict[str, Any], issuer: str) -> str:
    """What a refused claim of the ID token means, for people."""
    if claim == "iss":
        return _(
            "The ID token was issued by %(by)s, not by this organization's "
            "provider (%(issuer)s). Nothing was changed.",
            by=str(claims.get("iss")),
            issuer=issuer,
        )
    if claim == "aud":
        return _("The ID token was meant for another application.")
    if claim == "nonce":
        return _(
            "The ID token does not belong to this sign-in (its nonce differs): "
            "start again from the sign-in page."
        )
    return _("The provider's ID token is not valid (its %(claim)s claim).", claim=claim)


def userinfo(metadata: dict[str, Any], access_token: str) -> dict[str, Any]:
    """The provider's user-info claims (many providers put profile claims there
    rather than in the ID token); empty when it has no such endpoint."""
    url = metadata.get("userinfo_endpoint")
    if not url:
        return {}
    found = _get_json(str(url), "user information", bearer=access_token)
    return found if isinstance(found, dict) else {}
