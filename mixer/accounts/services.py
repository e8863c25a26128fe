"""People: creating them, passwords, magic links, password resets, API tokens."""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import Select, and_, bindparam, func, select

from mixer import clock, signals, tokens
from mixer.accounts import sign_ins
from mixer.accounts.models import ApiToken, User
from mixer.audit.services import record
from mixer.concurrency import insert_once
from mixer.errors import DomainError, LinkError
from mixer.extensions import db
from mixer.i18n import current_locale, recipient_locale, supported
from mixer.mail import preferences
from mixer.mail.services import queue_mail
from mixer.urls import absolute_url

_HASHERS: dict[str, PasswordHasher] = {}


def _hasher() -> PasswordHasher:
    """Argon2id with the ``ARGON2_PROFILE`` parameters (cheapest under TESTING)."""
    name = current_app.config.get("ARGON2_PROFILE") or (
        "CHEAPEST" if current_app.testing else "RFC_9106_LOW_MEMORY"
    )
    if name not in _HASHERS:
        _HASHERS[name] = PasswordHasher.from_parameters(getattr(profiles, name))
    return _HASHERS[name]


MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # argon2 copes with more; this only keeps requests sane


SIGN_IN_TITLE = _l("This sign-in link cannot be used")
RESET_TITLE = _l("This password-reset link cannot be used")
UNSUBSCRIBE_TITLE = _l("This unsubscribe link cannot be used")
MAGIC_LINK_SUBJECT = _l("Your Mixer sign-in link")
RESET_SUBJECT = _l("Reset your Mixer password")


class AccountError(DomainError):
    """A request about accounts that cannot be met; the message is for people."""


class PasswordsOff(LinkError):
    """A sign-in by password or e-mailed link that the person's organization has
    switched off: the page says so and points to its single sign-on (``url``)."""

    def __init__(self, org_name: str, url: str) -> None:
        super().__init__(
            "other",
            _(
                "%(org)s signs its members in with single sign-on: passwords and "
                "e-mailed sign-in links are switched off for you. Sign in with "
                "your %(org)s account instead.",
                org=org_name,
            ),
            title=_("Sign in with single sign-on"),
        )
        self.url = url
        self.action = _("Sign in with %(org)s", org=org_name)


def check_password_sign_in(user: User) -> None:
    """Refuse (``PasswordsOff``) a sign-in by password or e-mailed link that an
    organization of the person has switched off (``signals.password_sign_in``)."""
    if user.id is None:
        return  # a person being made has no organization yet
    for _receiver, answer in signals.password_sign_in.send(user):
        if answer:
            org_name, url = answer
            raise PasswordsOff(org_name, url)


def normalise_email(raw: str) -> str:
    """Validate an address (syntax only) and return it in canonical lower case."""
    try:
        info = validate_email((raw or "").strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise AccountError(
            _("That e-mail address is not valid: %(reason)s", reason=str(exc)),
            "email",
        ) from exc
    return info.normalized.lower()


def normalise_tags(raw: str | list[str] | None) -> list[str]:
    """Comma-separated or list input to de-duplicated, short, lower-case tags."""
    items = raw.split(",") if isinstance(raw, str) else list(raw or [])
    seen: dict[str, None] = {}
    for item in items:
        tag = " ".join(str(item).strip().lower().split())[:40]
        if tag:
            seen.setdefault(tag, None)
    return list(seen)[:20]


def get_user_by_email(email: str) -> User:
    """The person with this address, or AccountError."""
    user = find_user(email)
    if user is None:
        raise AccountError(f"No person with e-mail {email}.", "email")
    return user


def find_user(email: str) -> User | None:
    """The person with this address, or None (never raises for bad syntax)."""
    try:
        address = normalise_email(email)
    except AccountError:
        return None
    return db.session.scalar(select(User).where(func.lower(User.email) == address))


def get_or_create_user(email: str, name: str, **fields: Any) -> tuple[User, bool]:
    """Find a person by e-mail or create them; returns (user, created)."""
    address = normalise_email(email)
    user = db.session.scalar(select(User).where(User.email == address))
    if user is not None:
        return user, False
    name = " ".join((name or "").split())
    if not name:
        raise AccountError(_("A name is needed."), "name")
    if len(name) > 120:
        raise AccountError(
            ngettext(
                "A name can have at most %(num)d character.",
                "A name can have at most %(num)d characters.",
                120,
            ),
            "name",
        )
    # Two requests may make the same person at once (two sign-in links confirmed
    # together, two registrations): one inserts, the other finds that row.
    user_id = insert_once(
        User,
        {"email": address, "name": name, "offers": [], "seeks": [], **fields},
        unique=("email",),
    )
    created = user_id is not None
    user = (
        db.session.get(User, user_id)
        if created
        else db.session.scalar(select(User).where(User.email == address))
    )
    if user is None:  # cannot be: inserted now, or by the request that got there first
        raise RuntimeError(f"no account for {address} after inserting it")
    return user, created


def set_password(user: User, password: str) -> None:
    """Hash and store a new password (argon2id); every sign-in of the person ends
    (whoever signs in afterwards does so with the new password)."""
    check_password_rules(password)
    user.password_hash = _hasher().hash(password)
    sign_ins.revoke_all(user)


def deactivate_user(user: User) -> None:
    """Stop an account: its sign-ins end, it cannot sign in, its API tokens and
    mail stop (everything checks ``is_active``)."""
    changed = user.is_active_account
    user.is_active_account = False
    sign_ins.revoke_all(user)
    db.session.flush()
    if changed:
        _record_account(user, "account.deactivated", "Deactivated the account of")


def _record_account(user: User, action: str, words: str) -> None:
    """An entry in each organization the person belongs to (one without any
    organization when they belong to none): every admin of theirs sees it."""
    org_ids: list[int | None] = [*sorted({m.org_id for m in user.memberships})]
    for org_id in org_ids or [None]:
        record(
            org_id,
            action,
            f"{words} {user.name} ({user.email})",
            subject=("user", user.id),
        )


def reactivate_user(user: User) -> None:
    """Let a deactivated account sign in again (its old sign-ins stay ended)."""
    changed = not user.is_active_account
    user.is_active_account = True
    db.session.flush()
    if changed:
        _record_account(user, "account.reactivated", "Reactivated the account of")


def check_password_rules(password: str | None) -> None:
    """Refuse a password that is too short or absurdly long."""
    password = password or ""
    if len(password) < MIN_PASSWORD:
        raise AccountError(
            ngettext(
                "A password needs at least %(num)d character.",
                "A password needs at least %(num)d characters.",
                MIN_PASSWORD,
            ),
            "password",
        )
    if len(password) > MAX_PASSWORD:
        raise AccountError(
            ngettext(
                "A password can have at most %(num)d character.",
                "A password can have at most %(num)d characters.",
                MAX_PASSWORD,
            ),
            "password",
        )


def change_password(user: User, current: str | None, new: str) -> None:
    """Replace a password after checking the current one (when there is one)."""
    if user.password_hash:
        try:
            _hasher().verify(user.password_hash, current or "")
        except (VerificationError, InvalidHashError) as exc:
            raise AccountError(
                _("That is not your current password."), "current_password"
            ) from exc
    _set_new_password(user, new)
    db.session.flush()


def _set_new_password(user: User, password: str) -> None:
    """``set_password``, with a refusal about the form's "new password" field."""
    try:
        set_password(user, password)
    except AccountError as exc:
        raise AccountError(exc.message, "new_password") from exc


def safe_next(url: str | None) -> str | None:
    """``url`` when it is a path on this site, else None (no open redirects)."""
    url = (url or "").strip()
    if not url.startswith("/") or url.startswith("//") or "\\" in url:
        return None
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return None
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return None
    return url


def authenticate(email: str, password: str) -> User | None:
    """The person if the password matches, else None; rehashes outdated hashes."""
    user = find_user(email)
    if user is None or not user.password_hash or not user.is_active:
        # Spend the same time as a real check so addresses cannot be probed.
        _hasher().hash(password or "x")
        return None
    try:
        _hasher().verify(user.password_hash, password or "")
    except (VerificationError, InvalidHashError):
        return None
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = _hasher().hash(password)
    return user


def record_login(user: User) -> None:
    """Remember when the person last signed in."""
    user.last_login_at = clock.now()
    if user.email_confirmed_at is None:
        user.email_confirmed_at = clock.now()


def send_magic_link(email: str, next_url: str | None = None) -> bool:
    """E-mail a single-use sign-in link if the address belongs to someone: to
    their account, or, for an address with no account, to a guest a feature knows
    by it (``signals.sign_in_for_stranger``), whose link makes the account."""
    user = find_user(email)
    if user is None:
        return _send_guest_link(email, next_url)
    if not user.is_active:
        return False
    token = tokens.make(
        "login", {"uid": user.id, "next": safe_next(next_url) or ""}, single_use=True
    )
    link = absolute_url("accounts.magic", token=token)
    minutes = current_app.config["MAGIC_LINK_MINUTES"]
    queue_mail(
        user.email,
        MAGIC_LINK_SUBJECT,  # lazy: translated in the recipient's language
        "magic_link",
        {"user": user, "link": link, "minutes": minutes},
        kind="auth",
        # The recipient's language, whoever's browser asked for the link.
        locale=recipient_locale(user),
    )
    return True


def _send_guest_link(email: str, next_url: str | None) -> bool:
    """A first sign-in link for a guest known by ``email``; False for strangers."""
    try:
        address = normalise_email(email)
    except AccountError:
        return False
    for _receiver, name in signals.sign_in_for_stranger.send(address):
        if isinstance(name, str) and name.strip():
            send_first_sign_in_link(address, name.strip(), next_url)
            return True
    return False


def send_first_sign_in_link(email: str, name: str, next_url: str | None) -> None:
    """E-mail a single-use sign-in link to an address that has no account yet (a
    guest known by their registration): the account is made, with ``name``, only
    when the link is used, so only whoever reads that mailbox can make it."""
    address = normalise_email(email)
    token = tokens.make(
        "login",
        {"new": address, "name": name, "next": safe_next(next_url) or ""},
        single_use=True,
    )
    queue_mail(
        address,
        MAGIC_LINK_SUBJECT,
        "magic_link",
        {
            "user": {"name": name, "email": address},
            "link": absolute_url("accounts.magic", token=token),
            "minutes": current_app.config["MAGIC_LINK_MINUTES"],
        },
        kind="auth",
        # A guest has no language of their own: the one of the page that asked
        # for the link (usually the guest's own browser) is the best guess.
        locale=current_locale(),
    )


def _read_magic_link(token: str) -> tuple[User | None, dict[str, Any]]:
    """The person a sign-in link is for (None: a first sign-in, no account yet)."""
    max_age = current_app.config["MAGIC_LINK_MINUTES"] * 60
    data = tokens.read("login", token, max_age=max_age, title=SIGN_IN_TITLE)
    if isinstance(data.get("new"), str):
        user = find_user(data["new"])  # made since the link was sent
        if user is None:
            return None, data
    else:
        user = db.session.get(User, data.get("uid"))
    if user is None or not user.is_active:
        raise LinkError("invalid", _("This link is not valid."), title=SIGN_IN_TITLE)
    check_password_sign_in(user)
    return user, data


def check_magic_link(token: str) -> User:
    """The person a magic link signs in, without spending it (for the confirm page);
    for a first sign-in, the person-to-be (not stored)."""
    user, data = _read_magic_link(token)
    if user is None:
        return User(email=data["new"], name=str(data.get("name") or ""))
    return user


def use_magic_link(token: str) -> tuple[User, str]:
    """Spend a magic link and return (person, where to go next); a first sign-in
    link makes the account."""
    user, data = _read_magic_link(token)
    tokens.spend("login", data, title=SIGN_IN_TITLE)
    if user is None:
        user, _created = get_or_create_user(data["new"], str(data.get("name") or ""))
    record_login(user)
    return user, safe_next(data.get("next")) or ""


def _reset_fingerprint(user: User) -> str:
    # Changing the password changes the fingerprint, so a reset link works once.
    return hashlib.sha256((user.password_hash or "none").encode()).hexdigest()[:16]


def send_password_reset(email: str) -> bool:
    """E-mail a password-reset link if the address belongs to someone."""
    user = find_user(email)
    if user is None or not user.is_active:
        return False
    token = tokens.make("reset", {"uid": user.id, "fp": _reset_fingerprint(user)})
    link = absolute_url("accounts.reset_password", token=token)
    queue_mail(
        user.email,
        RESET_SUBJECT,
        "password_reset",
        {
            "user": user,
            "link": link,
            "minutes": current_app.config["PASSWORD_RESET_MINUTES"],
        },
        kind="auth",
        locale=recipient_locale(user),
    )
    return True


def check_reset_token(token: str) -> User:
    """The person a reset link is for, if the link is still good."""
    data = tokens.read(
        "reset",
        token,
        max_age=current_app.config["PASSWORD_RESET_MINUTES"] * 60,
        title=RESET_TITLE,
    )
    user = db.session.get(User, data.get("uid"))
    if user is None or data.get("fp") != _reset_fingerprint(user):
        raise LinkError(
            "used",
            _("This link has already been used. Ask for a new one."),
            title=RESET_TITLE,
        )
    check_password_sign_in(user)
    return user


def reset_password(token: str, password: str) -> User:
    """Set a new password through a reset link (which then stops working)."""
    user = check_reset_token(token)
    _set_new_password(user, password)
    record_login(user)
    return user


PROFILE_LIMITS = {"name": 120, "pronouns": 40, "bio": 4000}


def update_profile(user: User, **fields: Any) -> User:
    """Change the editable parts of a profile."""
    for key, limit in PROFILE_LIMITS.items():
        if key in fields:
            value = (fields[key] or "").strip() or None
            if key != "bio" and value:
                value = " ".join(value.split())
            if key == "name" and not value:
                raise AccountError(_("A name is needed."), "name")
            if value and len(value) > limit:
                raise AccountError(
                    ngettext(
                        "This can have at most %(num)d character.",
                        "This can have at most %(num)d characters.",
                        limit,
                    ),
                    key,
                )
            setattr(user, key, value)
    for key in ("offers", "seeks"):
        if key in fields:
            setattr(user, key, normalise_tags(fields[key]))
    if "notifications" in fields:
        user.notifications = {**(user.notifications or {}), **fields["notifications"]}
    db.session.flush()
    return user


def set_locale(user: User, locale: str | None) -> None:
    """Set the person's language (one of ``mixer.i18n.SUPPORTED``); empty or None
    goes back to automatic (the browser's, then the organization's)."""
    if locale and not supported(locale):
        raise AccountError(_("Choose a language from the list."), "locale")
    user.locale = locale or None
    db.session.flush()


def read_unsubscribe(token: str) -> tuple[User, str]:
    """The person and the kind of mail an unsubscribe link is about."""
    data = tokens.read(preferences.PURPOSE, token, title=UNSUBSCRIBE_TITLE)
    user = db.session.get(User, data.get("uid"))
    kind = data.get("kind")
    if user is None or not isinstance(kind, str) or not kind:
        raise LinkError(
            "invalid", _("This link is not valid."), title=UNSUBSCRIBE_TITLE
        )
    return user, kind


def unsubscribe(token: str) -> tuple[User, str]:
    """Turn off the kind of mail a List-Unsubscribe link names."""
    user, kind = read_unsubscribe(token)
    user.notifications = {**(user.notifications or {}), kind: False}
    db.session.flush()
    return user, kind


def _hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_token(user: User, org, name: str) -> tuple[ApiToken, str]:
    """Make a bearer token for ``user`` in ``org``; the secret is returned once."""
    if user.membership_in(org) is None:
        raise AccountError(f"{user.email} is not a member of {org.slug}.", "email")
    name = (name or "").strip()[:80] or "API token"
    secret = "mxr_" + secrets.token_urlsafe(32)
    token = ApiToken(
        org_id=org.id,
        user_id=user.id,
        name=name,
        token_hash=_hash_token(secret),
        prefix=secret[:10],
    )
    db.session.add(token)
    db.session.flush()
    record(
        org.id,
        "api_token.created",
        f"Created the API token “{name}” of {user.name}",
        subject=("api_token", token.id),
        details={"user_id": user.id},
    )
    return token, secret


def token_for_secret(secret: str) -> ApiToken | None:
    """The live token behind a bearer secret, or None."""
    if not secret:
        return None
    return db.session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == _hash_token(secret), ApiToken.revoked_at.is_(None)
        )
    )


@dataclass(frozen=True, slots=True)
class ApiCaller:
    """Who an API request speaks for, as one row: the live token, its owner's
    standing, and their role in the token's organization (None: not a member)."""

    token_id: int
    last_used_at: datetime | None
    user_id: int
    user_active: bool
    org_id: int
    org_name: str
    membership_id: int | None
    role: str | None

    def loaders(self) -> dict[str, Callable[[], Any]]:
        """Loaders of the ORM objects behind the ids, for ``g.defer``."""
        membership = _membership_model()
        return {
            "api_token": lambda: db.session.get(ApiToken, self.token_id),
            "user": lambda: db.session.get(User, self.user_id),
            "org": lambda: db.session.get(_org_model(), self.org_id),
            "membership": lambda: db.session.get(membership, self.membership_id),
        }


def caller_for_secret(secret: str) -> ApiCaller | None:
    """The caller behind a bearer secret (one query, no ORM objects), or None."""
    if not secret:
        return None
    row = (
        db.session.connection()
        .execute(_caller_query(), {"token_hash": _hash_token(secret)})
        .first()
    )
    return ApiCaller(*row) if row is not None else None


def role_covers(held: str, wanted: str) -> bool:
    """Whether the role ``held`` carries at least the powers of ``wanted``."""
    return bool(_membership_model().role_covers(held, wanted))


# Accounts knows organizations only through the models' relationships (see
# tests/test_architecture.py): their classes are reached through them.
def _membership_model() -> Any:
    return User.memberships.property.mapper.class_


def _org_model() -> Any:
    return ApiToken.org.property.mapper.class_


@functools.cache
def _caller_query() -> Select[Any]:
    """Built once: every API request runs it, with a new ``token_hash``."""
    membership, org = _membership_model(), _org_model()
    return (
        select(
            ApiToken.id,
            ApiToken.last_used_at,
            ApiToken.user_id,
            User.is_active_account,
            ApiToken.org_id,
            org.name,
            membership.id,
            membership.role,
        )
        .join(User, User.id == ApiToken.user_id)
        .join(org, org.id == ApiToken.org_id)
        .outerjoin(
            membership,
            and_(
                membership.user_id == ApiToken.user_id,
                membership.org_id == ApiToken.org_id,
            ),
        )
        .where(
            ApiToken.token_hash == bindparam("token_hash"),
            ApiToken.revoked_at.is_(None),
        )
    )


def list_api_tokens(user: User) -> list[ApiToken]:
    """The person's API tokens, newest first (revoked ones included)."""
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def get_user_api_token(user: User, token_id: int) -> ApiToken | None:
    """One of the person's own tokens, or None (someone else's counts as missing)."""
    token = db.session.get(ApiToken, token_id)
    return token if token is not None and token.user_id == user.id else None


def revoke_api_token(token: ApiToken) -> None:
    """Stop a token from working."""
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        record(
            token.org_id,
            "api_token.revoked",
            f"Revoked the API token “{token.name}” of {token.user.name}",
            subject=("api_token", token.id),
            details={"user_id": token.user_id},
        )
    db.session.flush()
