"""Sign-ins: one record per signed-in browser, so that any of them can be ended.

The session cookie and the remember cookie both carry ``<user id>:<secret>``
(``User.get_id``); only the secret's SHA-256 is stored. A sign-in ends when it is
revoked (sign-out, "sign out everywhere", a password change, deactivation), when
``REMEMBER_DAYS`` have passed since it began, or, unless "remember me" was ticked,
after ``SIGN_IN_IDLE_HOURS`` without use. docs/security.md tells the whole story.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import joinedload
from ua_parser import parse as ua_parse

from mixer import clock
from mixer.accounts.models import SignIn, User
from mixer.errors import NotFound
from mixer.extensions import db

# ``last_used_at`` is written at most this often, not on every request.
TOUCH_EVERY = timedelta(minutes=5)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _idle() -> timedelta:
    return timedelta(hours=float(current_app.config["SIGN_IN_IDLE_HOURS"]))


def lifetime() -> timedelta:
    """How long a sign-in (and its remember cookie) lasts at most."""
    return timedelta(days=float(current_app.config["REMEMBER_DAYS"]))


def start(
    user: User,
    *,
    remember: bool,
    user_agent: str = "",
    ip: str | None = None,
    sso: bool = False,
) -> SignIn:
    """Record a new sign-in of ``user`` (``sso``: through an organization's single
    sign-on); ``user.get_id()`` then carries its secret."""
    secret = secrets.token_urlsafe(32)
    now = clock.now()
    sign_in = SignIn(
        user=user,
        secret_hash=_hash(secret),
        remember=bool(remember),
        via_sso=bool(sso),
        device=device_summary(user_agent),
        ip=(ip or None) and ip[:45],
        created_at=now,
        last_used_at=now,
        expires_at=now + lifetime(),
    )
    db.session.add(sign_in)
    db.session.flush()
    user.current_sign_in = sign_in
    user.sign_in_secret = secret
    return sign_in


def user_for(value: str) -> User | None:
    """The person behind a cookie's ``<user id>:<secret>``, if that sign-in is live
    and the account active; else None (old plain ids included)."""
    user_id, _, secret = (value or "").partition(":")
    if not secret or not user_id.isdigit():
        return None
    sign_in = db.session.scalar(  # one query for both: this runs on every request
        select(SignIn)
        .options(joinedload(SignIn.user))
        .where(SignIn.secret_hash == _hash(secret))
    )
    if sign_in is None or str(sign_in.user_id) != user_id:
        return None
    if not sign_in.is_live(clock.now(), _idle()) or not sign_in.user.is_active:
        return None
    user = sign_in.user
    user.current_sign_in = sign_in
    user.sign_in_secret = secret
    return user


def touch(sign_in: SignIn, ip: str | None = None) -> bool:
    """Note that the sign-in was used now (at most every ``TOUCH_EVERY``);
    True when something was written."""
    now = clock.now()
    if now - sign_in.last_used_at < TOUCH_EVERY:
        return False
    sign_in.last_used_at = now
    if ip:
        sign_in.ip = ip[:45]
    db.session.flush()
    return True


def active(user: User) -> list[SignIn]:
    """The person's live sign-ins, most recently used first."""
    rows = db.session.scalars(
        select(SignIn)
        .where(SignIn.user_id == user.id, SignIn.revoked_at.is_(None))
        .order_by(SignIn.last_used_at.desc(), SignIn.id.desc())
    )
    now, idle = clock.now(), _idle()
    return [row for row in rows if row.is_live(now, idle)]


def own(user: User, sign_in_id: int) -> SignIn:
    """One of the person's sign-ins (anyone else's counts as missing)."""
    sign_in = db.session.get(SignIn, sign_in_id)
    if sign_in is None or sign_in.user_id != user.id:
        raise NotFound("There is no such sign-in.")
    return sign_in


def revoke(sign_in: SignIn) -> None:
    """End one sign-in: its cookies stop working at their next request."""
    if sign_in.revoked_at is None:
        sign_in.revoked_at = clock.now()
    db.session.flush()


def revoke_all(user: User) -> int:
    """End every sign-in of ``user``; the number ended."""
    if user.id is None:  # a person being created has none
        return 0
    ended = db.session.execute(
        update(SignIn)
        .where(SignIn.user_id == user.id, SignIn.revoked_at.is_(None))
        .values(revoked_at=clock.now())
        .execution_options(synchronize_session="fetch")
    )
    return int(getattr(ended, "rowcount", 0) or 0)


def prune(keep: timedelta) -> int:
    """Delete sign-ins that ended more than ``keep`` ago (revoked, expired, or
    idle past ``SIGN_IN_IDLE_HOURS`` without "remember me"); how many."""
    cutoff = clock.now() - keep
    ended = db.session.execute(
        delete(SignIn)
        .where(
            or_(
                SignIn.revoked_at < cutoff,
                SignIn.expires_at < cutoff,
                and_(
                    SignIn.remember.is_(False), SignIn.last_used_at < cutoff - _idle()
                ),
            )
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(ended, "rowcount", 0) or 0)


# ua-parser's families, shortened to what a person calls them.
_BROWSER_NAMES = {
    "Mobile Safari": "Safari",
    "Chrome Mobile": "Chrome",
    "Firefox Mobile": "Firefox",
    "Chrome Mobile iOS": "Chrome",
    "Firefox iOS": "Firefox",
    "Edge Mobile": "Edge",
    "HeadlessChrome": "Chrome",
}
_SYSTEM_NAMES = {"Mac OS X": "macOS", "Chrome OS": "ChromeOS"}


def device_summary(user_agent: str | None) -> str:
    """A few words a person recognises ("Firefox on Linux") from a User-Agent,
    read by ua-parser (its rules are the maintained uap-core ones)."""
    found = ua_parse(user_agent or "")
    browser = found.user_agent.family if found.user_agent else None
    browser = _BROWSER_NAMES.get(browser or "", browser)
    device = found.device.family if found.device else None
    system = found.os.family if found.os else None
    if device in ("iPhone", "iPad"):
        system = device
    system = _SYSTEM_NAMES.get(system or "", system)
    if browser == "Other":
        browser = None
    if system == "Other":
        system = None
    if browser and system:
        return f"{browser} on {system}"[:80]
    return (browser or (f"A browser on {system}" if system else "An unknown browser"))[
        :80
    ]
