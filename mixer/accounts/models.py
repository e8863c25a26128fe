"""People, their sign-in secrets and API tokens."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mixer import clock
from mixer.db_types import UTCDateTime
from mixer.extensions import Model
from mixer.mail.preferences import default_notifications

if TYPE_CHECKING:
    from mixer.orgs.models import Membership, Organization


class User(UserMixin, Model):
    """A person. One person may belong to several organizations."""

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    pronouns: Mapped[str | None] = mapped_column(String(40))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # Tags are personal (skills travel with the person), kept lower-case.
    offers: Mapped[list[str]] = mapped_column(JSON, default=list)
    seeks: Mapped[list[str]] = mapped_column(JSON, default=list)
    notifications: Mapped[dict[str, bool]] = mapped_column(
        JSON, default=default_notifications
    )
    bio: Mapped[str | None] = mapped_column(Text)
    # The person's language (mixer.i18n.SUPPORTED); None: their browser's.
    # No CHECK: a new language is a catalogue, not a migration.
    locale: Mapped[str | None] = mapped_column(String(8))
    is_active_account: Mapped[bool] = mapped_column(default=True)
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    # Not columns: the sign-in this instance was loaded or signed in through, and
    # its secret (only its hash is stored). ``mixer.accounts.sign_ins`` sets them.
    __allow_unmapped__ = True
    current_sign_in: SignIn | None = None
    sign_in_secret: str | None = None

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.is_active_account

    def get_id(self) -> str:
        """What the session and remember cookies carry: ``<id>:<sign-in secret>``,
        so revoking the sign-in ends both (Flask-Login's alternative token)."""
        if not self.sign_in_secret:
            raise RuntimeError("Sign in through mixer.accounts.browser.log_in.")
        return f"{self.id}:{self.sign_in_secret}"

    def __eq__(self, other: object) -> bool:
        # The same person, whatever the sign-in (the mixin compares ``get_id()``).
        if not isinstance(other, User):
            return NotImplemented
        return self is other or (self.id is not None and self.id == other.id)

    __hash__ = object.__hash__

    def wants(self, kind: str) -> bool:
        """Whether this person accepts e-mail of ``kind``."""
        return bool((self.notifications or {}).get(kind, True))

    def membership_in(self, org: Organization) -> Membership | None:
        """This person's membership in ``org``, if any."""
        return next((m for m in self.memberships if m.org_id == org.id), None)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class ApiToken(Model):
    """A bearer token for the API, scoped to one organization; only its hash is kept."""

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
    org: Mapped[Organization] = relationship()

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} {self.prefix}… org={self.org_id}>"


class SignIn(Model):
    """One signed-in browser. Its cookies carry a random secret whose hash is kept
    here; revoking the row signs that browser out at its next request."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    remember: Mapped[bool] = mapped_column(default=False)
    # Made through an organization's single sign-on: it survives that
    # organization switching passwords off (every other sign-in of its members
    # is ended then, ``mixer.sso.services.end_password_sign_ins``).
    via_sso: Mapped[bool] = mapped_column(default=False, server_default=false())
    device: Mapped[str] = mapped_column(String(80))  # "Firefox on Linux"
    ip: Mapped[str | None] = mapped_column(String(45))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    def is_live(self, now: datetime, idle: timedelta) -> bool:
        """Not revoked, not expired, and (unless remembered) used within ``idle``."""
        if self.revoked_at is not None or now >= self.expires_at:
            return False
        return self.remember or now - self.last_used_at < idle

    def __repr__(self) -> str:
        return f"<SignIn {self.id} user={self.user_id} {self.device}>"
