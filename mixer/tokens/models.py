"""The spent single-use tokens (magic links, invitations, e-mailed answers)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from mixer import clock
from mixer.db_types import UTCDateTime
from mixer.extensions import Model


class UsedToken(Model):
    """A single-use token that has been spent (magic links, invitations)."""

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(40))
    used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    def __repr__(self) -> str:
        return f"<UsedToken {self.purpose} {self.jti[:8]}>"
