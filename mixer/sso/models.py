"""An organization's OpenID Connect provider, and the accounts it links."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mixer import clock
from mixer.accounts.models import User
from mixer.db_types import UTCDateTime
from mixer.extensions import Model
from mixer.orgs.models import Organization

DEFAULT_SCOPES = "openid email profile"
CLAIM_MAX = 80


class OidcProvider(Model):
    """One organization's OpenID Connect settings (at most one per organization).

    The client secret is kept encrypted (Fernet, with a key derived from the
    app's ``SECRET_KEY``: ``mixer.sso.services``) and is never shown back.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), unique=True
    )
    # The issuer exactly as the provider's discovery document names it.
    issuer: Mapped[str] = mapped_column(String(255))
    client_id: Mapped[str] = mapped_column(String(255))
    client_secret_encrypted: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(default=False)
    # Members (admins excepted) may sign in only through the provider.
    passwords_off: Mapped[bool] = mapped_column(default=False)
    scopes: Mapped[str] = mapped_column(String(255), default=DEFAULT_SCOPES)
    # Which claim fills each field; blank: not taken from the provider.
    claim_name: Mapped[str] = mapped_column(String(CLAIM_MAX), default="name")
    claim_email: Mapped[str] = mapped_column(String(CLAIM_MAX), default="email")
    claim_department: Mapped[str] = mapped_column(String(CLAIM_MAX), default="")
    claim_level: Mapped[str] = mapped_column(String(CLAIM_MAX), default="")
    # Addresses at these domains are offered this provider on the sign-in page.
    email_domains: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The provider's discovery document, as last read, and when.
    discovery: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    discovered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=clock.now, onupdate=clock.now
    )

    org: Mapped[Organization] = relationship()

    @property
    def in_use(self) -> bool:
        """Members can sign in through it."""
        return self.enabled and bool(self.discovery)

    @property
    def refuses_passwords(self) -> bool:
        """Passwords and e-mailed links are refused to the members (in use and
        switched off)."""
        return self.passwords_off and self.in_use

    # How many sign-ins the last ``save_settings`` ended (not stored).
    ended_sign_ins = 0

    def __repr__(self) -> str:
        return f"<OidcProvider org={self.org_id} {self.issuer}>"


class SsoIdentity(Model):
    """A person's account at an OpenID provider (issuer and subject), linked to
    their Mixer account: the link holds even when the provider's e-mail changes."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    user: Mapped[User] = relationship()

    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    def __repr__(self) -> str:
        return f"<SsoIdentity user={self.user_id} {self.issuer} {self.subject}>"
