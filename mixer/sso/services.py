"""Single sign-on: an organization's provider settings, and a sign-in through
the provider that finds, links or makes the account and membership."""

from __future__ import annotations

import base64
import hmac
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update

from mixer import clock
from mixer.accounts.models import SignIn, User
from mixer.accounts.services import (
    find_user,
    get_or_create_user,
    normalise_email,
    record_login,
)
from mixer.audit.services import record
from mixer.concurrency import insert_once
from mixer.errors import DomainError, NotFound
from mixer.extensions import db
from mixer.orgs.models import (
    Invitation,
    Membership,
    Organization,
    OrgError,
    clean_level,
)
from mixer.sso import oidc
from mixer.sso.models import CLAIM_MAX, DEFAULT_SCOPES, OidcProvider, SsoIdentity
from mixer.sso.oidc import SignInFailed, SsoError
from mixer.urls import absolute_url

# The discovery document is read again at a sign-in when older than this.
DISCOVERY_MAX_AGE = timedelta(hours=24)
CLAIM_NAME = re.compile(r"^[A-Za-z0-9_.:/-]*$")
DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9-]{1,63}\.)+[a-z]{2,63}$")
DOMAINS_MAX = 20
# The fields the settings form saves, and how the audit trail names them.
SETTINGS = (
    "issuer",
    "client_id",
    "enabled",
    "passwords_off",
    "scopes",
    "claim_name",
    "claim_email",
    "claim_department",
    "claim_level",
    "email_domains",
)


# --- the client secret: encrypted at rest, never shown back --------------------


def _fernet() -> Fernet:
    """Fernet keyed from the app's SECRET_KEY (HKDF, a label of its own)."""
    key = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=None,
        info=b"mixer sso client secret",
    ).derive(str(current_app.config["SECRET_KEY"]).encode())
    return Fernet(base64.urlsafe_b64encode(key))


def client_secret(provider: OidcProvider) -> str:
    """The provider's client secret, decrypted (for the code exchange only)."""
    try:
        return _fernet().decrypt(provider.client_secret_encrypted.encode()).decode()
    except InvalidToken as exc:  # SECRET_KEY changed since it was saved
        raise SignInFailed(
            _(
                "The client secret of this organization's single sign-on can no "
                "longer be read (the site's secret key changed). An admin must "
                "enter it again."
            ),
            status=409,
        ) from exc


def _discover(issuer: str) -> dict[str, Any]:
    """The provider's discovery document, checked; plain http on the loopback
    address is accepted outside production only (development and the tests), so
    an organization's admin cannot point the server at its own local services."""
    loopback_http = current_app.config.get("ENV_NAME") != "production"
    return oidc.discover(issuer, loopback_http=loopback_http)


# --- reading the settings -------------------------------------------------------


def provider_for(org: Organization) -> OidcProvider | None:
    """The organization's provider settings, if any."""
    return db.session.scalar(select(OidcProvider).where(OidcProvider.org_id == org.id))


def provider_in_use(slug: str) -> OidcProvider:
    """The provider of the organization ``slug`` when members can sign in with it;
    else 404 (an organization without single sign-on has no such page)."""
    provider = db.session.scalar(
        select(OidcProvider)
        .join(Organization, Organization.id == OidcProvider.org_id)
        .where(Organization.slug == slug)
    )
    if provider is None or not provider.in_use:
        raise NotFound(_("This organization does not use single sign-on."))
    return provider


def providers_for_email(email: str) -> list[OidcProvider]:
    """Providers in use that offer themselves to addresses at ``email``'s domain."""
    try:
        domain = normalise_email(email).rpartition("@")[2]
    except DomainError:
        return []
    found = db.session.scalars(
        select(OidcProvider)
        .join(Organization, Organization.id == OidcProvider.org_id)
        .where(OidcProvider.enabled.is_(True))
        .order_by(Organization.name)
    )
    return [p for p in found if p.in_use and domain in (p.email_domains or [])]


def provider_for_path(path: str | None) -> OidcProvider | None:
    """The provider in use of the organization a path on this site is inside
    (``/o/<slug>/…``), so the sign-in page can offer it."""
    match = re.match(r"^/o/([^/?#]+)", path or "")
    if match is None:
        return None
    try:
        return provider_in_use(match.group(1))
    except NotFound:
        return None


def passwords_refused(user: User) -> tuple[str, str] | None:
    """(organization name, its SSO sign-in address) when an organization the
    person belongs to, not as an admin, has switched passwords and e-mailed
    links off (and uses single sign-on); else None."""
    rows = db.session.execute(
        select(Organization.name, Organization.slug, OidcProvider)
        .join(OidcProvider, OidcProvider.org_id == Organization.id)
        .join(Membership, Membership.org_id == Organization.id)
        .where(
            Membership.user_id == user.id,
            Membership.role != "admin",  # admins keep a way in when SSO breaks
            OidcProvider.passwords_off.is_(True),
            OidcProvider.enabled.is_(True),
        )
        .order_by(Organization.name)
    )
    for name, slug, provider in rows:
        if provider.in_use:
            return name, absolute_url("sso.login", slug=slug)
    return None


# --- saving the settings --------------------------------------------------------


def _claim(value: str | None, field: str, required: bool = False) -> str:
    """A claim name from the form: letters, digits and ``_.:/-``, at most 80."""
    value = (value or "").strip()
    if required and not value:
        raise SsoError(_("Name the claim to read (for example “email”)."), field)
    if len(value) > CLAIM_MAX or not CLAIM_NAME.match(value):
        raise SsoError(
            _("A claim name has letters, digits and _ . : / - only (at most 80)."),
            field,
        )
    return value


def _scopes(value: str | None) -> str:
    """The scopes to ask for, space-separated, always with ``openid``."""
    scopes = (value or "").split() or DEFAULT_SCOPES.split()
    if "openid" not in scopes:
        raise SsoError(_("The scopes must include openid."), "scopes")
    if any(not re.match(r"^[\x21\x23-\x5b\x5d-\x7e]+$", s) for s in scopes):
        raise SsoError(_("A scope is a word without quotes or backslashes."), "scopes")
    text = " ".join(dict.fromkeys(scopes))
    if len(text) > 255:
        raise SsoError(_("List fewer scopes (at most 255 characters)."), "scopes")
    return text


def _domains(value: str | list[str] | None) -> list[str]:
    """E-mail domains from a comma- or space-separated text, lower case."""
    items = value if isinstance(value, list) else re.split(r"[,\s]+", value or "")
    domains = list(dict.fromkeys(d.strip().lower().lstrip("@") for d in items if d))
    for domain in domains:
        if not DOMAIN.match(domain):
            raise SsoError(
                _("“%(domain)s” is not a domain name.", domain=domain[:60]),
                "email_domains",
            )
    if len(domains) > DOMAINS_MAX:
        raise SsoError(
            _("List at most %(num)d domains.", num=DOMAINS_MAX), "email_domains"
        )
    return domains


def check_discovery(issuer: str) -> dict[str, Any]:
    """The provider's discovery document, checked (a form error when it fails)."""
    return _discover(issuer)


def save_settings(
    org: Organization,
    *,
    issuer: str,
    client_id: str,
    client_secret: str | None,
    enabled: bool,
    passwords_off: bool,
    scopes: str | None = None,
    claim_name: str | None = "name",
    claim_email: str | None = "email",
    claim_department: str | None = "",
    claim_level: str | None = "",
    email_domains: str | list[str] | None = None,
) -> OidcProvider:
    """Save the organization's provider settings (a blank secret keeps the one
    saved). The discovery document is read again whenever single sign-on is on,
    so a provider that cannot be reached is never switched on. The change is
    recorded in the audit trail, without the secret."""
    provider = provider_for(org)
    refused_before = provider is not None and provider.refuses_passwords
    values: dict[str, Any] = {
        "issuer": (issuer or "").strip(),
        "client_id": (client_id or "").strip(),
        "enabled": bool(enabled),
        "passwords_off": bool(passwords_off),
        "scopes": _scopes(scopes),
        "claim_name": _claim(claim_name, "claim_name"),
        "claim_email": _claim(claim_email, "claim_email", required=True),
        "claim_department": _claim(claim_department, "claim_department"),
        "claim_level": _claim(claim_level, "claim_level"),
        "email_domains": _domains(email_domains),
    }
    if not values["client_id"] or len(values["client_id"]) > 255:
        raise SsoError(
            _("Enter the client id the provider gave (at most 255)."), "client_id"
        )
    secret = (client_secret or "").strip()
    if provider is None and not secret:
        raise SsoError(_("Enter the client secret the provider gave."), "client_secret")
    if len(secret) > 1000:
        raise SsoError(_("That client secret is too long."), "client_secret")
    discovery = None
    if values["enabled"] or provider is None or values["issuer"] != provider.issuer:
        discovery = _discover(values["issuer"])
        values["issuer"] = str(discovery["issuer"])  # the provider's own spelling
    if provider is None:
        provider = OidcProvider(org=org, client_secret_encrypted="")
        db.session.add(provider)
        changed = list(SETTINGS)
    else:
        changed = [key for key in SETTINGS if getattr(provider, key) != values[key]]
    for key, value in values.items():
        setattr(provider, key, value)
    if discovery is not None:
        provider.discovery = discovery
        provider.discovered_at = clock.now()
    if secret:
        provider.client_secret_encrypted = _fernet().encrypt(secret.encode()).decode()
        changed.append("client_secret")
    db.session.flush()
    provider.ended_sign_ins = (
        end_password_sign_ins(org)
        if provider.refuses_passwords and not refused_before
        else 0
    )
    if changed:
        record(
            org.id,
            "sso.settings_changed",
            "Single sign-on settings changed: " + ", ".join(changed),
            subject=("oidc_provider", provider.id),
            # Never the secret: only that it changed.
            details={
                "changed": changed,
                "issuer": provider.issuer,
                "enabled": provider.enabled,
                "passwords_off": provider.passwords_off,
                "sign_ins_ended": provider.ended_sign_ins,
            },
        )
    return provider


def end_password_sign_ins(org: Organization) -> int:
    """End the open sign-ins of ``org``'s members (not its admins) that were not
    made through its single sign-on: switching passwords off must not leave a
    browser signed in with a password or link it no longer accepts. Sign-ins made
    through single sign-on stay. How many were ended."""
    members = select(Membership.user_id).where(
        Membership.org_id == org.id, Membership.role != "admin"
    )
    ended = db.session.execute(
        update(SignIn)
        .where(
            SignIn.user_id.in_(members),
            SignIn.revoked_at.is_(None),
            SignIn.via_sso.is_(False),
        )
        .values(revoked_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    return int(getattr(ended, "rowcount", 0) or 0)


# --- signing in -----------------------------------------------------------------


def _fresh_discovery(provider: OidcProvider) -> dict[str, Any]:
    """The discovery document, read again when a day old."""
    stamp = provider.discovered_at
    if stamp is None or clock.now() - stamp > DISCOVERY_MAX_AGE:
        try:
            provider.discovery = _discover(provider.issuer)
        except SsoError as exc:
            raise SignInFailed(exc.message) from exc
        provider.discovered_at = clock.now()
        db.session.flush()
    return provider.discovery


def start_sign_in(
    provider: OidcProvider, redirect_uri: str, next_url: str | None
) -> tuple[str, dict[str, str]]:
    """(the provider's authorization URL, what this browser must keep until the
    callback: the organization, state, nonce, PKCE verifier and where to go)."""
    metadata = _fresh_discovery(provider)
    pending = oidc.new_secrets()
    url = oidc.authorization_url(
        metadata,
        client_id=provider.client_id,
        redirect_uri=redirect_uri,
        scopes=provider.scopes,
        state=pending["state"],
        nonce=pending["nonce"],
        verifier=pending["verifier"],
    )
    return url, {**pending, "org": provider.org.slug, "next": next_url or ""}


def finish_sign_in(
    provider: OidcProvider,
    pending: Mapping[str, str] | None,
    answer: Mapping[str, str],
    redirect_uri: str,
) -> User:
    """Check the provider's answer against this browser's ``pending`` sign-in,
    exchange the code, verify the ID token, then find (by the issuer and subject
    link, else by e-mail) or make the account and membership, and update the
    mapped fields. ``SignInFailed`` for anything wrong; the caller commits."""
    if answer.get("error"):
        what = answer.get("error_description") or answer.get("error")
        raise SignInFailed(
            _("The provider did not sign you in: %(what)s", what=what)[:300]
        )
    if not pending or pending.get("org") != provider.org.slug:
        raise SignInFailed(
            _(
                "This sign-in was not started in this browser, or was used "
                "already. Start again from the sign-in page."
            )
        )
    if not hmac.compare_digest(
        str(answer.get("state") or ""), str(pending.get("state") or "")
    ):
        raise SignInFailed(
            _(
                "The provider's answer does not belong to this sign-in (its state "
                "differs). Start again from the sign-in page."
            )
        )
    if not answer.get("code"):
        raise SignInFailed(_("The provider's answer has no authorization code."))
    try:
        metadata = _fresh_discovery(provider)
        tokens = oidc.exchange_code(
            metadata,
            client_id=provider.client_id,
            client_secret=client_secret(provider),
            redirect_uri=redirect_uri,
            scopes=provider.scopes,
            code=answer["code"],
            verifier=pending["verifier"],
        )
        claims = oidc.validate_id_token(
            tokens["id_token"],
            metadata,
            issuer=provider.issuer,
            client_id=provider.client_id,
            nonce=pending["nonce"],
            access_token=tokens.get("access_token"),
        )
        extra = (
            oidc.userinfo(metadata, tokens["access_token"])
            if tokens.get("access_token")
            else {}
        )
    except SsoError as exc:
        raise SignInFailed(exc.message) from exc
    if extra and str(extra.get("sub")) != str(claims["sub"]):
        raise SignInFailed(_("The provider's user information is about someone else."))
    # The signed ID token's claims win over the user-info endpoint's.
    return _account_for(provider, {**extra, **claims})


def _text(claims: Mapping[str, Any], name: str) -> str:
    """A claim as one line of text ("" when not mapped or absent)."""
    value = claims.get(name) if name else None
    if value is None or isinstance(value, dict | list):
        return ""
    return " ".join(str(value).split())


def _account_for(provider: OidcProvider, claims: Mapping[str, Any]) -> User:
    """The person the verified claims are about, linked, made or updated."""
    org = provider.org
    subject = str(claims["sub"])[:255]
    identity = db.session.scalar(
        select(SsoIdentity).where(
            SsoIdentity.issuer == provider.issuer, SsoIdentity.subject == subject
        )
    )
    name = _text(claims, provider.claim_name)[:120]
    if identity is not None:
        user = identity.user
    else:
        user = _linked_user(provider, claims, name)
        identity = _link(user, provider.issuer, subject)
    if not user.is_active:
        raise SignInFailed(_("This account is switched off."), status=403)
    membership = user.membership_in(org) or _join(org, user)
    if name:
        user.name = name
    _apply_claims(provider, membership, claims)
    identity.last_used_at = clock.now()
    record_login(user)
    db.session.flush()
    return user


def _linked_user(provider: OidcProvider, claims: Mapping[str, Any], name: str) -> User:
    """The account a first sign-in of an identity goes to: the one with its
    e-mail address (when the provider confirms the address, or the person is
    already a member of this organization), else a new one."""
    raw = _text(claims, provider.claim_email)
    if not raw:
        raise SignInFailed(
            _(
                "The provider sent no e-mail address (the “%(claim)s” claim). An "
                "admin can check the claim mapping.",
                claim=provider.claim_email,
            )
        )
    try:
        email = normalise_email(raw)
    except DomainError as exc:
        raise SignInFailed(
            _("The provider's e-mail address “%(email)s” is not valid.", email=raw[:80])
        ) from exc
    user = find_user(email)
    if user is None:
        try:
            user, _created = get_or_create_user(email, name or email.partition("@")[0])
        except DomainError as exc:
            raise SignInFailed(exc.message) from exc
        return user
    verified = claims.get("email_verified") in (True, "true")
    if not verified and user.membership_in(provider.org) is None:
        raise SignInFailed(
            _(
                "A Mixer account with the address %(email)s exists already, and "
                "the provider does not confirm that the address is yours. Ask an "
                "admin of %(org)s to add that account as a member first.",
                email=email,
                org=provider.org.name,
            ),
            status=403,
        )
    return user


def _link(user: User, issuer: str, subject: str) -> SsoIdentity:
    """Link the provider's identity to ``user`` (once, even when two sign-ins
    of the same person race)."""
    values = {"user_id": user.id, "issuer": issuer, "subject": subject}
    identity_id = insert_once(SsoIdentity, values, unique=("issuer", "subject"))
    identity = db.session.scalar(
        select(SsoIdentity).where(
            SsoIdentity.issuer == issuer, SsoIdentity.subject == subject
        )
    )
    if identity is None or (identity_id is None and identity.user_id != user.id):
        raise SignInFailed(_("This sign-in was linked to another account meanwhile."))
    return identity


def _open_invitation(org: Organization, email: str) -> Invitation | None:
    """The newest invitation of ``org`` to ``email`` still open (neither
    accepted, withdrawn nor expired), if any."""
    return db.session.scalar(
        select(Invitation)
        .where(
            Invitation.org_id == org.id,
            Invitation.email == email,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > clock.now(),
        )
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
        .limit(1)
    )


def _join(org: Organization, user: User) -> Membership:
    """Make ``user`` a member of ``org`` (just-in-time, at their first sign-in).

    An open invitation to their address counts as accepted: its role, department
    and level are theirs (the provider's mapped claims, applied next, win for
    department and level); without one they join as a member."""
    invitation = _open_invitation(org, user.email)
    values: dict[str, Any] = {
        "org_id": org.id,
        "user_id": user.id,
        "role": invitation.role if invitation else "member",
        "languages": [],
    }
    if invitation is not None:
        values["department_id"] = invitation.department_id
        values["level"] = invitation.level
    inserted = insert_once(Membership, values, unique=("org_id", "user_id"))
    db.session.expire(user, ["memberships"])
    membership = user.membership_in(org)
    if membership is None:  # cannot be: inserted now, or by a sign-in just before
        raise RuntimeError(f"no membership of {user!r} in {org!r}")
    if invitation is not None and inserted is not None:
        invitation.accepted_at = clock.now()
    how = (
        f" (invited as {membership.role})"
        if invitation is not None and inserted is not None
        else ""
    )
    record(
        org.id,
        "sso.member_joined",
        f"{user.name} joined through single sign-on{how}",
        subject=("membership", membership.id),
        actor=user,
        details={"invitation": invitation.id} if invitation and inserted else None,
    )
    return membership


def _apply_claims(
    provider: OidcProvider, membership: Membership, claims: Mapping[str, Any]
) -> None:
    """Set the department (created when new) and level from their mapped claims,
    when the provider sends them; a level that is not a number 0–80 is ignored
    (a provider's odd value must not lock anyone out)."""
    department = _text(claims, provider.claim_department)
    if department:
        try:
            membership.department = membership.org.department_named(department[:80])
        except OrgError:
            pass
    level = _text(claims, provider.claim_level)
    if level:
        try:
            membership.level = clean_level(level)
        except OrgError:
            pass
